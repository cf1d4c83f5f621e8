"""Per-person log-likelihood of a fit, for LOO and model comparison.

The unit is the person (all their responses together), and the capability residual is
integrated out (Gauss-Hermite, capmodel.model.integrated): the pointwise terms of a sampled
residual are not exchangeable across persons and would make LOO unreliable. Models with and
without a latent capability are compared on the responses they share: ``responses =
"realisations"`` drops the indicators, integrating the residual over the realisations alone.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pymc as pm
import xarray as xr

from capmodel.fitting.predictive import thinned_posterior
from capmodel.model import BuiltModel, build_model
from capmodel.model.design import Design
from capmodel.spec import Spec

LOO_NODES = 15  # adaptive Gauss-Hermite: 1e-4 of brute force (tests/test_integrated.py)
LOO_DRAWS = 1000  # posterior draws used (evenly thinned): enough for PSIS-LOO
RESPONSES = ("all", "realisations")


def person_log_likelihood(
    fit, responses: str = "all", nodes: int = LOO_NODES, draws: int | None = LOO_DRAWS
) -> xr.DataArray:
    """log p(responses of person i | draw) over (chain, draw, person), on at most ``draws``
    evenly thinned posterior draws (None: all)."""
    if responses not in RESPONSES:
        raise ValueError(f"responses = {responses!r}; expected one of {list(RESPONSES)}")
    if responses == "realisations" and not fit.design.realisations:
        raise ValueError(f"model {fit.spec.name!r} has no realisations")
    built = fit.cached(
        ("pointwise", responses, nodes),
        lambda: _pointwise_model(fit.spec, fit.design, responses, nodes),
    )
    post = thinned_posterior(fit.posterior, draws)
    keep = [v.name for v in built.model.free_RVs]
    ds = pm.compute_deterministics(
        post[keep], var_names=["person_loglik"], model=built.model, progressbar=False
    )
    return ds["person_loglik"]


def _pointwise_model(spec: Spec, design: Design, responses: str, nodes: int) -> BuiltModel:
    """The model with one log-likelihood term per person, the residual integrated out."""
    if responses == "realisations":
        # keep the indicators' parameters (the posterior has them) but none of their answers
        empty = np.zeros(0, dtype=np.int64)
        design = dataclasses.replace(
            design,
            indicators=tuple(
                dataclasses.replace(j, rows=empty, values=empty) for j in design.indicators
            ),
        )
    if spec.latent:  # every person's residual integrated out; without it, the responses alone
        spec = dataclasses.replace(spec, residual="integrated", quadrature_nodes=nodes)
    return build_model(spec, design, pointwise=True)
