"""Seeding, the device and a quiet TensorFlow import: what every chapter needs before it starts.

`seed_everything` seeds every random number generator the book uses; `choose_device`
picks the device once (CUDA, then MPS, then the CPU, overridable with ``BOOK_DEVICE``);
`tensorflow` imports TensorFlow without its start-up noise. The names of device kinds
("cuda", "mps", "cpu") appear in this module only: other modules ask it questions
(`is_cpu`, `supports_fused_adam`, `generator_device`) so that no code hard-codes a device;
every function that takes a device refuses a name that is not one of the book's devices.
This module imports nothing else of `companion` but the argument checks; `companion.setup`
composes it with the plot style and the offline guard.
"""

from __future__ import annotations

import os
import random
import re
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Iterator

import numpy as np
import torch

from companion.checks import check_instance, check_int

DEVICE_ENV_VAR = "BOOK_DEVICE"
VALID_DEVICES = ("cpu", "cuda", "cuda:N", "mps")
_DEVICE_NAME = re.compile(r"cpu|mps|cuda(:\d+)?")
# Where MPS has no kernels (no 64-bit floating point): tensors of these dtypes stay on the CPU.
_NOT_ON_MPS = (torch.float64, torch.complex128)
# NumPy's legacy seeding (np.random.seed) accepts [0, 2**32 - 1].
MAX_SEED = 2**32 - 1

# The seed of the latest `seed_everything` call: `tensorflow()` seeds TensorFlow with it on
# first import.
_current_seed: int | None = None


class DeviceUnavailableError(RuntimeError):
    """A device was asked for by name, but this machine does not have it."""


@dataclass(frozen=True)
class Runtime:
    """What `companion.setup` chose: print it, pass ``rt.device`` to the code that needs it."""

    seed: int
    device: torch.device
    torch_version: str
    # The installed version, None when TensorFlow is not installed.
    tensorflow_version: str | None
    # torch's intra-op CPU threads.
    num_threads: int

    def device_for(self, dtype: torch.dtype) -> torch.device:
        """The device for tensors of `dtype` (a torch.dtype such as ``torch.float64``).

        MPS has no float64 (nor complex128), so those stay on the CPU. A dtype name such as
        ``"float64"`` or a NumPy dtype raises TypeError: compared with a torch dtype it would
        never match, and float64 would silently go to MPS.
        """
        check_instance("dtype", dtype, torch.dtype, "a torch.dtype such as torch.float64")
        if self.device.type == "mps" and dtype in _NOT_ON_MPS:
            return torch.device("cpu")
        return self.device

    def __str__(self) -> str:
        tf = (
            f"TensorFlow {self.tensorflow_version} (imported on first use)"
            if self.tensorflow_version
            else "TensorFlow not installed"
        )
        return (
            f"companion: seed {self.seed} · device {self.device} · "
            f"torch {self.torch_version} ({self.num_threads} CPU threads) · {tf}"
        )


def describe(seed: int, device: torch.device) -> Runtime:
    """The `Runtime` for `seed` and `device` on this machine: library versions and CPU threads."""
    return Runtime(
        seed=check_int("seed", seed, 0, MAX_SEED),
        device=check_instance("device", device, torch.device, "a torch.device"),
        torch_version=torch.__version__,
        tensorflow_version=_installed_version("tensorflow"),
        num_threads=torch.get_num_threads(),
    )


