"""Unit tests of `companion.training`: networks (`make_mlp`, `keras_copy`), fit, evaluate and
History. The checkpoints and the DDP harness have their own (test_checkpoints.py,
test_parallel.py)."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
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
    keras_copy,
    make_mlp,
    model_device,
)

ROOT = Path(__file__).resolve().parents[1]


def _blobs(n: int = 256, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two well-separated Gaussian blobs in 2-D: any working loop reaches ~100 % accuracy."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    X = torch.randn(n, 2, generator=g) * 0.5 + (y.float() * 4 - 2).unsqueeze(1)
    return X, y


def _loader(X: torch.Tensor, y: torch.Tensor, batch_size: int = 32) -> DataLoader:
    return DataLoader(TensorDataset(X, y), batch_size=batch_size)


def _fit_sgd(model: nn.Module, loader: Any, **kwargs: Any) -> Any:
    """`fit` with cross-entropy and plain SGD (lr 0.1): the set-up most tests here share."""
    return fit(
        model, F.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1), loader, **kwargs
    )


def _model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))


def test_fit_learns_and_records_every_epoch() -> None:
    X, y = _blobs()
    model = _model()
    before = evaluate(model, _loader(X, y))
    history = fit(
        model,
        F.cross_entropy,
        torch.optim.SGD(model.parameters(), lr=0.5),
        _loader(X, y),
        _loader(X, y),
        num_epochs=5,
        progress=False,
    )
    assert isinstance(history, History) and history.num_epochs == 5
    for values in (
        history.train_loss,
        history.train_accuracy,
        history.val_loss,
        history.val_accuracy,
        history.epoch_seconds,
    ):
        assert len(values) == 5
    assert history.val_accuracy[-1] > 0.98 and history.val_loss[-1] < before["loss"]
    assert model.training  # fit leaves the model in train mode, where it trained
    assert all(s > 0 for s in history.epoch_seconds)


def test_fit_without_validation_and_with_scheduler() -> None:
    X, y = _blobs()
    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    history = fit(
        model,
        F.cross_entropy,
        optimizer,
        _loader(X, y),
        num_epochs=3,
        scheduler=scheduler,
        progress=False,
    )
    assert history.val_loss == [] and len(history.train_loss) == 3
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.5 * 0.5**3)


def test_fit_raises_training_diverged_with_epoch_and_step() -> None:
    X, y = _blobs()
    # Batch 2 of epoch 1: NaN data, not a too large step, so the advice is to check the data.
    X[40] = float("nan")
    model = _model()
    with pytest.raises(
        TrainingDiverged, match=r"epoch 1, step 2: the batch's X holds 2 NaN.*check the data"
    ):
        _fit_sgd(model, _loader(X, y), num_epochs=2, progress=False)


def test_fit_diverges_with_a_huge_learning_rate() -> None:
    X, y = _blobs()
    model = nn.Linear(2, 2)
    # Step 1's loss is finite; its update (lr 1e30) makes step 2's outputs overflow.
    with pytest.raises(
        TrainingDiverged,
        match=r"epoch 1, step 2: .*overflowed.*smaller learning rate than lr=1e\+30",
    ):
        fit(
            model,
            lambda y_hat, y: (y_hat**2).mean(),
            torch.optim.SGD(model.parameters(), lr=1e30),
            _loader(X, y),
            num_epochs=3,
            progress=False,
        )


def test_fit_names_nan_weights_before_training_and_after_an_update() -> None:
    X, y = _blobs()
    model = _model()
    with torch.no_grad():
        model[0].weight[0, 0] = float("nan")
    with pytest.raises(TrainingDiverged, match=r"weight '0.weight' held NaN or inf before fit"):
        _fit_sgd(model, _loader(X, y), num_epochs=1, progress=False)
    # The last step of an epoch makes the weights infinite: caught after the epoch, not
    # returned as a History of finite losses.
    model = nn.Linear(2, 2)
    with pytest.raises(TrainingDiverged, match=r"after epoch 1: .*weight '(weight|bias)' became"):
        fit(
            model,
            lambda y_hat, y: (y_hat**2).mean() * 1e30,
            torch.optim.SGD(model.parameters(), lr=1e30),
            [(X[:4], y[:4])],
            num_epochs=1,
            progress=False,
        )


@pytest.mark.parametrize("bad", [0, -1])
def test_fit_rejects_non_positive_epochs(bad: int) -> None:
    X, y = _blobs()
    model = _model()
    with pytest.raises(ValueError, match="num_epochs"):
        _fit_sgd(model, _loader(X, y), num_epochs=bad)


@pytest.mark.parametrize("bad", [1.5, "3", True])
def test_fit_rejects_non_int_epochs(bad: object) -> None:
    X, y = _blobs()
    model = _model()
    with pytest.raises(TypeError, match="num_epochs"):
        _fit_sgd(model, _loader(X, y), num_epochs=bad)


def test_fit_rejects_a_model_on_another_device() -> None:
    X, y = _blobs()
    model = _model().to(torch.device("meta"))
    with pytest.raises(ValueError, match="model is on meta but device is cpu"):
        _fit_sgd(model, _loader(X, y), num_epochs=1, device="cpu")


def test_fit_rejects_mismatched_batch_shapes() -> None:
    X, y = _blobs()
    model = _model()
    bad_loader = [(X[:10], y[:9])]
    with pytest.raises(ValueError, match="10 inputs but 9 targets"):
        _fit_sgd(model, bad_loader, num_epochs=1, progress=False)
    with pytest.raises(TypeError, match=r"\(X, y\) pairs"):
        _fit_sgd(model, [X], num_epochs=1, progress=False)


def test_fit_rejects_an_empty_loader() -> None:
    model = _model()
    with pytest.raises(ValueError, match="no examples"):
        _fit_sgd(model, [], num_epochs=1, progress=False)


def test_amp_refused_on_cpu() -> None:
    X, y = _blobs()
    model = _model()
    assert not amp_supported("cpu")
    with pytest.raises(ValueError, match="amp=True"):
        _fit_sgd(model, _loader(X, y), num_epochs=1, amp=True)


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


def test_history_plot_draws_both_panels() -> None:
    import matplotlib.pyplot as plt

    history = History([1.0, 0.5], [0.5, 0.9], [1.1, 0.7], [0.4, 0.8], [0.1, 0.1])
    ax_loss, ax_accuracy = history.plot(title="t")
    assert len(ax_loss.lines) == 2 and len(ax_accuracy.lines) == 2
    assert ax_accuracy.get_ylabel().startswith("accuracy")
    # Losses on a log axis, accuracies (fractions up to 1) on a linear one.
    assert ax_loss.get_yscale() == "log" and ax_accuracy.get_yscale() == "linear"
    plt.close("all")


# ---------------------------------------------------------------- make_mlp


def _layer_kinds(net: nn.Sequential) -> list[str]:
    return [type(m).__name__ for m in net]


def test_make_mlp_stacks_depth_hidden_layers_then_a_linear_output() -> None:
    net = make_mlp(64, 10, width=32, depth=2)
    assert isinstance(net, nn.Sequential)
    assert _layer_kinds(net) == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    sizes = [(m.in_features, m.out_features) for m in net if isinstance(m, nn.Linear)]
    assert sizes == [(64, 32), (32, 32), (32, 10)]
    assert net(torch.zeros(5, 64)).shape == (5, 10)


def test_make_mlp_defaults_are_one_hidden_layer_of_128() -> None:
    net = make_mlp(4, 2)
    assert _layer_kinds(net) == ["Linear", "ReLU", "Linear"]
    assert net[0].out_features == 128


def test_make_mlp_depth_zero_is_a_linear_model() -> None:
    net = make_mlp(3, 1, depth=0, dropout=0.5)
    assert _layer_kinds(net) == ["Linear"] and net[0].in_features == 3


def test_make_mlp_adds_dropout_after_each_activation_only_when_asked() -> None:
    net = make_mlp(8, 2, width=4, depth=2, dropout=0.25, activation=nn.Tanh)
    assert _layer_kinds(net) == ["Linear", "Tanh", "Dropout", "Linear", "Tanh", "Dropout", "Linear"]
    assert all(m.p == 0.25 for m in net if isinstance(m, nn.Dropout))
    assert "Dropout" not in _layer_kinds(make_mlp(8, 2, depth=2, dropout=0.0))


def test_make_mlp_takes_an_activation_factory() -> None:
    net = make_mlp(2, 2, width=3, activation=lambda: nn.LeakyReLU(0.2))
    assert isinstance(net[1], nn.LeakyReLU) and net[1].negative_slope == 0.2


def test_make_mlp_is_reproducible_under_a_seed() -> None:
    torch.manual_seed(3)
    first = make_mlp(5, 2, width=7)
    torch.manual_seed(3)
    second = make_mlp(5, 2, width=7)
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"in_features": 0}, ValueError, "^in_features must be an integer >= 1, got 0"),
        ({"out_features": 2.0}, TypeError, "^out_features must be an integer >= 1, got float"),
        ({"width": True}, TypeError, "^width must be an integer >= 1, got bool"),
        ({"depth": -1}, ValueError, "^depth must be an integer >= 0, got -1"),
        ({"dropout": 1.0}, ValueError, r"^dropout must be a finite number in \[0, 1\), got 1.0"),
        ({"dropout": "0.1"}, TypeError, "^dropout must be a finite number"),
        ({"activation": "relu"}, TypeError, "^activation must be a module class"),
        ({"activation": lambda: torch.relu}, TypeError, r"^activation\(\) must return"),
    ],
)
def test_make_mlp_rejects_bad_arguments(kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        make_mlp(**{"in_features": 4, "out_features": 2, **kwargs})


# ---------------------------------------------------------------- keras_copy

needs_tensorflow = pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None, reason="TensorFlow is not installed"
)


def _keras_output(model, X: np.ndarray) -> np.ndarray:
    return np.asarray(model(X, training=False))


@needs_tensorflow
def test_keras_copy_computes_what_the_torch_net_computes() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Linear(6, 16),
        nn.ReLU(),
        nn.Linear(16, 16),
        nn.LeakyReLU(0.2),
        nn.Linear(16, 8),
        nn.Tanh(),
        nn.Dropout(0.3),
        nn.Linear(8, 3),
        nn.Sigmoid(),
    ).eval()
    X = np.random.default_rng(0).normal(size=(64, 6)).astype(np.float32)
    with torch.no_grad():
        expected = net(torch.from_numpy(X)).numpy()
    model = keras_copy(net)
    assert model.input_shape == (None, 6)
    np.testing.assert_allclose(_keras_output(model, X), expected, rtol=0, atol=1e-5)
    # The premise: the output is not flat, so agreement says something.
    assert expected.std() > 1e-2


@needs_tensorflow
def test_keras_copy_maps_every_layer_and_transposes_the_weights() -> None:
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(4, 5, bias=False), nn.LeakyReLU(0.1), nn.Dropout(0.25))
    model = keras_copy(net)
    dense, leaky, dropout = model.layers
    assert type(dense).__name__ == "Dense" and not dense.use_bias
    np.testing.assert_array_equal(dense.get_weights()[0], net[0].weight.detach().numpy().T)
    assert type(leaky).__name__ == "LeakyReLU"
    assert np.isclose(float(leaky.negative_slope), 0.1)
    assert type(dropout).__name__ == "Dropout" and dropout.rate == 0.25


@needs_tensorflow
def test_keras_copy_in_float64_agrees_to_round_off() -> None:
    torch.manual_seed(2)
    net = make_mlp(4, 2, width=64, depth=2).double()
    X = np.random.default_rng(1).normal(size=(32, 4))
    with torch.no_grad():
        expected = net(torch.from_numpy(X)).numpy()
    model = keras_copy(net, dtype="float64")
    np.testing.assert_allclose(_keras_output(model, X), expected, rtol=0, atol=1e-12)


@needs_tensorflow
def test_keras_copy_is_a_copy_not_a_view() -> None:
    torch.manual_seed(3)
    net = make_mlp(3, 2, width=8)
    model = keras_copy(net)
    X = np.ones((2, 3), dtype=np.float32)
    before = _keras_output(model, X)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    np.testing.assert_array_equal(_keras_output(model, X), before)


@pytest.mark.parametrize(
    "layer, name",
    [(nn.BatchNorm1d(8), "BatchNorm1d"), (nn.GELU(), "GELU"), (nn.Flatten(), "Flatten")],
)
def test_keras_copy_names_an_unsupported_layer(layer: nn.Module, name: str) -> None:
    net = nn.Sequential(nn.Linear(4, 8), layer, nn.Linear(8, 2))
    with pytest.raises(TypeError, match=rf"cannot copy layer 1 \({name}\)"):
        keras_copy(net)


def test_keras_copy_rejects_what_it_cannot_build() -> None:
    with pytest.raises(TypeError, match="net must be a torch.nn.Sequential, got Linear"):
        keras_copy(nn.Linear(2, 2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no Linear layer"):
        keras_copy(nn.Sequential(nn.ReLU()))
    with pytest.raises(ValueError, match="^dtype must be one of 'float32', 'float64'"):
        keras_copy(make_mlp(2, 2), dtype="float16")


# ---------------------------------------------------------------- one divergence exception


def test_training_diverged_is_the_only_divergence_exception_in_companion() -> None:
    """Issue 15: a chapter raised FloatingPointError where companion raises TrainingDiverged."""
    raised = set()
    for path in sorted((ROOT / "companion").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and node.exc is not None:
                call = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if isinstance(call, ast.Name):
                    raised.add(call.id)
    # The premise: the walk sees the raises (ValueError is everywhere).
    assert {"ValueError", "TrainingDiverged"} <= raised
    assert "FloatingPointError" not in raised
    assert {name for name in raised if "iverg" in name} == {"TrainingDiverged"}
