"""The reproducibility page and its runner, tools/verify.

`make verify` (``python -m tools.verify run``) runs every chapter under SEED 0–9 and writes
book/reproducibility.json and book/reproducibility.md. The first tests here do not re-run the
chapters; they check that the stored results are current: every chapter ran on the ten seeds,
the stored claim ids and code fingerprints are the chapter's, every glued name the chapter needs
was stored, every claim held on 4 of the 5 seeds, and the page is what the renderer makes of the
results and the chapters' current claim texts. The rest test the runner on small synthetic
notebooks and results.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

import tools.verify as verify
from tools.verify.__main__ import main
from tools.verify.claims import (
    CLAIMS_MARKER,
    ClaimError,
    chapter_claims,
    code_fingerprint,
    glue_names,
    instrument,
    is_checks_cell,
    prose_glue_names,
    split_checks_cell,
)
from tools.verify.current import (
    claim_problems,
    glue_problems,
    needed_glue_names,
    unused_glue_names,
)
from tools.verify.page import ChapterProse, current_prose, render
from tools.verify.results import (
    held_count,
    is_current_format,
    load_results,
    not_held_everywhere,
    store_runs,
)
from tools.verify.run import Outcome, SeedRun, run_all, run_chapter

RESULTS = load_results()
CHAPTERS = verify.chapter_notebooks()


def cpu_chapter(chapter: Path) -> dict:
    chapters = RESULTS.get("cpu", {}).get("chapters", {})
    assert chapter.name in chapters, (
        f"{chapter.name} has no results on the reproducibility page: run `make verify`"
    )
    return chapters[chapter.name]


def sections_with(chapter: Path, claims_by_id: bool = True) -> list[tuple[str, dict]]:
    """(device, stored chapter) for each device section that has the chapter; cpu must."""
    cpu_chapter(chapter)
    sections = [
        (device, section["chapters"][chapter.name])
        for device, section in RESULTS.items()
        if chapter.name in section["chapters"]
    ]
    for device, stored in sections:
        assert is_current_format(stored) or not claims_by_id, (
            f"{device}, {chapter.name}: results in an older format: run `make verify`"
        )
    return sections


# ---------------------------------------------------------------- the committed results are current


def test_page_is_rendered_from_the_results_and_the_chapters() -> None:
    assert RESULTS, f"{verify.RESULTS_PATH} is missing: run `make verify`"
    page = verify.PAGE_PATH.read_text(encoding="utf-8")
    assert page == render(RESULTS, current_prose(CHAPTERS)), (
        "book/reproducibility.md is out of date: `python -m tools.verify check` says whether "
        "`python -m tools.verify render` (a claim reworded) or `make verify` is needed"
    )


def test_page_is_in_the_table_of_contents() -> None:
    toc = (verify.ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert "file: book/reproducibility" in yaml.safe_dump(yaml.safe_load(toc))


def test_no_results_for_chapters_that_are_gone() -> None:
    names = {chapter.name for chapter in CHAPTERS}
    for device, section in RESULTS.items():
        assert set(section["chapters"]) <= names, (device, set(section["chapters"]) - names)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_chapter_claims_follow_the_format(chapter: Path) -> None:
    claims = chapter_claims(nbformat.read(chapter, as_version=4), chapter.name)
    assert claims, f"{chapter.name} asserts no claims"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_chapter_ran_on_every_default_seed(chapter: Path) -> None:
    assert sorted(cpu_chapter(chapter)["runs"], key=int) == [
        str(seed) for seed in verify.DEFAULT_SEEDS
    ]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_claims_are_current(chapter: Path) -> None:
    claims = chapter_claims(nbformat.read(chapter, as_version=4), chapter.name)
    for device, stored in sections_with(chapter):
        problems = claim_problems(claims, stored)
        assert not problems, f"{device}, {chapter.name}: {problems}; run `make verify`"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_glued_names_are_current(chapter: Path) -> None:
    notebook = nbformat.read(chapter, as_version=4)
    for device, stored in sections_with(chapter, claims_by_id=False):
        problems = glue_problems(notebook, stored)
        assert not problems, f"{device}, {chapter.name}: {problems}; run `make verify`"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_every_claim_holds_on_every_seed(chapter: Path) -> None:
    claims = chapter_claims(nbformat.read(chapter, as_version=4), chapter.name)
    for device, stored in sections_with(chapter):
        for claim in claims:
            held, total = held_count(stored, claim.id)
            assert held == total, (
                f"{device}, {chapter.name}: {claim.id!r} held on {held} of {total} seeds"
            )
        for seed, run in stored["runs"].items():
            assert not run["errors"], f"{device}, {chapter.name}, SEED {seed}: {run['errors']}"


# ---------------------------------------------------------------- how claims are found

CHECKS = """\
x = 1
# claim x-is-one: x is one.
assert x == 1, x
# an ordinary comment stays in the claim
for i in range(2):
    # an indented comment
    assert i < 2
