"""companion.rl: seeded environments, the short corridor, returns, rollouts and evaluation."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from companion import rl
from companion.rl.episodes import ShortCorridorVector


def returns_by_loop(rewards: list[float], gamma: float) -> list[float]:
    """G_t = Σ_k γ^k r_{t+k}, summed forwards from each t: apart from the module's recursion."""
    return [sum(gamma**k * r for k, r in enumerate(rewards[t:])) for t in range(len(rewards))]


# ---------------------------------------------------------------- returns


@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.9, 0.99, 1.0])
def test_reward_to_go_matches_a_plain_loop(gamma: float) -> None:
    rewards = np.random.default_rng(0).normal(size=17)
    expected = returns_by_loop(list(rewards), gamma)
    np.testing.assert_allclose(rl.reward_to_go(rewards, gamma), expected, rtol=1e-12, atol=1e-12)
    assert rl.discounted_returns(rewards, gamma) == pytest.approx(expected[0], rel=1e-12, abs=1e-12)


def test_reward_to_go_torch_keeps_type_dtype_and_batches() -> None:
    rewards = torch.tensor([[1.0, 0.0, 2.0], [0.0, 0.0, 1.0]], dtype=torch.float32)
    returns = rl.reward_to_go(rewards, 0.5)
    assert (
        isinstance(returns, torch.Tensor)
        and returns.dtype == torch.float32
        and returns.shape == (2, 3)
    )
    for row in range(2):
        np.testing.assert_allclose(
            returns[row].numpy(), returns_by_loop(rewards[row].tolist(), 0.5), rtol=1e-6
        )
    totals = rl.discounted_returns(rewards, 0.5)
    assert totals.shape == (2,)
    np.testing.assert_allclose(totals.numpy(), [1.5, 0.25], rtol=1e-6)


def test_reward_to_go_default_is_undiscounted_and_integers_become_floats() -> None:
    np.testing.assert_array_equal(rl.reward_to_go(np.array([1, 1, 1])), [3.0, 2.0, 1.0])
    assert rl.reward_to_go(torch.tensor([1, 2])).is_floating_point()


@pytest.mark.parametrize("gamma", [-0.1, 1.01, float("nan")])
def test_returns_reject_a_discount_outside_0_1(gamma: float) -> None:
    with pytest.raises(ValueError, match=r"^gamma must be a finite number in \[0, 1\], got"):
        rl.discounted_returns(np.ones(3), gamma)


@pytest.mark.parametrize("gamma", ["0.9", None, True])
def test_returns_reject_a_discount_that_is_not_a_number(gamma: object) -> None:
    with pytest.raises(TypeError, match=r"^gamma must be a finite number in \[0, 1\], got"):
        rl.discounted_returns(np.ones(3), gamma)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "rewards", [np.array([]), np.zeros((2, 0)), torch.tensor([]), np.float64(1.0)]
)
def test_returns_reject_empty_rewards(rewards: object) -> None:
    with pytest.raises((ValueError, TypeError), match="rewards"):
        rl.reward_to_go(rewards, 0.9)  # type: ignore[arg-type]


def test_returns_reject_lists_with_a_clear_message() -> None:
    with pytest.raises(TypeError, match="rewards must be a NumPy array or a torch tensor"):
        rl.reward_to_go([1.0, 2.0], 0.9)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the short corridor


def play(env: rl.ShortCorridor, actions: list[int]) -> list[tuple[int, float, bool]]:
    env.reset(seed=0)
    return [env.step(a)[:3] for a in actions]