def seed_everything(seed: int) -> None:
    """Seed Python's `random`, NumPy's global generator, torch (CPU and every CUDA device) and
    TensorFlow (now if it is imported, else on the first `tensorflow()` call), and make cuDNN
    deterministic. `seed` is an int in [0, MAX_SEED], the range NumPy's seeding accepts.
    """
    global _current_seed
    seed = check_int("seed", seed, 0, MAX_SEED)
    random.seed(seed)
    np.random.seed(seed)
    # Also seeds every CUDA device.
    torch.manual_seed(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    _current_seed = seed
    if "tensorflow" in sys.modules:
        sys.modules["tensorflow"].random.set_seed(seed)


# ---------------------------------------------------------------- devices


def choose_device(device: str | torch.device | None = None) -> torch.device:
    """`device` if given, else the one ``$BOOK_DEVICE`` names, else the best this machine has."""
    if device is not None:
        return resolve_device(device)
    from_env = os.environ.get(DEVICE_ENV_VAR) or None
    if from_env is None:
        return resolve_device(None)
    return resolve_device(_as_device(from_env, f"${DEVICE_ENV_VAR}"))


def _as_device(device: Any, name: str = "device") -> torch.device:
    """`device` as a torch.device: a torch.device as it is, or a name (cpu, cuda, cuda:N, mps;
    any case and spacing). Anything else raises TypeError, another name ValueError, both naming
    `name`, before torch sees it (torch's own message for ``"tpu"`` lists two dozen kinds)."""
    if isinstance(device, torch.device):
        return device
    names = ", ".join(VALID_DEVICES)
    if not isinstance(device, str):
        raise TypeError(
            f"{name} must be a torch.device or one of {names}, got {type(device).__name__} "
            f"{device!r}"
        )
    if not _DEVICE_NAME.fullmatch(device.strip().lower()):
        raise ValueError(f"{name} must be one of {names}, got {device!r}")
    return torch.device(device.strip().lower())


def resolve_device(name: str | torch.device | None = None) -> torch.device:
    """The device called `name` (cpu, cuda, cuda:N, mps, or such a torch.device), or the best
    available for None.

    Every function of the book that puts tensors on a device asks this first: a name it does
    not know raises ValueError (a non-name TypeError), a device this machine lacks
    `DeviceUnavailableError`, each saying what is allowed.
    """
    if name is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = _as_device(name)
    if device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device must be one of {', '.join(VALID_DEVICES)}, got {device!r}")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceUnavailableError(
                f"device {str(device)!r} was requested but torch.cuda.is_available() is False on "
                f"this machine (torch {torch.__version__}); use 'cpu' or unset ${DEVICE_ENV_VAR}"
            )
        if (device.index or 0) >= torch.cuda.device_count():
            raise DeviceUnavailableError(
                f"device {str(device)!r} was requested but this machine has "
                f"{torch.cuda.device_count()} CUDA device(s)"
            )
    if device.type == "mps" and not _mps_available():
        raise DeviceUnavailableError(
            "device 'mps' was requested but torch.backends.mps.is_available() is False"
        )
    return device


def is_cpu(device: torch.device | str) -> bool:
    """Whether `device` is the CPU (where mixed precision and synchronisation do not apply)."""
    return _as_device(device).type == "cpu"


def supports_fused_adam(device: torch.device | str) -> bool:
    """Whether `torch.optim.Adam(..., fused=True)` runs on `device` (one kernel per step)."""
    return _as_device(device).type in ("cpu", "cuda")


def generator_device(device: torch.device | str) -> torch.device:
    """Where a `torch.Generator` that samples indices for `device` should live.

    On CUDA, the device itself (sampling needs no copy from the host); anywhere else the
    CPU, which every torch build supports, and the indices are moved afterwards.
    """
    device = _as_device(device)
    return device if device.type == "cuda" else torch.device("cpu")


def synchronize(device: torch.device | str) -> None:
    """Wait for the work queued on `device` (an accelerator runs asynchronously); no-op on the CPU.

    Timing an accelerator without it measures how fast work is queued, not done.
    """
    if not is_cpu(device):
        torch.accelerator.synchronize(_as_device(device))


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def _installed_version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


# ---------------------------------------------------------------- TensorFlow


@contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null: TensorFlow's C++ start-up lines bypass sys.stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def tensorflow() -> Any:
    """Import TensorFlow quietly and return the module.

    No start-up noise reaches the page (``TF_CPP_MIN_LOG_LEVEL`` alone does not
    silence the CUDA probe, so file descriptor 2 is muted during the import),
    TensorFlow uses as many CPU threads as torch, GPUs get memory growth instead
    of grabbing all memory, and the seed of the latest `seed_everything` call is applied.
    """
    already_imported = "tensorflow" in sys.modules
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _stderr_silenced(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import tensorflow as tf

        if not already_imported:
            # Thread counts must be set before TensorFlow's first operation; if someone else
            # initialised it already, keep its threads.
            try:
                tf.config.threading.set_intra_op_parallelism_threads(torch.get_num_threads())
                tf.config.threading.set_inter_op_parallelism_threads(
                    torch.get_num_interop_threads()
                )
            except RuntimeError:
                pass
            for gpu in tf.config.list_physical_devices("GPU"):
                try:
                    tf.config.experimental.set_memory_growth(gpu, True)
                except RuntimeError:
                    pass
        tf.get_logger().setLevel("ERROR")
    if not already_imported and _current_seed is not None:
        tf.random.set_seed(_current_seed)
    return tf
