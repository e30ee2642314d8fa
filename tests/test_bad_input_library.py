"""Bad input to the library (not training, checkpoints, parallel): a clear error, from companion.

Issue 18: a probe of the public API found values passed straight into torch, NumPy or Gymnasium
that silently gave nonsense (NaN Q-values answered with action 0, ``terminated='False'`` stored
as terminal, one inf reward turning every return into NaN) or failed with an error that named
nothing (a bare AssertionError from CartPole, a NumPy gufunc message). Here every public callable
is fed its bad inputs: wrong types, bools for numbers, strings for bools, negatives, zero, NaN,
inf, huge values, empty arrays, wrong shapes and dtypes, unknown devices and options, NaN models.
Each must raise within a second a TypeError or ValueError (or companion's own
`DeviceUnavailableError`) whose message names the argument and what is allowed, raised by code
in companion/ (`raises_clearly`). The cases are Hypothesis properties over families of bad
values (`CASES`, one per argument), plus a few tests of the correct behaviour that replaced the
nonsense (`greedy_policy` with an environment, `Runtime.device_for` on MPS).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.animation import FuncAnimation

import companion
from companion import bandits, data, metrics, plots, prose, rl, runtime, widgets
from companion.errors import expect_error
from companion.rl.episodes import ShortCorridorVector
from companion.runtime import MAX_SEED, DeviceUnavailableError, Runtime

COMPANION = Path(companion.__file__).resolve().parent

CALLABLES_COVERED: frozenset[str] = frozenset(
    {
        # companion
        "companion.setup",
        # companion.runtime
        "companion.runtime.DeviceUnavailableError",
        "companion.runtime.Runtime",
        "companion.runtime.Runtime.device_for",
        "companion.runtime.describe",
        "companion.runtime.seed_everything",
        "companion.runtime.choose_device",
        "companion.runtime.resolve_device",
        "companion.runtime.is_cpu",
        "companion.runtime.supports_fused_adam",
        "companion.runtime.generator_device",
        "companion.runtime.synchronize",
        "companion.runtime.tensorflow",
        # companion.offline
        "companion.offline.NetworkBlockedError",
        "companion.offline.offline_requested",
        "companion.offline.block_network",
        "companion.offline.network_blocked",
        # companion.errors
        "companion.errors.expect_error",
        # companion.prose
        "companion.prose.glue",
        "companion.prose.glue_fields",
        "companion.prose.stored_values",
        # companion.widgets
        "companion.widgets.FloatControl",
        "companion.widgets.FloatControl.coerce",
        "companion.widgets.FloatControl.widget",
        "companion.widgets.IntControl",
        "companion.widgets.IntControl.coerce",
        "companion.widgets.IntControl.widget",
        "companion.widgets.ChoiceControl",
        "companion.widgets.ChoiceControl.coerce",
        "companion.widgets.ChoiceControl.widget",
        "companion.widgets.Explorer",
        "companion.widgets.Explorer.run",
        "companion.widgets.explore",
        "companion.widgets.Frame",
        "companion.widgets.Frame.html",
        "companion.widgets.frame",
        "companion.widgets.FrameExplorer",
        "companion.widgets.FrameExplorer.select",
        "companion.widgets.explore_frames",
        # companion.plots
        "companion.plots.use_style",
        "companion.plots.plot_curves",
        "companion.plots.plot_loss_curves",
        "companion.plots.plot_loss_contour",
        "companion.plots.animation_html",
        "companion.plots.figure_alt_text",
        "companion.plots.describe_figures_in_outputs",
        # companion.data
        "companion.data.HousePrices",
        "companion.data.HousePrices.standardize",
        "companion.data.load_ames",
        "companion.data.load_house_prices",
        "companion.data.Digits",
        "companion.data.load_digits_split",
        "companion.data.sample_ring",
        "companion.data.sample_grid",
        # companion.metrics
        "companion.metrics.ModeCoverage",
        "companion.metrics.mode_coverage",
        "companion.metrics.frechet_distance",
        # companion.bandits
        "companion.bandits.BanditAgent",
        "companion.bandits.BanditAgent.select",
        "companion.bandits.BanditAgent.update",
        "companion.bandits.argmax_random_ties",
        "companion.bandits.Testbed",
        "companion.bandits.Testbed.pull",
        "companion.bandits.Testbed.agent_rng",
        "companion.bandits.BanditResult",
        "companion.bandits.BanditResult.final_reward",
        "companion.bandits.BanditResult.final_optimal_frac",
        "companion.bandits.run",
        # companion.rl.episodes
        "companion.rl.episodes.ShortCorridor",
        "companion.rl.episodes.ShortCorridor.reset",
        "companion.rl.episodes.ShortCorridor.step",
        "companion.rl.episodes.ShortCorridorVector",
        "companion.rl.episodes.ShortCorridorVector.reset",
        "companion.rl.episodes.ShortCorridorVector.step",
        "companion.rl.episodes.make_env",
        "companion.rl.episodes.reward_to_go",
        "companion.rl.episodes.discounted_returns",
        "companion.rl.episodes.make_vec_env",
        "companion.rl.episodes.EpisodeBatch",
        "companion.rl.episodes.rollout_batch",
        "companion.rl.episodes.Episode",
        "companion.rl.episodes.rollout",
        "companion.rl.episodes.evaluate",
        # companion.rl.dqn
        "companion.rl.dqn.ReplayBatch",
        "companion.rl.dqn.ReplayBuffer",
        "companion.rl.dqn.ReplayBuffer.add",
        "companion.rl.dqn.ReplayBuffer.sample",
        "companion.rl.dqn.linear_schedule",
        "companion.rl.dqn.greedy_policy",
        "companion.rl.dqn.start_state_value",
    }
)

# Covered without feeding data, and why: nothing a caller passes could be bad.
WITHOUT_USER_DATA = {
    "companion.runtime.DeviceUnavailableError": "an exception class companion raises",
    "companion.runtime.Runtime": "a record built by setup/describe, which check its fields",
    "companion.runtime.tensorflow": "takes no argument",
    "companion.offline.NetworkBlockedError": "an exception class companion raises",
    "companion.offline.offline_requested": "takes no argument",
    "companion.offline.block_network": "takes no argument (and would cut this process off)",
    "companion.offline.network_blocked": "takes no argument",
    "companion.plots.use_style": "takes no argument",
    "companion.plots.describe_figures_in_outputs": "takes no argument",
    "companion.data.load_ames": "takes no argument",
    "companion.data.HousePrices": "a record load_house_prices builds from checked arguments",
    "companion.data.Digits": "a record load_digits_split builds from checked arguments",
    "companion.metrics.ModeCoverage": "a record mode_coverage builds",
    "companion.bandits.BanditAgent": "a Protocol; run refuses an agent without its methods",
    "companion.bandits.BanditAgent.select": "a Protocol stub, written by each chapter's agent",
    "companion.bandits.BanditAgent.update": "a Protocol stub, written by each chapter's agent",
    "companion.bandits.Testbed.agent_rng": "takes no argument",
    "companion.rl.episodes.ShortCorridor": "takes no argument (its methods are fed below)",
    "companion.rl.episodes.Episode": "a record rollout builds",
    "companion.rl.episodes.EpisodeBatch": "a record rollout_batch builds",
    "companion.rl.dqn.ReplayBatch": "a record of tensors; chapter 5 builds one of TensorFlow "
    "tensors, so it holds whatever it is given",
}

DEADLINE_S = 1.0


def raises_clearly(
    errors: type[BaseException] | tuple[type[BaseException], ...],
    pattern: str,
    fn: Callable[..., Any],
    *args: Any,
    **kwargs: Any,
) -> BaseException:
    """Call ``fn(*args, **kwargs)``: it must raise one of `errors` within a second, with a
    message matching `pattern`, from a frame in companion/ (not deep inside torch or NumPy)."""
    start = time.perf_counter()
    try:
        with pytest.raises(errors) as info:
            fn(*args, **kwargs)
    finally:
        plt.close("all")
    seconds = time.perf_counter() - start
    message = str(info.value)
    assert seconds < DEADLINE_S, f"took {seconds:.2f} s to refuse: {message}"
    assert re.search(pattern, message), f"{message!r} does not match {pattern!r}"
    raised_in = Path(info.traceback[-1].path).resolve()
    assert COMPANION in raised_in.parents, f"raised in {raised_in}, not by companion: {message}"
    return info.value


# ---------------------------------------------------------------- families of bad values

NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf, np.float32("nan"), np.float64("inf")])
NOT_A_NUMBER = st.one_of(
    st.booleans(),
    st.just(np.bool_(True)),
    st.text(max_size=3),
    st.none(),
    st.just(1j),
    st.lists(st.integers(), max_size=2),
    st.just(torch.tensor(1.0)),
)
NOT_A_BOOL = st.one_of(
    st.sampled_from(["no", "False", "", "yes"]),
    st.integers(-1, 2),
    st.floats(allow_nan=True),
    st.none(),
)
NOT_A_STRING = st.one_of(
    st.integers(), st.floats(), st.booleans(), st.none(), st.binary(max_size=3)
)
BAD_DEVICE_NAMES = st.one_of(
    st.sampled_from(["tpu", "gpu", "cuda:x", "", "cuda0", "xla", "meta", "cpu:0:0", "cuda:-1"]),
    st.integers(),
    st.booleans(),
    st.floats(),
    st.just(torch.device("meta")),
)
# Valid names, but no machine that runs these tests has an eighth GPU or MPS with CUDA.
UNAVAILABLE_DEVICES = st.sampled_from(["cuda:7", torch.device("cuda", 7)])
DEVICE_ERRORS = (TypeError, ValueError, DeviceUnavailableError)


def bad_ints(low: int | None = None, high: int | None = None) -> st.SearchStrategy[Any]:
    """Non-integers (bools and floats included) and integers outside [low, high]."""
    options = [NOT_A_NUMBER, st.floats(), st.just(np.float64(2.0))]
    if low is not None:
        options.append(st.integers(max_value=low - 1))
    if high is not None:
        options.append(st.integers(min_value=high + 1))
    return st.one_of(*options)


def bad_floats(
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> st.SearchStrategy[Any]:
    """Non-numbers (bools included), NaN and ±inf, and numbers outside the range (an open end
    is itself outside)."""
    options = [NOT_A_NUMBER, NON_FINITE]
    if low is not None:
        options.append(st.floats(max_value=low, exclude_max=not low_open, allow_nan=False))
    if high is not None:
        options.append(st.floats(min_value=high, exclude_min=not high_open, allow_nan=False))
    return st.one_of(*options)


POSITIVE_BAD = bad_floats(0.0, low_open=True)
FRACTION_BAD = bad_floats(0.0, 1.0, low_open=True, high_open=True)


def arrays_with_non_finite(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """Float arrays of `shape` with one NaN or ±inf at a random place."""

    def poison(args: tuple[int, float]) -> np.ndarray:
        index, bad = args
        array = np.ones(shape)
        array.flat[index % array.size] = bad
        return array

    return st.tuples(st.integers(0, 10**6), NON_FINITE).map(poison)


ARRAYS_WITH_NAN = st.integers(0, 3).map(lambda i: np.where(np.arange(4) == i, np.nan, 1.0))


def arrays_not_real(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """Arrays of `shape` holding complex numbers, booleans or strings."""
    return st.sampled_from(
        [np.ones(shape) * 1j, np.ones(shape, dtype=bool), np.full(shape, "1"), np.full(shape, None)]
    )


def arrays_of_shapes(*shapes: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return st.sampled_from([np.ones(shape) for shape in shapes])


# ---------------------------------------------------------------- objects the cases use

CARTPOLE = "CartPole-v1"


def q_network(inputs: int = 4, outputs: int = 2, dtype: torch.dtype = torch.float32) -> Any:
    """A small Q-network of the book's form (Linear-ReLU-Linear)."""
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(inputs, 8), torch.nn.ReLU(), torch.nn.Linear(8, outputs)
    ).to(dtype)


