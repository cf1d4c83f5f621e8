"""Vectorised draws used by the simulator: logistic, categorical, ordinal, linear predictors."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

Columns = Mapping[str, np.ndarray]
Levels = Mapping[str, tuple[str, ...]]
# The effect of a column on a linear predictor: a number (multiplies a binary/numeric column) or,
# for a categorical column, level -> effect (absent levels have effect 0)
Effect = float | dict[str, float]
Effects = Mapping[str, Effect]


def expit(x: np.ndarray) -> np.ndarray:
    """Logistic function, numerically safe for large |x|."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))


def linear(cols: Columns, levels: Levels, effects: Effects, n: int) -> np.ndarray:
    """Sum of effects over columns.

    ``effects`` maps a column name to either a number (multiplies a binary/numeric column)
    or a mapping level -> effect (categorical column; absent levels have effect 0).
    """
    eta = np.zeros(n)
    for col, eff in effects.items():
        x = cols[col]
        if isinstance(eff, Mapping):
            table = np.zeros(len(levels[col]))
            for level, value in eff.items():
                table[levels[col].index(level)] = value
            eta += table[x]
        else:
            eta += float(eff) * x
    return eta


def bernoulli(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """0/1 draws (int8) with success probabilities ``p``."""
    return (rng.random(p.shape) < p).astype(np.int8)


def categorical(rng: np.random.Generator, logits: np.ndarray) -> np.ndarray:
    """Codes drawn from softmax(logits) row-wise (Gumbel-max trick); logits shape (n, K)."""
    g = rng.gumbel(size=logits.shape)
    return np.argmax(logits + g, axis=1).astype(np.int16)


def ordinal(rng: np.random.Generator, eta: np.ndarray, cutpoints: np.ndarray) -> np.ndarray:
    """Codes 0..L-1 from the cumulative-logit model, via one uniform per row."""
    cum = expit(np.asarray(cutpoints)[None, :] - eta[:, None])
    u = rng.random(eta.size)
    return (u[:, None] > cum).sum(axis=1).astype(np.int16)
