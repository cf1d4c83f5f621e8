"""Each person's likelihood with the capability residual integrated out (Gauss-Hermite).

Given the parameters, a person's responses (indicators, and realisations at every wave) are
independent given capability theta_i = m_i + e_i with e_i ~ N(0, 1), so

    p(y_i) = integral  prod_terms p(term | m_i + e)  phi(e) de
           ~= sum_q w_q prod_terms p(term | m_i + x_q)

with the probabilists' Gauss-Hermite nodes x_q and weights w_q (normalised to sum to 1).
This is the marginal-likelihood route of Mplus and lme4's ``nAGQ`` for categorical latent
variables: NUTS then samples the ~100 model parameters instead of one residual per person,
which removes the loading-residual correlations that made the sampled-residual model mix
slowly (docs/benchmarks.md), and yields exact per-person log-likelihoods for LOO.

Every response is a cumulative-logit term: an indicator with levels 0..L-1 has
P(y = l | theta) = sigmoid(c_{l+1} - lambda theta) - sigmoid(c_l - lambda theta), with c_0 = -BIG
and c_L = +BIG; a binary indicator is the case L = 2 with c_1 = -nu (logit P(y = 1) = nu +
lambda theta). Missing responses are masked, never dropped with their person.

With capability that changes between waves, a wave-level indicator answered at wave w
measures theta_i + log(w / 6) g_i: the shift log(w / 6) g_i is the same at every node (the
residual is the person-level one), so it enters each such answer as lambda log(w / 6) g_i
added to lambda theta (``PersonLayout.indicator_time``); realisations read theta_i.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytensor.tensor as pt

DEFAULT_NODES = 15
# Stands in for +-infinity in the padded cutpoint table: sigmoid(BIG - x) = 1 to within e^-70
# for |x| < 30. Larger values overflow exp() in the unused branch of JAX's softplus, and the
# gradient of a jnp.where with an infinite branch is NaN (seen with BIG = 1e3).
BIG = 100.0


def _log_sigmoid(x: pt.TensorVariable) -> pt.TensorVariable:
    return -pt.softplus(-x)


def gauss_hermite(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and log weights for E[f(e)], e ~ N(0, 1)."""
    if n_nodes < 1:
        raise ValueError(f"quadrature nodes must be >= 1, got {n_nodes}")
    x, w = np.polynomial.hermite_e.hermegauss(n_nodes)
    return x, np.log(w / w.sum())


@dataclass(frozen=True)
class PersonLayout:
    """Responses laid out per person: row ``row_at[p, s]`` is person p's s-th row (-1: none)."""

    row_at: np.ndarray  # (P, S)
    indicator_code: np.ndarray  # (P, S, J) level code, -1 missing
    realisation_y: np.ndarray  # (P, S, R) 0/1, -1 missing
    # (P, S, J) log(months / 6) of each answer of an indicator that measures capability at its
    # wave (0 for the others and for missing answers); None: capability is the same at each wave
    indicator_time: np.ndarray | None = None

    @property
    def rows_present(self) -> np.ndarray:
        return self.row_at >= 0


