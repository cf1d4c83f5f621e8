"""Column roles of the capability approach: which column of the data plays which part.

A :class:`Schema` maps columns to roles (person id, wave, weight, groups, supports,
conversion factors, confounders, capability indicators, realisations, extras) and
declares what each column must contain.  It is plain data: it can be written to and
read from a dict (TOML/JSON) with :meth:`Schema.to_dict` / :meth:`Schema.from_dict`.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field, fields
from typing import Any, Literal

CovariateKind = Literal["categorical", "numeric"]
IndicatorKind = Literal["binary", "ordinal"]
ExtraKind = Literal["binary", "categorical", "ordinal", "numeric", "text"]
ResponsePolicy = Literal["allow", "error"]
CovariatePolicy = Literal["error", "drop_rows"]

DEFAULT_WAVES: tuple[int, ...] = (1, 6, 18)


class SchemaError(ValueError):
    """A schema declaration is inconsistent or uses an unknown key/value."""


@dataclass(frozen=True)
class Covariate:
    """A conversion factor or confounder: categorical (levels, reference) or numeric.

    For a categorical covariate, ``levels`` may be left out (they are then inferred
    from the data, sorted) and ``reference`` defaults to the first level.
    """

    column: str
    kind: CovariateKind = "categorical"
    levels: tuple[str, ...] | None = None
    reference: str | None = None

    def __post_init__(self) -> None:
        check_choice(f"{self.column}.kind", self.kind, ("categorical", "numeric"))
        if self.kind == "numeric" and (self.levels is not None or self.reference is not None):
            raise SchemaError(f"covariate '{self.column}' is numeric: it takes no levels/reference")
        if self.levels is not None:
            object.__setattr__(self, "levels", _levels(self.column, self.levels))
        if self.reference is not None:
            object.__setattr__(self, "reference", unicodedata.normalize("NFC", self.reference))
        if (
            self.levels is not None
            and self.reference is not None
            and self.reference not in self.levels
        ):
            raise SchemaError(
                f"covariate '{self.column}': reference {self.reference!r} is not one of its "
                f"levels {list(self.levels)}"
            )


@dataclass(frozen=True)
class Indicator:
    """A capability indicator: binary (0/1) or ordinal with ordered levels (low to high).

    ``level``: ``"wave"`` (the default; answered at each wave, each answer a measurement of the
    person's capability) or ``"person"`` (answered once: a panel file that repeats the answer
    on every wave's row must repeat the same value, and it enters the model once)."""

    column: str
    kind: IndicatorKind = "binary"
    levels: tuple[str, ...] | None = None
    level: str | None = None  # None: "wave"

    def __post_init__(self) -> None:
        check_choice(f"{self.column}.kind", self.kind, ("binary", "ordinal"))
        if self.level is not None:
            check_choice(f"{self.column}.level", self.level, ("wave", "person"))
        if self.kind == "ordinal":
            if self.levels is None or len(self.levels) < 3:
                raise SchemaError(
                    f"ordinal indicator '{self.column}' needs at least 3 ordered levels "
                    "(low to high); use kind = 'binary' for two"
                )
            object.__setattr__(self, "levels", _levels(self.column, self.levels))
        elif self.levels is not None:
            raise SchemaError(f"binary indicator '{self.column}' takes no levels (values are 0/1)")


@dataclass(frozen=True)
class Group:
    """A grouping column (operator, region, ...).

    ``within`` names the group column this one is nested in (e.g. region within
    operator); ``None`` means not declared (nesting can be inferred from the data).
    ``levels`` may declare the expected levels; each must then have rows.
    ``predictors``: group-level covariates, a table keyed by level for each (e.g. a region's
    unemployment rate: ``{"unemployment": {"Bretagne": 6.1, ...}}``), which a spec may let the
    group's effects depend on (``groups.predictors``).
    """

    column: str
    within: str | None = None
    levels: tuple[str, ...] | None = None
    predictors: dict[str, dict[str, float]] | None = None

    def __post_init__(self) -> None:
        if self.levels is not None:
            object.__setattr__(self, "levels", _levels(self.column, self.levels))
        if self.predictors is not None:
            object.__setattr__(self, "predictors", _predictors(self.column, self.predictors))


@dataclass(frozen=True)
class Extra:
    """A column kept alongside the model's columns (motives, usefulness, attribution...)."""

    column: str
    kind: ExtraKind = "text"
    levels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        check_choice(
            f"{self.column}.kind",
            self.kind,
            ("binary", "categorical", "ordinal", "numeric", "text"),
        )
        if self.levels is not None:
            object.__setattr__(self, "levels", _levels(self.column, self.levels))
        if self.kind == "ordinal" and self.levels is None:
            raise SchemaError(f"ordinal extra column '{self.column}' needs its ordered levels")


@dataclass(frozen=True)
class MissingPolicy:
    """What a missing value (NaN/None/empty) means, per kind of role.

    - ``responses`` (indicators and realisations): ``"allow"`` keeps the row (a model then
      drops only that term), ``"error"`` rejects it.
    - ``covariates`` (supports, factors, confounders, groups): ``"error"`` rejects it,
      ``"drop_rows"`` drops the row and records how many were dropped.
    Ids, waves and weights may never be missing; extras always may.
    """

    responses: ResponsePolicy = "allow"
    covariates: CovariatePolicy = "error"

    def __post_init__(self) -> None:
        check_choice("missing.responses", self.responses, ("allow", "error"))
        check_choice("missing.covariates", self.covariates, ("error", "drop_rows"))


@dataclass(frozen=True)
class Schema:
    """Which column plays which role, and what values each may take."""

    id: str
    wave: str | None = None
    waves: tuple[int, ...] = DEFAULT_WAVES
    weight: str | None = None
    groups: tuple[Group, ...] = ()
    supports: tuple[str, ...] = ()
    factors: tuple[Covariate, ...] = ()
    confounders: tuple[Covariate, ...] = ()
    indicators: tuple[Indicator, ...] = ()
    realisations: tuple[str, ...] = ()
    extras: tuple[Extra, ...] = ()
    missing: MissingPolicy = field(default_factory=MissingPolicy)

    def __post_init__(self) -> None:
        for name, kind in (
            ("groups", Group),
            ("factors", Covariate),
            ("confounders", Covariate),
            ("indicators", Indicator),
            ("extras", Extra),
        ):
            value = tuple(getattr(self, name))
            for item in value:
                if not isinstance(item, kind):
                    raise SchemaError(
                        f"schema.{name} must hold {kind.__name__} entries, got {item!r}"
                    )
            object.__setattr__(self, name, value)
        object.__setattr__(self, "supports", tuple(self.supports))
        object.__setattr__(self, "realisations", tuple(self.realisations))
        object.__setattr__(self, "waves", tuple(int(w) for w in self.waves))
        group_names = {g.column for g in self.groups}
        for g in self.groups:
            if g.within is not None and g.within not in group_names:
                raise SchemaError(
                    f"group '{g.column}' is declared within '{g.within}', which is not a group "
                    f"column (groups: {sorted(group_names)})"
                )
            if g.within == g.column:
                raise SchemaError(f"group '{g.column}' cannot be nested within itself")

    # ----------------------------------------------------------------- roles
    def roles(self) -> dict[str, list[str]]:
        """Role name -> columns playing it (single-column roles as one-element lists)."""
        return {
            "id": [self.id],
            "wave": [self.wave] if self.wave else [],
            "weight": [self.weight] if self.weight else [],
            "groups": [g.column for g in self.groups],
            "supports": list(self.supports),
            "factors": [c.column for c in self.factors],
            "confounders": [c.column for c in self.confounders],
            "indicators": [i.column for i in self.indicators],
            "realisations": list(self.realisations),
            "extras": [e.column for e in self.extras],
        }

    def columns(self) -> list[str]:
        """Every column the schema names, in role order."""
        return [c for cols in self.roles().values() for c in cols]

    def role_of(self) -> dict[str, list[str]]:
        """Column -> roles it is declared in (more than one is a validation error)."""
        out: dict[str, list[str]] = {}
        for role, cols in self.roles().items():
            for c in cols:
                out.setdefault(c, []).append(role)
        return out

    def covariates(self) -> tuple[Covariate, ...]:
        """Conversion factors then confounders."""
        return self.factors + self.confounders

    # ------------------------------------------------------------ (de)serialise
    def to_dict(self) -> dict[str, Any]:
        """A plain dict (TOML/JSON-ready) that :meth:`from_dict` reads back."""
        out: dict[str, Any] = {"id": self.id}
        if self.wave:
            out["wave"] = self.wave
            out["waves"] = list(self.waves)
        if self.weight:
            out["weight"] = self.weight
        out["groups"] = [_drop_none(_as_dict(g)) for g in self.groups]
        out["supports"] = list(self.supports)
        out["factors"] = [_drop_none(_as_dict(c)) for c in self.factors]
        out["confounders"] = [_drop_none(_as_dict(c)) for c in self.confounders]
        out["indicators"] = [_drop_none(_as_dict(i)) for i in self.indicators]
        out["realisations"] = list(self.realisations)
        out["extras"] = [_drop_none(_as_dict(e)) for e in self.extras]
        out["missing"] = _as_dict(self.missing)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "schema") -> Schema:
        """Build a schema from a dict; unknown keys and bad values raise :class:`SchemaError`."""
        if not isinstance(d, dict):
            raise SchemaError(f"{where} must be a table/dict, got {type(d).__name__}")
        allowed = {f.name for f in fields(cls)}
        check_keys(where, d, allowed)
        if "id" not in d:
            raise SchemaError(f"{where} needs 'id' (the person id column)")
        kw: dict[str, Any] = dict(d)
        for key, kind in (
            ("groups", Group),
            ("factors", Covariate),
            ("confounders", Covariate),
            ("indicators", Indicator),
            ("extras", Extra),
        ):
            entries = d.get(key, ())
            if not isinstance(entries, list | tuple):
                raise SchemaError(
                    f"{where}.{key} must be a list of tables ([[{where}.{key}]]), "
                    f"got {type(entries).__name__} {entries!r}"
                )
            kw[key] = tuple(_entry(kind, x, f"{where}.{key}") for x in entries)
        if "missing" in d:
            kw["missing"] = _entry(MissingPolicy, d["missing"], f"{where}.missing")
        for key in ("supports", "realisations"):
            vals = d.get(key, ())
            if not isinstance(vals, list | tuple) or not all(isinstance(v, str) for v in vals):
                raise SchemaError(f"{where}.{key} must be a list of column names, got {vals!r}")
        return cls(**kw)


