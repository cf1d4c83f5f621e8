"""Sampler settings checked before any data is read or any model compiled: ranges, the
sampler's name and the optional packages it needs."""

from __future__ import annotations

import importlib.util
from typing import Any

from capmodel.spec.spec import PRECISIONS, SAMPLERS

# the packages each NUTS implementation imports (pymc's own NUTS needs nothing more)
SAMPLER_PACKAGES: dict[str, tuple[str, ...]] = {
    "nutpie": ("nutpie",),
    "pymc": (),
    "numpyro": ("jax", "numpyro"),
}
TARGET_ACCEPT = (0.5, 1.0)  # [low, high): as a spec's sampling.target_accept
MAX_SEED = 2**32 - 1  # numpy's and JAX's seeds


class MissingDependencyError(ImportError):
    """An optional package that a chosen option needs is not installed."""


def missing_packages(sampler: str) -> list[str]:
    """The packages ``sampler`` needs that cannot be imported here."""
    return [p for p in SAMPLER_PACKAGES.get(sampler, ()) if importlib.util.find_spec(p) is None]


def check_sampler(sampler: str) -> None:
    """Refuse an unknown sampler, or one whose packages are not installed (one line each)."""
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler {sampler!r} is not one of {list(SAMPLERS)}")
    missing = missing_packages(sampler)
    if missing:
        others = [s for s in SAMPLERS if s != sampler and not missing_packages(s)]
        raise MissingDependencyError(
            f"the {sampler} sampler needs the optional package"
            f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}, not installed here; "
            f"install {' and '.join(missing)} (pip install {' '.join(missing)})"
            + (f" or choose another sampler ({', '.join(others)})" if others else "")
        )


def check_settings(settings: dict[str, Any]) -> None:
    """Refuse out-of-range sampling settings (None: the spec's value, checked with the spec)."""
    for key in ("draws", "tune", "chains", "iterations"):
        v = settings.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ValueError(f"{key} must be a whole number >= 1, got {v!r}")
    seed = settings.get("seed")
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED
    ):
        raise ValueError(f"seed must be a whole number in [0, {MAX_SEED}], got {seed!r}")
    ta = settings.get("target_accept")
    if ta is not None:
        lo, hi = TARGET_ACCEPT
        ok = isinstance(ta, int | float) and not isinstance(ta, bool) and lo <= ta < hi
        if not ok:
            raise ValueError(f"target_accept must be in [{lo}, {hi}), got {ta!r}")


def check_precision(precision: str | None, sampler: str) -> None:
    """Refuse an unknown precision, or float32 with a sampler that runs in float64 only."""
    if precision is None:
        return
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r} is not one of {list(PRECISIONS)}")
    if precision == "float32" and sampler != "numpyro":
        raise ValueError(
            f"precision 'float32' needs the numpyro sampler, not {sampler!r} "
            "(nutpie and PyMC's NUTS run in float64)"
        )
