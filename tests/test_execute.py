"""The executions the book build reuses: tools/execute.py (make book) and tests/nbval_record.py
(make test), each storing executed notebooks in the execution cache myst-nb reads.

A small notebook with what the chapters' outputs contain (streams, a cleared output, a glued
value, a figure, a widget and an Output widget that captures a print) is executed both ways; what
nbval's recorder stores must be what myst-nb's own execution makes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_cache import get_cache
from jupyter_cache.executors.utils import single_nb_execution

import tools.execute as execute

CELLS = [
    "import ipywidgets as widgets\nfrom IPython.display import clear_output\nprint('hello')",
    "print('shown, then cleared')\nclear_output()\nprint('after the clear')",
    "from myst_nb import glue\n\nglue('answer', 42)",
    "import matplotlib.pyplot as plt\n\nplt.plot([1, 3, 2])\nplt.title('A line')\nplt.show()",
    "slider = widgets.IntSlider(value=3, description='n')\nslider",
    "out = widgets.Output()\nwith out:\n    print('inside the output widget')\nout",
    "1 + 1",
]


def notebook(cells: list[str]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in cells])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tools.execute's cache, moved into tmp_path."""
    monkeypatch.setattr(execute, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(execute, "CACHE_LOCK", tmp_path / "cache.lock")
    return tmp_path / "cache"


def cached(cache: Path, path: Path) -> nbformat.NotebookNode:
    store = get_cache(str(cache))
    record = store.match_cache_notebook(nbformat.read(path, as_version=4))
    return store.get_cache_bundle(record.pk).nb


def comparable(nb: nbformat.NotebookNode) -> dict[str, Any]:
    """Outputs and widget state, without what differs between two runs (widget ids)."""

    def rename(text: str) -> str:
        return re.sub(r"[0-9a-f]{32}", "MODEL_ID", text)

    cells = [
        (cell.execution_count, rename(json.dumps(cell.outputs, sort_keys=True)))
        for cell in nb.cells
    ]
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    models = sorted(
        rename(json.dumps(model["state"], sort_keys=True))
        for model in state.get("state", {}).values()
    )
    return {"cells": cells, "models": models, "language": nb.metadata.get("language_info")}


def test_nbval_run_is_stored_as_myst_nb_would_execute_it(
    pytester: pytest.Pytester, cache: Path
) -> None:
    path = pytester.path / "small.ipynb"
    nbformat.write(notebook(CELLS), path)
    result = pytester.runpytest_inprocess(
        "-p", "nbval", "-p", "nbval_record", "--nbval-lax", "--nbval-current-env", str(path)
    )
    result.assert_outcomes(passed=len(CELLS))
    recorded = cached(cache, path)

    reference = notebook(CELLS)
    single_nb_execution(reference, cwd=str(pytester.path), timeout=60, allow_errors=False)
    assert comparable(recorded) == comparable(reference)
    # The cases this notebook is for: the cleared print is gone, the Output widget kept its print.
    outputs = json.dumps([cell.outputs for cell in recorded.cells])
    assert "shown, then cleared" not in outputs and "after the clear" in outputs
    assert "inside the output widget" in str(recorded.metadata["widgets"])


def test_a_run_with_a_failing_cell_stores_nothing(pytester: pytest.Pytester, cache: Path) -> None:
    path = pytester.path / "failing.ipynb"
    nbformat.write(notebook(["x = 1", "raise ValueError('a chapter bug')", "x"]), path)
    result = pytester.runpytest_inprocess(
        "-p", "nbval", "-p", "nbval_record", "--nbval-lax", "--nbval-current-env", str(path)
    )
    result.assert_outcomes(passed=2, failed=1)
    with pytest.raises(KeyError):
        cached(cache, path)


def test_execute_stale_runs_only_what_the_cache_lacks(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    good, bad = tmp_path / "01_good.ipynb", tmp_path / "02_bad.ipynb"
    nbformat.write(notebook(["print('ran')"]), good)
    nbformat.write(notebook(["raise RuntimeError('broken chapter')"]), bad)
    monkeypatch.setattr(execute, "chapters", lambda: [bad, good])

    assert execute.execute_stale(jobs=2) == 1
    out = capsys.readouterr().out
    assert "02_bad.ipynb: FAILED" in out and "broken chapter" in out
    assert execute.is_cached(good) and not execute.is_cached(bad)
    assert cached(cache, good).cells[0].outputs[0].text == "ran\n"

    monkeypatch.setattr(execute, "chapters", lambda: [good])
    assert execute.execute_stale(jobs=2) == 0
    assert "Every chapter's execution is in the cache." in capsys.readouterr().out


def test_the_chapters_run_longest_first() -> None:
    names = [path.name for path in execute.chapters()]
    assert names[:2] == ["06_gans.ipynb", "05_dqn.ipynb"] and names[-1] == "01_gradient_step.ipynb"