y = 2  # a trailing comment
# claim y-is-two: y is two.
assert y == 2
"""


def test_a_checks_cell_splits_at_its_claim_lines() -> None:
    cell = split_checks_cell(CHECKS)
    assert cell.preamble == "x = 1"
    assert [(claim.id, claim.text) for claim in cell.claims] == [
        ("x-is-one", "x is one."),
        ("y-is-two", "y is two."),
    ]
    first = cell.claims[0].code
    assert first.startswith("assert x == 1, x\n# an ordinary comment stays in the claim\n")
    assert first.endswith("y = 2  # a trailing comment")
    assert cell.claims[1].code == "assert y == 2\n"


def test_claims_and_claimed_are_ordinary_comments() -> None:
    cell = split_checks_cell("# claims below\n# claim a: A.\n# claimed by the article\nassert 1\n")
    assert [claim.id for claim in cell.claims] == ["a"]
    assert cell.claims[0].code.startswith("# claimed by the article\n")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("assert True\n", "line 1: this assert is outside any claim"),
        ("x = 1\nassert x\n# claim a: A.\nassert x\n", "line 2: this assert is outside any claim"),
        ("# claim: no id.\nassert True\n", "malformed claim line"),
        ("# claim a b: two words.\nassert True\n", "malformed claim line"),
        ("# claim a-b no colon\nassert True\n", "malformed claim line"),
        ("# claim a:\nassert True\n", "malformed claim line"),
        ("# Claim a: capital.\nassert True\n", "malformed claim line"),
        ("# claim Big_Id: A.\nassert True\n", "'Big_Id' is not kebab-case"),
        ("# claim a-: A.\nassert True\n", "'a-' is not kebab-case"),
        ("# claim a: A.\nassert 1\n# claim a: again.\nassert 2\n", "'a' is used twice"),
        ("# claim a: A.\nx = 1\n# claim b: B.\nassert x\n", "claim 'a' asserts nothing"),
        ("# claim a: A.\n# claim b: B.\nassert 1\n", "claim 'a' asserts nothing"),
        ("# claim a: A.\nassert 1\n# claim b: B.\n", "claim 'b' asserts nothing"),
        ("# claim a: A.\nif True:\n# claim b: B.\n    assert 1\n", "between top-level statements"),
    ],
)
def test_a_broken_checks_cell_is_an_error(source: str, message: str) -> None:
    with pytest.raises(ClaimError, match=message) as error:
        split_checks_cell(source, where="09_x.ipynb code cell 3")
    assert str(error.value).startswith("09_x.ipynb code cell 3")


def test_a_claim_id_is_unique_in_the_chapter() -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("# claim a: A.\nassert 1\n"),
        nbformat.v4.new_code_cell("print('not a Checks cell')"),
        nbformat.v4.new_code_cell("# claim b: B.\nassert 1\n# claim a: A again.\nassert 2\n"),
    ]
    with pytest.raises(ClaimError, match=r"09_x.ipynb code cell 2: claim id 'a' is used twice"):
        chapter_claims(notebook, "09_x.ipynb")


def test_checks_cells_are_found_by_asserts_or_claim_lines() -> None:
    assert is_checks_cell("x = 1\nassert x\n")
    # A claim whose asserts are all inside a loop still makes a Checks cell.
    assert is_checks_cell("# claim a: A.\nfor i in range(2):\n    assert i < 2\n")
    assert not is_checks_cell("%matplotlib inline\nx = 1\n# a comment\n")
    assert not is_checks_cell("def f(x):\n    assert x\n")


def test_the_fingerprint_ignores_comments_and_formatting_only() -> None:
    code = "assert loss < 0.1, loss\n"
    same = "# why this bound\nassert (\n    loss < 0.1\n), loss  # trailing\n"
    assert code_fingerprint(code) == code_fingerprint(same)
    assert code_fingerprint("assert s == 'a'") == code_fingerprint('assert s == "a"')
    assert code_fingerprint(code) != code_fingerprint("assert loss < 0.2, loss\n")
    assert code_fingerprint(code) != code_fingerprint("assert loss <= 0.1, loss\n")


def test_an_instrumented_cell_runs_each_claim_on_its_own() -> None:
    source = (
        "value = SEED * 2\n"
        "# claim holds: Holds.\n"
        "assert value == 2 * SEED\n"
        "# claim fails: Fails on odd seeds.\n"
        "assert SEED % 2 == 0, f'odd seed {SEED}'\n"
        "# claim after: Checked after a failure.\n"
        "assert value >= 0\n"
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(instrument(source), {"SEED": 3})
    (line,) = [line for line in out.getvalue().splitlines() if line.startswith(CLAIMS_MARKER)]
    assert json.loads(line[len(CLAIMS_MARKER) :]) == [
        ["holds", True, ""],
        ["fails", False, "AssertionError: odd seed 3"],
        ["after", True, ""],
    ]


# ---------------------------------------------------------------- what a chapter glues


def test_glue_names_ignore_magics_and_computed_names() -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "%matplotlib inline\na = glue('alpha', 1)\nrt.glue('beta', 2)\nglue(name, 3)\n"
            "glue_fields(config, prefix='dqn_')"
        ),
        nbformat.v4.new_markdown_cell("glue('not_code', 4)"),
    ]
    assert glue_names(notebook) == ["alpha", "beta"]


def test_prose_glue_names_read_every_glue_role_and_directive() -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell(
            "The loss fell to {glue:text}`loss:.3f` in {glue:text}`steps` steps, "
            "{glue}`alpha`, {glue:md}`table`; {glue:text}`other.ipynb::elsewhere`.\n\n"
            "```{glue:figure} curve\n:name: fig-curve\n```\n"
        ),
        nbformat.v4.new_code_cell("x = '{glue:text}`in_code`'"),
    ]
    assert prose_glue_names(notebook) == ["loss", "steps", "alpha", "table", "curve"]


# ---------------------------------------------------------------- stored results and staleness


def _notebook(
    checks: str, prose: str = "{glue:text}`loss:.2f`", code: str = ""
) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell(f"# A tiny chapter\n\nThe loss is {prose}."),
        nbformat.v4.new_code_cell(code or "glue('loss', 0.5)\nglue_fields(config, prefix='c_')"),
        nbformat.v4.new_code_cell(checks),
    ]
    return notebook


TWO_CLAIMS = (
    "# claim small: The loss is small.\nassert loss < 1\n# claim sure: Sure.\nassert True\n"
)


def _runs(notebook: nbformat.NotebookNode, held: list[bool], name: str = "99_tiny.ipynb") -> list:
    claims = chapter_claims(notebook, name)
    return [
        SeedRun(
            chapter=name,
            seed=seed,
            seconds=10.0 + seed,
            title="A tiny chapter",
            claims=claims,
            glued={"loss": float(seed), "steps": 100 * seed, "c_lr": 0.1},
            outcomes={
                claim.id: Outcome(True) if ok or index else Outcome(False, "AssertionError: no")
                for index, claim in enumerate(claims)
            },
            errors=[],
        )
        for seed, ok in enumerate(held)
    ]


ENVIRONMENT = {
    "device_name": "test CPU",
    "cpu_cores": 2,
    "python": "3.11",
    "torch": "2",
    "tensorflow": "2",
    "commit": "abc",
    "date": "2026-01-01",
}


def _results(notebook: nbformat.NotebookNode, held: list[bool]) -> dict:
    context = {
        "chapters": ["99_tiny.ipynb"],
        "seeds": list(range(len(held))),
        "jobs": 2,
        "threads_per_job": 1,
        "wall_seconds": 120.0,
    }
    return store_runs({}, "cpu", _runs(notebook, held), ENVIRONMENT, context)


def test_results_are_keyed_by_claim_id_with_fingerprints() -> None:
    notebook = _notebook(TWO_CLAIMS)
    stored = _results(notebook, [True, False])["cpu"]["chapters"]["99_tiny.ipynb"]
    small = code_fingerprint("assert loss < 1")
    assert stored["title"] == "A tiny chapter"
    assert stored["claims"][0] == {
        "id": "small",
        "text": "The loss is small.",
        "fingerprint": small,
    }
    assert stored["runs"]["1"] == {
        "seconds": 11.0,
        "glued": {"loss": 1.0, "steps": 100, "c_lr": 0.1},
        "claims": {
            "small": {"held": False, "detail": "AssertionError: no"},
            "sure": {"held": True, "detail": ""},
        },
        "errors": [],
    }
    assert held_count(stored, "small") == (1, 2)
    json.dumps(stored)


def test_store_runs_keeps_other_devices_and_refuses_mixed_runs() -> None:
    notebook = _notebook(TWO_CLAIMS)
    results = _results(notebook, [True])
    results = store_runs(results, "mps", _runs(notebook, [True]), ENVIRONMENT, {})
    results = store_runs(results, "cuda", _runs(notebook, [True]), ENVIRONMENT, {})
    assert list(results) == ["cpu", "cuda", "mps"]
    with pytest.raises(ValueError, match="device must be one of cpu, cuda, mps"):
        store_runs({}, "tpu", [], ENVIRONMENT, {})
    changed = _runs(_notebook(TWO_CLAIMS.replace("< 1", "< 2")), [True, True])
    mixed = [_runs(notebook, [True])[0], changed[1]]
    with pytest.raises(ValueError, match="changed while it ran"):
        store_runs({}, "cpu", mixed, ENVIRONMENT, {})


def _stored(notebook: nbformat.NotebookNode) -> dict:
    return _results(notebook, [True] * 5)["cpu"]["chapters"]["99_tiny.ipynb"]


@pytest.mark.parametrize(
    ("edited", "problem"),
    [
        (
            TWO_CLAIMS.replace("claim sure:", "claim certain:"),
            "added ['certain'], removed ['sure']",
        ),
        (TWO_CLAIMS + "# claim more: More.\nassert 2\n", "added ['more'], removed []"),
        ("# claim small: The loss is small.\nassert loss < 1\n", "added [], removed ['sure']"),
        ("# claim sure: Sure.\nassert True\n# claim small: S.\nassert loss < 1\n", "reordered"),
        (TWO_CLAIMS.replace("loss < 1", "loss < 2"), "claim 'small': its code changed"),
    ],
)
def test_a_claim_added_removed_renamed_or_changed_is_stale(edited: str, problem: str) -> None:
    stored = _stored(_notebook(TWO_CLAIMS))
    problems = claim_problems(chapter_claims(_notebook(edited)), stored)
    assert len(problems) == 1 and problem in problems[0], problems


def test_a_reworded_claim_or_a_new_comment_is_not_stale_and_the_page_shows_the_new_text() -> None:
    results = _results(_notebook(TWO_CLAIMS), [True] * 5)
    stored = results["cpu"]["chapters"]["99_tiny.ipynb"]
    edited = TWO_CLAIMS.replace("The loss is small.", "The loss ends below one.").replace(
        "assert loss < 1", "# why one\nassert (loss < 1)  # comment"
    )
    claims = chapter_claims(_notebook(edited))
    assert claim_problems(claims, stored) == []
    prose = {"99_tiny.ipynb": ChapterProse("A retitled chapter", {c.id: c.text for c in claims})}
    page = render(results, prose)
    assert "| `small`: The loss ends below one. | ✓ | ✓ | ✓ | ✓ | ✓ | 5/5 |" in page
    assert "### A retitled chapter (`99_tiny.ipynb`)" in page
    assert "The loss is small." not in page
    # Without the chapter (gone from book/), the stored text is shown.
    assert "| `small`: The loss is small. |" in render(results, {})


def test_older_results_are_stale() -> None:
    stored = _stored(_notebook(TWO_CLAIMS))
    older = copy.deepcopy(stored)
    del older["claims"]
    for run in older["runs"].values():
        run["claims"] = [{"label": "The loss is small.", "held": True, "detail": ""}]
    assert claim_problems(chapter_claims(_notebook(TWO_CLAIMS)), older) == [
        "stored in an older format (claims without ids)"
    ]
    with pytest.raises(ValueError, match="older format"):
        render({"cpu": {"chapters": {"99_tiny.ipynb": older}, "last_run": {}}}, {})


def test_glued_names_in_the_prose_or_glued_by_a_literal_must_be_stored() -> None:
    notebook = _notebook(TWO_CLAIMS)
    stored = _stored(notebook)
    # `c_lr` comes from glue_fields: the scan cannot see it, and stored extras are no error.
    assert needed_glue_names(notebook) == ["loss"]
    assert glue_problems(notebook, stored) == []
    assert unused_glue_names(notebook, stored) == ["steps", "c_lr"]
    # The prose shows a name glue_fields glues: it was stored, so it is current.
    assert glue_problems(_notebook(TWO_CLAIMS, prose="{glue:text}`c_lr`"), stored) == []
    in_prose = _notebook(TWO_CLAIMS, prose="{glue:text}`loss` and {glue:text}`c_gamma:.2f`")
    assert glue_problems(in_prose, stored)[0] == "SEED 0: no stored value for ['c_gamma']"
    in_code = _notebook(TWO_CLAIMS, code="glue('loss', 1)\nglue('accuracy', 0.9)")
    assert len(glue_problems(in_code, stored)) == 5


# ---------------------------------------------------------------- rendering


def test_render_shows_values_with_their_spread_and_each_claim_per_seed() -> None:
    page = render(_results(_notebook(TWO_CLAIMS), [True, True, False, True, True]), {})
    assert "| `loss` | 0 | 2 | 4 | 0 | 1 | 2 | 3 | 4 |" in page
    assert "| `steps` | 0 | 200 | 400 | 0 | 100 | 200 | 300 | 400 |" in page
    assert "| *run time, s* | 10 | 12 | 14 | 10 | 11 | 12 | 13 | 14 |" in page
    assert "| `small`: The loss is small. | ✓ | ✓ | ✗ | ✓ | ✓ | **4/5, not every seed** |" in page
    assert "| `sure`: Sure. | ✓ | ✓ | ✓ | ✓ | ✓ | 5/5 |" in page
    assert "| {doc}`99_tiny` | `99_tiny.ipynb` | 2 | 1 | 1 | 10–14 |" in page
    assert "- SEED 2, claim `small`: `AssertionError: no`" in page
    assert "Not run yet: no NVIDIA GPU" in page
    assert "python -m tools.verify" in page


def test_render_flags_a_claim_that_failed_on_a_seed() -> None:
    results = _results(_notebook(TWO_CLAIMS), [True, True, False, True, True])
    assert "**4/5, not every seed**" in render(results, {})
    assert not_held_everywhere(results) == ["cpu, 99_tiny.ipynb: 'small' held on 4 of 5 seeds"]
    gpu = copy.deepcopy(results)
    gpu["cuda"] = gpu["cpu"]
    assert "## On an NVIDIA GPU\n\nDevice: test CPU" in render(gpu, {})


def test_render_refuses_empty_results() -> None:
    with pytest.raises(ValueError, match="make verify"):
        render({}, {})


def test_the_render_command_writes_the_page(tmp_path: Path) -> None:
    results = _results(_notebook(TWO_CLAIMS), [True] * 5)
    (tmp_path / "results.json").write_text(json.dumps(results), encoding="utf-8")
    page = tmp_path / "page.md"
    with contextlib.redirect_stdout(io.StringIO()):
        assert (
            main(["render", "--results", str(tmp_path / "results.json"), "--page", str(page)]) == 0
        )
    assert page.read_text(encoding="utf-8") == render(results, {})


def test_the_command_line_runs_as_a_module_from_the_root() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools.verify", "--help"],
        cwd=verify.ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for command in ("run", "render", "seeds", "check"):
        assert command in result.stdout


# ---------------------------------------------------------------- running a chapter (a tiny one)


def _write_notebook(path: Path, checks: str, extra: str = "") -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    parameters = nbformat.v4.new_code_cell("SEED = 0")
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# A tiny chapter"),
        parameters,
        nbformat.v4.new_code_cell(
            "from myst_nb import glue\n"
            f"doubled = SEED * 2\nglue('doubled', doubled, display=False)\n{extra}"
        ),
        nbformat.v4.new_code_cell(checks),
    ]
    nbformat.write(notebook, path)
    return path


def test_run_chapter_records_every_claim_and_every_glued_value(tmp_path: Path) -> None:
    checks = (
        "# claim holds: Holds on every seed.\n"
        "assert doubled == 2 * SEED\n"
        "# claim even: Holds on even seeds only.\n"
        "assert SEED % 2 == 0, f'odd seed {SEED}'\n"
        "# claim after: Still checked after a failure.\n"
        "assert doubled >= 0\n"
    )
    path = _write_notebook(tmp_path / "99_tiny.ipynb", checks)
    run = run_chapter(path, seed=3)
    assert run.glued == {"doubled": 6}
    assert [claim.id for claim in run.claims] == ["holds", "even", "after"]
    assert run.outcomes == {
        "holds": Outcome(True),
        "even": Outcome(False, "AssertionError: odd seed 3"),
        "after": Outcome(True),
    }
    assert run.errors == [] and not run.ok and run.failed == ["even"]
    assert run_chapter(path, seed=4).ok


def test_run_chapter_reports_an_error_outside_the_claims(tmp_path: Path) -> None:
    path = _write_notebook(
        tmp_path / "98_broken.ipynb",
        "# claim needs-it: Needs the broken cell.\nassert doubled == 0\n",
        "raise RuntimeError('boom')",
    )
    run = run_chapter(path, seed=0)
    assert run.errors == ["code cell 1: RuntimeError: boom"]
    assert run.outcomes["needs-it"].held and not run.ok


def test_run_chapter_rejects_a_bad_seed_or_chapter(tmp_path: Path) -> None:
    path = _write_notebook(tmp_path / "97_tiny.ipynb", "# claim a: A.\nassert True\n")
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        run_chapter(path, seed=-1)
    with pytest.raises(TypeError, match="seed must be an integer"):
        run_chapter(path, seed=1.5)
    broken = _write_notebook(tmp_path / "96_tiny.ipynb", "assert True\n")
    with pytest.raises(ClaimError, match="96_tiny.ipynb code cell 2, line 1"):
        run_chapter(broken, seed=0)


def test_a_broken_chapter_stops_a_run_before_any_kernel_starts(tmp_path: Path) -> None:
    good = _write_notebook(tmp_path / "95_good.ipynb", "# claim a: A.\nassert True\n")
    broken = _write_notebook(tmp_path / "96_tiny.ipynb", "assert True\n")
    with pytest.raises(ClaimError, match="96_tiny.ipynb code cell 2"):
        run_all([good, broken], [0, 1], jobs=1, previous={})
    with pytest.raises(ValueError, match="jobs must be at least 1"):
        run_all([good], [0], jobs=0, previous={})
    error = io.StringIO()
    with contextlib.redirect_stderr(error):
        assert main(["seeds", str(broken), "0"]) == 2
    assert "this assert is outside any claim" in error.getvalue()