def nan_network(dtype: torch.dtype = torch.float32) -> Any:
    q_net = q_network(dtype=dtype)
    with torch.no_grad():
        q_net[2].bias.fill_(math.nan)
    return q_net


class Wrapped(torch.nn.Module):
    """A Q-network that is not an nn.Sequential: greedy_policy acts through torch."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x)


def replay_buffer(filled: int = 0) -> rl.ReplayBuffer:
    buffer = rl.ReplayBuffer(8, (4,), "cpu")
    for _ in range(filled):
        buffer.add(np.zeros(4, np.float32), 1, 1.0, np.ones(4, np.float32), False)
    return buffer


_HOUSES: list[data.HousePrices] = []


def houses() -> data.HousePrices:
    if not _HOUSES:
        _HOUSES.append(data.load_house_prices())
    return _HOUSES[0]


def result(num_steps: int = 10) -> bandits.BanditResult:
    return bandits.BanditResult(np.linspace(0, 1, num_steps), np.linspace(0, 1, num_steps))


def explorer() -> widgets.Explorer:
    return widgets.Explorer(
        lambda alpha: plt.figure(), {"alpha": widgets.FloatControl(0.5, 0.0, 1.0)}, False
    )


_ANIMATIONS: list[FuncAnimation] = []


def a_frame() -> widgets.Frame:
    figure = plt.figure(figsize=(1, 1))
    return widgets.frame(figure, "a caption")


def frame_explorer() -> widgets.FrameExplorer:
    return widgets.FrameExplorer({1: a_frame(), 2: a_frame()}, ("n",))


def animation() -> FuncAnimation:
    """A one-frame animation, drawn once (an animation never drawn warns when deleted)."""
    if not _ANIMATIONS:
        fig = plt.figure()
        _ANIMATIONS.append(FuncAnimation(fig, lambda i: [], frames=1))
        _ANIMATIONS[0].to_jshtml()
    return _ANIMATIONS[0]


@dataclass
class Config:
    seed: int = 0


class NoAgent:
    """Has `select` but no `update`."""

    def select(self) -> np.ndarray:
        return np.zeros(2, dtype=np.int64)


class FloatAgent:
    """Picks arm 0.0 as a float."""

    def select(self) -> np.ndarray:
        return np.zeros(2)

    def update(self, actions: np.ndarray, rewards: np.ndarray) -> None:
        pass


def bad_policy(action: Any) -> Callable[[np.ndarray], Any]:
    return lambda observation: action


# ---------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    """Bad values of one argument of one callable: ``call(value)`` must refuse each clearly."""

    callable_name: str
    argument: str
    call: Callable[[Any], Any]
    values: st.SearchStrategy[Any]
    pattern: str
    errors: type[BaseException] | tuple[type[BaseException], ...] = (TypeError, ValueError)

    @property
    def id(self) -> str:
        return f"{self.callable_name.removeprefix('companion.')}:{self.argument}"


ACTIONS_OUTSIDE_CARTPOLE = st.one_of(
    st.integers(max_value=-1),
    st.integers(min_value=2),
    st.floats(),
    st.booleans(),
    st.just(np.bool_(False)),
    st.text(max_size=2),
    st.none(),
    st.just(np.float64(1.0)),
    st.just((0, 0.0, 0.0)),
)

CASES = [
    # ------------------------------------------------ companion, runtime
    Case(
        "companion.setup",
        "seed",
        lambda v: companion.setup(seed=v),
        bad_ints(0, MAX_SEED),
        r"^seed must be an integer in \[0, 4294967295\]",
    ),
    Case(
        "companion.setup",
        "device",
        lambda v: companion.setup(0, v),
        st.one_of(BAD_DEVICE_NAMES, UNAVAILABLE_DEVICES),
        r"device",
        DEVICE_ERRORS,
    ),
    Case(
        "companion.runtime.choose_device",
        "device",
        runtime.choose_device,
        st.one_of(BAD_DEVICE_NAMES, UNAVAILABLE_DEVICES),
        r"device",
        DEVICE_ERRORS,
    ),
    Case(
        "companion.runtime.resolve_device",
        "name",
        runtime.resolve_device,
        st.one_of(BAD_DEVICE_NAMES, UNAVAILABLE_DEVICES),
        r"device",
        DEVICE_ERRORS,
    ),
    Case(
        "companion.runtime.is_cpu",
        "device",
        runtime.is_cpu,
        BAD_DEVICE_NAMES.filter(lambda v: not isinstance(v, torch.device)),
        r"^device must be .*one of cpu, cuda",
    ),
    Case(
        "companion.runtime.supports_fused_adam",
        "device",
        runtime.supports_fused_adam,
        BAD_DEVICE_NAMES.filter(lambda v: not isinstance(v, torch.device)),
        r"^device must be .*one of cpu, cuda",
    ),
    Case(
        "companion.runtime.generator_device",
        "device",
        runtime.generator_device,
        BAD_DEVICE_NAMES.filter(lambda v: not isinstance(v, torch.device)),
        r"^device must be .*one of cpu, cuda",
    ),
    Case(
        "companion.runtime.synchronize",
        "device",
        runtime.synchronize,
        BAD_DEVICE_NAMES.filter(lambda v: not isinstance(v, torch.device)),
        r"^device must be .*one of cpu, cuda",
    ),
    Case(
        "companion.runtime.seed_everything",
        "seed",
        runtime.seed_everything,
        bad_ints(0, MAX_SEED),
        r"^seed must be an integer in \[0, 4294967295\]",
    ),
    Case(
        "companion.runtime.describe",
        "seed",
        lambda v: runtime.describe(v, torch.device("cpu")),
        bad_ints(0, MAX_SEED),
        r"^seed must be an integer",
    ),
    Case(
        "companion.runtime.describe",
        "device",
        lambda v: runtime.describe(0, v),
        st.one_of(st.just("cpu"), NOT_A_STRING),
        r"^device must be a torch.device",
    ),
    Case(
        "companion.runtime.Runtime.device_for",
        "dtype",
        lambda v: runtime.describe(0, torch.device("cpu")).device_for(v),
        st.sampled_from(
            ["float64", "torch.float64", np.float64, np.dtype("float64"), None, 64, float, True]
        ),
        r"^dtype must be a torch.dtype",
    ),
    # ------------------------------------------------ errors, prose
    Case(
        "companion.errors.expect_error",
        "expected",
        lambda v: expect_error(*v),
        st.sampled_from([(), (5,), ("ValueError",), (ValueError(),), (int,), (ValueError, None)]),
        r"expect_error (needs|takes) .*exception",
    ),
    Case(
        "companion.prose.glue",
        "name",
        lambda v: prose.glue(v, 1.0),
        st.one_of(NOT_A_STRING, st.sampled_from(["", "two words", "1st", "a-b", "x.y"])),
        r"^name must be an identifier-like string",
    ),
    Case(
        "companion.prose.glue",
        "value",
        lambda v: prose.glue("x", v),
        st.sampled_from(
            [np.zeros(2), np.zeros((1, 3)), torch.zeros(2), torch.zeros(0), np.zeros(0)]
        ),
        r"^glue 'x': only scalars can be glued",
    ),
    Case(
        "companion.prose.glue_fields",
        "config",
        prose.glue_fields,
        st.one_of(st.sampled_from([Config, {"seed": 0}, (0,), "seed=0"]), st.integers(), st.none()),
        r"^config must be a dataclass instance",
    ),
    Case(
        "companion.prose.glue_fields",
        "prefix",
        lambda v: prose.glue_fields(Config(), v),
        st.one_of(NOT_A_STRING, st.sampled_from(["my prefix ", "1", "a-"])),
        r"^(prefix must be a string|name must be an identifier)",
    ),
    Case(
        "companion.prose.stored_values",
        "chapter",
        lambda v: prose.stored_values(v, "x"),
        st.one_of(NOT_A_STRING, st.just("")),
        r"^chapter must be a non-empty string",
    ),
    Case(
        "companion.prose.stored_values",
        "name",
        lambda v: prose.stored_values("c", v),
        st.one_of(NOT_A_STRING, st.just("")),
        r"^name must be a non-empty string",
    ),
    Case(
        "companion.prose.stored_values",
        "path",
        lambda v: prose.stored_values("c", "x", v),
        st.one_of(
            st.integers(),
            st.none(),
            st.floats(),
            st.just(["a.json"]),
            st.just(Path(companion.__file__)),
            st.just(str(COMPANION)),
        ),
        r"^path (must be a str or a pathlib.Path|'.*' is not a readable JSON file)",
    ),
    # ------------------------------------------------ widgets
    Case(
        "companion.widgets.FloatControl",
        "default",
        lambda v: widgets.FloatControl(v, 0.0, 1.0),
        bad_floats(0.0, 1.0),
        r"^default must be a finite number in \[0, 1\]",
    ),
    Case(
        "companion.widgets.FloatControl",
        "low",
        lambda v: widgets.FloatControl(0.5, v, 1.0),
        bad_floats(None, 0.5),
        r"(^low must be a finite number|low < high|^default must be)",
    ),
    Case(
        "companion.widgets.FloatControl",
        "high",
        lambda v: widgets.FloatControl(0.5, 0.0, v),
        st.one_of(NOT_A_NUMBER, NON_FINITE, st.floats(max_value=0.49, allow_nan=False)),
        r"(^high must be a finite number|low < high|^default must be)",
    ),
    Case(
        "companion.widgets.FloatControl",
        "log",
        lambda v: widgets.FloatControl(0.5, 0.1, 1.0, log=v),
        NOT_A_BOOL,
        r"^log must be True or False",
    ),
    Case(
        "companion.widgets.FloatControl",
        "log and low",
        lambda v: widgets.FloatControl(0.5, v, 1.0, log=True),
        st.floats(max_value=0.0, allow_nan=False, allow_infinity=False),
        r"log-scale control needs low > 0",
    ),
    Case(
        "companion.widgets.FloatControl",
        "description",
        lambda v: widgets.FloatControl(0.5, 0.0, 1.0, description=v),
        NOT_A_STRING,
        r"^description must be a string",
    ),
    Case(
        "companion.widgets.FloatControl.coerce",
        "value",
        lambda v: widgets.FloatControl(0.5, 0.0, 1.0).coerce("alpha", v),
        st.one_of(NOT_A_NUMBER, NON_FINITE),
        r"^alpha must be a finite number",
    ),
    Case(
        "companion.widgets.FloatControl.widget",
        "name",
        lambda v: widgets.FloatControl(0.5, 0.0, 1.0).widget(v),
        NOT_A_STRING,
        r"^name must be the name of the argument",
    ),
    Case(
        "companion.widgets.IntControl",
        "default",
        lambda v: widgets.IntControl(v, 0, 10),
        bad_ints(0, 10),
        r"^default must be an integer in \[0, 10\]",
    ),
    Case(
        "companion.widgets.IntControl",
        "low",
        lambda v: widgets.IntControl(5, v, 10),
        bad_ints(None, 5),
        r"(^low must be an integer|low < high|^default must be)",
    ),
    Case(
        "companion.widgets.IntControl",
        "high",
        lambda v: widgets.IntControl(5, 0, v),
        bad_ints(5),
        r"(^high must be an integer|low < high|^default must be)",
    ),
    Case(
        "companion.widgets.IntControl",
        "step",
        lambda v: widgets.IntControl(5, 0, 10, step=v),
        bad_ints(1, 10),
        r"^step must be an integer in \[1, 10\]",
    ),
    Case(
        "companion.widgets.IntControl",
        "description",
        lambda v: widgets.IntControl(5, 0, 10, description=v),
        NOT_A_STRING,
        r"^description must be a string",
    ),
    Case(
        "companion.widgets.IntControl.coerce",
        "value",
        lambda v: widgets.IntControl(5, 0, 10).coerce("num_steps", v),
        bad_ints(),
        r"^num_steps must be an integer",
    ),
    Case(
        "companion.widgets.IntControl.widget",
        "name",
        lambda v: widgets.IntControl(5, 0, 10).widget(v),
        NOT_A_STRING,
        r"^name must be the name of the argument",
    ),
    Case(
        "companion.widgets.ChoiceControl",
        "options",
        widgets.ChoiceControl,
        st.one_of(
            st.sampled_from(["ab", (), [], (1, 2), ("a", None), ("a", "a"), {"a": 1}]),
            st.integers(),
            st.none(),
        ),
        r"(^options must|choice control needs at least one option)",
    ),
    Case(
        "companion.widgets.ChoiceControl",
        "default",
        lambda v: widgets.ChoiceControl(("a", "b"), default=v),
        st.one_of(st.integers(), st.booleans(), st.sampled_from(["c", "A", ""])),
        r"^default must be one of 'a', 'b'",
    ),
    Case(
        "companion.widgets.ChoiceControl",
        "description",
        lambda v: widgets.ChoiceControl(("a", "b"), description=v),
        NOT_A_STRING,
        r"^description must be a string",
    ),
    Case(
        "companion.widgets.ChoiceControl.coerce",
        "value",
        lambda v: widgets.ChoiceControl(("sgd", "adam")).coerce("optimizer", v),
        st.one_of(NOT_A_STRING, st.sampled_from(["rmsprop", "SGD", ""])),
        r"^optimizer must be one of 'sgd', 'adam'",
    ),
    Case(
        "companion.widgets.ChoiceControl.widget",
        "name",
        lambda v: widgets.ChoiceControl(("a", "b")).widget(v),
        NOT_A_STRING,
        r"^name must be the name of the argument",
    ),
    Case(
        "companion.widgets.Explorer",
        "fn",
        lambda v: widgets.Explorer(v, {"a": widgets.IntControl(1, 0, 2)}, False),
        st.one_of(NOT_A_STRING, st.just("plot")),
        r"^fn must be callable",
    ),
    Case(
        "companion.widgets.Explorer",
        "controls",
        lambda v: widgets.Explorer(print, v, False),
        st.sampled_from([{}, [], None, {"a": 1}, {"a": (0, 1)}, "alpha"]),
        r"(^controls must be a dict|needs at least one control|^control 'a' must be a)",
    ),
    Case(
        "companion.widgets.Explorer",
        "run_button",
        lambda v: widgets.Explorer(print, {"a": widgets.IntControl(1, 0, 2)}, v),
        NOT_A_BOOL,
        r"^run_button must be True or False",
    ),
    Case(
        "companion.widgets.Explorer.run",
        "overrides",
        lambda v: explorer().run(**v),
        st.one_of(
            st.builds(lambda x: {"alpha": x}, st.one_of(NOT_A_NUMBER, NON_FINITE)),
            st.just({"beta": 1.0}),
        ),
        r"(^alpha must be a finite number|unknown control)",
    ),
    Case(
        "companion.widgets.explore",
        "fn",
        lambda v: widgets.explore(v, a=widgets.IntControl(1, 0, 2)),
        NOT_A_STRING,
        r"^fn must be callable",
    ),
    Case(
        "companion.widgets.explore",
        "controls",
        lambda v: widgets.explore(print, **v),
        st.sampled_from([{}, {"a": 1}, {"a": None}, {"a": "FloatControl"}]),
        r"(needs at least one control|^control 'a' must be a)",
    ),
    Case(
        "companion.widgets.explore",
        "run_button",
        lambda v: widgets.explore(print, run_button=v, a=widgets.IntControl(1, 0, 2)),
        NOT_A_BOOL,
        r"^run_button must be True or False",
    ),
    Case(
        "companion.widgets.Frame",
        "png",
        lambda v: widgets.Frame(v, "caption", "alt"),
        st.one_of(NOT_A_STRING, st.sampled_from([b"", b"GIF89a", "\x89PNG"])),
        r"^(png must be PNG bytes|png must be the bytes of a PNG)",
    ),
    Case(
        "companion.widgets.Frame",
        "caption",
        lambda v: widgets.Frame(a_frame().png, v, "alt"),
        st.one_of(NOT_A_STRING, st.sampled_from(["", "  ", "\n"])),
        r"^(caption must be a string|a frame needs a non-empty caption)",
    ),
    Case(
        "companion.widgets.Frame.html",
        "value_label",
        lambda v: a_frame().html(v),
        NOT_A_STRING,
        r"^value_label must be a string",
    ),
    Case(
        "companion.widgets.frame",
        "figure",
        lambda v: widgets.frame(v, "caption"),
        st.one_of(NOT_A_STRING, st.just(np.zeros((4, 4))), st.just("figure.png")),
        r"^figure must be a matplotlib Figure",
    ),
    Case(
        "companion.widgets.frame",
        "dpi",
        lambda v: widgets.frame(plt.figure(figsize=(1, 1)), "caption", dpi=v),
        bad_ints(20, 300),
        r"^dpi must be an integer in \[20, 300\]",
    ),
    Case(
        "companion.widgets.frame",
        "colors",
        lambda v: widgets.frame(plt.figure(figsize=(1, 1)), "caption", colors=v),
        bad_ints(2, 256),
        r"^colors must be an integer in \[2, 256\]",
    ),
    Case(
        "companion.widgets.FrameExplorer",
        "frames",
        lambda v: widgets.FrameExplorer(v, ("n",)),
        st.sampled_from([{}, [], None, "frames", {1: "a frame"}, {1: None}]),
        r"^(frames must be a mapping|explore_frames needs frames|frames\[1\] must be a Frame)",
    ),
    Case(
        "companion.widgets.FrameExplorer",
        "labels",
        lambda v: widgets.FrameExplorer({1: a_frame(), 2: a_frame()}, v),
        st.sampled_from([(), ("a", "b", "c"), ("a", 1), "n", None, ["n"]]),
        r"^(labels must be a tuple|labels must be one or two strings|with two slider labels)",
    ),
    Case(
        "companion.widgets.FrameExplorer.select",
        "key",
        lambda v: frame_explorer().select(v),
        st.sampled_from([0, 3, "1", None, (1, 2), 1.5]),
        r"^key must be one of the frames' keys",
    ),
    Case(
        "companion.widgets.explore_frames",
        "label",
        lambda v: widgets.explore_frames({1: a_frame(), 2: a_frame()}, label=v),
        st.sampled_from([None, 1, ("a",), ("a", "b", "c"), ("a", 2), ["a", "b"]]),
        r"^label must be a string or a pair of strings",
    ),
    Case(
        "companion.widgets.explore_frames",
        "default",
        lambda v: widgets.explore_frames({1: a_frame(), 2: a_frame()}, label="n", default=v),
        st.sampled_from([0, 3, "1", (1, 2), 1.5]),
        r"^default must be one of the frames' keys",
    ),
    Case(
        "companion.widgets.explore_frames",
        "format_value",
        lambda v: widgets.explore_frames({1: a_frame(), 2: a_frame()}, label="n", format_value=v),
        st.one_of(NOT_A_STRING, st.just(lambda value: "same")),
        r"^(format_value must be callable|format_value must give each value)",
    ),
    # ------------------------------------------------ plots
    Case(
        "companion.plots.plot_curves",
        "curves",
        plots.plot_curves,
        st.one_of(st.sampled_from([[1.0, 2.0], "loss", None, 5, {}, ((1, 2),)])),
        r"^curves must (be a mapping|contain at least one)",
    ),
    Case(
        "companion.plots.plot_curves",
        "curves values",
        lambda v: plots.plot_curves({"a": v}),
        st.sampled_from(
            [
                ["x", "y"],
                [1j, 2j],
                np.array([1j]),
                np.zeros((2, 2)),
                "abc",
                [[1.0], [2.0, 3.0]],
                ([1, 2], [1, 2, 3]),
                5.0,
            ]
        ),
        r"^curve 'a'",
    ),
    Case(
        "companion.plots.plot_curves",
        "log_y",
        lambda v: plots.plot_curves({"a": [1.0]}, log_y=v),
        NOT_A_BOOL,
        r"^log_y must be True or False",
    ),
    Case(
        "companion.plots.plot_curves",
        "log_y values",
        lambda v: plots.plot_curves({"a": [1.0, v]}, log_y=True),
        st.floats(max_value=0.0, allow_nan=False),
        r"^curve 'a' has values <= 0",
    ),
    Case(
        "companion.plots.plot_curves",
        "labels",
        lambda v: plots.plot_curves({"a": [1.0]}, **v),
        st.one_of(
            st.builds(lambda x: {"xlabel": x}, NOT_A_STRING),
            st.builds(lambda x: {"ylabel": x}, NOT_A_STRING),
            st.builds(lambda x: {"title": x}, NOT_A_STRING.filter(lambda x: x is not None)),
            st.builds(lambda x: {"ax": x}, st.sampled_from([1, "ax", plt])),
        ),
        r"^(xlabel|ylabel|title|ax) must be",
    ),
    Case(
        "companion.plots.plot_loss_curves",
        "log_y",
        lambda v: plots.plot_loss_curves({"a": [1.0]}, log_y=v),
        NOT_A_BOOL,
        r"^log_y must be True or False",
    ),
    Case(
        "companion.plots.plot_loss_curves",
        "curves",
        lambda v: plots.plot_loss_curves({"mse": v}),
        st.sampled_from([[1.0, 0.0], [-1.0], ["a"], [1j]]),
        r"^curve 'mse'",
    ),
    Case(
        "companion.plots.plot_loss_contour",
        "loss_on_grid",
        lambda v: plots.plot_loss_contour(v, (0, 1), (0, 1), grid_size=10),
        st.one_of(
            NOT_A_STRING,
            st.sampled_from(
                [
                    lambda a, b: a * math.nan,
                    lambda a, b: np.where(a > 0.5, np.inf, a),
                    lambda a, b: a[0],
                    lambda a, b: np.full(a.shape, "x"),
                    lambda a, b: a * 1j,
                ]
            ),
        ),
        r"^loss_on_grid",
    ),
    Case(
        "companion.plots.plot_loss_contour",
        "xlim",
        lambda v: plots.plot_loss_contour(lambda a, b: a + b, v, (0, 1), grid_size=10),
        st.sampled_from(
            [
                (1, 0),
                (0, 0),
                (0, math.nan),
                (-math.inf, 0),
                (0,),
                "01",
                None,
                (0, "1"),
                (True, 2),
                (0, 1, 2),
            ]
        ),
        r"^xlim",
    ),
    Case(
        "companion.plots.plot_loss_contour",
        "ylim",
        lambda v: plots.plot_loss_contour(lambda a, b: a + b, (0, 1), v, grid_size=10),
        st.sampled_from([(1, 0), (0, math.inf), 5, (None, 1)]),
        r"ylim",
    ),
    Case(
        "companion.plots.plot_loss_contour",
        "paths",
        lambda v: plots.plot_loss_contour(
            lambda a, b: a + b, (0, 1), (0, 1), paths=v, grid_size=10
        ),
        st.sampled_from(
            [
                [np.zeros((3, 2))],
                {"p": np.zeros((3, 3))},
                {"p": np.zeros(4)},
                {"p": [["a", "b"]]},
                "path",
            ]
        ),
        r"(^paths must be|^path 'p')",
    ),
    Case(
        "companion.plots.plot_loss_contour",
        "optimum",
        lambda v: plots.plot_loss_contour(
            lambda a, b: a + b, (0, 1), (0, 1), optimum=v, grid_size=10
        ),
        st.sampled_from([(0,), (0, math.nan), "00", (0, None), 5]),
        r"^optimum must be",
    ),
    Case(
        "companion.plots.plot_loss_contour",
        "num_levels",
        lambda v: plots.plot_loss_contour(lambda a, b: a + b, (0, 1), (0, 1), num_levels=v),
        bad_ints(1, 1000),
        r"^num_levels must be an integer in \[1, 1000\]",
    ),
    Case(
        "companion.plots.plot_loss_contour",
        "grid_size",
        lambda v: plots.plot_loss_contour(lambda a, b: a + b, (0, 1), (0, 1), grid_size=v),
        bad_ints(2, 2000),
        r"^grid_size must be an integer in \[2, 2000\]",
    ),
    Case(
        "companion.plots.plot_loss_contour",
        "labels",
        lambda v: plots.plot_loss_contour(lambda a, b: a + b, (0, 1), (0, 1), **v),
        st.one_of(
            st.builds(lambda x: {"xlabel": x}, NOT_A_STRING),
            st.builds(lambda x: {"ax": x}, st.sampled_from([1, "ax"])),
        ),
        r"^(xlabel|ax) must be",
    ),
    Case(
        "companion.plots.animation_html",
        "animation",
        plots.animation_html,
        st.one_of(NOT_A_STRING, st.just("<html>")),
        r"^animation must be a matplotlib Animation",
    ),
    Case(
        "companion.plots.figure_alt_text",
        "figure",
        plots.figure_alt_text,
        st.one_of(NOT_A_STRING, st.sampled_from([plt, "figure"])),
        r"^figure must be a matplotlib Figure",
    ),
    Case(
        "companion.plots.animation_html",
        "default_mode",
        lambda v: plots.animation_html(animation(), v),
        st.one_of(NOT_A_STRING, st.sampled_from(["bounce", "", "Loop "])),
        r"^default_mode must be one of 'loop', 'once', 'reflect'",
    ),
    # ------------------------------------------------ data
    Case(
        "companion.data.load_house_prices",
        "test_fraction",
        lambda v: data.load_house_prices(test_fraction=v),
        FRACTION_BAD,
        r"^test_fraction must be a finite number in \(0, 1\)",
    ),
    Case(
        "companion.data.load_house_prices",
        "seed",
        lambda v: data.load_house_prices(seed=v),
        bad_ints(0),
        r"^seed must be an integer >= 0",
    ),
    Case(
        "companion.data.load_house_prices",
        "log_target",
        lambda v: data.load_house_prices(log_target=v),
        NOT_A_BOOL,
        r"^log_target must be True or False",
    ),
    Case(
        "companion.data.load_house_prices",
        "max_living_area",
        lambda v: data.load_house_prices(max_living_area=v),
        st.one_of(
            POSITIVE_BAD.filter(lambda v: v is not None),
            st.floats(min_value=1e-300, max_value=300.0),
        ),
        r"max_living_area",
    ),
    Case(
        "companion.data.load_house_prices",
        "features",
        lambda v: data.load_house_prices(features=v),
        st.one_of(
            st.sampled_from(
                [
                    "area",
                    (),
                    ("area", "area"),
                    ("area", 5),
                    ("price",),
                    ("no such column",),
                    ("Neighborhood",),
                    {"area"},
                ]
            ),
            st.integers(),
            st.none(),
        ),
        r"(^features|^target 'price' is also|unknown column|column 'Neighborhood' is not numeric)",
    ),
    Case(
        "companion.data.load_house_prices",
        "target",
        lambda v: data.load_house_prices(target=v),
        st.one_of(NOT_A_STRING, st.sampled_from(["area", "SalePrice", "Neighborhood"])),
        r"(^target|unknown column|column 'Neighborhood' is not numeric)",
    ),
    Case(
        "companion.data.HousePrices.standardize",
        "X",
        lambda v: houses().standardize(v),
        st.one_of(
            arrays_with_non_finite((3, 8)),
            arrays_not_real((3, 8)),
            arrays_of_shapes((8,), (3, 7), (3, 8, 1), ()),
            st.just("X"),
            st.none(),
        ),
        r"^X must",
    ),
    Case(
        "companion.data.load_digits_split",
        "test_fraction",
        lambda v: data.load_digits_split(test_fraction=v),
        FRACTION_BAD,
        r"^test_fraction must be a finite number in \(0, 1\)",
    ),
    Case(
        "companion.data.load_digits_split",
        "seed",
        lambda v: data.load_digits_split(seed=v),
        bad_ints(0),
        r"^seed must be an integer >= 0",
    ),
    Case(
        "companion.data.load_digits_split",
        "scaling",
        lambda v: data.load_digits_split(scaling=v),
        st.one_of(NOT_A_STRING, st.sampled_from(["Unit", "minmax", ""])),
        r"^scaling must be one of 'unit', 'standard'",
    ),
    Case(
        "companion.data.sample_ring",
        "n",
        data.sample_ring,
        bad_ints(1, data.MAX_POINTS),
        r"^n must be an integer in \[1, 10000000\]",
    ),
    Case(
        "companion.data.sample_ring",
        "num_modes",
        lambda v: data.sample_ring(10, num_modes=v),
        bad_ints(1, data.MAX_MODES),
        r"^num_modes must be an integer in \[1, 10000\]",
    ),
    Case(
        "companion.data.sample_ring",
        "radius",
        lambda v: data.sample_ring(10, radius=v),
        POSITIVE_BAD,
        r"^radius must be a finite number > 0",
    ),
    Case(
        "companion.data.sample_ring",
        "std",
        lambda v: data.sample_ring(10, std=v),
        POSITIVE_BAD,
        r"^std must be a finite number > 0",
    ),
    Case(
        "companion.data.sample_ring",
        "seed",
        lambda v: data.sample_ring(10, seed=v),
        bad_ints(0),
        r"^seed must be an integer >= 0",
    ),
    Case(
        "companion.data.sample_grid",
        "n",
        data.sample_grid,
        bad_ints(1, data.MAX_POINTS),
        r"^n must be an integer in \[1, 10000000\]",
    ),
    Case(
        "companion.data.sample_grid",
        "side",
        lambda v: data.sample_grid(10, side=v),
        bad_ints(1, 100),
        r"^side must be an integer in \[1, 100\]",
    ),
    Case(
        "companion.data.sample_grid",
        "spacing",
        lambda v: data.sample_grid(10, spacing=v),
        POSITIVE_BAD,
        r"^spacing must be a finite number > 0",
    ),
    Case(
        "companion.data.sample_grid",
        "std",
        lambda v: data.sample_grid(10, std=v),
        POSITIVE_BAD,
        r"^std must be a finite number > 0",
    ),
    Case(
        "companion.data.sample_grid",
        "seed",
        lambda v: data.sample_grid(10, seed=v),
        bad_ints(0),
        r"^seed must be an integer >= 0",
    ),
    # ------------------------------------------------ metrics
    Case(
        "companion.metrics.mode_coverage",
        "samples",
        lambda v: metrics.mode_coverage(v, np.zeros((8, 2)), 0.02),
        st.one_of(
            arrays_with_non_finite((5, 2)),
            arrays_not_real((5, 2)),
            arrays_of_shapes((5, 0), (0, 2), (5,), (5, 2, 1), (), (5, 3)),
            st.none(),
            st.just("samples"),
        ),
        r"(^samples|samples and centers must have the same dimension)",
    ),
    Case(
        "companion.metrics.mode_coverage",
        "centers",
        lambda v: metrics.mode_coverage(np.zeros((5, 2)), v, 0.02),
        st.one_of(
            arrays_with_non_finite((8, 2)),
            arrays_not_real((8, 2)),
            arrays_of_shapes((8, 0), (0, 2), (8,), (8, 3)),
        ),
        r"(^centers|samples and centers must have the same dimension)",
    ),
    Case(
        "companion.metrics.mode_coverage",
        "std",
        lambda v: metrics.mode_coverage(np.zeros((5, 2)), np.zeros((8, 2)), v),
        POSITIVE_BAD,
        r"^std must be a finite number > 0",
    ),
    Case(
        "companion.metrics.mode_coverage",
        "threshold",
        lambda v: metrics.mode_coverage(np.zeros((5, 2)), np.zeros((8, 2)), 0.02, threshold=v),
        POSITIVE_BAD,
        r"^threshold must be a finite number > 0",
    ),
    Case(
        "companion.metrics.mode_coverage",
        "min_count",
        lambda v: metrics.mode_coverage(np.zeros((5, 2)), np.zeros((8, 2)), 0.02, min_count=v),
        bad_ints(1),
        r"^min_count must be an integer >= 1",
    ),
    Case(
        "companion.metrics.frechet_distance",
        "features_a",
        lambda v: metrics.frechet_distance(v, np.ones((5, 3))),
        st.one_of(
            arrays_with_non_finite((5, 3)),
            arrays_not_real((5, 3)),
            arrays_of_shapes((5, 0), (0, 3), (1, 3), (5,), (5, 4), ()),
        ),
        r"(^features_a|features_a and features_b must have the same dimension)",
    ),
    Case(
        "companion.metrics.frechet_distance",
        "features_b",
        lambda v: metrics.frechet_distance(np.ones((5, 3)), v),
        st.one_of(
            arrays_with_non_finite((5, 3)),
            arrays_not_real((5, 3)),
            arrays_of_shapes((5, 0), (1, 3), (5, 3, 1)),
        ),
        r"(^features_b|features_a and features_b must have the same dimension)",
    ),
    # ------------------------------------------------ bandits
    Case(
        "companion.bandits.argmax_random_ties",
        "values",
        lambda v: bandits.argmax_random_ties(v, np.random.default_rng(0)),
        st.one_of(
            arrays_with_non_finite((3, 4)).filter(lambda a: np.isnan(a).any()),
            arrays_not_real((3, 4)),
            arrays_of_shapes((4,), (3, 0), (0, 4), (2, 3, 4)),
            st.just(np.full((2, 3), np.nan)),
        ),
        r"^values",
    ),
    Case(
        "companion.bandits.argmax_random_ties",
        "rng",
        lambda v: bandits.argmax_random_ties(np.zeros((2, 3)), v),
        NOT_A_STRING,
        r"^rng must be a NumPy Generator",
    ),
    Case(
        "companion.bandits.Testbed",
        "num_runs",
        lambda v: bandits.Testbed(num_runs=v),
        bad_ints(1, bandits.MAX_TESTBED_VALUES // 2),
        r"^num_runs must be an integer in \[1, ",
    ),
    Case(
        "companion.bandits.Testbed",
        "num_arms",
        lambda v: bandits.Testbed(num_runs=1, num_arms=v),
        bad_ints(2, bandits.MAX_TESTBED_VALUES),
        r"^num_arms must be an integer in \[2, ",
    ),
    Case(
        "companion.bandits.Testbed",
        "num_runs × num_arms",
        lambda v: bandits.Testbed(num_runs=v, num_arms=v),
        st.integers(math.isqrt(bandits.MAX_TESTBED_VALUES) + 1, bandits.MAX_TESTBED_VALUES // 2),
        r"^num_runs × num_arms must be at most 10000000",
    ),
    Case(
        "companion.bandits.Testbed",
        "mean_offset",
        lambda v: bandits.Testbed(2, mean_offset=v),
        bad_floats(),
        r"^mean_offset must be a finite number",
    ),
    Case(
        "companion.bandits.Testbed",
        "seed",
        lambda v: bandits.Testbed(2, seed=v),
        bad_ints(0),
        r"^seed must be an integer >= 0",
    ),
    Case(
        "companion.bandits.Testbed.pull",
        "actions",
        lambda v: bandits.Testbed(num_runs=3, num_arms=4).pull(v),
        st.sampled_from(
            [
                np.zeros(3),
                np.ones(3, dtype=bool),
                np.array([0, 1]),
                np.array([[0, 1, 2]]),
                np.array([0, 1, 4]),
                np.array([-1, 0, 0]),
                np.array(["0", "1", "2"]),
                None,
                1.5,
                np.array([0, 1, 2]) * 1j,
            ]
        ),
        r"^actions must",
    ),
    Case(
        "companion.bandits.BanditResult",
        "average_reward",
        lambda v: bandits.BanditResult(v, np.zeros(3)),
        st.one_of(
            arrays_of_shapes((0,), (3, 1), (2,)),
            arrays_with_non_finite((3,)),
            arrays_not_real((3,)),
        ),
        r"^(average_reward|optimal_frac) must",
    ),
    Case(
        "companion.bandits.BanditResult",
        "optimal_frac",
        lambda v: bandits.BanditResult(np.zeros(3), v),
        st.one_of(arrays_of_shapes((0,), (3, 1), (4,)), arrays_with_non_finite((3,))),
        r"^optimal_frac must",
    ),
    Case(
        "companion.bandits.BanditResult.final_reward",
        "num_last",
        lambda v: result(10).final_reward(v),
        bad_ints(1, 10),
        r"^num_last must be an integer in \[1, 10\]",
    ),
    Case(
        "companion.bandits.BanditResult.final_optimal_frac",
        "num_last",
        lambda v: result(10).final_optimal_frac(v),
        bad_ints(1, 10),
        r"^num_last must be an integer in \[1, 10\]",
    ),
    Case(
        "companion.bandits.run",
        "testbed",
        lambda v: bandits.run(v, FloatAgent(), 1),
        st.one_of(NOT_A_STRING, st.just(result())),
        r"^testbed must be a Testbed",
    ),
    Case(
        "companion.bandits.run",
        "agent",
        lambda v: bandits.run(bandits.Testbed(2), v, 1),
        st.one_of(NOT_A_STRING, st.sampled_from([NoAgent(), FloatAgent()])),
        r"(^agent\.(select|update) must be callable|^actions must be an integer array)",
    ),
    Case(
        "companion.bandits.run",
        "num_steps",
        lambda v: bandits.run(bandits.Testbed(2), FloatAgent(), v),
        bad_ints(1),
        r"^num_steps must be an integer >= 1",
    ),
    # ------------------------------------------------ rl: environments and returns
    Case(
        "companion.rl.episodes.ShortCorridor.reset",
        "seed",
        lambda v: rl.ShortCorridor().reset(seed=v),
        bad_ints(0).filter(lambda v: v is not None),
        r"^seed must be an integer >= 0",
    ),
    Case(
        "companion.rl.episodes.ShortCorridor.step",
        "action",
        lambda v: rl.ShortCorridor().step(v),
        ACTIONS_OUTSIDE_CARTPOLE,
        r"^action must be an integer in \[0, 1\]",
    ),
    Case(
        "companion.rl.episodes.ShortCorridorVector",
        "num_envs",
        ShortCorridorVector,
        bad_ints(1, rl.episodes.MAX_NUM_ENVS),
        r"^num_envs must be an integer in \[1, 1000000\]",
    ),
    Case(
        "companion.rl.episodes.ShortCorridorVector.reset",
        "seed",
        lambda v: ShortCorridorVector(2).reset(seed=v),
        bad_ints(0).filter(lambda v: v is not None),
        r"^seed must be an integer >= 0",
    ),
    Case(
        "companion.rl.episodes.ShortCorridorVector.step",
        "action",
        lambda v: ShortCorridorVector(2).step(v),
        st.sampled_from(
            [
                np.array([True, False]),
                np.array([1.0, 0.0]),
                np.array([0, 2]),
                np.array([1]),
                np.array([[0, 1]]),
                np.array([-1, 0]),
                None,
                "01",
            ]
        ),
        r"^action must be 2 (values|integers), each 0 \(left\) or 1 \(right\)",
    ),
    Case(
        "companion.rl.episodes.make_env",
        "env_id",
        lambda v: rl.make_env(v, 0),
        st.one_of(
            st.integers(),
            st.none(),
            st.sampled_from(["CartPole", "", "NoSuchEnv-v0", "CartPole-v7", b"CartPole-v1"]),
        ),
        r"^env_id",
    ),
    Case(
        "companion.rl.episodes.make_env",
        "seed",
        lambda v: rl.make_env(CARTPOLE, v),
        bad_ints(0),
        r"^seed must be an integer >= 0",
    ),
    Case(
        "companion.rl.episodes.make_env",
        "max_episode_steps",
        lambda v: rl.make_env(CARTPOLE, 0, max_episode_steps=v),
        bad_ints(1).filter(lambda v: v is not None),
        r"^max_episode_steps must be an integer >= 1",
    ),
    Case(
        "companion.rl.episodes.make_env",
        "render_mode",
        lambda v: rl.make_env(CARTPOLE, 0, render_mode=v),
        st.one_of(st.sampled_from(["x", "RGB", "ansi", ""]), st.integers(), st.booleans()),
        r"^render_mode must be one of 'human', 'rgb_array'",
    ),
    Case(
        "companion.rl.episodes.make_env",
        "kwargs",
        lambda v: rl.make_env(CARTPOLE, 0, **v),
        st.sampled_from([{"foo": 1}, {"gravity": 9.8}, {"num_envs": 2}]),
        r"make_env\('CartPole-v1', \.\.\.\): .*unexpected keyword argument",
    ),
    Case(
        "companion.rl.episodes.make_vec_env",
        "env_id",
        lambda v: rl.make_vec_env(v, 2, 0),
        st.one_of(st.integers(), st.none(), st.sampled_from(["NoSuchEnv-v0", "CartPole-v7"])),
        r"^env_id",
    ),
    Case(
        "companion.rl.episodes.make_vec_env",
        "num_envs",
        lambda v: rl.make_vec_env(CARTPOLE, v, 0),
        bad_ints(1, rl.episodes.MAX_NUM_ENVS),
        r"^num_envs must be an integer in \[1, 1000000\]",
    ),
    Case(
        "companion.rl.episodes.make_vec_env",
        "seed",
        lambda v: rl.make_vec_env(CARTPOLE, 2, v),
        bad_ints(0),
        r"^seed must be an integer >= 0",
    ),
    Case(
        "companion.rl.episodes.reward_to_go",
        "rewards",
        rl.reward_to_go,
        st.one_of(
            arrays_with_non_finite((2, 5)),
            arrays_with_non_finite((5,)),
            arrays_with_non_finite((5,)).map(torch.as_tensor),
            arrays_not_real((5,)),
            st.just(torch.ones(3, dtype=torch.complex64)),
            st.just(torch.ones(3) > 0),
            arrays_of_shapes((), (3, 0)),
            st.just([1.0, 2.0]),
            st.none(),
            st.just(1.0),
        ),
        r"^rewards must",
    ),
    Case(
        "companion.rl.episodes.reward_to_go",
        "gamma",
        lambda v: rl.reward_to_go(np.ones(3), v),
        bad_floats(0.0, 1.0),
        r"^gamma must be a finite number in \[0, 1\]",
    ),
    Case(
        "companion.rl.episodes.discounted_returns",
        "rewards",
        lambda v: rl.discounted_returns(v, 0.9),
        st.one_of(arrays_with_non_finite((4,)), arrays_not_real((4,)), st.just([1.0])),
        r"^rewards must",
    ),
    Case(
        "companion.rl.episodes.discounted_returns",
        "gamma",
        lambda v: rl.discounted_returns(np.ones(3), v),
        bad_floats(0.0, 1.0),
        r"^gamma must be a finite number in \[0, 1\]",
    ),
    # ------------------------------------------------ rl: episodes
    Case(
        "companion.rl.episodes.rollout",
        "env",
        lambda v: rl.rollout(v, bad_policy(0), 10),
        st.one_of(
            NOT_A_STRING, st.just(CARTPOLE), st.builds(lambda: rl.make_vec_env(CARTPOLE, 2, 0))
        ),
        r"^env must be a Gymnasium environment",
    ),
    Case(
        "companion.rl.episodes.rollout",
        "policy_fn",
        lambda v: rl.rollout(rl.make_env(CARTPOLE, 0), v, 10),
        NOT_A_STRING,
        r"^policy_fn must be callable",
    ),
    Case(
        "companion.rl.episodes.rollout",
        "policy_fn's action",
        lambda v: rl.rollout(rl.make_env(CARTPOLE, 0), bad_policy(v), 10),
        ACTIONS_OUTSIDE_CARTPOLE,
        r"^policy_fn (returned the action .* not in the environment's action space Discrete\(2\)"
        r" \(an integer in \[0, 1\]\)|must return an action)",
    ),
    Case(
        "companion.rl.episodes.rollout",
        "max_steps",
        lambda v: rl.rollout(rl.make_env(CARTPOLE, 0), bad_policy(0), v),
        bad_ints(1),
        r"^max_steps must be an integer >= 1",
    ),
    Case(
        "companion.rl.episodes.rollout",
        "seed",
        lambda v: rl.rollout(rl.make_env(CARTPOLE, 0), bad_policy(0), 10, seed=v),
        bad_ints(0).filter(lambda v: v is not None),
        r"^seed must be an integer >= 0",
    ),
    Case(
        "companion.rl.episodes.rollout_batch",
        "envs",
        lambda v: rl.rollout_batch(v, bad_policy(np.zeros(2, np.int64)), 10),
        st.one_of(NOT_A_STRING, st.builds(lambda: rl.make_env(CARTPOLE, 0))),
        r"^envs must be a Gymnasium vector environment",
    ),
    Case(
        "companion.rl.episodes.rollout_batch",
        "policy_fn",
        lambda v: rl.rollout_batch(rl.make_vec_env(CARTPOLE, 2, 0), v, 10),
        NOT_A_STRING,
        r"^policy_fn must be callable",
    ),
    Case(
        "companion.rl.episodes.rollout_batch",
        "policy_fn's actions",
        lambda v: rl.rollout_batch(rl.make_vec_env(CARTPOLE, 2, 0), bad_policy(v), 10),
        st.sampled_from(
            [
                np.array([True, False]),
                np.array([0, 2]),
                np.array([-1, 0]),
                np.array([0.5, 1.0]),
                np.array([0]),
                np.array([0, 1, 1]),
                (np.array([0, 1]), torch.zeros(3)),
                (np.array([0, 1]), "log"),
                (np.array([0, 1]), torch.zeros(2), 0),
            ]
        ),
        r"^policy_fn (returned the action|must return)",
    ),
    Case(
        "companion.rl.episodes.rollout_batch",
        "max_steps",
        lambda v: rl.rollout_batch(rl.make_vec_env(CARTPOLE, 2, 0), bad_policy(0), v),
        bad_ints(1),
        r"^max_steps must be an integer >= 1",
    ),
    Case(
        "companion.rl.episodes.evaluate",
        "env_id",
        lambda v: rl.evaluate(v, bad_policy(0), 1, 0),
        st.one_of(st.integers(), st.none(), st.just("NoSuchEnv-v0")),
        r"^env_id",
    ),
    Case(
        "companion.rl.episodes.evaluate",
        "policy_fn",
        lambda v: rl.evaluate(CARTPOLE, v, 1, 0),
        NOT_A_STRING,
        r"^policy_fn must be callable",
    ),
    Case(
        "companion.rl.episodes.evaluate",
        "policy_fn's action",
        lambda v: rl.evaluate(CARTPOLE, bad_policy(v), 1, 0),
        ACTIONS_OUTSIDE_CARTPOLE,
        r"^policy_fn (returned the action .* Discrete\(2\)|must return an action)",
    ),
    Case(
        "companion.rl.episodes.evaluate",
        "num_episodes",
        lambda v: rl.evaluate(CARTPOLE, bad_policy(0), v, 0),
        bad_ints(1),
        r"^num_episodes must be an integer >= 1",
    ),
    Case(
        "companion.rl.episodes.evaluate",
        "seed",
        lambda v: rl.evaluate(CARTPOLE, bad_policy(0), 1, v),
        bad_ints(0),
        r"^seed must be an integer >= 0",
    ),
    Case(
        "companion.rl.episodes.evaluate",
        "max_steps",
        lambda v: rl.evaluate(CARTPOLE, bad_policy(0), 1, 0, max_steps=v),
        bad_ints(1).filter(lambda v: v is not None),
        r"^max_steps must be an integer >= 1",
    ),
    # ------------------------------------------------ rl: DQN
    Case(
        "companion.rl.dqn.ReplayBuffer",
        "capacity",
        lambda v: rl.ReplayBuffer(v, (4,), "cpu"),
        bad_ints(1),
        r"^capacity must be an integer >= 1",
    ),
    Case(
        "companion.rl.dqn.ReplayBuffer",
        "capacity (huge)",
        lambda v: rl.ReplayBuffer(v, (4,), "cpu"),
        st.integers(10**14, 10**30),
        r"^capacity=\d+ transitions of shape \(4,\) need about .* GB",
    ),
    Case(
        "companion.rl.dqn.ReplayBuffer",
        "obs_shape",
        lambda v: rl.ReplayBuffer(8, v, "cpu"),
        st.one_of(
            st.sampled_from(
                [
                    (4.7,),
                    "4",
                    "(4,)",
                    4,
                    (True,),
                    (0,),
                    (-1,),
                    (4, 0),
                    None,
                    [4, "a"],
                    (np.float64(4.0),),
                    {4: 1},
                ]
            ),
            st.integers(),
        ),
        r"^obs_shape must be a tuple of integers >= 1",
    ),
    Case(
        "companion.rl.dqn.ReplayBuffer",
        "device",
        lambda v: rl.ReplayBuffer(8, (4,), v),
        st.one_of(BAD_DEVICE_NAMES, UNAVAILABLE_DEVICES),
        r"device",
        DEVICE_ERRORS,
    ),
    Case(
        "companion.rl.dqn.ReplayBuffer.add",
        "observation",
        lambda v: replay_buffer().add(v, 0, 1.0, np.zeros(4), False),
        st.one_of(
            arrays_with_non_finite((4,)),
            arrays_not_real((4,)),
            arrays_of_shapes((2, 2), (5,), (1, 4), (), (0,)),
            st.none(),
            st.just("obs"),
            st.just([1.0, 2.0, 3.0]),
        ),
        r"^observation must",
    ),
    Case(
        "companion.rl.dqn.ReplayBuffer.add",
        "next_observation",
        lambda v: replay_buffer().add(np.zeros(4), 0, 1.0, v, False),
        st.one_of(arrays_with_non_finite((4,)), arrays_of_shapes((2, 2), (3,))),
        r"^next_observation must",
    ),
    Case(
        "companion.rl.dqn.ReplayBuffer.add",
        "action",
        lambda v: replay_buffer().add(np.zeros(4), v, 1.0, np.zeros(4), False),
        st.one_of(bad_ints(0), st.just(1.7), st.just(np.float32(1.0))),
        r"^action must be an integer >= 0",
    ),
    Case(
        "companion.rl.dqn.ReplayBuffer.add",
        "reward",
        lambda v: replay_buffer().add(np.zeros(4), 0, v, np.zeros(4), False),
        bad_floats(),
        r"^reward must be a finite number",
    ),
    Case(
        "companion.rl.dqn.ReplayBuffer.add",
        "terminated",
        lambda v: replay_buffer().add(np.zeros(4), 0, 1.0, np.zeros(4), v),
        NOT_A_BOOL,
        r"^terminated must be True or False",
    ),
    Case(
        "companion.rl.dqn.ReplayBuffer.sample",
        "batch_size",
        lambda v: replay_buffer(4).sample(v, torch.Generator()),
        st.one_of(bad_ints(1), st.integers(min_value=5)),
        r"(^batch_size must be an integer >= 1|cannot sample batch_size=\d+ .* only 4)",
    ),
    Case(
        "companion.rl.dqn.ReplayBuffer.sample",
        "generator",
        lambda v: replay_buffer(4).sample(2, v),
        st.one_of(NOT_A_STRING, st.just(np.random.default_rng(0)), st.just(0)),
        r"^generator must be a torch.Generator",
    ),
    Case(
        "companion.rl.dqn.linear_schedule",
        "start",
        lambda v: rl.linear_schedule(v, 0.0, 5),
        bad_floats(),
        r"^start must be a finite number",
    ),
    Case(
        "companion.rl.dqn.linear_schedule",
        "end",
        lambda v: rl.linear_schedule(1.0, v, 5),
        bad_floats(),
        r"^end must be a finite number",
    ),
    Case(
        "companion.rl.dqn.linear_schedule",
        "duration",
        lambda v: rl.linear_schedule(1.0, 0.0, v),
        bad_ints(0),
        r"^duration must be an integer >= 0",
    ),
    Case(
        "companion.rl.dqn.linear_schedule",
        "step",
        lambda v: rl.linear_schedule(1.0, 0.0, 5)(v),
        bad_ints(),
        r"^step must be an integer",
    ),
    Case(
        "companion.rl.dqn.greedy_policy",
        "q_net",
        rl.greedy_policy,
        st.one_of(
            NOT_A_STRING,
            st.sampled_from([torch.nn.ReLU(), torch.nn.Sequential(), lambda x: x, torch.zeros(2)]),
        ),
        r"^q_net (must be a torch.nn.Module|has no parameters)",
    ),
    Case(
        "companion.rl.dqn.greedy_policy",
        "env",
        lambda v: rl.greedy_policy(q_network(), v),
        st.one_of(
            st.integers(),
            st.just(CARTPOLE),
            st.builds(lambda: rl.make_env("Pendulum-v1", 0)),
            st.builds(lambda: rl.make_vec_env(CARTPOLE, 2, 0)),
        ),
        r"(^env must be a Gymnasium environment|discrete action space of actions 0 \.\. n-1)",
    ),
    Case(
        "companion.rl.dqn.greedy_policy",
        "q_net against env",
        lambda v: rl.greedy_policy(v, rl.make_env(CARTPOLE, 0)),
        st.sampled_from(
            [
                q_network(outputs=3),
                q_network(outputs=1),
                q_network(inputs=5),
                q_network(inputs=2, outputs=3),
            ]
        ),
        r"^q_net (gives \d values per observation, but env has 2 actions|expects \d inputs)",
    ),
    Case(
        "companion.rl.dqn.greedy_policy",
        "observation",
        lambda v: rl.greedy_policy(q_network())(v),
        st.one_of(
            ARRAYS_WITH_NAN,
            arrays_of_shapes((5,), (2, 2), (4, 1), ()),
            st.just("obs"),
            st.just([1, "a", 2, 3]),
        ),
        r"(^q_net's output \(the Q-values\) is not finite|^q_net expects 4 inputs, but the "
        r"observation has shape|^observation must be an array of numbers)",
    ),
    Case(
        "companion.rl.dqn.greedy_policy",
        "observation (torch path)",
        lambda v: rl.greedy_policy(Wrapped(q_network()))(v),
        st.one_of(ARRAYS_WITH_NAN, arrays_of_shapes((5, 4), (1, 2, 4), (5,)), st.just("obs")),
        r"^(q_net('s output \(the Q-values\) is not finite| must give one value per action| "
        r"could not take observations of shape)|observation must be an array of numbers)",
    ),
    Case(
        "companion.rl.dqn.greedy_policy",
        "observation (float64 network)",
        lambda v: rl.greedy_policy(q_network(dtype=torch.float64))(v),
        st.one_of(ARRAYS_WITH_NAN, arrays_of_shapes((5,), (2, 2))),
        r"^q_net('s output \(the Q-values\) is not finite| expects 4 inputs, but the observation)",
    ),
    Case(
        "companion.rl.dqn.greedy_policy",
        "a NaN network",
        lambda v: rl.greedy_policy(v)(np.zeros(4, np.float32)),
        st.sampled_from([nan_network(), nan_network(torch.float64), Wrapped(nan_network())]),
        r"^q_net's output \(the Q-values\) is not finite",
    ),
    Case(
        "companion.rl.dqn.start_state_value",
        "q_net",
        lambda v: rl.start_state_value(v, CARTPOLE, 2, 0),
        st.one_of(
            NOT_A_STRING,
            st.sampled_from(
                [
                    torch.nn.ReLU(),
                    q_network(outputs=3),
                    q_network(inputs=5),
                    nan_network(),
                    Wrapped(q_network(outputs=3)),
                    Wrapped(nan_network()),
                    q_network(outputs=1),
                ]
            ),
        ),
        r"^q_net",
    ),
    Case(
        "companion.rl.dqn.start_state_value",
        "env_id",
        lambda v: rl.start_state_value(q_network(), v, 2, 0),
        st.one_of(
            st.integers(), st.none(), st.sampled_from(["NoSuchEnv-v0", "Pendulum-v1", "Acrobot-v1"])
        ),
        r"(^env_id|discrete action space|^q_net expects 4 inputs|^q_net gives 2 values)",
    ),
    Case(
        "companion.rl.dqn.start_state_value",
        "num_episodes",
        lambda v: rl.start_state_value(q_network(), CARTPOLE, v, 0),
        bad_ints(1),
        r"^num_episodes must be an integer >= 1",
    ),
    Case(
        "companion.rl.dqn.start_state_value",
        "seed",
        lambda v: rl.start_state_value(q_network(), CARTPOLE, 2, v),
        bad_ints(0),
        r"^seed must be an integer >= 0",
    ),
]


def feed(case: Case, value: Any) -> BaseException:
    """One bad value to one case (a seam for counting what the suite feeds)."""
    return raises_clearly(case.errors, case.pattern, case.call, value)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,
)
@given(data=st.data())
def test_bad_input_is_refused_clearly(case: Case, data: st.DataObject) -> None:
    # The second is measured by raises_clearly, around the call only: Hypothesis's own deadline
    # would also count building the objects a case needs (an environment, a network).
    feed(case, data.draw(case.values, label=case.argument))


def test_every_covered_callable_is_fed_or_needs_no_data() -> None:
    fed = {case.callable_name for case in CASES}
    assert fed.isdisjoint(WITHOUT_USER_DATA)
    assert fed | set(WITHOUT_USER_DATA) == CALLABLES_COVERED


# ---------------------------------------------------------------- the behaviour that replaced it


def test_device_for_keeps_mps_off_64_bit_dtypes() -> None:
    """Issue 18: ``device_for('float64')`` compared a string with torch.float64 and sent float64
    to MPS; now a torch dtype is required, and float64 and complex128 stay on the CPU."""
    mps = Runtime(
        seed=0,
        device=torch.device("mps"),
        torch_version="x",
        tensorflow_version=None,
        num_threads=1,
    )
    assert mps.device_for(torch.float64) == torch.device("cpu")
    assert mps.device_for(torch.complex128) == torch.device("cpu")
    assert mps.device_for(torch.float32) == torch.device("mps")
    for name in ("float64", np.float64):
        raises_clearly(
            TypeError, r"^dtype must be a torch.dtype such as torch.float64", mps.device_for, name
        )


def test_greedy_policy_with_env_accepts_the_books_network_and_acts_as_before() -> None:
    env = rl.make_env(CARTPOLE, 0)
    q_net = q_network()
    observation, _ = env.reset()
    with torch.no_grad():
        expected = int(q_net(torch.as_tensor(observation)).argmax())
    assert rl.greedy_policy(q_net, env)(observation) == expected
    assert rl.greedy_policy(Wrapped(q_net), env)(observation) == expected


def test_greedy_torch_path_breaks_ties_as_torch_argmax() -> None:
    q_net = Wrapped(torch.nn.Sequential(torch.nn.Linear(4, 3, bias=False)))
    with torch.no_grad():
        q_net.inner[0].weight.zero_()
    assert rl.greedy_policy(q_net)(np.ones(4, np.float32)) == 0


def test_argmax_random_ties_keeps_inf_for_untried_arms() -> None:
    """UCB gives untried arms +inf: a value, not an error."""
    values = np.array([[0.0, np.inf, np.inf], [1.0, 2.0, -np.inf]])
    picks = {tuple(bandits.argmax_random_ties(values, np.random.default_rng(s))) for s in range(20)}
    assert {pick[1] for pick in picks} == {1}
    assert {pick[0] for pick in picks} == {1, 2}


def test_final_reward_takes_all_steps_at_most() -> None:
    r = result(10)
    assert r.final_reward(10) == pytest.approx(r.average_reward.mean())
    assert r.final_optimal_frac(1) == r.optimal_frac[-1]


def test_a_truncating_and_a_terminal_transition_are_stored_as_such() -> None:
    buffer = replay_buffer()
    buffer.add(np.zeros(4), 1, 1.0, np.ones(4), np.bool_(True))
    buffer.add(np.zeros(4, np.float64), np.int64(0), np.float32(0.5), [0, 0, 0, 1], False)
    assert buffer.terminated[:2].tolist() == [1.0, 0.0]
    assert buffer.actions[:2].tolist() == [1, 0] and buffer.rewards[1] == 0.5


def test_resolve_device_takes_a_torch_device() -> None:
    assert runtime.resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert rl.ReplayBuffer(2, (4,), torch.device("cpu")).device == torch.device("cpu")


def test_rollout_refuses_an_action_from_a_q_network_with_too_many_outputs() -> None:
    """Issue 18: a Q-network with a third output played CartPole until it chose action 2, then
    Gymnasium's AssertionError said only ``2 (<class 'int'>) invalid``."""
    q_net = q_network(outputs=3)
    with torch.no_grad():
        q_net[2].bias.copy_(torch.tensor([0.0, 0.0, 100.0]))
    raises_clearly(
        ValueError,
        r"action 2, which is not in .* Discrete\(2\)",
        rl.evaluate,
        CARTPOLE,
        rl.greedy_policy(q_net),
        1,
        0,
    )


def test_reward_to_go_of_an_inf_reward_is_refused_not_nan() -> None:
    for rewards in (np.array([1.0, np.inf]), torch.tensor([1.0, -np.inf, 0.0])):
        raises_clearly(ValueError, r"^rewards must be finite", rl.reward_to_go, rewards, 0.9)


def test_rollout_still_takes_numpy_and_torch_integer_actions() -> None:
    env = rl.make_env(CARTPOLE, 0)
    for action in (np.int64(1), torch.tensor(1), np.array(1)):
        episode = rl.rollout(env, bad_policy(action), 5)
        assert len(episode) == 5 and episode.actions.tolist() == [1] * 5
