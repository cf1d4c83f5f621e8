"""Post-stratification of group levels the fit never saw (issue 13.4): each gets, per posterior
draw, the effect of a new level of its group, as brms's ``sample_new_levels = "gaussian"``:
its group-level predictors' line (standardised as the fit's predictors were) plus N(0, sd).

The fits here are test draws near the model's initial point (no sampling, as conftest's
``fake_fit_dir``): what is checked is the arithmetic of the new levels' effects, not a
posterior."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

import capmodel.effects as fx
from capmodel.effects.poststrat import PostStratifier
from capmodel.effects.units import EffectsError

PREDICTOR = "unemployment"


def _test_fit(spec, survey, n_draws: int, seed: int = 3, n_points: int = 8):
    """A :class:`capmodel.Fit` of ``spec`` whose posterior is 2 chains x ``n_draws / 2`` draws:
    ``n_points`` points near the model's initial point (free variables and their
    deterministics; evaluating one takes a fraction of a second), repeated."""
    import xarray as xr

    from capmodel.data import load_data
    from capmodel.fitting.fit import Fit
    from capmodel.model import build_design, build_model

    data = load_data(survey, spec.schema)
    model = build_model(spec, build_design(spec, data)).model
    outs = model.free_RVs + model.deterministics
    fn = model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore", point_fn=False)
    point = model.initial_point()
    rng = np.random.default_rng(seed)
    points = [
        fn(*[point[v.name] + rng.normal(0, 0.3, np.shape(point[v.name])) for v in model.value_vars])
        for _ in range(n_points)
    ]
    draws = [points[i % n_points] for i in range(n_draws)]
    post = {}
    for i, rv in enumerate(outs):
        arr = np.stack([d[i] for d in draws]).reshape(2, n_draws // 2, *np.shape(draws[0][i]))
        named = tuple(model.named_vars_to_dims.get(rv.name, ()))
        dims = (
            named
            if len(named) == arr.ndim - 2
            else tuple(f"{rv.name}_dim_{i}" for i in range(arr.ndim - 2))
        )
        post[rv.name] = (("chain", "draw", *dims), arr)
    used = {d for _, (ds, _) in post.items() for d in ds}
    coords = {k: list(v) for k, v in model.coords.items() if v is not None and k in used}
    idata = xr.DataTree.from_dict(
        {"posterior": xr.Dataset(post).assign_coords(coords), "data": data.dataset}
    )
    return Fit(idata, spec, {"spec": spec.to_dict()})


@pytest.fixture(scope="module")
def regional(fake_fit_dir):
    """The simulated data of conftest's ``fake_fit_dir`` (cep2021, 5,000 beneficiaries): its
    survey misses some regions, all within operators it has."""
    survey = pd.read_parquet(fake_fit_dir.parent / "survey.parquet")
    population = pd.read_parquet(fake_fit_dir.parent / "population.parquet")
    unseen = sorted(set(population["region"].astype(str)) - set(survey["region"].astype(str)))
    assert len(unseen) >= 2, unseen
    assert set(population["operator"].astype(str)) == set(survey["operator"].astype(str))
    return survey, population, unseen


@pytest.fixture(scope="module")
def predictor_fit(regional):
    """models/realisations.toml with the region's unemployment rate (a made-up table of every
    region) as a group-level predictor; the schema's table lists every region but the
    unseen ones after the first."""
    from capmodel.simulate.cep2021 import REGIONS
    from capmodel.spec import load_spec, spec_from_dict

    survey, _, unseen = regional
    rate = {r: 5.0 + 0.4 * ((7 * i) % 11) for i, (r, _, _) in enumerate(REGIONS)}
    table = {r: v for r, v in rate.items() if r not in unseen[1:]}
    raw = load_spec("models/realisations.toml").to_dict()
    for g in raw["schema"]["groups"]:
        if g["column"] == "region":
            g["predictors"] = {PREDICTOR: table}
    raw["groups"]["predictors"] = {"region": [PREDICTOR]}
    spec = spec_from_dict(raw)
    f = _test_fit(spec, survey, n_draws=200)
    return f, fx.effect_model(f), rate


def _population(population, rate=None, drop=()):
    pop = population[~population["region"].astype(str).isin(drop)].copy()
    if rate is not None:
        pop[PREDICTOR] = pop["region"].astype(str).map(rate)
    return pop


def _expected_line(f, rate):
    """The fit's standardisation of the predictor, computed here from the schema's table:
    centred on the mean of the fit's regions of the level's operator, over the sd of the
    fit's regions centred within their operators."""
    d = f.design
    region = next(g for g in d.groups if g.name == "region")
    operator = next(g for g in d.groups if g.name == "operator")
    op_of = dict(
        zip(region.labels, [operator.labels[p] for p in region.parent_of_level], strict=True)
    )
    seen = pd.Series({lv: rate[lv] for lv in region.labels})
    centred = seen - seen.groupby(op_of).transform("mean")
    np.testing.assert_allclose(centred / centred.std(ddof=0), region.predictors[:, 0])
    return op_of, seen, centred.std(ddof=0)


