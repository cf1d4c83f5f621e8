"""One XLA host device per core, so that JAX runs NUTS chains in parallel (``pmap``).

XLA reads the device count once, when JAX starts its CPU backend: ``import capmodel`` asks for
it before any JAX work (as numpyro's ``set_host_device_count`` does), without importing JAX.
A program that set ``XLA_FLAGS`` itself, or used JAX before, keeps what it has.
"""

from __future__ import annotations

import os
import sys

DEVICE_FLAG = "--xla_force_host_platform_device_count"


def reserve_host_devices(n: int | None = None) -> None:
    """Ask XLA for ``n`` host devices (default: the number of cores) if JAX has not started."""
    flags = os.environ.get("XLA_FLAGS", "")
    if "jax" in sys.modules or DEVICE_FLAG in flags:
        return
    os.environ["XLA_FLAGS"] = f"{flags} {DEVICE_FLAG}={n or os.cpu_count() or 1}".strip()
