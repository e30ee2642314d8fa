"""What a chapter claims and glues, read from the notebook without running it.

A Checks cell is a code cell with a top-level ``assert`` or a claim line. In it, each claim starts
with a comment line at column 0,

    # claim <id>: <text a reader can read>

where <id> is kebab-case and unique in the chapter. The claim is everything after that line up to
the next claim line, other own-line comments included; code before the first claim line is the
cell's preamble. Every top-level assert of a Checks cell must be inside a claim, and every claim
must assert something. `instrument` rewrites a Checks cell so that each claim runs on its own.
"""

from __future__ import annotations

import ast
import hashlib
import io
import re
import tokenize
from dataclasses import dataclass

import nbformat

CLAIM_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Any column-0 comment that starts like a claim line; it must then have the exact form.
CLAIM_LIKE = re.compile(r"#\s*claim\b", re.IGNORECASE)
CLAIM_LINE = re.compile(r"# claim (?P<id>[^\s:]+): (?P<text>\S.*?)\s*")
CLAIM_FORMAT = "'# claim <id>: <text>' with <id> in kebab-case, e.g. '# claim loss-falls: ...'"
# What an instrumented Checks cell prints: the outcome of each claim, as JSON after this marker.
CLAIMS_MARKER = "__verify_claims__ "
_CLAIM_RUNNER = """\
import json as _verify_json
_verify_claims = []
def _verify_claim(claim_id, code):
    try:
        exec(compile(code, "<claim " + claim_id + ">", "exec"), globals())
    except Exception as error:
        _verify_claims.append([claim_id, False, f"{type(error).__name__}: {error}"])
    else:
        _verify_claims.append([claim_id, True, ""])
"""
# myst-nb's glue roles ({glue}`name`, {glue:text}`name:.2f`, ...) and directives
# (```{glue:figure} name).
GLUE_ROLE = re.compile(r"\{glue(?::[a-z]+)?\}`([^`]+)`")
GLUE_DIRECTIVE = re.compile(r"^\s*(?:`{3,}|:{3,})\{glue(?::[a-z]+)?\}[ \t]+(\S+)", re.MULTILINE)


class ClaimError(ValueError):
    """A Checks cell that does not follow the claim format; the message says where and why."""


@dataclass(frozen=True)
class Claim:
    """One claim of a chapter: its identifier, its text and the code that asserts it."""

    id: str
    text: str
    code: str

    @property
    def fingerprint(self) -> str:
        return code_fingerprint(self.code)


@dataclass(frozen=True)
class ChecksCell:
    """A Checks cell split into the code before its first claim and its claims."""

    preamble: str
    claims: tuple[Claim, ...]


def code_fingerprint(code: str) -> str:
    """A hash of what the code does: comments, line breaks and quoting style do not change it."""
    return hashlib.sha256(ast.dump(ast.parse(code)).encode()).hexdigest()[:16]


def _without_magics(source: str) -> str:
    """IPython magics and shell lines (``%pip``, ``!ls``) become ``pass``, for `ast`."""
    return "\n".join(
        line[: len(line) - len(line.lstrip())] + "pass"
        if line.lstrip().startswith(("%", "!"))
        else line
        for line in source.split("\n")
    )


def _column_zero_comments(source: str) -> list[tuple[int, str]]:
    """(line number, text) of every comment that starts a line."""
    return [
        (token.start[0], token.string)
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT and token.start[1] == 0
    ]


def is_checks_cell(source: str) -> bool:
    """Whether a code cell's source has a top-level assert or a claim line."""
    try:
        plain = _without_magics(source)
        tree = ast.parse(plain)
        comments = _column_zero_comments(plain)
    except (SyntaxError, tokenize.TokenError):
        return False
    return any(isinstance(node, ast.Assert) for node in tree.body) or any(
        CLAIM_LIKE.match(text) for _, text in comments
    )


def _parse_claim_line(text: str, where: str) -> tuple[str, str]:
    match = CLAIM_LINE.fullmatch(text)
    if match is None:
        raise ClaimError(f"{where}: malformed claim line {text!r}; expected {CLAIM_FORMAT}")
    claim_id = match["id"]
    if not CLAIM_ID.fullmatch(claim_id):
        raise ClaimError(
            f"{where}: claim id {claim_id!r} is not kebab-case ([a-z0-9]+(-[a-z0-9]+)*); "
            f"expected {CLAIM_FORMAT}"
        )
    return claim_id, match["text"]


