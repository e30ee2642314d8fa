"""Unit tests of the 2-D mixture samplers in companion.data: the centres, the spread, the seed
and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from companion.data import sample_grid, sample_ring


@pytest.mark.parametrize("num_modes", [1, 3, 8, 12])
def test_ring_has_num_modes_distinct_centres_on_the_circle(num_modes: int) -> None:
    X, centers = sample_ring(500, num_modes=num_modes, radius=2.0)
    assert X.shape == (500, 2) and centers.shape == (num_modes, 2)
    distinct = np.unique(np.round(centers, 9), axis=0)
    assert len(distinct) == num_modes  # linspace(0, 2π, K) would give K − 1
    np.testing.assert_allclose(np.linalg.norm(centers, axis=1), 2.0)
    if num_modes > 1:  # evenly spaced: every neighbour at the same chord length
        gaps = np.linalg.norm(centers - np.roll(centers, 1, axis=0), axis=1)
        np.testing.assert_allclose(gaps, 2 * 2.0 * np.sin(np.pi / num_modes))


def test_ring_samples_spread_around_their_centres_with_std() -> None:
    X, centers = sample_ring(20_000, std=0.02, seed=3)
    offsets = X - centers[np.linalg.norm(X[:, None] - centers[None], axis=2).argmin(axis=1)]
    assert abs(offsets.std() - 0.02) < 0.001
    counts = np.bincount(
        np.linalg.norm(X[:, None] - centers[None], axis=2).argmin(axis=1), minlength=8
    )
    assert counts.min() > 0.8 * 20_000 / 8  # equal weights


def test_grid_has_side_squared_centres_on_the_standard_grid() -> None:
    X, centers = sample_grid(1000)
    assert X.shape == (1000, 2) and centers.shape == (25, 2)
    assert len(np.unique(centers, axis=0)) == 25
    assert sorted(set(centers[:, 0])) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    np.testing.assert_allclose(centers.mean(axis=0), 0.0, atol=1e-12)


def test_samplers_are_seeded() -> None:
    np.testing.assert_array_equal(sample_ring(100, seed=1)[0], sample_ring(100, seed=1)[0])
    assert not np.array_equal(sample_ring(100, seed=1)[0], sample_ring(100, seed=2)[0])
    np.testing.assert_array_equal(sample_grid(100, seed=1)[0], sample_grid(100, seed=1)[0])


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"std": 0.0}, "std"),
        ({"std": -0.1}, "std"),
        ({"std": float("nan")}, "std"),
        ({"n": 0}, "n"),
        ({"seed": -1}, "seed"),
        ({"num_modes": 0}, "num_modes"),
        ({"radius": 0.0}, "radius"),
    ],
)
def test_ring_rejects_bad_input_naming_the_argument(kwargs: dict, name: str) -> None:
    args = {"n": 10, **kwargs}
    with pytest.raises(ValueError, match=name):
        sample_ring(**args)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 2.5}, r"^n must be an integer in \[1, 10000000\], got float 2.5"),
        ({"seed": 1.5}, "^seed must be an integer >= 0, got float"),
        ({"std": "0.1"}, "^std must be a finite number > 0, got str"),
        ({"num_modes": True}, r"^num_modes must be an integer in \[1, 10000\], got bool"),
    ],
)
def test_ring_rejects_a_wrong_type_with_a_type_error(kwargs: dict, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        sample_ring(**{"n": 10, **kwargs})


@pytest.mark.parametrize(
    "kwargs, name", [({"std": 0.0}, "std"), ({"side": 0}, "side"), ({"spacing": -1.0}, "spacing")]
)
def test_grid_rejects_bad_input_naming_the_argument(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        sample_grid(10, **kwargs)
