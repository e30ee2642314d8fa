"""Episodes: environments made and seeded one way, returns, rollouts and evaluation.

`make_env` (and Sutton & Barto's short corridor, registered as ``ShortCorridor-v0``, with a
NumPy-vectorised version for `make_vec_env`),
`discounted_returns` and `reward_to_go`, one episode played and recorded (`rollout`),
many side by side on a vectorised environment (`rollout_batch`), and a policy scored
over fresh episodes (`evaluate`). Import these from `companion.rl`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import gymnasium as gym
import numpy as np
import torch

from companion.checks import (
    check_callable,
    check_choice,
    check_instance,
    check_int,
    check_probability,
)

Rewards = TypeVar("Rewards", np.ndarray, torch.Tensor)
PolicyFn = Callable[[np.ndarray], Any]

SHORT_CORRIDOR_ID = "ShortCorridor-v0"
# Shown in the error for an unknown id: a few that ship with Gymnasium and need nothing else.
_EXAMPLE_ENV_IDS = ("CartPole-v1", "Acrobot-v1", "MountainCar-v0", "Pendulum-v1", SHORT_CORRIDOR_ID)
# The most copies of an environment stepped together: far above the book's 5,000, and a limit
# that stops a typo from allocating gigabytes of state.
MAX_NUM_ENVS = 1_000_000


def _checked_seed(seed: Any) -> int | None:
    """`seed` for ``reset(seed=...)``: None (continue the random stream) or an integer >= 0."""
    return None if seed is None else check_int("seed", seed, 0)


# ---------------------------------------------------------------- the short corridor


class ShortCorridor(gym.Env):
    """The short corridor with switched actions (Sutton & Barto 2018, Example 13.1).

    Three non-terminal states in a row, then the goal: ``0 - 1 - 2 - goal``. Every
    step costs a reward of −1. Action 0 moves left and action 1 moves right, except
    in state 1, where they are switched (left moves right, right moves left).
    Moving left from state 0 leaves the agent where it is.

    The observation is the state index (0, 1 or 2), but the point of the example is
    an agent that cannot tell the states apart: the book's policies ignore the
    observation, so the best they can do is one probability of "right" used
    everywhere. There is no time limit; pass ``max_steps`` to `rollout`.
    """

    metadata: dict[str, Any] = {"render_modes": []}
    LEFT, RIGHT = 0, 1
    GOAL = 3

    def __init__(self) -> None:
        self.observation_space = gym.spaces.Discrete(3)
        self.action_space = gym.spaces.Discrete(2)
        self.state = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        super().reset(seed=_checked_seed(seed))
        self.state = 0
        return self.state, {}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        """One step; `action` is 0 (left) or 1 (right), a Python or NumPy integer (not a bool)."""
        action = check_int("action", action, self.LEFT, self.RIGHT)
        if self.state == self.GOAL:
            raise RuntimeError("the episode has ended (the goal was reached); call reset() first")
        move = 1 if action == self.RIGHT else -1
        if self.state == 1:
            move = -move  # the switched state
        self.state = max(0, self.state + move)
        terminated = self.state == self.GOAL
        # The goal is terminal: nothing is chosen there, so its observation (clipped into
        # the observation space, as Gymnasium requires one) is never acted on.
        return min(self.state, 2), -1.0, terminated, False, {}


class ShortCorridorVector(gym.vector.VectorEnv):
    """`num_envs` short corridors stepped together as NumPy arrays (one vector step for all).

    The same dynamics as `ShortCorridor`, for the many-episode Monte-Carlo estimates of the
    policy-gradient chapter; `make_vec_env("ShortCorridor-v0", n, seed)` returns one. A
    corridor that reached the goal is reset on its next step, which earns 0 (Gymnasium's
    "next step" autoreset, as in its vectorised CartPole).
    """

    metadata: dict[str, Any] = {
        "render_modes": [],
        "autoreset_mode": gym.vector.AutoresetMode.NEXT_STEP,
    }

    def __init__(self, num_envs: int = 1) -> None:
        self.num_envs = check_int("num_envs", num_envs, 1, MAX_NUM_ENVS)
        self.single_observation_space = gym.spaces.Discrete(3)
        self.single_action_space = gym.spaces.Discrete(2)
        self.observation_space = gym.vector.utils.batch_space(
            self.single_observation_space, self.num_envs
        )
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, self.num_envs)
        self.state = np.zeros(self.num_envs, dtype=np.int64)  # (N,)
        self.prev_done = np.zeros(self.num_envs, dtype=bool)  # (N,)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=_checked_seed(seed))
        self.state = np.zeros(self.num_envs, dtype=np.int64)
        self.prev_done = np.zeros(self.num_envs, dtype=bool)
        return self.state.copy(), {}

    def step(
        self, action: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        action = np.asarray(action)
        if not np.issubdtype(action.dtype, np.integer):
            # Booleans and floats would pass the value test below (True == 1, 1.0 == 1).
            raise TypeError(
                f"action must be {self.num_envs} integers, each 0 (left) or 1 (right), "
                f"got dtype {action.dtype}"
            )
        if action.shape != (self.num_envs,) or not np.isin(action, (0, 1)).all():
            raise ValueError(
                f"action must be {self.num_envs} values, each 0 (left) or 1 (right), got {action!r}"
            )
        # (N,): +1 for "right", −1 for "left", switched in state 1
        move = np.where(action == ShortCorridor.RIGHT, 1, -1)
        move = np.where(self.state == 1, -move, move)
        self.state = np.maximum(0, self.state + move)
        terminated = self.state == ShortCorridor.GOAL
        reward = np.full(self.num_envs, -1.0)
        # Corridors that ended on the previous step start again at state 0 and earn nothing.
        self.state[self.prev_done] = 0
        reward[self.prev_done] = 0.0
        terminated[self.prev_done] = False
        self.prev_done = terminated
        truncated = np.zeros(self.num_envs, dtype=bool)
        return np.minimum(self.state, 2), reward, terminated.copy(), truncated, {}


if SHORT_CORRIDOR_ID not in gym.registry:  # importlib.reload must not register it twice
    gym.register(
        id=SHORT_CORRIDOR_ID,
        entry_point=ShortCorridor,
        vector_entry_point=ShortCorridorVector,
        disable_env_checker=True,
    )


def make_env(env_id: str, seed: int, **kwargs: Any) -> gym.Env:
    """`gymnasium.make(env_id, **kwargs)`, seeded: the same seed gives the same episodes.

    Gymnasium seeds an environment's random generator on the first ``reset(seed=...)``
    and continues that stream on every later ``reset()``; the action space (used by
    ``env.action_space.sample()``, e.g. for ε-greedy exploration) has a generator of
    its own. Both are seeded here, so the first ``env.reset()`` the caller makes
    (without a seed) already follows from `seed`. ``"ShortCorridor-v0"`` is
    `ShortCorridor`. ``kwargs`` go to `gymnasium.make` (e.g. ``render_mode="rgb_array"``);
    ``max_episode_steps`` must be an integer >= 1 (Gymnasium reads -1 as "no time limit"), and
    ``render_mode`` one the environment has (Gymnasium only warns about another).
    """
    if not isinstance(env_id, str):
        raise TypeError(f"env_id must be a string such as 'CartPole-v1', got {env_id!r}")
    seed = check_int("seed", seed, 0)
    try:
        spec = gym.spec(env_id)
    except gym.error.Error as error:  # a wrong name, namespace or version, or a malformed id
        raise ValueError(
            f"env_id {env_id!r} is not a registered Gymnasium environment ({error}); "
            f"valid ids include {', '.join(_EXAMPLE_ENV_IDS)} (all: gymnasium.registry.keys())"
        ) from None
    if kwargs.get("max_episode_steps") is not None:
        check_int("max_episode_steps", kwargs["max_episode_steps"], 1)
    if kwargs.get("render_mode") is not None:
        creator = (
            spec.entry_point
            if callable(spec.entry_point)
            else gym.envs.registration.load_env_creator(spec.entry_point)
        )
        render_modes = getattr(creator, "metadata", {}).get("render_modes") or []
        if not render_modes:
            raise ValueError(f"{env_id} cannot render: it has no render modes")
        check_choice("render_mode", kwargs["render_mode"], render_modes)
        # Drawing frames needs no window and no sound: without these, SDL (under pygame) prints
        # errors about a missing display runtime and sound card on machines that have neither
        # (Colab).
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    try:
        env = gym.make(env_id, **kwargs)
    except TypeError as error:
        # A keyword the environment does not take; Gymnasium's message names it.
        raise TypeError(f"make_env({env_id!r}, ...): {error}") from None
    env.reset(seed=seed)
    env.action_space.seed(seed)
    env.observation_space.seed(seed)
    return env


# ---------------------------------------------------------------- returns


def _check_rewards(rewards: Rewards, gamma: float) -> float:
    """Refuse rewards that are not real numbers or not finite, and a discount outside [0, 1]."""
    if not isinstance(rewards, (np.ndarray, torch.Tensor)):
        raise TypeError(
            f"rewards must be a NumPy array or a torch tensor, got {type(rewards).__name__}"
        )
    is_tensor = isinstance(rewards, torch.Tensor)
    real = (
        not (rewards.dtype.is_complex or rewards.dtype == torch.bool)
        if is_tensor
        else rewards.dtype.kind in "iuf"
    )
    if not real:
        raise TypeError(f"rewards must be real numbers, got dtype {rewards.dtype}")
    if rewards.ndim == 0 or rewards.shape[-1] == 0:
        raise ValueError(
            "rewards must have at least one time step on its last axis, "
            f"got shape {tuple(rewards.shape)}"
        )
    # One inf (or NaN) would make every return before it inf or NaN, and inf * 0 (the start of
    # the backward pass) NaN.
    finite = bool(torch.isfinite(rewards).all()) if is_tensor else bool(np.isfinite(rewards).all())
    if not finite:
        raise ValueError("rewards must be finite, got NaN or infinite value(s)")
    return check_probability("gamma", gamma)  # a discount lies in [0, 1], like a probability


def reward_to_go(rewards: Rewards, gamma: float = 1.0) -> Rewards:
    """The return from every time step on: ``G_t = Σ_{k=t}^{T−1} γ^(k−t) R_{k+1}``.

    ``rewards[..., k]`` is R_{k+1}, the reward that followed the action at step k
    (Sutton & Barto's indexing), so ``returns[..., t]`` is G_t. ``rewards`` has time on
    its last axis, shape ``(T,)`` for one episode or
    ``(..., T)`` for a batch of equally long (or zero-padded) episodes; the result
    has the same shape and type (NumPy results are float64; torch keeps a floating
    dtype and the device). Computed backwards with
    ``G_t = R_{t+1} + γ G_{t+1}``, which is exact and takes T vector operations.
    With ``gamma = 1`` this is the "reward-to-go" of the policy-gradient literature.
    Rewards must be real and finite (TypeError for complex or boolean, ValueError for NaN/inf).
    """
    gamma = _check_rewards(rewards, gamma)
    if isinstance(rewards, torch.Tensor):
        rewards = rewards if rewards.is_floating_point() else rewards.to(torch.get_default_dtype())
        returns = torch.empty_like(rewards)
    else:
        rewards = np.asarray(rewards, dtype=np.result_type(rewards.dtype, np.float64))
        returns = np.empty_like(rewards)
    running = rewards[..., -1] * 0
    for t in range(rewards.shape[-1] - 1, -1, -1):
        running = rewards[..., t] + gamma * running
        returns[..., t] = running
    return returns


def discounted_returns(rewards: Rewards, gamma: float) -> Rewards:
    """The discounted return of each episode, ``G_0 = Σ_t γ^t R_{t+1}``, over the last axis.

    Shape ``(T,)`` gives a 0-d result, ``(N, T)`` one return per episode, ``(N,)``;
    NumPy in, NumPy out; torch in, torch out (same device). This is the number a
    policy is scored by and, in REINFORCE without reward-to-go, the weight of every
    log-probability of the episode.
    """
    return reward_to_go(rewards, gamma)[..., 0]


# ---------------------------------------------------------------- batches of episodes


def make_vec_env(env_id: str, num_envs: int, seed: int) -> gym.vector.VectorEnv:
    """`num_envs` copies of `env_id` stepped together as one NumPy-vectorised environment, seeded.

    Uses the environment's own vectorised implementation where it has one (CartPole's
    is one NumPy step for all copies, many times faster on a CPU than separate
    environments), else Gymnasium's synchronous wrapper. Copy i is seeded with
    ``seed + i``; the action space with `seed`.
    """
    num_envs = check_int("num_envs", num_envs, 1, MAX_NUM_ENVS)
    seed = check_int("seed", seed, 0)
    make_env(env_id, seed).close()  # the same checks and error for an unknown id as make_env
    mode = "vector_entry_point" if gym.spec(env_id).vector_entry_point else "sync"
    envs = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode=mode)
    envs.reset(seed=seed)
    envs.action_space.seed(seed)
    return envs


@dataclass(frozen=True)
class EpisodeBatch:
    """N episodes played side by side by `rollout_batch`, zero-padded to the longest, T steps.

    ``mask[i, t]`` is True while episode i is running at step t; rewards after an
    episode's end are 0, so `reward_to_go` of ``rewards`` is each episode's own G_t.
    """

    observations: np.ndarray  # (N, T, *obs_shape)
    actions: np.ndarray  # (N, T)
    rewards: np.ndarray  # (N, T) float64, 0 after the end
    log_probs: torch.Tensor | None  # (N, T) with its graph, or None
    mask: np.ndarray  # (N, T) bool

    @property
    def total_rewards(self) -> np.ndarray:
        """The undiscounted return of each episode, shape (N,)."""
        return self.rewards.sum(axis=1)

    @property
    def lengths(self) -> np.ndarray:
        """The number of steps of each episode, shape (N,)."""
        return self.mask.sum(axis=1)


def rollout_batch(envs: gym.vector.VectorEnv, policy_fn: PolicyFn, max_steps: int) -> EpisodeBatch:
    """Play one episode in every copy of `envs` at once (at most `max_steps` steps each).

    ``policy_fn(observations)`` gets the (N, *obs_shape) batch and returns the N actions,
    or ``(actions, log_probs)`` with log_probs of shape (N,). The copies are stepped
    together until all have ended; a copy that has ended keeps being stepped (Gymnasium
    resets it on its next step) but those steps are masked out and earn 0. Actions outside
    the environments' action space raise ValueError, boolean actions TypeError.
    """
    check_instance("envs", envs, gym.vector.VectorEnv, "a Gymnasium vector environment")
    check_callable("policy_fn", policy_fn)
    max_steps = check_int("max_steps", max_steps, 1)
    observation, _ = envs.reset()
    num_envs = envs.num_envs
    done = np.zeros(num_envs, dtype=bool)
    observations, actions, rewards, log_probs, mask = [], [], [], [], []
    for _ in range(max_steps):
        action, log_prob = _action_and_log_prob(policy_fn(observation))
        action = (
            action.detach().cpu().numpy()
            if isinstance(action, torch.Tensor)
            else np.asarray(action)
        )
        if action.dtype == bool:
            raise TypeError(f"policy_fn must return integer actions, got booleans {action!r}")
        observations.append(observation)
        actions.append(action)
        mask.append(~done)
        if log_prob is not None:
            if not isinstance(log_prob, torch.Tensor) or log_prob.numel() != num_envs:
                got = (
                    f"shape {tuple(log_prob.shape)}"
                    if isinstance(log_prob, torch.Tensor)
                    else type(log_prob).__name__
                )
                raise ValueError(
                    f"policy_fn must return {num_envs} log-probabilities (one per copy) as a "
                    f"tensor, got {got}"
                )
            log_probs.append(log_prob.reshape(num_envs))
        observation, reward, terminated, truncated, _ = _step(envs, action)
        rewards.append(np.where(done, 0.0, reward))
        done = done | terminated | truncated
        if done.all():
            break
    if log_probs and len(log_probs) != len(actions):
        raise ValueError("policy_fn returned log-probabilities on some steps but not on others")
    return EpisodeBatch(
        observations=np.stack(observations, axis=1),
        actions=np.stack(actions, axis=1),
        rewards=np.stack(rewards, axis=1).astype(np.float64),
        log_probs=torch.stack(log_probs, dim=1) if log_probs else None,
        mask=np.stack(mask, axis=1),
    )


# ---------------------------------------------------------------- episodes


@dataclass(frozen=True)
class Episode:
    """One episode as played by `rollout`; index t refers to the t-th step.

    observations[t] is what the policy saw before choosing actions[t] (S_t and A_t), and
    rewards[t] is the reward that action earned (R_{t+1} in Sutton & Barto's indexing).
    ``log_probs`` stacks the log-probabilities the policy returned (a
    torch tensor that keeps its graph, for a policy-gradient loss), or is None.
    """

    observations: np.ndarray  # (T, *obs_shape)
    actions: np.ndarray  # (T, *action_shape)
    rewards: np.ndarray  # (T,) float64
    log_probs: torch.Tensor | None  # (T,) or None
    terminated: bool  # reached a terminal state (the return after it is 0)
    truncated: bool  # stopped by a time limit (the environment's or max_steps)

    @property
    def total_reward(self) -> float:
        """The undiscounted return, the number CartPole's "solved" threshold is about."""
        return float(self.rewards.sum())

    def __len__(self) -> int:
        return len(self.rewards)


def _action_and_log_prob(output: Any) -> tuple[Any, Any]:
    """A policy function's output as ``(action, log_prob or None)``."""
    if not isinstance(output, tuple):
        return output, None
    if len(output) != 2:
        raise ValueError(
            "policy_fn must return an action or a pair (action, log_prob), "
            f"got a tuple of {len(output)}"
        )
    return output


def _space_words(space: gym.Space) -> str:
    """What an action space allows, in words (`Discrete(2)`: an integer in [0, 1])."""
    if isinstance(space, gym.spaces.Discrete):
        return f"{space} (an integer in [{space.start}, {space.start + space.n - 1}])"
    return str(space)


def _in_space(space: gym.Space, action: Any) -> bool:
    """Whether `action` is in `space` (`contains` itself fails on some, such as 10**30)."""
    try:
        return bool(space.contains(action))
    except (TypeError, ValueError, OverflowError):
        return False


def _step(env: gym.Env | gym.vector.VectorEnv, action: Any) -> tuple[Any, ...]:
    """``env.step(action)``, with an action outside the action space named in a ValueError.

    Gymnasium's environments assert that an action is in their space, so a bad one gives a bare
    AssertionError (or an OverflowError for 10**30); the check runs only when the step fails,
    and costs a correct step nothing. A failure with an action in the space is the
    environment's own and propagates. A bool passes their check (True is an int), so it is
    refused first.
    """
    if isinstance(action, bool | np.bool_):
        raise TypeError(
            f"policy_fn must return an action in {_space_words(env.action_space)}, "
            f"got bool {action!r}"
        )
    try:
        return env.step(action)
    except (AssertionError, OverflowError, TypeError, ValueError):
        if _in_space(env.action_space, action):
            raise
        raise ValueError(
            f"policy_fn returned the action {action!r}, which is not in the environment's "
            f"action space {_space_words(env.action_space)}"
        ) from None


def _as_env_action(action: Any) -> Any:
    if isinstance(action, torch.Tensor):
        action = action.detach().cpu()
        return action.item() if action.numel() == 1 else action.numpy()
    if isinstance(action, np.ndarray) and action.ndim == 0:
        return action.item()
    return action


def rollout(env: gym.Env, policy_fn: PolicyFn, max_steps: int, seed: int | None = None) -> Episode:
    """Play one episode of `env` with `policy_fn`, for at most `max_steps` steps.

    ``policy_fn(observation)`` returns an action, or ``(action, log_prob)``; an action
    may be a Python number, a NumPy value or a torch tensor; one outside the environment's
    action space raises ValueError (a bool TypeError). The environment is reset
    with ``seed`` (None continues its random stream, which `make_env` seeded).
    """
    check_instance("env", env, gym.Env, "a Gymnasium environment (see make_env)")
    check_callable("policy_fn", policy_fn)
    max_steps = check_int("max_steps", max_steps, 1)
    observation, _ = env.reset(seed=_checked_seed(seed))
    observations, actions, rewards, log_probs = [], [], [], []
    terminated = truncated = False
    for _ in range(max_steps):
        action, log_prob = _action_and_log_prob(policy_fn(observation))
        action = _as_env_action(action)
        observations.append(observation)
        actions.append(action)
        if log_prob is not None:
            log_probs.append(log_prob)
        observation, reward, terminated, truncated, _ = _step(env, action)
        rewards.append(float(reward))
        if terminated or truncated:
            break
    else:
        truncated = True
    if log_probs and len(log_probs) != len(actions):
        raise ValueError("policy_fn returned a log-probability on some steps but not on others")
    return Episode(
        observations=np.asarray(observations),
        actions=np.asarray(actions),
        rewards=np.asarray(rewards, dtype=np.float64),
        log_probs=torch.stack([torch.as_tensor(lp).reshape(()) for lp in log_probs])
        if log_probs
        else None,
        terminated=bool(terminated),
        truncated=bool(truncated),
    )


def evaluate(
    env_id: str, policy_fn: PolicyFn, num_episodes: int, seed: int, max_steps: int | None = None
) -> tuple[float, float, np.ndarray]:
    """Score `policy_fn` on `num_episodes` fresh episodes: ``(mean, std, returns)``.

    The statistics are of the undiscounted returns.
    The episodes come from ``make_env(env_id, seed)``, so the same seed gives the same
    start states to every policy compared (use a seed other than the training one).
    Runs under ``torch.no_grad()``; the policy is used as given, so say in the text
    whether it is greedy or samples. ``max_steps`` defaults to the environment's own
    time limit (500 for CartPole-v1); std is the population standard deviation.
    """
    check_callable("policy_fn", policy_fn)
    num_episodes = check_int("num_episodes", num_episodes, 1)
    if max_steps is not None:
        max_steps = check_int("max_steps", max_steps, 1)
    env = make_env(env_id, seed)
    if max_steps is None:
        max_steps = env.spec.max_episode_steps if env.spec and env.spec.max_episode_steps else None
        if max_steps is None:
            raise ValueError(f"{env_id} has no time limit of its own; pass max_steps")
    try:
        with torch.no_grad():
            returns = np.array(
                [rollout(env, policy_fn, max_steps).total_reward for _ in range(num_episodes)]
            )
    finally:
        env.close()
    return float(returns.mean()), float(returns.std()), returns
