"""Every effect estimate of two stored fits against the values stored with them.

The fixture (tests/fixtures/effects_regression, written by its ``make.py``) holds two tiny saved
fits (a capability model with a varying slope, panel rows and kept residual draws; a
realisations-only model), a population table, and the draws, tables and extra tables of 14 effect
calls computed when the fixture was made. Recomputing them from the same posterior draws must
give the same numbers to 1e-8: how the effects evaluate the model may change, what they return
may not (without rewriting the fixture on purpose).

History: written by the numpy engine the model's compiled functions replaced (issue 12: equal to
1e-8); rewritten on purpose when panel realisations became cumulative (issue 13: a person's
residual posterior reads each realisation's last 'no' and first 'yes' only, so the four cases
that integrate over it moved by up to 0.012; every other case was unchanged to 1e-15).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

HERE = Path(__file__).resolve().parent / "fixtures" / "effects_regression"


def _make_module():
    spec = importlib.util.spec_from_file_location("effects_regression_make", HERE / "make.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKE = _make_module()
CASES = dict(MAKE.cases())


@pytest.mark.parametrize("name", list(CASES))
def test_effect_estimates_equal_the_stored_ones(name):
    expected = xr.load_dataset(HERE / "expected" / f"{name}.nc", engine="h5netcdf")
    got = MAKE.result_dataset(CASES[name]())
    # every stored number is still there (columns may be added, e.g. ess_bulk)
    assert set(expected.data_vars) <= set(got.data_vars)
    for var in expected.data_vars:
        a, b = got[var], expected[var]
        assert a.dims == b.dims, var
        assert a.shape == b.shape, var
        for dim in a.dims:
            if dim in a.coords and dim in b.coords:
                assert list(a[dim].values) == list(b[dim].values), (var, dim)
        np.testing.assert_allclose(
            a.values.astype(float), b.values.astype(float), rtol=1e-8, atol=1e-12, err_msg=var
        )


def test_effect_tables_carry_arviz_ess_and_mcse_of_the_draws_by_chain():
    """ess_bulk and mcse_mean of a tidy table are ArviZ's, on the draws laid out by chain."""
    import arviz as az

    res = CASES["total_quadrature"]()
    by_chain = res.draws_by_chain()
    assert by_chain["difference"].dims[-2:] == ("chain", "draw")
    da = by_chain["difference"].isel(contrast=1, subgroup=0, outcome=2)
    row = res.table[res.table["quantity"] == "difference"].iloc[
        1 * len(res.draws["outcome"]) * res.draws.sizes["subgroup"] + 2
    ]
    assert row["contrast"] == str(res.draws["contrast"].values[1])
    assert row["outcome"] == str(res.draws["outcome"].values[2])
    assert row["ess_bulk"] == pytest.approx(float(az.ess(da.to_dataset(name="x"))["x"]))
    assert row["mcse_mean"] == pytest.approx(float(az.mcse(da.to_dataset(name="x"))["x"]))


def test_effects_at_a_horizon_are_the_rows_at_that_wave():
    """On a panel where everyone answered at 1 and 6 months, predictions at horizon 6 are the
    wave-6 subgroup's, to rounding; horizon 18 extrapolates (cumulative: no lower than at 6);
    a model without a time effect refuses a horizon."""
    import dataclasses

    import capmodel.effects as fx
    from capmodel.effects.units import EffectsError, at_horizon

    cap = MAKE._inputs()[MAKE.CAP]
    by_wave = fx.predict(cap, ["observed", "none"], by=["wave"]).draws["predicted"]
    for months in (1, 6, 18):
        res = fx.predict(cap, ["observed", "none"], horizon=months)
        at = res.draws["predicted"].isel(subgroup=0)
        assert f"each person at {months} months" in res.notes["population"]
        if months < 18:
            sub = by_wave.isel(subgroup=list(by_wave["by_level"].values).index(str(months)))
            np.testing.assert_allclose(at.values, sub.values, rtol=1e-12)
        else:
            six = fx.predict(cap, ["observed", "none"], horizon=6).draws["predicted"]
            assert (at.values >= six.isel(subgroup=0).values - 1e-12).all()
    model = fx.effect_model(cap)
    flat = dataclasses.replace(model.design, log_time=None)
    with pytest.raises(EffectsError, match="horizon = 6: this model has no time effect"):
        at_horizon(model.units, flat, 6)
    with pytest.raises(EffectsError, match="whole number of months"):
        at_horizon(model.units, model.design, 0)


def test_the_reports_effects_show_the_cep_by_horizon_on_a_panel():
    """A fit of panel data: the report's Effects section has the CEP's effect at each wave."""
    from capmodel.report.effects import compute, effects_section

    cap = MAKE._inputs()[MAKE.CAP]
    numbers = compute(cap, draws=8)
    by = numbers.results["by horizon"]
    assert list(by) == [1, 6]
    for months, res in by.items():
        assert f"at {months} months" in res.notes["population"]
        assert set(res.table["contrast"]) == {"cep"}
    html = str(effects_section(numbers).blocks)
    assert "Effects by horizon" in html and "6 months" in html