def test_short_corridor_dynamics_follow_sutton_and_barto() -> None:
    env = rl.ShortCorridor()
    left, right = rl.ShortCorridor.LEFT, rl.ShortCorridor.RIGHT
    # Left in the first state stays; right moves on.
    assert play(env, [left, right]) == [(0, -1.0, False), (1, -1.0, False)]
    # In the second state the actions are switched: right goes back, left goes on.
    assert play(env, [right, right]) == [(1, -1.0, False), (0, -1.0, False)]
    # The shortest path: right, left, right, three steps of −1, then the episode ends.
    path = play(env, [right, left, right])
    assert [step[1] for step in path] == [-1.0] * 3 and [step[2] for step in path] == [
        False,
        False,
        True,
    ]
    assert play(env, [right, left, left]) == [(1, -1.0, False), (2, -1.0, False), (1, -1.0, False)]


def test_short_corridor_rejects_bad_actions_and_steps_after_the_end() -> None:
    env = rl.ShortCorridor()
    env.reset()
    with pytest.raises(ValueError, match=r"^action must be an integer in \[0, 1\], got 2$"):
        env.step(2)
    with pytest.raises(TypeError, match=r"^action must be an integer in \[0, 1\], got bool True$"):
        env.step(True)
    for action in (1, 0, 1):
        env.step(action)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(1)


def test_short_corridor_is_registered_and_its_return_matches_the_rollout() -> None:
    env = rl.make_env("ShortCorridor-v0", seed=0)
    episode = rl.rollout(env, lambda obs: 1 if obs != 1 else 0, max_steps=100)
    assert (
        episode.terminated
        and not episode.truncated
        and len(episode) == 3
        and episode.total_reward == -3.0
    )


def test_vectorised_short_corridor_matches_the_single_one_step_by_step() -> None:
    rng = np.random.default_rng(0)
    num_envs, num_steps = 6, 40
    actions = rng.integers(2, size=(num_steps, num_envs))
    envs = rl.make_vec_env("ShortCorridor-v0", num_envs, seed=0)
    assert isinstance(envs, ShortCorridorVector)
    observation, _ = envs.reset()
    singles = [rl.ShortCorridor() for _ in range(num_envs)]
    for env in singles:
        env.reset()
    np.testing.assert_array_equal(observation, [0] * num_envs)
    ended = np.zeros(num_envs, dtype=bool)
    for t in range(num_steps):
        observation, reward, terminated, truncated, _ = envs.step(actions[t])
        assert not truncated.any()
        for i, env in enumerate(singles):
            if ended[i]:
                # The next-step autoreset: back at the start, nothing earned, not terminated.
                assert (observation[i], reward[i], terminated[i]) == (0, 0.0, False)
                env.reset()
                ended[i] = False
                continue
            expected = env.step(int(actions[t, i]))
            assert (observation[i], reward[i], terminated[i]) == expected[:3]
            ended[i] = expected[2]


def test_vectorised_short_corridor_rollout_batch_returns_match_single_rollouts() -> None:
    """The shortest path (right, left, right) in every copy: three steps of −1 each."""
    envs = rl.make_vec_env("ShortCorridor-v0", 4, seed=0)
    batch = rl.rollout_batch(envs, lambda obs: (obs != 1).astype(np.int64), max_steps=50)
    np.testing.assert_array_equal(batch.total_rewards, [-3.0] * 4)
    np.testing.assert_array_equal(batch.lengths, [3] * 4)


@pytest.mark.parametrize("action", [np.array([0, 2]), np.array([1]), np.array([[0, 1]])])
def test_vectorised_short_corridor_rejects_bad_actions(action: np.ndarray) -> None:
    envs = ShortCorridorVector(num_envs=2)
    envs.reset(seed=0)
    with pytest.raises(ValueError, match="action must be 2 values, each 0 .left. or 1 .right."):
        envs.step(action)


# ---------------------------------------------------------------- environments and episodes


def random_actions(env_seed: int, policy_seed: int) -> list[np.ndarray]:
    env = rl.make_env("CartPole-v1", seed=env_seed)
    rng = np.random.default_rng(policy_seed)
    return [
        rl.rollout(env, lambda obs: int(rng.integers(2)), max_steps=500).observations
        for _ in range(3)
    ]


