"""Unit tests of `companion.setup` and `companion.runtime`: seeding, device choice, the quiet
TensorFlow import, and the module's boundaries (no other companion import, no device literal
elsewhere)."""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import companion
from companion import offline, runtime
from companion.runtime import DeviceUnavailableError, Runtime

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No device override, and no offline guard installed in the test process itself."""
    monkeypatch.delenv(runtime.DEVICE_ENV_VAR, raising=False)
    monkeypatch.delenv(offline.OFFLINE_ENV_VAR, raising=False)


def _draws() -> tuple[float, list[float], list[float]]:
    """A few numbers from each generator `setup` seeds: (random, NumPy global, torch CPU)."""
    return random.random(), np.random.rand(3).tolist(), torch.rand(3).tolist()


# ---------------------------------------------------------------- seeding


def test_same_seed_gives_identical_draws_from_every_generator(
    capsys: pytest.CaptureFixture[str],
) -> None:
    companion.setup(seed=123)
    first = _draws()
    _draws()  # move every generator on, so that equality below needs the re-seed
    companion.setup(seed=123)
    second = _draws()
    assert first[0] == second[0], "random is not seeded"
    assert first[1] == second[1], "NumPy's global generator is not seeded"
    assert first[2] == second[2], "torch is not seeded"


def test_another_seed_gives_different_draws_from_every_generator(
    capsys: pytest.CaptureFixture[str],
) -> None:
    companion.setup(seed=1)
    one = _draws()
    companion.setup(seed=2)
    two = _draws()
    assert one[0] != two[0]
    assert one[1] != two[1]
    assert one[2] != two[2]


def test_numpy_integer_seed_is_accepted_as_a_plain_int(capsys: pytest.CaptureFixture[str]) -> None:
    rt = companion.setup(seed=np.int64(7))
    assert rt.seed == 7 and type(rt.seed) is int
    from_numpy = _draws()
    companion.setup(seed=7)
    assert _draws() == from_numpy


@pytest.mark.parametrize("seed", [0, 2**32 - 1])
def test_seed_range_ends_are_accepted(seed: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert companion.setup(seed=seed).seed == seed


@pytest.mark.parametrize(
    ("seed", "error"),
    [
        (-1, ValueError),
        (2**32, ValueError),
        (1.5, TypeError),
        (True, TypeError),
        ("3", TypeError),
        (None, TypeError),
    ],
)
def test_bad_seed_is_rejected_naming_seed_and_its_range(
    seed: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match=r"seed must be .*\[0, 4294967295\]"):
        companion.setup(seed=seed)  # type: ignore[arg-type]


def test_setup_returns_a_frozen_runtime(capsys: pytest.CaptureFixture[str]) -> None:
    rt = companion.setup(seed=3, device="cpu")
    assert isinstance(rt, Runtime)
    assert rt.seed == 3
    assert rt.device == torch.device("cpu")
    assert rt.torch_version == torch.__version__
    assert rt.num_threads == torch.get_num_threads()
    with pytest.raises(dataclasses.FrozenInstanceError):
        rt.seed = 4  # type: ignore[misc]


def test_setup_prints_exactly_one_line_saying_what_runs_where(
    capsys: pytest.CaptureFixture[str],
) -> None:
    companion.setup(seed=5, device="cpu")
    out, err = capsys.readouterr()
    assert err == ""
    assert out.endswith("\n") and len(out.splitlines()) == 1
    assert "seed 5" in out and "device cpu" in out and torch.__version__ in out


def test_setup_applies_the_shared_plot_style(capsys: pytest.CaptureFixture[str]) -> None:
    import matplotlib as mpl

    from companion.plots import STYLE

    mpl.rcdefaults()
    companion.setup(seed=0)
    assert mpl.rcParams["axes.spines.top"] is STYLE["axes.spines.top"] is False
    assert list(mpl.rcParams["figure.figsize"]) == list(STYLE["figure.figsize"])


# ---------------------------------------------------------------- devices


@pytest.mark.parametrize("name", ["gpu", "cuda:x", "", "cuda0", "tpu", 0])
def test_unknown_device_name_lists_the_valid_names(name: object) -> None:
    # A name that is not a device is a ValueError; a non-name (0) a TypeError.
    error = ValueError if isinstance(name, str) else TypeError
    with pytest.raises(error, match=r"device .*one of cpu, cuda, cuda:N, mps") as info:
        companion.setup(seed=0, device=name)  # type: ignore[arg-type]
    assert repr(name) in str(info.value)


@pytest.mark.parametrize("name", ["cpu", "CPU", " cpu "])
def test_cpu_is_accepted_in_any_case_and_spacing(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert companion.setup(seed=0, device=name).device == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("name", ["cuda", "cuda:0", "cuda:3"])
def test_cuda_without_cuda_says_it_is_not_available(name: str) -> None:
    with pytest.raises(DeviceUnavailableError, match=r"torch\.cuda\.is_available\(\) is False"):
        companion.setup(seed=0, device=name)


@pytest.mark.skipif(runtime._mps_available(), reason="this machine has MPS")
def test_mps_without_mps_says_it_is_not_available() -> None:
    with pytest.raises(DeviceUnavailableError, match=r"'mps'.*is_available\(\) is False"):
        companion.setup(seed=0, device="mps")


def test_auto_device_prefers_cuda_then_mps_then_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(runtime, "_mps_available", lambda: True)
    assert companion.resolve_device(None) == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert companion.resolve_device(None) == torch.device("mps")
    monkeypatch.setattr(runtime, "_mps_available", lambda: False)
    assert companion.resolve_device(None) == torch.device("cpu")


def test_book_device_env_var_is_honoured(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Pretend CUDA exists, so that the automatic choice would differ from the one the variable
    # asks for.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("BOOK_DEVICE", "cpu")
    assert companion.setup(seed=0).device == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_book_device_env_var_is_read_when_no_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOK_DEVICE", "cuda")
    with pytest.raises(DeviceUnavailableError):
        companion.setup(seed=0)


def test_argument_beats_the_env_var(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOOK_DEVICE", "no-such-device")
    assert companion.setup(seed=0, device="cpu").device == torch.device("cpu")


def test_invalid_env_var_is_a_value_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOK_DEVICE", "gpu")
    with pytest.raises(
        ValueError, match=r"\$BOOK_DEVICE.*must be one of cpu, cuda, cuda:N, mps.*'gpu'"
    ):
        companion.setup(seed=0)


def test_empty_env_var_means_automatic(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOOK_DEVICE", "")
    assert companion.setup(seed=0).device == companion.resolve_device(None)


def _runtime(device: str) -> Runtime:
    return Runtime(
        seed=0,
        device=torch.device(device),
        torch_version="x",
        tensorflow_version=None,
        num_threads=1,
    )


def test_device_for_keeps_float64_on_cpu_when_the_device_is_mps() -> None:
    rt = _runtime("mps")
    assert rt.device_for(torch.float64) == torch.device("cpu")
    assert rt.device_for(torch.float32) == torch.device("mps")
    assert rt.device_for(torch.int64) == torch.device("mps")


@pytest.mark.parametrize("device", ["cpu", "cuda", "cuda:1"])
def test_device_for_is_the_device_itself_elsewhere(device: str) -> None:
    rt = _runtime(device)
    for dtype in (torch.float64, torch.float32, torch.float16):
        assert rt.device_for(dtype) == torch.device(device)


def test_runtime_str_says_when_tensorflow_is_missing() -> None:
    assert "TensorFlow not installed" in str(_runtime("cpu"))


# ---------------------------------------------------------------- TensorFlow

# One fresh interpreter does every TensorFlow check (the import takes seconds). `setup`'s
# own line is captured inside, so the interpreter's stdout must be exactly the JSON line;
# anything TensorFlow writes to file descriptors 1 or 2 makes the tests below fail.
_TF_SCRIPT = r"""
import contextlib, io, json, sys
import torch
import companion

