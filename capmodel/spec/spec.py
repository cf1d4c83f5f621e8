"""The model specification: a TOML file that declares a capability-approach model.

See docs/models.md for every key. :func:`load_spec` reads a file (or a dict) and checks it
against the data schema; every error names the key and the allowed values.
"""

from __future__ import annotations

import copy
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from capmodel.data.schema import Schema, SchemaError, check_choice, check_keys
from capmodel.spec.errors import SpecError
from capmodel.spec.priors import DEFAULT_PRIORS, Prior, parse_prior

PARAMETERISATIONS = ("auto", "centred", "noncentred")
RESIDUALS = ("sampled", "integrated")
SAMPLERS = ("nutpie", "pymc", "numpyro")
ADAPTATIONS = ("diag", "low_rank")
# floating-point precision of the sampler's programs; float32 is numpyro's only
PRECISIONS = ("auto", "float64", "float32")
PANEL_LIKELIHOODS = ("cumulative", "independent")

_TOP = {
    "name",
    "description",
    "schema",
    "model",
    "capability",
    "measurement",
    "realisations",
    "groups",
    "priors",
    "likelihood",
    "sampling",
}
_SECTIONS: dict[str, set[str]] = {
    "model": {"latent_capability", "confounders", "capability_residual", "quadrature_nodes"},
    "capability": {"supports", "factors", "conversion"},
    "measurement": {"indicators", "change"},
    "realisations": {"outcomes", "direct_effects", "factors", "time", "panel"},
    "groups": {
        "columns",
        "structure",
        "interaction",
        "parameterisation",
        "varying_slopes",
        "in",
        "predictors",
    },
    "likelihood": {"weighted"},
    "sampling": {
        "draws",
        "tune",
        "chains",
        "target_accept",
        "sampler",
        "seed",
        "max_treedepth",
        "adaptation",
        "precision",
    },
}


@dataclass(frozen=True)
class Sampling:
    """Default sampler settings of a spec (a fit call may override each)."""

    draws: int = 1000
    tune: int = 1000
    chains: int = 2
    target_accept: float = 0.95
    sampler: str = "numpyro"  # JAX + numpyro: docs/benchmarks.md, "Sampler"
    seed: int = 1
    max_treedepth: int = 10
    adaptation: str = "diag"  # nutpie's mass-matrix adaptation
    precision: str = "auto"  # numpyro: float32 where its rounding is small (docs/models.md)


@dataclass(frozen=True)
class Spec:
    """A validated model specification (see docs/models.md)."""

    name: str
    schema: Schema
    description: str = ""
    latent: bool = True
    residual: str = "sampled"
    quadrature_nodes: int = 15
    confounders: tuple[str, ...] = ()
    supports: tuple[str, ...] = ()
    capability_factors: tuple[str, ...] = ()
    conversion: tuple[tuple[str, tuple[str, ...]], ...] = ()
    indicators: tuple[str, ...] = ()
    # capability that changes between waves, measured by wave-level indicators:
    # "auto" | "yes" | "no" (docs/models.md, "Panels and the capability indicators")
    change: str = "auto"
    realisations: tuple[str, ...] = ()
    direct_effects: tuple[str, ...] = ()
    realisation_factors: tuple[str, ...] = ()
    time: str = "auto"
    # panels: "cumulative" (a person's answers bound the event time once) or "independent"
    # (each wave's answer its own term: double-counts; kept to measure that, docs/validation.md)
    panel: str = "cumulative"
    groups: tuple[str, ...] = ()
    group_structure: str = "nested"
    interaction: bool = False
    groups_in: tuple[str, ...] = ("capability", "realisations")
    # per-group equations (``[groups.in]`` as a table); groups not listed use ``groups_in``
    group_equations: tuple[tuple[str, tuple[str, ...]], ...] = ()
    parameterisation: tuple[tuple[str, str], ...] = ()
    varying_slopes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # group -> the schema's predictors of that group its effects depend on
    group_predictors: tuple[tuple[str, tuple[str, ...]], ...] = ()
    priors: tuple[tuple[str, Prior], ...] = ()
    weighted: bool = False
    sampling: Sampling = field(default_factory=Sampling)
    source: dict[str, Any] = field(default_factory=dict, compare=False)

    def prior(self, group: str) -> Prior:
        """The prior of a parameter group (the spec's, else the default)."""
        return dict(self.priors).get(group, DEFAULT_PRIORS[group][0])

    def parameterisation_of(self, key: str, default: str = "auto") -> str:
        """The spec's choice for a group factor (``operator``), or for its effects in the
        realisation equations only (``realisation_operator``); ``default`` if none."""
        return dict(self.parameterisation).get(key, default)

    def group_in(self, group: str, equation: str) -> bool:
        """Whether ``group``'s (or interaction ``a:b``'s) effects enter ``equation``
        ("capability" or "realisations"): ``groups.in``, per group when it is a table."""
        return equation in dict(self.group_equations).get(group, self.groups_in)

    def predictors_of(self, group: str) -> tuple[str, ...]:
        """The group-level predictors ``group``'s effects depend on (``groups.predictors``)."""
        return dict(self.group_predictors).get(group, ())

    def slopes_of(self, group: str) -> tuple[str, ...]:
        return dict(self.varying_slopes).get(group, ())

    def capability_covariates(self) -> tuple[str, ...]:
        """Covariates with a main effect on capability: its factors, then the confounders."""
        return _unique(self.capability_factors + self.confounders)

    def realisation_covariates(self) -> tuple[str, ...]:
        return _unique(self.realisation_factors + self.confounders)

    def to_dict(self) -> dict[str, Any]:
        """The spec as read (schema resolved inline): JSON/TOML-ready, reloadable; a copy
        (changing it, as :func:`spec_with` does, leaves this spec as it was)."""
        d = copy.deepcopy(self.source)
        d["schema"] = self.schema.to_dict()
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)


