"""float32 sampling (numpyro): the option is checked before any work, the Hamiltonian's
rounding error is recorded with the fit, and the verdict warns when it is large."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from conftest import QUICK_FIT_SETTINGS

from capmodel.cli import main
from capmodel.fitting.diagnostics import FLOAT32_ENERGY_WARN, diagnose
from capmodel.fitting.settings import check_precision
from capmodel.spec import SpecError, load_spec, spec_with


def test_spec_reads_precision_and_refuses_others():
    spec = load_spec("models/capability.toml")
    for p in ("auto", "float64", "float32"):
        assert spec_with(spec, {"sampling.precision": p}).sampling.precision == p
    with pytest.raises(SpecError, match="sampling.precision"):
        spec_with(spec, {"sampling.precision": "float16"})
    with pytest.raises(SpecError, match="needs sampling.sampler = 'numpyro'"):
        spec_with(spec, {"sampling.precision": "float32", "sampling.sampler": "nutpie"})


def test_check_precision():
    check_precision(None, "nutpie")
    check_precision("float64", "pymc")
    check_precision("auto", "nutpie")  # nutpie and PyMC: float64
    check_precision("float32", "numpyro")
    with pytest.raises(ValueError, match="needs the numpyro sampler"):
        check_precision("float32", "pymc")
    with pytest.raises(ValueError, match="not one of"):
        check_precision("half", "numpyro")


def test_fit_refuses_float32_with_nutpie_before_reading_data(tmp_path):
    import capmodel

    missing = tmp_path / "no-such-file.csv"  # never read: the option is refused first
    with pytest.raises(ValueError, match="needs the numpyro sampler"):
        capmodel.fit("models/capability.toml", missing, sampler="nutpie", precision="float32")


def test_cli_refuses_unknown_precision(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(
            [
                "fit",
                "models/capability.toml",
                "--data",
                str(tmp_path / "x.csv"),
                "--out",
                str(tmp_path / "fit"),
                "--precision",
                "float16",
            ]
        )
    assert e.value.code == 2
    assert "float16" in capsys.readouterr().err
    # every precision the spec takes, auto included (docs/cli.md), parses
    from capmodel.cli import build_parser
    from capmodel.spec.spec import PRECISIONS

    for precision in PRECISIONS:
        args = build_parser().parse_args(
            [
                "fit",
                "models/capability.toml",
                "--data",
                "x.csv",
                "--out",
                "o",
                "--precision",
                precision,
            ]
        )
        assert args.precision == precision


@pytest.mark.slow  # starts JAX
def test_auto_measures_the_rounding_that_grows_with_the_data():
    """The rounding sd of a sum of n terms in float32: small for a survey, past the auto
    threshold for a data set a few hundred times larger."""
    from capmodel.fitting.jax_nuts import AUTO_FLOAT32_MAX_ROUNDING_SD, _float32_rounding_sd
    from capmodel.model.jax_backend import configure_jax

    jax = configure_jax()
    logp = jax.jit(lambda mu, d: -0.5 * jax.numpy.sum((d - mu) ** 2))
    rng = np.random.default_rng(0)
    point = [np.array(0.1)]
    small = _float32_rounding_sd(jax, logp, point, [rng.normal(size=5_000)], seed=1)
    large = _float32_rounding_sd(jax, logp, point, [rng.normal(size=2_000_000)], seed=1)
    assert 0 < small < AUTO_FLOAT32_MAX_ROUNDING_SD < large


def _idata(error: np.ndarray) -> xr.DataTree:
    rng = np.random.default_rng(0)
    chains, draws = error.shape
    post = xr.Dataset({"a": (("chain", "draw"), rng.normal(size=(chains, draws)))})
    stats = xr.Dataset(
        {
            "diverging": (("chain", "draw"), np.zeros((chains, draws), bool)),
            "energy": (("chain", "draw"), rng.normal(size=(chains, draws))),
            "tree_depth": (("chain", "draw"), np.full((chains, draws), 3)),
            "float32_energy_error": (("chain", "draw"), error),
        }
    )
    return xr.DataTree.from_dict({"posterior": post, "sample_stats": stats})


def test_verdict_warns_on_large_float32_rounding():
    rng = np.random.default_rng(1)
    small = _idata(rng.normal(scale=1e-3, size=(2, 1000)))
    d = diagnose(small)
    assert d.float32_energy_error is not None
    assert d.float32_energy_error < FLOAT32_ENERGY_WARN
    assert not any("float32" in r for r in d.reasons)
    assert "float32" in d.text()

    large = _idata(rng.normal(scale=0.5, size=(2, 1000)))
    d = diagnose(large)
    assert d.float32_energy_error > FLOAT32_ENERGY_WARN
    assert any("refit with precision float64" in r for r in d.reasons)
    assert d.verdict in ("warn", "fail")


def test_float64_fit_has_no_float32_check():
    idata = _idata(np.zeros((2, 100)))
    del idata["sample_stats"]["float32_energy_error"]
    assert diagnose(idata).float32_energy_error is None


@pytest.mark.slow
def test_auto_fit_of_a_survey_samples_in_float32_and_records_the_rounding(sim, spec):
    import capmodel

    f = capmodel.fit(
        spec_with(spec, {"sampling.precision": "auto"}),
        sim.survey,
        seed=3,
        **QUICK_FIT_SETTINGS,
    )
    assert f.manifest["settings"]["precision"] == "auto"
    assert f.manifest["precision"]["used"] == "float32"  # 1,298 persons: rounding sd ~1e-3
    assert 0 < f.manifest["precision"]["float32_rounding_sd"] < 0.014
    err = f.idata["sample_stats"]["float32_energy_error"].values
    assert err.shape == (2, QUICK_FIT_SETTINGS["draws"])
    assert np.isfinite(err).all()
    # the rounding of a log-density of about -9,000 in float32 (eps 6e-8 relative)
    assert np.abs(err).max() < 0.05
    assert f.idata["posterior"]["support_effect"].dtype == np.float64
    assert f.diagnostics.float32_energy_error is not None
