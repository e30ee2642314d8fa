"""nbval's execution of each chapter, kept for the book build: one execution per `make test`.

nbval runs every chapter as a test: one pytest item per code cell, all in one kernel, each failing
on an error. It reads each cell's messages from the kernel and keeps only what it compares. This
recorder is handed the same messages and passes them to nbclient's message handling, the code
that executes notebooks for myst-nb and jupyter-cache, which turns them into the cell's outputs
and the page's widget state (the explorers' frames, the live panels' models) as a build's own
execution would. When every cell of a chapter has passed, the executed notebook goes into the
book's execution cache (`tools.execute.store_executed`); the book build that `make test` runs
next finds it there and does not execute the chapter a second time.

A pytest plugin, loaded for every run by `-p nbval_record` in pyproject.toml's addopts (a
conftest.py in tests/ would not see the cells of book/*.ipynb). Its `pytest_configure` wraps three
methods of nbval's notebook collector, and `pytest_runtest_call` brackets each cell. It also puts
the chapters first, longest first, and gives each chapter's kernel its share of the cores when
pytest-xdist runs chapters side by side.
"""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path
from typing import Any

import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionComplete
from nbval.plugin import IPyNbCell, IPyNbFile

from tools.execute import chapters, store_executed
from tools.verify.run import limit_threads, threads_per_job

KERNEL_INFO_TIMEOUT_S = 30
_installed = False


class Recorder:
    """The executed copy of one notebook, built from the kernel messages nbval reads."""

    def __init__(self, nbfile: IPyNbFile) -> None:
        self.path = Path(str(nbfile.fspath))
        self.source = nbfile.nb
        self.notebook = copy.deepcopy(nbfile.nb)
        # The client is never started: it only interprets messages. Timing stays off, as in
        # myst-nb's execution, because cell metadata is part of the cache's hash.
        self.client = NotebookClient(self.notebook, record_timing=False)
        # nbclient's stand-in for an Output widget answers the kernel on its shell channel.
        self.client.kc = nbfile.kernel.kc
        self.kernel_client = nbfile.kernel.kc
        self.started = time.perf_counter()
        self.msg_id: str | None = None
        self.cell_index: int | None = None
        self.passed: set[int] = set()
        self.failed = False
        self.execution_count = 0

    def start_cell(self, item: IPyNbCell) -> None:
        self.cell_index = next(i for i, cell in enumerate(self.source.cells) if cell is item.cell)
        self.msg_id = None
        self.notebook.cells[self.cell_index].outputs = []
        self.client.clear_before_next_output = False

    def sent(self, msg_id: str) -> None:
        self.msg_id = msg_id

    def observe(self, msg: dict[str, Any]) -> None:
        if self.msg_id is None or msg["parent_header"].get("msg_id") != self.msg_id:
            return
        cell = self.notebook.cells[self.cell_index]
        try:
            self.client.process_message(msg, cell, self.cell_index)
        except CellExecutionComplete:
            pass

    def end_cell(self, passed: bool) -> None:
        if passed:
            self.passed.add(self.cell_index)
        else:
            self.failed = True
        cell = self.notebook.cells[self.cell_index]
        # nbval executes without storing history, so the kernel does not count its cells; number
        # them as nbclient's execution would (an empty cell is not executed there).
        if cell.source.strip():
            self.execution_count += 1
            cell.execution_count = self.execution_count
            for output in cell.outputs:
                if output.output_type == "execute_result":
                    output.execution_count = self.execution_count
        else:
            cell.execution_count = None
            cell.outputs = []
        self.msg_id = self.cell_index = None

    def complete(self) -> bool:
        code = {i for i, cell in enumerate(self.source.cells) if cell.cell_type == "code"}
        return not self.failed and self.passed == code

    def language_info(self) -> dict[str, Any]:
        # What nbclient asks the kernel before it executes a notebook (myst-nb's code highlighting
        # reads it).
        msg_id = self.kernel_client.kernel_info()
        deadline = time.monotonic() + KERNEL_INFO_TIMEOUT_S
        while time.monotonic() < deadline:
            reply = self.kernel_client.get_shell_msg(timeout=KERNEL_INFO_TIMEOUT_S)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"]["language_info"]
        raise TimeoutError(f"the kernel did not answer kernel_info in {KERNEL_INFO_TIMEOUT_S} s")

    def store(self) -> None:
        """Put the executed notebook into the cache, if nbval ran and passed every cell."""
        if not self.complete():
            return
        self.notebook.metadata["language_info"] = self.language_info()
        self.client.set_widgets_metadata()
        store_executed(self.notebook, self.path, time.perf_counter() - self.started)


def pytest_configure(config: pytest.Config) -> None:
    install()
    # Under pytest-xdist (`make test`) chapters run side by side, one per worker: each kernel gets
    # its share of the cores, as under `make verify` and tools/execute.py.
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers:
        limit_threads(threads_per_job(int(workers)))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The chapters first, longest first (`tools.execute.chapters`), then every other test.

    For pytest-xdist's `--dist loadfile --no-loadscope-reorder`, which hands out whole files in
    this order: the two longest chapters start at once on two workers, and the short test files
    fill in at the end.
    """
    rank = {path.name: i for i, path in enumerate(chapters())}

    def order(item: pytest.Item) -> int:
        if isinstance(item, IPyNbCell):
            return rank.get(item.path.name, len(rank))
        return len(rank) + 1

    # sorted() is stable: the cells and tests of one file keep their order.
    items[:] = sorted(items, key=order)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Tell the notebook's recorder which cell runs, and whether it passed."""
    recorder = getattr(item.parent, "recorder", None) if isinstance(item, IPyNbCell) else None
    if recorder is not None:
        recorder.start_cell(item)
    outcome = yield
    if recorder is not None:
        recorder.end_cell(passed=outcome.excinfo is None)


def install() -> None:
    """Wrap nbval's collector: make a Recorder when its kernel starts, tee the cell's message id
    and every message it reads, and store the notebook before the kernel stops."""
    global _installed
    if _installed:
        return
    _installed = True
    setup, get_kernel_message, teardown = (
        IPyNbFile.setup,
        IPyNbFile.get_kernel_message,
        IPyNbFile.teardown,
    )

    def recording_setup(self: IPyNbFile) -> None:
        setup(self)
        recorder = self.recorder = Recorder(self)
        execute_cell_input = self.kernel.execute_cell_input

        def execute_and_note(cell_input: str, allow_stdin: bool | None = None) -> str:
            msg_id = execute_cell_input(cell_input, allow_stdin=allow_stdin)
            recorder.sent(msg_id)
            return msg_id

        self.kernel.execute_cell_input = execute_and_note

    def recording_get_kernel_message(
        self: IPyNbFile, timeout: float | None = None, stream: str = "iopub"
    ) -> dict[str, Any]:
        msg = get_kernel_message(self, timeout=timeout, stream=stream)
        recorder = getattr(self, "recorder", None)
        if recorder is not None and stream == "iopub":
            recorder.observe(msg)
        return msg

    def storing_teardown(self: IPyNbFile) -> None:
        recorder = getattr(self, "recorder", None)
        try:
            if recorder is not None and self.kernel is not None and self.kernel.is_alive():
                recorder.store()
        finally:
            self.recorder = None
            teardown(self)

    IPyNbFile.setup = recording_setup
    IPyNbFile.get_kernel_message = recording_get_kernel_message
    IPyNbFile.teardown = storing_teardown
