"""XLA's CPU settings for sampling, set before JAX starts its CPU backend.

- One XLA host device per core, so that JAX runs NUTS chains in parallel (``pmap``).
- XLA's YNNPACK fusions off (``--xla_cpu_experimental_ynn_fusion_type=``): with them (the
  default of jaxlib 0.12), the reduction over every person's response terms ran as one slow
  library call and one gradient of the reference model took 6.1 ms; without, 1.6 ms
  (`benchmarks/gradient_cost.py`; docs/benchmarks.md).

XLA reads its flags once, when JAX starts its CPU backend: ``import capmodel`` sets them before
any JAX work (as numpyro's ``set_host_device_count`` does), without importing JAX. Importing
``pymc.sampling.jax`` rewrites ``XLA_FLAGS`` to ask for 100 host devices (PyMC 6.4), which on a
2-core machine made every gradient 3-5x slower; :func:`reserve_host_devices` is called again
after that import (``capmodel.fitting.jax_nuts.configure_jax``) and puts capmodel's flags back.
Flags the user set in ``XLA_FLAGS`` before importing capmodel are kept as they are.
"""

from __future__ import annotations

import os
import sys

DEVICE_FLAG = "--xla_force_host_platform_device_count"
YNN_FLAG = "--xla_cpu_experimental_ynn_fusion_type"
_USER_FLAGS = os.environ.get("XLA_FLAGS", "")  # as the program had them when capmodel loaded


def xla_flags(n: int | None = None) -> str:
    """The user's XLA flags, plus capmodel's where the user set none: ``n`` host devices
    (default: the number of cores) and YNNPACK fusions off."""
    wanted = {DEVICE_FLAG: str(n or os.cpu_count() or 1), YNN_FLAG: ""}
    extra = [f"{name}={value}" for name, value in wanted.items() if name not in _USER_FLAGS]
    return " ".join([_USER_FLAGS, *extra]).strip()


def backend_started() -> bool:
    """Whether JAX has started a backend (after which XLA's flags no longer change)."""
    bridge = sys.modules.get("jax._src.xla_bridge")
    return bool(bridge is not None and getattr(bridge, "_backends", None))


def reserve_host_devices(n: int | None = None) -> None:
    """Set capmodel's XLA flags (see :func:`xla_flags`) unless JAX's backend has started."""
    if not backend_started():
        os.environ["XLA_FLAGS"] = xla_flags(n)
