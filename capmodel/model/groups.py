"""Group (operator, region, ...) effects: sum-to-zero, centred or non-centred per group factor.

A group nested in another (region within operator) gets effects that sum to zero WITHIN each
level of its parent: the parent's effect is then the mean of its children and each child's
effect its deviation from it, so the two are separately identified (with effects that sum to
zero only overall, a shift between an operator and its regions is invisible to the data).

The rule for ``parameterisation = "auto"`` (measured in docs/benchmarks.md): a group factor
whose smallest level has at least ``CENTRED_MIN_PERSONS`` persons is centred (the data pin
each effect down, and centred sum-to-zero effects sample far better); otherwise non-centred
(sparse levels put the posterior in the prior's funnel, where non-centring helps).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

CENTRED_MIN_PERSONS = 100


def choose_parameterisation(persons_per_level: np.ndarray, requested: str = "auto") -> str:
    """'centred' or 'noncentred' for a group factor, from the spec's choice or the data."""
    if requested != "auto":
        return requested
    smallest = int(np.min(persons_per_level)) if persons_per_level.size else 0
    return "centred" if smallest >= CENTRED_MIN_PERSONS else "noncentred"


def group_effect(name: str, sigma: Any, dims: str | Sequence[str], parameterisation: str) -> Any:
    """Sum-to-zero effects over the last dim, sd ``sigma`` (broadcast over leading dims)."""
    if parameterisation == "centred":
        return pm.ZeroSumNormal(name, sigma=sigma, dims=dims)
    z = pm.ZeroSumNormal(f"{name}_z", sigma=1.0, dims=dims)
    return pm.Deterministic(name, sigma * z, dims=dims)


def nested_effect(name: str, sigma: Any, dims: str | Sequence[str], parameterisation: str,
                  parent_of_level: np.ndarray, batch: int | None = None) -> Any:
    """Effects over the last dim that sum to zero within each parent level.

    One ZeroSumNormal per parent level with two or more children (centred: sd ``sigma``;
    non-centred: sd 1, scaled by ``sigma``); a lone child's effect is 0.
    """
    n = parent_of_level.size
    shape_of = (lambda k: (batch, k)) if batch is not None else (lambda k: (k,))
    parts, order = [], []
    for i, p in enumerate(np.unique(parent_of_level)):
        members = np.flatnonzero(parent_of_level == p)
        if members.size < 2:
            parts.append(pt.zeros(shape_of(1)))
        elif parameterisation == "centred":
            parts.append(pm.ZeroSumNormal(f"{name}__within{i}", sigma=sigma, shape=shape_of(
                members.size)))
        else:
            z = pm.ZeroSumNormal(f"{name}_z__within{i}", sigma=1.0, shape=shape_of(members.size))
            parts.append(sigma * z)
        order.append(members)
    stacked = pt.concatenate(parts, axis=-1)
    inverse = np.argsort(np.concatenate(order))
    return pm.Deterministic(name, stacked[..., inverse], dims=dims) if n else stacked
