"""Compile time of a model in fresh processes: cold (empty caches), warm (the cache the cold
run left, same data) and other data of the same shape (the same cache, another simulated
survey of the same size), for numpyro (JAX), nutpie (numba) and PyMC's NUTS (C backend).

    python benchmarks/compile_cache.py [--spec models/capability.toml] \
        [--samplers numpyro nutpie pymc] [--n-population 197074] [--precision float32]

Each run is a new Python process fitting the spec to a simulated survey (seed 21, or 22
for "other data"; by default 40,000 beneficiaries -> 1,298 respondents; the full 197,074 ->
6,396) with 20 draws: only the manifest's compile time is read (and the wall time of the
process, imports included). The caches (a PyTensor compiledir and a JAX cache directory)
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
import json, sys, time
t0 = time.perf_counter()
from capmodel.fitting import fit
from capmodel.simulate import simulate
sim = simulate("cep2021", seed=int(sys.argv[3]), n_population=int(sys.argv[4]))
precision = None if sys.argv[5] == "-" else sys.argv[5]
f = fit(sys.argv[1], sim.survey, draws=20, tune=20, sampler=sys.argv[2], progressbar=False,
        verbose=False, precision=precision)
print(json.dumps({**f.manifest["timings"], "wall": time.perf_counter() - t0,
                  "persons": f.manifest["data"]["n_persons"]}))
"""


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--spec", default="models/capability.toml")
    p.add_argument("--samplers", nargs="+", default=["numpyro", "nutpie", "pymc"])
    p.add_argument("--warm-runs", type=int, default=1)
    p.add_argument("--n-population", type=int, default=40_000)
    p.add_argument("--precision", choices=["float64", "float32"], default=None)
    args = p.parse_args()
    lines = [
        f"Command: `python benchmarks/compile_cache.py --spec {args.spec} --samplers "
        f"{' '.join(args.samplers)} --n-population {args.n_population}"
        + (f" --precision {args.precision}" if args.precision else "")
        + f"`; {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}.",
        "",
        "| sampler | cache | persons | compile s | build s | process wall s |",
        "|---|---|---:|---:|---:|---:|",
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
                [
                    sys.executable,
                    "-c",
                    RUN,
                    args.spec,
                    sampler,
                    str(seed),
                    str(args.n_population),
                    args.precision or "-",
                ],
                capture_output=True,
                text=True,
                env=env,
            )
            if res.returncode != 0:
                print(res.stderr[-3000:], file=sys.stderr)
                return 1
            t = json.loads(res.stdout.strip().splitlines()[-1])
            lines.append(
                f"| {sampler} | {label} | {t['persons']:,} | {t['compile_seconds']:.1f} | "
                f"{t['build_seconds']:.1f} | {t['wall']:.1f} |"
            )
            print(lines[-1], flush=True)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
