"""Run every chapter as it runs on Google Colab, without Colab.

    .venv/bin/python tools/colab_check.py [--notebooks DIR] [--jobs N] [--keep]

1. Builds a Python 3.13 environment under _build/colab/venv with Colab's versions of what
   the chapters import (constraints from tools/colab/pip-freeze-py313.txt, Colab's published
   `pip freeze`), reused while the constraints are unchanged.
2. Asks pip, without installing, what `pip install companion[tensorflow]` would do there:
   it must install companion and nothing else (no package of Colab's changed or added).
3. Snapshots the working tree into a temporary git repository and points the repository
   URL of _config.yml at it (a temporary git config), so that the setup cell's
   `pip install "companion @ git+https://github.com/..."` installs this tree, offline.
4. Runs every chapter (NN_*.ipynb) with nbclient in its own copy of the environment, from an
   empty directory, with `google.colab` importable and imported at kernel start (so the
   setup cell takes its Colab branch), every cell tag removed (Colab ignores tags) and
   BOOK_OFFLINE=1.
5. Passes when every cell ran, `pip freeze` afterwards differs from before only by the
   added companion line, and every stored widget model is one Colab's ipywidgets 7 renders.

Prints a table per chapter and writes _build/colab/summary.json; exits 1 on any failure.
Needs PyPI (the first build of the environment, about 7 GB, and the setuptools that building
companion asks for), never GitHub.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FREEZE = ROOT / "tools" / "colab" / "pip-freeze-py313.txt"
RUNNER = ROOT / "tools" / "colab" / "run_notebook.py"
WORK = ROOT / "_build" / "colab"
VENV = WORK / "venv"
STAMP = VENV / ".colab-stamp"
COLAB_PYTHON = (3, 13)

# What the chapters import and what the check itself needs (nbclient runs them), besides pip.
PACKAGES = (
    *("pip", "setuptools", "wheel"),
    *("torch", "tensorflow", "numpy", "pandas", "matplotlib", "ipywidgets", "ipython"),
    *("ipykernel", "tqdm", "gymnasium", "pygame", "scikit-learn", "scipy"),
    *("nbclient", "nbformat", "jupyter_client"),
)

# The widget model modules of ipywidgets 7, the only ones Colab's front end renders.
COLAB_WIDGET_MODULES = {
    "@jupyter-widgets/controls": "1.5.0",
    "@jupyter-widgets/base": "1.2.0",
    "@jupyter-widgets/output": "1.0.0",
}
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

CELL_TIMEOUT_S = 900
# Seconds a chapter took at home; chapters start longest first so that the last one to
# finish is short. A previous run's summary.json, when there is one, is used instead.
EXPECTED_SECONDS = {"06": 140.0, "05": 90.0}


class CheckError(Exception):
    """A problem that stops the check before the chapters run (printed without a traceback)."""


# ---------------------------------------------------------------------------------------------
# Pure helpers (unit-tested in tests/test_packaging.py)


def canonical_name(name: str) -> str:
    """A package name as PEP 503 compares it: lower case, runs of -_. as one '-'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _version_from_url(name: str, url: str) -> str:
    """The version in the file name of a wheel or sdist URL, without its local part (+cpu)."""
    filename = urllib.parse.unquote(url.split("#")[0].rstrip("/").rsplit("/", 1)[-1])
    match = re.match(r"(?P<name>[^-]+)-(?P<version>[^-]+?)(?:-.*\.whl|\.tar\.gz|\.zip)$", filename)
    if match is None or canonical_name(match["name"]) != canonical_name(name):
        raise ValueError(f"cannot read {name}'s version from the URL {url!r}")
    return match["version"].split("+")[0]


def colab_pins(freeze_text: str) -> dict[str, str]:
    """Colab's version of each package in a `pip freeze` text, by canonical name.

    `name==version` lines as they are; `name @ <wheel or sdist URL>` lines (Colab's CPU torch)
    give the version in the file name, `+cpu` dropped; `git+` and `file:` lines are left out.
    """
    pins: dict[str, str] = {}
    for raw in freeze_text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if " @ " in line:
            name, url = (part.strip() for part in line.split(" @ ", 1))
            if url.startswith(("git+", "file:")):
                continue
            pins[canonical_name(name)] = _version_from_url(name, url)
        elif "==" in line:
            name, version = (part.strip() for part in line.split("==", 1))
            pins[canonical_name(name)] = version
        else:
            raise ValueError(f"unexpected line in the freeze list: {line!r}")
    return pins


