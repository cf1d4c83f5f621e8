"""The SBC page (``OUT/sbc.html``): the verdict, the replicates' health, per estimand the
ECDF difference with its simultaneous band and the rank histogram. It renders a computed
:class:`~capmodel.studies.sbc_summary.SBCSummary` with the report's blocks (capmodel.report:
jinja2 with autoescape, inline SVG); it computes nothing of its own."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from markupsafe import Markup

from capmodel.report.blocks import Block, Details, Figure, Items, Page, Section, Table, Text
from capmodel.report.html import write
from capmodel.report.stats import fmt
from capmodel.report.svg import styled, subplots, text, to_svg
from capmodel.studies.sbc_summary import RHAT_FAIL, SBCSummary

BLUE, GREY, RED = "#1f4e79", "#8c8c8c", "#b3261e"
PANEL_COLUMNS = 4
MAX_PANELS = 12  # a variable with more elements gets one overlaid ECDF panel
PANEL_INCH = (2.3, 1.6)
_GROUP = re.compile(r"^([^\[]+)")


def group_of(estimand: str) -> str:
    """The variable an estimand belongs to: its name before '['."""
    m = _GROUP.match(estimand)
    return m.group(1) if m else estimand


def _groups(names: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for n in names:
        out.setdefault(group_of(n), []).append(n)
    return out


def _panels(n: int):
    cols = min(PANEL_COLUMNS, n)
    rows = -(-n // cols)
    fig, axes = subplots(
        rows, cols, figsize=(PANEL_INCH[0] * cols, PANEL_INCH[1] * rows), squeeze=False
    )
    flat = axes.ravel()
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat


def _title(name: str, group: str) -> str:
    short = name[len(group) :].strip("[]") or name
    return text(short if len(short) <= 34 else short[:31] + "...")


@styled
def ecdf_figure(s: SBCSummary, names: Sequence[str], group: str) -> Markup:
    """ECDF(PIT) - uniform CDF per estimand, with the simultaneous band (grey)."""
    fig, axes = _panels(len(names))
    for ax, name in zip(axes, names, strict=False):
        u = s.tests[name]
        x = np.concatenate([[0.0], u.z, [1.0]])
        pad = np.zeros(1)
        ax.fill_between(
            x,
            np.concatenate([pad, u.lower, pad]),
            np.concatenate([pad, u.upper, pad]),
            color=GREY,
            alpha=0.3,
            lw=0,
            step="post",
        )
        colour = BLUE if u.passes else RED
        ax.step(x, np.concatenate([pad, u.difference, pad]), where="post", color=colour, lw=1.1)
        ax.axhline(0, color=GREY, lw=0.6)
        ax.set_xlim(0, 1)
        ax.set_title(_title(name, group), fontsize=8, color=colour)
        ax.tick_params(labelsize=7)
    return to_svg(fig)


@styled
def ecdf_overlay_figure(s: SBCSummary, names: Sequence[str], group: str) -> Markup:
    """The ECDF differences of every element of a large variable in one panel: passing
    ones thin and blue, failing ones red, over the band of the largest sample."""
    fig, ax = subplots(figsize=(PANEL_INCH[0] * 2, PANEL_INCH[1] * 1.4))
    widest = max((s.tests[n] for n in names), key=lambda u: u.n)
    pad = np.zeros(1)
    x = np.concatenate([[0.0], widest.z, [1.0]])
    ax.fill_between(
        x,
        np.concatenate([pad, widest.lower, pad]),
        np.concatenate([pad, widest.upper, pad]),
        color=GREY,
        alpha=0.3,
        lw=0,
        step="post",
    )
    for name in sorted(names, key=lambda n: not s.tests[n].passes):  # failing ones on top
        u = s.tests[name]
        xs = np.concatenate([[0.0], u.z, [1.0]])
        ax.step(
            xs,
            np.concatenate([pad, u.difference, pad]),
            where="post",
            color=BLUE if u.passes else RED,
            lw=0.5 if u.passes else 1.2,
            alpha=0.5 if u.passes else 1.0,
        )
    ax.axhline(0, color=GREY, lw=0.6)
    ax.set_xlim(0, 1)
    failing = sum(not s.tests[n].passes for n in names)
    ax.set_title(
        text(f"{group}: {len(names)} elements, {failing} outside"),
        fontsize=8,
        color=RED if failing else BLUE,
    )
    ax.tick_params(labelsize=7)
    return to_svg(fig)


@styled
def rank_figure(s: SBCSummary, names: Sequence[str], group: str) -> Markup:
    """Counts of the normalised ranks (PIT) in equal bins, with the band of a bin's count
    under uniformity (grey)."""
    fig, axes = _panels(len(names))
    for ax, name in zip(axes, names, strict=False):
        h = s.histograms[name]
        edges = np.linspace(0, 1, h.bins + 1)
        ax.axhspan(h.lower, h.upper, color=GREY, alpha=0.3, lw=0)
        colour = BLUE if s.tests[name].passes else RED
        ax.bar(edges[:-1], h.counts, width=1 / h.bins, align="edge", color=colour, alpha=0.8)
        ax.set_xlim(0, 1)
        ax.set_title(_title(name, group), fontsize=8, color=colour)
        ax.tick_params(labelsize=7)
    return to_svg(fig)


def fit_reports(out: Path, spec_name: str) -> list[Path]:
    """Report pages of saved fits of the same spec beside the study (``OUT/../*/``)."""
    found = []
    parent = out.resolve().parent
    for report in sorted(parent.glob("*/report.html")):
        manifest = report.parent / "manifest.json"
        try:
            name = json.loads(manifest.read_text(encoding="utf-8"))["spec"]["name"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if name == spec_name and report.parent.resolve() != out.resolve():
            found.append(report)
    return found


def _p(value: float) -> str:
    """A p-value: 3 significant digits, small ones in scientific notation."""
    if value is None or not np.isfinite(value):
        return "–"
    return f"{value:.3g}" if value >= 1e-3 else f"{value:.1e}"


def _link(href: str, label: str) -> Markup:
    return Markup('<a href="{}">{}</a>').format(href, label)


def sbc_page(s: SBCSummary, out: Path | None = None, seconds: float | None = None) -> Page:
    """The page of the summary (``out``: the study folder, to link fit reports beside it)."""
    st = s.settings
    spec_name = str(st.get("spec_name", "?"))
    pct = f"{100 * s.prob:g}%"
    family = f"{100 * (1 - s.prob):g}%"
    overview = Section(
        "overview",
        "Overview",
        "Simulation-based calibration: parameters drawn from the priors, responses simulated "
        "on the data's design, the model fitted to each simulated data set; if the "
        "posterior is right, the rank of the truth among nearly independent posterior draws "
        "is uniform, for every parameter and every function of the parameters.",
    )

    def share(key: str) -> str:
        v = s.share(key)
        return "–" if v is None else f"{100 * v:.1f}%"

    overview.blocks.append(
        Table(
            ["", ""],
            [
                ["replicates asked for", f"{s.reps:,}"],
                ["finished", f"{s.finished:,}"],
                ["failed (recorded with their error)", f"{s.failed:,}"],
                ["not run yet", f"{s.missing:,}"],
                ["finished with divergences", share("divergent")],
                ["finished with a failing convergence verdict", share("verdict_fail")],
                [f"finished with R-hat above {RHAT_FAIL}", share("rhat")],
                [
                    f"estimands leaving their own {pct} band",
                    f"{len(s.outside_band)} of {len(s.estimands)} (about "
                    f"{s.expected_outside:.1f} expected by chance when all are calibrated)",
                ],
                [
                    f"estimands failing at the family-wise {family} level (Holm)",
                    f"{len(s.failing)} of {len(s.estimands)}",
                ],
            ],
            flags=[
                "",
                "",
                "warn" if s.failed else "",
                "warn" if s.missing else "",
                "warn" if (s.share("divergent") or 0) > 0 else "",
                "",
                "warn" if (s.share("rhat") or 0) > 0 else "",
                "warn" if s.outside_band else "",
                "fail" if s.failing else "",
            ],
        )
    )
    overview.blocks.append(
        Text(
            "The convergence verdict applies the single-fit thresholds (bulk and tail ESS >= "
            "400 to pass): SBC's short fits do not aim at them, and a failing verdict alone "
            "says little here; divergences and R-hat do.",
            cls="note",
        )
    )
    if out is not None:
        for report in fit_reports(out, spec_name):
            href = Path(os.path.relpath(report, out.resolve())).as_posix()
            overview.blocks.append(
                Text(Markup("A fit of this spec: ") + _link(href, f"{report.parent.name} report"))
            )

    table = Section(
        "estimands",
        "Estimands",
        f"One row per parameter (vector parameters flattened) and derived estimand. "
        f"'points outside': where the ECDF of its normalised ranks leaves the simultaneous "
        f"{pct} band of a uniform sample of the same size; 'p': the exact probability, for "
        "calibrated ranks, of an ECDF as far from uniform by the band's statistic; 'Holm p': "
        f"p adjusted for the number of estimands. An estimand FAILS when its Holm p is below "
        f"{1 - s.prob:g} (family-wise level {family}): a calibrated model then fails with "
        f"probability at most {family} however many estimands it has, where about "
        f"{100 * (1 - s.prob):g} in 100 calibrated estimands leave their own band.",
    )
    e = s.estimands
    table.blocks.append(
        Table(
            ["estimand", "kind", "replicates", "verdict", "points outside", "max |ECDF - z|"]
            + ["p", "Holm p", "mean PIT", "median L"],
            [
                [
                    r["estimand"],
                    r["kind"],
                    str(int(r["n"])),
                    str(r["verdict"]).upper(),
                    str(int(r["points_outside_band"])),
                    fmt(r["max_abs_ecdf_difference"], 3),
                    _p(r["p_value"]),
                    _p(r["holm_p_value"]),
                    fmt(r["mean_pit"], 3),
                    fmt(r["median_L"], 0),
                ]
                for _, r in e.iterrows()
            ],
            flags=[
                "fail" if v == "fail" else ("warn" if k > 0 else "")
                for v, k in zip(e["verdict"], e["points_outside_band"], strict=True)
            ],
        )
    )
    ecdf_sec = Section(
        "ecdf",
        "ECDF differences",
        f"ECDF of the normalised ranks minus the uniform CDF (line), with the simultaneous "
        f"{pct} band (grey; Säilynoja et al. 2022): red where the line leaves it. A "
        "U shape: posteriors too narrow (overconfident); an inverted U: too wide; above "
        "zero on the left: the truth is ranked low, the posterior overestimates.",
    )
    rank_sec = Section(
        "ranks",
        "Rank histograms",
        "Normalised ranks (rank + U(0, 1)) / (L + 1) in equal bins; grey: the range of a "
        f"bin's count under uniformity (pointwise {pct} binomial interval).",
    )
    for group, names in _groups(list(e["estimand"])).items():
        if len(names) <= MAX_PANELS:
            ecdf_sec.blocks.append(Figure(ecdf_figure(s, names, group), group))
            rank_sec.blocks.append(Figure(rank_figure(s, names, group), group))
            continue
        # a large variable (group effects): one panel of all its elements, histograms of
        # the failing ones only (the page stays a few MB for hundreds of parameters)
        ecdf_sec.blocks.append(
            Figure(
                ecdf_overlay_figure(s, names, group),
                f"{group}: all {len(names)} elements in one panel (red: outside the band)",
            )
        )
        bad = [n for n in names if not s.tests[n].passes]
        if bad:
            rank_sec.blocks.append(
                Figure(rank_figure(s, bad, group), f"{group}: the elements outside the band")
            )
        rank_sec.blocks.append(
            Text(
                f"{group}: {len(names) - len(bad)} of {len(names)} elements within the band; "
                "their histograms are left out (the ECDF panel shows them all).",
                cls="note",
            )
        )
    if not len(e):
        ecdf_sec.blocks.append(Text("No finished replicate yet.", cls="warn"))
    reps = Section(
        "replicates",
        "Replicates",
        "Each replicate's fit: thinning, kept draws (L), divergences, convergence verdict and "
        "time; a failed replicate is listed with its error.",
    )
    failed = s.replicates[s.replicates["status"] != "ok"]
    if len(failed):
        reps.blocks.append(
            Items(
                [f"replicate {int(r['replicate'])}: {r['error']}" for _, r in failed.iterrows()],
                cls="warn",
            )
        )
    rows = [
        [
            str(int(r["replicate"])),
            str(r["status"]),
            fmt(r["thin"], 0),
            fmt(r["L"], 0),
            fmt(r["min_ess"], 0),
            fmt(r["divergences"], 0),
            str(r["verdict"] or "–").upper(),
            fmt(r["max_rhat"], 3),
            fmt(r["seconds"], 1),
        ]
        for _, r in s.replicates.iterrows()
    ]
    detail_blocks: list[Table] = [
        Table(
            ["replicate", "status", "thin", "L", "min ESS", "divergences", "verdict", "max R-hat"]
            + ["seconds"],
            rows,
            flags=["fail" if r[1] != "ok" else "" for r in rows],
        )
    ]
    reps.blocks.append(Details(f"every replicate ({len(rows)})", blocks=detail_blocks))
    method = Section("method", "Method", "How the ranks are made and judged.")
    method_items: list[Block] = [
        Items(
            [
                f"Replicate r: seeds from numpy's SeedSequence({st.get('seed')}) spawned at r; "
                "parameters from the spec's priors, responses on the data's design "
                "(capmodel.validation.from_spec), NUTS with "
                f"{st.get('chains')} chains x {st.get('draws')} draws after {st.get('tune')} "
                f"tuning steps ({st.get('sampler')}).",
                "Thinning: "
                + (
                    f"every {st['thin']}th draw of each chain."
                    if st.get("thin")
                    else "each chain keeps every thin-th draw, thin = ceil(draws / min ESS), "
                    "the smallest bulk or tail ESS of the ranked parameters (Talts et al. "
                    "2018), so that the L kept draws are nearly independent."
                ),
                "Rank: the number of kept draws below the truth (ties split at random), "
                "uniform on 0..L under a correct posterior; derived estimands (total effects, "
                "NIE on any realisation, residual integrated over N(0, 1)) are computed at the "
                "true parameters and at each kept draw.",
                f"Test: the ECDF of (rank + U(0, 1)) / (L + 1) against the simultaneous {pct} "
                "band at N - 1 points, at most 199 (Säilynoja et al. 2022, the level "
                "computed exactly). Its statistic, the smallest pointwise two-sided binomial tail "
                "probability of the ECDF, has an exact p-value (the distribution of the "
                "counts below successive grid points, carried from point to point); Holm's "
                "method adjusts the p-values for the number of estimands, and the study "
                f"fails when an adjusted p is below {1 - s.prob:g}. An estimand outside its "
                "own band but not failing is flagged (amber): read it with its plot.",
            ]
        )
    ]
    method.blocks.extend(method_items)
    verdict = s.verdict
    banner = None
    items: list[str] = []
    if verdict == "fail":
        banner = (
            f"{len(s.failing)} estimand(s) fail at the family-wise {family} level "
            f"(Holm-adjusted p below {1 - s.prob:g})"
        )
        items = s.failing[:20]
    elif verdict == "incomplete":
        banner = (
            f"Incomplete: {s.finished} of {s.reps} replicates finished, {s.failed} failed "
            "(rerun the same command to resume; --retry-failed reruns the failed ones)"
        )
    subtitle = [
        f"spec {spec_name}, data hash {str(st.get('data_hash', ''))[:12]}, "
        f"{s.finished} of {s.reps} replicates finished",
    ]
    if seconds is not None:
        subtitle.append(f"this run took {seconds:.0f} s")
    return Page(
        title=f"Simulation-based calibration: {spec_name}",
        subtitle=subtitle,
        sections=[overview, table, ecdf_sec, rank_sec, reps, method],
        verdict={"pass": "pass", "fail": "fail"}.get(verdict, "warn"),
        banner=banner,
        banner_items=items,
        banner_level="fail" if verdict == "fail" else "warn",
        interval_note=f"Bands: simultaneous {pct} (ECDF), pointwise {pct} (histograms).",
        footer="Written by capmodel (capmodel sbc).",
    )


def write_sbc_page(
    s: SBCSummary, path: str | Path, out: Path | None = None, seconds: float | None = None
) -> Path:
    """Render and write the page atomically."""
    return write(sbc_page(s, out, seconds), path)
