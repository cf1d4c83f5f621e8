"""Check of the weight column: every weight a finite number > 0."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from capmodel.data.validate.context import Context
from capmodel.data.validate.scalars import is_missing, number
from capmodel.data.validate.values import ColumnFindings, report_values


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
            return "is not a number"
        return "is not finite" if not math.isfinite(x) else "is not > 0"

    found = report_values(
        "bad_weight",
        col,
        "weight",
        c,
        bad,
        verb,
        "finite numbers > 0 (weights may not be missing)",
    )
    return ColumnFindings(problems=found, clean=np.where(bad, np.nan, nums))
