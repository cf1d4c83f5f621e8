"""A tiny model and data set for the studies' tests (tests/test_studies_*.py): one
realisation on two supports and one factor, no latent capability, no groups, 150 persons at
one wave. Its fits take seconds (3 free variables)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SPEC = """
name = "tiny"
description = "a tiny model for the studies' tests"

[model]
latent_capability = false

[realisations]
outcomes = ["training"]
direct_effects = ["information", "reflection"]
factors = ["sex"]
time = false

[groups]
columns = []

[sampling]
draws = 100
tune = 100
chains = 2
sampler = "numpyro"
seed = 1

[schema]
id = "person_id"
wave = "months_since_exit"
waves = [6]
supports = ["information", "reflection"]
realisations = ["training"]

[[schema.factors]]
column = "sex"
levels = ["F", "M"]
"""


def write_tiny(folder: Path, n: int = 150, name: str = "tiny") -> tuple[Path, Path]:
    """(spec, data) files of the tiny model under ``folder``; ``name`` names the spec."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "person_id": [f"p{i}" for i in range(n)],
            "months_since_exit": 6,
            "information": rng.integers(0, 2, n),
            "reflection": rng.integers(0, 2, n),
            "sex": rng.choice(["F", "M"], n),
            "training": rng.integers(0, 2, n),
        }
    )
    data = folder / "tiny.csv"
    frame.to_csv(data, index=False)
    spec = folder / f"{name}.toml"
    spec.write_text(SPEC.replace('name = "tiny"', f'name = "{name}"'), encoding="utf-8")
    return spec, data
