"""Conversion of supports into capability: the effect of each support at each level of each
declared conversion factor, and contrasts between levels ("who converts this resource best").

Conversion of support k at level l of factor c (docs/effects.md): the change of m when s_k goes
0 -> 1 with z_c = l, the other moderators averaged over the population:

    CE_kcl = beta_k + sum_{t of k, c} gamma_t 1[level_t = l]
             + avg_i [ sum_{t of k, other factors} gamma_t z_it + u_k[g_i] ]

(a standardised effect: everyone set to level l). Contrasts between levels are then
gamma differences; ``prob_best`` is the posterior probability that a level converts best. The
average effect of each support on capability (factor 'all') and its average among the persons
of each ``by`` subgroup are also given. Capability is in residual standard deviations.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from capmodel.effects.predict import EffectModel
from capmodel.effects.tables import EffectResult, sample_coords, summary_columns
from capmodel.effects.threads import single_blas_thread
from capmodel.effects.total import notes
from capmodel.effects.units import EffectsError, conversion_parts


def person_weights(model: EffectModel, position: np.ndarray) -> np.ndarray:
    """Each person's weight, the sum of their rows' weights: (P,) or (D, P)."""
    u = model.units
    w = u.row_weights(position)
    if w.ndim == 1:
        return np.bincount(u.person_of_row, weights=w, minlength=u.n_persons)
    out = np.zeros((w.shape[0], u.n_persons))
    # numpy stubs: ufunc.at takes any index, a (slice, array) tuple too
    np.add.at(out, (slice(None), u.person_of_row), w)  # type: ignore[arg-type]
    return out


def _wmean(x: np.ndarray, w: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Weighted mean over persons of x (D, P); w (P,) or (D, P)."""
    if mask is not None:
        w = w * mask
    w = np.broadcast_to(w, x.shape)
    return np.sum(x * w, axis=1) / np.sum(w, axis=1)


def _support_effect(pred, model: EffectModel, k: str, z: np.ndarray) -> np.ndarray:
    """m(s_k = 1) - m(s_k = 0) per draw and person with conversion factors ``z`` (D, P)."""
    u = model.units
    s1 = u.supports.copy()
    s0 = u.supports.copy()
    col = u.support_names.index(k)
    s1[:, col], s0[:, col] = 1.0, 0.0
    return pred.capability_mean(s1, z) - pred.capability_mean(s0, z)


@single_blas_thread
def conversion(model: EffectModel, by: Sequence[str] = ()) -> EffectResult:
    """Effects of each support on capability by level of its conversion factors (see module
    doc), contrasts against the reference level, probability of converting best."""
    if not model.latent:
        raise EffectsError(
            "conversion effects are effects on capability: this model has no latent capability"
        )
    u, design = model.units, model.design
    parts = conversion_parts(design)
    plan: list[tuple[str, str, str, str | None]] = []  # (support, factor, level, reference)
    refs = {}
    for k in design.supports:
        plan.append((k, "all", "all", None))
        factors = dict.fromkeys(p.covariate for p in parts if p.support == k)
        for c in factors:
            terms = [t for t, p in enumerate(parts) if p.support == k and p.covariate == c]
            if parts[terms[0]].level is None:
                plan.append((k, c, "per unit", None))
                continue
            _, labels = u.split(c)
            present = {parts[t].level for t in terms}
            ref = next(lv for lv in labels if lv not in present)
            refs[(k, c)] = ref
            plan.extend((k, c, lv, ref) for lv in labels)
    by_plan = []
    for b in by:
        codes, labels = u.split(b)
        person_codes = np.full(u.n_persons, -1)
        person_codes[u.person_of_row] = codes
        by_plan.append((b, person_codes, labels))
    blocks, by_blocks = [], []
    for pred in model.predictors():
        w = person_weights(model, pred.p.position)
        cols = []
        for k, c, level, _ in plan:
            if c == "all":
                eff = _support_effect(pred, model, k, u.conversion_z)
            elif level == "per unit":
                t = next(t for t, p in enumerate(parts) if p.support == k and p.covariate == c)
                cols.append(pred.p["conversion"][:, t])
                continue
            else:
                z = u.conversion_z.copy()
                for t, p in enumerate(parts):
                    if p.support == k and p.covariate == c:
                        z[:, t] = float(p.level == level)
                eff = _support_effect(pred, model, k, z)
            cols.append(_wmean(eff, w))
        blocks.append(np.stack(cols, axis=1))
        if by_plan:
            row: list[np.ndarray] = []
            for k in design.supports:
                eff = _support_effect(pred, model, k, u.conversion_z)
                for _, pc, labels in by_plan:
                    row.extend(_wmean(eff, w, (pc == i).astype(float)) for i in range(len(labels)))
            by_blocks.append(np.stack(row, axis=1))
    arr = np.concatenate(blocks, axis=0)  # (D, plan)
    rows = []
    stats = summary_columns(arr, chain=model.params.chain)
    for j, (k, c, level, reference) in enumerate(plan):
        rows.append(
            {
                "support": k,
                "factor": c,
                "level": level,
                "quantity": "effect",
                "reference": reference or "",
                **{s: stats[s][j] for s in stats},
            }
        )
    # contrasts vs the reference level and probability of converting best
    for (k, c), ref in refs.items():
        idx = [j for j, p in enumerate(plan) if p[0] == k and p[1] == c]
        r = next(j for j in idx if plan[j][2] == ref)
        best = np.argmax(arr[:, idx], axis=1)
        for pos, j in enumerate(idx):
            rows[j]["prob_best"] = float(np.mean(best == pos))
            if j == r:
                continue
            st = summary_columns(arr[:, j] - arr[:, r], chain=model.params.chain)
            rows.append(
                {
                    "support": k,
                    "factor": c,
                    "level": plan[j][2],
                    "quantity": "contrast_vs_reference",
                    "reference": ref,
                    **{s: float(st[s]) for s in st},
                }
            )
    if by_plan:
        barr = np.concatenate(by_blocks, axis=0)
        st = summary_columns(barr, chain=model.params.chain)
        j = 0
        for k in design.supports:
            for b, _, labels in by_plan:
                for lv in labels:
                    rows.append(
                        {
                            "support": k,
                            "factor": b,
                            "level": lv,
                            "quantity": "average_in_subgroup",
                            "reference": "",
                            **{s: st[s][j] for s in st},
                        }
                    )
                    j += 1
    table = pd.DataFrame(rows)
    if "prob_best" not in table:
        table["prob_best"] = np.nan
    params = model.params
    ds = xr.Dataset(
        {"effect": (("sample", "term"), arr)},
        coords={
            **sample_coords(params.chain, params.draw),
            "support": ("term", [x[0] for x in plan]),
            "factor": ("term", [x[1] for x in plan]),
            "level": ("term", [x[2] for x in plan]),
        },
    )
    note = notes(
        model,
        scale="capability in residual standard deviations (Var(e) = 1)",
        definition="effect = average over the population of m(s_k=1) - m(s_k=0) with "
        "the factor set to the level for everyone; 'all' = average effect; "
        "'average_in_subgroup' = average among the subgroup's persons",
    )
    note.pop("residual", None)
    return EffectResult("conversion of supports into capability", table, ds, note)
