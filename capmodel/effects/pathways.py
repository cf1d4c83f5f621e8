"""The five pathway types of the CEP evaluation (docs/domain.md §5), by a configurable rule.

For a person at a wave, with capability gain D_i = theta_i(s_i) - theta_i(0) = m(s_i) - m(0)
(a posterior draw: the residual cancels), any realisation A_i (observed) and the optional failed
decisive test F_i (an extra column), threshold ``tau`` (default 0.5 residual sd):

    type 5  failure at a decisive test:           F_i = 1 and A_i = 0
    type 1  pragmatic, expected effects:          A_i = 1 and D_i <  tau
    type 2  dense, capability gain converted:     A_i = 1 and D_i >= tau
    type 3  capability gain not (yet) converted:  A_i = 0 and D_i >= tau (F_i != 1)
    type 4  relationship not converted:           A_i = 0 and D_i <  tau (F_i != 1)

Per-person type probabilities are shares of posterior draws; population shares are weighted
averages per draw; odds ratios compare each factor level with its reference level (descriptive
associations, not causal effects of the factor).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from capmodel.effects.aggregate import Subgroups
from capmodel.effects.extras import extra_column
from capmodel.effects.interventions import Intervention
from capmodel.effects.poststrat import DEFAULT_SEED, PostStratifier
from capmodel.effects.predict import EffectModel
from capmodel.effects.tables import EffectResult, sample_coords, summary_columns
from capmodel.effects.threads import single_blas_thread
from capmodel.effects.total import notes
from capmodel.effects.units import EffectsError

DEFAULT_TAU = 0.5
TYPES = (1, 2, 3, 4, 5)
TYPE_NAMES = {
    1: "pragmatic (expected effects)",
    2: "dense (gain converted)",
    3: "gain not converted",
    4: "relationship not converted",
    5: "failure at a decisive test",
}


def classify(
    gain: np.ndarray, any_change: np.ndarray, failed: np.ndarray | None, tau: float = DEFAULT_TAU
) -> np.ndarray:
    """Pathway type (1-5; 0 when A is unknown) per draw and row. ``gain``: (D, N); ``any_change``
    and ``failed``: (N,) 0/1 with NaN for missing (``failed`` None: no such column)."""
    a = np.broadcast_to(any_change, gain.shape)
    f = np.zeros_like(a) if failed is None else np.broadcast_to(np.nan_to_num(failed), gain.shape)
    high = gain >= tau
    out = np.where(a == 1, np.where(high, 2, 1), np.where(f == 1, 5, np.where(high, 3, 4))).astype(
        np.int8
    )
    return np.where(np.isnan(a), 0, out).astype(np.int8)


def any_change(y: np.ndarray) -> np.ndarray:
    """1 with any observed realisation, 0 when every one is observed 0, NaN otherwise."""
    out = np.full(y.shape[0], np.nan)
    out[(y == 0).all(axis=1)] = 0.0
    out[(y == 1).any(axis=1)] = 1.0
    return out


@single_blas_thread
def pathways(
    model: EffectModel,
    data: pd.DataFrame | str | None = None,
    tau: float = DEFAULT_TAU,
    by: Sequence[str] = (),
    factors: Sequence[str] | None = None,
    failed_column: str = "decisive_test_failed",
    population: pd.DataFrame | None = None,
    count: str | None = None,
    seed: int = DEFAULT_SEED,
    allow_unseen_groups: bool = False,
) -> EffectResult:
    """Population shares of the five pathway types (overall and by subgroup), per-person type
    probabilities (``extra['persons']``) and odds ratios of each type by factor level against
    the reference level (``extra['odds_ratios']``). ``data``: the raw survey table, for the
    failed-decisive-test column (without it, type 5 cannot occur). ``population``: a
    population table (as for :func:`capmodel.effects.poststratify`): adds the post-stratified
    shares of types 1-4 (``extra['poststratified']``, by the ``by`` variables that are cell
    variables)."""
    if not model.latent:
        raise EffectsError(
            "pathway types need a capability gain: this model has no latent capability"
        )
    u = model.units
    if u.realisation_y is None:
        raise EffectsError("pathway types need observed realisations")
    a = any_change(u.realisation_y)
    failed = extra_column(model.spec, u, data, failed_column) if data is not None else None
    if factors is None:
        factors = [
            c
            for c in dict.fromkeys(
                model.spec.capability_factors
                + tuple(c for _, cs in model.spec.conversion for c in cs)
            )
            if c in u.by and c in u.references
        ]
    missing = [c for c in factors if c not in u.references]
    if missing:
        raise EffectsError(
            f"odds ratios need categorical covariates; {missing} are not; "
            f"allowed: {sorted(u.references)}"
        )
    groups = Subgroups.of(u, by)
    fgroups = Subgroups.of(u, factors)
    names = u.support_names
    none = Intervention(everything=0).apply(u.supports, names)
    known = (~np.isnan(a)).astype(float)
    counts = np.zeros((u.n_rows, len(TYPES)))
    shares, fshares = [], []
    for pred in model.predictors():
        gain = pred.capability_mean(u.supports) - pred.capability_mean(none)  # (D, P)
        types = classify(gain[:, u.person_of_row], a, failed, tau)
        onehot = (types[..., None] == np.array(TYPES)).astype(float)  # (D, N, 5)
        counts += onehot.sum(axis=0)
        w = model.weights(pred)
        shares.append(groups.means(onehot, w, known))
        fshares.append(fgroups.means(onehot, w, known))
    arr = np.concatenate(shares, axis=0)  # (D, G, 5)
    farr = np.concatenate(fshares, axis=0)
    rows = []
    for g in range(groups.size):
        st = summary_columns(arr[:, g, :], chain=model.params.chain)
        for i, t in enumerate(TYPES):
            rows.append(
                {
                    "type": t,
                    "name": TYPE_NAMES[t],
                    "by_variable": groups.by_variable[g],
                    "by_level": groups.by_level[g],
                    "n_rows": int(groups.counts(known)[g]),
                    "mean": st["mean"][i],
                    "sd": st["sd"][i],
                    "lower": st["lower"][i],
                    "upper": st["upper"][i],
                }
            )
    table = pd.DataFrame(rows)
    p = model.params
    persons = pd.DataFrame(counts / p.n_draws, columns=[f"p_type{t}" for t in TYPES])
    persons.insert(
        0,
        "person",
        np.asarray(u.person_labels)[u.person_of_row] if u.person_labels else np.arange(u.n_rows),
    )
    persons.insert(1, "wave", u.wave if u.wave is not None else 0)
    result = EffectResult(
        "pathway types",
        table,
        xr.Dataset(
            {"share": (("sample", "subgroup", "type"), arr)},
            coords={
                **sample_coords(p.chain, p.draw),
                "type": list(TYPES),
                "by_variable": ("subgroup", list(groups.by_variable)),
                "by_level": ("subgroup", list(groups.by_level)),
            },
        ),
        notes(
            model,
            rule=f"tau = {tau} (capability gain in residual sd); types as in "
            "docs/domain.md §5 (see capmodel.effects.pathways)",
            failed_test=(
                f"from column '{failed_column}'"
                if failed is not None
                else "not available: type 5 cannot occur (pass the raw data)"
            ),
        ),
    )
    result.extra["persons"] = persons
    result.extra["odds_ratios"] = _odds_ratios(farr, fgroups, u.references)
    if population is not None:
        result.extra["poststratified"] = poststratified_shares(
            model,
            population,
            tau,
            by,
            count=count,
            seed=seed,
            allow_unseen_groups=allow_unseen_groups,
        )
    return result


def poststratified_shares(
    model: EffectModel,
    population: pd.DataFrame,
    tau: float = DEFAULT_TAU,
    by: Sequence[str] = (),
    count: str | None = None,
    seed: int = DEFAULT_SEED,
    allow_unseen_groups: bool = False,
) -> pd.DataFrame:
    """Shares of pathway types 1-4 in a population table, by MRP (capmodel.effects.poststrat).

    Per posterior draw and cell, with the survey-only variables x drawn from the assignment
    sub-model: the gain D = m(s, x, c) - m(0, x, c) decides "gain >= tau", and the realisation
    side is P(any realisation | x, c) with e integrated out, so P(type 2) = 1{D >= tau} P(any),
    P(type 3) = 1{D >= tau} (1 - P(any)), and types 1 and 4 likewise with D < tau. Type 5 needs
    the decisive-test column, which a population table does not have."""
    ps = PostStratifier(model, population, count=count, allow_unseen_groups=allow_unseen_groups)
    names = model.units.support_names
    out, groups = [], None
    for units, groups, pred, _ in ps.draws([b for b in by if b in ps.cell_vars], seed):
        none = Intervention(everything=0).apply(units.supports, names)
        high = (pred.capability_mean(units.supports) - pred.capability_mean(none)) >= tau  # (1, C)
        p_any = pred.probabilities(units.supports)[..., -1]  # (1, C)
        shares = np.stack(
            [~high * p_any, high * p_any, high * (1 - p_any), ~high * (1 - p_any)], axis=-1
        )
        out.append(groups.means(shares, units.weights))
    arr = np.concatenate(out, axis=0)  # (D, G, 4)
    assert groups is not None  # set by each block of draws, and there is one (arr)
    rows = []
    for g in range(groups.size):
        st = summary_columns(arr[:, g, :], chain=model.params.chain)
        for i, t in enumerate(TYPES[:4]):
            rows.append(
                {
                    "type": t,
                    "name": TYPE_NAMES[t],
                    "by_variable": groups.by_variable[g],
                    "by_level": groups.by_level[g],
                    "mean": st["mean"][i],
                    "sd": st["sd"][i],
                    "lower": st["lower"][i],
                    "upper": st["upper"][i],
                }
            )
    return pd.DataFrame(rows)


def _odds_ratios(farr: np.ndarray, fgroups: Subgroups, references: dict[str, str]) -> pd.DataFrame:
    """Odds of each type at each factor level vs the factor's reference level, per draw."""
    rows = []
    var = np.array(fgroups.by_variable)
    lev = np.array(fgroups.by_level)
    for c, ref in references.items():
        idx = np.flatnonzero(var == c)
        if idx.size == 0 or ref not in set(lev[idx]):
            continue
        r = idx[list(lev[idx]).index(ref)]
        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # types nobody has: NaN
            odds = farr / (1.0 - farr)
            for j in idx:
                if j == r:
                    continue
                ratio = odds[:, j, :] / odds[:, r, :]  # (D, 5)
                st = summary_columns(np.log(ratio))
                for i, t in enumerate(TYPES):
                    rows.append(
                        {
                            "type": t,
                            "factor": c,
                            "level": lev[j],
                            "reference": ref,
                            "odds_ratio": float(np.exp(np.nanmedian(np.log(ratio[:, i])))),
                            "lower": float(np.exp(st["lower"][i])),
                            "upper": float(np.exp(st["upper"][i])),
                            "prob_higher_odds": float(st["prob_positive"][i]),
                        }
                    )
    return pd.DataFrame(
        rows,
        columns=[
            "type",
            "factor",
            "level",
            "reference",
            "odds_ratio",
            "lower",
            "upper",
            "prob_higher_odds",
        ],
    )
