"""Execute the chapters the book's execution cache lacks, as many side by side as there are cores.

    python -m tools.execute            (make book runs it before `jupyter-book build`)

Jupyter Book 1 executes a chapter the cache lacks while Sphinx reads that page, one page after
another, so on a 2-core machine one core idles through the whole execution. This program executes
them first, `--jobs` at a time, longest first, exactly as myst-nb's cache mode would
(jupyter-cache's `single_nb_execution`, in the chapter's folder, with the timeout and error policy
of `_config.yml` and the chapter's own `mystnb.execution_timeout`), and stores each executed
notebook in the same cache (`_build/.jupyter_cache`). The build that follows finds every chapter
there, under the hash of its code, and executes nothing. A chapter whose code is unchanged since
its last execution is not run again.

`make test` fills the same cache from nbval's execution instead (tests/nbval_record.py), through
`store_executed` below, so that each check executes each chapter once.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import yaml
from filelock import FileLock

ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = ROOT / "_build" / ".jupyter_cache"
# Two pytest workers may store at once; jupyter-cache's SQLite index takes one writer.
CACHE_LOCK = ROOT / "_build" / ".jupyter_cache.lock"


def chapters() -> list[Path]:
    """The chapter notebooks, longest first.

    The later chapters train the larger models (the DQN and the GANs take 2-3 minutes, the first
    chapters under one), so starting from the last keeps both cores busy until the end.
    """
    return sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"), reverse=True)


def execution_settings() -> dict[str, Any]:
    """`_config.yml`'s execute section: the cell timeout and whether errors are allowed."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    execute = config.get("execute", {})
    return {
        "timeout": int(execute.get("timeout", 30)),
        "allow_errors": bool(execute.get("allow_errors", False)),
    }


def timeout_of(notebook: nbformat.NotebookNode, default: int) -> int:
    """The cell timeout myst-nb applies: the chapter's `mystnb.execution_timeout`, or `default`."""
    return int(notebook.metadata.get("mystnb", {}).get("execution_timeout", default))


def _cache() -> Any:
    from jupyter_cache import get_cache

    return get_cache(str(CACHE_DIR))


def is_cached(path: Path) -> bool:
    """Whether the cache holds an execution of the notebook's current code."""
    notebook = nbformat.read(path, as_version=4)
    with FileLock(CACHE_LOCK):
        try:
            _cache().match_cache_notebook(notebook)
        except KeyError:
            return False
    return True


def store_executed(notebook: nbformat.NotebookNode, path: Path, seconds: float) -> None:
    """Store an executed notebook as myst-nb stores its own executions (the record of its run time
    is what the book's execution report shows)."""
    from jupyter_cache.base import CacheBundleIn

    CACHE_LOCK.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(CACHE_LOCK):
        _cache().cache_notebook_bundle(
            CacheBundleIn(
                notebook, str(path.resolve()), data={"execution_seconds": round(seconds, 2)}
            ),
            check_validity=False,
            overwrite=True,
        )


def _execute(path: Path, timeout: int, allow_errors: bool) -> tuple[Any, float, str | None]:
    # In a worker process: myst-nb's own execution call, in the chapter's folder.
    from jupyter_cache.executors.utils import single_nb_execution

    notebook = nbformat.read(path, as_version=4)
    result = single_nb_execution(
        notebook,
        cwd=str(path.parent),
        timeout=timeout_of(notebook, timeout),
        allow_errors=allow_errors,
        meta_override=True,
    )
    return result.nb, result.time, result.exc_string


def execute_stale(jobs: int) -> int:
    """Execute and store every chapter the cache lacks; the number that failed."""
    from tools.verify.run import limit_threads, threads_per_job

    stale = [path for path in chapters() if not is_cached(path)]
    if not stale:
        print("Every chapter's execution is in the cache.")
        return 0
    jobs = min(jobs, len(stale))
    settings = execution_settings()
    print(
        f"Executing {len(stale)} chapter(s), {jobs} at a time "
        f"({threads_per_job(jobs)} CPU thread(s) each): {', '.join(p.name for p in stale)}",
        flush=True,
    )
    started = time.perf_counter()
    failed = 0
    total = 0.0
    with concurrent.futures.ProcessPoolExecutor(
        jobs, initializer=limit_threads, initargs=(threads_per_job(jobs),)
    ) as pool:
        futures = {
            pool.submit(_execute, path, settings["timeout"], settings["allow_errors"]): path
            for path in stale
        }
        for future in concurrent.futures.as_completed(futures):
            path = futures[future]
            notebook, seconds, error = future.result()
            total += seconds
            if error is None:
                store_executed(notebook, path, seconds)
                print(f"  {path.name}: executed in {seconds:.0f} s", flush=True)
            else:
                failed += 1
                print(f"  {path.name}: FAILED after {seconds:.0f} s\n{error}", flush=True)
    wall = time.perf_counter() - started
    print(
        f"{len(stale)} chapter(s) in {wall:.0f} s "
        f"({total:.0f} s of chapter run time; {wall / total:.2f} of it)",
        flush=True,
    )
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="chapters executed side by side"
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    failed = execute_stale(args.jobs)
    if failed:
        print(f"{failed} chapter(s) failed; the book was not built.", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
