"""The 6-month survey: who answers (non-response) and the quota weights that correct for it."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from capmodel.simulate.draws import Effects, expit, linear


def select_respondents(
    rng: np.random.Generator,
    cols: Mapping[str, np.ndarray],
    levels: Mapping[str, tuple[str, ...]],
    effects: Effects,
    n_survey: int,
    offset: np.ndarray | None = None,
    factor: np.ndarray | None = None,
) -> np.ndarray:
    """Indices (sorted) of exactly ``n_survey`` respondents, drawn without replacement with
    probability proportional to the response propensity expit(effects . z + offset), times
    ``factor`` when given (a sampling plan's allocation: oversampling factors, 0 for persons
    who cannot be drawn; capmodel.simulate.plans). The random draws do not depend on
    ``factor``."""
    n = len(next(iter(cols.values())))
    if not 0 < n_survey <= n:
        raise ValueError(f"survey size must be in 1..{n} (the population size), got {n_survey}")
    eta = linear(cols, levels, effects, n) - 3.0
    propensity = expit(eta if offset is None else eta + offset)
    keys = np.log(propensity) + rng.gumbel(size=n)
    if factor is not None:
        eligible = int(np.count_nonzero(factor > 0))
        if n_survey > eligible:
            raise ValueError(
                f"survey size {n_survey} exceeds the {eligible} persons who can be drawn"
            )
        with np.errstate(divide="ignore"):
            keys = keys + np.log(factor)
    chosen = np.argpartition(-keys, n_survey - 1)[:n_survey]
    return np.sort(chosen)


def rake(
    sample: Mapping[str, np.ndarray],
    population: Mapping[str, np.ndarray],
    variables: Sequence[str],
    levels: Mapping[str, Sequence[str]],
    max_iter: int = 200,
    tol: float = 1e-8,
    base: np.ndarray | None = None,
) -> np.ndarray:
    """Raking (iterative proportional fitting) weights: the weighted sample reproduces the
    population's margin of each variable. Returned weights have mean 1 (they sum to n).
    ``base``: the weights raking starts from (a sampling plan's design weights; default 1)."""
    n = len(sample[variables[0]])
    targets = {}
    n_levels = {v: len(levels[v]) for v in variables}
    for v in variables:
        counts = np.bincount(population[v], minlength=n_levels[v]).astype(float)
        present = np.bincount(sample[v], minlength=n_levels[v]) > 0
        empty = [levels[v][int(i)] for i in np.flatnonzero(~present & (counts > 0))]
        if empty:
            warnings.warn(
                f"raking: level(s) {empty} of '{v}' have no respondent; '{v}' is raked on the "
                "levels present (their population shares renormalised)",
                stacklevel=2,
            )
            counts[~present] = 0.0
        targets[v] = counts / counts.sum()
    w = np.ones(n) if base is None else np.asarray(base, dtype=np.float64).copy()
    for _ in range(max_iter):
        worst = 0.0
        for v in variables:
            share = np.bincount(sample[v], weights=w, minlength=n_levels[v]) / w.sum()
            ratio = np.divide(targets[v], share, out=np.ones_like(share), where=share > 0)
            w *= ratio[sample[v]]
            worst = max(worst, float(np.max(np.abs(share - targets[v]))))
        if worst < tol:
            break
    return w * n / w.sum()
