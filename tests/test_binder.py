"""Binder's configuration: repo2docker builds an environment where companion and every chapter run.

repo2docker cannot run here (it needs a Docker engine); these tests check what it reads.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"


def test_binder_installs_the_books_exact_versions() -> None:
    lines = [line.strip() for line in (BINDER / "requirements.txt").read_text().splitlines()]
    assert "-r ../requirements.txt" in lines, "binder/requirements.txt must include the book's pins"


def test_binder_runs_the_books_python() -> None:
    runtime = (BINDER / "runtime.txt").read_text().strip()
    makefile = (ROOT / "Makefile").read_text()
    wanted = re.search(r"command -v python(3\.\d+)", makefile).group(1)
    assert runtime == f"python-{wanted}", (
        f"binder/runtime.txt says {runtime!r}; the book uses Python {wanted}"
    )


def test_post_build_installs_companion() -> None:
    post_build = BINDER / "postBuild"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable"
    commands = [
        line for line in post_build.read_text().splitlines() if line and not line.startswith("#")
    ]
    assert any(re.search(r"pip install .*--no-deps.* -e \.$", line) for line in commands), commands
