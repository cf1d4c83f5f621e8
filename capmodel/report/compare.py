"""The page of a LOO comparison of fits (computed by capmodel.fitting.compare)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from capmodel.fitting.compare import (
    RESPONSES,
    SMALL_DIFF,
    Comparison,
    LogLik,
    assemble,
    choose_responses,
    compare_fits,
)
from capmodel.report import figures
from capmodel.report.blocks import Figure, Items, Page, Section, Table, Text
from capmodel.report.html import write
from capmodel.report.stats import fmt

__all__ = [
    "RESPONSES",
    "SMALL_DIFF",
    "Comparison",
    "ComparisonPage",
    "assemble",
    "choose_responses",
    "compare",
    "comparison_page",
]


@dataclass
class ComparisonPage(Comparison):
    """A :class:`~capmodel.fitting.compare.Comparison` that renders itself as a page."""

    def page(self) -> Page:
        return comparison_page(self)

    def write(self, path: str | Path) -> Path:
        """Write the comparison page (atomically); a directory receives compare.html."""
        path = Path(path)
        if path.suffix.lower() not in (".html", ".htm"):
            path = path / "compare.html"
        return write(self.page(), path)


def compare(
    fits: Sequence[Any] | Mapping[str, Any],
    out: str | Path | None = None,
    *,
    responses: str = "auto",
    loglik: LogLik | None = None,
) -> ComparisonPage:
    """Compare fits by PSIS-LOO over persons (:func:`capmodel.fitting.compare.compare_fits`)
    and write the page to ``out`` when given."""
    c = compare_fits(fits, responses=responses, loglik=loglik)
    result = ComparisonPage(**{f: getattr(c, f) for f in c.__dataclass_fields__})
    if out is not None:
        result.path = result.write(out)
    return result


def comparison_page(c: Comparison) -> Page:
    """The comparison as a page: models, LOO table and plot, Pareto k, warnings."""
    t = c.table
    models = Section(
        "models",
        "Models",
        "The fits compared, the data they were fitted to and whether their sampling converged.",
    )
    models.blocks.append(
        Table(
            ["model", "spec", "persons", "data hash", "draws", "convergence"],
            [
                [
                    n,
                    f.spec.name,
                    f"{f.manifest['data']['n_persons']:,}",
                    f.manifest["data"]["hash"][:16],
                    f"{f.manifest['settings']['chains']} x {f.manifest['settings']['draws']}",
                    f.diagnostics.verdict.upper(),
                ]
                for n, f in zip(c.names, c.fits, strict=True)
            ],
            flags=[
                {"fail": "fail", "approximate": "warn"}.get(f.diagnostics.verdict, "")
                for f in c.fits
            ],
        )
    )
    loo = Section(
        "loo",
        "LOO comparison",
        "Which model predicts a new person's responses best: expected log predictive "
        "density (elpd) by leave-one-person-out cross-validation; higher is better, "
        "and a difference matters only when it is large against its standard error "
        "(dSE).",
    )
    what = (
        "every response (indicators and realisations)"
        if c.responses == "all"
        else "the realisations only"
    )
    loo.blocks.append(
        Text(
            f"Compared on {what}, one term per person, capability residual integrated out.",
            cls="note",
        )
    )
    for n in c.notes:
        loo.blocks.append(Text(n, cls="warn"))
    relative = bool(t["elpd_diff"].notna().all() and t["dse"].notna().all())
    loo.blocks.append(
        Figure(
            figures.compare_plot(
                list(t["model"]),
                list(t["elpd"]),
                list(t["se"]),
                list(t["elpd_diff"]),
                list(t["dse"]),
            ),
            (
                "ArviZ's comparison plot (plot_compare): each model's elpd difference to "
                "the best model (dashed line) with the SE of the difference (dSE); the "
                f"dotted line marks a difference of -{SMALL_DIFF:g}, below which models "
                "are not told apart. Each model's elpd and SE are in the table."
            )
            if relative
            else (
                "ArviZ's comparison plot (plot_compare): elpd of each model with its SE; "
                "the dashed line marks the best model. No difference could be computed "
                "(see the warnings)."
            ),
        )
    )
    loo.blocks.append(
        Table(
            [
                "rank",
                "model",
                "elpd",
                "SE",
                "elpd difference",
                "dSE",
                "P(worse)",
                "p_loo",
                "weight (stacking)",
            ],
            [
                [
                    str(int(r["rank"])),
                    r["model"],
                    fmt(r["elpd"], 1),
                    fmt(r["se"], 1),
                    fmt(r["elpd_diff"], 1),
                    fmt(r["dse"], 1),
                    fmt(r["p_worse"], 2),
                    fmt(r["p_loo"], 1),
                    fmt(r["weight"], 2),
                ]
                for _, r in t.iterrows()
            ],
        )
    )
    loo.blocks.append(
        Table(
            [
                "model",
                "persons",
                "k threshold",
                "k above threshold (bad)",
                "k above 1 or not computable (very bad)",
            ],
            [
                [
                    r["model"],
                    str(r["n"]),
                    fmt(r["good_k"], 2),
                    str(r["k_bad"]),
                    str(r["k_very_bad"]),
                ]
                for _, r in t.iterrows()
            ],
            caption="Pareto k diagnostics",
            flags=["warn" if r["k_bad"] + r["k_very_bad"] else "" for _, r in t.iterrows()],
        )
    )
    verdict = Section("reliability", "Reliability", "Reasons to distrust this comparison, if any.")
    if c.warnings:
        verdict.blocks.append(Items(c.warnings, cls="warn"))
    else:
        verdict.blocks.append(
            Text(
                "No warning: same data, same responses, Pareto k "
                "diagnostics good, and every difference large against its "
                "SE.",
                cls="ok",
            )
        )
    return Page(
        title="Model comparison (LOO): " + ", ".join(c.names),
        subtitle=[f"{len(c.names)} fits, compared in {c.seconds:.1f} s"],
        sections=[verdict, models, loo],
        banner=("UNRELIABLE comparison: see the warnings below." if c.warnings else None),
        banner_items=c.warnings,
        banner_level="warn",
        interval_note="elpd: expected log pointwise predictive density (PSIS-LOO over "
        "persons); SE and dSE are standard errors.",
        footer="Written by capmodel.",
    )
