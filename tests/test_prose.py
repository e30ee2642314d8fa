"""Unit tests of `companion.prose`: `glue` and `glue_fields`, the numbers of the book's prose."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import companion
from companion import prose


@pytest.fixture
def glued(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What reaches myst-nb: a stand-in `myst_nb.glue` records each call."""
    calls: dict[str, Any] = {}

    def record(name: str, value: Any, display: bool = True) -> None:
        assert display is False, "glue must not display the value in the cell's output"
        calls[name] = value

    fake = type(sys)("myst_nb")
    fake.glue = record  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "myst_nb", fake)
    return calls


# ---------------------------------------------------------------- glue


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.float64(1.5), 1.5),
        (np.float32(0.25), 0.25),
        (np.int64(3), 3),
        (np.array(2.5), 2.5),
        (torch.tensor(0.5), 0.5),
        (torch.tensor([4]), 4),
        (torch.tensor(7, dtype=torch.int32), 7),
        (2.0, 2.0),
        ("text", "text"),
    ],
)
def test_glue_returns_and_records_plain_python_values(
    glued: dict[str, Any], value: object, expected: object
) -> None:
    result = companion.glue("some_value", value)
    assert result == expected and type(result) is type(expected)
    assert glued == {"some_value": expected}
    assert type(glued["some_value"]) is type(expected)


@pytest.mark.parametrize("name", ["", "two words", "1st", "a-b", None, 3])
def test_glue_rejects_a_name_that_is_not_an_identifier(name: object) -> None:
    # A string that is not an identifier is a ValueError; a non-string a TypeError.
    error = ValueError if isinstance(name, str) else TypeError
    with pytest.raises(error, match=r"name must be an identifier"):
        companion.glue(name, 1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [torch.zeros(2), torch.zeros(1, 3), torch.zeros(0)])
def test_glue_rejects_a_non_scalar_tensor_with_its_shape(value: torch.Tensor) -> None:
    with pytest.raises(
        ValueError, match=rf"only scalars.*shape {re.escape(str(tuple(value.shape)))}"
    ):
        companion.glue("loss", value)


def test_glue_takes_one_element_arrays_and_rejects_larger_ones() -> None:
    assert companion.glue("one", np.array([2.5])) == 2.5
    with pytest.raises(
        ValueError, match=r"only scalars can be glued, got an array of shape \(2,\)"
    ):
        companion.glue("two", np.array([1.0, 2.0]))


def test_glue_without_myst_nb_records_nothing_and_still_returns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # None in sys.modules makes `import myst_nb` raise ImportError, as on Colab.
    monkeypatch.setitem(sys.modules, "myst_nb", None)
    assert companion.glue("value", np.float64(0.5)) == 0.5


def test_glue_is_importable_from_the_package_and_the_module() -> None:
    assert companion.glue is prose.glue
    assert companion.glue_fields is prose.glue_fields


# ---------------------------------------------------------------- glue_fields


@dataclasses.dataclass(frozen=True)
class Config:
    seed: int = 3
    lr: float = 0.05
    optimizer: str = "adam"
    amp: bool = False
    gamma: np.float64 = np.float64(0.99)
    widths: tuple[int, ...] = (64, 64)
    checkpoint_dir: str | None = None
    folder: Path = Path("runs")
    extra: dict = dataclasses.field(default_factory=dict)


def test_glue_fields_glues_every_scalar_field_under_its_name(glued: dict[str, Any]) -> None:
    assert companion.glue_fields(Config()) is None
    assert glued == {"seed": 3, "lr": 0.05, "optimizer": "adam", "amp": False, "gamma": 0.99}
    assert type(glued["gamma"]) is float and type(glued["amp"]) is bool


def test_glue_fields_puts_the_prefix_before_each_name(glued: dict[str, Any]) -> None:
    companion.glue_fields(Config(seed=7), prefix="dqn_")
    assert set(glued) == {"dqn_seed", "dqn_lr", "dqn_optimizer", "dqn_amp", "dqn_gamma"}
    assert glued["dqn_seed"] == 7


def test_glue_fields_skips_non_scalar_fields(glued: dict[str, Any]) -> None:
    companion.glue_fields(Config(checkpoint_dir="/tmp/x"), prefix="c_")
    assert glued["c_checkpoint_dir"] == "/tmp/x"
    assert not {"c_widths", "c_folder", "c_extra"} & set(glued)


@pytest.mark.parametrize("config", [Config, {"seed": 0}, (1, 2), None, 3])
def test_glue_fields_needs_a_dataclass_instance(config: Any) -> None:
    with pytest.raises(TypeError, match=r"config must be a dataclass instance"):
        companion.glue_fields(config)


def test_glue_fields_needs_a_string_prefix() -> None:
    with pytest.raises(TypeError, match=r"prefix must be a string"):
        companion.glue_fields(Config(), prefix=1)  # type: ignore[arg-type]


def test_glue_fields_refuses_a_prefix_that_makes_bad_names() -> None:
    with pytest.raises(ValueError, match=r"name must be an identifier.*'my prefix seed'"):
        companion.glue_fields(Config(), prefix="my prefix ")


def test_stored_values_reads_each_seed_of_a_chapter(tmp_path: Path) -> None:
    results = {
        "cpu": {
            "chapters": {
                "c.ipynb": {
                    "runs": {
                        "1": {"glued": {"x": 2.5, "y": "held"}},
                        "0": {"glued": {"x": 1, "y": None}},
                    }
                }
            }
        },
        "cuda": {"chapters": {"c.ipynb": {"runs": {"0": {"glued": {"x": 9.0}}}}}},
    }
    path = tmp_path / "reproducibility.json"
    path.write_text(json.dumps(results))
    assert prose.stored_values("c.ipynb", "x", path) == {0: 1, 1: 2.5}
    assert prose.stored_values("c.ipynb", "y", path) == {1: "held"}
    assert prose.stored_values("other.ipynb", "x", path) == {}
    assert prose.stored_values("c.ipynb", "x", tmp_path / "missing.json") == {}
    with pytest.raises(TypeError, match="chapter"):
        prose.stored_values("", "x", path)
