"""The survey design study (docs/design.md): sampling plans and their checks, the surveys they
draw (panel vs cross sections, sizes, attrition, oversampling and its weights), the truths the
estimands are scored against, the summary and its page, the command's checks before any
cluster, and one small study end to end (in-process dask client, tiny latent model)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from capmodel.cli import main
from capmodel.simulate import cep2021 as S
from capmodel.simulate.plans import (
    PlanError,
    SamplingPlan,
    check_plans,
    draw_population,
    draw_survey,
    everyone_at,
    load_plans,
    plans_from_dict,
)
from capmodel.studies.design_summary import markdown, summarise, task_key, wide

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "models" / "plans" / "followup.toml"


@pytest.fixture(scope="module")
def population():
    """A small cep2021 population (every person's truth at 1, 6 and 18 months)."""
    return draw_population("cep2021", seed=3, n_population=4_000)


# ---------------------------------------------------------------------- plans and their checks
def test_the_example_plans_file():
    a, b, c = load_plans(EXAMPLE)
    assert (a.kind, a.interviews, a.persons, a.rows) == (
        "panel",
        {1: 2000, 6: 1700, 18: 1190},
        2000,
        4890,
    )
    assert np.allclose(a.attrition, (0.15, 0.30))
    assert (b.kind, b.interviews, b.persons, b.rows) == (
        "cross_sections",
        {1: 1630, 6: 1630, 18: 1630},
        4890,
        4890,
    )
    assert c.factors == {"service_level": {"UO2.2": 3.0}} and c.interviews == a.interviews
    assert [SamplingPlan.from_dict(p.to_dict()) for p in (a, b, c)] == [a, b, c]  # round trip


def _plans(text: str, tmp_path: Path) -> list[SamplingPlan]:
    path = tmp_path / "plans.toml"
    path.write_text(text, encoding="utf-8")
    return load_plans(path)


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "[[plan]]\nname = 'a'\npersons = 10\ncolour = 1",
            r"plan 'a': unknown key\(s\) \['colour'\]",
        ),
        ("[[plan]]\nname = 'a'\nkind = 'cohort'\npersons = 10", r"kind = 'cohort'"),
        ("[[plan]]\nname = 'a b'\npersons = 10", "plan name 'a b'"),
        ("[[plan]]\npersons = 10", "has no name"),
        ("[[plan]]\nname = 'a'\npersons = 0", r"plan 'a': persons = 0"),
        ("[[plan]]\nname = 'a'\npersons = 10.5", "persons = 10.5"),
        ("[[plan]]\nname = 'a'", "a panel needs persons"),
        ("[[plan]]\nname = 'a'\npersons = 10\nwaves = [1, 12]", r"waves \[12\] are not among"),
        ("[[plan]]\nname = 'a'\npersons = 10\nattrition = [0.1]", "one share per wave but"),
        ("[[plan]]\nname = 'a'\npersons = 10\nattrition = [0.1, 1.0]", r"attrition \[1.0\]"),
        (
            "[[plan]]\nname = 'a'\nrespondents = {1 = 10, 6 = 12}",
            "respondents at 6 months .12. exceed those at 1 months .10.: a panel only loses",
        ),
        (
            "[[plan]]\nname = 'a'\nkind = 'cross_sections'\nrespondents = {1 = 10}\n"
            "attrition = [0.1]",
            "attrition is for panels",
        ),
        ("[[plan]]\nname = 'a'\nkind = 'cross_sections'", "need respondents"),
        (
            "[[plan]]\nname = 'a'\nkind = 'cross_sections'\nrespondents = {2 = 10}",
            r"respondents: wave '2' is not among",
        ),
        (
            "[[plan]]\nname = 'a'\nkind = 'cross_sections'\nrespondents = {1 = 'many'}",
            r"respondents at 1 months = 'many'",
        ),
        (
            "[[plan]]\nname = 'a'\npersons = 10\noversample = {colour = {red = 2.0}}",
            r"oversample.colour: not a column a plan can allocate on",
        ),
        (
            "[[plan]]\nname = 'a'\npersons = 10\noversample = {region = {Corse = 0}}",
            r"oversample.region.Corse = 0; expected a number > 0",
        ),
        ("[[plan]]\nname = 'a'\npersons = 10\n[[plan]]\nname = 'a'\npersons = 5", "used twice"),
        ("title = 'x'", r"unknown top-level key\(s\) \['title'\]"),
        ("", "no plan"),
        ("[[plan]\nname = 'a'", "not valid TOML"),
    ],
)
def test_plan_files_are_refused_naming_the_key(text, message, tmp_path):
    with pytest.raises(PlanError, match=message) as e:
        _plans(text, tmp_path)
    assert "plans.toml" in str(e.value)  # the file is named


