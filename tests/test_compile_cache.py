"""Compile once: numpyro's sampling program takes the design arrays (and the starting mass
matrix) as arguments, so another data set of the same shape is served by JAX's persistent
cache instead of compiling the sampler again (issue 11, item 3)."""

from __future__ import annotations

import logging

import numpy as np
import pymc as pm
import pytest

from capmodel.fitting.sample import run_nuts

pytestmark = pytest.mark.slow  # runs NUTS


def _model(seed: int) -> pm.Model:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(40, 3))
    y = x @ np.array([0.5, -1.0, 0.2]) + rng.normal(size=40)
    with pm.Model() as m:
        xd = pm.Data("x", x)
        yd = pm.Data("y", y)
        beta = pm.Normal("beta", 0, 1, shape=3)
        sigma = pm.HalfNormal("sigma", 1)
        pm.Normal("obs", xd @ beta, sigma, observed=yd)
    return m


def _sample(model: pm.Model, **settings):
    """A short numpyro run of ``model``; ``settings`` override the defaults below."""
    kw = {
        "draws": 7,
        "tune": 9,
        "chains": 2,
        "seed": 1,
        "target_accept": 0.8,
        "max_treedepth": 4,
        "progressbar": False,
    }
    return run_nuts(model, sampler="numpyro", **{**kw, **settings})


def _misses(caplog, model: pm.Model, progressbar: bool = False) -> list[str]:
    caplog.clear()
    _sample(model, progressbar=progressbar)
    return [r.getMessage() for r in caplog.records if "CACHE MISS" in r.getMessage()]


@pytest.mark.parametrize("progressbar", [False, True])
def test_other_data_of_the_same_shape_reuse_the_compiled_sampler(caplog, monkeypatch, progressbar):
    """With or without the progress lines (host callbacks inside the compiled loop)."""
    import jax

    from capmodel.model import jax_backend

    default = jax_backend.MIN_CACHED_COMPILE_SECONDS
    monkeypatch.setattr(jax_backend, "MIN_CACHED_COMPILE_SECONDS", 0.0)  # write every program
    caplog.set_level(logging.DEBUG, logger="jax._src.compiler")
    try:
        # compiles (or loads) every program for this shape, then other data of the same shape
        _misses(caplog, _model(1), progressbar)
        second = _misses(caplog, _model(2), progressbar)
    finally:
        jax.config.update("jax_persistent_cache_min_compile_time_secs", default)
    # every program, the sampler (numpyro's chains mapped over the devices) included
    assert not second, second


def test_more_chains_than_devices_and_one_chain_sample(capsys):
    """Three chains on two XLA devices run one after the other (lax.map over the chains, the
    data still an argument); one chain runs alone. Each chain has its own draws. The three
    report their progress to 100%; one chain reports none (numpyro would loop in Python)."""
    for chains in (1, 3):
        capsys.readouterr()
        run = _sample(_model(3), draws=15, tune=15, chains=chains, seed=2, progressbar=True)
        lines = [x for x in capsys.readouterr().err.splitlines() if "iterations)" in x]
        if chains == 1:
            assert lines == []
        else:
            assert lines[-1].strip().startswith("100% (sampling; chains at 30 and 30 and 30")
        beta = run.idata["posterior"]["beta"]
        assert dict(beta.sizes) == {"chain": chains, "draw": 15, "beta_dim_0": 3}
        assert np.isfinite(beta.values).all()
        if chains > 1:
            assert not np.array_equal(beta.values[0], beta.values[1])


def test_sampling_progress_reaches_stderr_as_lines(capsys):
    """Item 7: numpyro's chains report their progress as plain lines (a log redirected to a
    file fills while they run): one per tenth of the iterations of the slowest chain, with
    the phase, ending at 100%."""
    _sample(_model(4), draws=60, tune=40, seed=3, progressbar=True)
    lines = [x for x in capsys.readouterr().err.splitlines() if "iterations)" in x]
    shares = [int(x.split("%")[0]) for x in lines]
    assert shares == sorted(shares) and shares[-1] == 100 and len(shares) >= 5, lines
    assert "tuning" in lines[0] and "sampling" in lines[-1]
    assert lines[-1].strip().startswith("100% (sampling; chains at 100 and 100 of 100")
