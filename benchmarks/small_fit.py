"""A small, quick fit of models/capability.toml (simulated cep2021, ~1,300 respondents,
2 chains x 300 draws after 400 tuning steps): convergence numbers and 90% coverage of the truth.

    python benchmarks/small_fit.py [--seed 21] [--n-population 40000] [--spec models/x.toml]

Used to compare model parameterisations quickly (docs/models.md, docs/validation.md).
"""

import argparse
import json

from capmodel.fitting import fit
from capmodel.simulate import simulate
from capmodel.spec import load_spec
from capmodel.validation.recovery import recovery_table, true_values

p = argparse.ArgumentParser()
p.add_argument("--seed", type=int, default=21)
p.add_argument("--n-population", type=int, default=40_000)
p.add_argument("--spec", default="models/capability.toml")
args = p.parse_args()
spec = load_spec(args.spec)
sim = simulate("cep2021", seed=args.seed, n_population=args.n_population)
f = fit(spec, sim.survey, draws=300, tune=400, chains=2, seed=5, progressbar=False, verbose=False)
d = f.manifest["diagnostics"]
table = recovery_table(f.posterior, true_values(sim.params, f.posterior, f.design))
depth = f.idata["sample_stats"].dataset["depth"].values.mean()
print(
    json.dumps(
        {
            "persons": int(sim.survey["person_id"].nunique()),
            **{k: d[k] for k in ("max_rhat", "min_ess_bulk", "min_ess_tail", "divergences")},
            "worst_ess": d["worst_ess"][:3],
            "compile_seconds": f.manifest["timings"]["compile_seconds"],
            "sampling_seconds": f.manifest["timings"]["sampling_seconds"],
            "mean_tree_depth": float(depth),
            "coverage_90": round(float(table["covered"].mean()), 3),
            "coverage_by_block": table.groupby("block")["covered"].mean().round(3).to_dict(),
        },
        indent=1,
    )
)
