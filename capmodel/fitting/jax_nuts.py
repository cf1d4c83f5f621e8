"""NUTS on the PyMC model compiled to JAX and run by numpyro (the default sampler).

The model is the one :func:`capmodel.model.build_model` builds (its equations live there only):
its log-density is compiled to JAX by PyTensor, with the design arrays (``pm.Data``) as
*arguments*, not constants, so that

- numpyro runs whole trajectories inside one compiled XLA program: no Python call per
  gradient, and the chains run truly in parallel, one per XLA host device (``pmap``);
- XLA's programs are cached on disk (JAX's persistent compilation cache, under
  :func:`cache_dir`): a second fit of the same spec on the same data, in a new process,
  loads them instead of compiling. The design arrays are arguments so that other data of the
  same shape could reuse them too, but as measured they do not yet (docs/benchmarks.md,
  "Issue 11").

Draws come back on the constrained scale with PyMC's deterministics, as ``pm.sample`` returns
them (PyMC's own JAX post-processing).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pymc as pm
import xarray as xr

from capmodel.model.jax_backend import CACHE_ENV, cache_dir, configure_jax

__all__ = ["CACHE_ENV", "cache_dir", "configure_jax", "sample_numpyro"]


def _jax_function(inputs: list, outputs: list) -> tuple[Any, list[np.ndarray]]:
    """``outputs`` as a JAX function of ``inputs`` followed by the graph's shared variables
    (the design arrays), and those variables' current values."""
    from pytensor.compile import SharedVariable, mode
    from pytensor.graph import FunctionGraph, Variable, clone_replace, graph_inputs
    from pytensor.link.jax.dispatch import jax_funcify

    shared = [v for v in graph_inputs(outputs) if isinstance(v, SharedVariable)]
    stand_ins: dict[Variable, Variable] = {v: v.type() for v in shared}
    graph = clone_replace(outputs, replace=stand_ins)
    fgraph = FunctionGraph(
        inputs=list(inputs) + [stand_ins[v] for v in shared], outputs=graph, clone=True
    )
    mode.JAX.optimizer.rewrite(fgraph)
    return jax_funcify(fgraph), [np.asarray(v.get_value(borrow=True)) for v in shared]


def sample_numpyro(
    model: pm.Model,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    target_accept: float,
    max_treedepth: int,
    progressbar: bool,
) -> tuple[xr.DataTree, float, float]:
    """Sample ``model`` by numpyro's NUTS; returns the DataTree (posterior on the constrained
    scale with deterministics, sample_stats), compile seconds and sampling seconds."""
    jax = configure_jax(chains)
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.infer import MCMC, NUTS
    from pymc.backends.arviz import coords_and_dims_for_inferencedata
    from pymc.sampling.jax import (
        _get_batched_jittered_initial_points,
        _numpyro_stats_to_dict,
        _postprocess_samples,
        get_jaxified_graph,
    )
    from pymc.util import get_default_varnames

    t0 = time.perf_counter()
    compiling = _CompileClock.read()
    values = model.value_vars
    logp_fn, data = _jax_function(values, [model.logp()])
    names = [v.name for v in values]
    shapes = {k: np.shape(v) for k, v in model.initial_point().items()}

    def numpyro_model(*data_args):
        x = [
            numpyro.sample(n, dist.ImproperUniform(dist.constraints.real, (), shapes[n]))
            for n in names
        ]
        numpyro.factor("logp", logp_fn(*x, *data_args)[0])

    jitted_logp = jax.jit(lambda *args: logp_fn(*args)[0])

    def logp_at(point) -> Any:  # for PyMC's jittered starting points
        return jitted_logp(*[jnp.asarray(p) for p in point], *data)

    start = _get_batched_jittered_initial_points(
        model=model, chains=chains, initvals=None, random_seed=seed, logp_fn=logp_at
    )
    init = dict(zip(names, start, strict=True))
    parallel = chains > 1 and jax.local_device_count() >= chains
    inverse_mass = _gradient_scaled_inverse_mass(jitted_logp, names, start, data, chains)
    kernel = NUTS(
        numpyro_model,
        target_accept_prob=target_accept,
        max_tree_depth=max_treedepth,
        inverse_mass_matrix=inverse_mass,
    )
    mcmc = MCMC(
        kernel,
        num_warmup=tune,
        num_samples=draws,
        num_chains=chains,
        chain_method="parallel" if parallel else "sequential",
        progress_bar=progressbar,
    )
    mcmc.run(
        jax.random.PRNGKey(seed),
        *[jnp.asarray(a) for a in data],
        init_params=init,
        extra_fields=_EXTRA,
    )
    raw = mcmc.get_samples(group_by_chain=True)
    stats = _numpyro_stats_to_dict(mcmc)
    keep = list(get_default_varnames(model.unobserved_value_vars, include_transformed=False))
    post_fn = get_jaxified_graph(inputs=values, outputs=keep)
    result = _postprocess_samples(post_fn, [raw[n] for n in names], None, "vmap")
    posterior = {v.name: np.asarray(r) for v, r in zip(keep, result, strict=True)}
    total = time.perf_counter() - t0
    compile_s = min(_CompileClock.read() - compiling, total)
    coords, dims = coords_and_dims_for_inferencedata(model)
    idata = _datatree(posterior, stats, coords, dims, sampling_time=total - compile_s, tune=tune)
    return idata, compile_s, total - compile_s


