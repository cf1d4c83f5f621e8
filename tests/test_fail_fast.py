"""Issue 14: every input checked before expensive work, no silent mistake, fits that open in the
tools statisticians use. One test per case, each asserting its specific message; the corpus of
malformed inputs is tests/test_malformed_inputs.py."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import QUICK_FIT_SETTINGS

import capmodel
from capmodel.cli import main
from capmodel.data import DataValidationError, Extra, TableReadError, read_table, validate
from capmodel.data.validate.text import normalise_frame
from capmodel.effects.population_checks import (
    FitColumns,
    PopulationTableError,
    check_population,
)
from capmodel.outpaths import OutputPathError, check_output_dir, check_output_file

ROOT = Path(__file__).resolve().parents[1]
SPEC = str(ROOT / "models" / "realisations.toml")
NFC_REGION = "Île-de-France"
NFD_REGION = unicodedata.normalize("NFD", NFC_REGION)


# ---------------------------------------------------------------- 1. outputs before the work
def test_fit_out_on_an_existing_directory_fails_in_under_5_seconds(tmp_path, fake_fit_dir):
    out = tmp_path / "fits" / "done"
    out.mkdir(parents=True)
    t0 = time.perf_counter()
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "capmodel",
            "fit",
            SPEC,
            "--data",
            str(fake_fit_dir.parent / "survey.parquet"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    elapsed = time.perf_counter() - t0
    assert res.returncode == 1
    assert elapsed < 5, elapsed
    assert "the directory already exists; pass --overwrite to replace it" in res.stderr
    assert "read " not in res.stderr  # refused before the data was read
    assert "Traceback" not in res.stderr


def test_fit_and_simulate_check_out_before_any_work(tmp_path, monkeypatch, capsys):
    import capmodel.fitting
    import capmodel.simulate

    def never(*a, **k):
        raise AssertionError("the work started before the output was checked")

    monkeypatch.setattr(capmodel.fitting, "fit", never)
    monkeypatch.setattr(capmodel.simulate, "simulate", never)
    (tmp_path / "taken").mkdir()
    assert main(["fit", SPEC, "--data", "x.csv", "--out", str(tmp_path / "taken")]) == 1
    assert main(["simulate", "--out", str(tmp_path / "taken")]) == 1
    err = capsys.readouterr().err
    assert err.count("already exists") == 2


def test_an_unwritable_parent_is_refused(tmp_path, monkeypatch):
    import tempfile

    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    with pytest.raises(OutputPathError, match=r"cannot write in .* \(Permission denied\)"):
        check_output_dir(tmp_path / "new")
    with pytest.raises(OutputPathError, match="expected a writable directory"):
        check_output_file(tmp_path / "t.csv")


def test_output_checks_accept_what_they_should(tmp_path):
    assert check_output_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    (tmp_path / "old").mkdir()
    assert check_output_dir(tmp_path / "old", overwrite=True) == tmp_path / "old"
    (tmp_path / "t.csv").write_text("x\n")
    assert check_output_file(tmp_path / "t.csv", suffixes=(".csv",)) == tmp_path / "t.csv"
    assert not list(tmp_path.glob(".capmodel-probe-*"))  # the probes are removed
    with pytest.raises(OutputPathError, match="is a file, not a directory"):
        check_output_dir(tmp_path / "t.csv", overwrite=True)


# ---------------------------------------------------------------- 4. command-line habits
def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"capmodel {capmodel.__version__}"


def test_help_lists_each_command_once(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("simulate", "fit", "validate", "prior-check", "effects", "report", "compare"):
        assert len(re.findall(rf"^\s+{re.escape(command)}\b", out, re.M)) == 1, command


def test_validate_passes_a_good_pair_and_prints_the_warnings(fake_fit_dir, capsys):
    rc = main(["validate", SPEC, "--data", str(fake_fit_dir.parent / "survey.parquet")])
    captured = capsys.readouterr()
    assert rc == 0
    assert "valid for spec 'realisations': 162 persons, 162 rows" in captured.out
    assert "warning: 9 columns not named by the schema are ignored" in captured.err


def test_validate_says_what_fit_says(fake_fit_dir, tmp_path, capsys):
    df = pd.read_parquet(fake_fit_dir.parent / "survey.parquet").astype({"sex": object})
    df.loc[4, "sex"] = "female"
    df.to_csv(tmp_path / "bad.csv", index=False)
    assert main(["validate", SPEC, "--data", str(tmp_path / "bad.csv")]) == 1
    said = capsys.readouterr().err.split("error: ", 1)[1]
    assert main(["fit", SPEC, "--data", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "f")])
    assert capsys.readouterr().err.split("error: ", 1)[1] == said
    assert "'female' is not a level of 'sex'" in said


def test_a_missing_sampler_package_is_one_line(monkeypatch, tmp_path, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real(name, *a)
    )
    argv = ["fit", SPEC, "--data", "nowhere.csv", "--out", str(tmp_path / "f")]
    assert main([*argv, "--sampler", "numpyro"]) == 1
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0
    assert "the numpyro sampler needs the optional package jax, not installed here" in err
    assert "or choose another sampler (nutpie, pymc)" in err


def test_an_import_error_anywhere_is_one_line(monkeypatch, capsys):
    import capmodel.cli as cli

    def broken(args):
        raise ModuleNotFoundError("No module named 'fancy'", name="fancy")

    monkeypatch.setattr(cli, "_validate", broken)
    assert main(["validate", SPEC, "--data", "x.csv"]) == 1
    err = capsys.readouterr().err
    assert "the optional package 'fancy' is not installed (pip install fancy)" in err
    assert "Traceback" not in err


def test_fit_settings_are_checked_before_the_data(tmp_path):
    for kw, msg in (
        ({"target_accept": 2.0}, r"target_accept must be in \[0.5, 1.0\), got 2.0"),
        ({"draws": 0}, "draws must be a whole number >= 1, got 0"),
        ({"seed": -3}, r"seed must be a whole number in \[0, 4294967295\], got -3"),
        ({"sampler": "stan"}, "sampler 'stan' is not one of"),
    ):
        with pytest.raises(ValueError, match=msg):  # not FileNotFoundError: before the data
            capmodel.fit(SPEC, tmp_path / "nowhere.csv", verbose=False, **kw)


def test_one_name_for_loading_a_fit():
    from capmodel.fitting import load_fit

    assert capmodel.load_fit is load_fit
    assert "load" not in capmodel.__all__
    with pytest.raises(AttributeError, match=r"read by capmodel.load_fit\(path\)"):
        capmodel.load  # noqa: B018


# ---------------------------------------------------------------- 5. plain ArviZ and xarray
def test_a_saved_fit_opens_with_plain_arviz_and_xarray(fake_fit_dir):
    import arviz as az
    import xarray as xr

    from capmodel.data import dataset_hash

    nc = fake_fit_dir / "fit.nc"
    tree = xr.open_datatree(nc)  # default decoding
    assert tree["data"]["wave"].attrs["capmodel_units"] == "months since exit"
    idata = az.from_netcdf(nc)
    table = az.summary(idata, var_names=["realisation_intercept"])
    assert len(table) == 6 and "mean" in table.columns
    fit = capmodel.load_fit(fake_fit_dir)  # capmodel reads the units back: same data hash
    assert fit.data["wave"].attrs["units"] == "months since exit"
    assert dataset_hash(fit.data) == fit.manifest["data"]["hash"]


def test_log_likelihood_and_posterior_predictive_groups_for_loo_and_ppc(fake_fit_dir, tmp_path):
    import arviz as az
    import xarray as xr

    from capmodel.fitting.arviz_groups import add_arviz_groups
    from capmodel.fitting.fit import Fit

    fit = capmodel.load_fit(fake_fit_dir)  # 8 draws: too few for PSIS; 2 x 40 (repeated)
    post = xr.concat([fit.posterior] * 10, dim="draw").assign_coords(draw=np.arange(40))
    idata = fit.idata.copy()
    idata["posterior"] = xr.DataTree(post)
    fit = add_arviz_groups(Fit(idata, fit.spec, fit.manifest))
    out = fit.save(tmp_path / "with_loglik")
    idata = az.from_netcdf(out / "fit.nc")
    ll = idata["log_likelihood"]["person_loglik"]
    assert ll.dims == ("chain", "draw", "person") and ll.shape == (2, 40, 162)
    assert set(idata["posterior_predictive"].data_vars) == set(idata["observed_data"].data_vars)
    assert np.isfinite(az.loo(idata).elpd)
    assert "log_likelihood" in json.loads((out / "manifest.json").read_text())["arviz_groups"]


@pytest.mark.slow
def test_fit_with_log_likelihood_records_both_groups(sim):
    import arviz as az

    f = capmodel.fit(SPEC, sim.survey, log_likelihood=True, **QUICK_FIT_SETTINGS)
    assert {"log_likelihood", "posterior_predictive"} <= set(f.idata.children)
    assert np.isfinite(az.loo(f.idata).elpd)


# ---------------------------------------------------------------- 3. text as exports arrive
def test_labels_are_compared_in_nfc_with_a_note(frame, schema):
    df = frame.astype({"region": object})
    df.loc[[0, 6], "region"] = NFC_REGION
    df.loc[[12], "region"] = NFD_REGION
    df.loc[[0, 6, 12], "operator"] = "op_a"
    v = validate(df, schema)
    assert NFC_REGION in v.levels["region"] and NFD_REGION not in v.levels["region"]
    assert any(
        "column 'region': 1 label Unicode-normalised (NFC) before comparison" in w and "row 13" in w
        for w in v.warnings
    )
    assert df.loc[12, "region"] == NFD_REGION  # the caller's table is not modified


def test_headers_are_compared_in_nfc(frame, schema):
    name = "catégorie"
    schema = dataclasses.replace(schema, extras=(Extra(name, kind="categorical"),))
    df = frame.rename(columns={"usefulness": unicodedata.normalize("NFD", name)})
    v = validate(df, schema)
    assert name in v.frame.columns
    assert any("1 column name of the data Unicode-normalised (NFC)" in w for w in v.warnings)
    _, notes = normalise_frame(frame)
    assert notes == ()


def test_a_duplicated_csv_header_is_refused_naming_both_positions(tmp_path, frame):
    text = frame.to_csv(index=False).splitlines()
    text[0] = text[0].replace("qualification", "sex")
    path = tmp_path / "dup.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(TableReadError, match="'sex' appears more than once in the header, at "):
        read_table(path)
    cols = frame.columns.tolist()
    with pytest.raises(TableReadError, match=f"columns {cols.index('sex') + 1} and "):
        read_table(path)
    assert path.read_bytes() == before


def test_an_extreme_weight_warns_with_the_kish_design_effect(frame, schema):
    df = frame.copy()
    df.loc[0, "weight"] = 1e12
    v = validate(df, schema)
    (w,) = [w for w in v.warnings if "extreme weights" in w]
    assert "row 1 carries 100.0% of the total weight (weight 1e+12" in w
    assert "Kish design effect n*sum(w^2)/sum(w)^2 = 40.0" in w
    assert "effective sample size of 1.0 of 40 rows" in w
    assert not [w for w in validate(frame, schema).warnings if "extreme weights" in w]


def test_booleans_are_not_numbers(frame, schema):
    df = frame.astype({"weight": object, "months_since_exit": object})
    df.loc[2, "weight"] = True
    df.loc[3, "months_since_exit"] = True
    with pytest.raises(DataValidationError) as e:
        validate(df, schema)
    text = str(e.value)
    assert "True is a boolean (True/False), not a number in row 3" in text
    assert "True is a boolean (True/False), not a number of months in row 4" in text


def test_a_huge_integer_is_too_large_not_not_a_number(frame, schema):
    df = frame.astype({"autonomy": object})
    df.loc[1, "autonomy"] = 10**400
    with pytest.raises(DataValidationError, match=r"is too large for a number .* in row 2"):
        validate(df, schema)


def test_a_duplicated_id_in_an_undeclared_wave_is_reported_once(frame, schema):
    df = frame.copy()
    df.loc[[0, 1], "person_id"] = "P00"
    df.loc[[0, 1], "months_since_exit"] = 3
    with pytest.raises(DataValidationError) as e:
        validate(df, schema)
    codes = [p.code for p in e.value.problems]
    assert codes == ["wave_not_declared"], codes


def test_a_duplicated_ignored_column_is_counted_once(frame, schema):
    df = pd.concat([frame, frame[["sex"]].rename(columns={"sex": "note"})] * 1, axis=1)
    df = pd.concat([df, df[["note"]]], axis=1)
    v = validate(df, schema)
    assert "1 column not named by the schema is ignored: ['note (x2)']" in v.warnings


# ---------------------------------------------------------------- 2. population tables
FITCOLS = FitColumns(
    levels={"sex": ("F", "M"), "region": ("Bretagne", NFC_REGION), "operator": ("a", "b")},
    groups=frozenset({"region", "operator"}),
    declared={"sex": ("F", "M"), "region": None, "operator": ("a", "b", "c")},
)


def _pop(**cols) -> pd.DataFrame:
    base = {"sex": ["F", "M", "F"], "region": ["Bretagne", NFC_REGION, "Bretagne"]}
    base["operator"] = ["a", "b", "a"]
    return pd.DataFrame({**base, **cols})


def test_population_labels_outside_the_levels_are_errors_naming_everything():
    with pytest.raises(PopulationTableError) as e:
        check_population(_pop(sex=[1, 2, 1]), FITCOLS)
    msg = str(e.value)
    assert (
        "column 'sex': '1' (rows 1, 3), '2' (row 2) are not among the declared levels of "
        "'sex'; expected one of ['F', 'M']"
    ) in msg


def test_unseen_group_levels_are_errors_unless_allowed():
    pop = _pop(region=["Bretagne", "Ile-de-France", "Corse"])
    with pytest.raises(PopulationTableError) as e:
        check_population(pop, FITCOLS)
    msg = str(e.value)
    assert "'Ile-de-France' (row 2) (did you mean 'Île-de-France'?)" in msg
    assert "are levels the fit never saw (not in the survey)" in msg
    assert "--allow-unseen-groups" in msg
    ok = check_population(pop, FITCOLS, allow_unseen_groups=True)
    assert ok.unseen == {"region": ["Corse", "Ile-de-France"]}
    # a declared group level is allowed as unseen; one outside the declaration is not
    assert check_population(_pop(operator=["a", "c", "a"]), FITCOLS, allow_unseen_groups=True)
    with pytest.raises(PopulationTableError, match="'z' \\(row 2\\) is not among the declared"):
        check_population(_pop(operator=["a", "z", "a"]), FITCOLS, allow_unseen_groups=True)


def test_population_tables_empty_missing_counts_and_nfc():
    with pytest.raises(PopulationTableError, match="the table has no rows"):
        check_population(_pop().iloc[:0], FITCOLS)
    with pytest.raises(PopulationTableError, match="column 'sex': missing in row 2;"):
        check_population(_pop(sex=["F", None, "M"]), FITCOLS)
    with pytest.raises(PopulationTableError, match="count column 'n' is not in the table"):
        check_population(_pop(), FITCOLS, count="n")
    with pytest.raises(PopulationTableError, match="-1 in row 2; expected finite numbers >= 0"):
        check_population(_pop(n=[1, -1, 2]), FITCOLS, count="n")
    with pytest.raises(PopulationTableError, match=r"cell variable\(s\) \['age'\] are not"):
        check_population(_pop(), FITCOLS, cell_vars=["sex", "age"])
    pop = _pop(region=["Bretagne", NFD_REGION, "Bretagne"])
    ok = check_population(pop, FITCOLS)
    assert ok.table["region"].tolist()[1] == NFC_REGION
    assert ok.notes and "Unicode-normalised (NFC)" in ok.notes[0]
    assert pop["region"].tolist()[1] == NFD_REGION  # not modified


def test_allowed_unseen_groups_are_said_in_the_output(fake_fit_dir, tmp_path, capsys):
    survey = pd.read_parquet(fake_fit_dir.parent / "survey.parquet")
    cells = ["operator", "region", "sex", "age_band", "qualification", "csp", "company_size"]
    pop = survey[[*cells, "service_level"]].astype({"region": object})
    pop.loc[0, "region"] = "Atlantis"
    pop.to_csv(tmp_path / "pop.csv", index=False)
    argv = ["effects", str(fake_fit_dir), "--estimand", "poststratify", "--draws", "2"]
    argv += ["--population", str(tmp_path / "pop.csv")]
    assert main(argv) == 1
    assert "'Atlantis' (row 1) is a level the fit never saw" in capsys.readouterr().err
    assert main([*argv, "--allow-unseen-groups"]) == 0
    out = capsys.readouterr().out
    assert "group levels absent from the fit, each given per posterior draw the effect" in out
    assert "region: Atlantis (N(0, sd)" in out


# ---------------------------------------------------------------- 6. effects output
def test_effects_print_a_compact_table_after_the_verdict(fake_fit_dir, capsys):
    assert main(["effects", str(fake_fit_dir), "--draws", "4"]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith("WARNING: ") and "passed the convergence checks only with" in first
    assert "cells: posterior mean [90% equal-tailed interval], percentage points" in out
    assert re.search(r"information +-?\d+\.\d \[-?\d+\.\d, -?\d+\.\d\]", out)
    assert "prob_positive" not in out
    assert main(["effects", str(fake_fit_dir), "--draws", "4", "--long"]) == 0
    assert "prob_positive" in capsys.readouterr().out


def test_a_failed_fit_says_so_first_and_a_passed_one_says_nothing(fake_fit_dir, tmp_path, capsys):
    for verdict, start in (("fail", "FAILED convergence: "), ("pass", "total effects")):
        copy = shutil.copytree(fake_fit_dir, tmp_path / verdict)
        manifest = json.loads((copy / "manifest.json").read_text())
        manifest["diagnostics"]["verdict"] = verdict
        (copy / "manifest.json").write_text(json.dumps(manifest))
        assert main(["effects", str(copy), "--draws", "2"]) == 0
        assert capsys.readouterr().out.startswith(start)


def test_effect_files_carry_their_provenance(fake_fit_dir, tmp_path):
    import xarray as xr

    for ext in ("csv", "json", "nc"):
        out = tmp_path / f"t.{ext}"
        assert main(["effects", str(fake_fit_dir), "--draws", "4", "--out", str(out)]) == 0
    manifest = json.loads((fake_fit_dir / "manifest.json").read_text())
    table = pd.read_csv(tmp_path / "t.csv")
    assert set(table["verdict"]) == {"warn"} and set(table["draws"]) == {4}
    assert set(table["data_hash"]) == {manifest["data"]["hash"]}
    assert set(table["fit"]) == {str(fake_fit_dir)}
    prov = json.loads((tmp_path / "t.json").read_text())["provenance"]
    assert prov["verdict"] == "warn" and prov["data_hash"] == manifest["data"]["hash"]
    with xr.open_dataset(tmp_path / "t.nc") as ds:
        assert ds.attrs["provenance_verdict"] == "warn"


def test_the_reports_effects_section_says_the_verdict_first(fake_fit_dir):
    from capmodel.report.effects import compute, effects_section

    numbers = compute(capmodel.load_fit(fake_fit_dir), draws=2)
    first = effects_section(numbers).blocks[0]
    assert first.cls == "warn" and first.text.startswith("WARNING: this fit passed")


def test_declared_levels_are_nfc_like_the_data():
    """A spec's levels typed with combining accents (NFD) match the data's composed ones."""
    import unicodedata

    from capmodel.data import Covariate

    nfd = unicodedata.normalize("NFD", "Île-de-France")
    cov = Covariate("region", levels=(nfd, "Bretagne"), reference=nfd)
    assert cov.levels == ("Île-de-France", "Bretagne")
    assert cov.reference == "Île-de-France"
    assert unicodedata.is_normalized("NFC", cov.levels[0])
