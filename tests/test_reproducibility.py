"""The reproducibility page: generated from stored results, current with the chapters, claims held.

`make verify` (tests/reproducibility.py) runs every chapter under SEED 0–4 and writes
book/reproducibility.json and book/reproducibility.md. These tests do not re-run the chapters;
they check that the stored results cover every chapter, glue name and claim there is now, that the
page is exactly what the generator makes of them, and that every claim held on 4 of the 5 seeds.
A chapter added, a glue renamed or a claim reworded without `make verify` fails here.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest
import reproducibility as repro
import yaml

RESULTS = repro.load_results()
CHAPTERS = repro.chapter_notebooks()


def cpu_chapter(chapter: Path) -> dict:
    chapters = RESULTS.get("cpu", {}).get("chapters", {})
    assert chapter.name in chapters, f"{chapter.name} has no results on the reproducibility page: run `make verify`"
    return chapters[chapter.name]


# ---------------------------------------------------------------- the committed page is current


def test_page_is_rendered_from_the_results() -> None:
    assert RESULTS, f"{repro.RESULTS_PATH} is missing: run `make verify`"
    page = repro.PAGE_PATH.read_text(encoding="utf-8")
    assert page == repro.render(RESULTS), "book/reproducibility.md was edited by hand: run `make verify` or render"


def test_page_is_in_the_table_of_contents() -> None:
    toc = (repro.ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert "file: book/reproducibility" in yaml.safe_dump(yaml.safe_load(toc))


def test_no_results_for_chapters_that_are_gone() -> None:
    stored = set(RESULTS.get("cpu", {}).get("chapters", {}))
    assert stored <= {chapter.name for chapter in CHAPTERS}, stored


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_chapter_ran_on_five_seeds(chapter: Path) -> None:
    assert sorted(cpu_chapter(chapter)["runs"], key=int) == [str(seed) for seed in repro.DEFAULT_SEEDS]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_glue_names_are_current(chapter: Path) -> None:
    expected = set(repro.glue_names(nbformat.read(chapter, as_version=4)))
    for seed, run in cpu_chapter(chapter)["runs"].items():
        assert set(run["glued"]) == expected, f"SEED {seed}: stale glue names, run `make verify`"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_claims_are_current(chapter: Path) -> None:
    expected = repro.claim_labels(nbformat.read(chapter, as_version=4))
    assert expected, f"{chapter.name} asserts no claims"
    for seed, run in cpu_chapter(chapter)["runs"].items():
        assert [claim["label"] for claim in run["claims"]] == expected, f"SEED {seed}: stale claims"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_every_claim_holds_on_four_of_five_seeds(chapter: Path) -> None:
    for section in RESULTS.values():
        if chapter.name not in section["chapters"]:
            continue
        results = section["chapters"][chapter.name]
        for label in repro.claim_labels(nbformat.read(chapter, as_version=4)):
            held, total = repro.held_count(results, label)
            assert held >= repro.MIN_SEEDS_HELD, f"{chapter.name}: {label!r} held on {held} of {total} seeds"
        for seed, run in results["runs"].items():
            assert not run["errors"], f"{chapter.name}, SEED {seed}: {run['errors']}"


# ---------------------------------------------------------------- how claims are found


def test_code_groups_split_a_cell_at_its_comments() -> None:
    source = (
        "x = 1\n"
        "# First claim.\n"
        "assert x == 1, x\n"
        "# Second claim,\n"
        "# in two lines.\n"
        "for i in range(2):\n"
        "    # an indented comment does not split\n"
        "    assert i < 2\n"
        "y = 2  # nor does a trailing one\n"
        "# Not a claim.\n"
        "z = 3\n"
    )
    groups = repro.code_groups(source)
    assert [(group.label, group.is_claim) for group in groups] == [
        ("", False),
        ("First claim.", True),
        ("Second claim, in two lines.", True),
        ("Not a claim.", False),
    ]
    assert groups[2].code.endswith("y = 2  # nor does a trailing one")


def test_repeated_claim_labels_are_numbered() -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("# Same.\nassert True\n# Same.\nassert 1\n")]
    assert repro.claim_labels(notebook) == ["Same.", "Same. (2)"]


def test_glue_names_ignore_magics_and_computed_names() -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("%matplotlib inline\na = glue('alpha', 1)\nrt.glue('beta', 2)\nglue(name, 3)"),
        nbformat.v4.new_markdown_cell("glue('not_code', 4)"),
    ]
    assert repro.glue_names(notebook) == ["alpha", "beta"]


# ---------------------------------------------------------------- running a chapter (a small one)


def _write_notebook(path: Path, check_cell: str, extra: str = "") -> Path:
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell("SEED = 0")
    parameters.metadata["tags"] = ["parameters"]
    raises = nbformat.v4.new_code_cell("1 / 0")
    raises.metadata["tags"] = ["raises-exception"]
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# A tiny chapter"),
        parameters,
        nbformat.v4.new_code_cell(f"from companion.runtime import glue\ndoubled = glue('doubled', SEED * 2)\n{extra}"),
        raises,
        nbformat.v4.new_code_cell(check_cell),
    ]
    nbformat.write(notebook, path)
    return path


def test_run_chapter_records_every_claim_and_every_glued_value(tmp_path: Path) -> None:
    checks = (
        "# Holds on every seed.\n"
        "assert doubled == 2 * SEED\n"
        "# Holds on even seeds only.\n"
        "assert SEED % 2 == 0, f'odd seed {SEED}'\n"
        "# Still checked after a failure.\n"
        "assert doubled >= 0\n"
    )
    path = _write_notebook(tmp_path / "99_tiny.ipynb", checks)
    run = repro.run_chapter(path, seed=3)
    assert run.glued == {"doubled": 6}
    assert [(claim.held, claim.detail) for claim in run.claims] == [
        (True, ""),
        (False, "AssertionError: odd seed 3"),
        (True, ""),
    ]
    assert run.errors == [] and not run.ok  # the raises-exception cell is not an error
    assert repro.run_chapter(path, seed=4).ok


def test_run_chapter_reports_an_error_outside_the_claims(tmp_path: Path) -> None:
    path = _write_notebook(
        tmp_path / "98_broken.ipynb", "# Needs the broken cell.\nassert doubled == 0\n", "raise RuntimeError('boom')"
    )
    run = repro.run_chapter(path, seed=0)
    assert run.errors == ["code cell 1: RuntimeError: boom"]
    assert not run.ok


def test_run_chapter_rejects_a_bad_seed(tmp_path: Path) -> None:
    path = _write_notebook(tmp_path / "97_tiny.ipynb", "assert True\n")
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        repro.run_chapter(path, seed=-1)


# ---------------------------------------------------------------- rendering


def _fake_section(held_by_seed: list[bool]) -> dict:
    runs = {
        str(seed): {
            "chapter": "01_gradient_step.ipynb",
            "seed": seed,
            "seconds": 10.0 + seed,
            "glued": {"loss": float(seed), "steps": 100 * seed},
            "claims": [{"label": "It works.", "held": held, "detail": "" if held else "AssertionError: no"}],
            "errors": [],
        }
        for seed, held in enumerate(held_by_seed)
    }
    environment = {
        "device_name": "test CPU",
        "cpu_cores": 2,
        "python": "3.11",
        "torch": "2",
        "tensorflow": "2",
        "commit": "abc",
        "date": "2026-01-01",
    }
    return {
        "cpu": {
            "chapters": {"01_gradient_step.ipynb": {"title": "One step", "environment": environment, "runs": runs}},
            "last_run": {
                "chapters": ["01_gradient_step.ipynb"],
                "seeds": list(range(len(held_by_seed))),
                "jobs": 2,
                "threads_per_job": 1,
                "wall_seconds": 120.0,
            },
        }
    }


def test_render_shows_values_with_their_spread_and_each_claim_per_seed() -> None:
    page = repro.render(_fake_section([True, True, False, True, True]))
    assert "| `loss` | 0 | 2 | 4 | 0 | 1 | 2 | 3 | 4 |" in page
    assert "| `steps` | 0 | 200 | 400 | 0 | 100 | 200 | 300 | 400 |" in page
    assert "| *run time, s* | 10 | 12 | 14 | 10 | 11 | 12 | 13 | 14 |" in page
    assert "| It works. | ✓ | ✓ | ✗ | ✓ | ✓ | 4/5 |" in page
    assert "- SEED 2, *It works.*: `AssertionError: no`" in page
    assert "Not run yet: no NVIDIA GPU" in page


def test_render_flags_a_claim_below_four_of_five() -> None:
    results = _fake_section([True, False, False, True, True])
    assert "**3/5, below 4 of 5**" in repro.render(results)
    gpu = copy.deepcopy(results)
    gpu["cuda"] = gpu["cpu"]
    assert "## On an NVIDIA GPU\n\nDevice: test CPU" in repro.render(gpu)


def test_render_refuses_empty_results() -> None:
    with pytest.raises(ValueError, match="make verify"):
        repro.render({})
