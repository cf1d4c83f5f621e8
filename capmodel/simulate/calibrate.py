"""Solving the scenario's free intercepts and cutpoints from published margins.

:class:`Intercepts` is handed to the generative pipeline. In *solving* mode it finds each
free constant from its target on the population being drawn (the reference population);
in *fixed* mode it returns the constants solved before. One pipeline serves both, so the
constants always match the model they calibrate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from scipy.optimize import brentq

from capmodel.simulate.draws import expit


def solve_logit_shift(eta: np.ndarray, target: float, weights: np.ndarray | None = None) -> float:
    """c such that the (weighted) mean of expit(eta + c) equals ``target`` (Newton, safeguarded)."""
    if not 0.0 < target < 1.0:
        raise ValueError(f"target share must be in (0, 1), got {target}")
    w = np.ones_like(eta) if weights is None else weights
    w = w / w.sum()
    lo, hi, c = -30.0, 30.0, float(np.log(target / (1 - target)) - np.average(eta, weights=w))
    for _ in range(100):
        p = expit(eta + c)
        f = float(np.dot(w, p)) - target
        if abs(f) < 1e-10:
            break
        if f > 0:
            hi = c
        else:
            lo = c
        slope = float(np.dot(w, p * (1 - p)))
        step = c - f / slope if slope > 1e-12 else 0.5 * (lo + hi)
        c = step if lo < step < hi else 0.5 * (lo + hi)
    return c


def solve_increasing(f: Callable[[float], float], target: float, lo: float, hi: float) -> float:
    """x in [lo, hi] with f(x) = target for an increasing f (Brent's method, to 1e-7)."""
    f_lo, f_hi = f(lo) - target, f(hi) - target
    if not f_lo <= 0 <= f_hi:
        raise ValueError(
            f"target {target} is outside [{f_lo + target:.4f}, {f_hi + target:.4f}] on [{lo}, {hi}]"
        )
    return float(brentq(lambda x: f(x) - target, lo, hi, xtol=1e-7))


class Intercepts:
    """Free constants of the scenario: solved from targets, or fixed from an earlier solve."""

    def __init__(self, fixed: Mapping[str, float] | None = None) -> None:
        self.solving = fixed is None
        self.values: dict[str, float] = dict(fixed or {})

    def logit(self, name: str, eta: np.ndarray, target: float) -> float:
        """Intercept making mean(expit(eta + c)) hit ``target``."""
        if self.solving:
            self.values[name] = solve_logit_shift(eta, target)
        return self.values[name]

    def cutpoints(self, name: str, eta: np.ndarray, shares: Mapping[str, float]) -> np.ndarray:
        """Cumulative-logit cutpoints making the level shares (low to high) hit ``shares``."""
        cum = np.cumsum(list(shares.values()))[:-1]
        keys = [f"{name}[{i}]" for i in range(cum.size)]
        if self.solving:
            for key, target in zip(keys, cum, strict=True):
                # P(y <= l) = expit(c_l - eta): an increasing function of c_l
                self.values[key] = solve_logit_shift(-eta, float(target))
        return np.array([self.values[k] for k in keys])

    def scalar(self, name: str, solve: Callable[[], float]) -> float:
        """A constant solved by ``solve()`` (an outer search), or its fixed value."""
        if self.solving:
            self.values[name] = float(solve())
        return self.values[name]
