"""Reinforcement-learning plumbing shared by the policy-gradient and DQN chapters.

A chapter writes its learning rules (the policy-gradient estimator, the TD loss);
this module holds what sits around them: environments made and seeded one way
(`make_env`), Sutton & Barto's short corridor as a Gymnasium environment
(`ShortCorridor`), returns computed from reward sequences (`discounted_returns`,
`reward_to_go`), one episode played and recorded (`rollout`) and a policy scored
over fresh episodes (`evaluate`); for DQN, a replay memory (`ReplayBuffer`), linear
schedules for ε and the learning rate (`linear_schedule`), fast greedy acting
(`greedy_policy`) and the training driver that takes the chapter's TD loss (`train_dqn`).

Conventions: a *policy function* maps one observation (a NumPy array, as the
environment gives it) to an action, or to a pair ``(action, log_prob)`` when the
caller wants the log-probability of the sampled action kept for a gradient.
Rewards are arrays whose last axis is time.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import Any, Callable, TypeVar

import gymnasium as gym
import numpy as np
import torch
from tqdm.auto import tqdm

from companion.bandits import check_positive, check_probability
from companion.training import TrainingDiverged, save_checkpoint

__all__ = [
    "DQNConfig",
    "DQNResult",
    "Episode",
    "EpisodeBatch",
    "ReplayBatch",
    "ReplayBuffer",
    "ShortCorridor",
    "discounted_returns",
    "evaluate",
    "greedy_policy",
    "linear_schedule",
    "make_env",
    "make_vec_env",
    "reward_to_go",
    "rollout",
    "rollout_batch",
    "train_dqn",
]

Rewards = TypeVar("Rewards", np.ndarray, torch.Tensor)
PolicyFn = Callable[[np.ndarray], Any]

SHORT_CORRIDOR_ID = "ShortCorridor-v0"
# Shown in the error for an unknown id: a few that ship with Gymnasium and need nothing else.
_EXAMPLE_ENV_IDS = ("CartPole-v1", "Acrobot-v1", "MountainCar-v0", "Pendulum-v1", SHORT_CORRIDOR_ID)


def _check_int(name: str, value: int, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


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

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        super().reset(seed=seed)
        self.state = 0
        return self.state, {}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        if not self.action_space.contains(action):
            raise ValueError(f"action must be 0 (left) or 1 (right), got {action!r}")
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


if SHORT_CORRIDOR_ID not in gym.registry:  # importlib.reload must not register it twice
    gym.register(id=SHORT_CORRIDOR_ID, entry_point=ShortCorridor, disable_env_checker=True)


def make_env(env_id: str, seed: int, **kwargs: Any) -> gym.Env:
    """`gymnasium.make(env_id, **kwargs)`, seeded: the same seed gives the same episodes.

    Gymnasium seeds an environment's random generator on the first ``reset(seed=...)``
    and continues that stream on every later ``reset()``; the action space (used by
    ``env.action_space.sample()``, e.g. for ε-greedy exploration) has a generator of
    its own. Both are seeded here, so the first ``env.reset()`` the caller makes
    (without a seed) already follows from `seed`. ``"ShortCorridor-v0"`` is
    `ShortCorridor`. ``kwargs`` go to `gymnasium.make` (e.g. ``render_mode="rgb_array"``).
    """
    if not isinstance(env_id, str):
        raise TypeError(f"env_id must be a string such as 'CartPole-v1', got {env_id!r}")
    seed = _check_int("seed", seed, 0)
    try:
        env = gym.make(env_id, **kwargs)
    except gym.error.UnregisteredEnv as error:  # a wrong name, namespace or version
        raise ValueError(
            f"env_id {env_id!r} is not a registered Gymnasium environment ({error}); "
            f"valid ids include {', '.join(_EXAMPLE_ENV_IDS)} (all: gymnasium.registry.keys())"
        ) from None
    env.reset(seed=seed)
    env.action_space.seed(seed)
    env.observation_space.seed(seed)
    return env


# ---------------------------------------------------------------- returns


def _check_rewards(rewards: Rewards, gamma: float) -> float:
    if not isinstance(rewards, (np.ndarray, torch.Tensor)):
        raise TypeError(f"rewards must be a NumPy array or a torch tensor, got {type(rewards).__name__}")
    if rewards.ndim == 0 or rewards.shape[-1] == 0:
        raise ValueError(f"rewards must have at least one time step on its last axis, got shape {tuple(rewards.shape)}")
    return check_probability("gamma", gamma)  # a discount lies in [0, 1], like a probability


def reward_to_go(rewards: Rewards, gamma: float = 1.0) -> Rewards:
    """The return from every time step on: ``G_t = Σ_{k≥t} γ^(k−t) r_k``.

    ``rewards`` has time on its last axis, shape ``(T,)`` for one episode or
    ``(..., T)`` for a batch of equally long (or zero-padded) episodes; the result
    has the same shape and type (NumPy results are float64; torch keeps a floating
    dtype and the device). Computed backwards with
    ``G_t = r_t + γ G_{t+1}``, which is exact and takes T vector operations.
    With ``gamma = 1`` this is the "reward-to-go" of the policy-gradient literature.
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
    """The discounted return of each episode, ``G_0 = Σ_t γ^t r_t``, summed over the last axis.

    Shape ``(T,)`` gives a 0-d result, ``(N, T)`` one return per episode, ``(N,)``;
    NumPy in, NumPy out; torch in, torch out (same device). This is the number a
    policy is scored by and, in REINFORCE without reward-to-go, the weight of every
    log-probability of the episode.
    """
    return reward_to_go(rewards, gamma)[..., 0]


