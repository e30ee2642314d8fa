"""The plumbing of supervised training: networks, the loop and evaluation.

A chapter writes its training *step* (forward, loss, backward, step) by hand first;
`fit` is the same loop, packaged, with what a real loop also needs: device moves,
train/eval modes, per-epoch metrics, a progress bar, mixed precision where the
device supports it, and a clear stop when the loss stops being a number.

Every public function checks what it is given before it reaches torch (issue 18): a bad
argument is a TypeError or ValueError naming it, and a NaN loss or NaN weights a
`TrainingDiverged` saying what went wrong where. The checks on each batch read only types
and shapes, so they add no device synchronisation to a step; the weights are checked once
per epoch.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from companion.checks import (
    check_bool,
    check_callable,
    check_choice,
    check_float,
    check_instance,
    check_int,
)
from companion.runtime import DeviceUnavailableError, is_cpu, resolve_device, synchronize

Batch = tuple[torch.Tensor, torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class TrainingDiverged(RuntimeError):
    """The loss or the weights became NaN or infinite; the message says which, where, and why
    (a too large step, NaN data, or a model that was NaN before training)."""


def _number_list(
    name: str, values: Any, low: float | None = None, high: float | None = None
) -> list[float]:
    """`values` (a list or tuple) as a list of finite floats in [low, high], each checked."""
    check_instance(name, values, (list, tuple), "a list of numbers")
    return [check_float(f"{name}[{i}]", value, low, high) for i, value in enumerate(values)]


@dataclass
class History:
    """Per-epoch metrics of one `fit` run; lists have one entry per finished epoch.

    Train metrics are running averages over the epoch's batches (in train mode, so with
    dropout active); validation metrics come from `evaluate` after the epoch. A History
    built by hand is checked like one `fit` builds: finite numbers, accuracies in [0, 1],
    and lists of one length (validation and timing lists may be empty).
    """

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    # The wall time of each epoch's training steps.
    epoch_seconds: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.train_loss = _number_list("train_loss", self.train_loss)
        self.train_accuracy = _number_list("train_accuracy", self.train_accuracy, 0.0, 1.0)
        self.val_loss = _number_list("val_loss", self.val_loss)
        self.val_accuracy = _number_list("val_accuracy", self.val_accuracy, 0.0, 1.0)
        self.epoch_seconds = _number_list("epoch_seconds", self.epoch_seconds, 0.0)
        self._require_consistent_lengths()

    def _require_consistent_lengths(self) -> None:
        lengths = {
            "train_loss": len(self.train_loss),
            "train_accuracy": len(self.train_accuracy),
            "val_loss": len(self.val_loss),
            "val_accuracy": len(self.val_accuracy),
            "epoch_seconds": len(self.epoch_seconds),
        }
        optional = ("val_loss", "val_accuracy", "epoch_seconds")
        if any(
            n != self.num_epochs and not (name in optional and n == 0)
            for name, n in lengths.items()
        ) or len(self.val_loss) != len(self.val_accuracy):
            raise ValueError(
                "History's lists must have one entry per epoch (validation and epoch_seconds "
                f"may be empty), got lengths {lengths}"
            )

    @property
    def num_epochs(self) -> int:
        return len(self.train_loss)

    def plot(self, axes: Any = None, title: str | None = None) -> Any:
        """Loss (left, log axis) and accuracy (right) per epoch, train and validation; the axes.

        `axes` is None (a new figure) or a pair of matplotlib Axes, as
        ``plt.subplots(1, 2)[1]`` returns.
        """
        import matplotlib.pyplot as plt
        from matplotlib.axes import Axes

        from companion.plots import plot_curves, plot_loss_curves

        if title is not None:
            check_instance("title", title, str, "a string or None")
        if axes is not None and not (
            isinstance(axes, (tuple, list, np.ndarray))
            and len(axes) == 2
            and all(isinstance(ax, Axes) for ax in axes)
        ):
            raise TypeError(
                "axes must be None or a pair of matplotlib Axes (loss, accuracy), such as "
                f"plt.subplots(1, 2)[1], got {type(axes).__name__}"
            )
        self._require_consistent_lengths()
        if self.num_epochs == 0:
            raise ValueError("History has no epochs to plot (train_loss is empty)")
        if axes is None:
            _, axes = plt.subplots(1, 2, figsize=(11, 4))
        ax_loss, ax_accuracy = axes
        epochs = np.arange(1, self.num_epochs + 1)
        losses = {"train": (epochs, self.train_loss)}
        accuracies = {"train": (epochs, self.train_accuracy)}
        if self.val_loss:
            losses["validation"] = (epochs, self.val_loss)
            accuracies["validation"] = (epochs, self.val_accuracy)
        plot_loss_curves(
            losses, ax=ax_loss, xlabel="epoch", ylabel="cross-entropy loss (nats)", title=title
        )
        plot_curves(
            accuracies,
            ax=ax_accuracy,
            xlabel="epoch",
            ylabel="accuracy (fraction correct)",
            title=title,
        )
        return axes


# ---------------------------------------------------------------- networks

# A guard against a mistyped size (width=10**9): an MLP beyond this would take gigabytes, and
# torch would spend minutes initialising it before running out of memory.
MAX_MLP_PARAMETERS = 10**9


def make_mlp(
    in_features: int,
    out_features: int,
    *,
    width: int = 128,
    depth: int = 1,
    dropout: float = 0.0,
    activation: Callable[[], nn.Module] = nn.ReLU,
) -> nn.Sequential:
    """A multilayer perceptron: `depth` hidden layers of `width` units, then a linear output.

    Each hidden layer is ``Linear -> activation()``, followed by ``Dropout(dropout)`` when
    `dropout` > 0; ``depth = 0`` is a single Linear layer (a linear model). The network
    is created on the CPU with torch's default initialisation: seed first, move it after.
    `activation` is a module class or a function of no arguments returning a module; sizes
    giving more than `MAX_MLP_PARAMETERS` parameters raise ValueError before allocating.
    """
    in_features = check_int("in_features", in_features, 1)
    out_features = check_int("out_features", out_features, 1)
    width = check_int("width", width, 1)
    depth = check_int("depth", depth, 0)
    dropout = check_float("dropout", dropout, 0.0, 1.0, high_open=True)
    if isinstance(activation, nn.Module) or not callable(activation):
        raise TypeError(
            f"activation must be a module class such as torch.nn.ReLU, got {activation!r}"
        )
    hidden = in_features * width + width + (depth - 1) * (width * width + width)
    num_parameters = (hidden if depth else 0) + (width if depth else in_features) * out_features
    num_parameters += out_features
    if num_parameters > MAX_MLP_PARAMETERS:
        raise ValueError(
            f"make_mlp({in_features}, {out_features}, width={width}, depth={depth}) would have "
            f"{num_parameters:.3g} parameters; at most {MAX_MLP_PARAMETERS:.0e} are allowed "
            "(is a size mistyped?)"
        )
    layers: list[nn.Module] = []
    fan_in = in_features
    for _ in range(depth):
        layers.append(nn.Linear(fan_in, width))
        try:
            layers.append(activation())
        except TypeError as error:
            raise TypeError(
                "activation must be callable with no arguments, like torch.nn.ReLU; "
                f"activation() raised: {error}"
            ) from error
        if not isinstance(layers[-1], nn.Module):
            raise TypeError(
                f"activation() must return a torch.nn.Module, got {type(layers[-1]).__name__}"
            )
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        fan_in = width
    return nn.Sequential(*layers, nn.Linear(fan_in, out_features))


def _non_finite_weight(model: nn.Module) -> str | None:
    """The name of the first floating parameter or buffer of `model` holding NaN or ±inf, or None.

    One reduction per tensor, then a single synchronisation.
    """
    named = [
        (name, tensor)
        for name, tensor in (*model.named_parameters(), *model.named_buffers())
        if tensor.is_floating_point() and tensor.numel() > 0
    ]
    if not named:
        return None
    flags = [torch.isfinite(tensor).all() for _, tensor in named]
    # torch.stack needs one device; a model spread over several is gathered on the CPU.
    if len({flag.device for flag in flags}) > 1:
        flags = [flag.cpu() for flag in flags]
    finite = torch.stack(flags).cpu()
    if bool(finite.all()):
        return None
    return named[int(torch.argmin(finite.int()))][0]


_KERAS_LAYERS = (nn.Linear, nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.Dropout)


def keras_copy(net: nn.Sequential, *, dtype: str = "float32") -> Any:
    """A `keras.Sequential` with the layers and the weights of the PyTorch `net`.

    Supported layers: Linear (a Dense layer; Keras keeps the kernel as (in, out), torch
    the weight as (out, in), so the kernel is the transposed weight), ReLU, LeakyReLU,
    Tanh, Sigmoid and Dropout; any other layer raises TypeError naming it. The model is
    built for inputs of width ``in_features`` of the first Linear layer, with weights of
    `dtype` ("float64" for checks that compare to round-off). A copy, not a view:
    training one network leaves the other unchanged. Weights holding NaN or inf raise
    ValueError (a copy of a diverged network computes nothing). All checks run before
    TensorFlow is imported.
    """
    check_instance("net", net, nn.Sequential, "a torch.nn.Sequential")
    dtype = check_choice("dtype", dtype, ("float32", "float64"))
    for index, module in enumerate(net):
        if not isinstance(module, _KERAS_LAYERS):
            raise TypeError(
                f"keras_copy cannot copy layer {index} ({type(module).__name__}); supported: "
                "Linear, ReLU, LeakyReLU, Tanh, Sigmoid, Dropout"
            )
    linears = [m for m in net if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("net has no Linear layer, so there is no input width to build for")
    bad = _non_finite_weight(net)
    if bad is not None:
        raise ValueError(f"net's weight {bad!r} holds NaN or inf; a copy would compute NaN")

    from companion.runtime import tensorflow

    keras = tensorflow().keras
    layers, weights = [], []
    for module in net:
        if isinstance(module, nn.Linear):
            layer = keras.layers.Dense(
                module.out_features, use_bias=module.bias is not None, dtype=dtype
            )
            # (out, in) -> Dense's kernel (in, out).
            kernel = module.weight.detach().cpu().double().numpy().T
            bias = [module.bias.detach().cpu().double().numpy()] if module.bias is not None else []
            weights.append((layer, [kernel, *bias]))
        elif isinstance(module, nn.LeakyReLU):
            layer = keras.layers.LeakyReLU(negative_slope=module.negative_slope, dtype=dtype)
        elif isinstance(module, nn.ReLU):
            layer = keras.layers.ReLU(dtype=dtype)
        elif isinstance(module, (nn.Tanh, nn.Sigmoid)):
            name = "tanh" if isinstance(module, nn.Tanh) else "sigmoid"
            layer = keras.layers.Activation(name, dtype=dtype)
        else:
            layer = keras.layers.Dropout(module.p, dtype=dtype)
        layers.append(layer)
    model = keras.Sequential([keras.Input((linears[0].in_features,), dtype=dtype), *layers])
    for layer, values in weights:
        layer.set_weights([value.astype(dtype) for value in values])
    return model


def model_device(model: nn.Module) -> torch.device:
    """The one device all of `model`'s parameters and buffers live on (ValueError if several)."""
    check_instance("model", model, nn.Module, "a torch.nn.Module")
    devices = {t.device for t in (*model.parameters(), *model.buffers())}
    if not devices:
        raise ValueError("model has no parameters or buffers, so it has no device to train on")
    if len(devices) > 1:
        raise ValueError(
            f"model's tensors are spread over several devices {sorted(map(str, devices))}; "
            "move it with model.to(device)"
        )
    return devices.pop()


