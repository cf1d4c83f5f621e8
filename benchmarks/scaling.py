"""How the reference model's cost grows with the number of respondents.

    python benchmarks/scaling.py --n 2000 6396 20000 60000 200000 [--fit-up-to 20000] \
        [--out docs/bench-scaling.md]

For each survey size n (the cep2021 scenario; the population is 31x the survey, as published):
build time, JAX compile time of the log-density and its gradient, one gradient's cost (median
of 20, design arrays as arguments as the sampler has them) in float64 and in float32, the
sd of the log-density's float32 rounding error near the initial point (what
``sampling.precision = "auto"`` measures: float32 at most 0.0141), and, for n up to
``--fit-up-to``, a whole default fit (wall, min bulk ESS, R-hat, peak RSS). Each size runs in
a fresh process so that peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

RUN = r"""
import json, resource, sys, time
import numpy as np
n, do_fit = int(sys.argv[1]), sys.argv[2] == "1"
from capmodel.fitting.jax_nuts import _jax_function, configure_jax
jax = configure_jax()
from capmodel.data import load_data
from capmodel.model import build_design, build_model
from capmodel.simulate import simulate
from capmodel.spec import load_spec
spec = load_spec("models/capability.toml")
sim = simulate("cep2021", seed=1, n_population=max(31 * n, 40_000), n_survey=n)
t0 = time.perf_counter()
data = load_data(sim.survey, spec.schema)
t1 = time.perf_counter()
model = build_model(spec, build_design(spec, data)).model
t2 = time.perf_counter()
values = model.value_vars
fn, arrays = _jax_function(values, [model.logp()])
vg = jax.jit(jax.value_and_grad(lambda xs, ds: fn(*xs, *ds)[0]))
point = model.initial_point()
x = [point[v.name] for v in values]
jax.block_until_ready(vg(x, arrays))
t3 = time.perf_counter()
times = []
for _ in range(20):
    s = time.perf_counter()
    jax.block_until_ready(vg(x, arrays))
    times.append(time.perf_counter() - s)
from capmodel.fitting.jax_nuts import _cast, _float32_rounding_sd
with jax.enable_x64(False):
    vg32 = jax.jit(jax.value_and_grad(lambda xs, ds: fn(*xs, *ds)[0]))
    x32 = [jax.numpy.asarray(_cast(v, True)) for v in x]
    a32 = [jax.numpy.asarray(_cast(a, True)) for a in arrays]
    jax.block_until_ready(vg32(x32, a32))
    times32 = []
    for _ in range(20):
        s = time.perf_counter()
        jax.block_until_ready(vg32(x32, a32))
        times32.append(time.perf_counter() - s)
logp = jax.jit(lambda *args: fn(*args)[0])
rounding = _float32_rounding_sd(jax, logp, [np.asarray(v) for v in x], list(arrays), 1)
row = {"n": n, "persons": len(data.dataset["person"]), "validate_s": t1 - t0, "build_s": t2 - t1,
       "compile_s": t3 - t2, "gradient_ms": 1000 * float(np.median(times)),
       "gradient32_ms": 1000 * float(np.median(times32)), "rounding_sd": rounding,
       "parameters": int(sum(np.size(v) for v in point.values()))}
if do_fit:
    from capmodel.fitting import fit
    t = time.perf_counter()
    f = fit(spec, data, progressbar=False, verbose=False)
    d = f.manifest["diagnostics"]
    row.update(fit_wall_s=time.perf_counter() - t, min_ess_bulk=d["min_ess_bulk"],
               max_rhat=d["max_rhat"], divergences=d["divergences"], verdict=d["verdict"])
row["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(row))
"""


def main() -> int:
    from capmodel.fitting.jax_nuts import AUTO_FLOAT32_MAX_ROUNDING_SD

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", nargs="+", type=int, default=[2000, 6396, 20000, 60000, 200000])
    p.add_argument("--fit-up-to", type=int, default=0, help="also fit sizes up to this n")
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    rows = []
    for n in args.n:
        res = subprocess.run(
            [sys.executable, "-c", RUN, str(n), str(int(n <= args.fit_up_to))],
            capture_output=True,
            text=True,
        )
        if res.returncode != 0:
            print(res.stderr[-3000:], file=sys.stderr)
            return 1
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    lines = [
        f"Command: `python benchmarks/scaling.py {' '.join(sys.argv[1:])}`; "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        "",
        "| n | parameters | validate s | build s | JAX compile s | gradient ms float64 "
        "| us per person | gradient ms float32 | float32 rounding sd | auto uses "
        "| fit wall s | min bulk ESS | max R-hat | divergences | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        fit = (
            f"{r['fit_wall_s']:.0f} | {r['min_ess_bulk']:.0f} | {r['max_rhat']:.3f} "
            f"| {r['divergences']}"
            if "fit_wall_s" in r
            else "- | - | - | -"
        )
        lines.append(
            f"| {r['n']} | {r['parameters']} | {r['validate_s']:.1f} "
            f"| {r['build_s']:.1f} | {r['compile_s']:.1f} | {r['gradient_ms']:.2f} "
            f"| {1000 * r['gradient_ms'] / r['persons']:.2f} | {r['gradient32_ms']:.2f} "
            f"| {r['rounding_sd']:.2g} "
            f"| {'float32' if r['rounding_sd'] <= AUTO_FLOAT32_MAX_ROUNDING_SD else 'float64'} "
            f"| {fit} "
            f"| {r['peak_rss_mib']:.0f} |"
        )
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
