"""Attribution: the probability that a person's change would not have happened without the CEP.

Realisations follow R_r = 1[U_r < pi_r] with one uniform U_r per person and realisation, the SAME
in the world with the CEP as received and the world with no CEP (monotone response), and U_r
independent across r given capability. For a person with observed pattern R_i and some change
(docs/effects.md, "Attribution: probability of necessity"):

    PN_i = prod_{r: R_ir = 1} max(0, (pi1_r - pi0_r) / pi1_r),
    pi1_r = pi_r(s_i, theta_i(s_i)),  pi0_r = pi_r(0, theta_i(0)),

averaged over the posterior of (parameters, e_i). The share attributable among changers is
sum_i w_i PN_i / sum_i w_i over changers; it is set beside the self-reported "would not have
happened without the CEP" when the data have that column.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from capmodel.effects.aggregate import Subgroups
from capmodel.effects.extras import extra_column
from capmodel.effects.interventions import Intervention
from capmodel.effects.predict import EffectModel
from capmodel.effects.tables import EffectResult, sample_coords, summary_columns
from capmodel.effects.threads import single_blas_thread
from capmodel.effects.total import notes
from capmodel.effects.units import EffectsError

ASSUMPTIONS = (
    "monotone response (the same uniform U_r decides R_r with and without the CEP), "
    "U_r independent across realisations given capability, no unmeasured "
    "confounding given the declared confounders; realisations made less likely by "
    "the CEP contribute max(0, .) = 0"
)


def necessity(pred, model: EffectModel, y: np.ndarray) -> np.ndarray:
    """PN_i per draw and row (D, N); 0 for rows with no observed change."""
    names = model.units.support_names
    observed = model.units.supports
    none = Intervention(everything=0).apply(observed, names)
    p1, w = pred.node_probabilities(observed)
    p0, _ = pred.node_probabilities(none)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.maximum(0.0, (p1 - p0) / p1)  # (D, N, R, Q)
    ratio = np.where((y == 1)[None, :, :, None], ratio, 1.0)
    pn = np.prod(ratio, axis=2)  # (D, N, Q)
    pn = np.einsum("dnq,dnq->dn", pn, np.broadcast_to(w, pn.shape))
    return np.where((y == 1).any(axis=1)[None, :], pn, 0.0)


@single_blas_thread
def attribution(
    model: EffectModel,
    data: pd.DataFrame | str | None = None,
    by: Sequence[str] = (),
    column: str = "attribution",
) -> EffectResult:
    """Share of changers whose change is attributable to the CEP (PN), overall and by
    subgroup, beside the self-reported attribution (``column`` of ``data``, the raw survey
    table, when given). ``extra['persons']``: posterior mean PN of every changer row."""
    u = model.units
    if u.realisation_y is None or not model.design.realisations:
        raise EffectsError("attribution needs observed realisations")
    y = u.realisation_y
    changers = (y == 1).any(axis=1)
    groups = Subgroups.of(u, by)
    shares, pn_sum = [], np.zeros(u.n_rows)
    for pred in model.predictors():
        pn = necessity(pred, model, y)
        pn_sum += pn.sum(axis=0)
        shares.append(groups.means(pn, model.weights(pred), changers.astype(float)))
    arr = np.concatenate(shares, axis=0)  # (D, G)
    st = summary_columns(arr)
    table = pd.DataFrame(
        {
            "by_variable": groups.by_variable,
            "by_level": groups.by_level,
            "n_changers": groups.counts(changers.astype(float)),
            "pn_mean": st["mean"],
            "pn_lower": st["lower"],
            "pn_upper": st["upper"],
        }
    )
    if data is not None:
        att = extra_column(model.spec, u, data, column)
        answered = changers & ~np.isnan(att)
        w = u.weights if u.weights.ndim == 1 else u.weights.mean(axis=0)
        hw = groups.member * (w * answered)[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            table["self_reported"] = (np.nan_to_num(att) @ hw) / hw.sum(axis=0)
        table["n_self_reported"] = groups.counts(answered.astype(float))
    p = model.params
    ds = xr.Dataset(
        {"pn_share": (("sample", "subgroup"), arr)},
        coords={
            **sample_coords(p.chain, p.draw),
            "by_variable": ("subgroup", list(groups.by_variable)),
            "by_level": ("subgroup", list(groups.by_level)),
        },
    )
    rows = np.flatnonzero(changers)
    persons = pd.DataFrame(
        {
            "person": np.asarray(u.person_labels)[u.person_of_row[rows]],
            "wave": u.wave[rows] if u.wave is not None else 0,
            "pn_mean": pn_sum[rows] / p.n_draws,
        }
    )
    result = EffectResult(
        "attribution: probability of necessity among changers",
        table,
        ds,
        notes(
            model,
            definition="PN_i = prod over realisations the person had "
            "of max(0, (pi1 - pi0) / pi1); pi1 with the CEP as received, pi0 "
            "with no CEP at all",
            assumptions=ASSUMPTIONS,
            self_reported=(
                f"weighted share answering 1 to '{column}' among changers"
                if data is not None
                else "not available (pass the raw data)"
            ),
        ),
    )
    result.extra["persons"] = persons
    return result
