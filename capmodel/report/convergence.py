"""Convergence numbers the report shows beyond the fit's verdict: per-parameter R-hat and ESS,
where divergences concentrate, per-chain BFMI, tree depth and step size.

Person-level variables (``capability_residual``: thousands per draw) are left out of every
per-parameter computation here; their worst elements come from the fit's own diagnostics.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from capmodel.fitting.diagnostics import bfmi, parameter_diagnostics
from capmodel.report.stats import SAMPLE_DIMS, element_labels


def parameter_variables(post: xr.Dataset) -> list[str]:
    """Posterior variables without a person dimension."""
    return [str(v) for v, da in post.data_vars.items() if "person" not in da.dims]


def parameter_table(post: xr.Dataset) -> pd.DataFrame:
    """R-hat, bulk and tail ESS of every element of the non-person variables, worst first:
    the numbers of the fit's verdict (:func:`capmodel.fitting.diagnostics.parameter_diagnostics`,
    i.e. ``az.summary``), ordered for the reader."""
    names = parameter_variables(post)
    if not names:
        return pd.DataFrame(columns=["parameter", "rhat", "ess_bulk", "ess_tail"])
    diag = parameter_diagnostics(post[names])
    table = pd.DataFrame(
        {
            "parameter": [str(x) for x in diag.index],
            "rhat": diag["r_hat"].to_numpy(dtype=float),
            "ess_bulk": diag["ess_bulk"].to_numpy(dtype=float),
            "ess_tail": diag["ess_tail"].to_numpy(dtype=float),
        }
    )
    score = np.maximum(
        (table["rhat"].fillna(1.0) - 1.0) * 40,
        400 / table[["ess_bulk", "ess_tail"]].min(axis=1).clip(lower=1),
    )
    return (
        table.assign(_score=score)
        .sort_values("_score", ascending=False)
        .drop(columns="_score")
        .reset_index(drop=True)
    )


def locate(post: xr.Dataset, label: str) -> xr.DataArray | None:
    """The (chain, draw) draws of the element named ``label`` (format of the diagnostics'
    worst-parameter lists), or None."""
    name = label.split("[", 1)[0]
    if name not in post:
        return None
    for lab, sel in element_labels(post[name]):
        if lab == label:
            return post[name].isel(sel)
    return None


def worst_elements(
    post: xr.Dataset, table: pd.DataFrame, diagnosed: tuple[str, ...], limit: int = 6
) -> list[tuple[str, np.ndarray]]:
    """(label, (chain, draw) draws) of the worst parameters: the fit's own worst R-hat/ESS
    elements (they may be person-level) and the worst of ``table``."""
    labels = list(dict.fromkeys([*diagnosed, *table["parameter"].head(limit)]))
    out = []
    for label in labels:
        da = locate(post, label)
        if da is not None and da.ndim == 2:
            out.append((label, np.asarray(da.transpose(*SAMPLE_DIMS).values, dtype=float)))
        if len(out) == limit:
            break
    return out


def divergence_table(post: xr.Dataset, diverging: np.ndarray, limit: int = 10) -> pd.DataFrame:
    """Parameters whose draws differ most between divergent and other transitions: the mean
    of each, and the difference in posterior standard deviations (largest first)."""
    div = np.asarray(diverging, dtype=bool).ravel()
    rows = []
    if div.sum() == 0 or div.all():
        return pd.DataFrame(columns=["parameter", "divergent", "other", "difference_sd"])
    for name in parameter_variables(post):
        da = post[name]
        flat = np.asarray(da.transpose(*SAMPLE_DIMS, ...).values, dtype=float)
        flat = flat.reshape(div.size, -1)
        sd = flat.std(axis=0)
        a, b = flat[div].mean(axis=0), flat[~div].mean(axis=0)
        labels = element_labels(da)
        for k, (label, _) in enumerate(labels):
            if sd[k] > 0:
                rows.append(
                    {
                        "parameter": label,
                        "divergent": a[k],
                        "other": b[k],
                        "difference_sd": (a[k] - b[k]) / sd[k],
                    }
                )
    table = pd.DataFrame(rows)
    order = table["difference_sd"].abs().sort_values(ascending=False).index
    return table.loc[order].head(limit).reset_index(drop=True)


def chain_table(stats: xr.Dataset, max_treedepth: int) -> pd.DataFrame:
    """Per chain: divergences, BFMI, share of draws at the maximum tree depth, step size."""
    n_chain = stats.sizes["chain"]
    out = pd.DataFrame({"chain": np.arange(n_chain)})
    if "diverging" in stats:
        out["divergences"] = stats["diverging"].values.sum(axis=1).astype(int)
    if "energy" in stats:
        out["bfmi"] = bfmi(stats["energy"])
    for name in ("maxdepth_reached", "reached_max_treedepth"):
        if name in stats:
            out["max_depth_share"] = np.asarray(stats[name].values, dtype=float).mean(axis=1)
            break
    else:
        for name in ("depth", "tree_depth"):
            if name in stats:
                out["max_depth_share"] = (stats[name].values >= max_treedepth).mean(axis=1)
                break
    for name in ("step_size", "step_size_bar"):
        if name in stats:
            out["step_size"] = np.asarray(stats[name].values, dtype=float).mean(axis=1)
            break
    return out