def test_plans_are_checked_against_the_scenario_and_the_population():
    over = plans_from_dict(
        {"plan": [{"name": "a", "persons": 10, "oversample": {"region": {"Apec": 2.0}}}]}
    )
    with pytest.raises(PlanError, match=r"level\(s\) \['Apec'\] are not among"):
        check_plans(over, "cep2021", 1_000)
    check_plans(  # Apec is an operator of the crossed scenario, not a region
        plans_from_dict(
            {"plan": [{"name": "a", "persons": 10, "oversample": {"operator": {"Apec": 2.0}}}]}
        ),
        "cep_crossed",
        1_000,
    )
    big = [SamplingPlan.cross_sections("x", 400)]  # 1,200 distinct persons
    with pytest.raises(PlanError, match="needs 1,200 persons, more than the population's 1,000"):
        check_plans(big, "cep2021", 1_000)


# ---------------------------------------------------------------------- the surveys plans draw
def test_a_panel_follows_its_persons_and_loses_exactly_its_attrition(population):
    plan = SamplingPlan.panel("p", 500, attrition=(0.2, 0.5))
    assert plan.interviews == {1: 500, 6: 400, 18: 200}
    sim = draw_survey(population, plan)
    sv = sim.survey
    ids = {w: set(sv.loc[sv["months_since_exit"] == w, "person_id"]) for w in (1, 6, 18)}
    assert {w: len(v) for w, v in ids.items()} == plan.interviews
    assert ids[18] <= ids[6] <= ids[1]  # a panel only loses persons
    assert len(sv) == plan.rows and sv["person_id"].nunique() == plan.persons
    # one weight per person, set at recruitment
    assert (sv.groupby("person_id")["weight"].nunique() == 1).all()
    assert int(sim.persons["in_survey"].sum()) == 500
    assert draw_survey(population, plan).survey.equals(sv)  # deterministic


@pytest.mark.filterwarnings("ignore:raking")  # a level no respondent has
def test_cross_sections_draw_new_persons_at_each_wave(population):
    plan = SamplingPlan.cross_sections("x", {1: 300, 6: 200, 18: 250})
    sim = draw_survey(population, plan)
    sv = sim.survey
    assert sv.groupby("months_since_exit").size().to_dict() == {1: 300, 6: 200, 18: 250}
    assert sv["person_id"].is_unique  # one row per person: nobody answers twice
    for w in (1, 6, 18):  # each wave's sample is weighted on its own, to mean 1
        assert sv.loc[sv["months_since_exit"] == w, "weight"].mean() == pytest.approx(1.0)
    assert int(sim.persons["in_survey"].sum()) == 750


def test_a_panel_without_attrition_or_oversampling_is_the_simulators_survey(population):
    from capmodel.simulate import simulate

    sim = draw_survey(population, SamplingPlan.panel("p", 300))
    ref = simulate("cep2021", seed=3, n_population=4_000, n_survey=300, waves=(1, 6, 18))
    pd.testing.assert_frame_equal(sim.survey, ref.survey)
    pd.testing.assert_frame_equal(sim.population, ref.population)


def _shares(population, plan, column, level, draws=12):
    """Mean over ``draws`` survey draws (the same population) of the unweighted and the
    weighted share of ``column == level`` among the respondents, and its population share."""
    raw, weighted = [], []
    for k in range(draws):
        pop = dataclasses.replace(
            population, rng_state=dict(np.random.default_rng(100 + k).bit_generator.state)
        )
        first = draw_survey(pop, plan).survey.drop_duplicates("person_id")
        hit = (first[column] == level).to_numpy(float)
        raw.append(hit.mean())
        weighted.append(np.average(hit, weights=first["weight"]))
    frame = population.frame()
    return float(np.mean(raw)), float(np.mean(weighted)), float((frame[column] == level).mean())


