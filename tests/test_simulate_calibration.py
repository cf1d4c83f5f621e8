"""The cep2021 scenario reproduces the published survey tables (docs/domain.md §8) for seeds 1-3."""

from functools import cache

import pandas as pd
import pytest

from capmodel.reference.published import CONTRASTS, contrast_table, margin_table
from capmodel.simulate import simulate

SEEDS = (1, 2, 3)
TOLERANCE = 0.03  # 3 percentage points


@cache
def sim(seed: int):
    return simulate("cep2021", seed=seed)


@cache
def margins(seed: int) -> pd.DataFrame:
    s = sim(seed)
    return margin_table(s.survey, s.population)


def _check_table(seed: int, table: str) -> None:
    m = margins(seed)
    rows = m[m["table"] == table]
    assert len(rows) > 0, table
    off = rows[(rows["weighted"] - rows["published"]).abs() > TOLERANCE]
    assert off.empty, f"seed {seed}: {table} off by more than 3 points:\n{off.to_string()}"


@pytest.mark.parametrize("seed", SEEDS)
def test_q5_complementary_services(seed):
    _check_table(seed, "Q5 complementary service")


@pytest.mark.parametrize("seed", SEEDS)
def test_q9_changes_since_the_cep(seed):
    _check_table(seed, "Q9 change since the CEP")


@pytest.mark.parametrize("seed", SEEDS)
def test_q13_usefulness(seed):
    _check_table(seed, "Q13 usefulness")


@pytest.mark.parametrize("seed", SEEDS)
def test_self_reported_attribution_among_changers(seed):
    _check_table(seed, "Attribution")


@pytest.mark.parametrize("seed", SEEDS)
def test_uo1_only_share_of_population(seed):
    _check_table(seed, "Service level")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("table", sorted({c.table for c in CONTRASTS}))
def test_published_subgroup_contrasts_keep_their_direction(seed, table):
    t = contrast_table(sim(seed).survey)
    t = t[t["table"] == table]
    wrong = t[~t["same_direction"]]
    assert len(t) >= 4 and wrong.empty, f"seed {seed}:\n{wrong.to_string()}"


@pytest.mark.parametrize("seed", SEEDS)
def test_quota_weights_look_like_the_published_ones(seed):
    w = sim(seed).survey["weight"]
    assert w.mean() == pytest.approx(1.0)
    # published range 0.13 - 8.9
    assert 0.05 < w.min() < 0.4
    assert 3.0 < w.max() < 15.0


def test_weights_reproduce_population_margins_of_quota_variables():
    s = sim(1)
    for col in ("sex", "age_band", "qualification", "company_size", "operator", "service_level"):
        pop = s.population[col].value_counts(normalize=True).sort_index()
        wsh = s.survey.groupby(col, observed=True)["weight"].sum() / s.survey["weight"].sum()
        pd.testing.assert_series_equal(wsh.sort_index(), pop, check_names=False, atol=1e-6)


def test_respondents_over_represent_the_published_groups():
    s = sim(1)
    pop, sv = s.population, s.survey

    def share(df, col, levels):
        return df[col].isin(levels).mean()

    for col, levels in [
        ("age_band", ["45_plus"]),
        ("service_level", ["UO2.1"]),
        ("sex", ["F"]),
        ("qualification", ["bac3_4", "bac5plus"]),
        ("company_size", ["250_4999", "5000_plus"]),
    ]:
        assert share(sv, col, levels) > share(pop, col, levels), (col, levels)
