"""companion.rl's DQN section: the replay buffer, linear schedules, the config checks,
greedy acting, checkpoints of a Q-network and a short run of `train_dqn`."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from companion import rl
from companion.rl.dqn import _numpy_plan, _torch_greedy
from companion.training import TrainingDiverged, load_checkpoint, save_checkpoint


def small_q_net(seed: int = 0, hidden: int = 32) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2)
    )


def td_loss(q_net, target_net, batch, gamma):
    """The chapter's DQN loss, written out again here so the test does not import a notebook."""
    q = q_net(batch.observations).gather(1, batch.actions[:, None]).squeeze(1)
    with torch.no_grad():
        next_q = target_net(batch.next_observations).max(dim=1).values
        td_target = batch.rewards + gamma * (1 - batch.terminated) * next_q
    return F.smooth_l1_loss(q, td_target)


# ---------------------------------------------------------------- ReplayBuffer


def fill(buffer: rl.ReplayBuffer, n: int) -> None:
    for i in range(n):
        buffer.add(
            np.full(4, i, np.float32), i % 2, float(i), np.full(4, i + 1, np.float32), i % 5 == 4
        )


def test_replay_buffer_stores_transitions_as_given() -> None:
    buffer = rl.ReplayBuffer(10, (4,), "cpu")
    fill(buffer, 6)
    assert len(buffer) == 6
    np.testing.assert_array_equal(buffer.observations[:6, 0].numpy(), np.arange(6))
    np.testing.assert_array_equal(buffer.next_observations[:6, 0].numpy(), np.arange(1, 7))
    np.testing.assert_array_equal(buffer.actions[:6].numpy(), [0, 1, 0, 1, 0, 1])
    np.testing.assert_array_equal(buffer.terminated[:6].numpy(), [0, 0, 0, 0, 1, 0])


def test_replay_buffer_never_grows_past_capacity_and_overwrites_the_oldest() -> None:
    buffer = rl.ReplayBuffer(8, (4,), "cpu")
    fill(buffer, 21)
    assert len(buffer) == 8 and buffer.observations.shape == (8, 4)
    assert sorted(buffer.rewards.tolist()) == [float(i) for i in range(13, 21)]  # the latest 8


def test_replay_buffer_sample_is_typed_seeded_and_consistent() -> None:
    buffer = rl.ReplayBuffer(50, (4,), "cpu")
    fill(buffer, 30)
    batch = buffer.sample(16, torch.Generator().manual_seed(3))
    again = buffer.sample(16, torch.Generator().manual_seed(3))
    assert isinstance(batch, rl.ReplayBatch) and len(batch) == 16
    assert batch.observations.shape == (16, 4) and batch.observations.dtype == torch.float32
    assert batch.actions.dtype == torch.int64 and batch.rewards.shape == (16,)
    assert torch.equal(batch.observations, again.observations)
    # Each row is one stored transition: s' = s + 1 and r = s in `fill`.
    assert torch.equal(batch.next_observations, batch.observations + 1)
    assert torch.equal(batch.rewards, batch.observations[:, 0])
    assert batch.observations[:, 0].max() < 30


def test_replay_buffer_refuses_to_sample_before_enough_data() -> None:
    buffer = rl.ReplayBuffer(50, (4,), "cpu")
    fill(buffer, 5)
    with pytest.raises(ValueError, match="batch_size=8.*only 5"):
        buffer.sample(8, torch.Generator())


@pytest.mark.parametrize(
    ("capacity", "error"), [(0, ValueError), (-1, ValueError), (2.5, TypeError), (True, TypeError)]
)
def test_replay_buffer_rejects_a_bad_capacity(capacity, error) -> None:
    with pytest.raises(error, match=r"^capacity must be an integer >= 1, got"):
        rl.ReplayBuffer(capacity, (4,), "cpu")


# ---------------------------------------------------------------- linear_schedule


def test_linear_schedule_interpolates_then_holds() -> None:
    eps = rl.linear_schedule(1.0, 0.1, 10)
    assert eps(0) == 1.0 and eps(5) == pytest.approx(0.55) and eps(10) == pytest.approx(0.1)
    assert eps(1000) == pytest.approx(0.1)
    assert rl.linear_schedule(1.0, 0.2, 0)(0) == 0.2
    rising = rl.linear_schedule(0.0, 2.0, 4)
    assert [rising(t) for t in range(6)] == pytest.approx([0, 0.5, 1, 1.5, 2, 2])


@pytest.mark.parametrize(
    "args, error, message",
    [
        ((float("nan"), 0.0, 5), ValueError, "^start must be a finite number, got nan"),
        ((1.0, "x", 5), TypeError, "^end must be a finite number, got str"),
        ((1.0, 0.0, -1), ValueError, "^duration must be an integer >= 0, got -1"),
        ((1.0, 0.0, 2.0), TypeError, "^duration must be an integer >= 0, got float"),
    ],
)
def test_linear_schedule_rejects_bad_arguments(args, error, message) -> None:
    with pytest.raises(error, match=message):
        rl.linear_schedule(*args)


