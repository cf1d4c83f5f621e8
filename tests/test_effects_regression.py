"""Every effect estimate of two stored fits against the values stored with them.

The fixture (tests/fixtures/effects_regression, written by its ``make.py``) holds two tiny saved
fits (a capability model with a varying slope, panel rows and kept residual draws; a
realisations-only model), a population table, and the draws, tables and extra tables of 14 effect
calls computed when the fixture was made. Recomputing them from the same posterior draws must
give the same numbers to 1e-8: how the effects evaluate the model may change, what they return
may not (without rewriting the fixture on purpose).
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
    assert sorted(got.data_vars) == sorted(expected.data_vars)
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
