"""Checkpoints: a model's (and its optimizer's) state, written atomically with a checksum and
loaded all-or-nothing.

A run that takes hours must survive an interruption. `save_checkpoint` writes a temporary
file and renames it over the target, so a crash mid-write never leaves half a checkpoint;
`load_checkpoint` reads with ``weights_only=True`` (a checkpoint cannot run code), verifies
the checksum, and changes nothing unless all of it fits. A bad argument is a TypeError or
ValueError naming it (issue 18), a damaged file a `CheckpointError` naming the file.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from companion.checks import check_instance
from companion.training import _non_finite_weight


class CheckpointError(ValueError):
    """A file `load_checkpoint` cannot use: empty, truncated, damaged (its checksum does not
    match), or not written by `save_checkpoint`. The message names the file."""


_META_TYPES = (bool, int, float, str, type(None))


def _plain_meta(name: str, value: Any) -> Any:
    """`value` as plain Python that loads with weights_only=True: numbers, strings, None, and
    lists/tuples/dicts of them. NumPy scalars and arrays become Python numbers and lists (a
    np.float64 pickles as a NumPy object, which a weights-only load refuses)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if type(value) in _META_TYPES:
        return value
    # Subclasses (an IntEnum, say) would pickle as their own class: keep the plain value.
    for kind in _META_TYPES[:4]:
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, (list, tuple)):
        items = [_plain_meta(name, item) for item in value]
        # A named tuple would pickle as its own class: keep a plain tuple.
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        return {_plain_meta(name, k): _plain_meta(name, item) for k, item in value.items()}
    raise TypeError(
        f"checkpoint metadata {name!r} must be numbers, strings, or lists/dicts of them; "
        f"got {type(value).__name__}"
    )


def _feed(digest: Any, value: Any) -> None:
    """Add `value` to a hash: tensors by dtype, shape and bytes; containers item by item."""
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous()
        digest.update(f"tensor {tensor.dtype} {tuple(tensor.shape)};".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    elif isinstance(value, dict):
        digest.update(f"dict {len(value)};".encode())
        for key, item in value.items():
            _feed(digest, key)
            _feed(digest, item)
    elif isinstance(value, (list, tuple)):
        digest.update(f"sequence {len(value)};".encode())
        for item in value:
            _feed(digest, item)
    else:
        digest.update(f"{type(value).__name__} {value!r};".encode())


def _checksum(state: dict[str, Any]) -> str:
    """SHA-256 of a checkpoint's model, optimizer and meta parts, as save_checkpoint stores it."""
    digest = hashlib.sha256()
    for part in ("model", "optimizer", "optimizer_class", "meta"):
        _feed(digest, part)
        _feed(digest, state.get(part))
    return digest.hexdigest()


def _checkpoint_path(path: Any) -> Path:
    check_instance("path", path, (str, os.PathLike), "a file path (str or pathlib.Path)")
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"path {str(path)!r} is a folder; give a file name such as 'model.pt'")
    return path


def _temp_pattern(path: Path) -> re.Pattern[str]:
    """Temporary files of checkpoint `path`: .NAME.PID.HEX.tmp, so a stale one can be found."""
    return re.compile(re.escape(f".{path.name}.") + r"(\d+)\.[0-9a-f]{16}\.tmp")


def _process_alive(pid: int) -> bool:
    """Whether process `pid` runs (POSIX); elsewhere, assume it does (nothing is removed)."""
    if os.name != "posix" or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_temp_files(path: Path) -> None:
    """Delete temp files of `path` left by a writer that was killed mid-write (its process is
    gone); a save in progress in another live process keeps its file."""
    pattern = _temp_pattern(path)
    for entry in path.parent.iterdir():
        match = pattern.fullmatch(entry.name)
        if match and not _process_alive(int(match.group(1))):
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX): a crash after it keeps the new file."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        # Some file systems cannot sync a folder; the file itself was synced already.
        pass
    finally:
        os.close(fd)


def save_checkpoint(
    path: str | os.PathLike, model: nn.Module, optimizer: torch.optim.Optimizer | None, **meta: Any
) -> Path:
    """Write model (and optimizer) state and `meta` to `path` atomically: temp file, then rename.

    A crash mid-write leaves the previous checkpoint intact rather than half a file; the
    temp file such a crash leaves is removed by the next save of the same path (on POSIX,
    where the dead writer's process id tells a stale file from one being written). A replaced
    checkpoint keeps its file mode (a new one gets the umask's default), and the folder is
    synced after the rename. A SHA-256 checksum of the contents is stored with them, for
    `load_checkpoint` to verify. `meta` holds numbers, strings and lists/dicts of them;
    NumPy scalars and arrays are stored as plain Python. A model whose weights hold NaN or
    inf is refused: it would replace a good checkpoint with a diverged one.
    """
    path = _checkpoint_path(path)
    check_instance("model", model, nn.Module, "a torch.nn.Module")
    if optimizer is not None:
        check_instance("optimizer", optimizer, torch.optim.Optimizer, "a torch.optim.Optimizer")
    meta = {name: _plain_meta(name, value) for name, value in meta.items()}
    if not path.parent.is_dir():
        raise FileNotFoundError(f"the folder of path {str(path)!r} does not exist")
    weight = _non_finite_weight(model)
    if weight is not None:
        raise ValueError(f"model's weight {weight!r} holds NaN or inf: refusing to save it")
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        # Its kind, so that loading into another kind is refused (SGD state fits an Adam).
        "optimizer_class": type(optimizer).__name__ if optimizer is not None else None,
        "meta": meta,
    }
    state["sha256"] = _checksum(state)
    _remove_stale_temp_files(path)
    temp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp"
    # 0o666 less the umask, as open() gives a new file (mkstemp would make it 0o600).
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temp, stat.S_IMODE(path.stat().st_mode))
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _fsync_folder(path.parent)
    return path


