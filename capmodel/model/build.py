"""Spec + design -> ``pm.Model``: every parameter named after its role, with labelled dims.

Structural part (person i, supports s, covariates z, groups g):
    theta_i = sum_k s_ik (support_effect_k + conversion . s_ik z_i) + capability_covariate . z_i
              + sum_g <g>_effect[g_i] + capability_residual_i,  capability_residual ~ N(0, 1)
Measurement: binary   logit P(y_ij = 1) = indicator_intercept_j + loading_j theta_i
             ordinal  logit P(y_ij <= l) = cutpoints_j[l] - loading_j theta_i, loading_j > 0
    with capability that changes between waves (measurement.change), a wave-level indicator
    answered at wave w measures theta_iw = theta_i + log(w / 6) g_i instead, where
    g_i = capability_growth_intercept + capability_growth_support . s_i
Realisations (row = person x wave):
    logit P(R_r = 1) = realisation_intercept_r + capability_loading_r theta_i + direct_effect_r . s
                       + realisation_covariate_r . z + sum_g realisation_<g>_effect[r, g]
                       + time_effect_r log(months / 6)

The model NUTS samples puts every person's responses into one dense, masked term
(capmodel.model.integrated) entering through one ``pm.Potential``: evaluated at the sampled
residual (``model.capability_residual = "sampled"``, the default) or with the residual
integrated out by Gauss-Hermite quadrature (``"integrated"``). ``generative=True`` builds the
same model with one sampled residual per person and observed response variables (PyMC's
Bernoulli and OrderedLogistic), which is what prior and posterior predictive simulation use;
the two are the same density (tests/test_model_equivalence.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from pymc.distributions.transforms import ordered

from capmodel.model.design import Design, UnitDesign
from capmodel.model.groups import (
    choose_parameterisation,
    group_effect,
    nested_effect,
    rare_side_per_level,
)
from capmodel.model.integrated import BIG, PersonLayout, person_layout, person_loglik
from capmodel.model.priors import prior_rv
from capmodel.spec import Spec


@dataclass(frozen=True)
class BuiltModel:
    """The PyMC model and what was decided while building it."""

    model: pm.Model
    parameterisation: dict[str, str]
    observed: tuple[str, ...]  # observed response variables (generative build only)
    notes: tuple[str, ...]
    integrated: bool = False  # the residual is integrated out (responses in a Potential)
    # the model's equations as tensors of its parameters and design data (``pm.Data``), for
    # evaluating them over posterior draws (capmodel.model.evaluate): see :func:`build_model`
    terms: dict[str, Any] = field(default_factory=dict)


def _coords(spec: Spec, d: Design, generative: bool) -> dict[str, list]:
    coords: dict[str, list] = {"person": list(d.person_labels)}
    if spec.latent:
        coords["support"] = list(d.supports)
        coords["capability_term"] = list(d.capability_terms)
        coords["conversion_term"] = list(d.conversion_terms)
        coords["indicator"] = [j.name for j in d.indicators]
        coords["binary_indicator"] = [j.name for j in d.indicators if j.kind == "binary"]
        for j in d.indicators:
            if j.kind == "ordinal":
                coords[f"{j.name}_cut"] = [
                    f"{a}|{b}" for a, b in zip(j.levels[:-1], j.levels[1:], strict=True)
                ]
        if generative:
            coords["obs_binary_indicator"] = list(range(d.indicator_obs("binary")[0].size))
            for n_levels in d.ordinal_level_counts():
                coords[f"obs_ordinal{n_levels}_indicator"] = list(
                    range(d.indicator_obs("ordinal", n_levels)[0].size)
                )
    if d.realisations:
        coords["realisation"] = list(d.realisations)
        coords["direct_support"] = list(d.direct_supports)
        coords["realisation_term"] = list(d.realisation_terms)
        if generative:
            coords["obs_realisation"] = list(range(d.realisation_obs()[0].size))
    for g in d.groups + d.interactions:
        coords[g.name] = list(g.labels)
        if g.predictor_names:
            coords[f"{g.name}_predictor"] = list(g.predictor_names)
    for group, ks in spec.varying_slopes:
        coords[f"{group}_slope_support"] = list(ks)
    return {k: v for k, v in coords.items() if len(v) or k == "person"}


def build_model(
    spec: Spec, d: Design, generative: bool = False, pointwise: bool = False
) -> BuiltModel:
    """The PyMC model of ``spec`` on design ``d``.

    ``generative=True`` samples one capability residual per person and observes every response
    (for prior/posterior predictive simulation); otherwise the residual is integrated out when
    the spec says so (the default), which is the model NUTS samples. ``pointwise=True`` adds
    the deterministic ``person_loglik[person]`` (each person's marginal log-likelihood, for LOO)
    to an integrated model.
    """
    integrated = spec.latent and spec.residual == "integrated" and not generative
    coords = _coords(spec, d, generative)
    parameterisation = _parameterisation(spec, d)
    observed: list[str] = []
    loglik_terms: list = []
    with pm.Model(coords=coords) as model:
        m, shift, growth, rho, eta, tau = None, None, None, None, None, None
        loading, nu, cuts = None, None, {}
        arrays = predictor_arrays(spec, d)
        if spec.latent:
            m, shift, growth = _capability(spec, d, parameterisation, arrays)
            loading, nu, cuts = _measurement_parameters(spec, d, shift)
        if d.realisations:
            eta, rho, tau = _realisation_predictor(spec, d, shift, parameterisation, arrays)
        terms = {
            "capability_mean": m,
            "shift": shift,
            "capability_growth": growth,
            "realisation_eta": eta,
            "capability_loading": rho,
            "loading": loading,
            "cut_table": _cut_table(d, nu, cuts) if spec.latent else None,
            "time_effect": tau,
        }
        if eta is not None and eta.type.broadcastable[0]:  # no term varies over rows
            eta = pt.broadcast_to(eta, (d.n_rows, len(d.realisations)))
        if not generative:
            # the model NUTS samples: every person's responses in one dense, masked term
            theta = m
            if spec.latent and not integrated:
                theta = m + pm.Normal("capability_residual", 0.0, 1.0, dims="person")
            lp = person_loglik(
                design_layout(d),
                theta,
                spec.quadrature_nodes if integrated else 0,
                data=_data,
                loading=loading,
                cut_table=terms["cut_table"],
                realisation_eta=eta,
                capability_loading=rho,
                capability_growth=growth,
            )
            between = _between_waves(d, tau)
            if between is not None:
                lp = lp + between
            weights = _person_weights(d)
            if pointwise:
                pm.Deterministic("person_loglik", lp, dims="person")
            pm.Potential("loglik", pt.sum(lp if weights is None else weights * lp))
        else:
            theta_rows = None
            if spec.latent:
                e = pm.Normal("capability_residual", 0.0, 1.0, dims="person")
                theta_rows = (m + e)[_data("person_of_row", d.person_of_row)]
                observed += _measurement_observed(
                    d, theta_rows, growth, loading, nu, cuts, loglik_terms
                )
            if d.realisations:
                if theta_rows is not None:
                    assert rho is not None  # theta_rows and rho: both set with a latent only
                    eta = eta + theta_rows[:, None] * rho[None, :]
                observed += _realisations_observed(d, eta, loglik_terms)
                between = _between_waves(d, tau)
                if between is not None:  # per person: weighted by the person's weight
                    loglik_terms.append((_person_weights(d), between))
                    pm.Potential("realisations_between_waves", pt.sum(between))
            if d.weights is not None:
                # survey-weighted pseudo-likelihood: each row's log-likelihood counted w times
                pm.Potential(
                    "survey_weight_adjustment",
                    pt.sum([pt.sum((w - 1.0) * lp) for w, lp in loglik_terms]),
                )
    notes = list(d.notes)
    if d.weights is not None:
        notes.append(
            "survey-weighted pseudo-likelihood: posterior intervals are NOT calibrated "
            "(they treat the weighted sample as if it were the population)"
        )
    return BuiltModel(
        model,
        parameterisation,
        tuple(observed),
        tuple(notes),
        integrated,
        {k: v for k, v in terms.items() if v is not None},
    )


def _parameterisation(spec: Spec, d: Design) -> dict[str, str]:
    """Centred or non-centred for each group factor's effects in each equation: the key is the
    effects' name stem (``operator`` for ``operator_effect`` in capability,
    ``realisation_operator`` for ``realisation_operator_effect``); see capmodel.model.groups."""
    out = {}
    declared = {g.name for g in d.groups}
    for g in d.groups + d.interactions:
        requested = spec.parameterisation_of(g.name) if g.name in declared else "auto"
        if spec.latent:
            out[g.name] = choose_parameterisation(g.persons_per_level, requested)
        if d.realisations and spec.group_in(g.name, "realisations"):
            events = rare_side_per_level(g.of_row, len(g.labels), d.realisation_y)
            out[f"realisation_{g.name}"] = choose_parameterisation(
                events, spec.parameterisation_of(f"realisation_{g.name}", requested)
            )
    return out


def observed_dataset(spec: Spec, d: Design) -> xr.Dataset:
    """The observed responses as the generative model names them (``y_realisation``,
    ``y_binary_indicator``, ``y_ordinal<L>_indicator`` over their ``obs_*`` dims): a fit's
    ``observed_data`` group, which ArviZ pairs with posterior predictive draws."""
    out = {}
    if spec.latent:
        rows, _, y = d.indicator_obs("binary")
        if rows.size:
            out["y_binary_indicator"] = ("obs_binary_indicator", y)
        for n_levels in d.ordinal_level_counts():
            out[f"y_ordinal{n_levels}_indicator"] = (
                f"obs_ordinal{n_levels}_indicator",
                d.indicator_obs("ordinal", n_levels)[2],
            )
    if d.realisations:
        out["y_realisation"] = ("obs_realisation", d.realisation_obs()[2])
    return xr.Dataset(out)


def centring_means(d: Design) -> dict[str, np.ndarray]:
    """Column means of the survey's predictors: the model samples centred predictors (see
    :func:`_capability`), and every population it is evaluated on is centred by these."""

    def mean(x: np.ndarray) -> np.ndarray:
        return x.mean(axis=0) if x.shape[0] else np.zeros(x.shape[1])

    return {
        "support": mean(d.support_person),
        "conversion": mean(d.conversion_x),
        "capability_covariate": mean(d.capability_x),
        "direct_effect": mean(d.direct_x),
        "realisation_covariate": mean(d.realisation_x),
    }


def predictor_arrays(
    spec: Spec, d: Design, units: UnitDesign | None = None
) -> dict[str, np.ndarray]:
    """Every person- and row-level predictor array of the model of ``spec`` on design ``d``, by
    its ``pm.Data`` name (less the ``design__`` prefix): of ``units`` (default: the survey's own
    persons and rows), centred by the survey's means. Evaluating the model on other units
    (an intervention, post-stratification cells) is feeding it these arrays."""
    return {**person_arrays(spec, d, units), **row_arrays(spec, d, units)}


def person_arrays(spec: Spec, d: Design, units: UnitDesign | None = None) -> dict[str, np.ndarray]:
    """The capability part of :func:`predictor_arrays` (one row per person)."""
    u = d.units() if units is None else units
    means = centring_means(d)
    out: dict[str, np.ndarray] = {}
    if spec.latent:
        out["support_centred"] = u.support_person - means["support"]
        if d.conversion_terms:
            conv = u.support_person[:, d.conversion_support] * u.conversion_factor
            out["conversion_centred"] = conv - means["conversion"]
        if d.capability_terms:
            out["capability_covariate_centred"] = u.capability_x - means["capability_covariate"]
        for g in d.groups + d.interactions:
            if spec.group_in(g.name, "capability"):
                out[f"{g.name}_one_hot_person"] = _one_hot_array(
                    u.group_of_person[g.name], len(g.labels)
                )
        for gname, ks in spec.varying_slopes:
            cols = [d.supports.index(k) for k in ks]
            out[f"{gname}_slope_support"] = u.support_person[:, cols]
            out[f"{gname}_of_person"] = u.group_of_person[gname]
    return {k: np.ascontiguousarray(v) for k, v in out.items()}


def row_arrays(spec: Spec, d: Design, units: UnitDesign | None = None) -> dict[str, np.ndarray]:
    """The realisation part of :func:`predictor_arrays` (one row per person and wave)."""
    u = d.units() if units is None else units
    means = centring_means(d)
    out: dict[str, np.ndarray] = {}
    if d.realisations:
        if d.direct_x.shape[1]:
            out["direct_effect_centred"] = u.direct_x - means["direct_effect"]
        if d.realisation_x.shape[1]:
            out["realisation_covariate_centred"] = u.realisation_x - means["realisation_covariate"]
        if d.log_time is not None:
            if u.log_time is None:
                raise ValueError("the model has a time effect: the units need log_time")
            out["log_time"] = u.log_time
        for g in d.groups + d.interactions:
            if spec.group_in(g.name, "realisations"):
                out[f"{g.name}_one_hot_row"] = _one_hot_array(u.group_of_row[g.name], len(g.labels))
    return {k: np.ascontiguousarray(v) for k, v in out.items()}


def _one_hot_array(codes: np.ndarray, n_levels: int) -> np.ndarray:
    """(n, n_levels) 0/1 array of level codes; a code outside 0..n_levels-1 (a level the survey
    has not seen) is a row of zeros: its effect is 0, the mean of the sum-to-zero effects."""
    return (codes[:, None] == np.arange(n_levels)).astype(float)


def _data(name: str, values: np.ndarray) -> pt.TensorVariable:
    """A design array as ``pm.Data``. Arrays baked into the graph as constants become global
    arrays of the compiled numba function, which numba will not cache on disk: every process
    would compile the model again (docs/benchmarks.md, compile times). The centring means are
    data too, so that the graph of a spec is the same on any data of the same shape."""
    return pm.Data(f"design__{name}", np.ascontiguousarray(values))


def _predictors(g) -> pt.TensorVariable:
    """(L, H) the standardised group-level predictors of group ``g`` (one ``pm.Data``, shared
    by the capability and realisation equations)."""
    name = f"design__{g.name}_predictors"
    model = pm.modelcontext(None)
    if name in model.named_vars:
        return model[name]
    return _data(f"{g.name}_predictors", g.predictors)


def design_layout(d: Design) -> PersonLayout:
    """The responses of design ``d`` laid out per person (capmodel.model.integrated)."""
    return person_layout(
        d.person_of_row,
        len(d.person_labels),
        [(j.rows, j.values) for j in d.indicators],
        d.realisation_used,
        row_time=d.capability_time,
        indicator_changes=d.indicator_changes,
    )


def _person_weights(d: Design) -> np.ndarray | None:
    """A person's survey weight: the mean of their rows' weights."""
    if d.weights is None:
        return None
    n = len(d.person_labels)
    return np.bincount(d.person_of_row, weights=d.weights, minlength=n) / np.bincount(
        d.person_of_row, minlength=n
    )


def _cut_table(d: Design, nu, cuts: dict) -> pt.TensorVariable:
    """(J, Lmax + 1) cutpoints on the sampling scale, padded with -BIG / +BIG."""
    width = max(len(j.levels) for j in d.indicators) + 1
    binary = [j.name for j in d.indicators if j.kind == "binary"]
    rows = []
    for j in d.indicators:
        inner = (-nu[binary.index(j.name)])[None] if j.kind == "binary" else cuts[j.name]
        pad = width - len(j.levels)
        rows.append(pt.concatenate([np.full(1, -BIG), inner, np.full(pad, BIG)]))
    return pt.stack(rows)


def _capability(
    spec: Spec, d: Design, parameterisation: dict[str, str], arrays: dict[str, np.ndarray]
) -> tuple[pt.TensorVariable, pt.TensorVariable, pt.TensorVariable | None]:
    """Capability without its residual, with centred predictors, the shift back to the
    documented origin, and each person's growth of capability between waves (None when
    capability is the same at every wave).

    theta = theta_c + shift, where shift = mean(S) beta + mean(C) gamma + mean(X) delta is the
    same for every person: centring changes no effect, only where the intercepts sit (they are
    reported back-transformed), and removes the intercept-slope correlations that slow NUTS.
    The growth g = capability_growth_intercept + S capability_growth_support is sampled the
    same way (intercept on the centred scale, ``capability_growth_intercept_c``).
    ``arrays``: :func:`predictor_arrays` of the survey.
    """
    means = centring_means(d)
    beta = prior_rv(spec.prior("support_effect"), "support_effect", dims="support")
    support_centred = _data("support_centred", arrays["support_centred"])
    support_mean = _data("support_mean", means["support"])
    m = pt.dot(support_centred, beta)
    shift = pt.dot(support_mean, beta)
    growth = None
    if d.capability_time is not None:
        kappa = prior_rv(
            spec.prior("capability_growth_support"), "capability_growth_support", dims="support"
        )
        kappa0_c = prior_rv(
            spec.prior("capability_growth_intercept"), "capability_growth_intercept_c"
        )
        pm.Deterministic("capability_growth_intercept", kappa0_c - pt.dot(support_mean, kappa))
        growth = kappa0_c + pt.dot(support_centred, kappa)
    if d.conversion_terms:
        gamma = prior_rv(spec.prior("conversion"), "conversion", dims="conversion_term")
        m = m + pt.dot(_data("conversion_centred", arrays["conversion_centred"]), gamma)
        shift = shift + pt.dot(_data("conversion_mean", means["conversion"]), gamma)
    if d.capability_terms:
        delta = prior_rv(
            spec.prior("capability_covariate"), "capability_covariate", dims="capability_term"
        )
        m = m + pt.dot(
            _data("capability_covariate_centred", arrays["capability_covariate_centred"]), delta
        )
        shift = shift + pt.dot(
            _data("capability_covariate_mean", means["capability_covariate"]), delta
        )
    for g in d.groups + d.interactions:
        if spec.group_in(g.name, "capability"):
            sd = prior_rv(spec.prior("group_sd"), f"{g.name}_sd")
            # with group-level predictors the sum-to-zero part is the deviation from them
            own = f"{g.name}_deviation" if g.predictor_names else f"{g.name}_effect"
            if g.parent_of_level is not None:
                eff = nested_effect(own, sd, g.name, parameterisation[g.name], g.parent_of_level)
            else:
                eff = group_effect(own, sd, g.name, parameterisation[g.name])
            if g.predictor_names:
                coef = prior_rv(
                    spec.prior("group_predictor"),
                    f"{g.name}_predictor_effect",
                    dims=f"{g.name}_predictor",
                )
                eff = pm.Deterministic(
                    f"{g.name}_effect", eff + pt.dot(_predictors(g), coef), dims=g.name
                )
            name = f"{g.name}_one_hot_person"
            m = m + pt.dot(_data(name, arrays[name]), eff)
    for gname, _ in spec.varying_slopes:
        sd = prior_rv(spec.prior("slope_sd"), f"{gname}_slope_sd", dims=f"{gname}_slope_support")
        u = group_effect(
            f"{gname}_slope",
            sd[:, None],
            (f"{gname}_slope_support", gname),
            parameterisation[gname],
        )
        of_person = _data(f"{gname}_of_person", arrays[f"{gname}_of_person"])
        m = m + pt.sum(
            _data(f"{gname}_slope_support", arrays[f"{gname}_slope_support"]) * u[:, of_person].T,
            axis=1,
        )
    return m, shift, growth


def _measurement_parameters(spec: Spec, d: Design, shift: pt.TensorVariable):
    """Loadings, binary intercepts and ordinal cutpoints on the sampling scale.

    Capability is centred while sampling; intercepts and cutpoints are sampled on that scale
    (``*_c``) and reported on the documented one: nu = nu_c - loading * shift and
    cutpoints = cutpoints_c + loading * shift.
    """
    loading = prior_rv(spec.prior("loading"), "loading", dims="indicator")
    binary = [i for i, j in enumerate(d.indicators) if j.kind == "binary"]
    nu = None
    if binary:
        nu = prior_rv(
            spec.prior("indicator_intercept"), "indicator_intercept_c", dims="binary_indicator"
        )
        pm.Deterministic(
            "indicator_intercept", nu - loading[binary] * shift, dims="binary_indicator"
        )
    cuts = {}
    for i, j in enumerate(d.indicators):
        if j.kind == "ordinal":
            cuts[j.name] = _cutpoints(spec, j.name, len(j.levels) - 1)
            pm.Deterministic(
                f"cutpoints__{j.name}", cuts[j.name] + loading[i] * shift, dims=f"{j.name}_cut"
            )
    return loading, nu, cuts


def _measurement_observed(
    d: Design,
    theta_rows: pt.TensorVariable,
    growth: pt.TensorVariable | None,
    loading,
    nu,
    cuts: dict,
    loglik_terms: list,
) -> list[str]:
    """Observed indicators: one vectorised term for all binary indicators, one per number of
    ordinal levels. With capability that changes between waves (``growth``, per person), a
    wave-level indicator answered at wave w measures theta_i + log(w / 6) g_i."""

    def capability(rows: np.ndarray, items: np.ndarray, name: str) -> pt.TensorVariable:
        theta = theta_rows[_data(f"{name}_row", rows)]
        if growth is None:
            return theta
        assert d.capability_time is not None  # growth is built only with it
        time = d.capability_time[rows] * d.indicator_changes[items]
        person = _data(f"{name}_person", d.person_of_row[rows])
        return theta + _data(f"{name}_time", time) * growth[person]

    binary = [i for i, j in enumerate(d.indicators) if j.kind == "binary"]
    names = []
    if binary:
        rows, items, y = d.indicator_obs("binary")
        position = np.zeros(len(d.indicators), dtype=np.int64)
        position[binary] = np.arange(len(binary))
        theta_obs = capability(rows, items, "binary")
        eta = nu[_data("binary_position", position[items])] + (
            loading[_data("binary_item", items)] * theta_obs
        )
        rv = pm.Bernoulli(
            "y_binary_indicator",
            logit_p=eta,
            observed=_data("binary_y", y),
            dims="obs_binary_indicator",
        )
        if d.weights is not None:
            loglik_terms.append((d.weights[rows], pm.logp(rv, y)))
        names.append("y_binary_indicator")
    for n_levels in d.ordinal_level_counts():
        rows, items, y = d.indicator_obs("ordinal", n_levels)
        members = sorted(set(items.tolist()))
        table = pt.stack([cuts[d.indicators[i].name] for i in members])
        slot = np.zeros(len(d.indicators), dtype=np.int64)
        slot[members] = np.arange(len(members))
        name = f"y_ordinal{n_levels}_indicator"
        items_data = _data(f"ordinal{n_levels}_item", items)
        rv = pm.OrderedLogistic(
            name,
            eta=loading[items_data] * capability(rows, items, f"ordinal{n_levels}"),
            cutpoints=table[_data(f"ordinal{n_levels}_slot", slot[items])],
            observed=_data(f"ordinal{n_levels}_y", y),
            compute_p=False,
            dims=f"obs_ordinal{n_levels}_indicator",
        )
        if d.weights is not None:
            loglik_terms.append((d.weights[rows], pm.logp(rv, y)))
        names.append(name)
    return names


def _cutpoints(spec: Spec, name: str, n_cut: int) -> pt.TensorVariable:
    """Ordered cutpoints; a normal prior is centred on evenly spaced locations mu + (-2 .. 2)
    so that every level has prior mass (iid priors under the ordering starve middle levels)."""
    p = spec.prior("cutpoints")
    locations = np.linspace(-2.0, 2.0, n_cut) if n_cut > 1 else np.zeros(1)
    kw = {"dims": f"{name}_cut", "transform": ordered, "initval": locations * 0.75}
    if p.family == "normal":
        pr = p.kwargs()
        return pm.Normal(f"cutpoints_c__{name}", mu=pr["mu"] + locations, sigma=pr["sigma"], **kw)
    return prior_rv(p, f"cutpoints_c__{name}", **kw)


def _realisation_predictor(
    spec: Spec, d: Design, shift, parameterisation: dict[str, str], arrays: dict[str, np.ndarray]
):
    """(N or 1, R) realisation predictors without the capability term (one row when no term
    varies over rows), and the capability loading (None without a latent). Predictors are
    centred; ``realisation_intercept`` is reported on the documented scale:
    alpha = alpha_c - rho * shift - direct . mean(s) - zeta . mean(z)."""
    means = centring_means(d)
    r = d.realisation_y.shape[1]
    alpha_c = prior_rv(
        spec.prior("realisation_intercept"), "realisation_intercept_c", dims="realisation"
    )
    eta = alpha_c[None, :]
    alpha = alpha_c
    rho = None
    if spec.latent:
        rho = prior_rv(spec.prior("capability_loading"), "capability_loading", dims="realisation")
        alpha = alpha - rho * shift
    for group, dim in (
        ("direct_effect", "direct_support"),
        ("realisation_covariate", "realisation_term"),
    ):
        if f"{group}_centred" in arrays:
            coef = prior_rv(spec.prior(group), group, dims=("realisation", dim))
            eta = eta + pt.dot(_data(f"{group}_centred", arrays[f"{group}_centred"]), coef.T)
            alpha = alpha - pt.dot(coef, _data(f"{group}_mean", means[group]))
    pm.Deterministic("realisation_intercept", alpha, dims="realisation")
    tau = None
    if d.log_time is not None:
        tau = prior_rv(spec.prior("time_effect"), "time_effect", dims="realisation")
        eta = eta + _data("log_time", arrays["log_time"])[:, None] * tau[None, :]
    for g in d.groups + d.interactions:
        if spec.group_in(g.name, "realisations"):
            # one sd per group factor, shared by the realisations: with few groups (4
            # operators) a separate sd per realisation rests on 4 effects and makes a funnel
            sd = prior_rv(spec.prior("group_sd"), f"realisation_{g.name}_sd")
            own = f"realisation_{g.name}_" + ("deviation" if g.predictor_names else "effect")
            if g.parent_of_level is not None:
                b = nested_effect(
                    own,
                    sd,
                    ("realisation", g.name),
                    parameterisation[f"realisation_{g.name}"],
                    g.parent_of_level,
                    batch=r,
                )
            else:
                b = group_effect(
                    own, sd, ("realisation", g.name), parameterisation[f"realisation_{g.name}"]
                )
            if g.predictor_names:
                coef = prior_rv(
                    spec.prior("group_predictor"),
                    f"realisation_{g.name}_predictor_effect",
                    dims=("realisation", f"{g.name}_predictor"),
                )
                b = pm.Deterministic(
                    f"realisation_{g.name}_effect",
                    b + pt.dot(coef, _predictors(g).T),
                    dims=("realisation", g.name),
                )
            name = f"{g.name}_one_hot_row"
            eta = eta + pt.dot(_data(name, arrays[name]), b.T)
    return eta, rho, tau


def _between_waves(d: Design, tau) -> pt.TensorVariable | None:
    """(P,) the part of each person's likelihood that says when, between two waves, a
    cumulative realisation happened: for the last wave answered 'no' (a) and the first
    answered 'yes' (b), log(F(b) - F(a)) = log F(b) + log(1 - F(a)) + log(1 - exp(x_a - x_b))
    with F = sigmoid(x); the first two terms are the rows' own Bernoulli terms (they are the
    answers the likelihood reads: Design.realisation_used) and x_a - x_b = time_effect
    (log a - log b), whatever the person's capability. None when no person has such a pair."""
    lower, upper, col = d.realisation_intervals
    if lower.size == 0:
        return None
    assert d.log_time is not None and tau is not None  # checked by build_design
    gap = _data("between_waves_log_time", d.log_time[lower] - d.log_time[upper])  # < 0
    terms = pt.log1mexp(tau[_data("between_waves_realisation", col)] * gap)
    person = _data("between_waves_person", d.person_of_row[upper])
    return pt.zeros(len(d.person_labels))[person].inc(terms)


def _realisations_observed(d: Design, eta, loglik_terms: list) -> list[str]:
    rows, cols, y = d.realisation_obs()
    rv = pm.Bernoulli(
        "y_realisation",
        logit_p=eta[_data("realisation_row", rows), _data("realisation_col", cols)],
        observed=_data("realisation_y", y),
        dims="obs_realisation",
    )
    if d.weights is not None:
        loglik_terms.append((d.weights[rows], pm.logp(rv, y)))
    return ["y_realisation"]