def _check_on_device(model: nn.Module, device: torch.device | str | None) -> torch.device:
    here = model_device(model)
    if device is None:
        return here
    # A name this machine lacks or torch does not know is refused by the runtime, clearly.
    device = resolve_device(device)
    # cuda and cuda:0 name the same device; compare type and index where both are given.
    if here.type != device.type or (device.index is not None and here.index != device.index):
        raise ValueError(
            f"model is on {here} but device is {device}; move it first with model.to(device)"
        )
    return here


def _checked_batch(batch: Any, device: torch.device, loader_name: str) -> Batch:
    """A batch (X, y) moved to `device`, after checks that read only types and shapes."""
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        raise TypeError(f"{loader_name} must yield (X, y) pairs, got {type(batch).__name__}")
    X, y = batch
    if not (isinstance(X, torch.Tensor) and isinstance(y, torch.Tensor)):
        raise TypeError(
            f"{loader_name} must yield (X, y) pairs of torch tensors, got "
            f"({type(X).__name__}, {type(y).__name__}); convert arrays with torch.from_numpy "
            "(a TensorDataset of tensors does this once)"
        )
    if X.ndim == 0 or y.ndim != 1:
        raise ValueError(
            f"{loader_name} must yield X of shape (B, ...) and y of shape (B,), class indices; "
            f"got {tuple(X.shape)} and {tuple(y.shape)}"
        )
    if y.dtype != torch.long:
        raise TypeError(
            f"{loader_name} must yield y of class indices as int64 (y.long()), got {y.dtype}"
        )
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"a batch from {loader_name} has {X.shape[0]} inputs but {y.shape[0]} targets"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{loader_name} yielded an empty batch (0 examples); drop it")
    return X.to(device, non_blocking=True), y.to(device, non_blocking=True)


