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

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

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
from capmodel.effects.pathways import DEFAULT_TAU
from capmodel.effects.poststrat import DEFAULT_OVERLAP, DEFAULT_SEED
from capmodel.effects.predict import ANY, DEFAULT_NODES, EffectModel
from capmodel.effects.tables import EffectResult
from capmodel.effects.units import INTEGRATED, POSTERIOR, EffectsError, Units
from capmodel.model.assignment import DEFAULT_PRIOR_SD

if TYPE_CHECKING:  # annotations only: importing the fitting layer would import PyMC
    from capmodel.fitting.fit import Fit

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

# An intervention: text ("reflection=1", "none", "observed"), a mapping {support: 0/1} or an
# Intervention.
InterventionLike = str | Intervention | Mapping[str, int]


MODEL_OPTIONS_DOC = """
    draws: how many evenly spaced posterior draws (default: all).
    weights: 'none' (every row weighs 1) or 'survey' (the data's weight column).
    residual: 'posterior' (each person's own residual) or 'integrated' (over N(0, 1)).
    nodes: Gauss-Hermite quadrature nodes over the capability residual.
    units: the population (default: the fit's survey sample, by ``weights`` and ``residual``).
    horizon: months since the CEP at which realisations are counted (e.g. 1, 6, 18): each
        person once, at that horizon (default: every row at its own wave); capability that
        changes between waves is evaluated there too (default: at the 6-month reference).
"""


def _model_options_documented[F: Callable[..., Any]](f: F) -> F:
    """Append the shared model options (as :func:`effect_model` takes them) to ``f``'s doc."""
    f.__doc__ = (f.__doc__ or "").rstrip() + "\n" + MODEL_OPTIONS_DOC.strip("\n") + "\n    "
    return f


@_model_options_documented
def effect_model(
    fit_or_model: Fit | EffectModel,
    draws: int | None = None,
    weights: str = "none",
    residual: str = POSTERIOR,
    nodes: int = DEFAULT_NODES,
    units: Units | None = None,
    horizon: int | None = None,
) -> EffectModel:
    """An :class:`EffectModel` from a fit (or the model itself, returned unchanged).

    fit_or_model: a :class:`capmodel.Fit`, or an :class:`EffectModel` (then the rest is ignored).
    """
    if isinstance(fit_or_model, EffectModel):
        return fit_or_model
    return EffectModel.from_fit(
        fit_or_model,
        draws=draws,
        weights=weights,
        residual=residual,
        nodes=nodes,
        units=units,
        horizon=horizon,
    )


@_model_options_documented
def predict(
    fit: Fit | EffectModel,
    interventions: str | Sequence[InterventionLike] = ("observed", "none"),
    *,
    by: Sequence[str] = (),
    draws: int | None = None,
    weights: str = "none",
    residual: str = POSTERIOR,
    nodes: int = DEFAULT_NODES,
    units: Units | None = None,
    horizon: int | None = None,
) -> EffectResult:
    """Predicted realisation shares under each intervention (capmodel.effects.total).

    fit: a :class:`capmodel.Fit`, or an :class:`EffectModel` (then draws ... units are ignored).
    interventions: one intervention or several ('observed', 'none', 'reflection=1', ...).
    by: subgroup variables (each level a subgroup, besides everyone).
    """
    model = effect_model(fit, draws, weights, residual, nodes, units, horizon)
    if isinstance(interventions, str):
        interventions = [interventions]
    return _total.predict(model, interventions, by=by)


@_model_options_documented
def total_effects(
    fit: Fit | EffectModel,
    *,
    contrasts: Sequence[InterventionLike | Sequence[InterventionLike]] | None = None,
    supports: Sequence[str] | None = None,
    cep: bool = True,
    by: Sequence[str] = (),
    draws: int | None = None,
    weights: str = "none",
    residual: str = POSTERIOR,
    nodes: int = DEFAULT_NODES,
    units: Units | None = None,
    horizon: int | None = None,
) -> EffectResult:
    """Total effects: differences and ratios (capmodel.effects.total).

    fit: a :class:`capmodel.Fit`, or an :class:`EffectModel` (then draws ... units are ignored).
    contrasts: (treated, control) pairs, or interventions paired with their complement.
    supports: the supports of the default contrasts, do(k=1) vs do(k=0) (default: all).
    cep: with the default contrasts, also the CEP as received vs no CEP at all.
    by: subgroup variables (each level a subgroup, besides everyone).
    """
    model = effect_model(fit, draws, weights, residual, nodes, units, horizon)
    return _total.total_effects(model, contrasts=contrasts, supports=supports, cep=cep, by=by)


@_model_options_documented
def mediation(
    fit: Fit | EffectModel,
    *,
    supports: Sequence[str] | None = None,
    cep: bool = True,
    by: Sequence[str] = (),
    draws: int | None = None,
    weights: str = "none",
    residual: str = POSTERIOR,
    nodes: int = DEFAULT_NODES,
    units: Units | None = None,
    horizon: int | None = None,
) -> EffectResult:
    """Natural direct and indirect effects through capability (capmodel.effects.mediation).

    fit: a :class:`capmodel.Fit`, or an :class:`EffectModel` (then draws ... units are ignored).
    supports: the supports whose effects are split (default: every capability support).
    cep: also the CEP as a whole (as received vs no CEP at all).
    by: subgroup variables (each level a subgroup, besides everyone).
    """
    model = effect_model(fit, draws, weights, residual, nodes, units, horizon)
    return _mediation.mediation(model, supports=supports, cep=cep, by=by)