# ---------------------------------------------------------------- batches of episodes (policy-gradient chapter)


def make_vec_env(env_id: str, num_envs: int, seed: int) -> gym.vector.VectorEnv:
    """`num_envs` copies of `env_id` stepped together as one NumPy-vectorised environment, seeded.

    Uses the environment's own vectorised implementation where it has one (CartPole's
    is one NumPy step for all copies, many times faster on a CPU than separate
    environments), else Gymnasium's synchronous wrapper. Copy i is seeded with
    ``seed + i``; the action space with `seed`.
    """
    num_envs = _check_int("num_envs", num_envs, 1)
    seed = _check_int("seed", seed, 0)
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
    resets it on its next step) but those steps are masked out and earn 0.
    """
    max_steps = _check_int("max_steps", max_steps, 1)
    observation, _ = envs.reset()
    num_envs = envs.num_envs
    done = np.zeros(num_envs, dtype=bool)
    observations, actions, rewards, log_probs, mask = [], [], [], [], []
    for _ in range(max_steps):
        output = policy_fn(observation)
        action, log_prob = output if isinstance(output, tuple) else (output, None)
        action = action.detach().cpu().numpy() if isinstance(action, torch.Tensor) else np.asarray(action)
        observations.append(observation)
        actions.append(action)
        mask.append(~done)
        if log_prob is not None:
            log_probs.append(log_prob.reshape(num_envs))
        observation, reward, terminated, truncated, _ = envs.step(action)
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

    observations[t] is what the policy saw before choosing actions[t], which earned
    rewards[t]. ``log_probs`` stacks the log-probabilities the policy returned (a
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
    may be a Python number, a NumPy value or a torch tensor. The environment is reset
    with ``seed`` (None continues its random stream, which `make_env` seeded).
    """
    max_steps = _check_int("max_steps", max_steps, 1)
    observation, _ = env.reset(seed=seed)
    observations, actions, rewards, log_probs = [], [], [], []
    terminated = truncated = False
    for _ in range(max_steps):
        output = policy_fn(observation)
        action, log_prob = output if isinstance(output, tuple) else (output, None)
        action = _as_env_action(action)
        observations.append(observation)
        actions.append(action)
        if log_prob is not None:
            log_probs.append(log_prob)
        observation, reward, terminated, truncated, _ = env.step(action)
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
        log_probs=torch.stack([torch.as_tensor(lp).reshape(()) for lp in log_probs]) if log_probs else None,
        terminated=bool(terminated),
        truncated=bool(truncated),
    )


def evaluate(
    env_id: str, policy_fn: PolicyFn, num_episodes: int, seed: int, max_steps: int | None = None
) -> tuple[float, float, np.ndarray]:
    """Score `policy_fn` on `num_episodes` fresh episodes: ``(mean, std, returns)`` of the undiscounted returns.

    The episodes come from ``make_env(env_id, seed)``, so the same seed gives the same
    start states to every policy compared (use a seed other than the training one).
    Runs under ``torch.no_grad()``; the policy is used as given, so say in the text
    whether it is greedy or samples. ``max_steps`` defaults to the environment's own
    time limit (500 for CartPole-v1); std is the population standard deviation.
    """
    num_episodes = _check_int("num_episodes", num_episodes, 1)
    env = make_env(env_id, seed)
    if max_steps is None:
        max_steps = env.spec.max_episode_steps if env.spec and env.spec.max_episode_steps else None
        if max_steps is None:
            raise ValueError(f"{env_id} has no time limit of its own; pass max_steps")
    try:
        with torch.no_grad():
            returns = np.array([rollout(env, policy_fn, max_steps).total_reward for _ in range(num_episodes)])
    finally:
        env.close()
    return float(returns.mean()), float(returns.std()), returns


