"""The model NUTS samples is the documented model: its fast, dense likelihood (one masked
term per person, capmodel.model.integrated) equals the generative model's observed variables
(PyMC's Bernoulli and OrderedLogistic, one per response), in value and gradient, at random
points; and its JAX compilation (the default sampler's) equals PyTensor's C compilation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytensor
import pytest

from capmodel.data import load_data
from capmodel.model import build_design, build_model
from capmodel.spec import load_spec, spec_from_dict, spec_with

pytestmark = [
    pytest.mark.slow,  # compiles whole models (PyTensor C, JAX, numba)
    pytest.mark.filterwarnings("ignore::UserWarning"),
]


def _panel_with_attrition():
    from capmodel.simulate import simulate

    sim = simulate("cep2021", seed=3, n_population=8_000, waves=(1, 6, 18))
    survey = sim.survey
    rng = np.random.default_rng(0)
    # a third of the persons leave after 6 months, some answers are missing
    people = survey["person_id"].unique()
    gone = set(rng.choice(people, size=len(people) // 3, replace=False))
    survey = survey[~(survey["person_id"].isin(gone) & (survey["months_since_exit"] == 18))]
    survey = survey.copy()
    survey.loc[survey.sample(frac=0.05, random_state=1).index, "training"] = np.nan
    survey.loc[survey.sample(frac=0.05, random_state=2).index, "cap_orientation"] = None
    return survey


def _spec(changes: dict | None = None):
    return spec_with(load_spec("models/capability.toml"), changes or {})


CASES = {
    "survey": ("sim", {}),
    "survey, weighted": ("sim", {"likelihood.weighted": True}),
    # capability that changes between waves (measurement.change = "auto" turns it on here)
    "panel with attrition": ("panel", {}),
    "panel, capability the same at every wave": ("panel", {"measurement.change": False}),
    "no latent capability": ("sim", {"model.latent_capability": False}),
}


@pytest.fixture(scope="module")
def panel():
    return _panel_with_attrition()


def _value_and_grad(model, sampler_view: bool = True):
    """The model's log-density (with the transforms' Jacobians) and its gradient, compiled to
    JAX (seconds, where PyTensor's C backend takes a minute per model on a cold cache).
    ``sampler_view``: compiled as the numpyro sampler does (design arrays as arguments);
    otherwise as PyMC does (design arrays as constants, which the generative model needs)."""
    from pymc.sampling.jax import get_jaxified_graph

    from capmodel.fitting.jax_nuts import _jax_function, configure_jax

    jax = configure_jax()
    values = model.value_vars
    if sampler_view:
        fn, data = _jax_function(values, [model.logp()])
    else:
        fn, data = get_jaxified_graph(inputs=values, outputs=[model.logp()]), []
    value_and_grad = jax.jit(jax.value_and_grad(lambda xs, ds: fn(*xs, *ds)[0]))

    def at(point: dict) -> tuple[float, np.ndarray]:
        lp, grads = value_and_grad([point[v.name] for v in values], data)
        return float(lp), np.concatenate([np.ravel(g) for g in grads])

    return at


@pytest.mark.parametrize("case", list(CASES))
def test_sampled_model_equals_the_generative_model(case, sim, panel):
    source, changes = CASES[case]
    spec = _spec(changes)
    if not spec.latent:  # a realisations-only spec has no indicators or capability section
        raw = load_spec("models/realisations.toml").to_dict()
        raw["likelihood"] = spec.to_dict().get("likelihood", {})
        spec = spec_from_dict(raw)
    survey = sim.survey if source == "sim" else panel
    design = build_design(spec, load_data(survey, spec.schema))
    assert (design.capability_time is not None) == (case == "panel with attrition")
    fast = build_model(spec, design).model
    generative = build_model(spec, design, generative=True).model
    assert [v.name for v in fast.value_vars] == [v.name for v in generative.value_vars]
    fast_at, generative_at = _value_and_grad(fast), _value_and_grad(generative, False)
    rng = np.random.default_rng(7)
    start = fast.initial_point()
    for _ in range(3):
        point = {k: v + rng.normal(0.0, 0.3, np.shape(v)) for k, v in start.items()}
        lp_fast, g_fast = fast_at(point)
        lp_gen, g_gen = generative_at(point)
        assert abs(lp_fast - lp_gen) <= 1e-8 * abs(lp_gen)
        np.testing.assert_allclose(g_fast, g_gen, rtol=1e-8, atol=1e-8 * np.abs(g_gen).max())


def test_jax_compilation_equals_the_c_compilation(sim, spec):
    model = build_model(spec, build_design(spec, load_data(sim.survey, spec.schema))).model
    values = model.value_vars
    logp = model.logp()
    c_fn = pytensor.function(values, [logp, *pytensor.grad(logp, values)])
    jax_at = _value_and_grad(model)
    rng = np.random.default_rng(11)
    start = model.initial_point()
    for _ in range(2):
        point = {k: v + rng.normal(0.0, 0.3, np.shape(v)) for k, v in start.items()}
        lp_jax, g_jax = jax_at(point)
        lp_c, *g_c = c_fn(*[point[v.name] for v in values])
        g_c = np.concatenate([np.ravel(g) for g in g_c])
        assert abs(lp_jax - float(lp_c)) <= 1e-8 * abs(float(lp_c))
        np.testing.assert_allclose(g_jax, g_c, rtol=1e-8, atol=1e-8 * np.abs(g_c).max())


def test_integrated_model_has_no_residual_and_its_own_nodes(sim, spec):
    design = build_design(spec, load_data(sim.survey, spec.schema))
    built = build_model(dataclasses.replace(spec, residual="integrated"), design)
    assert "capability_residual" not in {v.name for v in built.model.free_RVs}
    assert built.integrated
