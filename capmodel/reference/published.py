"""The published survey figures (docs/domain.md §8) and how to compute them from a survey table.

Every figure is a weighted share on the 6-month respondents. ``MARGINS`` must be reproduced
within 3 percentage points; ``CONTRASTS`` (published subgroup differences) in direction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

Selector = Callable[[pd.DataFrame], pd.Series]

REALISATIONS = (
    "training",
    "occupation_change",
    "business_creation",
    "company_change",
    "post_change",
    "sector_change",
)
SUPPORTS = ("information", "reflection", "referral", "confidence")


@dataclass(frozen=True)
class Margin:
    """A published share: table, item label, value (0-1), the 0/1 outcome and the base rows."""

    table: str
    item: str
    published: float
    outcome: Selector
    base: Selector | None = None  # rows the share is computed on (default: all)


@dataclass(frozen=True)
class Contrast:
    """A published subgroup contrast: ``outcome`` is more frequent in ``high`` than in ``low``."""

    table: str
    item: str
    outcome: Selector
    high: Selector
    low: Selector
    published_high: float
    published_low: float
    base: Selector | None = None


def _col(name: str) -> Selector:
    return lambda d: d[name].astype(float)


def _equals(name: str, level: str) -> Selector:
    return lambda d: (d[name] == level).astype(float)


def _is(name: str, *levels: str) -> Selector:
    return lambda d: d[name].isin(levels)


def _any_change(d: pd.DataFrame) -> pd.Series:
    return d[list(REALISATIONS)].max(axis=1).astype(float)


def _changers(d: pd.DataFrame) -> pd.Series:
    return _any_change(d) == 1


def _everyone(d: pd.DataFrame) -> pd.Series:
    return pd.Series(True, index=d.index)


_SERVICES = {
    "svc_training": ("training", 0.29),
    "svc_skills_assessment": ("skills assessment", 0.11),
    "svc_business_support": ("business-creation support", 0.08),
    "svc_immersion": ("work immersion", 0.08),
}
_Q9 = {
    "training": 0.30,
    "occupation_change": 0.14,
    "business_creation": 0.12,
    "company_change": 0.10,
    "post_change": 0.09,
    "sector_change": 0.08,
}
_Q13 = {"very": 0.32, "fairly": 0.37, "not_very": 0.15, "not_at_all": 0.16}

MARGINS: tuple[Margin, ...] = (
    *(Margin("Q5 complementary service", label, v, _col(c)) for c, (label, v) in _SERVICES.items()),
    Margin(
        "Q5 complementary service",
        "none",
        0.52,
        lambda d: 1.0 - d[list(_SERVICES)].max(axis=1).astype(float),
    ),
    Margin("Q9 change since the CEP", "no change", 0.44, lambda d: 1.0 - _any_change(d)),
    *(Margin("Q9 change since the CEP", r, v, _col(r)) for r, v in _Q9.items()),
    *(Margin("Q13 usefulness", lv, v, _equals("usefulness", lv)) for lv, v in _Q13.items()),
    Margin(
        "Attribution",
        "would not have happened without the CEP (changers)",
        0.30,
        _col("attribution"),
        _changers,
    ),
    Margin(
        "Service level",
        "UO1 only (population share)",
        0.67,
        lambda d: (d["service_level"] == "UO1").astype(float),
    ),
)

CONTRASTS: tuple[Contrast, ...] = (
    Contrast(
        "Q1 reasons",
        "change post/occupation: under 26 vs all",
        _col("motive_change"),
        _is("age_band", "under_26"),
        _everyone,
        0.48,
        0.37,
    ),
    Contrast(
        "Q1 reasons",
        "business creation: men vs women",
        _col("motive_business"),
        _is("sex", "M"),
        _is("sex", "F"),
        0.22,
        0.11,
    ),
    Contrast(
        "Q1 reasons",
        "step back: bac+2 and above vs below bac",
        _col("motive_step_back"),
        _is("qualification", "bac2", "bac3_4", "bac5plus"),
        _is("qualification", "below_bac"),
        0.29,
        0.20,
    ),
    Contrast(
        "Q1 reasons",
        "levers in the job: cadres vs ouvriers",
        _col("motive_levers"),
        _is("csp", "cadre"),
        _is("csp", "ouvrier"),
        0.24,
        0.17,
    ),
    Contrast(
        "Q1 reasons",
        "funding: firms 250+ vs <11",
        _col("motive_funding"),
        _is("company_size", "250_4999", "5000_plus"),
        _is("company_size", "1_10"),
        0.30,
        0.20,
    ),
    Contrast(
        "Q4 support",
        "skills/reflection: below bac vs bac+3 and above",
        _col("reflection"),
        _is("qualification", "below_bac"),
        _is("qualification", "bac3_4", "bac5plus"),
        0.21,
        0.15,
    ),
    Contrast(
        "Q4 support",
        "information: bac+3 and above vs below bac",
        _col("information"),
        _is("qualification", "bac3_4", "bac5plus"),
        _is("qualification", "below_bac"),
        0.39,
        0.30,
    ),
    Contrast(
        "Q4 support",
        "funding/referral: firms 5000+ vs <50",
        _col("referral"),
        _is("company_size", "5000_plus"),
        _is("company_size", "1_10", "11_49"),
        0.25,
        0.16,
    ),
    Contrast(
        "Q4 support",
        "information: firms 5000+ vs <11",
        _col("information"),
        _is("company_size", "5000_plus"),
        _is("company_size", "1_10"),
        0.40,
        0.29,
    ),
    Contrast(
        "Attribution",
        "under 26 vs all",
        _col("attribution"),
        _is("age_band", "under_26"),
        _everyone,
        0.40,
        0.30,
        _changers,
    ),
    Contrast(
        "Attribution",
        "below bac vs bac+3 and above",
        _col("attribution"),
        _is("qualification", "below_bac"),
        _is("qualification", "bac3_4", "bac5plus"),
        0.42,
        0.22,
        _changers,
    ),
    Contrast(
        "Attribution",
        "ouvriers vs cadres",
        _col("attribution"),
        _is("csp", "ouvrier"),
        _is("csp", "cadre"),
        0.36,
        0.24,
        _changers,
    ),
    Contrast(
        "Attribution",
        "UO2.1 vs UO1 only",
        _col("attribution"),
        _is("service_level", "UO2.1"),
        _is("service_level", "UO1"),
        0.43,
        0.23,
        _changers,
    ),
)


def weighted_share(
    d: pd.DataFrame, outcome: Selector, rows: pd.Series, weight: str | None = "weight"
) -> float:
    """Weighted mean of a 0/1 outcome over ``rows`` (missing outcomes left out)."""
    y = outcome(d)[rows]
    w = (d[weight] if weight else pd.Series(1.0, index=d.index))[rows]
    ok = y.notna()
    if not ok.any():
        return float("nan")
    return float(np.average(y[ok].astype(float), weights=w[ok].astype(float)))


def margin_table(survey: pd.DataFrame, population: pd.DataFrame | None = None) -> pd.DataFrame:
    """Published vs simulated (weighted and raw survey) for every margin; the UO1 share is
    taken from the population table when one is given (it is a population figure)."""
    rows = []
    for m in MARGINS:
        src = population if (m.table == "Service level" and population is not None) else survey
        base = m.base(src) if m.base else _everyone(src)
        weight = "weight" if "weight" in src else None
        rows.append(
            {
                "table": m.table,
                "item": m.item,
                "published": m.published,
                "weighted": weighted_share(src, m.outcome, base, weight),
                "raw": weighted_share(src, m.outcome, base, None),
            }
        )
    return pd.DataFrame(rows)


def contrast_table(survey: pd.DataFrame) -> pd.DataFrame:
    """Published vs simulated (weighted) subgroup shares for every contrast."""
    rows = []
    for c in CONTRASTS:
        base = c.base(survey) if c.base else _everyone(survey)
        hi = weighted_share(survey, c.outcome, base & c.high(survey))
        lo = weighted_share(survey, c.outcome, base & c.low(survey))
        rows.append(
            {
                "table": c.table,
                "item": c.item,
                "published_high": c.published_high,
                "published_low": c.published_low,
                "simulated_high": hi,
                "simulated_low": lo,
                "same_direction": hi > lo,
            }
        )
    return pd.DataFrame(rows)
