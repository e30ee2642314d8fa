"""Seeding, device choice, a quiet TensorFlow import, the offline guard and `glue`.

Every chapter starts with ``rt = companion.setup(seed=SEED)``: one call that seeds
every random number generator the book uses, picks the device once, applies the
shared plot style and says in one line what runs where.
"""

from __future__ import annotations

import ipaddress
import os
import random
import re
import socket
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Iterator

import numpy as np
import torch

DEVICE_ENV_VAR = "BOOK_DEVICE"
OFFLINE_ENV_VAR = "BOOK_OFFLINE"
VALID_DEVICES = ("cpu", "cuda", "cuda:N", "mps")
_MAX_SEED = 2**32 - 1  # NumPy's legacy seeding accepts [0, 2**32 - 1]

# The seed of the latest `setup` call: `tensorflow()` seeds TensorFlow with it on first import.
_current_seed: int | None = None


class DeviceUnavailableError(RuntimeError):
    """A device was asked for by name, but this machine does not have it."""


class NetworkBlockedError(OSError):
    """A non-loopback connection was attempted while BOOK_OFFLINE=1."""


@dataclass(frozen=True)
class Runtime:
    """What `setup` chose: print it, pass ``rt.device`` to the code that needs it."""

    seed: int
    device: torch.device
    torch_version: str
    tensorflow_version: str | None  # installed version, None when TensorFlow is not installed
    num_threads: int  # torch's intra-op CPU threads

    def device_for(self, dtype: torch.dtype) -> torch.device:
        """The device to use for tensors of `dtype`: MPS has no float64, so float64 work stays on the CPU there."""
        if self.device.type == "mps" and dtype == torch.float64:
            return torch.device("cpu")
        return self.device

    def __str__(self) -> str:
        tf = f"TensorFlow {self.tensorflow_version} (imported on first use)" if self.tensorflow_version else "TensorFlow not installed"
        return (
            f"companion: seed {self.seed} · device {self.device} · "
            f"torch {self.torch_version} ({self.num_threads} CPU threads) · {tf}"
        )


def setup(seed: int = 0, device: str | torch.device | None = None) -> Runtime:
    """Seed everything, pick the device, apply the plot style, print one line, return a `Runtime`.

    Seeds Python's `random`, NumPy's global generator, torch (CPU and every CUDA
    device) and TensorFlow (now if it is imported, else on first `tensorflow()`).
    The device is `device` if given, else the environment variable ``BOOK_DEVICE``,
    else the first of CUDA, MPS, CPU that this machine has.
    With ``BOOK_OFFLINE=1`` in the environment, non-loopback network connections
    are refused from here on (the book must never download at run time).
    """
    global _current_seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int in [0, {_MAX_SEED}], got {type(seed).__name__} {seed!r}")
    seed = int(seed)
    if not 0 <= seed <= _MAX_SEED:
        raise ValueError(f"seed must be in [0, {_MAX_SEED}], got {seed}")

    if isinstance(device, torch.device):
        device = str(device)
    chosen = resolve_device(device if device is not None else (os.environ.get(DEVICE_ENV_VAR) or None))

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    _current_seed = seed
    if "tensorflow" in sys.modules:
        sys.modules["tensorflow"].random.set_seed(seed)

    from companion import plots  # late import: plots imports matplotlib, which is slow

    plots.use_style()
    # pygame (it draws CartPole's frames) prints a greeting when first imported; keep pages to the chapter.
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    if os.environ.get(OFFLINE_ENV_VAR) == "1":
        block_network()

    rt = Runtime(
        seed=seed,
        device=chosen,
        torch_version=torch.__version__,
        tensorflow_version=_installed_version("tensorflow"),
        num_threads=torch.get_num_threads(),
    )
    print(rt)
    return rt


def resolve_device(name: str | None = None) -> torch.device:
    """The torch device called `name` (cpu, cuda, cuda:N, mps), or the best available one for None."""
    if name is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if not isinstance(name, str) or not re.fullmatch(r"cpu|mps|cuda(:\d+)?", name.strip().lower()):
        raise ValueError(
            f"device (argument or ${DEVICE_ENV_VAR}) must be one of {', '.join(VALID_DEVICES)}, got {name!r}"
        )
    name = name.strip().lower()
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceUnavailableError(
                f"device {name!r} was requested but torch.cuda.is_available() is False on this machine "
                f"(torch {torch.__version__}); use 'cpu' or unset ${DEVICE_ENV_VAR}"
            )
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise DeviceUnavailableError(
                f"device {name!r} was requested but this machine has {torch.cuda.device_count()} CUDA device(s)"
            )
    if name == "mps" and not _mps_available():
        raise DeviceUnavailableError("device 'mps' was requested but torch.backends.mps.is_available() is False")
    return torch.device(name)


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def _installed_version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


@contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null: TensorFlow's C++ start-up lines bypass Python's sys.stderr."""
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
    of grabbing all memory, and the seed of the latest `setup` call is applied.
    """
    already_imported = "tensorflow" in sys.modules
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _stderr_silenced(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import tensorflow as tf

        if not already_imported:
            try:  # must happen before TensorFlow's first operation
                tf.config.threading.set_intra_op_parallelism_threads(torch.get_num_threads())
                tf.config.threading.set_inter_op_parallelism_threads(torch.get_num_interop_threads())
            except RuntimeError:
                pass  # TensorFlow was already initialised by someone else: keep its threads
            for gpu in tf.config.list_physical_devices("GPU"):
                try:
                    tf.config.experimental.set_memory_growth(gpu, True)
                except RuntimeError:
                    pass
        tf.get_logger().setLevel("ERROR")
    if not already_imported and _current_seed is not None:
        tf.random.set_seed(_current_seed)
    return tf


# ---------------------------------------------------------------- offline guard

_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex
_original_getaddrinfo = socket.getaddrinfo


def _is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    if host.lower() in ("localhost", "localhost.localdomain", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name other than localhost


def _refuse(address: Any) -> NetworkBlockedError:
    return NetworkBlockedError(
        f"{OFFLINE_ENV_VAR}=1: refused a network connection to {address!r}. "
        "The book must not download anything at run time: ship the data with the book "
        "or take it from an installed package."
    )


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
        raise _refuse(address)
    return _original_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
        raise _refuse(address)
    return _original_connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host is not None and not _is_loopback(host):
        raise _refuse(host)
    return _original_getaddrinfo(host, *args, **kwargs)


def block_network() -> None:
    """Refuse every non-loopback connection and name lookup in this process, with a clear error."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo


def network_blocked() -> bool:
    """Whether `block_network` is in force in this process."""
    return socket.getaddrinfo is _guarded_getaddrinfo


# ---------------------------------------------------------------- glue


def glue(name: str, value: Any) -> Any:
    """Record `value` under `name` for the book's prose (myst-nb ``{glue:text}``) and return it.

    NumPy and torch scalars become plain Python numbers first, so that a format
    spec such as ``:.3f`` works in the prose. Where myst-nb is not installed
    (Colab), nothing is recorded; the notebook still runs.
    """
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"name must be an identifier-like string, got {name!r}")
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"glue {name!r}: only scalars can be glued, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    elif isinstance(value, np.ndarray):
        if value.size != 1:
            raise ValueError(f"glue {name!r}: only scalars can be glued, got an array of shape {value.shape}")
        value = value.item()
    elif isinstance(value, np.generic):
        value = value.item()
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return value
    myst_glue(name, value, display=False)
    return value
