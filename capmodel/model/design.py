"""From validated, encoded data and a spec to the arrays the model needs (its design).

Capability is a person-level quantity: supports, covariates and groups must be the same at
every wave of a person (checked); on a panel, wave-level indicators may measure it as it changes
between waves (``Design.capability_time``, ``measurement.change``). Responses (indicators,
realisations) are row-level; a missing response drops that term only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from capmodel.data import Data, EncodedData
from capmodel.data.schema import SchemaError
from capmodel.spec import Spec

RESERVED_DIMS = (
    "support",
    "conversion_term",
    "capability_term",
    "indicator",
    "realisation",
    "realisation_term",
    "person",
    "direct_support",
)


class DesignError(ValueError):
    """The data cannot support the declared model (e.g. a covariate varies within a person)."""


@dataclass(frozen=True)
class GroupIndex:
    """One group factor: its labels, the level of each person/row, its parent group if nested."""

    name: str
    labels: tuple[str, ...]
    of_person: np.ndarray
    of_row: np.ndarray
    parent: str | None = None
    persons_per_level: np.ndarray = field(default_factory=lambda: np.zeros(0))
    parent_of_level: np.ndarray | None = None  # code of the parent level of each level
    # group-level predictors its effects depend on: (L, H), standardised over the levels
    predictor_names: tuple[str, ...] = ()
    predictors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


@dataclass(frozen=True)
class TermParts:
    """What a design term stands for: covariate ``covariate`` (its dummy of ``level`` for a
    categorical covariate, its value for a numeric one: ``level`` None), times the support
    ``support`` for a conversion term (None for the other terms). The term's label, e.g.
    ``reflection:qualification[bac2]``, is for display: read its parts here."""

    support: str | None
    covariate: str
    level: str | None


@dataclass(frozen=True)
class IndicatorData:
    name: str
    kind: str
    levels: tuple[str, ...]
    rows: np.ndarray  # rows with an observed value
    values: np.ndarray  # codes (0/1 for binary, 0..L-1 for ordinal)
    person_level: bool = False  # answered once (schema level = "person"): measures theta_i


@dataclass(frozen=True)
class UnitDesign:
    """The predictors of some persons (P) and their rows (N): the survey's own
    (:meth:`Design.units`) or counterfactual ones (supports set by an intervention, the cells of
    a post-stratified population). The model evaluates its equations on any of them
    (capmodel.model.evaluate)."""

    support_person: np.ndarray  # (P, K) capability supports, over Design.supports
    conversion_factor: np.ndarray  # (P, T) factor part of each conversion term
    capability_x: np.ndarray  # (P, C)
    group_of_person: dict[str, np.ndarray]  # group (or interaction) -> (P,) level codes
    person_of_row: np.ndarray  # (N,)
    direct_x: np.ndarray  # (N, K') supports with a direct effect, over Design.direct_supports
    realisation_x: np.ndarray  # (N, C')
    log_time: np.ndarray | None  # (N,) log(months / 6)
    group_of_row: dict[str, np.ndarray]  # group (or interaction) -> (N,) level codes
    # (P,) log(months / 6) at which capability is evaluated, for a model whose capability
    # changes between waves (Design.capability_time); None: the 6-month reference (0)
    capability_log_time: np.ndarray | None = None

    @property
    def n_persons(self) -> int:
        return int(self.support_person.shape[0])

    @property
    def n_rows(self) -> int:
        return int(self.person_of_row.size)


@dataclass(frozen=True)
class Design:
    """Everything the model builder reads, labelled."""

    n_rows: int
    person_labels: tuple[str, ...]
    person_of_row: np.ndarray
    supports: tuple[str, ...]
    support_person: np.ndarray  # (P, K) supports of each person
    capability_terms: tuple[str, ...]
    capability_x: np.ndarray  # (P, C)
    conversion_terms: tuple[str, ...]
    conversion_x: np.ndarray  # (P, T): support k x factor term
    conversion_support: np.ndarray  # (T,) index of the support of each conversion term
    conversion_factor: np.ndarray  # (P, T): the factor part of each conversion term
    indicators: tuple[IndicatorData, ...]
    realisations: tuple[str, ...]
    realisation_y: np.ndarray  # (N, R) 0/1, -1 missing (as observed)
    # the entries the likelihood reads (realisations are cumulative: see cumulative_realisations)
    realisation_used: np.ndarray  # (N, R) 0/1, -1 not read
    realisation_intervals: tuple[np.ndarray, np.ndarray, np.ndarray]  # lower row, upper row, r
    direct_supports: tuple[str, ...]
    direct_x: np.ndarray  # (N, K') supports at each row
    realisation_terms: tuple[str, ...]
    realisation_x: np.ndarray  # (N, C')
    log_time: np.ndarray | None  # (N,) log(months / 6), None when no time effect
    groups: tuple[GroupIndex, ...]
    interactions: tuple[GroupIndex, ...]
    weights: np.ndarray | None  # (N,) survey weights, None when unweighted
    waves: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()
    # label -> parts of every capability, conversion and realisation term
    term_parts: dict[str, TermParts] = field(default_factory=dict)
    # (N,) log(months / 6) of each row when capability changes between waves (wave-level
    # indicators measure theta_i + log(months / 6) g_i; measurement.change), else None
    capability_time: np.ndarray | None = None

    @property
    def indicator_changes(self) -> np.ndarray:
        """(J,) 1.0 for the indicators that measure capability at their wave (wave-level ones,
        when capability changes between waves), 0.0 for those that measure theta_i."""
        return np.array(
            [
                float(self.capability_time is not None and not j.person_level)
                for j in self.indicators
            ]
        )

    def units(self) -> UnitDesign:
        """The survey's own persons and rows."""
        groups = self.groups + self.interactions
        return UnitDesign(
            support_person=self.support_person,
            conversion_factor=self.conversion_factor,
            capability_x=self.capability_x,
            group_of_person={g.name: g.of_person for g in groups},
            person_of_row=self.person_of_row,
            direct_x=self.direct_x,
            realisation_x=self.realisation_x,
            log_time=self.log_time,
            group_of_row={g.name: g.of_row for g in groups},
        )

    def parts(self, terms: Iterable[str]) -> list[TermParts]:
        """The parts of each of ``terms`` (labels of this design's terms), in order."""
        return [self.term_parts[t] for t in terms]

    def realisation_obs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The realisation entries the likelihood reads, flattened: (row, realisation index,
        value); see :func:`cumulative_realisations`."""
        rows, cols = np.nonzero(self.realisation_used >= 0)
        return rows, cols, self.realisation_used[rows, cols]

    def indicator_obs(
        self, kind: str, n_levels: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Observed indicator entries of one kind (and number of levels), flattened:
        (row, indicator index in ``indicators``, value)."""
        rows, items, values = [], [], []
        for i, j in enumerate(self.indicators):
            if j.kind != kind or (n_levels is not None and len(j.levels) != n_levels):
                continue
            rows.append(j.rows)
            items.append(np.full(j.rows.size, i))
            values.append(j.values)
        if not rows:
            return (np.zeros(0, dtype=np.int64),) * 3
        return np.concatenate(rows), np.concatenate(items), np.concatenate(values)

    def ordinal_level_counts(self) -> tuple[int, ...]:
        return tuple(sorted({len(j.levels) for j in self.indicators if j.kind == "ordinal"}))


