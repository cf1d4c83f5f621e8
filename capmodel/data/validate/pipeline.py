"""The validation run: every check in order over a frozen context, then the result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from capmodel.data.schema import Covariate, Extra, Group, Indicator, Schema
from capmodel.data.validate.column import ColumnView
from capmodel.data.validate.columns import (
    check_duplicate_columns,
    check_empty,
    check_ignored_columns,
    check_missing_columns,
    check_roles,
    present_entries,
)
from capmodel.data.validate.context import Context, Entry
from capmodel.data.validate.covariates import check_covariates
from capmodel.data.validate.groups import (
    Nesting,
    check_group_levels,
    check_nesting,
    check_nesting_cycles,
)
from capmodel.data.validate.missing import check_all_dropped, check_dropped_rows, check_missing
from capmodel.data.validate.report import DataValidationError, Findings, ValidatedData
from capmodel.data.validate.text import normalise_frame
from capmodel.data.validate.values import (
    ColumnFindings,
    check_binary,
    check_categorical,
    check_extra,
    check_numeric,
)
from capmodel.data.validate.waves import check_duplicate_ids, check_wave
from capmodel.data.validate.weights import check_weight


def validate(df: pd.DataFrame, schema: Schema) -> ValidatedData:
    """Check ``df`` against ``schema``; return :class:`ValidatedData` or raise.

    All problems are collected first and raised together as one :class:`DataValidationError`.
    ``df`` is not modified. Headers and the labels of the schema's columns are compared in
    Unicode NFC (a warning says when that changed anything).
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"validate() expects a pandas DataFrame, got {type(df).__name__}")
    if not isinstance(schema, Schema):
        raise TypeError(f"validate() expects a capmodel Schema, got {type(schema).__name__}")
    df, text_notes = normalise_frame(df, schema.columns())
    ctx = Context.of(df, schema)
    roles = check_roles(ctx)
    cycles = check_nesting_cycles(ctx)
    problems = [*roles, *cycles.problems, *check_duplicate_columns(ctx), *check_empty(ctx)]
    problems += check_missing_columns(ctx)
    if ctx.n == 0 or roles:  # no rows, or a column in two roles: its values have no one meaning
        raise DataValidationError(problems)
    present = present_entries(ctx)
    cols = {col: ColumnView(df[col]) for col, _, _ in present}
    ctx = replace(ctx, present=present, cols=cols, cyclic=cycles.cyclic)
    dropped = check_dropped_rows(ctx)
    ctx = replace(ctx, keep=dropped.keep, dropped=dropped.rows)
    if empty := check_all_dropped(ctx):
        raise DataValidationError([*problems, *empty])
    columns = [check_column(ctx, entry) for entry in present]
    ctx = _resolved(ctx, columns)
    ids = check_duplicate_ids(ctx)
    levels = check_group_levels(ctx)
    nesting = check_nesting(ctx)
    covariates = check_covariates(ctx)
    ignored = check_ignored_columns(ctx)
    found = [*columns, Findings(problems=ids), levels, nesting, covariates]
    problems += [p for f in found for p in f.problems]
    if problems:
        raise DataValidationError(problems)
    warnings = [*text_notes, *dropped.warnings, *(w for f in found for w in f.warnings), *ignored]
    return _result(ctx, covariates.references, nesting, tuple(warnings))


def check_column(ctx: Context, entry: Entry) -> ColumnFindings:
    """Check one column in its role: missing values first, then its values."""
    col, role, spec = entry
    missing = check_missing(ctx, col, role)
    found = _check_values(ctx, col, role, spec)
    return replace(found, problems=(*missing, *found.problems))


def _check_values(
    ctx: Context, col: str, role: str, spec: Group | Covariate | Indicator | Extra | None
) -> ColumnFindings:
    if role == "id":
        return ColumnFindings(clean=ctx.cols[col].labels)
    if role == "wave":
        return check_wave(ctx, col)
    if role == "weight":
        return check_weight(ctx, col)
    if role == "groups":
        assert isinstance(spec, Group)
        return check_categorical(ctx, col, role, spec.levels)
    if role in ("supports", "realisations"):
        return check_binary(ctx, col, role)
    if role in ("factors", "confounders"):
        assert isinstance(spec, Covariate)
        if spec.kind == "numeric":
            return check_numeric(ctx, col, role)
        return check_categorical(ctx, col, role, spec.levels)
    if role == "indicators":
        assert isinstance(spec, Indicator)
        if spec.kind == "binary":
            return check_binary(ctx, col, role)
        return check_categorical(ctx, col, role, spec.levels, ordinal=True)
    assert role == "extras" and isinstance(spec, Extra)
    return check_extra(ctx, col, spec)


def _resolved(ctx: Context, columns: Sequence[ColumnFindings]) -> Context:
    """``ctx`` with what the column checks resolved (in the order of ``ctx.present``)."""
    found = list(zip(ctx.present, columns, strict=True))
    return replace(
        ctx,
        clean={e.column: f.clean for e, f in found},
        labels={e.column: f.labels for e, f in found if f.labels is not None},
        levels={e.column: f.levels for e, f in found if f.levels is not None},
        wave_key=next((f.wave_key for f in columns if f.wave_key is not None), None),
    )


def _result(
    ctx: Context, references: dict[str, str], nesting: Nesting, warnings: tuple[str, ...]
) -> ValidatedData:
    index = pd.Index(np.arange(1, ctx.n + 1, dtype=np.int64), name="row")
    frame = pd.DataFrame({col: ctx.clean[col] for col, _, _ in ctx.present}, index=index)
    frame = frame.loc[ctx.keep].copy()
    for col, role, _ in ctx.present:
        if role == "id":
            frame[col] = frame[col].astype("string")
        elif role == "wave":
            frame[col] = frame[col].astype("int64")
        elif role == "supports":  # never missing once validated
            frame[col] = frame[col].astype("int8")
    return ValidatedData(
        frame=frame,
        schema=ctx.schema,
        levels=dict(ctx.levels),
        references=dict(references),
        nesting=dict(nesting.nesting),
        inferred_nesting=dict(nesting.inferred),
        dropped_rows=ctx.dropped,
        warnings=warnings,
    )
