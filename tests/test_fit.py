"""Fitting by NUTS on small simulated data: recovery, reproducibility, provenance, fit store.

One small fit is shared by the test session (tests/conftest.py: the first numba compile of a
model costs 1-2 minutes on a fresh machine; later ones in the same process reuse it).
"""

import json
import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import QUICK_FIT_SETTINGS as QUICK
from conftest import SMALL_FIT_SETTINGS as SETTINGS

import capmodel
import capmodel.effects
import capmodel.fitting
from capmodel.cli import main
from capmodel.fitting import FitFileError, load_fit
from capmodel.validation.recovery import recovery_table, true_values

# the fixtures sim, spec and small_fit (seed 5, SETTINGS) are shared by the session


def test_posterior_covers_the_simulators_truth(small_fit, sim):
    table = recovery_table(
        small_fit.posterior, true_values(sim.params, small_fit.posterior, small_fit.design)
    )
    assert set(table["block"]) >= {"structural", "measurement", "realisation", "group scale"}
    assert len(table) > 150
    by_block = table.groupby("block")["covered"].mean()
    # 90% intervals: overall coverage near 0.9; every block well above chance
    assert table["covered"].mean() >= 0.8, table[~table["covered"]].to_string()
    assert (by_block >= 0.7).all(), by_block


@pytest.mark.slow
def test_same_seed_same_draws_other_seed_other_draws(sim, spec, capsys):
    full = capmodel.fit(spec, sim.survey, seed=5, keep_residuals=15, **QUICK)
    again = capmodel.fit(spec, sim.survey, seed=5, keep_residuals=15, **QUICK)
    for name in ("support_effect", "loading"):
        np.testing.assert_array_equal(again.posterior[name].values, full.posterior[name].values)
    # keep_residuals=15: 15 of the 20 draws per chain, evenly spaced, as float32
    n = QUICK["draws"]
    kept = again.residual_draws["capability_residual"]
    assert kept.dtype == np.float32 and kept.sizes["draw"] == 15
    assert kept["draw"].values[[0, -1]].tolist() == [0, n - 1]
    np.testing.assert_array_equal(
        kept.values, full.residual_draws["capability_residual"].sel(draw=kept["draw"]).values
    )
    assert again.manifest["residuals"] == {
        "variable": "capability_residual",
        "stored": True,
        "group": "residual_draws",
        "draws_per_chain": 15,
        "of_draws_per_chain": n,
        "dtype": "float32",
    }
    other = capmodel.fit(spec, sim.survey, seed=6, **QUICK)
    assert not np.array_equal(
        other.posterior["support_effect"].values, full.posterior["support_effect"].values
    )
    assert "sampling" not in capsys.readouterr().err  # verbose=False: no stage lines


def test_keep_residuals_true_keeps_200_evenly_spaced_draws_per_chain():
    from capmodel.fitting.fit import RESIDUAL_DRAWS, RESIDUAL_GROUP, _store_residuals

    values = np.random.default_rng(0).normal(size=(2, 220, 7))
    post = xr.Dataset(
        {
            "capability_residual": (("chain", "draw", "person"), values),
            "a": (("chain", "draw"), values[..., 0]),
        },
        coords={"draw": np.arange(220)},
    )
    idata = xr.DataTree.from_dict({"posterior": post})
    info = _store_residuals(idata, True)
    kept = idata[RESIDUAL_GROUP]["capability_residual"]
    assert RESIDUAL_DRAWS == 200 and kept.sizes["draw"] == 200 and kept.dtype == np.float32
    assert kept["draw"].values[[0, -1]].tolist() == [0, 219]
    assert np.all(np.diff(kept["draw"].values) >= 1)
    np.testing.assert_array_equal(kept.values, values[:, kept["draw"].values].astype(np.float32))
    assert "capability_residual" not in idata["posterior"] and "a" in idata["posterior"]
    assert info is not None and info["draws_per_chain"] == 200
    assert info["of_draws_per_chain"] == 220
    idata = xr.DataTree.from_dict({"posterior": post})
    assert _store_residuals(idata, False) == {"variable": "capability_residual", "stored": False}
    assert RESIDUAL_GROUP not in idata.children


