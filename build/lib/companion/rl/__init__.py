"""Reinforcement-learning plumbing shared by the policy-gradient and DQN chapters.

A chapter writes its learning rules (the policy-gradient estimator, the TD loss);
this module holds what sits around them: environments made and seeded one way
(`make_env`), Sutton & Barto's short corridor as a Gymnasium environment
(`ShortCorridor`), returns computed from reward sequences (`discounted_returns`,
`reward_to_go`), one episode played and recorded (`rollout`) and a policy scored
over fresh episodes (`evaluate`); for DQN, a replay memory (`ReplayBuffer`), linear
schedules for ε and the learning rate (`linear_schedule`), fast greedy acting
(`greedy_policy`) and the predicted value of the start states (`start_state_value`).
The DQN training loop itself is written in its chapter.

Conventions: a *policy function* maps one observation (a NumPy array, as the
environment gives it) to an action, or to a pair ``(action, log_prob)`` when the
caller wants the log-probability of the sampled action kept for a gradient.
Rewards are arrays whose last axis is time.
"""

from companion.rl.dqn import (
    ReplayBatch,
    ReplayBuffer,
    greedy_policy,
    linear_schedule,
    start_state_value,
)
from companion.rl.episodes import (
    Episode,
    EpisodeBatch,
    ShortCorridor,
    discounted_returns,
    evaluate,
    make_env,
    make_vec_env,
    reward_to_go,
    rollout,
    rollout_batch,
)

__all__ = [
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
    "start_state_value",
]
