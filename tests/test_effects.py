"""Causal effects from a fit (capmodel.effects) against the model's own graph, exact algebraic
identities, and the simulator's true potential outcomes.

Every test reuses the session's ``small_fit`` (tests/conftest.py: 1,298 respondents, 2 chains x
500 draws, seed 5) and ``sim`` (its simulated data, with truth); nothing here fits a model.
"""

from __future__ import annotations

import dataclasses
import inspect
import json

import numpy as np
import pandas as pd
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.graph.replace import graph_replace

import capmodel.effects as fx
from capmodel.cli import main
from capmodel.effects.interventions import Intervention, parse_intervention
from capmodel.effects.params import Params, posterior_params, select_draws
from capmodel.effects.pathways import classify
from capmodel.effects.units import EffectsError, sample_units
from capmodel.model import build_design, build_model
from capmodel.model.evaluate import ModelFunctions
from capmodel.spec import load_spec
from capmodel.validation.truth_effects import (
    SampleTruth,
    population_cep_effect,
    population_margins,
    population_pathway_shares,
)

SUPPORTS = ("information", "reflection", "referral", "confidence")


@pytest.fixture(scope="module")
def em(small_fit):
    """300 of the small fit's draws (evenly thinned), the survey sample, own posterior residuals
    (the fit keeps no residual draws, as by default: each person's is integrated by quadrature)."""
    return fx.effect_model(small_fit, draws=300)


@pytest.fixture(scope="module")
def em_draws(small_fit_residuals):
    """The same 300 draws, each person's own residual taken from the kept residual draws."""
    return fx.effect_model(small_fit_residuals, draws=300)


@pytest.fixture(scope="module")
def truth(sim):
    return SampleTruth.of(sim)


@pytest.fixture(scope="module")
def totals(em):
    return fx.total_effects(em)


def _model_probabilities(spec, design, values: dict[str, np.ndarray]) -> np.ndarray:
    """P(y_realisation = 1) of every observed realisation entry, evaluated by the model's own
    PyMC graph with its free variables set to ``values``."""
    model = build_model(spec, design, generative=True).model
    p = model["y_realisation"].owner.inputs[-1]
    repl = {rv: pt.constant(np.asarray(values[rv.name], dtype=rv.dtype)) for rv in model.free_RVs}
    return pytensor.function([], graph_replace([p], repl, strict=False)[0], mode="FAST_COMPILE")()


def test_recomputed_probabilities_equal_the_models_own(small_fit_residuals, em):
    fit = small_fit_residuals
    rows, cols, _ = em.design.realisation_obs()
    for chain, draw in ((0, 17), (1, 250)):
        values = {v: fit.posterior[v].values[chain, draw] for v in fit.posterior.data_vars}
        values["capability_residual"] = (
            fit.residual_draws["capability_residual"].values[chain, draw].astype(np.float64)
        )
        expected = _model_probabilities(fit.spec, em.design, values)
        params = posterior_params(
            fit.posterior.isel(chain=[chain], draw=[draw]),
            em.functions.names,
            residuals=fit.residual_draws,
        )
        model = fx.EffectModel(em.spec, em.design, params, em.units, functions=em.functions)
        pred = next(model.predictors())
        mine, w = pred.node_probabilities(em.units.supports)
        assert mine.shape[-1] == 1 and np.all(w == 1.0)  # each person's own residual draw
        np.testing.assert_allclose(mine[0, rows, cols, 0], expected, rtol=0, atol=1e-8)


