"""A post-stratification (MRP) population table checked against the fit's schema, as strictly as
survey data: before any prediction, every problem named at once.

- an empty table, a duplicated column, a missing or invalid ``count`` column;
- a cell variable (a categorical column of the fit's data) with missing cells;
- a label that is not a level of its column in the fit (sex coded 1/2 for "F"/"M", a
  factor level the survey never had): an error naming the column, the values, their rows
  and the expected levels; for a group with declared levels, a label outside them likewise;
- a group level the fit never saw (a region absent from the survey): an error unless
  ``allow_unseen_groups``, then such levels are listed and post-stratification gives them
  the effect of a new level of their group (their predictors' line plus a draw from the
  group's spread: capmodel.effects.poststrat).

Labels and headers are compared in Unicode NFC, and 1, 1.0 and "1" are the label "1", as in
:mod:`capmodel.data.validate`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from capmodel.data.schema import Schema
from capmodel.data.validate.scalars import is_missing, label, number
from capmodel.data.validate.text import nfc, normalise_frame
from capmodel.data.validate.wording import did_you_mean, rows_text, suggest
from capmodel.effects.units import EffectsError

MAX_SHOWN = 5  # values (and rows of each) named in a message


class PopulationTableError(EffectsError):
    """A population table that does not match the fit (every problem, one per line)."""

    def __init__(self, problems: Sequence[str]):
        self.problems = tuple(problems)
        head = f"population table: {len(self.problems)} problem" + (
            "s" if len(self.problems) > 1 else ""
        )
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


@dataclass(frozen=True)
class FitColumns:
    """What the fit knows of the categorical columns a population table may carry: the levels
    it has for each (``levels``), which are groups (``groups``) and the levels the schema
    declares (``declared``: None where inferred from the data)."""

    levels: Mapping[str, tuple[str, ...]]
    groups: frozenset[str] = frozenset()
    declared: Mapping[str, tuple[str, ...] | None] = field(default_factory=dict)

    @classmethod
    def of(cls, ds: xr.Dataset, schema: Schema) -> FitColumns:
        """From a fit's encoded data (``Fit.data``) and its schema (the declared levels)."""
        declared: dict[str, tuple[str, ...] | None] = {g.column: g.levels for g in schema.groups}
        declared |= {c.column: c.levels for c in schema.covariates()}
        enc = ds.capmodel
        cols = [c for c in enc.columns() if enc.has_levels(c)]
        return cls(
            levels={c: tuple(enc.levels(c)) for c in cols},
            groups=frozenset(c for c in cols if enc.role(c) == "groups"),
            declared={c: declared.get(c) for c in cols},
        )


@dataclass(frozen=True)
class CheckedPopulation:
    """The table with its cell variables as NFC text labels (and counts as floats), the cell
    variables, the count column, the group levels the fit never saw (allowed unseen) and the
    notes (NFC normalisation)."""

    table: pd.DataFrame
    cell_vars: tuple[str, ...]
    count: str | None
    unseen: dict[str, list[str]]
    notes: tuple[str, ...] = ()


def check_population(
    population: pd.DataFrame,
    fit: FitColumns,
    *,
    cell_vars: Sequence[str] | None = None,
    count: str | None = None,
    allow_unseen_groups: bool = False,
) -> CheckedPopulation:
    """Check ``population`` against ``fit``; return it cleaned or raise
    :class:`PopulationTableError` with every problem. ``population`` is not modified."""
    if not isinstance(population, pd.DataFrame):
        raise EffectsError(
            f"the population table must be a pandas DataFrame, got {type(population).__name__}"
        )
    if len(population) == 0:
        raise PopulationTableError(
            ["the table has no rows; expected one row per person (or per cell with a count column)"]
        )
    table, notes = normalise_frame(population, what="the population table")
    table = table.copy()  # cleaned columns replace the caller's, never in place
    problems: list[str] = []
    dups = [c for c, k in Counter(table.columns).items() if k > 1]
    problems += [
        f"column {c!r} appears {Counter(table.columns)[c]} times; expected each column once"
        for c in dups
    ]
    if problems:
        raise PopulationTableError(problems)
    count = nfc(count) if count else None
    if count is not None:
        problems += _check_count(table, count)
    available = [c for c in table.columns if c != count and c in fit.levels]
    wanted = [nfc(c) for c in cell_vars] if cell_vars is not None else available
    unknown = [c for c in wanted if c not in available]
    if unknown:
        problems.append(
            f"cell variable(s) {unknown} are not categorical columns of both the population "
            f"table and the fit's data; allowed: {available}"
        )
    if not wanted:
        problems.append(
            "no column of the table is a categorical column of the fit's data; expected some "
            f"of {sorted(fit.levels)}"
        )
    cells = [c for c in wanted if c in available]
    unseen: dict[str, list[str]] = {}
    for c in cells:
        labels, found, new = _check_cell_column(table[c], c, fit, allow_unseen_groups)
        problems += found
        if new:
            unseen[c] = new
        table[c] = labels
    if problems:
        raise PopulationTableError(problems)
    if count is not None:
        table[count] = pd.to_numeric(table[count]).astype(float)
    return CheckedPopulation(table, tuple(cells), count, unseen, notes)


