"""capmodel: Bayesian capability-approach models for evaluating career guidance (CEP).

The layout follows the work: data -> spec -> model -> fit -> effects -> report.
``capmodel.fit``, ``capmodel.load_fit``, ``capmodel.load_spec`` and
``capmodel.write_report(fit, path)`` import PyMC on first use; so do ``capmodel.sbc`` and
``capmodel.grid`` (many fits on dask.distributed, docs/studies.md) and
``capmodel.design_study`` (survey sampling plans compared by simulation, docs/design.md). A
saved fit has one loader, ``capmodel.load_fit`` (like ``load_spec`` and
``capmodel.data.load_data``).
"""

from typing import Any

from capmodel.data.schema import Covariate, Extra, Group, Indicator, MissingPolicy, Schema
from capmodel.xla_devices import reserve_host_devices

reserve_host_devices()

__version__ = "0.1.0"

_LAZY = {
    "fit": ("capmodel.fitting.fit", "fit"),
    "Fit": ("capmodel.fitting.fit", "Fit"),
    "load_fit": ("capmodel.fitting.fit", "load_fit"),
    "Spec": ("capmodel.spec.spec", "Spec"),
    "load_spec": ("capmodel.spec.spec", "load_spec"),
    "write_report": ("capmodel.report", "report"),
    "sbc": ("capmodel.studies.sbc", "sbc"),
    "grid": ("capmodel.studies.grid", "grid"),
    "design_study": ("capmodel.studies.design", "design_study"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    if name == "load":
        raise AttributeError(
            "module 'capmodel' has no attribute 'load': a saved fit is read by "
            "capmodel.load_fit(path)"
        )
    raise AttributeError(f"module 'capmodel' has no attribute {name!r}")


__all__ = [
    "Covariate",
    "Extra",
    "Fit",
    "Group",
    "Indicator",
    "MissingPolicy",
    "Schema",
    "Spec",
    "__version__",
    "design_study",
    "fit",
    "grid",
    "load_fit",
    "load_spec",
    "sbc",
    "write_report",
]