def _unique(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def load_spec(source: str | Path | dict[str, Any], schema: Schema | None = None) -> Spec:
    """Read a spec from a TOML file (or a dict). ``schema`` overrides the spec's own schema."""
    base = Path(".")
    if isinstance(source, dict):
        raw = source
    else:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"model spec not found: {path}")
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(f"{path}: not valid TOML: {exc}") from None
        base = path.parent
        raw.setdefault("name", path.stem)
    return spec_from_dict(raw, base, schema)


def _schema_from(raw: Any, base: Path) -> Schema:
    if isinstance(raw, dict):
        return Schema.from_dict(raw, where="schema")
    if isinstance(raw, str):
        path = (base / raw) if not Path(raw).is_absolute() else Path(raw)
        if not path.is_file():
            raise SpecError(f"schema = {raw!r}: no such file ({path})")
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        return Schema.from_dict(data, where=f"schema ({path.name})")
    raise SpecError("schema: expected an inline [schema] table or a path to a JSON/TOML schema")


def spec_with(spec: Spec, changes: dict[str, Any]) -> Spec:
    """``spec`` with some keys changed, named ``"section.key"`` (e.g.
    ``{"groups.parameterisation": "centred"}``), validated like a spec file."""
    raw = spec.to_dict()
    for key, value in changes.items():
        section, _, name = key.partition(".")
        if not name:
            raise SpecError(f"spec change {key!r}: expected 'section.key'")
        raw.setdefault(section, {})[name] = value
    return spec_from_dict(raw)


def spec_from_dict(
    raw: dict[str, Any], base: Path = Path("."), schema: Schema | None = None
) -> Spec:
    """Validate a spec given as a dict (as read from TOML); raises :class:`SpecError`."""
    try:
        return _spec_from_dict(raw, base, schema)
    except SpecError:
        raise
    except SchemaError as exc:  # the [schema] table, or a shared key check
        raise SpecError(str(exc)) from None