def _check_count(table: pd.DataFrame, count: str) -> list[str]:
    if count not in table.columns:
        return [f"count column {count!r} is not in the table; columns: {list(table.columns)}"]
    values = table[count].tolist()
    nums = [number(v) for v in values]
    bad = [i for i, x in enumerate(nums) if x is None or not np.isfinite(x) or x < 0]
    if bad:
        shown = ", ".join(f"{values[i]!r} in row {i + 1}" for i in bad[:MAX_SHOWN])
        more = f" ({len(bad)} rows in all)" if len(bad) > MAX_SHOWN else ""
        return [f"count column {count!r}: {shown}{more}; expected finite numbers >= 0"]
    if sum(x for x in nums if x is not None) <= 0:
        return [f"count column {count!r}: the counts add up to 0; expected a positive total"]
    return []


def _check_cell_column(
    s: pd.Series, col: str, fit: FitColumns, allow_unseen: bool
) -> tuple[pd.Series, list[str], list[str]]:
    """The column as text labels, its problems and its unseen (allowed) group levels (each
    distinct value read once: a population table has many rows and few labels)."""
    codes, uniques = pd.factorize(s.astype(object), use_na_sentinel=True)
    text = [None if is_missing(v) else nfc(label(v)) for v in uniques.tolist()]
    missing_code = np.array([t is None for t in text] + [True], dtype=bool)  # -1: NaN
    missing = (np.flatnonzero(missing_code[codes]) + 1).tolist()
    lookup = np.array([*text, None], dtype=object)
    labels = lookup[codes].tolist()
    problems = []
    if missing:
        problems.append(
            f"column {col!r}: missing in {rows_text(missing)}"
            + (f" ({len(missing)} rows in all)" if len(missing) > 5 else "")
            + "; "
            "expected a level in every row"
        )
    known = fit.levels[col]
    declared = fit.declared.get(col)
    is_group = col in fit.groups
    # a group may take levels the fit never saw (opt-in); within its declared levels if any
    allowed = set(declared) if is_group and declared is not None else None
    rows_of: dict[str, list[int]] = {}
    for k, lb in enumerate(text):
        if lb is not None and lb not in known:
            rows_of.setdefault(lb, []).extend((np.flatnonzero(codes == k) + 1).tolist())
    rows_of = {v: sorted(r) for v, r in rows_of.items()}
    invalid = {v: r for v, r in rows_of.items() if not is_group or (allowed and v not in allowed)}
    unseen = {v: r for v, r in rows_of.items() if v not in invalid}
    if invalid:
        expected = declared if declared is not None else known
        what = "declared levels" if declared is not None else "levels in the fit"
        problems.append(
            f"column {col!r}: {_values_text(invalid, expected)} "
            f"{'is not' if len(invalid) == 1 else 'are not'} among the {what} of {col!r}; "
            f"expected one of {list(expected)} (recode the population table to the survey's "
            "labels)"
        )
    if unseen and not allow_unseen:
        problems.append(
            f"column {col!r} (group): {_values_text(unseen, known)} "
            f"{'is a level' if len(unseen) == 1 else 'are levels'} the fit never saw (not in "
            f"the survey); expected one of {list(known)}; if the table is right, pass "
            "allow_unseen_groups=True (--allow-unseen-groups) to give them the effect of a new "
            "level: their group-level predictors' line plus a draw from the group's spread"
        )
    out = pd.Series(labels, index=s.index, dtype=object, name=s.name)
    return out, problems, sorted(unseen) if allow_unseen else []


def _values_text(rows_of: dict[str, list[int]], levels: Sequence[str]) -> str:
    """``'1' (rows 1, 3 and 8 more; did you mean ...?), '2' (...)``: at most MAX_SHOWN."""
    items = sorted(rows_of.items(), key=lambda kv: kv[1][0])
    parts = [
        f"{v!r} ({rows_text(r, 3)}){did_you_mean(suggest(v, levels))}" for v, r in items[:MAX_SHOWN]
    ]
    more = f" and {len(items) - MAX_SHOWN} other values" if len(items) > MAX_SHOWN else ""
    return ", ".join(parts) + more
