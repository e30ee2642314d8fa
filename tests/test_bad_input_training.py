"""Bad inputs for every public callable of `companion.training`, `companion.checkpoints` and
`companion.parallel` (issue 18), and faults injected into checkpoints.

Each bad input must raise a TypeError or ValueError (or companion's own `TrainingDiverged`,
`CheckpointError`, `DeviceUnavailableError`, or FileNotFoundError for a missing file) from
companion's own code, within a second, with a message that names the argument or the value.
Silent nonsense (a History from an optimizer that updates nothing, a NaN accuracy, a damaged
checkpoint that loads) and torch's own errors from deep inside (``mat1 and mat2 must have the
same dtype``) fail here. Hypothesis draws the values where there is a space of them; the
structural cases are listed by hand. Nothing here reaches a DDP rendezvous or spawns a process:
both are patched to fail loudly, so a bad input that slips through fails fast instead of hanging.
"""

from __future__ import annotations

import inspect
import io
import os
import signal
import stat
import struct
import subprocess
import sys
import textwrap
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

import companion
from companion import checkpoints, parallel, training
from companion.checkpoints import load_checkpoint, save_checkpoint
from companion.parallel import ddp_worker, train_data_parallel
from companion.training import (
    History,
    TrainingDiverged,
    amp_supported,
    evaluate,
    fit,
    keras_copy,
    make_mlp,
    model_device,
)

CALLABLES_COVERED: frozenset[str] = frozenset(
    {
        # companion.training
        "companion.training.History",
        "companion.training.History.plot",
        "companion.training.TrainingDiverged",
        "companion.training.amp_supported",
        "companion.training.evaluate",
        "companion.training.fit",
        "companion.training.keras_copy",
        "companion.training.make_mlp",
        "companion.training.model_device",
        # companion.checkpoints
        "companion.checkpoints.CheckpointError",
        "companion.checkpoints.load_checkpoint",
        "companion.checkpoints.save_checkpoint",
        # companion.parallel
        "companion.parallel.ddp_worker",
        "companion.parallel.train_data_parallel",
    }
)

COMPANION = Path(companion.__file__).resolve().parent
FAST = settings(
    max_examples=25, deadline=1000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
NAN, INF = float("nan"), float("inf")
# CheckpointError and DeviceUnavailableError are a ValueError and a RuntimeError.
CLEAR = (TypeError, ValueError, TrainingDiverged, companion.DeviceUnavailableError)


def raises_clearly(kinds: Any, call: Callable[[], Any], *words: str) -> BaseException:
    """`call()` raises one of `kinds` from a frame in companion/, within a second, with every
    one of `words` (the argument's name, the value, what is allowed) in its message."""
    start = time.perf_counter()
    with pytest.raises(kinds) as excinfo:
        call()
    elapsed = time.perf_counter() - start
    raised_in = Path(str(excinfo.traceback[-1].path)).resolve()
    assert COMPANION in raised_in.parents, (
        f"{excinfo.value!r} was raised in {raised_in}, not by companion"
    )
    message = str(excinfo.value)
    for word in words:
        assert word in message, f"{word!r} is not in the message {message!r}"
    assert elapsed < 1.0, f"took {elapsed:.2f} s to raise {message!r}"
    return excinfo.value


# ---------------------------------------------------------------- values


def not_an_int() -> st.SearchStrategy[Any]:
    """Values of the wrong type where an integer is meant (bools included)."""
    return st.one_of(
        st.booleans(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=3),
        st.none(),
        st.just(np.bool_(True)),
        st.just(torch.tensor(3)),
        st.just([1]),
    )


def not_a_number() -> st.SearchStrategy[Any]:
    """Values of the wrong type where a real number is meant (bools included)."""
    return st.one_of(
        st.booleans(), st.text(max_size=3), st.none(), st.just(np.bool_(True)), st.just([0.1])
    )


def not_positive() -> st.SearchStrategy[float]:
    """Numbers that are no step size: <= 0, NaN, ±inf, or beyond a float."""
    return st.one_of(
        st.floats(max_value=0.0, allow_nan=False),
        st.sampled_from([NAN, INF, -INF, 10**400]),
    )


def not_a_bool() -> st.SearchStrategy[Any]:
    return st.one_of(st.integers(), st.text(max_size=3), st.none(), st.floats())


def not_a_device_name() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["gpu", "tpu", "cuda:x", "", "cpu:0:1", "CUDA-0", "meta"]),
        st.text(max_size=8).filter(lambda s: s.strip().lower() not in ("cpu", "mps", "cuda")),
    ).filter(lambda s: not s.strip().lower().startswith("cuda:") or not s.strip()[5:].isdigit())


def _blobs(n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 2
    X = torch.randn(n, 2, generator=g) * 0.5 + (y.float() * 4 - 2).unsqueeze(1)
    return X, y


def _model(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))


def _loader(X: torch.Tensor, y: torch.Tensor, batch_size: int = 16) -> list[Any]:
    """Batches in order, as a list: what a DataLoader yields, without its overhead (the
    warm-up runs a real DataLoader)."""
    return [(X[i : i + batch_size], y[i : i + batch_size]) for i in range(0, len(X), batch_size)]


_DEFAULT = object()


def _fit_call(model: Any = _DEFAULT, **kwargs: Any) -> Callable[[], Any]:
    """A call of `fit` on the blobs for one epoch with any argument replaced by a bad one; the
    arguments are built now, so that only `fit` itself is timed."""
    model = _model() if model is _DEFAULT else model
    X, y = _blobs()
    parameters = model.parameters() if isinstance(model, nn.Module) else _model().parameters()
    arguments = {
        "model": model,
        "loss_fn": F.cross_entropy,
        "optimizer": torch.optim.SGD(parameters, lr=0.1),
        "train_loader": _loader(X, y),
        "num_epochs": 1,
        "progress": False,
    }
    arguments.update(kwargs)
    return lambda: fit(**arguments)


def _evaluate_call(*args: Any, **kwargs: Any) -> Callable[[], Any]:
    """A call of `evaluate` with these (already built) arguments."""
    return lambda: evaluate(*args, **kwargs)


