"""Spec + design -> ``pm.Model``: every parameter named after its role, with labelled dims.

Structural part (person i, supports s, covariates z, groups g):
    theta_i = sum_k s_ik (support_effect_k + conversion . s_ik z_i) + capability_covariate . z_i
              + sum_g <g>_effect[g_i] + capability_residual_i,  capability_residual ~ N(0, 1)
Measurement: binary   logit P(y_ij = 1) = indicator_intercept_j + loading_j theta_i
             ordinal  logit P(y_ij <= l) = cutpoints_j[l] - loading_j theta_i, loading_j > 0
Realisations (row = person x wave):
    logit P(R_r = 1) = realisation_intercept_r + capability_loading_r theta_i + direct_effect_r . s
                       + realisation_covariate_r . z + sum_g realisation_<g>_effect[r, g]
                       + time_effect_r log(months / 6)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc.distributions.transforms import ordered

from capmodel.model.design import Design
from capmodel.model.groups import choose_parameterisation, group_effect, nested_effect
from capmodel.spec import Spec


@dataclass(frozen=True)
class BuiltModel:
    """The PyMC model and what was decided while building it."""

    model: pm.Model
    parameterisation: dict[str, str]
    observed: tuple[str, ...]
    notes: tuple[str, ...]


def _coords(spec: Spec, d: Design) -> dict[str, list]:
    coords: dict[str, list] = {"person": list(d.person_labels)}
    if spec.latent:
        coords["support"] = list(d.supports)
        coords["capability_term"] = list(d.capability_terms)
        coords["conversion_term"] = list(d.conversion_terms)
        coords["indicator"] = [j.name for j in d.indicators]
        coords["binary_indicator"] = [j.name for j in d.indicators if j.kind == "binary"]
        for j in d.indicators:
            if j.kind == "ordinal":
                coords[f"{j.name}_cut"] = [f"{a}|{b}" for a, b in zip(j.levels[:-1], j.levels[1:],
                                                                      strict=True)]
        coords["obs_binary_indicator"] = list(range(d.indicator_obs("binary")[0].size))
        for n_levels in d.ordinal_level_counts():
            coords[f"obs_ordinal{n_levels}_indicator"] = list(
                range(d.indicator_obs("ordinal", n_levels)[0].size))
    if d.realisations:
        coords["realisation"] = list(d.realisations)
        coords["direct_support"] = list(d.direct_supports)
        coords["realisation_term"] = list(d.realisation_terms)
        coords["obs_realisation"] = list(range(d.realisation_obs()[0].size))
    for g in d.groups + d.interactions:
        coords[g.name] = list(g.labels)
    for g, ks in spec.varying_slopes:
        coords[f"{g}_slope_support"] = list(ks)
    return {k: v for k, v in coords.items() if len(v) or k == "person"}


def build_model(spec: Spec, d: Design) -> BuiltModel:
    """The PyMC model of ``spec`` on design ``d``."""
    coords = _coords(spec, d)
    parameterisation = {g.name: choose_parameterisation(g.persons_per_level,
                                                        spec.parameterisation_of(g.name))
                        for g in d.groups}
    for g in d.interactions:
        parameterisation[g.name] = choose_parameterisation(g.persons_per_level, "auto")
    observed: list[str] = []
    loglik_terms = []
    with pm.Model(coords=coords) as model:
        theta_rows, shift = None, None
        if spec.latent:
            theta, shift = _capability(spec, d, parameterisation)
            theta_rows = theta[d.person_of_row]
            observed += _measurement(spec, d, theta_rows, shift, loglik_terms)
        if d.realisations:
            observed += _realisations(spec, d, theta_rows, shift, parameterisation,
                                      loglik_terms)
        if d.weights is not None:
            # survey-weighted pseudo-likelihood: each row's log-likelihood counted w times
            pm.Potential("survey_weight_adjustment",
                         pt.sum([pt.sum((w - 1.0) * lp) for w, lp in loglik_terms]))
    notes = list(d.notes)
    if d.weights is not None:
        notes.append("survey-weighted pseudo-likelihood: posterior intervals are NOT calibrated "
                     "(they treat the weighted sample as if it were the population)")
    return BuiltModel(model, parameterisation, tuple(observed), tuple(notes))


def _centred(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Columns minus their means, and the means (predictors are centred while sampling)."""
    means = x.mean(axis=0) if x.shape[0] else np.zeros(x.shape[1])
    return x - means, means


