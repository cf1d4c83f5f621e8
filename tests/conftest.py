"""Shared fixtures: a small valid CEP-like table and its schema; one small simulated survey and
one small fit of models/capability.toml shared by the whole session (a model's first numba
compile costs 1-2 minutes, so every test that needs a fit uses this one, with or without its
per-person residual draws)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from capmodel.data import Covariate, Extra, Group, Indicator, Schema

ORIENTATION = ("not_at_all", "a_little", "rather", "completely")
QUALIFICATION = ("none", "cap_bep", "bac", "bac+2", "bac+3_plus")
REGION_OF = {"r1": "op_a", "r2": "op_a", "r3": "op_b", "r4": "op_b", "r5": "op_c", "r6": "op_d"}


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(20240601)
    n = 40
    i = np.arange(n)
    # 16 people answer at 1 month, again at 6 months, and 8 of them at 18 months.
    wave = np.select([i < 16, i < 32], [1, 6], 18)
    region = [f"r{k % 6 + 1}" for k in i]
    return pd.DataFrame(
        {
            "person_id": [f"P{k % 16:02d}" for k in i],
            "months_since_exit": wave,
            "weight": rng.uniform(0.5, 2.0, n).round(6),
            "operator": [REGION_OF[r] for r in region],
            "region": region,
            "information": rng.integers(0, 2, n),
            "reflection": rng.integers(0, 2, n),
            "sex": rng.choice(["F", "M"], n),
            "qualification": [QUALIFICATION[k % 5] for k in i],
            "autonomy": rng.normal(0.0, 1.0, n),
            "cap_orientation": [ORIENTATION[k % 4] for k in (i * 7) // 3],
            "cap_options": rng.integers(0, 2, n),
            "training": rng.integers(0, 2, n),
            "occupation_change": rng.integers(0, 2, n),
            "usefulness": [None if k % 9 == 0 else ("low", "medium", "high")[k % 3] for k in i],
        }
    )


def _schema() -> Schema:
    return Schema(
        id="person_id",
        wave="months_since_exit",
        waves=(1, 6, 18),
        weight="weight",
        groups=(
            Group("operator", levels=("op_a", "op_b", "op_c", "op_d")),
            Group("region", within="operator"),
        ),
        supports=("information", "reflection"),
        factors=(Covariate("sex"), Covariate("qualification", levels=QUALIFICATION)),
        confounders=(Covariate("autonomy", kind="numeric"),),
        indicators=(
            Indicator("cap_orientation", kind="ordinal", levels=ORIENTATION),
            Indicator("cap_options"),
        ),
        realisations=("training", "occupation_change"),
        extras=(Extra("usefulness", kind="ordinal", levels=("low", "medium", "high")),),
    )


@pytest.fixture
def frame() -> pd.DataFrame:
    """A valid 40-row table (a new copy for each test)."""
    return _frame()


@pytest.fixture
def schema() -> Schema:
    """The schema matching :func:`frame`."""
    return _schema()


SMALL_FIT_SETTINGS = {
    "draws": 500,
    "tune": 500,
    "chains": 2,
    "progressbar": False,
    "verbose": False,
}
# the tests that fit the session's survey only to check what a fit records (not its
# convergence) share these settings, so that they share one compiled sampler (its program
# depends on the numbers of draws and tuning steps)
QUICK_FIT_SETTINGS = {
    "draws": 20,
    "tune": 20,
    "chains": 2,
    "progressbar": False,
    "verbose": False,
}


@pytest.fixture(scope="session")
def sim():
    from capmodel.simulate import simulate

    return simulate("cep2021", seed=21, n_population=40_000)


@pytest.fixture(scope="session")
def spec():
    from capmodel.spec import load_spec

    return load_spec("models/capability.toml")


@pytest.fixture(scope="session")
def small_fit_residuals(sim, spec):
    """The session's small fit with every draw of its per-person residuals kept (in the group
    ``residual_draws``): for the tests that compare against the residual draws."""
    import capmodel

    return capmodel.fit(
        spec, sim.survey, seed=5, keep_residuals=SMALL_FIT_SETTINGS["draws"], **SMALL_FIT_SETTINGS
    )


@pytest.fixture(scope="session")
def small_fit(small_fit_residuals):
    """The session's small fit as ``capmodel.fit`` keeps it by default: no per-person residual
    draws (the same sampling run as ``small_fit_residuals``)."""
    return small_fit_residuals.without_residual_draws()


@pytest.fixture(scope="session")
def saved_small_fit(small_fit, tmp_path_factory):
    """The session's small fit saved under a temporary ``fits/small`` directory."""
    return small_fit.save(tmp_path_factory.mktemp("fits") / "small")


