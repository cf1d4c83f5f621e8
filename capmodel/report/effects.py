"""The report's *Effects* section: the causal quantities of capmodel.effects (docs/effects.md)
computed from a subset of the fit's posterior draws: total effects, mediation through
capability, conversion by factor level, attribution and pathway types."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from capmodel.effects.compact import verdict_warning
from capmodel.effects.pathways import DEFAULT_TAU
from capmodel.report import figures
from capmodel.report.blocks import Block, Details, Figure, Items, Section, Table, Text
from capmodel.report.stats import Interval, fmt

PP = 100.0  # effects on shares are shown in percentage points


def _iv(label: str, row, scale: float = 1.0) -> Interval:
    return Interval(
        label, float(row["mean"]) * scale, float(row["lower"]) * scale, float(row["upper"]) * scale
    )


def _contrast_label(c: str) -> str:
    return "CEP as received vs none" if c == "cep" else f"{c} = 1 vs 0"


def _numbers(df: pd.DataFrame, columns: list[str], digits: int = 3) -> Table:
    rows = []
    for _, r in df.iterrows():
        rows.append([fmt(r[c], digits) if isinstance(r[c], float) else str(r[c]) for c in columns])
    return Table(columns, rows)


def _total(t: pd.DataFrame) -> list[Block]:
    t = t[(t["quantity"].isin(["difference", "te"])) & (t["by_variable"] == "all")]
    panels = [
        (
            outcome,
            [
                _iv(_contrast_label(c), r, PP)
                for c, r in ((r["contrast"], r) for _, r in g.iterrows())
            ],
        )
        for outcome, g in t.groupby("outcome", sort=False)
    ]
    return [
        Text(
            "Total effects: how much each realisation's share would change if everyone "
            "received the support rather than not (the other supports as received), and "
            "with the CEP as received rather than no CEP at all. Capability is recomputed "
            "under each intervention; each person keeps their own residual."
        ),
        Figure(
            figures.forest_panels(panels, ncols=3, xlabel="percentage points"),
            "Total effect on the share with each realisation (percentage points); filled "
            "dots: the interval excludes zero.",
        ),
        Details(
            "Numbers: total effects (differences, shares)",
            blocks=[
                _numbers(t, ["contrast", "outcome", "mean", "lower", "upper", "prob_positive"])
            ],
        ),
    ]


def _mediation(t: pd.DataFrame) -> list[Block]:
    t = t[t["by_variable"] == "all"]
    panels = []
    for contrast, g in t.groupby("contrast", sort=False):
        rows = []
        for outcome, h in g.groupby("outcome", sort=False):
            q = h.set_index("quantity")
            rows.append(
                (
                    outcome,
                    float(q.loc["nde", "mean"]) * PP,
                    float(q.loc["nie", "mean"]) * PP,
                    _iv(outcome, q.loc["te"], PP) if "te" in q.index else None,
                )
            )
        panels.append((_contrast_label(contrast), rows))
    keep = t[t["quantity"].isin(["nde", "nie", "te", "proportion_mediated"])]
    return [
        Text(
            "Mediation: how much of each total effect goes through capability (natural "
            "indirect effect) and how much does not (natural direct effect). They add up to "
            "the total effect, draw by draw."
        ),
        Figure(
            figures.mediation_bars(panels),
            "Direct (light) and indirect, through capability (dark) effects, posterior "
            "means in percentage points; the line is the total effect's interval.",
        ),
        Details(
            "Numbers: NDE, NIE, TE and the proportion mediated",
            blocks=[_numbers(keep, ["contrast", "quantity", "outcome", "mean", "lower", "upper"])],
        ),
    ]


def _conversion(t: pd.DataFrame) -> list[Block]:
    eff = t[t["quantity"] == "effect"]
    panels = []
    for support, g in eff.groupby("support", sort=False):
        rows = [
            _iv("all (average)" if r["factor"] == "all" else f"{r['factor']} = {r['level']}", r)
            for _, r in g.iterrows()
        ]
        panels.append((support, rows))
    best = eff[eff["factor"] != "all"].dropna(subset=["prob_best"])
    top = (
        best.sort_values("prob_best", ascending=False)
        .groupby(["support", "factor"], sort=False)
        .head(1)
    )
    return [
        Text(
            "Conversion: the effect of each support on capability at each level of its "
            "declared conversion factors, everyone else's moderators as they are "
            "(standardised), and the probability that a level converts the support best."
        ),
        Figure(
            figures.forest_panels(panels, ncols=2, xlabel="effect on capability (sd)"),
            "Effect of each support on capability by level of its conversion factors.",
        ),
        Table(
            ["support", "factor", "converts best", "probability"],
            [
                [r["support"], r["factor"], str(r["level"]), fmt(r["prob_best"])]
                for _, r in top.iterrows()
            ],
            caption="Who converts each support best",
        ),
        Details(
            "Numbers: conversion",
            blocks=[
                _numbers(
                    t,
                    [
                        "support",
                        "factor",
                        "level",
                        "quantity",
                        "mean",
                        "lower",
                        "upper",
                        "prob_best",
                    ],
                )
            ],
        ),
    ]


def _attribution(t: pd.DataFrame) -> list[Block]:
    rows = []
    for var, g in t.groupby("by_variable", sort=False):
        if var != "all":
            rows.append(Interval(f"by {var}", heading=True))
        for _, r in g.iterrows():
            label = "all changers" if var == "all" else str(r["by_level"])
            rows.append(
                Interval(
                    f"{label} (n = {int(r['n_changers']):,})",
                    float(r["pn_mean"]),
                    float(r["pn_lower"]),
                    float(r["pn_upper"]),
                )
            )
    return [
        Text(
            "Attribution: among people with at least one realisation, the share that would "
            "not have happened without the CEP (probability of necessity; assumes monotone "
            "effects and no unmeasured confounding, docs/effects.md)."
        ),
        Figure(
            figures.forest(
                rows,
                title="Probability of necessity among changers",
                xlabel="share of changers",
                zero=None,
            ),
            "Model-based share of changes that needed the CEP, overall and by conversion "
            "factor. The self-reported attribution column, when the survey has one, is "
            "compared with it by `capmodel effects FIT --estimand attribution --data "
            "SURVEY`.",
        ),
    ]


def _pathways(res, tau: float) -> list[Block]:
    t = res.table[res.table["by_variable"] == "all"]
    failed_known = not str(res.notes.get("failed_test", "")).startswith("not available")
    if not failed_known:  # type 5 cannot occur without the failed-test column
        t = t[t["type"] != 5]
    rows = [
        Interval(
            f"{int(r['type'])}. {r['name']}", float(r["mean"]), float(r["lower"]), float(r["upper"])
        )
        for _, r in t.iterrows()
    ]
    odds = res.extra["odds_ratios"]
    return [
        Text(
            f"Pathway types (docs/domain.md §5): each person classified by their capability "
            f"gain from the CEP (threshold {tau:g} sd) and whether they had a realisation; "
            "shares with intervals."
            + (
                ""
                if failed_known
                else " Type 5 (failure at a decisive test) needs the "
                "survey's failed-test column: `capmodel effects FIT --estimand pathways "
                "--data SURVEY`."
            )
        ),
        Figure(
            figures.forest(rows, title="Share of each pathway type", xlabel="share", zero=None),
            "Population shares of the pathway types in the survey sample.",
        ),
        Details(
            "Numbers: odds ratios of each type by factor level (descriptive)",
            blocks=[_numbers(odds, list(odds.columns))],
        ),
    ]


def _by_horizon(results: dict[int, Any]) -> list[Block]:
    panels = []
    table_parts = []
    for months, res in results.items():
        t = res.table
        t = t[(t["quantity"] == "difference") & (t["by_variable"] == "all")]
        label = f"{months} month{'' if months == 1 else 's'}"
        panels.append((label, [_iv(r["outcome"], r, PP) for _, r in t.iterrows()]))
        table_parts.append(t.assign(horizon=months))
    numbers = pd.concat(table_parts, ignore_index=True)
    return [
        Text(
            "Effects by horizon: the CEP as received vs no CEP, on the share of persons with "
            "each realisation by 1, 6, ... months after it (realisations are cumulative; each "
            "person counted once, at that horizon)."
        ),
        Figure(
            figures.forest_panels(panels, ncols=len(panels), xlabel="percentage points"),
            "Total effect of the CEP on each realisation's cumulative share, one panel per "
            "horizon (percentage points); filled dots: the interval excludes zero.",
        ),
        Details(
            "Numbers: effects of the CEP by horizon",
            blocks=[_numbers(numbers, ["horizon", "outcome", "mean", "lower", "upper"])],
        ),
    ]


@dataclass
class EffectNumbers:
    """What the section shows, computed (by :func:`compute`) apart from the figures so that
    the report can compute it in a worker thread while it draws the other sections."""

    draws: int = 0
    tau: float = DEFAULT_TAU
    verdict: str = "pass"  # the fit's convergence verdict: said first when not pass
    verdict_note: str | None = None
    results: dict[str, Any] = field(default_factory=dict)  # part -> EffectResult
    refused: dict[str, str] = field(default_factory=dict)  # part -> why not


def compute(fit, draws: int = 100, tau: float = DEFAULT_TAU) -> EffectNumbers:
    """The effects over the survey sample from ``draws`` evenly spaced posterior draws.
    Mediation's total effects (NDE + NIE) are the total effects: they are not computed twice."""
    import capmodel.effects as fx

    out = EffectNumbers(tau=tau, verdict=fit.diagnostics.verdict, verdict_note=verdict_warning(fit))
    try:
        model = fx.effect_model(fit, draws=draws)
    except fx.EffectsError as e:
        out.refused["all"] = str(e)
        return out
    out.draws = model.params.n_draws
    by = [c for c in model.spec.capability_factors if c in model.units.by]
    parts: dict[str, Callable[[], Any]] = {
        "mediation": lambda: fx.mediation(model),
        "total effects": lambda: fx.total_effects(model),
        "conversion": lambda: fx.conversion(model),
        "attribution": lambda: fx.attribution(model, by=by),
        "pathway types": lambda: fx.pathways(model, tau=tau),
    }
    if model.design.log_time is not None:  # several waves: the CEP's effect at each

        def by_horizon() -> dict[int, Any]:
            return {
                w: fx.total_effects(
                    fx.effect_model(fit, draws=draws, horizon=w), contrasts=[("observed", "none")]
                )
                for w in model.design.waves
            }

        parts["by horizon"] = by_horizon
    for name, run in parts.items():
        if name == "total effects" and "mediation" in out.results:
            continue  # mediation's te rows
        try:
            out.results[name] = run()
        except fx.EffectsError as e:
            out.refused[name] = str(e)
    return out


