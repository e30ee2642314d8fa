"""Data sets that ship with the book: nothing here touches the network."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from companion.checks import (
    check_array,
    check_bool,
    check_choice,
    check_float,
    check_instance,
    check_int,
    check_positive,
)

AMES_FILE = "ames.csv.gz"
HOUSE_FEATURES = (
    "area",  # above-ground living area, square feet
    "Overall.Qual",  # overall material and finish, 1-10
    "Overall.Cond",  # overall condition, 1-10
    "Year.Built",
    "Year.Remod.Add",  # year of the last remodel (= Year.Built if none)
    "Total.Bsmt.SF",  # basement area, square feet
    "Garage.Cars",  # garage size in cars
    "Fireplaces",
)


@dataclass(frozen=True)
class HousePrices:
    """A train/test split of the Ames data, with standardisation statistics of the training split.

    ``X_*`` have shape (n, num_features) in the original units; ``y_*`` shape (n,),
    the log of the sale price in dollars when ``log_target`` was set.
    """

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    target_name: str
    feature_mean: np.ndarray  # (num_features,), training split only
    feature_std: np.ndarray  # (num_features,), training split only
    num_dropped_missing: int  # rows dropped for a missing value in the chosen columns
    num_dropped_outliers: int  # rows dropped by the living-area limit

    def standardize(self, X: np.ndarray) -> np.ndarray:
        """(X - mean) / std with the training split's statistics; X has shape (n, num_features)
        of finite real numbers (NaN would come out as NaN, unnoticed)."""
        X = check_array("X", X, min_size=0)
        if X.ndim != 2 or X.shape[1] != len(self.feature_names):
            raise ValueError(
                f"X must have shape (n, {len(self.feature_names)}) for features "
                f"{self.feature_names}, got {X.shape}"
            )
        return (X - self.feature_mean) / self.feature_std

    def __repr__(self) -> str:
        return (
            f"HousePrices({len(self.y_train)} train / {len(self.y_test)} test rows, "
            f"{len(self.feature_names)} features, target {self.target_name!r}; dropped "
            f"{self.num_dropped_missing} rows with missing values, "
            f"{self.num_dropped_outliers} above the area limit)"
        )


def load_ames() -> pd.DataFrame:
    """The whole Ames table (2,930 sales, 82 columns; De Cock 2011) as shipped with the book."""
    with resources.files("companion").joinpath("bundled", AMES_FILE).open("rb") as f:
        return pd.read_csv(f, compression="gzip")


def load_house_prices(
    features: tuple[str, ...] | list[str] = HOUSE_FEATURES,
    target: str = "price",
    log_target: bool = True,
    test_fraction: float = 0.2,
    seed: int = 0,
    max_living_area: float | None = 4000.0,
) -> HousePrices:
    """Load the Ames house prices as a shuffled train/test split.

    `max_living_area` drops the few houses above that living area (square feet):
    De Cock (2011) recommends it, since three of the five are partial sales that do
    not reflect market value. Rows with a missing value in the chosen columns are
    dropped; both counts are in the result.
    """
    test_fraction = check_float(
        "test_fraction", test_fraction, 0.0, 1.0, low_open=True, high_open=True
    )
    seed = check_int("seed", seed, 0)
    log_target = check_bool("log_target", log_target)
    if isinstance(features, str):
        raise TypeError(
            f"features must be a sequence of column names, not a single string ({features!r})"
        )
    check_instance("features", features, tuple | list, "a tuple or list of column names")
    check_instance("target", target, str, "a column name (a string)")
    features = tuple(features)
    if not all(isinstance(f, str) for f in features):
        raise TypeError(f"features must be column names (strings), got {features}")
    if not features:
        raise ValueError("features must name at least one column")
    if len(set(features)) != len(features):
        raise ValueError(f"features has duplicates: {features}")
    if target in features:
        raise ValueError(f"target {target!r} is also listed in features")
    if max_living_area is not None:
        max_living_area = check_positive("max_living_area", max_living_area)

    table = load_ames()
    for name in (*features, target):
        if name not in table.columns:
            close = difflib.get_close_matches(name, table.columns, n=3, cutoff=0.5)
            close += [c for c in table.columns if c.lower() == name.lower() and c not in close]
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise ValueError(f"unknown column {name!r} in the Ames data{hint}")
        if not pd.api.types.is_numeric_dtype(table[name]):
            raise ValueError(
                f"column {name!r} is not numeric (dtype {table[name].dtype}); "
                "choose a numeric column"
            )

    num_outliers = 0
    if max_living_area is not None:
        keep = table["area"] <= max_living_area
        if not keep.any():
            raise ValueError(
                f"max_living_area={max_living_area:g} drops every house: the smallest living "
                f"area is {table['area'].min():g} square feet"
            )
        num_outliers = int((~keep).sum())
        table = table[keep]
    columns = table[list(features) + [target]]
    complete = columns.dropna()
    num_missing = len(columns) - len(complete)

    X = complete[list(features)].to_numpy(dtype=np.float64)  # (n, num_features)
    y = complete[target].to_numpy(dtype=np.float64)  # (n,)
    target_name = target
    if log_target:
        if np.any(y <= 0):
            raise ValueError(
                f"log_target=True needs a positive target, but {target!r} has values <= 0"
            )
        y = np.log(y)
        target_name = f"log({target})"

    num_test = int(round(test_fraction * len(y)))
    if num_test == 0 or num_test == len(y):
        raise ValueError(f"test_fraction={test_fraction} leaves an empty split of {len(y)} rows")
    order = np.random.default_rng(seed).permutation(len(y))
    test, train = order[:num_test], order[num_test:]

    mean = X[train].mean(axis=0)
    std = X[train].std(axis=0)
    if np.any(std == 0):
        constant = [f for f, s in zip(features, std, strict=True) if s == 0]
        raise ValueError(
            f"features {constant} are constant on the training split and cannot be standardised"
        )
    return HousePrices(
        X_train=X[train],
        X_test=X[test],
        y_train=y[train],
        y_test=y[test],
        feature_names=features,
        target_name=target_name,
        feature_mean=mean,
        feature_std=std,
        num_dropped_missing=num_missing,
        num_dropped_outliers=num_outliers,
    )


# ---------------------------------------------------------------- digits


@dataclass(frozen=True)
class Digits:
    """A stratified train/test split of scikit-learn's bundled 8×8 digits (1,797 images).

    Alpaydin & Kaynak (1998). ``X_*`` have shape (n, 64), float32 pixels (row-major 8×8
    images) in [0, 1], or z-scored with ``scaling="standard"``; ``y_*`` shape (n,), int64
    class indices into `class_names`.
    """

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    image_shape: tuple[int, int]
    # How the pixels were scaled: "unit" or "standard" (see `load_digits_split`).
    scaling: str = "unit"

    def __repr__(self) -> str:
        return (
            f"Digits({len(self.y_train)} train / {len(self.y_test)} test images of "
            f"{self.image_shape[0]}×{self.image_shape[1]} pixels, {len(self.class_names)} "
            f"classes, {self.scaling} scaling)"
        )


DIGITS_MAX_PIXEL = 16.0  # the bundled images count 0..16 dark cells per 4×4 block


DIGITS_SCALINGS = ("unit", "standard")


def load_digits_split(test_fraction: float = 0.2, seed: int = 0, scaling: str = "unit") -> Digits:
    """scikit-learn's bundled digits (no download), split with the class proportions kept.

    The split depends only on `seed`. Pixels are scaled so that a network's first layer
    sees inputs of order one: ``scaling="unit"`` maps 0..16 to [0, 1] (the book's
    default); ``scaling="standard"`` z-scores each pixel with the mean and standard
    deviation of the training split only (the test split must not inform the scaling),
    and leaves pixels that are constant there (the always-blank border) at 0.
    """
    test_fraction = check_float(
        "test_fraction", test_fraction, 0.0, 1.0, low_open=True, high_open=True
    )
    seed = check_int("seed", seed, 0)
    scaling = check_choice("scaling", scaling, DIGITS_SCALINGS)

    from sklearn.datasets import load_digits  # late import: sklearn is slow to import
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    X = (bunch.data / DIGITS_MAX_PIXEL).astype(np.float32)  # (1797, 64)
    y = bunch.target.astype(np.int64)  # (1797,)
    num_classes = len(bunch.target_names)
    num_test = int(round(test_fraction * len(y)))
    if num_test < num_classes or len(y) - num_test < num_classes:
        raise ValueError(
            f"test_fraction={test_fraction} leaves fewer than one image per class "
            f"({num_classes}) in a split"
        )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=num_test, stratify=y, random_state=seed
    )
    if scaling == "standard":
        mean = X_train.mean(axis=0)  # (64,)
        std = X_train.std(axis=0)  # (64,)
        # A pixel that is constant on the training split carries no information: map it to 0.
        std = np.where(std > 0, std, 1.0)
        X_train = ((X_train - mean) / std).astype(np.float32)
        X_test = ((X_test - mean) / std).astype(np.float32)
    return Digits(
        X_train=X_train,
        X_test=X_test,
        y_train=y_train,
        y_test=y_test,
        class_names=tuple(str(name) for name in bunch.target_names),
        image_shape=(8, 8),
        scaling=scaling,
    )


# ---------------------------------------------------------------- 2-D mixtures of Gaussians

# Limits far above the book's 50,000 points and 25 modes that stop a typo from allocating
# gigabytes: n points take 16 bytes each, and scoring them a distance to every mode.
MAX_POINTS = 10_000_000
MAX_MODES = 10_000


def _sample_mixture(
    n: int, centers: np.ndarray, std: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """n points from the equal-weight mixture of N(c, std² I) over `centers` (num_modes, 2).

    Returns the points (n, 2) and the centres.
    """
    n = check_int("n", n, 1, MAX_POINTS)
    seed = check_int("seed", seed, 0)
    std = check_positive("std", std)
    rng = np.random.default_rng(seed)
    modes = rng.integers(len(centers), size=n)  # (n,), each point's mode
    X = centers[modes] + std * rng.standard_normal((n, 2))  # (n, 2)
    return X, centers


def sample_ring(
    n: int, num_modes: int = 8, radius: float = 2.0, std: float = 0.02, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """n points (n, 2) from `num_modes` Gaussians evenly spaced on a circle, and their centres.

    The centres have shape (num_modes, 2).
    With the defaults this is the 2-D ring of the unrolled-GAN and VEEGAN papers
    (Metz et al. 2017; Srivastava et al. 2017). The angles are 2πk/num_modes for
    k = 0, …, num_modes − 1: `linspace(0, 2π, num_modes)` would put the last centre
    on top of the first.
    """
    num_modes = check_int("num_modes", num_modes, 1, MAX_MODES)
    angles = 2 * np.pi * np.arange(num_modes) / num_modes  # (num_modes,)
    radius = check_positive("radius", radius)
    centers = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (num_modes, 2)
    return _sample_mixture(n, centers, std, seed)


def sample_grid(
    n: int, side: int = 5, spacing: float = 2.0, std: float = 0.05, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """n points (n, 2) from side × side Gaussians on a square grid centred at 0, and their centres.

    The centres have shape (side², 2).
    With the defaults the centres are {-4, -2, 0, 2, 4}² with std 0.05, the 2-D grid of
    the VEEGAN and PacGAN papers (Srivastava et al. 2017; Lin et al. 2018).
    """
    side = check_int("side", side, 1, math.isqrt(MAX_MODES))
    ticks = (np.arange(side) - (side - 1) / 2) * check_positive("spacing", spacing)  # (side,)
    centers = np.stack(np.meshgrid(ticks, ticks), axis=-1).reshape(-1, 2)  # (side², 2)
    return _sample_mixture(n, centers, std, seed)