def constraints(pins: dict[str, str]) -> list[str]:
    """pip constraint lines `name==version` for Colab's pins, sorted.

    `nvidia-*` are left out: Colab's CPU torch has no NVIDIA libraries, and PyPI's CUDA build
    of the same torch (which stands in for it) needs its own versions of them.
    """
    return [f"{name}=={pins[name]}" for name in sorted(pins) if not name.startswith("nvidia-")]


def freeze_diff(before: str, after: str) -> tuple[list[str], list[str]]:
    """Lines of `pip freeze` output (removed, added) from `before` to `after`."""
    old = {line.strip() for line in before.splitlines() if line.strip()}
    new = {line.strip() for line in after.splitlines() if line.strip()}
    return sorted(old - new), sorted(new - old)


def freeze_problems(removed: list[str], added: list[str]) -> list[str]:
    """What is wrong with a freeze diff that should add one `companion @ ...` line only."""
    problems = [f"pip freeze lost or changed {line!r}" for line in removed]
    companion = [line for line in added if canonical_name(line.split(" @ ")[0]) == "companion"]
    problems += [f"pip freeze gained {line!r}" for line in added if line not in companion]
    if len(companion) != 1 or " @ " not in companion[0]:
        problems.append(f"expected one added line 'companion @ <url>', got {companion}")
    return problems


def widget_problems(notebook: dict[str, Any]) -> list[str]:
    """Widget models and views in an executed notebook that Colab's ipywidgets 7 cannot render."""
    problems = []
    state = notebook.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {})
    for model_id, model in state.get("state", {}).items():
        module, version = model.get("model_module"), model.get("model_module_version")
        if COLAB_WIDGET_MODULES.get(module) != version:
            name = model.get("model_name")
            problems.append(f"widget model {model_id} ({name}) is {module} {version}")
    for index, cell in enumerate(notebook.get("cells", [])):
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            major = None if view is None else view.get("version_major")
            if view is not None and major != 2:
                problems.append(f"cell {index}: widget view version_major {major}")
    return problems


def widget_model_count(notebook: dict[str, Any]) -> int:
    """How many widget models the notebook's stored widget state holds."""
    state = notebook.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {})
    return len(state.get("state", {}))


def repository_url(config_text: str) -> str:
    """`repository.url` of a Jupyter Book _config.yml (a two-level key: read without a parser)."""
    match = re.search(r"^repository:\s*\n(?:[ \t]+.*\n)*?[ \t]+url:\s*(\S+)", config_text, re.M)
    if match is None:
        raise ValueError("_config.yml has no repository.url")
    return match[1].strip("'\"")


def dry_run_problems(report: dict[str, Any]) -> list[str]:
    """What a `pip install --dry-run --report` would install besides companion."""
    installs = [item["metadata"] for item in report.get("install", [])]
    return [
        f"would install {meta['name']}=={meta['version']}"
        for meta in installs
        if canonical_name(meta["name"]) != "companion"
    ]


# ---------------------------------------------------------------------------------------------
# The environment


def _python_version(python: str) -> tuple[int, int] | None:
    """(major, minor) of the interpreter `python`, or None when it does not run."""
    try:
        code = "import sys; print(*sys.version_info[:2])"
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60)
    except OSError:
        return None
    if out.returncode != 0:
        return None
    major, minor = out.stdout.split()
    return int(major), int(minor)


