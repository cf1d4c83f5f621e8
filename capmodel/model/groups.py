"""Group (operator, region, ...) effects: sum-to-zero, centred or non-centred per group factor.

A group nested in another (region within operator) gets effects that sum to zero WITHIN each
level of its parent: the parent's effect is then the mean of its children and each child's
effect its deviation from it, so the two are separately identified (with effects that sum to
zero only overall, a shift between an operator and its regions is invisible to the data).

The rule for ``parameterisation = "auto"`` (docs/models.md §3, measured in
docs/benchmarks.md) is decided per group factor *and per equation*, from how much the data
say about the least informed level: centred when that is at least ``CENTRED_MIN_INFORMATION``
(the data pin each effect down, and centred sum-to-zero effects sample far better), otherwise
non-centred (the posterior of a poorly informed level stays close to its prior: a funnel,
which non-centring removes). A level's information is

- in the capability equation, its number of persons (each answers the capability items);
- in the realisation equations, the smallest count, over the realisations, of its rare side:
  min(events, non-events) among its observed rows. A binary outcome says little about a
  level where it (or its absence) is rare: 400 persons with 12 business creations inform
  a level's business-creation effect about as much as 12 persons inform a capability effect.

Why 1,000: centring pays when the data's precision about a level's effect is far above the
prior's, n / (residual variance) >> 1 / sd^2. Group sds are about 0.1-0.2 on the capability and
logit scales, so n sd^2 >> 1 needs n in the thousands. With 100 (the previous threshold) the
reference fits that centred an operator type of about 110 respondents had 19 and 143
divergences (seeds 2 and 5), the non-centred ones 0-13 (docs/benchmarks.md, "seeds 1-5").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

CENTRED_MIN_INFORMATION = 1000


def choose_parameterisation(information_per_level: np.ndarray, requested: str = "auto") -> str:
    """'centred' or 'noncentred' for one group factor in one equation, from the spec's choice
    or the data (``information_per_level``: see the module doc)."""
    if requested != "auto":
        return requested
    smallest = int(np.min(information_per_level)) if information_per_level.size else 0
    return "centred" if smallest >= CENTRED_MIN_INFORMATION else "noncentred"


def rare_side_per_level(level_of_row: np.ndarray, n_levels: int, y: np.ndarray) -> np.ndarray:
    """For each level, the smallest over outcomes of min(events, non-events) among its rows
    with an observed outcome; ``y`` is (rows, outcomes) of 0/1 with -1 for missing."""
    if y.shape[1] == 0:
        return np.zeros(n_levels, dtype=np.int64)
    out = np.full(n_levels, np.iinfo(np.int64).max, dtype=np.int64)
    for r in range(y.shape[1]):
        events = np.bincount(level_of_row, weights=y[:, r] == 1, minlength=n_levels)
        none = np.bincount(level_of_row, weights=y[:, r] == 0, minlength=n_levels)
        out = np.minimum(out, np.minimum(events, none).astype(np.int64))
    return out


def group_effect(name: str, sigma: Any, dims: str | Sequence[str], parameterisation: str) -> Any:
    """Sum-to-zero effects over the last dim, sd ``sigma`` (broadcast over leading dims)."""
    if parameterisation == "centred":
        return pm.ZeroSumNormal(name, sigma=sigma, dims=dims)
    z = pm.ZeroSumNormal(f"{name}_z", sigma=1.0, dims=dims)
    return pm.Deterministic(name, sigma * z, dims=dims)


def nested_effect(
    name: str,
    sigma: Any,
    dims: str | Sequence[str],
    parameterisation: str,
    parent_of_level: np.ndarray,
    batch: int | None = None,
) -> Any:
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
            parts.append(
                pm.ZeroSumNormal(f"{name}__within{i}", sigma=sigma, shape=shape_of(members.size))
            )
        else:
            z = pm.ZeroSumNormal(f"{name}_z__within{i}", sigma=1.0, shape=shape_of(members.size))
            parts.append(sigma * z)
        order.append(members)
    stacked = pt.concatenate(parts, axis=-1)
    inverse = np.argsort(np.concatenate(order))
    return pm.Deterministic(name, stacked[..., inverse], dims=dims) if n else stacked
