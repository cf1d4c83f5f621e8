"""`capmodel.fit`: spec + data -> NUTS (or an ADVI preview) -> a :class:`Fit` with its
provenance and diagnostics."""

from __future__ import annotations

import copy
import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from capmodel.data import Data
from capmodel.fitting.arviz_groups import add_arviz_groups
from capmodel.fitting.diagnostics import Diagnostics, approximate_diagnostics, diagnose
from capmodel.fitting.inputs import checked_data
from capmodel.fitting.provenance import now, versions
from capmodel.fitting.sample import run_nuts
from capmodel.fitting.settings import check_precision, check_sampler, check_settings
from capmodel.fitting.store import FORMAT_VERSION, read_fit, save_fit
from capmodel.model import BuiltModel, build_design, build_model, observed_dataset
from capmodel.model.design import Design
from capmodel.spec import Spec, load_spec

METHODS = ("nuts", "advi")
RESIDUAL = "capability_residual"  # per-person residual draws (models with a sampled residual)
RESIDUAL_GROUP = "residual_draws"  # where keep_residuals stores them
RESIDUAL_DRAWS = 200  # at most this many residual draws per chain are kept


@dataclass
class Fit:
    """A fitted model: the posterior (``idata``, an ``xarray.DataTree``), the spec, and the
    manifest (data hash, seed, versions, sampler settings, timings, diagnostics).

    ``idata`` groups: ``posterior``, ``sample_stats``, ``observed_data``, and ``data`` (the
    encoded data the model was fitted to, so a saved fit is self-contained); ``residual_draws``
    (kept per-person residual draws, ``keep_residuals``) and ``advi`` (the ADVI loss of an
    approximate fit) when there are any.
    """

    idata: xr.DataTree
    spec: Spec
    manifest: dict[str, Any] = field(default_factory=dict)
    # the design and models built from this fit, once each (``design``, ``built_model``)
    _built: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def design(self) -> Design:
        """The design arrays of the data the model was fitted to, built once and shared by
        every consumer (effects, predictive checks, LOO, the report)."""
        return self.cached("design", lambda: build_design(self.spec, self.data))

    def built_model(self, *, generative: bool = False) -> BuiltModel:
        """This fit's PyMC model (:func:`capmodel.model.build_model`), built once per kind:
        as fitted, or ``generative`` (every response observed, one residual per person: the
        model that prior and posterior predictive simulation run)."""
        return self.cached(
            ("model", generative),
            lambda: build_model(self.spec, self.design, generative=generative),
        )

    def cached(self, key: Any, build: Callable[[], Any]) -> Any:
        """``build()`` once per ``key`` for this fit (e.g. the pointwise model of LOO)."""
        if key not in self._built:
            self._built[key] = build()
        return self._built[key]

    @property
    def diagnostics(self) -> Diagnostics:
        fields: dict[str, Any] = {
            k: (tuple(v) if isinstance(v, list) else v)
            for k, v in self.manifest["diagnostics"].items()
        }
        return Diagnostics(**fields)

    @property
    def posterior(self) -> xr.Dataset:
        return self.idata["posterior"].dataset

    @property
    def data(self) -> xr.Dataset:
        """The encoded data the model was fitted to."""
        return self.idata["data"].to_dataset()

    @property
    def approximate(self) -> bool:
        """An approximate (ADVI) fit: a preview, not for inference."""
        return bool(self.manifest.get("approximate", False))

    @property
    def residual_draws(self) -> xr.Dataset | None:
        """The kept per-person residual draws (chain, draw, person; ``keep_residuals``), their
        ``draw`` labels those of the posterior draws they belong to; None if not kept."""
        if RESIDUAL_GROUP in self.idata.children:
            return self.idata[RESIDUAL_GROUP].to_dataset()
        return None

    def without_residual_draws(self) -> Fit:
        """This fit as ``fit()`` saves it by default: no per-person residual draws."""
        idata = self.idata.copy()
        if RESIDUAL_GROUP in idata.children:
            del idata[RESIDUAL_GROUP]
        post = idata["posterior"].to_dataset()
        if RESIDUAL in post:
            idata["posterior"] = xr.DataTree(post.drop_vars(RESIDUAL))
        manifest = copy.deepcopy(self.manifest)
        if manifest.get("residuals"):
            manifest["residuals"] = {"variable": RESIDUAL, "stored": False}
        return Fit(idata, self.spec, manifest)

    def summary(
        self, var_names: list[str] | None = None, ci_prob: float | None = None
    ) -> pd.DataFrame:
        """Posterior summary (``az.summary``): mean, sd, interval, R-hat, ESS. The interval
        is capmodel's setting (capmodel.intervals: 90% equal-tailed unless ArviZ's rcParams
        say otherwise) or ``ci_prob``."""
        import arviz as az

        from capmodel import intervals

        return az.summary(
            self.idata,
            var_names=var_names,
            ci_prob=ci_prob or intervals.ci_prob(),
            ci_kind=intervals.ci_kind(),
        )

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write netCDF + JSON manifest under ``path`` atomically (capmodel.fitting.store)."""
        return save_fit(self, Path(path), overwrite=overwrite)

    def __repr__(self) -> str:
        m = self.manifest
        how = " ADVI" if self.approximate else ""
        return (
            f"<Fit {self.spec.name!r}: {m['data']['n_persons']} persons, "
            f"{m['settings']['chains']}x{m['settings']['draws']}{how} draws, "
            f"{m['diagnostics']['verdict']}>"
        )


def load_fit(path: str | Path) -> Fit:
    """Load a fit saved by :meth:`Fit.save`; refuses a tampered, truncated or foreign one
    (:class:`~capmodel.fitting.store.FitFileError`). No pickle: xarray and json only."""
    return Fit(*read_fit(path))


def precision_used(idata: xr.DataTree, asked: str) -> dict[str, Any]:
    """The floating-point precision a NUTS run sampled in (numpyro records it; the others run
    in float64), what was asked, and for 'auto' the rounding measurement that chose it."""
    attrs = idata["posterior"].attrs
    used = str(attrs.get("precision", "float64"))
    out: dict[str, Any] = {"asked": asked, "used": used}
    text = used
    if "float32_rounding_sd" in attrs:
        out["float32_rounding_sd"] = float(attrs["float32_rounding_sd"])
        if asked == "auto":
            text = (
                f"{used}: auto, the log-density's float32 rounding has sd "
                f"{out['float32_rounding_sd']:.2g} near the starting points"
            )
    out["text"] = text
    return out


def fit(
    spec: Spec | str | Path,
    data: Data | pd.DataFrame | str | Path,
    *,
    method: str = "nuts",
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    seed: int | None = None,
    sampler: str | None = None,
    target_accept: float | None = None,
    adaptation: str | None = None,
    precision: str | None = None,
    iterations: int | None = None,
    keep_residuals: bool | int = False,
    log_likelihood: bool = False,
    progressbar: bool = True,
    verbose: bool = True,
) -> Fit:
    """Fit ``spec`` to ``data`` by NUTS (or, ``method="advi"``, an approximate ADVI preview).

    ``spec``: a :class:`Spec` or a TOML path. ``data``: validated :class:`Data`, a DataFrame or
    a CSV/Parquet path (validated against the spec's schema). Settings default to the spec's
    ``[sampling]`` table; ``sampler`` is 'numpyro' (default), 'nutpie' or 'pymc';
    ``adaptation`` is nutpie's mass matrix, 'diag' or 'low_rank'; ``precision`` is numpyro's,
    'float64' or 'float32' (then the Hamiltonian's rounding error is recorded and checked by
    the verdict). ``method="advi"``:
    mean-field ADVI (:mod:`capmodel.fitting.advi`, at most ``iterations`` steps), then
    ``chains x draws`` draws from the approximation; its verdict is 'approximate', never PASS.

    The per-person residual draws (``capability_residual``) are not kept: effects integrate
    each person's residual by quadrature instead. ``keep_residuals=True`` keeps them, thinned
    to at most 200 draws per chain (an integer: at most that many), as float32 in the group
    ``residual_draws``. ``log_likelihood=True`` also records the groups ``log_likelihood``
    (``person_loglik``: each person's responses together, the residual integrated out, over
    every draw) and ``posterior_predictive`` (replicated responses, paired with
    ``observed_data``), so that ``az.loo`` and ``az.plot_ppc`` work on ``Fit.idata`` and on
    the saved ``fit.nc``. Settings are checked (ranges, the sampler and the packages it needs)
    before the data is read. Unless ``verbose=False``, one line per stage with its duration goes to
    stderr as the fit runs, and the convergence summary to stdout at the end.
    """
    if method not in METHODS:
        raise ValueError(f"method {method!r} is not one of {list(METHODS)}")
    if (
        isinstance(keep_residuals, int)
        and not isinstance(keep_residuals, bool)
        and keep_residuals < 0
    ):
        raise ValueError(
            f"keep_residuals must be True, False or a number of draws >= 0, got {keep_residuals}"
        )

    check_settings(
        {
            "draws": draws,
            "tune": tune,
            "chains": chains,
            "seed": seed,
            "iterations": iterations,
            "target_accept": target_accept,
        }
    )

    def say(text: str) -> None:
        if verbose:  # stderr, flushed: a redirected log fills while the fit runs
            print(text, file=sys.stderr, flush=True)

    t_start = time.perf_counter()
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    if method == "nuts":
        check_sampler(sampler or spec.sampling.sampler)
        check_precision(precision, sampler or spec.sampling.sampler)
    data = checked_data(data, spec, say)
    s = spec.sampling
    settings: dict[str, Any] = {
        "draws": draws or s.draws,
        "chains": chains or s.chains,
        "seed": s.seed if seed is None else int(seed),
    }
    if method == "nuts":
        settings.update(
            {
                "tune": tune or s.tune,
                "sampler": sampler or s.sampler,
                "target_accept": target_accept or s.target_accept,
                "max_treedepth": s.max_treedepth,
                "adaptation": adaptation or s.adaptation,
                "precision": precision or s.precision,
            }
        )
    else:
        from capmodel.fitting import advi

        settings.update(
            {
                "method": "advi",
                "iterations": iterations or advi.ITERATIONS,
                "learning_rate": advi.LEARNING_RATE,
                "check_every": advi.CHECK_EVERY,
                "tolerance": advi.TOLERANCE,
            }
        )
    t0 = time.perf_counter()
    design = build_design(spec, data)
    built = build_model(spec, design)
    t_build = time.perf_counter() - t0
    say(
        f"build {t_build:.1f} s (design and PyMC model, {len(built.model.free_RVs)} free variables)"
    )
    n_chains, n_draws = settings["chains"], settings["draws"]
    advi_info = None
    sampled_in: dict[str, Any] = {}
    if method == "nuts":
        say(
            f"sampling with {settings['sampler']}: {n_chains} chains x {n_draws} draws after "
            f"{settings['tune']} tuning steps (compiling the model first)..."
        )
        key = hashlib.sha256(
            (spec.to_json() + data.dataset.attrs["data_hash"]).encode()
        ).hexdigest()
        run = run_nuts(built.model, progressbar=progressbar, cache_key=key, **settings)
        say(f"compile {run.compile_seconds:.1f} s")
        idata = run.idata
        sampled_in = precision_used(idata, settings["precision"])
        say(f"sampling {run.sampling_seconds:.1f} s ({sampled_in.pop('text')})")
        timings = {"compile_seconds": run.compile_seconds, "sampling_seconds": run.sampling_seconds}
    else:
        say(
            f"ADVI (approximate): at most {settings['iterations']:,} iterations, then "
            f"{n_chains} x {n_draws} draws (compiling the model first)..."
        )
        arun = advi.run_advi(
            built.model,
            draws=n_draws,
            chains=n_chains,
            seed=settings["seed"],
            iterations=settings["iterations"],
            progressbar=progressbar,
        )
        stop = "converged" if arun.converged else "stopped at the iteration limit"
        say(f"compile {arun.compile_seconds:.1f} s")
        say(
            f"advi {arun.fit_seconds:.1f} s ({arun.iterations:,} iterations, {stop}; "
            f"final loss {arun.final_loss:,.1f})"
        )
        say(f"draws {arun.draw_seconds:.1f} s ({n_chains} x {n_draws} from the approximation)")
        idata = arun.idata
        idata["advi"] = xr.DataTree(xr.Dataset({"loss": ("iteration", arun.loss)}))
        timings = {
            "compile_seconds": arun.compile_seconds,
            "advi_seconds": arun.fit_seconds,
            "draw_seconds": arun.draw_seconds,
        }
        advi_info = {
            "iterations": arun.iterations,
            "max_iterations": settings["iterations"],
            "converged": arun.converged,
            "final_loss": arun.final_loss,
            "loss": f"mean negative ELBO over the last {advi.LOSS_WINDOW:,} iterations",
        }
    if "constant_data" in idata.children:  # the design arrays; the "data" group holds the data
        del idata["constant_data"]
    if "warmup_posterior" in idata.children:  # tuning draws: not kept, as in PyMC's default
        del idata["warmup_posterior"]  # (a third of the file with person-level residuals)
    for group in ("posterior", "sample_stats", "observed_data"):
        if group in idata.children:
            idata[group].attrs.pop("created_at", None)
    idata["observed_data"] = xr.DataTree(observed_dataset(spec, design))
    idata["data"] = xr.DataTree(data.dataset)
    t0 = time.perf_counter()
    if method == "nuts":
        # on every draw, person-level residuals included, before they are dropped or thinned
        diag = diagnose(idata, notes=built.notes, max_treedepth=settings["max_treedepth"])
        say(f"diagnostics {time.perf_counter() - t0:.1f} s ({diag.verdict.upper()})")
    else:
        assert advi_info is not None  # set by the ADVI run above
        diag = approximate_diagnostics(
            n_chains * n_draws,
            (
                f"mean-field ADVI ({advi_info['iterations']:,} iterations, {stop}): independent "
                "normals on the unconstrained parameters; posterior sds are typically too small "
                "and means can be off by several sds",
                "R-hat, ESS, divergences and BFMI do not apply; refit by NUTS for inference",
            ),
            notes=built.notes,
        )
    residuals = _store_residuals(idata, keep_residuals)
    if residuals is not None:
        say(
            f"residuals: {RESIDUAL} "
            + (
                f"kept, {residuals['draws_per_chain']} of {residuals['of_draws_per_chain']} draws "
                "per chain as float32"
                if residuals["stored"]
                else "not stored (effects integrate them; keep_residuals=True keeps them)"
            )
        )
    ds = data.dataset
    manifest = {
        "format_version": FORMAT_VERSION,
        "created": now(),
        "method": method,
        "approximate": method == "advi",
        "spec": spec.to_dict(),
        "data": {
            "hash": ds.attrs["data_hash"],
            "n_rows": int(ds.attrs["n_rows"]),
            "n_persons": int(ds.attrs["n_persons"]),
            "dropped_rows": int(ds.attrs.get("dropped_rows", 0)),
            "waves": list(design.waves),
            "groups": {g.name: len(g.labels) for g in design.groups},
            "warnings": list(data.validated.warnings),
        },
        "settings": settings,
        "parameterisation": built.parameterisation,
        # whether capability changes between waves in this fit (measurement.change resolved)
        "capability_change": design.capability_time is not None,
        "timings": {
            "build_seconds": round(t_build, 2),
            **{k: round(v, 2) for k, v in timings.items()},
        },
        "versions": versions(),
        "weighted_likelihood": spec.weighted,
        "notes": list(built.notes),
        "residuals": residuals,
        "diagnostics": diag.to_dict(),
    }
    if advi_info is not None:
        manifest["advi"] = advi_info
    else:
        manifest["precision"] = sampled_in
    result = Fit(idata, spec, json.loads(json.dumps(manifest, default=_plain)))
    result._built.update({"design": design, ("model", False): built})  # shared, not rebuilt
    if log_likelihood:
        t0 = time.perf_counter()
        add_arviz_groups(result)
        say(
            f"log_likelihood and posterior_predictive {time.perf_counter() - t0:.1f} s "
            "(for az.loo and az.plot_ppc)"
        )
    say(f"fit {spec.name!r} done in {time.perf_counter() - t_start:.1f} s")
    if verbose:
        print(diag.text(), flush=True)
    return result


def _store_residuals(idata: xr.DataTree, keep: bool | int) -> dict[str, Any] | None:
    """Drop the per-person residual draws from the posterior; with ``keep``, store them,
    thinned to at most ``RESIDUAL_DRAWS`` (or ``keep``) evenly spaced draws per chain, as
    float32 in the group ``RESIDUAL_GROUP``. Returns what was done (None: no such draws)."""
    post = idata["posterior"].to_dataset()
    if RESIDUAL not in post:
        return None
    per_chain = int(post.sizes["draw"])
    info: dict[str, Any] = {"variable": RESIDUAL, "stored": False}
    limit = RESIDUAL_DRAWS if keep is True else int(keep)
    if limit > 0:
        index = np.unique(
            np.linspace(0, per_chain - 1, min(limit, per_chain)).round().astype(np.int64)
        )
        kept = post[RESIDUAL].isel(draw=index).astype(np.float32)
        idata[RESIDUAL_GROUP] = xr.DataTree(kept.to_dataset())
        info.update(
            stored=True,
            group=RESIDUAL_GROUP,
            draws_per_chain=int(index.size),
            of_draws_per_chain=per_chain,
            dtype="float32",
        )
    idata["posterior"] = xr.DataTree(post.drop_vars(RESIDUAL))
    return info


def _plain(v: Any) -> Any:
    if hasattr(v, "item"):
        return v.item()
    if isinstance(v, tuple):
        return list(v)
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")