torch.set_num_threads(1)  # not the default: TensorFlow must follow torch, not the machine
lines = io.StringIO()
with contextlib.redirect_stdout(lines):
    companion.setup(seed=11)
tf = companion.tensorflow()
first_import = tf.random.uniform([5]).numpy().tolist()  # seeded by tensorflow() itself
with contextlib.redirect_stdout(lines):
    companion.setup(seed=11)
same_seed = tf.random.uniform([5]).numpy().tolist()  # seeded by setup, TensorFlow already imported
with contextlib.redirect_stdout(lines):
    companion.setup(seed=12)
other_seed = tf.random.uniform([5]).numpy().tolist()
print(json.dumps({
    "is_module": tf is sys.modules["tensorflow"] and companion.tensorflow() is tf,
    "first_import": first_import, "same_seed": same_seed, "other_seed": other_seed,
    "tf_intra": tf.config.threading.get_intra_op_parallelism_threads(),
    "tf_inter": tf.config.threading.get_inter_op_parallelism_threads(),
    "torch_intra": torch.get_num_threads(), "torch_inter": torch.get_num_interop_threads(),
    "setup_lines": len(lines.getvalue().splitlines()),
}))
"""


@pytest.fixture(scope="module")
def tf_run() -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("TensorFlow is not installed")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TF_CPP_MIN_LOG_LEVEL", "BOOK_DEVICE", "BOOK_OFFLINE")
    }
    return subprocess.run(
        [sys.executable, "-c", _TF_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _tf_result(run: subprocess.CompletedProcess[str]) -> dict:
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == 1, f"stdout should be only the script's JSON line, got:\n{run.stdout}"
    return json.loads(lines[0])


def test_tensorflow_import_is_silent_at_the_file_descriptor_level(
    tf_run: subprocess.CompletedProcess[str],
) -> None:
    result = _tf_result(tf_run)
    assert tf_run.stderr == "", f"TensorFlow wrote to stderr:\n{tf_run.stderr}"
    assert result["is_module"] is True
    assert result["setup_lines"] == 3


def test_tensorflow_is_seeded_by_setup(tf_run: subprocess.CompletedProcess[str]) -> None:
    result = _tf_result(tf_run)
    assert result["first_import"] == result["same_seed"]
    assert result["other_seed"] != result["same_seed"]


def test_tensorflow_uses_as_many_threads_as_torch(tf_run: subprocess.CompletedProcess[str]) -> None:
    result = _tf_result(tf_run)
    assert result["tf_intra"] == result["torch_intra"] == 1
    assert result["tf_inter"] == result["torch_inter"]


# ---------------------------------------------------------------- setup's other duties


def test_setup_accepts_a_torch_device(capsys: pytest.CaptureFixture[str]) -> None:
    assert companion.setup(seed=0, device=torch.device("cpu")).device == torch.device("cpu")


def test_setup_silences_pygames_greeting(monkeypatch: pytest.MonkeyPatch) -> None:
    """pygame prints a banner on import (it draws CartPole's frames); setup keeps it off pages."""
    monkeypatch.delenv("PYGAME_HIDE_SUPPORT_PROMPT", raising=False)
    companion.setup(seed=0)
    assert os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] == "1"
    script = "import companion; companion.setup(seed=0); import pygame"
    env = {k: v for k, v in os.environ.items() if k != "PYGAME_HIDE_SUPPORT_PROMPT"}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "pygame" not in out.split("\n", 1)[1], out


