"""The shared pieces of messages: where a column is, row lists, previews, suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from capmodel.data.validate.report import MAX_EXAMPLES
from capmodel.data.validate.scalars import norm

ROLE_LABEL = {
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


def where(col: str, role: str) -> str:
    """``column 'x' (role)``, the way messages name a column."""
    return f"column {col!r} ({ROLE_LABEL[role]})"


def suggest(value: str, choices: Sequence[str], n: int = 1) -> list[str]:
    """Close matches of ``value`` among ``choices`` (case/space-insensitive first)."""
    choices = [c for c in choices if c != value]
    key = norm(value)
    same = [c for c in choices if norm(c) == key]
    if same:
        return same[:n]
    close = difflib.get_close_matches(value, choices, n=n, cutoff=0.6)
    if close:
        return close
    by_norm = {norm(c): c for c in choices}
    return [by_norm[c] for c in difflib.get_close_matches(key, list(by_norm), n=n, cutoff=0.6)]


def did_you_mean(matches: Sequence[str]) -> str:
    """`` (did you mean 'a' or 'b'?)``, or nothing when there is no match."""
    if not matches:
        return ""
    return " (did you mean " + " or ".join(repr(m) for m in matches) + "?)"


def rows_text(rows: Sequence[int], limit: int = MAX_EXAMPLES) -> str:
    """``row 3`` / ``rows 1, 2 and 4 more``."""
    rows = list(rows)
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"{'row' if len(rows) == 1 else 'rows'} {shown}{more}"


def preview(items: Sequence[Any], limit: int = 15) -> str:
    """``['a', 'b', ...]``: the first ``limit`` items."""
    shown = ", ".join(repr(i) for i in items[:limit])
    return f"[{shown}{', ...' if len(items) > limit else ''}]"