def _gradient_scaled_inverse_mass(
    logp: Any, names: list[str], start: list, data: list, chains: int
) -> dict:
    """A first diagonal inverse mass matrix from the gradient at the starting points, as
    nutpie starts its adaptation: 1 / |d log p / dx|, averaged over the chains' starts and
    kept within [1e-6, 10].

    With numpyro's default (identity), the parameters that the data pin down tightly (sd
    ~0.01 on the sampling scale, next to person residuals of sd ~1) force a tiny step: the
    first adaptation window of the reference fit took 8 s per iteration, about the cost of
    maximum-depth trajectories (docs/benchmarks.md)."""
    import jax
    import jax.numpy as jnp

    grad = jax.jit(jax.grad(lambda xs, ds: logp(*xs, *ds)))
    per_chain = [start] if chains == 1 else [[x[c] for x in start] for c in range(chains)]
    scale = None
    for point in per_chain:
        g = grad([jnp.asarray(x) for x in point], data)
        a = [np.abs(np.asarray(gi, dtype=float)).ravel() for gi in g]
        scale = a if scale is None else [s + ai for s, ai in zip(scale, a, strict=True)]
    assert scale is not None  # per_chain holds one point per chain, and chains >= 1
    return {
        (n,): np.clip(len(per_chain) / np.maximum(s, 1e-12), 1e-6, 10.0)
        for n, s in zip(names, scale, strict=True)
    }


class _CompileClock:
    """Seconds JAX has spent tracing, lowering, compiling or loading compiled programs in this
    process (JAX's monitoring events), for the compile/sampling split of a run."""

    total = 0.0
    listening = False

    @classmethod
    def read(cls) -> float:
        if not cls.listening:
            import jax.monitoring

            jax.monitoring.register_event_duration_secs_listener(cls._listen)
            cls.listening = True
        return cls.total

    @classmethod
    def _listen(cls, event: str, duration_secs: float, **_: Any) -> None:
        if event.startswith("/jax/core/compile/") or event.endswith("cache_retrieval_time_sec"):
            cls.total += duration_secs


_EXTRA = (
    "num_steps",
    "potential_energy",
    "energy",
    "adapt_state.step_size",
    "accept_prob",
    "diverging",
)


def _datatree(
    posterior: dict, stats: dict, coords: dict, dims: dict, *, sampling_time: float, tune: int
) -> xr.DataTree:
    from arviz_base import from_dict

    stats = {k: np.asarray(v) for k, v in stats.items()}
    if "lp" in stats:
        stats["lp"] = -stats["lp"]  # numpyro reports the potential energy, -log density
    return from_dict(
        {"posterior": posterior, "sample_stats": stats},
        coords=coords,
        dims=dims,
        sample_dims=["chain", "draw"],
        attrs={
            "posterior": {
                "sampling_time": sampling_time,
                "tuning_steps": tune,
                "inference_library": "numpyro",
            }
        },
    )
