"""The results of a design study (docs/design.md): per plan and estimand, the expected 90%
interval width (with its Monte Carlo standard error), the probability that the interval
excludes 0 (where that is the question), the coverage of the truth (with its binomial
standard error) and the plan's cost; written as ``design.csv``, ``estimates.csv``,
``tasks.csv`` and a Markdown table for docs/design.md."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from capmodel.atomic import atomic_write_text
from capmodel.studies.design_estimands import BLOCKS

TABLE_COLUMNS = [
    "plan",
    "estimand",
    "block",
    "what",
    "horizon",
    "n",
    "mean_width",
    "se_width",
    "p_excludes_zero",
    "se_p_excludes_zero",
    "coverage",
    "se_coverage",
    "mean_estimate",
    "mean_truth",
    "mean_error",
    "persons",
    "rows",
]
TASK_COLUMNS = [
    "plan",
    "replicate",
    "status",
    "persons",
    "rows",
    "verdict",
    "divergences",
    "max_rhat",
    "min_ess_bulk",
    "fit_seconds",
    "seconds",
    "estimand_errors",
    "error",
]


def task_key(plan: str, r: int) -> str:
    """The record name of plan ``plan``, replicate ``r``."""
    return f"r{r:05d}-{plan}"


@dataclass
class DesignSummary:
    """``table`` (plan x estimand), ``estimates`` (one row per plan, replicate and
    estimand), ``tasks`` (one row per plan and replicate) and the study's settings."""

    settings: dict[str, Any]
    plans: list[dict[str, Any]]
    reps: int
    tasks: pd.DataFrame
    estimates: pd.DataFrame
    table: pd.DataFrame

    @property
    def plan_names(self) -> list[str]:
        return [str(p["name"]) for p in self.plans]

    @property
    def finished(self) -> int:
        return int((self.tasks["status"] == "ok").sum())

    @property
    def failed(self) -> int:
        return int((self.tasks["status"] == "failed").sum())

    @property
    def missing(self) -> int:
        return int(self.tasks["status"].isna().sum())

    @property
    def complete(self) -> bool:
        return self.finished == len(self.tasks)

    def costs(self) -> pd.DataFrame:
        """One row per plan: kind, interviews per wave, persons, rows, fits finished and failed,
        mean fit time, fits with divergences or a failing verdict."""
        rows = []
        for p in self.plans:
            t = self.tasks[self.tasks["plan"] == p["name"]]
            ok = t[t["status"] == "ok"]
            rows.append(
                {
                    "plan": p["name"],
                    "kind": p["kind"],
                    "interviews": ", ".join(f"{n:,} at {w} m" for w, n in p["respondents"].items()),
                    "persons": p["persons"],
                    "rows": p["rows"],
                    "oversample": _oversample_text(p.get("oversample") or {}),
                    "finished": len(ok),
                    "failed": int((t["status"] == "failed").sum()),
                    "divergent_fits": int((ok["divergences"].fillna(0) > 0).sum()),
                    "failing_verdict": int((ok["verdict"] == "fail").sum()),
                    "mean_fit_seconds": float(ok["fit_seconds"].mean()) if len(ok) else None,
                }
            )
        return pd.DataFrame(rows)

    def write(self, out: Path) -> None:
        atomic_write_text(out / "design.csv", self.table.to_csv(index=False))
        atomic_write_text(out / "estimates.csv", self.estimates.to_csv(index=False))
        atomic_write_text(out / "tasks.csv", self.tasks.to_csv(index=False))
        atomic_write_text(out / "plans.csv", self.costs().to_csv(index=False))


def _oversample_text(over: Mapping[str, Mapping[str, float]]) -> str:
    return "; ".join(
        f"{c}: " + ", ".join(f"{lv} x{f:g}" for lv, f in levels.items())
        for c, levels in over.items()
    )


def _se_mean(x: np.ndarray) -> float:
    return float(np.std(x, ddof=1) / math.sqrt(x.size)) if x.size > 1 else float("nan")


