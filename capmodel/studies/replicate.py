"""One replicate of simulation-based calibration (Talts et al. 2018, "Validating Bayesian
inference algorithms with simulation-based calibration", arXiv:1804.06788).

Replicate r, seeded by (seed, r): draw every parameter of the spec from its priors and every
response on the data's design (:func:`capmodel.validation.from_spec.simulate_from_spec`), fit
the spec to the simulated responses by NUTS, thin each chain so that the kept draws are nearly
independent (every ``thin``-th draw; by default thin = ceil(draws / min ESS), the smallest
bulk or tail ESS of the ranked parameters), and count, for every scalar (vector parameters
are flattened into labelled scalars, ``name[coord, ...]``), how many of the L kept draws fall
below the truth: its rank, uniform on {0..L} when the posterior is right.

Derived estimands ranked too, each with the residual integrated over N(0, 1), so that it is a
function of the parameters (and, for the last two, of the simulated realisations) alone:

- ``total_effect[SUPPORT, any_realisation]``: the sample's total effect of each support,
  do(k = 1) - do(k = 0), and of the CEP as received vs none (``cep``), on the share with any
  realisation, averaged over the sample's persons (models with realisations);
- ``nie[SUPPORT, any_realisation]``: the natural indirect effect through capability of the
  same contrasts (models with a latent capability and realisations);
- ``pn_share[changers]``: the share of the sample's changers whose change is attributable to
  the CEP, the mean probability of necessity (:func:`capmodel.effects.attribution`; a
  function of the parameters and the simulated realisations: models with realisations);
- ``pathway_share[type T]``: the sample's share of pathway types 1-4
  (:func:`capmodel.effects.pathways` at its default tau; type 5 needs the failed-decisive-test
  column, which a replicate does not simulate; models with a latent capability and
  realisations).

A rank of g(truth, y) among g(draws, y) is uniform for a function g of the parameters and
the data as well as of the parameters alone (the truth is a draw from the posterior given y).

The truth of a derived estimand is computed by the model's own functions at the true
parameters; its draws at the thinned posterior draws.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from capmodel.studies.fanout import OK, failure, worker_id

PARAMETERS, TOTAL_EFFECTS, NIE = "parameters", "total_effects", "nie"
PN_SHARE, PATHWAY_SHARES = "pn_share", "pathway_shares"
ESTIMANDS = (PARAMETERS, TOTAL_EFFECTS, NIE, PN_SHARE, PATHWAY_SHARES)
DERIVED = (TOTAL_EFFECTS, NIE, PN_SHARE, PATHWAY_SHARES)
PATHWAY_TYPES = (1, 2, 3, 4)  # type 5 needs a failed-decisive-test column
SAMPLE_DIMS = ("chain", "draw")


def replicate_seeds(seed: int, r: int) -> dict[str, int]:
    """The seeds of replicate ``r`` of a study seeded ``seed``: numpy's SeedSequence of
    ``seed`` spawned at ``r`` (the same whatever the number of replicates)."""
    child = np.random.SeedSequence(int(seed), spawn_key=(int(r),))
    sim, fit, pit = (int(x) for x in child.generate_state(3, dtype=np.uint32))
    return {"simulate": sim, "fit": fit, "pit": pit}


def label(name: str, dims: Sequence[str], coords: Mapping[str, Any], ix: tuple[int, ...]) -> str:
    """``name[c1, c2]`` of element ``ix`` (ArviZ's style); ``name`` for a scalar."""
    if not ix:
        return name
    return f"{name}[{', '.join(str(coords[d][i]) for d, i in zip(dims, ix, strict=True))}]"


def flatten(
    posterior: xr.Dataset, truth: Mapping[str, xr.DataArray]
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Labels, true values (E,) and draws (S, E) of every scalar element of ``truth``'s
    variables in ``posterior`` (S = chains x draws, stacked)."""
    labels: list[str] = []
    values: list[float] = []
    columns: list[np.ndarray] = []
    for name, tv in truth.items():
        da = posterior[name]
        dims = [str(d) for d in da.dims if d not in SAMPLE_DIMS]
        da = da.transpose(*SAMPLE_DIMS, *dims)
        tv = tv.transpose(*dims)
        coords = {
            d: list(da[d].values) if d in da.coords else list(range(da.sizes[d])) for d in dims
        }
        arr = np.asarray(da.values, dtype=float).reshape(-1, *da.shape[2:])
        for ix in np.ndindex(*tv.shape):
            labels.append(label(str(name), dims, coords, ix))
            values.append(float(tv.values[ix]))
            columns.append(arr[(slice(None), *ix)])
    draws = np.stack(columns, axis=1) if columns else np.zeros((0, 0))
    return labels, np.asarray(values), draws


def choose_thin(posterior: xr.Dataset, thin: int | None) -> tuple[int, float]:
    """(thin, min ESS): ``thin`` when given, else ceil(draws per chain x chains / min ESS),
    the smallest bulk or tail ESS over ``posterior``'s elements (at least 1)."""
    from capmodel.fitting.diagnostics import parameter_diagnostics

    with warnings.catch_warnings():  # constant elements (fixed by the model): no ESS
        warnings.simplefilter("ignore", RuntimeWarning)
        table = parameter_diagnostics(posterior)
    ess = np.concatenate([table["ess_bulk"].to_numpy(float), table["ess_tail"].to_numpy(float)])
    ess = ess[np.isfinite(ess) & (ess > 0)]
    min_ess = float(ess.min()) if ess.size else float("nan")
    if thin is not None:
        return int(thin), min_ess
    total = posterior.sizes["chain"] * posterior.sizes["draw"]
    if not math.isfinite(min_ess):
        return 1, min_ess
    return max(1, math.ceil(total / min_ess)), min_ess


def ranks(truth: np.ndarray, draws: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rank of each truth (E,) among its draws (L, E): draws below it, ties split at random."""
    below = (draws < truth[None, :]).sum(axis=0)
    ties = (draws == truth[None, :]).sum(axis=0)
    return below + rng.integers(0, ties + 1)


def _effect_draws(fit, truth: xr.Dataset, thinned: xr.Dataset, estimands: Sequence[str]):
    """Labels, true values and thinned-draw values of the derived estimands."""
    from capmodel.effects import ANY, EffectModel
    from capmodel.effects.attribution import attribution
    from capmodel.effects.mediation import mediation
    from capmodel.effects.params import Params, posterior_params
    from capmodel.effects.pathways import pathways
    from capmodel.effects.total import total_effects
    from capmodel.effects.units import INTEGRATED, sample_units
    from capmodel.model.evaluate import ModelFunctions

    design = fit.design
    if not design.realisations:
        return [], np.zeros(0), np.zeros((thinned.sizes["chain"] * thinned.sizes["draw"], 0))
    functions = ModelFunctions(fit.spec, design, fit.built_model())
    units = sample_units(fit.spec, fit.data, design, weights="none", residual=INTEGRATED)
    post = posterior_params(thinned, functions.names)
    values = {
        n: np.asarray(truth[n].transpose(*thinned[n].dims[2:]).values, dtype=float)[None]
        for n in functions.names
    }
    true = Params(np.zeros(1, int), np.zeros(1, int), np.arange(1), values)
    models = [
        EffectModel(fit.spec, design, p, units, data=fit.data, functions=functions)
        for p in (true, post)
    ]
    labels: list[str] = []
    parts: list[tuple[np.ndarray, np.ndarray]] = []

    def add(prefix: str, da: xr.DataArray, da_true: xr.DataArray) -> None:
        for c in da["contrast"].values:
            labels.append(f"{prefix}[{c}, {ANY}]")
            sel = {"contrast": c, "outcome": ANY}
            parts.append(
                (
                    np.asarray(da_true.sel(sel).isel(subgroup=0).values, float),
                    np.asarray(da.sel(sel).isel(subgroup=0).values, float),
                )
            )

    if TOTAL_EFFECTS in estimands:
        t, p = (total_effects(m).draws["difference"] for m in models)
        add("total_effect", p, t)
    if NIE in estimands and fit.spec.latent:
        t, p = (mediation(m).draws["nie"] for m in models)
        add("nie", p, t)
    if PN_SHARE in estimands:
        t, p = (attribution(m).draws["pn_share"].isel(subgroup=0) for m in models)
        labels.append("pn_share[changers]")
        parts.append((np.asarray(t.values, float), np.asarray(p.values, float)))
    if PATHWAY_SHARES in estimands and fit.spec.latent:
        t, p = (pathways(m, factors=[]).draws["share"].isel(subgroup=0) for m in models)
        for k in PATHWAY_TYPES:
            labels.append(f"pathway_share[type {k}]")
            parts.append(
                (
                    np.asarray(t.sel(type=k).values, float),
                    np.asarray(p.sel(type=k).values, float),
                )
            )
    if not labels:
        return [], np.zeros(0), np.zeros((post.n_draws, 0))
    return (
        labels,
        np.array([tv[0] for tv, _ in parts]),
        np.stack([pv for _, pv in parts], axis=1),
    )


def sbc_replicate(r: int, *, spec, data, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Replicate ``r`` of the SBC study ``settings`` (seed, draws, tune, chains, sampler,
    target_accept, thin, estimands): its record (ranks, L, thin, diagnostics, seconds), or a
    failure record with the error text. Runs on a dask worker."""
    from capmodel.fitting import fit
    from capmodel.validation.from_spec import simulate_from_spec

    t0 = time.perf_counter()
    seeds = replicate_seeds(settings["seed"], r)
    record: dict[str, Any] = {"replicate": r, "seeds": seeds, "worker": worker_id()}
    try:
        sim = simulate_from_spec(spec, data, seed=seeds["simulate"])
        f = fit(
            spec,
            sim.data,
            draws=settings["draws"],
            tune=settings["tune"],
            chains=settings["chains"],
            seed=seeds["fit"],
            sampler=settings["sampler"],
            target_accept=settings["target_accept"],
            progressbar=False,
            verbose=False,
        )
        t_fit = time.perf_counter() - t0
        d = f.diagnostics
        truth = sim.truth_for(f.posterior)
        estimands = tuple(settings["estimands"])
        post = f.posterior[list(truth)]
        thin, min_ess = choose_thin(post, settings.get("thin"))
        thinned = f.posterior.isel(draw=slice(thin - 1, None, thin))
        labels: list[str] = []
        kinds: list[str] = []
        true_parts, draw_parts = [], []
        if PARAMETERS in estimands:
            lab, tv, dv = flatten(thinned, truth)
            labels += lab
            kinds += ["parameter"] * len(lab)
            true_parts.append(tv)
            draw_parts.append(dv)
        if any(e in estimands for e in DERIVED):
            lab, tv, dv = _effect_draws(f, sim.truth, thinned, estimands)
            labels += lab
            kinds += ["derived"] * len(lab)
            true_parts.append(tv)
            draw_parts.append(dv)
        true = np.concatenate(true_parts) if true_parts else np.zeros(0)
        draws = np.concatenate(draw_parts, axis=1) if draw_parts else np.zeros((0, 0))
        rng = np.random.default_rng(seeds["pit"])
        rk = ranks(true, draws, rng)
        n_kept = int(draws.shape[0])
        record.update(
            {
                "status": OK,
                "thin": thin,
                "min_ess": min_ess,
                "n_draws": int(post.sizes["chain"] * post.sizes["draw"]),
                "L": n_kept,
                "divergences": d.divergences,
                "verdict": d.verdict,
                "max_rhat": d.max_rhat,
                "estimands": labels,
                "kinds": kinds,
                "ranks": [int(x) for x in rk],
                "truth": [float(x) for x in true],
                "mean": [float(x) for x in draws.mean(axis=0)] if n_kept else [],
                "fit_seconds": t_fit,
            }
        )
    except Exception as exc:  # a failure of this replicate: the same seed fails again
        record = failure(exc, **record)
    record["seconds"] = time.perf_counter() - t0
    return record
