"""Whether the stored results still match a chapter, without running it.

A re-run (`make verify`) is needed when a claim is added, removed or renamed (the stored ids must
equal the chapter's, in order), when a claim's code changes (its fingerprint ignores comments and
formatting), or when the prose or a ``glue("name", ...)`` call names a value no stored run glued.
Rewording a claim's text needs none: the page takes the text from the chapter
(``python -m tools.verify render``).
"""

from __future__ import annotations

from typing import Any

import nbformat

from tools.verify.claims import Claim, glue_names, prose_glue_names
from tools.verify.results import claim_ids, is_current_format


def claim_problems(claims: list[Claim], stored: dict[str, Any]) -> list[str]:
    """Why the stored chapter's claims are not the chapter's `claims`; [] when they are."""
    if not is_current_format(stored):
        return ["stored in an older format (claims without ids)"]
    ids = [claim.id for claim in claims]
    stored_ids = claim_ids(stored)
    problems = []
    if ids != stored_ids:
        added = [claim_id for claim_id in ids if claim_id not in stored_ids]
        removed = [claim_id for claim_id in stored_ids if claim_id not in ids]
        if added or removed:
            problems.append(f"claims added {added}, removed {removed} since the last run")
        else:
            problems.append(f"claims reordered since the last run: now {ids}")
    else:
        for claim, entry in zip(claims, stored["claims"], strict=True):
            if claim.fingerprint != entry["fingerprint"]:
                problems.append(f"claim {claim.id!r}: its code changed since the last run")
    for seed, run in stored["runs"].items():
        if list(run["claims"]) != stored_ids:
            problems.append(f"SEED {seed}: outcomes for {list(run['claims'])}, not {stored_ids}")
    return problems


def needed_glue_names(notebook: nbformat.NotebookNode) -> list[str]:
    """The glued names a chapter needs: those its prose shows and those it glues by a literal."""
    return list(dict.fromkeys(prose_glue_names(notebook) + glue_names(notebook)))


def glue_problems(notebook: nbformat.NotebookNode, stored: dict[str, Any]) -> list[str]:
    """A line for each stored run that lacks a glued name the chapter needs; [] when none does."""
    needed = needed_glue_names(notebook)
    problems = []
    for seed, run in stored["runs"].items():
        missing = [name for name in needed if name not in run["glued"]]
        if missing:
            problems.append(f"SEED {seed}: no stored value for {missing}")
    return problems


def unused_glue_names(notebook: nbformat.NotebookNode, stored: dict[str, Any]) -> list[str]:
    """Stored glued names the chapter neither shows nor glues by a literal (for information:
    names glued by ``glue_fields`` are among them and are not stale)."""
    needed = set(needed_glue_names(notebook))
    stored_names = dict.fromkeys(name for run in stored["runs"].values() for name in run["glued"])
    return [name for name in stored_names if name not in needed]
