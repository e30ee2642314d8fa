"""Every chapter under several seeds: run them, keep the results, write book/reproducibility.md.

    python tests/reproducibility.py run [--seeds 0 1 2 3 4] [--jobs N] [CHAPTER ...]   (make verify)
    python tests/reproducibility.py render                 (rewrite the page from the stored results)
    python tests/reproducibility.py seeds CHAPTER SEED...  (make seeds: one chapter, printed only)

Each run injects ``SEED = <seed>`` after the chapter's `parameters` cell (papermill's
`parameterize_notebook`, the same injected-parameters cell as ``papermill -p SEED``) and executes
the notebook from a fresh kernel in `book/`. Two things are collected:

- every glued value (the numbers the prose quotes), from the myst-nb glue outputs;
- every asserted claim, one by one. In a cell with top-level ``assert`` statements, a claim is a
  comment line followed by the statements up to the next comment line (the Checks cells are
  written that way). Each claim runs on its own and is recorded as held or not, so one failing
  claim does not hide the ones after it. The chapter itself is unchanged.

An error in any other cell not tagged ``raises-exception`` is a run error and is reported too.
Results go to `book/reproducibility.json`, one section per device kind (cpu, cuda, mps); a run on
a GPU adds its section beside the CPU one. `book/reproducibility.md` is rendered from that file
and from nothing else, so it is never edited by hand; tests/test_reproducibility.py checks that it
is current and that every claim holds on at least 4 of the 5 seeds.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import datetime
import io
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import tokenize
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BOOK_DIR = ROOT / "book"
RESULTS_PATH = BOOK_DIR / "reproducibility.json"
PAGE_PATH = BOOK_DIR / "reproducibility.md"
DEFAULT_SEEDS = (0, 1, 2, 3, 4)
MIN_SEEDS_HELD = 4  # a claim must hold on at least this many of the 5 seeds
CELL_TIMEOUT_S = 900
CLAIMS_MARKER = "__reproducibility_claims__ "
DEVICE_HEADINGS = {"cpu": "On a CPU", "cuda": "On an NVIDIA GPU", "mps": "On an Apple GPU (MPS)"}


def chapter_notebooks() -> list[Path]:
    """The chapters: `book/NN_name.ipynb`, in reading order."""
    return sorted(BOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


# ---------------------------------------------------------------- what a chapter glues and asserts


def _code_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _without_magics(source: str) -> str:
    """IPython magics and shell lines (``%pip``, ``!ls``) become ``pass`` so that `ast` can parse."""
    return "\n".join(
        line[: len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!")) else line
        for line in source.splitlines()
    )


def glue_names(notebook: nbformat.NotebookNode) -> list[str]:
    """Names passed as a string literal to ``glue(...)`` in the code cells, in order of appearance."""
    names = []
    for cell in _code_cells(notebook):
        for node in ast.walk(ast.parse(_without_magics(cell.source))):
            callee = node.func if isinstance(node, ast.Call) else None
            callee_name = getattr(callee, "id", None) or getattr(callee, "attr", None)
            if callee_name == "glue" and node.args and isinstance(node.args[0], ast.Constant):
                names.append(str(node.args[0].value))
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class CodeGroup:
    """Top-level statements of a cell under one comment: a claim when they contain an assert."""

    label: str  # the comment lines above the statements, joined; "" before the first comment
    code: str
    is_claim: bool


def code_groups(source: str) -> list[CodeGroup]:
    """Split a cell at its full-line, unindented comments (see the module docstring)."""
    lines = source.splitlines()
    comments: dict[int, str] = {}  # line number (1-based) -> comment text
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and token.start[1] == 0:
            comments[token.start[0]] = token.string.lstrip("#").strip()
    groups: list[CodeGroup] = []
    label, start = "", None
    statements = ast.parse(source).body

    def close(end_line: int) -> None:
        if start is not None:
            code = "\n".join(lines[start - 1 : end_line])
            tree = ast.parse(code)
            is_claim = any(isinstance(node, ast.Assert) for node in ast.walk(tree))
            groups.append(CodeGroup(label=label, code=code, is_claim=is_claim))

    previous_end = 0
    for statement in statements:
        leading = [comments[n] for n in range(previous_end + 1, statement.lineno) if n in comments]
        if leading:
            close(previous_end)
            label, start = " ".join(leading), statement.lineno
        elif start is None:
            start = statement.lineno
        previous_end = statement.end_lineno or statement.lineno
    close(previous_end)
    return groups


def _has_top_level_assert(source: str) -> bool:
    try:
        return any(isinstance(node, ast.Assert) for node in ast.parse(source).body)
    except SyntaxError:
        return False


def claim_labels(notebook: nbformat.NotebookNode) -> list[str]:
    """The chapter's asserted claims, by their comment, in order; repeated comments get " (2)", ..."""
    labels: list[str] = []
    for cell in _code_cells(notebook):
        if _has_top_level_assert(cell.source):
            _labelled_groups(cell.source, labels)
    return labels


