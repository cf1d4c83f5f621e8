"""Cost of one log-density gradient: sampled vs integrated capability residual.

    python benchmarks/gradient_cost.py [--n-population 40000] [--seed 21]

Same data (simulated cep2021 survey) and the same point (each model's initial point with the
shared parameters equal); PyTensor's default (C) backend, median of 20 evaluations.
"""

import argparse
import dataclasses
import json
import time

import numpy as np

from capmodel.data import load_data
from capmodel.model import build_design, build_model
from capmodel.simulate import simulate
from capmodel.spec import load_spec

p = argparse.ArgumentParser()
p.add_argument("--n-population", type=int, default=40_000)
p.add_argument("--seed", type=int, default=21)
args = p.parse_args()
spec = load_spec("models/capability.toml")
sim = simulate("cep2021", seed=args.seed, n_population=args.n_population)
design = build_design(spec, load_data(sim.survey, spec.schema))
out = {"persons": len(design.person_labels)}
for residual in ("sampled", "integrated"):
    model = build_model(dataclasses.replace(spec, residual=residual), design).model
    point = model.initial_point()
    dlogp = model.compile_dlogp()
    dlogp(point)
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        dlogp(point)
        times.append(time.perf_counter() - t0)
    out[residual] = {"parameters": int(sum(v.size for v in point.values())),
                     "gradient_ms": round(1000 * float(np.median(times)), 2)}
print(json.dumps(out, indent=1))