@pytest.fixture(scope="module", autouse=True)
def _warm_up(tmp_path_factory: pytest.TempPathFactory) -> None:
    """One good run of each, so lazy imports are not timed as if a check were slow."""
    X, y = _blobs()
    _fit_call(
        train_loader=DataLoader(TensorDataset(X, y), batch_size=16), val_loader=_loader(X, y)
    )()
    path = save_checkpoint(tmp_path_factory.mktemp("warm") / "a.pt", _model(), None)
    load_checkpoint(path, _model())
    History([1.0], [0.5]).plot()
    plt.close("all")


def _with_nan_weight(model: nn.Module, index: int = 0, value: float = NAN) -> nn.Module:
    with torch.no_grad():
        model[0].weight.view(-1)[index % model[0].weight.numel()] = value
    return model


# ---------------------------------------------------------------- the exception classes


def test_the_exception_classes_are_what_callers_catch() -> None:
    """TrainingDiverged is a RuntimeError (a run went wrong); CheckpointError a ValueError (the
    file given is unusable). Both take a message and nothing else is required of them."""
    assert issubclass(TrainingDiverged, RuntimeError)
    assert issubclass(checkpoints.CheckpointError, ValueError)
    assert str(TrainingDiverged("loss is nan")) == "loss is nan"
    assert str(checkpoints.CheckpointError("a.pt is damaged")) == "a.pt is damaged"


# ---------------------------------------------------------------- make_mlp

SIZES = {"in_features": 1, "out_features": 1, "width": 1, "depth": 0}


@pytest.mark.parametrize("name", sorted(SIZES))
@FAST
@given(value=not_an_int())
def test_make_mlp_refuses_a_size_that_is_not_an_int(name: str, value: Any) -> None:
    raises_clearly(
        TypeError, lambda: make_mlp(**{"in_features": 4, "out_features": 2, name: value}), name
    )


@pytest.mark.parametrize("name", sorted(SIZES))
@FAST
@given(data=st.data())
def test_make_mlp_refuses_a_size_below_its_minimum(name: str, data: Any) -> None:
    value = data.draw(st.integers(max_value=SIZES[name] - 1))
    raises_clearly(
        ValueError,
        lambda: make_mlp(**{"in_features": 4, "out_features": 2, name: value}),
        f"{name} must be an integer >= {SIZES[name]}",
    )


@FAST
@given(width=st.integers(10**9, 10**15), depth=st.integers(1, 4))
def test_make_mlp_refuses_a_huge_network_before_allocating_it(width: int, depth: int) -> None:
    raises_clearly(
        ValueError, lambda: make_mlp(4, 2, width=width, depth=depth), "parameters", "at most"
    )


@FAST
@given(dropout=st.one_of(not_a_number(), st.floats(max_value=-1e-9), st.floats(min_value=1.0)))
def test_make_mlp_refuses_a_dropout_outside_0_1(dropout: Any) -> None:
    raises_clearly((TypeError, ValueError), lambda: make_mlp(4, 2, dropout=dropout), "dropout")


@pytest.mark.parametrize(
    "activation",
    ["relu", nn.ReLU(), nn.Linear, lambda: torch.relu, 3, None],
    ids=["string", "an instance", "needs arguments", "returns a function", "int", "None"],
)
def test_make_mlp_refuses_an_activation_that_is_not_a_module_factory(activation: Any) -> None:
    raises_clearly(TypeError, lambda: make_mlp(4, 2, activation=activation), "activation")


# ---------------------------------------------------------------- keras_copy (no TensorFlow needed)


@FAST
@given(net=st.sampled_from([nn.Linear(2, 2), None, [nn.Linear(2, 2)], "mlp", 3]))
def test_keras_copy_refuses_a_net_that_is_not_a_sequential(net: Any) -> None:
    raises_clearly(TypeError, lambda: keras_copy(net), "net must be a torch.nn.Sequential")


@FAST
@given(dtype=st.one_of(st.text(max_size=8), st.none(), st.just(np.float32), st.just(64)))
def test_keras_copy_refuses_an_unknown_dtype(dtype: Any) -> None:
    if dtype in ("float32", "float64"):
        return
    raises_clearly(
        (TypeError, ValueError), lambda: keras_copy(make_mlp(2, 2), dtype=dtype), "dtype"
    )


@pytest.mark.parametrize(
    "net, words",
    [
        (nn.Sequential(nn.ReLU()), ("no Linear layer",)),
        (nn.Sequential(nn.Linear(2, 4), nn.GELU(), nn.Linear(4, 2)), ("layer 1 (GELU)",)),
        (nn.Sequential(nn.Sequential(nn.Linear(2, 2))), ("layer 0 (Sequential)",)),
        (nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4)), ("layer 1 (BatchNorm1d)",)),
    ],
)
def test_keras_copy_refuses_what_it_cannot_copy(net: nn.Sequential, words: tuple[str]) -> None:
    raises_clearly((TypeError, ValueError), lambda: keras_copy(net), *words)


@FAST
@given(index=st.integers(0, 15), value=st.sampled_from([NAN, INF, -INF]))
def test_keras_copy_refuses_a_nan_network(index: int, value: float) -> None:
    net = _with_nan_weight(make_mlp(2, 2, width=8), index, value)
    raises_clearly(ValueError, lambda: keras_copy(net), "'0.weight'", "NaN or inf")


# ---------------------------------------------------------------- model_device, amp_supported


@FAST
@given(model=st.sampled_from([None, 3, "cpu", torch.zeros(2), [nn.Linear(2, 2)]]))
def test_model_device_refuses_a_non_module(model: Any) -> None:
    raises_clearly(TypeError, lambda: model_device(model), "model must be a torch.nn.Module")


def test_model_device_refuses_a_model_without_tensors_or_on_several_devices() -> None:
    raises_clearly(ValueError, lambda: model_device(nn.ReLU()), "no parameters")
    mixed = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2).to(torch.device("meta")))
    raises_clearly(ValueError, lambda: model_device(mixed), "several devices")


@FAST
@given(device=not_a_device_name())
def test_amp_supported_refuses_an_unknown_device_name(device: str) -> None:
    raises_clearly(ValueError, lambda: amp_supported(device), "device must be one of")


