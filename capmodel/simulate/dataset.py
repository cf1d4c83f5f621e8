"""Assemble the simulated world into the tables a statistician gets: population, survey, truth."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from capmodel.data.schema import Covariate, Extra, Group, Indicator, Schema
from capmodel.simulate import cep2021 as S
from capmodel.simulate.calibrate import Intercepts
from capmodel.simulate.draws import Effects
from capmodel.simulate.generate import World, draw_world, group_effects
from capmodel.simulate.groups import GroupWorld
from capmodel.simulate.scenarios import scenario as get_scenario
from capmodel.simulate.survey import rake, select_respondents

ADMIN_COLUMNS = (  # after the scenario's group columns (operator, region[, structure])
    "sex",
    "age_band",
    "qualification",
    "csp",
    "company_size",
    "service_level",
)
ENTRY_COLUMNS = ("maturity", "autonomy")
SERVICE_COLUMNS = tuple(S.SERVICES)
MOTIVE_COLUMNS = tuple(S.MOTIVES)


@dataclass(frozen=True)
class Simulated:
    """A simulated data set with its truth.

    - ``population``: every beneficiary, administrative columns (one row per person).
    - ``survey``: respondents, one row per person and wave, with survey columns and ``weight``.
    - ``schema``: the column roles of ``survey``.
    - ``params``: the true parameters (JSON-ready dict, labelled).
    - ``persons``: per-person truth for the whole population: residual ``e``, capability
      under observed and no support, capability gain, and for each wave and realisation
      the probabilities and outcomes in both worlds (same uniform draws).
    """

    population: pd.DataFrame
    survey: pd.DataFrame
    schema: Schema
    params: dict[str, Any]
    persons: pd.DataFrame
    seed: int

    def write(self, out: str | Path, overwrite: bool = False) -> Path:
        """Write population/survey Parquet, schema JSON and the truth into ``out`` (atomic)."""
        from capmodel.simulate.store import write_simulated

        return write_simulated(self, Path(out), overwrite=overwrite)


@lru_cache(maxsize=4)
def calibrated_intercepts(scenario: str = "cep2021") -> dict[str, float]:
    """Free intercepts/cutpoints of a scenario, solved once on its reference population
    (cached)."""
    rng = np.random.default_rng(S.CALIBRATION_SEED)
    intercepts = Intercepts()
    draw_world(
        rng,
        S.N_POPULATION,
        intercepts,
        (S.SURVEY_WAVE,),
        group_effects(scenario=get_scenario(scenario).name),
    )
    return dict(intercepts.values)


def simulate(
    scenario: str = "cep2021",
    seed: int = 1,
    n_population: int | None = None,
    n_survey: int | None = None,
    waves: tuple[int, ...] = (S.SURVEY_WAVE,),
    attrition: tuple[float, ...] = (),
) -> Simulated:
    """Simulate a CEP data set: population, survey respondents (with quota weights) and truth.

    Deterministic for a seed. ``scenario`` is one of
    :data:`capmodel.simulate.scenarios.SCENARIOS`. ``waves`` lists the months since exit at
    which respondents answer (default the 6-month survey; e.g. ``(1, 6, 18)`` for a panel).
    ``attrition``: for a panel, the share of the persons still answering who leave after each
    wave but the last (e.g. ``(0.15, 0.30)``: 15% are not seen after 1 month, 30% of the others
    not after 6); at random, from its own random stream (the rest of the data set is the
    same as without attrition).
    Sizes default to the published ones (N = 197,074 beneficiaries, n = 6,396 respondents); a
    survey larger than the population is refused.
    """
    scen = get_scenario(scenario)
    n_pop = S.N_POPULATION if n_population is None else int(n_population)
    if n_survey is None:
        n_sv = (
            min(S.N_SURVEY, n_pop)
            if n_population is None
            else round(n_pop * S.N_SURVEY / S.N_POPULATION)
        )
    else:
        n_sv = int(n_survey)
    if n_pop < 1:
        raise ValueError(f"population size must be >= 1, got {n_pop}")
    bad = [w for w in waves if w not in (1, 6, 18)]
    if bad or not waves:
        raise ValueError(f"waves must be a non-empty subset of (1, 6, 18) months, got {waves}")
    waves = tuple(sorted(set(int(w) for w in waves)))
    attrition = tuple(float(a) for a in attrition)
    if attrition and len(attrition) != len(waves) - 1:
        raise ValueError(
            f"attrition {list(attrition)}: expected one rate per wave but the last "
            f"({len(waves) - 1} for waves {list(waves)})"
        )
    if any(not 0.0 <= a < 1.0 for a in attrition):
        raise ValueError(f"attrition {list(attrition)}: each rate must be in [0, 1)")
    rng = np.random.default_rng(seed)
    groups = group_effects(scenario=scen.name)
    world = draw_world(rng, n_pop, Intercepts(calibrated_intercepts(scen.name)), waves, groups)
    offset = scen.response_offset(groups.labour_market, world.cols["region"])
    respondents = select_respondents(
        rng, world.cols, world.levels, S.RESPONSE_EFFECTS, n_sv, offset
    )
    weights = rake(
        {v: world.cols[v][respondents] for v in S.QUOTA_VARIABLES},
        {v: world.cols[v] for v in S.QUOTA_VARIABLES},
        S.QUOTA_VARIABLES,
        {v: world.levels[v] for v in S.QUOTA_VARIABLES},
    )
    ids = np.arange(1, n_pop + 1, dtype=np.int64)
    admin = tuple(groups.levels) + ADMIN_COLUMNS
    population = _frame(world, ids, slice(None), admin)
    survey = _survey_frame(world, ids, respondents, weights, waves, admin)
    if attrition:
        survey = _with_attrition(survey, waves, attrition, seed)
    persons = _persons_frame(world, ids, respondents, waves)
    return Simulated(
        population,
        survey,
        cep2021_schema(survey, scen.name),
        true_params(scen.name),
        persons,
        seed,
    )


def _with_attrition(
    survey: pd.DataFrame, waves: tuple[int, ...], attrition: tuple[float, ...], seed: int
) -> pd.DataFrame:
    """``survey`` without the later rows of the persons lost after each wave."""
    rng = np.random.default_rng([seed, 18])  # its own stream: the rest is unchanged
    present = survey["person_id"].unique()
    keep = np.ones(len(survey), dtype=bool)
    for wave, rate in zip(waves[:-1], attrition, strict=True):
        lost = present[rng.random(present.size) < rate]
        keep &= ~(survey["person_id"].isin(lost) & (survey["months_since_exit"] > wave)).to_numpy()
        present = np.setdiff1d(present, lost)
    return survey[keep].reset_index(drop=True)


def _categorical(world: World, name: str, codes: np.ndarray) -> pd.Categorical:
    levels = world.levels[name]
    return pd.Categorical.from_codes(
        codes.astype(np.int64),
        categories=list(levels),
        ordered=name in ("usefulness", "cap_orientation", "cap_confidence"),
    )


def _frame(world: World, ids: np.ndarray, rows: Any, columns: tuple[str, ...]) -> pd.DataFrame:
    data: dict[str, Any] = {"person_id": ids[rows]}
    for c in columns:
        data[c] = _categorical(world, c, world.cols[c][rows])
    return pd.DataFrame(data)


def _survey_frame(
    world: World,
    ids: np.ndarray,
    rows: np.ndarray,
    weights: np.ndarray,
    waves: tuple[int, ...],
    admin: tuple[str, ...],
) -> pd.DataFrame:
    parts = []
    for wave in waves:
        df = _frame(world, ids, rows, admin + ENTRY_COLUMNS)
        df.insert(1, "months_since_exit", np.int64(wave))
        df.insert(2, "weight", weights)
        for c in MOTIVE_COLUMNS + S.SUPPORTS + SERVICE_COLUMNS:
            df[c] = world.cols[c][rows].astype(np.int8)
        for name, spec in S.INDICATORS.items():
            y = world.cols[f"{name}@{wave}"][rows]
            if spec["kind"] == "ordinal":
                codes = np.where(np.isnan(y), -1, y).astype(np.int64)
                df[name] = pd.Categorical.from_codes(
                    codes, categories=list(world.levels[name]), ordered=True
                )
            else:
                df[name] = pd.array(np.where(np.isnan(y), pd.NA, y), dtype="Int8")
        for r in S.REALISATIONS:
            df[r] = world.cols[f"{r}@{wave}"][rows].astype(np.int8)
        df["usefulness"] = _categorical(world, "usefulness", world.cols["usefulness"][rows])
        att = world.cols[f"attribution@{wave}"][rows]
        df["attribution"] = pd.array(np.where(np.isnan(att), pd.NA, att), dtype="Int8")
        df["decisive_test_failed"] = world.cols["decisive_test_failed"][rows].astype(np.int8)
        parts.append(df)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["person_id", "months_since_exit"], ignore_index=True)


def _persons_frame(
    world: World, ids: np.ndarray, respondents: np.ndarray, waves: tuple[int, ...]
) -> pd.DataFrame:
    in_survey = np.zeros(world.n, dtype=bool)
    in_survey[respondents] = True
    data: dict[str, Any] = {"person_id": ids, "in_survey": in_survey}
    for c in ("e", "m_obs", "m_none", "theta_obs", "theta_none", "gain"):
        data[c] = world.truth[c].astype(np.float32)
    for wave in waves:
        for r in S.REALISATIONS:
            for kind in ("p_obs", "p_none", "r_obs", "r_none"):
                v = world.truth[f"{kind}:{r}@{wave}"]
                data[f"{kind}__{r}__m{wave}"] = v.astype(np.float32 if kind[0] == "p" else np.int8)
        for kind in ("any_obs", "any_none", "necessary"):
            data[f"{kind}__m{wave}"] = world.truth[f"{kind}@{wave}"].astype(np.int8)
    return pd.DataFrame(data)


def _reference(column: str) -> str:
    return S.REFERENCE.get(column, S.LEVELS[column][0])


def _effects_table(column: str, effects: dict[str, float]) -> dict[str, float]:
    return {lv: float(effects.get(lv, 0.0)) for lv in S.LEVELS[column]}


def true_params(scenario: str = "cep2021") -> dict[str, Any]:
    """The scenario's true parameters, labelled (categorical effects as level -> value, 0 at the
    reference level), including the calibrated intercepts and the drawn group effects."""
    scen = get_scenario(scenario)
    groups = group_effects(scenario=scen.name)
    cal = calibrated_intercepts(scen.name)
    scale = cal["capability_loading_scale"]

    def table(effects: Effects) -> dict[str, object]:
        return {
            c: (_effects_table(c, e) if isinstance(e, dict) else float(e))
            for c, e in effects.items()
        }

    return {
        "scenario": scen.name,
        "scenario_description": scen.description,
        "references": {c: _reference(c) for c in S.LEVELS},
        "capability": {
            "support_effect": dict(S.SUPPORT_EFFECT),
            "conversion": {k: table(v) for k, v in S.CONVERSION.items()},
            "effects": table(S.CAPABILITY_EFFECTS),
            **{f"{g}_effect": _group_table(groups, g, e) for g, e in groups.capability.items()},
            "residual_sd": 1.0,
            # indicators at w months measure theta + log(w / 6) (intercept + support . s)
            "growth": {
                "intercept": S.CAPABILITY_GROWTH_INTERCEPT,
                "support": {k: float(S.CAPABILITY_GROWTH_SUPPORT.get(k, 0.0)) for k in S.SUPPORTS},
            },
        },
        "measurement": {
            k: {kk: (list(vv) if isinstance(vv, tuple) else vv) for kk, vv in v.items()}
            for k, v in S.INDICATORS.items()
        },
        "realisations": {
            r: {
                "intercept": cal[f"realisation:{r}"],
                "capability_loading": scale * S.CAPABILITY_LOADING[r],
                "support_effect": {k: float(S.DIRECT_EFFECTS[r].get(k, 0.0)) for k in S.SUPPORTS},
                "effects": table(S.REALISATION_EFFECTS[r]),
                "time_effect": S.TIME_EFFECT[r],
                **{
                    f"{g}_effect": _group_table(groups, g, e[i])
                    for g, e in groups.realisation.items()
                },
            }
            for i, r in enumerate(S.REALISATIONS)
        },
        "group_sd": dict(groups.sd),
        "groups": {
            "layout": groups.layout,
            "levels": {g: list(lv) for g, lv in groups.levels.items()},
            "within": dict(groups.within),
        },
        "labour_market": {
            "sd": scen.labour_market_sd,
            "response_to_labour_market": scen.response_to_labour_market,
            "region_effect": _group_table(groups, "region", groups.labour_market),
            "note": "added to every realisation's region_effect above (already included there); "
            "survey response logit + response_to_labour_market * effect / sd",
        },
        "survey_response": {c: dict(v) for c, v in S.RESPONSE_EFFECTS.items()},
        "quota_variables": list(S.QUOTA_VARIABLES),
        "calibrated_constants": cal,
        "notes": "theta = sum_k s_k (support_effect_k + conversion_k . z) + effects . z "
        "+ the group effects (<group>_effect) + e, e ~ N(0, 1); "
        "logit P(realisation) = intercept + capability_loading * theta "
        "+ support_effect . s + effects . z + the group effects (<group>_effect) "
        "+ time_effect * log(months / 6).",
    }


def _group_table(groups: GroupWorld, key: str, effect: np.ndarray) -> dict[str, float]:
    """level -> effect; an interaction ``a:b`` is keyed ``"level_a:level_b"`` (the model's
    labels of interaction cells)."""
    if ":" in key:
        a, b = key.split(":")
        return {
            f"{la}:{lb}": float(effect[i, j])
            for i, la in enumerate(groups.levels[a])
            for j, lb in enumerate(groups.levels[b])
        }
    return dict(zip(groups.levels[key], effect.tolist(), strict=True))


def cep2021_schema(survey: pd.DataFrame | None = None, scenario: str = "cep2021") -> Schema:
    """The column roles of a simulated survey table (the scenario sets the group columns).

    Group levels are declared in their canonical order; given the survey, only the levels it
    has rows for (a small survey may miss small regions).
    """

    def present(column: str, levels: tuple[str, ...]) -> tuple[str, ...]:
        if survey is None:
            return levels
        seen = set(survey[column].astype(str))
        return tuple(lv for lv in levels if lv in seen)

    def cov(c: str) -> Covariate:
        return Covariate(c, "categorical", S.LEVELS[c], _reference(c))

    world = group_effects(scenario=get_scenario(scenario).name)

    ordinal_ind = [
        Indicator(k, "ordinal", S.LEVELS[k])
        for k, v in S.INDICATORS.items()
        if v["kind"] == "ordinal"
    ]
    binary_ind = [Indicator(k, "binary") for k, v in S.INDICATORS.items() if v["kind"] == "binary"]
    return Schema(
        id="person_id",
        wave="months_since_exit",
        waves=(1, 6, 18),
        weight="weight",
        groups=tuple(
            Group(g, within=world.within.get(g), levels=present(g, levels))
            for g, levels in world.levels.items()
        ),
        supports=S.SUPPORTS,
        factors=tuple(
            cov(c)
            for c in ("sex", "age_band", "qualification", "csp", "company_size", "service_level")
        ),
        confounders=tuple(cov(c) for c in ENTRY_COLUMNS)
        + tuple(Covariate(m, "numeric") for m in MOTIVE_COLUMNS),
        indicators=tuple(ordinal_ind + binary_ind),
        realisations=S.REALISATIONS,
        extras=tuple(Extra(c, "binary") for c in SERVICE_COLUMNS)
        + (
            Extra("usefulness", "ordinal", S.LEVELS["usefulness"]),
            Extra("attribution", "binary"),
            Extra("decisive_test_failed", "binary"),
        ),
    )