def test_unseen_levels_get_their_predictors_line_plus_the_groups_spread(predictor_fit, regional):
    f, em, rate = predictor_fit
    _, population, unseen = regional
    ps = PostStratifier(em, _population(population, rate), allow_unseen_groups=True)
    u = ps.unseen_levels["region"]
    assert u.levels == tuple(unseen)
    assert u.sources == (f"{PREDICTOR}: column '{PREDICTOR}' of the population table",)
    op_of, seen, sd = _expected_line(f, rate)
    region = next(g for g in f.design.groups if g.name == "region")
    n_seen = len(region.labels)
    pop_op = population.assign(region=population["region"].astype(str))
    pop_op = pop_op.groupby("region")["operator"].first().astype(str)
    p = ps.params_with_unseen(seed=5)
    eff = p["realisation_region_effect"]  # (D, R, L + U)
    np.testing.assert_array_equal(eff[:, :, :n_seen], em.params["realisation_region_effect"])
    coef = em.params["realisation_region_predictor_effect"][:, :, 0]  # (D, R)
    sd_draw = em.params["realisation_region_sd"]  # (D,)
    z_all = []
    for j, lv in enumerate(unseen):
        members = [r for r in seen.index if op_of[r] == pop_op[lv]]
        w = (rate[lv] - seen[members].mean()) / sd  # the level on the fit's scale
        np.testing.assert_allclose(u.predictors[j, 0], w)
        line = coef * w
        z = (eff[:, :, n_seen + j] - line) / sd_draw[:, None]
        z_all.append(z.ravel())
        # the draws' mean is the line's, within 4 standard errors of the deviations
        se = np.sqrt(np.mean(sd_draw**2) / z.shape[0])
        assert np.all(np.abs(eff[:, :, n_seen + j].mean(0) - line.mean(0)) < 4 * se)
    z = np.concatenate(z_all)
    assert abs(z.mean()) < 0.06 and 0.94 < z.std() < 1.06, (z.mean(), z.std())
    # the same seed gives the same draws; another seed, others
    np.testing.assert_array_equal(ps.params_with_unseen(seed=5)["realisation_region_effect"], eff)
    assert not np.allclose(ps.params_with_unseen(seed=6)["realisation_region_effect"], eff)


def test_the_unseen_levels_effects_reach_the_predictions(predictor_fit, regional):
    """A cell of an unseen level, evaluated on the design extended with it, is predicted as the
    fit's own model predicts a cell of a seen level whose effect is set to the new one."""
    from capmodel.effects.predict import Predictor

    f, em, rate = predictor_fit
    _, population, unseen = regional
    ps = PostStratifier(em, _population(population, rate), allow_unseen_groups=True)
    p = ps.params_with_unseen(seed=2).take(np.arange(3))
    x, _ = ps.assignment.sample(ps.base, np.random.default_rng(0))
    units = ps.units(x)
    n_seen = len(next(g for g in f.design.groups if g.name == "region").labels)
    new = np.flatnonzero(ps.codes["region"] >= n_seen)
    assert new.size
    ours = Predictor(p, units, ps.functions).probabilities(units.supports)[:, new]
    # the same cells with region code 0, whose effect is overwritten with the new level's
    codes = {k: v.copy() for k, v in units.realisation_codes.items()}
    col = codes["region"][new] - n_seen
    values = dict(p.values)
    theirs = []
    for j in np.unique(col):
        eff = values["realisation_region_effect"].copy()
        eff[:, :, 0] = eff[:, :, n_seen + j]
        eff = eff[:, :, :n_seen]
        codes["region"][new] = 0
        u0 = dataclasses.replace(units, realisation_codes=codes, capability_codes=codes)
        p0 = dataclasses.replace(p, values={**values, "realisation_region_effect": eff})
        pr = Predictor(p0, u0, em.functions).probabilities(u0.supports)[:, new]
        theirs.append((col == j, pr))
    for sel, pr in theirs:
        np.testing.assert_allclose(ours[:, sel], pr[:, sel], rtol=1e-10, atol=1e-12)