def test_oversampling_raises_the_share_and_the_weights_undo_it(population):
    import warnings

    base = SamplingPlan.panel("a", 400)
    uo = SamplingPlan.panel("c", 400, oversample={"service_level": {"UO2.2": 3.0}})
    raw0, w0, pop_share = _shares(population, base, "service_level", "UO2.2", draws=1)
    raw3, w3, _ = _shares(population, uo, "service_level", "UO2.2", draws=1)
    assert raw3 > 1.8 * raw0  # three times the odds of being drawn
    assert w3 == pytest.approx(pop_share, abs=1e-6)  # a quota variable: raked exactly
    # region is no quota variable: the design weights 1/f carry the correction
    region = "Bretagne"
    plan = SamplingPlan.panel("r", 400, oversample={"region": {region: 4.0}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small regions with no respondent in some draws
        raw, weighted, share = _shares(population, plan, "region", region)
        raw_base, weighted_base, _ = _shares(population, base, "region", region)
    assert raw > 2.5 * share
    assert abs(weighted - share) < 0.25 * share  # undone in expectation ...
    assert abs(weighted - weighted_base) < 0.25 * share  # ... as without oversampling


@pytest.mark.filterwarnings("ignore:raking")  # a level no respondent has
def test_the_truth_of_a_plans_survey(population):
    """SampleTruth works on a plan's survey at each wave; the study's Truth (any realisation
    over the spec's realisations) is SampleTruth's own when the spec models them all; the
    surveyed persons can be evaluated at a wave they were not seen at."""
    from capmodel.studies.design_estimands import Truth, population_truth
    from capmodel.validation.truth_effects import (
        SampleTruth,
        population_cep_effect,
        population_margins,
    )

    sim = draw_survey(population, SamplingPlan.cross_sections("x", 200))
    st = SampleTruth.of(sim, 18)
    assert st.world.n == 200
    t = Truth(st, S.REALISATIONS, weighted=True)
    any_ = "any_realisation"
    assert t.total_effect("cep") == pytest.approx(
        st.total_effect("observed", "none", weighted=True)[any_]
    )
    assert t.total_effect("reflection") == pytest.approx(
        st.total_effect({"reflection": 1}, {"reflection": 0}, weighted=True)[any_]
    )
    assert t.nie("cep") == pytest.approx(
        st.mediation("observed", "none", weighted=True)[any_]["nie"]
    )
    assert t.pn_share() == pytest.approx(st.necessity_share(weighted=True))
    types = st.pathway_types(0.5)
    shares = t.pathway_shares(0.5)
    for k in (1, 2, 3, 4, 5):
        assert shares[k] == pytest.approx(np.average(types == k, weights=st.weight))
    margin, effect = population_truth(sim, S.REALISATIONS, 6)
    assert margin == pytest.approx(population_margins(sim, 6)[any_])
    assert effect == pytest.approx(population_cep_effect(sim, 6)[any_])
    every = everyone_at(population, sim, 18)
    assert len(every.survey) == 600 and set(every.survey["months_since_exit"]) == {18}
    assert Truth(SampleTruth.of(every, 18), ["training"], True).total_effect("cep") > 0


# ---------------------------------------------------------------------- summary and page
def _records() -> tuple[dict, list[dict]]:
    plans = [
        {"name": "A", "kind": "panel", "respondents": {"1": 100, "6": 80}, "persons": 100},
        {"name": "B", "kind": "cross_sections", "respondents": {"1": 90, "6": 90}, "persons": 180},
    ]
    plans[0]["rows"], plans[1]["rows"] = 180, 180
    records = {}
    for p, width in (("A", 0.10), ("B", 0.20)):
        for r in range(2):
            est = [
                {
                    "estimand": "total_effect[cep, 6 m]",
                    "block": "total_effect",
                    "what": "cep",
                    "horizon": 6,
                    "estimate": 0.1,
                    "lower": 0.1 - width / 2 + 0.01 * r,
                    "upper": 0.1 + width / 2 + 0.01 * r,
                    "width": width,
                    "excludes_zero": width < 0.15,
                    "truth": 0.1,
                    "covered": r == 0,
                },
                {
                    "estimand": "pn_share[changers, 6 m]",
                    "block": "pn_share",
                    "what": "changers",
                    "horizon": 6,
                    "estimate": 0.3,
                    "lower": 0.2,
                    "upper": 0.4,
                    "width": 0.2,
                    "excludes_zero": None,
                    "truth": 0.3,
                    "covered": True,
                },
            ]
            records[task_key(p, r)] = {"status": "ok", "verdict": "pass", "estimates": est}
    records[task_key("B", 1)] = {"status": "failed", "error": "ValueError: <script>bad</script>"}
    return records, plans


def test_the_summary_and_its_page(tmp_path):
    from capmodel.studies.design_page import write_design_page

    records, plans = _records()
    s = summarise(records, plans, 2, {"scenario": "cep2021", "n_population": 1000})
    t = s.table.set_index(["plan", "estimand"])
    a = t.loc[("A", "total_effect[cep, 6 m]")]
    assert a["n"] == 2 and a["mean_width"] == pytest.approx(0.10) and a["coverage"] == 0.5
    assert a["se_coverage"] == pytest.approx(np.sqrt(0.25 / 2))
    assert a["p_excludes_zero"] == 1.0 and (a["persons"], a["rows"]) == (100, 180)
    b = t.loc[("B", "total_effect[cep, 6 m]")]
    assert b["n"] == 1 and b["p_excludes_zero"] == 0.0  # the failed replicate is left out
    assert np.isnan(t.loc[("A", "pn_share[changers, 6 m]")]["p_excludes_zero"])
    assert (s.finished, s.failed, s.complete) == (3, 1, False)
    w = wide(s, "width")
    assert list(w.columns) == ["estimand", "A", "B"] and w.iloc[0, 0] == "total_effect[cep, 6 m]"
    md = markdown(s, "capmodel design x")
    assert "| total_effect[cep, 6 m] | 100% | 0% |" in md and "Command: `capmodel design x`" in md
    assert "pn_share" not in md.split("P(the 90% interval excludes 0)")[1].split("Coverage")[0]
    s.write(tmp_path)
    assert len(pd.read_csv(tmp_path / "design.csv")) == 4
    html = write_design_page(s, tmp_path / "design.html").read_text(encoding="utf-8")
    assert "<svg" in html and "&lt;script&gt;bad" in html and "<script>bad" not in html
    assert "Incomplete" in html


# ---------------------------------------------------------------------- the command's checks
@pytest.fixture
def no_cluster(monkeypatch):
    import capmodel.studies.design as design

    def refuse(*a, **k):
        raise AssertionError("a cluster was started")

    monkeypatch.setattr(design, "open_client", refuse)


def test_cli_checks_everything_before_any_cluster(tmp_path, capsys, no_cluster):
    spec = str(ROOT / "models" / "capability.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[plan]]\nname = 'a'\npersons = 10\nattrition = 0.1\n", encoding="utf-8")
    doc = tmp_path / "design.md"
    doc.write_text("# no block\n", encoding="utf-8")

    def run(*argv: str) -> tuple[int, str]:
        code = main(["design", *argv, "--no-progress"])
        return code, capsys.readouterr().err

    out = ["--out", str(tmp_path / "study")]
    code, err = run(str(bad), "--spec", spec, "--reps", "1", *out)
    assert code == 1 and "bad.toml: plan 'a': attrition = 0.1" in err
    code, err = run(str(EXAMPLE), "--spec", spec, "--reps", "1", "--n-population", "3000", *out)
    assert code == 1 and "plan 'B-cross': needs 4,890 persons" in err
    code, err = run(str(EXAMPLE), "--spec", "nope.toml", "--reps", "1", *out)
    assert code == 1 and "model spec not found" in err
    code, err = run(str(EXAMPLE), "--spec", spec, "--reps", "1", "--doc", str(doc), *out)
    assert code == 1 and "design:start" in err
    code, err = run(str(tmp_path / "none.toml"), "--spec", spec, "--reps", "1", *out)
    assert code == 1 and "plans file not found" in err
    assert not (tmp_path / "study").exists()
    with pytest.raises(SystemExit) as e:
        main(["design", str(EXAMPLE), "--spec", spec, "--reps", "1", "--scenario", "x", *out])
    assert e.value.code == 2


def test_cli_passes_its_options_and_prints_the_widths(tmp_path, capsys, monkeypatch):
    import capmodel.studies.design as design

    records, plans = _records()
    summary = summarise(records, plans, 2, {})
    seen = {}

    def fake(plans, spec, **kw):
        seen.update(kw, plans=plans, spec=spec)
        return design.DesignResult(summary, Path(kw["out"]), Path(kw["out"]) / "design.html")

    monkeypatch.setattr(design, "design_study", fake)
    out = str(tmp_path / "study")
    spec = str(ROOT / "models" / "capability.toml")
    argv = ["design", str(EXAMPLE), "--spec", spec, "--reps", "2", "--out", out]
    argv += ["--n-population", "20000", "--draws", "300", "--estimands", "nie", "mrp"]
    code = main(argv)
    printed = capsys.readouterr().out
    assert code == 3  # a fit failed
    assert "3 of 4 fits finished" in printed and "failed: B, replicate 1" in printed
    assert "total_effect[cep, 6 m]" in printed and "0.100 ± 0.000" in printed
    assert [p.name for p in seen["plans"]] == ["A-panel", "B-cross", "C-panel-UO22x3"]
    assert (seen["n_population"], seen["draws"], seen["tune"]) == (20000, 300, None)
    assert seen["estimands"] == ("nie", "mrp") and seen["weights"] == "survey"
    command = seen["command"]  # printed under the tables
    assert command.startswith("capmodel design ") and "--n-population 20000 --draws 300" in command


def test_the_doc_block_is_replaced(tmp_path):
    from capmodel.studies.design import write_doc

    doc = tmp_path / "design.md"
    doc.write_text("a\n<!-- design:start -->\nold\n<!-- design:end -->\nb\n", encoding="utf-8")
    write_doc(doc, "| new |")
    assert doc.read_text() == "a\n<!-- design:start -->\n| new |\n<!-- design:end -->\nb\n"


def test_docs_describe_the_design_study():
    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    for word in ("capmodel design", "cross_sections", "attrition", "oversample", "coverage"):
        assert word in text, word
    assert text.count("<!-- design:start -->") == 1 and "<!-- design:end -->" in text
    assert "models/plans/followup.toml" in text
    from capmodel.studies.design import check_doc

    check_doc(ROOT / "docs" / "design.md")  # the study's command can write its table there


# ---------------------------------------------------------------------- end to end
def _tiny_latent_spec():
    """models/capability.toml cut down to compile and sample in seconds: the four supports,
    one factor, two binary indicators, two realisations, no groups, no confounders."""
    from capmodel.spec import load_spec, spec_from_dict

    d = load_spec(ROOT / "models" / "capability.toml").to_dict()
    d["name"] = "tiny-latent"
    d["model"]["confounders"] = []
    d["capability"].update({"factors": ["sex"], "conversion": {}})
    d["measurement"]["indicators"] = ["cap_options", "cap_decision"]
    d["realisations"].update({"outcomes": ["training", "occupation_change"], "factors": []})
    d["groups"] = {"columns": []}
    return spec_from_dict(d)


@pytest.mark.slow  # NUTS fits
@pytest.mark.filterwarnings("ignore:raking")  # tiny surveys: levels no respondent has
def test_a_small_design_study_end_to_end_and_resumed(tmp_path):
    """Two plans x 1 replicate on an in-process dask client: each fit's estimands are
    recorded with their truth; the tables, the page and the doc block are written; a rerun
    fits nothing again."""
    from distributed import Client

    from capmodel.studies.design import design_study, load_design

    plans = [
        SamplingPlan.panel("P", 150, waves=(1, 18), attrition=(0.2,)),
        SamplingPlan.cross_sections("X", {6: 60, 18: 60}),
    ]
    doc = tmp_path / "design.md"
    doc.write_text("<!-- design:start -->\n<!-- design:end -->\n", encoding="utf-8")
    out = tmp_path / "study"
    kw = {
        "reps": 1,
        "out": out,
        "n_population": 2_000,
        "draws": 40,
        "tune": 40,
        "chains": 2,
        "effect_draws": 10,
        "doc": doc,
        "progress": False,
    }
    spec = _tiny_latent_spec()
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0") as c:
        result = design_study(plans, spec, scheduler=c, **kw)
        s = result.summary
        assert s.complete and sorted(result.run.finished) == ["r00000-P", "r00000-X"]
        rec = json.loads((out / "tasks" / "r00000-P.json").read_text())
        assert rec["status"] == "ok" and rec["survey_rows"] == 150 + 120
        assert rec["estimand_errors"] == []
        blocks = {e["block"] for e in rec["estimates"]}
        assert blocks == {
            "total_effect",
            "nie",
            "pn_share",
            "pathway_share",
            "mrp_margin",
            "mrp_cep_effect",
        }
        assert {e["horizon"] for e in rec["estimates"]} == {1, 18}  # the waves it observes
        for e in rec["estimates"]:
            assert e["truth"] is not None and e["width"] > 0, e
        table = pd.read_csv(out / "design.csv")
        assert set(table["plan"]) == {"P", "X"}
        assert table["coverage"].between(0, 1).all()
        html = (out / "design.html").read_text(encoding="utf-8")
        assert "<svg" in html and "total effect on any realisation" in html
        assert "total_effect[cep, 18 m]" in doc.read_text(encoding="utf-8")
        again = design_study(plans, spec, scheduler=c, **kw)  # resumed: nothing refitted
        assert again.resumed and again.run.submitted == [] and len(again.run.skipped) == 2
    assert load_design(out).table.equals(s.table)
