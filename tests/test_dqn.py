"""companion.rl's DQN plumbing: the replay buffer, linear schedules, greedy acting, the
start-state value and checkpoints of a Q-network. The training loop is the chapter's."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from companion import rl
from companion.checkpoints import load_checkpoint, save_checkpoint
from companion.rl.dqn import _numpy_plan, _torch_greedy


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


# ---------------------------------------------------------------- greedy acting


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


# ---------------------------------------------------------------- checkpoints


def test_q_net_checkpoint_round_trip(tmp_path) -> None:
    q_net, other = small_q_net(0), small_q_net(1)
    X = torch.randn(10, 4)
    save_checkpoint(tmp_path / "q.pt", q_net, None, step=7)
    meta = load_checkpoint(tmp_path / "q.pt", other)
    assert meta == {"step": 7}
    assert torch.equal(other(X), q_net(X))


# ---------------------------------------------------------------- start_state_value


def test_start_state_value_is_the_mean_max_q_over_the_evaluation_start_states() -> None:
    q_net = small_q_net()
    value = rl.start_state_value(q_net, "CartPole-v1", 3, seed=10_003)
    # The same start states as rl.evaluate(..., seed=10_003): consecutive resets of make_env.
    env = rl.make_env("CartPole-v1", 10_003)
    starts = np.stack([env.reset()[0] for _ in range(3)]).astype(np.float32)
    env.close()
    with torch.no_grad():
        expected = q_net(torch.as_tensor(starts)).max(dim=1).values.mean().item()
    assert value == pytest.approx(expected, rel=1e-6)
    first_start = rl.rollout(rl.make_env("CartPole-v1", 10_003), lambda o: 0, 1).observations[0]
    np.testing.assert_array_equal(first_start, starts[0])


def test_start_state_value_of_a_constant_network_is_its_largest_output() -> None:
    q_net = nn.Linear(4, 2)
    with torch.no_grad():
        q_net.weight.zero_()
        q_net.bias.copy_(torch.tensor([1.0, 3.0]))
    assert rl.start_state_value(q_net, "CartPole-v1", 4, seed=0) == 3.0


def test_start_state_value_rejects_a_bad_episode_count() -> None:
    with pytest.raises(ValueError, match=r"^num_episodes must be an integer >= 1, got 0"):
        rl.start_state_value(small_q_net(), "CartPole-v1", 0, seed=0)