def test_setup_blocks_the_network_only_with_book_offline(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In-process: `setup` calls the guard exactly when BOOK_OFFLINE=1 (test_offline.py checks
    the guard itself, in fresh interpreters, since it patches sockets for good)."""
    calls = []
    monkeypatch.setattr(offline, "block_network", lambda: calls.append(True))
    companion.setup(seed=0)
    monkeypatch.setenv("BOOK_OFFLINE", "0")
    companion.setup(seed=0)
    assert calls == []
    monkeypatch.setenv("BOOK_OFFLINE", "1")
    companion.setup(seed=0)
    assert calls == [True]


def test_a_bad_seed_is_refused_before_anything_is_seeded() -> None:
    np.random.seed(99)
    expected = np.random.rand()
    np.random.seed(99)
    with pytest.raises(TypeError):
        companion.setup(seed=1.5)  # type: ignore[arg-type]
    assert np.random.rand() == expected


# ---------------------------------------------------------------- device questions


def test_is_cpu() -> None:
    assert runtime.is_cpu(torch.device("cpu")) and runtime.is_cpu("cpu")
    assert not runtime.is_cpu("cuda:1") and not runtime.is_cpu(torch.device("mps"))


@pytest.mark.parametrize(
    ("device", "expected"), [("cpu", True), ("cuda", True), ("cuda:1", True), ("mps", False)]
)
def test_fused_adam_is_used_on_cpu_and_cuda_only(device: str, expected: bool) -> None:
    assert runtime.supports_fused_adam(device) is expected
    assert runtime.supports_fused_adam(torch.device(device)) is expected


@pytest.mark.parametrize(
    ("device", "expected"), [("cpu", "cpu"), ("cuda:1", "cuda:1"), ("mps", "cpu")]
)
def test_a_sampling_generator_lives_on_cuda_or_else_the_cpu(device: str, expected: str) -> None:
    assert runtime.generator_device(device) == torch.device(expected)


def test_synchronize_is_a_no_op_on_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(torch.accelerator, "synchronize", lambda device: calls.append(device))
    runtime.synchronize("cpu")
    assert calls == []
    runtime.synchronize("cuda:0")
    assert calls == [torch.device("cuda:0")]


def test_choose_device_prefers_the_argument_then_the_env_var(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOOK_DEVICE", "gpu")
    assert runtime.choose_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(ValueError, match=r"\$BOOK_DEVICE"):
        runtime.choose_device(None)


# ---------------------------------------------------------------- module boundaries

COMPANION = ROOT / "companion"
DEVICE_LITERAL = re.compile(r"cpu|mps|cuda(:\d+)?")


def _companion_imports(path: Path) -> list[str]:
    """The modules of `companion` that the file at `path` imports, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = ["." * node.level + (node.module or "")]
        else:
            continue
        found += [n for n in names if n.startswith(".") or n.split(".")[0] == "companion"]
    return found


def test_the_import_finder_sees_companion_imports() -> None:
    """The check below would pass vacuously if the finder missed imports: it must see these."""
    assert {"companion.checks", "companion.runtime"} <= set(
        _companion_imports(COMPANION / "__init__.py")
    )
    assert "companion.plots" in _companion_imports(COMPANION / "training.py")


def test_runtime_imports_nothing_else_of_companion_but_the_checks() -> None:
    """The argument checks are the one home of every module's checks, runtime's included."""
    assert _companion_imports(COMPANION / "runtime.py") == ["companion.checks"]


def _device_literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string constant in `path` that is a device kind such as 'cuda'."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and DEVICE_LITERAL.fullmatch(node.value.strip().lower())
    ]


def test_the_literal_finder_sees_runtimes_device_names() -> None:
    found = {text for _, text in _device_literals(COMPANION / "runtime.py")}
    assert {"cpu", "cuda", "mps"} <= found


def test_no_device_literal_outside_runtime() -> None:
    offenders = {
        str(path.relative_to(ROOT)): literals
        for path in sorted(COMPANION.rglob("*.py"))
        if path != COMPANION / "runtime.py" and (literals := _device_literals(path))
    }
    assert offenders == {}, f"device kinds belong in companion/runtime.py only: {offenders}"
