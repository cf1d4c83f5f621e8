"""Where nutpie's compile time goes (docs/benchmarks.md, "Compile times").

    python benchmarks/nutpie_compile_split.py [--spec models/capability.toml]

Times, in one process on the small simulated survey: PyTensor's part (graph rewrites and numba
compile of the log-density and expansion functions, from the on-disk cache when warm; nutpie's
private ``_make_functions``, nutpie 0.16) and nutpie's whole ``compile_pymc_model``, which adds
its C-callback wrappers. Run it twice: the second run shows what the cache saves.
"""

from __future__ import annotations

import argparse
import time

import nutpie
import pymc as pm
from nutpie import compile_pymc

from capmodel.data import load_data
from capmodel.model import build_design, build_model
from capmodel.simulate import simulate
from capmodel.spec import load_spec


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--spec", default="models/capability.toml")
    args = p.parse_args()
    spec = load_spec(args.spec)
    sim = simulate("cep2021", seed=21, n_population=40_000)
    model = build_model(spec, build_design(spec, load_data(sim.survey, spec.schema))).model
    t0 = time.perf_counter()
    compile_pymc._make_functions(
        model,
        mode="NUMBA",
        compute_grad=True,
        join_expanded=True,
        pymc_initial_point_fn=pm.initial_point.make_initial_point_fn(model=model),
        var_names=None,
    )
    t1 = time.perf_counter()
    nutpie.compile_pymc_model(model, backend="numba")
    t2 = time.perf_counter()
    print(f"PyTensor functions (rewrites + numba): {t1 - t0:.1f} s")
    print(f"nutpie compile_pymc_model, whole:       {t2 - t1:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
