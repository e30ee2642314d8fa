"""Executing chapters under seeds: one fresh kernel per (chapter, seed), several side by side.

Each run injects ``SEED = <seed>`` after the chapter's `parameters` cell (papermill's
`parameterize_notebook`, the same injected-parameters cell as ``papermill -p SEED``) and executes
the notebook in `book/`. It collects every glued value (the numbers the prose quotes) from the
myst-nb glue outputs, and the outcome of every claim: each Checks cell is instrumented so that each
claim runs on its own and one failing claim does not hide the ones after it. An error in any other
cell is a run error. The chapter file itself is unchanged.
"""

from __future__ import annotations

import ast
import concurrent.futures
import datetime
import json
import os
import platform
import re
import subprocess
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import nbformat

from tools.verify import ROOT
from tools.verify.claims import (
    CLAIMS_MARKER,
    Claim,
    chapter_claims,
    chapter_title,
    instrument,
    is_checks_cell,
)

CELL_TIMEOUT_S = 900


@dataclass(frozen=True)
class Outcome:
    """Whether a claim held; `detail` is the exception ("AssertionError: ...") when it did not."""

    held: bool
    detail: str = ""


@dataclass
class SeedRun:
    """One chapter executed under one seed."""

    # The notebook's file name, e.g. "05_dqn.ipynb".
    chapter: str
    seed: int
    seconds: float
    title: str
    # The claims checked, in order, as the notebook had them when it ran.
    claims: list[Claim]
    glued: dict[str, Any]
    # Claim id -> outcome, in the order of `claims`.
    outcomes: dict[str, Outcome]
    # Errors in cells that are not claims.
    errors: list[str]

    @property
    def ok(self) -> bool:
        return not self.errors and all(outcome.held for outcome in self.outcomes.values())

    @property
    def failed(self) -> list[str]:
        """The ids of the claims that did not hold."""
        return [claim_id for claim_id, outcome in self.outcomes.items() if not outcome.held]


def _glued_value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _prepare(path: Path, seed: int) -> tuple[nbformat.NotebookNode, str, list[Claim]]:
    """The chapter with SEED injected and its Checks cells instrumented, its title and claims."""
    from papermill.parameterize import parameterize_notebook

    notebook = nbformat.read(path, as_version=4)
    if sum("parameters" in cell.metadata.get("tags", []) for cell in notebook.cells) != 1:
        raise ValueError(f"{path.name} must have exactly one cell tagged 'parameters'")
    title = chapter_title(notebook)
    claims = chapter_claims(notebook, path.name)
    for cell in notebook.cells:
        if cell.cell_type == "code" and is_checks_cell(cell.source):
            cell.source = instrument(cell.source)
        # papermill reads every cell's tags ...
        cell.metadata.setdefault("tags", [])
    # ... and records the parameters here.
    notebook.metadata.setdefault("papermill", {})
    notebook = parameterize_notebook(
        notebook, {"SEED": seed}, kernel_name="python3", language="python"
    )
    return notebook, title, claims


def run_chapter(path: Path, seed: int, timeout: int = CELL_TIMEOUT_S) -> SeedRun:
    """Execute the chapter at `path` with SEED = `seed` in a fresh kernel; collect what it shows."""
    from nbclient import NotebookClient

    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    notebook, title, claims = _prepare(path, seed)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start

    glued: dict[str, Any] = {}
    reported: dict[str, Outcome] = {}
    errors = []
    chapter_cells = [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and "injected-parameters" not in cell.metadata.get("tags", [])
    ]
    for index, cell in enumerate(chapter_cells):
        for output in cell.outputs:
            if output.output_type == "error":
                errors.append(f"code cell {index}: {output.ename}: {output.evalue}")
            scrapbook = output.get("metadata", {}).get("scrapbook", {})
            text = output.get("data", {}).get(scrapbook.get("mime_prefix", "") + "text/plain")
            if "name" in scrapbook and text is not None:
                glued[scrapbook["name"]] = _glued_value(text)
            if output.output_type == "stream" and output.name == "stdout":
                for line in output.text.splitlines():
                    if line.startswith(CLAIMS_MARKER):
                        for claim_id, held, detail in json.loads(line[len(CLAIMS_MARKER) :]):
                            reported[claim_id] = Outcome(held, detail)
    not_reached = Outcome(False, "not reached: the chapter failed before this claim")
    outcomes = {claim.id: reported.get(claim.id, not_reached) for claim in claims}
    return SeedRun(path.name, seed, round(seconds, 1), title, claims, glued, outcomes, errors)


