"""Compile time of a model in fresh processes: cold (empty PyTensor/numba cache) and warm (the
cache the cold run left), for nutpie (numba) and PyMC's NUTS (C backend).

    python benchmarks/compile_cache.py [--spec models/capability.toml] [--samplers nutpie pymc]

Each run is a new Python process fitting the spec to the small simulated survey (seed 21,
40,000 beneficiaries -> 1,298 respondents) with 20 draws: only the manifest's compile time is
read. The cache directory is a fresh temporary PyTensor compiledir shared by the runs of one
sampler.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile

RUN = r"""
import json, sys
from capmodel.fitting import fit
from capmodel.simulate import simulate
sim = simulate("cep2021", seed=21, n_population=40_000)
f = fit(sys.argv[1], sim.survey, draws=20, tune=20, sampler=sys.argv[2], progressbar=False,
        verbose=False)
print(json.dumps(f.manifest["timings"]))
"""


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--spec", default="models/capability.toml")
    p.add_argument("--samplers", nargs="+", default=["nutpie", "pymc"])
    p.add_argument("--warm-runs", type=int, default=1)
    args = p.parse_args()
    lines = [f"Command: `python benchmarks/compile_cache.py --spec {args.spec} --samplers "
             f"{' '.join(args.samplers)}`; {platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}.", "",
             "| sampler | cache | compile s | build s |", "|---|---|---|---|"]
    for sampler in args.samplers:
        env = dict(os.environ, PYTENSOR_FLAGS=f"compiledir={tempfile.mkdtemp(prefix='cm-cc-')}")
        for k in range(1 + args.warm_runs):
            res = subprocess.run([sys.executable, "-c", RUN, args.spec, sampler],
                                 capture_output=True, text=True, env=env)
            if res.returncode != 0:
                print(res.stderr[-3000:], file=sys.stderr)
                return 1
            t = json.loads(res.stdout.strip().splitlines()[-1])
            lines.append(f"| {sampler} | {'cold' if k == 0 else 'warm'} | "
                         f"{t['compile_seconds']:.1f} | {t['build_seconds']:.1f} |")
            print(lines[-1], flush=True)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
