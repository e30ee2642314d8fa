"""`companion.expect_error`: shows an expected error as Python would; the notebook goes on."""

from __future__ import annotations

import pytest

from companion import expect_error


def test_prints_the_traceback_to_stdout_and_goes_on(capsys: pytest.CaptureFixture[str]) -> None:
    with expect_error(AttributeError) as shown:
        object().no_such_attribute  # noqa: B018
    out, err = capsys.readouterr()
    assert out.startswith("Traceback (most recent call last):")
    assert "object().no_such_attribute" in out  # the line that failed, as Python prints it
    assert out.rstrip().endswith(
        "AttributeError: 'object' object has no attribute 'no_such_attribute'"
    )
    # The first frame is the caller's block, not this library.
    assert "companion" not in out.split("\n")[1]
    assert err == ""
    assert isinstance(shown.error, AttributeError)


def test_any_of_several_types() -> None:
    with expect_error(KeyError, ValueError) as shown:
        int("not a number")
    assert isinstance(shown.error, ValueError)


def test_a_block_that_does_not_raise_is_an_error() -> None:
    with pytest.raises(
        AssertionError, match="expected to raise AttributeError, but it ran without an error"
    ):
        with expect_error(AttributeError):
            pass


def test_another_exception_type_propagates() -> None:
    with pytest.raises(ZeroDivisionError):
        with expect_error(AttributeError):
            1 / 0  # noqa: B018


@pytest.mark.parametrize("bad", [(), ("AttributeError",), (AttributeError, 3), (int,)])
def test_bad_arguments(bad: tuple) -> None:
    with pytest.raises(TypeError, match="exception"):
        expect_error(*bad)
