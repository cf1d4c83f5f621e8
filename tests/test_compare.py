"""Model comparison by LOO (capmodel.report.compare): response sets, warnings, the page.

Most page tests inject a cheap person log-likelihood; one runs the real one (the integrated
residual, capmodel.fitting.loglik) on the session's small fit.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr

from capmodel.report.compare import assemble, choose_responses, compare

XSS = "<script>window.__xss=1</script>"


def _spec(latent=True, indicators=("a", "b"), realisations=("r1", "r2"), name="m"):
    return SimpleNamespace(
        latent=latent, indicators=indicators if latent else (), realisations=realisations, name=name
    )


def test_responses_compared_on():
    same = [_spec(), _spec()]
    assert choose_responses(same) == ("all", [], [])
    mixed = [_spec(), _spec(latent=False)]
    used, notes, warnings = choose_responses(mixed)
    assert used == "realisations" and notes and not warnings
    used, _, warnings = choose_responses([_spec(), _spec(realisations=("r1",), latent=False)])
    assert used == "all" and "different sets of responses" in warnings[0]
    assert choose_responses(mixed, "realisations")[0] == "realisations"
    assert (
        "different realisations"
        in choose_responses([_spec(), _spec(realisations=("r3",))], "realisations")[2][0]
    )
    with pytest.raises(ValueError, match="responses"):
        choose_responses(same, "nope")


def _loo(ll: np.ndarray):
    import arviz as az

    da = xr.DataArray(ll, dims=("chain", "draw", "person"))
    tree = xr.DataTree.from_dict(
        {
            "posterior": xr.Dataset({"a": da.isel(person=0)}),
            "log_likelihood": xr.Dataset({"person_loglik": da}),
        }
    )
    return az.loo(tree, pointwise=True)


def _fake_fit(data_hash="h", verdict="pass"):
    return SimpleNamespace(
        manifest={
            "data": {"hash": data_hash, "n_persons": 60},
            "settings": {"chains": 2, "draws": 200},
        },
        diagnostics=SimpleNamespace(verdict=verdict),
        spec=_spec(),
    )


def test_warnings_of_an_unreliable_comparison():
    rng = np.random.default_rng(1)
    base = rng.normal(-1.0, 0.2, (2, 200, 60))
    good = _loo(base)
    close = _loo(base + rng.normal(0, 0.01, base.shape))
    spiky = base.copy()
    spiky[..., 0] += rng.standard_t(1, (2, 200)) * 20  # one person with heavy-tailed terms
    bad = _loo(spiky)
    c = assemble(["A", "B"], [_fake_fit(), _fake_fit()], {"A": good, "B": close}, "all", [], [])
    assert list(c.table.columns[:2]) == ["model", "elpd"]
    assert c.table["weight"].sum() == pytest.approx(1.0)
    assert any("small relative to its uncertainty" in w for w in c.warnings)
    far = _loo(base - 0.5)  # 30 elpd units worse, for every person
    c = assemble(["A", "F"], [_fake_fit(), _fake_fit()], {"A": good, "F": far}, "all", [], [])
    assert c.reliable and c.table.loc[0, "model"] == "A"
    assert c.table.loc[1, "elpd_diff"] == pytest.approx(-30.0, abs=1.0)
    c = assemble(
        ["A", "S"], [_fake_fit(), _fake_fit("other", "fail")], {"A": far, "S": bad}, "all", [], []
    )
    text = " ".join(c.warnings)
    assert "different data" in text and "FAILED" in text and "Pareto k above" in text
    assert (
        c.table.set_index("model").loc["S", "k_bad"]
        + c.table.set_index("model").loc["S", "k_very_bad"]
        >= 1
    )


def _cheap_loglik(fit, responses="all"):
    """A stand-in for the marginal person log-likelihood: cheap, with the right dims."""
    r = fit.residual_draws["capability_residual"].isel(person=slice(0, 200)).astype(float)
    scale = 1.0 if responses == "all" else 0.5
    return (-0.5 * scale * r**2 - 1.0).rename("person_loglik")


def test_compare_page_end_to_end(small_fit_residuals, tmp_path):
    from capmodel.fitting.fit import Fit

    small_fit = small_fit_residuals
    other = Fit(small_fit.idata, small_fit.spec, copy.deepcopy(small_fit.manifest))
    other.manifest["data"]["hash"] = "0" * 64
    other.manifest["diagnostics"]["verdict"] = "approximate"
    out = tmp_path / "cmp" / "compare.html"
    c = compare({"small <b>fit</b>": small_fit, "copy é": other}, out=out, loglik=_cheap_loglik)
    assert any("copy é: an APPROXIMATE (ADVI) fit" in w for w in c.warnings)
    assert c.path == out and c.responses == "all"
    assert sorted(p.name for p in out.parent.iterdir()) == ["compare.html"]
    html = out.read_text(encoding="utf-8")
    assert "small &lt;b&gt;fit&lt;/b&gt;" in html and "<b>fit" not in html and "copy é" in html
    assert "UNRELIABLE comparison" in html and "different data" in html
    for column in (
        "elpd",
        "SE",
        "elpd difference",
        "dSE",
        "weight (stacking)",
        "k above threshold (bad)",
    ):
        assert f"<th>{column}</th>" in html
    assert "<script" not in html and html.count("<svg ") == 1
    assert set(c.table["model"]) == {"small <b>fit</b>", "copy é"}


def test_compare_with_the_real_person_log_likelihood(small_fit, tmp_path):
    """The real per-person marginal log-likelihood (integrated residual) through LOO."""
    from functools import partial

    from capmodel.fitting.loglik import person_log_likelihood

    a = small_fit.save(tmp_path / "a")
    c = compare([a, small_fit], loglik=partial(person_log_likelihood, draws=100))
    assert c.table["elpd_diff"].abs().max() == pytest.approx(0.0, abs=1e-9)
    assert any("do not tell these models apart" in w for w in c.warnings)
    assert np.isfinite(c.table["elpd"]).all() and (c.table["elpd"] < 0).all()


def test_person_log_likelihood_of_the_realisations_alone(small_fit):
    from capmodel.fitting.loglik import person_log_likelihood

    both = person_log_likelihood(small_fit, "all", draws=20)
    real = person_log_likelihood(small_fit, "realisations", draws=20)
    assert both.dims == real.dims == ("chain", "draw", "person")
    assert both.sizes["draw"] * both.sizes["chain"] == 20
    # dropping the indicators' answers can only raise each person's likelihood
    assert (real.values >= both.values - 1e-9).all() and (real.values < 0).all()
    assert float((real - both).mean()) > 1.0
    with pytest.raises(ValueError, match="responses"):
        person_log_likelihood(small_fit, "indicators")


def test_person_log_likelihood_without_a_latent_capability(sim):
    """A realisations-only model's per-person log-likelihood (for LOO) is the sum of its
    persons' Bernoulli terms, checked against the generative model's observed variable."""
    import pymc as pm
    import xarray as xr

    from capmodel.data import load_data
    from capmodel.fitting import Fit
    from capmodel.fitting.loglik import person_log_likelihood
    from capmodel.model import build_design, build_model
    from capmodel.spec import load_spec

    spec = load_spec("models/realisations.toml")
    data = load_data(sim.survey, spec.schema)
    design = build_design(spec, data)
    model = build_model(spec, design, generative=True).model
    point = model.initial_point()
    rng = np.random.default_rng(3)
    draws = [{k: v + rng.normal(0, 0.2, np.shape(v)) for k, v in point.items()} for _ in range(2)]
    constrained = [
        model.compile_fn(model.free_RVs, inputs=model.value_vars, on_unused_input="ignore")(d)
        for d in draws
    ]
    values = {
        rv.name: np.stack([c[i] for c in constrained])[None] for i, rv in enumerate(model.free_RVs)
    }

    def dims(name: str, ndim: int) -> tuple:
        named = tuple(model.named_vars_to_dims.get(name, ()))
        return named if len(named) == ndim else tuple(f"{name}_{i}" for i in range(ndim))

    post = xr.Dataset({k: (("chain", "draw", *dims(k, v.ndim - 2)), v) for k, v in values.items()})
    fake = Fit(xr.DataTree.from_dict({"posterior": post, "data": data.dataset}), spec)
    ll = person_log_likelihood(fake, draws=None)
    terms = pm.compute_log_likelihood(
        xr.DataTree.from_dict({"posterior": post}), model=model, progressbar=False
    )["log_likelihood"]["y_realisation"]
    rows = design.realisation_obs()[0]
    n = len(design.person_labels)
    for d in range(2):
        expected = np.bincount(design.person_of_row[rows], weights=terms.values[0, d], minlength=n)
        np.testing.assert_allclose(ll.values[0, d], expected, rtol=1e-9)