# ---------------------------------------------------------------- DQN: replay, schedules and the training driver
#
# The DQN chapter writes its TD loss (and the Double-DQN variant) in the notebook and
# passes it to `train_dqn`; this section holds what sits around the loss.


@dataclass(frozen=True)
class ReplayBatch:
    """A batch of transitions sampled by `ReplayBuffer.sample`; all tensors on the buffer's device.

    Row i is one transition ``(s, a, r, s', terminated)``. ``terminated`` is 1.0 when s'
    is a terminal state (its value is 0) and 0.0 otherwise, *including* when the episode
    was cut by a time limit: a truncated episode's s' still has a future.
    """

    observations: torch.Tensor  # (B, *obs_shape) float32
    actions: torch.Tensor  # (B,) int64
    rewards: torch.Tensor  # (B,) float32
    next_observations: torch.Tensor  # (B, *obs_shape) float32
    terminated: torch.Tensor  # (B,) float32, 1.0 = terminal

    def __len__(self) -> int:
        return len(self.actions)


class ReplayBuffer:
    """Experience replay (Lin 1992): the latest `capacity` transitions, sampled uniformly.

    Storage is preallocated on `device` once, so the buffer never grows: when full, each
    new transition overwrites the oldest (a ring). Sampling is with replacement, from a
    caller-given `torch.Generator`, so a seeded run samples the same batches.
    """

    def __init__(self, capacity: int, obs_shape: tuple[int, ...], device: torch.device | str) -> None:
        self.capacity = _check_int("capacity", capacity, 1)
        self.obs_shape = tuple(int(n) for n in obs_shape)
        self.device = torch.device(device)
        self.observations = torch.zeros((self.capacity, *self.obs_shape), dtype=torch.float32, device=self.device)
        self.next_observations = torch.zeros_like(self.observations)
        self.actions = torch.zeros(self.capacity, dtype=torch.int64, device=self.device)
        self.rewards = torch.zeros(self.capacity, dtype=torch.float32, device=self.device)
        self.terminated = torch.zeros(self.capacity, dtype=torch.float32, device=self.device)
        self._next = 0  # the slot the next transition goes to
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(self, observation: Any, action: int, reward: float, next_observation: Any, terminated: bool) -> None:
        """Store one transition, overwriting the oldest when full. ``terminated`` excludes time-limit truncation."""
        i = self._next
        self.observations[i] = torch.as_tensor(np.asarray(observation, dtype=np.float32).reshape(self.obs_shape))
        self.next_observations[i] = torch.as_tensor(np.asarray(next_observation, dtype=np.float32).reshape(self.obs_shape))
        self.actions[i] = int(action)
        self.rewards[i] = float(reward)
        self.terminated[i] = float(bool(terminated))
        self._next = (i + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)

    def sample(self, batch_size: int, generator: torch.Generator) -> ReplayBatch:
        """`batch_size` transitions drawn uniformly with replacement from those stored."""
        batch_size = _check_int("batch_size", batch_size, 1)
        if self._size < batch_size:
            raise ValueError(
                f"cannot sample batch_size={batch_size} transitions: the buffer holds only {self._size}; "
                "add more first (train_dqn waits for learning_starts transitions)"
            )
        index = torch.randint(self._size, (batch_size,), generator=generator, device=generator.device).to(self.device)
        return ReplayBatch(
            observations=self.observations[index],
            actions=self.actions[index],
            rewards=self.rewards[index],
            next_observations=self.next_observations[index],
            terminated=self.terminated[index],
        )


def linear_schedule(start: float, end: float, duration: int) -> Callable[[int], float]:
    """A function of the step t: `start` at t = 0, linearly to `end` at t = `duration`, then `end`.

    Used for ε (exploration) and the learning rate. ``duration = 0`` gives `end` at once.
    """
    for name, value in (("start", start), ("end", end)):
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    duration = _check_int("duration", duration, 0)
    start, end = float(start), float(end)

    def value_at(step: int) -> float:
        if duration == 0 or step >= duration:
            return end
        return start + (end - start) * max(step, 0) / duration

    return value_at


