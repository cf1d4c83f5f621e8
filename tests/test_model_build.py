"""Design and model structure (no sampling): names, dims, missing terms, person-level checks."""

import numpy as np
import pytest

from capmodel.data import load_data
from capmodel.data.schema import SchemaError
from capmodel.model import DesignError, build_design, build_model
from capmodel.model.groups import (
    CENTRED_MIN_INFORMATION,
    choose_parameterisation,
    rare_side_per_level,
)
from capmodel.simulate import simulate
from capmodel.spec import load_spec, spec_from_dict


@pytest.fixture(scope="module")
def sim():
    return simulate("cep2021", seed=31, n_population=12_000, waves=(1, 6, 18))


@pytest.fixture(scope="module")
def spec():
    return load_spec("models/capability.toml")


def test_parameters_are_named_after_their_roles(sim, spec):
    built = build_model(spec, build_design(spec, load_data(sim.survey, spec.schema)))
    m = built.model
    names = set(m.named_vars)
    for name in (
        "support_effect",
        "conversion",
        "capability_covariate",
        "loading",
        "indicator_intercept",
        "cutpoints__cap_orientation",
        "realisation_intercept",
        "capability_loading",
        "direct_effect",
        "realisation_covariate",
        "time_effect",
        "operator_effect",
        "region_effect",
        "operator_sd",
        "region_sd",
        "realisation_operator_effect",
        "realisation_region_effect",
        "capability_residual",
    ):
        assert name in names, name
    assert list(m.coords["support"]) == ["information", "reflection", "referral", "confidence"]
    assert "reflection:qualification[bac2]" in m.coords["conversion_term"]
    assert "csp[cadre]" in m.coords["capability_term"]
    assert "csp[employe]" not in m.coords["capability_term"]  # the reference level
    assert "Île-de-France" in m.coords["region"]
    assert m.named_vars_to_dims["direct_effect"] == ("realisation", "direct_support")
    assert m.named_vars_to_dims["region_effect"] == ("region",)


def test_nested_effects_sum_to_zero_within_parent(sim, spec):
    import pymc as pm

    design = build_design(spec, load_data(sim.survey, spec.schema))
    built = build_model(spec, design)
    region = next(g for g in design.groups if g.name == "region")
    draws = pm.draw(built.model["region_effect"], 3, random_seed=1)
    for p in np.unique(region.parent_of_level):
        np.testing.assert_allclose(draws[:, region.parent_of_level == p].sum(axis=1), 0, atol=1e-9)


def test_time_effect_only_with_several_waves(spec):
    one = simulate("cep2021", seed=32, n_population=8000)
    design = build_design(spec, load_data(one.survey, spec.schema))
    assert design.log_time is None and any("single wave" in n for n in design.notes)
    raw = spec.to_dict()
    raw["realisations"]["time"] = True
    forced = spec_from_dict(raw)
    with pytest.raises(DesignError, match="effect of time since exit is not identified"):
        build_design(forced, load_data(one.survey, forced.schema))


def test_missing_responses_drop_the_term_not_the_person(sim, spec):
    df = sim.survey.copy()
    pid = df["person_id"].iloc[0]
    rows = df.index[df["person_id"] == pid]
    for col in ("cap_orientation", "cap_confidence", "cap_options", "cap_decision", "training"):
        df.loc[rows, col] = None
    data = load_data(df, spec.schema)
    design = build_design(spec, data)
    assert str(pid) in design.person_labels
    p = design.person_labels.index(str(pid))
    person_rows = np.flatnonzero(design.person_of_row == p)
    for ind in design.indicators:
        assert not np.isin(person_rows, ind.rows).any()
    r_rows, r_cols, _ = design.realisation_obs()
    mine = np.isin(r_rows, person_rows)
    assert mine.any() and 0 not in set(r_cols[mine])  # other realisations of that person stay
    built = build_model(spec, design)
    assert built.model.coords["person"][p] == str(pid)


def test_covariate_changing_between_waves_is_refused(sim, spec):
    df = sim.survey.copy()
    pid = df["person_id"].iloc[0]
    first = df.index[(df["person_id"] == pid)][0]
    df.loc[first, "information"] = 1 - df.loc[first, "information"]
    with pytest.raises(DesignError, match="'supports' changes between waves of the same person"):
        build_design(spec, load_data(df, spec.schema))


