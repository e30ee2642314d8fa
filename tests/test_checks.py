"""Unit tests of `companion.checks`: one convention for every argument check of the book.

A wrong type is a TypeError, a value out of range a ValueError, and both messages name the
argument and what is allowed.
"""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil
import re
from typing import Any

import numpy as np
import pytest
import torch

import companion
from companion import checks
from companion.checks import (
    check_array,
    check_bool,
    check_callable,
    check_choice,
    check_finite_tensor,
    check_float,
    check_instance,
    check_int,
    check_positive,
    check_probability,
    check_shape,
)

# ---------------------------------------------------------------- check_int


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 0), (7, 7), (np.int64(5), 5), (np.uint8(3), 3), (2**40, 2**40)]
)
def test_check_int_returns_a_plain_int(value: Any, expected: int) -> None:
    result = check_int("n", value)
    assert result == expected and type(result) is int


@pytest.mark.parametrize(
    "value", [True, False, np.bool_(True), 1.0, 1.5, np.float64(2.0), "3", None, torch.tensor(3)]
)
def test_check_int_refuses_non_integers_with_a_type_error(value: Any) -> None:
    with pytest.raises(TypeError, match=r"^n must be an integer, got "):
        check_int("n", value)


def test_check_int_bounds_are_inclusive() -> None:
    assert check_int("k", 1, 1, 3) == 1
    assert check_int("k", 3, 1, 3) == 3
    for value in (0, 4):
        with pytest.raises(ValueError, match=rf"^k must be an integer in \[1, 3\], got {value}$"):
            check_int("k", value, 1, 3)


def test_check_int_with_one_bound_says_which() -> None:
    with pytest.raises(ValueError, match=r"^num_steps must be an integer >= 1, got 0$"):
        check_int("num_steps", 0, 1)
    with pytest.raises(ValueError, match=r"^depth must be an integer <= 8, got 9$"):
        check_int("depth", 9, high=8)
    assert check_int("offset", -(10**9)) == -(10**9)


def test_a_float_seed_is_a_type_error_naming_the_range() -> None:
    message = "seed must be an integer in [0, 4294967295], got float 1.5"
    with pytest.raises(TypeError, match=re.escape(message)):
        check_int("seed", 1.5, 0, 2**32 - 1)


# ---------------------------------------------------------------- check_float


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.5, 0.5), (2, 2.0), (np.float32(0.25), 0.25), (np.int64(3), 3.0), (-1e300, -1e300)],
)
def test_check_float_returns_a_plain_float(value: Any, expected: float) -> None:
    result = check_float("x", value)
    assert result == expected and type(result) is float


@pytest.mark.parametrize("value", [True, np.bool_(False), "0.5", None, [0.5], 1 + 2j])
def test_check_float_refuses_non_numbers_with_a_type_error(value: Any) -> None:
    with pytest.raises(TypeError, match=r"^x must be a finite number, got "):
        check_float("x", value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, np.float64("nan"), 10**400])
def test_check_float_refuses_nan_and_inf_with_a_value_error(value: float) -> None:
    with pytest.raises(ValueError, match=r"^x must be a finite number, got "):
        check_float("x", value)


def test_check_float_closed_bounds_include_their_ends() -> None:
    assert check_float("p", 0.0, 0.0, 1.0) == 0.0
    assert check_float("p", 1.0, 0.0, 1.0) == 1.0
    with pytest.raises(ValueError, match=r"^p must be a finite number in \[0, 1\], got 1.0001$"):
        check_float("p", 1.0001, 0.0, 1.0)
    with pytest.raises(ValueError, match=r"in \[0, 1\], got -1e-09$"):
        check_float("p", -1e-9, 0.0, 1.0)


