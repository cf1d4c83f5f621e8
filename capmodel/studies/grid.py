"""``capmodel grid``: several specs (and/or seeds) fitted to one data set as parallel dask
tasks, each fit saved under ``OUT/<name>/``, then the LOO comparison page ``OUT/compare.html``
(capmodel.report.compare; docs/studies.md).

A fit is saved by the worker that made it (``Fit.save``, atomically): with a remote scheduler
``OUT`` must be a folder the workers share. ``OUT/tasks/<name>.json`` records each fit's
verdict, time and error; rerunning the same command skips the fits already recorded.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from capmodel.studies.fanout import (
    N_WORKERS,
    OK,
    RETRIES,
    RecordStore,
    RunReport,
    Task,
    failure,
    open_client,
    pending,
    run_tasks,
    worker_id,
)
from capmodel.studies.studydir import check_study_path, open_study

TASKS = "tasks"
PAGE = "compare.html"
COLUMNS = ["name", "spec", "seed", "status", "verdict", "divergences", "max_rhat"]
COLUMNS += ["min_ess_bulk", "seconds", "error"]


@dataclass
class GridResult:
    """The grid's table (one row per fit), its folder, the comparison (None when fewer than
    two fits finished) and what this run did."""

    table: pd.DataFrame
    out: Path
    comparison: Any = None
    run: RunReport = field(default_factory=RunReport)
    resumed: bool = False


def grid_fit(
    name: str, seed: int | None, path: str, *, spec, data, settings: Mapping[str, Any]
) -> dict[str, Any]:
    """Fit ``spec`` to ``data`` with ``seed`` and save it to ``path``: the task's record.
    Runs on a dask worker."""
    from capmodel.fitting import fit

    t0 = time.perf_counter()
    record: dict[str, Any] = {
        "name": name,
        "spec": spec.name,
        "seed": seed,
        "path": path,
        "worker": worker_id(),
    }
    try:
        f = fit(
            spec,
            data,
            seed=seed,
            progressbar=False,
            verbose=False,
            **{k: settings[k] for k in ("draws", "tune", "chains", "sampler", "target_accept")},
        )
        f.save(path, overwrite=True)
        d = f.diagnostics
        record.update(
            {
                "status": OK,
                "verdict": d.verdict,
                "divergences": d.divergences,
                "max_rhat": d.max_rhat,
                "min_ess_bulk": d.min_ess_bulk,
            }
        )
    except Exception as exc:
        record = failure(exc, **record)
    record["seconds"] = time.perf_counter() - t0
    return record


def fit_names(specs: Sequence[Any], seeds: Sequence[int] | None) -> list[tuple[str, Any, Any]]:
    """(name, spec, seed) of each fit: the spec's name, with ``-seedN`` when several seeds."""
    names = [s.name for s in specs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(
            f"two specs are named {', '.join(repr(d) for d in dup)}: each fit is saved under "
            "OUT/<spec name>; rename one (name = ... in the spec)"
        )
    if seeds is not None and len(set(seeds)) < len(seeds):
        raise ValueError(f"--seeds: a seed is named twice: {list(seeds)}")
    if not seeds:
        return [(s.name, s, None) for s in specs]
    if len(seeds) == 1:
        return [(s.name, s, seeds[0]) for s in specs]
    return [(f"{s.name}-seed{k}", s, k) for s in specs for k in seeds]


def grid(
    specs: Sequence[Any],
    data: Any,
    *,
    out: str | Path,
    seeds: Sequence[int] | None = None,
    scheduler: Any = None,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    sampler: str | None = None,
    target_accept: float | None = None,
    responses: str = "auto",
    n_workers: int = N_WORKERS,
    retries: int = RETRIES,
    retry_failed: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> GridResult:
    """Fit each of ``specs`` (Spec objects or TOML paths) to ``data``, once per seed of
    ``seeds`` (default: each spec's own seed), as dask tasks; then compare the fits that
    finished by LOO (``responses``, as ``capmodel compare``) and write ``OUT/compare.html``.

    scheduler: a dask scheduler address or an open ``distributed.Client`` (default: a
        LocalCluster of ``n_workers`` processes, 1 thread each).
    draws, tune, chains, sampler, target_accept: NUTS settings (default: each spec's).
    """
    from capmodel.fitting.compare import RESPONSES
    from capmodel.fitting.inputs import checked_data
    from capmodel.fitting.settings import check_sampler, check_settings
    from capmodel.spec import Spec, load_spec

    if not specs:
        raise ValueError("grid needs at least one spec")
    if responses not in RESPONSES:
        raise ValueError(f"responses = {responses!r}; expected one of {list(RESPONSES)}")
    check_settings({"draws": draws, "tune": tune, "chains": chains, "target_accept": target_accept})
    for k in seeds or ():
        check_settings({"seed": k})
    out = check_study_path(out, overwrite=overwrite, kind="grid")
    loaded = [s if isinstance(s, Spec) else load_spec(s) for s in specs]
    plan = fit_names(loaded, seeds)
    for s in loaded:
        check_sampler(sampler or s.sampling.sampler)
    datasets = {s.name: checked_data(data, s, _warnings_only) for s in loaded}
    settings = {
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "sampler": sampler,
        "target_accept": target_accept,
    }
    study = {
        "kind": "grid",
        "fits": [name for name, _, _ in plan],
        "specs": {s.name: s.to_dict() for s in loaded},
        "data_hash": {n: d.dataset.attrs["data_hash"] for n, d in datasets.items()},
        "seeds": list(seeds) if seeds else None,
        **settings,
    }
    resumed = open_study(out, study, overwrite=overwrite, free=())
    store = RecordStore(out / TASKS)
    run = RunReport()
    tasks = {
        spec.name: [
            Task(name, grid_fit, (name, seed, str(out / name)))
            for name, s, seed in plan
            if s is spec
        ]
        for spec in loaded
    }
    if not pending([t for ts in tasks.values() for t in ts], store, retry_failed):
        run.skipped = [name for name, _, _ in plan]  # every fit recorded: no cluster to start
    else:
        with open_client(scheduler, n_workers=n_workers) as client:
            for spec in loaded:  # one run per spec: its data scattered once
                r = run_tasks(
                    tasks[spec.name],
                    store,
                    client,
                    common={"spec": spec, "data": datasets[spec.name], "settings": settings},
                    retries=retries,
                    retry_failed=retry_failed,
                    progress=progress,
                    desc=f"grid {spec.name}",
                )
                for part in ("submitted", "skipped", "finished", "failed"):
                    getattr(run, part).extend(getattr(r, part))
    records = store.records()
    table = pd.DataFrame(
        [
            {c: records.get(name, {}).get(c) for c in COLUMNS} | {"name": name}
            for name, _, _ in plan
        ],
        columns=COLUMNS,
    )
    comparison = None
    done = [name for name, _, _ in plan if records.get(name, {}).get("status") == OK]
    if len(done) >= 2:
        from capmodel.report import compare

        comparison = compare({n: out / n for n in done}, out=out / PAGE, responses=responses)
        ranks = comparison.table.set_index("model")
        table["loo_rank"] = [ranks["rank"].get(n) for n in table["name"]]
        table["elpd"] = [ranks["elpd"].get(n) for n in table["name"]]
    from capmodel.atomic import atomic_write_text

    atomic_write_text(out / "grid.csv", table.to_csv(index=False))
    return GridResult(table, out, comparison, run, resumed)


def _warnings_only(text: str) -> None:
    if text.startswith("warning: "):
        print(text, file=sys.stderr, flush=True)
