"""``capmodel.sbc``: simulation-based calibration of a model spec on a data set's design, one
dask task per replicate (docs/studies.md).

>>> result = capmodel.sbc("models/realisations.toml", "fits/mydata/survey.parquet",
...                       reps=200, out="fits/sbc-realisations")       # doctest: +SKIP
>>> result.summary.estimands                                           # doctest: +SKIP

Writes under ``out``: ``study.json`` (the settings), ``replicates/rNNNNN.json`` (one record per
replicate, written as it arrives), then ``summary.json``, ``summary.csv`` (per estimand),
``replicates.csv``, ``ranks.csv`` and the page ``sbc.html``. Rerunning with the same settings
resumes: replicates already recorded are not run again.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from capmodel.data import Data
from capmodel.studies.ecdf import BAND_PROB
from capmodel.studies.fanout import (
    N_WORKERS,
    RETRIES,
    RecordStore,
    RunReport,
    Task,
    open_client,
    pending,
    run_tasks,
)
from capmodel.studies.replicate import ESTIMANDS, sbc_replicate
from capmodel.studies.sbc_page import write_sbc_page
from capmodel.studies.sbc_summary import SBCSummary, summarise
from capmodel.studies.studydir import check_study_path, open_study

REPLICATES = "replicates"
PAGE = "sbc.html"


@dataclass
class SBCResult:
    """A study's ``summary``, its folder, the page and what this run did (``run``)."""

    summary: SBCSummary
    out: Path
    page: Path | None
    run: RunReport = field(default_factory=RunReport)
    resumed: bool = False


def replicate_key(r: int) -> str:
    return f"r{r:05d}"


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _warnings_only(text: str) -> None:
    if text.startswith("warning: "):
        _say(text)


def check_study_settings(
    reps: int, thin: int | None, estimands: Sequence[str], prob: float = BAND_PROB
) -> None:
    """The study's own options (the fit's are checked by capmodel.fitting.settings)."""
    for name, v in (("reps", reps), ("thin", thin)):
        if v is None and name == "thin":
            continue
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {v!r}")
    unknown = [e for e in estimands if e not in ESTIMANDS]
    if unknown or not estimands:
        raise ValueError(f"estimands {list(estimands)!r}: expected some of {list(ESTIMANDS)}")
    if not 0 < prob < 1:
        raise ValueError(f"prob must be in (0, 1), got {prob}")


def sbc(
    spec: Any,
    data: Data | pd.DataFrame | str | Path,
    *,
    reps: int,
    out: str | Path,
    scheduler: Any = None,
    thin: int | None = None,
    seed: int = 1,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    sampler: str | None = None,
    target_accept: float | None = None,
    estimands: Sequence[str] = ESTIMANDS,
    n_workers: int = N_WORKERS,
    retries: int = RETRIES,
    retry_failed: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    prob: float = BAND_PROB,
) -> SBCResult:
    """Simulation-based calibration of ``spec`` (a :class:`~capmodel.spec.Spec` or a TOML
    path) on the design of ``data`` (persons, waves, supports, covariates, groups and which
    responses are missing): ``reps`` replicates, each a dask task (capmodel.studies.replicate).

    scheduler: a dask scheduler address (``tcp://host:8786``) or an open
        ``distributed.Client``; None: a LocalCluster of ``n_workers`` processes, 1 thread each.
    thin: keep every ``thin``-th draw of each chain before ranking (default: by each
        replicate's ESS, thin = ceil(draws / min ESS)).
    seed: the study's seed; replicate r's seeds are numpy's SeedSequence(seed) spawned at r.
    draws, tune, chains, sampler, target_accept: NUTS settings (default: the spec's).
    estimands: 'parameters', 'total_effects', 'nie', 'pn_share', 'pathway_shares' (the
        derived ones where the model has them: capmodel.studies.replicate).
    retries: dask's retries of a task whose error escapes; retry_failed: rerun replicates
        recorded as failed by an earlier run.
    overwrite: delete an earlier study in ``out`` first (default: resume it when its
        settings are the same, else refuse).
    prob: the level of the simultaneous ECDF bands (default 0.99).
    """
    from capmodel.fitting.inputs import checked_data
    from capmodel.fitting.settings import check_sampler, check_settings
    from capmodel.spec import Spec, load_spec

    t0 = time.perf_counter()
    check_study_settings(reps, thin, estimands, prob)
    check_settings(
        {
            "draws": draws,
            "tune": tune,
            "chains": chains,
            "seed": seed,
            "target_accept": target_accept,
        }
    )
    out = check_study_path(out, overwrite=overwrite)
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    s = spec.sampling
    check_sampler(sampler or s.sampler)
    checked = checked_data(data, spec, _warnings_only)
    settings = {
        "kind": "sbc",
        "spec_name": spec.name,
        "spec": spec.to_dict(),
        "data_hash": checked.dataset.attrs["data_hash"],
        "seed": int(seed),
        "draws": draws or s.draws,
        "tune": tune or s.tune,
        "chains": chains or s.chains,
        "sampler": sampler or s.sampler,
        "target_accept": target_accept or s.target_accept,
        "thin": thin,
        "estimands": list(estimands),
        "reps": int(reps),
    }
    resumed = open_study(out, settings, overwrite=overwrite)
    store = RecordStore(out / REPLICATES)
    tasks = [Task(replicate_key(r), sbc_replicate, (r,)) for r in range(reps)]
    if pending(tasks, store, retry_failed):
        with open_client(scheduler, n_workers=n_workers) as client:
            run = run_tasks(
                tasks,
                store,
                client,
                common={"spec": spec, "data": checked, "settings": settings},
                retries=retries,
                retry_failed=retry_failed,
                progress=progress,
                desc="sbc",
            )
    else:  # every replicate recorded: no cluster to start
        run = RunReport(skipped=[t.key for t in tasks])
    summary = summarise(store.records(), reps, settings, prob)
    summary.write(out)
    page = write_sbc_page(summary, out / PAGE, out, time.perf_counter() - t0)
    return SBCResult(summary, out, page, run, resumed)


def load_sbc(out: str | Path, prob: float = BAND_PROB) -> SBCSummary:
    """The summary of the study in ``out`` from its records (a study still running, or one
    stopped, included)."""
    import json

    out = Path(out)
    settings = json.loads((out / "study.json").read_text(encoding="utf-8"))
    return summarise(RecordStore(out / REPLICATES).records(), int(settings["reps"]), settings, prob)
