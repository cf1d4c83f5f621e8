"""Check of the weight column: every weight a finite number > 0, and a warning when a few
rows carry an extreme share of the total (Kish design effect)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from capmodel.data.validate.context import Context
from capmodel.data.validate.scalars import is_missing, number, why_not_finite, why_not_number
from capmodel.data.validate.values import ColumnFindings, report_values
from capmodel.data.validate.wording import where

MAX_DESIGN_EFFECT = 3.0  # effective sample size below a third of the rows: warned
MAX_ROW_SHARE = 0.10  # one row with more than this share of the total weight: warned
MIN_ROWS = 20  # ... in a table of at least this many rows


def check_weight(ctx: Context, col: str) -> ColumnFindings:
    """``bad_weight``: a weight missing, not a number, not finite or not > 0; cleaned as floats."""
    c = ctx.cols[col]
    nums, not_num = c.numbers()
    with np.errstate(invalid="ignore"):
        bad = ctx.keep & (c.missing | not_num | ~np.isfinite(nums) | (nums <= 0))

    def verb(v: Any) -> str:
        if is_missing(v):
            return "is missing"
        x = number(v)
        if x is None:
            return why_not_number(v)
        return why_not_finite(v) if not math.isfinite(x) else "is not > 0"

    found = report_values(
        "bad_weight",
        col,
        "weight",
        c,
        bad,
        verb,
        "finite numbers > 0 (weights may not be missing)",
    )
    clean = np.where(bad, np.nan, nums)
    warnings = () if found else extreme_weights(col, clean[ctx.keep], np.flatnonzero(ctx.keep))
    return ColumnFindings(problems=found, warnings=warnings, clean=clean)


def kish_design_effect(w: np.ndarray) -> float:
    """Kish's design effect of weighting, n * sum(w^2) / sum(w)^2 (1: equal weights)."""
    return float(w.size * np.sum(w**2) / np.sum(w) ** 2)


def extreme_weights(col: str, w: np.ndarray, positions: np.ndarray) -> tuple[str, ...]:
    """A warning when the weights ``w`` (at 0-based ``positions``) are extreme: a Kish design
    effect above :data:`MAX_DESIGN_EFFECT`, or one row with more than :data:`MAX_ROW_SHARE`
    of the total (with at least :data:`MIN_ROWS` rows)."""
    if w.size < 2:
        return ()
    deff = kish_design_effect(w)
    top = int(np.argmax(w))
    share = float(w[top] / np.sum(w))
    if deff <= MAX_DESIGN_EFFECT and not (share > MAX_ROW_SHARE and w.size >= MIN_ROWS):
        return ()
    return (
        f"{where(col, 'weight')}: extreme weights: row {int(positions[top]) + 1} carries "
        f"{share:.1%} of the total weight (weight {w[top]:.6g}; median {np.median(w):.6g}); "
        f"Kish design effect n*sum(w^2)/sum(w)^2 = {deff:,.1f}, an effective sample size "
        f"of {w.size / deff:,.1f} of {w.size:,} rows; check for a data-entry error or "
        "trim the weights",
    )
