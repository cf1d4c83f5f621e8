"""Turn :class:`~capmodel.data.validate.ValidatedData` into a model-ready ``xarray.Dataset``.

One ``obs`` per validated row; labels are kept as coordinates so codes can be decoded.

=================================  ==========================  =======  =======================
variable                           dims                        dtype    content
=================================  ==========================  =======  =======================
``row`` (coord)                    obs                         int64    1-based data row number
``person_code``                    obs                         int64    code into ``person``
``person`` (coord)                 person                      str      person ids (order of
                                                                         first appearance)
``wave``                           obs                         int64    months (wave role only)
``weight``                         obs                         float64  (weight role only)
``group__{col}``                   obs                         int64    code into ``level__{col}``
``group__{inner}__parent``         level__{inner}              int64    code into ``level__{outer}``
``supports``                       obs, support                int8     0/1 (if any supports)
``covariate__{col}``               obs                         int64    categorical: code
                                                                         into ``level__{col}``
``covariate__{col}``               obs                         float64  numeric covariate
``indicator__{col}``               obs                         int8     binary 0/1 or ordinal
                                                                         0..L-1; -1 = missing
``realisations``                   obs, realisation            int8     0/1; -1 = missing
``level__{col}`` (coord)           level__{col}                str      level labels, in order
=================================  ==========================  =======  =======================

The person, support and realisation *dimensions* carry the labels; the variables holding codes
or values along ``obs`` are therefore named ``person_code``, ``supports`` and ``realisations``
(xarray cannot hold a data variable and a dimension coordinate of the same name).

Dataset attributes: ``schema`` (JSON of ``Schema.to_dict()``), ``data_hash`` (see
:func:`dataset_hash`), ``n_rows``, ``n_persons``, ``dropped_rows`` (count) and
``encoding_version``. Extra columns are not encoded; they stay in ``validated.frame``.

Read it back through its ``capmodel`` accessor (:class:`capmodel.data.encoded.EncodedData`:
``ds.capmodel.frame()``, ``.levels(column)``, ...), not by these names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from capmodel.data.validate import ROW_NUMBERS, ValidatedData

__all__ = ["ENCODING_VERSION", "dataset_hash", "encode"]

#: Bumped whenever the layout of the encoded dataset changes.
ENCODING_VERSION = 1


def encode(validated: ValidatedData) -> xr.Dataset:
    """Encode validated data as integer codes / floats on an ``obs`` dimension (see module doc)."""
    if not isinstance(validated, ValidatedData):
        raise TypeError(
            f"encode() expects the ValidatedData returned by validate(), got "
            f"{type(validated).__name__}"
        )
    s, f = validated.schema, validated.frame
    coords: dict[str, Any] = {
        "row": ("obs", f.index.to_numpy(dtype=np.int64), {"description": ROW_NUMBERS})
    }
    data: dict[str, Any] = {}

    ids = [str(x) for x in f[s.id].tolist()]
    persons = list(dict.fromkeys(ids))  # order of first appearance
    data["person_code"] = ("obs", _codes(ids, persons), {"column": s.id, "role": "id"})
    coords["person"] = ("person", _labels(persons))

    if s.wave:
        data["wave"] = (
            "obs",
            f[s.wave].to_numpy(dtype=np.int64),
            {"column": s.wave, "role": "wave", "units": "months since exit"},
        )
    if s.weight:
        data["weight"] = (
            "obs",
            f[s.weight].to_numpy(dtype=np.float64),
            {"column": s.weight, "role": "weight"},
        )

    for g in s.groups:
        attrs: dict[str, object] = {"column": g.column, "role": "groups", "kind": "categorical"}
        if g.column in validated.nesting:
            attrs["within"] = validated.nesting[g.column]
        _categorical(data, coords, f, validated.levels, g.column, f"group__{g.column}", attrs)
    for inner, outer in validated.nesting.items():
        parent = np.full(len(validated.levels[inner]), -1, dtype=np.int64)
        parent[_cat_codes(f, inner)] = _cat_codes(f, outer)
        how = "inferred" if inner in validated.inferred_nesting else "declared"
        data[f"group__{inner}__parent"] = (
            f"level__{inner}",
            parent,
            {
                "inner": inner,
                "outer": outer,
                "nesting": how,
                "description": f"code (into level__{outer}) of the {outer} level containing each "
                f"{inner} level",
            },
        )

    if s.supports:
        data["supports"] = (("obs", "support"), _binary_matrix(f, s.supports), {"role": "supports"})
        coords["support"] = ("support", _labels(s.supports))

    for role, covs in (("factors", s.factors), ("confounders", s.confounders)):
        for cov in covs:
            name = f"covariate__{cov.column}"
            attrs = {"column": cov.column, "role": role, "kind": cov.kind}
            if cov.kind == "numeric":
                data[name] = ("obs", f[cov.column].to_numpy(dtype=np.float64), attrs)
            else:
                ref = validated.references[cov.column]
                attrs |= {
                    "reference": ref,
                    "reference_code": validated.levels[cov.column].index(ref),
                }
                _categorical(data, coords, f, validated.levels, cov.column, name, attrs)

    for ind in s.indicators:
        name = f"indicator__{ind.column}"
        attrs = {"column": ind.column, "role": "indicators", "kind": ind.kind, "missing": -1}
        if ind.kind == "binary":
            data[name] = ("obs", _binary(f, ind.column), attrs)
        else:
            levels = validated.levels[ind.column]
            if len(levels) > 127:
                raise ValueError(f"ordinal indicator {ind.column!r} has more than 127 levels")
            data[name] = ("obs", _cat_codes(f, ind.column).astype(np.int8), attrs)
            coords[f"level__{ind.column}"] = (f"level__{ind.column}", _labels(levels))

    if s.realisations:
        data["realisations"] = (
            ("obs", "realisation"),
            _binary_matrix(f, s.realisations),
            {"role": "realisations", "missing": -1},
        )
        coords["realisation"] = ("realisation", _labels(s.realisations))

    ds = xr.Dataset(data_vars=data, coords=coords)
    ds.attrs = {
        "schema": json.dumps(s.to_dict(), sort_keys=True),
        "data_hash": dataset_hash(ds),
        "n_rows": int(ds.sizes["obs"]),
        "n_persons": len(persons),
        "dropped_rows": validated.n_dropped,
        "encoding_version": ENCODING_VERSION,
    }
    return ds


def dataset_hash(ds: xr.Dataset) -> str:
    """SHA-256 (hex) of a canonical serialisation of ``ds``'s variables and coordinates.

    Covers every variable's name, dims, shape, dtype, attributes and values (numbers as
    little-endian bytes, labels as JSON text); dataset attributes are not included. The same
    data read from CSV, Parquet or a DataFrame therefore hash the same.
    """
    h = hashlib.sha256()
    for name in sorted(str(k) for k in ds.variables):
        var = ds.variables[name]
        arr = np.asarray(var.values)
        if arr.dtype.kind in "biuf":
            dtype = arr.dtype.newbyteorder("<")
            payload = np.ascontiguousarray(arr, dtype=dtype).tobytes()
            dtype_name = dtype.str
        else:
            payload = json.dumps([str(x) for x in arr.ravel().tolist()]).encode("utf-8")
            dtype_name = "str"
        header = json.dumps(
            {
                "name": name,
                "dims": [str(d) for d in var.dims],
                "shape": list(arr.shape),
                "dtype": dtype_name,
                "attrs": {str(k): _plain(v) for k, v in var.attrs.items()},
            },
            sort_keys=True,
        ).encode("utf-8")
        for chunk in (header, payload):
            h.update(len(chunk).to_bytes(8, "little"))
            h.update(chunk)
    return h.hexdigest()


# ----------------------------------------------------------------------------- helpers
def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return v


def _labels(items: Sequence[str]) -> np.ndarray:
    return np.array([str(x) for x in items], dtype=object)


def _codes(labels: Sequence[str], levels: Sequence[str]) -> np.ndarray:
    index = {lv: i for i, lv in enumerate(levels)}
    return np.array([index[lb] for lb in labels], dtype=np.int64)


def _cat_codes(f: pd.DataFrame, col: str) -> np.ndarray:
    return f[col].cat.codes.to_numpy().astype(np.int64)


def _categorical(
    data: dict[str, Any],
    coords: dict[str, Any],
    f: pd.DataFrame,
    levels: dict[str, tuple[str, ...]],
    col: str,
    name: str,
    attrs: dict[str, Any],
) -> None:
    if tuple(f[col].cat.categories) != tuple(levels[col]):  # pragma: no cover - invariant
        raise ValueError(f"column {col!r}: frame categories do not match the resolved levels")
    data[name] = ("obs", _cat_codes(f, col), attrs)
    coords[f"level__{col}"] = (f"level__{col}", _labels(levels[col]))


def _binary(f: pd.DataFrame, col: str) -> np.ndarray:
    return f[col].to_numpy(dtype=np.int8, na_value=-1)


def _binary_matrix(f: pd.DataFrame, cols: Sequence[str]) -> np.ndarray:
    return np.column_stack([_binary(f, c) for c in cols]).astype(np.int8)