@FAST
@given(device=st.one_of(st.integers(), st.none(), st.booleans(), st.just(["cpu"])))
def test_amp_supported_refuses_a_device_that_is_not_a_name(device: Any) -> None:
    raises_clearly(TypeError, lambda: amp_supported(device), "device must be")


# ---------------------------------------------------------------- History and History.plot

HISTORY_LISTS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "epoch_seconds")


@pytest.mark.parametrize("name", HISTORY_LISTS)
@FAST
@given(position=st.integers(0, 2), bad=st.one_of(not_a_number(), st.sampled_from([NAN, INF])))
def test_history_refuses_a_list_holding_a_non_number(name: str, position: int, bad: Any) -> None:
    values = [0.5, 0.5, 0.5]
    values[position] = bad
    fields = {field: [0.5, 0.5, 0.5] for field in HISTORY_LISTS}
    raises_clearly(
        (TypeError, ValueError), lambda: History(**{**fields, name: values}), f"{name}[{position}]"
    )


@pytest.mark.parametrize("name", ["train_accuracy", "val_accuracy", "epoch_seconds"])
@FAST
@given(bad=st.one_of(st.floats(max_value=-1e-9), st.floats(min_value=1.0 + 1e-9)))
def test_history_refuses_accuracies_outside_0_1_and_negative_seconds(name: str, bad: float) -> None:
    if name == "epoch_seconds" and bad >= 0:
        return
    fields = {field: [0.5] for field in HISTORY_LISTS}
    raises_clearly(ValueError, lambda: History(**{**fields, name: [bad]}), f"{name}[0]")


@pytest.mark.parametrize("name", HISTORY_LISTS)
@FAST
@given(bad=st.one_of(st.text(max_size=3), st.integers(), st.none(), st.just({"a": 1})))
def test_history_refuses_a_field_that_is_not_a_list(name: str, bad: Any) -> None:
    raises_clearly(TypeError, lambda: History(**{name: bad}), name, "a list of numbers")


@FAST
@given(lengths=st.lists(st.integers(1, 4), min_size=5, max_size=5))
def test_history_refuses_lists_of_different_lengths(lengths: list[int]) -> None:
    fields = {field: [0.5] * n for field, n in zip(HISTORY_LISTS, lengths, strict=True)}
    if len(set(lengths)) == 1:
        return
    raises_clearly(ValueError, lambda: History(**fields), "one entry per epoch")


@FAST
@given(axes=st.one_of(st.integers(), st.text(max_size=3), st.just([1, 2]), st.just("ab")))
def test_history_plot_refuses_axes_that_are_not_a_pair_of_axes(axes: Any) -> None:
    history = History([1.0, 0.5], [0.5, 0.9])
    raises_clearly(TypeError, lambda: history.plot(axes=axes), "axes must be")


def test_history_plot_refuses_one_axes_a_bad_title_and_an_empty_history() -> None:
    _, axes = plt.subplots(1, 3)
    history = History([1.0, 0.5], [0.5, 0.9])
    raises_clearly(TypeError, lambda: history.plot(axes=axes[0]), "axes must be")
    raises_clearly(TypeError, lambda: history.plot(axes=axes), "axes must be")
    raises_clearly(TypeError, lambda: history.plot(axes=axes[:2], title=3), "title must be")
    raises_clearly(ValueError, lambda: History().plot(axes=axes[:2]), "no epochs")
    # Lists made inconsistent after construction are caught before drawing.
    history.val_loss.append(1.0)
    raises_clearly(ValueError, lambda: history.plot(axes=axes[:2]), "one entry per epoch")
    plt.close("all")


# ---------------------------------------------------------------- fit: the arguments


@FAST
@given(num_epochs=st.one_of(not_an_int(), st.integers(max_value=0)))
def test_fit_refuses_a_bad_number_of_epochs(num_epochs: Any) -> None:
    raises_clearly((TypeError, ValueError), _fit_call(num_epochs=num_epochs), "num_epochs")


@pytest.mark.parametrize("name", ["amp", "progress"])
@FAST
@given(value=not_a_bool())
def test_fit_refuses_a_flag_that_is_not_a_bool(name: str, value: Any) -> None:
    raises_clearly(TypeError, _fit_call(**{name: value}), f"{name} must be True or False")


@FAST
@given(device=st.one_of(not_a_device_name(), st.integers(), st.booleans()))
def test_fit_and_evaluate_refuse_an_unknown_device(device: Any) -> None:
    X, y = _blobs()
    raises_clearly((TypeError, ValueError), _fit_call(device=device), "device")
    raises_clearly(
        (TypeError, ValueError), _evaluate_call(_model(), _loader(X, y), device), "device"
    )


def test_fit_refuses_a_device_the_model_is_not_on() -> None:
    # On a machine without the accelerator: DeviceUnavailableError; with it: model is on cpu.
    for device in ("cuda", "mps", "cuda:7"):
        raises_clearly(CLEAR, _fit_call(device=device), device.split(":")[0])


@FAST
@given(model=st.sampled_from([None, 3, "net", torch.zeros(2, 2), [nn.Linear(2, 2)]]))
def test_fit_and_evaluate_refuse_a_model_that_is_not_a_module(model: Any) -> None:
    X, y = _blobs()
    optimizer = torch.optim.SGD(_model().parameters(), lr=0.1)
    raises_clearly(TypeError, _fit_call(model, optimizer=optimizer), "model must be")
    raises_clearly(TypeError, _evaluate_call(model, _loader(X, y)), "model must be")


@FAST
@given(
    loss_fn=st.sampled_from(
        [
            None,
            3,
            "cross_entropy",
            F.cross_entropy(torch.zeros(1, 2), torch.zeros(1, dtype=torch.long)),
        ]
    )
)
def test_fit_and_evaluate_refuse_a_loss_that_is_not_callable(loss_fn: Any) -> None:
    X, y = _blobs()
    raises_clearly(TypeError, _fit_call(loss_fn=loss_fn), "loss_fn must be")
    raises_clearly(TypeError, _evaluate_call(_model(), _loader(X, y), loss_fn=loss_fn), "loss_fn")


