"""The sections of a fit's report about the run itself: what was fitted (run), whether the
sampler worked (convergence), and the model's structure (model graph)."""

from __future__ import annotations

from capmodel.fitting.diagnostics import (
    APPROXIMATE_TEXT,
    BFMI,
    DIVERGENCE_FAIL_SHARE,
    ESS,
    FLOAT32_ENERGY_WARN,
    RHAT,
    TREEDEPTH_WARN_SHARE,
)
from capmodel.report import figures
from capmodel.report.blocks import Details, Figure, Items, Section, Table, Text
from capmodel.report.convergence import (
    chain_table,
    divergence_table,
    parameter_table,
    worst_elements,
)
from capmodel.report.graph import model_graph, structure_of
from capmodel.report.stats import fmt
from capmodel.report.tomlout import dumps


# ------------------------------------------------------------------------------------- run
def run_section(fit) -> Section:
    m = fit.manifest
    d, s, t = m["data"], m["settings"], m["timings"]
    sec = Section(
        "run",
        "Run",
        "What was fitted, to which data, how, and with what software: "
        "enough to reproduce this fit.",
    )
    groups = ", ".join(f"{g} ({n} levels)" for g, n in d.get("groups", {}).items()) or "none"
    sec.blocks.append(
        Table(
            [],
            [
                ["rows (person x wave)", f"{d['n_rows']:,}"],
                ["persons", f"{d['n_persons']:,}"],
                ["waves (months since exit)", ", ".join(str(w) for w in d.get("waves", [])) or "–"],
                ["groups", groups],
                ["rows dropped", str(d.get("dropped_rows", 0))],
                ["data hash (sha256)", d["hash"]],
                ["survey-weighted likelihood", "yes" if m.get("weighted_likelihood") else "no"],
            ],
            caption="Data",
        )
    )
    if d.get("warnings"):
        sec.blocks.append(Items(list(d["warnings"]), cls="note"))
    residual_row = (
        [["per-person residual draws", _residual_text(m["residuals"])]]
        if m.get("residuals")
        else []
    )
    if fit.diagnostics.approximate:
        a = m.get("advi", {})
        sec.blocks.append(
            Table(
                [],
                [
                    ["method", "mean-field ADVI (PyMC pm.fit): approximate, not for inference"],
                    [
                        "iterations",
                        f"{a.get('iterations', 0):,} of at most "
                        f"{a.get('max_iterations', s.get('iterations', 0)):,}",
                    ],
                    [
                        "stopped",
                        "converged (PyMC's CheckParametersConvergence)"
                        if a.get("converged")
                        else "at the iteration limit",
                    ],
                    [
                        "final loss",
                        f"{fmt(a.get('final_loss'), 1)} ({a.get('loss', 'negative ELBO')})",
                    ],
                    ["learning rate", str(s.get("learning_rate"))],
                    [
                        "chains x draws",
                        f"{s.get('chains')} x {s.get('draws')} (independent draws "
                        "from the approximation)",
                    ],
                    ["seed", str(s.get("seed"))],
                    *residual_row,
                ],
                caption="Approximation",
            )
        )
    else:
        sec.blocks.append(
            Table(
                [],
                [
                    ["sampler", str(s.get("sampler"))],
                    ["chains", str(s.get("chains"))],
                    ["draws per chain", str(s.get("draws"))],
                    ["tuning steps", str(s.get("tune"))],
                    ["target acceptance", str(s.get("target_accept"))],
                    ["maximum tree depth", str(s.get("max_treedepth"))],
                    ["mass-matrix adaptation", str(s.get("adaptation", "–"))],
                    ["floating-point precision", _precision_text(m.get("precision"))],
                    ["seed", str(s.get("seed"))],
                    *residual_row,
                ],
                caption="Sampler",
            )
        )
    sec.blocks.append(
        Table(
            [],
            [[k.replace("_seconds", ""), f"{float(v):.1f} s"] for k, v in t.items()],
            caption="Timings",
        )
    )
    spec = fit.spec
    rows = [
        ["name", spec.name],
        ["description", spec.description or "–"],
        ["created", str(m.get("created", "–"))],
    ]
    rows += [[f"parameterisation of {g}", p] for g, p in m.get("parameterisation", {}).items()]
    sec.blocks.append(Table([], rows, caption="Model"))
    if m.get("notes"):
        sec.blocks.append(Items(list(m["notes"]), cls="note"))
    sec.blocks.append(Details("Model spec (TOML)", text=dumps(spec.to_dict())))
    sec.blocks.append(
        Details(
            "Versions",
            blocks=[
                Table(
                    ["package", "version"], [[k, str(v)] for k, v in m.get("versions", {}).items()]
                )
            ],
        )
    )
    return sec


