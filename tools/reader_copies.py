"""The readers' copies: each chapter as JupyterLab and Colab show it, its MyST prose made plain.

    python tools/reader_copies.py write    (make readers: after `make book`, rewrite notebooks/)
    python tools/reader_copies.py check    (exit 1 when a copy in notebooks/ is stale)

The chapters in `book/` are the single source that authors edit. Their markdown uses MyST, which
the rendered book understands and JupyterLab and Colab do not: `{glue:text}` roles for computed
numbers, `{cite}` roles, `{doc}` links and a ```{bibliography}``` directive. A reader's copy,
`notebooks/NN_name.ipynb`, has the same code cells and plain Markdown instead:

- a glued number becomes the value of the book's default build (`_build/jupyter_execute/book/
  NN_name.glue.json`, written by `make book`), formatted as the book formats it; a note at the top
  says so, since a reader who changes `SEED` gets other numbers in the outputs;
- a citation becomes "(Author, Year)", and the bibliography the list of works the chapter cites;
- a `{doc}` link becomes a Markdown link to the copy (or plain text for a page that is not one);
- admonition directives become quoted paragraphs, and a `dropdown` (an exercise's hint or answer)
  an HTML `<details>` block, collapsed as in the book (a directive may be indented under a list
  item); any other MyST syntax stops the generator, so that no raw markup ever reaches a reader.

Copies are stored without outputs. Values that vary from run to run (timings, speed-ups, the
device's name; see `varies_from_run_to_run`) are kept in each copy's metadata, so that the
staleness check (tests/test_reader_copies.py) compares everything else exactly.
"""

from __future__ import annotations

import argparse
import ast
import copy
import functools
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BOOK_DIR = ROOT / "book"
COPIES_DIR = ROOT / "notebooks"
GLUE_DIR = ROOT / "_build" / "jupyter_execute" / "book"
BIB_PATH = BOOK_DIR / "references.bib"
METADATA_KEY = "readers_copy"
NOTE_CELL_ID = "readers-copy-note"

# A role: {name}`content`; a directive fence: ```{name} args ... ``` or :::{name} ... :::.
ROLE = re.compile(r"\{(?P<name>[a-z][a-z0-9:_-]*)\}`(?P<content>[^`]*)`")
FENCE_OPEN = re.compile(
    r"^(?P<indent> *)(?P<fence>`{3,}|:{3,})\{(?P<name>[a-z][a-z0-9_-]*)\}\s*(?P<args>.*)$"
)
TARGET = re.compile(r"^\((?P<label>[A-Za-z0-9_:-]+)\)=\s*$")
OPTION = re.compile(r"^:[a-z][a-z0-9_-]*:")
ADMONITIONS = {
    "note": "Note",
    "tip": "Tip",
    "hint": "Hint",
    "important": "Important",
    "warning": "Warning",
    "caution": "Caution",
    "attention": "Attention",
    "seealso": "See also",
    "admonition": "",
}


class MystError(ValueError):
    """The chapter uses MyST syntax that the generator cannot make plain."""


def varies_from_run_to_run(name: str) -> bool:
    """Glued values that differ between two builds of the same commit.

    Timings, speed-ups, the device.
    """
    return name.endswith(("_seconds", "_speedup")) or name == "device_name"


# ---------------------------------------------------------------- glued values


def load_glue(chapter: Path) -> dict[str, str]:
    """{name: text/plain} of every value the chapter glued in the book's last build."""
    path = GLUE_DIR / f"{chapter.stem}.glue.json"
    if not path.exists():
        raise FileNotFoundError(f"{path.relative_to(ROOT)} is missing: run `make book` first")
    outputs = json.loads(path.read_text(encoding="utf-8"))
    return {name: output["data"]["text/plain"] for name, output in outputs.items()}


