"""encode(): model-ready arrays whose codes decode back to the input labels."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from capmodel.data import Group, MissingPolicy, Schema, dataset_hash, encode, load_data, validate

ORIENTATION = ("not_at_all", "a_little", "rather", "completely")
REGION_OF = {"r1": "op_a", "r2": "op_a", "r3": "op_b", "r4": "op_b", "r5": "op_c", "r6": "op_d"}


def decode(ds, var: str, dim: str) -> list[str]:
    labels = ds[dim].values
    return [labels[c] for c in ds[var].values]


def test_layout_and_attrs(frame, schema):
    ds = encode(validate(frame, schema))
    assert ds.sizes["obs"] == 40 and ds.sizes["person"] == 16
    assert ds["row"].dims == ("obs",) and list(ds["row"].values) == list(range(1, 41))
    assert ds["person_code"].dtype == np.int64 and ds["wave"].dtype == np.int64
    assert ds["weight"].dtype == np.float64
    assert ds["supports"].dims == ("obs", "support") and ds["supports"].dtype == np.int8
    assert list(ds["support"].values) == ["information", "reflection"]
    assert list(ds["realisation"].values) == ["training", "occupation_change"]
    assert ds["realisations"].dtype == np.int8
    assert ds["covariate__autonomy"].dtype == np.float64
    assert ds["covariate__autonomy"].attrs == {
        "column": "autonomy",
        "role": "confounders",
        "kind": "numeric",
    }
    sex = ds["covariate__sex"].attrs
    assert sex["kind"] == "categorical" and sex["role"] == "factors" and sex["reference"] == "F"
    assert ds["indicator__cap_options"].attrs["kind"] == "binary"
    assert "usefulness" not in json.dumps(list(ds.variables))  # extras are not encoded
    assert Schema.from_dict(json.loads(ds.attrs["schema"])) == schema
    assert ds.attrs["n_rows"] == 40 and ds.attrs["n_persons"] == 16
    assert ds.attrs["dropped_rows"] == 0 and len(ds.attrs["data_hash"]) == 64


def test_codes_round_trip_to_labels(frame, schema):
    ds = encode(validate(frame, schema))
    assert decode(ds, "person_code", "person") == list(frame["person_id"])
    assert decode(ds, "group__operator", "level__operator") == list(frame["operator"])
    assert decode(ds, "group__region", "level__region") == list(frame["region"])
    assert decode(ds, "covariate__sex", "level__sex") == list(frame["sex"])
    assert decode(ds, "covariate__qualification", "level__qualification") == list(
        frame["qualification"]
    )
    assert decode(ds, "indicator__cap_orientation", "level__cap_orientation") == list(
        frame["cap_orientation"]
    )
    assert list(ds["wave"].values) == list(frame["months_since_exit"])
    np.testing.assert_array_equal(ds["weight"].values, frame["weight"].to_numpy())
    np.testing.assert_array_equal(ds["covariate__autonomy"].values, frame["autonomy"].to_numpy())
    np.testing.assert_array_equal(ds["supports"].sel(support="reflection"), frame["reflection"])
    np.testing.assert_array_equal(ds["indicator__cap_options"], frame["cap_options"])
    np.testing.assert_array_equal(ds["realisations"].sel(realisation="training"), frame["training"])


def test_ordinal_codes_follow_declared_order(frame, schema):
    ds = encode(validate(frame, schema))
    assert list(ds["level__cap_orientation"].values) == list(ORIENTATION)  # not alphabetical
    codes = ds["indicator__cap_orientation"].values
    expected = [ORIENTATION.index(x) for x in frame["cap_orientation"]]
    assert list(codes) == expected and ds["indicator__cap_orientation"].dtype == np.int8


def test_declared_nesting_parent_map(frame, schema):
    ds = encode(validate(frame, schema))
    parent = ds["group__region__parent"]
    assert parent.dims == ("level__region",) and parent.attrs["nesting"] == "declared"
    outer = ds["level__operator"].values
    got = {r: outer[c] for r, c in zip(ds["level__region"].values, parent.values, strict=True)}
    assert got == REGION_OF


def test_nesting_is_inferred_when_undeclared(frame, schema):
    s = dataclasses.replace(schema, groups=(Group("operator"), Group("region")))
    v = validate(frame, s)
    assert v.nesting == {"region": "operator"} == v.inferred_nesting
    assert any("inferred" in w and "'region'" in w for w in v.warnings)
    ds = encode(v)
    assert ds["group__region__parent"].attrs["nesting"] == "inferred"
    assert ds["group__region"].attrs["within"] == "operator"


def test_crossed_groups_are_not_nested(frame, schema):
    frame["operator"] = ["op_a", "op_b", "op_c", "op_d"] * 10  # regions span 2 operators
    s = dataclasses.replace(schema, groups=(Group("operator"), Group("region")))
    v = validate(frame, s)
    assert v.nesting == {} and "group__region__parent" not in encode(v)


def test_missing_responses_encoded_as_minus_one(frame, schema):
    for col in ("cap_options", "cap_orientation", "occupation_change"):
        frame[col] = frame[col].astype(object)
    frame.loc[3, "cap_options"] = np.nan
    frame.loc[5, "cap_orientation"] = None
    frame.loc[7, "occupation_change"] = pd.NA
    ds = encode(validate(frame, schema))
    assert ds["indicator__cap_options"].values[3] == -1
    assert ds["indicator__cap_orientation"].values[5] == -1
    assert ds["realisations"].sel(realisation="occupation_change").values[7] == -1
    assert (ds["indicator__cap_options"].values >= 0).sum() == 39


def test_dropped_rows_keep_original_row_numbers(frame, schema):
    frame["sex"] = frame["sex"].astype(object)
    frame.loc[[0, 5], "sex"] = None
    s = dataclasses.replace(schema, missing=MissingPolicy(covariates="drop_rows"))
    ds = encode(validate(frame, s))
    assert ds.sizes["obs"] == 38 and ds.attrs["dropped_rows"] == 2
    assert list(ds["row"].values[:5]) == [2, 3, 4, 5, 7]


def test_roles_without_wave_weight_supports_or_realisations(frame):
    s = Schema(id="person_id", factors=(), indicators=())
    ds = encode(validate(frame[frame["months_since_exit"] == 1], s))
    assert set(ds.data_vars) == {"person_code"} and ds.sizes["obs"] == 16


def test_hash_is_the_same_from_csv_parquet_and_dataframe(frame, schema, tmp_path):
    csv, pq = tmp_path / "data.csv", tmp_path / "data.parquet"
    frame.to_csv(csv, index=False)
    frame.to_parquet(pq, index=False)
    hashes = {load_data(src, schema).dataset.attrs["data_hash"] for src in (frame, csv, pq)}
    assert len(hashes) == 1


@pytest.mark.parametrize(
    ("column", "value"), [("weight", 1.0000001), ("sex", "M"), ("cap_orientation", "rather")]
)
def test_hash_changes_when_one_value_changes(frame, schema, column, value):
    before = encode(validate(frame, schema))
    other = frame.copy()
    if other.loc[17, column] == value:
        value = "F" if value == "M" else "a_little"
    other[column] = other[column].astype(object)
    other.loc[17, column] = value
    after = encode(validate(other, schema))
    assert after.attrs["data_hash"] != before.attrs["data_hash"]
    assert dataset_hash(before) == before.attrs["data_hash"]


# ------------------------------------------------------------------ the capmodel accessor
def _with_missing_responses(frame):
    for col in ("cap_options", "cap_orientation", "occupation_change"):
        frame[col] = frame[col].astype(object)
    frame.loc[3, "cap_options"] = np.nan
    frame.loc[5, "cap_orientation"] = None
    frame.loc[7, "occupation_change"] = pd.NA
    return frame


def test_accessor_frame_round_trips_the_validated_frame(frame, schema):
    validated = validate(_with_missing_responses(frame), schema)
    decoded = encode(validated).capmodel.frame()
    expected = validated.frame.drop(columns=[e.column for e in schema.extras])
    pd.testing.assert_frame_equal(decoded, expected)  # values, dtypes, order, row index
    assert decoded["cap_options"].isna().sum() == 1 and decoded["cap_orientation"].cat.ordered


def test_accessor_round_trips_dropped_rows_and_a_column_subset(frame, schema):
    frame["sex"] = frame["sex"].astype(object)
    frame.loc[[0, 5], "sex"] = None
    validated = validate(
        frame, dataclasses.replace(schema, missing=MissingPolicy(covariates="drop_rows"))
    )
    columns = ["region", "sex", "reflection", "training"]
    decoded = encode(validated).capmodel.frame(columns)
    pd.testing.assert_frame_equal(decoded, validated.frame[columns])
    assert list(decoded.index[:5]) == [2, 3, 4, 5, 7]


def test_accessor_plain_frame_has_numpy_dtypes(frame, schema):
    ds = encode(validate(_with_missing_responses(frame), schema))
    plain = ds.capmodel.frame(plain=True)
    assert list(plain.columns) == list(ds.capmodel.columns())
    assert plain["cap_options"].dtype == np.float64 and np.isnan(plain.loc[4, "cap_options"])
    assert plain["reflection"].dtype == np.float64  # supports: 0/1 as floats too
    assert plain.loc[6, "cap_orientation"] is None or pd.isna(plain.loc[6, "cap_orientation"])
    assert list(plain["region"]) == list(frame["region"])
    assert list(plain["person_id"]) == list(frame["person_id"])
    assert plain["months_since_exit"].dtype == np.int64


def test_accessor_columns_roles_kinds_and_levels(frame, schema):
    enc = encode(validate(frame, schema)).capmodel
    assert enc.columns("groups") == ("operator", "region")
    assert enc.columns(("factors", "confounders")) == ("sex", "qualification", "autonomy")
    assert enc.columns("supports") == ("information", "reflection")
    assert enc.columns("wave") == ("months_since_exit",) and enc.columns("weight") == ("weight",)
    assert enc.role("person_id") == "id" and enc.role("training") == "realisations"
    kinds = {c: enc.kind(c) for c in ("person_id", "weight", "region", "autonomy")}
    assert kinds == {"person_id": "id", "weight": "numeric", "region": "categorical",
                     "autonomy": "numeric"}  # fmt: skip
    assert enc.kind("cap_orientation") == "ordinal" and enc.kind("cap_options") == "binary"
    assert enc.kind("reflection") == "binary"
    assert enc.levels("cap_orientation") == ORIENTATION
    assert enc.has_levels("sex") and not enc.has_levels("autonomy")
    assert not enc.has_levels("person_id") and not enc.has_levels("not_a_column")
    assert enc.persons == tuple(dict.fromkeys(frame["person_id"]))
    assert enc.references() == {"sex": "F", "qualification": "none"}
    assert enc.reference("sex") == "F"
    with pytest.raises(KeyError, match="not a column"):
        enc.variable("usefulness")  # extras are not encoded
    with pytest.raises(KeyError, match="has no levels"):
        enc.levels("autonomy")
    with pytest.raises(ValueError, match="unknown role"):
        enc.columns("group")


def test_accessor_variable_and_array(frame, schema):
    ds = encode(validate(frame, schema))
    enc = ds.capmodel
    assert enc.variable("sex").identical(ds["covariate__sex"])
    np.testing.assert_array_equal(enc.variable("reflection"), frame["reflection"])
    np.testing.assert_array_equal(
        enc.array(["training", "occupation_change"]), ds["realisations"].values
    )
    assert enc.array([]).shape == (40, 0)
    labels = enc.labels("qualification")
    assert labels.index.name == "row" and list(labels) == list(frame["qualification"])


def test_accessor_nesting(frame, schema):
    enc = encode(validate(frame, schema)).capmodel
    assert enc.within("region") == "operator" and enc.within("operator") is None
    outer = enc.levels("operator")
    parents = enc.parent_codes("region")
    assert {r: outer[c] for r, c in zip(enc.levels("region"), parents, strict=True)} == REGION_OF
    with pytest.raises(KeyError, match="not nested"):
        enc.parent_codes("operator")


def test_accessor_reads_a_dataset_without_optional_roles(frame):
    s = Schema(id="person_id", factors=(), indicators=())
    enc = encode(validate(frame[frame["months_since_exit"] == 1], s)).capmodel
    assert enc.columns() == ("person_id",) and enc.columns("supports") == ()
    assert list(enc.frame()["person_id"]) == [f"P{k:02d}" for k in range(16)]
