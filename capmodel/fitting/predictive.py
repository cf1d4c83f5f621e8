"""Posterior predictive checks: observed vs replicated shares of every response level.

Replication is *mixed*: each replicate draws new capability residuals for the same persons
(same covariates, supports and groups) from their N(0, 1) distribution, with the parameters
from the posterior. This checks the model's population structure rather than each person's
fitted residual, and it is the only replication possible for integrated-residual fits.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from capmodel import intervals
from capmodel.data import EncodedData
from capmodel.model.design import Design


def thinned_posterior(posterior: xr.Dataset, draws: int | None) -> xr.Dataset:
    """At most ``draws`` draws in total, evenly spaced over chains and draws."""
    if draws is None:
        return posterior
    import arviz as az

    per_chain = max(1, draws // posterior.sizes["chain"])
    factor = max(1, posterior.sizes["draw"] // per_chain)
    thinned = az.thin(posterior, factor=factor) if factor > 1 else posterior
    return thinned.isel(draw=slice(0, per_chain)).transpose("chain", "draw", ...)


def replicate(fit, draws: int | None = 200, seed: int = 1) -> tuple[Design, xr.Dataset]:
    """Replicated responses (``y_*`` variables over chain, draw, obs) and the design they
    index. ``draws``: number of posterior draws used (None: all)."""
    design = fit.design
    built = fit.built_model(generative=True)
    post = thinned_posterior(fit.posterior, draws)
    post = post.drop_vars([v for v in post.data_vars if v == "capability_residual"])
    with built.model:
        pp = pm.sample_posterior_predictive(
            post, var_names=list(built.observed), random_seed=seed, progressbar=False
        )
    return design, pp["posterior_predictive"].dataset


def response_blocks(
    design: Design, rep: xr.Dataset
) -> Iterator[tuple[str, tuple[str, ...], bool, np.ndarray, np.ndarray, np.ndarray]]:
    """Every response simulated in ``rep`` (prior or posterior predictive of the generative
    model): (name, level labels, binary?, rows, observed codes, simulated codes (sample, obs))."""
    if "y_realisation" in rep:
        rows, cols, y = design.realisation_obs()
        sim = rep["y_realisation"].values.reshape(-1, y.size)
        for i, name in enumerate(design.realisations):
            sel = cols == i
            yield name, ("no", "yes"), True, rows[sel], y[sel], sim[:, sel]
    blocks = [("y_binary_indicator", "binary", None)] + [
        (f"y_ordinal{n}_indicator", "ordinal", n) for n in design.ordinal_level_counts()
    ]
    for var, kind, n_levels in blocks:
        if var not in rep:
            continue
        rows, items, y = design.indicator_obs(kind, n_levels)
        sim = rep[var].values.reshape(-1, y.size)
        for i in np.unique(items):
            ind = design.indicators[i]
            sel = items == i
            binary = kind == "binary"
            yield (
                ind.name,
                ("0", "1") if binary else ind.levels,
                binary,
                rows[sel],
                y[sel],
                sim[:, sel],
            )


def level_shares(design: Design, rep: xr.Dataset):
    """(response, level, rows, observed 0/1, simulated 0/1 (sample, obs)) per response level;
    binary responses give their second level only."""
    for name, levels, binary, rows, y, sim in response_blocks(design, rep):
        for code, level in enumerate(levels):
            if binary and code == 0:
                continue
            yield name, level, rows, y == code, sim == code


def ppc_table(
    fit,
    by: tuple[str, ...] = (),
    draws: int | None = 200,
    seed: int = 1,
    ci_prob: float | None = None,
    replicated: tuple[Design, xr.Dataset] | None = None,
) -> pd.DataFrame:
    """Observed share vs replicated share (mean and interval: capmodel.intervals, or
    ``ci_prob``) for every response
    level, overall (``by_variable = "all"``) and by each variable in ``by`` (group columns,
    covariates, or the wave column of the data).

    Columns: response, level, by_variable, by_level, n, observed, replicated_mean,
    replicated_lo, replicated_hi, outside (the observed share lies outside the interval).
    ``replicated``: the output of :func:`replicate`, to reuse (``draws`` and ``seed`` are then
    not used).
    """
    design, rep = replicated if replicated is not None else replicate(fit, draws=draws, seed=seed)
    ds = fit.data
    splits: list[tuple[str, np.ndarray, list[str]]] = [
        ("all", np.zeros(ds.sizes["obs"], int), ["all"])
    ]
    for v in by:
        splits.append((v, *_row_codes(ds, v)))
    out = []
    for response, level, rows, obs, sim in level_shares(design, rep):
        simf = sim.astype(np.float32)
        for var, codes, labels in splits:
            onehot = np.zeros((rows.size, len(labels)), dtype=np.float32)
            onehot[np.arange(rows.size), codes[rows]] = 1.0
            n = onehot.sum(axis=0)
            seen = n > 0
            shares = (simf @ onehot[:, seen]) / n[seen]  # (sample, cell)
            lo, hi = intervals.bounds(shares, axis=0, prob=ci_prob)
            observed = (obs.astype(np.float64) @ onehot[:, seen]) / n[seen]
            for j, k in enumerate(np.flatnonzero(seen)):
                o = float(observed[j])
                out.append(
                    {
                        "response": response,
                        "level": level,
                        "by_variable": var,
                        "by_level": labels[k],
                        "n": int(n[k]),
                        "observed": o,
                        "replicated_mean": float(shares[:, j].mean()),
                        "replicated_lo": float(lo[j]),
                        "replicated_hi": float(hi[j]),
                        "outside": bool(o < lo[j] or o > hi[j]),
                    }
                )
    return pd.DataFrame(out)


def _row_codes(ds: xr.Dataset, column: str) -> tuple[np.ndarray, list[str]]:
    """Integer code per data row and the labels, for a group, covariate or the wave column."""
    enc: EncodedData = ds.capmodel
    if column in enc.columns(("groups", "factors", "confounders")) and enc.has_levels(column):
        return enc.variable(column).values.astype(int), list(enc.levels(column))
    wave = enc.columns("wave")
    if wave and column in (wave[0], "wave"):
        waves = enc.variable(wave[0]).values
        labels = sorted(set(waves.tolist()))
        return np.searchsorted(labels, waves), [str(w) for w in labels]
    raise KeyError(
        f"cannot split by {column!r}: not a group, categorical covariate or the "
        "wave column of these data"
    )
