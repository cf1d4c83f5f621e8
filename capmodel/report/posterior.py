"""The sections of a fit's report that show the posterior of the model's parameters:
measurement, capability, realisations and groups. Every interval is the report's (stats.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from capmodel.intervals import bounds
from capmodel.report import figures
from capmodel.report.blocks import Details, Figure, Section, Table, Text
from capmodel.report.stats import Interval, fmt, heading, interval, intervals

if TYPE_CHECKING:
    from capmodel.data import EncodedData
    from capmodel.model.design import Design


def _rows(post: xr.Dataset, name: str, dim: str | None = None, **sel) -> list[Interval]:
    """One interval per element of ``name`` along ``dim`` (after selecting ``sel``)."""
    if name not in post:
        return []
    da = post[name].sel(sel) if sel else post[name]
    if dim is None:
        return [interval(name, da)]
    return intervals(da, dim)


def _table(rows: list[Interval], what: str = "parameter") -> Table:
    return Table(
        [what, "mean", "5%", "95%"],
        [[r.label, fmt(r.mean), fmt(r.lo), fmt(r.hi)] for r in rows if not r.heading],
    )


# ----------------------------------------------------------------------------- measurement
def measurement_section(fit) -> Section:
    post, spec = fit.posterior, fit.spec
    sec = Section(
        "measurement",
        "Measurement",
        "How strongly each survey indicator reflects capability (its loading) and "
        "where its answer thresholds lie: indicators with loadings near zero carry "
        "little information on capability.",
    )
    if not spec.latent or "loading" not in post:
        sec.blocks.append(
            Text("This model has no latent capability, hence no measurement part.", cls="note")
        )
        return sec
    loads = _rows(post, "loading", "indicator")
    sec.blocks.append(
        Figure(
            figures.forest(
                loads,
                title="Loading of each indicator on capability",
                xlabel="loading (logit scale)",
            ),
            "Loadings: a change of one in capability multiplies the odds of a "
            "higher answer by exp(loading).",
        )
    )
    panels = []
    for j in spec.indicators:
        name = f"cutpoints__{j}"
        if name in post:
            panels.append((j, _rows(post, name, f"{j}_cut")))
    if panels:
        sec.blocks.append(
            Figure(
                figures.forest_panels(panels, ncols=2, zero=None, xlabel="cutpoint (logit scale)"),
                "Cutpoints of the ordinal indicators: the capability "
                "at which a respondent is equally likely to answer below or "
                "above each threshold (times the loading).",
            )
        )
    intercepts = _rows(post, "indicator_intercept", "binary_indicator")
    if intercepts:
        sec.blocks.append(
            Figure(
                figures.forest(
                    intercepts,
                    title="Intercepts of the binary indicators",
                    xlabel="logit at capability 0",
                ),
                "Binary indicators: log-odds of 'yes' at capability 0.",
            )
        )
    rows = (
        loads
        + [Interval(f"{p[0]}: {r.label}", r.mean, r.lo, r.hi) for p in panels for r in p[1]]
        + intercepts
    )
    sec.blocks.append(Details("Numbers", blocks=[_table(rows)]))
    return sec


# ------------------------------------------------------------------------------ capability
def _levels(ds: xr.Dataset, column: str) -> tuple[list[str], str | None]:
    """Levels and reference of a categorical covariate; ([], None) for any other column."""
    enc: EncodedData = ds.capmodel
    if column not in enc.columns(("factors", "confounders")) or not enc.has_levels(column):
        return [], None
    levels = list(enc.levels(column))
    return levels, enc.references().get(column, levels[0])


def conversion_rows(
    post: xr.Dataset, design: Design, ds: xr.Dataset, support: str, factor: str
) -> list[Interval]:
    """Effect of ``support`` on capability at each level of ``factor``: support_effect plus
    the conversion term of that level (the reference level has none)."""
    base = post["support_effect"].sel(support=support)
    terms = set(map(str, post["conversion_term"].values)) if "conversion" in post else set()
    term_of = {  # level (None: numeric factor) -> its conversion term in the posterior
        p.level: t
        for t, p in zip(design.conversion_terms, design.parts(design.conversion_terms), strict=True)
        if p.support == support and p.covariate == factor and t in terms
    }
    levels, ref = _levels(ds, factor)
    if not levels:  # numeric factor: the change of the effect per unit
        term = term_of.get(None)
        return (
            [interval(f"change per unit of {factor}", post["conversion"].sel(conversion_term=term))]
            if term is not None
            else []
        )
    rows = []
    for lv in levels:
        term = term_of.get(lv)
        draws = base + post["conversion"].sel(conversion_term=term) if term is not None else base
        rows.append(interval(f"{lv} (reference)" if lv == ref else lv, draws))
    return rows


def capability_section(fit) -> Section:
    post, spec, ds = fit.posterior, fit.spec, fit.data
    sec = Section(
        "capability",
        "Capability",
        "The effect of each support on capability, and how conversion factors make "
        "the same support worth more or less to different people.",
    )
    if not spec.latent or "support_effect" not in post:
        sec.blocks.append(
            Text(
                "This model has no latent capability: the effects of supports "
                "are direct effects on realisations (next section).",
                cls="note",
            )
        )
        return sec
    effects = _rows(post, "support_effect", "support")
    sec.blocks.append(
        Figure(
            figures.forest(
                effects,
                title="Effect of each support on capability (at the reference levels)",
                xlabel="change in capability (sd units)",
            ),
            "Support effects at the reference level of every conversion "
            "factor. Filled dots: the interval excludes zero.",
        )
    )
    panels, rows = [], []
    for support, factors in spec.conversion:
        prow: list[Interval] = []
        for factor in factors:
            r = conversion_rows(post, fit.design, ds, support, factor)
            prow += [heading(f"by {factor}")] + r
            rows += [Interval(f"{support} | {factor} = {x.label}", x.mean, x.lo, x.hi) for x in r]
        panels.append((f"{support}", prow))
    if panels:
        sec.blocks.append(
            Figure(
                figures.forest_panels(panels, ncols=2, xlabel="effect on capability"),
                "Effect of each support on capability at each level of its "
                "declared conversion factors (support effect + conversion "
                "term of that level).",
            )
        )
        sec.blocks.append(
            Details(
                "Numbers: support effects by conversion factor",
                blocks=[_table(rows, "support | factor = level")],
            )
        )
    cov = _rows(post, "capability_covariate", "capability_term")
    if cov:
        sec.blocks.append(
            Figure(
                figures.forest(
                    cov,
                    title="Factors and confounders: effect on capability",
                    xlabel="change in capability",
                ),
                "Main effects of conversion factors (levels against their "
                "reference) and confounders on capability, whatever the "
                "support.",
            )
        )
    sec.blocks.append(
        Details("Numbers: support effects and covariates", blocks=[_table(effects + cov)])
    )
    return sec


# ---------------------------------------------------------------------------- realisations
def _owned(terms: list[str], columns: tuple[str, ...], design: Design) -> list[str]:
    """The terms (of ``design``) of the covariates ``columns``."""
    return [t for t in terms if design.term_parts[t].covariate in columns]


def realisations_section(fit) -> Section:
    post, spec = fit.posterior, fit.spec
    sec = Section(
        "realisations",
        "Realisations",
        "What drives each realisation (training, change of job...): capability, the "
        "supports directly, conversion factors and time since exit, on the log-odds "
        "scale.",
    )
    if not spec.realisations or "realisation_intercept" not in post:
        sec.blocks.append(Text("This model has no realisations.", cls="note"))
        return sec
    numbers: list[Interval] = []
    if "capability_loading" in post:
        rows = _rows(post, "capability_loading", "realisation")
        numbers += [Interval(f"capability -> {r.label}", r.mean, r.lo, r.hi) for r in rows]
        sec.blocks.append(
            Figure(
                figures.forest(
                    rows,
                    title="Effect of capability on each realisation",
                    xlabel="log-odds per sd of capability",
                ),
                "How much a higher capability raises the odds of each realisation.",
            )
        )
    realisations = [str(r) for r in post["realisation"].values]
    if "direct_effect" in post:
        panels = [
            (r, _rows(post, "direct_effect", "direct_support", realisation=r)) for r in realisations
        ]
        numbers += [Interval(f"{p}: {x.label}", x.mean, x.lo, x.hi) for p, rs in panels for x in rs]
        sec.blocks.append(
            Figure(
                figures.forest_panels(panels, ncols=3, xlabel="log-odds"),
                "Direct effects of the supports on each realisation (beyond "
                "their effect through capability).",
            )
        )
    if "realisation_covariate" in post:
        terms = [str(t) for t in post["realisation_term"].values]
        factors = _owned(terms, spec.realisation_factors, fit.design)
        if factors:
            panels = [
                (
                    r,
                    _rows(
                        post,
                        "realisation_covariate",
                        "realisation_term",
                        realisation=r,
                        realisation_term=factors,
                    ),
                )
                for r in realisations
            ]
            sec.blocks.append(
                Figure(
                    figures.forest_panels(panels, ncols=3, xlabel="log-odds"),
                    "Conversion factors: effect of each level (against its "
                    "reference) on each realisation.",
                )
            )
        for r in realisations:
            numbers += [
                Interval(f"{r}: {x.label}", x.mean, x.lo, x.hi)
                for x in _rows(post, "realisation_covariate", "realisation_term", realisation=r)
            ]
    if "time_effect" in post:
        rows = _rows(post, "time_effect", "realisation")
        numbers += [Interval(f"time -> {r.label}", r.mean, r.lo, r.hi) for r in rows]
        sec.blocks.append(
            Figure(
                figures.forest(
                    rows, title="Effect of time since exit", xlabel="log-odds per log(months / 6)"
                ),
                "How the odds of each realisation change with time since "
                "exit (per unit of log(months / 6)).",
            )
        )
    else:
        sec.blocks.append(
            Text(
                "Time since exit is not modelled (a single wave, or realisations.time = false).",
                cls="note",
            )
        )
    intercepts = _rows(post, "realisation_intercept", "realisation")
    numbers += [Interval(f"intercept: {r.label}", r.mean, r.lo, r.hi) for r in intercepts]
    sec.blocks.append(
        Details(
            "Numbers (every realisation parameter, confounders included)", blocks=[_table(numbers)]
        )
    )
    return sec


# ---------------------------------------------------------------------------------- groups
def _group_labels(ds: xr.Dataset, group: str, labels: list[str]) -> list[str]:
    """Labels with their parent level for nested groups ('Corse (Catalys)')."""
    enc: EncodedData = ds.capmodel
    within = enc.within(group)
    if within is None or not enc.has_levels(within):
        return labels
    outer = enc.levels(within)
    codes = dict(zip(enc.levels(group), enc.parent_codes(group).tolist(), strict=True))
    return [f"{lab} ({outer[codes[lab]]})" if codes.get(lab, -1) >= 0 else lab for lab in labels]


def groups_section(fit) -> Section:
    post, spec, ds = fit.posterior, fit.spec, fit.data
    sec = Section(
        "groups",
        "Groups",
        "How operators and regions differ once the people they serve are accounted "
        "for (sorted from lowest to highest), and how large those differences are "
        "overall (the group standard deviations).",
    )
    if not spec.groups:
        sec.blocks.append(Text("This model has no group effects.", cls="note"))
        return sec
    numbers: list[Interval] = []
    for g in spec.groups:
        name = f"{g}_effect"
        if name in post and g in post[name].dims:
            labels = [str(x) for x in post[g].values]
            shown = _group_labels(ds, g, labels)
            rows = sorted(intervals(post[name], g, shown), key=lambda r: r.mean)
            numbers += rows
            sec.blocks.append(
                Figure(
                    figures.forest(
                        rows, title=f"{g}: effect on capability", xlabel="change in capability"
                    ),
                    f"Effect of each {g} on capability, sorted.",
                )
            )
    sds = [
        interval(str(v), post[v])
        for v in post.data_vars
        if str(v).endswith("_sd") and post[v].ndim == 2
    ]
    if sds:
        numbers += sds
        sec.blocks.append(
            Figure(
                figures.forest(
                    sds,
                    title="Group standard deviations",
                    xlabel="sd (capability or log-odds scale)",
                    zero=None,
                ),
                "Spread of the group effects: '<group>_sd' on capability, "
                "'realisation_<group>_sd' on the realisations.",
            )
        )
    for g in spec.groups:
        name = f"realisation_{g}_effect"
        if name in post:
            da = post[name]
            labels = [str(x) for x in da[g].values]
            shown = _group_labels(ds, g, labels)
            realisations = [str(r) for r in da["realisation"].values]
            x = da.transpose("chain", "draw", g, "realisation").values.reshape(
                -1, len(labels), len(realisations)
            )
            mean = x.mean(axis=0)
            lo, hi = bounds(x, axis=0)
            order = np.argsort(mean.mean(axis=1))
            sec.blocks.append(
                Figure(
                    figures.heatmap(
                        mean[order],
                        [shown[i] for i in order],
                        realisations,
                        (lo[order] > 0) | (hi[order] < 0),
                        title=f"{g}: effect on each realisation",
                    ),
                    f"Posterior mean effect of each {g} on each realisation (log-odds); a dot "
                    "marks an interval that excludes zero.",
                )
            )
            for r in realisations:
                numbers += [
                    Interval(f"{r}: {x.label}", x.mean, x.lo, x.hi)
                    for x in intervals(da.sel(realisation=r), g, shown)
                ]
    sec.blocks.append(Details("Numbers", blocks=[_table(numbers)]))
    return sec
