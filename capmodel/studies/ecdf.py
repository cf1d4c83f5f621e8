"""Uniformity of SBC ranks: ECDF differences and their simultaneous confidence bands.

Under a correct posterior, the rank of the truth among L near-independent posterior draws is
uniform on {0, ..., L}. Ranks with different L (each replicate thins by its own ESS) are put on
one scale as randomised PIT values u = (rank + v) / (L + 1), v ~ U(0, 1): u is exactly
U(0, 1) when the ranks are uniform. The ECDF of N such values is compared with the uniform CDF
at the points z_k = k / K, k = 1..K-1, and the **simultaneous** band of Säilynoja, Bürkner
and Vehtari (2022, "Graphical test for discrete uniformity and its applications in
goodness-of-fit evaluation and multiple sample comparison", Statistics and Computing 32:32)
covers the whole ECDF of N uniform values with probability ``prob``. The band is ArviZ's
computation (``arviz_stats.ecdf_utils``: simulated adjustment of the pointwise binomial
band), evaluated here at any grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

BAND_PROB = 0.99
N_SIMULATIONS = 5000  # simulated uniform samples behind the band's adjustment
BAND_SEED = 20220301  # the band is a fixed function of (N, K, prob): same band every run


@dataclass(frozen=True)
class Band:
    """The simultaneous band of the ECDF of ``n`` U(0, 1) values at ``z`` (ECDF values,
    not differences): ``lower <= ECDF(z) <= upper`` everywhere with probability ``prob``;
    ``pointwise_prob`` is the level of the pointwise binomial band that achieves it."""

    n: int
    z: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    prob: float
    pointwise_prob: float


def eval_points(n: int, k: int | None = None) -> np.ndarray:
    """The grid z_k = k / K, k = 1..K-1 (K = ``k``, default ``n``, at least 2)."""
    k = max(2, int(k if k is not None else n))
    return np.arange(1, k) / k


def ecdf(values: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The ECDF of ``values`` at ``z``: the share of values <= each point."""
    v = np.sort(np.asarray(values, dtype=float))
    return np.searchsorted(v, z, side="right") / max(1, v.size)


@lru_cache(maxsize=64)
def _band(n: int, k: int, prob: float, n_simulations: int, seed: int) -> Band:
    from arviz_stats.ecdf_utils import get_pointwise_confidence_band, simulate_confidence_bands

    z = eval_points(n, k)
    rng = np.random.default_rng(seed)
    gamma = float(simulate_confidence_bands(n, 1, z, prob, n_simulations, rng))
    lower, upper = get_pointwise_confidence_band(gamma, n, z)
    return Band(n, z, np.asarray(lower, float), np.asarray(upper, float), prob, gamma)


def simultaneous_band(
    n: int,
    prob: float = BAND_PROB,
    k: int | None = None,
    n_simulations: int = N_SIMULATIONS,
    seed: int = BAND_SEED,
) -> Band:
    """The ``prob`` simultaneous band of the ECDF of ``n`` U(0, 1) values at ``k`` - 1
    evenly spaced points (default ``k = n``), as Säilynoja et al. (2022) compute it."""
    if n < 1:
        raise ValueError(f"a band needs at least one value, got n = {n}")
    if not 0 < prob < 1:
        raise ValueError(f"prob must be in (0, 1), got {prob}")
    return _band(int(n), max(2, int(k if k is not None else n)), float(prob), n_simulations, seed)


def pit_values(ranks: np.ndarray, n_draws: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Randomised PIT values (rank + v) / (L + 1), v ~ U(0, 1), of ranks in {0..L}."""
    r = np.asarray(ranks, dtype=float)
    return (r + rng.uniform(size=r.shape)) / (np.asarray(n_draws, dtype=float) + 1.0)


@dataclass(frozen=True)
class Uniformity:
    """The ECDF of ``n`` PIT values against its band: ``difference`` = ECDF(z) - z, the
    band's ``lower`` - z and ``upper`` - z, and whether the ECDF stays inside (``passes``)."""

    n: int
    z: np.ndarray
    difference: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    outside: int  # points of the grid where the ECDF leaves the band

    @property
    def passes(self) -> bool:
        return self.outside == 0

    @property
    def max_abs_difference(self) -> float:
        return float(np.max(np.abs(self.difference))) if self.difference.size else 0.0


def uniformity(pit: np.ndarray, prob: float = BAND_PROB, k: int | None = None) -> Uniformity:
    """The ECDF-difference test of ``pit`` (values in (0, 1)) at level ``prob``."""
    u = np.asarray(pit, dtype=float)
    u = u[np.isfinite(u)]
    band = simultaneous_band(u.size, prob, k)
    f = ecdf(u, band.z)
    outside = int(((f < band.lower - 1e-12) | (f > band.upper + 1e-12)).sum())
    return Uniformity(u.size, band.z, f - band.z, band.lower - band.z, band.upper - band.z, outside)
