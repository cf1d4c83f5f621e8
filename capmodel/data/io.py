"""Read a data table (CSV, Parquet or an in-memory DataFrame) into a *new* pandas DataFrame.

The caller's file or DataFrame is never modified: files are only opened for reading and a
DataFrame is deep-copied.

CSV files are read as text first and each column is then typed conservatively:

- empty cells (and ``NA``, ``N/A``, ``NaN``, ``nan``, ``<NA>``, ``#N/A``, ``NULL``, ``null``)
  are missing values; ``None``/``none`` are *not* (they can be category labels);
- a column becomes numeric only if every non-missing cell is a number *and* no cell has a
  leading zero (``"007"`` stays the label ``"007"``, it is not the number 7);
- columns the schema declares as labels (person id, groups, categorical covariates, ordinal
  indicators, categorical/ordinal/text extras) stay text when a schema is given;
- the delimiter (``,``, ``;`` or tab) is detected from the header line; in a ``;``-separated
  file a decimal comma (``"1,5"``) is accepted in numeric columns;
- UTF-8 (with or without BOM) is expected; Windows-1252 files are read with a warning.
"""

from __future__ import annotations

import csv
import gzip
import os
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from capmodel.data.validate.text import nfc

if TYPE_CHECKING:
    from capmodel.data.schema import Schema

__all__ = ["NA_STRINGS", "SUPPORTED_EXTENSIONS", "TableReadError", "read_table"]

#: File name endings :func:`read_table` understands, and the reader used for each.
SUPPORTED_EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".tsv": "csv",
    ".tsv.gz": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}

#: CSV cell contents read as a missing value.
NA_STRINGS: tuple[str, ...] = ("", "NA", "N/A", "n/a", "NaN", "nan", "<NA>", "#N/A", "NULL", "null")

_INT_RE = re.compile(r"^\s*[+-]?\d+\s*$")
_FLOAT_RE = re.compile(
    r"^\s*[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity)\s*$", re.IGNORECASE
)
_COMMA_FLOAT_RE = re.compile(r"^\s*[+-]?\d+(,\d+)?\s*$")
_LEADING_ZERO_RE = re.compile(r"^\s*[+-]?0\d")
_INTEGRAL_TEXT_RE = re.compile(r"^\s*[+-]?\d+(\.0*)?\s*$")
_BOOL_WORDS = {"true": True, "false": False}


class TableReadError(ValueError):
    """A data file could not be read (unsupported extension, directory, or parser error)."""


def read_table(
    source: str | os.PathLike[str] | pd.DataFrame, *, schema: Schema | None = None
) -> pd.DataFrame:
    """Read ``source`` (a ``.csv``/``.csv.gz``/``.tsv``/``.parquet``/``.pq`` path or a DataFrame).

    Always returns a new DataFrame (a deep copy for DataFrame input); the source is never
    modified. With ``schema``, label columns of a CSV (ids, groups, categorical covariates,
    ordinal indicators, non-numeric extras) are kept as text, so ``"007"`` stays ``"007"``.

    Raises :class:`FileNotFoundError` (naming the path) when the file does not exist and
    :class:`TableReadError` for an unsupported extension or an unreadable file.
    """
    if isinstance(source, pd.DataFrame):
        return source.copy(deep=True)
    if not isinstance(source, str | os.PathLike):
        raise TypeError(
            f"read_table() expects a file path or a pandas DataFrame, got {type(source).__name__}"
        )
    path = Path(source).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"data file not found: {str(path)!r} (looked at {path.absolute()})")
    if path.is_dir():
        raise TableReadError(f"{str(path)!r} is a directory, not a data file")
    kind = _kind(path)
    try:
        if kind == "csv":
            _check_header(path)
        return (
            pd.read_parquet(path) if kind == "parquet" else _read_csv(path, _label_columns(schema))
        )
    except TableReadError:
        raise
    except Exception as exc:  # re-raised with the file name
        raise TableReadError(
            f"cannot read {str(path)!r} as {kind.upper()}: {type(exc).__name__}: {exc}"
        ) from exc


# ----------------------------------------------------------------------------- helpers
def _kind(path: Path) -> str:
    name = path.name.lower()
    for ext in sorted(SUPPORTED_EXTENSIONS, key=len, reverse=True):
        if name.endswith(ext):
            return SUPPORTED_EXTENSIONS[ext]
    hint = ""
    if name.endswith((".xlsx", ".xls", ".ods")):
        hint = " (export the spreadsheet to CSV or Parquet first)"
    raise TableReadError(
        f"unsupported file type for {str(path)!r}{hint}; supported extensions: "
        f"{', '.join(SUPPORTED_EXTENSIONS)}"
    )