def test_manifest_records_provenance(small_fit, spec):
    m = small_fit.manifest
    assert m["settings"]["seed"] == 5 and m["settings"]["sampler"] == "numpyro"
    assert len(m["data"]["hash"]) == 64 and m["data"]["hash"] == small_fit.data.attrs["data_hash"]
    assert {"pymc", "arviz", "numpyro", "jax", "python"} <= set(m["versions"])
    assert {"compile_seconds", "sampling_seconds"} <= set(m["timings"])
    assert m["diagnostics"]["verdict"] in ("pass", "warn", "fail")
    assert m["parameterisation"]["region"] == "noncentred"
    assert small_fit.spec == spec
    assert {"posterior", "sample_stats", "observed_data", "data"} <= set(small_fit.idata.children)
    # tuning draws are not kept (a third of the file with nutpie, which returns them)
    assert "warmup_posterior" not in small_fit.idata.children
    assert {"diverging", "n_steps", "energy"} <= set(small_fit.idata["sample_stats"].data_vars)
    y = small_fit.idata["observed_data"]["y_realisation"].values
    assert y.size == (small_fit.data["realisations"].values >= 0).sum()
    assert m["method"] == "nuts" and m["approximate"] is False
    # nor, by default, the per-person residual draws (most of the file)
    assert "capability_residual" not in small_fit.posterior
    assert small_fit.residual_draws is None
    assert m["residuals"] == {"variable": "capability_residual", "stored": False}


def test_save_load_round_trip(small_fit, small_fit_residuals, tmp_path):
    for name, f in (("fit", small_fit), ("with_residuals", small_fit_residuals)):
        path = f.save(tmp_path / name)
        loaded = capmodel.load_fit(path)
        assert set(loaded.idata.children) == set(f.idata.children)
        for group in {"posterior", "sample_stats", "observed_data", "data", "residual_draws"} & set(
            f.idata.children
        ):
            xr.testing.assert_identical(
                loaded.idata[group].to_dataset(), f.idata[group].to_dataset()
            )
        assert loaded.manifest == f.manifest
        assert loaded.spec == f.spec
        assert loaded.diagnostics == f.diagnostics
    assert loaded.residual_draws["capability_residual"].dtype == np.float32
    extra = (tmp_path / "with_residuals" / "fit.nc").stat().st_size - (
        tmp_path / "fit" / "fit.nc"
    ).stat().st_size
    # chain x draw x person, float32
    assert extra == pytest.approx(2 * SETTINGS["draws"] * 1298 * 4, rel=0.05)


