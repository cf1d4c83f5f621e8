"""Fitting a spec to data by NUTS, diagnostics, and the fit store."""

from capmodel.fitting.diagnostics import Diagnostics, diagnose
from capmodel.fitting.fit import Fit, fit, load_fit
from capmodel.fitting.store import FitFileError

__all__ = ["Diagnostics", "Fit", "FitFileError", "diagnose", "fit", "load_fit"]
