"""The generative model of cep2021: population -> support -> capability -> realisations.

Follows the theory of action (docs/domain.md §1-§7): socio-demographics and region/operator ->
entry situation (project maturity, autonomy) -> reasons for coming (Q1) -> service level and
supports received (confounded with the entry situation) -> latent capability (support x
conversion-factor interactions, operator and region effects, unit noise e ~ N(0, 1)) ->
capability indicators, realisations at each wave (one uniform U per person and realisation,
shared by every wave and by the factual and the no-support worlds), complementary services
(Q5), usefulness (Q13), failure at a decisive test, self-reported attribution.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from capmodel.simulate import cep2021 as S
from capmodel.simulate.calibrate import Intercepts, solve_increasing
from capmodel.simulate.draws import Effects, bernoulli, categorical, expit, linear, ordinal
from capmodel.simulate.groups import GroupWorld, crossed_groups, nested_groups
from capmodel.simulate.scenarios import scenario as get_scenario


@dataclass
class World:
    """Every simulated column (numpy arrays, categorical ones as integer codes) and the truth."""

    n: int
    cols: dict[str, np.ndarray] = field(default_factory=dict)
    levels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    truth: dict[str, np.ndarray] = field(default_factory=dict)
    waves: tuple[int, ...] = (S.SURVEY_WAVE,)

    def lin(self, effects: Effects) -> np.ndarray:
        return linear({**self.cols, **self.truth}, self.levels, effects, self.n)

    def draw_categorical(self, rng: np.random.Generator, name: str, logits: dict) -> None:
        """Multinomial-logit draw: ``logits['base']`` plus shifts keyed by parent levels."""
        levels = self.levels[name]
        base = np.array([logits["base"].get(lv, 0.0) for lv in levels])
        eta = np.broadcast_to(base, (self.n, len(levels))).copy()
        for parent_level, shifts in logits.items():
            if parent_level == "base":
                continue
            col = _column_of_level(self, parent_level)
            mask = self.cols[col] == self.levels[col].index(parent_level)
            eta[mask] += np.array([shifts.get(lv, 0.0) for lv in levels])
        self.cols[name] = categorical(rng, eta)


def _column_of_level(world: World, level: str) -> str:
    hits = [c for c, lv in world.levels.items() if level in lv and c in world.cols]
    if len(hits) != 1:
        raise KeyError(f"level {level!r} names no single drawn column (found {hits})")
    return hits[0]


def group_effects(seed: int = S.PARAMETER_SEED, scenario: str = "cep2021") -> GroupWorld:
    """The scenario's groups and their true effects (:mod:`capmodel.simulate.groups`), drawn
    once from ``seed`` and centred. A regional scenario adds its labour-market effect (drawn
    from a stream of its own, so the other effects are those of cep2021) to every
    realisation's region effect."""
    scen = get_scenario(scenario)
    if scen.layout == "crossed":
        return crossed_groups(scen.interaction_sd, seed)
    return nested_groups(scen.labour_market_sd, seed)


def draw_world(
    rng: np.random.Generator,
    n: int,
    intercepts: Intercepts,
    waves: tuple[int, ...],
    groups: GroupWorld | None = None,
) -> World:
    """Draw a population of ``n`` beneficiaries with every latent and observed column
    (``groups``: the group effects, by default those of cep2021)."""
    w = World(n=n, waves=tuple(sorted(set(waves) | {S.SURVEY_WAVE})))
    w.levels.update(S.LEVELS)
    groups = group_effects() if groups is None else groups
    w.levels.update(groups.levels)

    # groups and socio-demographics
    w.cols.update(groups.draw(rng, n))
    w.cols["sex"] = bernoulli(rng, np.full(n, S.SEX_SHARES["M"])).astype(np.int16)
    age_p = np.array([S.AGE_SHARES[a] for a in S.LEVELS["age_band"]])
    w.cols["age_band"] = rng.choice(age_p.size, size=n, p=age_p).astype(np.int16)
    w.draw_categorical(rng, "qualification", S.QUALIFICATION_LOGITS)
    w.draw_categorical(rng, "csp", S.CSP_LOGITS)
    w.draw_categorical(rng, "company_size", S.COMPANY_LOGITS)
    w.draw_categorical(rng, "maturity", S.MATURITY_LOGITS)
    w.draw_categorical(rng, "autonomy", S.AUTONOMY_LOGITS)

    # Q1 motives
    for name, spec in S.MOTIVES.items():
        eta = w.lin(spec["effects"])
        c = intercepts.logit(name, eta, spec["target"])
        w.cols[name] = bernoulli(rng, expit(eta + c))

    # service level (cumulative logit)
    eta = w.lin(groups.with_practice("service_level", S.SERVICE_LEVEL_EFFECTS))
    cuts = intercepts.cutpoints("service_level", eta, S.SERVICE_LEVEL_TARGETS)
    w.cols["service_level"] = ordinal(rng, eta, cuts)

    _draw_supports(rng, w, intercepts, groups)
    _draw_capability(rng, w, groups)
    _draw_indicators(rng, w)
    _draw_realisations(rng, w, intercepts, groups)
    _draw_services(rng, w, intercepts)
    _draw_survey_answers(rng, w, intercepts)
    return w


