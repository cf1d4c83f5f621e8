"""Causal effects from a fitted capability model (docs/effects.md).

>>> import capmodel, capmodel.effects as fx                          # doctest: +SKIP
>>> f = capmodel.load_fit("fits/NAME")                               # doctest: +SKIP
>>> fx.total_effects(f, by=["qualification"]).table                  # doctest: +SKIP

Every function takes a :class:`capmodel.Fit` (with ``draws``, ``weights``, ``residual`` options)
or an :class:`EffectModel` (to reuse the extracted draws) and returns an :class:`EffectResult`:
a tidy ``table``, the ``draws`` (xarray) and ``notes`` saying which population and which
residual rule were used.
"""

from __future__ import annotations

from typing import Any

# The submodules attribution, conversion, mediation and pathways are named like the functions
# below: importing them first (here) makes the package attributes the functions, which are
# defined after the imports.
from capmodel.effects import attribution as _attribution
from capmodel.effects import conversion as _conversion
from capmodel.effects import mediation as _mediation
from capmodel.effects import pathways as _pathways
from capmodel.effects import poststrat as _poststrat
from capmodel.effects import total as _total
from capmodel.effects.interventions import Intervention, parse_intervention
from capmodel.effects.predict import ANY, EffectModel
from capmodel.effects.tables import EffectResult
from capmodel.effects.units import INTEGRATED, POSTERIOR, EffectsError, Units

__all__ = [
    "ANY",
    "INTEGRATED",
    "POSTERIOR",
    "EffectModel",
    "EffectResult",
    "EffectsError",
    "Intervention",
    "Units",
    "attribution",
    "conversion",
    "effect_model",
    "mediation",
    "parse_intervention",
    "pathways",
    "poststratify",
    "predict",
    "total_effects",
]


def effect_model(
    fit_or_model: Any,
    draws: int | None = None,
    weights: str = "none",
    residual: str = POSTERIOR,
    nodes: int = 15,
    units: Units | None = None,
) -> EffectModel:
    """An :class:`EffectModel` from a fit (or the model itself, returned unchanged)."""
    if isinstance(fit_or_model, EffectModel):
        return fit_or_model
    return EffectModel.from_fit(
        fit_or_model, draws=draws, weights=weights, residual=residual, nodes=nodes, units=units
    )


def _split(kw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = ("draws", "weights", "residual", "nodes", "units")
    return {k: kw.pop(k) for k in keys if k in kw}, kw


def predict(fit: Any, interventions: Any = ("observed", "none"), **kw: Any) -> EffectResult:
    """Predicted realisation shares under each intervention (capmodel.effects.total)."""
    m, rest = _split(kw)
    if isinstance(interventions, str):
        interventions = [interventions]
    return _total.predict(effect_model(fit, **m), interventions, **rest)


def total_effects(fit: Any, **kw: Any) -> EffectResult:
    """Total effects: differences and ratios (capmodel.effects.total)."""
    m, rest = _split(kw)
    return _total.total_effects(effect_model(fit, **m), **rest)


def mediation(fit: Any, **kw: Any) -> EffectResult:
    """Natural direct and indirect effects through capability (capmodel.effects.mediation)."""
    m, rest = _split(kw)
    return _mediation.mediation(effect_model(fit, **m), **rest)


def conversion(fit: Any, **kw: Any) -> EffectResult:
    """Conversion of supports into capability by factor level (capmodel.effects.conversion)."""
    m, rest = _split(kw)
    return _conversion.conversion(effect_model(fit, **m), **rest)


def attribution(fit: Any, **kw: Any) -> EffectResult:
    """Probability of necessity among changers (capmodel.effects.attribution)."""
    m, rest = _split(kw)
    return _attribution.attribution(effect_model(fit, **m), **rest)


def pathways(fit: Any, **kw: Any) -> EffectResult:
    """The five pathway types (capmodel.effects.pathways)."""
    m, rest = _split(kw)
    return _pathways.pathways(effect_model(fit, **m), **rest)


def poststratify(fit: Any, population: Any, **kw: Any) -> EffectResult:
    """Post-stratified (MRP) population shares (capmodel.effects.poststrat)."""
    m, rest = _split(kw)
    return _poststrat.poststratify(effect_model(fit, **m), population, **rest)