def _forward(model: nn.Module, X: torch.Tensor, loader_name: str) -> torch.Tensor:
    """`model(X)`; torch's dtype and shape errors are re-raised saying what to fix.

    The diagnosis runs only when the forward pass has failed: nothing is added to a step.
    """
    try:
        return model(X)
    except RuntimeError as error:
        # Out-of-memory and device errors are subclasses: they pass through unchanged.
        if type(error) is not RuntimeError:
            raise
        said = str(error).splitlines()[0]
        dtypes = sorted({str(p.dtype) for p in model.parameters() if p.is_floating_point()})
        if dtypes and str(X.dtype) not in dtypes:
            raise TypeError(
                f"{loader_name} yields X of dtype {X.dtype} but the model's weights are "
                f"{' and '.join(dtypes)}: convert one to the other, e.g. X.float() for float32 "
                f"weights, or model.to(X.dtype) (torch: {said})"
            ) from error
        if "shape" in said or "size" in said:
            raise ValueError(
                f"model cannot take X of shape {tuple(X.shape)} from {loader_name} (torch: {said})"
            ) from error
        raise


def _loss(loss_fn: LossFn, y_hat: Any, y: torch.Tensor, loader_name: str) -> torch.Tensor:
    """The batch's loss, checked to be a scalar tensor; logits must be (B, C) for accuracy."""
    if not (isinstance(y_hat, torch.Tensor) and y_hat.ndim == 2 and len(y_hat) == len(y)):
        got = tuple(y_hat.shape) if isinstance(y_hat, torch.Tensor) else type(y_hat).__name__
        raise ValueError(
            f"model must map a batch of {len(y)} inputs from {loader_name} to logits of shape "
            f"({len(y)}, num_classes), got {got}"
        )
    try:
        loss = loss_fn(y_hat, y)
    except IndexError as error:
        raise ValueError(
            f"{loader_name} yields y with a class index outside [0, {y_hat.shape[1] - 1}], the "
            f"classes of a model with {y_hat.shape[1]} outputs (torch: {error})"
        ) from error
    if not isinstance(loss, torch.Tensor):
        raise TypeError(
            f"loss_fn must return a scalar tensor (the batch's mean loss), got "
            f"{type(loss).__name__}"
        )
    if loss.ndim != 0:
        raise ValueError(
            "loss_fn must return a scalar tensor (the batch's mean loss), got shape "
            f"{tuple(loss.shape)}; use reduction='mean' (the default), not 'none'"
        )
    return loss