@pytest.mark.parametrize(
    "loss_fn, kind, words",
    [
        (lambda y_hat, y: F.cross_entropy(y_hat, y, reduction="none"), ValueError, "reduction"),
        (lambda y_hat, y: float(F.cross_entropy(y_hat, y)), TypeError, "got float"),
        (lambda y_hat, y: F.cross_entropy(y_hat, y).reshape(1, 1), ValueError, "shape (1, 1)"),
    ],
    ids=["reduction none", "a float", "a (1, 1) tensor"],
)
def test_fit_and_evaluate_refuse_a_loss_that_is_not_a_scalar_tensor(
    loss_fn: Any, kind: type, words: str
) -> None:
    X, y = _blobs()
    raises_clearly(kind, _fit_call(loss_fn=loss_fn), "loss_fn must return a scalar", words)
    raises_clearly(kind, _evaluate_call(_model(), _loader(X, y), loss_fn=loss_fn), words)


@FAST
@given(optimizer=st.sampled_from([None, "sgd", 0.1, torch.optim.SGD]))
def test_fit_refuses_an_optimizer_that_is_not_one(optimizer: Any) -> None:
    raises_clearly(TypeError, _fit_call(optimizer=optimizer), "optimizer must be")


def test_fit_refuses_an_optimizer_built_on_another_model() -> None:
    model = _model()
    before = [p.clone() for p in model.parameters()]
    other = torch.optim.SGD(_model(seed=1).parameters(), lr=0.1)
    raises_clearly(ValueError, _fit_call(model, optimizer=other), "optimizer updates none")
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_fit_refuses_a_model_with_nothing_to_train() -> None:
    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.requires_grad_(False)
    raises_clearly(ValueError, _fit_call(model, optimizer=optimizer), "no trainable")


def test_fit_refuses_a_scheduler_of_another_optimizer_or_none_at_all() -> None:
    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    other = torch.optim.SGD(_model(seed=1).parameters(), lr=0.1)
    foreign = torch.optim.lr_scheduler.StepLR(other, step_size=1)
    raises_clearly(
        ValueError,
        _fit_call(model, optimizer=optimizer, scheduler=foreign),
        "scheduler was built on another optimizer",
    )
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer)
    raises_clearly(
        ValueError, _fit_call(model, optimizer=optimizer, scheduler=plateau), "ReduceLROnPlateau"
    )
    for scheduler in ("cosine", 3, object()):
        raises_clearly(
            TypeError,
            _fit_call(model, optimizer=optimizer, scheduler=scheduler),
            "scheduler must be",
        )


# ---------------------------------------------------------------- fit and evaluate: the batches


def _both(loader: Any, kind: Any, *words: str, model: nn.Module | None = None) -> None:
    """The bad `loader` as fit's train_loader, fit's val_loader and evaluate's loader."""
    model = _model() if model is None else model
    raises_clearly(kind, _fit_call(model, train_loader=loader), "train_loader", *words)
    X, y = _blobs()
    # One small batch of training, then the bad loader as validation.
    good = _loader(X[:4], y[:4])
    raises_clearly(kind, _fit_call(model, train_loader=good, val_loader=loader), *words)
    raises_clearly(kind, _evaluate_call(model, loader), *words)


@FAST
@given(loader=st.sampled_from([None, 3, 2.5, torch.optim.SGD]))
def test_a_loader_that_is_not_iterable(loader: Any) -> None:
    raises_clearly(TypeError, _fit_call(train_loader=loader), "train_loader must be an iterable")
    raises_clearly(TypeError, _evaluate_call(_model(), loader), "loader must be an iterable")
    if loader is not None:
        # val_loader=None is no validation, not a bad loader.
        raises_clearly(TypeError, _fit_call(val_loader=loader), "val_loader must be an iterable")


