"""Read back what :func:`~capmodel.data.encode.encode` writes: the ``capmodel`` accessor.

Every encoded dataset carries it (importing :mod:`capmodel.data` registers it)::

    ds = encode(validated)
    ds.capmodel.columns("groups")     # ('operator', 'region'): schema columns of a role
    ds.capmodel.levels("region")      # its level labels, in code order
    ds.capmodel.labels("region")      # its decoded values (a Categorical Series, by row)
    ds.capmodel.frame()               # the validated frame's (encoded) columns, decoded

It reads the layout documented in :mod:`capmodel.data.encode` and nothing else: the
variables along ``obs`` that carry a ``role`` attribute, their ``column``/``kind``/
``reference``/``within`` attributes, the ``level__{col}`` coordinates, the ``person``,
``support`` and ``realisation`` dimensions and the ``group__{col}__parent`` maps. Columns are
always the schema's column names (one per column, the supports and realisations included);
their order is the encoding order (id, wave, weight, groups, supports, factors, confounders,
indicators, realisations), which is the order of the validated frame's columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["KINDS", "ROLES", "EncodedData"]

#: The roles of encoded columns, in encoding order.
ROLES = (
    "id",
    "wave",
    "weight",
    "groups",
    "supports",
    "factors",
    "confounders",
    "indicators",
    "realisations",
)

#: What :meth:`EncodedData.kind` returns.
KINDS = ("id", "numeric", "categorical", "ordinal", "binary")

_DEFAULT_KIND = {"id": "id", "wave": "numeric", "weight": "numeric"}


@dataclass(frozen=True)
class _Entry:
    """Where a schema column is encoded: a data variable, or one column of a 2-D one."""

    variable: str
    role: str
    kind: str
    dim: str | None = None  # second dimension of a 2-D variable (support, realisation)
    position: int = 0  # the column's position along ``dim``


@xr.register_dataset_accessor("capmodel")
class EncodedData:
    """``ds.capmodel``: the schema columns of an encoded dataset, their codes and labels."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    # ------------------------------------------------------------------------ layout
    def _entries(self) -> dict[str, _Entry]:
        """Schema column -> where it is encoded, in encoding order (read anew on each call:
        the dataset may have been given new variables since)."""
        variables = self._ds.variables  # Variables, not DataArrays: cheap to read
        out: dict[str, _Entry] = {}
        for name in self._ds.data_vars:
            var = variables[name]
            if "obs" not in var.dims or "role" not in var.attrs:
                continue
            role = str(var.attrs["role"])
            if var.ndim == 2:  # supports, realisations: one column per label of the other dim
                dim = str(next(d for d in var.dims if d != "obs"))
                for k, label in enumerate(variables[dim].values):
                    out.setdefault(str(label), _Entry(str(name), role, "binary", dim, k))
            else:
                kind = str(var.attrs.get("kind", _DEFAULT_KIND.get(role, "numeric")))
                out.setdefault(str(var.attrs.get("column", name)), _Entry(str(name), role, kind))
        return out

    def _entry(self, column: str) -> _Entry:
        entries = self._entries()
        if column not in entries:
            raise KeyError(
                f"{column!r} is not a column of the encoded data; its columns are {list(entries)}"
            )
        return entries[column]

    def columns(self, role: str | Iterable[str] | None = None) -> tuple[str, ...]:
        """The encoded schema columns, in encoding order; only those of ``role`` (one of
        :data:`ROLES`, or several) when given."""
        entries = self._entries()
        if role is None:
            return tuple(entries)
        roles = {role} if isinstance(role, str) else set(role)
        unknown = sorted(roles - set(ROLES))
        if unknown:
            raise ValueError(f"unknown role(s) {unknown}; roles are {list(ROLES)}")
        return tuple(c for c, e in entries.items() if e.role in roles)

    def role(self, column: str) -> str:
        """The role ``column`` is encoded in (one of :data:`ROLES`)."""
        return self._entry(column).role

    def kind(self, column: str) -> str:
        """'categorical' (groups, categorical covariates), 'ordinal' (ordinal indicators),
        'binary' (supports, binary indicators, realisations), 'numeric' (numeric covariates,
        wave, weight) or 'id'."""
        return self._entry(column).kind

    def has_levels(self, column: str) -> bool:
        """Whether ``column`` is encoded and its codes index level labels (a categorical or
        ordinal column; the id's labels are :attr:`persons`)."""
        entry = self._entries().get(column)
        return (
            entry is not None
            and entry.kind in ("categorical", "ordinal")
            and f"level__{column}" in self._ds.coords
        )

    # ------------------------------------------------------------------------ values
    def variable(self, column: str) -> xr.DataArray:
        """The encoded values of ``column`` along ``obs``: codes (id, categorical, ordinal;
        -1 where missing), 0/1 (binary; -1 where missing) or numbers."""
        e = self._entry(column)
        var = self._ds[e.variable]
        return var if e.dim is None else var.isel({e.dim: e.position})

    def array(self, columns: Sequence[str]) -> np.ndarray:
        """(obs, len(columns)): the encoded values of ``columns`` side by side (the supports'
        0/1, say); an empty float (obs, 0) array when ``columns`` is empty."""
        if not columns:
            return np.zeros((self._ds.sizes["obs"], 0))
        return np.column_stack([self.variable(c).values for c in columns])

    @property
    def persons(self) -> tuple[str, ...]:
        """The person ids the id column's codes index (order of first appearance)."""
        return tuple(str(v) for v in self._ds["person"].values)

    def levels(self, column: str) -> tuple[str, ...]:
        """The level labels of a categorical or ordinal column, in code order."""
        if not self.has_levels(column):
            raise KeyError(
                f"column {column!r} has no levels: it is not a categorical or ordinal column "
                "of the encoded data"
            )
        return tuple(str(v) for v in self._ds[f"level__{column}"].values)

    def reference(self, column: str) -> str:
        """The reference level of a categorical covariate."""
        var = self._ds[self._entry(column).variable]
        if "reference" not in var.attrs:
            raise KeyError(f"column {column!r} is not a categorical covariate: it has no reference")
        return str(var.attrs["reference"])

    def references(self) -> dict[str, str]:
        """Categorical covariate -> its reference level, in encoding order."""
        out = {}
        for column in self.columns(("factors", "confounders")):
            var = self._ds[self._entry(column).variable]
            if "reference" in var.attrs:
                out[column] = str(var.attrs["reference"])
        return out

    def within(self, column: str) -> str | None:
        """The group a nested group lies within (declared or inferred), None if not nested."""
        within = self._ds[self._entry(column).variable].attrs.get("within")
        return None if within is None else str(within)

    def parent_codes(self, column: str) -> np.ndarray:
        """(levels of ``column``,) the code, into the levels of :meth:`within`, of the level
        containing each level of the nested group ``column`` (-1: a level with no row)."""
        outer = self.within(column)
        if outer is None:
            raise KeyError(f"group {column!r} is not nested in another group")
        name = f"group__{column}__parent"
        if name in self._ds:
            return self._ds[name].values.astype(np.int64)
        # no parent map (each level lies in one outer level: validated): read it off the rows
        out = np.zeros(len(self.levels(column)), dtype=np.int64)
        out[self.variable(column).values] = self.variable(outer).values
        return out

    # ------------------------------------------------------------------------ decoded
    def row_index(self) -> pd.Index:
        """The 1-based data row numbers of the ``obs`` (the validated frame's index)."""
        if "row" in self._ds.coords:
            return pd.Index(self._ds["row"].values.astype(np.int64), name="row")
        return pd.RangeIndex(1, self._ds.sizes["obs"] + 1, name="row")

    def labels(self, column: str, *, plain: bool = False) -> pd.Series:
        """The decoded values of ``column``, indexed by data row, typed as in the validated
        frame: ids as strings, categorical and ordinal columns as Categoricals (ordinal ones
        ordered), supports ``int8``, other binary columns nullable ``Int8``, wave ``int64``,
        numbers ``float64``; missing values NaN / pd.NA.

        ``plain``: numpy dtypes only (what arithmetic on a table wants): labels as Python
        strings in an object column (None where missing), binary columns as ``float64``
        (NaN where missing), the others as encoded.
        """
        if plain:
            return pd.Series(self._plain(column), self.row_index(), name=column)
        e = self._entry(column)
        values = self.variable(column).values
        if e.kind == "id":
            decoded = pd.array(np.asarray(self.persons, dtype=object)[values], dtype="string")
        elif self.has_levels(column):
            decoded = pd.Categorical.from_codes(
                values.astype(np.int64),
                categories=list(self.levels(column)),
                ordered=e.kind == "ordinal",
            )
        elif e.kind == "binary" and e.role != "supports":  # supports are never missing
            decoded = pd.arrays.IntegerArray(values.astype(np.int8), values < 0)
        else:
            decoded = values
        return pd.Series(decoded, self.row_index(), name=column)

    def _plain(self, column: str) -> np.ndarray:
        e = self._entry(column)
        values = self.variable(column).values
        if e.kind == "id":
            return np.asarray(self.persons, dtype=object)[values]
        if self.has_levels(column):
            decoded = np.full(values.shape, None, dtype=object)
            ok = values >= 0
            decoded[ok] = np.asarray(self.levels(column), dtype=object)[values[ok]]
            return decoded
        if e.kind == "binary":
            return np.where(values < 0, np.nan, values).astype(float)
        return values

    def frame(self, columns: Sequence[str] | None = None, *, plain: bool = False) -> pd.DataFrame:
        """The decoded columns (default: every encoded column, in encoding order) as a table
        indexed by data row: for a dataset from ``encode(validated)``, ``validated.frame``
        without its extra columns. ``plain``: numpy dtypes only (see :meth:`labels`)."""
        names = self.columns() if columns is None else tuple(columns)
        if plain:
            return pd.DataFrame({c: self._plain(c) for c in names}, index=self.row_index())
        return pd.DataFrame({c: self.labels(c) for c in names}, index=self.row_index())