def _accuracy_count(y_hat: torch.Tensor, y: torch.Tensor) -> int:
    """Correct predictions in a batch of logits y_hat (B, C) against class indices y (B,)."""
    return int((y_hat.argmax(dim=1) == y).sum())


def _non_finite_count(X: torch.Tensor | None) -> int:
    if X is None or not X.is_floating_point():
        return 0
    return int((~torch.isfinite(X)).sum())


def _why_not_finite(
    model: nn.Module,
    X: torch.Tensor | None,
    previous_X: torch.Tensor | None = None,
    previous_step: str = "the previous step",
) -> tuple[str, str]:
    """Why a loss (or the weights) went NaN or inf: ("data", what), ("weights", which) or
    ("outputs", ""). NaN inputs can poison the weights through the gradients even when their
    own loss is finite (a ReLU that outputs 0), so the previous batch is looked at too.

    Called only once something is not finite, so its synchronisations cost nothing in a run.
    (y needs no look: the batch checks made it int64 class indices.)
    """
    bad = _non_finite_count(X)
    if bad:
        return "data", f"the batch's X holds {bad} NaN or infinite value(s)"
    weight = _non_finite_weight(model)
    if weight is None:
        return "outputs", ""
    bad = _non_finite_count(previous_X)
    if bad:
        return "data", (
            f"the batch's X at {previous_step} held {bad} NaN or infinite value(s), and its "
            f"gradients made weight {weight!r} NaN"
        )
    return "weights", weight