def test_no_latent_model_probabilities_equal_the_models_own(small_fit, em):
    """A realisations-only spec (direct effects only), its graph fed with draws built from the
    small fit's realisation parameters (the centred intercept computed to match)."""
    spec = load_spec("models/realisations.toml")
    design = build_design(spec, small_fit.data)
    functions = ModelFunctions(spec, design)
    assert "capability_loading" not in functions.names
    values = {v: small_fit.posterior[v].values[0, 5] for v in small_fit.posterior.data_vars}
    values["realisation_intercept_c"] = (
        values["realisation_intercept"]
        + values["direct_effect"] @ design.direct_x.mean(axis=0)
        + values["realisation_covariate"] @ design.realisation_x.mean(axis=0)
    )
    expected = _model_probabilities(spec, design, values)
    params = Params(
        np.zeros(1, dtype=int),
        np.full(1, 5),
        np.arange(1),
        {n: np.asarray(values[n])[None] for n in functions.names},
    )
    units = sample_units(spec, small_fit.data, design)
    model = fx.EffectModel(spec, design, params, units, functions=functions)
    pr, _ = next(model.predictors()).node_probabilities(model.units.supports)
    rows, cols, _ = design.realisation_obs()
    np.testing.assert_allclose(pr[0, rows, cols, 0], expected, rtol=0, atol=1e-8)
    te = fx.total_effects(model, supports=["referral"], cep=False)
    assert "no latent" in te.notes["residual"]
    with pytest.raises(EffectsError, match="needs a latent capability"):
        fx.mediation(model)


def test_te_equals_nde_plus_nie_exactly_and_matches_total_effects(em, totals):
    med = fx.mediation(em, by=["qualification"])
    assert med.draws.sizes["sample"] == totals.draws.sizes["sample"] == 300
    d = med.draws
    np.testing.assert_allclose(d.te.values, (d.nde + d.nie).values, rtol=0, atol=1e-14)
    all_rows = d.by_variable.values == "all"
    te_total = totals.draws["difference"].sel(contrast=list(d.contrast.values))
    np.testing.assert_allclose(
        d.te.values[:, :, all_rows], te_total.values[:, :, :1], rtol=0, atol=1e-12
    )
    prop = med.table[med.table["quantity"] == "proportion_mediated"]
    te = med.table[med.table["quantity"] == "te"]
    unclear = (te["lower"].to_numpy() <= 0) & (te["upper"].to_numpy() >= 0)
    assert np.isnan(prop["mean"].to_numpy()[unclear]).all()
    assert np.isfinite(prop["mean"].to_numpy()[~unclear]).all()


def test_a_support_with_no_effect_has_exactly_zero_effects(em):
    d = em.design
    p = em.params
    values = {k: v.copy() for k, v in p.values.items()}
    values["conversion"][:, np.array(d.supports)[d.conversion_support] == "reflection"] = 0.0
    values["support_effect"][:, d.supports.index("reflection")] = 0.0
    values["direct_effect"][:, :, d.direct_supports.index("reflection")] = 0.0
    null = fx.EffectModel(
        em.spec,
        d,
        dataclasses.replace(p, values=values).take(slice(0, 60)),
        em.units,
        functions=em.functions,
    )
    te = fx.total_effects(null, supports=["reflection"], cep=False, by=["qualification"])
    assert np.abs(te.draws["difference"].values).max() < 1e-15
    med = fx.mediation(null, supports=["reflection"], cep=False)
    assert np.abs(med.draws["nde"].values).max() < 1e-15
    assert np.abs(med.draws["nie"].values).max() < 1e-15
    conv_t = fx.conversion(null).table
    refl = conv_t[(conv_t["support"] == "reflection") & (conv_t["quantity"] == "effect")]
    assert np.abs(refl[["mean", "lower", "upper"]].to_numpy()).max() < 1e-15


def test_no_cep_equals_observed_when_nobody_had_support(em):
    units = dataclasses.replace(em.units, supports=np.zeros_like(em.units.supports))
    model = fx.EffectModel(em.spec, em.design, em.params.take(slice(0, 50)), units)
    pr = fx.predict(model, ["observed", "none"]).draws["predicted"]
    np.testing.assert_array_equal(
        pr.sel(intervention="observed").values, pr.sel(intervention="none").values
    )
    te = fx.total_effects(model, supports=[], cep=True)
    assert np.abs(te.draws["difference"].values).max() == 0.0