@FAST
@given(num_epochs=st.integers(2, 5))
def test_fit_refuses_a_generator_it_would_need_twice(num_epochs: int) -> None:
    X, y = _blobs()
    batches = ((X[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16))
    raises_clearly(
        ValueError, _fit_call(train_loader=batches, num_epochs=num_epochs), "iterator", "used up"
    )


@FAST
@given(batch=st.sampled_from([3, "ab", (1,), (1, 2, 3), None]))
def test_a_loader_yielding_something_other_than_pairs(batch: Any) -> None:
    _both([batch], TypeError, "(X, y) pairs")


def test_a_loader_yielding_numpy_arrays_is_told_to_yield_tensors() -> None:
    X, y = _blobs()
    _both([(X.numpy(), y.numpy())], TypeError, "torch tensors", "ndarray")


def test_an_empty_loader_and_an_empty_batch_are_their_own_errors() -> None:
    X, y = _blobs()
    raises_clearly(ValueError, _fit_call(train_loader=[]), "train_loader yielded no examples")
    raises_clearly(ValueError, _evaluate_call(_model(), []), "no examples")
    # Not a divergence: an empty batch's mean loss is NaN, but nothing diverged.
    _both([(X[:0], y[:0])], ValueError, "empty batch")


@FAST
@given(n_X=st.integers(1, 20), n_y=st.integers(1, 20))
def test_a_batch_with_as_many_inputs_as_targets(n_X: int, n_y: int) -> None:
    if n_X == n_y:
        return
    X, y = _blobs()
    _both([(X[:n_X], y[:n_y])], ValueError, f"{n_X} inputs but {n_y} targets")


@FAST
@given(shape=st.lists(st.integers(1, 3), min_size=2, max_size=3))
def test_targets_must_be_one_class_index_per_example(shape: list[int]) -> None:
    X, _ = _blobs()
    y = torch.zeros(shape, dtype=torch.long)
    _both([(X[: shape[0]], y)], ValueError, "y of shape (B,)")


@FAST
@given(dtype=st.sampled_from([torch.float32, torch.float64, torch.int32, torch.uint8, torch.bool]))
def test_targets_must_be_int64_class_indices(dtype: torch.dtype) -> None:
    X, y = _blobs()
    _both([(X[:8], y[:8].to(dtype))], TypeError, "int64", str(dtype))


@FAST
@given(dtype=st.sampled_from([torch.float64, torch.float16, torch.int64, torch.int32]))
def test_inputs_of_another_dtype_than_the_weights_say_both_and_the_fix(dtype: torch.dtype) -> None:
    X, y = _blobs()
    _both([(X[:8].to(dtype), y[:8])], TypeError, str(dtype), "torch.float32", "X.float()")


def test_a_double_model_on_float_data_says_both_dtypes() -> None:
    X, y = _blobs()
    _both([(X[:8], y[:8])], TypeError, "torch.float32", "torch.float64", model=_model().double())


@FAST
@given(width=st.integers(1, 6))
def test_inputs_of_another_width_than_the_model_takes(width: int) -> None:
    if width == 2:
        return
    X = torch.randn(8, width)
    y = torch.zeros(8, dtype=torch.long)
    _both([(X, y)], ValueError, f"X of shape (8, {width})")


@FAST
@given(label=st.one_of(st.integers(2, 10**6), st.sampled_from([-1, -2, -99, -101])))
def test_a_class_index_the_model_has_no_output_for(label: int) -> None:
    # (cross_entropy reads -100 as "ignore this example", so it is no bad index.)
    X, y = _blobs()
    y = y[:8].clone()
    y[3] = label
    _both([(X[:8], y)], ValueError, "class index outside [0, 1]")


def test_a_model_that_does_not_output_logits() -> None:
    X, y = _blobs()
    flat = nn.Sequential(nn.Linear(2, 1), nn.Flatten(0))
    _both([(X[:8], y[:8])], ValueError, "to logits of shape (", "num_classes)", model=flat)


# ---------------------------------------------------------------- NaN: data, weights, steps


@FAST
@given(row=st.integers(0, 63), value=st.sampled_from([NAN, INF, -INF]))
def test_fit_names_nan_inputs_and_says_check_the_data(row: int, value: float) -> None:
    X, y = _blobs()
    X[row, 0] = value
    error = raises_clearly(
        TrainingDiverged,
        _fit_call(train_loader=_loader(X, y)),
        "1 NaN",
        "check the data",
    )
    # A NaN that the ReLUs hide from the loss still poisons the weights through the gradients:
    # then the next step's loss is NaN (or the epoch ends), and the message names the batch.
    step = row // 16 + 1
    assert f"step {step}: the batch's X holds" in str(error) or (
        f"the batch's X at step {step} held" in str(error)
    )


@FAST
@given(row=st.integers(0, 63), value=st.sampled_from([NAN, INF, -INF]))
def test_evaluate_and_validation_refuse_nan_inputs(row: int, value: float) -> None:
    X, y = _blobs()
    X_val = X.clone()
    X_val[row, 1] = value
    raises_clearly(ValueError, _evaluate_call(_model(), _loader(X_val, y)), "X holds 1 NaN")
    raises_clearly(
        TrainingDiverged,
        _fit_call(train_loader=_loader(X, y), val_loader=_loader(X_val, y)),
        "validation after epoch 1",
        "X holds 1 NaN",
    )


@FAST
@given(index=st.integers(0, 15), value=st.sampled_from([NAN, INF, -INF]))
def test_a_nan_model_is_named_not_scored(index: int, value: float) -> None:
    X, y = _blobs()
    raises_clearly(
        ValueError,
        _evaluate_call(_with_nan_weight(_model(), index, value), _loader(X, y)),
        "'0.weight' holds NaN or inf",
    )
    raises_clearly(
        TrainingDiverged,
        _fit_call(_with_nan_weight(_model(), index, value)),
        "'0.weight' held NaN or inf before fit began",
    )


@FAST
@given(lr=st.sampled_from([1e25, 1e30, 1e35]))
def test_a_too_large_step_is_a_divergence_that_suggests_a_smaller_lr(lr: float) -> None:
    model = nn.Linear(2, 2)
    X, y = _blobs()
    raises_clearly(
        TrainingDiverged,
        _fit_call(
            model,
            loss_fn=lambda y_hat, y: (y_hat**2).mean(),
            optimizer=torch.optim.SGD(model.parameters(), lr=lr),
            num_epochs=3,
        ),
        "smaller learning rate",
        f"lr={lr}",
    )


# ---------------------------------------------------------------- save_checkpoint


@FAST
@given(path=st.sampled_from([None, 3, b"a.pt", ["a.pt"], 2.5]))
def test_checkpoint_paths_that_are_not_paths(path: Any) -> None:
    raises_clearly(TypeError, lambda: save_checkpoint(path, _model(), None), "path must be")
    raises_clearly(TypeError, lambda: load_checkpoint(path, _model()), "path must be")


def test_checkpoint_paths_that_are_folders_or_in_no_folder(tmp_path: Path) -> None:
    raises_clearly(ValueError, lambda: save_checkpoint(tmp_path, _model(), None), "is a folder")
    raises_clearly(ValueError, lambda: load_checkpoint(tmp_path, _model()), "is a folder")
    missing = tmp_path / "missing" / "a.pt"
    raises_clearly(FileNotFoundError, lambda: save_checkpoint(missing, _model(), None), "folder")
    raises_clearly(FileNotFoundError, lambda: load_checkpoint(missing, _model()), "no checkpoint")


@FAST
@given(model=st.sampled_from([None, 3, "net", torch.zeros(2)]))
def test_checkpoints_refuse_a_model_that_is_not_a_module(tmp_path: Path, model: Any) -> None:
    path = tmp_path / "unused.pt"
    raises_clearly(TypeError, lambda: save_checkpoint(path, model, None), "model must be")
    raises_clearly(TypeError, lambda: load_checkpoint(path, model), "model must be")


@FAST
@given(optimizer=st.sampled_from([3, "adam", torch.optim.Adam, nn.Linear(2, 2)]))
def test_checkpoints_refuse_an_optimizer_that_is_not_one(tmp_path: Path, optimizer: Any) -> None:
    path = tmp_path / "unused.pt"
    raises_clearly(TypeError, lambda: save_checkpoint(path, _model(), optimizer), "optimizer")
    raises_clearly(TypeError, lambda: load_checkpoint(path, _model(), optimizer), "optimizer")


@FAST
@given(
    bad=st.sampled_from([object(), {1, 2}, torch.zeros(2), print, b"bytes", np.datetime64(0, "s")])
)
def test_save_checkpoint_refuses_metadata_it_could_not_read_back(tmp_path: Path, bad: Any) -> None:
    path = tmp_path / "unused.pt"
    raises_clearly(TypeError, lambda: save_checkpoint(path, _model(), None, note=bad), "'note'")
    raises_clearly(
        TypeError, lambda: save_checkpoint(path, _model(), None, sizes=[1, {"a": bad}]), "'sizes'"
    )


@FAST
@given(index=st.integers(0, 15), value=st.sampled_from([NAN, INF, -INF]))
def test_save_checkpoint_refuses_a_nan_model(tmp_path: Path, index: int, value: float) -> None:
    model = _with_nan_weight(_model(), index, value)
    raises_clearly(
        ValueError, lambda: save_checkpoint(tmp_path / "a.pt", model, None), "'0.weight'", "NaN"
    )


def test_numpy_metadata_round_trips_as_plain_python(tmp_path: Path) -> None:
    meta = {
        "epoch": np.int64(3),
        "loss": np.float32(0.25),
        "done": np.bool_(True),
        "name": np.str_("blobs"),
        "curve": np.array([0.5, 0.25]),
        "nested": {"seeds": [np.int32(1), np.uint8(2)], "grid": np.arange(4).reshape(2, 2)},
    }
    path = save_checkpoint(tmp_path / "a.pt", _model(), None, **meta)
    loaded = load_checkpoint(path, _model())
    assert loaded == {
        "epoch": 3,
        "loss": 0.25,
        "done": True,
        "name": "blobs",
        "curve": [0.5, 0.25],
        "nested": {"seeds": [1, 2], "grid": [[0, 1], [2, 3]]},
    }
    assert type(loaded["epoch"]) is int and type(loaded["loss"]) is float
    assert type(loaded["done"]) is bool and type(loaded["name"]) is str


# ---------------------------------------------------------------- load_checkpoint: damaged files


def _saved(tmp_path: Path, optimizer: bool = True) -> tuple[Path, bytes]:
    model = _model(seed=5)
    adam = torch.optim.Adam(model.parameters(), lr=0.01)
    model(torch.ones(1, 2)).sum().backward()
    adam.step()
    path = save_checkpoint(tmp_path / "net.pt", model, adam if optimizer else None, epoch=1)
    return path, path.read_bytes()


def _tensor_data_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every tensor's bytes in a torch zip checkpoint."""
    spans = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if "/data/" in info.filename and not info.filename.endswith(".pkl"):
                name_length, extra_length = struct.unpack(
                    "<HH", data[info.header_offset + 26 : info.header_offset + 30]
                )
                start = info.header_offset + 30 + name_length + extra_length
                spans.append((start, start + info.file_size))
    return spans


def _untouched(
    model: nn.Module, optimizer: torch.optim.Optimizer | None = None
) -> Callable[[], bool]:
    """A check that `model` (and `optimizer`) still hold what they hold now."""
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    groups = repr(optimizer.state_dict()["param_groups"]) if optimizer is not None else None
    state = len(optimizer.state) if optimizer is not None else None

    def check() -> bool:
        same = all(torch.equal(weights[k], v) for k, v in model.state_dict().items())
        if optimizer is not None:
            same = same and repr(optimizer.state_dict()["param_groups"]) == groups
            same = same and len(optimizer.state) == state
        return same

    return check


@FAST
@given(data=st.data())
def test_a_flipped_byte_in_the_tensor_data_is_caught(tmp_path: Path, data: Any) -> None:
    path, original = _saved(tmp_path)
    spans = _tensor_data_spans(original)
    assert spans, "the premise: the checkpoint's tensors are found in the archive"
    start, end = data.draw(st.sampled_from(spans))
    position = data.draw(st.integers(start, end - 1))
    flip = data.draw(st.integers(1, 255))
    damaged = bytearray(original)
    damaged[position] ^= flip
    path.write_bytes(bytes(damaged))
    model = _model()
    untouched = _untouched(model)
    raises_clearly(
        checkpoints.CheckpointError, lambda: load_checkpoint(path, model), str(path), "damaged"
    )
    assert untouched()


@FAST
@given(data=st.data())
def test_a_truncated_file_is_caught(tmp_path: Path, data: Any) -> None:
    path, original = _saved(tmp_path)
    path.write_bytes(original[: data.draw(st.integers(0, len(original) - 1))])
    model = _model()
    untouched = _untouched(model)
    raises_clearly(
        checkpoints.CheckpointError, lambda: load_checkpoint(path, model), str(path), "damaged"
    )
    assert untouched()


@FAST
@given(junk=st.one_of(st.binary(max_size=300), st.text(max_size=100).map(str.encode)))
def test_a_file_that_is_no_checkpoint_is_caught(tmp_path: Path, junk: bytes) -> None:
    path = tmp_path / "junk.pt"
    path.write_bytes(junk)
    raises_clearly(checkpoints.CheckpointError, lambda: load_checkpoint(path, _model()), str(path))


@pytest.mark.parametrize(
    "content, words",
    [
        ([1, 2, 3], "not a checkpoint written by save_checkpoint"),
        ({"model": {}, "optimizer": None, "meta": {}}, "no checksum"),
        ({"weights": torch.zeros(2)}, "not a checkpoint written by save_checkpoint"),
    ],
    ids=["a list", "no checksum", "a state dict"],
)
def test_a_torch_file_that_save_checkpoint_did_not_write(
    tmp_path: Path, content: Any, words: str
) -> None:
    path = tmp_path / "other.pt"
    torch.save(content, path)
    raises_clearly(checkpoints.CheckpointError, lambda: load_checkpoint(path, _model()), words)


def test_a_model_of_another_shape_is_left_untouched(tmp_path: Path) -> None:
    path, _ = _saved(tmp_path)
    # The first layer fits, the last does not: nothing may be loaded, not even the first.
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
    untouched = _untouched(model)
    raises_clearly(ValueError, lambda: load_checkpoint(path, model), "size mismatch for 2.weight")
    assert untouched()
    deeper = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2), nn.Linear(2, 2))
    raises_clearly(ValueError, lambda: load_checkpoint(path, deeper), "missing 3.weight")


