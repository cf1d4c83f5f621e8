"""Uniformity of SBC ranks: ECDF differences and their simultaneous confidence bands.

Under a correct posterior, the rank of the truth among L near-independent posterior draws is
uniform on {0, ..., L}. Ranks with different L (each replicate thins by its own ESS) are put on
one scale as randomised PIT values u = (rank + v) / (L + 1), v ~ U(0, 1): u is exactly
U(0, 1) when the ranks are uniform. The ECDF of N such values is compared with the uniform CDF
at the points z_k = k / K, k = 1..K-1, and the **simultaneous** band of Säilynoja, Bürkner
and Vehtari (2022, "Graphical test for discrete uniformity and its applications in
goodness-of-fit evaluation and multiple sample comparison", Statistics and Computing 32:32)
covers the whole ECDF of N uniform values with probability ``prob``: the pointwise binomial
band at the level that makes it simultaneous. That level is computed exactly here (the
counts of values below successive grid points are carried from point to point, the counts in
successive cells being multinomial), not by simulation as in ArviZ's
``arviz_stats.ecdf_utils.simulate_confidence_bands``, whose band is wrong for small N (at
N = 2 it is [0, 0.5] at z = 0.5, where an ECDF of 1 has probability 0.25).

With many estimands, some leave their own band by chance alone (about one in a hundred at
99%). :func:`p_values` gives each ECDF test its exact p-value (the probability, for uniform
ranks, of an ECDF at least as far from the uniform CDF by the band's own statistic), so that
a study can be judged at a family-wise level (:func:`holm`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

BAND_PROB = 0.99
MAX_GRID = 200  # grid points of the test: N - 1 up to N = 200, then 199
SEARCH_BATCH = 64  # thresholds evaluated together while searching the band's level


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


def grid_size(n: int, k: int | None = None) -> int:
    """K of the grid: ``k`` when given, else ``n`` up to :data:`MAX_GRID` (at least 2)."""
    return max(2, int(k if k is not None else min(n, MAX_GRID)))


def eval_points(n: int, k: int | None = None) -> np.ndarray:
    """The grid z_k = k / K, k = 1..K-1 (K = :func:`grid_size`)."""
    k = grid_size(n, k)
    return np.arange(1, k) / k


def ecdf(values: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The ECDF of ``values`` at ``z``: the share of values <= each point."""
    v = np.sort(np.asarray(values, dtype=float))
    return np.searchsorted(v, z, side="right") / max(1, v.size)


@lru_cache(maxsize=64)
def _band(n: int, k: int, prob: float) -> Band:
    z = eval_points(n, k)
    critical = _critical_tail(n, k, 1.0 - prob)
    allowed = _pointwise_tails(n, k) > critical
    lower = np.argmax(allowed, axis=1) / n
    upper = (n - np.argmax(allowed[:, ::-1], axis=1)) / n
    return Band(n, z, lower, upper, prob, 1.0 - critical)


def simultaneous_band(n: int, prob: float = BAND_PROB, k: int | None = None) -> Band:
    """The ``prob`` simultaneous band of the ECDF of ``n`` U(0, 1) values at ``k`` - 1
    evenly spaced points (default :func:`grid_size`), as Säilynoja et al. (2022) define it:
    the counts whose pointwise two-sided binomial tail probability exceeds the largest
    threshold that the smallest of them falls below with probability at most 1 - ``prob``
    (exact; a discrete ECDF stays inside with probability ``prob`` or a little more)."""
    if n < 1:
        raise ValueError(f"a band needs at least one value, got n = {n}")
    if not 0 < prob < 1:
        raise ValueError(f"prob must be in (0, 1), got {prob}")
    return _band(int(n), grid_size(n, k), float(prob))


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


@lru_cache(maxsize=16)
def _pointwise_tails(n: int, k: int) -> np.ndarray:
    """2 min(P(C <= c), P(C >= c)), capped at 1, for C ~ Binomial(n, z) at every grid point z
    (rows) and count c = 0..n (columns): the band's pointwise statistic."""
    from scipy.special import bdtr

    z = eval_points(n, k)[:, None]
    c = np.arange(n + 1)[None, :]
    lower = bdtr(c, n, z)
    upper = np.where(c > 0, 1.0 - bdtr(np.maximum(c - 1, 0), n, z), 1.0)
    return np.minimum(1.0, 2.0 * np.minimum(lower, upper))


