"""Sampling plans for the 1/6/18-month follow-up survey, and the surveys they draw from a
simulated population (docs/design.md).

A :class:`SamplingPlan` says who is interviewed, when and how many:

- a **panel** (``kind = "panel"``): the same persons at every wave, recruited at the first;
  after each wave but the last some are lost (attrition), chosen at random, so that the
  number interviewed at each wave is exactly the plan's;
- **repeated cross sections** (``kind = "cross_sections"``): different persons at each wave,
  each wave's respondents drawn from the persons not drawn at an earlier wave (fresh samples
  of the same population; in a population much larger than the survey this is nearly an
  independent draw per wave), so that each person has one row and the model sees each wave's
  respondents as persons of their own;
- an optional **allocation**: oversampling factors f by level of an administrative column
  (``service_level``, ``operator``, ``region``, ...; ``{"service_level": {"UO2.2": 3.0}}``
  draws UO2.2 beneficiaries with 3 times the probability of the others, all else equal).

**Selection** is the simulator's (:mod:`capmodel.simulate.survey`): exactly n respondents,
drawn without replacement with probability proportional to their response propensity (which
the analyst does not know; it over-represents older people, UO2.1 users, women, graduates and
large firms) times the plan's factor f_i (which the analyst knows: it is the design).

**Weights** (the ``weight`` column): each respondent's design weight 1/f_i (the inverse of
the design's relative inclusion probability), then raked to the population margins of the
quota variables (sex, age band, qualification, company size, operator, service level: the
report's) starting from the design weights, normalised to mean 1 in each sample. The raking
corrects the non-response the design weights cannot see; the design weights carry the
oversampling of a column that is not a quota variable (region). A panel's weights are set
once, at recruitment (its attrition is at random, so it needs no further weighting); each
cross section is weighted on its own.

**Common random numbers.** :func:`draw_population` draws the population (and every person's
truth at 1, 6 and 18 months) once for a seed; :func:`draw_survey` draws any plan's survey
from it, every plan from the same random stream. A panel without oversampling or attrition
draws exactly the survey ``simulate(scenario, seed, n_population, n_survey, waves)`` draws.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from capmodel.simulate import cep2021 as S
from capmodel.simulate.calibrate import Intercepts
from capmodel.simulate.dataset import (
    ADMIN_COLUMNS,
    Simulated,
    _frame,
    _persons_frame,
    _survey_frame,
    calibrated_intercepts,
    cep2021_schema,
    true_params,
)
from capmodel.simulate.generate import World, draw_world, group_effects
from capmodel.simulate.scenarios import scenario as get_scenario
from capmodel.simulate.survey import rake, select_respondents

PANEL, CROSS_SECTIONS = "panel", "cross_sections"
KINDS = (PANEL, CROSS_SECTIONS)
WAVES = (1, 6, 18)  # the months a plan may interview at (the population is drawn for all)
GROUP_COLUMNS = ("operator", "region", "structure")  # structure: crossed scenarios only
OVERSAMPLE_COLUMNS = GROUP_COLUMNS + ADMIN_COLUMNS
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
PLAN_KEYS: tuple[str, ...] = ("name", "description", "kind", "waves", "persons", "respondents")
PLAN_KEYS += ("attrition", "oversample")


class PlanError(ValueError):
    """A sampling plan (or a plans file) that cannot be used; the message names the plan and
    the key."""


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class SamplingPlan:
    """Who is interviewed at which wave (months since the CEP), and how.

    ``respondents``: (wave, number interviewed) pairs in wave order; a panel's numbers only
    fall (the first is the persons recruited). ``oversample``: (column, ((level, factor),
    ...)) pairs. Build one with :meth:`panel`, :meth:`cross_sections` or :meth:`from_dict`
    (a plans file's table); each checks its values and names the key of a wrong one.
    """

    name: str
    kind: str
    respondents: tuple[tuple[int, int], ...]
    oversample: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        where = f"plan {self.name!r}"
        if not isinstance(self.name, str) or not NAME.match(self.name):
            raise PlanError(
                f"plan name {self.name!r}: expected 1-40 letters, digits, '_', '.' or '-' "
                "(it names the plan's result files), starting with a letter or digit"
            )
        if self.kind not in KINDS:
            raise PlanError(f"{where}: kind = {self.kind!r}; expected one of {list(KINDS)}")
        if not isinstance(self.description, str):
            raise PlanError(f"{where}: description must be text, got {self.description!r}")
        _check_respondents(where, self.kind, self.respondents)
        _check_oversample(where, self.oversample)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def panel(
        cls,
        name: str,
        persons: int,
        waves: Sequence[int] = WAVES,
        attrition: Sequence[float] = (),
        oversample: Mapping[str, Mapping[str, float]] | None = None,
        description: str = "",
    ) -> SamplingPlan:
        """A panel of ``persons`` recruited at the first of ``waves``; ``attrition``: the
        share of those still answering lost after each wave but the last (e.g. (0.15, 0.30))."""
        where = f"plan {name!r}"
        waves = _waves(where, waves)
        if not _whole(persons) or persons < 1:
            raise PlanError(f"{where}: persons = {persons!r}; expected a whole number >= 1")
        rates = _attrition(where, attrition, waves)
        counts = [int(persons)]
        for a in rates:
            counts.append(counts[-1] - round(counts[-1] * a))
        return cls(
            name,
            PANEL,
            tuple(zip(waves, counts, strict=True)),
            _oversample_pairs(where, oversample),
            description,
        )

    @classmethod
    def cross_sections(
        cls,
        name: str,
        respondents: Mapping[int, int] | int,
        waves: Sequence[int] = WAVES,
        oversample: Mapping[str, Mapping[str, float]] | None = None,
        description: str = "",
    ) -> SamplingPlan:
        """Repeated cross sections: ``respondents`` per wave ({1: 1300, 6: 1300, 18: 1300}),
        or one number for each of ``waves``."""
        where = f"plan {name!r}"
        if isinstance(respondents, Mapping):
            pairs = _respondent_pairs(where, respondents)
        else:
            pairs = tuple((w, respondents) for w in _waves(where, waves))
        return cls(name, CROSS_SECTIONS, pairs, _oversample_pairs(where, oversample), description)

    @classmethod
    def from_dict(cls, table: Mapping[str, Any]) -> SamplingPlan:
        """A plan from a plans file's ``[[plan]]`` table (keys as docs/design.md)."""
        if not isinstance(table, Mapping):
            raise PlanError(f"a [[plan]] entry must be a table, got {table!r}")
        name = table.get("name")
        if name is None:
            raise PlanError('a [[plan]] has no name (name = "...")')
        where = f"plan {name!r}"
        unknown = sorted(set(table) - set(PLAN_KEYS))
        if unknown:
            raise PlanError(
                f"{where}: unknown key(s) {unknown}; expected some of {list(PLAN_KEYS)}"
            )
        kind = table.get("kind", PANEL)
        description = table.get("description", "")
        oversample = table.get("oversample")
        if kind == PANEL:
            if "persons" in table and "respondents" in table:
                raise PlanError(
                    f"{where}: give persons (and attrition) or respondents per wave, not both"
                )
            if "respondents" in table:
                if "attrition" in table:
                    raise PlanError(
                        f"{where}: attrition follows from respondents per wave; give one of them"
                    )
                if "waves" in table:
                    raise PlanError(f"{where}: waves follow from respondents per wave; drop waves")
                pairs = _respondent_pairs(where, table["respondents"])
                return cls(name, PANEL, pairs, _oversample_pairs(where, oversample), description)
            if "persons" not in table:
                raise PlanError(
                    f"{where}: a panel needs persons = N (recruited at the first wave) or "
                    "respondents = {1 = N1, 6 = N6, 18 = N18}"
                )
            return cls.panel(
                name,
                table["persons"],
                table.get("waves", WAVES),
                table.get("attrition", ()),
                oversample,
                description,
            )
        if kind == CROSS_SECTIONS:
            if "attrition" in table or "persons" in table:
                key = "attrition" if "attrition" in table else "persons"
                raise PlanError(
                    f"{where}: {key} is for panels; repeated cross sections take respondents "
                    "per wave"
                )
            if "respondents" not in table:
                raise PlanError(
                    f"{where}: repeated cross sections need respondents = "
                    "{1 = N1, 6 = N6, 18 = N18} (or one number with waves = [...])"
                )
            resp = table["respondents"]
            if isinstance(resp, Mapping) and "waves" in table:
                raise PlanError(f"{where}: waves follow from respondents per wave; drop waves")
            return cls.cross_sections(
                name, resp, table.get("waves", WAVES), oversample, description
            )
        raise PlanError(f"{where}: kind = {kind!r}; expected one of {list(KINDS)}")

    # ------------------------------------------------------------------ properties
    @property
    def waves(self) -> tuple[int, ...]:
        return tuple(w for w, _ in self.respondents)

    @property
    def interviews(self) -> dict[int, int]:
        """Wave -> number of persons interviewed at that wave."""
        return dict(self.respondents)

    @property
    def persons(self) -> int:
        """Distinct persons interviewed (a panel's recruits; the sum of the cross sections)."""
        counts = [n for _, n in self.respondents]
        return counts[0] if self.kind == PANEL else sum(counts)

    @property
    def rows(self) -> int:
        """Interviews in all (rows of the survey table)."""
        return sum(n for _, n in self.respondents)

    @property
    def attrition(self) -> tuple[float, ...]:
        """A panel's share lost after each wave but the last (() for cross sections)."""
        if self.kind != PANEL:
            return ()
        n = [c for _, c in self.respondents]
        return tuple(1.0 - b / a for a, b in zip(n[:-1], n[1:], strict=True))

    @property
    def factors(self) -> dict[str, dict[str, float]]:
        """Oversampling factors: column -> level -> factor."""
        return {c: dict(levels) for c, levels in self.oversample}

    def to_dict(self) -> dict[str, Any]:
        """The plan as a plans file's table (what :meth:`from_dict` reads back)."""
        out: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.description:
            out["description"] = self.description
        out["respondents"] = {str(w): n for w, n in self.respondents}
        if self.oversample:
            out["oversample"] = self.factors
        return out

    def summary(self) -> str:
        """One line: kind, interviews per wave, allocation."""
        per = ", ".join(f"{n:,} at {w} m" for w, n in self.respondents)
        what = "panel" if self.kind == PANEL else "cross sections"
        over = "; ".join(
            f"{c} " + ", ".join(f"{lv} x{f:g}" for lv, f in levels) for c, levels in self.oversample
        )
        return f"{what}: {per}" + (f"; oversampled {over}" if over else "")


def _waves(where: str, waves: Any) -> tuple[int, ...]:
    if not isinstance(waves, Sequence) or isinstance(waves, str) or not waves:
        raise PlanError(f"{where}: waves = {waves!r}; expected a non-empty list of {list(WAVES)}")
    bad = [w for w in waves if not _whole(w) or w not in WAVES]
    if bad:
        raise PlanError(f"{where}: waves {bad} are not among the months {list(WAVES)}")
    if len(set(waves)) != len(waves):
        raise PlanError(f"{where}: waves = {list(waves)} names a wave twice")
    return tuple(sorted(int(w) for w in waves))


def _attrition(where: str, attrition: Any, waves: tuple[int, ...]) -> tuple[float, ...]:
    if isinstance(attrition, str) or not isinstance(attrition, Sequence):
        raise PlanError(f"{where}: attrition = {attrition!r}; expected a list of shares")
    if not attrition:
        return (0.0,) * (len(waves) - 1)
    if len(attrition) != len(waves) - 1:
        raise PlanError(
            f"{where}: attrition = {list(attrition)}; expected one share per wave but the last "
            f"({len(waves) - 1} for waves {list(waves)})"
        )
    bad = [a for a in attrition if not _number(a) or not 0 <= a < 1]
    if bad:
        raise PlanError(f"{where}: attrition {bad}: each share must be a number in [0, 1)")
    return tuple(float(a) for a in attrition)


def _respondent_pairs(where: str, respondents: Any) -> tuple[tuple[int, int], ...]:
    if not isinstance(respondents, Mapping) or not respondents:
        raise PlanError(
            f"{where}: respondents = {respondents!r}; expected wave -> number, e.g. "
            "{1 = 1300, 6 = 1300, 18 = 1300}"
        )
    pairs = []
    for key, n in respondents.items():
        try:
            wave = int(key)
        except (TypeError, ValueError):
            wave = -1
        if wave not in WAVES or isinstance(key, bool):
            raise PlanError(
                f"{where}: respondents: wave {key!r} is not among the months {list(WAVES)}"
            )
        pairs.append((wave, n))
    if len({w for w, _ in pairs}) != len(pairs):
        raise PlanError(f"{where}: respondents names a wave twice")
    return tuple(sorted(pairs))


def _check_respondents(where: str, kind: str, pairs: Any) -> None:
    if not isinstance(pairs, tuple) or not pairs:
        raise PlanError(f"{where}: respondents: expected (wave, number) pairs, got {pairs!r}")
    for wave, n in pairs:
        if wave not in WAVES:
            raise PlanError(f"{where}: respondents: wave {wave!r} is not among {list(WAVES)}")
        if not _whole(n) or n < 1:
            raise PlanError(
                f"{where}: respondents at {wave} months = {n!r}; expected a whole number >= 1"
            )
    waves = [w for w, _ in pairs]
    if waves != sorted(set(waves)):
        raise PlanError(f"{where}: respondents: waves {waves} must be distinct, in order")
    if kind == PANEL:
        for (w0, n0), (w1, n1) in zip(pairs[:-1], pairs[1:], strict=True):
            if n1 > n0:
                raise PlanError(
                    f"{where}: respondents at {w1} months ({n1:,}) exceed those at {w0} months "
                    f"({n0:,}): a panel only loses persons"
                )


def _oversample_pairs(
    where: str, oversample: Mapping[str, Mapping[str, float]] | None
) -> tuple[tuple[str, tuple[tuple[str, float], ...]], ...]:
    if oversample is None:
        return ()
    if not isinstance(oversample, Mapping):
        raise PlanError(
            f"{where}: oversample = {oversample!r}; expected column -> level -> factor, e.g. "
            '{service_level = {"UO2.2" = 3.0}}'
        )
    out = []
    for column, levels in oversample.items():
        if not isinstance(levels, Mapping) or not levels:
            raise PlanError(
                f"{where}: oversample.{column} = {levels!r}; expected level -> factor, e.g. "
                '{"UO2.2" = 3.0}'
            )
        out.append((str(column), tuple((str(lv), f) for lv, f in levels.items())))
    return tuple(out)


def _check_oversample(where: str, oversample: Any) -> None:
    if not isinstance(oversample, tuple):
        raise PlanError(f"{where}: oversample: expected (column, levels) pairs")
    for column, levels in oversample:
        if column not in OVERSAMPLE_COLUMNS:
            raise PlanError(
                f"{where}: oversample.{column}: not a column a plan can allocate on; expected "
                f"one of {list(OVERSAMPLE_COLUMNS)}"
            )
        for level, factor in levels:
            if not _number(factor) or factor <= 0:
                raise PlanError(
                    f"{where}: oversample.{column}.{level} = {factor!r}; expected a number > 0 "
                    "(the level's selection probability relative to the others')"
                )


def load_plans(path: str | Path) -> list[SamplingPlan]:
    """The plans of a plans file (TOML, ``[[plan]]`` tables: docs/design.md), checked whole
    before any work: a wrong key or value is a :class:`PlanError` naming the file, the plan
    and the key."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"plans file not found: {path}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"{path}: not valid TOML: {exc}") from None
    try:
        return plans_from_dict(raw)
    except PlanError as exc:
        raise PlanError(f"{path}: {exc}") from None


def plans_from_dict(raw: Mapping[str, Any]) -> list[SamplingPlan]:
    """The plans of a parsed plans file (``{"plan": [table, ...]}``)."""
    unknown = sorted(set(raw) - {"plan"})
    if unknown:
        raise PlanError(f"unknown top-level key(s) {unknown}; plans are [[plan]] tables")
    tables = raw.get("plan")
    if not isinstance(tables, list) or not tables:
        raise PlanError("no plan: expected one or more [[plan]] tables")
    plans = [SamplingPlan.from_dict(t) for t in tables]
    names = [p.name for p in plans]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise PlanError(f"plan name(s) {dup} used twice; each plan needs its own name")
    return plans


def check_plans(
    plans: Sequence[SamplingPlan], scenario: str, n_population: int
) -> list[SamplingPlan]:
    """``plans`` checked against a scenario and a population size before any work: every
    oversampled column and level exists in the scenario, and each plan needs no more persons
    than the population has."""
    scen = get_scenario(scenario)
    levels = {**S.LEVELS, **group_effects(scenario=scen.name).levels}
    for p in plans:
        where = f"plan {p.name!r}"
        for column, pairs in p.oversample:
            if column not in levels:
                raise PlanError(
                    f"{where}: oversample.{column}: scenario {scen.name} has no column {column!r}"
                )
            bad = [lv for lv, _ in pairs if lv not in levels[column]]
            if bad:
                raise PlanError(
                    f"{where}: oversample.{column}: level(s) {bad} are not among "
                    f"{list(levels[column])} (scenario {scen.name})"
                )
        if p.persons > n_population:
            raise PlanError(
                f"{where}: needs {p.persons:,} persons, more than the population's "
                f"{n_population:,}; enlarge the population (--n-population) or shrink the plan"
            )
    return list(plans)


# ---------------------------------------------------------------------- drawing surveys
@dataclass
class Population:
    """A simulated population (every person's columns and truth at 1, 6 and 18 months) from
    which plans draw their surveys; ``rng_state``: the random stream after the population,
    which every plan's survey starts from."""

    scenario: str
    seed: int
    world: World
    ids: np.ndarray
    admin: tuple[str, ...]
    offset: np.ndarray | None
    rng_state: dict[str, Any] = field(repr=False)

    @property
    def n(self) -> int:
        return self.world.n

    def survey_rng(self) -> np.random.Generator:
        """A new generator at the state the population left (the same for every plan)."""
        rng = np.random.default_rng()
        rng.bit_generator.state = self.rng_state
        return rng

    def frame(self) -> pd.DataFrame:
        """The population table (``population.parquet``: id and administrative columns)."""
        return _frame(self.world, self.ids, slice(None), self.admin)

    def rows(self, index: np.ndarray, weights: np.ndarray, waves: Sequence[int]) -> pd.DataFrame:
        """Survey rows of the persons at ``index`` (positions) at each of ``waves``."""
        return _survey_frame(self.world, self.ids, index, weights, tuple(waves), self.admin)

    def persons(self, surveyed: np.ndarray) -> pd.DataFrame:
        """The truth of every person (``persons.parquet``), ``in_survey`` for ``surveyed``."""
        return _persons_frame(self.world, self.ids, surveyed, WAVES)

    def simulated(self, survey: pd.DataFrame, surveyed: np.ndarray) -> Simulated:
        """A :class:`Simulated` of this population with ``survey`` (its truth kept: the
        validation's SampleTruth works on it)."""
        return Simulated(
            self.frame(),
            survey,
            cep2021_schema(survey, self.scenario),
            true_params(self.scenario),
            self.persons(surveyed),
            self.seed,
        )


def draw_population(
    scenario: str = "cep2021", seed: int = 1, n_population: int | None = None
) -> Population:
    """The population ``simulate(scenario, seed, n_population, waves=(1, 6, 18))`` draws
    (default size: the published 197,074)."""
    scen = get_scenario(scenario)
    n_pop = S.N_POPULATION if n_population is None else int(n_population)
    if n_pop < 1:
        raise ValueError(f"population size must be >= 1, got {n_pop}")
    rng = np.random.default_rng(seed)
    groups = group_effects(scenario=scen.name)
    world = draw_world(rng, n_pop, Intercepts(calibrated_intercepts(scen.name)), WAVES, groups)
    return Population(
        scen.name,
        int(seed),
        world,
        np.arange(1, n_pop + 1, dtype=np.int64),
        tuple(groups.levels) + ADMIN_COLUMNS,
        scen.response_offset(groups.labour_market, world.cols["region"]),
        dict(rng.bit_generator.state),
    )


def allocation_factors(plan: SamplingPlan, population: Population) -> np.ndarray:
    """Each person's oversampling factor f_i under ``plan`` (1 where the plan oversamples
    nothing; the product of the factors of the person's levels when it names several
    columns)."""
    world = population.world
    f = np.ones(world.n)
    for column, pairs in plan.oversample:
        if column not in world.cols:
            raise PlanError(
                f"plan {plan.name!r}: oversample.{column}: scenario {population.scenario} has "
                f"no column {column!r}"
            )
        table = np.ones(len(world.levels[column]))
        for level, factor in pairs:
            if level not in world.levels[column]:
                raise PlanError(
                    f"plan {plan.name!r}: oversample.{column}.{level}: not a level of "
                    f"{column} ({list(world.levels[column])})"
                )
            table[world.levels[column].index(level)] = float(factor)
        f = f * table[world.cols[column]]
    return f


def plan_weights(index: np.ndarray, factor: np.ndarray, population: Population) -> np.ndarray:
    """The weights of the respondents at ``index``: design weights 1/f_i raked to the
    population margins of the quota variables (mean 1)."""
    world = population.world
    quota = S.QUOTA_VARIABLES
    return rake(
        {v: world.cols[v][index] for v in quota},
        {v: world.cols[v] for v in quota},
        quota,
        {v: world.levels[v] for v in quota},
        base=1.0 / factor[index],
    )


def draw_survey(population: Population, plan: SamplingPlan) -> Simulated:
    """The survey of ``plan`` drawn from ``population``, with its truth (a
    :class:`Simulated`: ``SampleTruth.of(sim, wave)`` gives the true effects of the
    respondents at a wave). Deterministic for a population; every plan starts from the same
    random stream."""
    check_plans([plan], population.scenario, population.n)
    rng = population.survey_rng()
    world = population.world
    factor = allocation_factors(plan, population)
    if plan.kind == PANEL:
        index = _select(rng, population, plan.persons, factor)
        survey = population.rows(index, plan_weights(index, factor, population), plan.waves)
        survey = _attrition_rows(survey, plan, population.seed)
        surveyed = index
    else:
        taken = np.zeros(world.n, dtype=bool)
        parts = []
        for wave, n in plan.respondents:
            index = _select(rng, population, n, np.where(taken, 0.0, factor))
            taken[index] = True
            parts.append(population.rows(index, plan_weights(index, factor, population), (wave,)))
        survey = pd.concat(parts, ignore_index=True).sort_values(
            ["person_id", "months_since_exit"], ignore_index=True
        )
        surveyed = np.flatnonzero(taken)
    return population.simulated(survey, surveyed)


def _select(
    rng: np.random.Generator, population: Population, n: int, factor: np.ndarray
) -> np.ndarray:
    w = population.world
    return select_respondents(
        rng, w.cols, w.levels, S.RESPONSE_EFFECTS, n, population.offset, factor=factor
    )


def _attrition_rows(survey: pd.DataFrame, plan: SamplingPlan, seed: int) -> pd.DataFrame:
    """A panel's rows without the later waves of the persons lost after each wave: exactly
    the plan's number per wave, the persons lost chosen at random (a stream of its own)."""
    rng = np.random.default_rng([seed, 18])
    present = np.sort(survey["person_id"].unique())
    keep = np.ones(len(survey), dtype=bool)
    ids = survey["person_id"].to_numpy()
    months = survey["months_since_exit"].to_numpy()
    pairs = plan.respondents
    for (wave, _), (_, n_next) in zip(pairs[:-1], pairs[1:], strict=True):
        lost = rng.choice(present, size=present.size - n_next, replace=False)
        keep &= ~(np.isin(ids, lost) & (months > wave))
        present = np.setdiff1d(present, lost)
    return survey[keep].reset_index(drop=True)


def everyone_at(population: Population, sim: Simulated, wave: int) -> Simulated:
    """The persons of ``sim``'s survey, each once, at ``wave`` months (their weight kept):
    the truth of an effect at a horizon, which counts every surveyed person there, seen at
    that wave or not (capmodel.effects, ``horizon=``)."""
    first = sim.survey.drop_duplicates("person_id")
    index = first["person_id"].to_numpy() - 1  # ids are positions + 1
    if not np.array_equal(population.ids[index], first["person_id"].to_numpy()):
        raise ValueError("the survey's persons are not this population's")
    survey = population.rows(index, first["weight"].to_numpy(dtype=float), (wave,))
    return Simulated(sim.population, survey, sim.schema, sim.params, sim.persons, sim.seed)


def plan_survey(
    plan: SamplingPlan, scenario: str = "cep2021", seed: int = 1, n_population: int | None = None
) -> Simulated:
    """``plan``'s survey of a population drawn for ``seed`` (:func:`draw_population` then
    :func:`draw_survey`)."""
    return draw_survey(draw_population(scenario, seed, n_population), plan)
