"""Showing an error on purpose: the article's broken code, run as printed.

A cell that raises stops "Run all" in every notebook front end. JupyterLab and
the book's build skip over cells tagged ``raises-exception``, but Colab ignores
cell tags, so there the rest of the chapter would never run. ``expect_error``
runs its block, prints the traceback exactly as Python would have (so the page
and the reader still see the error), and lets the notebook go on; a block that
raises nothing is itself an error, so the prose around it cannot go stale.
"""

from __future__ import annotations

import sys
import traceback
from types import TracebackType


class expect_error:  # noqa: N801 (used like a function: `with expect_error(AttributeError):`)
    """Context manager: the block must raise one of `expected`; its traceback is printed, then
    execution goes on.

    Another exception type propagates unchanged; no exception at all raises AssertionError.
    The caught exception is kept in ``.error`` for the cells that follow.
    """

    def __init__(self, *expected: type[BaseException]) -> None:
        if not expected:
            raise TypeError(
                "expect_error needs at least one exception type, e.g. expect_error(AttributeError)"
            )
        for kind in expected:
            if not (isinstance(kind, type) and issubclass(kind, BaseException)):
                raise TypeError(f"expect_error takes exception classes, got {kind!r}")
        self.expected = expected
        self.error: BaseException | None = None

    def __enter__(self) -> expect_error:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        names = " or ".join(kind.__name__ for kind in self.expected)
        if exc is None:
            raise AssertionError(
                f"the block was expected to raise {names}, but it ran without an error"
            )
        if not isinstance(exc, self.expected):
            return False
        self.error = exc
        # stdout, not stderr: the book treats stderr as noise; this output is the lesson.
        traceback.print_exception(exc_type, exc, tb, file=sys.stdout)
        sys.stdout.flush()
        return True
