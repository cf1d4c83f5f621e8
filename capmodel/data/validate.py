"""Check a DataFrame against a :class:`~capmodel.data.schema.Schema` and return a clean copy.

:func:`validate` looks at *every* column and collects *every* problem before raising a single
:class:`DataValidationError`, whose message lists them one per line and whose ``.problems``
holds them as :class:`Problem` records (a stable ``code``, the ``column``, a ``message``, up
to five example ``rows`` and up to five offending ``values``). The codes are listed in
:data:`PROBLEM_CODES`.

Row numbers
-----------
Every row number reported here (in messages, ``Problem.rows``, warnings,
``ValidatedData.dropped_rows`` and the index of ``ValidatedData.frame``) is a **1-based data
row number**: row 1 is the first data row, i.e. line 2 of a CSV file that has a header line.
It is the row's position in the table, whatever the DataFrame's index holds.

Values
------
Category labels are compared as text: ``1``, ``1.0`` and ``"1"`` are the same label ``"1"``,
but ``"cadre "`` (trailing space) is not ``"cadre"``. Missing values are ``None``, ``NaN``,
``pd.NA``, ``NaT`` and empty or blank strings. Binary columns accept 0/1 as integers, as
``0.0``/``1.0``, as booleans or as the strings ``"0"``/``"1"``.

The input DataFrame is never modified.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_integer_dtype, is_numeric_dtype

from capmodel.data.schema import Covariate, Extra, Group, Indicator, Schema

__all__ = [
    "PROBLEM_CODES",
    "ROW_NUMBERS",
    "DataValidationError",
    "Problem",
    "ValidatedData",
    "natural_key",
    "validate",
]

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

_MAX = 5
_COVARIATE_ROLES = ("groups", "supports", "factors", "confounders")
_RESPONSE_ROLES = ("indicators", "realisations")
_ROLE_LABEL = {
    "id": "person id",
    "wave": "wave",
    "weight": "weight",
    "groups": "group",
    "supports": "support",
    "factors": "factor",
    "confounders": "confounder",
    "indicators": "indicator",
    "realisations": "realisation",
    "extras": "extra",
}
_YES_NO = {"yes", "no", "oui", "non", "true", "false", "y", "n", "o", "vrai", "faux"}


# ============================================================================ public types
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


def validate(df: pd.DataFrame, schema: Schema) -> ValidatedData:
    """Check ``df`` against ``schema``; return :class:`ValidatedData` or raise.

    All problems are collected first and raised together as one :class:`DataValidationError`.
    ``df`` is not modified.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"validate() expects a pandas DataFrame, got {type(df).__name__}")
    if not isinstance(schema, Schema):
        raise TypeError(f"validate() expects a capmodel Schema, got {type(schema).__name__}")
    return _Validator(df, schema).run()


def natural_key(label: str) -> tuple[Any, ...]:
    """Sort key for labels: digit runs compare as numbers ("r2" < "r10"), then the text."""
    parts = _DIGITS.split(label)
    if len(parts) == 1:
        return (((1, 0, label),), label)
    return (tuple((0, int(p), "") if i % 2 else (1, 0, p) for i, p in enumerate(parts) if p), label)


_DIGITS = re.compile(r"(\d+)")


# ============================================================================ value helpers
def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _is_missing(v: Any) -> bool:
    if isinstance(v, str):
        return not v.strip()
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _label(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v)


def _number(v: Any) -> float | None:
    if isinstance(v, bool | int | float):
        try:
            return float(v)
        except OverflowError:
            return None
    if isinstance(v, str):
        try:
            return float(v.strip())
        except ValueError:
            return None
    return None


def _binary(v: Any) -> int | None:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int | float):
        return int(v) if v in (0, 1) else None
    if isinstance(v, str):
        return {"0": 0, "1": 1, "0.0": 0, "1.0": 1}.get(v.strip())
    return None


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-.]+", "_", text.strip().casefold()).strip("_")


def _suggest(value: str, choices: Sequence[str], n: int = 1) -> list[str]:
    """Close matches of ``value`` among ``choices`` (case/space-insensitive first)."""
    choices = [c for c in choices if c != value]
    key = _norm(value)
    same = [c for c in choices if _norm(c) == key]
    if same:
        return same[:n]
    close = difflib.get_close_matches(value, choices, n=n, cutoff=0.6)
    if close:
        return close
    by_norm = {_norm(c): c for c in choices}
    return [by_norm[c] for c in difflib.get_close_matches(key, list(by_norm), n=n, cutoff=0.6)]


