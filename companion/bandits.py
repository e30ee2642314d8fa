"""The k-armed testbed of Sutton & Barto (2018, ch. 2), vectorised over independent runs.

A chapter writes its bandit agents (the update rules are what it teaches); this
module holds the plumbing around them: the testbed, the loop that lets an agent
play it for many runs at once and records the two curves of the book's figures.
Everything is NumPy: one step of all runs is a handful of array operations, which
is what makes 2000 runs × 1000 steps take a fraction of a second per curve.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from companion.checks import check_array, check_callable, check_float, check_instance, check_int

# The most true values a testbed holds (num_runs × num_arms, 80 MB of float64): far above the
# book's 2000 × 10, and a limit that stops a typo from allocating gigabytes.
MAX_TESTBED_VALUES = 10_000_000


class BanditAgent(Protocol):
    """What `run` needs from an agent: one action per run, then the rewards they earned."""

    def select(self) -> np.ndarray:
        """The action of every run: ints in [0, num_arms), shape (num_runs,)."""
        ...

    def update(self, actions: np.ndarray, rewards: np.ndarray) -> None:
        """Learn from the actions just taken and their rewards, both of shape (num_runs,)."""
        ...


def argmax_random_ties(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row-wise argmax of `values` (num_runs, num_arms), ties broken uniformly at random.

    `np.argmax` always picks the first of equal values, which would make a greedy
    agent with all estimates at 0 pull arm 0 in every run. ``+inf`` is a value (UCB gives
    it to untried arms); NaN raises ValueError, since ``NaN == NaN`` is False and a row with
    one would quietly pick arm 0. `rng` is anything with NumPy's ``random(size)``.
    """
    values = np.asarray(values)
    if values.dtype.kind not in "iuf":
        raise TypeError(f"values must be an array of real numbers, got dtype {values.dtype}")
    if values.ndim != 2 or 0 in values.shape:
        raise ValueError(f"values must have shape (num_runs, num_arms), got {values.shape}")
    if not callable(getattr(rng, "random", None)):
        raise TypeError(f"rng must be a NumPy Generator, got {type(rng).__name__}")
    # (num_runs, 1); NaN anywhere in a row makes its maximum NaN.
    best = values.max(axis=1, keepdims=True)
    if np.isnan(best).any():
        raise ValueError(
            f"values (the action-value estimates) must not be NaN, got NaN in "
            f"{int(np.isnan(best).sum())} of {len(values)} run(s)"
        )
    is_max = values == best  # (num_runs, num_arms)
    return np.argmax(is_max * rng.random(values.shape), axis=1)  # a random one of the maxima


class Testbed:
    """`num_runs` independent k-armed bandit tasks: q*(a) ~ N(mean_offset, 1), R ~ N(q*(a), 1).

    Two testbeds with the same arguments are identical: the same true values and,
    given the same actions, the same rewards. Build a fresh one for every agent
    you compare, and all agents face the same tasks.
    """

    def __init__(
        self, num_runs: int = 2000, num_arms: int = 10, mean_offset: float = 0.0, seed: int = 0
    ) -> None:
        self.num_runs = check_int("num_runs", num_runs, 1, MAX_TESTBED_VALUES // 2)
        self.num_arms = check_int("num_arms", num_arms, 2, MAX_TESTBED_VALUES)
        if self.num_runs * self.num_arms > MAX_TESTBED_VALUES:
            raise ValueError(
                f"num_runs × num_arms must be at most {MAX_TESTBED_VALUES}, "
                f"got {self.num_runs} × {self.num_arms}"
            )
        self.mean_offset = check_float("mean_offset", mean_offset)
        self.seed = check_int("seed", seed, 0)
        self._rng = np.random.default_rng([self.seed, 0])  # true values, then the reward noise
        self.q_star = self._rng.normal(self.mean_offset, 1.0, size=(self.num_runs, self.num_arms))
        self.optimal_actions = np.argmax(self.q_star, axis=1)  # (num_runs,)

    def pull(self, actions: np.ndarray) -> np.ndarray:
        """One reward per run for the given actions, shape (num_runs,): R ~ N(q*(A), 1).

        `actions` must be integers (TypeError otherwise: 1.0 or True is not an arm).
        """
        actions = np.asarray(actions)
        if not np.issubdtype(actions.dtype, np.integer):
            raise TypeError(
                f"actions must be an integer array of shape ({self.num_runs},), "
                f"got {actions.dtype} of shape {actions.shape}"
            )
        if actions.shape != (self.num_runs,):
            raise ValueError(
                f"actions must be an integer array of shape ({self.num_runs},), "
                f"got {actions.dtype} of shape {actions.shape}"
            )
        if actions.min() < 0 or actions.max() >= self.num_arms:
            raise ValueError(
                f"actions must lie in [0, {self.num_arms - 1}], "
                f"got values in [{actions.min()}, {actions.max()}]"
            )
        means = self.q_star[np.arange(self.num_runs), actions]  # (num_runs,)
        return means + self._rng.standard_normal(self.num_runs)

    def agent_rng(self) -> np.random.Generator:
        """A generator for an agent's coin flips: from the testbed's seed, apart from rewards."""
        return np.random.default_rng([self.seed, 1])

    def __repr__(self) -> str:
        return (
            f"Testbed(num_runs={self.num_runs}, num_arms={self.num_arms}, "
            f"mean_offset={self.mean_offset}, seed={self.seed})"
        )


@dataclass(frozen=True)
class BanditResult:
    """The two curves of the book's figures, averaged over runs, one entry per step."""

    # (num_steps,): the mean reward over runs at each step.
    average_reward: np.ndarray
    # (num_steps,): the fraction of runs that took an optimal action, in [0, 1].
    optimal_frac: np.ndarray

    def __post_init__(self) -> None:
        reward = check_array("average_reward", self.average_reward, ndim=1)
        check_array("optimal_frac", self.optimal_frac, shape=reward.shape)

    def _num_last(self, num_last: int) -> int:
        """`num_last` checked against the steps there are: 0 would average every step
        (``x[-0:]`` is all of x), a negative number all but the first few."""
        return check_int("num_last", num_last, 1, len(self.average_reward))

    def final_reward(self, num_last: int = 100) -> float:
        """The average reward over the last `num_last` steps (steps 901-1000 of a 1000-step run).

        `num_last` is an integer in [1, num_steps].
        """
        return float(self.average_reward[-self._num_last(num_last) :].mean())

    def final_optimal_frac(self, num_last: int = 100) -> float:
        """The fraction of optimal actions over the last `num_last` steps, in [1, num_steps]."""
        return float(self.optimal_frac[-self._num_last(num_last) :].mean())


def run(testbed: Testbed, agent: BanditAgent, num_steps: int = 1000) -> BanditResult:
    """Let `agent` play all runs of `testbed` for `num_steps` steps; return the per-step curves.

    `agent` needs ``select()`` and ``update(actions, rewards)`` (see `BanditAgent`).
    """
    check_instance("testbed", testbed, Testbed, "a Testbed")
    for method in ("select", "update"):
        check_callable(f"agent.{method}", getattr(agent, method, None))
    num_steps = check_int("num_steps", num_steps, 1)
    average_reward = np.empty(num_steps)
    optimal_frac = np.empty(num_steps)
    for t in range(num_steps):
        actions = agent.select()  # (num_runs,)
        rewards = testbed.pull(actions)  # (num_runs,), also checks the actions
        agent.update(actions, rewards)
        average_reward[t] = rewards.mean()
        optimal_frac[t] = (actions == testbed.optimal_actions).mean()
    return BanditResult(average_reward, optimal_frac)