def _require_reiterable(name: str, loader: Any, num_epochs: int) -> None:
    check_instance(name, loader, Iterable, "an iterable of (X, y) batches, such as a DataLoader")
    if num_epochs > 1 and isinstance(loader, Iterator):
        raise ValueError(
            f"{name} is an iterator (a generator, say), used up after one epoch; for "
            f"num_epochs={num_epochs} pass something iterated afresh each epoch, such as a "
            "DataLoader or a list of batches"
        )


def amp_supported(device: torch.device | str) -> bool:
    """Mixed precision pays off (and GradScaler works) on accelerators with autocast, not CPUs.

    `device` is a device name or torch.device; one this machine lacks has no autocast here.
    """
    check_instance("device", device, (str, torch.device), "a device name or a torch.device")
    try:
        device = resolve_device(device)
    except DeviceUnavailableError:
        return False
    return not is_cpu(device) and torch.amp.is_autocast_available(device.type)


@torch.no_grad()
def _evaluate(
    model: nn.Module,
    loader: Iterable[Any],
    device: torch.device,
    loss_fn: LossFn,
    loader_name: str,
    non_finite: type[Exception] = ValueError,
) -> dict[str, float]:
    """`evaluate`'s loop; a NaN or infinite loss raises `non_finite` saying what made it so."""
    was_training = model.training
    model.eval()
    total_loss, num_correct, num_examples = 0.0, 0, 0
    try:
        for step, batch in enumerate(loader, start=1):
            X, y = _checked_batch(batch, device, loader_name)
            y_hat = _forward(model, X, loader_name)
            loss = float(_loss(loss_fn, y_hat, y, loader_name))
            if not np.isfinite(loss):
                cause, what = _why_not_finite(model, X)
                advice = {
                    "data": f"{what}: check the data",
                    "weights": f"the model's weight {what!r} holds NaN or inf: the model "
                    "diverged in training; retrain it (smaller learning rate) or load a "
                    "good checkpoint",
                    "outputs": "the model's outputs overflowed on finite inputs and weights",
                }[cause]
                raise non_finite(f"the loss is {loss} on batch {step} of {loader_name}: {advice}")
            total_loss += loss * len(y)
            num_correct += _accuracy_count(y_hat, y)
            num_examples += len(y)
    finally:
        model.train(was_training)
    if num_examples == 0:
        raise ValueError(f"{loader_name} yielded no examples to evaluate on")
    return {
        "loss": total_loss / num_examples,
        "accuracy": num_correct / num_examples,
        "num_examples": num_examples,
    }