def _draw_supports(
    rng: np.random.Generator, w: World, intercepts: Intercepts, groups: GroupWorld
) -> None:
    """Supports received: confounded with the entry situation, tied by a latent engagement."""
    engagement = rng.normal(size=w.n)
    etas = {k: w.lin(groups.with_practice(k, S.SUPPORT_EFFECTS[k])) for k in S.SUPPORTS}

    def no_support_share(loading: float) -> float:
        trial = Intercepts()
        p_none = np.ones(w.n)
        for k in S.SUPPORTS:
            eta = etas[k] + loading * engagement
            p_none *= 1 - expit(eta + trial.logit(k, eta, S.SUPPORT_TARGETS[k]))
        return float(p_none.mean())

    loading = intercepts.scalar(
        "support_engagement_loading",
        lambda: solve_increasing(no_support_share, S.NO_SUPPORT_TARGET, 0.0, 4.0),
    )
    for k in S.SUPPORTS:
        eta = etas[k] + loading * engagement
        w.cols[k] = bernoulli(
            rng, expit(eta + intercepts.logit(f"support:{k}", eta, S.SUPPORT_TARGETS[k]))
        )


def capability_mean(w: World, supports: dict[str, np.ndarray], groups: GroupWorld) -> np.ndarray:
    """m(s, z, g): the structural capability mean under the given supports (no intercept)."""
    m = w.lin(S.CAPABILITY_EFFECTS)
    for k in S.SUPPORTS:
        slope = S.SUPPORT_EFFECT[k] + w.lin(S.CONVERSION.get(k, {}))
        m += supports[k] * slope
    m += groups.capability_shift(w.cols)
    return m


def _draw_capability(rng: np.random.Generator, w: World, groups: GroupWorld) -> None:
    observed = {k: w.cols[k] for k in S.SUPPORTS}
    none = {k: np.zeros(w.n, dtype=np.int8) for k in S.SUPPORTS}
    e = rng.normal(size=w.n)
    w.truth["e"] = e
    w.truth["m_obs"] = capability_mean(w, observed, groups)
    w.truth["m_none"] = capability_mean(w, none, groups)
    w.truth["theta_obs"] = w.truth["m_obs"] + e
    w.truth["theta_none"] = w.truth["m_none"] + e
    w.truth["gain"] = w.truth["m_obs"] - w.truth["m_none"]
    w.cols["n_supports"] = sum(
        (w.cols[k].astype(np.int16) for k in S.SUPPORTS), start=np.zeros(w.n, dtype=np.int16)
    )


def capability_growth(supports: dict[str, np.ndarray]) -> np.ndarray:
    """g(s): the growth of capability per unit of log(months / 6) under the given supports."""
    g = np.asarray(S.CAPABILITY_GROWTH_INTERCEPT, dtype=np.float64)
    for k in S.SUPPORTS:
        g = g + S.CAPABILITY_GROWTH_SUPPORT.get(k, 0.0) * supports[k]
    return g


def _draw_indicators(rng: np.random.Generator, w: World) -> None:
    """Capability indicators, asked at every wave (independent given the capability of that
    wave, theta + log(wave / 6) g(s): theta itself at 6 months)."""
    growth = capability_growth({k: w.cols[k] for k in S.SUPPORTS})
    for wave in w.waves:
        theta = w.truth["theta_obs"]
        if wave != S.SURVEY_WAVE:
            theta = theta + np.log(wave / S.SURVEY_WAVE) * growth
        for name, spec in S.INDICATORS.items():
            eta = spec["loading"] * theta
            if spec["kind"] == "ordinal":
                y = ordinal(rng, eta, np.array(spec["cutpoints"])).astype(np.float64)
            else:
                y = bernoulli(rng, expit(spec["intercept"] + eta)).astype(np.float64)
            y[rng.random(w.n) < S.INDICATOR_MISSING_RATE] = np.nan
            w.cols[f"{name}@{wave}"] = y


def realisation_logit(
    w: World,
    r: str,
    theta: np.ndarray,
    supports: dict[str, np.ndarray],
    groups: GroupWorld,
    alpha: float,
    rho_scale: float,
    months: int,
) -> np.ndarray:
    """alpha_r + rho_r theta + eta_r.s + zeta_r.z + group effects + tau_r log(t/6)."""
    i = S.REALISATIONS.index(r)
    eta = alpha + rho_scale * S.CAPABILITY_LOADING[r] * theta + w.lin(S.REALISATION_EFFECTS[r])
    for k, eff in S.DIRECT_EFFECTS[r].items():
        eta = eta + eff * supports[k]
    eta = eta + groups.realisation_shift(i, w.cols)
    return eta + S.TIME_EFFECT[r] * np.log(months / 6.0)


