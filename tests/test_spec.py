"""Model specs: the shipped ones load; bad specs give errors that name the key and the choices."""

import copy
import tomllib
from pathlib import Path

import pytest

from capmodel.data.schema import SchemaError
from capmodel.spec import load_spec, spec_from_dict

ROOT = Path(__file__).resolve().parents[1]
RAW = tomllib.loads((ROOT / "models" / "capability.toml").read_text(encoding="utf-8"))


def test_shipped_specs_load():
    cap = load_spec(ROOT / "models" / "capability.toml")
    assert cap.latent and cap.name == "capability"
    assert dict(cap.conversion)["reflection"] == ("qualification",)
    assert "maturity" in cap.capability_covariates() and "maturity" in cap.realisation_covariates()
    real = load_spec(ROOT / "models" / "realisations.toml")
    assert not real.latent and real.indicators == () and len(real.realisations) == 6


def test_spec_round_trips_through_its_dict():
    cap = load_spec(ROOT / "models" / "capability.toml")
    again = spec_from_dict(cap.to_dict())
    assert again == cap


def _with(path: list[str], value):
    raw = copy.deepcopy(RAW)
    d = raw
    for k in path[:-1]:
        d = d.setdefault(k, {})
    d[path[-1]] = value
    return raw


@pytest.mark.parametrize(
    "path, value, message",
    [
        (["modle"], {}, "unknown key(s) ['modle']"),
        (
            ["capability", "supports"],
            ["informaton"],
            "['informaton'] not among the schema supports",
        ),
        (
            ["capability", "conversion"],
            {"reflection": ["qualif"]},
            "['qualif'] not among the covariates",
        ),
        (
            ["capability", "conversion"],
            {"coffee": ["sex"]},
            "'coffee' is not one of the model's supports",
        ),
        (["measurement", "indicators"], [], "a latent capability needs at least one indicator"),
        (["realisations", "time"], "sometimes", "realisations.time = 'sometimes' is not allowed"),
        (
            ["groups", "structure"],
            "tangled",
            "groups.structure = 'tangled' is not allowed; expected one of ['nested', 'crossed']",
        ),
        (
            ["groups", "parameterisation"],
            {"region": "centered"},
            "expected one of ['auto', 'centred', 'noncentred']",
        ),
        (
            ["groups", "in"],
            {"counsellor": ["capability"]},
            "groups.in.counsellor: 'counsellor' is not one of the groups",
        ),
        (
            ["groups", "in"],
            {"region": ["wellbeing"]},
            "groups.in.region: ['wellbeing'] not among the equations",
        ),
        (
            ["priors", "loading"],
            {"dist": "normal", "mu": 0, "sigma": 1},
            "this parameter is positive",
        ),
        (
            ["priors", "support_effect"],
            {"dist": "normal", "sigma": 1},
            "takes parameters ['mu', 'sigma']",
        ),
        (["priors", "beta"], {"dist": "normal", "mu": 0, "sigma": 1}, "unknown parameter group"),
        (["sampling", "sampler"], "stan", "sampling.sampler = 'stan' is not allowed"),
        (["sampling", "draws"], 0, "sampling.draws must be a whole number >= 1"),
        (
            ["groups", "varying_slopes"],
            {"region": ["coffee"]},
            "['coffee'] not among the model supports",
        ),
        (
            ["model", "capability_residual"],
            "marginal",
            "model.capability_residual = 'marginal' is "
            "not allowed; expected one of ['sampled', "
            "'integrated']",
        ),
        (["model", "quadrature_nodes"], 2, "model.quadrature_nodes = 2 is not allowed"),
        (["model", "quadrature_nodes"], "15", "expected an integer from 3 to 101"),
        (
            ["sampling", "adaptation"],
            "full",
            "sampling.adaptation = 'full' is not allowed; expected one of ['diag', 'low_rank']",
        ),
    ],
)
def test_bad_specs_name_the_key_and_the_choices(path, value, message):
    with pytest.raises(SchemaError) as exc:
        spec_from_dict(_with(path, value))
    assert message in str(exc.value)


