"""What a fit records about how it was made: versions, machine, time."""

from __future__ import annotations

import datetime as dt
import importlib.metadata as md
import os
import platform

PACKAGES = (
    "capmodel",
    "pymc",
    "pytensor",
    "arviz",
    "arviz-base",
    "arviz-stats",
    "nutpie",
    "numba",
    "numpy",
    "pandas",
    "xarray",
    "h5netcdf",
    "h5py",
    "numpyro",
    "jax",
)


def versions() -> dict[str, str]:
    """Python, platform and the versions of the packages a fit depends on (installed ones)."""
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for p in PACKAGES:
        try:
            out[p] = md.version(p)
        except md.PackageNotFoundError:
            continue
    out["cpu_count"] = str(os.cpu_count() or 1)
    return out


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