@dataclass(frozen=True)
class DQNConfig:
    """Hyperparameters of `train_dqn`. Steps count environment steps (one action each)."""

    num_steps: int = 50_000
    """Environment steps of training."""
    lr: float = 1e-3
    """Adam's learning rate at the start."""
    lr_end: float = 1e-4
    """Learning rate reached linearly at the end of training (equal to lr: constant)."""
    gamma: float = 0.99
    """Discount of the TD target; 0 regresses Q on the immediate reward."""
    batch_size: int = 128
    """Transitions per gradient update."""
    buffer_size: int = 50_000
    """Replay capacity; equal to batch_size means no replay (learn from the latest batch only)."""
    learning_starts: int = 1_000
    """Steps of acting before the first update (at least batch_size)."""
    train_every: int = 2
    """One gradient update every this many environment steps."""
    target_update_period: int = 1
    """Gradient updates between target-network updates; tau = 1 and period 1: the target is the online net."""
    tau: float = 0.01
    """Each target update sets target ← tau·online + (1 − tau)·target (1 = hard copy)."""
    eps_start: float = 1.0
    """ε of ε-greedy at step 0 (probability of a uniformly random action)."""
    eps_end: float = 0.04
    """Final ε."""
    eps_duration: int = 8_000
    """Steps over which ε falls linearly from eps_start to eps_end."""
    max_grad_norm: float = 10.0
    """Gradients are clipped to this global norm (inf: no clipping)."""
    eval_every: int = 2_500
    """Steps between greedy evaluations recorded in the history."""
    eval_episodes: int = 5
    """Episodes per periodic evaluation."""
    final_eval_episodes: int = 20
    """Episodes of the final evaluation (the number a run is judged by)."""
    checkpoint_dir: str | None = None
    """Folder for best.pt and final.pt (None: no checkpoints)."""

    def __post_init__(self) -> None:
        for name in ("num_steps", "batch_size", "buffer_size", "train_every", "target_update_period", "eval_every"):
            _check_int(name, getattr(self, name), 1)
        _check_int("learning_starts", self.learning_starts, self.batch_size)
        _check_int("eps_duration", self.eps_duration, 0)
        _check_int("eval_episodes", self.eval_episodes, 1)
        _check_int("final_eval_episodes", self.final_eval_episodes, 1)
        if self.buffer_size < self.batch_size:
            raise ValueError(f"buffer_size must be >= batch_size ({self.batch_size}), got {self.buffer_size}")
        check_positive("lr", self.lr)
        check_positive("lr_end", self.lr_end)
        for name in ("gamma", "tau", "eps_start", "eps_end"):
            check_probability(name, getattr(self, name))
        if self.tau == 0:
            raise ValueError("tau must be in (0, 1], got 0 (the target network would never change)")
        if not self.max_grad_norm > 0:
            raise ValueError(f"max_grad_norm must be > 0 (inf for no clipping), got {self.max_grad_norm!r}")


@dataclass
class DQNResult:
    """What `train_dqn` returns; ``q_net`` is the *final* network (trained in place)."""

    q_net: torch.nn.Module
    final_return: float  # mean undiscounted return of the final greedy policy over final_eval_episodes
    final_returns: np.ndarray  # (final_eval_episodes,)
    eval_steps: np.ndarray  # (E,) steps at which the greedy policy was evaluated
    eval_returns: np.ndarray  # (E,) mean return of each evaluation
    eval_q: np.ndarray  # (E,) mean max_a Q(s0, a) over the evaluation start states
    loss_steps: np.ndarray  # (L,) steps at the end of each loss-averaging window
    losses: np.ndarray  # (L,) mean TD loss over the window
    episode_steps: np.ndarray  # (N,) step at which each training episode ended
    episode_returns: np.ndarray  # (N,) undiscounted return of each training episode
    train_seconds: float  # wall time of acting and updating, evaluations excluded
    best_checkpoint: Path | None
    final_checkpoint: Path | None

    def steps_to(self, threshold: float) -> int | None:
        """The first evaluation step at which the greedy policy averaged >= threshold (None: never)."""
        hits = np.flatnonzero(self.eval_returns >= threshold)
        return int(self.eval_steps[hits[0]]) if len(hits) else None


DQNLossFn = Callable[[torch.nn.Module, torch.nn.Module, ReplayBatch, float], torch.Tensor]