def _residual_text(r: dict) -> str:
    if r.get("stored"):
        return (
            f"{r['variable']}: {r['draws_per_chain']} of {r['of_draws_per_chain']} draws per "
            f"chain kept ({r.get('dtype', '')})"
        )
    return f"{r['variable']}: not stored (the effects integrate each person's residual)"


# ----------------------------------------------------------------------------- convergence
def approximate_section(fit) -> Section:
    """The convergence section of an approximate (ADVI) fit: no check applies."""
    diag = fit.diagnostics
    sec = Section(
        "convergence",
        "Convergence",
        "This fit is an approximation (mean-field ADVI), not a sample from the "
        "posterior: R-hat, ESS, divergences and the other checks of NUTS do not "
        "apply, and its numbers are a preview, not for inference.",
    )
    sec.blocks.append(Text(f"Verdict: {APPROXIMATE_TEXT}", cls="badge warn"))
    sec.blocks.append(Items(list(diag.reasons), cls="warn"))
    a = fit.manifest.get("advi", {})
    sec.blocks.append(
        Table(
            ["iterations", "stopped", "final loss"],
            [
                [
                    f"{a.get('iterations', 0):,}",
                    "converged" if a.get("converged") else "at the iteration limit",
                    fmt(a.get("final_loss"), 1),
                ]
            ],
            caption="Optimisation",
        )
    )
    if "advi" in fit.idata.children:
        loss = fit.idata["advi"].to_dataset()["loss"].values
        sec.blocks.append(
            Figure(
                figures.loss_plot(loss),
                "ADVI's loss per iteration: it "
                "should end flat. A flat loss says the optimisation settled, "
                "not that the approximation is close to the posterior.",
            )
        )
    return sec