def evaluate(
    model: nn.Module,
    loader: Iterable[Any],
    device: torch.device | str | None = None,
    loss_fn: LossFn = F.cross_entropy,
) -> dict[str, float]:
    """Mean loss and accuracy of `model` over `loader` (pairs X, y of class indices), in eval mode.

    `loss_fn` returns a batch's mean loss (a scalar tensor). The model's train/eval mode is
    restored afterwards. Returns ``{"loss": ..., "accuracy": ..., "num_examples": ...}``. A
    NaN or infinite loss raises ValueError saying whether the inputs or the model's weights
    hold NaN, rather than reporting a meaningless accuracy.
    """
    device = _check_on_device(model, device)
    check_callable("loss_fn", loss_fn)
    _require_reiterable("loader", loader, 1)
    return _evaluate(model, loader, device, loss_fn, "loader")


def _check_optimizer(model: nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any) -> None:
    """The optimizer must update the model, and the scheduler drive that optimizer."""
    check_instance("optimizer", optimizer, torch.optim.Optimizer, "a torch.optim.Optimizer")
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        raise ValueError("model has no trainable parameters (requires_grad=True) to fit")
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    # At least one, not all: an optimizer over part of the model (its head, say) is legitimate.
    if not any(id(p) in held for p in trainable):
        raise ValueError(
            "optimizer updates none of model's parameters (was it built on another model?); "
            "build it on this one, e.g. torch.optim.SGD(model.parameters(), lr=0.1)"
        )
    if scheduler is None:
        return
    if not callable(getattr(scheduler, "step", None)):
        raise TypeError(
            "scheduler must be None or a learning-rate scheduler with a step() method, got "
            f"{type(scheduler).__name__}"
        )
    if getattr(scheduler, "optimizer", optimizer) is not optimizer:
        raise ValueError(
            "scheduler was built on another optimizer, so it would change nothing here; "
            "build it on the optimizer passed to fit"
        )
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        raise ValueError(
            "scheduler ReduceLROnPlateau needs a metric at each step(), and fit calls "
            "scheduler.step() without one; step it yourself or use a schedule by epoch"
        )


def _divergence_message(
    when: str, cause: str, what: str, first_step: bool, optimizer: torch.optim.Optimizer
) -> str:
    """`fit`'s divergence message: where it happened, what was NaN, and the advice that fits."""
    lr = optimizer.param_groups[0].get("lr")
    step_advice = f"try a smaller learning rate than lr={lr}, or clip the gradients"
    advice = {
        "data": f"{what}: check the data (the training itself did not diverge)",
        "weights": f"the model's weight {what!r} "
        + (
            "held NaN or inf before fit began: re-initialise the model or load a good checkpoint"
            if first_step
            else f"became NaN or inf: training diverged; {step_advice}"
        ),
        "outputs": "inputs and weights are finite "
        + (
            "before any update, so check the model and loss_fn (a log of 0? a division by 0?)"
            if first_step
            else f"but the outputs overflowed: training diverged; {step_advice}"
        ),
    }[cause]
    return f"{when}: {advice}"