def _share(x: pd.Series) -> tuple[float, float, int]:
    v = x.dropna().astype(float).to_numpy()
    if not v.size:
        return float("nan"), float("nan"), 0
    p = float(v.mean())
    return p, math.sqrt(p * (1 - p) / v.size), int(v.size)


def _order(estimates: pd.DataFrame) -> list[str]:
    """Estimands by block, then by what (the CEP first, then in order of appearance: the
    supports in the model's order, types 1-4), then by horizon."""
    blocks = list(BLOCKS)
    first = estimates.drop_duplicates("estimand")
    seen = list(dict.fromkeys(str(w) for w in first["what"]))
    keys = sorted(
        first.itertuples(),
        key=lambda r: (
            blocks.index(r.block) if r.block in blocks else len(blocks),
            -1 if r.what == "cep" else seen.index(str(r.what)),
            int(r.horizon),
        ),
    )
    return [str(r.estimand) for r in keys]


def summarise(
    records: Mapping[str, Mapping[str, Any]],
    plans: Sequence[Mapping[str, Any]],
    reps: int,
    settings: Mapping[str, Any],
) -> DesignSummary:
    """The summary of the records of replicates 0..reps-1 of each plan (records of others,
    e.g. from a run with more replicates, are left out)."""
    task_rows, est_rows = [], []
    for p in plans:
        for r in range(reps):
            rec = records.get(task_key(str(p["name"]), r))
            row: dict[str, Any] = {c: None for c in TASK_COLUMNS}
            row.update({"plan": p["name"], "replicate": r, "persons": p["persons"]})
            row["rows"] = p["rows"]
            if rec is not None:
                for c in TASK_COLUMNS:
                    if c in rec and c not in ("plan", "replicate"):
                        row[c] = rec[c]
                errs = rec.get("estimand_errors") or []
                row["estimand_errors"] = (
                    "; ".join(f"{e['block']} at {e['horizon']} m: {e['error']}" for e in errs)
                    or None
                )
                if rec.get("status") == "ok":
                    for e in rec.get("estimates") or []:
                        est_rows.append({"plan": p["name"], "replicate": r, **e})
            task_rows.append(row)
    tasks = pd.DataFrame(task_rows, columns=TASK_COLUMNS)
    est_cols = ["plan", "replicate", "estimand", "block", "what", "horizon", "estimate"]
    est_cols += ["lower", "upper", "width", "excludes_zero", "truth", "covered"]
    estimates = pd.DataFrame(est_rows, columns=est_cols)
    cost = {str(p["name"]): (p["persons"], p["rows"]) for p in plans}
    rows = []
    if len(estimates):
        order = _order(estimates)
        for plan in [str(p["name"]) for p in plans]:
            mine = estimates[estimates["plan"] == plan]
            for name in order:
                e = mine[mine["estimand"] == name]
                if not len(e):
                    continue
                width = e["width"].dropna().astype(float).to_numpy()
                pz, pz_se, _ = _share(e["excludes_zero"])
                cov, cov_se, _ = _share(e["covered"])
                truth = e["truth"].dropna().astype(float)
                err = (e["estimate"].astype(float) - e["truth"].astype(float)).dropna()
                rows.append(
                    {
                        "plan": plan,
                        "estimand": name,
                        "block": e["block"].iloc[0],
                        "what": e["what"].iloc[0],
                        "horizon": int(e["horizon"].iloc[0]),
                        "n": len(e),
                        "mean_width": float(width.mean()) if width.size else float("nan"),
                        "se_width": _se_mean(width),
                        "p_excludes_zero": pz,
                        "se_p_excludes_zero": pz_se,
                        "coverage": cov,
                        "se_coverage": cov_se,
                        "mean_estimate": float(e["estimate"].astype(float).mean()),
                        "mean_truth": float(truth.mean()) if len(truth) else float("nan"),
                        "mean_error": float(err.mean()) if len(err) else float("nan"),
                        "persons": cost[plan][0],
                        "rows": cost[plan][1],
                    }
                )
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    return DesignSummary(dict(settings), [dict(p) for p in plans], reps, tasks, estimates, table)


