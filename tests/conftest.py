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
