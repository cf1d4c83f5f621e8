"""Studies of many fits at once on dask.distributed (docs/studies.md): simulation-based
calibration (``sbc``) and model grids (``grid``).

- ``fanout``: tasks on a dask ``Client`` (a LocalCluster by default, any scheduler by
  address), one result file per task written as it arrives, resume, failures recorded;
- ``studydir``: the study's folder (new, resumed or replaced);
- ``replicate``: one SBC replicate (simulate from the priors, fit, rank the truth);
- ``ecdf``: ECDF differences and their simultaneous bands;
- ``sbc_summary`` and ``sbc_page``: the SBC results and their page;
- ``sbc`` and ``grid``: the two studies;
- ``design`` (with ``design_estimands``, ``design_summary``, ``design_page``): sampling plans
  for the follow-up survey compared by simulation (docs/design.md).

Nothing below imports this package: it sits above validation, report and fitting.
"""

from typing import Any

_LAZY = {
    "sbc": ("capmodel.studies.sbc", "sbc"),
    "load_sbc": ("capmodel.studies.sbc", "load_sbc"),
    "grid": ("capmodel.studies.grid", "grid"),
    "design_study": ("capmodel.studies.design", "design_study"),
    "load_design": ("capmodel.studies.design", "load_design"),
}


def __getattr__(name: str) -> Any:  # PyMC and dask load on first use
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'capmodel.studies' has no attribute {name!r}")


__all__ = ["design_study", "grid", "load_design", "load_sbc", "sbc"]
