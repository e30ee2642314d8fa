"""The book's execution report: a `{build-environment}` directive and a guard on chapter run times.

- ``{build-environment}`` renders a table of what built the book (Python, torch, TensorFlow,
  the device the chapters ran on, CPU cores); used on book/status.md next to myst-nb's
  ``{nb-exec-table}``. The status page is re-read on every build, so the table is current.
- The guard fails the build when a chapter notebook has no execution record, failed, or
  "ran" in under `MIN_CHAPTER_SECONDS`: every chapter trains something, so a run that short
  means nothing was executed (e.g. execution switched off by mistake).
"""

from __future__ import annotations

import os
import platform
from importlib import metadata
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective

STATUS_DOCNAME = "book/status"
CHAPTER_PREFIX = "book/0"  # book/01_gradient_step ... book/06_gans
MIN_CHAPTER_SECONDS = 1.0


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def build_environment() -> list[tuple[str, str]]:
    """(what, value) rows describing the machine and packages that execute the chapters."""
    import companion  # imported here: Sphinx loads this extension before the book's packages matter

    device = os.environ.get("BOOK_DEVICE") or str(companion.resolve_device())
    return [
        ("Python", platform.python_version()),
        ("torch", _version("torch")),
        ("TensorFlow", _version("tensorflow")),
        ("Gymnasium", _version("gymnasium")),
        ("Jupyter Book", _version("jupyter-book")),
        ("myst-nb", _version("myst-nb")),
        ("device the chapters ran on", device),
        ("CPU cores", str(os.cpu_count())),
        ("platform", platform.platform(terse=True)),
    ]


class BuildEnvironment(SphinxDirective):
    """A two-column table: what built this page, and its version or value."""

    def run(self) -> list[nodes.Node]:
        rows = build_environment()
        table = nodes.table(classes=["colwidths-auto"])
        group = nodes.tgroup(cols=2)
        table += group
        group += [nodes.colspec(colwidth=50), nodes.colspec(colwidth=50)]
        body = nodes.tbody()
        for name, value in rows:
            row = nodes.row()
            row += nodes.entry("", nodes.paragraph(text=name))
            row += nodes.entry("", nodes.paragraph(text=value))
            body += row
        group += body
        return [table]


def always_reread_status(
    app: Sphinx, env: Any, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    return [STATUS_DOCNAME] if STATUS_DOCNAME in env.found_docs else []


def check_chapter_runs(app: Sphinx, env: Any) -> None:
    """Fail the build if a chapter has no successful execution record of at least a second."""
    records = getattr(env, "nb_metadata", {})
    problems = []
    for docname in sorted(d for d in env.found_docs if d.startswith(CHAPTER_PREFIX)):
        data = records.get(docname, {}).get("exec_data")
        if not data:
            problems.append(f"{docname}: no execution record (was execution switched off?)")
        elif not data.get("succeeded"):
            problems.append(f"{docname}: execution failed ({data.get('error')})")
        elif data.get("runtime") is None or data["runtime"] < MIN_CHAPTER_SECONDS:
            problems.append(
                f"{docname}: ran in {data.get('runtime')} s, "
                f"under {MIN_CHAPTER_SECONDS} s: nothing executed?"
            )
    if problems:
        raise ExtensionError("chapter execution check failed:\n  " + "\n  ".join(problems))


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("build-environment", BuildEnvironment)
    app.connect("env-get-outdated", always_reread_status)
    app.connect("env-check-consistency", check_chapter_runs)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
