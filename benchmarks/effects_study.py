"""Effects validation study: fit the reference capability model to simulated cep2021 surveys
with several seeds and check the effect estimates against the simulator's true potential
outcomes (capmodel.validation.truth_effects) and the true population margins.

    python benchmarks/effects_study.py --seeds 1 2 3 --fits /tmp/study-fits \\
        --write docs/validation.md                                      # full size
    python benchmarks/effects_study.py --seeds 1 2 3 --n-population 40000 --draws 300  # quick

Per seed: coverage of the 90% intervals of the sample total effects (4 supports and the CEP x 6
realisations and any), NDE and NIE, conversion effects by factor level, the PN share among
changers and the pathway-type shares (types 1-4; type 5 is observed, not estimated), the
post-stratified (MRP) effect of the CEP and pathway-type shares in the whole population; and
the MRP population margins of the Q9 items against raw and weighted survey means.
``--write`` replaces the block between <!-- effects:start --> and <!-- effects:end --> of the
given markdown file (<!-- effects-SCENARIO:start/end --> for another ``--scenario``, e.g.
cep2021_regional, whose survey is selected on the regional labour market).
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from study_fits import add_common_options, command_tail, replace_block, study_fit

import capmodel.effects as fx
from capmodel.spec import load_spec
from capmodel.validation.truth_effects import (
    SampleTruth,
    population_cep_effect,
    population_margins,
    population_pathway_shares,
)


def _pair(contrast: str):
    return ("observed", "none") if contrast == "cep" else ({contrast: 1}, {contrast: 0})


def check_seed(seed: int, args: argparse.Namespace) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Coverage rows (block, estimand, truth, mean, lower, upper, covered) and MRP rows."""
    spec = load_spec(args.spec)
    s = study_fit(
        spec,
        seed,
        n_population=args.n_population,
        draws=args.draws,
        tune=args.tune,
        fits_dir=args.fits,
        scenario=args.scenario,
    )
    sim, f, t_fit = s.sim, s.fit, s.seconds
    t0 = time.perf_counter()
    model = fx.effect_model(f, draws=args.effect_draws)
    truth = SampleTruth.of(sim)
    rows = []

    def add(block: str, name: str, value: float, mean: float, lo: float, hi: float) -> None:
        rows.append(
            {
                "seed": seed,
                "block": block,
                "estimand": name,
                "truth": value,
                "mean": mean,
                "lower": lo,
                "upper": hi,
                "covered": lo <= value <= hi,
            }
        )

    te = fx.total_effects(model).table
    te = te[(te["quantity"] == "difference") & (te["by_variable"] == "all")]
    for r in te.itertuples():
        add(
            "total effect",
            f"{r.contrast}->{r.outcome}",
            truth.total_effect(*_pair(r.contrast))[r.outcome],
            r.mean,
            r.lower,
            r.upper,
        )
    med = fx.mediation(model).table
    med = med[(med["by_variable"] == "all") & med["quantity"].isin(["nde", "nie"])]
    for r in med.itertuples():
        add(
            r.quantity.upper(),
            f"{r.contrast}->{r.outcome}",
            truth.mediation(*_pair(r.contrast))[r.outcome][r.quantity],
            r.mean,
            r.lower,
            r.upper,
        )
    conv = fx.conversion(model).table
    conv = conv[(conv["quantity"] == "effect") & (conv["factor"] != "all")]
    for r in conv.itertuples():
        add(
            "conversion",
            f"{r.support}|{r.factor}={r.level}",
            truth.conversion(r.support, r.factor, r.level),
            r.mean,
            r.lower,
            r.upper,
        )
    att = fx.attribution(model, data=sim.survey).table.iloc[0]
    add("PN share", "all", truth.necessity_share(), att.pn_mean, att.pn_lower, att.pn_upper)
    extra = {"pn_realised": truth.realised_necessity(sim), "self_reported": att.self_reported}
    pw = fx.pathways(model, data=sim.survey, tau=args.tau).table
    pw = pw[pw["by_variable"] == "all"]
    types = truth.pathway_types(args.tau)
    for r in pw[pw["type"] < 5].itertuples():
        add(
            "pathway share",
            f"type {r.type}",
            float(np.mean(types == r.type)),
            r.mean,
            r.lower,
            r.upper,
        )
    ps = fx.poststratify(model, sim.population, interventions=["observed", "none"], seed=seed)
    cep = ps.extra["contrasts"]
    true_cep = population_cep_effect(sim)
    for r in cep[cep["by_variable"] == "all"].itertuples():
        add("MRP population CEP effect", r.outcome, true_cep[r.outcome], r.mean, r.lower, r.upper)
    pw_pop = fx.pathways(model, tau=args.tau, population=sim.population, seed=seed).extra[
        "poststratified"
    ]
    true_pop = population_pathway_shares(sim, args.tau)
    for r in pw_pop[pw_pop["by_variable"] == "all"].itertuples():
        add("MRP pathway share", f"type {r.type}", true_pop[r.type], r.mean, r.lower, r.upper)
    high = pw_pop[(pw_pop["by_variable"] == "all") & pw_pop["type"].isin([2, 3])]["mean"].sum()
    true_resp = population_pathway_shares(sim, args.tau, respondents=True)
    extra["gain_share"] = (true_resp[2] + true_resp[3], high, true_pop[2] + true_pop[3])
    mrp = ps.extra["comparison"]
    mrp = mrp[mrp["by_variable"] == "all"].copy()
    mrp["truth"] = mrp["outcome"].map(population_margins(sim))
    mrp["seed"] = seed
    extra.update(
        fit_s=t_fit,
        effects_s=time.perf_counter() - t0,
        persons=int(sim.survey["person_id"].nunique()),
        rhat=f.manifest["diagnostics"]["max_rhat"],
        ess=f.manifest["diagnostics"]["min_ess_bulk"],
    )
    return pd.DataFrame(rows), mrp, extra


