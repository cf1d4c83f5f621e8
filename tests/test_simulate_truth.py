"""The simulator's truth is complete and consistent with its parameters and its data."""

import numpy as np
import pandas as pd
import pytest

from capmodel.reference.published import REALISATIONS, SUPPORTS
from capmodel.simulate import simulate

N = 30_000


@pytest.fixture(scope="module")
def small():
    return simulate("cep2021", seed=11, n_population=N)


@pytest.fixture(scope="module", params=["cep2021", "cep_crossed_interaction"])
def any_small(request, small):
    """cep2021 (nested groups) and the crossed layout with every kind of group effect."""
    return small if request.param == "cep2021" else simulate(request.param, seed=11, n_population=N)


@pytest.fixture(scope="module")
def panel():
    return simulate("cep2021", seed=12, n_population=N, waves=(1, 6, 18))


def test_same_seed_same_data_other_seed_other_data(any_small):
    small = any_small
    scenario = small.params["scenario"]
    again = simulate(scenario, seed=11, n_population=N)
    pd.testing.assert_frame_equal(small.survey, again.survey)
    pd.testing.assert_frame_equal(small.persons, again.persons)
    other = simulate(scenario, seed=13, n_population=N)
    assert not small.survey["training"].equals(other.survey["training"])


def test_sizes_and_published_columns(small):
    assert len(small.population) == N
    assert small.survey["person_id"].is_unique
    assert len(small.survey) == round(N * 6396 / 197074)
    expected = {
        "training",
        "occupation_change",
        "business_creation",
        "company_change",
        "post_change",
        "sector_change",
        "information",
        "reflection",
        "referral",
        "confidence",
        "svc_training",
        "svc_skills_assessment",
        "svc_business_support",
        "svc_immersion",
        "usefulness",
        "attribution",
        "service_level",
        "operator",
        "region",
        "sex",
        "age_band",
        "qualification",
        "csp",
        "company_size",
        "months_since_exit",
        "weight",
    }
    assert expected <= set(small.survey.columns)
    assert list(small.survey["usefulness"].cat.categories) == [
        "not_at_all",
        "not_very",
        "fairly",
        "very",
    ]
    assert list(small.survey["service_level"].cat.categories) == ["UO1", "UO2.1", "UO2.2"]
    # attribution only for people with a change
    changed = small.survey[list(REALISATIONS)].max(axis=1) == 1
    assert small.survey.loc[~changed, "attribution"].isna().all()
    assert small.survey.loc[changed, "attribution"].notna().all()


def test_regions_nested_in_the_real_operator_types(small):
    pairs = small.population.groupby("region", observed=True)["operator"].nunique()
    assert (pairs == 1).all() and len(pairs) == 18
    mapping = dict(small.population[["region", "operator"]].drop_duplicates().values)
    assert mapping["Bretagne"] == "Catalys" and mapping["Corse"] == "Other"
    assert mapping["Île-de-France"] == "Tingari" and mapping["Mayotte"] == "EVA-CIBC"


def test_survey_rows_match_population_and_truth(small):
    merged = small.survey.merge(small.population, on="person_id", suffixes=("", "_pop"))
    for col in ("region", "sex", "qualification", "service_level"):
        assert (merged[col].astype(str) == merged[f"{col}_pop"].astype(str)).all()
    truth = small.persons.set_index("person_id").loc[small.survey["person_id"]]
    assert truth["in_survey"].all() and small.persons["in_survey"].sum() == len(small.survey)
    for r in REALISATIONS:
        np.testing.assert_array_equal(small.survey[r].to_numpy(), truth[f"r_obs__{r}__m6"])


def _level_effect(params_table, column, values):
    if isinstance(params_table, dict):
        return np.array([params_table[str(v)] for v in values])
    return params_table * values.astype(float)


def _capability_mean(params, df, supports):
    cap = params["capability"]
    m = np.zeros(len(df))
    for col, table in cap["effects"].items():
        m += _level_effect(table, col, df[col].to_numpy())
    for k in SUPPORTS:
        slope = np.full(len(df), cap["support_effect"][k])
        for col, table in cap["conversion"].get(k, {}).items():
            slope += _level_effect(table, col, df[col].to_numpy())
        m += supports[k] * slope
    return m + _group_shift(params, cap, df)


