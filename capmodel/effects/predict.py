"""Capability and realisation probabilities of units under interventions, per posterior draw.

For a block of draws (``Params``) and units (``Units``):

    m_i(s)      = sum_k s_k beta_k + sum_t gamma_t s_k(t) z_it + delta . x_i + sum_g a_g[g_i]
                  (+ varying slopes sum_k s_k u_gk[g_i])
    theta_i(s)  = m_i(s) + e_i
    logit pi_r  = alpha_r + rho_r theta_i(s_cap) + eta_r . s_direct + zeta_r . x_row
                  + sum_g b_rg[g_row] + tau_r log(months / 6)

on the documented (uncentred) scale (see :mod:`capmodel.effects.params`). The residual e_i is
either each person's posterior draw (one node, weight 1) or integrated over N(0, 1) by
Gauss-Hermite quadrature (Q nodes). ``any_realisation`` = 1 - prod_r (1 - pi_r), computed at each
node (realisations are independent given capability) before averaging over nodes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.special import expit

from capmodel.effects.params import Params, posterior_params
from capmodel.effects.residuals import person_posterior_nodes
from capmodel.effects.units import INTEGRATED, POSTERIOR, EffectsError, Units, sample_units
from capmodel.model.design import Design
from capmodel.model.integrated import gauss_hermite
from capmodel.spec import Spec

ANY = "any_realisation"
CHUNK_ELEMENTS = 3_000_000  # floats per (draws x rows x outcomes x nodes) block
DEFAULT_NODES = 15  # Gauss-Hermite nodes over the capability residual


@dataclass(frozen=True)
class Structure:
    """Where each parameter's support sits among the units' support columns."""

    capability: np.ndarray  # (K,) column of each capability support
    direct: np.ndarray  # (K',) column of each direct-effect support
    conversion: np.ndarray  # (T,) column of the support of each conversion term
    slopes: tuple[tuple[str, np.ndarray], ...]  # (group, columns of its slope supports)

    @classmethod
    def of(cls, spec: Spec, design: Design, names: Sequence[str]) -> Structure:
        col = {k: i for i, k in enumerate(names)}
        cap = np.array([col[k] for k in design.supports], dtype=np.int64)
        return cls(
            cap,
            np.array([col[k] for k in design.direct_supports], dtype=np.int64),
            cap[design.conversion_support]
            if len(design.conversion_terms)
            else np.zeros(0, dtype=np.int64),
            tuple(
                (g, np.array([col[k] for k in ks], dtype=np.int64)) for g, ks in spec.varying_slopes
            ),
        )


class Predictor:
    """Predictions for one block of draws; the intervention-free parts are computed once."""

    def __init__(
        self,
        p: Params,
        units: Units,
        structure: Structure,
        latent: bool,
        nodes: tuple[np.ndarray, np.ndarray] | None = None,
    ):
        self.p, self.u, self.s, self.latent = p, units, structure, latent
        u = units
        self.m_fixed = None
        if latent:
            m = p.capability_covariate @ u.capability_x.T if u.capability_x.shape[1] else 0.0
            m = np.zeros((p.n_draws, u.n_persons)) + m
            for g, a in p.capability_groups.items():
                m += a[:, u.capability_codes[g]]
            self.m_fixed = m
        self.eta_fixed = None
        if p.alpha is not None:
            eta = np.broadcast_to(
                p.alpha[:, None, :], (p.n_draws, u.n_rows, p.alpha.shape[1])
            ).copy()
            if u.realisation_x.shape[1]:
                assert p.zeta is not None  # drawn with the realisations, as alpha
                eta += np.einsum("drc,nc->dnr", p.zeta, u.realisation_x)
            if p.tau is not None and u.log_time is not None:
                eta += p.tau[:, None, :] * u.log_time[None, :, None]
            for g, b in p.realisation_groups.items():
                eta += np.transpose(b[:, :, u.realisation_codes[g]], (0, 2, 1))
            self.eta_fixed = eta
        self.e, self.log_w = self._residual_nodes(nodes)

    # ------------------------------------------------------------------ capability
    def support_part(self, supports: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
        """The support-dependent part of m, (D, P); ``z`` replaces the units' conversion
        factors (P, T)."""
        p, s, u = self.p, self.s, self.u
        z = u.conversion_z if z is None else z
        out = p.beta @ supports[:, s.capability].T
        if s.conversion.size:
            out = out + p.conversion @ (supports[:, s.conversion] * z).T
        for g, cols in s.slopes:
            slope = p.slopes[g][:, :, u.capability_codes[g]]  # (D, Ks, P)
            out = out + np.einsum("dkp,pk->dp", slope, supports[:, cols])
        return out

    def capability_mean(self, supports: np.ndarray) -> np.ndarray:
        """m(s) per draw and person, (D, P) (capability without its residual)."""
        if not self.latent:
            raise EffectsError("this model has no latent capability")
        return self.m_fixed + self.support_part(supports)

    # ---------------------------------------------------------------- realisations
    def _residual_nodes(self, nodes):
        if not self.latent:
            return np.zeros((1, 1, 1)), np.zeros((1, 1, 1))
        if self.u.residual == INTEGRATED:
            x, log_w = nodes
            return x[None, None, :], log_w[None, None, :]
        if self.p.residual is not None:
            return self.p.residual[:, self.u.person_index][:, :, None], np.zeros((1, 1, 1))
        return person_posterior_nodes(self, nodes)

    def linear(self, direct: np.ndarray, capability: np.ndarray | None = None) -> np.ndarray:
        """Realisation linear predictors without the residual term, (D, N, R); ``direct`` and
        ``capability`` are the (P, K) supports entering the direct and capability parts."""
        if self.eta_fixed is None:
            raise EffectsError("this model has no realisations")
        rows = self.u.person_of_row
        eta = self.eta_fixed
        if self.s.direct.size:
            assert self.p.direct is not None  # drawn with the realisations, as eta_fixed
            eta = eta + np.einsum("drk,nk->dnr", self.p.direct, direct[rows][:, self.s.direct])
        if self.latent:
            assert self.p.rho is not None  # drawn with a latent capability and realisations
            m = self.capability_mean(direct if capability is None else capability)
            if eta is self.eta_fixed:
                eta = eta.copy()
            eta += self.p.rho[:, None, :] * m[:, rows][:, :, None]
        return eta

    def node_probabilities(
        self, direct: np.ndarray, capability: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """pi_r at every residual node, (D, N, R, Q), and the normalised node weights
        (D or 1, N or 1, Q)."""
        eta = self.linear(direct, capability)[..., None]
        rows = self.u.person_of_row
        if self.latent:
            assert self.p.rho is not None  # drawn with a latent capability and realisations
            e = self.e[:, rows] if self.e.shape[1] > 1 else self.e
            if e.shape[-1] == 1:  # one residual per person: add it in place
                if eta.base is self.eta_fixed:
                    eta = eta.copy()
                eta += self.p.rho[:, None, :, None] * e[:, :, None, :]
                return expit(eta, out=eta), np.ones((1, 1, 1))
            eta = eta + self.p.rho[:, None, :, None] * e[:, :, None, :]
        w = np.exp(self.log_w - self.log_w.max(axis=-1, keepdims=True))
        w = w / w.sum(axis=-1, keepdims=True)
        if w.shape[1] > 1:
            w = w[:, rows]
        return expit(eta), w

    def probabilities(self, direct: np.ndarray, capability: np.ndarray | None = None) -> np.ndarray:
        """E over the residual of pi_r, and of any realisation, (D, N, R + 1)."""
        pr, w = self.node_probabilities(direct, capability)
        anyr = 1.0 - np.prod(1.0 - pr, axis=2, keepdims=True)
        full = np.concatenate([pr, anyr], axis=2)
        if full.shape[3] == 1:  # one residual per person and draw: nothing to average
            return np.ascontiguousarray(full[..., 0])
        return np.einsum(
            "dnrq,dnq->dnr", full, np.broadcast_to(w, (full.shape[0], full.shape[1], w.shape[2]))
        )


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
    ):
        self.spec, self.design, self.params, self.units = spec, design, params, units
        self.data = data  # the encoded data of the fit (post-stratification needs it)
        self.n_nodes = nodes
        self.nodes = gauss_hermite(nodes)
        self.chunk_elements = chunk_elements
        self.structure = Structure.of(spec, design, units.support_names)
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
    ) -> EffectModel:
        """From a :class:`capmodel.Fit`: its spec, design, ``draws`` thinned draws and units
        (default: the survey sample, ``weights`` 'none' or 'survey')."""
        design = fit.design
        params = posterior_params(
            fit.posterior, fit.spec, design, draws, residuals=getattr(fit, "residual_draws", None)
        )
        if units is None:
            units = sample_units(fit.spec, fit.data, design, weights=weights, residual=residual)
        return cls(fit.spec, design, params, units, nodes, chunk_elements, data=fit.data)

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
            yield Predictor(chunk, self.units, self.structure, self.latent, self.nodes)

    def weights(self, pred: Predictor) -> np.ndarray:
        """Row weights for the predictor's draws: (N,) or (D, N)."""
        return self.units.row_weights(pred.p.position)
