"""The plumbing of supervised training: networks, the loop, evaluation, checkpoints and a
two-process DDP harness.

A chapter writes its training *step* (forward, loss, backward, step) by hand first;
`fit` is the same loop, packaged, with what a real loop also needs: device moves,
train/eval modes, per-epoch metrics, a progress bar, mixed precision where the
device supports it, and a clear stop when the loss stops being a number.
"""

from __future__ import annotations

import contextlib
import copy
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from companion.checks import check_choice, check_float, check_int, check_positive
from companion.runtime import is_cpu, synchronize

Batch = tuple[torch.Tensor, torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite: the step was too large (or the data holds a NaN)."""


@dataclass
class History:
    """Per-epoch metrics of one `fit` run; lists have one entry per finished epoch.

    Train metrics are running averages over the epoch's batches (in train mode, so with
    dropout active); validation metrics come from `evaluate` after the epoch.
    """

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    # The wall time of each epoch's training steps.
    epoch_seconds: list[float] = field(default_factory=list)

    @property
    def num_epochs(self) -> int:
        return len(self.train_loss)

    def plot(self, axes: Any = None, title: str | None = None) -> Any:
        """Loss (left, log axis) and accuracy (right) per epoch, train and validation; the axes."""
        import matplotlib.pyplot as plt

        from companion.plots import plot_curves, plot_loss_curves

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
    """
    in_features = check_int("in_features", in_features, 1)
    out_features = check_int("out_features", out_features, 1)
    width = check_int("width", width, 1)
    depth = check_int("depth", depth, 0)
    dropout = check_float("dropout", dropout, 0.0, 1.0, high_open=True)
    if not callable(activation):
        raise TypeError(
            f"activation must be a module class such as torch.nn.ReLU, got {activation!r}"
        )
    layers: list[nn.Module] = []
    fan_in = in_features
    for _ in range(depth):
        layers += [nn.Linear(fan_in, width), activation()]
        if not isinstance(layers[-1], nn.Module):
            raise TypeError(
                f"activation() must return a torch.nn.Module, got {type(layers[-1]).__name__}"
            )
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        fan_in = width
    return nn.Sequential(*layers, nn.Linear(fan_in, out_features))


def keras_copy(net: nn.Sequential, *, dtype: str = "float32") -> Any:
    """A `keras.Sequential` with the layers and the weights of the PyTorch `net`.

    Supported layers: Linear (a Dense layer; Keras keeps the kernel as (in, out), torch
    the weight as (out, in), so the kernel is the transposed weight), ReLU, LeakyReLU,
    Tanh, Sigmoid and Dropout; any other layer raises TypeError naming it. The model is
    built for inputs of width ``in_features`` of the first Linear layer, with weights of
    `dtype` ("float64" for checks that compare to round-off). A copy, not a view:
    training one network leaves the other unchanged.
    """
    if not isinstance(net, nn.Sequential):
        raise TypeError(f"net must be a torch.nn.Sequential, got {type(net).__name__}")
    dtype = check_choice("dtype", dtype, ("float32", "float64"))
    linears = [m for m in net if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("net has no Linear layer, so there is no input width to build for")

    from companion.runtime import tensorflow

    keras = tensorflow().keras
    layers, weights = [], []
    for index, module in enumerate(net):
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
        elif isinstance(module, nn.Dropout):
            layer = keras.layers.Dropout(module.p, dtype=dtype)
        else:
            raise TypeError(
                f"keras_copy cannot copy layer {index} ({type(module).__name__}); supported: "
                "Linear, ReLU, LeakyReLU, Tanh, Sigmoid, Dropout"
            )
        layers.append(layer)
    model = keras.Sequential([keras.Input((linears[0].in_features,), dtype=dtype), *layers])
    for layer, values in weights:
        layer.set_weights([value.astype(dtype) for value in values])
    return model


def model_device(model: nn.Module) -> torch.device:
    """The one device all of `model`'s parameters and buffers live on (ValueError if several)."""
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
    device = torch.device(device)
    # cuda and cuda:0 name the same device; compare type and index where both are given.
    if here.type != device.type or (device.index is not None and here.index != device.index):
        raise ValueError(
            f"model is on {here} but device is {device}; move it first with model.to(device)"
        )
    return here


def _checked_batch(batch: Any, device: torch.device) -> Batch:
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        raise TypeError(f"a loader must yield (X, y) pairs, got {type(batch).__name__}")
    X, y = batch
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"a batch has {X.shape[0]} inputs but {y.shape[0]} targets")
    return X.to(device, non_blocking=True), y.to(device, non_blocking=True)


