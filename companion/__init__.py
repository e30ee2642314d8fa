"""companion: what the chapters of the book share.

What a chapter teaches is written in the chapter; this package holds the plumbing
around it: seeding and the device (`setup`, `companion.runtime`), argument checks
(`companion.checks`), the offline guard (`companion.offline`), numbers for the prose
(`glue`, `glue_fields`), data that ships with the book (`companion.data`), the shared
figure style and plots (`companion.plots`), widget panels (`companion.widgets`), the
supervised training loop (`companion.training`), checkpoints (`companion.checkpoints`), a
data-parallel harness (`companion.parallel`), the k-armed bandit testbed
(`companion.bandits`), environments, returns and episodes for the reinforcement-learning
chapters (`companion.rl`) and the metrics that judge a generator (`companion.metrics`).
`expect_error` shows an error on purpose (the articles' broken code) and lets the notebook
go on.
"""

from __future__ import annotations

import os

import torch

from companion import offline, runtime
from companion.checks import check_int
from companion.errors import expect_error
from companion.offline import NetworkBlockedError
from companion.prose import glue, glue_fields
from companion.runtime import DeviceUnavailableError, Runtime, resolve_device, tensorflow

__version__ = "0.1.0"

__all__ = [
    "DeviceUnavailableError",
    "NetworkBlockedError",
    "Runtime",
    "expect_error",
    "glue",
    "glue_fields",
    "resolve_device",
    "setup",
    "tensorflow",
]


def setup(seed: int = 0, device: str | torch.device | None = None) -> Runtime:
    """Seed everything, pick the device, apply the plot style, print one line, return a `Runtime`.

    The one call at the top of every chapter. It composes the concerns that live in
    their own modules: `runtime` seeds Python's `random`, NumPy, torch and TensorFlow
    and picks the device (`device` if given, else ``$BOOK_DEVICE``, else the first of
    CUDA, MPS, CPU this machine has); `plots` sets the shared figure style and gives every
    figure shown from here on an alt text that says what it shows; with
    ``BOOK_OFFLINE=1`` in the environment, `offline` refuses every non-loopback
    connection from here on (the book must never download at run time).
    """
    seed = check_int("seed", seed, 0, runtime.MAX_SEED)
    chosen = runtime.choose_device(device)
    runtime.seed_everything(seed)

    # Imported here: plots imports matplotlib, which is slow to import.
    from companion import plots

    plots.use_style()
    plots.describe_figures_in_outputs()
    # pygame (it draws CartPole's frames) prints a greeting when first imported; keep
    # the pages to the chapter.
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    if offline.offline_requested():
        offline.block_network()
    rt = runtime.describe(seed, chosen)
    print(rt)
    return rt
