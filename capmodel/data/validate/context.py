"""The frozen context every check reads: the table, the schema and what earlier checks found."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from capmodel.data.schema import Covariate, Extra, Group, Indicator, Schema
from capmodel.data.validate.column import ColumnView

COVARIATE_ROLES = ("groups", "supports", "factors", "confounders")
RESPONSE_ROLES = ("indicators", "realisations")


class Entry(NamedTuple):
    """A column the schema names, the role it is checked in and its declaration (if any)."""

    column: str
    role: str
    spec: Group | Covariate | Indicator | Extra | None


def schema_entries(schema: Schema) -> tuple[Entry, ...]:
    """The schema's columns in role order, each once (in its first role)."""
    s = schema
    out: list[Entry] = [Entry(s.id, "id", None)]
    if s.wave:
        out.append(Entry(s.wave, "wave", None))
    if s.weight:
        out.append(Entry(s.weight, "weight", None))
    out += [Entry(g.column, "groups", g) for g in s.groups]
    out += [Entry(c, "supports", None) for c in s.supports]
    out += [Entry(c.column, "factors", c) for c in s.factors]
    out += [Entry(c.column, "confounders", c) for c in s.confounders]
    out += [Entry(i.column, "indicators", i) for i in s.indicators]
    out += [Entry(c, "realisations", None) for c in s.realisations]
    out += [Entry(e.column, "extras", e) for e in s.extras]
    seen: set[str] = set()
    unique = []
    for e in out:  # a column in two roles is reported once, checked in its first role
        if e.column not in seen:
            seen.add(e.column)
            unique.append(e)
    return tuple(unique)


def frozen(a: np.ndarray) -> np.ndarray:
    """``a``, made read-only (the context's arrays are never written to)."""
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class Context:
    """What the checks read; :func:`dataclasses.replace` adds what each stage resolves.

    - ``df``, ``schema``, ``entries``: the input and the schema's columns (each once);
    - ``present``: the entries whose column is in the data exactly once, ``cols`` their views;
    - ``keep``: rows kept (not dropped for a missing covariate), ``dropped`` the others (1-based);
    - ``cyclic``: groups in a nesting cycle;
    - ``clean``, ``labels``, ``levels``, ``wave_key``: per column, the cleaned values, the kept
      category labels (None elsewhere), the resolved levels and the wave of each row.
    """

    df: pd.DataFrame
    schema: Schema
    entries: tuple[Entry, ...]
    keep: np.ndarray
    present: tuple[Entry, ...] = ()
    cols: Mapping[str, ColumnView] = field(default_factory=dict)
    dropped: tuple[int, ...] = ()
    cyclic: frozenset[str] = frozenset()
    clean: Mapping[str, Any] = field(default_factory=dict)
    labels: Mapping[str, np.ndarray] = field(default_factory=dict)
    levels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    wave_key: np.ndarray | None = None

    @classmethod
    def of(cls, df: pd.DataFrame, schema: Schema) -> Context:
        """The starting context: every row kept, nothing resolved yet."""
        return cls(df, schema, schema_entries(schema), frozen(np.ones(len(df), dtype=bool)))

    @property
    def n(self) -> int:
        """Rows in the data (dropped ones included)."""
        return len(self.df)