def person_layout(
    person_of_row: np.ndarray,
    n_persons: int,
    indicators: list[tuple[np.ndarray, np.ndarray]],
    realisation_y: np.ndarray,
    row_time: np.ndarray | None = None,
    indicator_changes: np.ndarray | None = None,
) -> PersonLayout:
    """Dense per-person arrays from row-level responses.

    ``indicators``: for each indicator, (rows with an observed value, their level codes).
    ``realisation_y``: (N, R) with -1 for missing (R may be 0). ``row_time``: (N,)
    log(months / 6) of each row when capability changes between waves, and
    ``indicator_changes``: (J,) 1 for the indicators that measure it at their wave (default:
    all), 0 for those that measure the person-level capability.
    """
    n_rows = person_of_row.size
    order = np.argsort(person_of_row, kind="stable")
    counts = np.bincount(person_of_row, minlength=n_persons)
    starts = np.cumsum(counts) - counts
    slot = np.empty(n_rows, dtype=np.int64)
    slot[order] = np.arange(n_rows) - starts[person_of_row[order]]
    n_slots = int(counts.max()) if n_rows else 0
    row_at = np.full((n_persons, n_slots), -1, dtype=np.int64)
    row_at[person_of_row, slot] = np.arange(n_rows)
    codes = np.full((n_persons, n_slots, len(indicators)), -1, dtype=np.int64)
    for j, (rows, values) in enumerate(indicators):
        codes[person_of_row[rows], slot[rows], j] = values
    real = np.full((n_persons, n_slots, realisation_y.shape[1]), -1, dtype=np.int64)
    real[person_of_row, slot] = realisation_y
    time = None
    if row_time is not None:
        changes = np.ones(len(indicators)) if indicator_changes is None else indicator_changes
        time = np.zeros((n_persons, n_slots, len(indicators)))
        for j, (rows, _) in enumerate(indicators):
            time[person_of_row[rows], slot[rows], j] = row_time[rows] * changes[j]
    return PersonLayout(row_at, codes, real, time)


def person_loglik(
    layout: PersonLayout,
    theta_c: pt.TensorVariable | None,
    n_nodes: int,
    *,
    data: Callable[[str, np.ndarray], Any] = lambda name, x: x,
    loading: pt.TensorVariable | None = None,
    cut_table: pt.TensorVariable | None = None,
    realisation_eta: pt.TensorVariable | None = None,
    capability_loading: pt.TensorVariable | None = None,
    capability_growth: pt.TensorVariable | None = None,
) -> pt.TensorVariable:
    """log p(y_i | parameters) for every person; shape (P,).

    ``theta_c``: (P,) capability. With ``n_nodes >= 1`` it is capability without its residual,
    and the residual is integrated out (adaptive Gauss-Hermite); with ``n_nodes = 0`` it is
    capability itself (a sampled residual included) and the responses are evaluated at it;
    ``None`` for a model with no latent capability. ``cut_table``: (J, Lmax + 1) padded
    cutpoints (see module doc). ``realisation_eta``: (N, R) realisation predictors without the
    capability term; ``capability_loading``: (R,). ``capability_growth``: (P,) growth of
    capability per unit of log(months / 6) when it changes between waves (the layout's
    ``indicator_time``). ``data(name, array)`` wraps each layout array (e.g. as ``pm.Data``).
    """
    terms = response_terms(
        layout, data, loading, cut_table, realisation_eta, capability_loading, capability_growth
    )
    if theta_c is None:
        return terms(None)[:, 0]
    if n_nodes == 0:
        return terms(theta_c[:, None])[:, 0]
    e, log_post = residual_posterior(terms, theta_c, n_nodes)
    return pt.logsumexp(log_post, axis=1)


def residual_posterior(
    terms: Callable[[Any], Any], theta_c: Any, n_nodes: int
) -> tuple[pt.TensorVariable, pt.TensorVariable]:
    """Each person's posterior of the capability residual, by adaptive Gauss-Hermite nodes.

    ``terms``: theta (P, Q) -> log p(responses | theta) (:func:`response_terms`); ``theta_c``:
    (P,) capability without its residual. Returns the nodes e (P, Q) and the log of
    p(responses | theta_c + e) phi(e) times each node's weight (P, Q): their logsumexp over the
    nodes is the person's marginal log-likelihood, and normalised over the nodes they are the
    weights of an average over the person's residual posterior.
    """
    nodes, log_w = gauss_hermite(n_nodes)
    # pass 1: nodes of N(0, 1); pass 2: the same rule moved to each person's posterior mean
    # and sd of the residual estimated from pass 1 (adaptive Gauss-Hermite, as lme4's nAGQ)
    first = terms(theta_c[..., None] + nodes) + log_w
    post = pt.special.softmax(first, axis=-1)
    mu = pt.sum(post * nodes, axis=-1)
    sd = pt.sqrt(pt.maximum(pt.sum(post * nodes**2, axis=-1) - mu**2, 1e-4))
    e = mu[..., None] + sd[..., None] * nodes  # (P, Q)
    log_weight = log_w - 0.5 * e**2 + 0.5 * nodes**2 + pt.log(sd)[..., None]
    return e, terms(theta_c[..., None] + e) + log_weight


