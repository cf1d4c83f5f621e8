"""read_table() / load_data(): reading files, clear errors, and never touching the source."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from capmodel.data import (
    Data,
    DataValidationError,
    MissingPolicy,
    TableReadError,
    encode,
    load_data,
    read_table,
    validate,
)


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns


# --------------------------------------------------------------------------- reading
def test_dataframe_is_copied(frame):
    out = read_table(frame)
    assert out is not frame
    out.loc[0, "sex"] = "X"
    assert frame.loc[0, "sex"] != "X"


def test_csv_types(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,x,y,flag,label,none_label\n007,1,1.5,0,a,None\n010,,2.25,1,,b\n")
    df = read_table(path)
    assert list(df["id"]) == ["007", "010"]  # leading zeros: kept as text
    assert df["x"].dtype == np.float64 and np.isnan(df["x"].iloc[1])  # empty cell = missing
    assert list(df["y"]) == [1.5, 2.25] and df["flag"].dtype == np.int64
    assert df["label"].iloc[0] == "a" and pd.isna(df["label"].iloc[1])
    assert df["none_label"].iloc[0] == "None"  # a label, not a missing value


def test_csv_semicolon_decimal_comma_and_gzip(tmp_path):
    path = tmp_path / "t.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\ufeffid;score;region\n1;1,5;Île-de-France\n2;2;Bretagne\n")
    df = read_table(path)
    assert list(df.columns) == ["id", "score", "region"]
    assert list(df["score"]) == [1.5, 2.0] and df["region"].iloc[0] == "Île-de-France"


def test_csv_cp1252_is_read_with_a_warning(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("id,region\n1,Île\n".encode("cp1252"))
    with pytest.warns(UserWarning, match="cp1252"):
        assert read_table(path)["region"].iloc[0] == "Île"


def test_schema_keeps_label_columns_as_text(tmp_path, frame, schema):
    frame["region"] = [f"{k % 6 + 1:02d}" for k in range(40)]  # "01".."06" stay text anyway
    frame["person_id"] = [str(100 + k % 16) for k in range(40)]  # digits: number without schema
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    assert read_table(path)["person_id"].dtype == np.int64
    df = read_table(path, schema=schema)
    assert df["person_id"].iloc[0] == "100" and df["region"].iloc[0] == "01"


def test_schema_label_columns_written_as_floats_read_back_as_integers(tmp_path, frame, schema):
    frame["region"] = [float(k % 6 + 1) for k in range(40)]  # 1.0..6.0: written as "1.0"
    frame.loc[3, "region"] = np.nan
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    df = read_table(path, schema=schema)
    assert df["region"].iloc[0] == "1" and pd.isna(df["region"].iloc[3])


def test_not_found_names_the_path(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        read_table(missing)


@pytest.mark.parametrize("name", ["data.xlsx", "data.json"])
def test_unknown_extension_lists_supported(tmp_path, name):
    path = tmp_path / name
    path.write_text("x")
    with pytest.raises(TableReadError, match=r"supported extensions: \.csv.*\.parquet") as info:
        read_table(path)
    assert name in str(info.value)


def test_unreadable_file_is_wrapped(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"this is not parquet")
    with pytest.raises(TableReadError, match="broken.parquet") as info:
        read_table(path)
    assert info.value.__cause__ is not None


def test_directory_and_wrong_type(tmp_path):
    with pytest.raises(TableReadError, match="directory"):
        read_table(tmp_path)
    with pytest.raises(TypeError, match="DataFrame"):
        read_table(42)  # type: ignore[arg-type]


def test_quoted_header_and_tabs(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text('id\t"a, b; c"\n1\tx\n')
    assert list(read_table(path).columns) == ["id", "a, b; c"]


# --------------------------------------------------------------------------- load_data
def test_package_exports_functions_not_modules():
    import capmodel.data as data
    import capmodel.data.encode  # noqa: F401 - the submodule shares the function's name
    import capmodel.data.validate  # noqa: F401

    assert callable(data.validate) and callable(data.encode) and callable(data.read_table)
    assert all(hasattr(data, name) for name in data.__all__)


def test_load_data_returns_validated_and_dataset(frame, schema):
    data = load_data(frame, schema)
    assert isinstance(data, Data)
    assert data.validated.n_rows == 40 and data.dataset.attrs["n_rows"] == 40


def test_files_are_never_modified(tmp_path, frame, schema):
    csv, pq = tmp_path / "survey.csv", tmp_path / "survey.parquet"
    frame.to_csv(csv, index=False)
    frame.to_parquet(pq, index=False)
    bad = dataclasses.replace(schema, waves=(1, 6))  # wave 18 is then not declared
    before = {p: fingerprint(p) for p in (csv, pq)}
    for path in (csv, pq):
        load_data(path, schema)
        with pytest.raises(DataValidationError, match="wave_not_declared"):
            load_data(path, bad)
        assert fingerprint(path) == before[path]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["survey.csv", "survey.parquet"]


def test_input_dataframe_is_never_modified(frame, schema):
    frame["sex"] = frame["sex"].astype("category")
    frame["autonomy"] = frame["autonomy"].astype(object)
    frame.loc[0, "autonomy"] = np.nan
    frame.loc[1, "qualification"] = "bac "
    frame.index = frame.index + 100  # a non-default index is fine
    original = frame.copy(deep=True)
    with pytest.raises(DataValidationError):
        validate(frame, schema)
    pd.testing.assert_frame_equal(frame, original)
    frame.loc[101, "qualification"] = "bac"
    original = frame.copy(deep=True)
    drop = dataclasses.replace(schema, missing=MissingPolicy(covariates="drop_rows"))
    validated = validate(frame, drop)
    assert validated.dropped_rows == (1,)  # positional 1-based rows, whatever the index
    encode(validated)
    load_data(frame, drop)
    pd.testing.assert_frame_equal(frame, original)