# fixtures that run NUTS: a test that uses one is marked ``slow`` (``make test-fast`` skips
# them); tests that fit by themselves carry ``@pytest.mark.slow``
NUTS_FIXTURES = {
    "small_fit",
    "small_fit_residuals",
    "saved_small_fit",
    "regional_mrp",
    "realisations_recovery",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if NUTS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def _fake_fit(out):
    """A saved fit of models/realisations.toml whose 'posterior' is 2 chains x 4 draws near the
    model's initial point (no sampling: a second or two once PyMC is imported), its verdict
    WARN; with ``population.parquet`` and ``survey.parquet`` of its simulated data beside it."""
    import json

    import xarray as xr

    from capmodel.data import load_data
    from capmodel.fitting.diagnostics import Diagnostics
    from capmodel.fitting.fit import Fit
    from capmodel.fitting.store import FORMAT_VERSION
    from capmodel.model import build_design, build_model, observed_dataset
    from capmodel.simulate import simulate
    from capmodel.spec import load_spec

    sim = simulate("cep2021", seed=3, n_population=5000)
    spec = load_spec("models/realisations.toml")
    data = load_data(sim.survey, spec.schema)
    design = build_design(spec, data)
    model = build_model(spec, design).model
    outs = model.free_RVs + model.deterministics
    fn = model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore", point_fn=False)
    point = model.initial_point()
    rng = np.random.default_rng(3)
    draws = [
        fn(*[point[v.name] + rng.normal(0, 0.2, np.shape(point[v.name])) for v in model.value_vars])
        for _ in range(8)
    ]

    def dims(name: str, ndim: int) -> tuple:
        named = tuple(model.named_vars_to_dims.get(name, ()))
        return named if len(named) == ndim else tuple(f"{name}_dim_{i}" for i in range(ndim))

    post = {}
    for i, rv in enumerate(outs):
        arr = np.stack([d[i] for d in draws]).reshape(2, 4, *np.shape(draws[0][i]))
        post[rv.name] = (("chain", "draw", *dims(rv.name, arr.ndim - 2)), arr)
    coords = {k: list(v) for k, v in model.coords.items() if v is not None}
    posterior = xr.Dataset(post).assign_coords(
        {k: v for k, v in coords.items() if k in {d for _, (ds, _) in post.items() for d in ds}}
    )
    diag = Diagnostics(
        "warn", ("R-hat 1.02 > 1.01 (x)",), 1.02, 500.0, 500.0, ("x",), ("x",), 0, 8, 1.0, 0.0
    )
    ds = data.dataset
    manifest = {
        "format_version": FORMAT_VERSION,
        "created": "2026-01-01T00:00:00+00:00",
        "method": "nuts",
        "approximate": False,
        "spec": spec.to_dict(),
        "data": {
            "hash": ds.attrs["data_hash"],
            "n_rows": int(ds.attrs["n_rows"]),
            "n_persons": int(ds.attrs["n_persons"]),
            "dropped_rows": 0,
            "waves": list(design.waves),
            "groups": {g.name: len(g.labels) for g in design.groups},
            "warnings": [],
        },
        "settings": {"chains": 2, "draws": 4, "seed": 1, "sampler": "none (test draws)"},
        "notes": [],
        "residuals": None,
        "diagnostics": json.loads(json.dumps(diag.to_dict())),
    }
    idata = xr.DataTree.from_dict(
        {"posterior": posterior, "observed_data": observed_dataset(spec, design), "data": ds}
    )
    Fit(idata, spec, manifest).save(out / "fit")
    sim.population.to_parquet(out / "population.parquet", index=False)
    sim.survey.to_parquet(out / "survey.parquet", index=False)
    return out / "fit"


@pytest.fixture(scope="session")
def fake_fit_dir(tmp_path_factory):
    """A saved fit with test draws (no NUTS; see :func:`_fake_fit`), verdict WARN; its
    directory's parent holds population.parquet and survey.parquet."""
    return _fake_fit(tmp_path_factory.mktemp("fake"))
