"""Simulate responses from any model spec (parameter recovery for every model).

The cep2021 simulator has its own structural model, with a latent capability: a model without
the latent (``models/realisations.toml``) is misspecified against it, so its recovery cannot be
checked on it. Here the truth is the spec's own model instead: one draw of every parameter from
the spec's priors and, given that draw, of every response, on the covariates, supports, groups
and missingness pattern of real (or simulated) data. Fitting the spec to the result must cover
the drawn parameters at the nominal rate: averaged over prior draws, exactly (the principle of
simulation-based calibration), for any data size.

>>> sim = simulate_from_spec(spec, data, seed=3)                     # doctest: +SKIP
>>> f = capmodel.fit(spec, sim.data)                                 # doctest: +SKIP
>>> recovery_table(f.posterior, sim.truth_for(f.posterior))          # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import xarray as xr

from capmodel.data import Data
from capmodel.data.encode import dataset_hash
from capmodel.spec import Spec


@dataclass(frozen=True)
class SpecSimulation:
    """Data with simulated responses and the parameter values they were drawn from."""

    data: Data
    truth: xr.Dataset  # one value of every model variable (prior draw), posterior names

    def truth_for(self, posterior: xr.Dataset) -> dict[str, xr.DataArray]:
        """The true value of every population-level posterior variable (person-level ones,
        such as the capability residuals, are left out), aligned to its coordinates."""
        out: dict[str, xr.DataArray] = {}
        for name, da in posterior.data_vars.items():
            if name not in self.truth or "person" in da.dims:
                continue
            tv = self.truth[name]
            out[str(name)] = tv.assign_coords({d: da[d].values for d in tv.dims if d in da.coords})
        return out


def simulate_from_spec(spec: Spec, data: Data, seed: int = 1) -> SpecSimulation:
    """Draw the parameters of ``spec`` from its priors and every response of ``data`` (the
    entries that are observed in ``data``: missing stay missing) from the model given them.
    ``data`` provides everything else (persons, waves, supports, covariates, groups)."""
    import pymc as pm

    from capmodel.fitting.predictive import response_blocks
    from capmodel.model import build_design, build_model

    design = build_design(spec, data)
    built = build_model(spec, design, generative=True)
    draw = pm.sample_prior_predictive(draws=1, model=built.model, random_seed=seed)
    prior = draw["prior"].dataset.isel(chain=0, draw=0, drop=True)
    pp = draw["prior_predictive"].dataset
    ds = data.dataset.copy(deep=True)
    realisations = [str(r) for r in ds["realisation"].values] if "realisation" in ds.dims else []
    for name, _, _, rows, _, simulated in response_blocks(design, pp):
        codes = simulated[0]  # the one draw
        if name in design.realisations:
            y = ds["realisations"].values.copy()
            y[rows, realisations.index(name)] = codes
            ds["realisations"] = ds["realisations"].copy(data=y)
        else:
            y = ds[f"indicator__{name}"].values.copy()
            y[rows] = codes
            ds[f"indicator__{name}"] = ds[f"indicator__{name}"].copy(data=y)
    ds.attrs["data_hash"] = dataset_hash(ds)
    ds.attrs["simulated_from_spec"] = f"{spec.name}, prior draw with seed {seed}"
    return SpecSimulation(Data(validated=data.validated, dataset=ds), prior)
