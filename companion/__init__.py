"""companion: what the chapters of the book share.

What a chapter teaches is written in the chapter; this package holds the plumbing
around it: seeding and the device (`setup`), data that ships with the book
(`companion.data`), the shared figure style and plots (`companion.plots`),
widget panels (`companion.widgets`), the supervised training loop with checkpoints and a
data-parallel harness (`companion.training`), the k-armed bandit testbed
(`companion.bandits`), environments, returns and episodes for the
reinforcement-learning chapters (`companion.rl`) and the metrics that judge a
generator (`companion.metrics`). `expect_error` shows an error on purpose
(the articles' broken code) and lets the notebook go on.
"""

from companion.errors import expect_error
from companion.runtime import (
    DeviceUnavailableError,
    NetworkBlockedError,
    Runtime,
    glue,
    resolve_device,
    setup,
    tensorflow,
)

__version__ = "0.1.0"

__all__ = [
    "DeviceUnavailableError",
    "NetworkBlockedError",
    "Runtime",
    "expect_error",
    "glue",
    "resolve_device",
    "setup",
    "tensorflow",
]
