"""Shared pytest configuration for the book's tests, and the book build several of them read."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
HTML_DIR = ROOT / "_build" / "html"
BUILD_COMMAND = ["build", ".", "-W", "-n", "--keep-going"]
BUILD_TIMEOUT_S = 45 * 60  # the design budget for executing the whole book is 12 minutes
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")

# Maintainers' programs are imported from the repository root as `tools.<name>` (e.g. tools.verify),
# however pytest is started.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# The bad-input suites (tests/test_bad_input_*.py): the same examples on every run (derandomize,
# so a failure reproduces and CI never flakes on a new draw), no example database written into the
# checkout, and a second per example, the bound the suites promise for a clear error.
settings.register_profile("book", derandomize=True, database=None, deadline=1000)
settings.load_profile("book")


def pytest_configure(config: pytest.Config) -> None:
    # Registered here rather than in pyproject.toml; deselect with `-m "not book"`.
    config.addinivalue_line(
        "markers",
        "book: builds the Jupyter Book and checks the rendered pages in headless Chromium (slow)",
    )
    # Not part of `make test`: run with `make lab-test` (`pytest -m lab tests/test_lab.py`).
    config.addinivalue_line(
        "markers",
        "lab: runs every chapter in a live JupyterLab driven by headless Chromium "
        "(slow, several minutes)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that reads the book's build `book` (tryfirst: before `-m` selects).

    `make test` runs the tests in two parts: first everything but the `book` tests, on both cores
    (nbval's runs of the chapters fill the build's execution cache: tests/nbval_record.py), then
    the build and the `book` tests.
    """
    for item in items:
        if "built_book" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.book)


def summarize_build_log(log: str) -> str:
    """The first failing cell with its traceback (nb_execution_show_tb), warnings, the log's end."""
    lines = ANSI_ESCAPE.sub("", log).splitlines()
    parts = []
    start = next(
        (
            i
            for i, line in enumerate(lines)
            if "An error occurred while executing the following cell" in line
        ),
        None,
    )
    if start is not None:
        end = next(
            (
                j
                for j in range(start + 1, len(lines))
                if lines[j].startswith((" [mystnb", "The above exception"))
            ),
            min(start + 60, len(lines)),
        )
        parts.append("The failing cell:\n" + "\n".join(lines[start:end]).rstrip())
    warnings = [line for line in lines if re.search(r"\b(WARNING|ERROR|CRITICAL|SEVERE):", line)]
    if warnings:
        parts.append("Warnings and errors:\n" + "\n".join(dict.fromkeys(warnings)))
    parts.append("Last lines of the log:\n" + "\n".join(lines[-40:]))
    return "\n\n".join(parts)


@pytest.fixture(scope="session")
def built_book() -> Path:
    """Build the book as `make book` does; if the build fails, fail with what went wrong."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    if not jupyter_book.exists():
        pytest.fail(
            f"jupyter-book not found next to {sys.executable}; run `make test` (it installs it)"
        )
    started = time.perf_counter()
    # As `make book`: the chapters the cache lacks first, side by side (tools/execute.py); after
    # nbval has run them (`make test`'s first part), none.
    execute = subprocess.run(
        [sys.executable, "-m", "tools.execute"],
        cwd=ROOT,
        env={**os.environ, "BOOK_OFFLINE": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    print(execute.stdout)
    if execute.returncode != 0:
        pytest.fail(f"`python -m tools.execute` failed:\n{execute.stdout}", pytrace=False)
    proc = subprocess.run(
        [str(jupyter_book), *BUILD_COMMAND],
        cwd=ROOT,
        env={**os.environ, "BOOK_OFFLINE": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # warnings in order, next to the page being read
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"`jupyter-book {' '.join(BUILD_COMMAND)}` exited {proc.returncode} after "
            f"{time.perf_counter() - started:.0f} s.\n{summarize_build_log(proc.stdout)}",
            pytrace=False,
        )
    return HTML_DIR
