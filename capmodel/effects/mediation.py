"""Natural direct and indirect effects of supports through capability (the mediator).

For a contrast treated s1 vs control s0 (do(k = 1) vs do(k = 0), other supports as observed;
or the CEP as received vs none), theta_i(a) = m(s_a, z_i, g_i) + e_i and

    NDE (pure direct)    = M[pi_r(s1, theta_i(s0))] - M[pi_r(s0, theta_i(s0))]
    NIE (total indirect) = M[pi_r(s1, theta_i(s1))] - M[pi_r(s1, theta_i(s0))]
    TE                   = NDE + NIE  (exactly, per draw)
    proportion mediated  = NIE / TE, reported only where TE's interval excludes 0,

where pi_r(s, theta) uses s in the direct part and theta in the capability part and M is the
weighted population average (docs/effects.md, "Mediation through capability").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from capmodel.effects.aggregate import Subgroups
from capmodel.effects.interventions import contrast_name, support_contrasts
from capmodel.effects.predict import EffectModel
from capmodel.effects.tables import EffectResult, interval, sample_coords, tidy
from capmodel.effects.threads import single_blas_thread
from capmodel.effects.total import _flat, _subgroup_coords, notes
from capmodel.effects.units import EffectsError


@single_blas_thread
def mediation(
    model: EffectModel,
    supports: Sequence[str] | None = None,
    cep: bool = True,
    by: Sequence[str] = (),
) -> EffectResult:
    """NDE, NIE, TE and the proportion mediated of each support (and of the CEP as a whole
    when ``cep``) on each realisation, overall and by subgroup."""
    if not model.latent:
        raise EffectsError(
            "mediation through capability needs a latent capability model "
            "(this model has direct effects only: TE = NDE)"
        )
    if not model.design.realisations:
        raise EffectsError("this model has no realisations")
    names = model.units.support_names
    pairs = support_contrasts(
        [k for k in names if k in model.design.supports] if supports is None else supports, cep=cep
    )
    for t, k in pairs:
        t.check(names), k.check(names)
    groups = Subgroups.of(model.units, by)
    blocks = []
    for pred in model.predictors():
        w = model.weights(pred)
        per = []
        for t, k in pairs:
            s1 = t.apply(model.units.supports, names)
            s0 = k.apply(model.units.supports, names)
            m11 = groups.means(pred.probabilities(s1, s1), w)
            m10 = groups.means(pred.probabilities(s1, s0), w)
            m00 = groups.means(pred.probabilities(s0, s0), w)
            per.append(np.stack([m10 - m00, m11 - m10, m11 - m00], axis=0))
        blocks.append(np.stack(per, axis=2))  # (3, D, C, G, O)
    arr = np.concatenate(blocks, axis=1)
    nde, nie, te = arr
    te_lo, te_hi = interval(te)
    clear = (te_lo > 0) | (te_hi < 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        prop = np.where(clear[None], nie / te, np.nan)
    p = model.params
    dims = ("sample", "contrast", "subgroup", "outcome")
    ds = xr.Dataset(
        {
            "nde": (dims, nde),
            "nie": (dims, nie),
            "te": (dims, te),
            "proportion_mediated": (dims, prop),
        },
        coords={
            **sample_coords(p.chain, p.draw),
            "contrast": [contrast_name(t, k) for t, k in pairs],
            **_subgroup_coords(groups),
            "outcome": list(model.outcomes),
        },
    )
    parts = [
        tidy(ds[q].drop_vars(["by_variable", "by_level", "n_rows"]), quantity=q)
        for q in ("nde", "nie", "te", "proportion_mediated")
    ]
    table = _flat(pd.concat(parts, ignore_index=True), groups)
    cols = [
        "contrast",
        "quantity",
        "outcome",
        "by_variable",
        "by_level",
        "n_rows",
        "mean",
        "sd",
        "lower",
        "upper",
        "prob_positive",
        "ess_bulk",
        "mcse_mean",
    ]
    return EffectResult(
        "mediation through capability",
        table[cols],
        ds,
        notes(
            model,
            definitions="NDE = pi(s1, theta(s0)) - pi(s0, theta(s0)); NIE = pi(s1, "
            "theta(s1)) - pi(s1, theta(s0)); TE = NDE + NIE",
            proportion_mediated="NIE / TE, left empty where the TE interval includes 0",
            assumptions="no unmeasured confounding of support-outcome, support-capability and "
            "capability-outcome relations given the declared confounders; no "
            "confounder of capability and outcomes affected by the support",
        ),
    )