def convergence_section(fit) -> Section:
    diag = fit.diagnostics
    if diag.approximate:
        return approximate_section(fit)
    post = fit.posterior
    stats = fit.idata["sample_stats"].dataset if "sample_stats" in fit.idata.children else None
    sec = Section(
        "convergence",
        "Convergence",
        "Whether the sampler explored the posterior reliably: if this section says "
        "FAIL, the estimates below cannot be trusted.",
    )
    cls = {"pass": "ok", "warn": "warn", "fail": "fail"}[diag.verdict]
    sec.blocks.append(Text(f"Verdict: {diag.verdict.upper()}", cls=f"badge {cls}"))
    if diag.reasons:
        sec.blocks.append(Items(list(diag.reasons), cls=cls))
    share = diag.divergences / max(diag.n_draws, 1)

    def status(bad: bool, fail: bool) -> str:
        return "fail" if fail else ("warn" if bad else "")

    checks = [
        (
            "max R-hat",
            fmt(diag.max_rhat, 3),
            f"warn > {RHAT[0]}, fail > {RHAT[1]}",
            status(diag.max_rhat > RHAT[0], diag.max_rhat > RHAT[1]),
        ),
        *(
            [
                (
                    "max R-hat: person residuals / other parameters",
                    f"{fmt(diag.max_rhat_persons, 3)} / {fmt(diag.max_rhat_others, 3)}",
                    "a maximum over thousands of residuals has a higher noise floor "
                    "(docs/models.md)",
                    "",
                )
            ]
            if diag.max_rhat_persons is not None
            else []
        ),
        (
            "min bulk ESS",
            fmt(diag.min_ess_bulk, 0),
            f"warn < {ESS[0]}, fail < {ESS[1]}",
            status(diag.min_ess_bulk < ESS[0], diag.min_ess_bulk < ESS[1]),
        ),
        (
            "min tail ESS",
            fmt(diag.min_ess_tail, 0),
            f"warn < {ESS[0]}, fail < {ESS[1]}",
            status(diag.min_ess_tail < ESS[0], diag.min_ess_tail < ESS[1]),
        ),
        (
            "divergent transitions",
            f"{diag.divergences} of {diag.n_draws} ({100 * share:.1f}%)",
            f"warn > 0, fail > {100 * DIVERGENCE_FAIL_SHARE:g}%",
            status(diag.divergences > 0, share > DIVERGENCE_FAIL_SHARE),
        ),
        (
            "min BFMI",
            fmt(diag.min_bfmi),
            f"warn < {BFMI}",
            status(bool(diag.min_bfmi < BFMI), False),
        ),
        (
            "draws at the maximum tree depth",
            f"{100 * diag.treedepth_saturation:.1f}%",
            f"warn > {100 * TREEDEPTH_WARN_SHARE:g}%",
            status(diag.treedepth_saturation > TREEDEPTH_WARN_SHARE, False),
        ),
        *(
            [
                (
                    "float32: largest change of the log-density's rounding error between draws",
                    f"{diag.float32_energy_error:.2g}",
                    f"warn > {FLOAT32_ENERGY_WARN}",
                    status(
                        not diag.float32_energy_error <= FLOAT32_ENERGY_WARN,
                        False,
                    ),
                )
            ]
            if diag.float32_energy_error is not None
            else []
        ),
    ]
    sec.blocks.append(
        Table(
            ["check", "value", "threshold", "status"],
            [[a, b, c, d.upper() or "ok"] for a, b, c, d in checks],
            caption="Checks",
            flags=[c[3] for c in checks],
        )
    )
    table = parameter_table(post)
    if len(table):
        worst = table.head(10)
        sec.blocks.append(
            Table(
                ["parameter", "R-hat", "bulk ESS", "tail ESS"],
                [
                    [r.parameter, fmt(r.rhat, 3), fmt(r.ess_bulk, 0), fmt(r.ess_tail, 0)]
                    for r in worst.itertuples()
                ],
                caption=f"Worst of {len(table):,} parameters (person-level residuals excluded)",
            )
        )
    person_vars = [v for v, da in post.data_vars.items() if "person" in da.dims]
    residuals = fit.manifest.get("residuals")
    if not person_vars and residuals:
        bad = [
            w for w in diag.worst_rhat + diag.worst_ess if w.split("[")[0] == residuals["variable"]
        ]
        sec.blocks.append(
            Text(
                f"The person-level residual draws ({residuals['variable']}) were checked in the "
                "fit's diagnostics above, on every draw, before they were "
                + (
                    "thinned for storage"
                    if residuals.get("stored")
                    else "dropped from the saved fit"
                )
                + (
                    f"; the worst: {', '.join(dict.fromkeys(bad))}."
                    if bad
                    else "; none is among the worst parameters."
                ),
                cls="note",
            )
        )
    if person_vars:
        bad = [w for w in diag.worst_rhat + diag.worst_ess if w.split("[")[0] in person_vars]
        sec.blocks.append(
            Text(
                f"Person-level variables ({', '.join(person_vars)}; "
                f"{post.sizes.get('person', 0):,} values per draw) are checked in the fit's "
                "diagnostics above"
                + (
                    f"; the worst: {', '.join(dict.fromkeys(bad))}."
                    if bad
                    else "; none is among the worst parameters."
                ),
                cls="note",
            )
        )
    if stats is not None:
        chains = chain_table(stats, fit.manifest["settings"].get("max_treedepth", 10))
        cols = [
            c
            for c in ("chain", "divergences", "bfmi", "max_depth_share", "step_size")
            if c in chains
        ]
        names = {
            "chain": "chain",
            "divergences": "divergences",
            "bfmi": "BFMI",
            "max_depth_share": "at max tree depth",
            "step_size": "mean step size",
        }
        sec.blocks.append(
            Table(
                [names[c] for c in cols],
                [[_cell(c, r[c]) for c in cols] for _, r in chains.iterrows()],
                caption="Per chain",
            )
        )
        if "diverging" in stats and diag.divergences:
            div = stats["diverging"].transpose("chain", "draw").values
            dt = divergence_table(post, div)
            sec.blocks.append(
                Text(
                    "Where the divergences concentrate: the parameters whose values in divergent "
                    "transitions differ most from the other draws (difference of means in "
                    "posterior standard deviations). Group scales and the effects of small groups "
                    "near the top point to a funnel: try the non-centred parameterisation or "
                    "stronger priors on the group scales."
                )
            )
            sec.blocks.append(
                Table(
                    ["parameter", "mean, divergent", "mean, other", "difference (sd)"],
                    [
                        [r.parameter, fmt(r.divergent), fmt(r.other), fmt(r.difference_sd)]
                        for r in dt.itertuples()
                    ],
                )
            )
    items = worst_elements(post, table, tuple(diag.worst_rhat[:2]) + tuple(diag.worst_ess[:2]))
    if items:
        sec.blocks.append(
            Figure(
                figures.rank_plot(items),
                "Rank plots of the worst parameters (ArviZ's plot_rank): each chain's "
                "fractional-rank Δ-ECDF, the difference between the distribution of the "
                "ranks of its draws among all draws and a uniform one. Lines close to zero "
                "mean the chains agree and mix; a bump means a chain over-samples part of "
                "the posterior. Each panel spans a little more than the deviation chance "
                "explains, so a line that reaches its edge is suspect. p: ArviZ's "
                "multi-chain uniformity test; black dots mark the draws that make it fail. "
                "Chains longer than "
                f"{figures.RANK_DRAWS} draws are thinned evenly to at most {figures.RANK_DRAWS}.",
            )
        )
    if stats is not None and "energy" in stats:
        energy = stats["energy"].transpose("chain", "draw")
        sec.blocks.append(
            Figure(
                figures.energy_plot(energy.values, BFMI),
                "Energy plot (ArviZ's plot_energy): when the energy transitions (orange) "
                "are much narrower than the marginal energy (blue), NUTS explores the "
                "posterior's tails slowly (low BFMI). Left: each chain's BFMI, against the "
                f"warning threshold {BFMI} (dashed line).",
            )
        )
    return sec