def _capability(spec: Spec, d: Design, parameterisation: dict[str, str]
                ) -> tuple[pt.TensorVariable, pt.TensorVariable]:
    """Capability with centred predictors, and the shift back to the documented origin.

    theta = theta_c + shift, where shift = mean(S) beta + mean(C) gamma + mean(X) delta is the
    same for every person: centring changes no effect, only where the intercepts sit (they are
    reported back-transformed), and removes the intercept-slope correlations that slow NUTS.
    """
    s_c, s_mean = _centred(d.support_person)
    beta = spec.prior("support_effect").rv("support_effect", dims="support")
    m = pt.dot(s_c, beta)
    shift = pt.dot(s_mean, beta)
    if d.conversion_terms:
        c_c, c_mean = _centred(d.conversion_x)
        gamma = spec.prior("conversion").rv("conversion", dims="conversion_term")
        m = m + pt.dot(c_c, gamma)
        shift = shift + pt.dot(c_mean, gamma)
    if d.capability_terms:
        x_c, x_mean = _centred(d.capability_x)
        delta = spec.prior("capability_covariate").rv("capability_covariate",
                                                      dims="capability_term")
        m = m + pt.dot(x_c, delta)
        shift = shift + pt.dot(x_mean, delta)
    if "capability" in spec.groups_in:
        for g in d.groups + d.interactions:
            sd = spec.prior("group_sd").rv(f"{g.name}_sd")
            if g.parent_of_level is not None:
                eff = nested_effect(f"{g.name}_effect", sd, g.name, parameterisation[g.name],
                                    g.parent_of_level)
            else:
                eff = group_effect(f"{g.name}_effect", sd, g.name, parameterisation[g.name])
            m = m + eff[g.of_person]
    for gname, ks in spec.varying_slopes:
        g = next(x for x in d.groups if x.name == gname)
        sd = spec.prior("slope_sd").rv(f"{gname}_slope_sd", dims=f"{gname}_slope_support")
        u = group_effect(f"{gname}_slope", sd[:, None], (f"{gname}_slope_support", gname),
                         parameterisation[gname])
        cols = [d.supports.index(k) for k in ks]
        m = m + pt.sum(d.support_person[:, cols] * u[:, g.of_person].T, axis=1)
    e = pm.Normal("capability_residual", 0.0, 1.0, dims="person")
    return m + e, shift


