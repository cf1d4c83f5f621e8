"""Spec + data -> PyMC model (design matrices, group effects, the model itself)."""

from capmodel.model.build import BuiltModel, build_model, observed_dataset
from capmodel.model.design import Design, DesignError, build_design

__all__ = ["BuiltModel", "Design", "DesignError", "build_design", "build_model", "observed_dataset"]