def _label_columns(schema: Schema | None) -> set[str]:
    if schema is None:
        return set()
    cols = {schema.id, *(g.column for g in schema.groups)}
    cols |= {c.column for c in schema.covariates() if c.kind == "categorical"}
    cols |= {i.column for i in schema.indicators if i.kind == "ordinal"}
    cols |= {e.column for e in schema.extras if e.kind in ("categorical", "ordinal", "text")}
    return cols


def _read_csv(path: Path, label_columns: set[str]) -> pd.DataFrame:
    try:
        return _parse_csv(path, label_columns, "utf-8-sig")
    except UnicodeDecodeError:
        df = _parse_csv(path, label_columns, "cp1252")
        warnings.warn(
            f"{str(path)!r} is not valid UTF-8; read it as Windows-1252 (cp1252)",
            UserWarning,
            stacklevel=3,
        )
        return df


def _parse_csv(path: Path, label_columns: set[str], encoding: str) -> pd.DataFrame:
    sep = _sniff_separator(path, encoding)
    raw = pd.read_csv(
        path,
        sep=sep,
        dtype=str,
        keep_default_na=False,
        na_values=list(NA_STRINGS),
        encoding=encoding,
        compression="infer",
    )
    out = {}
    for col in raw.columns:
        if col in label_columns:
            out[col] = _as_labels(raw[col])
        else:
            out[col] = _infer(raw[col], decimal_comma=(sep == ";"))
    return pd.DataFrame(out, index=raw.index, columns=raw.columns)


def _check_header(path: Path) -> None:
    """Refuse a CSV header that names a column twice (pandas would silently rename the copy
    ``sex.1``), comparing the names in Unicode NFC; both positions are named (1-based)."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            sep = _sniff_separator(path, encoding)
            opener = gzip.open if path.name.lower().endswith(".gz") else open
            with opener(path, "rt", encoding=encoding, newline="") as fh:
                names = next(csv.reader(fh, delimiter=sep), [])
            break
        except UnicodeDecodeError:
            continue
    else:
        return  # undecodable: the reader says so
    seen: dict[str, int] = {}
    for i, name in enumerate(names, start=1):
        key = nfc(name)
        if key in seen:
            raise TableReadError(
                f"{str(path)!r}: column name {key!r} appears more than once in the header, "
                f"at columns {seen[key]} and {i}; expected each column name once (rename or "
                "drop one of them)"
            )
        seen[key] = i


def _sniff_separator(path: Path, encoding: str) -> str:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding=encoding, newline="") as fh:
        header = fh.readline()
    header = re.sub(r'"[^"]*"', "", header)  # separators inside quoted names do not count
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] > 0 else ","


def _as_labels(col: pd.Series) -> pd.Series:
    """Text column; ``"1.0"``-style integral numbers become ``"1"`` when *all* cells are such."""
    present = col.dropna()
    if (
        len(present)
        and all(_INTEGRAL_TEXT_RE.match(t) for t in present)
        and any("." in t for t in present)
    ):
        return col.map(lambda t: t if pd.isna(t) else t.strip().split(".")[0], na_action="ignore")
    return col


def _infer(col: pd.Series, *, decimal_comma: bool) -> pd.Series:
    mask = col.notna().to_numpy()
    texts = col[mask].tolist()
    if not texts:
        return pd.Series(np.nan, index=col.index, dtype="float64", name=col.name)
    if any(_LEADING_ZERO_RE.match(t) for t in texts):
        return col
    if all(_INT_RE.match(t) for t in texts):
        try:
            ints = np.array([int(t) for t in texts], dtype=np.int64)
        except OverflowError:
            return col
        if mask.all():
            return pd.Series(ints, index=col.index, name=col.name)
        return _fill_float(col, mask, ints.astype(np.float64))
    if all(_FLOAT_RE.match(t) for t in texts):
        return _fill_float(col, mask, np.array([float(t) for t in texts], dtype=np.float64))
    if decimal_comma and all(_COMMA_FLOAT_RE.match(t) for t in texts):
        values = [float(t.replace(",", ".")) for t in texts]
        return _fill_float(col, mask, np.array(values, dtype=np.float64))
    if all(t.strip().lower() in _BOOL_WORDS for t in texts):
        values = [_BOOL_WORDS[t.strip().lower()] for t in texts]
        if mask.all():
            return pd.Series(values, index=col.index, dtype=bool, name=col.name)
        obj = np.full(len(col), np.nan, dtype=object)
        obj[mask] = values
        return pd.Series(obj, index=col.index, dtype=object, name=col.name)
    return col


def _fill_float(col: pd.Series, mask: np.ndarray, values: np.ndarray) -> pd.Series:
    out = np.full(len(col), np.nan, dtype=np.float64)
    out[mask] = values
    return pd.Series(out, index=col.index, name=col.name)