def find_python() -> str:
    """A Python 3.13: $COLAB_PYTHON, else python3.13 on PATH, else pyenv's 3.13.x."""
    wanted = ".".join(map(str, COLAB_PYTHON))
    explicit = os.environ.get("COLAB_PYTHON")
    if explicit:
        if _python_version(explicit) != COLAB_PYTHON:
            raise CheckError(f"COLAB_PYTHON={explicit} is not a working Python {wanted}")
        return explicit
    candidates = [shutil.which(f"python{wanted}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(map(str, pyenv_root.glob(f"versions/{wanted}.*/bin/python{wanted}")))
    for candidate in filter(None, candidates):
        if _python_version(candidate) == COLAB_PYTHON:
            return candidate
    raise CheckError(
        f"No Python {wanted} found (Colab's version): set COLAB_PYTHON to one, put python{wanted} "
        f"on PATH, or install it (e.g. `pyenv install {wanted}`)."
    )


def _run(cmd: list[str], log: Path | None = None, **kwargs: Any) -> subprocess.CompletedProcess:
    """Run `cmd`; on failure raise CheckError with the end of its output (also appended to log)."""
    out = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if log is not None:
        with log.open("a", encoding="utf-8") as file:
            file.write(f"$ {' '.join(cmd)}\n{out.stdout}{out.stderr}\n")
    if out.returncode != 0:
        tail = "\n".join((out.stdout + out.stderr).strip().splitlines()[-30:])
        raise CheckError(f"`{' '.join(cmd[:6])} ...` failed ({out.returncode}):\n{tail}")
    return out


def ensure_venv(python: str, constraint_lines: list[str]) -> tuple[float, bool]:
    """Create _build/colab/venv with Colab's versions unless it is there and up to date.

    Returns (seconds spent, whether it was reused).
    """
    constraints_file = WORK / "constraints.txt"
    wanted = "\n".join([python, *PACKAGES, *constraint_lines]) + "\n"
    stamp = hashlib.sha256(wanted.encode()).hexdigest()
    if STAMP.is_file() and STAMP.read_text().strip() == stamp:
        return 0.0, True
    started = time.perf_counter()
    shutil.rmtree(VENV, ignore_errors=True)
    WORK.mkdir(parents=True, exist_ok=True)
    constraints_file.write_text("\n".join(constraint_lines) + "\n")
    log = WORK / "install.log"
    log.write_text("")
    print(f"Creating {VENV.relative_to(ROOT)} with Colab's package versions (a few minutes) ...")
    _run([python, "-m", "venv", str(VENV)], log)
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
    _run([*pip, "-c", str(constraints_file), *PACKAGES], log)
    STAMP.write_text(stamp + "\n")
    return time.perf_counter() - started, False


def pip_freeze(venv: Path) -> str:
    """`pip freeze --all` of the environment at `venv`."""
    python = str(venv / "bin" / "python")
    return _run([python, "-m", "pip", "freeze", "--all", "--disable-pip-version-check"]).stdout


# ---------------------------------------------------------------------------------------------
# The stand-ins for GitHub and Colab


def snapshot(dest: Path, env: dict[str, str]) -> Path:
    """A git repository at `dest` with one commit: the working tree's tracked and untracked,
    not ignored files as they are now (what the setup cell's install will clone)."""
    listed = _run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT).stdout
    dest.mkdir(parents=True)
    for name in sorted(set(filter(None, listed.split("\0")))):
        source = ROOT / name
        # Deleted but still tracked files, and submodules, are not part of the snapshot.
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "working tree snapshot"]):
        _run(["git", *cmd], cwd=dest, env=env)
    return dest


def git_config(path: Path, snapshot_dir: Path, url: str) -> Path:
    """A git config file that sends clones of `url` to `snapshot_dir` (used as GIT_CONFIG_GLOBAL,
    so the user's own git config is not read or changed)."""
    path.write_text(
        f'[url "{snapshot_dir.as_uri()}"]\n\tinsteadOf = {url}\n'
        '[protocol "file"]\n\tallow = always\n'
        "[user]\n\tname = colab-check\n\temail = colab-check@localhost\n"
        "[commit]\n\tgpgsign = false\n"
        "[init]\n\tdefaultBranch = main\n"
    )
    return path


def colab_stand_in(base: Path) -> tuple[Path, Path]:
    """A `google.colab` module and an IPython profile that imports it at kernel start, as
    Colab's kernels do. Returns (directory for PYTHONPATH, directory for IPYTHONDIR)."""
    modules, ipython = base / "modules", base / "ipython"
    # A namespace package `google` (no google/__init__.py) so that google.protobuf still imports.
    (modules / "google" / "colab").mkdir(parents=True)
    (modules / "google" / "colab" / "__init__.py").write_text(
        '"""Stand-in for Colab\'s google.colab module (tools/colab_check.py)."""\n'
    )
    startup = ipython / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-colab.py").write_text("import google.colab  # noqa: F401\n")
    return modules, ipython


# ---------------------------------------------------------------------------------------------
# Running the chapters


@dataclass
class ChapterResult:
    """What happened to one chapter."""

    chapter: str
    seconds: float = 0.0
    ok: bool = False
    problems: list[str] = field(default_factory=list)
    failed_cell: int | None = None
    traceback: str = ""
    freeze_added: list[str] = field(default_factory=list)
    freeze_removed: list[str] = field(default_factory=list)
    widget_models: int = 0


