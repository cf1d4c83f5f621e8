"""Writing a simulated data set to a directory (Parquet + JSON, written atomically).

Layout of ``DIR``::

    population.parquet        every beneficiary, administrative columns
    survey.parquet            respondents x waves, survey columns and `weight`
    schema.json               column roles of survey.parquet (capmodel.Schema.to_dict())
    truth/params.json         true parameters, labelled
    truth/persons.parquet     per-person truth (whole population)
    manifest.json             scenario, seed, sizes, waves, versions, sha256 of every file
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from capmodel.atomic import atomic_directory, sha256_file

if TYPE_CHECKING:
    from capmodel.simulate.dataset import Simulated


def write_simulated(sim: Simulated, out: Path, overwrite: bool = False) -> Path:
    """Write ``sim`` under ``out`` atomically; refuse an existing ``out`` unless ``overwrite``."""
    import capmodel

    with atomic_directory(out, overwrite=overwrite) as tmp:
        (tmp / "truth").mkdir()
        sim.population.to_parquet(tmp / "population.parquet", index=False)
        sim.survey.to_parquet(tmp / "survey.parquet", index=False)
        sim.persons.to_parquet(tmp / "truth" / "persons.parquet", index=False)
        (tmp / "schema.json").write_text(
            json.dumps(sim.schema.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8"
        )
        (tmp / "truth" / "params.json").write_text(
            json.dumps(sim.params, indent=2, ensure_ascii=False), encoding="utf-8"
        )
        files = sorted(p for p in tmp.rglob("*") if p.is_file())
        manifest = {
            "scenario": sim.params.get("scenario"),
            "seed": sim.seed,
            "n_population": len(sim.population),
            "n_survey_persons": int(sim.survey["person_id"].nunique()),
            "n_survey_rows": len(sim.survey),
            "waves": sorted(int(w) for w in sim.survey["months_since_exit"].unique()),
            "capmodel_version": capmodel.__version__,
            "files": {str(p.relative_to(tmp)): sha256_file(p) for p in files},
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return out