def greedy_policy(q_net: torch.nn.Module) -> Callable[[np.ndarray], int]:
    """``observation -> argmax_a Q(observation, a)`` for acting, as fast as a CPU allows.

    Per-call torch overhead dominates for one small observation, so for a CPU
    ``nn.Sequential`` of Linear and ReLU layers the forward pass runs in NumPy on views
    that share memory with the live weights (updates by the optimizer are seen at once);
    any other network runs through torch under ``no_grad``.
    """
    layers = list(q_net) if isinstance(q_net, torch.nn.Sequential) else []
    fast = bool(layers) and all(isinstance(m, (torch.nn.Linear, torch.nn.ReLU)) for m in layers)
    fast = fast and all(p.device.type == "cpu" and p.dtype == torch.float32 for p in q_net.parameters())
    if fast:
        plan = [(m.weight.detach().numpy(), m.bias.detach().numpy() if m.bias is not None else None)
                if isinstance(m, torch.nn.Linear) else None for m in layers]

        def act(observation: np.ndarray) -> int:
            x = np.asarray(observation, dtype=np.float32)
            for step in plan:
                if step is None:
                    np.maximum(x, 0.0, out=x)
                else:
                    x = step[0] @ x if step[1] is None else step[0] @ x + step[1]
            return int(x.argmax())

        return act
    device = next(q_net.parameters()).device

    def act_torch(observation: np.ndarray) -> int:
        with torch.no_grad():
            x = torch.as_tensor(np.asarray(observation, dtype=np.float32), device=device)
            return int(q_net(x.unsqueeze(0)).argmax(dim=1).item())

    return act_torch


def _start_q(q_net: torch.nn.Module, env_id: str, num_episodes: int, seed: int) -> float:
    """Mean max_a Q(s0, a) over the start states the evaluation episodes begin from."""
    env = make_env(env_id, seed)
    starts = np.stack([env.reset()[0] for _ in range(num_episodes)]).astype(np.float32)
    env.close()
    with torch.no_grad():
        q = q_net(torch.as_tensor(starts, device=next(q_net.parameters()).device))  # (N, num_actions)
    return float(q.max(dim=1).values.mean())