def log_time_of(months: np.ndarray | float) -> np.ndarray:
    """The time predictor of the realisations, log(months since exit / 6)."""
    return np.log(np.asarray(months, dtype=float) / 6.0)


def _covariate_terms(
    ds: xr.Dataset, columns: tuple[str, ...], references: dict[str, str], rows: np.ndarray
) -> tuple[list[str], list[np.ndarray], list[TermParts]]:
    """Dummy columns (non-reference levels) for categorical covariates, the value for numeric.

    Returns term labels, the columns (over ``rows``), and the parts of each term.
    """
    enc: EncodedData = ds.capmodel
    labels, cols, parts = [], [], []
    for c in columns:
        values = enc.variable(c).values[rows]
        if enc.kind(c) == "numeric":
            labels.append(c)
            cols.append(values.astype(float))
            parts.append(TermParts(None, c, None))
            continue
        levels = enc.levels(c)
        ref = references.get(c, levels[0])
        for i, lv in enumerate(levels):
            if lv == ref:
                continue
            labels.append(f"{c}[{lv}]")
            cols.append((values == i).astype(float))
            parts.append(TermParts(None, c, lv))
    return labels, cols, parts


def _first_rows(person_of_row: np.ndarray, n_persons: int) -> np.ndarray:
    first = np.full(n_persons, -1)
    order = np.arange(person_of_row.size)[::-1]
    first[person_of_row[order]] = order
    return first