def format_glued(text: str, fmt: str | None) -> str:
    """The text the book shows for a glued value: myst-nb's `format_plain_text` for {glue:text}."""
    try:
        value = ast.literal_eval(text)
    except (SyntaxError, ValueError):
        value = text
    if fmt is None or fmt == "":
        return str(value)
    kind = fmt[-1]
    if kind == "s":
        value = str(value)
    elif kind in "bcdoxX":
        value = int(value)
    elif kind in "eEfFgGn%":
        value = float(value)
    return format(value, fmt)


# ---------------------------------------------------------------- citations


@dataclass(frozen=True)
class Work:
    key: str
    authors: tuple[str, ...]  # last names, as printed
    full_authors: tuple[str, ...]  # "Last, F." each
    year: str
    title: str
    venue: str
    link: str

    def cite(self) -> str:
        """Author-year, as the book's `bibtex_reference_style: author_year` prints it."""
        if len(self.authors) == 1:
            who = self.authors[0]
        elif len(self.authors) == 2:
            who = f"{self.authors[0]} and {self.authors[1]}"
        else:
            who = f"{self.authors[0]} et al."
        return f"{who}, {self.year}"

    def reference(self) -> str:
        """One line of the chapter's reference list, in Markdown."""
        names = self.full_authors[0]
        if len(self.full_authors) > 1:
            names = ", ".join(self.full_authors[:-1]) + " and " + self.full_authors[-1]
        parts = [f"{names} ({self.year}). *{self.title}*."]
        if self.venue:
            parts.append(f"{self.venue}.")
        if self.link:
            parts.append(f"<{self.link}>")
        return " ".join(parts)


def _plain(latex: str) -> str:
    """BibTeX's LaTeX as text: accents to Unicode, braces dropped.

    The accents are decoded by latexcodec, which pybtex brings.
    """
    import codecs

    import latexcodec  # noqa: F401 (registers the "ulatex" codec)

    return re.sub(
        r"\s+", " ", codecs.decode(latex, "ulatex").replace("{", "").replace("}", "")
    ).strip()


@functools.cache
def load_bibliography(path: Path = BIB_PATH) -> dict[str, Work]:
    """Every entry of references.bib as a `Work`, its LaTeX accents and braces made plain."""
    from pybtex.database import parse_file

    works = {}
    for key, entry in parse_file(str(path)).entries.items():
        people = entry.persons.get("author", [])
        # BibTeX's "and others" is a person called "others": it means "et al."
        named = [p for p in people if " ".join(p.last_names) != "others"]
        et_al = len(named) < len(people)
        last = tuple(_plain(" ".join(p.prelast_names + p.last_names)) for p in named)
        full = tuple(
            f"{_plain(' '.join(p.prelast_names + p.last_names))}, "
            + " ".join(f"{_plain(n)[0]}." for n in p.first_names + p.middle_names if _plain(n))
            for p in named
        ) + (("et al.",) if et_al else ())
        if et_al and len(last) < 3:
            last = (*last, "others", "others")
        fields = entry.fields
        venue_parts = [_plain(fields[k]) for k in ("journal", "booktitle") if k in fields]
        if "volume" in fields:
            volume = _plain(fields["volume"])
            venue_parts.append(
                f"{volume}({_plain(fields['number'])})" if "number" in fields else volume
            )
        if not venue_parts and "publisher" in fields:
            venue_parts.append(_plain(fields["publisher"]))
        if not venue_parts and fields.get("archiveprefix") == "arXiv" and "eprint" in fields:
            venue_parts.append(f"arXiv:{fields['eprint']}")
        link = ""
        if "doi" in fields:
            link = f"https://doi.org/{fields['doi']}"
        elif "url" in fields:
            link = fields["url"]
        elif "howpublished" in fields:
            url = re.search(r"\\url\{([^}]*)\}", fields["howpublished"])
            link = url.group(1) if url else ""
            if not url:
                venue_parts.append(_plain(fields["howpublished"]))
        works[key] = Work(
            key=key,
            authors=last or (_plain(fields.get("organization", fields.get("title", key))),),
            full_authors=full or (_plain(fields.get("organization", "")),),
            year=_plain(fields.get("year", "n.d.")),
            title=_plain(fields.get("title", key)),
            venue=", ".join(venue_parts),
            link=link,
        )
    return works


