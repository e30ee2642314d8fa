"""Unit tests of `companion.data.load_digits_split`: the bundled digits, split by class."""

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
    # The set has a few duplicate images, not a shared split.
    assert len(train_rows | test_rows) > 0.99 * 1797


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
    with pytest.raises(ValueError, match=r"^seed must be an integer >= 0, got -1"):
        load_digits_split(seed=-1)
    with pytest.raises(TypeError, match=r"^seed must be an integer >= 0, got float 1.5"):
        load_digits_split(seed=1.5)  # type: ignore[arg-type]


# ---------------------------------------------------------------- scaling


@pytest.fixture(scope="module")
def standard() -> Digits:
    return load_digits_split(scaling="standard")


def test_unit_scaling_is_the_default(digits: Digits) -> None:
    assert digits.scaling == "unit"
    np.testing.assert_array_equal(load_digits_split(scaling="unit").X_train, digits.X_train)


def test_both_scalings_share_the_split(digits: Digits, standard: Digits) -> None:
    np.testing.assert_array_equal(standard.y_train, digits.y_train)
    np.testing.assert_array_equal(standard.y_test, digits.y_test)
    assert standard.X_train.shape == digits.X_train.shape
    assert standard.X_train.dtype == np.float32 and standard.scaling == "standard"
    assert "standard scaling" in repr(standard)


def test_standard_scaling_uses_the_training_split_statistics_only(
    digits: Digits, standard: Digits
) -> None:
    mean = digits.X_train.mean(axis=0, dtype=np.float64)
    std = digits.X_train.std(axis=0, dtype=np.float64)
    varying = std > 0
    # Some border pixels are blank in every training image; the rest must be z-scored.
    assert 0 < (~varying).sum() < 10
    np.testing.assert_allclose(standard.X_train.mean(axis=0)[varying], 0.0, atol=1e-5)
    np.testing.assert_allclose(standard.X_train.std(axis=0)[varying], 1.0, rtol=1e-4)
    np.testing.assert_array_equal(standard.X_train[:, ~varying], 0.0)
    # The test split is scaled with the training statistics, not its own.
    expected = (digits.X_test[:, varying] - mean[varying]) / std[varying]
    np.testing.assert_allclose(standard.X_test[:, varying], expected, rtol=1e-4, atol=1e-4)
    test_std = (digits.X_test[:, varying] - mean[varying]).std(axis=0) / std[varying]
    assert not np.allclose(standard.X_test[:, varying].std(axis=0), 1.0, rtol=1e-3)
    np.testing.assert_allclose(
        standard.X_test[:, varying].std(axis=0), test_std, rtol=1e-4, atol=1e-6
    )


def test_standard_scaling_keeps_the_images_apart(digits: Digits, standard: Digits) -> None:
    """z-scoring is an affine map per pixel: it must not change which pixels differ."""
    i, j = 0, int(np.flatnonzero(digits.y_train != digits.y_train[0])[0])
    changed = digits.X_train[i] != digits.X_train[j]
    varying = digits.X_train.std(axis=0) > 0
    np.testing.assert_array_equal(
        (standard.X_train[i] != standard.X_train[j])[varying], changed[varying]
    )


def test_an_unknown_scaling_is_a_value_error_listing_the_choices() -> None:
    with pytest.raises(
        ValueError, match=r"^scaling must be one of 'unit', 'standard', got 'minmax'"
    ):
        load_digits_split(scaling="minmax")


def test_a_scaling_that_is_not_a_string_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"^scaling must be one of 'unit', 'standard'"):
        load_digits_split(scaling=None)  # type: ignore[arg-type]