def test_make_env_same_seed_same_episodes_other_seed_other_episodes() -> None:
    first, again, other = random_actions(3, 0), random_actions(3, 0), random_actions(4, 0)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0][0], other[0][0])
    assert not np.array_equal(first[0][0], first[1][0])  # later resets continue the stream


def test_make_env_seeds_the_action_space() -> None:
    def samples(seed: int) -> list[int]:
        env = rl.make_env("CartPole-v1", seed=seed)
        return [int(env.action_space.sample()) for _ in range(20)]

    assert samples(5) == samples(5) != samples(6)


@pytest.mark.parametrize("env_id", ["CartPole-v9", "Cartpole-v1", "NoSuchEnv", "foo/Bar-v0"])
def test_make_env_unknown_id_lists_valid_ones(env_id: str) -> None:
    with pytest.raises(ValueError, match=r"not a registered Gymnasium environment.*CartPole-v1"):
        rl.make_env(env_id, seed=0)


@pytest.mark.parametrize(("seed", "error"), [(-1, ValueError), (1.5, TypeError), (None, TypeError)])
def test_make_env_rejects_bad_seeds(seed: object, error: type[Exception]) -> None:
    """The same seed errors as `companion.setup` and every loader (issue 15: 1.5 was a
    ValueError here and a TypeError there)."""
    with pytest.raises(error, match="^seed must be an integer >= 0, got"):
        rl.make_env("CartPole-v1", seed=seed)  # type: ignore[arg-type]