# ---------------------------------------------------------------- markdown


@dataclass
class Context:
    """What one chapter's markdown is resolved against."""

    chapter: Path
    glue: dict[str, str]
    works: dict[str, Work]
    chapters: set[str]  # stems of all chapters, for {doc} links
    cited: list[str]  # keys cited so far, in order of first citation
    used_glue: dict[str, str]  # name -> text/plain actually used


def resolve_role(match: re.Match[str], ctx: Context) -> str:
    name, content = match["name"], match["content"].strip()
    if name in ("glue", "glue:", "glue:text", "glue:any"):
        key, fmt = content, None
        if name == "glue:text":
            # as myst-nb does: the format spec is what follows the last colon
            parts = content.rsplit(":", 1)
            key, fmt = (parts[0], parts[1]) if len(parts) == 2 else (content, "s")
        if "::" in key:
            raise MystError(
                f"{ctx.chapter.name}: glue from another page ({content!r}) is not supported"
            )
        if key not in ctx.glue:
            raise MystError(
                f"{ctx.chapter.name}: {{{name}}}`{content}` names a value the build did not glue"
            )
        ctx.used_glue[key] = ctx.glue[key]
        return format_glued(ctx.glue[key], fmt)
    if name in ("cite", "cite:p", "cite:t", "cite:ps", "cite:ts"):
        keys = [k.strip() for k in content.split(",") if k.strip()]
        missing = [k for k in keys if k not in ctx.works]
        if missing:
            raise MystError(f"{ctx.chapter.name}: citation keys not in references.bib: {missing}")
        for key in keys:
            if key not in ctx.cited:
                ctx.cited.append(key)
        if name.startswith("cite:t"):
            return "; ".join(
                f"{ctx.works[k].cite().rsplit(', ', 1)[0]} ({ctx.works[k].year})" for k in keys
            )
        return "(" + "; ".join(ctx.works[k].cite() for k in keys) + ")"
    if name == "doc":
        text, target = content, content
        labelled = re.fullmatch(r"(?P<text>.+?)\s*<(?P<target>[^>]+)>", content)
        if labelled:
            text, target = labelled["text"], labelled["target"]
        stem = Path(target).name
        if stem in ctx.chapters:
            return f"[{text}]({stem}.ipynb)"
        return f"{text} (a page of the rendered book)"
    if name == "math":
        return f"${content}$"
    if name in ("term", "ref", "numref", "eq"):
        labelled = re.fullmatch(r"(?P<text>.+?)\s*<(?P<target>[^>]+)>", content)
        return labelled["text"] if labelled else content
    raise MystError(
        f"{ctx.chapter.name}: the role {{{name}}} has no plain form; "
        "add one to tools/reader_copies.py"
    )


def resolve_markdown(text: str, ctx: Context) -> str:
    """`text` with every role resolved and every directive turned into plain Markdown."""
    out: list[str] = []
    lines = text.split("\n")
    i = 0
    in_code = False
    while i < len(lines):
        line = lines[i]
        opening = FENCE_OPEN.match(line)
        if line.startswith("```") and not opening:
            # a plain code fence (```text ...): copied as it is, roles inside it untouched
            in_code = not in_code
            out.append(line)
            i += 1
            continue
        if in_code:
            out.append(line)
            i += 1
            continue
        if TARGET.match(line):
            i += 1
            continue
        if opening:
            fence = opening["fence"]
            indent = opening["indent"]
            body: list[str] = []
            i += 1
            while i < len(lines) and lines[i].strip() != fence:
                body.append(lines[i].removeprefix(indent))
                i += 1
            if i == len(lines):
                raise MystError(
                    f"{ctx.chapter.name}: the directive {{{opening['name']}}} is never closed"
                )
            i += 1
            plain = resolve_directive(opening["name"], opening["args"].strip(), body, ctx)
            out.extend(f"{indent}{line}".rstrip() for line in plain)
            continue
        out.append(ROLE.sub(lambda m: resolve_role(m, ctx), line))
        i += 1
    return "\n".join(out)