def test_refusals(small_fit, tmp_path):
    path = small_fit.save(tmp_path / "fit")
    with pytest.raises(FileExistsError, match="already exists"):
        small_fit.save(path)
    small_fit.save(path, overwrite=True)
    nc = path / "fit.nc"
    data = bytearray(nc.read_bytes())
    data[len(data) // 2] ^= 0xFF
    nc.write_bytes(bytes(data))
    with pytest.raises(FitFileError, match="modified or truncated"):
        load_fit(path)
    small_fit.save(path, overwrite=True)
    nc.write_bytes(nc.read_bytes()[:1000])
    with pytest.raises(FitFileError, match="modified or truncated"):
        load_fit(path)
    small_fit.save(path, overwrite=True)
    (path / "manifest.json").write_text("{not json")
    with pytest.raises(FitFileError, match="corrupt JSON"):
        load_fit(path)
    (path / "manifest.json").write_text(json.dumps({"format_version": 99}))
    with pytest.raises(FitFileError, match="unknown fit format version 99"):
        load_fit(path)
    (path / "manifest.json").unlink()
    with pytest.raises(FitFileError, match="manifest.json is missing"):
        load_fit(path)
    with pytest.raises(FitFileError, match="no such fit directory"):
        load_fit(tmp_path / "nothing")


def test_interrupted_save_leaves_no_half_fit(small_fit, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(xr.DataTree, "to_netcdf", boom)
    with pytest.raises(KeyboardInterrupt):
        small_fit.save(tmp_path / "fit")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_fit_prints_each_stage_on_stderr(sim, spec, capsys):
    """One line per stage with its duration, on stderr as the stage ends; the validator's
    warnings too (the simulated survey has columns the schema does not name)."""
    capmodel.fit(spec, sim.survey, seed=5, **{**QUICK, "verbose": True})
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    stages = ("read", "validate", "build", "compile", "sampling", "diagnostics")
    at = {
        s: [i for i, line in enumerate(lines) if re.match(rf"{s} \d+\.\d s\b", line)]
        for s in stages
    }
    assert all(len(at[s]) == 1 for s in stages), lines
    assert [at[s][0] for s in stages] == sorted(at[s][0] for s in stages), lines
    assert any(line.startswith("validate") and "1,298 persons" in line for line in lines)
    assert any(line.startswith("warning: 9 columns not named by the schema") for line in lines)
    assert any(line.startswith("residuals: capability_residual not stored") for line in lines)
    assert "convergence:" in captured.out and "compile" not in captured.out


@pytest.mark.slow
def test_advi_preview_is_approximate_everywhere(sim, spec, tmp_path, capsys, monkeypatch):
    """A small ADVI fit: chain x draw draws, saved and loaded, marked approximate in the
    manifest, the printed summary, the report (banner, no PASS) and the CLI (exit 0)."""
    from capmodel import cli
    from capmodel.report import report

    f = capmodel.fit(
        spec,
        sim.survey,
        method="advi",
        iterations=1500,
        draws=50,
        chains=2,
        seed=3,
        progressbar=False,
    )
    m = f.manifest
    assert m["method"] == "advi" and m["approximate"] is True and f.approximate
    assert m["advi"]["iterations"] <= 1500 and np.isfinite(m["advi"]["final_loss"])
    assert m["settings"]["iterations"] == 1500
    assert m["diagnostics"]["verdict"] == "approximate" and m["diagnostics"]["max_rhat"] is None
    assert dict(f.posterior.sizes)["chain"] == 2 and dict(f.posterior.sizes)["draw"] == 50
    assert "capability_residual" not in f.posterior and "sample_stats" not in f.idata.children
    assert f.idata["advi"]["loss"].size == m["advi"]["iterations"]
    captured = capsys.readouterr()
    assert any(line.startswith("advi ") for line in captured.err.splitlines())
    assert "convergence: APPROXIMATE (ADVI): not for inference" in captured.out
    loaded = load_fit(f.save(tmp_path / "advi"))
    assert loaded.manifest == m and loaded.approximate
    xr.testing.assert_identical(loaded.posterior, f.posterior)
    html = report(loaded, tmp_path / "advi.html", include=("run", "convergence")).read_text(
        encoding="utf-8"
    )
    top = html[html.index('<div class="banner warn" id="banner"') : html.index("<header>")]
    assert "APPROXIMATE (ADVI): not for inference" in top
    assert '<span class="badge warn">APPROXIMATE</span>' in html
    assert "PASS" not in html and "R-hat</th>" not in html
    te = capmodel.effects.total_effects(loaded, supports=["referral"], cep=False, draws=10)
    assert np.isfinite(te.table["mean"]).all()
    monkeypatch.setattr(capmodel.fitting, "fit", lambda *a, **k: f)
    assert (
        cli.main(
            [
                "fit",
                "models/capability.toml",
                "--data",
                "unused.parquet",
                "--out",
                str(tmp_path / "cli"),
                "--method",
                "advi",
            ]
        )
        == 0
    )


@pytest.mark.slow
def test_cli_fit_writes_a_loadable_fit(sim, tmp_path, capsys):
    data = tmp_path / "survey.parquet"
    sim.survey.to_parquet(data)
    out = tmp_path / "fits" / "small"
    code = main(
        [
            "fit",
            "models/capability.toml",
            "--data",
            str(data),
            "--out",
            str(out),
            "--seed",
            "5",
            "--draws",
            str(QUICK["draws"]),
            "--tune",
            str(QUICK["tune"]),
            "--no-progress",
        ]
    )
    assert code in (0, 3)  # 3 = saved, but the convergence verdict is "fail" (few draws)
    captured = capsys.readouterr()
    printed = captured.out
    assert "convergence:" in printed and f"saved to {out}" in printed
    assert "read " in captured.err and str(data) in captured.err
    assert re.search(r"^save \d+\.\d s \(\d+\.\d MiB\)$", captured.err, re.M)
    loaded = load_fit(out)
    assert loaded.manifest["settings"]["draws"] == QUICK["draws"]
    assert isinstance(loaded.summary(["support_effect"]), pd.DataFrame)


def test_verdict_reports_person_residuals_and_other_parameters_apart():
    """The max R-hat over person residuals and over the other parameters are both recorded
    (a maximum over thousands of residuals has a higher noise floor); the verdict keeps
    the overall maximum."""
    from capmodel.fitting.diagnostics import Diagnostics, diagnose

    rng = np.random.default_rng(0)
    good = rng.normal(size=(2, 400, 3))
    shifted = rng.normal(size=(2, 400, 50))
    shifted[1] += 0.5  # the second chain disagrees on the residuals
    idata = xr.DataTree.from_dict(
        {
            "posterior": xr.Dataset(
                {
                    "beta": (("chain", "draw", "k"), good),
                    "capability_residual": (("chain", "draw", "person"), shifted),
                }
            ),
            "sample_stats": xr.Dataset(
                {
                    "diverging": (("chain", "draw"), np.zeros((2, 400), bool)),
                    "energy": (("chain", "draw"), rng.normal(size=(2, 400))),
                }
            ),
        }
    )
    d = diagnose(idata)
    assert d.max_rhat_persons is not None and d.max_rhat_others is not None
    assert d.max_rhat_persons > 1.05 > d.max_rhat_others
    assert d.max_rhat == d.max_rhat_persons and d.verdict == "fail"
    assert "person residuals" in d.text() and "other parameters" in d.text()
    # diagnostics saved before these fields existed still load
    old = {k: v for k, v in d.to_dict().items() if not k.startswith("max_rhat_")}
    assert Diagnostics(**old).max_rhat_persons is None
