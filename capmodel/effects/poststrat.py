"""Post-stratification (MRP): population predictions from the fitted model and a population
table of cell counts, with an assignment sub-model for what only the survey knows.

    M_r^pop(s*) = sum_c N_c sum_x p(x | c) E_e[pi_r(s*, m(s*, x, c) + e)] / sum_c N_c

Cells c are the combinations of the cell variables (columns of the population table that the
data also have: sex, age band, ..., operator, region, service level). x are the survey-only
variables the model uses (supports and confounders such as maturity or reasons for coming):
p(x | c) is the assignment sub-model (:mod:`capmodel.model.assignment`). e ~ N(0, 1) is
integrated out by Gauss-Hermite quadrature: nobody in a cell is observed.

Each posterior draw of the outcome model is paired with one draw of the assignment model's
parameters and one draw of x in every cell (so both models' uncertainty reaches the interval).
Groups (operator, region) must be cell variables. A group level the survey never saw (allowed
with ``allow_unseen_groups``) gets, per posterior draw, the effect of a new level of the
group, as brms's ``sample_new_levels = "gaussian"``: its group-level predictors' line (the
level's predictor values standardised as the fit's were, times the draw's coefficients; 0
without predictors) plus a deviation drawn from N(0, the draw's group sd), so its uncertainty
is the group's spread, not none. Overlap: cells where P(s_k = 1 | c) is below ``overlap`` or
above 1 - ``overlap`` are reported (extra['overlap']).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import xarray as xr

from capmodel.data import EncodedData
from capmodel.effects.aggregate import Subgroups
from capmodel.effects.interventions import parse_intervention
from capmodel.effects.params import Params
from capmodel.effects.population_checks import FitColumns, PopulationTableError, check_population
from capmodel.effects.predict import EffectModel, Predictor
from capmodel.effects.tables import EffectResult, sample_coords, summary_columns, tidy
from capmodel.effects.threads import single_blas_thread
from capmodel.effects.total import _flat, _subgroup_coords, notes
from capmodel.effects.units import INTEGRATED, EffectsError, Units, first_rows
from capmodel.model.assignment import DEFAULT_PRIOR_SD, AssignmentError, AssignmentModel
from capmodel.model.design import Design, GroupIndex, log_time_of
from capmodel.model.evaluate import ModelFunctions
from capmodel.spec import Spec

DEFAULT_SEED = 1  # seed of the draws of the survey-only variables in every cell
DEFAULT_OVERLAP = 0.05  # overlap: P(s_k = 1 | c) below this or above 1 - this is reported
UNSEEN_STREAM = 13  # second key of the random stream of the unseen levels' deviations


def _labels(ds: xr.Dataset, col: str, rows: np.ndarray) -> np.ndarray:
    """Labels (str) of a group or categorical covariate at ``rows``."""
    enc: EncodedData = ds.capmodel
    if col not in enc.columns(("groups", "factors", "confounders")) or not enc.has_levels(col):
        raise KeyError(col)
    levels = np.array(enc.levels(col), dtype=object)
    return levels[enc.variable(col).values[rows]].astype(str)


def _levels(ds: xr.Dataset, col: str) -> tuple[str, ...] | None:
    """Levels of a categorical or ordinal column of the data; None for any other name."""
    return ds.capmodel.levels(col) if ds.capmodel.has_levels(col) else None


@dataclass(frozen=True)
class UnseenLevels:
    """The levels of one group that the population table has and the fit never saw.

    ``parent_codes``: each level's parent level, coded as in the parent group's labels
    followed by the parent's own unseen levels (None for a group not nested in another);
    ``predictors``: (U, H) their group-level predictors, standardised as the fit's;
    ``sources``: where each predictor's values came from."""

    group: str
    levels: tuple[str, ...]
    parent_codes: np.ndarray | None
    predictors: np.ndarray
    sources: tuple[str, ...] = ()


def _predictor_tables(spec: Spec, group: str) -> dict[str, dict[str, float]]:
    g = next((g for g in spec.schema.groups if g.column == group), None)
    return dict(g.predictors or {}) if g is not None else {}


