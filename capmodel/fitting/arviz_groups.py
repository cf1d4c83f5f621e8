"""The groups ArviZ users expect on a fit, recorded on request (``fit(..., log_likelihood=True)``):
``log_likelihood`` for ``az.loo`` / ``az.compare`` and ``posterior_predictive`` for
``az.plot_ppc``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import xarray as xr

from capmodel.fitting.loglik import person_log_likelihood
from capmodel.fitting.predictive import replicate

if TYPE_CHECKING:
    from capmodel.fitting.fit import Fit

LOGLIK_VAR = "person_loglik"  # one term per person: all their responses, residual integrated


def add_arviz_groups(fit: Fit, seed: int = 1) -> Fit:
    """Add ``log_likelihood`` (``person_loglik`` over chain, draw, person: the unit of
    capmodel's LOO) and ``posterior_predictive`` (every observed response replicated on every
    draw, named as in ``observed_data``) to ``fit.idata``, in place; returns ``fit``."""
    ll = person_log_likelihood(fit, draws=None)
    fit.idata["log_likelihood"] = xr.DataTree(xr.Dataset({LOGLIK_VAR: ll}))
    _, rep = replicate(fit, draws=None, seed=seed)
    rep = rep.copy()
    rep.attrs = {k: v for k, v in rep.attrs.items() if k != "created_at"}
    fit.idata["posterior_predictive"] = xr.DataTree(rep)
    fit.manifest["arviz_groups"] = {
        "log_likelihood": f"{LOGLIK_VAR}: log p(responses of a person | draw), the capability "
        "residual integrated out (Gauss-Hermite), over every posterior draw",
        "posterior_predictive": "replicated responses (new residuals, same persons), every draw",
    }
    return fit
