"""Prior predictive check: what the priors imply for the observed responses, before any fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm

from capmodel.data import Data
from capmodel.fitting.predictive import level_shares
from capmodel.model import build_design, build_model
from capmodel.spec import Spec


def prior_check(spec: Spec, data: Data, draws: int = 500, seed: int = 1) -> pd.DataFrame:
    """For each response and level: the observed share and the prior predictive 5%, 50%, 95%
    quantiles of that share. Priors that put most mass on shares near 0 or 1 are too wide."""
    design = build_design(spec, data)
    built = build_model(spec, design, generative=True)  # observed responses to simulate
    prior = pm.sample_prior_predictive(
        draws=draws, model=built.model, random_seed=seed, var_names=list(built.observed)
    )
    pp = prior["prior_predictive"].dataset
    rows = []

    def add(response: str, level: str, observed: np.ndarray, simulated: np.ndarray) -> None:
        q = np.quantile(simulated, [0.05, 0.5, 0.95])
        rows.append(
            {
                "response": response,
                "level": level,
                "observed": float(observed.mean()),
                "prior_q05": q[0],
                "prior_median": q[1],
                "prior_q95": q[2],
            }
        )

    for response, level, _, observed, simulated in level_shares(design, pp):
        add(response, level, observed, simulated.mean(axis=1))
    return pd.DataFrame(rows)
