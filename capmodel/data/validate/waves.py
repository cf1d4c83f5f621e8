"""Checks of the wave column and of person ids repeated within a wave."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from capmodel.data.validate.context import Context
from capmodel.data.validate.report import MAX_EXAMPLES, Problem, problem
from capmodel.data.validate.scalars import number, why_not_number
from capmodel.data.validate.values import ColumnFindings, report_values
from capmodel.data.validate.wording import rows_text, where


def check_wave(ctx: Context, col: str) -> ColumnFindings:
    """``wave_not_declared``: a wave that is not one of ``schema.waves``; cleaned as Int64."""
    c = ctx.cols[col]
    nums, not_num = c.numbers()
    waves = ctx.schema.waves
    chk = ctx.keep & ~c.missing
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(nums) & (np.floor(nums) == nums)
    ok = chk & ~not_num & whole & np.isin(nums, np.array(waves, dtype=float))

    def verb(v: Any) -> str:
        x = number(v)
        if x is None:
            return why_not_number(v) + " of months"
        if not math.isfinite(x) or not x.is_integer():
            return "is not a whole number of months"
        return "is not a declared wave"

    found = report_values(
        "wave_not_declared",
        col,
        "wave",
        c,
        chk & ~ok,
        verb,
        f"one of the declared waves {list(waves)} (months since exit; see schema.waves)",
    )
    key = np.full(ctx.n, None, dtype=object)
    labels = c.labels
    for i in np.flatnonzero(chk):
        key[i] = int(nums[i]) if ok[i] else labels[i]
    clean = pd.array([int(nums[i]) if ok[i] else None for i in range(ctx.n)], dtype="Int64")
    return ColumnFindings(problems=found, clean=clean, wave_key=key)


def check_duplicate_ids(ctx: Context) -> tuple[Problem, ...]:
    """``duplicate_id``: a person id twice within a wave (or twice at all without waves)."""
    id_col = ctx.schema.id
    if id_col not in ctx.cols:
        return ()
    ids = ctx.clean[id_col]
    valid = ctx.keep & ~ctx.cols[id_col].missing
    wave = ctx.wave_key
    if ctx.schema.wave and wave is None:
        return ()  # wave column missing: reported already
    if wave is not None:
        valid &= np.array([w is not None for w in wave], dtype=bool)
        clean_wave = ctx.clean.get(ctx.schema.wave or "")
        if clean_wave is not None:  # rows of an undeclared wave: reported as such, not twice
            valid &= ~np.asarray(pd.isna(clean_wave), dtype=bool)
    keys = pd.DataFrame({"w": wave if wave is not None else None, "id": ids}).astype(str)
    repeated = valid & keys.duplicated(keep=False).to_numpy()
    if not repeated.any():
        return ()
    seen: dict[tuple[Any, str], list[int]] = {}
    for i in np.flatnonzero(repeated):
        seen.setdefault((wave[i] if wave is not None else None, ids[i]), []).append(int(i) + 1)
    dups = [(k, rows) for k, rows in seen.items() if len(rows) > 1]
    if not dups:
        return ()
    if wave is not None:
        parts = [f"{k[1]!r} in wave {k[0]!r} ({rows_text(r, 3)})" for k, r in dups[:MAX_EXAMPLES]]
        what = "more than once within a wave"
        expected = f"each person at most once per wave of {ctx.schema.wave!r}"
    else:
        parts = [f"{k[1]!r} ({rows_text(r, 3)})" for k, r in dups[:MAX_EXAMPLES]]
        what = "more than once"
        expected = (
            "one row per person (no wave column is declared: set schema.wave for "
            "repeated measurements)"
        )
    more = f"; and {len(dups) - MAX_EXAMPLES} more" if len(dups) > MAX_EXAMPLES else ""
    rows = sorted(r for _, rs in dups for r in rs)
    return (
        problem(
            "duplicate_id",
            id_col,
            f"{where(id_col, 'id')}: {len(dups)} "
            f"{'ids appear' if len(dups) > 1 else 'id appears'} "
            f"{what}: {', '.join(parts)}{more}; expected {expected}",
            rows=rows,
            values=[k[1] for k, _ in dups],
            n_rows=len(rows),
        ),
    )