def _accuracy_count(y_hat: torch.Tensor, y: torch.Tensor) -> int:
    """Correct predictions in a batch of logits y_hat (B, C) against class indices y (B,)."""
    return int((y_hat.argmax(dim=1) == y).sum())


def amp_supported(device: torch.device | str) -> bool:
    """Mixed precision pays off (and GradScaler works) on accelerators with autocast, not CPUs."""
    device = torch.device(device)
    return not is_cpu(device) and torch.amp.is_autocast_available(device.type)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Iterable[Any],
    device: torch.device | str | None = None,
    loss_fn: LossFn = F.cross_entropy,
) -> dict[str, float]:
    """Mean loss and accuracy of `model` over `loader` (pairs X, y of class indices), in eval mode.

    The model's train/eval mode is restored afterwards. Returns
    ``{"loss": ..., "accuracy": ..., "num_examples": ...}``.
    """
    device = _check_on_device(model, device)
    was_training = model.training
    model.eval()
    total_loss, num_correct, num_examples = 0.0, 0, 0
    try:
        for batch in loader:
            X, y = _checked_batch(batch, device)
            y_hat = model(X)
            total_loss += float(loss_fn(y_hat, y)) * len(y)
            num_correct += _accuracy_count(y_hat, y)
            num_examples += len(y)
    finally:
        model.train(was_training)
    if num_examples == 0:
        raise ValueError("loader yielded no examples to evaluate on")
    return {
        "loss": total_loss / num_examples,
        "accuracy": num_correct / num_examples,
        "num_examples": num_examples,
    }


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

    The model must already be on `device` (default: wherever it is); batches are moved
    there. `scheduler.step()` is called once per epoch. With `amp`, the forward pass runs
    in float16 autocast with a gradient scaler (accelerators only). A NaN or infinite loss
    raises `TrainingDiverged` naming the epoch and step, instead of training on garbage.
    """
    num_epochs = check_int("num_epochs", num_epochs, 1)
    device = _check_on_device(model, device)
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
    epochs = tqdm(range(1, num_epochs + 1), desc="epochs", disable=not progress, leave=False)
    for epoch in epochs:
        model.train()
        total_loss, num_correct, num_examples = 0.0, 0, 0
        start = time.perf_counter()
        for step, batch in enumerate(train_loader, start=1):
            X, y = _checked_batch(batch, device)
            with autocast():
                y_hat = model(X)
                loss = loss_fn(y_hat, y)
            if not torch.isfinite(loss):
                lr = optimizer.param_groups[0].get("lr")
                raise TrainingDiverged(
                    f"loss is {loss.item()} at epoch {epoch}, step {step}: training diverged; "
                    f"try a smaller learning rate than lr={lr}"
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
        history.train_loss.append(total_loss / num_examples)
        history.train_accuracy.append(num_correct / num_examples)
        if val_loader is not None:
            metrics = evaluate(model, val_loader, device, loss_fn)
            history.val_loss.append(metrics["loss"])
            history.val_accuracy.append(metrics["accuracy"])
            epochs.set_postfix(
                train_loss=f"{history.train_loss[-1]:.3f}",
                val_accuracy=f"{metrics['accuracy']:.3f}",
            )
        if scheduler is not None:
            scheduler.step()
    return history


# ---------------------------------------------------------------- checkpoints

_META_TYPES = (int, float, str, bool, type(None))


def _check_meta(name: str, value: Any) -> None:
    """Metadata must load with weights_only=True: plain numbers, strings and containers of them."""
    if isinstance(value, _META_TYPES):
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_meta(name, item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _check_meta(name, key)
            _check_meta(name, item)
        return
    raise TypeError(
        f"checkpoint metadata {name!r} must be numbers, strings, or lists/dicts of them; "
        f"got {type(value).__name__}"
    )


def save_checkpoint(
    path: str | os.PathLike, model: nn.Module, optimizer: torch.optim.Optimizer | None, **meta: Any
) -> Path:
    """Write model (and optimizer) state and `meta` to `path` atomically: temp file, then rename.

    A crash mid-write leaves the previous checkpoint intact rather than half a file.
    """
    for name, value in meta.items():
        _check_meta(name, value)
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"the folder of path {str(path)!r} does not exist")
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "meta": dict(meta),
    }
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    return path


def load_checkpoint(
    path: str | os.PathLike, model: nn.Module, optimizer: torch.optim.Optimizer | None = None
) -> dict[str, Any]:
    """Load a `save_checkpoint` file into `model` (and `optimizer`) safely; return its meta.

    Loading uses ``weights_only=True``: a checkpoint cannot run code.
    Tensors are mapped onto the device `model` lives on. A model of another shape raises
    torch's RuntimeError listing the mismatched keys.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {str(path)!r}")
    state = torch.load(path, map_location=model_device(model), weights_only=True)
    model.load_state_dict(state["model"])
    if optimizer is not None:
        if state["optimizer"] is None:
            raise ValueError(f"checkpoint {str(path)!r} holds no optimizer state")
        optimizer.load_state_dict(state["optimizer"])
    return state["meta"]


