"""The units effects are averaged over: persons (capability) and their rows (realisations).

A :class:`Units` holds everything an intervention leaves unchanged (covariates, groups, time
since exit, weights) and the supports as observed, which interventions overwrite. The survey
sample of a fit gives one (:func:`sample_units`); a post-stratified population gives another
(:mod:`capmodel.effects.poststrat`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import xarray as xr

from capmodel.data import EncodedData
from capmodel.model.design import Design, TermParts, UnitDesign, log_time_of
from capmodel.spec import Spec

POSTERIOR = "posterior"
INTEGRATED = "integrated"


class EffectsError(ValueError):
    """An effect request names an unknown support, column or option."""


def conversion_parts(design: Design) -> list[TermParts]:
    """Support, covariate and level of every conversion term of ``design``, in order."""
    return design.parts(design.conversion_terms)


@dataclass(frozen=True)
class Units:
    """Persons (P) and rows (N = persons x waves) with what interventions leave unchanged."""

    description: str
    support_names: tuple[str, ...]  # every support the model uses (capability or direct)
    supports: np.ndarray  # (P, K) observed supports (0/1)
    capability_x: np.ndarray  # (P, C)
    conversion_z: np.ndarray  # (P, T) factor part of each conversion term
    capability_codes: dict[str, np.ndarray]  # group -> (P,) level codes
    person_of_row: np.ndarray  # (N,)
    realisation_x: np.ndarray  # (N, C')
    log_time: np.ndarray | None  # (N,)
    realisation_codes: dict[str, np.ndarray]  # group -> (N,)
    weights: np.ndarray  # (N,) or (D_all, N) when weights vary over draws (MRP)
    residual: str  # POSTERIOR (each person's posterior draws of e_i) or INTEGRATED (N(0, 1))
    by: dict[str, tuple[np.ndarray, tuple[str, ...]]] = field(default_factory=dict)
    person_index: np.ndarray | None = None  # (P,) index of each unit in the fit's persons
    person_labels: tuple[str, ...] = ()
    realisation_y: np.ndarray | None = None  # (N, R) observed realisations, -1 missing
    wave: np.ndarray | None = None  # (N,) months since exit
    references: dict[str, str] = field(default_factory=dict)  # categorical covariate -> level
    # (P,) log(months / 6) at which capability is evaluated when it changes between waves
    # (a horizon); None: the 6-month reference
    capability_log_time: np.ndarray | None = None

    @property
    def n_persons(self) -> int:
        return int(self.supports.shape[0])

    @property
    def n_rows(self) -> int:
        return int(self.person_of_row.size)

    def design(
        self, design: Design, supports: np.ndarray, z: np.ndarray | None = None
    ) -> UnitDesign:
        """These units' predictors for the model of ``design``, with the (P, K) ``supports``
        (over ``support_names``) and conversion factors ``z`` (P, T; default: the units')."""
        col = {k: i for i, k in enumerate(self.support_names)}
        cap = [col[k] for k in design.supports]
        direct = [col[k] for k in design.direct_supports]
        return UnitDesign(
            support_person=supports[:, cap],
            conversion_factor=self.conversion_z if z is None else z,
            capability_x=self.capability_x,
            group_of_person=self.capability_codes,
            person_of_row=self.person_of_row,
            direct_x=supports[self.person_of_row][:, direct],
            realisation_x=self.realisation_x,
            log_time=self.log_time,
            group_of_row=self.realisation_codes,
            capability_log_time=self.capability_log_time,
        )

    def row_weights(self, draw_index: np.ndarray | None = None) -> np.ndarray:
        """(N,) weights, or (D, N) for the draws ``draw_index`` when they vary over draws."""
        if self.weights.ndim == 1 or draw_index is None:
            return self.weights
        return self.weights[draw_index]

    def split(self, by: str) -> tuple[np.ndarray, tuple[str, ...]]:
        """Row codes and labels of a subgroup variable ('all' for everyone)."""
        if by == "all":
            return np.zeros(self.n_rows, dtype=np.int64), ("all",)
        if by not in self.by:
            raise EffectsError(
                f"cannot split by {by!r}: allowed subgroup variables are "
                f"{['all', *sorted(self.by)]}"
            )
        return self.by[by]

    def residual_text(self, nodes: int) -> str:
        if self.residual == POSTERIOR:
            return "each person's own residual e_i (posterior draws given all their responses)"
        return f"e ~ Normal(0, 1) integrated out (Gauss-Hermite, {nodes} nodes)"


def model_supports(spec: Spec, design: Design) -> tuple[str, ...]:
    """Supports the model uses, in schema order (capability supports and direct ones)."""
    used = set(design.supports) | set(design.direct_supports)
    return tuple(k for k in spec.schema.supports if k in used)


def first_rows(person_of_row: np.ndarray, n_persons: int) -> np.ndarray:
    """Index of the first row of each person."""
    first = np.full(n_persons, -1)
    order = np.arange(person_of_row.size)[::-1]
    first[person_of_row[order]] = order
    return first


def _by_variables(
    ds: xr.Dataset, supports: tuple[str, ...], rows_support: np.ndarray
) -> dict[str, tuple[np.ndarray, tuple[str, ...]]]:
    out: dict[str, tuple[np.ndarray, tuple[str, ...]]] = {}
    enc: EncodedData = ds.capmodel
    for col in enc.columns(("groups", "factors", "confounders")):
        values = enc.variable(col).values
        if enc.has_levels(col):
            out[col] = (values.astype(np.int64), enc.levels(col))
        elif enc.kind(col) == "numeric":
            uniq = np.unique(values)
            if uniq.size <= 10:
                out[col] = (np.searchsorted(uniq, values), tuple(f"{v:g}" for v in uniq))
    for column in enc.columns("wave"):
        waves = enc.variable(column).values
        uniq = np.unique(waves)
        labels = tuple(str(int(w)) for w in uniq)
        out["wave"] = (np.searchsorted(uniq, waves), labels)
        if column not in out:
            out[column] = out["wave"]
    for i, k in enumerate(supports):
        out.setdefault(k, (rows_support[:, i].astype(np.int64), ("0", "1")))
    return out


def sample_units(
    spec: Spec, ds: xr.Dataset, design: Design, weights: str = "none", residual: str = POSTERIOR
) -> Units:
    """The fit's own persons and rows (the survey sample).

    ``weights``: 'none' (every row 1) or 'survey' (the data's weight column).
    ``residual``: 'posterior' (each person keeps their own e_i, drawn from its posterior) or
    'integrated' (e ~ N(0, 1) integrated out: new persons like these).
    """
    if weights not in ("none", "survey"):
        raise EffectsError(f"weights = {weights!r}: expected 'none' or 'survey'")
    if residual not in (POSTERIOR, INTEGRATED):
        raise EffectsError(f"residual = {residual!r}: expected {POSTERIOR!r} or {INTEGRATED!r}")
    person_of_row = design.person_of_row
    n_persons = len(design.person_labels)
    first = first_rows(person_of_row, n_persons)
    names = model_supports(spec, design)
    enc: EncodedData = ds.capmodel
    sup_rows = enc.array(names).astype(float)
    supports = sup_rows[first]
    parts = conversion_parts(design)
    z = np.zeros((n_persons, len(parts)))
    for t, p in enumerate(parts):
        values = enc.variable(p.covariate).values[first]
        if p.level is None:
            z[:, t] = values.astype(float)
        else:
            z[:, t] = (values == enc.levels(p.covariate).index(p.level)).astype(float)
    wave_column = next(iter(enc.columns("wave")), None)
    if weights == "survey":
        if not enc.columns("weight"):
            raise EffectsError("weights = 'survey', but the data have no weight column")
        w = enc.variable(enc.columns("weight")[0]).values.astype(float)
        what = "survey sample, survey-weighted"
    else:
        w = np.ones(person_of_row.size)
        what = "survey sample, unweighted"
    groups = design.groups + design.interactions
    return Units(
        description=f"{what} ({n_persons:,} persons, {person_of_row.size:,} rows)",
        support_names=names,
        supports=supports,
        capability_x=design.capability_x,
        conversion_z=z,
        capability_codes={g.name: g.of_person for g in groups},
        person_of_row=person_of_row,
        realisation_x=design.realisation_x,
        log_time=design.log_time,
        realisation_codes={g.name: g.of_row for g in groups},
        weights=w,
        residual=residual,
        by=_by_variables(ds, names, sup_rows),
        person_index=np.arange(n_persons) if residual == POSTERIOR else None,
        person_labels=design.person_labels,
        realisation_y=design.realisation_y if design.realisations else None,
        wave=enc.variable(wave_column).values.astype(np.int64) if wave_column else None,
        references=enc.references(),
    )


def at_horizon(units: Units, design: Design, months: int) -> Units:
    """``units`` with each person once, at ``months`` since the CEP: realisations are
    cumulative, so an effect at a horizon is the effect on "has happened by then"
    (docs/models.md, "Realisations over time"); capability, when it changes between waves, is
    the capability at that horizon (theta_i + log(months / 6) g_i). A person's answer at that
    wave, when they gave one, is kept (attribution and pathways read it); subgroups are the
    person's."""
    if design.log_time is None and design.capability_time is None:
        raise EffectsError(
            f"horizon = {months}: this model has no time effect (the data have a single wave "
            f"{list(design.waves)}), so it predicts no other horizon"
        )
    if isinstance(months, bool) or not isinstance(months, int | np.integer) or months < 1:
        raise EffectsError(f"horizon = {months!r}: expected a whole number of months >= 1")
    first = first_rows(units.person_of_row, units.n_persons)
    n = units.n_persons
    y = None
    if units.realisation_y is not None:
        y = np.full((n, units.realisation_y.shape[1]), -1, dtype=np.int64)
        if units.wave is not None:
            at = np.flatnonzero(units.wave == months)
            y[units.person_of_row[at]] = units.realisation_y[at]
    by = {k: (codes[first], labels) for k, (codes, labels) in units.by.items()}
    waves = units.by.get("wave")  # the wave column's subgroups are the same object
    for k in [c for c in units.by if waves is not None and units.by[c] is waves]:
        by[k] = (np.zeros(n, dtype=np.int64), (str(months),))
    return replace(
        units,
        description=f"{units.description}, each person at {months} months",
        person_of_row=np.arange(n),
        realisation_x=units.realisation_x[first],
        log_time=np.full(n, float(log_time_of(months))),
        realisation_codes={g: c[first] for g, c in units.realisation_codes.items()},
        weights=units.weights[..., first],
        by=by,
        realisation_y=y,
        wave=np.full(n, months, dtype=np.int64),
        capability_log_time=(
            np.full(n, float(log_time_of(months))) if design.capability_time is not None else None
        ),
    )
