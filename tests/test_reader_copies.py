"""The readers' copies in notebooks/: the chapters as JupyterLab and Colab show them.

`tools/reader_copies.py` makes each copy from its chapter in book/ and the book's last build. These
tests fail when a copy is stale (the chapter or a glued number changed and `make readers` was not
run), when raw MyST markup would reach a reader, and when the generator's conversions go wrong.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("reader_copies", ROOT / "tools" / "reader_copies.py")
reader_copies = importlib.util.module_from_spec(_spec)
sys.modules["reader_copies"] = reader_copies
_spec.loader.exec_module(reader_copies)

CHAPTERS = reader_copies.chapter_notebooks()
# What a reader must never see: a role, a directive fence, a directive option, a target label.
RAW_MYST = re.compile(
    r"\{[a-z][a-z0-9:_-]*\}`|^(`{3,}|:{3,})\{|^:[a-z_-]+:\s|^\([\w:-]+\)=\s*$", re.M
)


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def markdown(notebook: dict) -> list[str]:
    return ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown"]


def code(notebook: dict) -> list[str]:
    return ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]


def test_every_chapter_has_a_copy_and_every_copy_a_chapter() -> None:
    copies = sorted(p.name for p in reader_copies.COPIES_DIR.glob("*.ipynb"))
    assert copies == [p.name for p in CHAPTERS], "run `make readers` (after `make book`)"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
class TestCopy:
    def test_same_code_as_the_chapter(self, chapter: Path) -> None:
        copy = load(reader_copies.COPIES_DIR / chapter.name)
        assert code(copy) == code(load(chapter)), (
            f"notebooks/{chapter.name}: code differs; run `make readers`"
        )

    def test_no_raw_myst(self, chapter: Path) -> None:
        copy = load(reader_copies.COPIES_DIR / chapter.name)
        found = [m.group(0) for text in markdown(copy) for m in RAW_MYST.finditer(text)]
        assert not found, f"notebooks/{chapter.name} shows raw MyST markup: {found[:5]}"

    def test_stored_without_outputs(self, chapter: Path) -> None:
        for cell in load(reader_copies.COPIES_DIR / chapter.name)["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, (
                    f"notebooks/{chapter.name} was saved with outputs; "
                    "`git checkout notebooks/` or `make readers`"
                )

    def test_says_it_is_a_copy_with_the_builds_numbers(self, chapter: Path) -> None:
        note = markdown(load(reader_copies.COPIES_DIR / chapter.name))[1]
        assert "Reader's copy" in note and "SEED = 0" in note and f"book/{chapter.name}" in note


@pytest.mark.book
def test_copies_are_current(built_book: Path) -> None:
    """Each copy is what `make readers` makes from the chapter and this build (timings aside)."""
    problems = reader_copies.stale_copies()
    assert not problems, "\n".join(problems) + "\nRegenerate with `make readers`."


# ---------------------------------------------------------------- the conversions


def context(glue: dict[str, str]) -> "reader_copies.Context":
    works = reader_copies.load_bibliography()
    return reader_copies.Context(Path("99_test.ipynb"), glue, works, {"01_gradient_step"}, [], {})


def test_glue_is_formatted_as_the_book_formats_it() -> None:
    ctx = context({"r2": "0.8921", "steps": "95", "label": "'skipped: no GPU'"})
    text = "R² {glue:text}`r2:.3f` after {glue:text}`steps` steps ({glue:text}`label`)."
    assert reader_copies.resolve_markdown(text, ctx) == "R² 0.892 after 95 steps (skipped: no GPU)."
    assert ctx.used_glue == {"r2": "0.8921", "steps": "95", "label": "'skipped: no GPU'"}


def test_unknown_glue_name_is_an_error() -> None:
    with pytest.raises(reader_copies.MystError, match="did not glue"):
        reader_copies.resolve_markdown("{glue:text}`nothing:.2f`", context({}))


def test_citations_read_author_year_and_fill_the_bibliography() -> None:
    ctx = context({})
    text = "Data {cite}`decock2011ames`; see {cite}`sutton2018reinforcement,goodfellow2016deep`."
    assert reader_copies.resolve_markdown(text, ctx) == (
        "Data (De Cock, 2011); see (Sutton and Barto, 2018; Goodfellow et al., 2016)."
    )
    refs = reader_copies.bibliography(ctx)
    assert refs.splitlines()[0].startswith(
        "- De Cock, D. (2011). *Ames, Iowa: Alternative to the Boston Housing"
    )
    assert len(refs.splitlines()) == 3


def test_unknown_citation_key_is_an_error() -> None:
    with pytest.raises(reader_copies.MystError, match="not in references.bib"):
        reader_copies.resolve_markdown("{cite}`nobody1999`", context({}))


def test_directives_become_plain_markdown() -> None:
    ctx = context({"x": "1.5"})
    text = (
        ":::{dropdown} Hint\nTry {glue:text}`x:.1f`.\n:::\n\n"
        "```{bibliography}\n:filter: docname in docnames\n```"
    )
    out = reader_copies.resolve_markdown(text, ctx)
    assert out.startswith("<details>\n<summary>Hint</summary>\n\nTry 1.5.\n\n</details>")
    assert "{{READERS_COPY_BIBLIOGRAPHY}}" in out and ":filter:" not in out
    note = reader_copies.resolve_markdown(":::{note}\nTry {glue:text}`x:.1f`.\n:::", ctx)
    assert note == "> **Note**\n>\n> Try 1.5."


def test_a_dropdown_under_a_list_item_keeps_its_indent() -> None:
    text = "1. Do this.\n\n   :::{dropdown} Answer\n   It is $x$.\n   :::\n2. Next."
    out = reader_copies.resolve_markdown(text, context({}))
    assert out == (
        "1. Do this.\n\n   <details>\n   <summary>Answer</summary>\n\n   It is $x$.\n\n"
        "   </details>\n2. Next."
    )


def test_unknown_syntax_stops_the_generator() -> None:
    with pytest.raises(reader_copies.MystError, match="directive"):
        reader_copies.resolve_markdown("```{figure} a.png\n```", context({}))
    with pytest.raises(reader_copies.MystError, match="role"):
        reader_copies.resolve_markdown("{sub-ref}`today`", context({}))


def test_doc_links_point_to_copies() -> None:
    out = reader_copies.resolve_markdown(
        "{doc}`chapter 1 <01_gradient_step>` and {doc}`the page <status>`", context({})
    )
    assert out == "[chapter 1](01_gradient_step.ipynb) and the page (a page of the rendered book)"


@pytest.mark.parametrize(
    ("name", "varies"),
    [
        ("sgd_seconds", True),
        ("vectorised_speedup", True),
        ("device_name", True),
        ("test_r2", False),
    ],
)
def test_values_that_vary_from_run_to_run(name: str, varies: bool) -> None:
    assert reader_copies.varies_from_run_to_run(name) is varies