def test_check_float_open_bounds_exclude_their_ends() -> None:
    assert check_float("f", 0.5, 0.0, 1.0, low_open=True, high_open=True) == 0.5
    with pytest.raises(ValueError, match=r"^f must be a finite number in \(0, 1\), got 0.0$"):
        check_float("f", 0.0, 0.0, 1.0, low_open=True, high_open=True)
    with pytest.raises(ValueError, match=r"in \(0, 1\), got 1.0$"):
        check_float("f", 1.0, 0.0, 1.0, low_open=True, high_open=True)
    # Half-open: the closed end is still allowed.
    assert check_float("f", 0.0, 0.0, 1.0, high_open=True) == 0.0
    with pytest.raises(ValueError, match=r"in \[0, 1\), got 1.0$"):
        check_float("f", 1.0, 0.0, 1.0, high_open=True)


def test_check_float_with_one_bound_says_which() -> None:
    with pytest.raises(ValueError, match=r"^lr must be a finite number > 0, got 0.0$"):
        check_float("lr", 0.0, 0.0, low_open=True)
    with pytest.raises(ValueError, match=r"^t must be a finite number <= 2, got 3.0$"):
        check_float("t", 3, high=2.0)
    with pytest.raises(ValueError, match=r"^t must be a finite number < 2, got 2.0$"):
        check_float("t", 2.0, high=2.0, high_open=True)


def test_check_float_names_the_range_in_its_type_error() -> None:
    with pytest.raises(TypeError, match=r"^gamma must be a finite number in \[0, 1\], got str"):
        check_float("gamma", "0.9", 0.0, 1.0)


# ---------------------------------------------------------------- check_positive


@pytest.mark.parametrize("value", [1e-12, 1, 3.5, np.float32(0.1)])
def test_check_positive_accepts_finite_positive_numbers(value: Any) -> None:
    assert check_positive("alpha", value) == pytest.approx(float(value))
    assert type(check_positive("alpha", value)) is float


@pytest.mark.parametrize("value", [0, 0.0, -0.0, -1, math.inf, math.nan])
def test_check_positive_refuses_zero_negatives_and_non_finite(value: float) -> None:
    with pytest.raises(ValueError, match=r"^alpha must be a finite number > 0, got "):
        check_positive("alpha", value)


@pytest.mark.parametrize("value", [True, "1", None])
def test_check_positive_refuses_non_numbers(value: Any) -> None:
    with pytest.raises(TypeError, match=r"^alpha must be a finite number > 0"):
        check_positive("alpha", value)


# ---------------------------------------------------------------- check_probability


@pytest.mark.parametrize("value", [0, 0.0, 0.5, 1, 1.0, np.float64(0.99)])
def test_check_probability_accepts_the_closed_unit_interval(value: Any) -> None:
    assert check_probability("epsilon", value) == float(value)


@pytest.mark.parametrize("value", [-0.01, 1.01, math.nan, math.inf])
def test_check_probability_refuses_values_outside_it(value: float) -> None:
    with pytest.raises(ValueError, match=r"^epsilon must be a finite number in \[0, 1\], got "):
        check_probability("epsilon", value)


def test_check_probability_refuses_a_bool() -> None:
    with pytest.raises(TypeError, match=r"^epsilon must be a finite number in \[0, 1\]"):
        check_probability("epsilon", True)


# ---------------------------------------------------------------- check_choice


def test_check_choice_returns_an_allowed_value() -> None:
    assert check_choice("scaling", "unit", ("unit", "standard")) == "unit"
    assert check_choice("scaling", "standard", ["unit", "standard"]) == "standard"


def test_check_choice_refuses_another_string_listing_the_options() -> None:
    with pytest.raises(
        ValueError, match=r"^scaling must be one of 'unit', 'standard', got 'Unit'$"
    ):
        check_choice("scaling", "Unit", ("unit", "standard"))


@pytest.mark.parametrize("value", [None, 1, b"unit", ("unit",)])
def test_check_choice_refuses_a_non_string_with_a_type_error(value: Any) -> None:
    with pytest.raises(TypeError, match=r"^scaling must be one of 'unit', 'standard', got "):
        check_choice("scaling", value, ("unit", "standard"))


# ---------------------------------------------------------------- check_bool