def _cell(col: str, v) -> str:
    if col == "chain" or col == "divergences":
        return str(int(v))
    if col == "max_depth_share":
        return f"{100 * v:.1f}%"
    return fmt(float(v), 3)


# ----------------------------------------------------------------------------- model graph
def graph_section(fit) -> Section:
    sec = Section(
        "model",
        "Model graph",
        "How the fitted model links supports to capability and outcomes: arrows are "
        "estimated effects, italic labels are the conversion factors that change a "
        "support's effect, dashed arrows are group effects and direct effects.",
    )
    waves = fit.manifest["data"].get("waves", [])
    sec.blocks.append(
        Figure(model_graph(structure_of(fit.spec, waves)), f"Structure of model '{fit.spec.name}'.")
    )
    return sec


def _precision_text(p: dict | None) -> str:
    """'float32 (asked: auto; float32 rounding sd 0.003)'; fits from before the option: float64."""
    if not p:
        return "float64"
    text = str(p.get("used", "float64"))
    extra = []
    if p.get("asked") and p.get("asked") != p.get("used"):
        extra.append(f"asked: {p['asked']}")
    if "float32_rounding_sd" in p:
        extra.append(f"float32 rounding sd {p['float32_rounding_sd']:.2g} near the start")
    return text + (f" ({'; '.join(extra)})" if extra else "")
