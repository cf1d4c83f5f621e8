"""Crossed-design validation study (issue 13): five national operators crossed with 13 regions,
local structures nested in operators, fitted with models/crossed.toml at its defaults.

    python benchmarks/crossed_study.py --seeds 1 2 3 --fits /tmp/crossed-fits \\
        --write docs/validation.md

Per seed: simulate ``--scenario`` (default ``cep_crossed``) with ``--n-population``
beneficiaries (the survey is the published 3.2% of them); fit the spec at its defaults; report
convergence (max R-hat, min bulk and tail ESS, divergences), coverage and mean width of the 90%
intervals of the parameters by block (parameter recovery against the simulator's true
parameters), and of the sample total effects (the 4 supports and the CEP x the 6 realisations
and any) against the simulator's true potential outcomes of the respondents. ``--write``
replaces the block between <!-- crossed:start --> and <!-- crossed:end --> of the given file.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import pandas as pd
from study_fits import replace_block, study_fit

import capmodel.effects as fx
from capmodel.spec import load_spec
from capmodel.validation.recovery import recovery_table, true_values
from capmodel.validation.truth_effects import SampleTruth


def _pair(contrast: str):
    return ("observed", "none") if contrast == "cep" else ({contrast: 1}, {contrast: 0})


def check(seed: int, args: argparse.Namespace) -> tuple[list[dict], dict]:
    """Per-estimate coverage rows and a summary row of one seed."""
    done = study_fit(
        load_spec(args.spec),
        seed,
        n_population=args.n_population,
        draws=args.draws,
        tune=args.tune,
        fits_dir=args.fits,
        scenario=args.scenario,
    )
    sim, f, seconds = done.sim, done.fit, done.seconds
    post = f.posterior
    rows = [
        {
            "seed": seed,
            "block": f"parameters: {r.block}",
            "covered": bool(r.covered),
            "width": float(r.upper - r.lower),
        }
        for r in recovery_table(post, true_values(sim.params, post, f.design)).itertuples()
    ]
    model = fx.effect_model(f, draws=args.effect_draws)
    te = fx.total_effects(model).table
    te = te[te["quantity"] == "difference"]
    truth = SampleTruth.of(sim)
    for r in te.itertuples():
        value = truth.total_effect(*_pair(r.contrast))[r.outcome]
        rows.append(
            {
                "seed": seed,
                "block": "total effects",
                "covered": bool(r.lower <= value <= r.upper),
                "width": float(r.upper - r.lower),
            }
        )
    d = f.manifest["diagnostics"]
    cells = sim.survey.groupby(["operator", "region"], observed=False).size()
    summary = {
        "seed": seed,
        "persons": len(f.design.person_labels),
        "cells": f"{int((cells > 0).sum())} ({int((cells.between(1, 9)).sum())} with 1-9)",
        "structures": int(sim.survey["structure"].nunique()),
        "verdict": d["verdict"],
        "max_rhat": d["max_rhat"],
        "min_ess_bulk": d["min_ess_bulk"],
        "min_ess_tail": d["min_ess_tail"],
        "divergences": d["divergences"],
        "seconds": seconds,
        "worst_ess": ", ".join(d["worst_ess"][:2]),
    }
    print(summary, flush=True)
    return rows, summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--scenario", default="cep_crossed")
    ap.add_argument("--spec", default="models/crossed.toml")
    ap.add_argument("--n-population", type=int, default=100_000)
    ap.add_argument("--draws", type=int, default=None, help="default: the spec's")
    ap.add_argument("--tune", type=int, default=None, help="default: the spec's")
    ap.add_argument("--effect-draws", type=int, default=500)
    ap.add_argument("--fits", type=Path, default=None, help="save and reuse fits here")
    ap.add_argument("--write", type=Path, default=None)
    args = ap.parse_args()
    rows, summary = [], []
    for seed in args.seeds:
        r, s = check(seed, args)
        rows += r
        summary.append(s)
    cov = pd.DataFrame(rows)
    table = cov.groupby("block").agg(
        n=("covered", "size"), coverage=("covered", "mean"), width=("width", "mean")
    )
    per_seed = cov.groupby(["block", "seed"])["covered"].mean().unstack("seed")
    lines = [
        f"Seeds {args.seeds}, scenario `{args.scenario}`, {args.n_population:,} beneficiaries "
        f"(persons below), `{args.spec}` at its defaults"
        + (f" (draws {args.draws}, tune {args.tune})" if args.draws or args.tune else "")
        + f"; {args.effect_draws} draws for the effects. Machine: {platform.machine()}, "
        f"Python {platform.python_version()}.",
        "",
        "| block | n | coverage (all seeds) | lowest seed | mean width |",
        "|---|---:|---:|---:|---:|",
    ]
    for block, r in table.iterrows():
        lines.append(
            f"| {block} | {int(r['n'])} | {r['coverage']:.3f} | "
            f"{per_seed.loc[block].min():.3f} | {r['width']:.3f} |"
        )
    lines += [
        "",
        "| seed | persons | operator x region cells | structures | verdict | max R-hat | "
        "min bulk ESS | min tail ESS | divergences | fit (s) | slowest (bulk ESS) |",
        "|---:|---:|---|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for s in summary:
        lines.append(
            f"| {s['seed']} | {s['persons']:,} | {s['cells']} | {s['structures']} | "
            f"{s['verdict']} | {s['max_rhat']:.3f} | {s['min_ess_bulk']:.0f} | "
            f"{s['min_ess_tail']:.0f} | {s['divergences']} | {s['seconds']:.0f} | "
            f"{s['worst_ess']} |"
        )
    lines += ["", "Command: `python benchmarks/crossed_study.py " + " ".join(sys.argv[1:]) + "`"]
    text = "\n".join(lines)
    print(text)
    if args.write:
        replace_block(args.write, "crossed", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
