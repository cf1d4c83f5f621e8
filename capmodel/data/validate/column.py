"""One data column read once: its missing mask and its text, number and 0/1 views."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_integer_dtype, is_numeric_dtype

from capmodel.data.validate.scalars import binary, is_missing, label, number, py


class ColumnView:
    """One data column: its missing mask and (cached) text/number/binary views."""

    def __init__(self, s: pd.Series) -> None:
        self.s = s
        self.n = len(s)
        self.is_numeric = is_numeric_dtype(s.dtype) and not is_bool_dtype(s.dtype)
        self._text = isinstance(s.dtype, pd.StringDtype)  # only str or missing: fast paths
        self._raw: np.ndarray | None
        if self.is_numeric:
            self._num = s.to_numpy(dtype=np.float64, na_value=np.nan)
            self.missing = np.isnan(self._num)
            self._raw = None
        elif self._text:
            self._raw = s.to_numpy(dtype=object, na_value=None)
            blank = s.str.strip() == ""
            self.missing = s.isna().to_numpy(dtype=bool) | blank.to_numpy(
                dtype=bool, na_value=False
            )
        else:
            raw = np.empty(self.n, dtype=object)
            raw[:] = [py(v) for v in s.tolist()]
            self._raw = raw
            self.missing = np.fromiter((is_missing(v) for v in raw), dtype=bool, count=self.n)

    def values_at(self, idx: np.ndarray) -> list[Any]:
        """The original values (as Python scalars) at positions ``idx``."""
        if self._raw is not None:
            return [self._raw[i] for i in idx]
        return [py(v) for v in self.s.iloc[idx].tolist()]

    def present(self) -> np.ndarray:
        """Positions of the values that are not missing."""
        return np.flatnonzero(~self.missing)

    @cached_property
    def labels(self) -> np.ndarray:
        """Text labels (None where missing)."""
        out = np.full(self.n, None, dtype=object)
        vals = self._raw if self._raw is not None else self.s.tolist()
        if self._text:
            out[~self.missing] = vals[~self.missing]
        elif is_integer_dtype(self.s.dtype) and not self.missing.any():
            out[:] = [str(v) for v in vals]
        else:
            for i in self.present():
                out[i] = label(py(vals[i]))
        return out

    def numbers(self) -> tuple[np.ndarray, np.ndarray]:
        """Floats (NaN where missing or not a number) and the 'not a number' mask."""
        if self._raw is None:
            return self._num, np.zeros(self.n, dtype=bool)
        out = np.full(self.n, np.nan)
        bad = np.zeros(self.n, dtype=bool)
        for i in self.present():
            x = number(self._raw[i])
            if x is None:
                bad[i] = True
            else:
                out[i] = x
        return out, bad

    def binaries(self) -> tuple[np.ndarray, np.ndarray]:
        """int8 0/1 (-1 where missing or not 0/1) and the 'not 0/1' mask."""
        if self._raw is None:
            ok = (self._num == 0) | (self._num == 1)
            codes = np.where(ok, self._num, -1).astype(np.int8)
            return codes, ~self.missing & ~ok
        codes = np.full(self.n, -1, dtype=np.int8)
        bad = np.zeros(self.n, dtype=bool)
        for i in self.present():
            b = binary(self._raw[i])
            if b is None:
                bad[i] = True
            else:
                codes[i] = b
        return codes, bad
