"""Two fixes to the ARIA markup that docutils and myst-nb write into the pages' bodies.

- A bibliography is ``<div role="list">`` of entries with ``role="doc-biblioentry"``, a role that
  WAI-ARIA 1.2 deprecated: screen readers then find a list without list items, and axe-core
  reports the list as critical (aria-required-children). The entries become ``role="listitem"``.
- A collapsed code cell (tag hide-input) opens with ``<summary aria-label="Toggle hidden
  content">``, whose name differs from what it shows, "Show code cell source" (WCAG 2.5.3, label
  in name; axe-core: label-content-name-mismatch). Without the aria-label its name is its text.

Both replace exact strings of the writers' output; tests/test_rendered_book.py (axe-core on every
page) fails if a new docutils or myst-nb writes something else that is not accessible.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx

REPLACEMENTS = {
    'role="doc-biblioentry"': 'role="listitem"',
    '<summary aria-label="Toggle hidden content">': "<summary>",
}


def fix_aria_markup(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    if "body" not in context:
        # A page without a document body (the search page, the index).
        return
    for old, new in REPLACEMENTS.items():
        context["body"] = context["body"].replace(old, new)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", fix_aria_markup)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