# ---------------------------------------------------------------- DQNConfig and greedy acting


@pytest.mark.parametrize(
    "field, value",
    [
        ("gamma", 1.5),
        ("lr", 0.0),
        ("batch_size", 0),
        ("tau", 0.0),
        ("eps_end", -0.1),
        ("buffer_size", 8),
        ("learning_starts", 4),
        ("max_grad_norm", 0.0),
        ("max_grad_norm", float("nan")),
    ],
)
def test_dqn_config_rejects_out_of_range_values(field, value) -> None:
    base = dict(batch_size=16, buffer_size=100, learning_starts=16)
    with pytest.raises(ValueError, match=f"^{field} must be"):
        rl.DQNConfig(**{**base, field: value})


@pytest.mark.parametrize(
    "field, value",
    [("num_steps", 10.0), ("batch_size", True), ("lr", "1e-3"), ("gamma", None), ("tau", "1")],
)
def test_dqn_config_rejects_values_of_the_wrong_type(field, value) -> None:
    with pytest.raises(TypeError, match=f"^{field} must be"):
        rl.DQNConfig(**{field: value})


def test_dqn_config_bounds_that_depend_on_the_batch_size_name_it() -> None:
    with pytest.raises(ValueError, match=r"^buffer_size must be an integer >= 16, got 8"):
        rl.DQNConfig(batch_size=16, buffer_size=8, learning_starts=16)


def test_dqn_config_accepts_inf_to_turn_clipping_off() -> None:
    assert rl.DQNConfig(max_grad_norm=float("inf")).max_grad_norm == float("inf")


