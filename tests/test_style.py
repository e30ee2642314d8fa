"""The code reads one way everywhere: ruff's format and lint, and comments on their own line.

`ruff format` and `ruff check` cover companion/, tests/, tools/ and the chapters' code cells (the
configuration is `[tool.ruff]` in pyproject.toml). A formatter wraps long statements, and a comment
left after a closing bracket then explains a line of its own (`)  # (n, 64)`): such comments go on
their own line above the code they explain.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECKED_DIRS = ("companion", "tests", "tools")
# A line holding only closing brackets (and commas or a colon) followed by a comment; pragmas for
# tools (`# type: ignore`, `# noqa`) must stay on the line they apply to.
STRANDED_COMMENT = re.compile(r"^\s*[)\]}][)\]},:\s]*#(?!\s*(type:|noqa))")


def _ruff() -> str:
    """The ruff of the book's environment (requirements.txt pins it)."""
    candidate = Path(sys.executable).with_name("ruff")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("ruff")
    if found is None:
        pytest.fail("ruff is not installed: `make setup` installs requirements.txt, which pins it")
    return found


def _run_ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_ruff(), *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def _python_sources() -> list[tuple[str, str]]:
    """(where, source) of every Python file checked and every chapter code cell."""
    sources = [
        (str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))
        for directory in CHECKED_DIRS
        for path in sorted((ROOT / directory).rglob("*.py"))
        if "__pycache__" not in path.parts
    ]
    for chapter in sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(chapter.read_text(encoding="utf-8"))["cells"]
        for index, cell in enumerate(cells):
            if cell["cell_type"] == "code":
                sources.append((f"{chapter.name} cell {index}", "".join(cell["source"])))
    return sources


def test_code_is_formatted() -> None:
    result = _run_ruff("format", "--check", "--diff", ".")
    assert result.returncode == 0, (
        "unformatted code: run `.venv/bin/ruff format .`\n" + result.stdout[-4000:] + result.stderr
    )


def test_code_passes_the_linter() -> None:
    result = _run_ruff("check", "--output-format", "concise", ".")
    assert result.returncode == 0, "ruff check:\n" + result.stdout[-4000:] + result.stderr


def test_the_checks_cover_the_chapters() -> None:
    """The configuration must not quietly leave the notebooks out."""
    result = _run_ruff("check", "--show-files", ".")
    checked = result.stdout
    for chapter in sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb")):
        assert chapter.name in checked, f"ruff does not check {chapter.name}"
    for directory in CHECKED_DIRS:
        assert f"/{directory}/" in checked, f"ruff does not check {directory}/"


def test_no_comment_is_stranded_after_a_closing_bracket() -> None:
    stranded = [
        f"{where}: {line.strip()}"
        for where, source in _python_sources()
        for line in source.splitlines()
        if STRANDED_COMMENT.match(line)
    ]
    assert not stranded, "comments belong on their own line, above the code:\n" + "\n".join(
        stranded
    )


@pytest.mark.parametrize(
    ("line", "stranded"),
    [
        (")  # (n, 64), (n,)", True),
        ("    ]  # http links aside", True),
        ("):  # the setup cell", True),
        ("    # (n, 64), (n,)", False),
        ("x = f(a)  # (n,)", False),
        ('")"  # a string', False),
        (")  # type: ignore[arg-type]", False),
    ],
)
def test_the_stranded_comment_pattern(line: str, stranded: bool) -> None:
    assert bool(STRANDED_COMMENT.match(line)) is stranded