@pytest.mark.parametrize(
    "make_optimizer, words",
    [
        (lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9), "but optimizer is a SGD"),
        (lambda params: torch.optim.AdamW(params, lr=0.1), "but optimizer is a AdamW"),
        (lambda params: torch.optim.Adam(list(params)[:2], lr=0.1), "does not fit optimizer"),
        (
            lambda params: torch.optim.Adam(
                [{"params": list(params)[:2]}, {"params": list(params)[2:]}], lr=0.1
            ),
            "does not fit optimizer",
        ),
    ],
    ids=["another kind", "a subclass", "fewer parameters", "other groups"],
)
def test_an_optimizer_that_does_not_fit_leaves_model_and_optimizer_untouched(
    tmp_path: Path, make_optimizer: Any, words: str
) -> None:
    path, _ = _saved(tmp_path)
    model = _model()
    optimizer = make_optimizer(model.parameters())
    untouched = _untouched(model, optimizer)
    raises_clearly(ValueError, lambda: load_checkpoint(path, model, optimizer), words)
    assert untouched()


def test_a_checkpoint_without_optimizer_state_leaves_the_model_untouched(tmp_path: Path) -> None:
    path, _ = _saved(tmp_path, optimizer=False)
    model = _model()
    untouched = _untouched(model)
    adam = torch.optim.Adam(model.parameters())
    raises_clearly(ValueError, lambda: load_checkpoint(path, model, adam), "no optimizer state")
    assert untouched()