def test_integrated_fit_path_and_integrated_residual_agree_with_own_draws(em, em_draws, small_fit):
    """The same fit without its residual draws (as saved by default, or an integrated-residual
    fit): each person's residual is integrated over its own posterior by quadrature; the TE is
    the same up to Monte Carlo error. With e ~ N(0, 1) for everyone, still close (the sample
    is large)."""
    few = em_draws.params.take(slice(0, 300, 5))
    assert few.residual is not None and em.params.residual is None
    base = fx.EffectModel(em.spec, em.design, few, em.units)
    quad = fx.EffectModel(em.spec, em.design, dataclasses.replace(few, residual=None), em.units)
    integ = fx.EffectModel(
        em.spec,
        em.design,
        few,
        sample_units(em.spec, small_fit.data, em.design, residual="integrated"),
    )
    a, b, c = (fx.total_effects(m).draws["difference"].values[:, :, 0] for m in (base, quad, integ))
    assert "quadrature" in quad.residual_text and "Normal(0, 1)" in integ.residual_text
    assert np.abs(a.mean(0) - b.mean(0)).max() < 0.002
    assert np.abs(a.mean(0) - c.mean(0)).max() < 0.01
    observed = (em.units.realisation_y == 1).mean(axis=0)
    pred = fx.predict(integ, ["observed"]).draws["predicted"].values[:, 0, 0, :-1].mean(0)
    assert np.abs(pred - observed).max() < 0.01


def test_intervals_cover_the_true_sample_total_effects(totals, truth):
    """Nominal 90% intervals; 35 contrast x outcome cells (4 supports and the CEP, 6
    realisations and any). The seed-5 small fit covers 31 of 35 (with 300 or 600 draws); we
    require 75% (the cells are correlated, so a binomial band around 90% is wide) and the CEP's
    effect on any change."""
    t = totals.table
    t = t[(t["quantity"] == "difference") & (t["by_variable"] == "all")]
    covered = []
    for _, row in t.iterrows():
        pair = (
            ("observed", "none")
            if row["contrast"] == "cep"
            else ({row["contrast"]: 1}, {row["contrast"]: 0})
        )
        value = truth.total_effect(*pair)[row["outcome"]]
        covered.append(row["lower"] <= value <= row["upper"])
    assert len(covered) == 35
    assert np.mean(covered) >= 0.75, t.assign(covered=covered)
    cep_any = t[(t["contrast"] == "cep") & (t["outcome"] == "any_realisation")].index
    assert covered[list(t.index).index(cep_any[0])]


def test_mediation_intervals_cover_the_true_sample_values(em, truth):
    med = fx.mediation(
        fx.EffectModel(em.spec, em.design, em.params.take(slice(0, 300, 2)), em.units)
    ).table
    med = med[(med["by_variable"] == "all") & med["quantity"].isin(["nde", "nie"])]
    covered = []
    for _, row in med.iterrows():
        pair = (
            ("observed", "none")
            if row["contrast"] == "cep"
            else ({row["contrast"]: 1}, {row["contrast"]: 0})
        )
        value = truth.mediation(*pair)[row["outcome"]][row["quantity"]]
        covered.append(row["lower"] <= value <= row["upper"])
    assert np.mean(covered) >= 0.75, np.mean(covered)