@_model_options_documented
def conversion(
    fit: Fit | EffectModel,
    *,
    by: Sequence[str] = (),
    draws: int | None = None,
    weights: str = "none",
    residual: str = POSTERIOR,
    nodes: int = DEFAULT_NODES,
    units: Units | None = None,
    horizon: int | None = None,
) -> EffectResult:
    """Conversion of supports into capability by factor level (capmodel.effects.conversion).

    fit: a :class:`capmodel.Fit`, or an :class:`EffectModel` (then draws ... units are ignored).
    by: subgroup variables (each level a subgroup, besides everyone).
    """
    model = effect_model(fit, draws, weights, residual, nodes, units, horizon)
    return _conversion.conversion(model, by=by)


@_model_options_documented
def attribution(
    fit: Fit | EffectModel,
    *,
    data: pd.DataFrame | str | None = None,
    by: Sequence[str] = (),
    column: str = "attribution",
    draws: int | None = None,
    weights: str = "none",
    residual: str = POSTERIOR,
    nodes: int = DEFAULT_NODES,
    units: Units | None = None,
    horizon: int | None = None,
) -> EffectResult:
    """Probability of necessity among changers (capmodel.effects.attribution).

    fit: a :class:`capmodel.Fit`, or an :class:`EffectModel` (then draws ... units are ignored).
    data: the raw survey table (DataFrame or path), for the self-reported attribution.
    by: subgroup variables (each level a subgroup, besides everyone).
    column: the column of ``data`` with the self-reported attribution (0/1).
    """
    model = effect_model(fit, draws, weights, residual, nodes, units, horizon)
    return _attribution.attribution(model, data=data, by=by, column=column)


@_model_options_documented
def pathways(
    fit: Fit | EffectModel,
    *,
    data: pd.DataFrame | str | None = None,
    tau: float = DEFAULT_TAU,
    by: Sequence[str] = (),
    factors: Sequence[str] | None = None,
    failed_column: str = "decisive_test_failed",
    population: pd.DataFrame | None = None,
    count: str | None = None,
    seed: int = DEFAULT_SEED,
    allow_unseen_groups: bool = False,
    draws: int | None = None,
    weights: str = "none",
    residual: str = POSTERIOR,
    nodes: int = DEFAULT_NODES,
    units: Units | None = None,
    horizon: int | None = None,
) -> EffectResult:
    """The five pathway types (capmodel.effects.pathways).

    fit: a :class:`capmodel.Fit`, or an :class:`EffectModel` (then draws ... units are ignored).
    data: the raw survey table (DataFrame or path), for the failed-decisive-test column.
    tau: the capability gain (residual sd) from which a gain counts as high.
    by: subgroup variables (each level a subgroup, besides everyone).
    factors: the factors of the odds ratios (default: capability and conversion factors).
    failed_column: the column of ``data`` saying a decisive test failed (0/1).
    population: a population table: adds post-stratified shares of types 1-4.
    count: the column of ``population`` with cell counts (default: one row per person).
    seed: seed of the post-stratification's draws of the survey-only variables.
    allow_unseen_groups: group levels of ``population`` the fit never saw get, per draw, their
        group-level predictors' line plus N(0, group sd) (default: an error naming them).
    """
    model = effect_model(fit, draws, weights, residual, nodes, units, horizon)
    return _pathways.pathways(
        model,
        data=data,
        tau=tau,
        by=by,
        factors=factors,
        failed_column=failed_column,
        population=population,
        count=count,
        seed=seed,
        allow_unseen_groups=allow_unseen_groups,
    )


@_model_options_documented
def poststratify(
    fit: Fit | EffectModel,
    population: pd.DataFrame,
    *,
    interventions: Sequence[InterventionLike] = ("observed",),
    by: Sequence[str] = (),
    cell_vars: Sequence[str] | None = None,
    count: str | None = None,
    seed: int = DEFAULT_SEED,
    overlap: float = DEFAULT_OVERLAP,
    wave: int | None = None,
    prior_sd: float = DEFAULT_PRIOR_SD,
    allow_unseen_groups: bool = False,
    draws: int | None = None,
    weights: str = "none",
    residual: str = POSTERIOR,
    nodes: int = DEFAULT_NODES,
    units: Units | None = None,
    horizon: int | None = None,
) -> EffectResult:
    """Post-stratified (MRP) population shares (capmodel.effects.poststrat).

    fit: a :class:`capmodel.Fit`, or an :class:`EffectModel` (then draws ... units are ignored).
    population: the population table, one row per person (or per cell, with ``count``).
    interventions: the interventions ('observed', 'none', 'reflection=1', ...).
    by: subgroup variables, cell variables only (each level a subgroup, besides everyone).
    cell_vars: the cell variables (default: the population's columns the data also have).
    count: the column of ``population`` with cell counts (default: one row per person).
    seed: seed of the draws of the survey-only variables in every cell.
    overlap: cells with P(s_k = 1 | c) below this or above 1 - this are reported.
    wave: the wave predicted for (default: month 6 if the data have it, else the first).
    prior_sd: prior sd of the assignment sub-model's coefficients (the intercept's is 5).
    allow_unseen_groups: group levels of ``population`` the fit never saw get, per draw, their
        group-level predictors' line plus N(0, group sd), as brms's sample_new_levels =
        "gaussian" (predictor values from a column of ``population`` named like the predictor,
        or the schema's table; default: an error naming them); the result's notes list them.
    """
    model = effect_model(fit, draws, weights, residual, nodes, units, horizon)
    return _poststrat.poststratify(
        model,
        population,
        interventions=interventions,
        by=by,
        cell_vars=cell_vars,
        count=count,
        seed=seed,
        overlap=overlap,
        wave=wave,
        prior_sd=prior_sd,
        allow_unseen_groups=allow_unseen_groups,
    )
