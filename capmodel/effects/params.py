"""Posterior draws of a fit as numpy arrays on the documented (uncentred) scale.

The sampler sees centred predictors, but every effect (``support_effect``, ``conversion``,
``capability_covariate``, group effects, ``direct_effect``, ``realisation_covariate``) is the
same on both scales, and ``realisation_intercept`` is the intercept on the documented scale.
The person residual ``capability_residual`` (kept only with ``fit(..., keep_residuals=True)``,
in the group ``residual_draws``; otherwise each person's residual is integrated by quadrature,
capmodel.effects.residuals) is the same draw on both scales:
theta = theta_c + shift = (m_c + e) + shift = m + e, with m the uncentred capability mean
(``capmodel/model/build.py``). So theta_i = m_i(uncentred) + e_i and
logit pi_r = realisation_intercept_r + capability_loading_r theta_i + ... with uncentred
predictors reproduces the model's own linear predictor exactly (tests/test_effects.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import xarray as xr

from capmodel.model.design import Design
from capmodel.spec import Spec


@dataclass(frozen=True)
class Params:
    """Posterior draws (leading axis: draw) of every structural parameter the effects need."""

    chain: np.ndarray  # (D,) chain of each draw
    draw: np.ndarray  # (D,) draw index within its chain
    position: np.ndarray  # (D,) position of each draw in the selection (0..D-1 before chunking)
    beta: np.ndarray  # (D, K) support_effect, over design.supports
    conversion: np.ndarray  # (D, T)
    capability_covariate: np.ndarray  # (D, C)
    capability_groups: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (D, L)
    slopes: dict[str, np.ndarray] = field(default_factory=dict)  # group -> (D, Ks, L)
    residual: np.ndarray | None = None  # (D, P) capability_residual (sampled-residual fits)
    alpha: np.ndarray | None = None  # (D, R) realisation_intercept (documented scale)
    rho: np.ndarray | None = None  # (D, R) capability_loading (None without latent)
    direct: np.ndarray | None = None  # (D, R, K') direct_effect
    zeta: np.ndarray | None = None  # (D, R, C') realisation_covariate
    tau: np.ndarray | None = None  # (D, R) time_effect (None: no time effect)
    realisation_groups: dict[str, np.ndarray] = field(default_factory=dict)  # (D, R, L)
    # measurement (documented scale), used only to integrate the residual of persons when the
    # fit integrated it out (no capability_residual draws)
    loading: np.ndarray | None = None  # (D, J)
    indicator_intercept: np.ndarray | None = None  # (D, J_binary)
    cutpoints: dict[str, np.ndarray] = field(default_factory=dict)  # indicator -> (D, L-1)

    @property
    def n_draws(self) -> int:
        return int(self.chain.size)

    def take(self, index: np.ndarray | slice) -> Params:
        """The draws ``index`` (a slice or integer array) of every array."""

        def sub(x):
            if x is None:
                return None
            if isinstance(x, dict):
                return {k: v[index] for k, v in x.items()}
            return x[index]

        return replace(self, **{f: sub(getattr(self, f)) for f in self.__dataclass_fields__})

    def chunks(self, size: int):
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
    spec: Spec,
    design: Design,
    draws: int | None = None,
    residuals: xr.Dataset | None = None,
) -> Params:
    """Extract the draws of ``posterior`` (a fit's posterior Dataset) needed by the effects.

    ``draws``: thin to at most this many draws, evenly spaced (None: every draw).
    ``residuals``: the fit's kept residual draws (``Fit.residual_draws``), used when the
    posterior has no ``capability_residual`` and they hold every selected draw; otherwise the
    residual is left out (None) and each person's is integrated by quadrature.
    """
    ci, di = select_draws(posterior, draws)
    ci_da, di_da = xr.DataArray(ci, dims="sample"), xr.DataArray(di, dims="sample")

    def get(name: str, *dims: str) -> np.ndarray:
        da = posterior[name].isel(chain=ci_da, draw=di_da)
        return np.asarray(da.transpose("sample", *dims).values, dtype=np.float64)

    def maybe(name: str, *dims: str) -> np.ndarray | None:
        return get(name, *dims) if name in posterior else None

    n = ci.size
    kw: dict = {"chain": ci, "draw": di, "position": np.arange(ci.size)}
    empty = np.zeros((n, 0))
    if spec.latent:
        kw["beta"] = get("support_effect", "support")
        kw["conversion"] = (
            get("conversion", "conversion_term") if design.conversion_terms else empty
        )
        kw["capability_covariate"] = (
            get("capability_covariate", "capability_term") if design.capability_terms else empty
        )
        if "capability" in spec.groups_in:
            kw["capability_groups"] = {
                g.name: get(f"{g.name}_effect", g.name) for g in design.groups + design.interactions
            }
        kw["slopes"] = {
            g: get(f"{g}_slope", f"{g}_slope_support", g) for g, _ in spec.varying_slopes
        }
        kw["residual"] = maybe("capability_residual", "person")
        if kw["residual"] is None and residuals is not None:
            kw["residual"] = stored_residuals(residuals, posterior, ci, di)
        kw["loading"] = get("loading", "indicator")
        kw["indicator_intercept"] = maybe("indicator_intercept", "binary_indicator")
        kw["cutpoints"] = {
            j.name: get(f"cutpoints__{j.name}", f"{j.name}_cut")
            for j in design.indicators
            if j.kind == "ordinal"
        }
    else:
        kw["beta"] = empty
        kw["conversion"] = empty
        kw["capability_covariate"] = empty
    if design.realisations:
        kw["alpha"] = get("realisation_intercept", "realisation")
        if spec.latent:
            kw["rho"] = get("capability_loading", "realisation")
        r = len(design.realisations)
        kw["direct"] = (
            get("direct_effect", "realisation", "direct_support")
            if design.direct_supports
            else np.zeros((n, r, 0))
        )
        kw["zeta"] = (
            get("realisation_covariate", "realisation", "realisation_term")
            if design.realisation_terms
            else np.zeros((n, r, 0))
        )
        if design.log_time is not None:
            kw["tau"] = get("time_effect", "realisation")
        if "realisations" in spec.groups_in:
            kw["realisation_groups"] = {
                g.name: get(f"realisation_{g.name}_effect", "realisation", g.name)
                for g in design.groups + design.interactions
            }
    return Params(**kw)


def stored_residuals(
    residuals: xr.Dataset, posterior: xr.Dataset, ci: np.ndarray, di: np.ndarray
) -> np.ndarray | None:
    """(D, P) kept residual draws at the posterior draws (``ci``, ``di``: positions), or None
    when a selected draw has none (they were thinned, ``keep_residuals``)."""
    name = "capability_residual"
    if name not in residuals:
        return None
    chains = posterior["chain"].values[ci]
    draws = posterior["draw"].values[di]
    if not (
        np.isin(chains, residuals["chain"].values).all()
        and np.isin(draws, residuals["draw"].values).all()
    ):
        return None
    da = residuals[name].sel(
        chain=xr.DataArray(chains, dims="sample"), draw=xr.DataArray(draws, dims="sample")
    )
    return np.asarray(da.transpose("sample", "person").values, dtype=np.float64)
