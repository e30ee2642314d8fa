"""book/_ext/figure_alt_text.py and book/_ext/aria_fixes.py, without building the book.

The built pages are checked in the browser by tests/test_rendered_book.py (alt text on every
figure, axe-core on every page); these tests pin down each handler's own job.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path
from types import SimpleNamespace

from docutils import nodes
from docutils.utils import new_document

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))
import aria_fixes  # noqa: E402
import figure_alt_text  # noqa: E402

PNG_BYTES = b"\x89PNG\r\n\x1a\n one figure"
OTHER_PNG_BYTES = b"\x89PNG\r\n\x1a\n another figure"


def png_output(png: bytes, alt: str | None) -> dict:
    """A display_data output as the chapters' kernel writes it (companion.plots)."""
    metadata = {"image/png": {"alt": alt}} if alt is not None else {}
    return {
        "output_type": "display_data",
        "data": {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": "<Figure>"},
        "metadata": metadata,
    }


def image_node(png: bytes) -> nodes.image:
    """The image node myst-nb makes of an output: the file is named by its bytes' SHA-256."""
    return nodes.image(uri=f"../_build/jupyter_execute/{hashlib.sha256(png).hexdigest()}.png")


def read_page(tmp_path: Path, outputs: list[dict], images: list[nodes.image]) -> None:
    """Write the executed notebook where myst-nb would, and run the handler on a page."""
    executed = tmp_path / "book" / "01_chapter.ipynb"
    executed.parent.mkdir(parents=True)
    executed.write_text(json.dumps({"cells": [{"outputs": outputs}]}), encoding="utf-8")
    env = SimpleNamespace(
        docname="book/01_chapter", mystnb_config=SimpleNamespace(output_folder=str(tmp_path))
    )
    doctree = new_document("01_chapter")
    doctree.extend(images)
    figure_alt_text.add_alt_text(SimpleNamespace(env=env), doctree)


def test_each_figure_gets_the_alt_text_of_the_output_with_its_png(tmp_path: Path) -> None:
    first, second = image_node(PNG_BYTES), image_node(OTHER_PNG_BYTES)
    outputs = [png_output(OTHER_PNG_BYTES, "Loss: loss against step"), png_output(PNG_BYTES, "A")]
    read_page(tmp_path, outputs, [first, second])
    assert (first["alt"], second["alt"]) == ("A", "Loss: loss against step")


def test_an_output_without_alt_text_leaves_its_image_alone(tmp_path: Path) -> None:
    image = image_node(PNG_BYTES)
    read_page(tmp_path, [png_output(PNG_BYTES, None)], [image])
    assert "alt" not in image


def test_an_alt_text_given_in_the_page_is_kept(tmp_path: Path) -> None:
    image = image_node(PNG_BYTES)
    image["alt"] = "written by the author"
    read_page(tmp_path, [png_output(PNG_BYTES, "made from the figure")], [image])
    assert image["alt"] == "written by the author"


def test_outputs_that_came_from_the_execution_cache_are_read_from_it(tmp_path: Path) -> None:
    """On a cache hit myst-nb writes the notebook without outputs; the alt text is in the cache."""
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    source = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("show_loss()")])
    executed = nbformat.from_dict(json.loads(nbformat.writes(source)))
    executed.cells[0].outputs = [nbformat.from_dict(png_output(PNG_BYTES, "From the cache"))]
    cache = tmp_path / ".jupyter_cache"
    get_cache(str(cache)).cache_notebook_bundle(
        CacheBundleIn(executed, str(tmp_path / "01_chapter.ipynb")), check_validity=False
    )
    written = tmp_path / "book" / "01_chapter.ipynb"
    written.parent.mkdir(parents=True)
    written.write_text(nbformat.writes(source), encoding="utf-8")
    config = SimpleNamespace(
        output_folder=str(tmp_path), execution_mode="cache", execution_cache_path=str(cache)
    )
    image = image_node(PNG_BYTES)
    doctree = new_document("01_chapter")
    doctree += image
    env = SimpleNamespace(docname="book/01_chapter", mystnb_config=config)
    figure_alt_text.add_alt_text(SimpleNamespace(env=env), doctree)
    assert image["alt"] == "From the cache"


def test_a_page_that_is_not_a_notebook_is_left_alone(tmp_path: Path) -> None:
    env = SimpleNamespace(
        docname="book/glossary", mystnb_config=SimpleNamespace(output_folder=str(tmp_path))
    )
    doctree = new_document("glossary")
    doctree += image_node(PNG_BYTES)
    figure_alt_text.add_alt_text(SimpleNamespace(env=env), doctree)
    assert "alt" not in doctree[0]


def test_bibliography_entries_become_list_items_and_summaries_lose_their_label() -> None:
    body = (
        '<div role="list" class="citation-list">\n'
        '<div class="citation" id="id18" role="doc-biblioentry">...</div>\n</div>\n'
        '<details class="admonition hide above-input">\n'
        '<summary aria-label="Toggle hidden content">\n'
        '<p class="collapsed admonition-title">Show code cell source</p>\n'
    )
    context = {"body": body}
    aria_fixes.fix_aria_markup(None, "book/01_chapter", "page.html", context, None)
    assert 'role="doc-biblioentry"' not in context["body"]
    assert '<div class="citation" id="id18" role="listitem">' in context["body"]
    assert "<summary>\n<p" in context["body"]


def test_a_page_without_a_body_is_left_alone() -> None:
    context = {"title": "Search"}
    aria_fixes.fix_aria_markup(None, "search", "search.html", context, None)
    assert context == {"title": "Search"}
