"""Cost of one log-density gradient of the reference model, by backend and likelihood.

    python benchmarks/gradient_cost.py [--n-population 197074] [--seed 1] \
        [--backends jax c numba] [--residuals sampled integrated]

Same data (the simulated cep2021 survey: by default the full 6,396 respondents) and the same
point (each model's initial point); median of 20 evaluations after a warm-up call, one
process. ``jax`` is the default sampler's view (design arrays as arguments, float64); ``c`` and
``numba`` are PyTensor's backends (numba is what nutpie runs). Compile seconds are printed too.
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


def _timed(fn, *args) -> float:
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


def jax_cost(model) -> tuple[float, float]:
    from capmodel.fitting.jax_nuts import _jax_function, configure_jax

    jax = configure_jax()
    t0 = time.perf_counter()
    values = model.value_vars
    fn, data = _jax_function(values, [model.logp()])
    vg = jax.jit(jax.value_and_grad(lambda xs, ds: fn(*xs, *ds)[0]))
    point = model.initial_point()
    # on the device already, as inside the sampler (numpy arguments would be copied per call)
    x = [jax.numpy.asarray(point[v.name]) for v in values]
    data = [jax.numpy.asarray(a) for a in data]
    jax.block_until_ready(vg(x, data))
    compile_s = time.perf_counter() - t0
    return compile_s, _timed(lambda: jax.block_until_ready(vg(x, data)))


def pytensor_cost(model, mode: str) -> tuple[float, float]:
    t0 = time.perf_counter()
    f = model.logp_dlogp_function(mode=mode, ravel_inputs=True)
    f.set_extra_values({})
    x = np.concatenate([np.ravel(v) for v in model.initial_point().values()])
    fn = f._pytensor_function
    fn(x)
    compile_s = time.perf_counter() - t0
    return compile_s, _timed(fn, x)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n-population", type=int, default=197_074)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--backends", nargs="+", default=["jax", "c"], choices=["jax", "c", "numba"])
    p.add_argument("--residuals", nargs="+", default=["sampled"], choices=["sampled", "integrated"])
    args = p.parse_args()
    spec = load_spec("models/capability.toml")
    sim = simulate("cep2021", seed=args.seed, n_population=args.n_population)
    design = build_design(spec, load_data(sim.survey, spec.schema))
    out: dict = {"persons": len(design.person_labels)}
    for residual in args.residuals:
        model = build_model(dataclasses.replace(spec, residual=residual), design).model
        row: dict = {"parameters": int(sum(np.size(v) for v in model.initial_point().values()))}
        for backend in args.backends:
            compile_s, ms = (
                jax_cost(model)
                if backend == "jax"
                else pytensor_cost(model, "FAST_RUN" if backend == "c" else "NUMBA")
            )
            row[backend] = {"compile_s": round(compile_s, 1), "gradient_ms": round(ms, 2)}
            print(residual, backend, row[backend], flush=True)
        out[residual] = row
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
