"""book/_ext/book_status.py: the guard on chapter run times and the build-environment table."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from sphinx.errors import ExtensionError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))
import book_status  # noqa: E402


def env_with(runs: dict[str, dict | None]) -> SimpleNamespace:
    """A stand-in for Sphinx's environment: the docs found and myst-nb's execution records."""
    metadata = {
        name: ({"exec_data": data} if data is not None else {}) for name, data in runs.items()
    }
    return SimpleNamespace(found_docs={*runs, "book/intro", "book/status"}, nb_metadata=metadata)


def record(runtime: float | None, succeeded: bool = True) -> dict:
    return {
        "mtime": 0.0,
        "runtime": runtime,
        "method": "cache",
        "succeeded": succeeded,
        "error": None,
    }


def test_chapters_that_ran_pass() -> None:
    book_status.check_chapter_runs(
        None, env_with({"book/01_a": record(14.8), "book/02_b": record(1.0)})
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (record(0.3), "under 1.0 s"),
        (record(None), "under 1.0 s"),
        (record(20.0, succeeded=False), "execution failed"),
        (None, "no execution record"),
    ],
)
def test_a_chapter_that_did_not_really_run_fails_the_build(data: dict | None, message: str) -> None:
    with pytest.raises(ExtensionError, match=rf"book/02_b: .*{message}"):
        book_status.check_chapter_runs(
            None, env_with({"book/01_a": record(14.8), "book/02_b": data})
        )


def test_pages_that_are_not_chapters_are_not_checked() -> None:
    book_status.check_chapter_runs(None, env_with({}))  # intro and status have no execution record


def test_build_environment_names_the_packages_and_the_device(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOOK_DEVICE", "cpu")
    rows = dict(book_status.build_environment())
    assert rows["device the chapters ran on"] == "cpu"
    assert (
        rows["torch"][0].isdigit()
        and rows["Python"].count(".") == 2
        and int(rows["CPU cores"]) >= 1
    )
