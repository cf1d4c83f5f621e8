"""Scenario variants of the simulator: cep2021_regional differs from cep2021 only where it says."""

import numpy as np
import pandas as pd
import pytest

from capmodel.reference.published import REALISATIONS
from capmodel.simulate import simulate
from capmodel.simulate.scenarios import SCENARIOS, scenario
from capmodel.validation.truth_effects import SampleTruth

N = 40_000


@pytest.fixture(scope="module")
def pair():
    return (
        simulate("cep2021", seed=31, n_population=N),
        simulate("cep2021_regional", seed=31, n_population=N),
    )


def test_cli_lists_every_scenario():
    from capmodel.cli import SCENARIO_NAMES

    assert tuple(sorted(SCENARIOS)) == tuple(sorted(SCENARIO_NAMES))
    with pytest.raises(ValueError, match=r"unknown scenario 'nope'; available: \['cep2021'"):
        scenario("nope")


def test_same_population_other_survey(pair):
    base, regional = pair
    pd.testing.assert_frame_equal(base.population, regional.population)
    assert base.params["scenario"] == "cep2021" and regional.params["scenario"] == (
        "cep2021_regional"
    )
    assert set(base.params["labour_market"]["region_effect"].values()) == {0.0}
    assert not base.survey["person_id"].equals(regional.survey["person_id"])


def test_regional_labour_market_drives_realisations_and_response(pair):
    base, regional = pair
    lm = pd.Series(regional.params["labour_market"]["region_effect"])
    assert lm.std() > 0.2
    for r in REALISATIONS:  # the labour market is inside every realisation's region effect
        diff = pd.Series(regional.params["realisations"][r]["region_effect"]) - pd.Series(
            base.params["realisations"][r]["region_effect"]
        )
        np.testing.assert_allclose(diff.to_numpy(), lm.reindex(diff.index).to_numpy(), atol=1e-12)
    # response rate by region rises with the labour market
    pop = regional.population["region"].astype(str).value_counts()
    resp = regional.survey.drop_duplicates("person_id")["region"].astype(str).value_counts()
    rate = resp.reindex(pop.index).fillna(0) / pop
    big = pop.index[pop > 1500]
    assert np.corrcoef(rate[big], lm[big])[0, 1] > 0.8
    # so the survey over-states every realisation, even after quota weighting; in cep2021 the
    # weighted survey is within noise of the population
    for sim, biased in ((regional, True), (base, False)):
        sv = sim.survey.drop_duplicates("person_id")
        persons = sim.persons.set_index("person_id")
        for r in REALISATIONS:
            pop_share = persons[f"p_obs__{r}__m6"].mean()
            weighted = np.average(
                persons.loc[sv["person_id"], f"p_obs__{r}__m6"], weights=sv["weight"]
            )
            noise = np.sqrt(pop_share * (1 - pop_share) / len(sv))
            assert (weighted - pop_share > noise) == biased, (sim.params["scenario"], r)


def test_margins_stay_calibrated(pair):
    _, regional = pair
    persons = regional.persons
    targets = {"training": 0.30, "occupation_change": 0.14, "sector_change": 0.08}
    for r, target in targets.items():
        assert abs(persons[f"p_obs__{r}__m6"].mean() - target) < 0.01, r


def test_true_effects_follow_the_scenario(pair):
    """SampleTruth recomputes every respondent's probabilities with the scenario's own
    structural model: they equal the simulator's stored ones."""
    _, regional = pair
    truth = SampleTruth.of(regional)
    assert truth.scenario == "cep2021_regional"
    stored = regional.persons.set_index("person_id").loc[truth.person_id]
    for r in REALISATIONS:
        np.testing.assert_allclose(
            truth.probability(r, "observed"), stored[f"p_obs__{r}__m6"], atol=1e-5
        )
        np.testing.assert_allclose(
            truth.probability(r, "none"), stored[f"p_none__{r}__m6"], atol=1e-5
        )