@pytest.mark.parametrize("value", [True, False, np.bool_(False)])
def test_check_bool_returns_a_plain_bool(value: Any) -> None:
    result = check_bool("log_y", value)
    assert result == bool(value) and type(result) is bool


@pytest.mark.parametrize("value", ["no", "False", 0, 1, 1.0, None, np.int64(1)])
def test_check_bool_refuses_truthy_stand_ins(value: Any) -> None:
    """Issue 18: log_y='no' was accepted and meant yes."""
    with pytest.raises(TypeError, match=r"^log_y must be True or False, got "):
        check_bool("log_y", value)


# ---------------------------------------------------------------- check_array


def test_check_array_returns_float64_and_accepts_tensors() -> None:
    result = check_array("x", torch.tensor([1, 2]), ndim=1, shape=(2,))
    assert result.dtype == np.float64 and result.tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    ("value", "kwargs", "error", "message"),
    [
        ([], {}, ValueError, r"^x must have at least 1 element\(s\), got shape \(0,\)$"),
        ([1.0, np.nan], {}, ValueError, r"^x must be finite, got 1 NaN or infinite value\(s\)$"),
        ([np.inf], {}, ValueError, r"^x must be finite"),
        ([1j], {}, TypeError, r"^x must be an array of real numbers, got dtype complex128$"),
        ([True], {}, TypeError, r"booleans are not numbers here"),
        (["a"], {}, TypeError, r"^x must be an array of real numbers"),
        ([[1, 2]], {"ndim": 1}, ValueError, r"^x must have 1 dimension\(s\), got shape \(1, 2\)$"),
        (np.zeros((2, 3)), {"shape": (None, 4)}, ValueError, r"^x must have shape \(any, 4\)"),
        ([[1], [1, 2]], {}, ValueError, r"^x must be an array of real numbers: "),
    ],
)
def test_check_array_names_the_argument_and_the_problem(
    value: Any, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        check_array("x", value, **kwargs)


def test_check_array_lets_non_finite_values_through_when_asked() -> None:
    assert np.isinf(check_array("x", [np.inf], finite=False)).all()


def test_check_finite_tensor() -> None:
    tensor = torch.ones(3)
    assert check_finite_tensor("q_values", tensor) is tensor
    with pytest.raises(ValueError, match=r"^q_values must be finite, got 1 NaN"):
        check_finite_tensor("q_values", torch.tensor([0.0, float("nan")]))
    with pytest.raises(TypeError, match=r"^q_values must be a torch.Tensor, got list$"):
        check_finite_tensor("q_values", [0.0])


# ---------------------------------------------------------------- one home


def _companion_modules() -> list[Any]:
    return [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(companion.__path__, prefix="companion.")
    ]


def test_the_module_walk_finds_the_library() -> None:
    names = {module.__name__ for module in _companion_modules()}
    assert {"companion.checks", "companion.bandits", "companion.rl.dqn"} <= names


def test_no_module_defines_its_own_check_function() -> None:
    """Every public `check_*` function in `companion`, and every private one named like a check
    of `companion.checks` (say `_check_positive_int`), is the one of `companion.checks`. Private
    checks of other things (`_check_rewards`: an array of rewards) are not copies."""
    copies = [
        f"{module.__name__}.{name}"
        for module in _companion_modules()
        for name, value in vars(module).items()
        if (name.startswith("check_") or name.lstrip("_").startswith(tuple(checks.__all__)))
        and inspect.isfunction(value)
        and value.__module__ != "companion.checks"
    ]
    assert copies == []
    assert checks.check_int.__module__ == "companion.checks"


# ---------------------------------------------------------------- one convention


def _seeded_entry_points() -> dict[str, Any]:
    """Every public function of `companion` that takes a seed, called with `seed`."""
    from companion import rl
    from companion.bandits import Testbed
    from companion.data import load_digits_split, load_house_prices, sample_grid, sample_ring

    return {
        "setup": lambda seed: companion.setup(seed=seed),
        "load_digits_split": lambda seed: load_digits_split(seed=seed),
        "load_house_prices": lambda seed: load_house_prices(seed=seed),
        "sample_ring": lambda seed: sample_ring(10, seed=seed),
        "sample_grid": lambda seed: sample_grid(10, seed=seed),
        "Testbed": lambda seed: Testbed(num_runs=2, seed=seed),
        "make_env": lambda seed: rl.make_env("CartPole-v1", seed),
        "make_vec_env": lambda seed: rl.make_vec_env("CartPole-v1", 2, seed),
        "evaluate": lambda seed: rl.evaluate("CartPole-v1", lambda o: 0, 1, seed),
        "start_state_value": lambda seed: rl.start_state_value(
            torch.nn.Linear(4, 2), "CartPole-v1", 1, seed
        ),
    }


@pytest.mark.parametrize("entry", sorted(_seeded_entry_points()))
@pytest.mark.parametrize(
    ("seed", "error"), [(1.5, TypeError), (True, TypeError), ("0", TypeError), (-1, ValueError)]
)
def test_a_bad_seed_raises_the_same_error_everywhere(
    entry: str, seed: object, error: type[Exception]
) -> None:
    """Issue 15: seed=1.5 was a ValueError in make_env but a TypeError in setup."""
    with pytest.raises(error, match=r"^seed must be an integer"):
        _seeded_entry_points()[entry](seed)


# ---------------------------------------------------------------- check_instance, check_callable


def test_check_instance_returns_the_value_or_names_what_is_allowed() -> None:
    assert check_instance("title", "t", str, "a string") == "t"
    with pytest.raises(TypeError, match=r"^title must be a string, got int 5$"):
        check_instance("title", 5, str, "a string")


def test_check_instance_keeps_a_long_repr_short() -> None:
    with pytest.raises(
        TypeError, match=r"^env must be an env, got list \[0, 0, 0, 0, 0, 0, \.\.\.\]$"
    ):
        check_instance("env", [0] * 10_000, str, "an env")


@pytest.mark.parametrize("value", [None, 3, "print"])
def test_check_callable_refuses_what_cannot_be_called(value: Any) -> None:
    assert check_callable("fn", print) is print
    with pytest.raises(TypeError, match=r"^fn must be callable, got "):
        check_callable("fn", value)


# ---------------------------------------------------------------- check_shape


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ((4,), (4,)),
        ([8, 8], (8, 8)),
        (torch.Size([2, 3]), (2, 3)),
        ((np.int64(4),), (4,)),
        ((), ()),
    ],
)
def test_check_shape_returns_a_tuple_of_ints(value: Any, expected: tuple[int, ...]) -> None:
    result = check_shape("obs_shape", value)
    assert result == expected and all(type(n) is int for n in result)


