"""Data parallelism: a DistributedDataParallel (DDP) harness on CPU processes (gloo).

`train_data_parallel` spawns `world_size` processes that talk over the loopback network;
each runs `ddp_worker` on its share of every batch, and DDP averages their gradients, so
the result equals single-process SGD on the full batches. Everything is checked before any
process starts (issue 18): a bad argument is a TypeError or ValueError naming it, a model
with NaN weights a `TrainingDiverged`, as `fit` raises.
"""

from __future__ import annotations

import contextlib
import copy
import os
import socket
import tempfile
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from companion.checks import check_finite_tensor, check_instance, check_int, check_positive
from companion.runtime import is_cpu
from companion.training import TrainingDiverged, _forward, _non_finite_weight, model_device


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


def _ddp_arguments(
    model: Any, X: Any, y: Any, lr: Any, batch_size: Any, num_epochs: Any, world_size: Any
) -> tuple[float, int, int, int]:
    """`train_data_parallel`'s arguments checked (and `ddp_worker`'s): (lr, batch_size,
    num_epochs, world_size). Runs the model on one example, so a wrong width, dtype or class
    index is reported here rather than from inside a worker process."""
    check_instance("model", model, nn.Module, "a torch.nn.Module")
    check_instance("X", X, torch.Tensor, "a torch.Tensor of inputs (n, ...)")
    check_instance("y", y, torch.Tensor, "a torch.Tensor of class indices (n,)")
    world_size = check_int("world_size", world_size, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    num_epochs = check_int("num_epochs", num_epochs, 1)
    lr = check_positive("lr", lr)
    if batch_size % world_size:
        raise ValueError(
            f"batch_size ({batch_size}) must be a multiple of world_size ({world_size})"
        )
    if X.ndim < 2 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(
            "X must be (n, ...) and y (n,) with the same n, "
            f"got {tuple(X.shape)} and {tuple(y.shape)}"
        )
    if len(X) % batch_size or len(X) == 0:
        raise ValueError(
            f"len(X) ({len(X)}) must be a positive multiple of batch_size ({batch_size}) "
            "so every batch is full"
        )
    if not (is_cpu(model_device(model)) and is_cpu(X.device) and is_cpu(y.device)):
        raise ValueError(
            "train_data_parallel runs on CPU processes (gloo); pass a CPU model and CPU tensors"
        )
    if y.dtype != torch.long:
        raise TypeError(f"y must hold class indices as int64 (y.long()), got {y.dtype}")
    check_finite_tensor("X", X)
    weight = _non_finite_weight(model)
    if weight is not None:
        raise TrainingDiverged(
            f"model's weight {weight!r} holds NaN or inf before training: re-initialise the model"
        )
    with torch.no_grad():
        y_hat = _forward(copy.deepcopy(model).eval(), X[:1], "the X given")
    num_classes = y_hat.shape[1] if y_hat.ndim == 2 else 0
    if y_hat.ndim != 2 or int(y.min()) < 0 or int(y.max()) >= num_classes:
        raise ValueError(
            f"y must hold class indices in [0, {num_classes - 1}] for a model with output shape "
            f"{tuple(y_hat.shape)} per example, got values in [{int(y.min())}, {int(y.max())}]"
        )
    return lr, batch_size, num_epochs, world_size


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
    interpreters that find the function by its module and name. Its arguments are checked
    before the rendezvous, where a rank outside [0, world_size - 1] would wait forever.
    """
    from torch.nn.parallel import DistributedDataParallel as DDP
    from torch.utils.data import DataLoader, TensorDataset
    from torch.utils.data.distributed import DistributedSampler

    lr, batch_size, num_epochs, world_size = _ddp_arguments(
        model, X, y, lr, batch_size, num_epochs, world_size
    )
    rank = check_int("rank", rank, 0, world_size - 1)
    port = check_int("port", port, 1, 65535)
    check_instance("out_path", out_path, (str, os.PathLike), "a file path")
    # Two processes on a small machine: one core each.
    torch.set_num_threads(1)
    # spawn hands every process the *same* shared-memory tensors; train a private copy.
    model = copy.deepcopy(model)
    with _process_group(rank, world_size, port):
        dataset = TensorDataset(X, y)
        # Rank r gets examples r, r + world_size, ...: one share of every global batch, in order.
        sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=False)
        loader = DataLoader(dataset, batch_size=batch_size // world_size, sampler=sampler)
        # Broadcasts rank 0's weights, then all-reduces (averages) gradients.
        ddp_model = DDP(model)
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
    the full batches, up to float round-off. X must be finite and y int64 class indices
    the model's outputs can score; all is checked before any process starts. A model
    with NaN weights, or one whose trained weights are NaN or inf, raises
    `TrainingDiverged`, as `fit` does.
    """
    lr, batch_size, num_epochs, world_size = _ddp_arguments(
        model, X, y, lr, batch_size, num_epochs, world_size
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
        state = torch.load(out_path, weights_only=True)
    bad = [
        key
        for key, value in state.items()
        if value.is_floating_point() and not bool(torch.isfinite(value).all())
    ]
    if bad:
        raise TrainingDiverged(
            f"the weights trained by train_data_parallel hold NaN or inf ({', '.join(bad)}): "
            f"training diverged; try a smaller learning rate than lr={lr}"
        )
    return state