def _clear_greedy_actions(q_net: nn.Module, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """torch's greedy actions for the rows of X, and which rows are not near-ties.

    Where |Q(s, 1) - Q(s, 0)| is within float32 round-off, a different order of summation
    may pick the other action; such rows say nothing about the code paths.
    """
    with torch.no_grad():
        q = q_net(torch.as_tensor(X))  # (N, 2)
    clear = (q[:, 1] - q[:, 0]).abs() > 1e-4
    return q.argmax(dim=1).numpy(), clear.numpy()


@pytest.mark.parametrize("hidden", [64, 128])
def test_greedy_policy_numpy_path_matches_torch_and_follows_updates(hidden: int) -> None:
    q_net = small_q_net(hidden=hidden)
    X = np.random.default_rng(0).normal(size=(500, 4)).astype(np.float32)
    with torch.no_grad():
        # Centre Q(s, 1) - Q(s, 0) on these observations, so that both actions are greedy
        # for about half of them: agreement must not be a constant answer.
        gap = q_net(torch.as_tensor(X)).diff(dim=1).squeeze(1)
        q_net[-1].bias[1] -= gap.median()
    assert _numpy_plan(q_net) is not None, "the book's Q-networks must take the NumPy path"
    act, act_torch = rl.greedy_policy(q_net), _torch_greedy(q_net)
    optimizer = torch.optim.SGD(q_net.parameters(), lr=0.01)
    rounds = []
    # Before and after an in-place update of the weights by the optimizer.
    for _ in range(2):
        expected, clear = _clear_greedy_actions(q_net, X)
        assert 0.2 < expected.mean() < 0.8 and clear.mean() > 0.95
        np.testing.assert_array_equal(np.array([act(x) for x in X])[clear], expected[clear])
        np.testing.assert_array_equal(np.array([act_torch(x) for x in X])[clear], expected[clear])
        rounds.append(expected)
        q_net(torch.as_tensor(X))[:, 0].mean().backward()
        optimizer.step()
    # The update changed some greedy actions, so the second round tested the live views.
    assert (rounds[0] != rounds[1]).mean() > 0.02


def test_greedy_policy_follows_a_loaded_state_dict() -> None:
    q_net, other = small_q_net(0), small_q_net(1)
    act = rl.greedy_policy(q_net)
    X = np.random.default_rng(1).normal(size=(300, 4)).astype(np.float32)
    q_net.load_state_dict(other.state_dict())
    expected = other(torch.as_tensor(X)).argmax(dim=1).numpy()
    np.testing.assert_array_equal([act(x) for x in X], expected)


class ScaledLinear(nn.Linear):
    """A Linear subclass whose forward differs: the NumPy path must not take it for a Linear."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -super().forward(x)


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 2)),
        lambda: nn.Sequential(ScaledLinear(4, 2)),
        lambda: small_q_net().double(),
        lambda: nn.Sequential(nn.Sequential(nn.Linear(4, 16), nn.ReLU()), nn.Linear(16, 2)),
    ],
)
def test_greedy_policy_runs_other_networks_through_torch(make) -> None:
    torch.manual_seed(0)
    q_net = make()
    assert _numpy_plan(q_net) is None
    act = rl.greedy_policy(q_net)
    X = np.random.default_rng(2).normal(size=(300, 4))
    with torch.no_grad():
        expected = q_net(torch.as_tensor(X, dtype=q_net[-1].weight.dtype)).argmax(dim=1).numpy()
    np.testing.assert_array_equal([act(x) for x in X], expected)


def test_greedy_policy_leaves_the_observation_alone() -> None:
    """A leading ReLU must not clip the caller's array in place."""
    torch.manual_seed(0)
    q_net = nn.Sequential(nn.ReLU(), nn.Linear(4, 2))
    assert _numpy_plan(q_net) is not None
    observation = np.array([-1.0, 2.0, -3.0, 4.0], dtype=np.float32)
    rl.greedy_policy(q_net)(observation)
    np.testing.assert_array_equal(observation, [-1.0, 2.0, -3.0, 4.0])


# ---------------------------------------------------------------- checkpoints and train_dqn


def test_q_net_checkpoint_round_trip(tmp_path) -> None:
    q_net, other = small_q_net(0), small_q_net(1)
    X = torch.randn(10, 4)
    save_checkpoint(tmp_path / "q.pt", q_net, None, step=7)
    meta = load_checkpoint(tmp_path / "q.pt", other)
    assert meta == {"step": 7}
    assert torch.equal(other(X), q_net(X))


SHORT = rl.DQNConfig(
    num_steps=3000,
    lr=1e-3,
    lr_end=1e-3,
    batch_size=32,
    buffer_size=3000,
    learning_starts=500,
    train_every=1,
    eps_duration=1000,
    eval_every=1000,
    eval_episodes=2,
    final_eval_episodes=3,
)


def test_train_dqn_short_run_lowers_the_loss_and_writes_checkpoints(tmp_path) -> None:
    torch.set_num_threads(1)
    # gamma = 0: the TD target is the reward (1 on CartPole), so the loss must fall towards 0.
    config = dataclasses.replace(SHORT, gamma=0.0, checkpoint_dir=str(tmp_path))
    result = rl.train_dqn("CartPole-v1", small_q_net(), td_loss, config, seed=0, progress=False)
    assert len(result.losses) == 3 and result.losses[-1] < 0.1 * result.losses[0], result.losses
    assert list(result.eval_steps) == [1000, 2000, 3000] and len(result.final_returns) == 3
    assert result.episode_returns.sum() <= 3000 and result.train_seconds > 0
    assert result.final_checkpoint.is_file() and result.best_checkpoint.is_file()
    # The reported score is the final network's, over fresh episodes (seed + 10_000), not the best
    # checkpoint's: re-scoring the returned network reproduces it episode by episode.
    assert result.final_return == pytest.approx(result.final_returns.mean())
    act = rl.greedy_policy(result.q_net)
    _, _, returns = rl.evaluate("CartPole-v1", act, config.final_eval_episodes, seed=10_000)
    np.testing.assert_array_equal(returns, result.final_returns)
    reloaded = small_q_net(5)
    assert load_checkpoint(result.final_checkpoint, reloaded)["step"] == 3000
    X = torch.randn(8, 4)
    assert torch.equal(reloaded(X), result.q_net(X))


def test_train_dqn_is_reproducible_for_a_seed() -> None:
    config = dataclasses.replace(SHORT, num_steps=1500, eval_every=1500)
    first = rl.train_dqn("CartPole-v1", small_q_net(), td_loss, config, seed=3, progress=False)
    second = rl.train_dqn("CartPole-v1", small_q_net(), td_loss, config, seed=3, progress=False)
    np.testing.assert_array_equal(first.losses, second.losses)
    np.testing.assert_array_equal(first.episode_returns, second.episode_returns)


def test_train_dqn_stops_on_a_non_finite_loss_naming_the_step() -> None:
    def nan_loss(q_net, target_net, batch, gamma):
        return td_loss(q_net, target_net, batch, gamma) * float("nan")

    config = dataclasses.replace(SHORT, num_steps=1000, eval_every=1000)
    with pytest.raises(TrainingDiverged, match="at step 500 of 1000"):
        rl.train_dqn("CartPole-v1", small_q_net(), nan_loss, config, seed=0, progress=False)


def test_train_dqn_rejects_bad_arguments() -> None:
    with pytest.raises(TypeError, match="config"):
        rl.train_dqn("CartPole-v1", small_q_net(), td_loss, {"lr": 1e-3}, seed=0)
    with pytest.raises(ValueError, match="discrete action space"):
        rl.train_dqn("Pendulum-v1", small_q_net(), td_loss, SHORT, seed=0)
    with pytest.raises(FileNotFoundError, match="checkpoint_dir"):
        rl.train_dqn(
            "CartPole-v1",
            small_q_net(),
            td_loss,
            dataclasses.replace(SHORT, checkpoint_dir="/nonexistent/x"),
            seed=0,
        )
