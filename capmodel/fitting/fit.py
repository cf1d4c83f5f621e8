"""`capmodel.fit`: spec + data -> NUTS -> a :class:`Fit` with its provenance and diagnostics."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from capmodel.data import Data, load_data
from capmodel.fitting.diagnostics import Diagnostics, diagnose
from capmodel.fitting.provenance import now, versions
from capmodel.fitting.sample import run_nuts
from capmodel.model import build_design, build_model
from capmodel.spec import Spec, load_spec

FORMAT_VERSION = 1


@dataclass
class Fit:
    """A fitted model: the posterior (``idata``, an ``xarray.DataTree``), the spec, and the
    manifest (data hash, seed, versions, sampler settings, timings, diagnostics).

    ``idata`` groups: ``posterior``, ``sample_stats``, ``observed_data``, and ``data`` (the
    encoded data the model was fitted to, so a saved fit is self-contained).
    """

    idata: xr.DataTree
    spec: Spec
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def diagnostics(self) -> Diagnostics:
        return Diagnostics(**{k: (tuple(v) if isinstance(v, list) else v)
                              for k, v in self.manifest["diagnostics"].items()})

    @property
    def posterior(self) -> xr.Dataset:
        return self.idata["posterior"].dataset

    @property
    def data(self) -> xr.Dataset:
        """The encoded data the model was fitted to."""
        return self.idata["data"].to_dataset()

    def summary(self, var_names: list[str] | None = None, ci_prob: float = 0.9) -> pd.DataFrame:
        """Posterior summary: mean, sd, equal-tailed ``ci_prob`` interval, R-hat, ESS."""
        import arviz as az

        return az.summary(self.idata, var_names=var_names, ci_prob=ci_prob, ci_kind="eti")

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write netCDF + JSON manifest under ``path`` atomically (capmodel.fitting.store)."""
        from capmodel.fitting.store import save_fit

        return save_fit(self, Path(path), overwrite=overwrite)

    def report(self, path: str | Path, **kw: Any) -> Path:
        """Write the HTML posterior report (capmodel.report, docs/report.md) to ``path``: a
        ``.html`` file, or a directory that receives ``report.html``. Returns the file."""
        from capmodel.report import report

        return report(self, path, **kw)

    def __repr__(self) -> str:
        m = self.manifest
        return (f"<Fit {self.spec.name!r}: {m['data']['n_persons']} persons, "
                f"{m['settings']['chains']}x{m['settings']['draws']} draws, "
                f"{m['diagnostics']['verdict']}>")


def fit(spec: Spec | str | Path, data: Data | pd.DataFrame | str | Path, *,
        draws: int | None = None, tune: int | None = None, chains: int | None = None,
        seed: int | None = None, sampler: str | None = None, target_accept: float | None = None,
        adaptation: str | None = None, progressbar: bool = True, verbose: bool = True) -> Fit:
    """Fit ``spec`` to ``data`` by NUTS.

    ``spec``: a :class:`Spec` or a TOML path. ``data``: validated :class:`Data`, a DataFrame or
    a CSV/Parquet path (validated against the spec's schema). Settings default to the spec's
    ``[sampling]`` table; ``sampler`` is 'nutpie' (default), 'pymc' or 'numpyro';
    ``adaptation`` is nutpie's mass matrix, 'diag' or 'low_rank'. Prints the
    convergence summary at the end unless ``verbose=False``.
    """
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    if not isinstance(data, Data):
        data = load_data(data, spec.schema)
    s = spec.sampling
    settings = {
        "draws": draws or s.draws, "tune": tune or s.tune, "chains": chains or s.chains,
        "seed": s.seed if seed is None else int(seed), "sampler": sampler or s.sampler,
        "target_accept": target_accept or s.target_accept, "max_treedepth": s.max_treedepth,
        "adaptation": adaptation or s.adaptation,
    }
    t0 = time.perf_counter()
    design = build_design(spec, data)
    built = build_model(spec, design)
    t_build = time.perf_counter() - t0
    key = hashlib.sha256((spec.to_json() + data.dataset.attrs["data_hash"]).encode()).hexdigest()
    run = run_nuts(built.model, progressbar=progressbar, cache_key=key, **settings)
    idata = run.idata
    if "constant_data" in idata.children:  # the design arrays; the "data" group holds the data
        del idata["constant_data"]
    if "warmup_posterior" in idata.children:  # tuning draws: not kept, as in PyMC's default
        del idata["warmup_posterior"]  # (a third of the file with person-level residuals)
    for group in ("posterior", "sample_stats", "observed_data"):
        idata[group].attrs.pop("created_at", None)
    idata["data"] = xr.DataTree(data.dataset)
    diag = diagnose(idata, notes=built.notes, max_treedepth=settings["max_treedepth"])
    ds = data.dataset
    manifest = {
        "format_version": FORMAT_VERSION,
        "created": now(),
        "spec": spec.to_dict(),
        "data": {
            "hash": ds.attrs["data_hash"], "n_rows": int(ds.attrs["n_rows"]),
            "n_persons": int(ds.attrs["n_persons"]),
            "dropped_rows": int(ds.attrs.get("dropped_rows", 0)),
            "waves": list(design.waves),
            "groups": {g.name: len(g.labels) for g in design.groups},
            "warnings": list(data.validated.warnings),
        },
        "settings": settings,
        "parameterisation": built.parameterisation,
        "timings": {"build_seconds": round(t_build, 2),
                    "compile_seconds": round(run.compile_seconds, 2),
                    "sampling_seconds": round(run.sampling_seconds, 2)},
        "versions": versions(),
        "weighted_likelihood": spec.weighted,
        "notes": list(built.notes),
        "diagnostics": diag.to_dict(),
    }
    result = Fit(idata, spec, json.loads(json.dumps(manifest, default=_plain)))
    if verbose:
        t = manifest["timings"]
        print(f"fit {spec.name!r}: build {t['build_seconds']:.1f} s, compile "
              f"{t['compile_seconds']:.1f} s, sampling {t['sampling_seconds']:.1f} s")
        print(diag.text())
    return result


def _plain(v: Any) -> Any:
    if hasattr(v, "item"):
        return v.item()
    if isinstance(v, tuple):
        return list(v)
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")

