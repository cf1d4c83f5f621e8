"""Running NUTS on a built model: numpyro on JAX (default), nutpie or PyMC's NUTS."""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass

import pymc as pm
import xarray as xr
from threadpoolctl import threadpool_limits

from capmodel.fitting.settings import check_precision


@dataclass(frozen=True)
class SamplerRun:
    idata: xr.DataTree
    compile_seconds: float
    sampling_seconds: float


_COMPILED: dict[str, object] = {}  # nutpie models compiled in this process, by cache key
_MAX_COMPILED = 4


def run_nuts(model: pm.Model, **kwargs) -> SamplerRun:
    """Sample ``model`` (see :func:`_run_nuts`) with BLAS limited to one thread.

    The chains run in parallel threads or processes, one per core; a multithreaded BLAS on top
    (the design-matrix products) adds threads that spin while they wait and took about half
    the CPU from the chains in the reference fit (docs/benchmarks.md).
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _run_nuts(model, **kwargs)


def _run_nuts(
    model: pm.Model,
    *,
    sampler: str,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    target_accept: float,
    max_treedepth: int,
    progressbar: bool,
    adaptation: str = "diag",
    precision: str = "float64",
    cache_key: str | None = None,
) -> SamplerRun:
    """Sample ``model``; compile and sampling times are measured separately.

    ``cache_key`` (the spec and data hash) lets a later call in the same process reuse the
    compiled nutpie model instead of compiling it again. ``adaptation`` is nutpie's
    mass-matrix adaptation ('diag' or 'low_rank'); PyMC's and numpyro's NUTS adapt a diagonal one.
    ``precision`` is numpyro's ('float64' or 'float32'); the others sample in float64.
    """
    check_precision(precision, sampler)
    cores = min(chains, os.cpu_count() or 1)
    if sampler == "nutpie":
        import nutpie
        from pymc.backends.arviz import patch_nutpie_idata

        t0 = time.perf_counter()
        compiled = _COMPILED.get(cache_key) if cache_key else None
        if compiled is None:
            compiled = nutpie.compile_pymc_model(model, backend="numba")
            if cache_key:
                if len(_COMPILED) >= _MAX_COMPILED:
                    _COMPILED.pop(next(iter(_COMPILED)))
                _COMPILED[cache_key] = compiled
        t1 = time.perf_counter()
        idata = nutpie.sample(
            compiled,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            seed=seed,
            progress_bar=progressbar,
            target_accept=target_accept,
            maxdepth=max_treedepth,
            adaptation=adaptation,
        )
        t2 = time.perf_counter()
        patch_nutpie_idata(idata, model, sampling_time=t2 - t1)
        return SamplerRun(idata, t1 - t0, t2 - t1)
    if sampler == "numpyro":
        from capmodel.fitting.jax_nuts import sample_numpyro

        idata, compile_s, sampling_s = sample_numpyro(
            model,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=seed,
            target_accept=target_accept,
            max_treedepth=max_treedepth,
            progressbar=progressbar,
            precision=precision,
        )
        return SamplerRun(idata, compile_s, sampling_s)
    if sampler != "pymc":
        raise ValueError(f"sampler {sampler!r} is not one of ['nutpie', 'pymc', 'numpyro']")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        idata = pm.sample(
            model=model,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            random_seed=seed,
            nuts_sampler=sampler,
            progressbar=progressbar,
            nuts={"target_accept": target_accept, "max_treedepth": max_treedepth},
            compute_convergence_checks=False,
        )
    total = time.perf_counter() - t0
    sampling = float(idata["posterior"].attrs.get("sampling_time", total))
    return SamplerRun(idata, max(total - sampling, 0.0), sampling)
