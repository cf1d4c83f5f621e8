"""Panel data (persons answering at 1, 6 and 18 months): cumulative realisations and
person-level indicators enter the likelihood once (docs/models.md, "Realisations over time").

The simulator's panel makes realisations cumulative (one uniform per person and realisation,
shared by the waves, against P(by t) that grows with t). The likelihood of a person's answers is
then P(a < T <= b) = F(b) - F(a), for a the last wave answered 'no' and b the first answered
'yes': checked here against a brute-force evaluation, at a random point, with attrition.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from capmodel.data import load_data
from capmodel.model import build_design, build_model
from capmodel.model.design import DesignError, cumulative_realisations
from capmodel.model.evaluate import ModelFunctions
from capmodel.spec import load_spec


@pytest.fixture(scope="module")
def panel():
    """A small simulated 1/6/18-month panel; a third of the persons not seen at 18 months."""
    from capmodel.simulate import simulate

    sim = simulate("cep2021", seed=3, n_population=3_000, waves=(1, 6, 18))
    df = sim.survey
    ids = df["person_id"].drop_duplicates().to_numpy()
    gone = set(ids[::3])
    keep = ~(df["person_id"].isin(gone) & (df["months_since_exit"] == 18))
    return df[keep].reset_index(drop=True)


@pytest.fixture(scope="module")
def spec():
    return load_spec("models/capability.toml")


def test_cumulative_answers_keep_the_bounds_of_the_event_time():
    """Rows in any order: the last 'no' and the first 'yes' are kept, and paired."""
    # person 0: no@1, yes@6, yes@18; person 1: no@1, no@6 (attrition); person 2: yes@1 only
    person = np.array([0, 1, 0, 2, 0, 1])
    wave = np.array([18, 6, 1, 1, 6, 1])
    y = np.array([[1], [0], [0], [1], [1], [0]])
    used, (lo, up, col) = cumulative_realisations(y, person, wave, ("a", "b", "c"), ("r",))
    np.testing.assert_array_equal(used[:, 0], [-1, 0, 0, 1, 1, -1])
    np.testing.assert_array_equal(lo, [2])  # person 0: no at 1 month (row 2)
    np.testing.assert_array_equal(up, [4])  # ... yes at 6 months (row 4)
    np.testing.assert_array_equal(col, [0])


def test_a_yes_then_a_later_no_is_an_error_naming_the_person():
    person = np.array([0, 0, 1, 1])
    wave = np.array([1, 6, 1, 6])
    y = np.array([[1], [0], [0], [1]])
    with pytest.raises(DesignError, match=r"'training'.*1 person\(s\) \(\['P7'\]\).*cumulative"):
        cumulative_realisations(y, person, wave, ("P7", "P8"), ("training",))


@pytest.mark.slow  # compiles the model
def test_panel_likelihood_is_the_interval_censored_one(panel, spec):
    """The generative model's realisation log-likelihood (Bernoulli terms of the answers it
    reads + the between-waves potential) at a random point equals, person by person,
    log(F(b) - F(a)) from the model's own F at every row (brute force over all answers)."""
    data = load_data(panel, spec.schema)
    design = build_design(spec, data)
    assert design.realisation_intervals[0].size > 20  # some events between two waves
    built = build_model(spec, design, generative=True)
    model = built.model
    rng = np.random.default_rng(0)
    point = {
        k: v + rng.normal(0, 0.3, size=np.shape(v))
        for k, v in model.initial_point(random_seed=1).items()
    }

    def at_point(outputs):  # the model's tensors at ``point`` (random variables set to it)
        graphs = model.replace_rvs_by_values(outputs)
        return model.compile_fn(graphs, inputs=model.value_vars, on_unused_input="ignore")(point)

    bernoulli, between = at_point(
        [model.logp(vars=[model["y_realisation"]], sum=True), model["realisations_between_waves"]]
    )
    mine = float(bernoulli) + float(between)

    functions = ModelFunctions(spec, design, build_model(spec, design))
    values = at_point([model[n] for n in functions.names])
    draws = {n: np.asarray(v)[None] for n, v in zip(functions.names, values, strict=True)}
    e = point["capability_residual"]
    f = functions.probabilities(draws, design.units(), np.asarray(e)[None, :, None])[0, :, :, 0]
    wave = data.dataset.capmodel.variable("months_since_exit").values
    expected = 0.0
    for p in range(len(design.person_labels)):
        rows = np.flatnonzero(design.person_of_row == p)
        rows = rows[np.argsort(wave[rows])]
        for r in range(len(design.realisations)):
            y = design.realisation_y[rows, r]
            obs = rows[y >= 0]
            yobs = y[y >= 0]
            yes = obs[yobs == 1]
            no = obs[yobs == 0]
            f_b = f[yes[0], r] if yes.size else 1.0
            f_a = f[no[-1], r] if no.size else 0.0
            expected += np.log(f_b - f_a)
    assert mine == pytest.approx(expected, rel=1e-9)