def _labelled_groups(source: str, taken: list[str]) -> list[tuple[str | None, CodeGroup]]:
    """The cell's groups, each claim with its unique label (added to `taken`), other code with None."""
    labelled: list[tuple[str | None, CodeGroup]] = []
    for group in code_groups(source):
        label = None
        if group.is_claim:
            label = _unique(group.label or group.code.splitlines()[0], taken)
            taken.append(label)
        labelled.append((label, group))
    return labelled


def _unique(label: str, taken: list[str]) -> str:
    candidate, n = label, 1
    while candidate in taken:
        n += 1
        candidate = f"{label} ({n})"
    return candidate


# ---------------------------------------------------------------- running one chapter under one seed

_CLAIM_RUNNER = """\
import json as _reproducibility_json
_reproducibility_claims = []
def _reproducibility_claim(label, code):
    try:
        exec(compile(code, "<claim>", "exec"), globals())
    except Exception as error:
        _reproducibility_claims.append([label, False, f"{type(error).__name__}: {error}"])
    else:
        _reproducibility_claims.append([label, True, ""])
"""


def instrument(source: str, labels: list[str]) -> str:
    """The cell rewritten so that each claim runs on its own and its outcome is printed at the end.

    `labels` collects the labels used so far in the notebook (for repeated comments).
    """
    lines = [_CLAIM_RUNNER]
    for label, group in _labelled_groups(source, labels):
        if label is not None:
            lines.append(f"_reproducibility_claim({label!r}, {group.code!r})")
        else:
            lines.append(f"exec(compile({group.code!r}, '<cell>', 'exec'), globals())")
    lines.append(f"print({CLAIMS_MARKER!r} + _reproducibility_json.dumps(_reproducibility_claims))")
    return "\n".join(lines)


@dataclass
class ClaimResult:
    label: str
    held: bool
    detail: str  # the exception, as "AssertionError: <message>", when the claim did not hold


@dataclass
class SeedRun:
    chapter: str  # the notebook's file name, e.g. "05_dqn.ipynb"
    seed: int
    seconds: float
    glued: dict[str, Any]
    claims: list[ClaimResult]
    errors: list[str]  # errors in cells that are not claims and not tagged raises-exception

    @property
    def ok(self) -> bool:
        return not self.errors and all(claim.held for claim in self.claims)


