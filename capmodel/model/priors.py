"""Render a spec's priors (:class:`capmodel.spec.priors.Prior`, plain data) as PyMC random
variables: the one place where a prior family becomes a distribution."""

from __future__ import annotations

from typing import Any

import pymc as pm

from capmodel.spec.priors import Prior

DISTRIBUTIONS: dict[str, type[pm.Distribution]] = {
    "normal": pm.Normal,
    "student_t": pm.StudentT,
    "halfnormal": pm.HalfNormal,
    "halfstudent_t": pm.HalfStudentT,
    "exponential": pm.Exponential,
    "gamma": pm.Gamma,
    "lognormal": pm.LogNormal,
}


def prior_rv(prior: Prior, name: str, **kw: Any) -> Any:
    """The PyMC random variable ``name`` with ``prior`` (inside a model context); ``kw`` are
    passed on (dims, shape, transform, initval)."""
    return DISTRIBUTIONS[prior.family](name, **prior.kwargs(), **kw)
