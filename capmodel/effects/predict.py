"""Capability and realisation probabilities of units under interventions, per posterior draw.

For a block of draws (``Params``) and units (``Units``), the model's own compiled functions
(:class:`capmodel.model.evaluate.ModelFunctions`) give capability without its residual, m(s),
and the realisation probabilities pi_r at values of each person's residual e_i, with the
supports of an intervention fed in as data. The residual is either each person's posterior
draw (one node, weight 1), each person's posterior given their responses (adaptive
Gauss-Hermite nodes and weights, when the fit holds no residual draws), or integrated over
N(0, 1) by Gauss-Hermite quadrature (Q nodes). ``any_realisation`` = 1 - prod_r (1 - pi_r),
computed at each node (realisations are independent given capability) before averaging over
nodes. Nothing here restates the model's equations.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import xarray as xr

from capmodel.effects.params import Params, posterior_params
from capmodel.effects.units import (
    INTEGRATED,
    POSTERIOR,
    EffectsError,
    Units,
    at_horizon,
    sample_units,
)
from capmodel.model.design import Design
from capmodel.model.evaluate import ModelFunctions
from capmodel.model.integrated import gauss_hermite
from capmodel.spec import Spec

ANY = "any_realisation"
CHUNK_ELEMENTS = 3_000_000  # floats per (draws x rows x outcomes x nodes) block
DEFAULT_NODES = 15  # Gauss-Hermite nodes over the capability residual


class Predictor:
    """Predictions for one block of draws and one set of units."""

    def __init__(
        self,
        p: Params,
        units: Units,
        functions: ModelFunctions,
        nodes: int = DEFAULT_NODES,
    ):
        self.p, self.u, self.f = p, units, functions
        self.latent = functions.latent
        self.e, self.log_w = self._residual_nodes(nodes)

    def _design(self, supports: np.ndarray, z: np.ndarray | None = None):
        return self.u.design(self.f.design, supports, z)

    # ------------------------------------------------------------------ capability
    def capability_mean(self, supports: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
        """m(s) per draw and person, (D, P) (capability without its residual); ``z``
        replaces the units' conversion factors (P, T)."""
        if not self.latent:
            raise EffectsError("this model has no latent capability")
        return self.f.capability_mean(self.p.values, self._design(supports, z))

    # ---------------------------------------------------------------- realisations
    def _residual_nodes(self, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
        """Residual values (D, P, Q) and their log weights (D or 1, P or 1, Q)."""
        d, n_persons = self.p.n_draws, self.u.n_persons
        if not self.latent:
            return np.zeros((d, n_persons, 1)), np.zeros((1, 1, 1))
        if self.u.residual == INTEGRATED:
            x, log_w = gauss_hermite(n_nodes)
            return np.broadcast_to(x, (d, n_persons, x.size)), log_w[None, None, :]
        if self.u.person_index is None:
            raise EffectsError(
                "each person's own residual needs the persons' responses: these "
                "units are not the fit's persons; use residual='integrated'"
            )
        if self.p.residual is not None:
            return self.p.residual[:, self.u.person_index][:, :, None], np.zeros((1, 1, 1))
        e, log_w = self.f.residual_posterior(self.p.values, n_nodes)
        return e[:, self.u.person_index], log_w[:, self.u.person_index]

    def node_probabilities(
        self, direct: np.ndarray, capability: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """pi_r at every residual node, (D, N, R, Q), and the normalised node weights
        (D or 1, N or 1, Q); ``direct`` and ``capability`` are the (P, K) supports entering
        the direct and the capability parts."""
        if not self.f.has_realisations:
            raise EffectsError("this model has no realisations")
        rows = self._design(direct)
        cap = None if capability is None else self._design(capability)
        pr = self.f.probabilities(self.p.values, rows, self.e, cap)
        w = np.exp(self.log_w - self.log_w.max(axis=-1, keepdims=True))
        w = w / w.sum(axis=-1, keepdims=True)
        if w.shape[1] > 1:
            w = w[:, self.u.person_of_row]
        return pr, w

    def probabilities(self, direct: np.ndarray, capability: np.ndarray | None = None) -> np.ndarray:
        """E over the residual of pi_r, and of any realisation, (D, N, R + 1)."""
        if not self.f.has_realisations:
            raise EffectsError("this model has no realisations")
        rows = self._design(direct)
        cap = None if capability is None else self._design(capability)
        w = np.exp(self.log_w - self.log_w.max(axis=-1, keepdims=True))
        w = np.broadcast_to(w / w.sum(axis=-1, keepdims=True), self.e.shape)
        return self.f.expected_probabilities(self.p.values, rows, self.e, w, cap)


class EffectModel:
    """A fit's structure, posterior draws and units, ready for effect computations."""

    def __init__(
        self,
        spec: Spec,
        design: Design,
        params: Params,
        units: Units,
        nodes: int = DEFAULT_NODES,
        chunk_elements: int = CHUNK_ELEMENTS,
        data: xr.Dataset | None = None,
        functions: ModelFunctions | None = None,
    ):
        self.spec, self.design, self.params, self.units = spec, design, params, units
        self.data = data  # the encoded data of the fit (post-stratification needs it)
        self.n_nodes = nodes
        self.chunk_elements = chunk_elements
        self.functions = ModelFunctions(spec, design) if functions is None else functions
        self.latent = spec.latent

    @classmethod
    def from_fit(
        cls,
        fit,
        draws: int | None = None,
        weights: str = "none",
        residual: str = POSTERIOR,
        nodes: int = DEFAULT_NODES,
        units: Units | None = None,
        chunk_elements: int = CHUNK_ELEMENTS,
        horizon: int | None = None,
    ) -> EffectModel:
        """From a :class:`capmodel.Fit`: its spec, design, ``draws`` thinned draws and units
        (default: the survey sample, ``weights`` 'none' or 'survey')."""
        design = fit.design
        functions = fit.cached(
            "model_functions", lambda: ModelFunctions(fit.spec, design, fit.built_model())
        )
        # the draws the functions read, and the group scales and predictor coefficients:
        # post-stratification draws the effects of group levels the fit never saw from them
        # (capmodel.effects.poststrat)
        hyper = tuple(
            n
            for g in design.groups
            for n in (
                f"{g.name}_sd",
                f"realisation_{g.name}_sd",
                f"{g.name}_predictor_effect",
                f"realisation_{g.name}_predictor_effect",
                f"{g.name}_slope_sd",
            )
            if n in fit.posterior and n not in functions.names
        )
        params = posterior_params(
            fit.posterior,
            functions.names + hyper,
            draws,
            residuals=getattr(fit, "residual_draws", None),
        )
        if units is None:
            units = sample_units(fit.spec, fit.data, design, weights=weights, residual=residual)
        if horizon is not None:
            units = at_horizon(units, design, horizon)
        return cls(
            fit.spec,
            design,
            params,
            units,
            nodes,
            chunk_elements,
            data=fit.data,
            functions=functions,
        )

    @property
    def outcomes(self) -> tuple[str, ...]:
        return (*self.design.realisations, ANY) if self.design.realisations else ()

    @property
    def residual_text(self) -> str:
        if not self.latent:
            return "no latent capability (direct effects only)"
        if self.units.residual == POSTERIOR and self.params.residual is None:
            return (
                "each person's own residual e_i (its posterior given all their responses, "
                f"by adaptive Gauss-Hermite quadrature, {self.n_nodes} nodes)"
            )
        return self.units.residual_text(self.n_nodes)

    def _chunk_size(self) -> int:
        q = (
            self.n_nodes
            if (self.latent and (self.units.residual == INTEGRATED or self.params.residual is None))
            else 1
        )
        r = len(self.design.realisations) + 1
        return max(1, self.chunk_elements // max(1, self.units.n_rows * r * q))

    def predictors(self) -> Iterator[Predictor]:
        """One :class:`Predictor` per block of draws (memory-bounded)."""
        for chunk in self.params.chunks(self._chunk_size()):
            yield self.predictor(chunk, self.units)

    def predictor(self, params: Params, units: Units) -> Predictor:
        """The :class:`Predictor` of ``params``' draws on ``units``."""
        return Predictor(params, units, self.functions, self.n_nodes)

    def weights(self, pred: Predictor) -> np.ndarray:
        """Row weights for the predictor's draws: (N,) or (D, N)."""
        return self.units.row_weights(pred.p.position)
