"""The command line: ``python -m tools.verify run|render|seeds|check`` from the repository root."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import nbformat

import tools.verify as verify
from tools.verify.claims import ClaimError, chapter_claims
from tools.verify.current import claim_problems, glue_problems, unused_glue_names
from tools.verify.page import ChapterProse, current_prose, format_value, render
from tools.verify.results import load_results, not_held_everywhere, store_runs, write_results
from tools.verify.run import device_kind, environment, run_all, threads_per_job


def _chapter_path(text: str) -> Path:
    path = Path(text)
    for candidate in (path, verify.ROOT / path, verify.BOOK_DIR / path.name):
        if candidate.suffix == ".ipynb" and candidate.exists():
            return candidate.resolve()
    names = ", ".join(chapter.name for chapter in verify.chapter_notebooks())
    raise argparse.ArgumentTypeError(f"no chapter {text!r}; chapters are {names}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.verify",
        description=verify.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="run chapters under every seed, store the results, render the page"
    )
    run.add_argument("chapters", nargs="*", type=_chapter_path, help="default: every chapter")
    run.add_argument("--seeds", type=int, nargs="+", default=list(verify.DEFAULT_SEEDS))
    run.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="chapters run side by side"
    )
    render_command = commands.add_parser(
        "render", help="rewrite the page from the stored results and the chapters' claim texts"
    )
    render_command.add_argument("--results", type=Path, default=verify.RESULTS_PATH)
    render_command.add_argument("--page", type=Path, default=verify.PAGE_PATH)
    seeds = commands.add_parser(
        "seeds", help="one chapter under several seeds, printed, nothing stored"
    )
    seeds.add_argument("chapter", type=_chapter_path)
    seeds.add_argument("seeds", type=int, nargs="+")
    commands.add_parser("check", help="say what is stale and whether render or run fixes it")
    return parser


def _prose(results: dict[str, Any]) -> dict[str, ChapterProse]:
    """The current titles and claim texts of the chapters that have results."""
    names = {name for section in results.values() for name in section["chapters"]}
    return current_prose([path for path in verify.chapter_notebooks() if path.name in names])


def _render(results_path: Path, page_path: Path) -> int:
    results = load_results(results_path)
    page_path.write_text(render(results, _prose(results)), encoding="utf-8")
    print(f"wrote {page_path}")
    return 0


def _seeds(chapter: Path, seeds: list[int]) -> int:
    runs, _ = run_all([chapter], seeds, jobs=1, previous={})
    for run in sorted(runs, key=lambda run: run.seed):
        print(f"SEED={run.seed}:")
        for name, value in run.glued.items():
            print(f"    {name} = {format_value(value)}")
    failed = sum(not run.ok for run in runs)
    print(f"{len(runs) - failed} passed, {failed} failed")
    return 1 if failed else 0


def _run(chapters: list[Path], seeds: list[int], jobs: int) -> int:
    device = device_kind()
    results = load_results()
    runs, wall_seconds = run_all(chapters, seeds, jobs, results.get(device, {}))
    context = {
        "chapters": [chapter.name for chapter in chapters],
        "seeds": seeds,
        "jobs": jobs,
        "threads_per_job": threads_per_job(jobs),
        "wall_seconds": round(wall_seconds, 1),
    }
    results = store_runs(results, device, runs, environment(device), context)
    write_results(results)
    verify.PAGE_PATH.write_text(render(results, _prose(results)), encoding="utf-8")
    failed = sum(not run.ok for run in runs)
    print(
        f"{len(runs)} runs in {wall_seconds / 60:.1f} min, {failed} with a failed claim or error; "
        f"wrote {verify.RESULTS_PATH} and {verify.PAGE_PATH}"
    )
    failing = not_held_everywhere({device: results[device]})
    for line in failing:
        print(f"NOT EVERY SEED: {line}")
    return 1 if failing else 0


def _check() -> int:
    """Print what is stale; 0 when everything is current."""
    results = load_results()
    errors, rerun, notes = [], [], []
    chapters = verify.chapter_notebooks()
    for path in chapters:
        notebook = nbformat.read(path, as_version=4)
        try:
            claims = chapter_claims(notebook, path.name)
        except ClaimError as error:
            errors.append(str(error))
            continue
        if path.name not in results.get("cpu", {}).get("chapters", {}):
            rerun.append(f"{path.name}: no results on a CPU")
        for device, section in results.items():
            stored = section["chapters"].get(path.name)
            if stored is not None:
                problems = claim_problems(claims, stored) + glue_problems(notebook, stored)
                rerun += [f"{device}, {path.name}: {problem}" for problem in problems]
                unused = unused_glue_names(notebook, stored)
                if unused:
                    notes.append(
                        f"{device}, {path.name}: stored names no literal glue or prose "
                        f"uses (glue_fields?): {unused}"
                    )
    for line in notes:
        print(f"note: {line}")
    for line in errors:
        print(f"error: {line}")
    for line in rerun:
        print(f"stale: {line}")
    if errors:
        print("Fix the Checks cells above, then run `make verify`.")
        return 1
    if rerun:
        print("Run `make verify` (or `python -m tools.verify run CHAPTER ...`).")
        return 1
    try:
        page = render(results, _prose(results))
    except ValueError as error:
        print(f"stale: {error}")
        return 1
    if not verify.PAGE_PATH.exists() or verify.PAGE_PATH.read_text(encoding="utf-8") != page:
        print("The page is out of date: run `python -m tools.verify render` (seconds).")
        return 1
    print("The stored results and the page are current.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return _command(parser, args)
    except ClaimError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command == "render":
        return _render(args.results, args.page)
    if args.command == "seeds":
        return _seeds(args.chapter, args.seeds)
    if args.command == "check":
        return _check()
    if len(set(args.seeds)) != len(args.seeds) or min(args.seeds) < 0:
        parser.error(f"--seeds must be distinct non-negative integers, got {args.seeds}")
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    return _run(args.chapters or verify.chapter_notebooks(), args.seeds, args.jobs)


if __name__ == "__main__":
    sys.exit(main())