def _unseen_raw_predictors(
    spec: Spec, g: GroupIndex, levels: Sequence[str], table: pd.DataFrame
) -> tuple[np.ndarray, tuple[str, ...]]:
    """(U, H) the raw predictor values of ``g``'s unseen ``levels``: from the population
    table's column named like the predictor (one value per level), else from the schema's
    table of the group when it lists the level; every problem raised at once."""
    tables = _predictor_tables(spec, g.name)
    out = np.full((len(levels), len(g.predictor_names)), np.nan)
    problems, sources = [], []
    for h, name in enumerate(g.predictor_names):
        if name in table.columns:
            sources.append(f"{name}: column {name!r} of the population table")
            values = pd.to_numeric(table[name], errors="coerce")
            labels = table[g.name]
            for u, lv in enumerate(levels):
                v = values[labels == lv]
                if v.isna().any() or not np.isfinite(v.to_numpy(dtype=float)).all():
                    problems.append(
                        f"column {name!r} (predictor of group {g.name!r}): level {lv!r} has a "
                        "missing or non-numeric value; expected a finite number in every row"
                    )
                elif np.ptp(v.to_numpy(dtype=float)) > 1e-9 * max(1.0, float(v.abs().max())):
                    problems.append(
                        f"column {name!r} (predictor of group {g.name!r}): level {lv!r} has "
                        f"several values ({sorted(set(v.round(6).tolist()))[:5]}); a group-level "
                        "predictor takes one value per level"
                    )
                else:
                    out[u, h] = float(v.iloc[0])
            # the seen levels' values must be the fit's: the line was fitted on those
            known = tables.get(name, {})
            for lv in g.labels:
                v = values[labels == lv]
                if v.size and lv in known and not np.allclose(v, known[lv], rtol=1e-6, atol=1e-9):
                    problems.append(
                        f"column {name!r} (predictor of group {g.name!r}): level {lv!r} has "
                        f"{float(v.iloc[0])!r} where the fit's schema has {known[lv]!r}; the "
                        "population table must give the predictor on the fit's scale"
                    )
        else:
            sources.append(f"{name}: the schema's table")
            missing = [lv for lv in levels if lv not in tables.get(name, {})]
            for u, lv in enumerate(levels):
                if lv not in missing:
                    out[u, h] = tables[name][lv]
            if missing:
                problems.append(
                    f"group {g.name!r}: level(s) {missing} that the fit never saw need a value of "
                    f"its predictor {name!r} (their effect is the predictors' line plus a draw "
                    f"from the group's spread): give a column {name!r} in the population table "
                    f"(one value per level) or list them in the schema's predictors table of "
                    f"{g.name!r}"
                )
    if problems:
        raise PopulationTableError(problems)
    return out, tuple(sources)


def _standardise_unseen(
    spec: Spec, g: GroupIndex, raw: np.ndarray, parent_codes: np.ndarray | None
) -> np.ndarray:
    """(U, H) raw predictor values of unseen levels on the fit's scale: centred as the fit's
    levels were (on the mean of the fit's levels, within the level's parent for a nested
    group; a parent the fit never saw: on its unseen levels' mean) and divided by the fit's
    sd (capmodel.model.design._group_predictors)."""
    tables = _predictor_tables(spec, g.name)
    seen = np.array([[tables[h][lv] for h in g.predictor_names] for lv in g.labels], dtype=float)
    centred = seen.copy()
    centre = np.empty_like(raw)
    if g.parent_of_level is None or parent_codes is None:
        centred -= seen.mean(axis=0)
        centre[:] = seen.mean(axis=0)
    else:
        for p in np.unique(g.parent_of_level):
            members = g.parent_of_level == p
            centred[members] -= seen[members].mean(axis=0)
        for u, p in enumerate(parent_codes):
            members = g.parent_of_level == p
            centre[u] = (
                seen[members].mean(axis=0) if members.any() else raw[parent_codes == p].mean(axis=0)
            )
    sd = centred.std(axis=0)
    if not np.allclose(centred / sd, g.predictors, atol=1e-9):
        raise EffectsError(
            f"group {g.name!r}: the fit's predictors are not the schema's table standardised "
            "as capmodel.model.design does; cannot place the unseen levels on their line"
        )
    return (raw - centre) / sd


