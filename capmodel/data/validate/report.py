"""What validation reports: the problem codes, :class:`Problem`, the error, the result."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from capmodel.data.schema import Schema

#: How row numbers are counted, repeated in every error message.
ROW_NUMBERS = "row numbers are 1-based data rows: row 1 = first data row, i.e. line 2 of a CSV"

#: Every problem code :func:`validate` can report, with what it means.
PROBLEM_CODES: dict[str, str] = {
    "empty": "the data has no rows (or every row was dropped for missing covariates)",
    "column_in_two_roles": "a column is declared in two roles (or twice in one role)",
    "nesting_cycle": "groups are declared within each other in a cycle",
    "duplicate_column": "a column the schema uses appears more than once in the data",
    "missing_column": "a column the schema names is not in the data",
    "missing_not_allowed": "a missing value where the schema does not allow one",
    "unknown_category": "a category label that is not a declared level",
    "not_binary": "a value other than 0/1 in a binary column",
    "ordinal_out_of_levels": "an ordinal value that is not one of its ordered level labels",
    "bad_weight": "a weight that is missing, not a number, not finite or not > 0",
    "wave_not_declared": "a wave value that is not one of schema.waves",
    "duplicate_id": "the same person id twice within a wave (or twice at all without waves)",
    "empty_group_level": "a declared group level with no rows",
    "nesting_violated": "a level of a nested group appears under several outer levels",
    "not_numeric": "a value that is not a finite number in a numeric column",
    "reference_not_found": "a covariate's reference level does not occur in the data",
}

#: How many example rows and values a :class:`Problem` keeps.
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Problem:
    """One problem found in the data.

    ``rows`` holds up to five example 1-based data row numbers, ``values`` up to five
    offending values and ``n_rows`` how many rows have the problem (0 when not row-based).
    """

    code: str
    column: str | None
    message: str
    rows: tuple[int, ...] = ()
    values: tuple[Any, ...] = ()
    n_rows: int = 0

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


def problem(
    code: str,
    column: str | None,
    message: str,
    rows: Iterable[int] = (),
    values: Iterable[Any] = (),
    n_rows: int = 0,
) -> Problem:
    """A :class:`Problem` keeping the first :data:`MAX_EXAMPLES` of ``rows`` and ``values``."""
    return Problem(
        code, column, message, tuple(rows)[:MAX_EXAMPLES], tuple(values)[:MAX_EXAMPLES], n_rows
    )


class DataValidationError(ValueError):
    """The data do not match the schema; ``.problems`` lists every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        n = len(self.problems)
        plural = "s" if n != 1 else ""
        head = f"the data do not match the schema: {n} problem{plural} ({ROW_NUMBERS})"
        super().__init__("\n".join([head + ":", *(f"  - {p}" for p in self.problems)]))

    @property
    def codes(self) -> list[str]:
        """The problem codes, in the order reported."""
        return [p.code for p in self.problems]

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))


@dataclass(frozen=True, eq=False)
class ValidatedData:
    """Data that passed :func:`validate`, cleaned and with everything resolved.

    - ``frame``: a new DataFrame with only the schema's columns, indexed by ``row`` (the
      original 1-based data row numbers); missing values are NaN/pd.NA; ids and text are
      strings, categorical and ordinal columns are pandas Categoricals with the resolved
      levels (ordinal ones ordered), supports are ``int8``, other binary columns (which may
      hold missing values) nullable ``Int8``, waves ``int64``, weights and numeric columns
      ``float64``.
    - ``levels``: column -> levels, for groups, categorical covariates, ordinal indicators and
      categorical/ordinal extras (declared, else inferred: the sorted distinct labels).
    - ``references``: categorical covariate -> reference level (declared, else first level).
    - ``nesting``: inner group -> outer group, declared or inferred from the data;
      ``inferred_nesting`` holds the inferred subset.
    - ``dropped_rows``: 1-based row numbers dropped for missing covariates.
    - ``warnings``: things worth knowing that are not errors.
    """

    frame: pd.DataFrame
    schema: Schema
    levels: dict[str, tuple[str, ...]]
    references: dict[str, str]
    nesting: dict[str, str]
    inferred_nesting: dict[str, str]
    dropped_rows: tuple[int, ...]
    warnings: tuple[str, ...]

    @property
    def n_rows(self) -> int:
        """Rows kept."""
        return len(self.frame)

    @property
    def n_dropped(self) -> int:
        """Rows dropped for missing covariates."""
        return len(self.dropped_rows)


@dataclass(frozen=True)
class Findings:
    """What one check found: problems (errors) and warnings, in the order found."""

    problems: tuple[Problem, ...] = ()
    warnings: tuple[str, ...] = ()
