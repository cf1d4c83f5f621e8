"""Each person's posterior of the capability residual when the fit holds no draws of it.

A fit with ``model.capability_residual = "integrated"`` holds no draws of e_i, nor does a
sampled-residual fit saved without them (the default of ``capmodel.fit``, ``keep_residuals``),
nor one whose kept draws were thinned below the draws an effect uses. Given a draw of
the parameters, person i's residual has posterior p(e | y_i) ~ prod_terms p(term | m_i + e) phi(e)
(indicators and realisations at every wave). It is represented by adaptive Gauss-Hermite
nodes and weights (as in :mod:`capmodel.model.integrated`, here in numpy): averages over the
person's own e_i are then weighted sums over the nodes, per draw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import log_expit

from capmodel.effects.units import EffectsError

if TYPE_CHECKING:
    from capmodel.effects.predict import Predictor


def _log1mexp(a: np.ndarray) -> np.ndarray:
    """log(1 - exp(a)) for a <= 0, stable."""
    with np.errstate(divide="ignore"):
        return np.where(
            a > -0.693,
            np.log(-np.expm1(np.minimum(a, -1e-300))),
            np.log1p(-np.exp(np.minimum(a, 0.0))),
        )


def _cut_table(pred: Predictor) -> np.ndarray:
    """(D, J, Lmax + 1) cutpoints on the documented scale, padded with -inf / +inf."""
    u, p = pred.u, pred.p
    kinds = u.indicator_kinds
    width = max(n for _, _, n in kinds) + 1
    d = p.n_draws
    table = np.full((d, len(kinds), width), np.inf)
    table[:, :, 0] = -np.inf
    b = 0
    for j, (name, kind, n_levels) in enumerate(kinds):
        if kind == "binary":
            assert p.indicator_intercept is not None  # drawn whenever there is a binary one
            table[:, j, 1] = -p.indicator_intercept[:, b]
            b += 1
        else:
            table[:, j, 1:n_levels] = p.cutpoints[name]
    return table


def _log_terms(pred: Predictor, theta: np.ndarray, eta_rows: np.ndarray | None) -> np.ndarray:
    """Sum of the log-probabilities of every response of each person at theta (D, P, Q)."""
    u, p = pred.u, pred.p
    lay = u.layout
    assert lay is not None  # checked by person_posterior_nodes, the caller
    out = np.zeros_like(theta)
    codes = lay.indicator_code  # (P, S, J)
    if codes.shape[2]:
        assert p.loading is not None  # drawn with every latent capability
        cuts = _cut_table(pred)  # (D, J, L + 1)
        obs = codes >= 0
        c = np.where(obs, codes, 0)
        j = np.broadcast_to(np.arange(codes.shape[2]), codes.shape)
        lower = cuts[:, j, c]  # (D, P, S, J)
        upper = cuts[:, j, c + 1]
        x = p.loading[:, None, None, :, None] * theta[:, :, None, None, :]  # (D, P, 1, J, Q)
        # log(sigmoid(upper - x) - sigmoid(lower - x))
        #   = log sigmoid(upper - x) + log sigmoid(x - lower) + log(1 - exp(lower - upper))
        ll = (
            log_expit(upper[..., None] - x)
            + log_expit(x - lower[..., None])
            + _log1mexp(lower - upper)[..., None]
        )
        out += np.sum(np.where(obs[None, ..., None], ll, 0.0), axis=(2, 3))
    y = lay.realisation_y  # (P, S, R)
    if y.shape[2] and eta_rows is not None:
        assert p.rho is not None  # drawn with a latent capability and realisations
        row = np.where(lay.rows_present, lay.row_at, 0)
        eta = eta_rows[:, row]  # (D, P, S, R)
        x = eta[..., None] + p.rho[:, None, None, :, None] * theta[:, :, None, None, :]
        sign = np.where(y == 1, 1.0, -1.0)[None, ..., None]
        ll = log_expit(sign * x)
        out += np.sum(np.where((y >= 0)[None, ..., None], ll, 0.0), axis=(2, 3))
    return out


def person_posterior_nodes(
    pred: Predictor, nodes: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Nodes e (D, P, Q) and log weights (D, P, Q) of each person's residual posterior."""
    u = pred.u
    if u.layout is None or u.person_index is None:
        raise EffectsError(
            "each person's own residual needs the persons' responses: these "
            "units are not the fit's persons; use residual='integrated'"
        )
    x, log_w = nodes
    m = pred.capability_mean(u.supports)  # (D, P) at the observed supports
    eta_rows = None
    if pred.eta_fixed is not None:
        eta_rows = pred.eta_fixed
        if pred.s.direct.size:
            assert pred.p.direct is not None  # drawn with the realisations, as eta_fixed
            eta_rows = eta_rows + np.einsum(
                "drk,nk->dnr", pred.p.direct, u.supports[u.person_of_row][:, pred.s.direct]
            )
    first = _log_terms(pred, m[:, :, None] + x[None, None, :], eta_rows) + log_w
    post = np.exp(first - first.max(axis=2, keepdims=True))
    post /= post.sum(axis=2, keepdims=True)
    mu = np.sum(post * x, axis=2)
    sd = np.sqrt(np.maximum(np.sum(post * x**2, axis=2) - mu**2, 1e-4))
    e = mu[..., None] + sd[..., None] * x  # (D, P, Q)
    log_weight = log_w - 0.5 * e**2 + 0.5 * x**2 + np.log(sd)[..., None]
    return e, _log_terms(pred, m[:, :, None] + e, eta_rows) + log_weight