@pytest.mark.parametrize("value", [(4.7,), "4", 4, (True,), None, [4, "a"], {4: 1}])
def test_check_shape_refuses_what_is_not_a_shape_with_a_type_error(value: Any) -> None:
    """Issue 18: ReplayBuffer(obs_shape=(4.7,)) and obs_shape='4' were accepted as (4,)."""
    with pytest.raises(TypeError, match=r"^obs_shape must be a tuple of integers >= 1"):
        check_shape("obs_shape", value)


@pytest.mark.parametrize("value", [(0,), (-1,), (4, 0)])
def test_check_shape_refuses_a_length_below_one(value: Any) -> None:
    with pytest.raises(ValueError, match=r"^obs_shape must be a tuple of integers >= 1, got "):
        check_shape("obs_shape", value)


# ---------------------------------------------------------------- fast paths


def test_the_fast_paths_check_like_the_slow_ones() -> None:
    """Plain ints and floats skip the abstract-class test; their ranges are still checked."""
    assert check_int("n", 3, 1, 5) == 3 and check_float("x", 0.5, 0.0, 1.0) == 0.5
    with pytest.raises(ValueError, match=r"^n must be an integer in \[1, 5\], got 6$"):
        check_int("n", 6, 1, 5)
    with pytest.raises(ValueError, match=r"^x must be a finite number in \[0, 1\], got nan$"):
        check_float("x", math.nan, 0.0, 1.0)
