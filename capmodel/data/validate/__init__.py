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

Layout
------
Each check is a function ``check_<what>(ctx)`` over a frozen :class:`~.context.Context` (the
table, the schema and what earlier checks resolved) that returns its findings; :func:`validate`
(in ``pipeline``) runs them in order. ``report`` holds the problem codes and the result types,
``columns`` the checks of the table's columns, ``missing`` missing values and dropped rows,
``values`` the per-column value checks, ``waves`` and ``weights`` those columns, ``groups`` and
``covariates`` the checks across rows.
"""

from __future__ import annotations

from capmodel.data.validate.pipeline import validate
from capmodel.data.validate.report import (
    PROBLEM_CODES,
    ROW_NUMBERS,
    DataValidationError,
    Problem,
    ValidatedData,
)
from capmodel.data.validate.scalars import natural_key

__all__ = [
    "PROBLEM_CODES",
    "ROW_NUMBERS",
    "DataValidationError",
    "Problem",
    "ValidatedData",
    "natural_key",
    "validate",
]
