"""Parameter recovery study: fit the reference capability model to simulated cep2021 surveys
with several seeds and tabulate how often the 90% intervals cover the true values.

    python benchmarks/recovery_study.py --seeds 1 2 3 --out docs/validation_recovery.md
    python benchmarks/recovery_study.py --seeds 1 2 3 --n-population 60000 --draws 500  # quicker

Results (the markdown table) go into docs/validation.md with the command that produced them.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import pandas as pd

from capmodel.fitting import fit
from capmodel.simulate import simulate
from capmodel.simulate.recovery import recovery_table, true_values
from capmodel.spec import load_spec


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--n-population", type=int, default=None, help="default: 197,074 (full size)")
    p.add_argument("--draws", type=int, default=None, help="default: the spec's")
    p.add_argument("--tune", type=int, default=None, help="default: the spec's")
    p.add_argument("--spec", default="models/capability.toml")
    p.add_argument("--prob", type=float, default=0.9)
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    spec = load_spec(args.spec)
    tables, runs = [], []
    for seed in args.seeds:
        sim = simulate("cep2021", seed=seed, n_population=args.n_population)
        t0 = time.perf_counter()
        f = fit(spec, sim.survey, seed=seed, draws=args.draws, tune=args.tune,
                progressbar=False, verbose=False)
        t = recovery_table(f.posterior, true_values(sim.params, f.posterior), prob=args.prob)
        t["seed"] = seed
        tables.append(t)
        d = f.manifest["diagnostics"]
        runs.append(f"| {seed} | {sim.survey['person_id'].nunique():,} | "
                    f"{time.perf_counter() - t0:.0f} | {d['max_rhat']:.3f} | "
                    f"{d['min_ess_bulk']:.0f} | {d['divergences']} | {t['covered'].mean():.3f} |")
        print(runs[-1], flush=True)
    allt = pd.concat(tables)
    by_block = allt.groupby("block")["covered"].agg(["mean", "size"])
    cmd = ("python benchmarks/recovery_study.py --seeds " + " ".join(map(str, args.seeds))
           + (f" --n-population {args.n_population}" if args.n_population else "")
           + (f" --draws {args.draws}" if args.draws else "")
           + (f" --tune {args.tune}" if args.tune else ""))
    lines = [f"Command: `{cmd}` ({platform.machine()}, Python {platform.python_version()}).", "",
             "| seed | persons | wall s | max R-hat | min bulk ESS | divergences | coverage |",
             "|---|---|---|---|---|---|---|", *runs, "",
             f"Coverage of {int(100 * args.prob)}% equal-tailed intervals by block "
             "(all seeds):", "",
             "| block | coverage | parameters x seeds |", "|---|---|---|"]
    for block, row in by_block.iterrows():
        lines.append(f"| {block} | {row['mean']:.3f} | {int(row['size'])} |")
    lines.append(f"| **all** | **{allt['covered'].mean():.3f}** | {len(allt)} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
