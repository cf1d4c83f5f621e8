"""NUTS on the PyMC model compiled to JAX and run by numpyro (the default sampler).

The model is the one :func:`capmodel.model.build_model` builds (its equations live there only):
its log-density is compiled to JAX by PyTensor, with the design arrays (``pm.Data``) as
*arguments*, not constants, so that

- numpyro runs whole trajectories inside one compiled XLA program: no Python call per
  gradient, and the chains run truly in parallel, one per XLA host device (``pmap``);
- XLA's programs are cached on disk (JAX's persistent compilation cache, under
  :func:`cache_dir`): a second fit of the same spec, in a new process, on the same data or on
  other data of the same shape, loads them instead of compiling. Nothing data-dependent is a
  constant of a program: the design arrays and the starting mass matrix reach the sampler as
  arguments (:func:`_data_as_arguments`; docs/benchmarks.md, "Compile once, across data").

Draws come back on the constrained scale with PyMC's deterministics, as ``pm.sample`` returns
them (the model's graph of its free and deterministic variables, compiled to JAX and mapped
over the draws, in float64). The sampler runs in float64 or, where the log-density's rounding
allows it, float32 (``precision``; docs/models.md, "Precision").
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import pymc as pm
import xarray as xr

from capmodel.fitting.diagnostics import FLOAT32_ENERGY_WARN
from capmodel.fitting.progress import numpyro_progress
from capmodel.fitting.settings import PRECISIONS
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
    precision: str = "float64",
) -> tuple[xr.DataTree, float, float]:
    """Sample ``model`` by numpyro's NUTS; returns the DataTree (posterior on the constrained
    scale with deterministics, sample_stats), compile seconds and sampling seconds.

    ``precision="float32"`` runs the warm-up and the trajectories in single precision (numpyro's
    own default; about half the cost of a gradient here): the draws are then cast to float64,
    the deterministics computed in float64, and each draw's log-density evaluated again in
    float64, so that the rounding error of the Hamiltonian is recorded with the fit
    (``sample_stats.float32_energy_error``, see :func:`_float32_energy_error`).
    ``precision="auto"`` first measures that rounding error near the starting points
    (:func:`_float32_rounding_sd`) and samples in float32 where it is small enough, in float64
    otherwise (large data sets: the rounding of a log-density grows with it). The precision
    used, and the measurement, are in the posterior's attributes ``precision`` and
    ``float32_rounding_sd``."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r} is not one of {list(PRECISIONS)}")
    jax = configure_jax(chains)
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.infer import MCMC, NUTS
    from pymc.backends.arviz import coords_and_dims_for_inferencedata
    from pymc.sampling.jax import _get_batched_jittered_initial_points, _numpyro_stats_to_dict
    from pymc.util import get_default_varnames

    t0 = time.perf_counter()
    compiling = _CompileClock.read()
    values = model.value_vars
    logp_fn, data64 = _jax_function(values, [model.logp()])
    names = [v.name for v in values]
    shapes = {k: np.shape(v) for k, v in model.initial_point().items()}

    def numpyro_model(design: list, scales: list) -> None:
        # each parameter sampled as z = x / scale (the starting diagonal mass matrix, below):
        # the scales are then arguments of the compiled program, not constants in it
        x = [
            numpyro.sample(n, dist.ImproperUniform(dist.constraints.real, (), shapes[n])) * sc
            for n, sc in zip(names, scales, strict=True)
        ]
        numpyro.factor("logp", logp_fn(*x, *design)[0])

    jitted_logp = jax.jit(lambda *args: logp_fn(*args)[0])

    def logp_at(point) -> Any:  # for PyMC's jittered starting points
        return jitted_logp(*[jnp.asarray(p) for p in point], *data64)

    start = _get_batched_jittered_initial_points(
        model=model, chains=chains, initvals=None, random_seed=seed, logp_fn=logp_at
    )
    rounding = None
    if precision == "float64":
        single = False
    else:
        first = [np.asarray(x)[0] for x in start] if chains > 1 else list(start)
        rounding = _float32_rounding_sd(jax, jitted_logp, first, data64, seed)
        single = precision == "float32" or rounding <= AUTO_FLOAT32_MAX_ROUNDING_SD
    data = [_cast(a, single) for a in data64]

    # float64 off while tracing and running (single precision only): every array of the
    # programs is then float32, the graph's float64 constants included (JAX warns about each
    # 64-bit dtype it narrows: here that is the point, so those warnings are not shown)
    with jax.enable_x64(not single), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Explicitly requested dtype", UserWarning)
        start = [_cast(x, single) for x in start]
        parallel = chains > 1 and jax.local_device_count() >= chains
        scales = [
            _cast(np.sqrt(v), single)
            for v in _gradient_scaled_inverse_mass(jitted_logp, start, data, chains)
        ]
        init = {n: x / sc for n, x, sc in zip(names, start, scales, strict=True)}
        kernel = NUTS(numpyro_model, target_accept_prob=target_accept, max_tree_depth=max_treedepth)
        mcmc = MCMC(
            kernel,
            num_warmup=tune,
            num_samples=draws,
            num_chains=chains,
            chain_method=_data_as_arguments(jax, parallel),
            jit_model_args=True,
            progress_bar=False,  # numpyro refuses its bars with our chain_method: see below
        )
        # progress lines (capmodel.fitting.progress): numpyro draws multi-chain progress from
        # inside the compiled loop; with one chain it would loop in Python, so none is drawn
        mcmc.progress_bar = progressbar and chains > 1
        with numpyro_progress(tune):
            mcmc.run(
                jax.random.PRNGKey(seed),
                [jnp.asarray(a) for a in data],
                [jnp.asarray(sc) for sc in scales],
                init_params=init,
                extra_fields=_EXTRA,
            )
        z = mcmc.get_samples(group_by_chain=True)
        raw = {n: np.asarray(z[n], dtype=float) * sc for n, sc in zip(names, scales, strict=True)}
        stats = _numpyro_stats_to_dict(mcmc)
    if single:
        stats["float32_energy_error"] = _float32_energy_error(
            jitted_logp, [raw[n] for n in names], data64, np.asarray(stats["lp"])
        )
    keep = list(get_default_varnames(model.unobserved_value_vars, include_transformed=False))
    # the deterministics, the design arrays again as arguments (cacheable across data)
    post_fn, post_data = _jax_function(values, keep)
    per_draw = jax.vmap(jax.vmap(lambda xs, ds: post_fn(*xs, *ds), in_axes=(0, None)), (0, None))
    result = jax.jit(per_draw)([raw[n] for n in names], post_data)
    posterior = {v.name: np.asarray(r) for v, r in zip(keep, result, strict=True)}
    total = time.perf_counter() - t0
    compile_s = min(_CompileClock.read() - compiling, total)
    coords, dims = coords_and_dims_for_inferencedata(model)
    idata = _datatree(posterior, stats, coords, dims, sampling_time=total - compile_s, tune=tune)
    idata["posterior"].attrs["precision"] = "float32" if single else "float64"
    if rounding is not None:
        idata["posterior"].attrs["float32_rounding_sd"] = rounding
    return idata, compile_s, total - compile_s