@pytest.mark.slow
def test_weighted_pseudo_likelihood_is_flagged(sim, spec):
    raw = spec.to_dict()
    raw["likelihood"] = {"weighted": True}
    weighted = spec_from_dict(raw)
    design = build_design(weighted, load_data(sim.survey, weighted.schema))
    built = build_model(weighted, design)
    assert any("NOT calibrated" in n for n in built.notes)
    # the weights change the log-density (its equality with the generative model's weighted
    # terms is tests/test_model_equivalence.py)
    plain = build_model(spec, build_design(spec, load_data(sim.survey, spec.schema)))
    point = plain.model.initial_point()
    lp_w = built.model.compile_logp()(point)
    lp = plain.model.compile_logp()(point)
    assert np.isfinite(lp_w) and abs(lp_w - lp) > 1.0
    assert (
        "survey_weight_adjustment"
        in build_model(weighted, design, generative=True).model.named_vars
    )


def test_parameterisation_rule_and_override(sim, spec):
    big = CENTRED_MIN_INFORMATION + 500
    assert choose_parameterisation(np.array([CENTRED_MIN_INFORMATION, big])) == "centred"
    assert choose_parameterisation(np.array([CENTRED_MIN_INFORMATION - 1, big])) == "noncentred"
    assert choose_parameterisation(np.array([3, 4]), "centred") == "centred"
    raw = spec.to_dict()
    raw["groups"]["parameterisation"] = {"operator": "centred", "region": "noncentred"}
    forced = spec_from_dict(raw)
    built = build_model(forced, build_design(forced, load_data(sim.survey, forced.schema)))
    assert built.parameterisation == {
        "operator": "centred",
        "region": "noncentred",
        "realisation_operator": "centred",
        "realisation_region": "noncentred",
    }
    assert "operator_effect" in [v.name for v in built.model.free_RVs]
    assert "region_effect_z__within0" in [v.name for v in built.model.free_RVs]
    # the realisation equations' effects alone
    raw["groups"]["parameterisation"] = {"realisation_operator": "noncentred"}
    forced = spec_from_dict(raw)
    built = build_model(forced, build_design(forced, load_data(sim.survey, forced.schema)))
    assert built.parameterisation["realisation_operator"] == "noncentred"
    assert "realisation_operator_effect_z" in [v.name for v in built.model.free_RVs]
    raw["groups"]["parameterisation"] = {"realisation_sector": "noncentred"}
    with pytest.raises(SchemaError, match="realisation_sector"):
        spec_from_dict(raw)


def test_rare_side_per_level_counts_the_scarcer_outcome():
    # level 0: outcome A 3 events of 5, outcome B 1 event of 5 -> min(1, 4) = 1
    # level 1: A 0 of 2 observed (one missing), B 2 of 3 -> min(0, 2) = 0
    level = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    y = np.array([[1, 0], [1, 0], [1, 0], [0, 1], [0, 0], [0, 1], [0, 1], [-1, 0]])
    assert rare_side_per_level(level, 2, y).tolist() == [1, 0]
    assert rare_side_per_level(level, 2, y[:, :0]).tolist() == [0, 0]


def test_auto_rule_decides_each_equation_from_its_own_information(sim, spec):
    """Operators: every type has hundreds of persons (capability: centred), but a rare
    realisation leaves some type with few events (realisation equations: non-centred)."""
    d = build_design(spec, load_data(sim.survey, spec.schema))
    built = build_model(spec, d)
    op = next(g for g in d.groups if g.name == "operator")
    events = rare_side_per_level(op.of_row, len(op.labels), d.realisation_y)
    assert built.parameterisation["operator"] == (
        "centred" if op.persons_per_level.min() >= CENTRED_MIN_INFORMATION else "noncentred"
    )
    assert built.parameterisation["realisation_operator"] == (
        "centred" if events.min() >= CENTRED_MIN_INFORMATION else "noncentred"
    )


def test_model_without_latent_capability(sim):
    spec = load_spec("models/realisations.toml")
    built = build_model(spec, build_design(spec, load_data(sim.survey, spec.schema)))
    names = set(built.model.named_vars)
    assert "capability_residual" not in names and "capability_loading" not in names
    assert {"direct_effect", "realisation_covariate", "realisation_operator_effect"} <= names