def _check_person_constant(
    name: str,
    values: np.ndarray,
    person_of_row: np.ndarray,
    first: np.ndarray,
    person_labels: tuple[str, ...],
) -> None:
    vary = values != values[first][person_of_row]
    if vary.ndim > 1:
        vary = vary.any(axis=tuple(range(1, vary.ndim)))
    if vary.any():
        persons = sorted({person_labels[p] for p in person_of_row[vary]})
        raise DesignError(
            f"column '{name}' changes between waves of the same person (persons "
            f"{persons[:5]}{' ...' if len(persons) > 5 else ''}); capability is a person-level "
            "quantity, so supports, covariates and groups must be the same at every wave"
        )


def cumulative_realisations(
    y: np.ndarray,
    person_of_row: np.ndarray,
    wave: np.ndarray | None,
    person_labels: tuple[str, ...],
    names: tuple[str, ...],
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The entries of cumulative realisations that the likelihood reads, and the intervals.

    A realisation is cumulative: "has started a training by t". For a person and realisation
    observed at several waves, what the answers say is that the event time T lies between the
    last wave answered 'no' (a) and the first answered 'yes' (b):
    P = F(b) - F(a), with F(t) = P(T <= t) (docs/models.md, "Realisations over time"). Only
    those two answers are read (the earlier 'no's and later 'yes's say nothing more); a person
    seen once is the usual Bernoulli term. A 'yes' followed by a later 'no' contradicts the
    definition and is an error naming the persons. Returns (N, R) answers with every entry
    not read set to -1, and (row of a, row of b, realisation) for each pair with both.
    """
    used = np.full_like(y, -1)
    lower, upper, cols = [], [], []
    if y.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return used, (empty, empty, empty)
    n_rows = person_of_row.size
    order = np.lexsort((np.zeros(n_rows) if wave is None else wave, person_of_row))
    pos = np.empty(n_rows, dtype=np.int64)
    pos[order] = np.arange(n_rows)  # position of each row in (person, wave) order
    n_persons = len(person_labels)
    for r, name in enumerate(names):
        yes, no = y[:, r] == 1, y[:, r] == 0
        first_yes = np.full(n_persons, n_rows)
        np.minimum.at(first_yes, person_of_row[yes], pos[yes])
        late_no = no & (pos > first_yes[person_of_row])
        if late_no.any():
            bad = sorted({person_labels[p] for p in person_of_row[late_no]})
            raise DesignError(
                f"realisation '{name}' is reported at an earlier wave and not at a later one "
                f"for {len(bad)} person(s) ({bad[:5]}{' ...' if len(bad) > 5 else ''}): "
                "realisations are cumulative (once started, a training has started); correct "
                "the later answers or treat them as missing"
            )
        last_no = np.full(n_persons, -1)
        np.maximum.at(last_no, person_of_row[no], pos[no])
        has_yes, has_no = first_yes < n_rows, last_no >= 0
        for positions, value in ((first_yes[has_yes], 1), (last_no[has_no], 0)):
            used[order[positions], r] = value
        both = has_yes & has_no
        lower.append(order[last_no[both]])
        upper.append(order[first_yes[both]])
        cols.append(np.full(int(both.sum()), r))
    return used, (np.concatenate(lower), np.concatenate(upper), np.concatenate(cols))


def _person_level_rows(
    name: str,
    y: np.ndarray,
    rows: np.ndarray,
    person_of_row: np.ndarray,
    person_labels: tuple[str, ...],
) -> np.ndarray:
    """One observed row per person of a person-level indicator (its first answer), after
    checking that every other answer of the person repeats it."""
    first = np.full(len(person_labels), person_of_row.size)
    np.minimum.at(first, person_of_row[rows], rows)
    differ = y[rows] != y[first[person_of_row[rows]]]
    if differ.any():
        bad = sorted({person_labels[p] for p in person_of_row[rows[differ]]})
        raise DesignError(
            f"indicator '{name}' is declared person-level (answered once) but its answer "
            f"differs between waves for {len(bad)} person(s) ({bad[:5]}"
            f"{' ...' if len(bad) > 5 else ''}); declare level = 'wave' if it is asked at each "
            "wave"
        )
    return np.sort(first[first < person_of_row.size])


def _repeated_answers_note(
    name: str, y: np.ndarray, rows: np.ndarray, person_of_row: np.ndarray
) -> str | None:
    """A note when a wave-level indicator has the same answer at every wave for every person
    who answered it more than once (a person-level answer repeated on each row?)."""
    persons, counts = np.unique(person_of_row[rows], return_counts=True)
    repeated = persons[counts > 1]
    if repeated.size == 0:
        return None
    lo = np.full(person_of_row.max() + 1, np.iinfo(np.int64).max)
    hi = np.full(person_of_row.max() + 1, np.iinfo(np.int64).min)
    np.minimum.at(lo, person_of_row[rows], y[rows])
    np.maximum.at(hi, person_of_row[rows], y[rows])
    if np.all(lo[repeated] == hi[repeated]):
        return (
            f"indicator '{name}' has the same answer at every wave for each of the "
            f"{repeated.size} persons who answered it more than once: if it was asked once and "
            "repeated on each row, declare it level = 'person' in the schema, or each repeat "
            "counts the same answer again"
        )
    return None


def _capability_time(
    spec: Spec,
    indicators: list[IndicatorData],
    person_of_row: np.ndarray,
    wave: np.ndarray | None,
    waves: tuple[int, ...],
    notes: list[str],
) -> np.ndarray | None:
    """log(months / 6) of each row when capability changes between waves, else None.

    ``measurement.change = "auto"`` turns it on when the data have several waves and some
    person answered a wave-level indicator at two waves or more (the only answers that say how
    capability changed), and notes the choice on a panel; ``true`` without such answers is an
    error; ``false`` keeps capability the same at every wave.
    """
    if not spec.latent or spec.change == "no":
        return None
    persons = set()
    if wave is not None and len(waves) > 1:
        for j in indicators:
            if j.person_level:
                continue
            pairs = np.unique(np.stack([person_of_row[j.rows], wave[j.rows]]), axis=1)
            counts = np.bincount(pairs[0], minlength=int(person_of_row.max()) + 1)
            persons.update(np.flatnonzero(counts >= 2).tolist())
    if persons:
        assert wave is not None
        if spec.change == "auto":
            notes.append(
                f"capability changes between waves (measurement.change = 'auto'): {len(persons)} "
                "persons answered a wave-level indicator at several waves, which measure "
                "theta_i + log(months / 6) g_i (docs/models.md §1)"
            )
        return log_time_of(wave)
    if spec.change == "yes":
        raise DesignError(
            "measurement.change = true, but no person answered a wave-level indicator at two "
            f"waves or more (waves in the data: {list(waves) or 'no wave column'}): the change "
            "of capability between waves is not identified; set change = 'auto' or false"
        )
    if len(waves) > 1:
        notes.append(
            "capability is the same at every wave (measurement.change = 'auto'): no person "
            "answered a wave-level indicator at two waves"
        )
    return None


def _group_predictors(
    spec: Spec,
    group: str,
    labels: tuple[str, ...],
    names: tuple[str, ...],
    parent_of_level: np.ndarray | None,
) -> np.ndarray:
    """(L, H) the group's predictors at its levels, centred and scaled over the levels (each
    level once): zero mean, so that the effects still sum to zero (within each parent level for
    a nested group, whose effects do: differences between parents are the parent's effects),
    and sd 1, so that one prior fits any unit."""
    if not names:
        return np.zeros((len(labels), 0))
    tables = next(g for g in spec.schema.groups if g.column == group).predictors or {}
    out = np.empty((len(labels), len(names)))
    for h, name in enumerate(names):
        missing = [lv for lv in labels if lv not in tables[name]]
        if missing:
            raise DesignError(
                f"group '{group}': predictor '{name}' has no value for level(s) {missing} of the "
                "data; the schema's table must give every level"
            )
        out[:, h] = [tables[name][lv] for lv in labels]
    if parent_of_level is None:
        out = out - out.mean(axis=0)
    else:
        for p in np.unique(parent_of_level):
            members = parent_of_level == p
            out[members] -= out[members].mean(axis=0)
    sd = out.std(axis=0)
    if (sd < 1e-12).any():
        flat = [n for n, s in zip(names, sd, strict=True) if s < 1e-12]
        raise DesignError(
            f"group '{group}': predictor(s) {flat} take the same value at every level"
            + (" within each parent level" if parent_of_level is not None else "")
            + " of the data: they cannot explain differences between levels"
        )
    return out / sd


def build_design(spec: Spec, data: Data | xr.Dataset) -> Design:
    """Arrays for ``spec`` from validated, encoded ``data`` (see :class:`Design`); the encoded
    dataset alone is enough (a saved fit's ``data`` group)."""
    ds = data if isinstance(data, xr.Dataset) else data.dataset
    clash = [g for g in spec.groups if g in RESERVED_DIMS]
    if clash:
        raise SchemaError(
            f"group column(s) {clash} clash with capmodel's dimension names "
            f"{list(RESERVED_DIMS)}; rename them"
        )
    enc: EncodedData = ds.capmodel
    (id_column,) = enc.columns("id")
    person_of_row = enc.variable(id_column).values.astype(np.int64)
    person_labels = enc.persons
    n_persons = len(person_labels)
    n_rows = person_of_row.size
    first = _first_rows(person_of_row, n_persons)
    refs = enc.references()
    notes: list[str] = []
    term_parts: dict[str, TermParts] = {}

    # supports, person level
    sup_rows = enc.array(enc.columns("supports"))
    _check_person_constant("supports", sup_rows, person_of_row, first, person_labels)
    support_person = enc.array(spec.supports)[first].astype(float)

    for c in set(spec.capability_covariates()) | set(spec.realisation_covariates()):
        _check_person_constant(c, enc.variable(c).values, person_of_row, first, person_labels)

    cap_terms, cap_cols, cap_parts = _covariate_terms(ds, spec.capability_covariates(), refs, first)
    capability_x = np.column_stack(cap_cols) if cap_cols else np.zeros((n_persons, 0))
    term_parts.update(zip(cap_terms, cap_parts, strict=True))

    conv_terms, conv_cols, conv_factor, conv_support = [], [], [], []
    for k, factors in spec.conversion:
        ki = spec.supports.index(k)
        term_labels, cols, parts = _covariate_terms(ds, factors, refs, first)
        for lab, col, part in zip(term_labels, cols, parts, strict=True):
            conv_terms.append(f"{k}:{lab}")
            conv_cols.append(support_person[:, ki] * col)
            conv_factor.append(col)
            conv_support.append(ki)
            term_parts[conv_terms[-1]] = TermParts(k, part.covariate, part.level)
    conversion_x = np.column_stack(conv_cols) if conv_cols else np.zeros((n_persons, 0))
    conversion_factor = np.column_stack(conv_factor) if conv_factor else np.zeros((n_persons, 0))

    # measurement
    indicators = []
    level_of = {i.column: i.level or "wave" for i in spec.schema.indicators}
    for j in spec.indicators:
        y = enc.variable(j).values.astype(np.int64)
        kind = enc.kind(j)
        levels = enc.levels(j) if kind == "ordinal" else ("0", "1")
        rows = np.flatnonzero(y >= 0)
        if rows.size == 0:
            raise DesignError(f"indicator '{j}' has no observed value")
        if level_of.get(j) == "person":
            rows = _person_level_rows(j, y, rows, person_of_row, person_labels)
        else:
            note = _repeated_answers_note(j, y, rows, person_of_row)
            if note:
                notes.append(note)
        seen = np.unique(y[rows])
        if kind == "binary" and seen.size < 2:
            raise DesignError(
                f"indicator '{j}' takes a single value ({seen[0]}) in the data: "
                "it carries no information on capability"
            )
        indicators.append(
            IndicatorData(j, kind, levels, rows, y[rows], level_of.get(j) == "person")
        )

    # realisations
    realisation_y = enc.array(spec.realisations).astype(np.int64)
    direct = spec.direct_effects if spec.realisations else ()
    direct_x = enc.array(direct).astype(float)
    rows_all = np.arange(n_rows)
    real_terms, real_cols, real_parts = _covariate_terms(
        ds, spec.realisation_covariates(), refs, rows_all
    )
    realisation_x = np.column_stack(real_cols) if real_cols else np.zeros((n_rows, 0))
    term_parts.update(zip(real_terms, real_parts, strict=True))

    waves: tuple[int, ...] = ()
    log_time = None
    wave = enc.variable(enc.columns("wave")[0]).values if enc.columns("wave") else None
    if wave is not None:
        waves = tuple(sorted(int(w) for w in np.unique(wave)))
    if spec.realisations and spec.time != "no":
        if wave is not None and len(waves) > 1:
            log_time = log_time_of(wave)
        elif spec.time == "yes":
            raise DesignError(
                "realisations.time = true, but the data have a single wave "
                f"({list(waves) or 'no wave column'}): the effect of time since "
                "exit is not identified; set time = 'auto' or false"
            )
        else:
            notes.append("time since exit is not modelled: the data have a single wave")
    if spec.panel == "independent":  # each wave's answer its own term (for comparison only)
        empty = np.zeros(0, dtype=np.int64)
        realisation_used, intervals = realisation_y, (empty, empty, empty)
        if wave is not None and len(waves) > 1:
            notes.append(
                "realisations.panel = 'independent': each wave's answer is its own term, so a "
                "panel person's realisation is counted at every wave (intervals too narrow; "
                "docs/models.md)"
            )
    else:
        realisation_used, intervals = cumulative_realisations(
            realisation_y, person_of_row, wave, person_labels, spec.realisations
        )
    capability_time = _capability_time(spec, indicators, person_of_row, wave, waves, notes)
    if intervals[0].size and log_time is None:
        raise DesignError(
            f"{intervals[0].size} realisation answers of persons seen at several waves say the "
            "event happened between two waves: that needs the time since exit in the model "
            "(realisations.time = 'auto' or true)"
        )

    # groups
    groups = []
    for g in spec.groups:
        codes = enc.variable(g).values.astype(np.int64)
        _check_person_constant(g, codes, person_of_row, first, person_labels)
        labels = enc.levels(g)
        counts = np.bincount(codes[first], minlength=len(labels))
        parent = enc.within(g) if spec.group_structure == "nested" else None
        if parent is not None and parent not in spec.groups:
            parent = None  # nested in a group the model leaves out: plain effects
        parent_of_level = enc.parent_codes(g) if parent is not None else None
        names = spec.predictors_of(g)
        groups.append(
            GroupIndex(
                g,
                labels,
                codes[first],
                codes,
                parent,
                counts,
                parent_of_level,
                names,
                _group_predictors(spec, g, labels, names, parent_of_level),
            )
        )
    interactions = []
    parent_of = {g.name: g.parent for g in groups}

    def nested(a: str, b: str) -> bool:  # a lies (transitively) within b
        while parent_of.get(a) is not None:
            a = str(parent_of[a])
            if a == b:
                return True
        return False

    if spec.interaction:
        for i, a in enumerate(groups):
            for b in groups[i + 1 :]:
                pair = a.of_row * len(b.labels) + b.of_row
                cells, code = np.unique(pair, return_inverse=True)
                nested_in_data = len(cells) in (len(np.unique(a.of_row)), len(np.unique(b.of_row)))
                if nested(a.name, b.name) or nested(b.name, a.name) or nested_in_data:
                    continue  # a nested group's effects already vary within its parent
                labels = tuple(
                    f"{a.labels[c // len(b.labels)]}:{b.labels[c % len(b.labels)]}" for c in cells
                )
                interactions.append(
                    GroupIndex(
                        f"{a.name}:{b.name}",
                        labels,
                        code[first],
                        code,
                        None,
                        np.bincount(code[first]),
                    )
                )

    if spec.interaction and not interactions:
        raise DesignError(
            "groups.interaction = true, but no two of the groups "
            f"{[g.name for g in groups]} are crossed (each pair is nested one in the other): "
            "there is no interaction to add; set interaction = false"
        )
    weights = enc.variable(enc.columns("weight")[0]).values.astype(float) if spec.weighted else None
    return Design(
        n_rows=n_rows,
        person_labels=person_labels,
        person_of_row=person_of_row,
        supports=spec.supports,
        support_person=support_person,
        capability_terms=tuple(cap_terms),
        capability_x=capability_x,
        conversion_terms=tuple(conv_terms),
        conversion_x=conversion_x,
        conversion_support=np.array(conv_support, dtype=np.int64),
        conversion_factor=conversion_factor,
        indicators=tuple(indicators),
        realisations=spec.realisations,
        realisation_y=realisation_y,
        realisation_used=realisation_used,
        realisation_intervals=intervals,
        direct_supports=tuple(spec.direct_effects) if spec.realisations else (),
        direct_x=direct_x,
        realisation_terms=tuple(real_terms),
        realisation_x=realisation_x,
        log_time=log_time,
        groups=tuple(groups),
        interactions=tuple(interactions),
        weights=weights,
        waves=waves,
        notes=tuple(notes),
        term_parts=term_parts,
        capability_time=capability_time,
    )