def fit(
    model: nn.Module,
    loss_fn: LossFn,
    optimizer: torch.optim.Optimizer,
    train_loader: Iterable[Any],
    val_loader: Iterable[Any] | None = None,
    num_epochs: int = 10,
    device: torch.device | str | None = None,
    scheduler: Any = None,
    amp: bool = False,
    progress: bool = True,
) -> History:
    """Train `model` for `num_epochs` passes over `train_loader`: forward, loss, backward, step.

    The model must already be on `device` (default: wherever it is); batches (X, y) of
    tensors, y int64 class indices, are moved there. `loss_fn` returns the batch's mean loss
    (a scalar tensor). `optimizer` must hold the model's parameters and `scheduler` (called
    once per epoch) must drive that optimizer. With `amp`, the forward pass runs in float16
    autocast with a gradient scaler (accelerators only). A NaN or infinite loss (training
    or validation), or weights that became NaN, raise `TrainingDiverged` naming the epoch
    and step and the likely cause (NaN data, NaN initial weights, or too large a step).
    """
    num_epochs = check_int("num_epochs", num_epochs, 1)
    amp = check_bool("amp", amp)
    progress = check_bool("progress", progress)
    device = _check_on_device(model, device)
    check_callable("loss_fn", loss_fn)
    _check_optimizer(model, optimizer, scheduler)
    _require_reiterable("train_loader", train_loader, num_epochs)
    if val_loader is not None:
        _require_reiterable("val_loader", val_loader, num_epochs)
    if amp and not amp_supported(device):
        raise ValueError(
            f"amp=True needs an accelerator with autocast; device {device} runs in full "
            "precision only"
        )
    scaler = torch.amp.GradScaler(device.type) if amp else None
    autocast = (
        (lambda: torch.autocast(device.type, dtype=torch.float16))
        if amp
        else contextlib.nullcontext
    )

    history = History()
    X = None
    epochs = tqdm(range(1, num_epochs + 1), desc="epochs", disable=not progress, leave=False)
    for epoch in epochs:
        model.train()
        total_loss, num_correct, num_examples = 0.0, 0, 0
        start = time.perf_counter()
        for step, batch in enumerate(train_loader, start=1):
            # The previous step's inputs, kept (not copied) for the diagnosis of a NaN.
            previous_X = X
            X, y = _checked_batch(batch, device, "train_loader")
            with autocast():
                y_hat = _forward(model, X, "train_loader")
                loss = _loss(loss_fn, y_hat, y, "train_loader")
            if not torch.isfinite(loss):
                before = f"step {step - 1}" if step > 1 else "the previous epoch's last step"
                cause, what = _why_not_finite(model, X, previous_X, before)
                when = f"loss is {loss.item()} at epoch {epoch}, step {step}"
                raise TrainingDiverged(
                    _divergence_message(when, cause, what, epoch == 1 and step == 1, optimizer)
                )
            optimizer.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            else:
                loss.backward()
                optimizer.step()
            total_loss += loss.item() * len(y)
            num_correct += _accuracy_count(y_hat.detach(), y)
            num_examples += len(y)
        # Time the work, not its queueing.
        synchronize(device)
        history.epoch_seconds.append(time.perf_counter() - start)
        if num_examples == 0:
            raise ValueError("train_loader yielded no examples")
        # The last step's update is seen by no loss this epoch: check the weights it left.
        if _non_finite_weight(model) is not None:
            cause, what = _why_not_finite(model, None, X, f"step {step}")
            raise TrainingDiverged(
                _divergence_message(f"after epoch {epoch}", cause, what, False, optimizer)
            )
        history.train_loss.append(total_loss / num_examples)
        history.train_accuracy.append(num_correct / num_examples)
        if val_loader is not None:
            where = f"val_loader (validation after epoch {epoch})"
            metrics = _evaluate(model, val_loader, device, loss_fn, where, TrainingDiverged)
            history.val_loss.append(metrics["loss"])
            history.val_accuracy.append(metrics["accuracy"])
            epochs.set_postfix(
                train_loss=f"{history.train_loss[-1]:.3f}",
                val_accuracy=f"{metrics['accuracy']:.3f}",
            )
        if scheduler is not None:
            scheduler.step()
    return history