def test_prior_check_cli_reports_every_response_level(sim, tmp_path, capsys):
    from capmodel.cli import main

    data = tmp_path / "survey.parquet"
    sim.survey.to_parquet(data)
    assert (
        main(["prior-check", "models/capability.toml", "--data", str(data), "--draws", "50"]) == 0
    )
    out = capsys.readouterr().out
    for words in ("training", "cap_orientation", "a_little", "prior_q05", "observed"):
        assert words in out


def test_prior_check_of_an_integrated_residual_spec(sim, spec):
    """The integrated model observes nothing; the prior check simulates its generative twin."""
    import dataclasses

    from capmodel.fitting.prior_check import prior_check

    table = prior_check(
        dataclasses.replace(spec, residual="integrated"),
        load_data(sim.survey, spec.schema),
        draws=30,
    )
    assert {"training", "cap_orientation", "cap_options"} <= set(table["response"])
    assert set(table.loc[table["response"] == "training", "level"]) == {"yes"}
    assert ((table["prior_q05"] <= table["prior_q95"]) & table["observed"].between(0, 1)).all()


@pytest.mark.slow
def test_integrated_residual_model_matches_the_generative_one(sim, spec):
    """Same parameters; the integrated model has no residual and no observed variables, and its
    log-likelihood equals the generative model's with the residual integrated numerically (on a
    three-wave panel whose capability changes between waves)."""
    import dataclasses

    import pytensor

    design = build_design(spec, load_data(sim.survey, spec.schema))
    generative = build_model(spec, design, generative=True)
    integrated = build_model(
        dataclasses.replace(spec, residual="integrated", quadrature_nodes=41),
        design,
        pointwise=True,
    )
    assert integrated.integrated and not generative.integrated
    assert integrated.observed == ()
    free_g = {v.name for v in generative.model.free_RVs}
    free_i = {v.name for v in integrated.model.free_RVs}
    assert free_g - free_i == {"capability_residual"} and free_i <= free_g
    m = integrated.model
    point = m.initial_point()
    # capability that changes between waves (on for this panel): a growth that differs by person
    assert design.capability_time is not None
    point["capability_growth_intercept_c"] = np.array(0.3)
    point["capability_growth_support"] = np.array([0.2, -0.3, 0.1, 0.4])
    out = m.replace_rvs_by_values([m["person_loglik"]])[0]
    fn = pytensor.function(m.value_vars, out, on_unused_input="ignore")
    lp = fn(*[point[v.name] for v in m.value_vars])
    assert lp.shape == (len(design.person_labels),) and np.isfinite(lp).all()
    # brute force: every observed term of the generative model, summed per person, on a grid
    # of residual values, integrated against N(0, 1) by the trapezoid rule
    g = generative.model
    terms = g.logp(vars=[g[name] for name in generative.observed], sum=False)
    term_fn = pytensor.function(g.value_vars, terms, on_unused_input="ignore")
    rows = {
        "y_realisation": design.realisation_obs()[0],
        "y_binary_indicator": design.indicator_obs("binary")[0],
    }
    for n in design.ordinal_level_counts():
        rows[f"y_ordinal{n}_indicator"] = design.indicator_obs("ordinal", n)[0]
    n_persons = len(design.person_labels)
    grid = np.linspace(-8, 8, 401)
    ll = np.zeros((grid.size, n_persons))
    gpoint = {**g.initial_point(), **point}
    for k, e in enumerate(grid):
        gpoint["capability_residual"] = np.full(n_persons, e)
        values = term_fn(*[gpoint[v.name] for v in g.value_vars])
        for name, v in zip(generative.observed, values, strict=True):
            ll[k] += np.bincount(design.person_of_row[rows[name]], weights=v, minlength=n_persons)
    log_phi = -0.5 * grid**2 - 0.5 * np.log(2 * np.pi)
    top = (ll + log_phi[:, None]).max(axis=0)
    exact = top + np.log(np.trapezoid(np.exp(ll + log_phi[:, None] - top), grid, axis=0))
    # panel persons: the event between two waves, log(1 - exp(time_effect (log a - log b)))
    lower, upper, col = design.realisation_intervals
    assert lower.size and design.log_time is not None
    tau = np.exp(point["time_effect_log__"])[col]
    between = np.log(-np.expm1(tau * (design.log_time[lower] - design.log_time[upper])))
    exact += np.bincount(design.person_of_row[upper], weights=between, minlength=n_persons)
    np.testing.assert_allclose(lp, exact, atol=1e-4)
