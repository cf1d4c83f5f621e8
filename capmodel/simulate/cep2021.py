"""The ``cep2021`` scenario: the 2021-22 CEP for employed workers (docs/domain.md §6-§8).

Everything here is a constant of the scenario: level sets, population shares, the
structural coefficients of the capability model, the published margins that the free
intercepts are calibrated to, and the non-response mechanism of the 6-month survey.
Intercepts/cutpoints marked "calibrated" are not written here: they are solved from the
TARGETS on a reference population (see :mod:`capmodel.simulate.calibrate`).
Categorical effects are relative to each column's reference level (``REFERENCE``, else
the first level): a level left out of an effect table has effect 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from capmodel.reference import published

if TYPE_CHECKING:
    from capmodel.simulate.draws import Effects


class Motive(TypedDict):
    """A Q1 reason for coming: its published share and the effects on its logit."""

    target: float
    effects: Effects


class Service(TypedDict):
    """A Q5 complementary service: its published share and the effects on its logit."""

    target: float
    effects: dict[str, float]


N_POPULATION = 197_074
N_SURVEY = 6_396
SURVEY_WAVE = 6
PARAMETER_SEED = 2021  # draws the operator/region effects once, for every simulation seed
CALIBRATION_SEED = 0  # the reference population the intercepts are solved on

# --- groups: the real region -> operator-type mapping (docs/domain.md §6) --------------
OPERATORS = ("Tingari", "Catalys", "EVA-CIBC", "Other")
REGIONS: tuple[tuple[str, str, float], ...] = (
    ("Île-de-France", "Tingari", 0.185),
    ("Hauts-de-France", "Tingari", 0.085),
    ("Centre-Val de Loire", "Tingari", 0.040),
    ("Bretagne", "Catalys", 0.055),
    ("Normandie", "Catalys", 0.050),
    ("Pays de la Loire", "Catalys", 0.060),
    ("Grand Est", "EVA-CIBC", 0.080),
    ("Bourgogne-Franche-Comté", "EVA-CIBC", 0.040),
    ("Auvergne-Rhône-Alpes", "EVA-CIBC", 0.120),
    ("Provence-Alpes-Côte d'Azur", "EVA-CIBC", 0.075),
    ("Occitanie", "EVA-CIBC", 0.080),
    ("Nouvelle-Aquitaine", "EVA-CIBC", 0.085),
    ("Guadeloupe", "EVA-CIBC", 0.010),
    ("La Réunion", "EVA-CIBC", 0.015),
    ("Mayotte", "EVA-CIBC", 0.003),
    ("Guyane", "Other", 0.004),
    ("Corse", "Other", 0.005),
    ("Martinique", "Other", 0.008),
)
SD_OPERATOR = 0.25  # capability: operator-type effect sd
SD_REGION = 0.20  # capability: region effect sd
SD_REAL_OPERATOR = 0.15  # realisations: per-realisation operator effect sd
SD_REAL_REGION = 0.15  # realisations: per-realisation region effect sd

# --- levels (in natural order) and reference levels (effects are relative to these) ---
LEVELS: dict[str, tuple[str, ...]] = {
    "sex": ("F", "M"),
    "age_band": ("under_26", "26_44", "45_plus"),
    "qualification": ("below_bac", "bac", "bac2", "bac3_4", "bac5plus"),
    "csp": ("ouvrier", "employe", "prof_intermediaire", "cadre", "other"),
    "company_size": ("1_10", "11_49", "50_249", "250_4999", "5000_plus"),
    "service_level": ("UO1", "UO2.1", "UO2.2"),
    "maturity": ("low", "medium", "high"),
    "autonomy": ("low", "medium", "high"),
    "usefulness": ("not_at_all", "not_very", "fairly", "very"),
    "cap_orientation": ("not_at_all", "a_little", "rather", "completely"),
    "cap_confidence": ("not_at_all", "a_little", "rather", "completely"),
}

REFERENCE: dict[str, str] = {"age_band": "26_44", "csp": "employe"}  # others: first level

# --- socio-demographics (population shares; conditional logits) ----------------------
SEX_SHARES = {"F": 0.60, "M": 0.40}
AGE_SHARES = {"under_26": 0.04, "26_44": 0.69, "45_plus": 0.27}
QUALIFICATION_LOGITS = {  # base logits + shift by age band
    "base": {"below_bac": 0.0, "bac": 0.0, "bac2": -0.05, "bac3_4": -0.15, "bac5plus": -0.15},
    "under_26": {"bac2": 0.2, "bac3_4": 0.2, "bac5plus": -0.3},
    "45_plus": {"below_bac": 0.4, "bac3_4": -0.2, "bac5plus": -0.2},
}
CSP_LOGITS = {  # base + shift by qualification
    "base": {
        "employe": 0.0,
        "ouvrier": -0.6,
        "prof_intermediaire": -0.4,
        "cadre": -0.9,
        "other": -2.2,
    },
    "below_bac": {"ouvrier": 1.1, "cadre": -2.0, "prof_intermediaire": -0.8},
    "bac": {"ouvrier": 0.4, "cadre": -1.0},
    "bac3_4": {"ouvrier": -1.0, "prof_intermediaire": 0.6, "cadre": 1.0},
    "bac5plus": {"ouvrier": -1.5, "prof_intermediaire": 0.5, "cadre": 2.0},
}
COMPANY_LOGITS = {  # base + shift by csp
    "base": {"1_10": 0.0, "11_49": 0.1, "50_249": 0.1, "250_4999": 0.3, "5000_plus": 0.0},
    "cadre": {"1_10": -0.4, "5000_plus": 0.5, "250_4999": 0.3},
    "ouvrier": {"1_10": 0.2, "11_49": 0.2},
}

# --- entry situation (docs/domain.md §1: drives motives and support) ------------------
MATURITY_LOGITS = {
    "base": {"low": 0.0, "medium": 0.3, "high": -0.2},
    "under_26": {"low": 0.5},
    "45_plus": {"high": 0.3},
    "bac3_4": {"high": 0.3},
    "bac5plus": {"high": 0.4},
}
AUTONOMY_LOGITS = {
    "base": {"low": 0.0, "medium": 0.5, "high": 0.0},
    "below_bac": {"low": 0.6, "high": -0.5},
    "bac5plus": {"high": 0.5},
    "cadre": {"high": 0.5},
    "ouvrier": {"low": 0.3},
}

# --- Q1 reasons for coming (multi-select); targets = published bars ------------------
MOTIVES: dict[str, Motive] = {
    "motive_project": {"target": 0.46, "effects": {"maturity": {"medium": 0.3, "high": -0.3}}},
    "motive_change": {"target": 0.37, "effects": {"age_band": {"under_26": 0.55, "45_plus": -0.1}}},
    "motive_funding": {
        "target": 0.25,
        "effects": {
            "maturity": {"high": 0.5},
            "company_size": {"1_10": -0.3, "11_49": -0.15, "250_4999": 0.25, "5000_plus": 0.3},
        },
    },
    "motive_information": {"target": 0.25, "effects": {"maturity": {"medium": -0.2, "high": -0.6}}},
    "motive_step_back": {
        "target": 0.21,
        "effects": {"qualification": {"bac": 0.2, "bac2": 0.5, "bac3_4": 0.55, "bac5plus": 0.55}},
    },
    "motive_levers": {"target": 0.19, "effects": {"csp": {"ouvrier": -0.2, "cadre": 0.3}}},
    "motive_business": {"target": 0.15, "effects": {"sex": {"M": 0.85}}},
    "motive_retirement": {"target": 0.04, "effects": {"age_band": {"45_plus": 1.5}}},
    "motive_other": {"target": 0.02, "effects": {}},
}

# --- service level (cumulative logit; cutpoints calibrated) --------------------------
SERVICE_LEVEL_TARGETS = {"UO1": 0.67, "UO2.1": 0.25, "UO2.2": 0.08}
SERVICE_LEVEL_EFFECTS: Effects = {
    "maturity": {"medium": 0.5, "high": 0.3},
    "motive_project": 0.6,
    "motive_funding": 0.4,
    "motive_information": -0.5,
    "operator": {"Catalys": 0.2, "EVA-CIBC": 0.1, "Other": -0.3},
}

# --- supports received (Q4 mapping, documented in docs/data.md) ----------------------
SUPPORTS = published.SUPPORTS
SUPPORT_TARGETS = {"information": 0.45, "reflection": 0.32, "referral": 0.26, "confidence": 0.28}
NO_SUPPORT_TARGET = 0.30  # "the CEP did not help with my steps" (Q4)
SUPPORT_EFFECTS: dict[str, Effects] = {
    "information": {
        "service_level": {"UO2.1": 0.5, "UO2.2": 0.6},
        "motive_information": 0.9,
        "qualification": {"bac": 0.1, "bac2": 0.2, "bac3_4": 0.4, "bac5plus": 0.45},
        "company_size": {"11_49": 0.1, "50_249": 0.2, "250_4999": 0.3, "5000_plus": 0.5},
    },
    "reflection": {
        "service_level": {"UO2.1": 1.1, "UO2.2": 1.3},
        "motive_project": 0.6,
        "maturity": {"medium": -0.2, "high": -0.5},
        "qualification": {"bac": -0.1, "bac2": -0.25, "bac3_4": -0.4, "bac5plus": -0.45},
    },
    "referral": {
        "service_level": {"UO2.1": 0.9, "UO2.2": 1.4},
        "motive_funding": 0.9,
        "motive_business": 0.5,
        "maturity": {"high": 0.4},
        "company_size": {"11_49": 0.0, "50_249": 0.2, "250_4999": 0.35, "5000_plus": 0.6},
    },
    "confidence": {
        "service_level": {"UO2.1": 0.8, "UO2.2": 1.0},
        "autonomy": {"medium": -0.4, "high": -0.8},
        "age_band": {"45_plus": 0.3},
        "operator": {"Catalys": 0.2, "Other": -0.2},
    },
}

# --- capability: theta = sum_k s_k (beta_k + sum_c gamma_kc z_c) + sum_c delta_c z_c + a + e
SUPPORT_EFFECT = {"information": 0.45, "reflection": 0.80, "referral": 0.20, "confidence": 0.75}
CONVERSION = {  # gamma: which support is converted differently by which conversion factor
    "information": {
        "csp": {"ouvrier": 0.10, "prof_intermediaire": -0.10, "cadre": -0.25, "other": 0.0}
    },
    "reflection": {
        "qualification": {"bac": -0.15, "bac2": -0.30, "bac3_4": -0.45, "bac5plus": -0.55}
    },
    "referral": {
        "company_size": {"11_49": 0.05, "50_249": 0.10, "250_4999": 0.20, "5000_plus": 0.30}
    },
    "confidence": {"age_band": {"under_26": 0.35, "45_plus": -0.25}},
}
CAPABILITY_EFFECTS = {  # delta: conversion factors and confounders in capability
    "sex": {"M": 0.05},
    "age_band": {"under_26": 0.10, "45_plus": -0.20},
    "qualification": {"bac": 0.05, "bac2": 0.10, "bac3_4": 0.15, "bac5plus": 0.20},
    "maturity": {"medium": 0.30, "high": 0.60},
    "autonomy": {"medium": 0.30, "high": 0.50},
}

# --- measurement: capability indicators ---------------------------------------------
INDICATORS: dict[str, dict[str, object]] = {
    "cap_orientation": {"kind": "ordinal", "loading": 1.3, "cutpoints": (-1.2, 0.0, 1.6)},
    "cap_options": {"kind": "binary", "loading": 1.0, "intercept": -0.2},
    "cap_confidence": {"kind": "ordinal", "loading": 0.9, "cutpoints": (-1.5, -0.3, 1.2)},
    "cap_decision": {"kind": "binary", "loading": 0.8, "intercept": 0.1},
}
INDICATOR_MISSING_RATE = 0.02  # item non-response, completely at random
# capability changes between waves: the indicators at w months measure theta + log(w / 6) g,
# g = intercept + sum_k s_k growth_k (theta itself at the 6-month survey)
CAPABILITY_GROWTH_INTERCEPT = 0.10
CAPABILITY_GROWTH_SUPPORT = {
    "information": 0.0,
    "reflection": 0.15,
    "referral": 0.0,
    "confidence": 0.10,
}

# --- realisations (Q9): alpha calibrated at 6 months; rho scaled to the no-change share
REALISATIONS = published.REALISATIONS  # the survey's items, as the published tables name them
REALISATION_TARGETS = {
    "training": 0.30,
    "occupation_change": 0.14,
    "business_creation": 0.12,
    "company_change": 0.10,
    "post_change": 0.09,
    "sector_change": 0.08,
}
NO_CHANGE_TARGET = 0.44
CAPABILITY_LOADING = {
    "training": 0.60,
    "occupation_change": 0.55,
    "business_creation": 0.45,
    "company_change": 0.40,
    "post_change": 0.35,
    "sector_change": 0.45,
}
DIRECT_EFFECTS = {  # eta_rk: support -> realisation not through capability
    "training": {"referral": 0.50, "information": 0.10},
    "occupation_change": {"reflection": 0.20},
    "business_creation": {"referral": 0.30, "confidence": 0.20},
    "company_change": {},
    "post_change": {"information": 0.15},
    "sector_change": {},
}
REALISATION_EFFECTS: dict[str, Effects] = {  # zeta_rc: conversion factors and confounders
    "training": {"maturity": {"high": 0.30}, "motive_funding": 0.60, "age_band": {"45_plus": -0.2}},
    "occupation_change": {"motive_change": 0.60, "maturity": {"medium": 0.2, "high": 0.4}},
    "business_creation": {"motive_business": 1.60, "sex": {"M": 0.30}},
    "company_change": {"motive_change": 0.30, "age_band": {"under_26": 0.4}},
    "post_change": {"motive_change": 0.50, "motive_levers": 0.30},
    "sector_change": {"motive_change": 0.40, "qualification": {"below_bac": 0.0, "bac5plus": -0.2}},
}
TIME_EFFECT = {
    "training": 0.50,
    "occupation_change": 0.45,
    "business_creation": 0.35,
    "company_change": 0.40,
    "post_change": 0.40,
    "sector_change": 0.45,
}

# --- Q5 complementary services; intercepts calibrated ---------------------------------
SERVICES: dict[str, Service] = {
    "svc_training": {
        "target": 0.29,
        "effects": {"referral": 0.7, "motive_funding": 0.7, "theta": 0.2},
    },
    "svc_skills_assessment": {
        "target": 0.11,
        "effects": {"referral": 0.7, "reflection": 0.4, "motive_project": 0.3},
    },
    "svc_business_support": {"target": 0.08, "effects": {"referral": 0.6, "motive_business": 2.0}},
    "svc_immersion": {"target": 0.08, "effects": {"referral": 0.7, "motive_change": 0.6}},
}
NO_SERVICE_TARGET = 0.52
# Independent services with these margins would leave 53.5% with none: the published 52% needs
# services that compete. Each person leans towards one route (drawn with probabilities
# proportional to the targets), which adds a calibrated boost to that service only.

# --- Q13 usefulness (cumulative logit; cutpoints calibrated) ---------------------------
USEFULNESS_TARGETS = {"not_at_all": 0.16, "not_very": 0.15, "fairly": 0.37, "very": 0.32}
USEFULNESS_EFFECTS = {"gain": 0.9, "any_change": 0.6, "n_supports": 0.35}

# --- failure at a decisive test (funding commission, employer refusal) ---------------
DECISIVE_TEST = {"intercept": -2.6, "motive_funding": 1.3, "referral": 0.6, "any_change": -1.2}

# --- self-reported attribution among changers ("would not have happened without") ----
ATTRIBUTION_TARGET = 0.30
ATTRIBUTION_EFFECTS: Effects = {
    "necessary": 1.6,
    "gain": 0.5,
    "service_level": {"UO2.1": 0.45, "UO2.2": 0.5},
    "age_band": {"under_26": 0.7},
    "qualification": {"below_bac": 0.30, "bac3_4": -0.25, "bac5plus": -0.35},
    "csp": {"ouvrier": 0.15, "cadre": -0.15},
}

# --- 6-month survey: response propensity (logit) and quota (raking) variables ---------
RESPONSE_EFFECTS = {
    "age_band": {"under_26": -0.9, "45_plus": 1.0},
    "service_level": {"UO2.1": 1.2, "UO2.2": 0.6},
    "sex": {"M": -0.15},
    "qualification": {"below_bac": -0.2, "bac3_4": 0.15, "bac5plus": 0.25},
    "company_size": {"250_4999": 0.15, "5000_plus": 0.25},
}
QUOTA_VARIABLES = ("sex", "age_band", "qualification", "company_size", "operator", "service_level")
