"""Operators crossed with regions, local structures nested in operators (issue 13): the
``cep_crossed`` scenarios, the reference spec models/crossed.toml, per-group equations
(``[groups.in]`` as a table) and interactions of crossed groups only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from capmodel.data import load_data
from capmodel.model import DesignError, build_design, build_model
from capmodel.simulate import simulate
from capmodel.spec import load_spec, spec_from_dict
from capmodel.validation.recovery import recovery_table, true_values

N = 30_000


@pytest.fixture(scope="module")
def crossed():
    return simulate("cep_crossed_interaction", seed=5, n_population=N)


def _spec(**groups):
    raw = load_spec("models/crossed.toml").to_dict()
    raw["groups"].update(groups)
    return spec_from_dict(raw)


def test_operators_cross_regions_in_unequal_cells_with_structures_nested(crossed):
    pop = crossed.population
    assert pop["operator"].nunique() == 5 and pop["region"].nunique() == 13
    cells = pop.groupby(["operator", "region"], observed=False).size()
    assert (cells > 0).sum() >= 60  # crossed: nearly every operator works in every region
    assert cells.max() > 50 * max(cells[cells > 0].min(), 1)  # unequal, some very small cells
    per_structure = pop.groupby("structure", observed=True)[["operator", "region"]].nunique()
    assert (per_structure == 1).all().all()  # each structure lies in one operator x region cell
    layout = crossed.params["groups"]
    assert layout["within"] == {"structure": "operator"}
    cap = crossed.params["capability"]
    for g in ("operator", "region", "structure"):
        assert abs(sum(cap[f"{g}_effect"].values())) < 1e-9
    structure = pd.Series(cap["structure_effect"])
    operator_of = structure.index.str.split(" | ", regex=False).str[0]
    assert structure.groupby(operator_of).sum().abs().max() < 1e-9  # zero within operators
    inter = pd.Series(cap["operator:region_effect"])
    rows = inter.groupby(inter.index.str.split(":").str[0]).sum()
    assert rows.abs().max() < 1e-9 and len(inter) == 65


def test_the_schema_and_the_reference_spec_read_the_crossed_survey(crossed):
    spec = load_spec("models/crossed.toml")
    assert [g.column for g in crossed.schema.groups] == ["operator", "region", "structure"]
    data = load_data(crossed.survey, spec.schema)
    d = build_design(spec, data)
    by_name = {g.name: g for g in d.groups}
    assert by_name["operator"].parent is None and by_name["region"].parent is None
    assert by_name["structure"].parent == "operator"
    assert spec.group_in("structure", "capability")
    assert not spec.group_in("structure", "realisations")
    assert spec.group_in("region", "realisations")
    model = build_model(spec, d).model
    names = set(model.named_vars)
    assert {"operator_effect", "region_effect", "structure_effect"} <= names
    assert {"realisation_operator_effect", "realisation_region_effect"} <= names
    assert "realisation_structure_effect" not in names and "realisation_structure_sd" not in names


def test_interactions_pair_only_crossed_groups(crossed):
    spec = _spec(interaction=True)
    d = build_design(spec, load_data(crossed.survey, spec.schema))
    # operator x region only: structure lies within operator (declared) and within one
    # region (in the data), so a cell of either pair would be a structure
    assert [g.name for g in d.interactions] == ["operator:region"]
    cells = d.interactions[0]
    assert (
        len(cells.labels) == crossed.survey.groupby(["operator", "region"], observed=True).ngroups
    )
    model = build_model(spec, d).model
    assert "operator:region_effect" in model.named_vars


def test_interaction_between_nested_groups_only_is_refused():
    sim = simulate("cep2021", seed=2, n_population=8_000)
    raw = load_spec("models/capability.toml").to_dict()
    raw["groups"]["interaction"] = True
    spec = spec_from_dict(raw)
    with pytest.raises(DesignError, match="no two of the groups .* are crossed"):
        build_design(spec, load_data(sim.survey, spec.schema))


def _zeros_posterior(model) -> xr.Dataset:
    """A posterior-shaped dataset (1 chain, 2 draws of zeros) of every named variable."""
    dims = model.named_vars_to_dims
    out = {}
    for name in model.named_vars:
        shape = [len(model.coords[d]) for d in dims.get(name, ())]
        out[name] = (("chain", "draw", *dims.get(name, ())), np.zeros((1, 2, *shape)))
    coords = {d: list(v) for d, v in model.coords.items() if v is not None}
    return xr.Dataset(out, coords=coords)


def test_recovery_truth_covers_every_group_the_fit_has(crossed):
    """true_values maps each group's effects and sds (structure, operator:region cells, and
    realisation effects of groups the simulator leaves out of an equation: 0)."""
    spec = _spec(interaction=True, **{"in": {"structure": ["capability", "realisations"]}})
    d = build_design(spec, load_data(crossed.survey, spec.schema))
    prior = _zeros_posterior(build_model(spec, d).model)
    truth = true_values(crossed.params, prior, d)
    cap = crossed.params["capability"]
    assert truth["structure_effect"].sel(structure=d.groups[2].labels[0]).item() == pytest.approx(
        cap["structure_effect"][d.groups[2].labels[0]]
    )
    label = d.interactions[0].labels[3]
    assert truth["operator:region_effect"].sel({"operator:region": label}).item() == pytest.approx(
        cap["operator:region_effect"][label]
    )
    assert float(np.abs(truth["realisation_structure_effect"]).max()) == 0.0
    assert truth["structure_sd"].item() == pytest.approx(0.15)
    table = recovery_table(prior, truth)
    blocks = table.groupby("block").size()
    assert blocks["group effects"] > 83 and blocks["group scale"] >= 5


@pytest.mark.slow
def test_a_crossed_fit_recovers_its_group_effects():
    """Build and fit models/crossed.toml on a small crossed survey (about 390 persons)."""
    from capmodel.fitting import fit

    sim = simulate("cep_crossed", seed=8, n_population=12_000)
    spec = load_spec("models/crossed.toml")
    f = fit(spec, load_data(sim.survey, spec.schema), seed=3, draws=150, tune=250)
    post = f.posterior
    structure = post["structure_effect"]
    operator_of = np.array([s.split(" | ")[0] for s in structure["structure"].values])
    for op in np.unique(operator_of):  # the nested effects sum to zero in every draw
        sums = structure.isel(structure=np.flatnonzero(operator_of == op)).sum("structure")
        assert float(np.abs(sums).max()) < 1e-8
    table = recovery_table(post, true_values(sim.params, post, f.design))
    groups = table[table["block"] == "group effects"]
    n = {g: sim.survey[g].nunique() for g in ("operator", "region", "structure")}
    assert len(groups) == n["operator"] + n["region"] + n["structure"] + 6 * (
        n["operator"] + n["region"]
    )
    assert groups["covered"].mean() >= 0.8
    assert f.manifest["diagnostics"]["divergences"] <= 5