def _did_you_mean(matches: Sequence[str]) -> str:
    if not matches:
        return ""
    return " (did you mean " + " or ".join(repr(m) for m in matches) + "?)"


def _rows_text(rows: Sequence[int], limit: int = _MAX) -> str:
    rows = list(rows)
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"{'row' if len(rows) == 1 else 'rows'} {shown}{more}"


def _preview(items: Sequence[Any], limit: int = 15) -> str:
    shown = ", ".join(repr(i) for i in items[:limit])
    return f"[{shown}{', ...' if len(items) > limit else ''}]"


def _is_intlike(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True
    if isinstance(v, float):
        return v.is_integer()
    return isinstance(v, str) and v.strip().lstrip("+-").isdigit()


class _Col:
    """One data column: its missing mask and (cached) text/number/binary views."""

    def __init__(self, s: pd.Series) -> None:
        self.s = s
        self.n = len(s)
        self.is_numeric = is_numeric_dtype(s.dtype) and not is_bool_dtype(s.dtype)
        self._labels: np.ndarray | None = None
        self._text = isinstance(s.dtype, pd.StringDtype)  # only str or missing: fast paths
        if self.is_numeric:
            self._num = s.to_numpy(dtype=np.float64, na_value=np.nan)
            self.missing = np.isnan(self._num)
            self._raw: np.ndarray | None = None
        elif self._text:
            self._raw = s.to_numpy(dtype=object, na_value=None)
            blank = s.str.strip() == ""
            self.missing = s.isna().to_numpy(dtype=bool) | blank.to_numpy(
                dtype=bool, na_value=False
            )
        else:
            raw = np.empty(self.n, dtype=object)
            raw[:] = [_py(v) for v in s.tolist()]
            self._raw = raw
            self.missing = np.fromiter((_is_missing(v) for v in raw), dtype=bool, count=self.n)

    def values_at(self, idx: np.ndarray) -> list[Any]:
        """The original values (as Python scalars) at positions ``idx``."""
        if self._raw is not None:
            return [self._raw[i] for i in idx]
        return [_py(v) for v in self.s.iloc[idx].tolist()]

    def present(self) -> np.ndarray:
        return np.flatnonzero(~self.missing)

    def labels(self) -> np.ndarray:
        """Text labels (None where missing)."""
        if self._labels is None:
            out = np.full(self.n, None, dtype=object)
            vals = self._raw if self._raw is not None else self.s.tolist()
            if self._text:
                out[~self.missing] = vals[~self.missing]
            elif is_integer_dtype(self.s.dtype) and not self.missing.any():
                out[:] = [str(v) for v in vals]
            else:
                for i in self.present():
                    out[i] = _label(_py(vals[i]))
            self._labels = out
        return self._labels

    def numbers(self) -> tuple[np.ndarray, np.ndarray]:
        """Floats (NaN where missing or not a number) and the 'not a number' mask."""
        if self._raw is None:
            return self._num, np.zeros(self.n, dtype=bool)
        out = np.full(self.n, np.nan)
        bad = np.zeros(self.n, dtype=bool)
        for i in self.present():
            x = _number(self._raw[i])
            if x is None:
                bad[i] = True
            else:
                out[i] = x
        return out, bad

    def binaries(self) -> tuple[np.ndarray, np.ndarray]:
        """int8 0/1 (-1 where missing or not 0/1) and the 'not 0/1' mask."""
        if self._raw is None:
            ok = (self._num == 0) | (self._num == 1)
            codes = np.where(ok, self._num, -1).astype(np.int8)
            return codes, ~self.missing & ~ok
        codes = np.full(self.n, -1, dtype=np.int8)
        bad = np.zeros(self.n, dtype=bool)
        for i in self.present():
            b = _binary(self._raw[i])
            if b is None:
                bad[i] = True
            else:
                codes[i] = b
        return codes, bad


# ============================================================================ the validator
class _Validator:
    def __init__(self, df: pd.DataFrame, schema: Schema) -> None:
        self.df = df
        self.schema = schema
        self.n = len(df)
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        self.cols: dict[str, _Col] = {}
        self.clean: dict[str, Any] = {}
        self.cat_labels: dict[str, np.ndarray] = {}
        self.levels: dict[str, tuple[str, ...]] = {}
        self.references: dict[str, str] = {}
        self.nesting: dict[str, str] = {}
        self.inferred: dict[str, str] = {}
        self.cyclic: set[str] = set()
        self.dropped: tuple[int, ...] = ()
        self.keep = np.ones(self.n, dtype=bool)
        self.wave_key: np.ndarray | None = None
        self.entries = self._entries()

    # ------------------------------------------------------------------ driver
    def run(self) -> ValidatedData:
        self._check_roles()
        self._check_nesting_cycles()
        dup_cols = self._check_duplicate_columns()
        if self.n == 0:
            self._add("empty", None, "the data has no rows; expected at least one data row")
        self._check_missing_columns()
        if self.n == 0:
            raise DataValidationError(self.problems)
        present = [e for e in self.entries if e[0] in self.df.columns and e[0] not in dup_cols]
        for col, _, _ in present:
            self.cols[col] = _Col(self.df[col])
        self._drop_rows(present)
        if not self.keep.any():
            self._add(
                "empty",
                None,
                f"all {self.n} rows have a missing covariate and were dropped "
                "(schema.missing.covariates = 'drop_rows'); expected at least one complete row",
            )
            raise DataValidationError(self.problems)
        for col, role, spec in present:
            self._check_column(col, role, spec)
        self._check_duplicate_ids()
        self._check_groups()
        self._check_covariates()
        self._note_ignored_columns()
        if self.problems:
            raise DataValidationError(self.problems)
        return self._result(present)

    def _entries(self) -> list[tuple[str, str, Any]]:
        s = self.schema
        out: list[tuple[str, str, Any]] = [(s.id, "id", None)]
        if s.wave:
            out.append((s.wave, "wave", None))
        if s.weight:
            out.append((s.weight, "weight", None))
        out += [(g.column, "groups", g) for g in s.groups]
        out += [(c, "supports", None) for c in s.supports]
        out += [(c.column, "factors", c) for c in s.factors]
        out += [(c.column, "confounders", c) for c in s.confounders]
        out += [(i.column, "indicators", i) for i in s.indicators]
        out += [(c, "realisations", None) for c in s.realisations]
        out += [(e.column, "extras", e) for e in s.extras]
        seen: set[str] = set()
        unique = []
        for e in out:  # a column in two roles is reported once, checked in its first role
            if e[0] not in seen:
                seen.add(e[0])
                unique.append(e)
        return unique

    def _add(
        self,
        code: str,
        column: str | None,
        message: str,
        rows: Iterable[int] = (),
        values: Iterable[Any] = (),
        n_rows: int = 0,
    ) -> None:
        self.problems.append(
            Problem(code, column, message, tuple(rows)[:_MAX], tuple(values)[:_MAX], n_rows)
        )

    def _where(self, col: str, role: str) -> str:
        return f"column {col!r} ({_ROLE_LABEL[role]})"

    # ------------------------------------------------------------- schema-level
    def _check_roles(self) -> None:
        for col, roles in self.schema.role_of().items():
            if len(roles) < 2:
                continue
            distinct = list(dict.fromkeys(roles))
            if len(distinct) > 1:
                msg = (
                    f"column {col!r} is declared in {len(distinct)} roles "
                    f"({', '.join(distinct)}); expected each column in exactly one role"
                )
            else:
                msg = (
                    f"column {col!r} is declared {len(roles)} times in {roles[0]}; "
                    "expected each column to be declared once"
                )
            self._add("column_in_two_roles", col, msg, values=distinct)

    def _check_nesting_cycles(self) -> None:
        within = {g.column: g.within for g in self.schema.groups if g.within}
        reported: set[frozenset[str]] = set()
        for start in within:
            chain = [start]
            cur = within.get(start)
            while cur is not None:
                if cur in chain:
                    cycle = chain[chain.index(cur) :]
                    self.cyclic |= set(cycle)
                    if frozenset(cycle) not in reported:
                        reported.add(frozenset(cycle))
                        path = " -> ".join(repr(c) for c in [*cycle, cur])
                        self._add(
                            "nesting_cycle",
                            cycle[0],
                            f"groups are declared within each other in a cycle ({path}); "
                            "expected a hierarchy (each group within a coarser one)",
                            values=cycle,
                        )
                    break
                chain.append(cur)
                cur = within.get(cur)

    def _check_duplicate_columns(self) -> set[str]:
        wanted = set(self.schema.columns())
        counts = Counter(self.df.columns)
        dups = {c for c, k in counts.items() if k > 1 and c in wanted}
        for c in sorted(dups):
            self._add(
                "duplicate_column",
                c,
                f"column {c!r} appears {counts[c]} times in the data; expected each column name "
                "once (rename or drop the copies)",
            )
        return dups

    def _check_missing_columns(self) -> None:
        role_of = self.schema.role_of()
        data_cols = list(self.df.columns)
        names = [str(c) for c in data_cols]
        used = {c for c in role_of if c in self.df.columns}
        free = [nm for c, nm in zip(data_cols, names, strict=True) if c not in used]
        for col, roles in role_of.items():
            if col in self.df.columns:
                continue
            hint = _did_you_mean(_suggest(col, free, n=2))
            if not hint and col in [n for n in self.df.index.names if n is not None]:
                hint = " (it is the DataFrame's index: call df.reset_index() first)"
            label = ", ".join(_ROLE_LABEL[r] for r in dict.fromkeys(roles))
            self._add(
                "missing_column",
                col,
                f"column {col!r} ({label}) is not in the data{hint}; expected a column named "
                f"{col!r}; the data has {len(names)} columns: {_preview(names)}",
            )

    # ------------------------------------------------------------- missing values
    def _drop_rows(self, present: list[tuple[str, str, Any]]) -> None:
        if self.schema.missing.covariates != "drop_rows":
            return
        per_col: dict[str, int] = {}
        for col, role, _ in present:
            if role in _COVARIATE_ROLES:
                m = self.cols[col].missing
                if m.any():
                    per_col[col] = int(m.sum())
                    self.keep &= ~m
        dropped = np.flatnonzero(~self.keep) + 1
        self.dropped = tuple(int(r) for r in dropped)
        if self.dropped:
            counts = ", ".join(f"{c!r}: {k}" for c, k in per_col.items())
            self.warnings.append(
                f"dropped {len(self.dropped)} of {self.n} rows with a missing covariate "
                f"(schema.missing.covariates = 'drop_rows'): {_rows_text(self.dropped)}; "
                f"missing values per column: {counts}"
            )

    def _check_missing(self, col: str, role: str, c: _Col) -> None:
        miss = c.missing & self.keep
        if not miss.any() or role in ("weight", "extras"):
            return  # weights: reported as bad_weight; extras: always allowed
        policy = self.schema.missing
        if role in ("id", "wave"):
            why = f"a {_ROLE_LABEL[role]} may never be missing"
        elif role in _COVARIATE_ROLES:
            if policy.covariates != "error":
                return
            why = (
                f"missing {role} are not allowed when schema.missing.covariates = 'error' "
                "(set it to 'drop_rows' to drop such rows)"
            )
        elif role in _RESPONSE_ROLES:
            if policy.responses != "error":
                return
            why = (
                f"missing {role} are not allowed when schema.missing.responses = 'error' "
                "(set it to 'allow' to keep them as missing)"
            )
        else:  # pragma: no cover - every role is handled above
            return
        idx = np.flatnonzero(miss)
        distinct: dict[str, Any] = {}
        for v in c.values_at(idx):
            distinct.setdefault(repr(v), v)
        reprs = list(distinct)
        rows = (idx + 1).tolist()
        self._add(
            "missing_not_allowed",
            col,
            f"{self._where(col, role)}: missing value ({', '.join(reprs[:_MAX])}) in "
            f"{_rows_text(rows)}; expected no missing values: {why}",
            rows=rows,
            values=[distinct[r] for r in reprs],
            n_rows=len(rows),
        )

    # ------------------------------------------------------------- per column
    def _check_column(self, col: str, role: str, spec: Any) -> None:
        c = self.cols[col]
        self._check_missing(col, role, c)
        if role == "id":
            self.clean[col] = c.labels()
        elif role == "wave":
            self._wave(col, c)
        elif role == "weight":
            self._weight(col, c)
        elif role == "groups":
            assert isinstance(spec, Group)
            self._categorical(col, role, c, spec.levels)
        elif role in ("supports", "realisations"):
            self._binary(col, role, c)
        elif role in ("factors", "confounders"):
            assert isinstance(spec, Covariate)
            if spec.kind == "numeric":
                self._numeric(col, role, c)
            else:
                self._categorical(col, role, c, spec.levels)
        elif role == "indicators":
            assert isinstance(spec, Indicator)
            if spec.kind == "binary":
                self._binary(col, role, c)
            else:
                self._categorical(col, role, c, spec.levels, ordinal=True)
        elif role == "extras":
            assert isinstance(spec, Extra)
            self._extra(col, c, spec)

    def _report_values(
        self,
        code: str,
        col: str,
        role: str,
        c: _Col,
        bad: np.ndarray,
        verb: Callable[[Any], str],
        expected: str,
    ) -> None:
        """One problem for column ``col``: each distinct offending value with its rows."""
        idx = np.flatnonzero(bad)
        if not len(idx):
            return
        groups: dict[tuple[str, str], tuple[Any, list[int]]] = {}
        for i, v in zip(idx, c.values_at(idx), strict=True):
            groups.setdefault((type(v).__name__, repr(v)), (v, []))[1].append(int(i) + 1)
        items = list(groups.values())
        parts = [f"{v!r} {verb(v)} in {_rows_text(rows, 3)}" for v, rows in items[:_MAX]]
        more = f"; and {len(items) - _MAX} other values" if len(items) > _MAX else ""
        total = f" ({len(idx)} rows in all)" if len(idx) > _MAX else ""
        self._add(
            code,
            col,
            f"{self._where(col, role)}: {'; '.join(parts)}{more}{total}; expected {expected}",
            rows=(idx[:_MAX] + 1).tolist(),
            values=[v for v, _ in items],
            n_rows=len(idx),
        )

    def _wave(self, col: str, c: _Col) -> None:
        nums, not_num = c.numbers()
        waves = self.schema.waves
        chk = self.keep & ~c.missing
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(nums) & (np.floor(nums) == nums)
        ok = chk & ~not_num & whole & np.isin(nums, np.array(waves, dtype=float))

        def verb(v: Any) -> str:
            x = _number(v)
            if x is None:
                return "is not a number of months"
            if not math.isfinite(x) or not x.is_integer():
                return "is not a whole number of months"
            return "is not a declared wave"

        self._report_values(
            "wave_not_declared",
            col,
            "wave",
            c,
            chk & ~ok,
            verb,
            f"one of the declared waves {list(waves)} (months since exit; see schema.waves)",
        )
        key = np.full(self.n, None, dtype=object)
        labels = c.labels()
        for i in np.flatnonzero(chk):
            key[i] = int(nums[i]) if ok[i] else labels[i]
        self.wave_key = key
        self.clean[col] = pd.array(
            [int(nums[i]) if ok[i] else None for i in range(self.n)], dtype="Int64"
        )

    def _weight(self, col: str, c: _Col) -> None:
        nums, not_num = c.numbers()
        with np.errstate(invalid="ignore"):
            bad = self.keep & (c.missing | not_num | ~np.isfinite(nums) | (nums <= 0))

        def verb(v: Any) -> str:
            if _is_missing(v):
                return "is missing"
            x = _number(v)
            if x is None:
                return "is not a number"
            return "is not finite" if not math.isfinite(x) else "is not > 0"

        self._report_values(
            "bad_weight",
            col,
            "weight",
            c,
            bad,
            verb,
            "finite numbers > 0 (weights may not be missing)",
        )
        self.clean[col] = np.where(bad, np.nan, nums)

    def _binary(self, col: str, role: str, c: _Col) -> None:
        codes, bad = c.binaries()

        def verb(v: Any) -> str:
            if isinstance(v, str) and v.strip().casefold() in _YES_NO:
                return "is not 0/1 (recode yes/no or true/false labels to 1/0)"
            return "is not 0/1"

        self._report_values(
            "not_binary",
            col,
            role,
            c,
            bad & self.keep,
            verb,
            "0 or 1 (integers, 0.0/1.0 floats or booleans)",
        )
        self.clean[col] = pd.arrays.IntegerArray(codes, codes < 0)

    def _numeric(self, col: str, role: str, c: _Col) -> None:
        nums, not_num = c.numbers()
        chk = self.keep & ~c.missing
        bad = chk & (not_num | ~np.isfinite(np.where(not_num, 0.0, nums)))

        def verb(v: Any) -> str:
            if _number(v) is not None:
                return "is not finite"
            if isinstance(v, str) and re.fullmatch(r"\s*[+-]?\d+,\d+\s*", v):
                return "is not a number (decimal comma? use a point: 1.5)"
            return "is not a number"

        self._report_values("not_numeric", col, role, c, bad, verb, "finite numbers")
        self.clean[col] = np.where(bad, np.nan, nums)

    def _categorical(
        self,
        col: str,
        role: str,
        c: _Col,
        declared: tuple[str, ...] | None,
        *,
        ordinal: bool = False,
    ) -> None:
        labels = c.labels()
        chk = self.keep & ~c.missing
        bad = np.zeros(self.n, dtype=bool)
        if declared is not None:
            allowed = set(declared)
            bad = chk & np.fromiter((lb not in allowed for lb in labels), bool, self.n)
            if ordinal:
                self._report_values(
                    "ordinal_out_of_levels",
                    col,
                    role,
                    c,
                    bad,
                    lambda v: (
                        f"is not one of the ordered levels of {col!r}"
                        + self._level_hint(v, declared, ordinal=True)
                    ),
                    f"one of the level labels {list(declared)} (low to high; values must be "
                    "these labels, not integer codes)",
                )
            else:
                self._report_values(
                    "unknown_category",
                    col,
                    role,
                    c,
                    bad,
                    lambda v: f"is not a level of {col!r}" + self._level_hint(v, declared),
                    f"one of the declared levels {list(declared)}",
                )
            levels = tuple(declared)
        else:
            levels = tuple(sorted({labels[i] for i in np.flatnonzero(chk)}, key=natural_key))
            self._warn_near_duplicates(col, role, levels)
        self.levels[col] = levels
        # numpy stubs: None (an object scalar) is a valid value for np.where
        kept = np.where(chk & ~bad, labels, None)  # type: ignore[call-overload]
        self.cat_labels[col] = kept
        self.clean[col] = pd.Categorical(kept, categories=list(levels), ordered=ordinal)

    def _level_hint(self, v: Any, levels: Sequence[str], *, ordinal: bool = False) -> str:
        hint = _did_you_mean(_suggest(_label(v), levels))
        if not hint and ordinal and _is_intlike(v):
            return " (integer codes are not accepted: recode them to the level labels)"
        return hint

    def _warn_near_duplicates(self, col: str, role: str, levels: Sequence[str]) -> None:
        by_norm: dict[str, list[str]] = {}
        for lv in levels:
            by_norm.setdefault(_norm(lv), []).append(lv)
        for same in by_norm.values():
            if len(same) > 1:
                self.warnings.append(
                    f"{self._where(col, role)}: levels {', '.join(repr(s) for s in same)} differ "
                    "only by case, spaces or punctuation; if they are the same category, fix the "
                    "data (declaring the levels turns such typos into errors)"
                )

    def _extra(self, col: str, c: _Col, spec: Extra) -> None:
        if spec.kind == "binary":
            self._binary(col, "extras", c)
        elif spec.kind == "numeric":
            self._numeric(col, "extras", c)
        elif spec.kind == "ordinal":
            self._categorical(col, "extras", c, spec.levels, ordinal=True)
        elif spec.kind == "categorical":
            self._categorical(col, "extras", c, spec.levels)
        else:
            self.clean[col] = pd.array(list(c.labels()), dtype="string")

    # ------------------------------------------------------------- across columns
    def _check_duplicate_ids(self) -> None:
        id_col = self.schema.id
        if id_col not in self.cols:
            return
        ids = self.clean[id_col]
        valid = self.keep & ~self.cols[id_col].missing
        wave = self.wave_key
        if self.schema.wave and wave is None:
            return  # wave column missing: reported already
        if wave is not None:
            valid &= np.array([w is not None for w in wave], dtype=bool)
        keys = pd.DataFrame({"w": wave if wave is not None else None, "id": ids}).astype(str)
        repeated = valid & keys.duplicated(keep=False).to_numpy()
        if not repeated.any():
            return
        seen: dict[tuple[Any, str], list[int]] = {}
        for i in np.flatnonzero(repeated):
            seen.setdefault((wave[i] if wave is not None else None, ids[i]), []).append(int(i) + 1)
        dups = [(k, rows) for k, rows in seen.items() if len(rows) > 1]
        if not dups:
            return
        if wave is not None:
            parts = [f"{k[1]!r} in wave {k[0]!r} ({_rows_text(r, 3)})" for k, r in dups[:_MAX]]
            what = "more than once within a wave"
            expected = f"each person at most once per wave of {self.schema.wave!r}"
        else:
            parts = [f"{k[1]!r} ({_rows_text(r, 3)})" for k, r in dups[:_MAX]]
            what = "more than once"
            expected = (
                "one row per person (no wave column is declared: set schema.wave for "
                "repeated measurements)"
            )
        more = f"; and {len(dups) - _MAX} more" if len(dups) > _MAX else ""
        rows = sorted(r for _, rs in dups for r in rs)
        self._add(
            "duplicate_id",
            id_col,
            f"{self._where(id_col, 'id')}: {len(dups)} "
            f"{'ids appear' if len(dups) > 1 else 'id appears'} "
            f"{what}: {', '.join(parts)}{more}; expected {expected}",
            rows=rows,
            values=[k[1] for k, _ in dups],
            n_rows=len(rows),
        )

    def _check_groups(self) -> None:
        groups = [g for g in self.schema.groups if g.column in self.cat_labels]
        observed: dict[str, list[str]] = {}
        for g in groups:
            labels = self.cat_labels[g.column]
            counts = Counter(lb for lb in labels if lb is not None)
            observed[g.column] = [lv for lv in self.levels[g.column] if counts[lv]]
            if g.levels is not None:
                empty = [lv for lv in g.levels if not counts[lv]]
                if empty:
                    after = f" (after dropping {len(self.dropped)} rows)" if self.dropped else ""
                    self._add(
                        "empty_group_level",
                        g.column,
                        f"{self._where(g.column, 'groups')}: declared level"
                        f"{'s' if len(empty) > 1 else ''} {_preview(empty, _MAX)} "
                        f"{'have' if len(empty) > 1 else 'has'} no rows{after}; expected every "
                        "declared level to have at least one row (remove unused levels from "
                        "Group.levels)",
                        values=empty,
                    )
            if len(observed[g.column]) == 1:
                self.warnings.append(
                    f"{self._where(g.column, 'groups')} has a single level "
                    f"{observed[g.column][0]!r}: its effect cannot be separated from the intercept"
                )
        for g in groups:
            if g.within and g.within in self.cat_labels and g.column not in self.cyclic:
                self._check_nesting(g.column, g.within)
                self.nesting[g.column] = g.within
        self._infer_nesting(groups, observed)

    def _n_outer(self, inner: str, outer: str) -> pd.Series:
        """Per level of ``inner``: how many levels of ``outer`` it appears under."""
        pairs = pd.DataFrame({"i": self.cat_labels[inner], "o": self.cat_labels[outer]})
        pairs = pairs[pairs["i"].notna().to_numpy() & pairs["o"].notna().to_numpy()]
        return pairs.drop_duplicates().groupby("i", sort=False).size()

    def _check_nesting(self, inner: str, outer: str) -> None:
        n_outer = self._n_outer(inner, outer)
        violating = set(n_outer.index[n_outer.to_numpy() > 1])
        if not violating:
            return
        a, b = self.cat_labels[inner], self.cat_labels[outer]
        where: dict[str, dict[str, list[int]]] = {}
        for i in np.flatnonzero(np.fromiter((x in violating for x in a), bool, self.n)):
            if b[i] is not None:
                where.setdefault(a[i], {}).setdefault(b[i], []).append(int(i) + 1)
        bad = list(where.items())
        parts, rows = [], []
        for lv, outs in bad[:_MAX]:
            ordered = sorted(outs.items(), key=lambda kv: -len(kv[1]))
            rows += [r for _, rs in ordered[1:] for r in rs]
            under = " and ".join(f"{o!r} ({_rows_text(rs, 3)})" for o, rs in ordered)
            parts.append(f"{lv!r} appears under {len(outs)} levels of {outer!r}: {under}")
        more = f"; and {len(bad) - _MAX} more" if len(bad) > _MAX else ""
        self._add(
            "nesting_violated",
            inner,
            f"group {inner!r} is declared within {outer!r}, but {'; '.join(parts)}{more}; "
            f"expected each level of {inner!r} under exactly one level of {outer!r} (if "
            "same-named levels are different units, give them distinct labels)",
            rows=sorted(rows),
            values=[lv for lv, _ in bad],
            n_rows=len(rows),
        )

    def _infer_nesting(self, groups: list[Group], observed: dict[str, list[str]]) -> None:
        for g in groups:
            if g.within is not None:
                continue
            n_inner = len(observed[g.column])
            best: str | None = None
            for h in groups:
                n_outer = len(observed[h.column])
                if h.column == g.column or n_outer < 2 or n_outer >= n_inner:
                    continue
                if best is not None and n_outer <= len(observed[best]):
                    continue
                if (self._n_outer(g.column, h.column) == 1).all():
                    best = h.column
            if best is not None:
                self.nesting[g.column] = best
                self.inferred[g.column] = best
                self.warnings.append(
                    f"group {g.column!r} is not declared within another group, but each of its "
                    f"{n_inner} levels lies within exactly one level of {best!r}: it is treated as "
                    f"nested within {best!r} (inferred; declare within = {best!r} to make it "
                    "explicit)"
                )

    def _check_covariates(self) -> None:
        for role, covs in (
            ("factors", self.schema.factors),
            ("confounders", self.schema.confounders),
        ):
            for cov in covs:
                col = cov.column
                if col not in self.clean:
                    continue
                if cov.kind == "numeric":
                    nums = self.clean[col][self.keep]
                    nums = nums[~np.isnan(nums)]
                    if len(nums) and np.all(nums == nums[0]):
                        self.warnings.append(
                            f"{self._where(col, role)} is constant ({_label(float(nums[0]))}): "
                            "its effect cannot be estimated"
                        )
                    continue
                levels = self.levels[col]
                if cov.reference is not None and cov.reference not in levels:
                    self._add(
                        "reference_not_found",
                        col,
                        f"{self._where(col, role)}: reference level {cov.reference!r} does not "
                        f"occur in the data{_did_you_mean(_suggest(cov.reference, levels))}; "
                        f"expected one of the observed levels {list(levels)}",
                        values=[cov.reference],
                    )
                    continue
                if not levels:
                    continue
                ref = cov.reference if cov.reference is not None else levels[0]
                self.references[col] = ref
                counts = Counter(lb for lb in self.cat_labels[col] if lb is not None)
                empty = [lv for lv in levels if not counts[lv]]
                if empty:
                    note = (
                        f"; it includes the reference level {ref!r}, so contrasts against it "
                        "are not identified"
                        if ref in empty
                        else ""
                    )
                    self.warnings.append(
                        f"{self._where(col, role)}: declared level"
                        f"{'s' if len(empty) > 1 else ''} {_preview(empty, _MAX)} "
                        f"{'have' if len(empty) > 1 else 'has'} no rows{note}"
                    )
                if len(counts) == 1:
                    self.warnings.append(
                        f"{self._where(col, role)}: only one level is observed "
                        f"({next(iter(counts))!r}): its effect cannot be estimated"
                    )

    def _note_ignored_columns(self) -> None:
        wanted = set(self.schema.columns())
        ignored = [str(c) for c in self.df.columns if c not in wanted]
        if ignored:
            self.warnings.append(
                f"{len(ignored)} column{'s' if len(ignored) > 1 else ''} not named by the schema "
                f"{'are' if len(ignored) > 1 else 'is'} ignored: {_preview(ignored, 10)}"
            )

    # ------------------------------------------------------------- result
    def _result(self, present: list[tuple[str, str, Any]]) -> ValidatedData:
        index = pd.Index(np.arange(1, self.n + 1, dtype=np.int64), name="row")
        frame = pd.DataFrame({col: self.clean[col] for col, _, _ in present}, index=index)
        frame = frame.loc[self.keep].copy()
        for col, role, _ in present:
            if role == "id":
                frame[col] = frame[col].astype("string")
            elif role == "wave":
                frame[col] = frame[col].astype("int64")
            elif role == "supports":  # never missing once validated
                frame[col] = frame[col].astype("int8")
        return ValidatedData(
            frame=frame,
            schema=self.schema,
            levels=dict(self.levels),
            references=dict(self.references),
            nesting=dict(self.nesting),
            inferred_nesting=dict(self.inferred),
            dropped_rows=self.dropped,
            warnings=tuple(self.warnings),
        )