def train_dqn(env_id: str, q_net: torch.nn.Module, loss_fn: DQNLossFn, config: DQNConfig, seed: int, progress: bool = True) -> DQNResult:
    """Train `q_net` by DQN (Mnih et al. 2015) on `env_id`, with the TD loss `loss_fn`.

    ``loss_fn(q_net, target_net, batch, gamma) -> scalar loss`` is the chapter's: the
    driver does the rest. Acting is ε-greedy with ε from `linear_schedule`; every
    transition goes to a `ReplayBuffer` with ``terminated`` only for true terminal
    states (a time-limit truncation is not an end of the task); after
    ``learning_starts`` steps, one Adam update every ``train_every`` steps on a sampled
    batch, gradients clipped, the learning rate decayed linearly; the target network
    follows the online one softly or by copies (`DQNConfig.tau`). Every
    ``eval_every`` steps the greedy policy is scored on fresh episodes (seed + 10_000);
    the best one is checkpointed, and the final network is saved, evaluated over
    ``final_eval_episodes`` and returned — the final one, not the best. A non-finite
    loss stops training with `TrainingDiverged` naming the step.
    """
    if not isinstance(config, DQNConfig):
        raise TypeError(f"config must be a DQNConfig, got {type(config).__name__}")
    seed = _check_int("seed", seed, 0)
    params = list(q_net.parameters())
    if not params:
        raise ValueError("q_net has no parameters")
    device = params[0].device
    checkpoint_dir = Path(config.checkpoint_dir) if config.checkpoint_dir is not None else None
    if checkpoint_dir is not None and not checkpoint_dir.is_dir():
        raise FileNotFoundError(f"checkpoint_dir {str(checkpoint_dir)!r} does not exist")
    env = make_env(env_id, seed)
    if not isinstance(env.action_space, gym.spaces.Discrete):
        env.close()
        raise ValueError(f"DQN needs a discrete action space; {env_id} has {env.action_space}")
    obs_shape = env.observation_space.shape
    eval_seed = seed + 10_000

    target_net = copy.deepcopy(q_net)
    target_net.requires_grad_(False)
    fused = device.type in ("cpu", "cuda")  # one fused kernel per step: less per-update overhead
    optimizer = torch.optim.Adam(q_net.parameters(), lr=config.lr, fused=fused)
    buffer = ReplayBuffer(config.buffer_size, obs_shape, device)
    generator = torch.Generator(device=device if device.type == "cuda" else "cpu").manual_seed(seed)
    rng = np.random.default_rng(seed)
    epsilon = linear_schedule(config.eps_start, config.eps_end, config.eps_duration)
    lr_at = linear_schedule(config.lr, config.lr_end, config.num_steps)
    act = greedy_policy(q_net)
    num_actions = int(env.action_space.n)

    eval_steps, eval_returns, eval_q, loss_steps, losses, window = [], [], [], [], [], []
    episode_steps, episode_returns = [], []
    best_return, best_path = -np.inf, None
    eval_seconds = 0.0
    num_updates = 0
    observation, _ = env.reset()
    episode_return = 0.0
    start = time.perf_counter()
    bar = tqdm(total=config.num_steps, desc=f"DQN on {env_id}", unit="step", disable=not progress, mininterval=1.0)
    for step in range(1, config.num_steps + 1):
        action = int(rng.integers(num_actions)) if rng.random() < epsilon(step) else act(observation)
        next_observation, reward, terminated, truncated, _ = env.step(action)
        buffer.add(observation, action, reward, next_observation, terminated)
        episode_return += float(reward)
        observation = next_observation
        if terminated or truncated:
            episode_steps.append(step)
            episode_returns.append(episode_return)
            observation, _ = env.reset()
            episode_return = 0.0

        if step >= config.learning_starts and step % config.train_every == 0:
            if num_updates % config.target_update_period == 0:  # before the update: period 1, tau 1 = no target net
                _soft_update(target_net, q_net, config.tau)
            num_updates += 1
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step)
            loss = loss_fn(q_net, target_net, buffer.sample(config.batch_size, generator), config.gamma)
            loss_value = loss.item()  # a CPU sync per update; cheap next to the update itself
            if not math.isfinite(loss_value):
                bar.close()
                env.close()
                raise TrainingDiverged(
                    f"the TD loss became {loss_value} at step {step} of {config.num_steps}; "
                    "lower lr, clip gradients harder (max_grad_norm) or check the loss function"
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(q_net.parameters(), config.max_grad_norm, foreach=True)
            optimizer.step()
            window.append(loss_value)

        if step % config.eval_every == 0 or step == config.num_steps:
            if window:
                loss_steps.append(step)
                losses.append(float(np.mean(window)))
                window = []
            tick = time.perf_counter()
            mean_return, _, _ = evaluate(env_id, act, config.eval_episodes, eval_seed)
            eval_steps.append(step)
            eval_returns.append(mean_return)
            eval_q.append(_start_q(q_net, env_id, config.eval_episodes, eval_seed))
            if checkpoint_dir is not None and mean_return > best_return:
                best_path = save_checkpoint(checkpoint_dir / "best.pt", q_net, None, step=step, eval_return=mean_return)
            best_return = max(best_return, mean_return)
            eval_seconds += time.perf_counter() - tick
            bar.set_postfix(greedy_return=f"{mean_return:.0f}", refresh=False)
        if step % 1000 == 0 or step == config.num_steps:
            bar.update(step - bar.n)
    bar.close()
    env.close()
    train_seconds = time.perf_counter() - start - eval_seconds

    final_path = None
    if checkpoint_dir is not None:
        final_path = save_checkpoint(checkpoint_dir / "final.pt", q_net, optimizer, step=config.num_steps)
    final_return, _, final_returns = evaluate(env_id, act, config.final_eval_episodes, eval_seed)
    return DQNResult(
        q_net=q_net,
        final_return=final_return,
        final_returns=final_returns,
        eval_steps=np.asarray(eval_steps),
        eval_returns=np.asarray(eval_returns),
        eval_q=np.asarray(eval_q),
        loss_steps=np.asarray(loss_steps),
        losses=np.asarray(losses),
        episode_steps=np.asarray(episode_steps),
        episode_returns=np.asarray(episode_returns),
        train_seconds=train_seconds,
        best_checkpoint=best_path,
        final_checkpoint=final_path,
    )


def _soft_update(target_net: torch.nn.Module, q_net: torch.nn.Module, tau: float) -> None:
    """target ← tau·online + (1 − tau)·target, parameter by parameter (tau = 1: a copy)."""
    with torch.no_grad():
        target = list(target_net.parameters())
        online = list(q_net.parameters())
        for t, o in zip(target, online, strict=True):
            if tau == 1.0:
                t.copy_(o)
            else:
                t.lerp_(o, tau)