@pytest.mark.slow  # compiles four models
def test_person_level_indicators_enter_once(panel, spec):
    """A person-level indicator repeated on every wave's row has the log-density of the same
    data with the repeats blanked; an answer that differs between waves is an error."""
    schema = spec.schema
    ind = [i.column for i in schema.indicators]
    first = panel.groupby("person_id")["months_since_exit"].transform("min")
    repeated = panel.copy()
    for c in ind:  # the first wave's answer on every row: answered once
        base = repeated.loc[repeated["months_since_exit"] == first, ["person_id", c]]
        repeated[c] = repeated["person_id"].map(base.set_index("person_id")[c])
    blanked = repeated.copy()
    blanked.loc[repeated["months_since_exit"] != first, ind] = None

    person_schema = dataclasses.replace(
        schema, indicators=tuple(dataclasses.replace(i, level="person") for i in schema.indicators)
    )
    person_spec = dataclasses.replace(spec, schema=person_schema)

    def logp(frame: pd.DataFrame, s) -> float:
        d = build_design(s, load_data(frame, s.schema))
        m = build_model(s, d).model
        return float(m.compile_logp()(m.initial_point()))

    assert logp(repeated, person_spec) == pytest.approx(logp(blanked, spec), rel=1e-12)
    # declared wave-level, the repeats count again (and a note says they look person-level)
    d = build_design(spec, load_data(repeated, schema))
    assert any("declare it level = 'person'" in n for n in d.notes)
    assert logp(repeated, spec) != pytest.approx(logp(blanked, spec), rel=1e-6)
    changed = repeated.copy()
    row = changed.index[changed["months_since_exit"] != first][0]
    changed.loc[row, "cap_options"] = 1 - changed.loc[row, "cap_options"]
    with pytest.raises(DesignError, match="'cap_options' is declared person-level"):
        build_design(person_spec, load_data(changed, person_schema))


@pytest.mark.slow
def test_a_small_panel_fit_recovers_the_truth(spec):
    """A fast panel recovery check (benchmarks/panel_study.py is the full study): 1/6/18-month
    panel with attrition, 2 x 200 draws; the 90% intervals cover the true parameters (time
    effects included) at the nominal rate within sampling noise, and the CEP's effect at 18
    months covers the true sample effect of the persons seen then."""
    import capmodel
    import capmodel.effects as fx
    from capmodel.simulate import simulate
    from capmodel.validation.recovery import recovery_table, true_values
    from capmodel.validation.truth_effects import SampleTruth

    sim = simulate("cep2021", seed=11, n_population=12_000, waves=(1, 6, 18))
    df = sim.survey
    ids = df["person_id"].drop_duplicates().to_numpy()
    drop = df["person_id"].isin(set(ids[::4])) & (df["months_since_exit"] == 18)
    sim = dataclasses.replace(sim, survey=df[~drop].reset_index(drop=True))
    f = capmodel.fit(
        spec, sim.survey, draws=200, tune=250, seed=2, progressbar=False, verbose=False
    )
    assert f.design.realisation_intervals[0].size > 50
    table = recovery_table(f.posterior, true_values(sim.params, f.posterior, f.design))
    assert table["covered"].mean() >= 0.8, table.groupby("block")["covered"].mean()
    time_rows = table[table["parameter"].str.startswith("time_effect")]
    assert len(time_rows) == 6 and time_rows["covered"].sum() >= 5, time_rows
    res = fx.total_effects(
        fx.effect_model(f, draws=200), contrasts=[("observed", "none")], by=["wave"]
    )
    t = res.table
    t = t[(t["quantity"] == "difference") & (t["by_variable"] == "wave") & (t["by_level"] == "18")]
    truth = SampleTruth.of(sim, 18).total_effect("observed", "none")
    covered = [r.lower <= truth[r.outcome] <= r.upper for r in t.itertuples()]
    assert sum(covered) >= 6, t.assign(truth=[truth[o] for o in t["outcome"]])


def test_simulated_attrition_removes_later_waves_only():
    from capmodel.simulate import simulate

    full = simulate("cep2021", seed=3, n_population=3_000, waves=(1, 6, 18)).survey
    lost = simulate(
        "cep2021", seed=3, n_population=3_000, waves=(1, 6, 18), attrition=(0.2, 0.5)
    ).survey
    n = lost.groupby("months_since_exit")["person_id"].nunique()
    assert n[1] == full["person_id"].nunique() and n[1] > n[6] > n[18]
    seen = lost.groupby("person_id")["months_since_exit"].apply(tuple)
    assert set(seen) <= {(1,), (1, 6), (1, 6, 18)}  # monotone: nobody comes back
    both = full.merge(lost, on=["person_id", "months_since_exit"], suffixes=("", "_lost"))
    assert len(both) == len(lost) and (both["training"] == both["training_lost"]).all()
    with pytest.raises(ValueError, match="one rate per wave but the last"):
        simulate("cep2021", seed=3, n_population=3_000, waves=(1, 6, 18), attrition=(0.2,))


def test_panel_options_are_checked_before_any_work(tmp_path, capsys):
    """simulate --attrition with the wrong number of rates, and realisations.panel with an
    unknown value, are refused with their message; nothing is written."""
    from capmodel.cli import main
    from capmodel.spec import spec_from_dict

    out = tmp_path / "sim"
    code = main(
        ["simulate", "--out", str(out), "--n", "2000", "--waves", "1", "6", "18"]
        + ["--attrition", "0.2"]
    )
    assert code != 0 and not out.exists()
    assert "one rate per wave but the last" in capsys.readouterr().err
    raw = load_spec("models/capability.toml").to_dict()
    raw["realisations"]["panel"] = "stacked"
    with pytest.raises(ValueError, match=r"realisations.panel = 'stacked' is not allowed"):
        spec_from_dict(raw)


def test_cli_effects_at_a_horizon(capsys):
    """--horizon on a panel fit counts each person once at that horizon; on months < 1 the
    option is refused before the fit is read."""
    from pathlib import Path

    from capmodel.cli import main

    fit = Path(__file__).parent / "fixtures" / "effects_regression" / "capability"
    assert main(["effects", str(fit), "--horizon", "6", "--draws", "8"]) == 0
    assert "each person at 6 months" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["effects", str(fit), "--horizon", "0"])
