"""Notebook hygiene: how every chapter is stored and how it starts.

nbval executes the notebooks; these tests check what execution cannot: that they
are stored clean, start the same way, and cite only numbers they compute.
"""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path

import pytest
import yaml
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))

# The standard setup cell, identical in every chapter. It follows the `parameters`
# cell (papermill injects overrides right after that cell, so SEED must be set before
# `companion.setup(seed=SEED)` runs).
STANDARD_SETUP_CELL = """\
# Standard setup (identical in every chapter). On Colab, install companion first.
import sys

if "google.colab" in sys.modules:
    import subprocess

    COMPANION = "companion @ git+REPOSITORY_URL"
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", COMPANION],
        capture_output=True,
        text=True,
    )
    if pip.returncode != 0:
        raise RuntimeError(f"Could not install {COMPANION}; pip said:\\n{pip.stderr}")

import companion
from companion import glue

rt = companion.setup(seed=SEED)"""


def repository_url() -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return config["repository"]["url"]


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(notebook: dict) -> list[dict]:
    return [c for c in notebook["cells"] if c["cell_type"] == "code"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def python_of(cell: dict) -> ast.Module:
    """The cell's code as Python (IPython magics such as %pip turned into calls)."""
    return ast.parse(TransformerManager().transform_cell(source(cell)))


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "book/ has no notebooks"


def toc_files(node: object) -> set[str]:
    """Every `file:` entry of the table of contents, at any depth."""
    if isinstance(node, dict):
        found = {node["file"]} if "file" in node else set()
        return found.union(*(toc_files(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(toc_files(item) for item in node))
    return set()


def test_every_notebook_is_in_the_table_of_contents_and_back() -> None:
    listed = toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text()))
    for path in NOTEBOOKS:
        assert f"book/{path.stem}" in listed, f"{path.name} is not in _toc.yml"
    for entry in listed:
        candidates = [ROOT / f"{entry}{ext}" for ext in ("", ".ipynb", ".md")]
        assert any(c.is_file() for c in candidates), f"_toc.yml lists {entry}, which does not exist"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
class TestNotebook:
    def test_stored_without_outputs(self, path: Path) -> None:
        for i, cell in enumerate(code_cells(load(path))):
            assert cell["outputs"] == [], f"code cell {i} of {path.name} has stored outputs"
            assert cell["execution_count"] is None, (
                f"code cell {i} of {path.name} has an execution count"
            )

    def test_starts_with_parameters_then_the_standard_setup_cell(self, path: Path) -> None:
        cells = code_cells(load(path))
        assert len(cells) >= 2, f"{path.name} has fewer than two code cells"
        parameters, setup = cells[0], cells[1]
        assert "parameters" in tags(parameters), (
            f"the first code cell of {path.name} must be tagged 'parameters'"
        )
        seeds = [
            node
            for node in python_of(parameters).body
            if isinstance(node, ast.Assign)
            and any(getattr(t, "id", None) == "SEED" for t in node.targets)
        ]
        assert len(seeds) == 1, f"the parameters cell of {path.name} must assign SEED exactly once"
        assert isinstance(seeds[0].value, ast.Constant) and isinstance(seeds[0].value.value, int)
        expected = STANDARD_SETUP_CELL.replace("REPOSITORY_URL", repository_url())
        assert source(setup) == expected, (
            f"the second code cell of {path.name} must be the standard setup cell, "
            f"exactly:\n{expected}"
        )

    def test_no_absolute_paths_and_no_urls_in_code(self, path: Path) -> None:
        # The setup cell holds the Colab URL.
        for i, cell in enumerate(code_cells(load(path))[2:], start=2):
            for node in ast.walk(python_of(cell)):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    text = node.value
                    assert not re.search(r"\b(https?|ftp)://", text), (
                        f"code cell {i} of {path.name} has a URL: {text!r}"
                    )
                    looks_absolute = os.path.isabs(text) and "/" in text[1:] and "\n" not in text
                    assert not looks_absolute, (
                        f"code cell {i} of {path.name} has an absolute path: {text!r}"
                    )

    def test_no_code_pasted_into_markdown(self, path: Path) -> None:
        for i, cell in enumerate(load(path)["cells"]):
            if cell["cell_type"] == "markdown":
                assert not re.search(r"^```\s*(python|py|ipython)", source(cell), re.M), (
                    f"markdown cell {i} of {path.name} has fenced Python: show code by running it"
                )

    def test_has_checks_and_references(self, path: Path) -> None:
        notebook = load(path)
        asserts = [c for c in code_cells(notebook) if re.search(r"^assert ", source(c), re.M)]
        assert asserts, f"{path.name} has no assert cell: its claims are not checked"
        markdown = "".join(source(c) for c in notebook["cells"] if c["cell_type"] == "markdown")
        assert "{bibliography}" in markdown, f"{path.name} has no bibliography"

    def test_no_cell_is_meant_to_raise(self, path: Path) -> None:
        # Colab ignores cell tags: a cell that raises stops its "Run all" there, whatever its tags
        # say. Code that must fail runs inside `with companion.expect_error(...)`, which shows the
        # error and goes on.
        for i, cell in enumerate(code_cells(load(path))):
            assert "raises-exception" not in tags(cell), (
                f"code cell {i} of {path.name} is tagged raises-exception; "
                "use `with companion.expect_error(...)`"
            )

    def test_kernel_is_python3(self, path: Path) -> None:
        assert load(path)["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_has_a_collapsed_hint_or_answer(path: Path) -> None:
    """Each numbered exercise is followed, before the next one, by a `dropdown` (collapsed in the
    book, a <details> block in the readers' copies) with a hint or a short answer."""
    markdown = "\n".join(
        source(cell) for cell in load(path)["cells"] if cell["cell_type"] == "markdown"
    )
    match = re.search(r"^## Exercises\n(?P<body>.*?)(?=^## )", markdown, re.M | re.S)
    assert match, f"{path.name} has no '## Exercises' section followed by another section"
    exercises = re.split(r"^\d+\. ", match["body"], flags=re.M)[1:]
    assert exercises, f"{path.name}: the Exercises section has no numbered exercises"
    for number, exercise in enumerate(exercises, start=1):
        assert re.search(r"^ *:::\{dropdown\} \S", exercise, re.M), (
            f"{path.name}, exercise {number}: no `:::{{dropdown}} Hint` (or Answer) block"
        )
