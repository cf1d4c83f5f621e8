"""Compile time of a model in fresh processes: cold (empty caches), warm (the cache the cold
run left, same data) and other data of the same shape (the same cache, another simulated
survey of the same size), for numpyro (JAX), nutpie (numba) and PyMC's NUTS (C backend).

    python benchmarks/compile_cache.py [--spec models/capability.toml] \
        [--samplers numpyro nutpie pymc]

Each run is a new Python process fitting the spec to a small simulated survey (seed 21, or 22
for "other data"; 40,000 beneficiaries -> 1,298 respondents) with 20 draws: only the
manifest's compile time is read. The caches (a PyTensor compiledir and a JAX cache directory)
are fresh temporary directories shared by the runs of one sampler.
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
sim = simulate("cep2021", seed=int(sys.argv[3]), n_population=40_000)
f = fit(sys.argv[1], sim.survey, draws=20, tune=20, sampler=sys.argv[2], progressbar=False,
        verbose=False)
print(json.dumps(f.manifest["timings"]))
"""


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--spec", default="models/capability.toml")
    p.add_argument("--samplers", nargs="+", default=["numpyro", "nutpie", "pymc"])
    p.add_argument("--warm-runs", type=int, default=1)
    args = p.parse_args()
    lines = [
        f"Command: `python benchmarks/compile_cache.py --spec {args.spec} --samplers "
        f"{' '.join(args.samplers)}`; {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}.",
        "",
        "| sampler | cache | compile s | build s |",
        "|---|---|---|---|",
    ]
    for sampler in args.samplers:
        env = dict(
            os.environ,
            PYTENSOR_FLAGS=f"compiledir={tempfile.mkdtemp(prefix='cm-cc-')}",
            CAPMODEL_CACHE_DIR=tempfile.mkdtemp(prefix="cm-cc-jax-"),
        )
        runs = [("cold", 21)] + [("warm", 21)] * args.warm_runs + [("warm, other data", 22)]
        for label, seed in runs:
            res = subprocess.run(
                [sys.executable, "-c", RUN, args.spec, sampler, str(seed)],
                capture_output=True,
                text=True,
                env=env,
            )
            if res.returncode != 0:
                print(res.stderr[-3000:], file=sys.stderr)
                return 1
            t = json.loads(res.stdout.strip().splitlines()[-1])
            lines.append(
                f"| {sampler} | {label} | {t['compile_seconds']:.1f} | {t['build_seconds']:.1f} |"
            )
            print(lines[-1], flush=True)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