def _glued_value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def run_chapter(path: Path, seed: int, timeout: int = CELL_TIMEOUT_S) -> SeedRun:
    """Execute the chapter at `path` with SEED = `seed` in a fresh kernel and collect what it shows."""
    from nbclient import NotebookClient
    from papermill.parameterize import parameterize_notebook

    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    notebook = nbformat.read(path, as_version=4)
    if sum("parameters" in cell.metadata.get("tags", []) for cell in notebook.cells) != 1:
        raise ValueError(f"{path.name} must have exactly one cell tagged 'parameters'")
    expected = claim_labels(notebook)
    labels: list[str] = []
    for cell in _code_cells(notebook):
        if _has_top_level_assert(cell.source):
            cell.source = instrument(cell.source, labels)
    for cell in notebook.cells:
        cell.metadata.setdefault("tags", [])  # papermill reads every cell's tags ...
    notebook.metadata.setdefault("papermill", {})  # ... and records the parameters here
    notebook = parameterize_notebook(notebook, {"SEED": seed}, kernel_name="python3", language="python")
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
    reported: dict[str, ClaimResult] = {}
    errors = []
    chapter_cells = [
        cell for cell in _code_cells(notebook) if "injected-parameters" not in cell.metadata.get("tags", [])
    ]
    for index, cell in enumerate(chapter_cells):
        for output in cell.outputs:
            if output.output_type == "error" and "raises-exception" not in cell.metadata.get("tags", []):
                errors.append(f"code cell {index}: {output.ename}: {output.evalue}")
            scrapbook = output.get("metadata", {}).get("scrapbook", {})
            text = output.get("data", {}).get(scrapbook.get("mime_prefix", "") + "text/plain")
            if "name" in scrapbook and text is not None:
                glued[scrapbook["name"]] = _glued_value(text)
            if output.output_type == "stream" and output.name == "stdout":
                for line in output.text.splitlines():
                    if line.startswith(CLAIMS_MARKER):
                        for label, held, detail in json.loads(line[len(CLAIMS_MARKER) :]):
                            reported[label] = ClaimResult(label, held, detail)
    claims = [
        reported.get(label, ClaimResult(label, False, "not reached: an earlier cell failed")) for label in expected
    ]
    return SeedRun(path.name, seed, round(seconds, 1), glued, claims, errors)


# ---------------------------------------------------------------- running all of them


def _cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M) if cpuinfo.exists() else None
    return model.group(1).strip() if model else (platform.processor() or platform.machine())


def _environment(device: str) -> dict[str, Any]:
    import torch

    device_name = {"cuda": torch.cuda.get_device_name, "mps": lambda: "Apple GPU (MPS)"}.get(device, _cpu_name)()
    try:
        tf_version = version("tensorflow")
    except PackageNotFoundError:  # TensorFlow is optional for companion
        tf_version = "not installed"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    return {
        "device_name": device_name,
        "cpu_cores": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "tensorflow": tf_version,
        "commit": commit.strip() or "unknown",
        "date": datetime.date.today().isoformat(),
    }


def _limit_threads(threads: int) -> None:
    # Runs in each worker process before it starts kernels, which inherit the environment:
    # chapters side by side must not each spawn a thread per core.
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)


