"""Unit tests of `companion.data`: the bundled Ames table and its train/test split."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from companion import data
from companion.data import HOUSE_FEATURES, HousePrices, load_ames, load_house_prices


@pytest.fixture(scope="module")
def ames() -> pd.DataFrame:
    return load_ames()


@pytest.fixture(scope="module")
def houses() -> HousePrices:
    return load_house_prices()


def _rows(X: np.ndarray, y: np.ndarray) -> Counter:
    """The multiset of (features..., target) rows: the table has a few identical rows."""
    return Counter(map(tuple, np.column_stack([X, y]).tolist()))


def test_ames_table_is_the_whole_bundled_table(ames: pd.DataFrame) -> None:
    assert ames.shape == (2930, 82)
    assert {"area", "price", *HOUSE_FEATURES} <= set(ames.columns)


def test_default_split_shapes_and_dtypes(houses: HousePrices) -> None:
    n_train, n_test = len(houses.y_train), len(houses.y_test)
    assert houses.X_train.shape == (n_train, 8) and houses.y_train.shape == (n_train,)
    assert houses.X_test.shape == (n_test, 8) and houses.y_test.shape == (n_test,)
    for array in (houses.X_train, houses.X_test, houses.y_train, houses.y_test):
        assert array.dtype == np.float64
        assert not np.isnan(array).any()
    assert houses.feature_names == HOUSE_FEATURES
    assert houses.target_name == "log(price)"


def test_default_target_is_the_log_price(houses: HousePrices, ames: pd.DataFrame) -> None:
    y = np.concatenate([houses.y_train, houses.y_test])
    assert 9.0 < y.min() and y.max() < 14.0  # log of $12,789 ... $755,000
    assert np.isclose(np.exp(y).min(), ames["price"].min())


def test_split_is_a_partition_of_the_filtered_table(
    houses: HousePrices, ames: pd.DataFrame
) -> None:
    kept = ames[ames["area"] <= 4000][list(HOUSE_FEATURES) + ["price"]].dropna()
    expected = _rows(
        kept[list(HOUSE_FEATURES)].to_numpy(float), np.log(kept["price"].to_numpy(float))
    )
    train = _rows(houses.X_train, houses.y_train)
    test = _rows(houses.X_test, houses.y_test)
    # Every row of the table lands in exactly one split (identical rows count separately).
    assert train + test == expected
    assert len(houses.y_train) + len(houses.y_test) == len(kept)


@pytest.mark.parametrize("test_fraction", [0.2, 0.5, 0.1])
def test_test_size_matches_test_fraction(test_fraction: float) -> None:
    split = load_house_prices(test_fraction=test_fraction)
    n = len(split.y_train) + len(split.y_test)
    assert len(split.y_test) == round(test_fraction * n)


def test_same_seed_gives_the_same_split(houses: HousePrices) -> None:
    again = load_house_prices(seed=0)
    np.testing.assert_array_equal(again.X_train, houses.X_train)
    np.testing.assert_array_equal(again.y_test, houses.y_test)


def test_another_seed_gives_another_split(houses: HousePrices) -> None:
    other = load_house_prices(seed=1)
    assert other.y_test.shape == houses.y_test.shape
    assert not np.array_equal(other.y_test, houses.y_test)
    assert _rows(other.X_test, other.y_test) != _rows(houses.X_test, houses.y_test)


def test_feature_statistics_come_from_the_training_split_only(houses: HousePrices) -> None:
    np.testing.assert_allclose(houses.feature_mean, houses.X_train.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(houses.feature_std, houses.X_train.std(axis=0), rtol=1e-12)
    everything = np.vstack([houses.X_train, houses.X_test])
    assert not np.allclose(houses.feature_mean, everything.mean(axis=0), rtol=1e-9, atol=0)


def test_standardize_uses_the_training_statistics(houses: HousePrices) -> None:
    Z = houses.standardize(houses.X_train)
    assert Z.shape == houses.X_train.shape
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-10)
    np.testing.assert_allclose(Z.std(axis=0), 1.0, rtol=1e-10)
    Z_test = houses.standardize(houses.X_test.tolist())  # any array-like
    np.testing.assert_allclose(Z_test, (houses.X_test - houses.feature_mean) / houses.feature_std)
    # Test rows keep the training statistics.
    assert not np.allclose(Z_test.mean(axis=0), 0.0, atol=1e-10)


@pytest.mark.parametrize("shape", [(4, 7), (4, 9), (8,), (2, 4, 8)])
def test_standardize_rejects_a_wrong_shape(houses: HousePrices, shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"X must have shape \(n, 8\)"):
        houses.standardize(np.zeros(shape))


def test_outliers_above_4000_square_feet_are_dropped_and_counted(
    houses: HousePrices, ames: pd.DataFrame
) -> None:
    num_large = int((ames["area"] > 4000).sum())
    assert num_large == 5
    assert houses.num_dropped_outliers == num_large
    assert max(houses.X_train[:, 0].max(), houses.X_test[:, 0].max()) <= 4000


def test_no_living_area_limit_keeps_the_large_houses(houses: HousePrices) -> None:
    everything = load_house_prices(max_living_area=None)
    assert everything.num_dropped_outliers == 0
    areas = np.concatenate([everything.X_train[:, 0], everything.X_test[:, 0]])
    assert (areas > 4000).sum() == 5
    assert len(areas) == len(houses.y_train) + len(houses.y_test) + 5


def test_a_lower_living_area_limit_counts_its_drops(ames: pd.DataFrame) -> None:
    split = load_house_prices(max_living_area=2500.0)
    assert split.num_dropped_outliers == int((ames["area"] > 2500).sum())


@pytest.mark.parametrize("limit", [0.0, -100.0])
def test_non_positive_living_area_limit_is_rejected(limit: float) -> None:
    with pytest.raises(ValueError, match=r"^max_living_area must be a finite number > 0, got"):
        load_house_prices(max_living_area=limit)


def test_rows_with_missing_values_are_dropped_and_counted(ames: pd.DataFrame) -> None:
    split = load_house_prices(features=["area", "Lot.Frontage"])
    kept = ames[ames["area"] <= 4000]
    expected_missing = int(kept["Lot.Frontage"].isna().sum())
    assert expected_missing > 400  # the premise: this column has many gaps
    assert split.num_dropped_missing == expected_missing
    assert len(split.y_train) + len(split.y_test) == len(kept) - expected_missing
    assert not np.isnan(split.X_train).any() and not np.isnan(split.X_test).any()
    assert split.feature_names == ("area", "Lot.Frontage")


def test_default_features_drop_the_rows_pandas_finds_incomplete(
    houses: HousePrices, ames: pd.DataFrame
) -> None:
    kept = ames[ames["area"] <= 4000]
    assert houses.num_dropped_missing == int(
        kept[list(HOUSE_FEATURES) + ["price"]].isna().any(axis=1).sum()
    )


def test_unknown_column_is_named_with_a_suggestion() -> None:
    with pytest.raises(
        ValueError, match=r"unknown column 'Overall\.Quality'.*did you mean.*'Overall\.Qual'"
    ):
        load_house_prices(features=("area", "Overall.Quality"))


def test_unknown_target_is_named() -> None:
    with pytest.raises(ValueError, match=r"unknown column 'SalePrice'"):
        load_house_prices(target="SalePrice")


def test_non_numeric_column_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"column 'Neighborhood' is not numeric"):
        load_house_prices(features=("area", "Neighborhood"))


@pytest.mark.parametrize("test_fraction", [0, 1, -0.1, 1.5, float("nan")])
def test_test_fraction_outside_the_open_unit_interval_is_rejected(test_fraction: float) -> None:
    with pytest.raises(
        ValueError, match=r"^test_fraction must be a finite number in \(0, 1\), got"
    ):
        load_house_prices(test_fraction=test_fraction)


def test_test_fraction_that_leaves_an_empty_split_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"test_fraction=1e-05 leaves an empty split"):
        load_house_prices(test_fraction=1e-5)


def test_features_as_a_single_string_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"features must be a sequence of column names.*'area'"):
        load_house_prices(features="area")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ((), r"features must name at least one column"),
        (("area", "Fireplaces", "area"), r"features has duplicates"),
        (("area", "price"), r"target 'price' is also listed in features"),
    ],
)
def test_bad_feature_lists_are_rejected(features: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_house_prices(features=features)


@pytest.mark.parametrize(("seed", "error"), [(-1, ValueError), (1.5, TypeError), (True, TypeError)])
def test_bad_seed_is_rejected_naming_seed(seed: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"^seed must be an integer >= 0, got"):
        load_house_prices(seed=seed)  # type: ignore[arg-type]


def test_log_target_false_gives_dollar_prices_on_the_same_split(houses: HousePrices) -> None:
    dollars = load_house_prices(log_target=False)
    assert dollars.target_name == "price"
    assert dollars.y_train.min() > 10_000
    np.testing.assert_allclose(np.log(dollars.y_train), houses.y_train, rtol=1e-12)
    np.testing.assert_array_equal(dollars.X_test, houses.X_test)


def _fake_table(price: list[float], const: float = 1.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area": [1000.0, 1200.0, 1500.0, 900.0, 1100.0, 1300.0, 1700.0, 800.0, 950.0, 1250.0],
            "const": [const] * 10,
            "price": price,
        }
    )


def test_a_feature_constant_on_the_training_split_is_rejected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(data, "load_ames", lambda: _fake_table([1e5] * 10))
    with pytest.raises(ValueError, match=r"\['const'\] are constant on the training split"):
        load_house_prices(features=("area", "const"))


def test_log_target_needs_a_positive_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "load_ames", lambda: _fake_table([1e5] * 9 + [0.0]))
    with pytest.raises(ValueError, match=r"log_target=True needs a positive target"):
        load_house_prices(features=("area",))
    assert len(load_house_prices(features=("area",), log_target=False).y_train) == 8


def test_repr_gives_the_sizes_and_the_drops(houses: HousePrices) -> None:
    text = repr(houses)
    assert f"{len(houses.y_train)} train / {len(houses.y_test)} test rows" in text
    assert "5 above the area limit" in text


def test_arguments_of_the_wrong_type_are_named() -> None:
    with pytest.raises(
        TypeError, match=r"^test_fraction must be a finite number in \(0, 1\), got str"
    ):
        load_house_prices(test_fraction="0.2")
    with pytest.raises(TypeError, match=r"features must be column names"):
        load_house_prices(features=("area", 3))
