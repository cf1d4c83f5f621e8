"""Posterior summaries used everywhere in the report: one interval type, one probability."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import xarray as xr

from capmodel.intervals import bounds

SAMPLE_DIMS = ("chain", "draw")


@dataclass(frozen=True)
class Interval:
    """A posterior mean and its interval; ``heading`` rows carry only a label."""

    label: str
    mean: float = float("nan")
    lo: float = float("nan")
    hi: float = float("nan")
    heading: bool = False

    @property
    def excludes_zero(self) -> bool:
        return bool(self.lo > 0 or self.hi < 0)


def interval(label: str, draws: np.ndarray | xr.DataArray) -> Interval:
    """Mean and interval (capmodel.intervals) of a vector of draws."""
    x = np.asarray(draws, dtype=float).ravel()
    x = x[np.isfinite(x)]
    if x.size == 0:
        return Interval(label)
    lo, hi = bounds(x)
    return Interval(label, float(x.mean()), float(lo), float(hi))


def intervals(da: xr.DataArray, dim: str, labels: list[str] | None = None) -> list[Interval]:
    """One interval per coordinate of ``dim`` (vectorised; ``da``: chain, draw, dim)."""
    x = np.asarray(da.transpose(*SAMPLE_DIMS, dim).values, dtype=float).reshape(-1, da.sizes[dim])
    lo, hi = bounds(x, axis=0)
    mean = np.nanmean(x, axis=0)
    names = labels if labels is not None else [str(c) for c in da[dim].values]
    return [
        Interval(n, float(m), float(a), float(b))
        for n, m, a, b in zip(names, mean, lo, hi, strict=True)
    ]


def heading(label: str) -> Interval:
    return Interval(label, heading=True)


def samples(da: xr.DataArray) -> np.ndarray:
    """Draws of a scalar element as a flat vector (chains concatenated)."""
    return np.asarray(da.values, dtype=float).ravel()


def element_labels(da: xr.DataArray) -> list[tuple[str, dict[Hashable, int]]]:
    """``name[c1, c2]`` labels of every element of a posterior variable (the format of
    capmodel.fitting.diagnostics) with the selection that picks it."""
    dims = [d for d in da.dims if d not in SAMPLE_DIMS]
    if not dims:
        return [(str(da.name), {})]
    coords = [da[d].values if d in da.coords else np.arange(da.sizes[d]) for d in dims]
    out = []
    for ix in np.ndindex(*[da.sizes[d] for d in dims]):
        label = f"{da.name}[{', '.join(str(c[i]) for c, i in zip(coords, ix, strict=True))}]"
        out.append((label, {d: int(i) for d, i in zip(dims, ix, strict=True)}))
    return out


def fmt(x: float | None, digits: int = 2) -> str:
    """A number for a table cell ('–' for missing)."""
    if x is None or not np.isfinite(x):
        return "–"
    return f"{x:.{digits}f}"


def fmt_interval(iv: Interval, digits: int = 2) -> str:
    return f"{fmt(iv.mean, digits)} [{fmt(iv.lo, digits)}, {fmt(iv.hi, digits)}]"
