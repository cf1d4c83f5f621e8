"""Predicted realisations under interventions and total effects (differences and ratios).

M_r(s*) = sum_i w_i E[pi_r(s*, theta_i(s*))] / sum_i w_i over the rows of the population (and
of each subgroup), per posterior draw; theta_i(s*) = m(s*, z_i, g_i) + e_i, the person keeping
their residual. TE of a contrast (treated s1, control s0) = M_r(s1) - M_r(s0); ratio M_r(s1) /
M_r(s0).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from capmodel import intervals
from capmodel.effects.aggregate import Subgroups
from capmodel.effects.interventions import (
    Intervention,
    contrast_name,
    parse_intervention,
    support_contrasts,
)
from capmodel.effects.predict import EffectModel
from capmodel.effects.tables import EffectResult, sample_coords, tidy
from capmodel.effects.threads import single_blas_thread
from capmodel.effects.units import EffectsError


def notes(model: EffectModel, **extra) -> dict:
    """What every output says: population, residual rule, draws."""
    out = {
        "population": model.units.description,
        "residual": model.residual_text,
        "draws": model.params.n_draws,
        "interval": intervals.text(),
    }
    out.update(extra)
    return out


def mean_predictions(
    model: EffectModel, interventions: Sequence[Intervention], groups: Subgroups
) -> np.ndarray:
    """(D, I, G, O) population means of every outcome under each intervention."""
    if not model.design.realisations:
        raise EffectsError("this model has no realisations: nothing to predict")
    names = model.units.support_names
    blocks = []
    for pred in model.predictors():
        w = model.weights(pred)
        per = []
        for iv in interventions:
            s = iv.apply(model.units.supports, names)
            per.append(groups.means(pred.probabilities(s), w))
        blocks.append(np.stack(per, axis=1))
    return np.concatenate(blocks, axis=0)


def _subgroup_coords(groups: Subgroups) -> dict:
    return {
        "subgroup": np.arange(groups.size),
        "by_variable": ("subgroup", list(groups.by_variable)),
        "by_level": ("subgroup", list(groups.by_level)),
        "n_rows": ("subgroup", groups.counts()),
    }


def _flat(df: pd.DataFrame, groups: Subgroups) -> pd.DataFrame:
    """Replace the subgroup index by by_variable, by_level and n_rows."""
    i = df["subgroup"].astype(int).to_numpy()
    df = df.drop(columns="subgroup")
    df.insert(0, "by_variable", np.array(groups.by_variable)[i])
    df.insert(1, "by_level", np.array(groups.by_level)[i])
    df.insert(2, "n_rows", groups.counts()[i])
    return df


@single_blas_thread
def predict(model: EffectModel, interventions: Sequence, by: Sequence[str] = ()) -> EffectResult:
    """Predicted share with each realisation (and any realisation) under each intervention
    ('observed', 'none', 'k=1,j=0', ...), overall and by subgroup."""
    ivs = [parse_intervention(i).check(model.units.support_names) for i in interventions]
    groups = Subgroups.of(model.units, by)
    arr = mean_predictions(model, ivs, groups)
    p = model.params
    da = xr.DataArray(
        arr,
        dims=("sample", "intervention", "subgroup", "outcome"),
        coords={
            **sample_coords(p.chain, p.draw),
            "intervention": [iv.name for iv in ivs],
            **_subgroup_coords(groups),
            "outcome": list(model.outcomes),
        },
    )
    table = tidy(da.drop_vars(["by_variable", "by_level", "n_rows"]))
    table = _flat(table, groups)
    table = table[
        [
            "intervention",
            "outcome",
            "by_variable",
            "by_level",
            "n_rows",
            "mean",
            "sd",
            "lower",
            "upper",
            "ess_bulk",
            "mcse_mean",
        ]
    ]
    return EffectResult(
        "predicted realisations under interventions",
        table,
        xr.Dataset({"predicted": da}),
        notes(model),
    )


@single_blas_thread
def total_effects(
    model: EffectModel,
    contrasts: Sequence | None = None,
    supports: Sequence[str] | None = None,
    cep: bool = True,
    by: Sequence[str] = (),
) -> EffectResult:
    """Total effects: M(treated) - M(control) and M(treated) / M(control).

    ``contrasts``: (treated, control) pairs of interventions (text, mapping or
    :class:`Intervention`); a single intervention is paired with its complement (k=1 -> k=0,
    'none' -> 'observed'). Default: do(k = 1) vs do(k = 0) for each support (others as
    observed) and, if ``cep``, the CEP as received vs no CEP at all.
    """
    names = model.units.support_names
    if contrasts is None:
        pairs = support_contrasts(names, supports, cep=cep)
    else:
        pairs = []
        for c in contrasts:
            if isinstance(c, tuple | list):
                t, k = (parse_intervention(x).check(names) for x in c)
            else:
                t = parse_intervention(c).check(names)
                k = t.complement()
            pairs.append((t, k))
    unique: dict[str, Intervention] = {}
    for t, k in pairs:
        unique.setdefault(t.name, t)
        unique.setdefault(k.name, k)
    order = list(unique)
    groups = Subgroups.of(model.units, by)
    arr = mean_predictions(model, list(unique.values()), groups)
    ti = [order.index(t.name) for t, _ in pairs]
    ci = [order.index(k.name) for _, k in pairs]
    treated, control = arr[:, ti], arr[:, ci]
    p = model.params
    coords = {
        **sample_coords(p.chain, p.draw),
        "contrast": [contrast_name(t, k) for t, k in pairs],
        "treated_intervention": ("contrast", [t.name for t, _ in pairs]),
        "control_intervention": ("contrast", [k.name for _, k in pairs]),
        **_subgroup_coords(groups),
        "outcome": list(model.outcomes),
    }
    dims = ("sample", "contrast", "subgroup", "outcome")
    with np.errstate(divide="ignore", invalid="ignore"):
        ds = xr.Dataset(
            {
                "treated": (dims, treated),
                "control": (dims, control),
                "difference": (dims, treated - control),
                "ratio": (dims, treated / control),
            },
            coords=coords,
        )
    parts = []
    for q in ("difference", "ratio", "treated", "control"):
        da = ds[q].drop_vars(
            ["by_variable", "by_level", "n_rows", "treated_intervention", "control_intervention"]
        )
        if q == "ratio":  # prob_positive of a ratio: P(ratio > 1)
            t = tidy(da - 1.0, quantity=q)
            t[["mean", "lower", "upper"]] += 1.0
        else:
            t = tidy(da, quantity=q)
        parts.append(t)
    table = _flat(pd.concat(parts, ignore_index=True), groups)
    tc = {contrast_name(t, k): (t.name, k.name) for t, k in pairs}
    table.insert(0, "treated", [tc[c][0] for c in table["contrast"]])
    table.insert(1, "control", [tc[c][1] for c in table["contrast"]])
    cols = [
        "contrast",
        "treated",
        "control",
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
        "total effects",
        table[cols],
        ds,
        notes(
            model,
            contrasts="do(treated) vs do(control); supports an intervention leaves out keep "
            "their observed values",
        ),
    )