def _num(v: Any, digits: int = 3) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return "–"
    return "–" if not math.isfinite(x) else f"{x:.{digits}f}"


def _pct(v: Any) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return "–"
    return "–" if not math.isfinite(x) else f"{100 * x:.0f}%"


def wide(summary: DesignSummary, cell: str) -> pd.DataFrame:
    """Estimands (rows) x plans (columns) of one statistic, as text: ``width`` (mean width
    ± its se), ``excludes`` (P(interval excludes 0), where that is the question) or
    ``coverage`` (coverage ± its se)."""
    t = summary.table
    order = list(dict.fromkeys(t["estimand"]))
    if len(t):
        order = _order(t)
    out = pd.DataFrame({"estimand": order})
    for plan in summary.plan_names:
        mine = t[t["plan"] == plan].set_index("estimand")
        col = []
        for name in order:
            if name not in mine.index:
                col.append("–")
                continue
            r = mine.loc[name]
            if cell == "width":
                col.append(f"{_num(r['mean_width'])} ± {_num(r['se_width'])}")
            elif cell == "excludes":
                col.append(
                    _pct(r["p_excludes_zero"]) if BLOCKS.get(str(r["block"]), ("", 0))[1] else "–"
                )
            else:
                col.append(f"{_pct(r['coverage'])} ± {_pct(r['se_coverage'])}")
        out[plan] = col
    return out


def markdown(summary: DesignSummary, command: str = "", seconds: float | None = None) -> str:
    """The study's tables in Markdown (for docs/design.md): the plans and their cost, then per
    estimand and plan the mean 90% interval width ± its Monte Carlo se, P(interval excludes
    0) and coverage."""
    st = summary.settings
    lines = [
        f"Scenario {st.get('scenario')}, {st.get('n_population'):,} beneficiaries, spec "
        f"{st.get('spec_name')}, {summary.reps} replicate(s) per plan (the same population "
        f"draw for every plan of a replicate), NUTS {st.get('chains')} chains x "
        f"{st.get('draws')} draws after {st.get('tune')} tuning steps, effects from "
        f"{st.get('effect_draws')} draws, weights: {st.get('weights')}; "
        f"{summary.finished} of {len(summary.tasks)} fits finished, {summary.failed} failed"
        + (f"; {seconds / 60:.0f} min" if seconds is not None else "")
        + ".",
        "",
        "| plan | kind | interviews | persons | rows | oversampled | fits | divergent fits "
        "| mean fit (s) |",
        "|---|---|---|---:|---:|---|---:|---:|---:|",
    ]
    for _, c in summary.costs().iterrows():
        lines.append(
            f"| {c['plan']} | {c['kind']} | {c['interviews']} | {c['persons']:,} | "
            f"{c['rows']:,} | {c['oversample'] or '–'} | {c['finished']} | "
            f"{c['divergent_fits']} | {_num(c['mean_fit_seconds'], 0)} |"
        )
    plans = summary.plan_names
    for title, cell in (
        ("Mean width of the 90% intervals (± Monte Carlo se)", "width"),
        ("P(the 90% interval excludes 0)", "excludes"),
        ("Coverage of the truth by the 90% intervals (± binomial se)", "coverage"),
    ):
        t = wide(summary, cell)
        if cell == "excludes":
            zero = {k for k, v in BLOCKS.items() if v[1]}
            t = t[[str(e).split("[")[0] in zero for e in t["estimand"]]]
        lines += ["", f"{title}:", "", "| estimand | " + " | ".join(plans) + " |"]
        lines.append("|---|" + "---:|" * len(plans))
        for _, r in t.iterrows():
            lines.append(f"| {r['estimand']} | " + " | ".join(str(r[p]) for p in plans) + " |")
    if command:
        lines += ["", f"Command: `{command}`"]
    return "\n".join(lines)