# --------------------------------------------------------------------- helpers
def _as_dict(obj: Any) -> dict[str, Any]:
    out = {}
    for f in fields(obj):
        v = getattr(obj, f.name)
        out[f.name] = list(v) if isinstance(v, tuple) else v
    return out


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _entry(kind: type, x: Any, where: str) -> Any:
    if isinstance(x, kind):
        return x
    if isinstance(x, str) and kind is not MissingPolicy:
        return kind(column=x)
    if not isinstance(x, dict):
        raise SchemaError(f"{where}: expected a column name or a table, got {x!r}")
    check_keys(where, x, {f.name for f in fields(kind)})
    kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in x.items()}
    try:
        return kind(**kw)
    except TypeError as exc:  # missing 'column'
        raise SchemaError(f"{where}: {exc}") from None


def check_keys(where: str, d: dict[str, Any], allowed: set[str]) -> None:
    """Raise SchemaError naming the unknown keys of ``d`` and the allowed ones."""
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise SchemaError(f"{where}: unknown key(s) {unknown}; allowed keys: {sorted(allowed)}")


def check_choice(where: str, value: Any, allowed: tuple[str, ...]) -> None:
    """Raise SchemaError when ``value`` is not one of ``allowed`` (naming them)."""
    if value not in allowed:
        raise SchemaError(f"{where} = {value!r} is not allowed; expected one of {list(allowed)}")


