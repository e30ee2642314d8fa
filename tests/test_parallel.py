"""Unit tests of `companion.parallel`: the DDP harness computes what single-process SGD
computes, and refuses what it cannot split or train."""

from __future__ import annotations

import pytest
import torch
from test_training import _blobs, _model
from torch import nn
from torch.nn import functional as F

from companion.parallel import train_data_parallel
from companion.training import TrainingDiverged


def _single_process_sgd(
    model: nn.Module, X: torch.Tensor, y: torch.Tensor, lr: float, batch_size: int, num_epochs: int
) -> nn.Module:
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(num_epochs):
        for start in range(0, len(X), batch_size):
            loss = F.cross_entropy(
                model(X[start : start + batch_size]), y[start : start + batch_size]
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model


def test_data_parallel_matches_single_process() -> None:
    X, y = _blobs(128)
    model = _model()
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    state = train_data_parallel(model, X, y, lr=0.5, batch_size=32, num_epochs=2)
    # The caller's model is left untouched.
    for key, value in model.state_dict().items():
        assert torch.equal(value, initial[key])
    single = _single_process_sgd(model, X, y, lr=0.5, batch_size=32, num_epochs=2).state_dict()
    assert max((state[k] - single[k]).abs().max().item() for k in single) <= 1e-6
    # It did train.
    assert max((state[k] - initial[k]).abs().max().item() for k in single) > 1e-3


def test_data_parallel_raises_training_diverged_for_nan_weights_after_training() -> None:
    """Issue 18: fit raised TrainingDiverged, this path returned an all-NaN state dict."""
    X, y = _blobs(64)
    # Finite inputs, but steps of 1e35 overflow float32 within the first epoch.
    with pytest.raises(TrainingDiverged, match=r"trained by train_data_parallel hold NaN or inf"):
        train_data_parallel(_model(), X * 1e5, y, lr=1e35, batch_size=32, num_epochs=2)


def test_data_parallel_rejects_bad_sizes() -> None:
    X, y = _blobs(100)
    model = _model()
    with pytest.raises(ValueError, match="multiple of world_size"):
        train_data_parallel(model, X, y, lr=0.1, batch_size=25, num_epochs=1)
    with pytest.raises(ValueError, match="multiple of batch_size"):
        train_data_parallel(model, X, y, lr=0.1, batch_size=32, num_epochs=1)
    with pytest.raises(ValueError, match="^lr must be a finite number > 0, got -1.0"):
        train_data_parallel(model, X, y, lr=-1.0, batch_size=20, num_epochs=1)
    with pytest.raises(TypeError, match="^lr must be a finite number > 0, got str"):
        train_data_parallel(model, X, y, lr="0.1", batch_size=20, num_epochs=1)
    with pytest.raises(TypeError, match="^batch_size must be an integer >= 1, got float"):
        train_data_parallel(model, X, y, lr=0.1, batch_size=20.0, num_epochs=1)
    with pytest.raises(ValueError, match="same n"):
        train_data_parallel(model, X, y[:50], lr=0.1, batch_size=20, num_epochs=1)
    with pytest.raises(ValueError, match="num_epochs"):
        train_data_parallel(model, X, y, lr=0.1, batch_size=20, num_epochs=0)