def kernel_env(venv: Path, tmp: Path, shared: dict[str, str], threads: int) -> dict[str, str]:
    """The environment of a chapter's runner and kernel."""
    # Nothing of the caller's Python, Jupyter or matplotlib set-up leaks into the kernel.
    private = ("JUPYTER", "PYTHON", "IPYTHON", "VIRTUAL_ENV", "MPL")
    env = {key: value for key, value in os.environ.items() if not key.startswith(private)}
    env.update(shared)
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        JUPYTER_PATH=str(tmp / "jupyter"),
        JUPYTER_CONFIG_DIR=str(tmp / "jupyter-config"),
        JUPYTER_DATA_DIR=str(tmp / "jupyter-data"),
        MPLCONFIGDIR=str(tmp / "matplotlib"),
        PYDEVD_DISABLE_FILE_VALIDATION="1",
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
        OPENBLAS_NUM_THREADS=str(threads),
    )
    return env


def new_runtime(tmp: Path) -> Path:
    """A fresh runtime at `tmp`, as Colab gives each notebook: a copy of the environment made of
    hard links (seconds, no extra disk; installing replaces files, it never writes into shared
    ones), a kernelspec `colab` for its Python and an empty working directory. Returns the copy."""
    venv = tmp / "venv"
    tmp.mkdir(parents=True)
    _run(["cp", "-al", str(VENV), str(venv)])
    spec = tmp / "jupyter" / "kernels" / "colab"
    spec.mkdir(parents=True)
    argv = [str(venv / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Colab stand-in", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    (tmp / "cwd").mkdir()
    return venv


def run_chapter(
    notebook: Path, runs: Path, shared: dict[str, str], threads: int, before: str
) -> ChapterResult:
    """Execute `notebook` in a fresh runtime; check the run, the freeze and the widgets."""
    result = ChapterResult(notebook.stem)
    tmp = runs / notebook.stem
    executed, report = tmp / notebook.name, tmp / "result.json"
    try:
        venv = new_runtime(tmp)
        cmd = [str(venv / "bin" / "python"), str(RUNNER), str(notebook), str(executed), str(report)]
        cmd += ["--kernel", "colab", "--cwd", str(tmp / "cwd"), "--timeout", str(CELL_TIMEOUT_S)]
        env = kernel_env(venv, tmp, shared, threads)
        started = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp / "cwd")
        result.seconds = time.perf_counter() - started
        if not report.is_file():
            raise CheckError(f"the runner failed ({out.returncode}): {out.stderr[-2000:]}")
        run = json.loads(report.read_text())
        if not run["ok"]:
            where = f"cell {run['cell']}" if run["cell"] is not None else "the run"
            result.problems.append(f"{where} failed: {run['error']}")
            result.failed_cell = run["cell"]
            result.traceback = run["traceback"]
        result.freeze_removed, result.freeze_added = freeze_diff(before, pip_freeze(venv))
        result.problems += freeze_problems(result.freeze_removed, result.freeze_added)
        executed_nb = json.loads(executed.read_text(encoding="utf-8"))
        result.widget_models = widget_model_count(executed_nb)
        result.problems += widget_problems(executed_nb)
    except CheckError as exc:
        result.problems.append(str(exc))
    finally:
        shutil.rmtree(tmp / "venv", ignore_errors=True)
    result.ok = not result.problems
    return result


def chapter_order(notebooks: list[Path]) -> list[Path]:
    """Longest first, by the last run's seconds (summary.json) or the seconds measured at home."""
    expected = dict(EXPECTED_SECONDS)
    summary = WORK / "summary.json"
    if summary.is_file():
        for chapter in json.loads(summary.read_text()).get("chapters", []):
            expected[chapter["chapter"][:2]] = chapter["seconds"]
    return sorted(notebooks, key=lambda nb: -expected.get(nb.name[:2], 0.0))


# ---------------------------------------------------------------------------------------------
# The command


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    folder_help = "folder of the chapters NN_*.ipynb (default: notebooks/)"
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks", help=folder_help)
    parser.add_argument("--jobs", type=int, default=2, help="chapters side by side (default 2)")
    keep_help = "keep the executed notebooks under _build/colab/executed/"
    parser.add_argument("--keep", action="store_true", help=keep_help)
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    notebooks = sorted(args.notebooks.resolve().glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        parser.error(f"no chapters NN_*.ipynb in {args.notebooks}")
    try:
        return check(notebooks, args.jobs, args.keep)
    except CheckError as exc:
        print(f"colab-check: {exc}", file=sys.stderr)
        return 1


def check(notebooks: list[Path], jobs: int, keep: bool) -> int:
    """The whole check; returns the exit status."""
    started = time.perf_counter()
    python = find_python()
    pins = colab_pins(FREEZE.read_text(encoding="utf-8"))
    install_s, reused = ensure_venv(python, constraints(pins))
    state = "reused" if reused else f"installed in {install_s:.0f} s"
    print(f"Colab-like environment: {VENV.relative_to(ROOT)} ({state})")

    runs = WORK / "runs"
    shutil.rmtree(runs, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix="colab-check-"))
    try:
        config = git_config(tmp / "gitconfig", tmp / "snapshot", _repository_url())
        git_env = {"GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_NOSYSTEM": "1"}
        snapshot(tmp / "snapshot", {**os.environ, **git_env})

        # Resolver dry run: what installing companion (with TensorFlow) would do to Colab.
        report_path = tmp / "dry-run.json"
        pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
        _run(
            [
                *pip,
                "--dry-run",
                "--quiet",
                "--report",
                str(report_path),
                f"{tmp / 'snapshot'}[tensorflow]",
            ]
        )
        report = json.loads(report_path.read_text())
        would = [f"{i['metadata']['name']}=={i['metadata']['version']}" for i in report["install"]]
        dry_run = {"would_install": would, "problems": dry_run_problems(report)}
        verdict = "ok" if not dry_run["problems"] else "FAILED: " + "; ".join(dry_run["problems"])
        print(f"Resolver dry run of companion[tensorflow]: would install {would} -> {verdict}")

        modules, ipython = colab_stand_in(tmp)
        shared = {**git_env, "PYTHONPATH": str(modules), "IPYTHONDIR": str(ipython)}
        shared |= {"BOOK_OFFLINE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
        threads = max(1, (os.cpu_count() or 1) // jobs)
        before = pip_freeze(VENV)
        order = chapter_order(notebooks)
        print(f"Running {len(order)} chapters, {jobs} at a time, {threads} CPU thread(s) each ...")
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            futures = [pool.submit(run_chapter, nb, runs, shared, threads, before) for nb in order]
            results = sorted((f.result() for f in futures), key=lambda r: r.chapter)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    if keep:
        executed = WORK / "executed"
        shutil.rmtree(executed, ignore_errors=True)
        executed.mkdir(parents=True)
        for nb in notebooks:
            if (runs / nb.stem / nb.name).is_file():
                shutil.copy2(runs / nb.stem / nb.name, executed / nb.name)
    shutil.rmtree(runs, ignore_errors=True)

    ok = not dry_run["problems"] and all(r.ok for r in results)
    report_results(results, dry_run, install_s, reused, time.perf_counter() - started, ok)
    return 0 if ok else 1


def _repository_url() -> str:
    try:
        return repository_url((ROOT / "_config.yml").read_text(encoding="utf-8"))
    except ValueError as exc:
        raise CheckError(str(exc)) from exc


def report_results(
    results: list[ChapterResult],
    dry_run: dict[str, Any],
    install_s: float,
    reused: bool,
    total_s: float,
    ok: bool,
) -> None:
    """Print the table and what failed; write _build/colab/summary.json."""
    width = max(len(r.chapter) for r in results)
    print(f"\n{'chapter':<{width}}  {'seconds':>7}  result")
    for r in results:
        verdict = "ok" if r.ok else "FAILED"
        models = f"{r.widget_models} widget models"
        print(f"{r.chapter:<{width}}  {r.seconds:>7.0f}  {verdict} ({models})")
    added = sorted({line for r in results for line in r.freeze_added})
    print(f"pip freeze after the chapters: + {added}")
    for r in results:
        for problem in r.problems:
            print(f"\n{r.chapter}: {problem}")
        if r.traceback:
            print(r.traceback)
    print(f"\nColab check {'passed' if ok else 'FAILED'} in {total_s:.0f} s.")
    summary = {
        "ok": ok,
        "seconds": round(total_s, 1),
        "install_seconds": round(install_s, 1),
        "environment_reused": reused,
        "python": ".".join(map(str, COLAB_PYTHON)),
        "resolver_dry_run": dry_run,
        "chapters": [asdict(r) | {"seconds": round(r.seconds, 1)} for r in results],
    }
    (WORK / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
