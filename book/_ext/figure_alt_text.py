"""Each figure of a chapter gets the alt text its notebook output carries, not its file name.

`companion.setup` makes every matplotlib figure's PNG output carry ``{"alt": ...}`` in its output
metadata (`companion.plots.figure_alt_text`: the figure's titles, axis labels and legend in
words), the key that ``IPython.display.Image(alt=...)`` writes and nbconvert reads. myst-nb reads
only ``width`` and ``height`` from an output's metadata, and Sphinx then gives the ``<img>`` its
file name as alt text. This handler reads the executed notebook that myst-nb writes to
``_build/jupyter_execute/<docname>.ipynb`` (or, when that copy has no outputs because they came from
the execution cache, the cache's) and sets each image's alt text from the output with
the same PNG: myst-nb names an output's image file by the SHA-256 of its bytes
(myst_nb/core/render.py, ``render_image``). It runs when the page is read, so the alt text is
stored with the page's doctree and cached builds keep it.

The alt text is made when the chapter runs: outputs cached by an earlier build, before companion
made it, have none (delete _build/.jupyter_cache to run the chapters again).
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path, PurePosixPath
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

PNG = "image/png"


def alt_texts(notebook: dict[str, Any]) -> dict[str, str]:
    """{SHA-256 of the PNG bytes: alt text} of every PNG output of `notebook` that has one."""
    found = {}
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            alt = output.get("metadata", {}).get(PNG, {}).get("alt")
            png = output.get("data", {}).get(PNG)
            if alt and png:
                found[hashlib.sha256(base64.b64decode(png)).hexdigest()] = str(alt)
    return found


def has_outputs(notebook: dict[str, Any]) -> bool:
    return any(cell.get("outputs") for cell in notebook.get("cells", []))


def executed_notebook(config: Any, docname: str) -> dict[str, Any] | None:
    """The page's executed notebook, with its outputs; None for a page that is not a notebook.

    When the page's outputs came from the execution cache, myst-nb 1.x writes the notebook as it
    read it, without outputs (myst_nb/sphinx_.py writes the parsed notebook, not the client's
    copy merged with the cache); the outputs are then taken from the cache, as myst-nb took them.
    """
    executed = Path(config.output_folder, f"{docname}.ipynb")
    if not executed.exists():
        # Not a notebook (a Markdown page), or not executed.
        return None
    notebook = json.loads(executed.read_text(encoding="utf-8"))
    if has_outputs(notebook) or config.execution_mode != "cache":
        return notebook
    import nbformat
    from jupyter_cache import get_cache

    try:
        _, merged = get_cache(config.execution_cache_path).merge_match_into_notebook(
            nbformat.from_dict(notebook)
        )
    except KeyError:
        return notebook
    return merged


def add_alt_text(app: Sphinx, doctree: nodes.document) -> None:
    notebook = executed_notebook(app.env.mystnb_config, app.env.docname)
    if notebook is None:
        return
    alt_by_hash = alt_texts(notebook)
    for image in doctree.findall(nodes.image):
        alt = alt_by_hash.get(PurePosixPath(image["uri"]).stem)
        if alt and not image.get("alt"):
            image["alt"] = alt


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("doctree-read", add_alt_text)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