def resolve_directive(name: str, args: str, body: list[str], ctx: Context) -> list[str]:
    content = [line for line in body if not OPTION.match(line)]
    if name == "bibliography":
        # filled in once the whole chapter has been read: it lists what the chapter cites
        return ["{{READERS_COPY_BIBLIOGRAPHY}}"]
    if name == "dropdown":
        # JupyterLab and Colab render <details> collapsed, as the book renders a dropdown; the
        # blank lines let the Markdown inside it render as Markdown
        title = ROLE.sub(lambda m: resolve_role(m, ctx), args) or "Show"
        inner = resolve_markdown("\n".join(content).strip("\n"), ctx)
        return [
            "<details>",
            f"<summary>{title}</summary>",
            "",
            *inner.split("\n"),
            "",
            "</details>",
        ]
    if name in ADMONITIONS:
        title = ROLE.sub(lambda m: resolve_role(m, ctx), args) or ADMONITIONS[name] or "Note"
        inner = resolve_markdown("\n".join(content).strip("\n"), ctx).split("\n")
        return [f"> **{title}**", ">", *[f"> {line}".rstrip() for line in inner]]
    raise MystError(
        f"{ctx.chapter.name}: the directive {{{name}}} has no plain form; "
        "add one to tools/reader_copies.py"
    )


def bibliography(ctx: Context) -> str:
    if not ctx.cited:
        return "This chapter cites no work."
    ordered = sorted(ctx.cited, key=lambda k: (ctx.works[k].authors[0].lower(), ctx.works[k].year))
    return "\n".join(f"- {ctx.works[key].reference()}" for key in ordered)


# ---------------------------------------------------------------- notebooks


def note_cell(chapter: Path) -> dict[str, Any]:
    text = (
        "> **Reader's copy.** This notebook is made from the book's chapter "
        f"`book/{chapter.name}` for JupyterLab and Colab, where the book's markup does not "
        "render: citations read (Author, Year), and the numbers in the text are those of the "
        "book's own run (`SEED = 0`, on a CPU). Run the cells and you compute them afresh; "
        "change `SEED` in the first code cell and the outputs change while the text keeps the "
        "book's numbers. "
        "On Colab the setup cell installs the book's `companion` library first; "
        '"Run all" runs the whole chapter.'
    )
    return {"cell_type": "markdown", "id": NOTE_CELL_ID, "metadata": {}, "source": _lines(text)}


def _lines(text: str) -> list[str]:
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + [parts[-1]]


def make_copy(
    chapter: Path,
    glue: dict[str, str],
    works: dict[str, Work],
    chapters: set[str],
) -> dict[str, Any]:
    """The reader's copy of `chapter` (a notebook dict), its prose resolved against `glue`."""
    notebook = json.loads(chapter.read_text(encoding="utf-8"))
    ctx = Context(chapter, glue, works, chapters, cited=[], used_glue={})
    cells = []
    for cell in notebook["cells"]:
        cell = copy.deepcopy(cell)
        if cell["cell_type"] == "markdown":
            cell["source"] = _lines(resolve_markdown("".join(cell["source"]), ctx))
        elif cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cells.append(cell)
    references = bibliography(ctx)
    for cell in cells:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            if "{{READERS_COPY_BIBLIOGRAPHY}}" in text:
                cell["source"] = _lines(text.replace("{{READERS_COPY_BIBLIOGRAPHY}}", references))
    cells.insert(1, note_cell(chapter))
    metadata = copy.deepcopy(notebook["metadata"])
    metadata[METADATA_KEY] = {
        "source": f"book/{chapter.name}",
        "generated_by": "tools/reader_copies.py",
        "varying_glued_values": {
            name: text
            for name, text in sorted(ctx.used_glue.items())
            if varies_from_run_to_run(name)
        },
    }
    return {**notebook, "cells": cells, "metadata": metadata}