# ---------------------------------------------------------------- data parallelism (DDP on CPUs)


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _process_group(rank: int, world_size: int, port: int) -> Iterator[None]:
    import torch.distributed as dist

    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size
    )
    try:
        yield
    finally:
        dist.destroy_process_group()


def ddp_worker(
    rank: int,
    world_size: int,
    port: int,
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    lr: float,
    batch_size: int,
    num_epochs: int,
    out_path: str,
) -> None:
    """One process of `train_data_parallel`: its share of each batch, gradients averaged by DDP.

    Must live in an importable module: `torch.multiprocessing.spawn` starts fresh
    interpreters that find the function by its module and name.
    """
    from torch.nn.parallel import DistributedDataParallel as DDP
    from torch.utils.data import DataLoader, TensorDataset
    from torch.utils.data.distributed import DistributedSampler

    torch.set_num_threads(1)  # two processes on a small machine: one core each
    # spawn hands every process the *same* shared-memory tensors; train a private copy.
    model = copy.deepcopy(model)
    with _process_group(rank, world_size, port):
        dataset = TensorDataset(X, y)
        # Rank r gets examples r, r + world_size, ...: one share of every global batch, in order.
        sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=False)
        loader = DataLoader(dataset, batch_size=batch_size // world_size, sampler=sampler)
        ddp_model = DDP(model)  # broadcasts rank 0's weights, then all-reduces (averages) gradients
        optimizer = torch.optim.SGD(ddp_model.parameters(), lr=lr)
        for epoch in range(num_epochs):
            sampler.set_epoch(epoch)
            for X_batch, y_batch in loader:
                loss = F.cross_entropy(ddp_model(X_batch), y_batch)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        if rank == 0:
            torch.save(ddp_model.module.state_dict(), out_path)


def train_data_parallel(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    lr: float,
    batch_size: int,
    num_epochs: int,
    world_size: int = 2,
) -> dict[str, torch.Tensor]:
    """Train a copy of `model` with DistributedDataParallel on `world_size` CPU processes (gloo).

    Returns the trained state dict.
    Plain SGD on cross-entropy, batches taken in order. Each process gets
    ``batch_size // world_size`` examples of every batch; so that every process sees
    the same number of full batches, len(X) must be a multiple of `batch_size`, which
    must be a multiple of `world_size`. Then the result equals single-process SGD on
    the full batches, up to float round-off.
    """
    world_size = check_int("world_size", world_size, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    num_epochs = check_int("num_epochs", num_epochs, 1)
    if batch_size % world_size:
        raise ValueError(
            f"batch_size ({batch_size}) must be a multiple of world_size ({world_size})"
        )
    if X.ndim < 2 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(
            "X must be (n, ...) and y (n,) with the same n, "
            f"got {tuple(X.shape)} and {tuple(y.shape)}"
        )
    if len(X) % batch_size:
        raise ValueError(
            f"len(X) ({len(X)}) must be a multiple of batch_size ({batch_size}) "
            "so every batch is full"
        )
    lr = check_positive("lr", lr)
    if not (is_cpu(model_device(model)) and is_cpu(X.device)):
        raise ValueError(
            "train_data_parallel runs on CPU processes (gloo); pass a CPU model and CPU tensors"
        )

    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory() as folder:
        out_path = os.path.join(folder, "ddp_state.pt")
        args = (
            world_size,
            _free_loopback_port(),
            model,
            X,
            y,
            float(lr),
            batch_size,
            num_epochs,
            out_path,
        )
        mp.spawn(ddp_worker, args=args, nprocs=world_size, join=True)
        return torch.load(out_path, weights_only=True)
