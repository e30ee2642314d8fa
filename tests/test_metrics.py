"""Unit tests of companion.metrics: mode coverage on known samplers, the Fréchet distance and
bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import linalg

from companion.data import sample_grid, sample_ring
from companion.metrics import ModeCoverage, frechet_distance, mode_coverage


def test_a_perfect_sampler_covers_every_mode_evenly() -> None:
    X, centers = sample_ring(100_000, std=0.02, seed=0)
    result = mode_coverage(X, centers, std=0.02)
    assert isinstance(result, ModeCoverage)
    assert result.modes_covered == 8
    # P(‖N(0, σ² I₂)‖ ≤ 3σ) = 1 − e^{−9/2} ≈ 0.9889 (a χ² with 2 degrees of freedom)
    assert abs(result.high_quality_fraction - (1 - math.exp(-4.5))) < 0.002
    assert result.reverse_kl < 1e-3


def test_a_perfect_grid_sampler_covers_all_25_modes() -> None:
    X, centers = sample_grid(2500, std=0.05, seed=1)
    result = mode_coverage(X, centers, std=0.05)
    assert (
        result.modes_covered == 25
        and result.high_quality_fraction > 0.97
        and result.reverse_kl < 0.05
    )


def test_a_one_mode_collapse_has_reverse_kl_ln_num_modes() -> None:
    X, centers = sample_ring(2500, std=0.02, seed=0)
    collapsed = centers[3] + 0.02 * np.random.default_rng(0).standard_normal((2500, 2))
    result = mode_coverage(collapsed, centers, std=0.02)
    assert result.modes_covered == 1
    assert result.reverse_kl == pytest.approx(math.log(8))
    assert result.high_quality_fraction > 0.97


def test_uniform_noise_is_mostly_low_quality() -> None:
    _, centers = sample_ring(1, std=0.02)
    noise = np.random.default_rng(0).uniform(-3, 3, size=(2500, 2))
    result = mode_coverage(noise, centers, std=0.02)
    # 8 discs of radius 0.06 in a 6 × 6 square: about 0.25 % of the area
    assert result.high_quality_fraction < 0.01
    assert result.modes_covered <= 8


def test_no_high_quality_sample_gives_infinite_reverse_kl_and_no_modes() -> None:
    _, centers = sample_ring(1)
    result = mode_coverage(np.zeros((10, 2)), centers, std=0.02)  # all at the centre of the ring
    assert result == ModeCoverage(0, 0.0, float("inf"))


def test_min_count_drops_modes_with_few_samples() -> None:
    _, centers = sample_ring(1)
    # 30 at mode 0, 1 at mode 1.
    samples = np.concatenate([np.repeat(centers[:1], 30, axis=0), centers[1:2]])
    assert mode_coverage(samples, centers, std=0.02).modes_covered == 2
    assert mode_coverage(samples, centers, std=0.02, min_count=20).modes_covered == 1


@pytest.mark.parametrize(
    "samples, centers, kwargs, name",
    [
        (np.zeros((0, 2)), np.zeros((8, 2)), {}, "samples"),
        (np.zeros((5, 3)), np.zeros((8, 2)), {}, "dimension"),
        (np.zeros(5), np.zeros((8, 2)), {}, "samples"),
        (np.full((5, 2), np.nan), np.zeros((8, 2)), {}, "samples"),
        (np.zeros((5, 2)), np.zeros((8, 2)), {"std": 0.0}, "std"),
        (np.zeros((5, 2)), np.zeros((8, 2)), {"std": -1.0}, "std"),
        (np.zeros((5, 2)), np.zeros((8, 2)), {"threshold": 0.0}, "threshold"),
        (np.zeros((5, 2)), np.zeros((8, 2)), {"min_count": 0}, "min_count"),
    ],
)
def test_mode_coverage_rejects_bad_input(
    samples: np.ndarray, centers: np.ndarray, kwargs: dict, name: str
) -> None:
    with pytest.raises(ValueError, match=name):
        mode_coverage(samples, centers, **{"std": 0.02, **kwargs})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"std": "0.02"}, "^std must be a finite number > 0, got str"),
        ({"threshold": None}, "^threshold must be a finite number > 0, got NoneType"),
        ({"min_count": 1.5}, "^min_count must be an integer >= 1, got float 1.5"),
        ({"min_count": True}, "^min_count must be an integer >= 1, got bool"),
    ],
)
def test_mode_coverage_rejects_arguments_of_the_wrong_type(kwargs: dict, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        mode_coverage(np.zeros((5, 2)), np.zeros((8, 2)), **{"std": 0.02, **kwargs})


def test_frechet_distance_of_gaussians_matches_the_closed_form() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4000, 3))
    b = 2.0 * rng.standard_normal((4000, 3)) + 1.0
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    expected = np.sum((mean_a - mean_b) ** 2) + np.trace(
        cov_a + cov_b - 2 * linalg.sqrtm(cov_a @ cov_b).real
    )
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)
    # population value: 3 · 1² + 3 · (1 − 2)² = 6
    assert frechet_distance(a, b) == pytest.approx(6.0, rel=0.1)


def test_frechet_distance_is_zero_for_identical_sets_and_symmetric() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((200, 5)), rng.standard_normal((300, 5)) + 0.5
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-8)
    assert frechet_distance(a, b) > 5 * 0.25 * 0.5  # the mean shift alone is 5 · 0.5² = 1.25


def test_frechet_distance_works_in_one_dimension() -> None:
    a, b = np.zeros((10, 1)), np.ones((10, 1))
    assert frechet_distance(a, b) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "a, b, name",
    [
        (np.zeros((0, 4)), np.zeros((5, 4)), "features_a"),
        (np.zeros((5, 4)), np.zeros((1, 4)), "features_b"),
        (np.zeros((5, 4)), np.zeros((5, 3)), "dimension"),
        (np.zeros((5,)), np.zeros((5, 4)), "features_a"),
        (np.full((5, 4), np.inf), np.zeros((5, 4)), "features_a"),
    ],
)
def test_frechet_distance_rejects_bad_input(a: np.ndarray, b: np.ndarray, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        frechet_distance(a, b)
