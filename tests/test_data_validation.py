"""validate(): every malformed input gets its own problem code and a useful message."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest

from capmodel.data import (
    PROBLEM_CODES,
    Covariate,
    DataValidationError,
    Extra,
    Group,
    Indicator,
    MissingPolicy,
    Problem,
    Schema,
    validate,
)


def put(df: pd.DataFrame, index: int, column: str, value: object) -> None:
    """Set one cell (0-based ``index``, i.e. data row ``index + 1``), whatever its type."""
    df[column] = df[column].astype(object)
    df.loc[index, column] = value


def problems_of(df: pd.DataFrame, schema: Schema) -> list[Problem]:
    with pytest.raises(DataValidationError) as info:
        validate(df, schema)
    err = info.value
    assert str(err).count("\n") == len(err.problems)  # header + one line per problem
    for p in err.problems:
        assert p.code in PROBLEM_CODES
        assert str(p) in str(err)
    return err.problems


def one(df: pd.DataFrame, schema: Schema, code: str) -> Problem:
    found = problems_of(df, schema)
    matching = [p for p in found if p.code == code]
    assert len(matching) == 1, [str(p) for p in found]
    return matching[0]


def with_groups(schema: Schema, *groups: Group) -> Schema:
    return dataclasses.replace(schema, groups=groups)


# --------------------------------------------------------------------------- valid data
def test_valid_data_passes_and_resolves(frame, schema):
    v = validate(frame, schema)
    assert v.n_rows == 40 and v.dropped_rows == () and v.warnings == ()
    assert list(v.frame.columns) == schema.columns()
    assert list(v.frame.index) == list(range(1, 41)) and v.frame.index.name == "row"
    assert v.levels["sex"] == ("F", "M")  # inferred, sorted
    assert v.levels["qualification"][0] == "none"  # declared order kept
    assert v.levels["cap_orientation"] == ("not_at_all", "a_little", "rather", "completely")
    assert v.references == {"sex": "F", "qualification": "none"}
    assert v.nesting == {"region": "operator"} and v.inferred_nesting == {}
    assert v.frame["usefulness"].isna().sum() == 5  # extras may be missing
    assert v.frame["cap_orientation"].cat.ordered


def test_problem_codes_are_documented():
    assert {"empty", "missing_column", "unknown_category", "nesting_violated"} <= set(PROBLEM_CODES)


# --------------------------------------------------------------------------- malformed inputs
def test_missing_column_suggests_close_match(frame, schema):
    p = one(frame.rename(columns={"region": "regions"}), schema, "missing_column")
    assert p.column == "region"
    assert "'region' (group) is not in the data" in p.message
    assert "did you mean 'regions'?" in p.message


def test_missing_column_suggests_case_and_whitespace_variant(frame, schema):
    p = one(frame.rename(columns={"sex": " Sex"}), schema, "missing_column")
    assert "did you mean ' Sex'?" in p.message


def test_missing_column_that_is_the_index(frame, schema):
    p = one(frame.set_index("person_id"), schema, "missing_column")
    assert "reset_index" in p.message


def test_unknown_category_suggests_declared_level(frame, schema):
    put(frame, 2, "qualification", "bac ")
    p = one(frame, schema, "unknown_category")
    assert p.column == "qualification" and p.rows == (3,) and p.values == ("bac ",)
    assert "'bac ' is not a level of 'qualification' (did you mean 'bac'?) in row 3" in p.message
    assert "expected one of the declared levels ['none', 'cap_bep', 'bac'" in p.message


def test_unknown_group_level(frame, schema):
    put(frame, 5, "operator", "op_x")
    p = one(frame, schema, "unknown_category")
    assert p.column == "operator" and "'op_x'" in p.message and "row 6" in p.message


def test_labels_compare_as_text(frame, schema):
    frame["grade"] = pd.Series([1.0, 2, "3", 2.0] * 10, dtype=object)
    s = dataclasses.replace(schema, factors=(*schema.factors, Covariate("grade", levels="123")))
    assert validate(frame, s).levels["grade"] == ("1", "2", "3")


@pytest.mark.parametrize(
    ("column", "value", "why"),
    [
        ("sex", np.nan, "schema.missing.covariates = 'error'"),
        ("region", pd.NA, "schema.missing.covariates = 'error'"),
        ("information", None, "schema.missing.covariates = 'error'"),
        ("person_id", "  ", "a person id may never be missing"),
        ("months_since_exit", None, "a wave may never be missing"),
    ],
)
def test_missing_not_allowed(frame, schema, column, value, why):
    put(frame, 4, column, value)
    p = one(frame, schema, "missing_not_allowed")
    assert p.column == column and p.rows == (5,)
    assert f"column {column!r}" in p.message and "in row 5" in p.message and why in p.message


def test_not_binary_support(frame, schema):
    put(frame, 6, "information", 2)
    p = one(frame, schema, "not_binary")
    assert p.column == "information" and p.values == (2,)
    assert "2 is not 0/1 in row 7" in p.message and "expected 0 or 1" in p.message


def test_binary_accepts_bools_floats_and_text_digits(frame, schema):
    frame["information"] = frame["information"].astype(bool)
    frame["reflection"] = frame["reflection"].astype(float)
    frame["training"] = frame["training"].astype(str)
    v = validate(frame, schema)
    assert set(v.frame["information"]) <= {0, 1} and v.frame["information"].dtype == "int8"


def test_not_binary_yes_no_hint(frame, schema):
    put(frame, 0, "cap_options", "yes")
    assert "recode yes/no" in one(frame, schema, "not_binary").message


def test_ordinal_out_of_levels(frame, schema):
    put(frame, 9, "cap_orientation", "very_much")
    p = one(frame, schema, "ordinal_out_of_levels")
    assert p.column == "cap_orientation" and p.rows == (10,)
    assert "'very_much' is not one of the ordered levels" in p.message and "row 10" in p.message
    assert "['not_at_all', 'a_little', 'rather', 'completely']" in p.message


def test_ordinal_integer_codes_are_rejected(frame, schema):
    put(frame, 0, "cap_orientation", 2)
    p = one(frame, schema, "ordinal_out_of_levels")
    assert "integer codes are not accepted" in p.message


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0 is not > 0"),
        (-1.5, "-1.5 is not > 0"),
        (np.nan, "nan is missing"),
        (np.inf, "inf is not finite"),
        ("heavy", "'heavy' is not a number"),
    ],
)
def test_bad_weight(frame, schema, value, text):
    put(frame, 3, "weight", value)
    p = one(frame, schema, "bad_weight")
    assert p.column == "weight" and p.rows == (4,)
    assert f"{text} in row 4" in p.message and "finite numbers > 0" in p.message


def test_wave_not_declared(frame, schema):
    put(frame, 1, "months_since_exit", 3)
    p = one(frame, schema, "wave_not_declared")
    assert p.values == (3,) and p.rows == (2,)
    assert "3 is not a declared wave in row 2" in p.message and "[1, 6, 18]" in p.message


def test_waves_compare_numerically(frame, schema):
    frame["months_since_exit"] = [
        ("1", 1.0, 1)[k % 3] if k < 16 else w for k, w in enumerate(frame["months_since_exit"])
    ]
    assert validate(frame, schema).frame["months_since_exit"].dtype == "int64"


def test_duplicate_id_within_wave(frame, schema):
    put(frame, 1, "person_id", "P00")  # row 2 repeats row 1's person in wave 1
    p = one(frame, schema, "duplicate_id")
    assert p.values == ("P00",) and p.rows == (1, 2)
    assert "'P00' in wave 1 (rows 1, 2)" in p.message and "at most once per wave" in p.message


def test_duplicate_id_without_wave_role(frame, schema):
    p = one(frame, dataclasses.replace(schema, wave=None), "duplicate_id")
    assert "16 ids appear more than once" in p.message and "no wave column" in p.message


def test_empty_group_level(frame, schema):
    s = with_groups(
        schema,
        Group("operator", levels=("op_a", "op_b", "op_c", "op_d", "op_e")),
        Group("region", within="operator"),
    )
    p = one(frame, s, "empty_group_level")
    assert p.column == "operator" and p.values == ("op_e",)
    assert "declared level ['op_e'] has no rows" in p.message


def test_empty_data(frame, schema):
    found = problems_of(frame.iloc[:0], schema)
    assert [p.code for p in found] == ["empty"]
    assert "no rows" in found[0].message


def test_column_in_two_roles(frame, schema):
    s = dataclasses.replace(schema, confounders=(*schema.confounders, Covariate("sex")))
    p = one(frame, s, "column_in_two_roles")
    assert p.column == "sex" and "2 roles (factors, confounders)" in p.message


@pytest.mark.parametrize(
    "extra_role",
    [
        {"confounders": (Covariate("operator", kind="numeric"),)},  # a group, also numeric
        {"factors": (Covariate("information"),)},  # a support, also categorical
        {"extras": (Extra("sex"),)},
    ],
)
def test_column_in_two_roles_is_reported_before_its_values_are_read(frame, schema, extra_role):
    """A column in two roles has no one meaning: the schema problem is reported alone (with
    the other structural ones), never a crash from reading its values in both roles."""
    key, entries = next(iter(extra_role.items()))
    s = dataclasses.replace(schema, **{key: (*getattr(schema, key), *entries)})
    put(frame, 5, "weight", -1)  # a value problem: not reported until the schema is fixed
    found = problems_of(frame, s)
    assert [p.code for p in found] == ["column_in_two_roles"]


def test_nesting_violated(frame, schema):
    put(frame, 0, "operator", "op_b")  # row 1: region r1 (an op_a region) under op_b
    p = one(frame, schema, "nesting_violated")
    assert p.column == "region" and p.values == ("r1",) and p.rows == (1,)
    assert "'r1' appears under 2 levels of 'operator'" in p.message
    assert "'op_a' (rows 7, 13, 19 and 3 more)" in p.message and "'op_b' (row 1)" in p.message


def test_nesting_cycle(frame, schema):
    s = with_groups(schema, Group("operator", within="region"), Group("region", within="operator"))
    p = one(frame, s, "nesting_cycle")
    assert "'operator' -> 'region' -> 'operator'" in p.message


def test_not_numeric(frame, schema):
    put(frame, 11, "autonomy", "high")
    put(frame, 12, "autonomy", "1,5")
    p = one(frame, schema, "not_numeric")
    assert p.column == "autonomy" and p.rows == (12, 13)
    assert "'high' is not a number in row 12" in p.message
    assert "decimal comma" in p.message and "expected finite numbers" in p.message


def test_duplicate_column(frame, schema):
    p = one(pd.concat([frame, frame[["sex"]]], axis=1), schema, "duplicate_column")
    assert "'sex' appears 2 times" in p.message


def test_reference_not_found(frame, schema):
    s = dataclasses.replace(
        schema, factors=(Covariate("sex", reference="female"), schema.factors[1])
    )
    p = one(frame, s, "reference_not_found")
    assert "'female' does not occur" in p.message and "['F', 'M']" in p.message


def test_all_problems_are_collected(frame, schema):
    put(frame, 2, "information", 7)
    put(frame, 4, "weight", -1)
    frame = frame.drop(columns="autonomy")
    with pytest.raises(DataValidationError) as info:
        validate(frame, schema)
    err = info.value
    assert sorted(err.codes) == ["bad_weight", "missing_column", "not_binary"]
    lines = str(err).splitlines()
    assert "3 problems" in lines[0] and "1-based" in lines[0]
    assert len(lines) == 4 and all(line.startswith("  - [") for line in lines[1:])
    assert isinstance(err, ValueError)
    assert pickle.loads(pickle.dumps(err)).codes == err.codes


def test_examples_are_capped_at_five(frame, schema):
    frame["information"] = 3
    p = one(frame, schema, "not_binary")
    assert p.rows == (1, 2, 3, 4, 5) and p.n_rows == 40 and "(40 rows in all)" in p.message


# --------------------------------------------------------------------------- warnings
def test_warnings_for_empty_covariate_level_and_near_duplicates(frame, schema):
    put(frame, 0, "sex", "f")  # inferred levels 'F' and 'f'
    frame["notes"] = "x"
    s = dataclasses.replace(
        schema,
        factors=(
            schema.factors[0],
            Covariate("qualification", levels=("phd", *schema.factors[1].levels)),
        ),
    )
    v = validate(frame, s)
    text = "\n".join(v.warnings)
    assert "declared level ['phd'] has no rows" in text and "reference level 'phd'" in text
    assert "'F', 'f' differ only by case" in text
    assert "1 column not named by the schema is ignored: ['notes']" in text


# --------------------------------------------------------------------------- missing policies
def _with_missing_responses(frame: pd.DataFrame) -> pd.DataFrame:
    put(frame, 3, "cap_options", np.nan)
    put(frame, 5, "cap_orientation", None)
    put(frame, 7, "training", "")
    return frame


def test_responses_allow_keeps_missing(frame, schema):
    v = validate(_with_missing_responses(frame), schema)
    assert v.frame.loc[4, "cap_options"] is pd.NA
    assert pd.isna(v.frame.loc[6, "cap_orientation"]) and v.frame.loc[8, "training"] is pd.NA


def test_responses_error_reports_each_column(frame, schema):
    s = dataclasses.replace(schema, missing=MissingPolicy(responses="error"))
    found = problems_of(_with_missing_responses(frame), s)
    assert [(p.code, p.column, p.rows) for p in found] == [
        ("missing_not_allowed", "cap_orientation", (6,)),
        ("missing_not_allowed", "cap_options", (4,)),
        ("missing_not_allowed", "training", (8,)),
    ]
    assert "schema.missing.responses = 'error'" in found[0].message


def test_covariates_drop_rows(frame, schema):
    put(frame, 2, "sex", None)
    put(frame, 9, "autonomy", np.nan)
    put(frame, 9, "region", "")
    put(frame, 20, "information", pd.NA)
    s = dataclasses.replace(schema, missing=MissingPolicy(covariates="drop_rows"))
    v = validate(frame, s)
    assert v.dropped_rows == (3, 10, 21) and v.n_dropped == 3 and v.n_rows == 37
    assert 3 not in v.frame.index and 4 in v.frame.index
    assert "dropped 3 of 40 rows" in v.warnings[0] and "rows 3, 10, 21" in v.warnings[0]


def test_drop_rows_dropping_everything_is_empty(frame, schema):
    frame["autonomy"] = np.nan
    s = dataclasses.replace(schema, missing=MissingPolicy(covariates="drop_rows"))
    p = one(frame, s, "empty")
    assert "all 40 rows" in p.message


def test_extras_are_checked_by_kind(frame, schema):
    frame["score"] = ["a"] + [1.5] * 39
    s = dataclasses.replace(schema, extras=(*schema.extras, Extra("score", kind="numeric")))
    assert one(frame, s, "not_numeric").column == "score"


def test_binary_indicator_schema_variant(frame, schema):
    s = dataclasses.replace(schema, indicators=(Indicator("cap_options"),))
    assert validate(frame, s).frame["cap_options"].dtype == "Int8"


# --------------------------------------------------------------------------- exact report
def test_exact_report_of_many_problems(frame, schema):
    """Every problem of one table, word for word and in check order (a regression pin)."""
    for row, column, value in [
        (0, "operator", "op_b"),
        (1, "months_since_exit", 3),
        (2, "qualification", "bac "),
        (4, "weight", -1),
        (6, "information", "yes"),
        (8, "sex", None),
        (9, "cap_orientation", 2),
        (11, "autonomy", "1,5"),
        (17, "person_id", "P00"),
    ]:
        put(frame, row, column, value)
    s = dataclasses.replace(
        schema,
        groups=(
            Group("operator", levels=("op_a", "op_b", "op_c", "op_d", "op_e")),
            Group("region", within="operator"),
        ),
        factors=(Covariate("sex", reference="female"), schema.factors[1]),
    )
    found = problems_of(frame.drop(columns="training"), s)
    assert [(p.code, p.column, p.rows, p.values, p.n_rows) for p in found] == [
        ("missing_column", "training", (), (), 0),
        ("wave_not_declared", "months_since_exit", (2,), (3,), 1),
        ("bad_weight", "weight", (5,), (-1,), 1),
        ("not_binary", "information", (7,), ("yes",), 1),
        ("missing_not_allowed", "sex", (9,), (None,), 1),
        ("unknown_category", "qualification", (3,), ("bac ",), 1),
        ("not_numeric", "autonomy", (12,), ("1,5",), 1),
        ("ordinal_out_of_levels", "cap_orientation", (10,), (2,), 1),
        ("duplicate_id", "person_id", (17, 18), ("P00",), 2),
        ("empty_group_level", "operator", (), ("op_e",), 0),
        ("nesting_violated", "region", (1,), ("r1",), 1),
        ("reference_not_found", "sex", (), ("female",), 0),
    ]
    assert [p.message for p in found] == [
        (
            "column 'training' (realisation) is not in the data; expected a column named"
            " 'training'; the data has 14 columns: ['person_id', 'months_since_exit',"
            " 'weight', 'operator', 'region', 'information', 'reflection', 'sex',"
            " 'qualification', 'autonomy', 'cap_orientation', 'cap_options',"
            " 'occupation_change', 'usefulness']"
        ),
        (
            "column 'months_since_exit' (wave): 3 is not a declared wave in row 2; expected"
            " one of the declared waves [1, 6, 18] (months since exit; see schema.waves)"
        ),
        (
            "column 'weight' (weight): -1 is not > 0 in row 5; expected finite numbers > 0"
            " (weights may not be missing)"
        ),
        (
            "column 'information' (support): 'yes' is not 0/1 (recode yes/no or true/false"
            " labels to 1/0) in row 7; expected 0 or 1 (integers, 0.0/1.0 floats or"
            " booleans)"
        ),
        (
            "column 'sex' (factor): missing value (None) in row 9; expected no missing"
            " values: missing factors are not allowed when schema.missing.covariates ="
            " 'error' (set it to 'drop_rows' to drop such rows)"
        ),
        (
            "column 'qualification' (factor): 'bac ' is not a level of 'qualification' (did"
            " you mean 'bac'?) in row 3; expected one of the declared levels ['none',"
            " 'cap_bep', 'bac', 'bac+2', 'bac+3_plus']"
        ),
        (
            "column 'autonomy' (confounder): '1,5' is not a number (decimal comma? use a"
            " point: 1.5) in row 12; expected finite numbers"
        ),
        (
            "column 'cap_orientation' (indicator): 2 is not one of the ordered levels of"
            " 'cap_orientation' (integer codes are not accepted: recode them to the level"
            " labels) in row 10; expected one of the level labels ['not_at_all',"
            " 'a_little', 'rather', 'completely'] (low to high; values must be these"
            " labels, not integer codes)"
        ),
        (
            "column 'person_id' (person id): 1 id appears more than once within a wave:"
            " 'P00' in wave 6 (rows 17, 18); expected each person at most once per wave of"
            " 'months_since_exit'"
        ),
        (
            "column 'operator' (group): declared level ['op_e'] has no rows; expected every"
            " declared level to have at least one row (remove unused levels from"
            " Group.levels)"
        ),
        (
            "group 'region' is declared within 'operator', but 'r1' appears under 2 levels"
            " of 'operator': 'op_a' (rows 7, 13, 19 and 3 more) and 'op_b' (row 1);"
            " expected each level of 'region' under exactly one level of 'operator' (if"
            " same-named levels are different units, give them distinct labels)"
        ),
        (
            "column 'sex' (factor): reference level 'female' does not occur in the data;"
            " expected one of the observed levels ['F', 'M']"
        ),
    ]


def test_exact_warnings_and_resolution(frame, schema):
    """What a valid table resolves to and every warning, word for word (a regression pin)."""
    put(frame, 0, "sex", "f")
    put(frame, 2, "sex", None)
    frame["notes"] = "x"
    s = dataclasses.replace(
        schema,
        groups=(Group("operator"), Group("region")),
        factors=(
            schema.factors[0],
            Covariate("qualification", levels=("phd", *schema.factors[1].levels)),
        ),
        missing=MissingPolicy(covariates="drop_rows"),
    )
    v = validate(frame, s)
    assert v.dropped_rows == (3,) and v.n_rows == 39
    assert v.nesting == v.inferred_nesting == {"region": "operator"}
    assert v.references == {"sex": "F", "qualification": "phd"}
    assert list(v.levels.items()) == [
        ("operator", ("op_a", "op_b", "op_c", "op_d")),
        ("region", ("r1", "r2", "r3", "r4", "r5", "r6")),
        ("sex", ("F", "M", "f")),
        ("qualification", ("phd", "none", "cap_bep", "bac", "bac+2", "bac+3_plus")),
        ("cap_orientation", ("not_at_all", "a_little", "rather", "completely")),
        ("usefulness", ("low", "medium", "high")),
    ]
    assert v.warnings == (
        (
            "dropped 1 of 40 rows with a missing covariate (schema.missing.covariates ="
            " 'drop_rows'): row 3; missing values per column: 'sex': 1"
        ),
        (
            "column 'sex' (factor): levels 'F', 'f' differ only by case, spaces or"
            " punctuation; if they are the same category, fix the data (declaring the"
            " levels turns such typos into errors)"
        ),
        (
            "group 'region' is not declared within another group, but each of its 6 levels"
            " lies within exactly one level of 'operator': it is treated as nested within"
            " 'operator' (inferred; declare within = 'operator' to make it explicit)"
        ),
        (
            "column 'qualification' (factor): declared level ['phd'] has no rows; it"
            " includes the reference level 'phd', so contrasts against it are not"
            " identified"
        ),
        "1 column not named by the schema is ignored: ['notes']",
    )