def _data_as_arguments(jax: Any, parallel: bool) -> Any:
    """numpyro's ``chain_method`` hook: run the chains (in parallel on the XLA host devices
    where ``parallel``, else one after the other) with the model's arguments, the design
    arrays, passed to the compiled program as *arguments*.

    numpyro's own "parallel" binds them into the function it maps over the chains
    (``functools.partial(MCMC._single_chain_mcmc, args=...)``), so XLA compiled them in as
    constants: the persistent cache then served only the same data, and every new data set of
    the same shape compiled the sampler again (docs/benchmarks.md, "Compile once"). With
    ``jit_model_args=True`` the sampler takes them from its state, so here they are taken out
    of the partial and handed to ``pmap`` (or ``lax.map``) as a broadcast argument."""

    def chain_method(partial_fn: Any) -> Any:
        bound = dict(partial_fn.keywords)
        model_args = bound.pop("args")

        def one_chain(map_args: Any, model_args: Any) -> Any:
            return partial_fn.func(map_args, args=model_args, **bound)

        if parallel:
            mapped = jax.pmap(one_chain, in_axes=(0, None))
            return lambda map_args: mapped(map_args, model_args)
        return lambda map_args: jax.lax.map(lambda a: one_chain(a, model_args), map_args)

    return chain_method