def run_all(chapters: list[Path], seeds: list[int], jobs: int, previous: dict[str, Any]) -> tuple[list[SeedRun], float]:
    """Every (chapter, seed) pair, `jobs` at a time, longest first; returns the runs and the wall time."""
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")

    def expected_seconds(pair: tuple[Path, int]) -> float:
        runs = previous.get("chapters", {}).get(pair[0].name, {}).get("runs", {})
        return max((run["seconds"] for run in runs.values()), default=0.0)

    pairs = sorted(((chapter, seed) for chapter in chapters for seed in seeds), key=expected_seconds, reverse=True)
    threads = max(1, (os.cpu_count() or 1) // jobs)
    start = time.perf_counter()
    runs = []
    with concurrent.futures.ProcessPoolExecutor(jobs, initializer=_limit_threads, initargs=(threads,)) as pool:
        futures = {pool.submit(run_chapter, chapter, seed): (chapter, seed) for chapter, seed in pairs}
        for future in concurrent.futures.as_completed(futures):
            run = future.result()
            failed = [claim.label for claim in run.claims if not claim.held]
            status = "ok" if run.ok else f"{len(failed)} claim(s) failed, {len(run.errors)} run error(s)"
            print(f"{run.chapter} SEED={run.seed}: {status} in {run.seconds:.0f} s", flush=True)
            for line in [*run.errors, *failed]:
                print(f"    {line}", flush=True)
            runs.append(run)
    return runs, time.perf_counter() - start


def device_kind() -> str:
    """cpu, cuda or mps: what `companion.setup` picks in this environment (BOOK_DEVICE, else the best)."""
    from companion.runtime import DEVICE_ENV_VAR, resolve_device

    return resolve_device(os.environ.get(DEVICE_ENV_VAR) or None).type


def load_results(path: Path = RESULTS_PATH) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def store_runs(
    results: dict[str, Any], device: str, runs: list[SeedRun], environment: dict[str, Any], context: dict[str, Any]
) -> dict[str, Any]:
    """`results` with `runs` filed under `device`; chapters not run this time keep their old entries."""
    section = results.setdefault(device, {"chapters": {}})
    section["last_run"] = context
    for chapter in sorted({run.chapter for run in runs}):
        chapter_runs = sorted((run for run in runs if run.chapter == chapter), key=lambda run: run.seed)
        notebook = nbformat.read(BOOK_DIR / chapter, as_version=4)
        section["chapters"][chapter] = {
            "title": chapter_title(notebook),
            "environment": environment,
            "runs": {str(run.seed): asdict(run) for run in chapter_runs},
        }
    section["chapters"] = dict(sorted(section["chapters"].items()))
    return dict(sorted(results.items(), key=lambda item: list(DEVICE_HEADINGS).index(item[0])))


def chapter_title(notebook: nbformat.NotebookNode) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    raise ValueError("the notebook has no '# ' title")


# ---------------------------------------------------------------- the page


def format_value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}".replace(",", " ")
    if isinstance(value, float):
        return f"{value:.3g}"
    return _cell_text(str(value))