def dumps(notebook: dict[str, Any]) -> str:
    """As Jupyter writes notebooks, so that a copy saved unchanged by JupyterLab stays the same."""
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def chapter_notebooks() -> list[Path]:
    return sorted(BOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def expected_copy(chapter: Path, committed: dict[str, Any] | None) -> dict[str, Any]:
    """The copy a fresh `write` would produce.

    Run-to-run values are taken from `committed` when given.
    """
    glue = load_glue(chapter)
    if committed is not None:
        kept = committed.get("metadata", {}).get(METADATA_KEY, {}).get("varying_glued_values", {})
        glue.update({name: text for name, text in kept.items() if name in glue})
    chapters = {path.stem for path in chapter_notebooks()}
    return make_copy(chapter, glue, load_bibliography(), chapters)


def comparable(notebook: dict[str, Any]) -> dict[str, Any]:
    """What a reader cannot change by running the copy.

    Outputs, execution counts and front-end metadata go.
    """
    cells = [
        {
            "cell_type": cell["cell_type"],
            "source": "".join(cell["source"]),
            "tags": cell.get("metadata", {}).get("tags", []),
        }
        for cell in notebook["cells"]
    ]
    return {"cells": cells, METADATA_KEY: notebook.get("metadata", {}).get(METADATA_KEY)}


def stale_copies() -> list[str]:
    """One line per copy in notebooks/ that differs from what `write` would make now."""
    problems = []
    chapters = chapter_notebooks()
    names = {path.name for path in chapters}
    for extra in sorted(path.name for path in COPIES_DIR.glob("*.ipynb") if path.name not in names):
        problems.append(f"notebooks/{extra} has no chapter in book/ (remove it)")
    for chapter in chapters:
        target = COPIES_DIR / chapter.name
        if not target.exists():
            problems.append(f"notebooks/{chapter.name} is missing")
            continue
        committed = json.loads(target.read_text(encoding="utf-8"))
        expected = expected_copy(chapter, committed)
        if comparable(committed) != comparable(expected):
            problems.append(
                f"notebooks/{chapter.name} is stale: {first_difference(committed, expected)}"
            )
    return problems


def first_difference(committed: dict[str, Any], expected: dict[str, Any]) -> str:
    old, new = comparable(committed), comparable(expected)
    if len(old["cells"]) != len(new["cells"]):
        return f"{len(old['cells'])} cells, the chapter makes {len(new['cells'])}"
    # The cell counts were compared just above, so the two lists have equal lengths.
    for i, (a, b) in enumerate(zip(old["cells"], new["cells"], strict=True)):
        if a != b:
            # The sources may have different numbers of lines, so not strict: zip stops at the
            # shorter list, whose final "" is compared with the other's line at that place; the
            # return after this loop covers a difference that does not show there.
            lines_a = a["source"].split("\n") + [""]
            lines_b = b["source"].split("\n") + [""]
            for line_a, line_b in zip(lines_a, lines_b, strict=False):
                if line_a != line_b:
                    return f"cell {i}: {line_a[:120]!r} should be {line_b[:120]!r}"
            return f"cell {i} differs ({a['cell_type']}, tags {a['tags']} vs {b['tags']})"
    return "its metadata differs"


def write() -> list[Path]:
    COPIES_DIR.mkdir(exist_ok=True)
    chapters = chapter_notebooks()
    names = {path.name for path in chapters}
    for extra in COPIES_DIR.glob("*.ipynb"):
        if extra.name not in names:
            extra.unlink()
    written = []
    for chapter in chapters:
        target = COPIES_DIR / chapter.name
        target.write_text(dumps(expected_copy(chapter, None)), encoding="utf-8")
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=("write", "check"))
    args = parser.parse_args(argv)
    if args.command == "write":
        for path in write():
            print(f"wrote {path.relative_to(ROOT)}")
        return 0
    problems = stale_copies()
    for problem in problems:
        print(problem)
    if problems:
        print("Regenerate them with `make readers` (after `make book`).")
        return 1
    print(f"notebooks/: {len(chapter_notebooks())} readers' copies, all current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
