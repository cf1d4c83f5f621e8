"""capmodel's one interval setting: ArviZ's rcParams ``stats.ci_prob`` and ``stats.ci_kind``.

Every interval capmodel computes or shows (effect tables, the report's figures and tables,
posterior predictive checks, :meth:`capmodel.Fit.summary`) reads these two settings when it is
made, so ``with az.rc_context({"stats.ci_prob": 0.95, "stats.ci_kind": "hdi"}): ...`` changes
them all at once. capmodel's default is a 90% equal-tailed interval (the 5% and 95%
quantiles): it is installed when this module is first imported, unless the probability was
already changed from ArviZ's own default (e.g. in the user's arvizrc), which is then kept.
"""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
from arviz_base.rcparams import defaultParams
from arviz_stats.base import array_stats

DEFAULT_PROB = 0.9
KINDS = {"eti": "equal-tailed", "hdi": "highest-density"}

if az.rcParams["stats.ci_prob"] == defaultParams["stats.ci_prob"][0]:
    az.rcParams["stats.ci_prob"] = DEFAULT_PROB


def ci_prob() -> float:
    """The probability of every interval (ArviZ's ``stats.ci_prob``)."""
    return float(az.rcParams["stats.ci_prob"])


def ci_kind() -> str:
    """'eti' (equal-tailed) or 'hdi' (highest density; ArviZ's ``stats.ci_kind``)."""
    kind = str(az.rcParams["stats.ci_kind"])
    if kind not in KINDS:
        raise ValueError(f"arviz rcParams stats.ci_kind = {kind!r}; capmodel supports {KINDS}")
    return kind


def percent() -> str:
    """'90%' (the probability as a label)."""
    return f"{100 * ci_prob():g}%"


def outside() -> str:
    """'10%' (the share of draws outside the interval)."""
    return f"{100 - 100 * ci_prob():g}%"


def text() -> str:
    """'90% equal-tailed' (probability and kind, for labels and notes)."""
    return f"{percent()} {KINDS[ci_kind()]}"


def bounds(
    draws: np.ndarray, axis: int = 0, prob: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the interval over ``axis`` of ``draws`` (NaN draws ignored;
    all-NaN gives NaN). ``prob``: this probability instead of the setting."""
    p = ci_prob() if prob is None else float(prob)
    x = np.moveaxis(np.asarray(draws, dtype=float), axis, -1)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if ci_kind() == "eti":
            q = np.nanquantile(x, [(1 - p) / 2, (1 + p) / 2], axis=-1)
            return q[0], q[1]
        out = np.full((*x.shape[:-1], 2), np.nan)
        flat, res = x.reshape(-1, x.shape[-1]), out.reshape(-1, 2)
        for i, row in enumerate(flat):
            row = row[np.isfinite(row)]
            if row.size:
                res[i] = array_stats.hdi(row, p)
        return out[..., 0], out[..., 1]