def test_rollout_records_log_probs_with_their_graph_and_stops_at_max_steps() -> None:
    env = rl.make_env("CartPole-v1", seed=0)
    logits = torch.zeros(2, requires_grad=True)

    def policy(obs: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        distribution = torch.distributions.Categorical(logits=logits)
        action = distribution.sample()
        return action, distribution.log_prob(action)

    episode = rl.rollout(env, policy, max_steps=5)
    assert len(episode) <= 5 and episode.observations.shape == (len(episode), 4)
    assert episode.log_probs is not None and episode.log_probs.shape == (len(episode),)
    episode.log_probs.sum().backward()
    assert logits.grad is not None
    assert episode.truncated or episode.terminated
    with pytest.raises(ValueError, match="max_steps must be an integer >= 1"):
        rl.rollout(env, policy, max_steps=0)


def test_evaluate_is_reproducible_and_scores_a_policy() -> None:
    def lean_policy(obs: np.ndarray) -> int:
        return int(obs[2] + obs[3] > 0)  # push towards the side the pole falls to

    mean, std, returns = rl.evaluate("CartPole-v1", lean_policy, num_episodes=5, seed=1)
    mean_again, _, returns_again = rl.evaluate("CartPole-v1", lean_policy, num_episodes=5, seed=1)
    assert (
        returns.shape == (5,)
        and mean == pytest.approx(returns.mean())
        and std == pytest.approx(returns.std())
    )
    np.testing.assert_array_equal(returns, returns_again)
    random_mean, _, _ = rl.evaluate("CartPole-v1", lambda obs: 0, num_episodes=5, seed=1)
    assert mean > 100 > random_mean  # the simple controller balances far longer than always-left
    assert returns.max() <= 500  # CartPole-v1's own time limit
    with pytest.raises(ValueError, match="num_episodes"):
        rl.evaluate("CartPole-v1", lean_policy, num_episodes=0, seed=1)
    with pytest.raises(ValueError, match="max_steps"):
        rl.evaluate("ShortCorridor-v0", lambda obs: 1, num_episodes=1, seed=0)


# ---------------------------------------------------------------- batches of episodes


def lean_batch_policy(observations: np.ndarray) -> np.ndarray:
    return (observations[:, 2] + observations[:, 3] > 0).astype(np.int64)  # (N,)


def test_rollout_batch_same_seed_same_batch_other_seed_other_batch() -> None:
    def play(seed: int) -> rl.EpisodeBatch:
        return rl.rollout_batch(
            rl.make_vec_env("CartPole-v1", num_envs=3, seed=seed), lean_batch_policy, max_steps=500
        )

    batch, again, other = play(7), play(7), play(8)
    assert (
        batch.rewards.shape == batch.mask.shape == batch.actions.shape == (3, batch.mask.shape[1])
    )
    assert batch.observations.shape == (3, batch.mask.shape[1], 4)
    np.testing.assert_array_equal(batch.observations, again.observations)
    assert not np.array_equal(batch.observations[:, 0], other.observations[:, 0])
    # Every copy starts elsewhere.
    assert len({tuple(start) for start in batch.observations[:, 0]}) == 3
    # The lean controller balances for long, as with a single environment.
    assert batch.lengths.min() > 100


def test_rollout_batch_masks_and_zeroes_steps_after_each_end() -> None:
    envs = rl.make_vec_env("CartPole-v1", num_envs=4, seed=0)
    batch = rl.rollout_batch(envs, lambda obs: np.zeros(len(obs), dtype=np.int64), max_steps=500)
    lengths = batch.lengths
    assert lengths.max() == batch.mask.shape[1] and lengths.min() < 30  # always-left falls fast
    for i, length in enumerate(lengths):
        assert batch.mask[i, :length].all() and not batch.mask[i, length:].any()
        assert (batch.rewards[i, length:] == 0).all() and batch.total_rewards[i] == length
    # Reward-to-go of the padded rows is each episode's own G_t.
    np.testing.assert_allclose(rl.reward_to_go(batch.rewards)[:, 0], lengths)


def test_rollout_batch_keeps_log_probs_and_is_reproducible() -> None:
    logits = torch.zeros(2, requires_grad=True)

    def policy(obs: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        distribution = torch.distributions.Categorical(logits=logits.expand(len(obs), 2))
        action = distribution.sample()
        return action, distribution.log_prob(action)

    torch.manual_seed(0)
    batch = rl.rollout_batch(rl.make_vec_env("CartPole-v1", 5, seed=1), policy, max_steps=20)
    assert batch.log_probs is not None and batch.log_probs.shape == batch.mask.shape
    assert batch.mask.shape[1] <= 20
    batch.log_probs.sum().backward()
    assert logits.grad is not None
    torch.manual_seed(0)
    again = rl.rollout_batch(rl.make_vec_env("CartPole-v1", 5, seed=1), policy, max_steps=20)
    np.testing.assert_array_equal(batch.actions, again.actions)


def test_make_vec_env_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"num_envs must be an integer in \[1, 1000000\], got 0"):
        rl.make_vec_env("CartPole-v1", num_envs=0, seed=0)
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        rl.make_vec_env("CartPole-v1", num_envs=2, seed=-1)
    with pytest.raises(ValueError, match="not a registered Gymnasium environment"):
        rl.make_vec_env("CartPole-v7", num_envs=2, seed=0)
    # No vectorised version: the sync wrapper.
    envs = rl.make_vec_env("ShortCorridor-v0", num_envs=2, seed=0)
    with pytest.raises(ValueError, match="max_steps"):
        rl.rollout_batch(envs, lambda obs: np.ones(2, dtype=np.int64), max_steps=0)
    batch = rl.rollout_batch(envs, lambda obs: np.where(obs == 1, 0, 1), max_steps=10)
    np.testing.assert_array_equal(batch.total_rewards, [-3.0, -3.0])


def test_make_env_draws_frames_without_display_or_sound(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rendering picks SDL's dummy drivers (unless the reader chose others): no stderr on Colab."""
    monkeypatch.delenv("SDL_VIDEODRIVER", raising=False)
    monkeypatch.setenv("SDL_AUDIODRIVER", "pulseaudio")
    env = rl.make_env("CartPole-v1", 0, render_mode="rgb_array")
    assert env.render().shape == (400, 600, 3)
    assert os.environ["SDL_VIDEODRIVER"] == "dummy"
    assert os.environ["SDL_AUDIODRIVER"] == "pulseaudio"
