"""Effects as a statistician reads them: one compact table (rows: the contrast or intervention
and the subgroup; columns: the outcomes; cells ``mean [lower, upper]``, shares and their
differences in percentage points), and the provenance the written files carry."""

from __future__ import annotations

from typing import Any

import pandas as pd

from capmodel import intervals

STATS = ("mean", "sd", "lower", "upper", "prob_positive", "prob_best", "ess_bulk", "mcse_mean")
# columns that describe a row without telling rows apart (or repeat another column)
QUIET = ("treated", "control", "reference", "n_rows", "n_cells", "by_variable", "by_level")
RAW_QUANTITIES = ("ratio", "proportion_mediated")  # not shares: shown as they are
PP = 100.0


def _cell(mean: float, lower: float, upper: float, scale: float, digits: int) -> str:
    if pd.isna(mean):
        return "-"
    lo = "?" if pd.isna(lower) else f"{lower * scale:.{digits}f}"
    hi = "?" if pd.isna(upper) else f"{upper * scale:.{digits}f}"
    return f"{mean * scale:.{digits}f} [{lo}, {hi}]"


def _subgroup(row: pd.Series) -> str:
    var, level = row.get("by_variable", "all"), row.get("by_level", "all")
    return "all" if var == "all" else f"{var}={level}"


def _shares(table: pd.DataFrame) -> bool:
    """Whether the estimates are shares (realisations by outcome, pathway types by type)."""
    return "outcome" in table.columns or {"type", "name"} <= set(table.columns)


def compact_table(table: pd.DataFrame) -> pd.DataFrame:
    """The tidy ``table`` of an effect as rows (its key columns and the subgroup) by outcome,
    each cell ``mean [lower, upper]``: percentage points for shares and their differences,
    as they are for ratios, proportions mediated and effects on capability (no outcome)."""
    if not {"mean", "lower", "upper"} <= set(table.columns) or table.empty:
        return table
    t = table.copy()
    if "quantity" in t and (t["quantity"] == "difference").any():
        t = t[t["quantity"] == "difference"]  # total effects: the differences (--long: all)
    t["subgroup"] = t.apply(_subgroup, axis=1) if "by_variable" in t else "all"
    keys = [c for c in t.columns if c not in (*STATS, *QUIET, "outcome", "subgroup")]
    if "quantity" in keys and t["quantity"].nunique() == 1 and len(keys) > 1:
        keys.remove("quantity")  # one quantity: said in the header
    shares = _shares(t)
    raw = t["quantity"].isin(RAW_QUANTITIES) if "quantity" in t else pd.Series(False, t.index)
    scale = pd.Series(PP if shares else 1.0, index=t.index).where(~raw, 1.0)
    t["cell"] = [
        _cell(m, lo, hi, s, 1 if s == PP else 2)
        for m, lo, hi, s in zip(t["mean"], t["lower"], t["upper"], scale, strict=True)
    ]
    rows = [*keys, "subgroup"] if (t["subgroup"] != "all").any() or not keys else keys
    if "outcome" not in t.columns:
        return t[[*rows, "cell"]].rename(columns={"cell": "mean [lower, upper]"})
    wide = t.pivot_table(index=rows, columns="outcome", values="cell", aggfunc="first", sort=False)
    wide = wide[list(dict.fromkeys(t["outcome"]))]  # the outcomes in their own order
    wide.columns.name = None
    return wide.reset_index()


def compact_text(result: Any) -> str:
    """The header (estimand, notes, units) and the compact table of an EffectResult."""
    lines = [str(result.estimand)]
    lines += [f"  {k}: {v}" for k, v in result.notes.items()]
    t = result.table
    shares = _shares(t)
    unit = (
        "percentage points (shares and differences of shares; ratios and proportions "
        "mediated as they are)"
        if shares
        else "as estimated"
    )
    if "quantity" in t and (t["quantity"] == "difference").any():
        unit += "; differences treated - control (--long: ratios and each arm's shares)"
    elif "quantity" in t and t["quantity"].nunique() == 1:
        unit += f"; quantity: {t['quantity'].iloc[0]}"
    lines.append(f"  cells: posterior mean [{intervals.text()} interval], {unit}")
    with pd.option_context(
        "display.width", 250, "display.max_rows", 2000, "display.max_columns", 50
    ):
        lines.append(compact_table(result.table).to_string(index=False))
    return "\n".join(lines)


def fit_provenance(fit: Any, path: str | None, draws: int | None) -> dict[str, Any]:
    """Where an effect comes from: the fit (directory, spec, when), its data (hash, persons),
    its convergence verdict and the number of posterior draws the effect used."""
    m = fit.manifest
    from capmodel import __version__

    return {
        "fit": str(path) if path is not None else None,
        "spec": fit.spec.name,
        "fit_created": m.get("created"),
        "data_hash": m.get("data", {}).get("hash"),
        "n_persons": m.get("data", {}).get("n_persons"),
        "verdict": fit.diagnostics.verdict,
        "draws": draws,
        "capmodel_version": __version__,
    }


def verdict_warning(fit: Any, path: str | None = None) -> str | None:
    """The line every effects output starts with when the fit did not pass its convergence
    checks (None for a fit that passed)."""
    d = fit.diagnostics
    if d.verdict == "pass":
        return None
    name = f"{path} " if path else "this fit "
    reasons = f" ({'; '.join(d.reasons[:3])})" if d.reasons else ""
    if d.verdict == "fail":
        return (
            f"FAILED convergence: {name}did not pass the convergence checks{reasons}; these "
            "effects cannot be trusted: fix the sampling first"
        )
    if d.approximate:
        return (
            f"APPROXIMATE: {name}is an ADVI preview, not for inference; refit by NUTS "
            "before reporting these effects"
        )
    return (
        f"WARNING: {name}passed the convergence checks only with warnings{reasons}; read "
        "these effects with that in mind"
    )