def test_conversion_effects_contrasts_and_truth(em, truth, small_fit):
    t = fx.conversion(em, by=["qualification"]).table
    eff = t[(t["quantity"] == "effect") & (t["factor"] != "all")]
    values = [truth.conversion(r.support, r.factor, r.level) for r in eff.itertuples()]
    covered = (eff["lower"] <= values) & (values <= eff["upper"])
    assert covered.mean() >= 0.8, eff.assign(truth=values)
    # a contrast vs the reference level is exactly the conversion coefficient
    row = t[
        (t["quantity"] == "contrast_vs_reference")
        & (t["support"] == "reflection")
        & (t["level"] == "bac5plus")
    ].iloc[0]
    term = em.design.conversion_terms.index("reflection:qualification[bac5plus]")
    assert row["mean"] == pytest.approx(em.params["conversion"][:, term].mean(), abs=1e-12)
    # prob_best is a distribution over the levels of each factor
    best = eff.groupby(["support", "factor"])["prob_best"].sum()
    np.testing.assert_allclose(best.to_numpy(), 1.0)
    # with a single conversion factor, the subgroup average equals the standardised effect
    sub = t[(t["quantity"] == "average_in_subgroup") & (t["support"] == "reflection")]
    std = eff[eff["support"] == "reflection"]
    np.testing.assert_allclose(sub["mean"].to_numpy(), std["mean"].to_numpy(), atol=1e-12)


def test_attribution_covers_truth_and_shows_the_self_report(em, truth, sim):
    res = fx.attribution(em, data=sim.survey, by=["age_band", "service_level"])
    overall = res.table.iloc[0]
    assert overall["by_variable"] == "all"
    assert overall["pn_lower"] <= truth.necessity_share() <= overall["pn_upper"]
    assert 0 < overall["pn_lower"] < overall["pn_upper"] < 1
    changed = sim.survey[list(em.design.realisations)].max(axis=1) == 1
    assert overall["self_reported"] == pytest.approx(sim.survey.loc[changed, "attribution"].mean())
    assert overall["n_changers"] == changed.sum()
    # nobody whose CEP gave nothing can owe it a change
    persons = res.extra["persons"].set_index("person")
    none = sim.survey.loc[
        changed & (sim.survey[list(SUPPORTS)].sum(axis=1) == 0), "person_id"
    ].astype(str)
    assert len(none) > 10 and (persons.loc[none, "pn_mean"] == 0).all()


def test_pathway_rule_and_shares(em, truth, sim):
    gain = np.array([[0.0, 0.7, 0.7, 0.2, 0.2, 0.9, 0.1]])
    a = np.array([1.0, 1.0, 0.0, 0.0, 0.0, 0.0, np.nan])
    f = np.array([0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0])
    assert classify(gain, a, f, 0.5).tolist() == [[1, 2, 3, 4, 5, 5, 0]]
    assert classify(gain, a, None, 0.5).tolist() == [[1, 2, 3, 4, 4, 3, 0]]
    assert classify(gain, a, f, 0.15).tolist() == [[1, 2, 3, 3, 5, 5, 0]]
    res = fx.pathways(em, data=sim.survey, by=["service_level"])
    shares = res.draws["share"]
    np.testing.assert_allclose(shares.sum("type").values, 1.0)
    overall = res.table[res.table["by_variable"] == "all"].set_index("type")["mean"]
    true_types = truth.pathway_types(0.5)
    for t in range(1, 6):
        assert abs(overall[t] - np.mean(true_types == t)) < 0.04, (t, overall[t])
    persons = res.extra["persons"]
    np.testing.assert_allclose(persons.filter(like="p_type").sum(axis=1), 1.0)
    no_support = (sim.survey[list(SUPPORTS)].sum(axis=1) == 0).to_numpy()
    assert (persons.loc[no_support, ["p_type2", "p_type3"]].to_numpy() == 0).all()
    odds = res.extra["odds_ratios"]
    assert {"sex", "qualification", "csp"} <= set(odds["factor"])