def _claim_starts(source: str, where: str) -> tuple[ast.Module, list[tuple[int, str, str]]]:
    """The parsed cell and its claim lines as (line number, id, text)."""
    try:
        tree = ast.parse(source)
        comments = _column_zero_comments(source)
    except (SyntaxError, tokenize.TokenError) as error:
        raise ClaimError(f"{where}: cannot parse the Checks cell: {error}") from error
    spans = [
        (
            min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]),
            node.end_lineno,
        )
        for node in tree.body
    ]
    starts: list[tuple[int, str, str]] = []
    for line, text in comments:
        if not CLAIM_LIKE.match(text):
            continue
        here = f"{where}, line {line}"
        if any(first <= line <= (last or first) for first, last in spans):
            raise ClaimError(f"{here}: a claim line must stand between top-level statements")
        claim_id, claim_text = _parse_claim_line(text, here)
        starts.append((line, claim_id, claim_text))
    return tree, starts


def split_checks_cell(source: str, where: str = "the cell") -> ChecksCell:
    """The cell's preamble and claims; ClaimError (naming `where`) if it breaks the format."""
    tree, starts = _claim_starts(source, where)
    first_claim = starts[0][0] if starts else None
    for node in tree.body:
        if isinstance(node, ast.Assert) and (first_claim is None or node.lineno < first_claim):
            raise ClaimError(
                f"{where}, line {node.lineno}: this assert is outside any claim; "
                f"put a claim line above it: {CLAIM_FORMAT}"
            )
    lines = source.split("\n")
    ends = [line for line, _, _ in starts[1:]] + [len(lines) + 1]
    claims = []
    seen: set[str] = set()
    for (line, claim_id, text), end in zip(starts, ends, strict=True):
        if claim_id in seen:
            raise ClaimError(f"{where}, line {line}: claim id {claim_id!r} is used twice")
        seen.add(claim_id)
        code = "\n".join(lines[line : end - 1])
        if not any(isinstance(node, ast.Assert) for node in ast.walk(ast.parse(code))):
            raise ClaimError(
                f"{where}, line {line}: claim {claim_id!r} asserts nothing; "
                "a claim is a claim line followed by its asserts"
            )
        claims.append(Claim(claim_id, text, code))
    preamble = "\n".join(lines[: first_claim - 1]) if first_claim else source
    return ChecksCell(preamble, tuple(claims))


def _code_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def chapter_claims(notebook: nbformat.NotebookNode, name: str = "the chapter") -> list[Claim]:
    """The chapter's claims in order; ClaimError for a broken Checks cell or a repeated id."""
    claims: list[Claim] = []
    for index, cell in enumerate(_code_cells(notebook)):
        if not is_checks_cell(cell.source):
            continue
        where = f"{name} code cell {index}"
        for claim in split_checks_cell(cell.source, where).claims:
            if claim.id in {earlier.id for earlier in claims}:
                raise ClaimError(f"{where}: claim id {claim.id!r} is used twice in the chapter")
            claims.append(claim)
    return claims


def instrument(source: str) -> str:
    """The Checks cell rewritten so that each claim runs on its own and its outcome is printed."""
    cell = split_checks_cell(source)
    lines = [_CLAIM_RUNNER]
    if cell.preamble.strip():
        lines.append(f"exec(compile({cell.preamble!r}, '<checks>', 'exec'), globals())")
    for claim in cell.claims:
        lines.append(f"_verify_claim({claim.id!r}, {claim.code!r})")
    lines.append(f"print({CLAIMS_MARKER!r} + _verify_json.dumps(_verify_claims))")
    return "\n".join(lines)


def glue_names(notebook: nbformat.NotebookNode) -> list[str]:
    """Names passed as a string literal to ``glue(...)`` in the code cells, in order of appearance.

    Names glued by computed names (``glue_fields(config, prefix=...)``) are not seen here.
    """
    names = []
    for cell in _code_cells(notebook):
        for node in ast.walk(ast.parse(_without_magics(cell.source))):
            callee = node.func if isinstance(node, ast.Call) else None
            callee_name = getattr(callee, "id", None) or getattr(callee, "attr", None)
            if callee_name == "glue" and node.args and isinstance(node.args[0], ast.Constant):
                names.append(str(node.args[0].value))
    return list(dict.fromkeys(names))


def prose_glue_names(notebook: nbformat.NotebookNode) -> list[str]:
    """Glued names the markdown cells show ({glue:text}`name:fmt` and the like), in order.

    A reference into another notebook (``other.ipynb::name``) belongs to that chapter: left out.
    """
    names = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for reference in GLUE_ROLE.findall(cell.source) + GLUE_DIRECTIVE.findall(cell.source):
            if "::" not in reference:
                names.append(reference.split(":")[0].strip())
    return list(dict.fromkeys(names))


def chapter_title(notebook: nbformat.NotebookNode) -> str:
    """The text of the first ``# `` heading of the markdown cells."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    raise ValueError("the notebook has no '# ' title")
