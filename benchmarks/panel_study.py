"""Panel validation study (issue 13): the 1/6/18-month panel with attrition, fitted with the
cumulative likelihood (the default) and with the old independent-wave one, against the truth.

    python benchmarks/panel_study.py --seeds 1 2 3 --fits /tmp/panel-fits \\
        --write docs/validation.md

Per seed: simulate cep2021 with waves 1, 6 and 18 months and attrition (``simulate(...,
attrition=(0.15, 0.30))``: 15% of the persons leave after 1 month, 30% of the rest after 6);
fit models/capability.toml at its defaults with ``realisations.panel`` = "cumulative" and
= "independent". Reported per likelihood:
convergence (max R-hat, min bulk and tail ESS, divergences), coverage and mean width of the 90%
intervals of the parameters by block (parameter recovery), and of the sample total effects (4
supports and the CEP x 6 realisations and any) at each horizon, against the simulator's true
potential outcomes of the persons seen at that wave. ``--write`` replaces the block between
<!-- panel:start --> and <!-- panel:end --> of the given markdown file.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import pandas as pd
from study_fits import replace_block

import capmodel.effects as fx
from capmodel.data import load_data
from capmodel.fitting import Fit, fit, load_fit
from capmodel.simulate import Simulated, simulate
from capmodel.spec import load_spec, spec_from_dict
from capmodel.validation.recovery import recovery_table, true_values
from capmodel.validation.truth_effects import SampleTruth

WAVES = (1, 6, 18)
LIKELIHOODS = ("cumulative", "independent")
ATTRITION = (0.15, 0.30)  # leave after 1 month; of the others, after 6 months


def panel_fit(sim: Simulated, seed: int, panel: str, args: argparse.Namespace) -> Fit:
    raw = load_spec(args.spec).to_dict()
    raw["realisations"]["panel"] = panel
    spec = spec_from_dict(raw)
    data = load_data(sim.survey, spec.schema)
    target = args.fits / f"seed{seed}-{panel}" if args.fits else None
    if target is not None and target.is_dir():
        old = load_fit(target)
        if (
            old.manifest["data"]["hash"] == data.dataset.attrs["data_hash"]
            and old.manifest["spec"] == spec.to_dict()
        ):
            print(f"seed {seed} {panel}: reusing {target}", flush=True)
            return old
    f = fit(spec, data, seed=seed, draws=args.draws, tune=args.tune, progressbar=False)
    if target is not None:
        f.save(target, overwrite=True)
    return f


def _pair(contrast: str):
    return ("observed", "none") if contrast == "cep" else ({contrast: 1}, {contrast: 0})


def check(seed: int, args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    """Per-estimate coverage rows, and one summary row per likelihood."""
    sim = simulate(
        "cep2021", seed=seed, n_population=args.n_population, waves=WAVES, attrition=ATTRITION
    )
    rows, summary = [], []
    for panel in args.likelihoods:
        t0 = time.perf_counter()
        f = panel_fit(sim, seed, panel, args)
        seconds = time.perf_counter() - t0
        post = f.posterior
        rec = recovery_table(post, true_values(sim.params, post, f.design))
        for r in rec.itertuples():
            rows.append(
                {
                    "seed": seed,
                    "likelihood": panel,
                    "block": f"parameters: {r.block}",
                    "covered": bool(r.covered),
                    "width": float(r.upper - r.lower),
                }
            )
        model = fx.effect_model(f, draws=args.effect_draws)
        te = fx.total_effects(model, by=["wave"]).table
        te = te[(te["quantity"] == "difference") & (te["by_variable"] == "wave")]
        for wave in WAVES:
            truth = SampleTruth.of(sim, wave)
            at = te[te["by_level"] == str(wave)]
            for r in at.itertuples():
                value = truth.total_effect(*_pair(r.contrast))[r.outcome]
                rows.append(
                    {
                        "seed": seed,
                        "likelihood": panel,
                        "block": f"total effects at {wave:>2} months",
                        "covered": bool(r.lower <= value <= r.upper),
                        "width": float(r.upper - r.lower),
                    }
                )
        d = f.manifest["diagnostics"]
        summary.append(
            {
                "seed": seed,
                "likelihood": panel,
                "persons": len(f.design.person_labels),
                "rows": f.design.n_rows,
                "verdict": d["verdict"],
                "max_rhat": d["max_rhat"],
                "min_ess_bulk": d["min_ess_bulk"],
                "min_ess_tail": d["min_ess_tail"],
                "divergences": d["divergences"],
                "seconds": seconds,
            }
        )
        print(summary[-1], flush=True)
    return rows, summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--spec", default="models/capability.toml")
    ap.add_argument("--n-population", type=int, default=40_000)
    ap.add_argument("--draws", type=int, default=None, help="default: the spec's")
    ap.add_argument("--tune", type=int, default=None, help="default: the spec's")
    ap.add_argument("--effect-draws", type=int, default=500)
    ap.add_argument(
        "--likelihoods",
        nargs="+",
        choices=LIKELIHOODS,
        default=list(LIKELIHOODS),
        help="the panel likelihoods to fit (default both)",
    )
    ap.add_argument("--fits", type=Path, default=None, help="save and reuse fits here")
    ap.add_argument("--write", type=Path, default=None)
    args = ap.parse_args()
    rows, summary = [], []
    for seed in args.seeds:
        r, s = check(seed, args)
        rows += r
        summary += s
    cov = pd.DataFrame(rows)
    table = (
        cov.groupby(["block", "likelihood"])
        .agg(n=("covered", "size"), coverage=("covered", "mean"), width=("width", "mean"))
        .unstack("likelihood")
    )
    if list(args.likelihoods) != list(LIKELIHOODS):
        return _one_likelihood(args, cov, summary)
    lines = [
        f"Seeds {args.seeds}, cep2021 with waves {list(WAVES)} months, "
        f"{args.n_population:,} beneficiaries (persons and rows below), attrition 15% after 1 "
        "month and 30% of the rest after 6; models/capability.toml at its defaults"
        + (f" (draws {args.draws}, tune {args.tune})" if args.draws or args.tune else "")
        + f"; {args.effect_draws} draws for the effects. Machine: {platform.machine()}, "
        f"Python {platform.python_version()}.",
        "",
        "| block | n | coverage cumulative | coverage independent | mean width cumulative "
        "| mean width independent | width ratio independent/cumulative |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for block, r in table.iterrows():
        c, i = r[("coverage", "cumulative")], r[("coverage", "independent")]
        wc, wi = r[("width", "cumulative")], r[("width", "independent")]
        lines.append(
            f"| {block} | {int(r[('n', 'cumulative')])} | {c:.3f} | {i:.3f} | {wc:.3f} | "
            f"{wi:.3f} | {wi / wc:.2f} |"
        )
    lines += [
        "",
        "| seed | likelihood | persons | rows | verdict | max R-hat | min bulk ESS | "
        "min tail ESS | divergences | fit (s) |",
        "|---:|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for s in summary:
        lines.append(
            f"| {s['seed']} | {s['likelihood']} | {s['persons']:,} | {s['rows']:,} | "
            f"{s['verdict']} | {s['max_rhat']:.3f} | {s['min_ess_bulk']:.0f} | "
            f"{s['min_ess_tail']:.0f} | {s['divergences']} | {s['seconds']:.0f} |"
        )
    lines += ["", "Command: `python benchmarks/panel_study.py " + " ".join(_argv()) + "`"]
    text = "\n".join(lines)
    print(text)
    if args.write:
        replace_block(args.write, "panel", text)
    return 0


def _one_likelihood(args: argparse.Namespace, cov: pd.DataFrame, summary: list[dict]) -> int:
    """The tables of a run with one likelihood (``--likelihoods``)."""
    table = cov.groupby("block").agg(
        n=("covered", "size"), coverage=("covered", "mean"), width=("width", "mean")
    )
    lowest = cov.groupby(["block", "seed"])["covered"].mean().unstack("seed").min(axis=1)
    (panel,) = args.likelihoods
    lines = [
        f"Seeds {args.seeds}, cep2021 with waves {list(WAVES)} months, "
        f"{args.n_population:,} beneficiaries, attrition 15% after 1 month and 30% of the rest "
        f"after 6; models/capability.toml at its defaults with the {panel} likelihood"
        + (f" (draws {args.draws}, tune {args.tune})" if args.draws or args.tune else "")
        + f"; {args.effect_draws} draws for the effects. Machine: {platform.machine()}, "
        f"Python {platform.python_version()}.",
        "",
        "| block | n | coverage (all seeds) | lowest seed | mean width |",
        "|---|---:|---:|---:|---:|",
    ]
    for block, r in table.iterrows():
        lines.append(
            f"| {block} | {int(r['n'])} | {r['coverage']:.3f} | {lowest[block]:.3f} | "
            f"{r['width']:.3f} |"
        )
    lines += [
        "",
        "| seed | persons | rows | verdict | max R-hat | min bulk ESS | min tail ESS | "
        "divergences | fit (s) |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for s in summary:
        lines.append(
            f"| {s['seed']} | {s['persons']:,} | {s['rows']:,} | {s['verdict']} | "
            f"{s['max_rhat']:.3f} | {s['min_ess_bulk']:.0f} | {s['min_ess_tail']:.0f} | "
            f"{s['divergences']} | {s['seconds']:.0f} |"
        )
    lines += ["", "Command: `python benchmarks/panel_study.py " + " ".join(_argv()) + "`"]
    text = "\n".join(lines)
    print(text)
    if args.write:
        replace_block(args.write, f"panel-{panel}", text)
    return 0


def _argv() -> list[str]:
    import sys

    return sys.argv[1:]


if __name__ == "__main__":
    raise SystemExit(main())
