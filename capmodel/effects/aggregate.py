"""Weighted averages of per-row draws over the population and its subgroups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from capmodel.effects.units import Units


@dataclass(frozen=True)
class Subgroups:
    """'all' and the levels of each ``by`` variable, as a one-hot (N, G) row membership."""

    by_variable: tuple[str, ...]
    by_level: tuple[str, ...]
    member: np.ndarray  # (N, G) 0/1

    @classmethod
    def of(cls, units: Units, by: Sequence[str] = ()) -> Subgroups:
        variables, levels, cols = [], [], []
        for var in ("all", *[b for b in by if b != "all"]):
            codes, labels = units.split(var)
            for i, label in enumerate(labels):
                sel = codes == i
                if not sel.any():
                    continue
                variables.append(var)
                levels.append(label)
                cols.append(sel)
        return cls(tuple(variables), tuple(levels), np.column_stack(cols).astype(float))

    @property
    def size(self) -> int:
        return len(self.by_level)

    def counts(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Rows in each subgroup (among ``mask`` rows)."""
        m = self.member if mask is None else self.member * mask[:, None]
        return m.sum(axis=0).astype(np.int64)

    def means(
        self, values: np.ndarray, weights: np.ndarray, mask: np.ndarray | None = None
    ) -> np.ndarray:
        """Weighted means of ``values`` (D, N, ...) over the rows of each subgroup:
        (D, G, ...). ``weights``: (N,) or (D, N); ``mask``: (N,) or (D, N) rows to use.
        NaN where a subgroup has no weight."""
        d = values.shape[0]
        flat = values.reshape(d, values.shape[1], -1)
        w = weights if mask is None else weights * mask
        if w.ndim == 1:
            hw = self.member * w[:, None]
            num = np.einsum("dno,ng->dgo", flat, hw)
            den = np.broadcast_to(hw.sum(axis=0)[None, :], (d, self.size))
        else:
            w = np.broadcast_to(w, (d, values.shape[1]))
            num = np.einsum("dno,dn,ng->dgo", flat, w, self.member)
            den = w @ self.member
        with np.errstate(invalid="ignore", divide="ignore"):
            out = num / den[:, :, None]
        return out.reshape(d, self.size, *values.shape[2:])
