"""Numbers for the prose: `glue` records a computed value for myst-nb's ``{glue:text}``.

Every number the book's text quotes is computed in a code cell and glued, never typed
by hand. `glue_fields` glues a config's fields in one call, so the prose can quote a
chapter's budgets without a line of glue per field. `stored_values` reads back what the
seed runner glued on every seed, for a rate that one run of a chapter cannot measure.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SCALARS = (bool, int, float, str)


def glue(name: str, value: Any) -> Any:
    """Record `value` under `name` for the book's prose (myst-nb ``{glue:text}``) and return it.

    NumPy and torch scalars become plain Python numbers first, so that a format
    spec such as ``:.3f`` works in the prose. Where myst-nb is not installed
    (Colab), nothing is recorded; the notebook still runs. `name` is an identifier-like
    string (TypeError for a non-string, ValueError for another string).
    """
    if not isinstance(name, str):
        raise TypeError(
            f"name must be an identifier-like string, got {type(name).__name__} {name!r}"
        )
    if not _NAME.fullmatch(name):
        raise ValueError(f"name must be an identifier-like string, got {name!r}")
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(
                f"glue {name!r}: only scalars can be glued, "
                f"got a tensor of shape {tuple(value.shape)}"
            )
        value = value.item()
    elif isinstance(value, np.ndarray):
        if value.size != 1:
            raise ValueError(
                f"glue {name!r}: only scalars can be glued, got an array of shape {value.shape}"
            )
        value = value.item()
    elif isinstance(value, np.generic):
        value = value.item()
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return value
    myst_glue(name, value, display=False)
    return value


def glue_fields(config: Any, prefix: str = "") -> None:
    """Glue every scalar field (int, float, str, bool) of the dataclass instance `config`.

    Each field is glued as ``f"{prefix}{field_name}"``; fields holding anything else
    (None, lists, paths, nested configs) are skipped. A class instead of an instance,
    or a non-dataclass, raises TypeError.
    """
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"config must be a dataclass instance, got {type(config).__name__}")
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a string, got {type(prefix).__name__} {prefix!r}")
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if isinstance(value, (*_SCALARS, np.integer, np.floating, np.bool_)):
            glue(f"{prefix}{field.name}", value)


def stored_values(
    chapter: str, name: str, path: str | Path = "reproducibility.json"
) -> dict[int, Any]:
    """``{seed: value}`` of the number `name` that the seed runner glued in `chapter`, per seed.

    Reads the results `make verify` stores (``book/reproducibility.json``; a chapter runs in
    ``book/``, so the default path is relative to it), for a claim that needs more runs than
    the chapter can afford. The first device section that has the chapter is used, in the
    file's order (the seed runner writes the CPU's first). An empty dict when the file is
    missing (a reader's copy outside the book) or has no run of `chapter`; seeds whose value
    is not a number or string are left out.
    """
    for argument, value in (("chapter", chapter), ("name", name)):
        if not isinstance(value, str) or not value:
            raise TypeError(f"{argument} must be a non-empty string, got {value!r}")
    if not isinstance(path, str | Path):
        raise TypeError(f"path must be a str or a pathlib.Path, got {type(path).__name__}")
    path = Path(path)
    if not path.exists():
        return {}
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"path {str(path)!r} is not a readable JSON file: {error}") from None
    if not isinstance(results, dict):
        raise ValueError(f"path {str(path)!r} holds {type(results).__name__}, not seed results")
    # the sections in stored order: the seed runner writes the CPU's first
    for section in results.values():
        runs = section.get("chapters", {}).get(chapter, {}).get("runs", {})
        values = {int(seed): run.get("glued", {}).get(name) for seed, run in runs.items()}
        values = {seed: v for seed, v in sorted(values.items()) if isinstance(v, int | float | str)}
        if values:
            return values
    return {}