def test_unseen_predictor_values_from_the_schema_or_an_error(predictor_fit, regional):
    f, em, rate = predictor_fit
    _, population, unseen = regional
    # only the first unseen region left: the schema's table lists it
    ps = PostStratifier(em, _population(population, drop=unseen[1:]), allow_unseen_groups=True)
    assert ps.unseen_levels["region"].levels == (unseen[0],)
    assert ps.unseen_levels["region"].sources == (f"{PREDICTOR}: the schema's table",)
    # the others are in neither: an error naming them and the two ways to give them
    with pytest.raises(
        EffectsError, match=re.escape(f"level(s) {unseen[1:]!r}") + f".*column '{PREDICTOR}'"
    ):
        PostStratifier(em, _population(population), allow_unseen_groups=True)
    # a column whose values for the fit's regions are not the fit's: another scale
    wrong = {r: v * 100 for r, v in rate.items()}
    with pytest.raises(EffectsError, match="must give the predictor on the fit's scale"):
        PostStratifier(em, _population(population, wrong), allow_unseen_groups=True)
    bad = _population(population, rate)
    bad.loc[bad["region"].astype(str) == unseen[1], PREDICTOR] = np.nan
    with pytest.raises(EffectsError, match=rf"level '{unseen[1]}' has a missing"):
        PostStratifier(em, bad, allow_unseen_groups=True)


def test_poststratify_says_how_unseen_levels_were_predicted(predictor_fit, regional):
    f, em, rate = predictor_fit
    _, population, unseen = regional
    few = fx.effect_model(f, draws=6)
    res = fx.poststratify(
        few, _population(population, rate), by=["region"], allow_unseen_groups=True
    )
    note = res.notes["unseen_levels"]
    assert (
        f"region: {', '.join(unseen)} (their predictors' line ({PREDICTOR}: column" in note
        and "plus N(0, sd)" in note
    )
    got = res.table[(res.table["by_variable"] == "region")]
    assert set(unseen) <= set(got["by_level"]) and got["mean"].notna().all()


def test_without_predictors_an_unseen_level_is_a_draw_from_the_groups_spread(fake_fit_dir):
    """models/realisations.toml (no predictors): the new level's effects are N(0, sd) per
    draw, no longer exactly 0."""
    from capmodel.fitting import load_fit

    f = load_fit(fake_fit_dir)
    em = fx.effect_model(f)
    pop = pd.read_parquet(fake_fit_dir.parent / "population.parquet")
    ps = PostStratifier(em, pop, allow_unseen_groups=True)
    u = ps.unseen_levels["region"]
    assert u.levels and u.predictors.shape == (len(u.levels), 0) and not u.sources
    n_seen = em.params["realisation_region_effect"].shape[-1]
    new = ps.params_with_unseen(seed=1)["realisation_region_effect"][:, :, n_seen:]
    z = new / em.params["realisation_region_sd"][:, None, None]
    assert np.all(new != 0)
    assert abs(z.mean()) < 0.3 and 0.75 < z.std() < 1.25, (z.mean(), z.std(), z.size)
    stripped = fx.EffectModel(
        em.spec,
        em.design,
        type(em.params)(
            em.params.chain,
            em.params.draw,
            em.params.position,
            {k: v for k, v in em.params.values.items() if not k.endswith("_sd")},
        ),
        em.units,
        data=em.data,
        functions=em.functions,
    )
    ps = PostStratifier(stripped, pop, allow_unseen_groups=True)
    with pytest.raises(EffectsError, match="needs the draws of 'realisation_region_sd'"):
        ps.params_with_unseen()


def test_unseen_levels_of_a_parent_the_fit_never_saw(predictor_fit, regional):
    """Two unseen regions within a new operator: the operator gets its own new level (N(0, sd)
    per draw), and the regions' predictors are centred on their own mean (the operator's
    level is its effect, as for the fit's operators)."""
    f, em, rate = predictor_fit
    _, population, unseen = regional
    pop = _population(population, rate).astype({"operator": object})
    pop.loc[pop["region"].astype(str).isin(unseen[:2]), "operator"] = "New operator"
    ps = PostStratifier(em, pop, allow_unseen_groups=True)
    n_op = len(next(g for g in f.design.groups if g.name == "operator").labels)
    assert ps.unseen_levels["operator"].levels == ("New operator",)
    u = ps.unseen_levels["region"]
    np.testing.assert_array_equal(u.parent_codes[:2], [n_op, n_op])
    _, _, sd = _expected_line(f, rate)
    centre = (rate[unseen[0]] + rate[unseen[1]]) / 2
    np.testing.assert_allclose(u.predictors[:2, 0], [(rate[lv] - centre) / sd for lv in unseen[:2]])
    p = ps.params_with_unseen()
    assert p["realisation_operator_effect"].shape[-1] == n_op + 1
    few = fx.effect_model(f, draws=4)
    res = fx.poststratify(few, pop, by=["operator"], allow_unseen_groups=True)
    assert "New operator" in set(res.table["by_level"])
