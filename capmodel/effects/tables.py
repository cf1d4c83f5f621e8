"""Results as tidy tables (one row per estimate) and as xarray draws, with their provenance."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from arviz_stats.base import array_stats

from capmodel import intervals
from capmodel.atomic import atomic_file, atomic_write_text


def interval(
    draws: np.ndarray, prob: float | None = None, axis: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The interval over ``axis`` (capmodel.intervals: 90% equal-tailed unless ArviZ's
    rcParams say otherwise; NaN draws ignored)."""
    return intervals.bounds(draws, axis=axis, prob=prob)


def summary_columns(
    draws: np.ndarray, prob: float | None = None, chain: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """mean, sd, lower, upper, prob_positive over the first axis (draws); with ``chain`` (the
    chain of each draw, draws in order within a chain), also ArviZ's bulk ESS and the Monte
    Carlo standard error of the mean (:func:`mcmc_columns`)."""
    lo, hi = interval(draws, prob)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = {
            "mean": np.nanmean(draws, axis=0),
            "sd": np.nanstd(draws, axis=0),
            "lower": lo,
            "upper": hi,
            "prob_positive": np.mean(draws > 0, axis=0),
        }
    if chain is not None:
        out.update(mcmc_columns(draws, chain))
    return out


def by_chain(draws: np.ndarray, chain: np.ndarray) -> np.ndarray | None:
    """(chain, draw, ...) from (D, ...) draws whose chains are ``chain`` (D,), draws in order
    within each chain; chains cut to the shortest; None with fewer than 4 draws per chain."""
    ids, counts = np.unique(chain, return_counts=True)
    n = int(counts.min()) if counts.size else 0
    if n < 4:
        return None
    return np.stack([draws[chain == c][:n] for c in ids])


def mcmc_columns(draws: np.ndarray, chain: np.ndarray) -> dict[str, np.ndarray]:
    """``ess_bulk`` and ``mcse_mean`` (ArviZ's) of each column of ``draws`` (D, ...) drawn by
    the chains ``chain`` (D,): how precisely the posterior mean of an effect is known from these
    draws. NaN where :func:`by_chain` cannot lay them out or a draw is NaN."""
    arr = by_chain(draws, chain)
    if arr is None:
        nan = np.full(draws.shape[1:], np.nan)
        return {"ess_bulk": nan, "mcse_mean": nan.copy()}
    arr = np.moveaxis(arr, (0, 1), (-2, -1))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return {
            "ess_bulk": np.asarray(array_stats.ess(arr, method="bulk")),
            "mcse_mean": np.asarray(array_stats.mcse(arr, method="mean")),
        }


def tidy(da: xr.DataArray, prob: float | None = None, **constant: Any) -> pd.DataFrame:
    """One row per combination of the non-``sample`` dims of ``da``: its coordinates, then
    mean, sd, interval (``lower``, ``upper``: capmodel.intervals), prob_positive, and with the
    draws' ``chain`` coordinate ess_bulk and mcse_mean; then ``constant``."""
    dims = [d for d in da.dims if d != "sample"]
    arr = da.transpose("sample", *dims).values
    chain = np.asarray(da["chain"].values) if "chain" in da.coords else None
    stats = summary_columns(arr.reshape(arr.shape[0], -1), prob, chain)
    index = (
        pd.MultiIndex.from_product([[str(v) for v in da[d].values] for d in dims], names=dims)
        if dims
        else None
    )
    out = pd.DataFrame(stats, index=index).reset_index() if dims else pd.DataFrame(stats)
    for k, v in constant.items():
        out[k] = v
    return out


@dataclass
class EffectResult:
    """An estimate: ``table`` (tidy DataFrame), ``draws`` (xarray, dim ``sample`` = posterior
    draws), ``notes`` (population, residual rule, assumptions; printed with the table),
    ``extra`` (further tables, e.g. per-person probabilities) and ``provenance`` (the fit, its
    data hash, verdict and the draws used: :func:`capmodel.effects.compact.fit_provenance`),
    which the written files carry."""

    estimand: str
    table: pd.DataFrame
    draws: xr.Dataset
    notes: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)  # further tables
    provenance: dict[str, Any] = field(default_factory=dict)

    def draws_by_chain(self) -> xr.Dataset:
        """The draws over (chain, draw) instead of ``sample``, for ArviZ (``az.ess``,
        ``az.mcse``, ``az.summary``, ``az.plot_*``): see :func:`by_chain_dataset`."""
        return by_chain_dataset(self.draws)

    def to_csv(self, path: str | Path | None = None, **kw: Any) -> str | None:
        """Write (atomically) or return the table as CSV; the provenance, when set, in
        constant columns after the table's own (``fit``, ``data_hash``, ``verdict``, ...)."""
        table = self.table.copy()
        for k, v in self.provenance.items():
            if k not in table.columns:
                table[k] = v
        text = table.to_csv(None, index=False, **kw)
        if path is None:
            return text
        atomic_write_text(path, text)
        return None

    def to_json(self, path: str | Path | None = None) -> str:
        """The provenance, the table (records), the notes and the extra tables as JSON;
        written (atomically) to ``path`` when given."""
        text = json.dumps(
            {
                "estimand": self.estimand,
                "provenance": self.provenance,
                "notes": self.notes,
                "rows": json.loads(self.table.to_json(orient="records")),
                "extra": {
                    k: json.loads(v.to_json(orient="records")) for k, v in self.extra.items()
                },
            },
            indent=2,
            ensure_ascii=False,
        )
        if path is not None:
            atomic_write_text(path, text)
        return text

    def to_netcdf(self, path: str | Path) -> None:
        """The draws (with the notes and the provenance, ``provenance_*``, as attributes),
        written atomically."""
        ds = self.draws.copy()
        attrs = {**self.notes, **{f"provenance_{k}": v for k, v in self.provenance.items()}}
        ds.attrs = {k: json.dumps(v) if not isinstance(v, str) else v for k, v in attrs.items()}
        with atomic_file(path) as tmp:
            ds.to_netcdf(tmp, engine="h5netcdf")

    def text(self, digits: int = 3) -> str:
        lines = [f"{self.estimand}"] + [f"  {k}: {v}" for k, v in self.notes.items()]
        with pd.option_context(
            "display.width", 160, "display.max_rows", 1000, "display.max_columns", 30
        ):
            lines.append(self.table.round(digits).to_string(index=False))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<EffectResult {self.estimand}: {len(self.table)} rows>"


def by_chain_dataset(draws: xr.Dataset) -> xr.Dataset:
    """Effect draws over (chain, draw) instead of ``sample`` (chains cut to the shortest when
    the draws were thinned unevenly), for ArviZ: ``az.ess``, ``az.mcse``, ``az.summary``."""
    chain = np.asarray(draws["chain"].values)
    ids, counts = np.unique(chain, return_counts=True)
    n = int(counts.min())
    keep = np.concatenate([np.flatnonzero(chain == c)[:n] for c in ids])
    ds = draws.isel(sample=keep).drop_vars(["chain", "draw"])
    index = pd.MultiIndex.from_product([ids, np.arange(n)], names=["chain", "draw"])
    return ds.assign_coords(xr.Coordinates.from_pandas_multiindex(index, "sample")).unstack(
        "sample"
    )


def sample_coords(chain: np.ndarray, draw: np.ndarray) -> dict[str, Any]:
    """Coordinates of the ``sample`` dim: the chain and draw of each posterior draw."""
    return {"chain": ("sample", chain), "draw": ("sample", draw)}
