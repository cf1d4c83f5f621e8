"""Text the way real exports arrive: labels and headers Unicode-normalised (NFC) before they are
compared, so that "Île-de-France" typed with a combining accent (NFD, as macOS and some
exports write it) and with the composed letter are one label, not two."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any, Final

import numpy as np
import pandas as pd

FORM: Final = "NFC"


def nfc(text: str) -> str:
    """``text`` in Unicode normal form NFC."""
    return text if unicodedata.is_normalized(FORM, text) else unicodedata.normalize(FORM, text)


def normalise_frame(
    df: pd.DataFrame, columns: Iterable[Any] | None = None, what: str = "the data"
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """``df`` with its headers and the text cells of ``columns`` (default: every column) in
    NFC, and a note for each header or column that this changed; ``df`` itself unchanged (the
    same object is returned when nothing changes)."""
    notes: list[str] = []
    names = [nfc(c) if isinstance(c, str) else c for c in df.columns]
    changed_names = [str(c) for c, n in zip(df.columns, names, strict=True) if c != n]
    if changed_names:
        notes.append(
            f"{len(changed_names)} column name{'s' if len(changed_names) > 1 else ''} of {what} "
            f"Unicode-normalised (NFC) before comparison: {', '.join(map(repr, changed_names))}"
        )
    wanted = set(df.columns if columns is None else columns)
    new_cols: dict[int, pd.Series] = {}
    for j, col in enumerate(df.columns):
        if col not in wanted:
            continue
        s = df.iloc[:, j]
        if not (s.dtype == object or isinstance(s.dtype, pd.StringDtype)):
            continue
        values = s.to_numpy(dtype=object)
        mapping = {
            v: unicodedata.normalize(FORM, v)
            for v in pd.unique(values)
            if isinstance(v, str) and not unicodedata.is_normalized(FORM, v)
        }
        if not mapping:  # the usual case: one pass over the distinct labels
            continue
        differs = np.array([isinstance(v, str) and v in mapping for v in values], dtype=bool)
        fixed = np.array(
            [mapping.get(v, v) if ok else v for v, ok in zip(values, differs, strict=True)],
            dtype=object,
        )
        rows = np.flatnonzero(differs) + 1
        n = int(differs.sum())
        notes.append(
            f"column {col!r}: {n} label{'s' if n > 1 else ''} Unicode-normalised (NFC) "
            f"before comparison, e.g. {values[rows[0] - 1]!r} in row {rows[0]} (the same "
            "text written with combining accents compares equal to the composed letters)"
        )
        new_cols[j] = pd.Series(fixed, index=s.index, dtype=s.dtype, name=s.name)
    if not changed_names and not new_cols:
        return df, ()
    out = df.copy(deep=False)
    for j, s in new_cols.items():
        out.isetitem(j, s)
    out.columns = pd.Index(names)
    return out, tuple(notes)
