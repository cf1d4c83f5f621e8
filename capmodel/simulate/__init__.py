"""Simulated CEP data with known truth (scenario ``cep2021``)."""

from capmodel.simulate.dataset import Simulated, cep2021_schema, simulate, true_params

__all__ = ["Simulated", "cep2021_schema", "simulate", "true_params"]
