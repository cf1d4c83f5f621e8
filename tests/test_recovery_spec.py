"""Parameter recovery for models/realisations.toml (no latent capability): the truth is one
prior draw of the spec's own model (capmodel.validation.from_spec), on the small cep2021 survey's
supports, covariates and groups."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def realisations_recovery(sim):
    from capmodel.data import load_data
    from capmodel.fitting import fit
    from capmodel.spec import load_spec
    from capmodel.validation.from_spec import simulate_from_spec

    spec = load_spec(ROOT / "models" / "realisations.toml")
    data = load_data(sim.survey, spec.schema)
    s = simulate_from_spec(spec, data, seed=4)
    # PyMC's NUTS (C backend): compiles in seconds where nutpie's numba takes minutes
    f = fit(
        spec, s.data, draws=300, tune=300, seed=2, sampler="pymc", progressbar=False, verbose=False
    )
    return data, s, f


def test_simulated_responses_keep_the_data_layout(realisations_recovery):
    data, s, _ = realisations_recovery
    old, new = data.dataset, s.data.dataset
    assert set(old.data_vars) == set(new.data_vars)
    y0, y1 = old["realisations"].values, new["realisations"].values
    assert ((y0 < 0) == (y1 < 0)).all()  # missing stay missing, observed stay observed
    assert set(np.unique(y1[y1 >= 0])) == {0, 1} and (y0 != y1).any()
    for v in ("supports", "person_code", "group__operator", "covariate__sex"):
        assert (old[v].values == new[v].values).all(), v
    assert new.attrs["data_hash"] != old.attrs["data_hash"]
    assert "realisation_intercept" in s.truth and "direct_effect" in s.truth


def test_realisations_model_recovers_its_parameters(realisations_recovery):
    from capmodel.validation.recovery import recovery_table

    _, s, f = realisations_recovery
    assert f.diagnostics.divergences == 0 and f.diagnostics.max_rhat < 1.05
    truth = s.truth_for(f.posterior)
    assert {
        "realisation_intercept",
        "direct_effect",
        "realisation_covariate",
        "realisation_operator_sd",
        "realisation_region_effect",
    } <= set(truth)
    t = recovery_table(f.posterior, truth)
    assert len(t) > 150
    assert t["covered"].mean() >= 0.8, t.groupby("block")["covered"].mean()
    for block, cov in t.groupby("block")["covered"].mean().items():
        assert cov >= 0.7, (block, t[t["block"] == block])