def markdown(
    cov: pd.DataFrame, mrp: pd.DataFrame, runs: list[str], cmd: str, gains: list[str]
) -> str:
    lines = [
        f"Command: `{cmd}` ({platform.machine()}, Python {platform.python_version()}).",
        "",
        "| seed | persons | fit s | effects s | max R-hat | min bulk ESS | coverage | "
        "true PN share | realised | self-reported |",
        "|---" * 10 + "|",
        *runs,
        "",
        "Coverage of 90% equal-tailed intervals of the true sample quantities (all seeds):",
        "",
        "| block | coverage | estimands x seeds |",
        "|---|---|---|",
    ]
    for block, g in cov.groupby("block", sort=False):
        lines.append(f"| {block} | {g['covered'].mean():.3f} | {len(g)} |")
    lines.append(f"| **all** | **{cov['covered'].mean():.3f}** | {len(cov)} |")
    mrp = mrp.assign(
        err_raw=(mrp["survey_raw"] - mrp["truth"]).abs(),
        err_weighted=(mrp["survey_weighted"] - mrp["truth"]).abs(),
        err_mrp=(mrp["mrp_mean"] - mrp["truth"]).abs(),
    )
    mrp["mrp_covers"] = (mrp["mrp_lower"] <= mrp["truth"]) & (mrp["truth"] <= mrp["mrp_upper"])
    lines += [
        "",
        "Post-stratified (MRP) population margins of the Q9 items vs the true "
        "population share: mean absolute error over seeds, and in how many seeds MRP was "
        "closer than the raw survey mean / at least as close as the weighted mean:",
        "",
        "| item | raw | weighted | MRP | MRP < raw | MRP <= weighted | MRP 90% covers |",
        "|---|---|---|---|---|---|---|",
    ]
    n = mrp["seed"].nunique()
    for item, g in mrp.groupby("outcome"):
        lines.append(
            f"| {item} | {g['err_raw'].mean():.4f} | {g['err_weighted'].mean():.4f} | "
            f"{g['err_mrp'].mean():.4f} | {(g['err_mrp'] < g['err_raw']).sum()}/{n} | "
            f"{(g['err_mrp'] <= g['err_weighted']).sum()}/{n} | "
            f"{g['mrp_covers'].sum()}/{n} |"
        )
    lines += [
        "",
        "Share with a capability gain >= tau (pathway types 2 + 3): the respondents' "
        "true share, the MRP estimate for the population, the population's true share "
        "(how much of the survey's over-representation the assignment sub-model "
        "removes):",
        "",
        "| seed | respondents (true) | MRP | population (true) |",
        "|---|---|---|---|",
        *gains,
    ]
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser()
    add_common_options(p)
    p.add_argument(
        "--effect-draws",
        type=int,
        default=1000,
        help="posterior draws used for the effects (default 1000)",
    )
    p.add_argument("--tau", type=float, default=0.5)
    p.add_argument("--write", type=Path, help="markdown file with the effects markers")
    args = p.parse_args()
    covs, mrps, runs, gains = [], [], [], []
    for seed in args.seeds:
        cov, mrp, x = check_seed(seed, args)
        covs.append(cov)
        mrps.append(mrp)
        runs.append(
            f"| {seed} | {x['persons']:,} | {x['fit_s']:.0f} | {x['effects_s']:.0f} | "
            f"{x['rhat']:.3f} | {x['ess']:.0f} | {cov['covered'].mean():.3f} | "
            f"{cov.loc[cov['block'] == 'PN share', 'truth'].iloc[0]:.3f} | "
            f"{x['pn_realised']:.3f} | {x['self_reported']:.3f} |"
        )
        gains.append(f"| {seed} | " + " | ".join(f"{v:.3f}" for v in x["gain_share"]) + " |")
        print(runs[-1], flush=True)
    cmd = (
        "python benchmarks/effects_study.py --seeds "
        + " ".join(map(str, args.seeds))
        + command_tail(args)
        + f" --effect-draws {args.effect_draws}"
    )
    text = markdown(pd.concat(covs), pd.concat(mrps), runs, cmd, gains)
    print(text)
    if args.write:
        marker = "effects" if args.scenario == "cep2021" else f"effects-{args.scenario}"
        replace_block(args.write, marker, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