def _read_checkpoint(path: Path) -> dict[str, Any]:
    """The verified contents of checkpoint `path`, in host memory; CheckpointError if unusable."""
    try:
        # Storages stay where torch.load builds them, in host memory: the checksum reads the
        # bytes there, and load_state_dict then copies them onto the model's devices.
        state = torch.load(path, map_location=lambda storage, _: storage, weights_only=True)
    except (MemoryError, PermissionError):
        raise
    except Exception as error:
        said = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        raise CheckpointError(
            f"checkpoint {str(path)!r} is damaged or not a checkpoint (empty, truncated, or "
            f"not written by save_checkpoint): torch.load raised {type(error).__name__} {said}"
        ) from error
    parts = {"model", "optimizer", "meta"}
    if not (isinstance(state, dict) and parts <= state.keys()):
        raise CheckpointError(
            f"{str(path)!r} is not a checkpoint written by save_checkpoint: it holds "
            f"{type(state).__name__}, not a dict with keys {sorted(parts)}"
        )
    if "sha256" not in state:
        raise CheckpointError(
            f"checkpoint {str(path)!r} has no checksum (saved by an older companion, or by "
            "torch.save), so its integrity cannot be verified; if you trust it, load its "
            "'model' part with torch.load(path, weights_only=True) and save it again"
        )
    if _checksum(state) != state["sha256"]:
        raise CheckpointError(
            f"checkpoint {str(path)!r} is damaged: its contents do not match the SHA-256 "
            "checksum stored with them"
        )
    return state


def _require_fits(path: Path, model: nn.Module, saved: dict[str, Any]) -> None:
    """ValueError unless the saved state has exactly the model's keys and shapes."""
    own = model.state_dict()
    problems = [f"missing {key}" for key in own if key not in saved]
    problems += [f"unexpected {key}" for key in saved if key not in own]
    problems += [
        f"size mismatch for {key}: {tuple(saved[key].shape)} in the checkpoint, "
        f"{tuple(value.shape)} in the model"
        for key, value in own.items()
        if key in saved
        and isinstance(value, torch.Tensor)
        and isinstance(saved[key], torch.Tensor)
        and saved[key].shape != value.shape
    ]
    if problems:
        raise ValueError(f"checkpoint {str(path)!r} does not fit model: " + "; ".join(problems[:5]))


def _require_optimizer_fits(
    path: Path, optimizer: torch.optim.Optimizer, state: dict[str, Any]
) -> None:
    """ValueError unless `optimizer` is of the saved kind and takes the saved state; the load
    is tried on a shallow copy, so the optimizer itself is untouched."""
    kind, saved_kind = type(optimizer).__name__, state.get("optimizer_class")
    if saved_kind != kind:
        raise ValueError(
            f"checkpoint {str(path)!r} holds the state of a {saved_kind} optimizer, but "
            f"optimizer is a {kind}; build a {saved_kind} to load it"
        )
    try:
        copy.copy(optimizer).load_state_dict(state["optimizer"])
    except (ValueError, KeyError, TypeError, RuntimeError) as error:
        raise ValueError(
            f"checkpoint {str(path)!r} holds optimizer state that does not fit optimizer "
            f"(built over other parameters?): {type(error).__name__}: {error}"
        ) from error


def load_checkpoint(
    path: str | os.PathLike, model: nn.Module, optimizer: torch.optim.Optimizer | None = None
) -> dict[str, Any]:
    """Load a `save_checkpoint` file into `model` (and `optimizer`) safely; return its meta.

    Loading uses ``weights_only=True``: a checkpoint cannot run code. The stored checksum
    is verified first: an empty, truncated or altered file, or one without a checksum
    (written before companion stored one, or by plain torch.save: refused, since it
    cannot be verified), raises `CheckpointError` naming it. Loading is all-or-nothing:
    a model of another shape or an optimizer that does not fit raises ValueError before
    either is changed. Tensors are copied onto the devices the model and optimizer use.
    """
    path = _checkpoint_path(path)
    check_instance("model", model, nn.Module, "a torch.nn.Module")
    if optimizer is not None:
        check_instance("optimizer", optimizer, torch.optim.Optimizer, "a torch.optim.Optimizer")
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {str(path)!r}")
    state = _read_checkpoint(path)
    _require_fits(path, model, state["model"])
    if optimizer is not None:
        if state["optimizer"] is None:
            raise ValueError(f"checkpoint {str(path)!r} holds no optimizer state")
        _require_optimizer_fits(path, optimizer, state)
    # Everything is checked: commit.
    model.load_state_dict(state["model"])
    if optimizer is not None:
        optimizer.load_state_dict(state["optimizer"])
    return state["meta"]
