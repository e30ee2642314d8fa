"""Argument checks: the one place the book's functions validate what they are given.

One convention everywhere: a value of the wrong type raises `TypeError`, a value of the
right type outside its range raises `ValueError`, and both messages name the argument
and what is allowed (``seed must be an integer in [0, 4294967295], got 1.5``). Each
number check returns the value as a plain Python number, so NumPy scalars pass through as
`int` or `float`. Booleans are refused where a number is expected: ``True`` as a
count or a step size is a mistake, not a 1. `check_int` and `check_float` take a fast path
for plain ints and floats: a replay buffer checks every transition it stores.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Collection
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch

__all__ = [
    "check_array",
    "check_bool",
    "check_callable",
    "check_choice",
    "check_finite_tensor",
    "check_float",
    "check_instance",
    "check_int",
    "check_positive",
    "check_probability",
    "check_shape",
]


def _int_range(low: int | None, high: int | None) -> str:
    """The allowed range of an integer in words: " in [low, high]", " >= low", " <= high" or ""."""
    if low is not None and high is not None:
        return f" in [{low}, {high}]"
    if low is not None:
        return f" >= {low}"
    if high is not None:
        return f" <= {high}"
    return ""


def _float_range(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    """The allowed range of a real number in words, with open or closed ends."""
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high:g}"
    return ""


def check_int(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """`value` as an int if it is an integer in [low, high] (a count, a seed); None: no bound.

    Python and NumPy integers are accepted; bools, floats (even 3.0) and strings raise
    TypeError; an integer outside the range raises ValueError.
    """
    # A plain int skips the abstract-class test: checks run in hot loops (a replay buffer's add).
    if type(value) is not int:
        if isinstance(value, bool) or not isinstance(value, Integral):
            allowed = f"an integer{_int_range(low, high)}"
            raise TypeError(f"{name} must be {allowed}, got {type(value).__name__} {value!r}")
        value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be an integer{_int_range(low, high)}, got {value}")
    return value


def check_float(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """`value` as a float if it is a finite real number in the range; None: no bound.

    The ends are included unless `low_open` / `high_open`. Python and NumPy ints and
    floats are accepted; bools and non-numbers raise TypeError; NaN, ±inf and values
    outside the range raise ValueError.
    """
    # A plain float skips the abstract-class test: checks run in hot loops (a replay buffer's add).
    if type(value) is not float:
        if isinstance(value, bool) or not isinstance(value, Real):
            allowed = f"a finite number{_float_range(low, high, low_open, high_open)}"
            raise TypeError(f"{name} must be {allowed}, got {type(value).__name__} {value!r}")
        try:
            value = float(value)
        except OverflowError:
            # An integer beyond float's range (say 10**400) is not a finite float.
            allowed = f"a finite number{_float_range(low, high, low_open, high_open)}"
            raise ValueError(f"{name} must be {allowed}, got {value!r}") from None
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    if not math.isfinite(value) or below or above:
        allowed = f"a finite number{_float_range(low, high, low_open, high_open)}"
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return value


def check_positive(name: str, value: Any) -> float:
    """`value` as a float if it is finite and > 0 (a step size, a standard deviation, a radius)."""
    return check_float(name, value, 0.0, low_open=True)


def check_probability(name: str, value: Any) -> float:
    """`value` as a float if it lies in [0, 1] (an ε, a discount γ, a test fraction's share)."""
    return check_float(name, value, 0.0, 1.0)


def check_choice(name: str, value: Any, allowed: Collection[str]) -> str:
    """`value` if it is one of the strings in `allowed`.

    A non-string raises TypeError, a string not in `allowed` ValueError.
    """
    options = ", ".join(repr(option) for option in allowed)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {options}, got {type(value).__name__} {value!r}")
    if value not in allowed:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """`value` if it is a bool (Python's or NumPy's); anything else, even 0, 1 or "no", raises
    TypeError: a string such as ``'no'`` is truthy and would silently mean yes."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def check_array(
    name: str,
    value: Any,
    *,
    ndim: int | tuple[int, ...] | None = None,
    shape: tuple[int | None, ...] | None = None,
    min_size: int = 1,
    finite: bool = True,
) -> np.ndarray:
    """`value` as a float64 NumPy array of real numbers, checked.

    `ndim` is the allowed number of dimensions (one or several), `shape` the exact shape
    (None in a place: any length there), `min_size` the fewest elements. Non-numeric,
    boolean and complex data raise TypeError; a wrong number of dimensions or shape, too few
    elements, or (when `finite`) NaN or ±inf raise ValueError. Torch tensors are accepted
    (they are copied to the CPU).
    """
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        # Ragged nested lists, for example.
        raise ValueError(f"{name} must be an array of real numbers: {error}") from None
    if array.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must be an array of real numbers, got dtype {array.dtype}"
            + (" (booleans are not numbers here)" if array.dtype.kind == "b" else "")
        )
    if ndim is not None:
        allowed_ndim = (ndim,) if isinstance(ndim, int) else ndim
        if array.ndim not in allowed_ndim:
            words = " or ".join(str(n) for n in allowed_ndim)
            raise ValueError(
                f"{name} must have {words} dimension(s), got shape {tuple(array.shape)}"
            )
    if shape is not None and (
        array.ndim != len(shape)
        or any(
            want is not None and got != want for got, want in zip(array.shape, shape, strict=False)
        )
    ):
        wanted = "(" + ", ".join("any" if n is None else str(n) for n in shape) + ")"
        raise ValueError(f"{name} must have shape {wanted}, got {tuple(array.shape)}")
    if array.size < min_size:
        raise ValueError(
            f"{name} must have at least {min_size} element(s), got shape {tuple(array.shape)}"
        )
    array = array.astype(np.float64, copy=False)
    if finite and not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).sum())
        raise ValueError(f"{name} must be finite, got {bad} NaN or infinite value(s)")
    return array


def check_finite_tensor(name: str, value: torch.Tensor) -> torch.Tensor:
    """`value` if it is a tensor with no NaN or ±inf; a non-tensor raises TypeError, a tensor
    with NaN or inf ValueError (a model's NaN output named as such, not a silent wrong answer)."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.is_floating_point() and not bool(torch.isfinite(value).all()):
        bad = int((~torch.isfinite(value)).sum())
        raise ValueError(f"{name} must be finite, got {bad} NaN or infinite value(s)")
    return value


def _brief(value: Any) -> str:
    """The type and a short repr of `value`, for a message (a model's repr can run to pages)."""
    return f"{type(value).__name__} {reprlib.repr(value)}"


def check_instance(name: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    """`value` if it is an instance of `kind`, else a TypeError saying it must be `what`
    (``env must be a Gymnasium environment, got str 'CartPole-v1'``)."""
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be {what}, got {_brief(value)}")
    return value


def check_callable(name: str, value: Any) -> Any:
    """`value` if it can be called (a policy, a loss on a grid, a function to explore), else
    TypeError."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {_brief(value)}")
    return value


def check_shape(name: str, value: Any) -> tuple[int, ...]:
    """`value` as a tuple of ints >= 1 (an array's shape: ``(4,)``, ``[8, 8]``, a torch.Size).

    A string, a lone number or a non-integer length (``(4.7,)``, ``(True,)``) raises TypeError;
    a length below 1 raises ValueError. ``()`` is the shape of a scalar.
    """
    allowed = "a tuple of integers >= 1"
    if isinstance(value, str) or not isinstance(value, tuple | list | torch.Size):
        raise TypeError(f"{name} must be {allowed} such as (4,), got {_brief(value)}")
    for n in value:
        if isinstance(n, bool) or not isinstance(n, Integral):
            raise TypeError(f"{name} must be {allowed}, got {tuple(value)!r}")
        if n < 1:
            raise ValueError(f"{name} must be {allowed}, got {tuple(value)!r}")
    return tuple(int(n) for n in value)
