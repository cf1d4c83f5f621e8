"""`capmodel simulate` writes a complete, documented data set, atomically."""

import hashlib
import json
import subprocess
import sys

import pandas as pd
import pytest

from capmodel.cli import main
from capmodel.data.schema import Schema


def test_simulate_writes_every_file_with_matching_hashes(tmp_path, capsys):
    out = tmp_path / "sim"
    assert main(["simulate", "--seed", "4", "--n", "8000", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "published vs simulated" in printed and str(out) in printed
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 4 and manifest["n_population"] == 8000
    for rel, digest in manifest["files"].items():
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == digest, rel
    survey = pd.read_parquet(out / "survey.parquet")
    schema = Schema.from_dict(json.loads((out / "schema.json").read_text()))
    assert set(schema.columns()) <= set(survey.columns)
    params = json.loads((out / "truth" / "params.json").read_text())
    assert set(params["realisations"]) == set(schema.realisations)
    persons = pd.read_parquet(out / "truth" / "persons.parquet")
    assert len(persons) == 8000 and persons["in_survey"].sum() == len(survey)
    assert not list(tmp_path.glob(".sim.tmp-*"))


def test_existing_output_is_refused_unless_overwrite(tmp_path, capsys):
    out = tmp_path / "sim"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    assert main(["simulate", "--n", "2000", "--out", str(out)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert (out / "mine.txt").read_text() == "keep me"
    assert main(["simulate", "--n", "2000", "--out", str(out), "--overwrite"]) == 0
    assert not (out / "mine.txt").exists() and (out / "survey.parquet").exists()


def test_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    from capmodel.simulate import simulate

    sim = simulate(seed=2, n_population=3000)

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", boom)
    with pytest.raises(OSError, match="disk full"):
        sim.write(tmp_path / "sim")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["simulate", "--n", "0", "--out", "x"], "expected a number >= 1"),
        (["simulate", "--n", "abc", "--out", "x"], "expected a whole number"),
        (["simulate", "--waves", "3", "--out", "x"], "invalid choice: 3"),
        (["simulate", "--scenario", "nope", "--out", "x"], "invalid choice: 'nope'"),
    ],
)
def test_bad_arguments_give_clear_messages(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_help_is_readable_from_the_installed_command():
    res = subprocess.run(
        [sys.executable, "-m", "capmodel", "simulate", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for words in (
        "population.parquet",
        "survey.parquet",
        "truth/persons.parquet",
        "--seed",
        "--waves",
    ):
        assert words in res.stdout


def test_atomic_text_files_get_the_usual_mode(tmp_path):
    import os

    from capmodel.atomic import atomic_write_text

    umask = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(umask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