def effects_section(numbers: EffectNumbers) -> Section:
    """The *Effects* section from :func:`compute`'s numbers."""
    sec = Section(
        "effects",
        "Effects",
        "What the model says each kind of support does: on realisations (total "
        "effects), through capability or directly (mediation), for whom (conversion), "
        "how often a change needed the CEP (attribution) and which pathway people "
        "followed. Causal only under the assumptions of docs/effects.md.",
    )
    if numbers.verdict_note:  # first: a fit that did not pass says so before any number
        cls = "fail" if numbers.verdict == "fail" else "warn"
        sec.blocks.append(Text(numbers.verdict_note, cls=cls))
    if "all" in numbers.refused:
        sec.blocks.append(Text(f"No effects for this fit: {numbers.refused['all']}", cls="note"))
        return sec
    sec.blocks.append(
        Text(
            f"Computed from {numbers.draws} evenly spaced posterior draws over "
            "the survey sample (unweighted). Post-stratified (MRP) population "
            "estimates need a population table: "
            "capmodel.effects.poststratify.",
            cls="note",
        )
    )
    r = numbers.results
    total = r.get("total effects", r.get("mediation"))
    if total is not None:
        sec.blocks.extend(_total(total.table))
    if "by horizon" in r:
        sec.blocks.extend(_by_horizon(r["by horizon"]))
    if "mediation" in r:
        sec.blocks.extend(_mediation(r["mediation"].table))
    if "conversion" in r:
        sec.blocks.extend(_conversion(r["conversion"].table))
    if "attribution" in r:
        sec.blocks.extend(_attribution(r["attribution"].table))
    if "pathway types" in r:
        sec.blocks.extend(_pathways(r["pathway types"], numbers.tau))
    if numbers.refused:
        sec.blocks.append(Items([f"{k}: {v}" for k, v in numbers.refused.items()], cls="note"))
    return sec