def _cast(a: Any, single: bool) -> np.ndarray:
    """``a`` as a numpy array, floats in single precision and integers in 32 bits where
    ``single`` (what a program traced without float64 holds), unchanged otherwise."""
    a = np.asarray(a)
    if not single:
        return a
    if a.dtype.kind == "f":
        return a.astype(np.float32)
    if a.dtype.kind in "iu" and a.dtype.itemsize > 4:
        return a.astype(np.int32 if a.dtype.kind == "i" else np.uint32)
    return a


# precision "auto": float32 where the rounding error's sd near the starting points is at most
# this. A change between two draws is about sqrt(2) sds, and the largest over thousands of
# draws about 5 of those: the verdict's threshold (FLOAT32_ENERGY_WARN) is then not reached.
AUTO_FLOAT32_MAX_ROUNDING_SD = FLOAT32_ENERGY_WARN / (5 * np.sqrt(2))
ROUNDING_POINTS = 16


def _float32_rounding_sd(jax: Any, logp: Any, point: list, data: list, seed: int) -> float:
    """The sd of the log-density's single-precision rounding error (float32 minus float64 at
    the same point) over a few points near ``point``: about the noise a float32 run would add
    to the Hamiltonian. It grows with the data (0.003 at 6,396 persons, 0.13 at 200,000 on
    the reference model: docs/benchmarks.md, "float32")."""
    import jax.numpy as jnp

    rng = np.random.default_rng(seed)
    points = [
        [np.asarray(x, dtype=float) + rng.normal(scale=0.01, size=np.shape(x)) for x in point]
        for _ in range(ROUNDING_POINTS)
    ]
    u64 = np.array([float(logp(*[jnp.asarray(x) for x in p], *data)) for p in points])
    with jax.enable_x64(False), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Explicitly requested dtype", UserWarning)
        d32 = [jnp.asarray(_cast(a, True)) for a in data]
        u32 = np.array(
            [float(logp(*[jnp.asarray(_cast(x, True)) for x in p], *d32)) for p in points]
        )
    error = u32 - u64
    return float(np.std(error, ddof=1)) if np.isfinite(error).all() else float("inf")


def _float32_energy_error(logp: Any, draws: list[np.ndarray], data: list, potential: Any) -> Any:
    """Each draw's single-precision rounding error in the potential energy, against the
    log-density evaluated again in float64 at the same point: U32(x) - U64(x), shape (chain,
    draw).

    NUTS accepts or rejects by *differences* of the Hamiltonian along a trajectory, so what
    matters is how much this error changes from one point to the next (its spread over draws,
    against the O(1) energy changes of a transition), not its mean."""
    import jax

    flat = [d.reshape((-1, *d.shape[2:])) for d in draws]
    batch = jax.jit(jax.vmap(lambda *xs: logp(*xs, *data), in_axes=0))
    u64 = np.concatenate(
        [
            -np.asarray(batch(*[x[i : i + 250] for x in flat]))
            for i in range(0, flat[0].shape[0], 250)
        ]
    )
    return np.asarray(potential, dtype=float) - u64.reshape(potential.shape)


def _gradient_scaled_inverse_mass(logp: Any, start: list, data: list, chains: int) -> list:
    """A first diagonal inverse mass matrix from the gradient at the starting points, as
    nutpie starts its adaptation: 1 / |d log p / dx|, averaged over the chains' starts and
    kept within [1e-6, 10], one array per parameter. numpyro samples each parameter divided
    by the square root of it (numpyro's own starting mass matrix, the identity, then equals
    it), so that it is an argument of the compiled sampler rather than a constant.

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
        a = [np.abs(np.asarray(gi, dtype=float)) for gi in g]
        scale = a if scale is None else [s + ai for s, ai in zip(scale, a, strict=True)]
    assert scale is not None  # per_chain holds one point per chain, and chains >= 1
    return [np.clip(len(per_chain) / np.maximum(s, 1e-12), 1e-6, 10.0) for s in scale]


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
