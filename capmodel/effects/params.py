"""Posterior draws of a fit as numpy arrays, by the model's own variable names.

Which variables: those the model's compiled functions read
(:attr:`capmodel.model.evaluate.ModelFunctions.names`); nothing here knows what they mean.
The person residual ``capability_residual`` (kept only with ``fit(..., keep_residuals=True)``, in
the group ``residual_draws``; otherwise each person's residual posterior is integrated by
quadrature) is carried apart, as ``residual``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

RESIDUAL = "capability_residual"


@dataclass(frozen=True)
class Params:
    """Posterior draws (leading axis: draw) of the model's variables."""

    chain: np.ndarray  # (D,) chain of each draw
    draw: np.ndarray  # (D,) draw index within its chain
    position: np.ndarray  # (D,) position of each draw in the selection (0..D-1 before chunking)
    values: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (D, *dims)
    residual: np.ndarray | None = None  # (D, P) capability_residual (kept residual draws)

    @property
    def n_draws(self) -> int:
        return int(self.chain.size)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def take(self, index: np.ndarray | slice) -> Params:
        """The draws ``index`` (a slice or integer array) of every array."""
        return Params(
            self.chain[index],
            self.draw[index],
            self.position[index],
            {k: v[index] for k, v in self.values.items()},
            None if self.residual is None else self.residual[index],
        )

    def chunks(self, size: int) -> Iterator[Params]:
        """Consecutive blocks of at most ``size`` draws."""
        size = max(1, int(size))
        for start in range(0, self.n_draws, size):
            yield self.take(slice(start, start + size))


def select_draws(posterior: xr.Dataset, draws: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(chain, draw) indices of at most ``draws`` draws, evenly spaced over the stacked sample
    (all draws when ``draws`` is None)."""
    n_chain, n_draw = posterior.sizes["chain"], posterior.sizes["draw"]
    total = n_chain * n_draw
    if draws is None or draws >= total:
        flat = np.arange(total)
    else:
        if draws < 1:
            raise ValueError(f"draws must be >= 1, got {draws}")
        flat = np.unique(np.linspace(0, total - 1, int(draws)).round().astype(np.int64))
    return flat // n_draw, flat % n_draw


def posterior_params(
    posterior: xr.Dataset,
    names: Iterable[str],
    draws: int | None = None,
    residuals: xr.Dataset | None = None,
) -> Params:
    """The draws of the variables ``names`` of ``posterior`` (a fit's posterior Dataset).

    ``draws``: thin to at most this many draws, evenly spaced (None: every draw).
    ``residuals``: the fit's kept residual draws (``Fit.residual_draws``), used when the
    posterior has no ``capability_residual`` and they hold every selected draw; otherwise the
    residual is left out (None) and each person's is integrated by quadrature.
    """
    ci, di = select_draws(posterior, draws)
    ci_da, di_da = xr.DataArray(ci, dims="sample"), xr.DataArray(di, dims="sample")

    def get(source: xr.Dataset, name: str) -> np.ndarray:
        da = source[name].isel(chain=ci_da, draw=di_da)
        return np.asarray(da.transpose("sample", ...).values, dtype=np.float64)

    values = {name: get(posterior, name) for name in names}
    residual = get(posterior, RESIDUAL) if RESIDUAL in posterior else None
    if residual is None and residuals is not None:
        residual = stored_residuals(residuals, posterior, ci, di)
    return Params(ci, di, np.arange(ci.size), values, residual)


def stored_residuals(
    residuals: xr.Dataset, posterior: xr.Dataset, ci: np.ndarray, di: np.ndarray
) -> np.ndarray | None:
    """(D, P) kept residual draws at the posterior draws (``ci``, ``di``: positions), or None
    when a selected draw has none (they were thinned, ``keep_residuals``)."""
    if RESIDUAL not in residuals:
        return None
    chains = posterior["chain"].values[ci]
    draws = posterior["draw"].values[di]
    if not (
        np.isin(chains, residuals["chain"].values).all()
        and np.isin(draws, residuals["draw"].values).all()
    ):
        return None
    da = residuals[RESIDUAL].sel(
        chain=xr.DataArray(chains, dims="sample"), draw=xr.DataArray(draws, dims="sample")
    )
    return np.asarray(da.transpose("sample", "person").values, dtype=np.float64)
