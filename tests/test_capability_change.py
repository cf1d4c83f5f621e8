"""Capability that changes between waves (issue 13, "Capability over time"): a wave-level
indicator answered at w months measures theta_i + log(w / 6) g_i, with
g_i = capability_growth_intercept + capability_growth_support . s_i; person-level indicators and
realisations read theta_i (docs/models.md §1, "Panels and the capability indicators")."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from capmodel.data import load_data
from capmodel.model import DesignError, build_design, build_model
from capmodel.model.build import design_layout
from capmodel.model.integrated import person_layout
from capmodel.spec import SpecError, load_spec, spec_with

# small simulated surveys may miss an age band (the raking says so)
pytestmark = pytest.mark.filterwarnings("ignore:raking:UserWarning")

INDICATORS = ("cap_orientation", "cap_confidence", "cap_options", "cap_decision")


@pytest.fixture(scope="module")
def spec():
    return load_spec("models/capability.toml")


@pytest.fixture(scope="module")
def simulated():
    """A small simulated 1/6/18-month panel with attrition (about 100 persons)."""
    from capmodel.simulate import simulate

    return simulate("cep2021", seed=3, n_population=3_000, waves=(1, 6, 18), attrition=(0.15, 0.30))


@pytest.fixture(scope="module")
def panel(simulated) -> pd.DataFrame:
    return simulated.survey


def _first_answer_repeated(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """``frame`` with each person's first answer of ``columns`` on every one of their rows."""
    out = frame.copy()
    first = out.groupby("person_id")["months_since_exit"].transform("min")
    for c in columns:
        base = out.loc[out["months_since_exit"] == first, ["person_id", c]]
        out[c] = out["person_id"].map(base.set_index("person_id")[c])
    return out


def _person_level(spec, columns):
    schema = dataclasses.replace(
        spec.schema,
        indicators=tuple(
            dataclasses.replace(i, level="person") if i.column in columns else i
            for i in spec.schema.indicators
        ),
    )
    return dataclasses.replace(spec, schema=schema)


def _design(spec, frame):
    return build_design(spec, load_data(frame, spec.schema))


# ---------------------------------------------------------------------------- the spec option
def test_the_spec_option_takes_auto_true_or_false(spec):
    assert spec.change == "auto"
    assert spec_with(spec, {"measurement.change": True}).change == "yes"
    assert spec_with(spec, {"measurement.change": False}).change == "no"
    with pytest.raises(SpecError, match=r"measurement.change = 'yes' is not allowed"):
        spec_with(spec, {"measurement.change": "yes"})
    with pytest.raises(SpecError, match=r"measurement.change = 1 is not allowed"):
        spec_with(spec, {"measurement.change": 1})
    with pytest.raises(SpecError, match="needs a latent capability"):
        spec_with(load_spec("models/realisations.toml"), {"measurement.change": True})


# ---------------------------------------------------------------------------- the auto switch
def test_auto_turns_change_on_for_a_panel_with_repeated_wave_level_answers(spec, panel):
    d = _design(spec, panel)
    wave = panel["months_since_exit"].to_numpy()
    assert d.capability_time is not None
    np.testing.assert_allclose(d.capability_time, np.log(wave / 6.0))
    assert d.indicator_changes.tolist() == [1.0] * 4
    assert any(
        "capability changes between waves (measurement.change = 'auto')" in n for n in d.notes
    )
    # false: capability the same at every wave, and nothing to note
    off = _design(spec_with(spec, {"measurement.change": False}), panel)
    assert off.capability_time is None and not any("capability" in n for n in off.notes)
    assert not off.indicator_changes.any()


def test_auto_leaves_change_off_without_repeated_wave_level_answers(spec, panel):
    """Wave-level indicators answered once per person, all indicators person-level, or a single
    wave: off (noted on a panel); ``true`` is then an error that says why."""
    first = panel.groupby("person_id")["months_since_exit"].transform("min")
    once = panel.copy()
    once.loc[panel["months_since_exit"] != first, list(INDICATORS)] = None
    everyone_person = _person_level(spec, INDICATORS)
    repeated = _first_answer_repeated(panel, INDICATORS)
    for s, frame in ((spec, once), (everyone_person, repeated)):
        d = _design(s, frame)
        assert d.capability_time is None
        assert any("capability is the same at every wave" in n for n in d.notes)
        forced = spec_with(s, {"measurement.change": True})
        with pytest.raises(DesignError, match=r"measurement.change = true, but no person"):
            _design(forced, frame)
    single = panel[panel["months_since_exit"] == 6]
    d = _design(spec, single)
    assert d.capability_time is None and not any("capability" in n for n in d.notes)
    with pytest.raises(DesignError, match=r"waves in the data: \[6\]"):
        _design(spec_with(spec, {"measurement.change": True}), single)