def _measurement(spec: Spec, d: Design, theta_rows: pt.TensorVariable, shift: pt.TensorVariable,
                 loglik_terms: list) -> list[str]:
    """One vectorised term for all binary indicators, one per number of ordinal levels.

    ``theta_rows`` is centred capability; intercepts and cutpoints are sampled on that scale
    (``*_c``) and reported on the documented one: nu = nu_c - loading * shift and
    cutpoints = cutpoints_c + loading * shift.
    """
    loading = spec.prior("loading").rv("loading", dims="indicator")
    binary = [i for i, j in enumerate(d.indicators) if j.kind == "binary"]
    names = []
    if binary:
        nu = spec.prior("indicator_intercept").rv("indicator_intercept_c", dims="binary_indicator")
        pm.Deterministic("indicator_intercept", nu - loading[binary] * shift,
                         dims="binary_indicator")
        rows, items, y = d.indicator_obs("binary")
        position = np.zeros(len(d.indicators), dtype=np.int64)
        position[binary] = np.arange(len(binary))
        eta = nu[position[items]] + loading[items] * theta_rows[rows]
        rv = pm.Bernoulli("y_binary_indicator", logit_p=eta, observed=y,
                          dims="obs_binary_indicator")
        if d.weights is not None:
            loglik_terms.append((d.weights[rows], pm.logp(rv, y)))
        names.append("y_binary_indicator")
    cuts = {}
    for i, j in enumerate(d.indicators):
        if j.kind == "ordinal":
            cuts[j.name] = _cutpoints(spec, j.name, len(j.levels) - 1)
            pm.Deterministic(f"cutpoints__{j.name}", cuts[j.name] + loading[i] * shift,
                             dims=f"{j.name}_cut")
    for n_levels in d.ordinal_level_counts():
        rows, items, y = d.indicator_obs("ordinal", n_levels)
        members = sorted(set(items.tolist()))
        table = pt.stack([cuts[d.indicators[i].name] for i in members])
        slot = np.zeros(len(d.indicators), dtype=np.int64)
        slot[members] = np.arange(len(members))
        name = f"y_ordinal{n_levels}_indicator"
        rv = pm.OrderedLogistic(name, eta=loading[items] * theta_rows[rows],
                                cutpoints=table[slot[items]], observed=y, compute_p=False,
                                dims=f"obs_ordinal{n_levels}_indicator")
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
        return pm.Normal(f"cutpoints_c__{name}", mu=pr["mu"] + locations, sigma=pr["sigma"],
                         **kw)
    return p.rv(f"cutpoints_c__{name}", **kw)


def _realisations(spec: Spec, d: Design, theta_rows, shift, parameterisation: dict[str, str],
                  loglik_terms: list) -> list[str]:
    """Realisations with centred predictors; ``realisation_intercept`` is reported on the
    documented scale: alpha = alpha_c - rho * shift - direct . mean(s) - zeta . mean(z)."""
    n, r = d.realisation_y.shape
    alpha_c = spec.prior("realisation_intercept").rv("realisation_intercept_c",
                                                     dims="realisation")
    eta = pt.broadcast_to(alpha_c[None, :], (n, r))
    alpha = alpha_c
    if theta_rows is not None:
        rho = spec.prior("capability_loading").rv("capability_loading", dims="realisation")
        eta = eta + theta_rows[:, None] * rho[None, :]
        alpha = alpha - rho * shift
    for group, x, dim in (("direct_effect", d.direct_x, "direct_support"),
                          ("realisation_covariate", d.realisation_x, "realisation_term")):
        if x.shape[1]:
            x_c, x_mean = _centred(x)
            coef = spec.prior(group).rv(group, dims=("realisation", dim))
            eta = eta + pt.dot(x_c, coef.T)
            alpha = alpha - pt.dot(coef, x_mean)
    pm.Deterministic("realisation_intercept", alpha, dims="realisation")
    if d.log_time is not None:
        tau = spec.prior("time_effect").rv("time_effect", dims="realisation")
        eta = eta + d.log_time[:, None] * tau[None, :]
    if "realisations" in spec.groups_in:
        for g in d.groups + d.interactions:
            # one sd per group factor, shared by the realisations: with few groups (4
            # operators) a separate sd per realisation rests on 4 effects and makes a funnel
            sd = spec.prior("group_sd").rv(f"realisation_{g.name}_sd")
            if g.parent_of_level is not None:
                b = nested_effect(f"realisation_{g.name}_effect", sd, ("realisation", g.name),
                                  parameterisation[g.name], g.parent_of_level, batch=r)
            else:
                b = group_effect(f"realisation_{g.name}_effect", sd, ("realisation", g.name),
                                 parameterisation[g.name])
            eta = eta + b[:, g.of_row].T
    rows, cols, y = d.realisation_obs()
    rv = pm.Bernoulli("y_realisation", logit_p=eta[rows, cols], observed=y, dims="obs_realisation")
    if d.weights is not None:
        loglik_terms.append((d.weights[rows], pm.logp(rv, y)))
    return ["y_realisation"]