def limit_threads(threads: int) -> None:
    # Runs in each worker process before it starts kernels, which inherit the environment:
    # chapters side by side must not each spawn a thread per core.
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)


def threads_per_job(jobs: int) -> int:
    return max(1, (os.cpu_count() or 1) // jobs)


def run_all(
    chapters: list[Path], seeds: list[int], jobs: int, previous: dict[str, Any]
) -> tuple[list[SeedRun], float]:
    """Every (chapter, seed) pair, `jobs` at a time; returns the runs and the wall time in seconds.

    Longest first, by the times in `previous` (a stored section); prints each outcome as it ends.
    """
    if not isinstance(jobs, int) or isinstance(jobs, bool):
        raise TypeError(f"jobs must be an integer, got {type(jobs).__name__} {jobs!r}")
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    # A broken Checks cell fails now, not after the other chapters have run.
    for chapter in chapters:
        chapter_claims(nbformat.read(chapter, as_version=4), chapter.name)

    def expected_seconds(pair: tuple[Path, int]) -> float:
        runs = previous.get("chapters", {}).get(pair[0].name, {}).get("runs", {})
        return max((run["seconds"] for run in runs.values()), default=0.0)

    pairs = sorted(
        ((chapter, seed) for chapter in chapters for seed in seeds),
        key=expected_seconds,
        reverse=True,
    )
    start = time.perf_counter()
    runs = []
    with concurrent.futures.ProcessPoolExecutor(
        jobs, initializer=limit_threads, initargs=(threads_per_job(jobs),)
    ) as pool:
        futures = [pool.submit(run_chapter, chapter, seed) for chapter, seed in pairs]
        for future in concurrent.futures.as_completed(futures):
            run = future.result()
            status = "ok"
            if not run.ok:
                status = f"{len(run.failed)} claim(s) failed, {len(run.errors)} run error(s)"
            print(f"{run.chapter} SEED={run.seed}: {status} in {run.seconds:.0f} s", flush=True)
            for line in [*run.errors, *run.failed]:
                print(f"    {line}", flush=True)
            runs.append(run)
    return runs, time.perf_counter() - start


def device_kind() -> str:
    """cpu, cuda or mps: what `companion.setup` picks here (BOOK_DEVICE, else the best there is)."""
    from companion.runtime import DEVICE_ENV_VAR, resolve_device

    return resolve_device(os.environ.get(DEVICE_ENV_VAR) or None).type


def _cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    text = cpuinfo.read_text() if cpuinfo.exists() else ""
    model = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return model.group(1).strip() if model else (platform.processor() or platform.machine())


def environment(device: str) -> dict[str, Any]:
    """What the runs ran on: the device, the versions that matter, the commit and the date."""
    import torch

    device_names = {"cuda": torch.cuda.get_device_name, "mps": lambda: "Apple GPU (MPS)"}
    try:
        tf_version = version("tensorflow")
    except PackageNotFoundError:
        # TensorFlow is optional for companion.
        tf_version = "not installed"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    return {
        "device_name": device_names.get(device, _cpu_name)(),
        "cpu_cores": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "tensorflow": tf_version,
        "commit": commit.strip() or "unknown",
        "date": datetime.date.today().isoformat(),
    }