def test_post_stratified_pathway_shares(em, sim):
    """Types 1-4 in the whole simulated population by MRP, against the true population shares
    (true capability gain and realised change of every beneficiary). On this 1,298-respondent
    fit the estimates are within 3 posterior sd of the truth; type 2 is the farthest (0.388
    against 0.336): with so few respondents the assignment sub-model removes only part of the
    survey's over-representation of supported people. Full-size coverage: docs/validation.md
    (block "MRP pathway share")."""
    model = fx.EffectModel(
        em.spec, em.design, em.params.take(slice(0, 300, 5)), em.units, data=em.data
    )
    res = fx.pathways(
        model, data=sim.survey, by=["service_level", "maturity"], population=sim.population, seed=2
    )
    ps = res.extra["poststratified"]
    assert set(ps["by_variable"]) == {"all", "service_level"}  # maturity: not a cell variable
    overall = ps[ps["by_variable"] == "all"].set_index("type")
    assert list(overall.index) == [1, 2, 3, 4]
    assert abs(overall["mean"].sum() - 1.0) < 1e-9
    true = population_pathway_shares(sim, 0.5)
    print(overall.assign(truth=pd.Series(true)).round(3))  # pytest -s prints it
    for t, value in true.items():
        assert abs(overall.loc[t, "mean"] - value) < 3 * overall.loc[t, "sd"], (t, overall, value)
    # denser support, more gain converted: type 2 rises with the service level, as in truth
    by_level = ps[(ps["by_variable"] == "service_level") & (ps["type"] == 2)]
    dense = by_level.set_index("by_level")["mean"]
    assert dense["UO1"] < dense["UO2.1"] < dense["UO2.2"], dense