def _draw_realisations(
    rng: np.random.Generator, w: World, intercepts: Intercepts, groups: GroupWorld
) -> None:
    observed = {k: w.cols[k] for k in S.SUPPORTS}
    none = {k: np.zeros(w.n, dtype=np.int8) for k in S.SUPPORTS}
    theta_obs, theta_none = w.truth["theta_obs"], w.truth["theta_none"]
    six = S.SURVEY_WAVE

    def base_eta(r: str, scale: float) -> np.ndarray:
        return realisation_logit(w, r, theta_obs, observed, groups, 0.0, scale, six)

    def no_change_share(scale: float) -> float:
        trial = Intercepts()
        p_none = np.ones(w.n)
        for r in S.REALISATIONS:
            eta = base_eta(r, scale)
            p_none *= 1 - expit(eta + trial.logit(r, eta, S.REALISATION_TARGETS[r]))
        return float(p_none.mean())

    scale = intercepts.scalar(
        "capability_loading_scale",
        lambda: solve_increasing(no_change_share, S.NO_CHANGE_TARGET, 0.0, 6.0),
    )
    u = rng.random((len(S.REALISATIONS), w.n))
    for i, r in enumerate(S.REALISATIONS):
        alpha = intercepts.logit(f"realisation:{r}", base_eta(r, scale), S.REALISATION_TARGETS[r])
        for wave in w.waves:
            p_obs = expit(realisation_logit(w, r, theta_obs, observed, groups, alpha, scale, wave))
            p_none = expit(realisation_logit(w, r, theta_none, none, groups, alpha, scale, wave))
            w.truth[f"p_obs:{r}@{wave}"] = p_obs
            w.truth[f"p_none:{r}@{wave}"] = p_none
            w.truth[f"r_obs:{r}@{wave}"] = (u[i] < p_obs).astype(np.int8)
            w.truth[f"r_none:{r}@{wave}"] = (u[i] < p_none).astype(np.int8)
            w.cols[f"{r}@{wave}"] = w.truth[f"r_obs:{r}@{wave}"]
    for wave in w.waves:
        any_obs = np.max([w.truth[f"r_obs:{r}@{wave}"] for r in S.REALISATIONS], axis=0)
        any_none = np.max([w.truth[f"r_none:{r}@{wave}"] for r in S.REALISATIONS], axis=0)
        w.truth[f"any_obs@{wave}"] = any_obs
        w.truth[f"any_none@{wave}"] = any_none
        w.truth[f"necessary@{wave}"] = (any_obs & (1 - any_none)).astype(np.int8)


def _draw_services(rng: np.random.Generator, w: World, intercepts: Intercepts) -> None:
    """Q5 complementary services; a preferred route per person makes the services compete."""
    targets = np.array([spec["target"] for spec in S.SERVICES.values()])
    route = rng.choice(targets.size, size=w.n, p=targets / targets.sum())
    etas = {}
    for name, spec in S.SERVICES.items():
        eta = w.lin({k: v for k, v in spec["effects"].items() if k != "theta"})
        etas[name] = eta + spec["effects"].get("theta", 0.0) * w.truth["theta_obs"]

    def service_share(loading: float) -> float:  # share with at least one service
        trial = Intercepts()
        p_none = np.ones(w.n)
        for i, (name, spec) in enumerate(S.SERVICES.items()):
            eta = etas[name] + loading * (route == i)
            p_none *= 1 - expit(eta + trial.logit(name, eta, spec["target"]))
        return 1.0 - float(p_none.mean())

    loading = intercepts.scalar(
        "service_route_loading",
        lambda: solve_increasing(service_share, 1.0 - S.NO_SERVICE_TARGET, 0.0, 8.0),
    )
    for i, (name, spec) in enumerate(S.SERVICES.items()):
        eta = etas[name] + loading * (route == i)
        w.cols[name] = bernoulli(rng, expit(eta + intercepts.logit(name, eta, spec["target"])))


def _draw_survey_answers(rng: np.random.Generator, w: World, intercepts: Intercepts) -> None:
    """Q5 services, Q13 usefulness, decisive-test failure, self-reported attribution."""
    six = S.SURVEY_WAVE
    w.truth["any_change"] = w.truth[f"any_obs@{six}"]
    eta = w.lin(S.USEFULNESS_EFFECTS)
    cuts = intercepts.cutpoints("usefulness", eta, S.USEFULNESS_TARGETS)
    w.cols["usefulness"] = ordinal(rng, eta, cuts)
    eta = S.DECISIVE_TEST["intercept"] + w.lin(
        {k: v for k, v in S.DECISIVE_TEST.items() if k != "intercept"}
    )
    w.cols["decisive_test_failed"] = bernoulli(rng, expit(eta))
    for wave in sorted(w.waves, key=lambda x: x != six):  # the survey wave first: it calibrates
        w.truth["necessary"] = w.truth[f"necessary@{wave}"]
        eta = w.lin(S.ATTRIBUTION_EFFECTS)
        changers = w.truth[f"any_obs@{wave}"] == 1
        c = (
            intercepts.logit("attribution", eta[changers], S.ATTRIBUTION_TARGET)
            if (wave == six)
            else intercepts.values["attribution"]
        )
        att = bernoulli(rng, expit(eta + c)).astype(np.float64)
        att[~changers] = np.nan
        w.cols[f"attribution@{wave}"] = att
    del w.truth["necessary"], w.truth["any_change"]