def _one_hot(codes: np.ndarray, width: int) -> np.ndarray:
    """codes (...) -> (..., width) float indicator array (a row of zeros where code < 0)."""
    return (codes[..., None] == np.arange(width)).astype(float)


def response_terms(
    layout: PersonLayout,
    data: Callable[[str, np.ndarray], Any],
    loading: Any,
    cut_table: Any,
    realisation_eta: Any,
    capability_loading: Any,
    capability_growth: Any = None,
) -> Callable[[Any], Any]:
    """theta (P, Q) -> sum of every response's log-probability at each node, (P, Q).

    ``capability_growth``: (P,) growth of capability between waves, or None (see the module
    doc); it needs the layout's ``indicator_time``.

    Written for speed on every backend (numba, C, JAX): responses are dense person x slot
    arrays with masks, and level look-ups are products with one-hot arrays, not gathers (the
    gradient of a gather is a scatter-add, slow on XLA's CPU backend; docs/benchmarks.md).
    """
    codes = layout.indicator_code
    y = layout.realisation_y
    n_persons, n_slots = layout.row_at.shape
    if codes.shape[2]:
        observed = codes >= 0
        # columns of the cutpoint table that any answer reaches (level codes 0..max, +1)
        width = int(codes.max()) + 2
        table = cut_table[:, :width]
        lower_of = data("indicator_lower", _one_hot(np.where(observed, codes, -1), width))
        upper_of = data("indicator_upper", _one_hot(np.where(observed, codes + 1, -1), width))
        lower = pt.sum(lower_of * table, axis=-1)  # (P, S, J)
        upper = pt.sum(upper_of * table, axis=-1)
        # unanswered entries have lower = upper = 0: shift them to -1 (kept finite, then masked)
        mask = data("indicator_observed", observed.astype(float))
        gap = pt.log1mexp(lower - upper - (1.0 - mask))[..., None]
        indicator_mask = mask[..., None]
        change = None  # (P, S, J): the shift log(w / 6) g_i of each answer's capability
        if capability_growth is not None:
            if layout.indicator_time is None:
                raise ValueError("capability growth needs the layout's indicator_time")
            time = data("indicator_time", layout.indicator_time)
            change = time * capability_growth[:, None, None]
    if y.shape[2]:
        rows = layout.row_at
        if rows.min() >= 0 and np.array_equal(rows.ravel(), np.arange(rows.size)):
            eta = realisation_eta.reshape((n_persons, n_slots, y.shape[2]))[..., None]
        else:  # rows not in person x slot order, or persons with fewer slots
            row = data("realisation_row_at", np.where(layout.rows_present, rows, 0))
            eta = realisation_eta[row][..., None]  # (P, S, R, 1)
        sign = data("realisation_sign", np.where(y == 1, 1.0, -1.0))[..., None]
        realisation_mask = data("realisation_observed", (y >= 0).astype(float))[..., None]

    def total(theta: pt.TensorVariable | None) -> pt.TensorVariable:
        out = pt.zeros((n_persons, 1)) if theta is None else pt.zeros_like(theta)
        if codes.shape[2] and theta is not None:
            capability = theta[:, None, None, :]  # (P, 1, 1, Q), or (P, S, J, Q) below
            if change is not None:
                capability = capability + change[..., None]
            x = loading[None, None, :, None] * capability  # (P, S, J, Q)
            ll = _log_sigmoid(upper[..., None] - x) + _log_sigmoid(x - lower[..., None]) + gap
            out = out + pt.sum(ll * indicator_mask, axis=(1, 2))
        if y.shape[2]:
            x = eta
            if theta is not None:
                x = x + capability_loading[None, None, :, None] * theta[:, None, None, :]
            out = out + pt.sum(_log_sigmoid(sign * x) * realisation_mask, axis=(1, 2))
        return out

    return total