def _spec_from_dict(raw: dict[str, Any], base: Path, schema: Schema | None) -> Spec:
    _keys("spec", raw, _TOP)
    for section, allowed in _SECTIONS.items():
        if section in raw:
            if not isinstance(raw[section], dict):
                raise SpecError(f"[{section}] must be a table")
            _keys(f"[{section}]", raw[section], allowed)
    if schema is None:
        if "schema" not in raw:
            raise SpecError("spec: needs a [schema] table (or schema = 'path/to/schema.json')")
        schema = _schema_from(raw["schema"], base)
    model = raw.get("model", {})
    cap = raw.get("capability", {})
    meas = raw.get("measurement", {})
    real = raw.get("realisations", {})
    grp = raw.get("groups", {})
    lik = raw.get("likelihood", {})
    samp = raw.get("sampling", {})

    factors = [c.column for c in schema.factors]
    covariates = [c.column for c in schema.covariates()]
    latent = _bool("model.latent_capability", model.get("latent_capability", True))
    residual = _choice(
        "model.capability_residual", model.get("capability_residual", "sampled"), RESIDUALS
    )
    nodes = model.get("quadrature_nodes", 15)
    if isinstance(nodes, bool) or not isinstance(nodes, int) or not 3 <= nodes <= 101:
        raise SpecError(
            f"model.quadrature_nodes = {nodes!r} is not allowed; expected an "
            "integer from 3 to 101 (default 15)"
        )
    confounders = _names(
        "model.confounders",
        model.get("confounders", [c.column for c in schema.confounders]),
        covariates,
        "covariates (schema factors or confounders)",
    )
    supports = _names(
        "capability.supports",
        cap.get("supports", list(schema.supports)),
        list(schema.supports),
        "schema supports",
    )
    cap_factors = _names(
        "capability.factors",
        cap.get("factors", factors),
        covariates,
        "covariates (schema factors or confounders)",
    )
    conversion_raw = cap.get("conversion", {})
    if not isinstance(conversion_raw, dict):
        raise SpecError("[capability.conversion] must be a table: support = [factors...]")
    conversion = []
    for k, fs in conversion_raw.items():
        if k not in supports:
            raise SpecError(
                f"capability.conversion.{k}: {k!r} is not one of the model's supports {supports}"
            )
        conversion.append(
            (
                k,
                _names(
                    f"capability.conversion.{k}",
                    fs,
                    covariates,
                    "covariates (schema factors or confounders)",
                ),
            )
        )
    indicators = _names(
        "measurement.indicators",
        meas.get("indicators", [i.column for i in schema.indicators]),
        [i.column for i in schema.indicators],
        "schema indicators",
    )
    if latent and not indicators:
        raise SpecError(
            "measurement.indicators: a latent capability needs at least one "
            "indicator (or set model.latent_capability = false)"
        )
    if latent and not supports:
        raise SpecError("capability.supports: a latent capability model needs supports")
    change = meas.get("change", "auto")
    if change != "auto" and not isinstance(change, bool):
        raise SpecError(
            f"measurement.change = {change!r} is not allowed; expected one of ['auto', true, false]"
        )
    if change is True and not latent:
        raise SpecError(
            "measurement.change = true: capability that changes between waves needs a latent "
            "capability (model.latent_capability = true)"
        )
    realisations = _names(
        "realisations.outcomes",
        real.get("outcomes", list(schema.realisations)),
        list(schema.realisations),
        "schema realisations",
    )
    if not realisations and not latent:
        raise SpecError(
            "realisations.outcomes: a model without latent capability needs "
            "at least one realisation"
        )
    default_direct = list(schema.supports) if not latent else list(supports)
    direct = _names(
        "realisations.direct_effects",
        real.get("direct_effects", default_direct),
        list(schema.supports),
        "schema supports",
    )
    real_factors = _names(
        "realisations.factors",
        real.get("factors", factors),
        covariates,
        "covariates (schema factors or confounders)",
    )
    time = real.get("time", "auto")
    if time not in ("auto", True, False):
        raise SpecError(
            f"realisations.time = {time!r} is not allowed; expected one of ['auto', true, false]"
        )
    panel = _choice("realisations.panel", real.get("panel", "cumulative"), PANEL_LIKELIHOODS)
    groups = _names(
        "groups.columns",
        grp.get("columns", [g.column for g in schema.groups]),
        [g.column for g in schema.groups],
        "schema groups",
    )
    structure = _choice("groups.structure", grp.get("structure", "nested"), ("nested", "crossed"))
    interaction = _bool("groups.interaction", grp.get("interaction", False))
    equations = ["capability", "realisations"]
    in_raw = grp.get("in", equations)
    group_equations = []
    if isinstance(in_raw, dict):  # per group; groups not listed enter both equations
        groups_in = tuple(equations)
        pairs = [f"{a}:{b}" for i, a in enumerate(groups) for b in groups[i + 1 :]]
        for g, eqs in in_raw.items():
            if g not in groups and g not in pairs:
                raise SpecError(
                    f"groups.in.{g}: {g!r} is not one of the groups {groups} (or an "
                    f"interaction {pairs[:3]}{' ...' if len(pairs) > 3 else ''})"
                )
            group_equations.append(
                (g, tuple(_names(f"groups.in.{g}", eqs, equations, "equations")))
            )
    else:
        groups_in = _names("groups.in", in_raw, equations, "equations")
    param_raw = grp.get("parameterisation", "auto")
    if isinstance(param_raw, str):
        param_raw = {g: param_raw for g in groups}
    if not isinstance(param_raw, dict):
        raise SpecError(
            "groups.parameterisation: expected 'auto'/'centred'/'noncentred' or a "
            "table group = value"
        )
    parameterisation = []
    for g, v in param_raw.items():
        if g not in groups and g.removeprefix("realisation_") not in groups:
            raise SpecError(
                f"groups.parameterisation.{g}: {g!r} is not one of the groups "
                f"{groups} (or 'realisation_<group>' for a group's effects in "
                "the realisation equations only)"
            )
        parameterisation.append((g, _choice(f"groups.parameterisation.{g}", v, PARAMETERISATIONS)))
    predictors_raw = grp.get("predictors", {})
    if not isinstance(predictors_raw, dict):
        raise SpecError("[groups.predictors] must be a table: group = [predictors...]")
    group_predictors = []
    for g, names in predictors_raw.items():
        if g not in groups:
            raise SpecError(f"groups.predictors.{g}: {g!r} is not one of the groups {groups}")
        declared = next(x for x in schema.groups if x.column == g).predictors or {}
        group_predictors.append(
            (
                g,
                tuple(
                    _names(
                        f"groups.predictors.{g}",
                        names,
                        list(declared),
                        f"predictors of group {g!r} in the schema",
                    )
                ),
            )
        )
    slopes_raw = grp.get("varying_slopes", {})
    if not isinstance(slopes_raw, dict):
        raise SpecError("[groups.varying_slopes] must be a table: group = [supports...]")
    slopes = []
    for g, ks in slopes_raw.items():
        if g not in groups:
            raise SpecError(f"groups.varying_slopes.{g}: {g!r} is not one of the groups {groups}")
        if not latent:
            raise SpecError(
                "groups.varying_slopes: varying slopes of supports on capability "
                "need a latent capability model"
            )
        slopes.append(
            (g, _names(f"groups.varying_slopes.{g}", ks, list(supports), "model supports"))
        )
    priors_raw = raw.get("priors", {})
    if not isinstance(priors_raw, dict):
        raise SpecError("[priors] must be a table")
    priors = tuple((k, parse_prior(k, v)) for k, v in priors_raw.items())
    weighted = _bool("likelihood.weighted", lik.get("weighted", False))
    if weighted and schema.weight is None:
        raise SpecError("likelihood.weighted = true needs a weight column in the schema")
    sampling = _sampling(samp)
    name = raw.get("name", "model")
    if not isinstance(name, str) or not name:
        raise SpecError(f"name must be a non-empty string, got {name!r}")
    source = {k: v for k, v in raw.items() if k != "schema"}
    return Spec(
        name=name,
        schema=schema,
        description=str(raw.get("description", "")),
        latent=latent,
        residual=residual,
        quadrature_nodes=nodes,
        confounders=tuple(confounders),
        supports=tuple(supports),
        capability_factors=tuple(cap_factors),
        conversion=tuple(conversion),
        indicators=tuple(indicators) if latent else (),
        change=change if isinstance(change, str) else ("yes" if change else "no"),
        realisations=tuple(realisations),
        direct_effects=tuple(direct),
        realisation_factors=tuple(real_factors),
        time=time if isinstance(time, str) else ("yes" if time else "no"),
        panel=panel,
        groups=tuple(groups),
        group_structure=structure,
        interaction=interaction,
        groups_in=tuple(groups_in),
        group_equations=tuple(group_equations),
        parameterisation=tuple(parameterisation),
        varying_slopes=tuple(slopes),
        group_predictors=tuple(group_predictors),
        priors=priors,
        weighted=weighted,
        sampling=sampling,
        source=source,
    )


