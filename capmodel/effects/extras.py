"""Columns the model does not encode (schema extras such as ``attribution`` or
``decisive_test_failed``), matched to the units' rows by person id and wave."""

from __future__ import annotations

import numpy as np
import pandas as pd

from capmodel.effects.units import EffectsError, Units
from capmodel.spec import Spec


def extra_column(spec: Spec, units: Units, frame: pd.DataFrame | str, column: str) -> np.ndarray:
    """Values of ``column`` of the raw data ``frame`` (DataFrame or path) at every unit row,
    as floats (NaN when missing). Rows are matched on the schema's id (and wave) columns."""
    if isinstance(frame, str):
        from capmodel.data.io import read_table

        frame = read_table(frame, schema=spec.schema)
    if units.person_index is None or not units.person_labels:
        raise EffectsError("extra columns can be matched only to the fit's own persons")
    sid, swave = spec.schema.id, spec.schema.wave
    missing = [c for c in (sid, column) if c not in frame.columns]
    if missing:
        raise EffectsError(
            f"column(s) {missing} not in the data; available columns: "
            f"{sorted(map(str, frame.columns))}"
        )
    values = (
        pd.to_numeric(frame[column].astype("object").where(frame[column].notna()), errors="coerce")
        .astype(float)
        .to_numpy()
    )
    ids = frame[sid].astype(str).to_numpy()
    if swave and swave in frame.columns and units.wave is not None:
        keys = pd.MultiIndex.from_arrays([ids, frame[swave].astype(np.int64).to_numpy()])
        wanted = pd.MultiIndex.from_arrays(
            [np.asarray(units.person_labels)[units.person_of_row], units.wave]
        )
    else:
        keys = pd.Index(ids)
        wanted = pd.Index(np.asarray(units.person_labels)[units.person_of_row])
    series = pd.Series(values, index=keys)
    series = series[~series.index.duplicated()]
    return series.reindex(wanted).to_numpy(dtype=float)
