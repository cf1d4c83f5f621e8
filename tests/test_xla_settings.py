"""capmodel's XLA settings reach JAX: one host device per core (chains in parallel), YNNPACK
fusions off, and PyMC's import-time rewrite of XLA_FLAGS (100 host devices) undone.

Each case runs in a fresh Python process: XLA reads its flags once per process."""

import json
import os
import subprocess
import sys

PROBE = """
import json, os
import pytest

import capmodel
from capmodel.fitting.jax_nuts import configure_jax

pytestmark = pytest.mark.slow  # fresh processes that start JAX
jax = configure_jax()
print(json.dumps({"devices": jax.local_device_count(), "flags": os.environ["XLA_FLAGS"]}))
"""


def _probe(xla_flags: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    if xla_flags is not None:
        env["XLA_FLAGS"] = xla_flags
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_one_host_device_per_core_despite_pymc_and_ynn_fusions_off():
    got = _probe(None)
    assert got["devices"] == os.cpu_count()
    assert "--xla_cpu_experimental_ynn_fusion_type=" in got["flags"].split()
    assert "=100" not in got["flags"]


def test_the_users_own_flags_win():
    got = _probe("--xla_force_host_platform_device_count=3")
    assert got["devices"] == 3
    assert "--xla_cpu_experimental_ynn_fusion_type=" in got["flags"].split()
