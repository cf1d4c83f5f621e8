"""Prior families a spec may name, and the default prior of every parameter group."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from capmodel.spec.errors import SpecError

# family -> (parameters in order, positive support?)
FAMILIES: dict[str, tuple[tuple[str, ...], bool]] = {
    "normal": (("mu", "sigma"), False),
    "student_t": (("nu", "mu", "sigma"), False),
    "halfnormal": (("sigma",), True),
    "halfstudent_t": (("nu", "sigma"), True),
    "exponential": (("lam",), True),
    "gamma": (("alpha", "beta"), True),
    "lognormal": (("mu", "sigma"), True),
}


@dataclass(frozen=True)
class Prior:
    """A prior family with its parameters, e.g. ``Prior("normal", {"mu": 0, "sigma": 1})``."""

    family: str
    params: tuple[tuple[str, float], ...]

    def kwargs(self) -> dict[str, float]:
        return dict(self.params)

    def to_dict(self) -> dict[str, Any]:
        return {"dist": self.family, **self.kwargs()}

    def text(self) -> str:
        return f"{self.family}({', '.join(f'{k}={v:g}' for k, v in self.params)})"


def prior(family: str, **params: float) -> Prior:
    return Prior(family, tuple(params.items()))


# parameter group -> (default prior, must the support be positive?)
DEFAULT_PRIORS: dict[str, tuple[Prior, bool]] = {
    "support_effect": (prior("normal", mu=0.0, sigma=1.0), False),
    "conversion": (prior("normal", mu=0.0, sigma=0.5), False),
    "capability_covariate": (prior("normal", mu=0.0, sigma=1.0), False),
    "loading": (prior("halfnormal", sigma=2.0), True),
    "indicator_intercept": (prior("normal", mu=0.0, sigma=2.5), False),
    "cutpoints": (prior("normal", mu=0.0, sigma=1.5), False),
    "realisation_intercept": (prior("normal", mu=-1.0, sigma=2.5), False),
    "capability_loading": (prior("normal", mu=0.0, sigma=1.0), False),
    "direct_effect": (prior("normal", mu=0.0, sigma=1.0), False),
    "realisation_covariate": (prior("normal", mu=0.0, sigma=1.0), False),
    # positive: realisations are cumulative, P(by t) grows with t (docs/models.md)
    "time_effect": (prior("halfnormal", sigma=1.0), True),
    # zero-avoiding with thin tails: with few levels (4 operator types) the data cannot tell an
    # sd of 0.02 from 0.2, and NUTS diverges in the funnel's neck near 0 (centred effects) and
    # at its wide end near 1 (non-centred); median 0.2, 90% in 0.075-0.54 (docs/models.md §3)
    "group_sd": (prior("lognormal", mu=math.log(0.2), sigma=0.6), True),
    "slope_sd": (prior("halfnormal", sigma=0.3), True),
    # a group-level predictor's effect, per sd of the predictor over the group's levels
    "group_predictor": (prior("normal", mu=0.0, sigma=0.5), False),
    # capability that changes between waves: growth per unit of log(months / 6), its intercept
    # (on the centred scale while sampling) and each support's part (docs/models.md §1)
    "capability_growth_intercept": (prior("normal", mu=0.0, sigma=0.5), False),
    "capability_growth_support": (prior("normal", mu=0.0, sigma=0.5), False),
}


def parse_prior(name: str, value: Any) -> Prior:
    """Read ``{dist = "normal", mu = 0, sigma = 1}`` for parameter group ``name``."""
    where = f"priors.{name}"
    if name not in DEFAULT_PRIORS:
        raise SpecError(f"{where}: unknown parameter group; allowed: {sorted(DEFAULT_PRIORS)}")
    if not isinstance(value, dict) or "dist" not in value:
        raise SpecError(
            f'{where}: expected a table like {{dist = "normal", mu = 0, sigma = 1}}, got {value!r}'
        )
    family = value["dist"]
    if family not in FAMILIES:
        raise SpecError(
            f"{where}.dist = {family!r} is not allowed; expected one of {sorted(FAMILIES)}"
        )
    names, positive = FAMILIES[family]
    if DEFAULT_PRIORS[name][1] and not positive:
        allowed = sorted(f for f, (_, pos) in FAMILIES.items() if pos)
        raise SpecError(f"{where}: this parameter is positive; dist must be one of {allowed}")
    given = {k: v for k, v in value.items() if k != "dist"}
    if set(given) != set(names):
        raise SpecError(
            f"{where}: dist {family!r} takes parameters {list(names)}, got {sorted(given)}"
        )
    params = []
    for k in names:
        v = given[k]
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise SpecError(f"{where}.{k} must be a number, got {v!r}")
        if k != "mu" and v <= 0:
            raise SpecError(f"{where}.{k} must be > 0, got {v}")
        params.append((k, float(v)))
    return Prior(family, tuple(params))
