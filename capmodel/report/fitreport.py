"""A fit's report: the page assembled from its sections, written to ``report.html``."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from capmodel import intervals
from capmodel.fitting.diagnostics import APPROXIMATE_TEXT
from capmodel.report import checks, effects, posterior, sections
from capmodel.report.blocks import Page, Section
from capmodel.report.calibration import StudyLink, sbc_studies
from capmodel.report.html import write

SECTIONS: tuple[str, ...] = (
    "run",
    "convergence",
    "model",
    "measurement",
    "capability",
    "realisations",
    "groups",
    "effects",
    "ppc",
    "published",
)
REPORT_NAME = "report.html"


def build_page(
    fit,
    *,
    ppc_draws: int = 200,
    effect_draws: int = 100,
    reference: str | None = "auto",
    include: Sequence[str] = SECTIONS,
    source: str | None = None,
    calibration: Sequence[StudyLink] = (),
) -> Page:
    """The report of ``fit`` as a :class:`Page`. ``ppc_draws``: posterior draws replicated
    (once) for the predictive checks and the published figures; ``effect_draws``: posterior
    draws the causal effects are computed from; ``reference``: table of published figures
    ('auto', None or a name); ``include``: the section ids to build; ``calibration``: SBC
    studies of the spec, linked from the convergence section."""
    unknown = sorted(set(include) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown report sections {unknown}; known: {list(SECTIONS)}")
    from capmodel.fitting.predictive import replicate

    t0 = time.perf_counter()
    replicated = functools.cache(lambda: replicate(fit, draws=ppc_draws, seed=1))

    def effects_section() -> Section:
        assert pending is not None  # submitted below whenever the effects section is built
        return effects.effects_section(pending.result())

    builders: dict[str, Callable[[], Section]] = {
        "run": lambda: sections.run_section(fit),
        "convergence": lambda: sections.convergence_section(fit),
        "model": lambda: sections.graph_section(fit),
        "measurement": lambda: posterior.measurement_section(fit),
        "capability": lambda: posterior.capability_section(fit),
        "realisations": lambda: posterior.realisations_section(fit),
        "groups": lambda: posterior.groups_section(fit),
        "effects": effects_section,
        "ppc": lambda: checks.ppc_section(fit, replicated),
        "published": lambda: checks.published_section(fit, reference, replicated),
    }
    # the effects are numbers (numpy, which releases the GIL): computed in a worker thread
    # while this thread draws the other sections
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(effects.compute, fit, effect_draws) if "effects" in include else None
        order = [s for s in SECTIONS if s in include and s != "effects"]
        if "effects" in include:
            order.append("effects")  # last: its numbers are ready by then
        done = {s: builders[s]() for s in order}
    if "convergence" in done:
        done["convergence"].blocks.extend(link.block() for link in calibration)
    built = [done[s] for s in SECTIONS if s in done]
    m, diag = fit.manifest, fit.diagnostics
    s = m["settings"]
    subtitle = [fit.spec.description] if fit.spec.description else []
    how = "approximate: mean-field ADVI" if diag.approximate else str(s.get("sampler", "NUTS"))
    subtitle.append(
        f"{m['data']['n_persons']:,} persons, {m['data']['n_rows']:,} rows; "
        f"{s['chains']} chains x {s['draws']} draws ({how}); "
        f"fitted {m.get('created', '')}"
    )
    banner, level = None, "fail"
    if diag.verdict == "fail":
        banner = (
            "FAILED: this fit did not pass the convergence checks. Its estimates, "
            "checks and figures below cannot be trusted; fix the sampling first."
        )
    elif diag.approximate:
        banner, level = (
            (
                f"{APPROXIMATE_TEXT}. A fast preview by variational inference: "
                "its intervals are too narrow and its estimates can be biased; refit "
                "by NUTS (capmodel fit --method nuts) before reporting anything."
            ),
            "warn",
        )
    where = f" from {source}" if source else ""
    return Page(
        title=f"Posterior report: {fit.spec.name}",
        subtitle=subtitle,
        sections=built,
        verdict=diag.verdict,
        banner=banner,
        banner_items=list(diag.reasons),
        banner_level=level,
        interval_note=f"All intervals are {intervals.text()} posterior intervals; dots are "
        "posterior means.",
        footer=f"Written by capmodel{where} in {time.perf_counter() - t0:.1f} s.",
    )


def report(fit, path: str | Path, **kw) -> Path:
    """Write the report of ``fit`` to ``path`` (a ``.html`` file, or a directory that then
    receives ``report.html``), atomically; returns the file path. ``kw``: see
    :func:`build_page`. SBC studies of the fit's spec in folders beside the report's folder
    are linked (capmodel.report.calibration)."""
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        path = path / REPORT_NAME
    kw.setdefault("calibration", sbc_studies(path, fit.spec.name))
    return write(build_page(fit, **kw), path)


def report_fit_dir(fit_dir: str | Path, out: str | Path | None = None, **kw) -> Path:
    """Load the saved fit in ``fit_dir`` and write its report (default
    ``fit_dir/report.html``)."""
    from capmodel.fitting import load_fit

    fit = load_fit(fit_dir)
    return report(
        fit, out if out is not None else Path(fit_dir) / REPORT_NAME, source=str(fit_dir), **kw
    )