def test_a_person_level_indicator_measures_the_person_level_capability(spec, panel):
    """Mixed: cap_decision answered once (person-level), the others at each wave; only the
    wave-level answers get log(w / 6) in the layout the likelihood reads."""
    s = _person_level(spec, ("cap_decision",))
    d = _design(s, _first_answer_repeated(panel, ("cap_decision",)))
    assert d.capability_time is not None
    names = [j.name for j in d.indicators]
    assert d.indicator_changes.tolist() == [float(n != "cap_decision") for n in names]
    layout = design_layout(d)
    assert layout.indicator_time is not None
    k = names.index("cap_decision")
    assert (layout.indicator_time[:, :, k] == 0).all()
    answered = layout.indicator_code >= 0
    row = np.where(layout.row_at >= 0, layout.row_at, 0)
    expected = np.where(answered, d.capability_time[row][..., None], 0.0)
    expected[:, :, k] = 0.0
    np.testing.assert_array_equal(layout.indicator_time, expected)


def test_person_layout_places_each_answers_time():
    """Rows in any order: each answered entry gets its row's time (times the indicator's flag),
    missing answers and absent slots 0."""
    person = np.array([1, 0, 0, 1])
    time = np.array([0.5, -1.0, 0.0, 2.0])
    layout = person_layout(
        person,
        2,
        [(np.array([0, 1, 3]), np.array([1, 0, 1])), (np.array([1, 2]), np.array([2, 0]))],
        np.zeros((4, 0), dtype=np.int64),
        row_time=time,
        indicator_changes=np.array([1.0, 0.0]),
    )
    assert layout.indicator_time is not None
    np.testing.assert_array_equal(layout.indicator_time[..., 0], [[-1.0, 0.0], [0.5, 2.0]])
    assert (layout.indicator_time[..., 1] == 0).all()
    assert person_layout(person, 2, [], np.zeros((4, 0), dtype=np.int64)).indicator_time is None


def test_the_model_has_the_growth_parameters_only_with_change(spec, panel):
    d = _design(spec, panel)
    m = build_model(spec, d).model
    assert m.named_vars_to_dims["capability_growth_support"] == ("support",)
    assert "capability_growth_intercept_c" in {v.name for v in m.free_RVs}
    assert "capability_growth_intercept" in {v.name for v in m.deterministics}
    flat = build_model(spec, _design(spec_with(spec, {"measurement.change": False}), panel)).model
    assert not any("growth" in name for name in flat.named_vars)


def test_a_fit_saved_before_change_existed_is_read_as_it_was_sampled():
    """The regression fixture's capability fit (a 1/6-month panel, sampled without growth)
    keeps its model: 'auto' is read as false when the posterior has no growth."""
    from pathlib import Path

    from capmodel.fitting import load_fit

    fit = load_fit(Path(__file__).parent / "fixtures" / "effects_regression" / "capability")
    assert fit.spec.change == "no" and fit.design.capability_time is None
    assert fit.design.waves == (1, 6)


def test_the_simulators_truth_has_the_growth(simulated):
    """params.json holds the growth, and the true capability gain at a wave adds
    log(wave / 6) times the growth the supports bring (0 at 6 months)."""
    from capmodel.validation.truth_effects import SampleTruth

    growth = simulated.params["capability"]["growth"]
    assert growth["intercept"] == 0.10
    assert growth["support"] == {
        "information": 0.0,
        "reflection": 0.15,
        "referral": 0.0,
        "confidence": 0.10,
    }
    for wave in (1, 6, 18):
        truth = SampleTruth.of(simulated, wave)
        structural = truth.capability_mean("observed") - truth.capability_mean("none")
        s = truth.frame
        brought = 0.15 * s["reflection"].to_numpy() + 0.10 * s["confidence"].to_numpy()
        np.testing.assert_allclose(truth.gain(), structural + np.log(wave / 6) * brought)