def test_subgroups_weights_and_outputs(em, small_fit, tmp_path):
    res = fx.total_effects(
        em, contrasts=["referral=1", ("none", "observed")], by=["company_size", "operator"]
    )
    t = res.table
    assert set(t["contrast"]) == {"referral", "none vs observed"}
    levels = set(t.loc[t["by_variable"] == "company_size", "by_level"])
    assert levels == {"1_10", "11_49", "50_249", "250_4999", "5000_plus"}
    ratio = t[t["quantity"] == "ratio"]
    assert (ratio["mean"] > 0).all()
    # CEP removed: everything drops
    drop = t[
        (t["contrast"] == "none vs observed")
        & (t["quantity"] == "difference")
        & (t["by_variable"] == "all")
        & (t["outcome"] == "any_realisation")
    ]
    assert drop["upper"].iloc[0] < 0
    # survey weights: the weighted population mean of the per-row predictions
    w = fx.predict(small_fit, ["observed"], weights="survey", draws=30)
    assert "survey-weighted" in w.notes["population"]
    y = (em.units.realisation_y == 1).any(axis=1)
    weight = small_fit.data["weight"].values
    weighted_share = np.sum(weight * y) / weight.sum()
    assert w.table.iloc[-1]["outcome"] == "any_realisation"
    assert abs(w.table.iloc[-1]["mean"] - weighted_share) < 0.03
    # outputs
    res.to_csv(tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv")
    assert list(back.columns) == list(t.columns) and len(back) == len(t)
    doc = json.loads(res.to_json(tmp_path / "t.json"))
    assert doc["notes"]["residual"].startswith("each person's own residual")
    assert set(res.draws["difference"].dims) == {"sample", "contrast", "subgroup", "outcome"}
    assert res.draws["chain"].size == em.params.n_draws


def test_thinning_and_chunking_do_not_change_results(em, small_fit):
    ci, di = select_draws(small_fit.posterior, 7)
    assert len(set(zip(ci.tolist(), di.tolist(), strict=True))) == 7 and ci[0] == di[0] == 0
    assert ci[-1] == 1 and di[-1] == small_fit.posterior.sizes["draw"] - 1
    few = em.params.take(slice(0, 40))
    one = fx.EffectModel(em.spec, em.design, few, em.units, chunk_elements=1)
    big = fx.EffectModel(em.spec, em.design, few, em.units)
    # quadrature over each person's residual (no residual draws): 15 nodes per draw, 2 blocks
    assert sum(1 for _ in one.predictors()) == 40
    assert sum(1 for _ in big.predictors()) == -(-40 // big._chunk_size()) == 2
    a = fx.total_effects(one, supports=["referral"]).draws["difference"].values
    b = fx.total_effects(big, supports=["referral"]).draws["difference"].values
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-15)


def test_interventions_are_parsed_and_checked():
    assert parse_intervention("reflection=1, referral=0").values == (
        ("reflection", 1),
        ("referral", 0),
    )
    assert parse_intervention("none").name == "none"
    assert parse_intervention("observed").name == "observed"
    assert parse_intervention({"referral": 1}).complement().name == "referral=0"
    assert Intervention(everything=0).complement().name == "observed"
    with pytest.raises(EffectsError, match="must be set to 0 or 1"):
        parse_intervention("reflection=2")
    with pytest.raises(EffectsError, match="set twice"):
        parse_intervention("reflection=1,reflection=0")
    with pytest.raises(EffectsError, match="cannot read intervention"):
        parse_intervention("reflection")
    with pytest.raises(EffectsError, match=r"the model's supports are \['information'"):
        parse_intervention("counselling=1").check(SUPPORTS)


def test_effect_functions_have_explicit_documented_keywords():
    """help() and notebooks show every option: no ``**kw`` in what capmodel.effects exports, a
    docstring line per parameter, and each default that of the function it is passed on to."""
    from_fit = inspect.signature(fx.EffectModel.from_fit).parameters
    options = dict(inspect.signature(fx.effect_model).parameters)
    del options["fit_or_model"]
    for p, par in options.items():
        assert par.default == from_fit[p].default, p
    inner = {
        "predict": fx._total.predict,
        "total_effects": fx._total.total_effects,
        "mediation": fx._mediation.mediation,
        "conversion": fx._conversion.conversion,
        "attribution": fx._attribution.attribution,
        "pathways": fx._pathways.pathways,
        "poststratify": fx._poststrat.poststratify,
    }
    functions = {n: getattr(fx, n) for n in fx.__all__ if inspect.isfunction(getattr(fx, n))}
    assert set(inner) < set(functions)
    for name, f in functions.items():
        params = inspect.signature(f).parameters
        kinds = {p.kind for p in params.values()}
        assert inspect.Parameter.VAR_KEYWORD not in kinds, name
        assert inspect.Parameter.VAR_POSITIONAL not in kinds, name
        doc = inspect.getdoc(f)
        assert doc, name
        if name == "parse_intervention":  # one argument, the docstring says what it can be
            continue
        lines = doc.splitlines()
        for p in params:
            assert any(line.startswith(f"{p}: ") for line in lines), (name, p)
        if name not in inner:
            continue
        callee = dict(inspect.signature(inner[name]).parameters)  # through single_blas_thread
        del callee["model"]
        assert set(params) == {"fit", *callee, *options}, name
        for p, par in params.items():
            default = {**callee, **options}[p].default if p != "fit" else par.empty
            if default is not par.empty:  # predict's interventions: the wrapper's own default
                assert par.default == default, (name, p)
    with pytest.raises(TypeError, match="colour"):
        fx.total_effects(None, colour="red")  # refused before any model is built
    with pytest.raises(TypeError):
        fx.total_effects(None, [("observed", "none")])  # options are keyword-only


def test_cli_effects(saved_small_fit, sim, tmp_path, capsys):
    out = tmp_path / "table.csv"
    assert (
        main(
            [
                "effects",
                str(saved_small_fit),
                "--intervention",
                "reflection=1",
                "--by",
                "qualification",
                "--draws",
                "40",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "each person's own residual" in printed and "written to" in printed
    t = pd.read_csv(out)
    assert set(t["contrast"]) == {"reflection"} and set(t["control"]) == {"reflection=0"}
    assert set(t["by_variable"]) == {"all", "qualification"}
    assert main(["effects", str(saved_small_fit), "--intervention", "reflexion=1"]) == 1
    err = capsys.readouterr().err
    assert "unknown support(s) ['reflexion']" in err and "'referral'" in err
    assert main(["effects", str(saved_small_fit), "--intervention", "none", "--by", "qualif"]) == 1
    err = capsys.readouterr().err
    assert "cannot split by 'qualif'" in err and "'qualification'" in err
    population = tmp_path / "population.parquet"
    sim.population.to_parquet(population)
    assert (
        main(
            [
                "effects",
                str(saved_small_fit),
                "--estimand",
                "pathways",
                "--population",
                str(population),
                "--draws",
                "10",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "poststratified:" in printed and "dense (gain converted)" in printed


def test_post_stratification_margins(em, sim):
    """MRP of the population share of each Q9 item (observed supports), 60 draws.

    The per-item criterion "at least as close as the weighted survey mean for every item" is
    NOT met on this 1,298-respondent fit (docs/effects.md, MRP): the errors of all three
    estimators are dominated by the sample's own noise (sd ~0.008-0.013 per item), not by the
    selection bias MRP corrects (0.002-0.015). Asserted here: 6 of the 7 MRP intervals cover
    the true population margin (sector_change is missed: the sample's share is 2 binomial sd
    above the population's, and the model follows the sample), MRP's total absolute error is
    below the raw survey means', each item's error is within 3 binomial sds of a sample of the
    survey's size (the noise that dominates it), and it corrects the largest biases (training,
    any). A bound relative to the weighted means' error (1.4x, set on one machine's fit) failed
    on another machine's run of the same fit at 1.41-1.50 whichever 60-300 draws were used: the
    ratio of two noise-dominated errors is not a stable criterion. The per-item criterion itself
    is tested where the survey's selection exceeds the noise: tests/test_mrp_acceptance.py
    (scenario cep2021_regional)."""
    model = fx.EffectModel(
        em.spec, em.design, em.params.take(slice(0, 300, 5)), em.units, data=em.data
    )
    res = fx.poststratify(
        model, sim.population, interventions=["observed", "none"], by=["service_level"], seed=3
    )
    comp = res.extra["comparison"]
    comp = comp[comp["by_variable"] == "all"].set_index("outcome")
    true = pd.Series(population_margins(sim)).reindex(comp.index)
    err = pd.DataFrame(
        {k: (comp[k] - true).abs() for k in ("survey_raw", "survey_weighted", "mrp_mean")}
    )
    covers = (comp["mrp_lower"] <= true) & (true <= comp["mrp_upper"])
    assert covers.sum() >= 6, comp.assign(truth=true)  # sector_change is missed: see above
    assert err["mrp_mean"].sum() < err["survey_raw"].sum()
    noise = np.sqrt(true * (1 - true) / sim.survey["person_id"].nunique())
    assert (err["mrp_mean"] <= 3 * noise).all(), err.assign(noise_sd=noise)
    for item in ("training", "any_realisation"):
        assert err.loc[item, "mrp_mean"] < err.loc[item, "survey_raw"]
    # the CEP's effect in the population (observed vs none) against the true one
    cep = res.extra["contrasts"]
    cep = cep[cep["by_variable"] == "all"].set_index("outcome")
    true_cep = pd.Series(population_cep_effect(sim)).reindex(cep.index)
    covers = (cep["lower"] <= true_cep) & (true_cep <= cep["upper"])
    assert covers.sum() >= 5, cep.assign(truth=true_cep)
    assert (cep["contrast"] == "observed vs none").all()
    ov = res.extra["overlap"]
    assert list(ov["support"]) == list(SUPPORTS)
    assert ((ov["min_p"] > 0) & (ov["max_p"] < 1)).all()
    assert "Normal(0, 1) integrated" in res.notes["residual"]
    levels = res.table.loc[res.table["by_variable"] == "service_level", "by_level"]
    assert set(levels) == {"UO1", "UO2.1", "UO2.2"}
    with pytest.raises(EffectsError, match="must be cell variables"):
        fx.poststratify(model, sim.population[["sex", "age_band"]])