def _statistic(values: np.ndarray, k: int) -> float:
    """The smallest pointwise tail probability of the ECDF of ``values`` over the grid."""
    n = values.size
    z = eval_points(n, k)
    counts = np.searchsorted(np.sort(values), z, side="right")
    return float(_pointwise_tails(n, k)[np.arange(z.size), counts].min())


def _steps(n: int, k: int):
    """Per grid point, the matrix P(count below it = c | count below the previous one = i):
    c - i of the n - i values left fall in the cell between them (binomial)."""
    from scipy.stats import binom

    counts = np.arange(n + 1)
    previous = 0.0
    for zj in eval_points(n, k):
        yield binom.pmf(
            counts[None, :] - counts[:, None],
            (n - counts)[:, None],
            (zj - previous) / (1.0 - previous),
        )
        previous = zj


@lru_cache(maxsize=4)
def _cached_steps(n: int, k: int) -> tuple[np.ndarray, ...]:
    return tuple(_steps(n, k))


def _inside_probability(n: int, k: int, thresholds: np.ndarray) -> np.ndarray:
    """P(every pointwise tail probability > t) for n U(0, 1) values, for each t of
    ``thresholds``: exact, by carrying the distribution of the count below each grid point
    to the next."""
    tails = _pointwise_tails(n, k)
    thresholds = np.asarray(thresholds, dtype=float)
    state = np.zeros((thresholds.size, n + 1))
    state[:, 0] = 1.0
    small = (n + 1) ** 2 * (k - 1) * 8 <= 2**27  # keep the matrices when under 128 MiB
    for j, step in enumerate(_cached_steps(n, k) if small else _steps(n, k)):
        state = (state @ step) * (tails[j][None, :] > thresholds[:, None])
    return state.sum(axis=1)


@lru_cache(maxsize=64)
def _critical_tail(n: int, k: int, alpha: float) -> float:
    """The largest pointwise tail probability t such that P(smallest tail <= t) <= alpha
    for uniform values (0 when even the smallest possible one is more likely)."""
    candidates = np.unique(_pointwise_tails(n, k))
    lo, hi = -1, candidates.size  # P(T <= candidates[lo]) <= alpha < P(T <= candidates[hi])
    while hi - lo > 1:
        index = np.linspace(lo + 1, hi - 1, min(SEARCH_BATCH, hi - lo - 1)).round()
        index = np.unique(index.astype(np.int64))
        beyond = 1.0 - _inside_probability(n, k, candidates[index]) > alpha
        if (~beyond).any():
            lo = max(lo, int(index[~beyond].max()))
        if beyond.any():
            hi = min(hi, int(index[beyond].min()))
    return float(candidates[lo]) if lo >= 0 else 0.0


def p_values(samples: Sequence[np.ndarray], k: int | None = None) -> np.ndarray:
    """The exact p-value of the ECDF test of each sample of PIT values: the probability, for
    as many U(0, 1) values, that the smallest pointwise two-sided binomial tail probability of
    the ECDF over the grid (the statistic whose quantile sets the simultaneous band) is as
    small as the sample's. A sample is outside its ``prob`` band exactly when p <= 1 - prob."""
    out = np.full(len(samples), np.nan)
    by_size: dict[int, list[int]] = {}
    clean = [np.asarray(v, dtype=float)[np.isfinite(v)] for v in samples]
    for i, v in enumerate(clean):
        if v.size:
            by_size.setdefault(v.size, []).append(i)
    for n, idx in by_size.items():
        kk = grid_size(n, k)
        t = np.array([_statistic(clean[i], kk) for i in idx])
        out[idx] = np.clip(1.0 - _inside_probability(n, kk, t), 0.0, 1.0)
    return out


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's adjusted p-values: an estimand fails at family-wise level alpha when its
    adjusted p is below alpha (the chance that any calibrated estimand fails is then at most
    alpha, whatever the dependence between them)."""
    p = np.asarray(p, dtype=float)
    finite = np.isfinite(p)
    out = np.full(p.shape, np.nan)
    q = p[finite]
    if not q.size:
        return out
    order = np.argsort(q)
    adjusted = np.minimum(1.0, np.maximum.accumulate(q[order] * (q.size - np.arange(q.size))))
    back = np.empty_like(adjusted)
    back[order] = adjusted
    out[finite] = back
    return out
