"""Reference fit of models/capability.toml on the cep2021 survey (n = 6,396), timed, with the
group-effect parameterisation as a factor. Writes a markdown table for docs/benchmarks.md.

    python benchmarks/reference_fit.py --configs auto centred noncentred \
        --out docs/bench_reference.md

Each configuration runs in a fresh process (so compile times are those a user sees); the
numba cache is warm after the first one unless --cold-cache is given.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

RUN = r"""
import json, sys, time
from capmodel.simulate import simulate
from capmodel.spec import load_spec, spec_from_dict
from capmodel.fitting import fit
config, seed, sampler, save_to = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
spec = load_spec("models/capability.toml")
if config != "auto":
    raw = spec.to_dict(); raw["groups"]["parameterisation"] = config
    spec = spec_from_dict(raw)
sim = simulate("cep2021", seed=seed)
f = fit(spec, sim.survey, sampler=sampler, progressbar=False, verbose=False)
if save_to:
    f.save(f"{save_to}/{config}", overwrite=True)
d = f.manifest["diagnostics"]; t = f.manifest["timings"]
post = f.posterior
print(json.dumps({"config": config, "sampler": sampler, "seed": seed,
                  "draws": f.manifest["settings"]["draws"],
                  "chains": f.manifest["settings"]["chains"],
                  "parameterisation": f.manifest["parameterisation"],
                  "compile_s": t["compile_seconds"], "sampling_s": t["sampling_seconds"],
                  "max_rhat": d["max_rhat"], "min_ess_bulk": d["min_ess_bulk"],
                  "min_ess_tail": d["min_ess_tail"], "divergences": d["divergences"],
                  "verdict": d["verdict"], "worst": d["worst_ess"][:2]}))
"""


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--configs", nargs="+", default=["auto", "centred", "noncentred"])
    p.add_argument("--sampler", default="nutpie")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--cold-cache", action="store_true", help="fresh PyTensor/numba cache each run")
    p.add_argument("--out", type=Path)
    p.add_argument("--save", type=Path, help="also save each fit under SAVE/<config> (for reports)")
    args = p.parse_args()
    rows = []
    for config in args.configs:
        env = dict(os.environ)
        if args.cold_cache:
            env["PYTENSOR_FLAGS"] = f"compiledir={tempfile.mkdtemp(prefix='capmodel-bench-')}"
        res = subprocess.run([sys.executable, "-c", RUN, config, str(args.seed), args.sampler,
                              str(args.save or "")],
                             capture_output=True, text=True, env=env)
        if res.returncode != 0:
            print(res.stderr[-3000:], file=sys.stderr)
            return 1
        row = json.loads(res.stdout.strip().splitlines()[-1])
        print(row, flush=True)
        rows.append(row)
    lines = [f"Command: `python benchmarks/reference_fit.py --configs {' '.join(args.configs)}"
             f" --sampler {args.sampler} --seed {args.seed}"
             f"{' --cold-cache' if args.cold_cache else ''}`; {platform.machine()}, "
             f"{os.cpu_count()} cores, Python {platform.python_version()}.", "",
             "| groups.parameterisation | chosen | chains x draws | compile s | sampling s | "
             "max R-hat | min bulk ESS | min tail ESS | ESS/s (bulk) | divergences | verdict |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        chosen = ", ".join(f"{k} {v}" for k, v in r["parameterisation"].items())
        lines.append(f"| {r['config']} | {chosen} | {r['chains']}x{r['draws']} "
                     f"| {r['compile_s']:.0f} | {r['sampling_s']:.0f} "
                     f"| {r['max_rhat']:.3f} | {r['min_ess_bulk']:.0f} | {r['min_ess_tail']:.0f} "
                     f"| {r['min_ess_bulk'] / r['sampling_s']:.2f} | {r['divergences']} | "
                     f"{r['verdict']} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
