"""Parameter recovery study: fit the reference capability model to simulated cep2021 surveys
with several seeds and tabulate how often the 90% intervals cover the true values.

    python benchmarks/recovery_study.py --seeds 1 2 3 --fits /tmp/study-fits \\
        --write docs/validation.md                                      # full size, defaults
    python benchmarks/recovery_study.py --seeds 1 2 3 --n-population 60000 --draws 500  # quicker

``--write`` replaces the block between <!-- recovery:start --> and <!-- recovery:end --> of the
given markdown file. ``--fits DIR`` saves the fits and reuses them in benchmarks/effects_study.py.
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import pandas as pd
from study_fits import add_common_options, command_tail, replace_block, study_fit

from capmodel.spec import load_spec
from capmodel.validation.recovery import recovery_table, true_values


def main() -> int:
    p = argparse.ArgumentParser()
    add_common_options(p)
    p.add_argument("--prob", type=float, default=0.9)
    p.add_argument("--out", type=Path, help="write the markdown table to this file")
    p.add_argument("--write", type=Path, help="markdown file with the recovery markers")
    args = p.parse_args()
    spec = load_spec(args.spec)
    tables, runs = [], []
    for seed in args.seeds:
        s = study_fit(
            spec,
            seed,
            n_population=args.n_population,
            draws=args.draws,
            tune=args.tune,
            fits_dir=args.fits,
            scenario=args.scenario,
        )
        post = s.fit.posterior
        t = recovery_table(post, true_values(s.sim.params, post, s.fit.design), prob=args.prob)
        t["seed"] = seed
        tables.append(t)
        d = s.fit.manifest["diagnostics"]
        cfg = s.fit.manifest["settings"]
        runs.append(
            f"| {seed} | {s.sim.survey['person_id'].nunique():,} | "
            f"{cfg['chains']}x{cfg['draws']} | {s.seconds:.0f} | {d['max_rhat']:.3f} | "
            f"{d['min_ess_bulk']:.0f} | {d['divergences']} | {t['covered'].mean():.3f} |"
        )
        print(runs[-1], flush=True)
    allt = pd.concat(tables)
    by_block = allt.groupby("block")["covered"].agg(["mean", "size"])
    cmd = (
        "python benchmarks/recovery_study.py --seeds "
        + " ".join(map(str, args.seeds))
        + command_tail(args)
    )
    lines = [
        f"Command: `{cmd}` ({platform.machine()}, Python {platform.python_version()}).",
        "",
        "| seed | persons | chains x draws | compile + sampling s | max R-hat | "
        "min bulk ESS | divergences | coverage |",
        "|---|---|---|---|---|---|---|---|",
        *runs,
        "",
        f"Coverage of {int(100 * args.prob)}% equal-tailed intervals by block (all seeds):",
        "",
        "| block | coverage | parameters x seeds |",
        "|---|---|---|",
    ]
    for block, row in by_block.iterrows():
        lines.append(f"| {block} | {row['mean']:.3f} | {int(row['size'])} |")
    lines.append(f"| **all** | **{allt['covered'].mean():.3f}** | {len(allt)} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    if args.write:
        replace_block(args.write, "recovery", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