# ---------------------------------------------------------------------------- the density
@pytest.mark.slow  # compiles the generative model
def test_indicator_density_is_the_documented_one(spec, panel):
    """At a random point, the generative model's indicator log-likelihood equals the documented
    equations computed here by brute force (numpy), with a person-level indicator (theta_i)
    beside wave-level ones (theta_i + log(w / 6) g_i, g_i from the documented intercept)."""
    from scipy.special import expit

    s = _person_level(spec, ("cap_decision",))
    frame = _first_answer_repeated(panel, ("cap_decision",))
    d = _design(s, frame)
    built = build_model(s, d, generative=True)
    model = built.model
    rng = np.random.default_rng(4)
    point = {
        k: v + rng.normal(0, 0.4, size=np.shape(v))
        for k, v in model.initial_point(random_seed=2).items()
    }
    names = [n for n in built.observed if "indicator" in n]
    wanted = [
        "loading",
        "indicator_intercept",
        "capability_growth_intercept",
        "capability_growth_support",
        "capability_residual",
    ] + [f"cutpoints__{j.name}" for j in d.indicators if j.kind == "ordinal"]
    outputs = [model.logp(vars=[model[n] for n in names], sum=True)]
    outputs += [model[n] for n in wanted] + [built.terms["capability_mean"] + built.terms["shift"]]
    graphs = model.replace_rvs_by_values(outputs)
    values = model.compile_fn(graphs, inputs=model.value_vars, on_unused_input="ignore")(point)
    logp, par = float(values[0]), dict(zip(wanted + ["m"], values[1:], strict=True))
    theta = par["m"] + par["capability_residual"]  # documented origin
    growth = (
        par["capability_growth_intercept"] + d.support_person @ par["capability_growth_support"]
    )
    wave = frame["months_since_exit"].to_numpy()
    binary = [j.name for j in d.indicators if j.kind == "binary"]
    expected = 0.0
    for i, j in enumerate(d.indicators):
        p = d.person_of_row[j.rows]
        cap = theta[p]
        if j.name != "cap_decision":
            cap = cap + np.log(wave[j.rows] / 6.0) * growth[p]
        x = par["loading"][i] * cap
        if j.kind == "binary":
            prob = expit(par["indicator_intercept"][binary.index(j.name)] + x)
            expected += np.sum(np.log(np.where(j.values == 1, prob, 1 - prob)))
        else:
            cuts = np.concatenate([[-np.inf], par[f"cutpoints__{j.name}"], [np.inf]])
            upper = expit(cuts[j.values + 1] - x)
            lower = expit(cuts[j.values] - x)
            expected += np.sum(np.log(upper - lower))
    assert logp == pytest.approx(expected, rel=1e-9)


# ---------------------------------------------------------------------------- recovery
@pytest.mark.slow
def test_a_small_panel_fit_recovers_the_growth_of_capability(spec):
    """325 persons at 1, 6 and 18 months with attrition, a reduced spec (supports and two
    confounders, one realisation, no groups), 2 x 200 draws: the 90% intervals of the growth
    coefficients cover the truth, and the supports that make capability grow (reflection 0.15,
    confidence 0.10) get a positive growth. Effects at a horizon evaluate capability there:
    m + log(h / 6) g (and at 6 months, m)."""
    import capmodel
    import capmodel.effects as fx
    from capmodel.simulate import simulate
    from capmodel.validation.recovery import recovery_table, true_values

    sim = simulate("cep2021", seed=5, n_population=10_000, waves=(1, 6, 18), attrition=(0.15, 0.30))
    small = spec_with(  # the supports and the main confounders; one realisation, no groups
        spec,
        {
            "model.confounders": ["maturity", "autonomy"],
            "capability.factors": [],
            "capability.conversion": {},
            "realisations.outcomes": ["training"],
            "realisations.direct_effects": [],
            "realisations.factors": [],
            "groups.columns": [],
            "groups.varying_slopes": {},
        },
    )
    f = capmodel.fit(
        small, sim.survey, draws=200, tune=250, seed=2, progressbar=False, verbose=False
    )
    assert f.design.capability_time is not None
    table = recovery_table(f.posterior, true_values(sim.params, f.posterior, f.design))
    growth = table[table["parameter"].str.startswith("capability_growth")].set_index("parameter")
    assert len(growth) == 5 and growth["covered"].all(), growth
    for k in ("reflection", "confidence"):
        assert growth.loc[f"capability_growth_support[{k}]", "mean"] > 0, growth
    assert growth.loc["capability_growth_support[reflection]", "lower"] > 0, growth

    model = fx.effect_model(f, draws=20)
    at = {h: fx.effect_model(f, draws=20, horizon=h) for h in (6, 18)}
    assert model.units.support_names == f.design.supports
    supports = model.units.supports

    def capability(m):
        return m.predictor(m.params, m.units).capability_mean(supports)

    np.testing.assert_allclose(capability(at[6]), capability(model), rtol=1e-12)
    values = model.params.values
    kappa = values["capability_growth_support"]  # (D, K)
    centred = supports - f.design.support_person.mean(axis=0)
    g = values["capability_growth_intercept_c"][:, None] + kappa @ centred.T  # (D, P)
    np.testing.assert_allclose(
        capability(at[18]) - capability(at[6]), np.log(3.0) * g, rtol=1e-9, atol=1e-12
    )
