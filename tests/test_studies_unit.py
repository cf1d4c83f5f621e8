"""The studies without a cluster (docs/studies.md): the ECDF band against known cases, ranks
and thinning, seeds, the summary and its page (escaped), the study folder's resume and refusal
rules, and the command line checks made before any cluster starts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from studies_tiny import write_tiny

from capmodel.cli import main
from capmodel.studies.ecdf import (
    ecdf,
    holm,
    p_values,
    pit_values,
    simultaneous_band,
    uniformity,
)
from capmodel.studies.replicate import choose_thin, flatten, ranks, replicate_seeds
from capmodel.studies.sbc_page import write_sbc_page
from capmodel.studies.sbc_summary import summarise
from capmodel.studies.studydir import check_study_path, open_study


def test_band_covers_uniform_ecdfs_at_its_level():
    """The simultaneous 99% band holds the whole ECDF of n uniform values 99% of the time
    (Säilynoja et al. 2022), and is wider than the pointwise 99% binomial band."""
    from scipy.stats import binom

    n = 50
    band = simultaneous_band(n, 0.99)
    assert band.z.shape == (n - 1,) and 0.99 < band.pointwise_prob < 1
    rng = np.random.default_rng(7)
    inside = [
        bool(((f >= band.lower) & (f <= band.upper)).all())
        for f in (ecdf(rng.uniform(size=n), band.z) for _ in range(2000))
    ]
    assert 0.975 <= np.mean(inside) <= 0.999
    from capmodel.studies.ecdf import _critical_tail, _inside_probability

    # exactly: at least 99% inside (the counts are discrete), and barely more
    for size in (50, 200):
        critical = _critical_tail(size, size, 0.01)
        assert simultaneous_band(size, 0.99).pointwise_prob == 1 - critical
        assert 0.99 <= _inside_probability(size, size, np.array([critical]))[0] < 0.995
    # two values: any ECDF has probability >= 1/4, so the band holds them all (ArviZ's
    # simulated band was [0, 0.5] at z = 0.5)
    tiny = simultaneous_band(2, 0.99)
    assert tiny.lower.tolist() == [0.0] and tiny.upper.tolist() == [1.0]
    assert uniformity(np.array([0.1, 0.2])).passes
    lo = binom.ppf(0.005, n, band.z) / n
    hi = binom.ppf(0.995, n, band.z) / n
    assert (band.lower <= lo + 1e-12).all() and (band.upper >= hi - 1e-12).all()
    assert ((band.lower < lo) | (band.upper > hi)).any()


def test_uniformity_fails_overconfident_and_biased_ranks():
    rng = np.random.default_rng(3)
    assert uniformity(rng.uniform(size=200)).passes
    narrow = rng.beta(0.5, 0.5, size=200)  # truth too often in the tails: overconfident
    biased = rng.uniform(size=200) ** 1.6  # truth ranked low: posteriors too high
    for pit in (narrow, biased):
        u = uniformity(pit)
        assert not u.passes and u.outside > 0 and u.max_abs_difference > 0.05
    # PIT values of discrete ranks uniform on 0..L are uniform on (0, 1)
    r = rng.integers(0, 11, size=200)
    assert uniformity(pit_values(r, np.full(200, 10), rng)).passes


def test_exact_p_values_match_simulation_and_the_band():
    """The exact p-value of the band's statistic equals its simulated null distribution, a
    sample outside the simulated 99% band has p below about 0.01, and for uniform samples
    the p-values are uniform."""
    from capmodel.studies.ecdf import _inside_probability, _statistic, eval_points

    n = 40
    rng = np.random.default_rng(21)
    null = np.array([_statistic(rng.uniform(size=n), n) for _ in range(4000)])
    for q in (0.01, 0.05, 0.25, 0.5):
        t = np.quantile(null, q)
        exact = 1 - _inside_probability(n, n, np.array([t]))[0]
        simulated = float((null <= t).mean())
        assert abs(exact - simulated) <= 4 * np.sqrt(simulated * (1 - simulated) / null.size)
    band = simultaneous_band(n, 0.99)
    assert np.array_equal(band.z, eval_points(n))
    samples = [rng.uniform(size=n) for _ in range(600)]
    p = p_values(samples)
    assert 0.4 < np.median(p) < 0.6 and np.mean(p < 0.1) == pytest.approx(0.1, abs=0.04)
    outside = np.array([not uniformity(x).passes for x in samples])
    assert outside.any() and np.array_equal(outside, p <= 0.01)  # the band and p agree
    assert p_values([rng.uniform(size=n) ** 2])[0] < 1e-6  # far from uniform


def test_holm_adjustment():
    adjusted = holm(np.array([0.01, 0.04, 0.03, np.nan, 0.5]))
    assert adjusted[:3].tolist() == pytest.approx([0.04, 0.09, 0.09])
    assert np.isnan(adjusted[3]) and adjusted[4] == pytest.approx(0.5)
    assert holm(np.array([0.001] * 2000)).min() == 1.0


def test_many_calibrated_estimands_pass_at_the_family_wise_level():
    """Some of 300 calibrated estimands leave their own 99% band by chance; the study passes
    (Holm over the estimands); one overconfident estimand among them fails it."""
    rng = np.random.default_rng(4)
    names = [f"b[{i}]" for i in range(300)] + ["narrow"]
    records = {}
    for r in range(100):
        rk = [int(x) for x in rng.integers(0, 51, size=300)]
        rk.append(int(rng.choice([0, 1, 49, 50])))  # truth in the tails: overconfident
        records[f"r{r:05d}"] = {
            "replicate": r,
            "seeds": replicate_seeds(2, r),
            "status": "ok",
            "L": 50,
            "estimands": names,
            "kinds": ["parameter"] * len(names),
            "ranks": rk,
            "truth": [0.0] * len(names),
            "mean": [0.0] * len(names),
        }
    s = summarise(records, 100, {})
    assert s.failing == ["narrow"] and s.verdict == "fail"
    assert "narrow" in s.outside_band and s.expected_outside == pytest.approx(3.01)
    calibrated = {
        k: {**v, "estimands": names[:-1], "kinds": v["kinds"][:-1], "ranks": v["ranks"][:-1]}
        for k, v in records.items()
    }
    s = summarise(calibrated, 100, {})
    assert s.verdict == "pass" and not s.failing
    e = s.estimands.set_index("estimand")
    assert (e["holm_p_value"] >= e["p_value"]).all() and e["p_value"].between(0, 1).all()


def test_ranks_thinning_and_seeds():
    rng = np.random.default_rng(0)
    draws = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0], [3.0, 1.0]])
    rk = ranks(np.array([1.5, 1.0]), draws, rng)
    assert rk[0] == 2 and 0 <= rk[1] <= 4  # ties split at random
    # iid draws: no thinning; an AR(1) chain with rho = 0.95: thin by its ESS
    iid = xr.Dataset({"a": (("chain", "draw"), rng.normal(size=(2, 400)))})
    assert choose_thin(iid, None)[0] <= 2
    x = np.zeros((2, 400))
    for t in range(1, 400):
        x[:, t] = 0.95 * x[:, t - 1] + rng.normal(size=2)
    thin, ess = choose_thin(xr.Dataset({"a": (("chain", "draw"), x)}), None)
    assert thin == int(np.ceil(800 / ess)) and thin >= 5
    assert choose_thin(iid, 7)[0] == 7
    # seeds: a function of (seed, r) only; distinct between replicates and studies
    assert replicate_seeds(1, 3) == replicate_seeds(1, 3)
    assert replicate_seeds(1, 3) != replicate_seeds(1, 4) != replicate_seeds(2, 3)
    # vector parameters flattened into labelled scalars
    post = xr.Dataset(
        {"b": (("chain", "draw", "r", "k"), rng.normal(size=(2, 5, 1, 2)))},
        coords={"r": ["training"], "k": ["information", "reflection"]},
    )
    truth = {"b": xr.DataArray([[0.1, 0.2]], dims=("r", "k"))}
    labels, tv, dv = flatten(post, truth)
    assert labels == ["b[training, information]", "b[training, reflection]"]
    assert tv.tolist() == [0.1, 0.2] and dv.shape == (10, 2)


def _records(n_ok: int, rng, bad: str = "") -> dict:
    """Synthetic replicate records: two calibrated estimands (and ``bad``, ranked high)."""
    out = {}
    for r in range(n_ok):
        names = ["a[x]", "total_effect[cep, any_realisation]"] + ([bad] if bad else [])
        rk = [int(rng.integers(0, 51)), int(rng.integers(0, 51))]
        if bad:
            rk.append(int(rng.integers(40, 51)))
        out[f"r{r:05d}"] = {
            "replicate": r,
            "seeds": replicate_seeds(1, r),
            "status": "ok",
            "L": 50,
            "thin": 2,
            "min_ess": 60.0,
            "divergences": int(r == 0),
            "verdict": "warn",
            "max_rhat": 1.01,
            "estimands": names,
            "kinds": ["parameter", "derived"] + (["parameter"] if bad else []),
            "ranks": rk,
            "truth": [0.0] * len(names),
            "mean": [0.0] * len(names),
            "seconds": 1.0,
        }
    return out


def test_summary_and_page_say_what_failed_and_escape_it(tmp_path):
    rng = np.random.default_rng(11)
    records = _records(40, rng, bad="c")
    records["r00040"] = {
        "replicate": 40,
        "status": "failed",
        "error": "ValueError: <script>alert(1)</script>",
        "seconds": 0.5,
    }
    records["r00099"] = {**records["r00001"], "replicate": 99}  # beyond reps: left out
    s = summarise(records, 42, {"spec_name": "tiny<b>", "seed": 1, "data_hash": "abc"})
    assert (s.finished, s.failed, s.missing) == (40, 1, 1)
    assert s.failing == ["c"] and s.verdict == "fail"
    assert s.share("divergent") == pytest.approx(1 / 40)
    assert set(s.estimands["estimand"]) == {"a[x]", "total_effect[cep, any_realisation]", "c"}
    calibrated = {k: v for k, v in _records(40, rng).items()}
    assert summarise(calibrated, 40, {}).verdict == "pass"
    calibrated["r00040"] = records["r00040"]  # a failed replicate: the ranks are incomplete
    assert summarise(calibrated, 41, {}).verdict == "incomplete"
    assert s.estimands.set_index("estimand").loc["a[x]", "verdict"] == "pass"
    paths = s.write(tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["finished"] == 40 and summary["estimands_failing"] == ["c"]
    assert len(paths) == 4 and (tmp_path / "ranks.csv").read_text().count("\n") == 40 * 3 + 1
    # a fit report of the same spec beside the study is linked
    fit = tmp_path.parent / "fit-of-tiny"
    fit.mkdir(exist_ok=True)
    (fit / "manifest.json").write_text(json.dumps({"spec": {"name": "tiny<b>"}}))
    (fit / "report.html").write_text("<html></html>")
    page = write_sbc_page(s, tmp_path / "sbc.html", tmp_path).read_text(encoding="utf-8")
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "tiny<b>" not in page and "tiny&lt;b&gt;" in page
    assert 'href="../fit-of-tiny/report.html"' in page
    assert "fail at the family-wise 1% level" in page and "Holm p" in page
    assert page.count("<svg") >= 4


def test_study_folder_resumes_the_same_study_and_refuses_others(tmp_path):
    out = tmp_path / "study"
    settings = {"kind": "sbc", "seed": 1, "draws": 100, "reps": 4}
    assert open_study(out, settings) is False
    assert open_study(out, {**settings, "reps": 8}) is True  # more replicates: resumed
    (out / "replicates").mkdir()
    with pytest.raises(FileExistsError, match="draws: 100 then, 200 now"):
        open_study(out, {**settings, "draws": 200})
    assert open_study(out, {**settings, "draws": 200}, overwrite=True) is False
    assert not (out / "replicates").exists()
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.txt").write_text("x")
    with pytest.raises(FileExistsError, match="holds no capmodel study"):
        check_study_path(other)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        check_study_path(tmp_path / "file")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check_study_path(empty) == empty


@pytest.fixture
def no_cluster(monkeypatch):
    """Fail a test that would start a cluster."""
    import capmodel.studies.grid as grid
    import capmodel.studies.sbc as sbc

    def refuse(*a, **k):
        raise AssertionError("a cluster was started")

    for module in (sbc, grid):  # where the studies look it up
        monkeypatch.setattr(module, "open_client", refuse)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["sbc", "S", "--data", "D", "--out", "O", "--reps", "0"], "expected a number >= 1"),
        (["sbc", "S", "--data", "D", "--out", "O", "--reps", "x"], "expected a whole number"),
        (["sbc", "S", "--data", "D", "--out", "O"], "--reps"),
        (["sbc", "S", "--data", "D", "--out", "O", "--reps", "2", "--thin", "0"], ">= 1"),
        (["grid", "S", "--data", "D", "--out", "O", "--seeds", "-1"], "seed in"),
        (
            ["sbc", "S", "--data", "D", "--out", "O", "--reps", "2", "--estimands", "mrp"],
            "invalid choice: 'mrp'",
        ),
    ],
)
def test_cli_options_are_parsed_first(argv, message, capsys, no_cluster):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_cli_refuses_outputs_and_options_before_any_cluster(tmp_path, capsys, no_cluster):
    spec, data = write_tiny(tmp_path / "in")
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")

    def run(*argv: str) -> tuple[int, str]:
        code = main(list(argv))
        return code, capsys.readouterr().err

    base = ["sbc", str(spec), "--data", str(data), "--reps", "2", "--no-progress"]
    code, err = run(*base, "--out", str(other))
    assert code == 1 and "holds no capmodel study" in err and "--overwrite" in err
    assert (other / "notes.txt").read_text() == "mine"
    code, err = run(
        *base, "--out", str(tmp_path / "new"), "--scheduler", "tcp://x:1", "--workers", "3"
    )
    assert code == 1 and "--workers" in err
    code, err = run(*base, "--out", str(tmp_path / "x" / "y"), "--scheduler", " ")
    assert code == 1 and "empty address" in err
    code, err = run("sbc", str(tmp_path / "nope.toml"), *base[2:], "--out", str(tmp_path / "n"))
    assert code == 1 and "model spec not found" in err
    # a study folder made with other settings is refused, naming them, after the data is read
    study = tmp_path / "study"
    open_study(study, {"kind": "sbc", "seed": 1})
    code, err = run(*base, "--out", str(study))
    assert code == 1 and "other settings" in err and "draws" in err
    code, err = run("grid", str(spec), "--data", str(data), "--out", str(tmp_path / "g"))
    assert code == 1 and "two or more fits" in err
    code, err = run(
        "grid", str(spec), str(spec), "--data", str(data), "--out", str(tmp_path / "g2")
    )
    assert code == 1 and "two specs are named 'tiny'" in err
    assert not (tmp_path / "g").exists() and not (tmp_path / "g2").exists()


def test_docs_describe_the_commands():
    text = (Path(__file__).resolve().parents[1] / "docs" / "studies.md").read_text("utf-8")
    for word in ("capmodel sbc", "capmodel grid", "--scheduler", "resume", "Säilynoja", "thin"):
        assert word in text, word


def test_a_large_variable_gets_one_overlaid_panel(tmp_path):
    rng = np.random.default_rng(5)
    names = [f"region_effect[r{i}]" for i in range(15)]
    records = {
        f"r{r:05d}": {
            "replicate": r,
            "seeds": replicate_seeds(2, r),
            "status": "ok",
            "L": 20,
            "estimands": names,
            "kinds": ["parameter"] * 15,
            "ranks": [int(x) for x in rng.integers(0, 21, 15)],
            "truth": [0.0] * 15,
            "mean": [0.0] * 15,
        }
        for r in range(30)
    }
    s = summarise(records, 30, {"spec_name": "big"})
    page = write_sbc_page(s, tmp_path / "sbc.html").read_text(encoding="utf-8")
    assert "region_effect: all 15 elements in one panel" in page
    assert "15 of 15 elements within the band" in page and page.count("<svg") == 1


def test_cli_sbc_estimands_are_the_studys():
    """`capmodel sbc --estimands` offers what capmodel.studies.replicate ranks (the CLI keeps
    its own copy so as not to import the studies at start-up)."""
    from capmodel.cli import SBC_ESTIMANDS
    from capmodel.studies.replicate import ESTIMANDS

    assert SBC_ESTIMANDS == ESTIMANDS
