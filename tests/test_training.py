"""Unit tests of `companion.training`: fit, evaluate, checkpoints and the DDP harness."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from companion.training import (
    History,
    TrainingDiverged,
    amp_supported,
    evaluate,
    fit,
    load_checkpoint,
    model_device,
    save_checkpoint,
    train_data_parallel,
)


def _blobs(n: int = 256, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two well-separated Gaussian blobs in 2-D: any working loop reaches ~100 % accuracy."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    X = torch.randn(n, 2, generator=g) * 0.5 + (y.float() * 4 - 2).unsqueeze(1)
    return X, y


def _loader(X: torch.Tensor, y: torch.Tensor, batch_size: int = 32) -> DataLoader:
    return DataLoader(TensorDataset(X, y), batch_size=batch_size)


def _model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))


def test_fit_learns_and_records_every_epoch() -> None:
    X, y = _blobs()
    model = _model()
    before = evaluate(model, _loader(X, y))
    history = fit(model, F.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.5), _loader(X, y), _loader(X, y), num_epochs=5, progress=False)
    assert isinstance(history, History) and history.num_epochs == 5
    for values in (history.train_loss, history.train_accuracy, history.val_loss, history.val_accuracy, history.epoch_seconds):
        assert len(values) == 5
    assert history.val_accuracy[-1] > 0.98 and history.val_loss[-1] < before["loss"]
    assert model.training  # fit leaves the model in train mode, where it trained
    assert all(s > 0 for s in history.epoch_seconds)


def test_fit_without_validation_and_with_scheduler() -> None:
    X, y = _blobs()
    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    history = fit(model, F.cross_entropy, optimizer, _loader(X, y), num_epochs=3, scheduler=scheduler, progress=False)
    assert history.val_loss == [] and len(history.train_loss) == 3
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.5 * 0.5**3)


def test_fit_raises_training_diverged_with_epoch_and_step() -> None:
    X, y = _blobs()
    X[40] = float("nan")  # batch 2 of epoch 1
    model = _model()
    with pytest.raises(TrainingDiverged, match=r"epoch 1, step 2.*smaller learning rate"):
        fit(model, F.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1), _loader(X, y), num_epochs=2, progress=False)


def test_fit_diverges_with_a_huge_learning_rate() -> None:
    X, y = _blobs()
    model = nn.Linear(2, 2)
    with pytest.raises(TrainingDiverged, match="lr=1e\\+30"):
        fit(model, lambda y_hat, y: (y_hat**2).mean() * 1e30, torch.optim.SGD(model.parameters(), lr=1e30), _loader(X * 1e10, y), num_epochs=3, progress=False)


@pytest.mark.parametrize("bad", [0, -1])
def test_fit_rejects_non_positive_epochs(bad: int) -> None:
    X, y = _blobs()
    model = _model()
    with pytest.raises(ValueError, match="num_epochs"):
        fit(model, F.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1), _loader(X, y), num_epochs=bad)


@pytest.mark.parametrize("bad", [1.5, "3", True])
def test_fit_rejects_non_int_epochs(bad: object) -> None:
    X, y = _blobs()
    model = _model()
    with pytest.raises(TypeError, match="num_epochs"):
        fit(model, F.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1), _loader(X, y), num_epochs=bad)  # type: ignore[arg-type]


def test_fit_rejects_a_model_on_another_device() -> None:
    X, y = _blobs()
    model = _model().to(torch.device("meta"))
    with pytest.raises(ValueError, match="model is on meta but device is cpu"):
        fit(model, F.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1), _loader(X, y), num_epochs=1, device="cpu")


def test_fit_rejects_mismatched_batch_shapes() -> None:
    X, y = _blobs()
    model = _model()
    bad_loader = [(X[:10], y[:9])]
    with pytest.raises(ValueError, match="10 inputs but 9 targets"):
        fit(model, F.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1), bad_loader, num_epochs=1, progress=False)
    with pytest.raises(TypeError, match=r"\(X, y\) pairs"):
        fit(model, F.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1), [X], num_epochs=1, progress=False)


def test_fit_rejects_an_empty_loader() -> None:
    model = _model()
    with pytest.raises(ValueError, match="no examples"):
        fit(model, F.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1), [], num_epochs=1, progress=False)


def test_amp_refused_on_cpu() -> None:
    X, y = _blobs()
    model = _model()
    assert not amp_supported("cpu")
    with pytest.raises(ValueError, match="amp=True"):
        fit(model, F.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1), _loader(X, y), num_epochs=1, amp=True)


def test_evaluate_counts_and_restores_mode() -> None:
    model = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
    X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([0, 1, 1, 1])  # 3 of 4 right
    model.train()
    metrics = evaluate(model, _loader(X, y, batch_size=3), "cpu")
    assert metrics["accuracy"] == 0.75 and metrics["num_examples"] == 4
    assert metrics["loss"] == pytest.approx(float(F.cross_entropy(model(X).detach(), y)))
    assert model.training
    with pytest.raises(ValueError, match="no examples"):
        evaluate(model, [], "cpu")


def test_model_device_errors() -> None:
    with pytest.raises(ValueError, match="no parameters"):
        model_device(nn.ReLU())
    mixed = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2).to(torch.device("meta")))
    with pytest.raises(ValueError, match="several devices"):
        model_device(mixed)


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    X, y = _blobs()
    model = _model(seed=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    fit(model, F.cross_entropy, optimizer, _loader(X, y), num_epochs=2, progress=False)
    path = save_checkpoint(tmp_path / "net.pt", model, optimizer, epoch=2, note="blobs", sizes=[2, 8, 2])
    assert [p.name for p in tmp_path.iterdir()] == ["net.pt"]  # no temp file left behind

    fresh = _model(seed=2)
    fresh_optimizer = torch.optim.Adam(fresh.parameters(), lr=0.01)
    meta = load_checkpoint(path, fresh, fresh_optimizer)
    assert meta == {"epoch": 2, "note": "blobs", "sizes": [2, 8, 2]}
    for key, value in model.state_dict().items():
        assert torch.equal(value, fresh.state_dict()[key])
    assert fresh_optimizer.state_dict()["state"][0]["step"] == optimizer.state_dict()["state"][0]["step"]
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
    with pytest.raises(RuntimeError, match="size mismatch"):
        load_checkpoint(tmp_path / "a.pt", nn.Sequential(nn.Linear(2, 9), nn.ReLU(), nn.Linear(9, 2)))


def test_overwriting_a_checkpoint_replaces_it(tmp_path: Path) -> None:
    path = tmp_path / "a.pt"
    save_checkpoint(path, _model(seed=1), None, version=1)
    save_checkpoint(path, _model(seed=2), None, version=2)
    assert load_checkpoint(path, _model()) == {"version": 2}


def test_history_plot_draws_both_panels() -> None:
    import matplotlib.pyplot as plt

    history = History([1.0, 0.5], [0.5, 0.9], [1.1, 0.7], [0.4, 0.8], [0.1, 0.1])
    ax_loss, ax_accuracy = history.plot(title="t")
    assert len(ax_loss.lines) == 2 and len(ax_accuracy.lines) == 2
    assert ax_accuracy.get_ylabel().startswith("accuracy")
    plt.close("all")


def _single_process_sgd(model: nn.Module, X: torch.Tensor, y: torch.Tensor, lr: float, batch_size: int, num_epochs: int) -> nn.Module:
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(num_epochs):
        for start in range(0, len(X), batch_size):
            loss = F.cross_entropy(model(X[start : start + batch_size]), y[start : start + batch_size])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model


def test_data_parallel_matches_single_process() -> None:
    X, y = _blobs(128)
    model = _model()
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    state = train_data_parallel(model, X, y, lr=0.5, batch_size=32, num_epochs=2)
    for key, value in model.state_dict().items():  # the caller's model is left untouched
        assert torch.equal(value, initial[key])
    single = _single_process_sgd(model, X, y, lr=0.5, batch_size=32, num_epochs=2).state_dict()
    assert max((state[k] - single[k]).abs().max().item() for k in single) <= 1e-6
    assert max((state[k] - initial[k]).abs().max().item() for k in single) > 1e-3  # it did train


def test_data_parallel_rejects_bad_sizes() -> None:
    X, y = _blobs(100)
    model = _model()
    with pytest.raises(ValueError, match="multiple of world_size"):
        train_data_parallel(model, X, y, lr=0.1, batch_size=25, num_epochs=1)
    with pytest.raises(ValueError, match="multiple of batch_size"):
        train_data_parallel(model, X, y, lr=0.1, batch_size=32, num_epochs=1)
    with pytest.raises(ValueError, match="lr"):
        train_data_parallel(model, X, y, lr=-1.0, batch_size=20, num_epochs=1)
    with pytest.raises(ValueError, match="same n"):
        train_data_parallel(model, X, y[:50], lr=0.1, batch_size=20, num_epochs=1)
    with pytest.raises(ValueError, match="num_epochs"):
        train_data_parallel(model, X, y, lr=0.1, batch_size=20, num_epochs=0)
