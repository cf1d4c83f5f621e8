"""Checks of the values in one column: binary, numeric, categorical and ordinal, extras."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from capmodel.data.schema import Extra
from capmodel.data.validate.column import ColumnView
from capmodel.data.validate.context import Context
from capmodel.data.validate.report import MAX_EXAMPLES, Findings, Problem, problem
from capmodel.data.validate.scalars import (
    is_intlike,
    label,
    natural_key,
    norm,
    number,
    why_not_finite,
    why_not_number,
)
from capmodel.data.validate.wording import did_you_mean, rows_text, suggest, where

_YES_NO = {"yes", "no", "oui", "non", "true", "false", "y", "n", "o", "vrai", "faux"}


@dataclass(frozen=True, kw_only=True)
class ColumnFindings(Findings):
    """One column checked: its problems and warnings, cleaned values and what it resolves.

    ``levels`` and ``labels`` (kept category labels, None elsewhere) are set for categorical
    and ordinal columns, ``wave_key`` (each row's wave, None where missing) for the wave.
    """

    clean: Any
    levels: tuple[str, ...] | None = None
    labels: np.ndarray | None = None
    wave_key: np.ndarray | None = None


def report_values(
    code: str,
    col: str,
    role: str,
    c: ColumnView,
    bad: np.ndarray,
    verb: Callable[[Any], str],
    expected: str,
) -> tuple[Problem, ...]:
    """One problem for column ``col``: each distinct offending value with its rows."""
    idx = np.flatnonzero(bad)
    if not len(idx):
        return ()
    groups: dict[tuple[str, str], tuple[Any, list[int]]] = {}
    for i, v in zip(idx, c.values_at(idx), strict=True):
        groups.setdefault((type(v).__name__, repr(v)), (v, []))[1].append(int(i) + 1)
    items = list(groups.values())
    parts = [f"{v!r} {verb(v)} in {rows_text(rows, 3)}" for v, rows in items[:MAX_EXAMPLES]]
    more = f"; and {len(items) - MAX_EXAMPLES} other values" if len(items) > MAX_EXAMPLES else ""
    total = f" ({len(idx)} rows in all)" if len(idx) > MAX_EXAMPLES else ""
    return (
        problem(
            code,
            col,
            f"{where(col, role)}: {'; '.join(parts)}{more}{total}; expected {expected}",
            rows=(idx[:MAX_EXAMPLES] + 1).tolist(),
            values=[v for v, _ in items],
            n_rows=len(idx),
        ),
    )


def check_binary(ctx: Context, col: str, role: str) -> ColumnFindings:
    """``not_binary``: a value other than 0/1; cleaned as nullable 0/1 codes."""
    c = ctx.cols[col]
    codes, bad = c.binaries()

    def verb(v: Any) -> str:
        if isinstance(v, str) and v.strip().casefold() in _YES_NO:
            return "is not 0/1 (recode yes/no or true/false labels to 1/0)"
        return "is not 0/1"

    found = report_values(
        "not_binary",
        col,
        role,
        c,
        bad & ctx.keep,
        verb,
        "0 or 1 (integers, 0.0/1.0 floats or booleans)",
    )
    return ColumnFindings(problems=found, clean=pd.arrays.IntegerArray(codes, codes < 0))


def check_numeric(ctx: Context, col: str, role: str) -> ColumnFindings:
    """``not_numeric``: a value that is not a finite number; cleaned as floats."""
    c = ctx.cols[col]
    nums, not_num = c.numbers()
    chk = ctx.keep & ~c.missing
    bad = chk & (not_num | ~np.isfinite(np.where(not_num, 0.0, nums)))

    def verb(v: Any) -> str:
        if number(v) is not None:
            return why_not_finite(v)
        if isinstance(v, str) and re.fullmatch(r"\s*[+-]?\d+,\d+\s*", v):
            return "is not a number (decimal comma? use a point: 1.5)"
        return why_not_number(v)

    found = report_values("not_numeric", col, role, c, bad, verb, "finite numbers")
    return ColumnFindings(problems=found, clean=np.where(bad, np.nan, nums))


def _level_hint(v: Any, levels: Sequence[str], *, ordinal: bool = False) -> str:
    hint = did_you_mean(suggest(label(v), levels))
    if not hint and ordinal and is_intlike(v):
        return " (integer codes are not accepted: recode them to the level labels)"
    return hint


def _near_duplicates(col: str, role: str, levels: Sequence[str]) -> tuple[str, ...]:
    by_norm: dict[str, list[str]] = {}
    for lv in levels:
        by_norm.setdefault(norm(lv), []).append(lv)
    return tuple(
        f"{where(col, role)}: levels {', '.join(repr(s) for s in same)} differ "
        "only by case, spaces or punctuation; if they are the same category, fix the "
        "data (declaring the levels turns such typos into errors)"
        for same in by_norm.values()
        if len(same) > 1
    )


def check_categorical(
    ctx: Context,
    col: str,
    role: str,
    declared: tuple[str, ...] | None,
    *,
    ordinal: bool = False,
) -> ColumnFindings:
    """``unknown_category`` / ``ordinal_out_of_levels``; else infer levels, warn of near-twins."""
    c = ctx.cols[col]
    labels = c.labels
    chk = ctx.keep & ~c.missing
    bad = np.zeros(ctx.n, dtype=bool)
    found: tuple[Problem, ...] = ()
    warnings: tuple[str, ...] = ()
    if declared is not None:
        allowed = set(declared)
        bad = chk & np.fromiter((lb not in allowed for lb in labels), bool, ctx.n)
        if ordinal:
            found = report_values(
                "ordinal_out_of_levels",
                col,
                role,
                c,
                bad,
                lambda v: (
                    f"is not one of the ordered levels of {col!r}"
                    + _level_hint(v, declared, ordinal=True)
                ),
                f"one of the level labels {list(declared)} (low to high; values must be "
                "these labels, not integer codes)",
            )
        else:
            found = report_values(
                "unknown_category",
                col,
                role,
                c,
                bad,
                lambda v: f"is not a level of {col!r}" + _level_hint(v, declared),
                f"one of the declared levels {list(declared)}",
            )
        levels = tuple(declared)
    else:
        levels = tuple(sorted({labels[i] for i in np.flatnonzero(chk)}, key=natural_key))
        warnings = _near_duplicates(col, role, levels)
    # numpy stubs: None (an object scalar) is a valid value for np.where
    kept = np.where(chk & ~bad, labels, None)  # type: ignore[call-overload]
    return ColumnFindings(
        problems=found,
        warnings=warnings,
        clean=pd.Categorical(kept, categories=list(levels), ordered=ordinal),
        levels=levels,
        labels=kept,
    )


def check_extra(ctx: Context, col: str, spec: Extra) -> ColumnFindings:
    """An extra column, checked by its kind (text extras are kept as strings)."""
    if spec.kind == "binary":
        return check_binary(ctx, col, "extras")
    if spec.kind == "numeric":
        return check_numeric(ctx, col, "extras")
    if spec.kind == "ordinal":
        return check_categorical(ctx, col, "extras", spec.levels, ordinal=True)
    if spec.kind == "categorical":
        return check_categorical(ctx, col, "extras", spec.levels)
    return ColumnFindings(clean=pd.array(list(ctx.cols[col].labels), dtype="string"))
