"""Published reference margins (e.g. the cep2021 survey tables) next to the fitted data:
observed, weighted and replicated shares.

A :class:`ReferenceTable` declares published shares as :class:`~capmodel.reference.published.Margin`
selectors over a survey table with the original column names. The encoded data of a fit are
decoded back into such a table (:func:`decode_frame`); each margin is then computed on the
observed rows, with the survey weights, and on each posterior replicate of the responses (the
same weighted estimator). Margins that need columns the fit does not carry are listed as such.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from capmodel.fitting.predictive import response_blocks
from capmodel.intervals import bounds
from capmodel.reference.published import MARGINS, REALISATIONS, Margin, weighted_share


@dataclass(frozen=True)
class ReferenceTable:
    """Published margins, the columns a data set needs for the table to apply, and the wave
    (months since exit) they were measured at (None: every row)."""

    name: str
    source: str
    margins: tuple[Margin, ...]
    required: tuple[str, ...]
    wave: int | None = None


REFERENCE_TABLES: dict[str, ReferenceTable] = {
    "cep2021": ReferenceTable(
        "cep2021",
        "published tables of the 2021-22 survey of CEP beneficiaries, 6 months "
        "after exit (capmodel.reference.published)",
        MARGINS,
        REALISATIONS,
        wave=6,
    ),
}


def find_table(frame: pd.DataFrame, which: str | None = "auto") -> ReferenceTable | None:
    """The reference table to use: ``which`` names one, 'auto' takes the first whose required
    columns the data have, None uses none."""
    if which is None or which == "none":
        return None
    if which != "auto":
        if which not in REFERENCE_TABLES:
            raise ValueError(
                f"unknown reference table {which!r}; known: {sorted(REFERENCE_TABLES)}"
            )
        return REFERENCE_TABLES[which]
    for table in REFERENCE_TABLES.values():
        if all(c in frame.columns for c in table.required):
            return table
    return None


def decode_frame(ds: xr.Dataset) -> pd.DataFrame:
    """The encoded data set (a fit's ``data`` group) as a table with the original column
    names and labels: id, wave, weight, groups, supports, covariates, indicators, realisations
    (labels as strings, 0/1 columns as floats with NaN where missing; see
    :meth:`capmodel.data.EncodedData.frame`), one row per data row in order."""
    return ds.capmodel.frame(plain=True).reset_index(drop=True)


ResponseColumns = dict[str, np.ndarray]  # column -> (sample, row) replicated values


def replicated_columns(design, rep: xr.Dataset) -> ResponseColumns:
    """Replicated response columns, (sample, row), NaN where the response is missing, from
    capmodel.fitting.predictive.replicate output."""
    n = design.n_rows
    out: ResponseColumns = {}
    for name, levels, binary, rows, _, sim in response_blocks(design, rep):
        col = np.full((sim.shape[0], n), np.nan, dtype=float if binary else object)
        col[:, rows] = sim if binary else np.asarray(levels, dtype=object)[sim]
        out[name] = col
    return out


def _share(frame: pd.DataFrame, m: Margin, weight: str | None) -> float:
    base = m.base(frame) if m.base else pd.Series(True, index=frame.index)
    return weighted_share(frame, m.outcome, base, weight)


def _depends_on(frame: pd.DataFrame, m: Margin, columns: list[str], weight: str | None) -> bool:
    try:
        _share(frame.drop(columns=columns), m, weight)
    except (KeyError, ValueError):
        return True
    return False


def margin_rows(
    frame: pd.DataFrame,
    table: ReferenceTable,
    weight: str | None,
    wave_column: str | None,
    replicated: ResponseColumns | None = None,
) -> tuple[pd.DataFrame, list[str], str]:
    """One row per margin the data can compute: published, observed (raw), weighted and
    replicated (weighted; mean, lo, hi) shares. Also returns the margins the data cannot
    compute and a note on the rows used."""
    note = "all rows"
    keep = np.ones(len(frame), dtype=bool)
    if table.wave is not None and wave_column in frame:
        waves = frame[wave_column].to_numpy()
        if (waves == table.wave).any():
            keep = waves == table.wave
            note = f"rows at {table.wave} months since exit"
        else:
            note = (
                f"all rows (the data have no wave at {table.wave} months, where the "
                "figures were published)"
            )
    f = frame.loc[keep].reset_index(drop=True)
    response_cols = [c for c in (replicated or {}) if c in f]
    rows: list[dict[str, object]] = []
    missing: list[str] = []
    replicable: list[int] = []
    for m in table.margins:
        try:
            weighted = _share(f, m, weight)
            raw = _share(f, m, None)
        except (KeyError, ValueError):
            missing.append(f"{m.table}: {m.item}")
            continue
        if response_cols and _depends_on(f, m, response_cols, weight):
            replicable.append(len(rows))
        rows.append(
            {
                "table": m.table,
                "item": m.item,
                "published": m.published,
                "observed": raw,
                "weighted": weighted,
                "rep_mean": np.nan,
                "rep_lo": np.nan,
                "rep_hi": np.nan,
            }
        )
    if replicable and replicated:
        shares = _replicate(
            f,
            [table.margins[i] for i in _margin_index(table, rows, replicable)],
            weight,
            {c: replicated[c][:, keep] for c in response_cols},
        )
        for k, i in enumerate(replicable):
            lo, hi = bounds(shares[:, k])
            rows[i].update(
                rep_mean=float(np.nanmean(shares[:, k])), rep_lo=float(lo), rep_hi=float(hi)
            )
    return pd.DataFrame(rows), missing, note


def _margin_index(table: ReferenceTable, rows: list[dict], which: list[int]) -> list[int]:
    """Indices into ``table.margins`` of the computed rows listed in ``which``."""
    keys = [(m.table, m.item) for m in table.margins]
    return [keys.index((rows[i]["table"], rows[i]["item"])) for i in which]


def _replicate(
    f: pd.DataFrame, margins: list[Margin], weight: str | None, cols: ResponseColumns
) -> np.ndarray:
    """(sample, margin) shares on each replicate of the response columns."""
    g = f.copy()
    n_samples = next(iter(cols.values())).shape[0]
    shares = np.empty((n_samples, len(margins)))
    for s in range(n_samples):
        for c, values in cols.items():
            g[c] = values[s]
        for k, m in enumerate(margins):
            shares[s, k] = _share(g, m, weight)
    return shares