def _cell_text(text: str, limit: int = 160) -> str:
    """Text that is safe inside a Markdown table cell."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("|", "\\|").replace("`", "'")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def held_count(chapter: dict[str, Any], label: str) -> tuple[int, int]:
    """(seeds on which the claim held, seeds run)."""
    outcomes = [claim["held"] for run in chapter["runs"].values() for claim in run["claims"] if claim["label"] == label]
    return sum(outcomes), len(outcomes)


def _claims_table(chapter: dict[str, Any], seeds: list[str]) -> list[str]:
    labels = list(dict.fromkeys(claim["label"] for run in chapter["runs"].values() for claim in run["claims"]))
    lines = [
        "| Claim | " + " | ".join(f"SEED {seed}" for seed in seeds) + " | held on |",
        "|---|" + "---|" * len(seeds) + "---|",
    ]
    for label in labels:
        marks = []
        for seed in seeds:
            outcome = [claim["held"] for claim in chapter["runs"][seed]["claims"] if claim["label"] == label]
            marks.append("✓" if outcome and outcome[0] else "✗")
        held, total = held_count(chapter, label)
        verdict = f"{held}/{total}"
        if held < min(MIN_SEEDS_HELD, total):
            verdict = f"**{verdict}, below {MIN_SEEDS_HELD} of 5**"
        lines.append(f"| {_cell_text(label, 400)} | " + " | ".join(marks) + f" | {verdict} |")
    return lines


def _values_table(chapter: dict[str, Any], seeds: list[str]) -> list[str]:
    # min / median / max first: on a narrow page the per-seed columns scroll, the spread stays in view.
    names = list(dict.fromkeys(name for run in chapter["runs"].values() for name in run["glued"]))
    lines = [
        "| Value | min | median | max | " + " | ".join(f"SEED {seed}" for seed in seeds) + " |",
        "|---|" + "---:|" * (len(seeds) + 3),
    ]
    for name in names:
        values = [chapter["runs"][seed]["glued"].get(name) for seed in seeds]
        numbers = [value for value in values if _is_number(value)]
        stats = [min(numbers), statistics.median(numbers), max(numbers)] if numbers else [None] * 3
        cells = [format_value(value) for value in stats + values]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    seconds = [chapter["runs"][seed]["seconds"] for seed in seeds]
    run_time = [min(seconds), statistics.median(seconds), max(seconds), *seconds]
    lines.append("| *run time, s* | " + " | ".join(f"{value:.0f}" for value in run_time) + " |")
    return lines


def _failures(chapter: dict[str, Any], seeds: list[str]) -> list[str]:
    lines = []
    for seed in seeds:
        run = chapter["runs"][seed]
        for claim in run["claims"]:
            if not claim["held"]:
                lines.append(f"- SEED {seed}, *{_cell_text(claim['label'], 400)}*: `{_cell_text(claim['detail'])}`")
        for error in run["errors"]:
            lines.append(f"- SEED {seed}, run error: `{_cell_text(error)}`")
    return lines


def _section(device: str, section: dict[str, Any]) -> list[str]:
    chapters = section["chapters"]
    environments = [chapter["environment"] for chapter in chapters.values()]

    def distinct(key: str) -> str:
        return " / ".join(dict.fromkeys(str(environment[key]) for environment in environments))

    last = section["last_run"]
    lines = [
        f"## {DEVICE_HEADINGS[device]}",
        "",
        f"Device: {distinct('device_name')}; {distinct('cpu_cores')} CPU cores; Python {distinct('python')}, "
        f"torch {distinct('torch')}, TensorFlow {distinct('tensorflow')}. "
        f"Run on {distinct('date')} at commit `{distinct('commit')}`.",
        "",
        f"The last `make verify` ran {_count(len(last['chapters']), 'chapter')} × "
        f"{_count(len(last['seeds']), 'seed')}, "
        f"{last['jobs']} at a time with {_count(last['threads_per_job'], 'CPU thread')} each, "
        f"in {last['wall_seconds'] / 60:.1f} minutes. Run times below are from that setting, so they are "
        "longer than a chapter alone on the whole machine.",
        "",
        "| Chapter | Notebook | Claims | Held on every seed | Held on fewer than 4 | Run time per seed, s |",
        "|---|---|---:|---:|---:|---|",
    ]
    for name, chapter in chapters.items():
        labels = list(dict.fromkeys(claim["label"] for run in chapter["runs"].values() for claim in run["claims"]))
        counts = [held_count(chapter, label) for label in labels]
        every = sum(held == total for held, total in counts)
        below = sum(held < min(MIN_SEEDS_HELD, total) for held, total in counts)
        seconds = [run["seconds"] for run in chapter["runs"].values()]
        lines.append(
            f"| {{doc}}`{Path(name).stem}` | `{name}` | {len(labels)} | {every} | {below} | "
            f"{min(seconds):.0f}–{max(seconds):.0f} |"
        )
    for name, chapter in chapters.items():
        seeds = sorted(chapter["runs"], key=int)
        lines += ["", f"### {chapter['title']} (`{name}`)", "", "Claims (the comments of the Checks cell):", ""]
        lines += _claims_table(chapter, seeds)
        lines += ["", "Glued values (the numbers in the chapter's text):", ""]
        lines += _values_table(chapter, seeds)
        failures = _failures(chapter, seeds)
        if failures:
            lines += ["", "Where a claim did not hold:", "", *failures]
    return lines


PAGE_INTRO = """\
# Reproducibility on five seeds

```{{note}}
This page is generated by `make verify` (`tests/reproducibility.py`) from
`book/reproducibility.json`. Do not edit it by hand; `tests/test_reproducibility.py` fails when it
is out of date with the chapters.
```

