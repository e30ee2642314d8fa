"""Unit tests of companion.bandits: the testbed, the run loop and their argument errors."""

from __future__ import annotations

import numpy as np
import pytest

from companion.bandits import BanditResult, argmax_random_ties, run

# Imported under another name: pytest would try to collect a class called Test....
from companion.bandits import Testbed as KArmedTestbed
from companion.checks import check_probability


class EpsilonGreedy:
    """A minimal sample-average ε-greedy agent, enough to exercise `run`."""

    def __init__(self, testbed: KArmedTestbed, epsilon: float) -> None:
        self.epsilon = check_probability("epsilon", epsilon)
        self.rng = testbed.agent_rng()
        self.Q = np.zeros((testbed.num_runs, testbed.num_arms))
        self.N = np.zeros_like(self.Q)

    def select(self) -> np.ndarray:
        explore = self.rng.random(len(self.Q)) < self.epsilon
        return np.where(
            explore,
            self.rng.integers(self.Q.shape[1], size=len(self.Q)),
            argmax_random_ties(self.Q, self.rng),
        )

    def update(self, actions: np.ndarray, rewards: np.ndarray) -> None:
        runs = np.arange(len(self.Q))
        self.N[runs, actions] += 1
        self.Q[runs, actions] += (rewards - self.Q[runs, actions]) / self.N[runs, actions]


class AlwaysArm:
    def __init__(self, testbed: KArmedTestbed, arm: np.ndarray) -> None:
        self.arm = np.asarray(arm)

    def select(self) -> np.ndarray:
        return self.arm

    def update(self, actions: np.ndarray, rewards: np.ndarray) -> None:
        pass


def test_testbed_shapes_and_distribution() -> None:
    testbed = KArmedTestbed(num_runs=4000, num_arms=5, mean_offset=4.0, seed=3)
    assert testbed.q_star.shape == (4000, 5)
    assert testbed.optimal_actions.shape == (4000,)
    assert np.array_equal(testbed.optimal_actions, testbed.q_star.argmax(axis=1))
    assert abs(testbed.q_star.mean() - 4.0) < 0.05 and abs(testbed.q_star.std() - 1.0) < 0.05
    actions = np.zeros(4000, dtype=int)
    noise = testbed.pull(actions) - testbed.q_star[:, 0]
    assert abs(noise.mean()) < 0.1 and abs(noise.std() - 1.0) < 0.05


def test_same_seed_gives_identical_curves_and_another_seed_different_ones() -> None:
    def curves(seed: int) -> BanditResult:
        testbed = KArmedTestbed(num_runs=50, num_arms=10, seed=seed)
        return run(testbed, EpsilonGreedy(testbed, 0.1), num_steps=200)

    a, b, c = curves(0), curves(0), curves(1)
    assert np.array_equal(a.average_reward, b.average_reward)
    assert np.array_equal(a.optimal_frac, b.optimal_frac)
    assert not np.array_equal(a.average_reward, c.average_reward)


def test_run_records_per_step_curves_and_learning_happens() -> None:
    testbed = KArmedTestbed(num_runs=500, seed=0)
    result = run(testbed, EpsilonGreedy(testbed, 0.1), num_steps=300)
    assert result.average_reward.shape == result.optimal_frac.shape == (300,)
    assert np.all((0 <= result.optimal_frac) & (result.optimal_frac <= 1))
    assert result.final_optimal_frac() > 3 * result.optimal_frac[:10].mean()
    assert result.final_reward(50) == pytest.approx(result.average_reward[-50:].mean())


def test_always_optimal_agent_scores_one() -> None:
    testbed = KArmedTestbed(num_runs=100, seed=0)
    result = run(testbed, AlwaysArm(testbed, testbed.optimal_actions), num_steps=5)
    assert np.all(result.optimal_frac == 1.0)


def test_argmax_random_ties_is_uniform_over_ties_and_exact_otherwise() -> None:
    rng = np.random.default_rng(0)
    values = np.zeros((30_000, 3))
    values[:, 2] = -1.0  # arms 0 and 1 tie for the maximum
    counts = np.bincount(argmax_random_ties(values, rng), minlength=3)
    assert counts[2] == 0 and abs(counts[0] / counts[:2].sum() - 0.5) < 0.02
    distinct = rng.normal(size=(100, 7))
    assert np.array_equal(argmax_random_ties(distinct, rng), distinct.argmax(axis=1))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_arms": 1}, r"num_arms must be an integer in \[2, 10000000\], got 1"),
        ({"num_runs": 0}, r"num_runs must be an integer in \[1, 5000000\], got 0"),
        ({"num_runs": 10_000, "num_arms": 10_000}, r"num_runs × num_arms must be at most 10000000"),
        ({"mean_offset": float("nan")}, "mean_offset must be a finite number, got nan"),
        ({"seed": -1}, "seed must be an integer >= 0, got -1"),
    ],
)
def test_testbed_arguments_out_of_range_are_value_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        KArmedTestbed(**kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_arms": 2.5}, r"num_arms must be an integer in \[2, 10000000\], got float 2.5"),
        ({"num_runs": True}, r"num_runs must be an integer in \[1, 5000000\], got bool"),
        ({"mean_offset": "1"}, "mean_offset must be a finite number, got str"),
        ({"seed": 1.5}, "seed must be an integer >= 0, got float 1.5"),
    ],
)
def test_testbed_arguments_of_the_wrong_type_are_type_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        KArmedTestbed(**kwargs)


def test_bad_actions_and_num_steps_are_refused() -> None:
    testbed = KArmedTestbed(num_runs=4, num_arms=3)
    with pytest.raises(ValueError, match=r"actions must lie in \[0, 2\]"):
        testbed.pull(np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        testbed.pull(np.array([0, 1]))
    with pytest.raises(TypeError, match="integer array"):
        testbed.pull(np.array([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(TypeError, match="integer array"):
        testbed.pull(np.array([True, False, True, False]))
    with pytest.raises(ValueError, match="num_steps must be an integer >= 1"):
        run(testbed, EpsilonGreedy(testbed, 0.1), num_steps=0)
