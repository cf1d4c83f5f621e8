"""Group-level predictors (issue 13.4): a group's effects depend on declared covariates of its
levels (e.g. a region's labour market), as autoMrP/brms users write them."""

from __future__ import annotations

import numpy as np
import pytest

from capmodel.data import load_data
from capmodel.data.schema import SchemaError
from capmodel.model import DesignError, build_design, build_model
from capmodel.spec import load_spec, spec_from_dict
from capmodel.spec.errors import SpecError


@pytest.fixture(scope="module")
def regional():
    from capmodel.simulate import simulate

    return simulate("cep2021_regional", seed=4, n_population=40_000)


def _spec(sim, table: dict | None = None, use=("labour_market",)):
    """models/capability.toml with the region's true labour-market effect as a predictor."""
    raw = load_spec("models/capability.toml").to_dict()
    table = table or {"labour_market": sim.params["labour_market"]["region_effect"]}
    for g in raw["schema"]["groups"]:
        if g["column"] == "region":
            g["predictors"] = table
    raw["groups"]["predictors"] = {"region": list(use)}
    return spec_from_dict(raw)


def test_the_effects_are_the_predictors_line_plus_a_deviation(regional):
    spec = _spec(regional)
    design = build_design(spec, load_data(regional.survey, spec.schema))
    region = next(g for g in design.groups if g.name == "region")
    assert region.predictor_names == ("labour_market",)
    w = region.predictors[:, 0]
    assert abs(w.std() - 1.0) < 1e-12
    for p in np.unique(region.parent_of_level):  # centred within each operator
        assert abs(w[region.parent_of_level == p].sum()) < 1e-12
    model = build_model(spec, design).model
    names = {v.name for v in model.free_RVs}
    assert {"region_predictor_effect", "realisation_region_predictor_effect"} <= names
    point = model.initial_point(random_seed=3)
    rng = np.random.default_rng(0)
    point = {k: v + rng.normal(0, 0.5, np.shape(v)) for k, v in point.items()}
    out = model.compile_fn(
        model.replace_rvs_by_values(
            [
                model["region_effect"],
                model["region_deviation"],
                model["region_predictor_effect"],
                model["realisation_region_effect"],
                model["realisation_region_deviation"],
                model["realisation_region_predictor_effect"],
            ]
        ),
        inputs=model.value_vars,
        on_unused_input="ignore",
    )(point)
    eff, dev, coef, r_eff, r_dev, r_coef = (np.asarray(x) for x in out)
    np.testing.assert_allclose(eff, dev + region.predictors @ coef, atol=1e-12)
    np.testing.assert_allclose(r_eff, r_dev + r_coef @ region.predictors.T, atol=1e-12)
    for p in np.unique(region.parent_of_level):  # still zero-sum within each operator
        assert abs(eff[region.parent_of_level == p].sum()) < 1e-9


def test_predictor_errors_name_the_group_the_predictor_and_the_levels(regional):
    table = dict(regional.params["labour_market"]["region_effect"])
    missing = next(iter(table))
    del table[missing]
    spec = _spec(regional, {"labour_market": table})
    with pytest.raises(DesignError, match=rf"predictor 'labour_market'.*\['{missing}'\]"):
        build_design(spec, load_data(regional.survey, spec.schema))
    with pytest.raises(SpecError, match=r"groups.predictors.region: \['unemployment'\] not among"):
        _spec(regional, use=("unemployment",))
    flat = {lv: 1.0 for lv in regional.params["labour_market"]["region_effect"]}
    spec = _spec(regional, {"labour_market": flat})
    with pytest.raises(DesignError, match="same value at every level within each parent"):
        build_design(spec, load_data(regional.survey, spec.schema))
    with pytest.raises(SchemaError, match="expected a finite number"):
        _spec(regional, {"labour_market": {"Bretagne": "high"}})


@pytest.mark.slow
def test_a_regional_predictor_is_found_in_the_realisations(regional):
    """cep2021_regional adds the region's labour-market effect to every realisation's region
    effect (coefficient 1 on the raw effect): with it as a predictor, its coefficients on the
    realisations are positive and the fit still covers the other parameters."""
    import capmodel

    spec = _spec(regional)
    f = capmodel.fit(
        spec, regional.survey, draws=200, tune=250, seed=1, progressbar=False, verbose=False
    )
    coef = f.posterior["realisation_region_predictor_effect"].mean(("chain", "draw"))
    assert (coef.values > 0).sum() >= 5, coef.values
    again = spec_from_dict(f.spec.to_dict())  # as a saved fit's manifest reads it back
    assert again.predictors_of("region") == ("labour_market",)
    assert again.schema.groups == f.spec.schema.groups
