"""A corpus of malformed inputs across every path of the command line: data files, model specs,
options, output paths, population tables and fit directories (issue 14). Each case must end
with its own specific message on stderr, a non-zero exit status, no traceback, and every
input file byte for byte as it was (sha256 before and after)."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from capmodel.cli import main

ROOT = Path(__file__).resolve().parents[1]
SPEC = str(ROOT / "models" / "realisations.toml")
CELLS = [
    "operator",
    "region",
    "sex",
    "age_band",
    "qualification",
    "csp",
    "company_size",
    "service_level",
]


@dataclass(frozen=True)
class Inputs:
    """The files the cases read, under one directory: a valid survey (CSV and Parquet), a
    saved fit (verdict WARN), population tables and malformed variants of each."""

    root: Path

    def __call__(self, name: str) -> str:
        return str(self.root / name)


def _csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False)


def _variants(root: Path, fit_dir: Path) -> None:
    survey = pd.read_parquet(fit_dir.parent / "survey.parquet")
    shutil.copytree(fit_dir, root / "fit")
    survey.to_parquet(root / "survey.parquet", index=False)
    _csv(survey, root / "survey.csv")
    (root / "afile.txt").write_text("not a directory\n", encoding="utf-8")
    (root / "existing").mkdir()
    (root / "existing" / "keep.txt").write_text("kept\n", encoding="utf-8")
    (root / "notes.txt").write_text("a text file\n", encoding="utf-8")

    def edit(name: str, col: str, row: int, value) -> None:
        df = survey.astype({col: object}).copy()
        df.loc[row, col] = value
        _csv(df, root / name)

    edit("wave_bool.csv", "months_since_exit", 0, True)
    _csv(survey.assign(months_since_exit=True), root / "wave_all_bool.csv")
    edit("wave_undeclared.csv", "months_since_exit", 2, 3)
    edit("weight_huge.csv", "weight", 1, "1" + "0" * 400)
    edit("weight_negative.csv", "weight", 4, -2.0)
    edit("weight_missing.csv", "weight", 5, None)
    edit("sex_unknown.csv", "sex", 0, "X")
    edit("support_yes.csv", "information", 3, "yes")
    dup = survey.copy()
    dup.loc[1, "person_id"] = dup.loc[0, "person_id"]
    _csv(dup, root / "duplicate_id.csv")
    _csv(survey.drop(columns="weight"), root / "no_weight.csv")
    _csv(survey.iloc[:0], root / "header_only.csv")
    text = (root / "survey.csv").read_text(encoding="utf-8").splitlines()
    text[0] = text[0].replace("person_id,", "person_id,sex_copy,", 1).replace("sex_copy", "sex")
    body = [line.split(",", 1) for line in text[1:]]
    text[1:] = [f"{a},F,{b}" for a, b in body]
    (root / "duplicate_header.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    (root / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    (root / "empty.csv").write_text("", encoding="utf-8")
    spec = Path(SPEC).read_text(encoding="utf-8")
    (root / "bad_syntax.toml").write_text('name = "x"\n[model\n', encoding="utf-8")
    (root / "target_accept.toml").write_text(
        spec.replace("target_accept = 0.9", "target_accept = 2"), encoding="utf-8"
    )
    (root / "unknown_key.toml").write_text(
        spec.replace('name = "realisations"', 'name = "r"\nbogus_key = 1'), encoding="utf-8"
    )
    pop = survey[CELLS].copy()
    pop.to_parquet(root / "population.parquet", index=False)
    pop.astype({"sex": object}).assign(sex=pop["sex"].map({"F": 1, "M": 2})).to_csv(
        root / "pop_sex_codes.csv", index=False
    )
    seen = str(pop.loc[0, "region"])
    plain = pop.astype({"region": object}).copy()
    plain.loc[[0, 3], "region"] = seen.upper() + "-typo"
    plain.to_parquet(root / "pop_region_typo.parquet", index=False)
    missing = pop.astype({"region": object}).copy()
    missing.loc[2, "region"] = None
    missing.to_parquet(root / "pop_missing.parquet", index=False)
    pop.iloc[:0].to_parquet(root / "pop_empty.parquet", index=False)
    _csv(pop.assign(qualification="doctorate"), root / "pop_level.csv")
    lines = pop.to_csv(index=False).splitlines()
    lines[0] = lines[0].replace("csp", "sex")
    (root / "pop_dup_header.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # broken fit directories
    shutil.copytree(fit_dir, root / "tampered")
    with (root / "tampered" / "fit.nc").open("ab") as fh:
        fh.write(b"\0")
    shutil.copytree(fit_dir, root / "no_manifest")
    (root / "no_manifest" / "manifest.json").unlink()
    shutil.copytree(fit_dir, root / "bad_manifest")
    (root / "bad_manifest" / "manifest.json").write_text("{not json", encoding="utf-8")
    (root / "empty_dir").mkdir()


@pytest.fixture(scope="module")
def inputs(fake_fit_dir, tmp_path_factory) -> Inputs:
    root = tmp_path_factory.mktemp("malformed")
    _variants(root, fake_fit_dir)
    return Inputs(root)


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


Case = tuple[str, Callable[[Inputs], list[str]], str]

FIT = ["fit", SPEC, "--data"]
CASES: list[Case] = [
    # ---- output paths: refused before any data is read
    ("fit-out-exists", lambda i: [*FIT, i("survey.csv"), "--out", i("existing")], "already exists"),
    (
        "fit-out-is-file",
        lambda i: [*FIT, i("survey.csv"), "--out", i("afile.txt")],
        "is a file, not a directory",
    ),
    (
        "fit-out-under-file",
        lambda i: [*FIT, i("survey.csv"), "--out", i("afile.txt/fit")],
        "afile.txt is a file, not a directory",
    ),
    ("fit-out-empty", lambda i: [*FIT, i("survey.csv"), "--out", ""], "empty path"),
    ("simulate-out-exists", lambda i: ["simulate", "--out", i("existing")], "already exists"),
    (
        "simulate-out-under-file",
        lambda i: ["simulate", "--out", i("afile.txt/sim")],
        "is a file, not a directory",
    ),
    (
        "simulate-more-respondents-than-people",
        lambda i: ["simulate", "--out", i("new_sim"), "--n", "100", "--n-survey", "200"],
        "--n-survey 200 is larger than the population --n 100",
    ),
    (
        "report-out-under-file",
        lambda i: ["report", i("fit"), "--out", i("afile.txt/r.html")],
        "is a file, not a directory",
    ),
    (
        "report-out-not-html",
        lambda i: ["report", i("fit"), "--out", i("notes.txt")],
        "expected a .html file or a directory",
    ),
    (
        "effects-out-suffix",
        lambda i: ["effects", i("fit"), "--out", i("table.txt")],
        "unsupported file type; expected a file ending in .csv, .json, .nc",
    ),
    (
        "effects-out-directory",
        lambda i: ["effects", i("fit"), "--out", i("existing")],
        "is a directory; expected a file path",
    ),
    (
        "effects-out-under-file",
        lambda i: ["effects", i("fit"), "--out", i("afile.txt/t.csv")],
        "afile.txt is a file, not a directory",
    ),
    (
        "compare-one-fit",
        lambda i: ["compare", i("fit"), "--out", i("c.html")],
        "compare needs two or more fit directories, got 1",
    ),
    (
        "compare-same-fit-twice",
        lambda i: ["compare", i("fit"), i("fit"), "--out", i("c.html")],
        "the same fit directory is named twice",
    ),
    (
        "compare-out-under-file",
        lambda i: ["compare", i("fit"), i("tampered"), "--out", i("afile.txt/c.html")],
        "is a file, not a directory",
    ),
    (
        "compare-missing-fit",
        lambda i: ["compare", i("fit"), i("nowhere"), "--out", i("c.html")],
        "no such fit directory",
    ),
    # ---- option ranges (argparse: exit 2)
    (
        "target-accept-2",
        lambda i: [*FIT, i("survey.csv"), "--out", i("f1"), "--target-accept", "2"],
        "expected a number in [0.5, 1), got 2",
    ),
    (
        "target-accept-nan",
        lambda i: [*FIT, i("survey.csv"), "--out", i("f1"), "--target-accept", "nan"],
        "expected a finite number",
    ),
    (
        "draws-0",
        lambda i: [*FIT, i("survey.csv"), "--out", i("f1"), "--draws", "0"],
        "expected a number >= 1, got 0",
    ),
    (
        "chains-negative",
        lambda i: [*FIT, i("survey.csv"), "--out", i("f1"), "--chains", "-2"],
        "expected a number >= 1, got -2",
    ),
    (
        "seed-negative",
        lambda i: [*FIT, i("survey.csv"), "--out", i("f1"), "--seed", "-1"],
        "expected a seed in [0, 4294967295], got -1",
    ),
    (
        "tune-not-a-number",
        lambda i: [*FIT, i("survey.csv"), "--out", i("f1"), "--tune", "abc"],
        "expected a whole number, got 'abc'",
    ),
    ("simulate-n-0", lambda i: ["simulate", "--out", i("s1"), "--n", "0"], ">= 1, got 0"),
    (
        "simulate-wave-3",
        lambda i: ["simulate", "--out", i("s1"), "--waves", "3"],
        "invalid choice: 3",
    ),
    ("effects-tau-negative", lambda i: ["effects", i("fit"), "--tau", "-1"], ">= 0, got -1"),
    ("effects-draws-0", lambda i: ["effects", i("fit"), "--draws", "0"], ">= 1, got 0"),
    ("report-ppc-draws-0", lambda i: ["report", i("fit"), "--ppc-draws", "0"], ">= 1, got 0"),
    (
        "prior-check-draws-0",
        lambda i: ["prior-check", SPEC, "--data", i("survey.csv"), "--draws", "0"],
        ">= 1, got 0",
    ),
    (
        "poststratify-without-population",
        lambda i: ["effects", i("fit"), "--estimand", "poststratify"],
        "--estimand poststratify needs --population FILE",
    ),
    (
        "population-with-total",
        lambda i: ["effects", i("fit"), "--population", i("population.parquet")],
        "--population is used by --estimand poststratify and pathways, not total",
    ),
    (
        "intervention-unknown-support",
        lambda i: ["effects", i("fit"), "--intervention", "bogus=1"],
        "unknown support(s) ['bogus']",
    ),
    (
        "intervention-value-2",
        lambda i: ["effects", i("fit"), "--intervention", "reflection=2"],
        "must be set to 0 or 1, got '2'",
    ),
    ("by-unknown-column", lambda i: ["effects", i("fit"), "--by", "nosuch"], "cannot split by"),
    # ---- data files (capmodel validate: the messages of capmodel fit)
    (
        "data-missing",
        lambda i: ["validate", SPEC, "--data", i("nowhere.csv")],
        "data file not found",
    ),
    (
        "data-spreadsheet",
        lambda i: ["validate", SPEC, "--data", i("sheet.xlsx")],
        "export the spreadsheet to CSV or Parquet first",
    ),
    ("data-directory", lambda i: ["validate", SPEC, "--data", i("existing")], "is a directory"),
    ("data-empty-file", lambda i: ["validate", SPEC, "--data", i("empty.csv")], "EmptyDataError"),
    (
        "data-header-only",
        lambda i: ["validate", SPEC, "--data", i("header_only.csv")],
        "the data has no rows",
    ),
    (
        "data-duplicated-header",
        lambda i: ["validate", SPEC, "--data", i("duplicate_header.csv")],
        "column name 'sex' appears more than once in the header, at columns 2 and",
    ),
    (
        "data-wave-boolean",
        lambda i: ["validate", SPEC, "--data", i("wave_all_bool.csv")],
        "is a boolean (True/False), not a number of months",
    ),
    (
        "data-wave-undeclared",
        lambda i: ["validate", SPEC, "--data", i("wave_undeclared.csv")],
        "is not a declared wave",
    ),
    (
        "data-weight-overflow",
        lambda i: ["validate", SPEC, "--data", i("weight_huge.csv")],
        "inf is not finite in row 2",
    ),
    (
        "data-weight-negative",
        lambda i: ["validate", SPEC, "--data", i("weight_negative.csv")],
        "-2.0 is not > 0",
    ),
    (
        "data-weight-missing",
        lambda i: ["validate", SPEC, "--data", i("weight_missing.csv")],
        "is missing",
    ),
    (
        "data-unknown-level",
        lambda i: ["validate", SPEC, "--data", i("sex_unknown.csv")],
        "'X' is not a level of 'sex'",
    ),
    (
        "data-support-yes",
        lambda i: ["validate", SPEC, "--data", i("support_yes.csv")],
        "recode yes/no or true/false labels to 1/0",
    ),
    (
        "data-duplicate-id",
        lambda i: ["validate", SPEC, "--data", i("duplicate_id.csv")],
        "more than once within a wave",
    ),
    (
        "data-missing-column",
        lambda i: ["validate", SPEC, "--data", i("no_weight.csv")],
        "column 'weight' (weight) is not in the data",
    ),
    (
        "fit-data-invalid",
        lambda i: [*FIT, i("sex_unknown.csv"), "--out", i("f2")],
        "'X' is not a level of 'sex'",
    ),
    # ---- model specs
    (
        "spec-missing",
        lambda i: ["validate", i("nowhere.toml"), "--data", i("survey.csv")],
        "model spec not found",
    ),
    (
        "spec-bad-toml",
        lambda i: ["validate", i("bad_syntax.toml"), "--data", i("survey.csv")],
        "not valid TOML",
    ),
    (
        "spec-target-accept",
        lambda i: ["validate", i("target_accept.toml"), "--data", i("survey.csv")],
        "sampling.target_accept must be in [0.5, 1), got 2",
    ),
    (
        "spec-unknown-key",
        lambda i: ["validate", i("unknown_key.toml"), "--data", i("survey.csv")],
        "unknown key(s) ['bogus_key']",
    ),
    # ---- population tables (MRP)
    (
        "population-sex-codes",
        lambda i: [
            "effects",
            i("fit"),
            "--estimand",
            "poststratify",
            "--population",
            i("pop_sex_codes.csv"),
        ],
        "are not among the declared levels of 'sex'; expected one of ['F', 'M']",
    ),
    (
        "population-unseen-region",
        lambda i: [
            "effects",
            i("fit"),
            "--estimand",
            "poststratify",
            "--population",
            i("pop_region_typo.parquet"),
        ],
        "is a level the fit never saw (not in the survey); expected one of",
    ),
    (
        "population-missing-region",
        lambda i: [
            "effects",
            i("fit"),
            "--estimand",
            "poststratify",
            "--population",
            i("pop_missing.parquet"),
        ],
        "column 'region': missing in row 3",
    ),
    (
        "population-empty",
        lambda i: [
            "effects",
            i("fit"),
            "--estimand",
            "poststratify",
            "--population",
            i("pop_empty.parquet"),
        ],
        "the table has no rows",
    ),
    (
        "population-unknown-level",
        lambda i: [
            "effects",
            i("fit"),
            "--estimand",
            "poststratify",
            "--population",
            i("pop_level.csv"),
        ],
        "'doctorate' (rows 1, 2, 3 and",
    ),
    (
        "population-duplicated-header",
        lambda i: [
            "effects",
            i("fit"),
            "--estimand",
            "poststratify",
            "--population",
            i("pop_dup_header.csv"),
        ],
        "column name 'sex' appears more than once in the header, at columns 3 and 6",
    ),
    (
        "population-file-missing",
        lambda i: [
            "effects",
            i("fit"),
            "--estimand",
            "pathways",
            "--population",
            i("nowhere.parquet"),
        ],
        "data file not found",
    ),
    # ---- fit directories
    ("fit-dir-missing", lambda i: ["effects", i("nowhere")], "no such fit directory"),
    ("fit-dir-empty", lambda i: ["effects", i("empty_dir")], "incomplete fit"),
    (
        "fit-dir-no-manifest",
        lambda i: ["report", i("no_manifest")],
        "incomplete fit, manifest.json is missing",
    ),
    (
        "fit-dir-corrupt-manifest",
        lambda i: ["effects", i("bad_manifest")],
        "not a valid manifest (corrupt JSON",
    ),
    (
        "fit-dir-tampered",
        lambda i: ["effects", i("tampered")],
        "the file was modified or truncated after it was saved",
    ),
    ("report-fit-missing", lambda i: ["report", i("nowhere")], "no such fit directory"),
]


def test_the_corpus_is_large_and_each_case_distinct():
    assert len(CASES) >= 40
    assert len({name for name, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize("name,argv,expected", CASES, ids=[c[0] for c in CASES])
def test_malformed_input_is_refused_with_its_message(inputs, capsys, name, argv, expected):
    before = _hashes(inputs.root)
    with pytest.raises(SystemExit) if _argparse_case(name) else _no_exit():
        rc = main(argv(inputs))
        assert rc == 1, name
    err = capsys.readouterr().err
    assert expected in err, err
    assert "Traceback" not in err
    assert err.count("error:") == 1, err  # one error line (its problems listed under it)
    assert _hashes(inputs.root) == before  # no input modified, nothing written beside them


ARGPARSE = {
    "target-accept-2",
    "target-accept-nan",
    "draws-0",
    "chains-negative",
    "seed-negative",
    "tune-not-a-number",
    "simulate-n-0",
    "simulate-wave-3",
    "effects-tau-negative",
    "effects-draws-0",
    "report-ppc-draws-0",
    "prior-check-draws-0",
}


def _argparse_case(name: str) -> bool:
    return name in ARGPARSE


class _no_exit:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
