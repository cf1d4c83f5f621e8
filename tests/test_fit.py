"""Fitting by NUTS on small simulated data: recovery, reproducibility, provenance, fit store.

One small fit is shared by the test session (tests/conftest.py: the first numba compile of a
model costs 1-2 minutes on a fresh machine; later ones in the same process reuse it).
"""

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import SMALL_FIT_SETTINGS as SETTINGS

import capmodel
from capmodel.cli import main
from capmodel.fitting import FitFileError, load_fit
from capmodel.simulate.recovery import recovery_table, true_values

# the fixtures sim, spec and small_fit (seed 5, SETTINGS) are shared by the session


def test_posterior_covers_the_simulators_truth(small_fit, sim):
    table = recovery_table(small_fit.posterior, true_values(sim.params, small_fit.posterior))
    assert set(table["block"]) >= {"structural", "measurement", "realisation", "group scale"}
    assert len(table) > 150
    by_block = table.groupby("block")["covered"].mean()
    # 90% intervals: overall coverage near 0.9; every block well above chance
    assert table["covered"].mean() >= 0.8, table[~table["covered"]].to_string()
    assert (by_block >= 0.7).all(), by_block


def test_same_seed_same_draws_other_seed_other_draws(small_fit, sim, spec):
    again = capmodel.fit(spec, sim.survey, seed=5, **SETTINGS)
    for name in ("support_effect", "loading", "capability_residual"):
        np.testing.assert_array_equal(again.posterior[name].values,
                                      small_fit.posterior[name].values)
    other = capmodel.fit(spec, sim.survey, seed=6, **{**SETTINGS, "draws": 50, "tune": 50})
    assert not np.array_equal(other.posterior["support_effect"].values,
                              small_fit.posterior["support_effect"].values)


def test_manifest_records_provenance(small_fit, spec):
    m = small_fit.manifest
    assert m["settings"]["seed"] == 5 and m["settings"]["sampler"] == "nutpie"
    assert len(m["data"]["hash"]) == 64 and m["data"]["hash"] == small_fit.data.attrs["data_hash"]
    assert {"pymc", "arviz", "nutpie", "python"} <= set(m["versions"])
    assert {"compile_seconds", "sampling_seconds"} <= set(m["timings"])
    assert m["diagnostics"]["verdict"] in ("pass", "warn", "fail")
    assert m["parameterisation"]["region"] == "noncentred"
    assert small_fit.spec == spec
    assert {"posterior", "sample_stats", "observed_data", "data"} <= set(small_fit.idata.children)
    # nutpie's tuning draws are not kept (a third of the file); their sample stats are
    assert "warmup_posterior" not in small_fit.idata.children
    assert "warmup_sample_stats" in small_fit.idata.children


def test_save_load_round_trip(small_fit, tmp_path):
    path = small_fit.save(tmp_path / "fit")
    loaded = capmodel.load(path)
    for group in ("posterior", "sample_stats", "observed_data", "data"):
        xr.testing.assert_identical(loaded.idata[group].to_dataset(),
                                    small_fit.idata[group].to_dataset())
    assert loaded.manifest == small_fit.manifest
    assert loaded.spec == small_fit.spec
    assert loaded.diagnostics == small_fit.diagnostics


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


def test_cli_fit_writes_a_loadable_fit(sim, tmp_path, capsys):
    data = tmp_path / "survey.parquet"
    sim.survey.to_parquet(data)
    out = tmp_path / "fits" / "small"
    code = main(["fit", "models/capability.toml", "--data", str(data), "--out", str(out),
                 "--seed", "5", "--draws", "60", "--tune", "60", "--no-progress"])
    assert code in (0, 3)  # 3 = saved, but the convergence verdict is "fail" (few draws)
    printed = capsys.readouterr().out
    assert "convergence:" in printed and f"saved to {out}" in printed
    loaded = load_fit(out)
    assert loaded.manifest["settings"]["draws"] == 60
    assert isinstance(loaded.summary(["support_effect"]), pd.DataFrame)
