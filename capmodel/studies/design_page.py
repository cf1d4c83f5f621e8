"""The design study's page (``OUT/design.html``): the plans and their cost, then the
estimands side by side (mean 90% interval width, P(interval excludes 0), coverage) and a
plot of the widths, one marker per plan. It renders a computed
:class:`~capmodel.studies.design_summary.DesignSummary` with the report's blocks (jinja2 with
autoescape: plan names, descriptions and error texts are escaped; inline SVG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from markupsafe import Markup

from capmodel.report.blocks import Block, Details, Figure, Items, Page, Section, Table, Text
from capmodel.report.html import write
from capmodel.report.stats import fmt
from capmodel.report.svg import styled, subplots, text, to_svg
from capmodel.studies.design_estimands import BLOCKS
from capmodel.studies.design_summary import DesignSummary, wide

COLOURS = ("#1f4e79", "#d08c00", "#2e7d32", "#6a1b9a", "#00838f", "#ad1457", "#8c8c8c")
MARKERS = ("o", "s", "D", "^", "v", "P", "X")
ROW_INCH = 0.2


@styled
def width_figure(s: DesignSummary) -> Markup:
    """Mean 90% interval width per estimand (rows, one panel per block), one marker per plan
    (± 2 Monte Carlo se)."""
    t = s.table
    blocks = [b for b in BLOCKS if b in set(t["block"])]
    order = {b: list(dict.fromkeys(wide(s, "width")["estimand"])) for b in blocks}
    order = {b: [e for e in names if e.split("[")[0] == b] for b, names in order.items()}
    heights = [max(1, len(order[b])) for b in blocks]
    fig, axes = subplots(
        len(blocks),
        1,
        figsize=(7.5, ROW_INCH * sum(heights) + 0.9 * len(blocks) + 0.6),
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
    )
    plans = s.plan_names
    offsets = np.linspace(-0.25, 0.25, len(plans)) if len(plans) > 1 else np.zeros(1)
    for ax, block in zip(axes[:, 0], blocks, strict=True):
        names = order[block]
        y = {n: len(names) - 1 - i for i, n in enumerate(names)}
        for k, plan in enumerate(plans):
            mine = t[(t["plan"] == plan) & (t["block"] == block)]
            ys = np.array([y[e] for e in mine["estimand"]], dtype=float) + offsets[k]
            se = np.nan_to_num(mine["se_width"].to_numpy(dtype=float))
            ax.errorbar(
                mine["mean_width"].to_numpy(dtype=float),
                ys,
                xerr=2 * se,
                fmt=MARKERS[k % len(MARKERS)],
                ms=4,
                lw=0.8,
                color=COLOURS[k % len(COLOURS)],
                label=text(plan),
            )
        ax.set_yticks(list(y.values()))
        ax.set_yticklabels([text(n[len(block) :].strip("[]")) for n in names], fontsize=7)
        ax.set_ylim(-0.7, len(names) - 0.3)
        ax.set_title(text(BLOCKS[block][0]), fontsize=9)
        ax.grid(axis="x", color="#e6e6e6", lw=0.6)
        ax.set_axisbelow(True)
        ax.tick_params(axis="y", length=0)
        ax.set_xlim(left=0)
    axes[-1, 0].set_xlabel("mean width of the 90% interval")
    axes[0, 0].legend(fontsize=7, loc="best", frameon=False)
    fig.tight_layout()
    return to_svg(fig)


def design_page(s: DesignSummary, seconds: float | None = None) -> Page:
    st = s.settings
    overview = Section(
        "plans",
        "Plans",
        "Each plan's survey is drawn from the same simulated population in each replicate "
        "(common random numbers), fitted with the spec, and its estimands compared with the "
        "simulator's truth. Cost: distinct persons interviewed and interviews (rows).",
    )
    costs = s.costs()
    overview.blocks.append(
        Table(
            ["plan", "kind", "interviews", "persons", "rows", "oversampled", "fits finished"]
            + ["failed", "divergent fits", "failing verdict", "mean fit (s)"],
            [
                [
                    str(c["plan"]),
                    str(c["kind"]),
                    str(c["interviews"]),
                    f"{c['persons']:,}",
                    f"{c['rows']:,}",
                    str(c["oversample"] or "–"),
                    str(c["finished"]),
                    str(c["failed"]),
                    str(c["divergent_fits"]),
                    str(c["failing_verdict"]),
                    fmt(c["mean_fit_seconds"], 0),
                ]
                for _, c in costs.iterrows()
            ],
            flags=["warn" if c["failed"] else "" for _, c in costs.iterrows()],
        )
    )
    described = [p for p in s.plans if p.get("description")]
    if described:
        overview.blocks.append(Items([f"{p['name']}: {p['description']}" for p in described]))
    plans = s.plan_names
    sections = [overview]
    for sid, title, cell, lead in (
        (
            "width",
            "Expected interval width",
            "width",
            "Mean width of the 90% posterior intervals over the replicates (± its Monte "
            "Carlo standard error): the precision a plan buys.",
        ),
        (
            "excludes",
            "Probability that the interval excludes 0",
            "excludes",
            "Share of replicates whose 90% interval excludes 0, for the effects (where "
            "'is there an effect?' is the question; shares are always above 0).",
        ),
        (
            "coverage",
            "Coverage",
            "coverage",
            "Share of replicates whose 90% interval covers the truth (± binomial standard "
            "error): about 90% for a calibrated model; few replicates make it coarse.",
        ),
    ):
        sec = Section(sid, title, lead)
        t = wide(s, cell)
        if cell == "excludes":
            zero = {k for k, v in BLOCKS.items() if v[1]}
            t = t[[str(e).split("[")[0] in zero for e in t["estimand"]]]
        if len(t):
            sec.blocks.append(
                Table(["estimand", *plans], [[str(v) for v in r] for r in t.itertuples(False)])
            )
        else:
            sec.blocks.append(Text("No finished fit yet.", cls="warn"))
        if cell == "width" and len(s.table):
            sec.blocks.insert(
                0,
                Figure(
                    width_figure(s),
                    "Mean 90% interval width per estimand, one marker per plan (bars: ± 2 "
                    "Monte Carlo se). Smaller is more precise.",
                ),
            )
        sections.append(sec)
    tasks = Section("fits", "Fits", "Each plan and replicate: its fit and the time it took.")
    bad = s.tasks[s.tasks["status"] == "failed"]
    if len(bad):
        tasks.blocks.append(
            Items(
                [
                    f"{r['plan']}, replicate {r['replicate']}: {r['error']}"
                    for _, r in bad.iterrows()
                ],
                cls="warn",
            )
        )
    partial = s.tasks[s.tasks["estimand_errors"].notna()]
    if len(partial):
        tasks.blocks.append(
            Items(
                [
                    f"{r['plan']}, replicate {r['replicate']}: {r['estimand_errors']}"
                    for _, r in partial.iterrows()
                ],
                cls="warn",
            )
        )
    rows = [
        [
            str(r["plan"]),
            str(r["replicate"]),
            str(r["status"] or "not run"),
            str(r["verdict"] or "–").upper(),
            fmt(r["divergences"], 0),
            fmt(r["max_rhat"], 3),
            fmt(r["min_ess_bulk"], 0),
            fmt(r["fit_seconds"], 0),
            fmt(r["seconds"], 0),
        ]
        for _, r in s.tasks.iterrows()
    ]
    detail: list[Table] = [
        Table(
            ["plan", "replicate", "status", "verdict", "divergences", "max R-hat", "min ESS"]
            + ["fit (s)", "task (s)"],
            rows,
            flags=["fail" if r[2] == "failed" else "" for r in rows],
        )
    ]
    tasks.blocks.append(Details(f"every fit ({len(rows)})", blocks=detail))
    method = Section("method", "Method", "How each replicate is made.")
    items: list[Block] = [
        Items(
            [
                f"Replicate r: seeds from numpy's SeedSequence({st.get('seed')}) spawned at r; "
                f"a population of {st.get('n_population'):,} beneficiaries of scenario "
                f"{st.get('scenario')} (capmodel.simulate), the same for every plan; each "
                "plan's survey drawn from it (capmodel.simulate.plans).",
                f"Fit: spec {st.get('spec_name')}, NUTS {st.get('chains')} chains x "
                f"{st.get('draws')} draws after {st.get('tune')} tuning steps "
                f"({st.get('sampler')}).",
                f"Estimands at each horizon the plan observes, from {st.get('effect_draws')} "
                f"posterior draws, weights '{st.get('weights')}', pathway threshold tau = "
                f"{st.get('tau')}; truth from the simulator's potential outcomes "
                "(capmodel.validation.truth_effects).",
            ]
        )
    ]
    method.blocks.extend(items)
    sections += [tasks, method]
    incomplete = not s.complete
    subtitle = [
        f"scenario {st.get('scenario')}, spec {st.get('spec_name')}, {len(plans)} plans x "
        f"{s.reps} replicate(s); {s.finished} of {len(s.tasks)} fits finished"
    ]
    if seconds is not None:
        subtitle.append(f"this run took {seconds:.0f} s")
    return Page(
        title="Survey design study",
        subtitle=subtitle,
        sections=sections,
        verdict="warn" if incomplete else None,
        banner=(
            f"Incomplete: {s.finished} of {len(s.tasks)} fits finished, {s.failed} failed "
            "(rerun the same command to resume; --retry-failed reruns the failed ones)"
            if incomplete
            else None
        ),
        banner_level="warn",
        interval_note="Intervals: 90% equal-tailed posterior intervals.",
        footer="Written by capmodel (capmodel design).",
    )


def write_design_page(s: DesignSummary, path: str | Path, seconds: float | None = None) -> Path:
    """Render and write the page atomically."""
    return write(design_page(s, seconds), path)