Every chapter asserts its headline claims in its Checks cell for its default `SEED` (0). Here each
chapter ran again with `SEED` = {seeds}, each in a fresh kernel. For every claim (one comment of the
Checks cell and the asserts under it) the tables show whether it held on each seed, and for every
number the chapter's text quotes (its glued values) the value on each seed with its minimum, median
and maximum. A claim that holds on fewer than {min_held} of the 5 seeds counts as a bug in the chapter;
where a chapter's honest claim is "on most seeds", its text says so and shows the numbers.
"""


def render(results: dict[str, Any]) -> str:
    """The page, from the stored results only."""
    if not results:
        raise ValueError("no results: run `make verify` first")
    seeds = sorted(
        {int(seed) for section in results.values() for c in section["chapters"].values() for seed in c["runs"]}
    )
    lines = [PAGE_INTRO.format(seeds=", ".join(map(str, seeds)), min_held=MIN_SEEDS_HELD)]
    for device, section in results.items():
        lines += _section(device, section) + [""]
    if "cuda" not in results:
        lines += [
            f"## {DEVICE_HEADINGS['cuda']}",
            "",
            "Not run yet: no NVIDIA GPU was available when this page was generated. "
            "`BOOK_DEVICE=cuda make verify` on a machine with one adds this section.",
            "",
        ]
    return "\n".join(lines)


# ---------------------------------------------------------------- command line


def _chapter_path(text: str) -> Path:
    path = Path(text)
    candidates = [path, ROOT / path, BOOK_DIR / path.name]
    for candidate in candidates:
        if candidate.suffix == ".ipynb" and candidate.exists():
            return candidate.resolve()
    names = ", ".join(chapter.name for chapter in chapter_notebooks())
    raise argparse.ArgumentTypeError(f"no chapter {text!r}; chapters are {names}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run chapters under every seed, store the results, render the page")
    run.add_argument("chapters", nargs="*", type=_chapter_path, help="default: every chapter")
    run.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS))
    run.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="chapters run side by side")
    commands.add_parser("render", help="rewrite the page from book/reproducibility.json")
    seeds = commands.add_parser("seeds", help="one chapter under several seeds, printed, nothing stored")
    seeds.add_argument("chapter", type=_chapter_path)
    seeds.add_argument("seeds", type=int, nargs="+")
    args = parser.parse_args(argv)

    if args.command == "render":
        PAGE_PATH.write_text(render(load_results()), encoding="utf-8")
        return 0
    if args.command == "seeds":
        runs, _ = run_all([args.chapter], args.seeds, jobs=1, previous={})
        for run in sorted(runs, key=lambda run: run.seed):
            print(f"SEED={run.seed}:")
            for name, value in run.glued.items():
                print(f"    {name} = {format_value(value)}")
        failed = sum(not run.ok for run in runs)
        print(f"{len(runs) - failed} passed, {failed} failed")
        return 1 if failed else 0

    chapters = args.chapters or chapter_notebooks()
    if len(set(args.seeds)) != len(args.seeds) or min(args.seeds) < 0:
        parser.error(f"--seeds must be distinct non-negative integers, got {args.seeds}")
    device = device_kind()
    results = load_results()
    runs, wall_seconds = run_all(chapters, args.seeds, args.jobs, results.get(device, {}))
    context = {
        "chapters": [chapter.name for chapter in chapters],
        "seeds": args.seeds,
        "jobs": args.jobs,
        "threads_per_job": max(1, (os.cpu_count() or 1) // args.jobs),
        "wall_seconds": round(wall_seconds, 1),
    }
    results = store_runs(results, device, runs, _environment(device), context)
    RESULTS_PATH.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    PAGE_PATH.write_text(render(results), encoding="utf-8")
    failed = sum(not run.ok for run in runs)
    print(f"{len(runs)} runs in {wall_seconds / 60:.1f} min, {failed} with a failed claim or error; wrote {PAGE_PATH}")
    below = [
        f"{name}: {label!r} held on {held} of {total} seeds"
        for name, chapter in results[device]["chapters"].items()
        for label in dict.fromkeys(claim["label"] for run in chapter["runs"].values() for claim in run["claims"])
        for held, total in [held_count(chapter, label)]
        if held < min(MIN_SEEDS_HELD, total)
    ]
    for line in below:
        print(f"BELOW {MIN_SEEDS_HELD} OF 5: {line}")
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