class _Terms:
    """A design block over the cells: the cell-variable columns computed once, the columns of
    survey-only variables filled from each draw of x."""

    def __init__(
        self,
        terms: Sequence[tuple[str, str | None]],
        cells: dict[str, np.ndarray],
        x_levels: dict[str, tuple[str, ...] | None],
        n: int,
    ):
        self.static = np.zeros((n, len(terms)))
        self.fills: list[tuple[int, str, int | None]] = []
        for j, (c, lv) in enumerate(terms):
            if c in cells:
                self.static[:, j] = (cells[c] == lv) if lv is not None else cells[c].astype(float)
            elif c in x_levels:
                levels = x_levels[c]
                if lv is not None and levels is None:
                    raise EffectsError(f"model term {c}[{lv}]: {c!r} has no levels in the data")
                self.fills.append(
                    (j, c, None if lv is None or levels is None else levels.index(lv))
                )
            else:
                raise EffectsError(f"model term {c!r} is neither a cell variable nor modelled")

    def matrix(self, x: dict[str, np.ndarray]) -> np.ndarray:
        out = self.static.copy()
        for j, c, code in self.fills:
            out[:, j] = x[c] if code is None else (x[c] == code)
        return out


class PostStratifier:
    """A fitted model, a population table and the assignment sub-model, ready to predict."""

    def __init__(
        self,
        model: EffectModel,
        population: pd.DataFrame,
        cell_vars: Sequence[str] | None = None,
        count: str | None = None,
        wave: int | None = None,
        prior_sd: float = DEFAULT_PRIOR_SD,
        allow_unseen_groups: bool = False,
    ):
        if model.data is None:
            raise EffectsError("post-stratification needs the fit's data (EffectModel.from_fit)")
        ds, design, spec = model.data, model.design, model.spec
        checked = check_population(  # labels, levels, counts (capmodel.effects.population_checks)
            population,
            FitColumns.of(ds, spec.schema),
            cell_vars=cell_vars,
            count=count,
            allow_unseen_groups=allow_unseen_groups,
        )
        population, cell_vars, count = checked.table, checked.cell_vars, checked.count
        self.notes = checked.notes
        self.model = model
        if design.interactions:
            raise EffectsError("post-stratification does not handle group interactions yet")
        available = [c for c in population.columns if c != count and _levels(ds, c)]
        self.cell_vars = list(cell_vars) if cell_vars is not None else available
        bad = [c for c in self.cell_vars if c not in available]
        if bad:
            raise EffectsError(
                f"cell variable(s) {bad} are not categorical columns of both the "
                f"population table and the data; allowed: {available}"
            )
        groups_missing = [g.name for g in design.groups if g.name not in self.cell_vars]
        if groups_missing:
            raise EffectsError(
                f"group(s) {groups_missing} must be cell variables of the population table"
            )
        keys = population[self.cell_vars].astype(str)
        n_c = population[count].astype(float) if count else pd.Series(1.0, index=keys.index)
        table = n_c.groupby([keys[c] for c in self.cell_vars]).sum()
        table = table[table > 0]
        self.cells = {
            c: np.asarray(table.index.get_level_values(c), dtype=str) for c in self.cell_vars
        }
        self.counts = table.to_numpy(dtype=float)
        cell_levels = {c: _levels(ds, c) or () for c in self.cell_vars}  # each has levels
        unseen = {c: sorted(set(self.cells[c]) - set(cell_levels[c])) for c in self.cell_vars}
        self.unseen = {c: v for c, v in unseen.items() if v}
        # survey-only variables the model uses, in chain order: categorical, binary, supports
        used = dict.fromkeys(
            spec.capability_covariates()
            + spec.realisation_covariates()
            + tuple(c for _, cs in spec.conversion for c in cs)
        )
        if not spec.latent:
            used = dict.fromkeys(spec.realisation_covariates())
        survey_only = [c for c in used if c not in self.cell_vars]
        cat = [(c, _levels(ds, c)) for c in survey_only if _levels(ds, c)]
        num = [(c, None) for c in survey_only if not _levels(ds, c)]
        self.targets = cat + num + [(k, None) for k in model.units.support_names]
        first = first_rows(design.person_of_row, len(design.person_labels))
        resp_cells = {c: _labels(ds, c, first) for c in self.cell_vars}
        resp_x: dict[str, np.ndarray] = {}
        for c, _ in cat:
            resp_x[c] = _labels(ds, c, first)
        for c, _ in num:
            resp_x[c] = ds.capmodel.variable(c).values[first].astype(float)
        for i, k in enumerate(model.units.support_names):
            resp_x[k] = model.units.supports[:, i]
        try:
            self.assignment = AssignmentModel.fit(
                resp_cells, cell_levels, resp_x, self.targets, prior_sd=prior_sd
            )
        except AssignmentError as e:
            raise EffectsError(str(e)) from None
        self.survey_cells = resp_cells
        waves = design.waves or (6,)
        self.wave = wave if wave is not None else (6 if 6 in waves else waves[0])
        self.params = model.params
        # group levels the fit never saw: each gets its own code after the fit's levels, and
        # the model is evaluated on a design that has them (effects drawn in draws())
        self.unseen_levels = self._unseen_levels(spec, design, population)
        self.functions = model.functions
        if self.unseen_levels:
            self.functions = ModelFunctions(spec, _with_levels(design, self.unseen_levels))
        n = self.counts.size
        x_levels = dict(self.targets)
        self.blocks = {
            block: _Terms(
                [(p.covariate, p.level) for p in design.parts(terms)], self.cells, x_levels, n
            )
            for block, terms in (
                ("capability", design.capability_terms),
                ("realisation", design.realisation_terms),
                ("conversion", design.conversion_terms),
            )
        }
        self.codes = {}
        for g in design.groups:
            new = self.unseen_levels.get(g.name)
            labels = g.labels + (new.levels if new is not None else ())
            index = {lv: i for i, lv in enumerate(labels)}
            self.codes[g.name] = np.array([index[v] for v in self.cells[g.name]], dtype=np.int64)
        self.by = {}
        for c in self.cell_vars:
            labels = tuple(sorted(set(self.cells[c]), key=self._order(c)))
            pos = {lv: i for i, lv in enumerate(labels)}
            self.by[c] = (np.array([pos[v] for v in self.cells[c]], dtype=np.int64), labels)
        self.base = self.assignment.cell_matrix(self.cells)

    def units(self, x: dict[str, np.ndarray]) -> Units:
        """The cells as units, with survey-only values ``x`` (one value per cell: category
        codes for categorical variables, 0/1 for the others)."""
        d, names = self.model.design, self.model.units.support_names
        n = self.counts.size
        supports = (
            np.column_stack([np.asarray(x[k], dtype=float) for k in names])
            if names
            else np.zeros((n, 0))
        )
        return Units(
            description=(
                f"post-stratified population ({self.counts.sum():,.0f} persons in "
                f"{n:,} cells of {', '.join(self.cell_vars)})"
            ),
            support_names=names,
            supports=supports,
            capability_x=self.blocks["capability"].matrix(x),
            conversion_z=self.blocks["conversion"].matrix(x),
            capability_codes=self.codes,
            person_of_row=np.arange(n),
            realisation_x=self.blocks["realisation"].matrix(x),
            log_time=(np.full(n, log_time_of(self.wave)) if d.log_time is not None else None),
            realisation_codes=self.codes,
            weights=self.counts,
            residual=INTEGRATED,
            by=self.by,
            capability_log_time=(
                np.full(n, log_time_of(self.wave)) if d.capability_time is not None else None
            ),
        )

    def _unseen_levels(
        self, spec: Spec, design: Design, table: pd.DataFrame
    ) -> dict[str, UnseenLevels]:
        """The unseen levels of each group, their parents and predictors (parents first, so
        that a parent's unseen levels are coded before its children's)."""
        by_name = {g.name: g for g in design.groups}

        def depth(g: GroupIndex) -> int:
            return 0 if g.parent not in by_name else 1 + depth(by_name[g.parent])

        out: dict[str, UnseenLevels] = {}
        for g in sorted(design.groups, key=depth):
            levels = tuple(str(v) for v in self.unseen.get(g.name, ()))
            if not levels:
                continue
            parent_codes = None
            if g.parent is not None and g.parent_of_level is not None:
                pg = by_name[g.parent]
                parent_new = out[g.parent].levels if g.parent in out else ()
                index = {lv: i for i, lv in enumerate(pg.labels + parent_new)}
                codes = []
                for lv in levels:
                    parents = sorted(set(self.cells[g.parent][self.cells[g.name] == lv]))
                    if len(parents) != 1:
                        raise EffectsError(
                            f"group {g.name!r} is nested in {g.parent!r}, but its level {lv!r} "
                            f"(not in the fit) appears within {len(parents)} levels of "
                            f"{g.parent!r} in the population table ({parents[:5]}); expected one"
                        )
                    codes.append(index[parents[0]])
                parent_codes = np.array(codes, dtype=np.int64)
            predictors = np.zeros((len(levels), 0))
            sources: tuple[str, ...] = ()
            if g.predictor_names:
                raw, sources = _unseen_raw_predictors(spec, g, levels, table)
                predictors = _standardise_unseen(spec, g, raw, parent_codes)
            out[g.name] = UnseenLevels(g.name, levels, parent_codes, predictors, sources)
        return out

    def params_with_unseen(self, seed: int = DEFAULT_SEED) -> Params:
        """The posterior draws with the unseen levels' effects appended to each group's
        effects: per draw, the predictors' line (``<g>_predictor_effect`` times the level's
        standardised predictors) plus N(0, ``<g>_sd``) (``realisation_<g>_sd`` for each
        realisation, ``<g>_slope_sd`` for each varying slope), as brms's
        ``sample_new_levels = "gaussian"``; the draws' own params when no level is unseen."""
        if not self.unseen_levels:
            return self.params
        rng = np.random.default_rng([seed, UNSEEN_STREAM])
        values = dict(self.params.values)
        n = self.params.n_draws

        def need(name: str) -> np.ndarray:
            if name not in values:
                raise EffectsError(
                    f"an unseen group level's effect needs the draws of {name!r}, which this "
                    "effect model does not hold: build it with EffectModel.from_fit "
                    "(capmodel.effects.effect_model)"
                )
            return values[name]

        for name, u in self.unseen_levels.items():
            k, w = len(u.levels), u.predictors  # (U, H)
            key = f"{name}_effect"
            if key in values:  # capability: (D, L)
                line = need(f"{name}_predictor_effect") @ w.T if w.shape[1] else 0.0
                dev = need(f"{name}_sd")[:, None] * rng.standard_normal((n, k))
                values[key] = np.concatenate([values[key], line + dev], axis=-1)
            key = f"realisation_{name}_effect"
            if key in values:  # realisations: (D, R, L)
                r = values[key].shape[1]
                line = (
                    np.einsum("drh,uh->dru", need(f"realisation_{name}_predictor_effect"), w)
                    if w.shape[1]
                    else 0.0
                )
                dev = need(f"realisation_{name}_sd")[:, None, None] * rng.standard_normal((n, r, k))
                values[key] = np.concatenate([values[key], line + dev], axis=-1)
            key = f"{name}_slope"
            if key in values:  # varying slopes: (D, K, L), sd per support (D, K)
                sd = need(f"{name}_slope_sd")
                dev = sd[:, :, None] * rng.standard_normal((n, sd.shape[1], k))
                values[key] = np.concatenate([values[key], dev], axis=-1)
        return replace(self.params, values=values)

    def _order(self, c: str):
        assert self.model.data is not None  # checked in __init__
        levels = _levels(self.model.data, c) or ()
        return lambda v: (levels.index(v) if v in levels else len(levels), v)

    def run(
        self,
        interventions: Sequence = ("observed",),
        by: Sequence[str] = (),
        seed: int = DEFAULT_SEED,
        overlap: float = DEFAULT_OVERLAP,
    ):
        """(D, I, G, O) population means, the subgroups, P(s_k = 1 | c) averaged over draws."""
        m = self.model
        ivs = [parse_intervention(i).check(m.units.support_names) for i in interventions]
        bad = [b for b in by if b not in self.cell_vars]
        if bad:
            raise EffectsError(
                f"post-stratified subgroups must be cell variables; {bad} are "
                f"not; allowed: {self.cell_vars}"
            )
        out, p_support = [], {k: np.zeros(self.counts.size) for k in m.units.support_names}
        groups = None
        for units, groups, pred, probs in self.draws(by, seed):
            out.append(
                np.stack(
                    [
                        groups.means(
                            pred.probabilities(iv.apply(units.supports, units.support_names)),
                            units.weights,
                        )
                        for iv in ivs
                    ],
                    axis=1,
                )
            )
            for k in p_support:
                p_support[k] += probs[k]
        n = self.params.n_draws
        return ivs, groups, np.concatenate(out, axis=0), {k: v / n for k, v in p_support.items()}

    def draws(
        self, by: Sequence[str] = (), seed: int = DEFAULT_SEED
    ) -> Iterator[tuple[Units, Subgroups, Predictor, dict[str, np.ndarray]]]:
        """Per posterior draw: the cells as units with survey-only variables drawn from the
        assignment sub-model, the ``by`` subgroups, the draw's predictor and P(s_k = 1 | c)."""
        m = self.model
        rng = np.random.default_rng(seed)
        params = self.params_with_unseen(seed)
        groups = None
        for d in range(self.params.n_draws):
            x, probs = self.assignment.sample(self.base, rng)
            units = self.units(x)
            if groups is None:
                groups = Subgroups.of(units, by)
            yield (
                units,
                groups,
                Predictor(params.take(np.array([d])), units, self.functions, m.n_nodes),
                probs,
            )

    def overlap_table(self, p_support: dict[str, np.ndarray], overlap: float) -> pd.DataFrame:
        rows = []
        total = self.counts.sum()
        for k, p in p_support.items():
            flag = (p < overlap) | (p > 1 - overlap)
            rows.append(
                {
                    "support": k,
                    "threshold": overlap,
                    "cells": int(self.counts.size),
                    "cells_flagged": int(flag.sum()),
                    "population_share_flagged": float(self.counts[flag].sum() / total),
                    "min_p": float(p.min()),
                    "max_p": float(p.max()),
                    "population_mean_p": float(np.sum(p * self.counts) / total),
                }
            )
        return pd.DataFrame(rows)


