"""Unit tests of `companion.data.load_digits_split`: scikit-learn's bundled digits, split by class."""

from __future__ import annotations

import numpy as np
import pytest

from companion.data import Digits, load_digits_split


@pytest.fixture(scope="module")
def digits() -> Digits:
    return load_digits_split()


def test_shapes_dtypes_and_range(digits: Digits) -> None:
    assert digits.X_train.shape == (1438, 64) and digits.X_test.shape == (359, 64)
    assert digits.y_train.shape == (1438,) and digits.y_test.shape == (359,)
    assert digits.X_train.dtype == np.float32 and digits.y_train.dtype == np.int64
    both = np.concatenate([digits.X_train, digits.X_test])
    assert both.min() == 0.0 and both.max() == 1.0
    assert digits.class_names == tuple("0123456789") and digits.image_shape == (8, 8)
    assert "1438 train / 359 test" in repr(digits)


def test_split_is_stratified_and_disjoint(digits: Digits) -> None:
    train_share = np.bincount(digits.y_train) / len(digits.y_train)
    test_share = np.bincount(digits.y_test) / len(digits.y_test)
    assert np.abs(train_share - test_share).max() < 0.01
    train_rows = {row.tobytes() for row in digits.X_train}
    test_rows = {row.tobytes() for row in digits.X_test}
    assert len(train_rows | test_rows) > 0.99 * 1797  # the set has a few duplicate images, not a shared split


def test_seed_fixes_the_split() -> None:
    a, b, c = load_digits_split(seed=1), load_digits_split(seed=1), load_digits_split(seed=2)
    np.testing.assert_array_equal(a.X_test, b.X_test)
    assert not np.array_equal(a.X_test, c.X_test)


def test_test_fraction() -> None:
    assert len(load_digits_split(test_fraction=0.5).y_test) == round(0.5 * 1797)


@pytest.mark.parametrize("bad", [0, 0.0, 1.0, -0.1, 1.5, 0.001])
def test_bad_test_fraction_is_a_value_error(bad: float) -> None:
    with pytest.raises(ValueError, match="test_fraction"):
        load_digits_split(test_fraction=bad)


@pytest.mark.parametrize("bad", ["0.2", None, True])
def test_non_numeric_test_fraction_is_a_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match="test_fraction"):
        load_digits_split(test_fraction=bad)  # type: ignore[arg-type]


def test_bad_seed() -> None:
    with pytest.raises(ValueError, match="seed"):
        load_digits_split(seed=-1)
    with pytest.raises(TypeError, match="seed"):
        load_digits_split(seed=1.5)  # type: ignore[arg-type]
