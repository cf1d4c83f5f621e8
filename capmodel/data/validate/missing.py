"""Missing values: rows dropped for a missing covariate, and missing values not allowed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from capmodel.data.validate.context import COVARIATE_ROLES, RESPONSE_ROLES, Context, frozen
from capmodel.data.validate.report import MAX_EXAMPLES, Findings, Problem, problem
from capmodel.data.validate.wording import ROLE_LABEL, rows_text, where


@dataclass(frozen=True, kw_only=True)
class Dropped(Findings):
    """Rows kept (``keep``) and dropped (1-based ``rows``) for a missing covariate."""

    keep: np.ndarray
    rows: tuple[int, ...] = ()


def check_dropped_rows(ctx: Context) -> Dropped:
    """Drop rows with a missing covariate under ``missing.covariates = 'drop_rows'``; warn."""
    keep = np.ones(ctx.n, dtype=bool)
    if ctx.schema.missing.covariates != "drop_rows":
        return Dropped(keep=frozen(keep))
    per_col: dict[str, int] = {}
    for col, role, _ in ctx.present:
        if role in COVARIATE_ROLES:
            m = ctx.cols[col].missing
            if m.any():
                per_col[col] = int(m.sum())
                keep &= ~m
    dropped = tuple(int(r) for r in np.flatnonzero(~keep) + 1)
    warnings: tuple[str, ...] = ()
    if dropped:
        counts = ", ".join(f"{c!r}: {k}" for c, k in per_col.items())
        warnings = (
            f"dropped {len(dropped)} of {ctx.n} rows with a missing covariate "
            f"(schema.missing.covariates = 'drop_rows'): {rows_text(dropped)}; "
            f"missing values per column: {counts}",
        )
    return Dropped(warnings=warnings, keep=frozen(keep), rows=dropped)


def check_all_dropped(ctx: Context) -> tuple[Problem, ...]:
    """``empty``: every row was dropped for a missing covariate."""
    if ctx.keep.any():
        return ()
    return (
        problem(
            "empty",
            None,
            f"all {ctx.n} rows have a missing covariate and were dropped "
            "(schema.missing.covariates = 'drop_rows'); expected at least one complete row",
        ),
    )


def check_missing(ctx: Context, col: str, role: str) -> tuple[Problem, ...]:
    """``missing_not_allowed``: a missing value in column ``col`` where ``role`` forbids one."""
    c = ctx.cols[col]
    miss = c.missing & ctx.keep
    if not miss.any() or role in ("weight", "extras"):
        return ()  # weights: reported as bad_weight; extras: always allowed
    policy = ctx.schema.missing
    if role in ("id", "wave"):
        why = f"a {ROLE_LABEL[role]} may never be missing"
    elif role in COVARIATE_ROLES:
        if policy.covariates != "error":
            return ()
        why = (
            f"missing {role} are not allowed when schema.missing.covariates = 'error' "
            "(set it to 'drop_rows' to drop such rows)"
        )
    elif role in RESPONSE_ROLES:
        if policy.responses != "error":
            return ()
        why = (
            f"missing {role} are not allowed when schema.missing.responses = 'error' "
            "(set it to 'allow' to keep them as missing)"
        )
    else:  # pragma: no cover - every role is handled above
        return ()
    idx = np.flatnonzero(miss)
    distinct: dict[str, Any] = {}
    for v in c.values_at(idx):
        distinct.setdefault(repr(v), v)
    reprs = list(distinct)
    rows = (idx + 1).tolist()
    return (
        problem(
            "missing_not_allowed",
            col,
            f"{where(col, role)}: missing value ({', '.join(reprs[:MAX_EXAMPLES])}) in "
            f"{rows_text(rows)}; expected no missing values: {why}",
            rows=rows,
            values=[distinct[r] for r in reprs],
            n_rows=len(rows),
        ),
    )