def survey_means(model: EffectModel, by: Sequence[str] = ()) -> pd.DataFrame:
    """Raw and survey-weighted shares of each observed realisation (and any), by subgroup."""
    u = model.units
    y = u.realisation_y
    ds = model.data
    if y is None or ds is None:
        raise EffectsError("survey means need the fit's data and its observed realisations")
    weight = ds.capmodel.columns("weight")
    w_all = ds.capmodel.variable(weight[0]).values.astype(float) if weight else np.ones(u.n_rows)
    values = np.column_stack([np.where(y >= 0, y, np.nan), (y == 1).any(axis=1)]).astype(float)
    rows = []
    for var in ("all", *by):
        codes, labels = u.split(var)
        for i, lv in enumerate(labels):
            sel = codes == i
            if not sel.any():
                continue
            for j, r in enumerate(model.outcomes):
                v = values[sel, j]
                ok = ~np.isnan(v)
                rows.append(
                    {
                        "outcome": r,
                        "by_variable": var,
                        "by_level": lv,
                        "survey_raw": float(v[ok].mean()),
                        "survey_weighted": float(
                            np.sum(w_all[sel][ok] * v[ok]) / np.sum(w_all[sel][ok])
                        ),
                    }
                )
    return pd.DataFrame(rows)


@single_blas_thread
def poststratify(
    model: EffectModel,
    population: pd.DataFrame,
    interventions: Sequence = ("observed",),
    by: Sequence[str] = (),
    cell_vars: Sequence[str] | None = None,
    count: str | None = None,
    seed: int = DEFAULT_SEED,
    overlap: float = DEFAULT_OVERLAP,
    wave: int | None = None,
    prior_sd: float = DEFAULT_PRIOR_SD,
    allow_unseen_groups: bool = False,
) -> EffectResult:
    """MRP estimates of the population share with each realisation under each intervention,
    overall and by cell variables (``by``); ``population``: one row per person (or per cell
    with a ``count`` column). ``extra['overlap']``: positivity diagnostics;
    ``extra['comparison']``: MRP vs raw and weighted survey shares (observed supports);
    ``extra['contrasts']``: the first intervention minus each other one (population TE).
    ``allow_unseen_groups``: group levels the fit never saw get, per draw, their
    group-level predictors' line plus a N(0, group sd) deviation (else an error); the values
    of their predictors come from a column of ``population`` named like the predictor, or
    from the schema's predictors table."""
    ps = PostStratifier(
        model,
        population,
        cell_vars=cell_vars,
        count=count,
        wave=wave,
        prior_sd=prior_sd,
        allow_unseen_groups=allow_unseen_groups,
    )
    ivs, groups, arr, p_support = ps.run(interventions, by, seed=seed, overlap=overlap)
    p = model.params
    da = xr.DataArray(
        arr,
        dims=("sample", "intervention", "subgroup", "outcome"),
        coords={
            **sample_coords(p.chain, p.draw),
            "intervention": [iv.name for iv in ivs],
            **_subgroup_coords(groups),
            "outcome": list(model.outcomes),
        },
    )
    table = _flat(tidy(da.drop_vars(["by_variable", "by_level", "n_rows"])), groups)
    table = table.rename(columns={"n_rows": "n_cells"})
    table = table[
        [
            "intervention",
            "outcome",
            "by_variable",
            "by_level",
            "n_cells",
            "mean",
            "sd",
            "lower",
            "upper",
        ]
    ]
    res = EffectResult(
        "post-stratified (MRP) realisation shares",
        table,
        xr.Dataset({"predicted": da}),
        notes(
            model,
            population=ps.units({k: np.zeros(ps.counts.size) for k, _ in ps.targets}).description,
            residual=f"e ~ Normal(0, 1) integrated out (Gauss-Hermite, "
            f"{model.n_nodes} nodes): nobody in a cell is observed",
            assignment=(
                "survey-only variables "
                + ", ".join(v for v, _ in ps.targets)
                + " drawn from a chain of Bayesian "
                "logistic regressions on the cell variables (Laplace "
                "approximation; capmodel.model.assignment), one parameter draw "
                "per posterior draw"
            ),
            unseen_levels=_unseen_note(ps),
            **({"population_text": "; ".join(ps.notes)} if ps.notes else {}),
        ),
    )
    res.extra["overlap"] = ps.overlap_table(p_support, overlap)
    if len(ivs) > 1:  # population total effects: the first intervention vs each other one
        parts = []
        for i, iv in enumerate(ivs[1:], start=1):
            diff = da.isel(intervention=0) - da.isel(intervention=i)
            t = _flat(tidy(diff.drop_vars(["by_variable", "by_level", "n_rows"])), groups)
            t.insert(0, "contrast", f"{ivs[0].name} vs {iv.name}")
            parts.append(t.rename(columns={"n_rows": "n_cells"}))
        res.extra["contrasts"] = pd.concat(parts, ignore_index=True)
    if any(iv.name == "observed" for iv in ivs) and model.units.realisation_y is not None:
        k = [iv.name for iv in ivs].index("observed")
        comp = survey_means(model, [b for b in by if b in model.units.by])
        st = summary_columns(arr[:, k], chain=model.params.chain)
        mrp = pd.DataFrame(
            {
                "by_variable": np.repeat(groups.by_variable, len(model.outcomes)),
                "by_level": np.repeat(groups.by_level, len(model.outcomes)),
                "outcome": np.tile(model.outcomes, groups.size),
                "mrp_mean": st["mean"].ravel(),
                "mrp_lower": st["lower"].ravel(),
                "mrp_upper": st["upper"].ravel(),
            }
        )
        res.extra["comparison"] = comp.merge(
            mrp, on=["outcome", "by_variable", "by_level"], how="outer"
        )
    return res


