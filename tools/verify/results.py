"""The stored results, book/reproducibility.json: one section per device kind, chapters inside.

    {"cpu": {
       "last_run": {"chapters": [...], "seeds": [...], "jobs": 2, "threads_per_job": 1,
                    "wall_seconds": 765.0},
       "chapters": {"01_gradient_step.ipynb": {
         "title": "...", "environment": {"device_name": ..., "commit": ..., ...},
         "claims": [{"id": "loss-falls", "text": "...", "fingerprint": "3f2a..."}, ...],
         "runs": {"0": {"seconds": 21.3, "glued": {"name": value, ...},
                        "claims": {"loss-falls": {"held": true, "detail": ""}, ...},
                        "errors": []}, ...}}}}}

A chapter's "claims" list is what its runs checked, in order, with a fingerprint of each claim's
code (`claims.code_fingerprint`); the text is kept for information only (the page takes it from the
chapter). A run's "claims" are keyed by claim id; "detail" is the exception when one did not hold.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tools.verify import DEVICES, RESULTS_PATH
from tools.verify.run import SeedRun


def load_results(path: Path = RESULTS_PATH) -> dict[str, Any]:
    """The stored results, or {} when there are none yet."""
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def write_results(results: dict[str, Any], path: Path = RESULTS_PATH) -> None:
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _chapter_entry(runs: list[SeedRun], environment: dict[str, Any]) -> dict[str, Any]:
    """One chapter's runs (all from the same notebook) as stored."""
    first = runs[0]
    for run in runs[1:]:
        if run.claims != first.claims or run.title != first.title:
            raise ValueError(
                f"{first.chapter} changed while it ran (SEED {first.seed} and SEED {run.seed} "
                "checked different claims): run it again"
            )
    return {
        "title": first.title,
        "environment": environment,
        "claims": [
            {"id": claim.id, "text": claim.text, "fingerprint": claim.fingerprint}
            for claim in first.claims
        ],
        "runs": {
            str(run.seed): {
                "seconds": run.seconds,
                "glued": run.glued,
                "claims": {
                    claim_id: {"held": outcome.held, "detail": outcome.detail}
                    for claim_id, outcome in run.outcomes.items()
                },
                "errors": run.errors,
            }
            for run in sorted(runs, key=lambda run: run.seed)
        },
    }


def store_runs(
    results: dict[str, Any],
    device: str,
    runs: list[SeedRun],
    environment: dict[str, Any],
    context: dict[str, Any],
) -> dict[str, Any]:
    """`results` with `runs` filed under `device`; chapters not run this time keep their entries."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    section = results.setdefault(device, {"chapters": {}})
    section["last_run"] = context
    for chapter in sorted({run.chapter for run in runs}):
        chapter_runs = [run for run in runs if run.chapter == chapter]
        section["chapters"][chapter] = _chapter_entry(chapter_runs, environment)
    section["chapters"] = dict(sorted(section["chapters"].items()))
    return dict(sorted(results.items(), key=lambda item: DEVICES.index(item[0])))


def is_current_format(chapter: dict[str, Any]) -> bool:
    """Whether a stored chapter has this format (claims by id with fingerprints)."""
    return isinstance(chapter.get("claims"), list) and all(
        isinstance(run.get("claims"), dict) for run in chapter.get("runs", {}).values()
    )


def claim_ids(chapter: dict[str, Any]) -> list[str]:
    """The ids of the claims a stored chapter's runs checked, in order."""
    return [claim["id"] for claim in chapter["claims"]]


def held_count(chapter: dict[str, Any], claim_id: str) -> tuple[int, int]:
    """(seeds on which the claim held, seeds run) for a stored chapter."""
    outcomes = [
        run["claims"][claim_id]["held"]
        for run in chapter["runs"].values()
        if claim_id in run["claims"]
    ]
    return sum(outcomes), len(outcomes)


def not_held_everywhere(results: dict[str, Any]) -> list[str]:
    """A line for each stored claim that failed on at least one of its seeds."""
    return [
        f"{device}, {name}: {claim_id!r} held on {held} of {total} seeds"
        for device, section in results.items()
        for name, chapter in section["chapters"].items()
        for claim_id in claim_ids(chapter)
        for held, total in [held_count(chapter, claim_id)]
        if held < total
    ]
