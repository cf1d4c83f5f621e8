"""JAX set up for capmodel: float64, one XLA host device per core, a branch-free softplus and
JAX's persistent compilation cache. Used by the sampler (capmodel.fitting.jax_nuts) and by the
model's compiled functions (capmodel.model.evaluate)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from capmodel.xla_devices import reserve_host_devices

CACHE_ENV = "CAPMODEL_CACHE_DIR"
# programs that compile faster than this are not written to the persistent cache: none, since
# JAX's default (1 s) and 0.5 s left about 60 small programs of a fit (slicing, casts) to
# compile again in every process, 2 s of a warm start (docs/benchmarks.md, "Compile once")
MIN_CACHED_COMPILE_SECONDS = 0.0


def cache_dir() -> Path:
    """Where compiled XLA programs are kept: ``$CAPMODEL_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/capmodel/jax`` (``~/.cache/capmodel/jax``)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "capmodel" / "jax"


def configure_jax(devices: int | None = None) -> Any:
    """Import JAX set up for sampling: float64, one XLA host device per core (so that chains
    run in parallel), and the persistent compilation cache. Returns the ``jax`` module.

    The device count can only be set before JAX starts its CPU backend; where a program has
    already used JAX, the count it has is kept (chains then share the devices there are).
    """
    import pymc.sampling.jax  # noqa: F401  (rewrites XLA_FLAGS on import: set ours after it)

    reserve_host_devices(devices)
    import jax

    jax.config.update("jax_enable_x64", True)
    _register_softplus()
    path = cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", str(path))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_CACHED_COMPILE_SECONDS)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    except OSError as e:  # an unwritable cache only costs compile time
        warnings.warn(f"JAX compilation cache disabled ({path}: {e})", stacklevel=2)
    return jax


def _register_softplus() -> None:
    """PyTensor's JAX softplus is a chain of ``jnp.where`` over four branches: each element
    pays for every branch, and where one branch overflows (``exp(1000)``) the gradient is NaN.
    This one is exact, branch-free and finite everywhere:
    softplus(x) = max(x, 0) + log1p(exp(-|x|))."""
    import jax.numpy as jnp
    from pytensor.link.jax.dispatch import jax_funcify
    from pytensor.scalar import Softplus

    @jax_funcify.register(Softplus)
    def _softplus(op: Any, **kwargs: Any) -> Any:
        def softplus(x: Any) -> Any:
            return jnp.maximum(x, 0.0) + jnp.log1p(jnp.exp(-jnp.abs(x)))

        return softplus
