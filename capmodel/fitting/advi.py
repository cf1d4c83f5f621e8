"""A fast approximate preview: mean-field ADVI (PyMC's own ``pm.fit``) instead of NUTS.

Mean-field ADVI fits independent normals to the unconstrained parameters: it is fast but
underestimates posterior sds and can shift means by several posterior sds in a model with a
latent variable (on the small simulated survey, loadings by up to 4 NUTS sds): a preview of
the model's behaviour, not a basis for inference. Its draws are independent, so R-hat, ESS and
the other NUTS diagnostics do not apply.

pymc-extras (Pathfinder) is not used: its releases require pymc<6.4, which this
project cannot install.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pymc as pm
import xarray as xr

# pm.callbacks is not a module attribute in PyMC 6.4: imported from where it lives
from pymc.variational.callbacks import CheckParametersConvergence

ITERATIONS = 20_000  # the most optimisation steps
LEARNING_RATE = 0.01  # adagrad_window (PyMC's default optimiser; its default rate is 0.001)
CHECK_EVERY = 1_000  # steps between two convergence checks
TOLERANCE = 0.3  # stop when no variational parameter moved more than this in CHECK_EVERY steps
LOSS_WINDOW = 1_000  # the final loss is the mean negative ELBO over the last steps
# Chosen on the small simulated survey (1,298 persons, models/capability.toml): at learning
# rate 0.01 the posterior means are within 0.5 (ADVI) sd of those after 60,000 steps at PyMC's
# default rate 0.001 from 5,000 steps on; the largest change of a variational parameter per
# 1,000 steps falls from 1.3 (at 2,000 steps) to a noise floor of 0.2-0.25 (from 4,000 steps),
# where the check stops the optimisation; 20,000 steps is the ceiling.


@dataclass(frozen=True)
class AdviRun:
    """Draws from the fitted approximation (as chain x draw) and how the optimisation went."""

    idata: xr.DataTree
    compile_seconds: float
    fit_seconds: float
    draw_seconds: float
    iterations: int
    converged: bool  # stopped by the convergence check before the most iterations
    final_loss: float  # mean negative ELBO over the last LOSS_WINDOW iterations
    loss: np.ndarray  # negative ELBO at every iteration


class _FirstStep:
    """Callback recording when the first optimisation step is done (compile time)."""

    def __init__(self) -> None:
        self.at: float | None = None

    def __call__(self, approx, loss, i) -> None:
        if self.at is None:
            self.at = time.perf_counter()


def run_advi(
    model: pm.Model,
    *,
    draws: int,
    chains: int,
    seed: int,
    iterations: int = ITERATIONS,
    progressbar: bool = True,
) -> AdviRun:
    """Fit ``model`` by mean-field ADVI (at most ``iterations`` steps, stopped early by PyMC's
    ``CheckParametersConvergence``) and draw ``chains * draws`` independent draws from the
    approximation, arranged as ``chains`` chains of ``draws`` draws like a NUTS run."""
    if iterations < 1:
        raise ValueError(f"iterations must be >= 1, got {iterations}")
    first = _FirstStep()
    check = CheckParametersConvergence(every=CHECK_EVERY, tolerance=TOLERANCE, diff="absolute")
    t0 = time.perf_counter()
    approx = pm.fit(
        n=iterations,
        method="advi",
        model=model,
        random_seed=seed,
        progressbar=progressbar,
        callbacks=[first, check],
        obj_optimizer=pm.adagrad_window(learning_rate=LEARNING_RATE),
    )
    t1 = time.perf_counter()
    idata = approx.sample(draws * chains, random_seed=seed)
    t2 = time.perf_counter()
    loss = np.asarray(approx.hist, dtype=float)
    done = int(loss.size)
    tail = loss[-LOSS_WINDOW:]
    tail = tail[np.isfinite(tail)]
    idata["posterior"] = xr.DataTree(as_chains(idata["posterior"].to_dataset(), chains, draws))
    for group in list(idata.children):  # an empty sample_stats: no sampler, no statistics
        if group != "posterior" and not idata[group].to_dataset().data_vars:
            del idata[group]
    compile_s = (first.at or t1) - t0
    return AdviRun(
        idata,
        compile_s,
        t1 - t0 - compile_s,
        t2 - t1,
        done,
        done < iterations,
        float(tail.mean()) if tail.size else float("nan"),
        loss,
    )


def as_chains(posterior: xr.Dataset, chains: int, draws: int) -> xr.Dataset:
    """One chain of ``chains * draws`` draws as ``chains`` chains of ``draws`` draws."""
    out = {}
    for name, da in posterior.data_vars.items():
        da = da.transpose("chain", "draw", ...)
        out[name] = (da.dims, da.values.reshape((chains, draws) + da.shape[2:]))
    coords = {k: v for k, v in posterior.coords.items() if k not in ("chain", "draw")}
    coords.update(chain=np.arange(chains), draw=np.arange(draws))
    return xr.Dataset(out, coords=coords, attrs=dict(posterior.attrs))
