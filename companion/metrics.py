"""How good is a generator? Metrics that compare generated samples with the data they imitate.

Two kinds, both used by the GAN chapter:

- `mode_coverage` for 2-D mixtures of Gaussians with known centres (the ring and
  grid benchmarks of the mode-collapse literature): how many modes the samples
  reach, how many samples land near a mode at all, and how evenly they spread.
- `frechet_distance` between two sets of feature vectors (the statistic behind
  FID, Heusel et al. 2017), for images judged through a classifier's features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion.checks import check_array, check_int, check_positive


@dataclass(frozen=True)
class ModeCoverage:
    """The three numbers of the 2-D mixture benchmarks.

    From VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018).
    """

    modes_covered: int
    """Modes that are the nearest centre of at least `min_count` high-quality samples."""
    high_quality_fraction: float
    """Share of samples within `threshold · std` of their nearest centre."""
    reverse_kl: float
    """KL(p ‖ uniform) in nats, p = histogram of the high-quality samples over the modes;
    ln(num_modes) for one mode, 0 for a perfectly even spread, inf when no sample is of high
    quality."""


def _as_points(name: str, values: np.ndarray) -> np.ndarray:
    """`values` as a float64 array (n, d) of n ≥ 1 finite rows of d ≥ 1 real numbers.

    Anything else raises an error naming `name`: TypeError for non-real data (complex,
    boolean, strings), ValueError for another shape, no rows, rows of zero numbers (every
    point would sit on every centre) or NaN/inf.
    """
    points = check_array(name, values, min_size=0, finite=False)
    if points.ndim != 2 or 0 in points.shape:
        raise ValueError(
            f"{name} must have shape (n, d) with n >= 1 points of d >= 1 numbers, "
            f"got shape {points.shape}"
        )
    if not np.all(np.isfinite(points)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return points


def mode_coverage(
    samples: np.ndarray, centers: np.ndarray, std: float, threshold: float = 3.0, min_count: int = 1
) -> ModeCoverage:
    """Score `samples` (n, d) against equal-weight Gaussians at `centers` (num_modes, d), `std`.

    A sample is *high quality* when it lies within `threshold · std` of its nearest
    centre (three standard deviations, as in the unrolled-GAN, VEEGAN and PacGAN
    papers). A mode is *covered* when at least `min_count` high-quality samples have it
    as nearest centre: 1 is VEEGAN's count; PacGAN drops modes with fewer than 20 of
    2,500 samples. The reverse KL measures how unevenly the high-quality samples are
    spread over the modes, against the uniform weights of the true mixture.
    """
    samples = _as_points("samples", samples)
    centers = _as_points("centers", centers)
    if samples.shape[1] != centers.shape[1]:
        raise ValueError(
            "samples and centers must have the same dimension, "
            f"got {samples.shape[1]} and {centers.shape[1]}"
        )
    std = check_positive("std", std)
    threshold = check_positive("threshold", threshold)
    min_count = check_int("min_count", min_count, 1)

    distances = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=2)  # (n, num_modes)
    nearest = distances.argmin(axis=1)  # (n,)
    high_quality = distances.min(axis=1) <= threshold * std  # (n,)
    counts = np.bincount(nearest[high_quality], minlength=len(centers))  # (num_modes,)
    if counts.sum() == 0:
        reverse_kl = float("inf")
    else:
        p = counts[counts > 0] / counts.sum()
        reverse_kl = float(np.sum(p * np.log(p * len(centers))))
    return ModeCoverage(
        modes_covered=int((counts >= min_count).sum()),
        high_quality_fraction=float(high_quality.mean()),
        reverse_kl=max(reverse_kl, 0.0),  # ≥ 0 in exact arithmetic; clip round-off such as -1e-17
    )


def _symmetric_sqrt(matrix: np.ndarray) -> np.ndarray:
    """The positive semi-definite square root of a symmetric matrix.

    Eigenvalues below 0 (round-off) are set to 0.
    """
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets of shape (n_a, d) and (n_b, d).

    d² = ‖μ_a − μ_b‖² + Tr(Σ_a + Σ_b − 2 (Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2}), the squared
    2-Wasserstein distance between the two Gaussians (Dowson & Landau 1982) and, in
    Inception features, the FID of Heusel et al. (2017). The symmetric form of the
    cross term has the same trace as (Σ_a Σ_b)^{1/2} and avoids a non-symmetric
    matrix square root.
    """
    features_a = _as_points("features_a", features_a)
    features_b = _as_points("features_b", features_b)
    if features_a.shape[1] != features_b.shape[1]:
        raise ValueError(
            "features_a and features_b must have the same dimension, "
            f"got {features_a.shape[1]} and {features_b.shape[1]}"
        )
    for name, features in (("features_a", features_a), ("features_b", features_b)):
        if len(features) < 2:
            raise ValueError(
                f"{name} needs at least 2 rows to estimate a covariance, got {len(features)}"
            )
    mean_a, mean_b = features_a.mean(axis=0), features_b.mean(axis=0)  # (d,)
    cov_a = np.atleast_2d(np.cov(features_a, rowvar=False))  # (d, d)
    cov_b = np.atleast_2d(np.cov(features_b, rowvar=False))  # (d, d)
    sqrt_a = _symmetric_sqrt(cov_a)
    cross = _symmetric_sqrt(sqrt_a @ cov_b @ sqrt_a)
    distance = (
        np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(cross)
    )
    return float(max(distance, 0.0))  # ≥ 0 in exact arithmetic