def test_sgd_state_into_adam_leaves_both_untouched(tmp_path: Path) -> None:
    """torch's Adam raises KeyError 'step' on SGD state, after the model was overwritten."""
    model = _model(seed=5)
    sgd = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.ones(1, 2)).sum().backward()
    sgd.step()
    path = save_checkpoint(tmp_path / "sgd.pt", model, sgd)
    fresh = _model()
    adam = torch.optim.Adam(fresh.parameters())
    untouched = _untouched(fresh, adam)
    raises_clearly(ValueError, lambda: load_checkpoint(path, fresh, adam), "a SGD optimizer")
    assert untouched()


# ---------------------------------------------------------------- save_checkpoint: faults


def _temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL and a stale writer's pid are POSIX")
def test_a_writer_killed_mid_write_leaves_the_old_checkpoint_and_no_orphan(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "net.pt", _model(seed=1), None, version=1)
    old = path.read_bytes()
    script = textwrap.dedent(
        f"""
        import os, signal, torch
        from torch import nn
        from companion import checkpoints

        def dying_save(obj, f, *args, **kwargs):
            # Half a checkpoint on disk, then the process is killed: no cleanup can run.
            f.write(b"PK" + bytes(5000))
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)

        torch.save = dying_save
        checkpoints.save_checkpoint({str(path)!r}, nn.Linear(2, 2), None, version=2)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(COMPANION.parent)},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()[-2000:]
    assert path.read_bytes() == old
    assert load_checkpoint(path, _model()) == {"version": 1}
    # The premise: the killed writer left its temp file behind.
    assert len(_temp_files(tmp_path)) == 1
    save_checkpoint(path, _model(seed=2), None, version=3)
    assert _temp_files(tmp_path) == []
    assert load_checkpoint(path, _model()) == {"version": 3}


@pytest.mark.parametrize("fault", [KeyboardInterrupt, OSError, RuntimeError])
def test_a_write_that_fails_midway_leaves_the_old_checkpoint(tmp_path: Path, fault: type) -> None:
    path = save_checkpoint(tmp_path / "net.pt", _model(seed=1), None, version=1)
    old = path.read_bytes()

    def failing_save(obj: Any, f: Any, *args: Any, **kwargs: Any) -> None:
        f.write(b"PK" + bytes(1000))
        raise fault("disk full")

    with mock.patch.object(checkpoints.torch, "save", failing_save), pytest.raises(fault):
        save_checkpoint(path, _model(seed=2), None, version=2)
    assert path.read_bytes() == old
    assert _temp_files(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600, 0o664])
def test_a_replaced_checkpoint_keeps_its_mode_and_a_new_one_gets_the_umask(
    tmp_path: Path, mode: int
) -> None:
    umask = os.umask(0o022)
    try:
        path = save_checkpoint(tmp_path / "new.pt", _model(), None)
        assert path.stat().st_mode & 0o777 == 0o644
        os.chmod(path, mode)
        save_checkpoint(path, _model(seed=1), None)
        assert path.stat().st_mode & 0o777 == mode
    finally:
        os.umask(umask)


@pytest.mark.skipif(os.name != "posix", reason="folders are synced on POSIX")
def test_the_folder_is_synced_after_the_rename(tmp_path: Path) -> None:
    synced = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    with mock.patch.object(checkpoints.os, "fsync", recording_fsync):
        save_checkpoint(tmp_path / "net.pt", _model(), None)
    assert synced == ["file", "folder"]


# ---------------------------------------------------------------- DDP: before any spawn


def _no_rendezvous() -> Any:
    """Patches that make reaching the rendezvous, or spawning workers, fail at once."""
    reached = AssertionError("the bad input reached the DDP rendezvous / process spawn")
    return (
        mock.patch("torch.distributed.init_process_group", side_effect=reached),
        mock.patch("torch.multiprocessing.spawn", side_effect=reached),
    )


def _ddp(call: Callable[..., Any], **kwargs: Any) -> Callable[[], Any]:
    """A call of train_data_parallel or ddp_worker on the blobs with `kwargs` replaced."""
    X, y = _blobs()
    arguments = {
        "model": _model(),
        "X": X,
        "y": y,
        "lr": 0.1,
        "batch_size": 16,
        "num_epochs": 1,
        "world_size": 2,
    }
    arguments.update(kwargs)
    if call is ddp_worker:
        worker = {"rank": 0, "port": 29500, "out_path": "unused.pt"}
        worker.update({k: v for k, v in kwargs.items() if k in worker})
        arguments.update(worker)

    def run() -> Any:
        rendezvous, spawn = _no_rendezvous()
        with rendezvous, spawn:
            return call(**arguments)

    return run


BOTH_DDP = pytest.mark.parametrize(
    "call", [train_data_parallel, ddp_worker], ids=lambda f: f.__name__
)


@BOTH_DDP
@FAST
@given(lr=st.one_of(not_a_number(), not_positive()))
def test_ddp_refuses_a_learning_rate_that_is_no_step_size(call: Any, lr: Any) -> None:
    raises_clearly((TypeError, ValueError), _ddp(call, lr=lr), "lr must be a finite number > 0")


@BOTH_DDP
@pytest.mark.parametrize("name", ["batch_size", "num_epochs", "world_size"])
@FAST
@given(value=st.one_of(not_an_int(), st.integers(max_value=0)))
def test_ddp_refuses_a_bad_count(call: Any, name: str, value: Any) -> None:
    raises_clearly((TypeError, ValueError), _ddp(call, **{name: value}), name)


@BOTH_DDP
@FAST
@given(world_size=st.integers(3, 7))
def test_ddp_refuses_a_batch_that_does_not_split_over_the_workers(
    call: Any, world_size: int
) -> None:
    if 16 % world_size == 0:
        return
    raises_clearly(ValueError, _ddp(call, world_size=world_size), "multiple of world_size")


@FAST
@given(world_size=st.integers(1, 8), offset=st.integers(0, 100))
def test_ddp_worker_refuses_a_rank_outside_the_world(world_size: int, offset: int) -> None:
    """A rank >= world_size waited forever in the rendezvous (issue 18)."""
    batch = 8 * world_size
    X = torch.randn(batch, 2)
    y = torch.zeros(batch, dtype=torch.long)
    for rank in (world_size + offset, -1 - offset):
        raises_clearly(
            ValueError,
            _ddp(ddp_worker, X=X, y=y, batch_size=batch, world_size=world_size, rank=rank),
            f"rank must be an integer in [0, {world_size - 1}]",
        )


@FAST
@given(rank=not_an_int())
def test_ddp_worker_refuses_a_rank_that_is_not_an_int(rank: Any) -> None:
    raises_clearly(TypeError, _ddp(ddp_worker, rank=rank), "rank must be an integer")


@FAST
@given(port=st.one_of(not_an_int(), st.integers(max_value=0), st.integers(min_value=65536)))
def test_ddp_worker_refuses_a_port_outside_1_65535(port: Any) -> None:
    raises_clearly((TypeError, ValueError), _ddp(ddp_worker, port=port), "port")


@FAST
@given(out_path=st.sampled_from([None, 3, ["a.pt"]]))
def test_ddp_worker_refuses_an_out_path_that_is_not_a_path(out_path: Any) -> None:
    raises_clearly(TypeError, _ddp(ddp_worker, out_path=out_path), "out_path")


@BOTH_DDP
@pytest.mark.parametrize(
    "kwargs, kind, words",
    [
        ({"model": "mlp"}, TypeError, ("model must be",)),
        ({"X": np.zeros((64, 2), np.float32)}, TypeError, ("X must be a torch.Tensor",)),
        ({"y": list(range(64))}, TypeError, ("y must be a torch.Tensor",)),
        ({"X": torch.zeros(64)}, ValueError, ("X must be (n, ...)",)),
        ({"y": torch.zeros(64, 1, dtype=torch.long)}, ValueError, ("y (n,)",)),
        ({"y": torch.zeros(32, dtype=torch.long)}, ValueError, ("same n",)),
        ({"y": torch.zeros(64)}, TypeError, ("int64", "torch.float32")),
        ({"X": torch.zeros(64, 2, dtype=torch.float64)}, TypeError, ("torch.float64", "float32")),
        ({"X": torch.zeros(64, 5)}, ValueError, ("X of shape (1, 5)",)),
        ({"y": torch.full((64,), 2)}, ValueError, ("class indices in [0, 1]",)),
        ({"y": torch.full((64,), -1)}, ValueError, ("class indices in [0, 1]",)),
        ({"X": torch.zeros(0, 2), "y": torch.zeros(0, dtype=torch.long)}, ValueError, ("len(X)",)),
        ({"model": _model().to(torch.device("meta"))}, ValueError, ("CPU",)),
    ],
    ids=lambda v: "-".join(map(str, v)) if isinstance(v, tuple) else None,
)
def test_ddp_refuses_bad_data_before_any_process_starts(
    call: Any, kwargs: dict, kind: type, words: tuple[str, ...]
) -> None:
    raises_clearly(kind, _ddp(call, **kwargs), *words)


@BOTH_DDP
@FAST
@given(row=st.integers(0, 63), value=st.sampled_from([NAN, INF, -INF]))
def test_ddp_refuses_nan_inputs(call: Any, row: int, value: float) -> None:
    X, _ = _blobs()
    X[row, 1] = value
    raises_clearly(ValueError, _ddp(call, X=X), "X must be finite")


@BOTH_DDP
@FAST
@given(index=st.integers(0, 15), value=st.sampled_from([NAN, INF, -INF]))
def test_ddp_refuses_a_nan_model_as_a_divergence(call: Any, index: int, value: float) -> None:
    """fit raises TrainingDiverged for a NaN model; train_data_parallel returned NaN weights."""
    model = _with_nan_weight(_model(), index, value)
    raises_clearly(TrainingDiverged, _ddp(call, model=model), "'0.weight'", "NaN")


def test_the_suite_covers_every_public_callable_of_its_modules() -> None:
    """The premise of CALLABLES_COVERED: it names what training, checkpoints and parallel
    define, nothing else."""
    defined = {
        f"{module.__name__}.{name}"
        for module in (training, checkpoints, parallel)
        for name, value in vars(module).items()
        if not name.startswith("_")
        and getattr(value, "__module__", None) == module.__name__
        and (inspect.isfunction(value) or inspect.isclass(value))
    }
    defined |= {
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls in (History, TrainingDiverged, checkpoints.CheckpointError)
        for name, member in vars(cls).items()
        if not name.startswith("_") and inspect.isfunction(member)
    }
    assert defined == CALLABLES_COVERED
