"""Launch buttons open the readers' copies: Colab and Binder get `notebooks/NN_name.ipynb`.

sphinx-book-theme builds each chapter page's launch links (Colab, Binder) from the page's own
source path, `book/NN_name.ipynb`. That file's prose is MyST, which Colab and JupyterLab show as raw
markup; `notebooks/NN_name.ipynb` (tools/reader_copies.py) is the same chapter in plain Markdown.
This handler runs after the theme's (priority 900) and points every launch link at the copy.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from sphinx.application import Sphinx

CHAPTER_DIR = "book"
COPIES_DIR = "notebooks"


def point_launch_buttons_at_copies(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    page = PurePosixPath(pagename)
    if page.parent.as_posix() != CHAPTER_DIR or not page.name[:2].isdigit():
        return
    source, copy = f"{pagename}.ipynb", f"{COPIES_DIR}/{page.name}.ipynb"
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        for button in group.get("buttons", []):
            if "url" in button:
                button["url"] = button["url"].replace(source, copy)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", point_launch_buttons_at_copies, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