def test_missing_schema_and_bad_files(tmp_path):
    raw = copy.deepcopy(RAW)
    del raw["schema"]
    with pytest.raises(SchemaError, match="needs a \\[schema\\] table"):
        spec_from_dict(raw)
    with pytest.raises(FileNotFoundError, match="model spec not found"):
        load_spec(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [unclosed", encoding="utf-8")
    with pytest.raises(SchemaError, match="not valid TOML"):
        load_spec(bad)


def test_schema_by_reference_relative_to_the_spec(tmp_path):
    import json

    from capmodel.simulate import cep2021_schema

    (tmp_path / "schema.json").write_text(json.dumps(cep2021_schema().to_dict()))
    raw = copy.deepcopy(RAW)
    raw["schema"] = "schema.json"
    spec = spec_from_dict(raw, base=tmp_path)
    assert spec.schema.id == "person_id"
    raw["schema"] = "elsewhere.json"
    with pytest.raises(SchemaError, match="no such file"):
        spec_from_dict(raw, base=tmp_path)


def test_spec_with_changes_keys_and_validates():
    from capmodel.data.schema import SchemaError
    from capmodel.spec import load_spec, spec_with

    base = load_spec("models/capability.toml")
    changed = spec_with(base, {"groups.parameterisation": "centred", "sampling.draws": 10})
    assert changed.sampling.draws == 10 and changed.parameterisation_of("region") == "centred"
    assert base.sampling.draws != 10  # the original is left as it was
    with pytest.raises(SchemaError, match="expected 'section.key'"):
        spec_with(base, {"draws": 10})
    with pytest.raises(SchemaError):
        spec_with(base, {"sampling.sampler": "stan"})


def test_spec_errors_are_spec_errors_and_the_spec_layer_is_pymc_free(tmp_path):
    import subprocess
    import sys

    from capmodel.spec import SpecError

    bad = tmp_path / "bad.toml"
    bad.write_text("name = 'x'\n[capability]\nsupports = 'not a list'\n", encoding="utf-8")
    with pytest.raises(SpecError):
        load_spec(bad)
    # a bad [schema] table inside a spec is a spec error too
    for table in ({"factors": 3}, {"indicators": "cap_a"}, {"supports": 7}):
        with pytest.raises(SpecError, match=f"schema.{next(iter(table))} must be a list"):
            load_spec({"name": "x", "schema": {"id": "person_id", **table}})
    probe = (
        "import sys, capmodel.spec, capmodel.data; "
        "print(sorted(m for m in ('pymc', 'pytensor', 'jax') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_default_group_sd_prior_keeps_both_funnel_ends_nearly_empty():
    """The group sds' default prior, as the model builds it (docs/models.md §3): almost no mass
    below 0.02 (the centred funnel's neck) or above 1.3 (the non-centred one's wide end), its
    median near the simulator's sds (0.15-0.30). gamma(2, 5) had 75x the mass below 0.02 and
    a halfnormal has its mode at 0: both fail here."""
    import numpy as np
    import pymc as pm

    from capmodel.model.priors import prior_rv
    from capmodel.spec.priors import DEFAULT_PRIORS

    group_sd, positive = DEFAULT_PRIORS["group_sd"]
    assert positive
    with pm.Model():
        rv = prior_rv(group_sd, "sd")
    cdf = lambda x: float(np.exp(pm.logcdf(rv, x).eval()))  # noqa: E731
    assert cdf(0.02) < 1e-3
    assert 1 - cdf(1.3) < 2e-3
    assert 0.15 < float(pm.draw(rv, draws=20_000, random_seed=1).mean()) < 0.35
    assert cdf(0.15) < 0.5 < cdf(0.30)