def _with_levels(design: Design, unseen: dict[str, UnseenLevels]) -> Design:
    """``design`` whose groups also have their unseen levels (after the fit's, no persons),
    with their parents and standardised predictors: the model evaluated on it reads effects
    with those levels."""
    groups = []
    for g in design.groups:
        u = unseen.get(g.name)
        if u is None:
            groups.append(g)
            continue
        k = len(u.levels)
        groups.append(
            replace(
                g,
                labels=g.labels + u.levels,
                persons_per_level=np.concatenate(
                    [g.persons_per_level, np.zeros(k, dtype=g.persons_per_level.dtype)]
                ),
                parent_of_level=(
                    None
                    if g.parent_of_level is None or u.parent_codes is None
                    else np.concatenate([g.parent_of_level, u.parent_codes])
                ),
                predictors=(
                    np.vstack([g.predictors, u.predictors])
                    if g.predictor_names
                    else np.zeros((len(g.labels) + k, 0))
                ),
            )
        )
    return replace(design, groups=type(design.groups)(groups))


def _unseen_note(ps: PostStratifier) -> str:
    if not ps.unseen_levels:
        return "none"
    parts = []
    for name, u in ps.unseen_levels.items():
        how = (
            f"their predictors' line ({'; '.join(u.sources)}) plus N(0, sd)"
            if u.sources
            else "N(0, sd): mean 0, the groups' mean"
        )
        parts.append(f"{name}: {', '.join(u.levels)} ({how})")
    return (
        "group levels absent from the fit, each given per posterior draw the effect of a new "
        "level of its group (brms's sample_new_levels = 'gaussian'): " + "; ".join(parts)
    )
