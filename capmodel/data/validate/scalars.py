"""Read one cell: missing or not, as a text label, a number or a 0/1 code."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

_DIGITS = re.compile(r"(\d+)")
_BINARY_TEXT = {"0": 0, "1": 1, "0.0": 0, "1.0": 1}


def natural_key(label: str) -> tuple[Any, ...]:
    """Sort key for labels: digit runs compare as numbers ("r2" < "r10"), then the text."""
    parts = _DIGITS.split(label)
    if len(parts) == 1:
        return (((1, 0, label),), label)
    return (tuple((0, int(p), "") if i % 2 else (1, 0, p) for i, p in enumerate(parts) if p), label)


def py(v: Any) -> Any:
    """``v`` as a Python scalar (numpy scalars unwrapped)."""
    return v.item() if isinstance(v, np.generic) else v


def is_missing(v: Any) -> bool:
    """None, NaN, pd.NA, NaT or a blank string."""
    if isinstance(v, str):
        return not v.strip()
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def label(v: Any) -> str:
    """The text label of a value: ``1``, ``1.0`` and ``"1"`` all give ``"1"``."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v)


def number(v: Any) -> float | None:
    """``v`` as a float, or None when it is not a number. A boolean is not a number (True is
    no wave, weight or amount); an integer beyond a float's range is +-inf (not finite)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        try:
            return float(v)
        except OverflowError:
            return math.inf if v > 0 else -math.inf
    if isinstance(v, str):
        try:
            return float(v.strip())
        except ValueError:
            return None
    return None


def why_not_number(v: Any) -> str:
    """Why ``v`` (for which :func:`number` is None) is refused: ``is not a number``, or that
    it is a boolean."""
    if isinstance(v, bool):
        return "is a boolean (True/False), not a number"
    return "is not a number"


def why_not_finite(v: Any) -> str:
    """Why a number that is not finite is refused (an integer too large for a float says so)."""
    whole = isinstance(v, str) and v.strip().lstrip("+-").isdigit()
    if whole or (isinstance(v, int) and not isinstance(v, bool)):
        return "is too large for a number (beyond +-1.8e308)"
    return "is not finite"


def binary(v: Any) -> int | None:
    """``v`` as 0 or 1, or None when it is not a 0/1 value."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int | float):
        return int(v) if v in (0, 1) else None
    if isinstance(v, str):
        return _BINARY_TEXT.get(v.strip())
    return None


def is_intlike(v: Any) -> bool:
    """Whether ``v`` looks like an integer code (an int, a whole float or digit text)."""
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True
    if isinstance(v, float):
        return v.is_integer()
    return isinstance(v, str) and v.strip().lstrip("+-").isdigit()


def norm(text: str) -> str:
    """``text`` casefolded, with runs of spaces and punctuation made one underscore."""
    return re.sub(r"[\s_\-.]+", "_", text.strip().casefold()).strip("_")