def _group_shift(params, table, df):
    """Sum of the group effects in ``table`` (``<group>_effect``; an interaction's cells keyed
    ``"a_level:b_level"``) for each row of ``df``."""
    out = np.zeros(len(df))
    for key, effects in table.items():
        group = key.removesuffix("_effect")
        if not key.endswith("_effect") or group not in {
            *params["groups"]["levels"],
            "operator:region",
        }:
            continue
        labels = df[group.split(":")[0]].astype(str)
        if ":" in group:
            labels = labels + ":" + df[group.split(":")[1]].astype(str)
        out += np.array([effects[lv] for lv in labels])
    return out


def test_params_json_reproduces_capability_and_realisation_probabilities(any_small):
    """params.json is a faithful statement of the structural model: recompute from it."""
    small = any_small
    df = small.survey
    truth = small.persons.set_index("person_id").loc[df["person_id"]]
    observed = {k: df[k].to_numpy() for k in SUPPORTS}
    none = {k: np.zeros(len(df)) for k in SUPPORTS}
    m_obs = _capability_mean(small.params, df, observed)
    m_none = _capability_mean(small.params, df, none)
    np.testing.assert_allclose(m_obs, truth["m_obs"], atol=1e-5)
    np.testing.assert_allclose(m_none, truth["m_none"], atol=1e-5)
    theta = m_obs + truth["e"].to_numpy()
    for r in REALISATIONS:
        rp = small.params["realisations"][r]
        eta = rp["intercept"] + rp["capability_loading"] * theta
        eta += sum(rp["support_effect"][k] * observed[k] for k in SUPPORTS)
        for col, table in rp["effects"].items():
            eta += _level_effect(table, col, df[col].to_numpy())
        eta += _group_shift(small.params, rp, df)
        np.testing.assert_allclose(1 / (1 + np.exp(-eta)), truth[f"p_obs__{r}__m6"], atol=1e-5)


def test_potential_outcomes_share_the_same_uniforms(small):
    p = small.persons
    assert np.allclose(p["theta_obs"] - p["theta_none"], p["gain"], atol=1e-5)
    for r in REALISATIONS:
        # same U in both worlds: R = 1[U < p], so the world with the higher p has R >= the other
        hi_obs = p[f"p_obs__{r}__m6"] >= p[f"p_none__{r}__m6"]
        assert (p.loc[hi_obs, f"r_obs__{r}__m6"] >= p.loc[hi_obs, f"r_none__{r}__m6"]).all()
        assert (p.loc[~hi_obs, f"r_obs__{r}__m6"] <= p.loc[~hi_obs, f"r_none__{r}__m6"]).all()
    nec = p["necessary__m6"] == 1
    assert (p.loc[nec, "any_obs__m6"] == 1).all() and (p.loc[nec, "any_none__m6"] == 0).all()
    # people with no support at all have identical worlds
    none = p["m_obs"] == p["m_none"]
    assert (p.loc[none, "necessary__m6"] == 0).all()


def test_panel_waves_share_capability_and_realisations_accumulate(panel):
    sv = panel.survey
    assert sorted(sv["months_since_exit"].unique()) == [1, 6, 18]
    assert (sv.groupby("person_id").size() == 3).all()
    wide = sv.pivot(index="person_id", columns="months_since_exit", values="training")
    assert (wide[1] <= wide[6]).all() and (wide[6] <= wide[18]).all()
    assert wide[1].mean() < wide[6].mean() < wide[18].mean()
    # person-level columns are the same at every wave
    assert (sv.groupby("person_id")["weight"].nunique() == 1).all()
    assert (sv.groupby("person_id")["information"].nunique() == 1).all()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="unknown scenario 'cep2099'"):
        simulate("cep2099")
    with pytest.raises(ValueError, match="survey size must be in 1..100"):
        simulate(n_population=100, n_survey=101)
    with pytest.raises(ValueError, match=r"waves must be a non-empty subset of \(1, 6, 18\)"):
        simulate(n_population=1000, waves=(3,))


def test_small_survey_rakes_on_the_levels_it_has():
    with pytest.warns(UserWarning, match=r"raking: level\(s\) \['under_26'\] of 'age_band'"):
        sim = simulate("cep2021", seed=3, n_population=5000)
    assert "under_26" not in set(sim.survey["age_band"].astype(str))
    assert sim.survey["weight"].mean() == pytest.approx(1.0)
