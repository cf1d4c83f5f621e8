"""Compare a fit's posterior with the simulator's true parameters (parameter recovery)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from capmodel.model.design import Design, TermParts

# posterior variable -> block of the recovery table
BLOCKS = {
    "support_effect": "structural",
    "conversion": "structural",
    "capability_covariate": "structural",
    "capability_growth_intercept": "structural",
    "capability_growth_support": "structural",
    "operator_effect": "group effects",
    "region_effect": "group effects",
    "loading": "measurement",
    "indicator_intercept": "measurement",
    "realisation_intercept": "realisation",
    "capability_loading": "realisation",
    "direct_effect": "realisation",
    "realisation_covariate": "realisation",
    "time_effect": "realisation",
    "operator_sd": "group scale",
    "region_sd": "group scale",
    "realisation_operator_sd": "group scale",
    "realisation_region_sd": "group scale",
    "realisation_operator_effect": "group effects",
    "realisation_region_effect": "group effects",
}


def block_of(name: str) -> str:
    """The recovery-table block of a posterior variable: BLOCKS, else by its name (cutpoints
    are measurement; the centred-scale intercepts and group-effect offsets go with their
    parameter)."""
    if name in BLOCKS:
        return BLOCKS[name]
    if name.startswith("cutpoints__"):
        return "measurement"
    if name.endswith("_sd") and "slope" not in name:  # <group>_sd, realisation_<group>_sd
        return "group scale"
    if name.endswith("_effect") and "predictor" not in name:  # any other group's effects
        return "group effects"
    for suffix in ("_c", "_raw", "_offset"):
        if name.endswith(suffix) and name[: -len(suffix)] in BLOCKS:
            return BLOCKS[name[: -len(suffix)]]
    return "other"


def _term_value(effects: dict[str, Any], part: TermParts) -> float:
    """Truth of a design term (a covariate's value, or its dummy of one level) in an effects
    table of the simulator (0 when absent)."""
    value = effects.get(part.covariate, 0.0)
    if part.level is None:
        return 0.0 if isinstance(value, dict) else float(value)
    return float(value.get(part.level, 0.0)) if isinstance(value, dict) else 0.0


def true_values(
    params: dict[str, Any], posterior: xr.Dataset, design: Design
) -> dict[str, xr.DataArray]:
    """Truth for every posterior variable the simulator defines, aligned to its coords;
    ``design``: the fit's (what each design term stands for: ``Design.term_parts``).

    Group standard deviations are compared with the sd the simulator drew the effects from."""
    parts = design.term_parts
    cap, meas, real = params["capability"], params["measurement"], params["realisations"]
    out: dict[str, xr.DataArray] = {}

    def like(name: str, fn) -> None:
        if name not in posterior:
            return
        da = posterior[name].isel(chain=0, draw=0, drop=True)
        values = np.array(
            [
                fn(*[str(da[d].values[i]) for d, i in zip(da.dims, ix, strict=True)])
                for ix in np.ndindex(*da.shape)
            ],
            dtype=float,
        ).reshape(da.shape)
        out[name] = xr.DataArray(values, coords=da.coords, dims=da.dims)

    like("support_effect", lambda k: cap["support_effect"][k])
    like(
        "conversion",
        lambda t: _term_value(cap["conversion"][parts[t].support], parts[t]),
    )
    like("capability_covariate", lambda t: _term_value(cap["effects"], parts[t]))
    growth = cap.get("growth", {"intercept": 0.0, "support": {}})  # none before it existed
    like("capability_growth_intercept", lambda: growth["intercept"])
    like("capability_growth_support", lambda k: growth["support"].get(k, 0.0))
    groups = [g.name for g in design.groups + design.interactions]
    for g in groups:  # a group (or cell) the simulator gives no effect has truth 0
        like(f"{g}_effect", lambda lv, g=g: cap.get(f"{g}_effect", {}).get(lv, 0.0))
    like("loading", lambda j: meas[j]["loading"])
    like("indicator_intercept", lambda j: meas[j]["intercept"])
    for j, m in meas.items():
        if m["kind"] == "ordinal" and f"cutpoints__{j}" in posterior:
            cuts = list(m["cutpoints"])
            labels = [str(v) for v in posterior[f"{j}_cut"].values]
            like(f"cutpoints__{j}", lambda c, cuts=cuts, labels=labels: cuts[labels.index(c)])
    like("realisation_intercept", lambda r: real[r]["intercept"])
    like("capability_loading", lambda r: real[r]["capability_loading"])
    like("direct_effect", lambda r, k: real[r]["support_effect"].get(k, 0.0))
    like("realisation_covariate", lambda r, t: _term_value(real[r]["effects"], parts[t]))
    like("time_effect", lambda r: real[r]["time_effect"])
    for g in groups:
        like(
            f"realisation_{g}_effect",
            lambda r, lv, g=g: real[r].get(f"{g}_effect", {}).get(lv, 0.0),
        )
    sds = params.get("group_sd", {})
    for group in groups:
        if f"{group}_sd" in posterior and group in sds:
            out[f"{group}_sd"] = xr.DataArray(float(sds[group]))
        name = f"realisation_{group}_sd"
        if name in posterior and f"realisation_{group}" in sds:
            out[name] = xr.DataArray(float(sds[f"realisation_{group}"]))
    return out


def recovery_table(
    posterior: xr.Dataset, truth: dict[str, xr.DataArray], prob: float = 0.9
) -> pd.DataFrame:
    """One row per scalar parameter: truth, posterior mean, equal-tailed interval, covered."""
    rows = []
    lo_q, hi_q = (1 - prob) / 2, 1 - (1 - prob) / 2
    for name, tv in truth.items():
        draws = posterior[name].stack(sample=("chain", "draw"))
        lo = draws.quantile(lo_q, dim="sample")
        hi = draws.quantile(hi_q, dim="sample")
        mean = draws.mean("sample")
        for ix in np.ndindex(*tv.shape):
            label = name + (
                "["
                + ", ".join(str(tv[d].values[i]) for d, i in zip(tv.dims, ix, strict=True))
                + "]"
                if ix
                else ""
            )
            t = float(tv.values[ix])
            a, b = float(lo.values[ix]), float(hi.values[ix])
            rows.append(
                {
                    "parameter": label,
                    "block": block_of(name),
                    "truth": t,
                    "mean": float(mean.values[ix]),
                    "lower": a,
                    "upper": b,
                    "covered": a <= t <= b,
                }
            )
    return pd.DataFrame(rows)