def _predictors(column: str, table: Any) -> dict[str, dict[str, float]]:
    """A group's predictor tables, checked: name -> {level (NFC): finite number}."""
    where = f"group '{column}': predictors"
    if not isinstance(table, dict) or not table:
        raise SchemaError(f"{where} must be a table: name = {{level = value, ...}}, got {table!r}")
    out: dict[str, dict[str, float]] = {}
    for name, values in table.items():
        if not isinstance(values, dict) or not values:
            raise SchemaError(f"{where}.{name} must be a table level = value, got {values!r}")
        clean: dict[str, float] = {}
        for level, v in values.items():
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise SchemaError(
                    f"{where}.{name}: the value of level {level!r} is {v!r}; expected a finite "
                    "number"
                )
            clean[unicodedata.normalize("NFC", str(level))] = float(v)
        out[str(name)] = clean
    return out


def _levels(column: str, levels: Any) -> tuple[str, ...]:
    """Declared levels as text in Unicode NFC (as the data's labels are compared: an accent
    typed as a combining character in a spec matches the composed one in the data)."""
    levels = tuple(unicodedata.normalize("NFC", str(v)) for v in levels)
    dup = sorted({v for v in levels if levels.count(v) > 1})
    if dup:
        raise SchemaError(f"column '{column}': levels repeated {dup}")
    if not levels:
        raise SchemaError(f"column '{column}': empty list of levels")
    return levels
