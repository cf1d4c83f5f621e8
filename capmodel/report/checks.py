"""The sections that compare the model with data: posterior predictive checks, and the
published reference figures (when the data have a declared table of them)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from capmodel import intervals
from capmodel.report import figures
from capmodel.report.blocks import Details, Figure, Items, Section, Table, Text
from capmodel.report.margins import decode_frame, find_table, margin_rows, replicated_columns
from capmodel.report.stats import fmt


def _pct(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{100 * x:.1f}"


def wave_column(fit) -> str | None:
    return next(iter(fit.data.capmodel.columns("wave")), None)


def ppc_section(fit, replicated: Callable[[], tuple]) -> Section:
    """Observed vs replicated shares of every response level, overall and by group and wave;
    ``replicated()`` returns the replicated responses (capmodel.fitting.predictive.replicate),
    shared with the published-figures section."""
    from capmodel.fitting.predictive import ppc_table

    sec = Section(
        "ppc",
        "Posterior predictive checks",
        "Does the fitted model reproduce the data? Each observed share (diamond) "
        "should fall inside the band of shares in data sets replicated from the "
        f"model ({intervals.percent()} interval); about {intervals.outside()} of cells fall "
        "outside by chance alone.",
    )
    by = list(fit.spec.groups)
    wave = wave_column(fit)
    if wave:
        by.append(wave)
    design, rep = replicated()
    draws = rep.sizes["chain"] * rep.sizes["draw"]
    table = ppc_table(fit, by=tuple(by), replicated=(design, rep))
    overall = table[table["by_variable"] == "all"]
    rows: list = []
    for response, part in overall.groupby("response", sort=False):
        if len(part) == 1:  # a binary response: the share of 'yes'
            r = next(part.itertuples())
            rows.append(
                (str(response), "", r.observed, r.replicated_mean, r.replicated_lo, r.replicated_hi)
            )
            continue
        rows.append(str(response))
        rows += [
            (f"  {r.level}", "", r.observed, r.replicated_mean, r.replicated_lo, r.replicated_hi)
            for r in part.itertuples()
        ]
    sec.blocks.append(
        Text(
            f"Replicated from {draws} posterior draws; each replicate draws new "
            "capability residuals for the same persons (same supports, "
            "covariates and groups).",
            cls="note",
        )
    )
    sec.blocks.append(
        Figure(
            figures.ppc_overall(rows),
            "All respondents: observed share of "
            "each answer level and realisation vs the replicated shares.",
        )
    )
    panels = []
    for var in by:
        part = table[table["by_variable"] == var]
        if len(part):
            title = "by " + ("time since exit (months)" if var == wave else var)
            panels.append(
                (
                    title,
                    part["observed"].to_numpy(),
                    part["replicated_mean"].to_numpy(),
                    part["replicated_lo"].to_numpy(),
                    part["replicated_hi"].to_numpy(),
                )
            )
    if panels:
        sec.blocks.append(
            Figure(
                figures.ppc_scatter(panels),
                "Each dot is one answer level in one group (or wave): observed "
                "share against the replicated mean with its interval. Red: "
                "outside the interval.",
            )
        )
    split = table[table["by_variable"] != "all"]
    outside = split[split["outside"]]
    share = 100 * len(outside) / max(len(split), 1)
    sec.blocks.append(
        Text(
            f"{len(outside)} of {len(split)} cells by group or wave lie outside "
            f"their {intervals.percent()} interval ({share:.0f}%; about "
            f"{intervals.outside()} "
            "expected by chance)."
        )
    )
    if len(outside):
        width = (outside["replicated_hi"] - outside["replicated_lo"]).clip(lower=1e-9)
        gap = (outside["observed"] - outside["replicated_mean"]).abs() / width
        worst = outside.assign(_gap=gap).sort_values("_gap", ascending=False).head(20)
        sec.blocks.append(_ppc_numbers(worst, caption="Cells outside their interval (worst first)"))
    sec.blocks.append(Details("Numbers: every cell", blocks=[_ppc_numbers(table)]))
    return sec


def _ppc_numbers(table: pd.DataFrame, caption: str = "") -> Table:
    """One row per cell: observed and replicated shares, the interval; outside ones flagged."""
    return Table(
        [
            "response",
            "level",
            "split",
            "group",
            "n",
            "observed %",
            "replicated %",
            f"{intervals.percent()} interval",
        ],
        [
            [
                r.response,
                r.level,
                r.by_variable,
                r.by_level,
                str(r.n),
                _pct(r.observed),
                _pct(r.replicated_mean),
                f"{_pct(r.replicated_lo)}–{_pct(r.replicated_hi)}",
            ]
            for r in table.itertuples()
        ],
        caption=caption,
        flags=["warn" if o else "" for o in table["outside"]],
    )


def published_section(fit, reference: str | None, replicated: Callable[[], tuple]) -> Section:
    """Observed, weighted and replicated margins next to the published figures
    (``replicated``: as for :func:`ppc_section`)."""
    sec = Section(
        "published",
        "Published figures",
        "Do the data, and the model, reproduce the figures published for this "
        "survey? Published shares are weighted, so the observed and replicated "
        "shares are weighted the same way.",
    )
    frame = decode_frame(fit.data)
    table = find_table(frame, reference)
    if table is None:
        sec.blocks.append(
            Text(
                "No table of published reference figures is declared for these "
                "data (capmodel.report.margins.REFERENCE_TABLES; the cep2021 "
                "scenario ships one).",
                cls="note",
            )
        )
        return sec
    design, rep = replicated()
    draws = rep.sizes["chain"] * rep.sizes["draw"]
    weight = next(iter(fit.data.capmodel.columns("weight")), None)
    rows, missing, note = margin_rows(
        frame, table, weight, wave_column(fit), replicated_columns(design, rep)
    )
    sec.blocks.append(
        Text(
            f"Reference table '{table.name}': {table.source}. Computed on "
            f"{note}; replicated from {draws} posterior draws.",
            cls="note",
        )
    )
    if len(rows):
        plot_rows: list = []
        for name, part in rows.groupby("table", sort=False):
            plot_rows.append(str(name))
            plot_rows += part.to_dict("records")
        sec.blocks.append(
            Figure(
                figures.margins_plot(plot_rows),
                "Published (star), observed weighted (dot) and replicated "
                f"weighted ({intervals.percent()} interval) shares.",
            )
        )
        sec.blocks.append(
            Table(
                [
                    "table",
                    "item",
                    "published %",
                    "observed %",
                    "weighted %",
                    "replicated %",
                    f"{intervals.percent()} interval",
                    "weighted - published (points)",
                ],
                [
                    [
                        r.table,
                        r.item,
                        _pct(r.published),
                        _pct(r.observed),
                        _pct(r.weighted),
                        _pct(r.rep_mean),
                        "–" if not np.isfinite(r.rep_lo) else f"{_pct(r.rep_lo)}–{_pct(r.rep_hi)}",
                        fmt(100 * (r.weighted - r.published), 1),
                    ]
                    for r in rows.itertuples()
                ],
            )
        )
        sec.blocks.append(
            Text(
                "'Replicated' is shown for figures that depend on the modelled "
                "responses; figures on covariates (fixed in every replicate) "
                "have none.",
                cls="note",
            )
        )
    if missing:
        sec.blocks.append(
            Text(
                "Published figures these data cannot compute (their columns are "
                "not part of the fitted data):"
            )
        )
        sec.blocks.append(Items(missing, cls="note"))
    return sec