def _sampling(d: dict[str, Any]) -> Sampling:
    kw: dict[str, Any] = {}
    for key in ("draws", "tune", "chains", "seed", "max_treedepth"):
        if key in d:
            v = d[key]
            if isinstance(v, bool) or not isinstance(v, int) or v < (0 if key == "seed" else 1):
                raise SpecError(
                    f"sampling.{key} must be a whole number >= "
                    f"{0 if key == 'seed' else 1}, got {v!r}"
                )
            kw[key] = v
    if "target_accept" in d:
        v = d["target_accept"]
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0.5 <= v < 1:
            raise SpecError(f"sampling.target_accept must be in [0.5, 1), got {v!r}")
        kw["target_accept"] = float(v)
    if "sampler" in d:
        kw["sampler"] = _choice("sampling.sampler", d["sampler"], SAMPLERS)
    if "adaptation" in d:
        kw["adaptation"] = _choice("sampling.adaptation", d["adaptation"], ADAPTATIONS)
    if "precision" in d:
        kw["precision"] = _choice("sampling.precision", d["precision"], PRECISIONS)
    out = Sampling(**kw)
    if out.precision == "float32" and out.sampler != "numpyro":
        raise SpecError(
            f"sampling.precision = 'float32' needs sampling.sampler = 'numpyro', "
            f"not {out.sampler!r} (nutpie and PyMC's NUTS run in float64)"
        )
    return out


def _keys(where: str, d: dict[str, Any], allowed: set[str]) -> None:
    check_keys(where, d, allowed)


def _choice(where: str, value: Any, allowed: tuple[str, ...]) -> str:
    check_choice(where, value, allowed)
    return value


def _bool(where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SpecError(f"{where} must be true or false, got {value!r}")
    return value


def _names(where: str, values: Any, allowed: list[str], what: str) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, list | tuple):
        raise SpecError(f"{where} must be a list of names, got {values!r}")
    bad = [v for v in values if v not in allowed]
    if bad:
        raise SpecError(f"{where}: {bad} not among the {what}: {allowed}")
    dup = sorted({v for v in values if list(values).count(v) > 1})
    if dup:
        raise SpecError(f"{where}: {dup} listed twice")
    return tuple(values)
