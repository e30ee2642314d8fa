"""Unit tests of `companion.checkpoints`: a round trip restores the model and the optimizer
exactly, and what cannot be saved or loaded is refused; the faults injected into checkpoints are
in test_bad_input_training.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from test_training import _blobs, _loader, _model
from torch import nn
from torch.nn import functional as F

from companion.checkpoints import load_checkpoint, save_checkpoint
from companion.training import evaluate, fit


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    X, y = _blobs()
    model = _model(seed=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    fit(model, F.cross_entropy, optimizer, _loader(X, y), num_epochs=2, progress=False)
    path = save_checkpoint(
        tmp_path / "net.pt", model, optimizer, epoch=2, note="blobs", sizes=[2, 8, 2]
    )
    assert [p.name for p in tmp_path.iterdir()] == ["net.pt"]  # no temp file left behind

    fresh = _model(seed=2)
    fresh_optimizer = torch.optim.Adam(fresh.parameters(), lr=0.01)
    meta = load_checkpoint(path, fresh, fresh_optimizer)
    assert meta == {"epoch": 2, "note": "blobs", "sizes": [2, 8, 2]}
    for key, value in model.state_dict().items():
        assert torch.equal(value, fresh.state_dict()[key])
    assert (
        fresh_optimizer.state_dict()["state"][0]["step"]
        == optimizer.state_dict()["state"][0]["step"]
    )
    assert evaluate(fresh, _loader(X, y)) == evaluate(model, _loader(X, y))


def test_checkpoint_of_a_scheduled_optimizer_loads_into_a_fresh_one(tmp_path: Path) -> None:
    """Chapter 2's pattern: a scheduler adds 'initial_lr' to the saved groups; a fresh optimizer
    of the same kind, without a scheduler, still takes the state."""
    X, y = _blobs()
    model = _model(seed=1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=2)
    fit(
        model,
        F.cross_entropy,
        optimizer,
        _loader(X, y),
        num_epochs=2,
        scheduler=scheduler,
        progress=False,
    )
    path = save_checkpoint(tmp_path / "net.pt", model, optimizer, epoch=2)
    fresh = _model(seed=2)
    fresh_optimizer = torch.optim.AdamW(fresh.parameters())
    assert load_checkpoint(path, fresh, fresh_optimizer) == {"epoch": 2}
    assert fresh_optimizer.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"]
    assert evaluate(fresh, _loader(X, y)) == evaluate(model, _loader(X, y))


def test_checkpoint_errors(tmp_path: Path) -> None:
    model = _model()
    with pytest.raises(TypeError, match="metadata 'when'"):
        save_checkpoint(tmp_path / "a.pt", model, None, when=object())
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FileNotFoundError, match="folder"):
        save_checkpoint(tmp_path / "missing" / "a.pt", model, None)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(tmp_path / "nothing.pt", model)
    save_checkpoint(tmp_path / "a.pt", model, None)
    with pytest.raises(ValueError, match="no optimizer state"):
        load_checkpoint(tmp_path / "a.pt", model, torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match="does not fit model: size mismatch for 0.weight"):
        load_checkpoint(
            tmp_path / "a.pt", nn.Sequential(nn.Linear(2, 9), nn.ReLU(), nn.Linear(9, 2))
        )


def test_overwriting_a_checkpoint_replaces_it(tmp_path: Path) -> None:
    path = tmp_path / "a.pt"
    save_checkpoint(path, _model(seed=1), None, version=1)
    save_checkpoint(path, _model(seed=2), None, version=2)
    assert load_checkpoint(path, _model()) == {"version": 2}
