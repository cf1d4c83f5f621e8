"""``capmodel design``: compare sampling plans for the 1/6/18-month follow-up survey by
simulation (docs/design.md). One dask task per (plan, replicate).

>>> result = capmodel.design_study("models/plans/followup.toml", "models/capability.toml",
...                                reps=2, out="fits/design")             # doctest: +SKIP
>>> result.summary.table                                                 # doctest: +SKIP

Replicate r draws a population of the scenario from the study's seed and r (the same for
every plan: plans are compared on common random numbers); each plan draws its survey from
it (:mod:`capmodel.simulate.plans`), fits the spec by NUTS and scores its estimands against
the simulator's truth (:mod:`capmodel.studies.design_estimands`).

Writes under ``out``: ``study.json`` (the settings), ``tasks/rNNNNN-PLAN.json`` (one record per
plan and replicate, written as it arrives; a failure is recorded with its error), then
``design.csv`` (per plan and estimand: mean width and its se, P(excludes 0), coverage and its
se, cost), ``estimates.csv``, ``tasks.csv``, ``plans.csv``, ``design.md`` (the tables in
Markdown) and the page ``design.html``. Rerunning with the same settings resumes.
"""

from __future__ import annotations

import re
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from capmodel.simulate.plans import SamplingPlan
from capmodel.studies.design_estimands import DEFAULT_ESTIMANDS, ESTIMANDS, WEIGHTS
from capmodel.studies.design_summary import DesignSummary, markdown, summarise, task_key
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
from capmodel.studies.replicate import replicate_seeds
from capmodel.studies.studydir import check_study_path, open_study

TASKS = "tasks"
PAGE = "design.html"
DOC_MARKER = "design"
DEFAULT_EFFECT_DRAWS = 200
DEFAULT_TAU = 0.5


@dataclass
class DesignResult:
    """The study's ``summary``, its folder, its page and what this run did (``run``)."""

    summary: DesignSummary
    out: Path
    page: Path | None
    run: RunReport = field(default_factory=RunReport)
    resumed: bool = False


def plan_cost(plan: SamplingPlan) -> dict[str, Any]:
    """The plan as the study records it: its table, persons and rows."""
    return {**plan.to_dict(), "persons": plan.persons, "rows": plan.rows}


def design_replicate(
    plan_name: str, r: int, *, spec, plans: Mapping[str, SamplingPlan], settings: Mapping[str, Any]
) -> dict[str, Any]:
    """Plan ``plan_name``, replicate ``r``: draw the population of replicate r, the plan's
    survey, fit, score the estimands. Its record, or a failure record with the error text.
    Runs on a dask worker."""
    from capmodel.fitting import fit
    from capmodel.simulate.plans import draw_population, draw_survey
    from capmodel.studies.design_estimands import plan_estimates

    t0 = time.perf_counter()
    plan = plans[plan_name]
    seeds = replicate_seeds(settings["seed"], r)
    record: dict[str, Any] = {
        "plan": plan_name,
        "replicate": r,
        "seeds": seeds,
        "worker": worker_id(),
        "persons": plan.persons,
        "rows": plan.rows,
    }
    try:
        population = draw_population(
            settings["scenario"], seeds["simulate"], settings["n_population"]
        )
        sim = draw_survey(population, plan)
        t_sim = time.perf_counter() - t0
        f = fit(
            spec,
            sim.survey,
            draws=settings["draws"],
            tune=settings["tune"],
            chains=settings["chains"],
            seed=seeds["fit"],
            sampler=settings["sampler"],
            target_accept=settings["target_accept"],
            progressbar=False,
            verbose=False,
        )
        t_fit = time.perf_counter() - t0 - t_sim
        d = f.diagnostics
        estimates, errors = plan_estimates(
            f,
            sim,
            population,
            estimands=settings["estimands"],
            weights=settings["weights"],
            effect_draws=settings["effect_draws"],
            tau=settings["tau"],
            mrp_seed=seeds["pit"],
        )
        record.update(
            {
                "status": OK,
                "survey_persons": int(sim.survey["person_id"].nunique()),
                "survey_rows": len(sim.survey),
                "verdict": d.verdict,
                "divergences": d.divergences,
                "max_rhat": d.max_rhat,
                "min_ess_bulk": d.min_ess_bulk,
                "simulate_seconds": t_sim,
                "fit_seconds": t_fit,
                "estimates": estimates,
                "estimand_errors": errors,
            }
        )
    except Exception as exc:  # a failure of this task: the same seed fails again
        record = failure(exc, **record)
    record["seconds"] = time.perf_counter() - t0
    return record


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def check_design_settings(
    reps: int,
    scenario: str,
    n_population: int | None,
    effect_draws: int,
    tau: float,
    weights: str,
    estimands: Sequence[str],
) -> None:
    """The study's own options (the fit's are checked by capmodel.fitting.settings)."""
    from capmodel.simulate.scenarios import scenario as get_scenario

    for name, v in (("reps", reps), ("effect_draws", effect_draws), ("n_population", n_population)):
        if v is None and name == "n_population":
            continue
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {v!r}")
    get_scenario(scenario)
    if isinstance(tau, bool) or not isinstance(tau, int | float) or not tau > 0:
        raise ValueError(f"tau must be a number > 0, got {tau!r}")
    if weights not in WEIGHTS:
        raise ValueError(f"weights = {weights!r}; expected one of {list(WEIGHTS)}")
    unknown = [e for e in estimands if e not in ESTIMANDS]
    if unknown or not estimands:
        raise ValueError(f"estimands {list(estimands)!r}: expected some of {list(ESTIMANDS)}")


def check_doc(path: str | Path) -> Path:
    """A Markdown file with a <!-- design:start --> ... <!-- design:end --> block (checked
    before any work)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--doc {path}: no such file")
    text = path.read_text(encoding="utf-8")
    if len(_block(DOC_MARKER).findall(text)) != 1:
        raise ValueError(
            f"--doc {path}: expected one <!-- {DOC_MARKER}:start --> ... "
            f"<!-- {DOC_MARKER}:end --> block"
        )
    return path


def _block(marker: str) -> re.Pattern[str]:
    return re.compile(rf"<!-- {marker}:start -->.*?<!-- {marker}:end -->", flags=re.S)


def write_doc(path: str | Path, table: str) -> Path:
    """Replace the design block of ``path`` with ``table`` (atomically)."""
    from capmodel.atomic import atomic_write_text

    path = check_doc(path)
    text = path.read_text(encoding="utf-8")
    block = f"<!-- {DOC_MARKER}:start -->\n{table}\n<!-- {DOC_MARKER}:end -->"
    atomic_write_text(path, _block(DOC_MARKER).sub(lambda _: block, text))
    return path


def _validate_spec(spec: Any, plans: Sequence[SamplingPlan], scenario: str) -> None:
    """The spec against a small survey of the scenario with every wave the plans use (the
    columns, the waves and the data checks of a fit), before any cluster starts."""
    from capmodel.fitting.inputs import checked_data
    from capmodel.simulate.plans import draw_population, draw_survey

    waves = sorted({w for p in plans for w in p.waves})
    probe = SamplingPlan.cross_sections("probe", {w: 100 for w in waves})
    with warnings.catch_warnings():  # raking a small probe: levels without respondents
        warnings.simplefilter("ignore", UserWarning)
        sim = draw_survey(draw_population(scenario, 0, 2_000), probe)
    try:
        checked_data(sim.survey, spec, lambda _: None)
    except ValueError as exc:
        raise ValueError(
            f"spec {spec.name} does not fit the surveys of scenario {scenario}: {exc}"
        ) from None


def design_study(
    plans: Sequence[SamplingPlan] | str | Path,
    spec: Any,
    *,
    reps: int,
    out: str | Path,
    scenario: str = "cep2021",
    scheduler: Any = None,
    seed: int = 1,
    n_population: int | None = None,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    sampler: str | None = None,
    target_accept: float | None = None,
    effect_draws: int = DEFAULT_EFFECT_DRAWS,
    tau: float = DEFAULT_TAU,
    weights: str = "survey",
    estimands: Sequence[str] = DEFAULT_ESTIMANDS,
    doc: str | Path | None = None,
    command: str = "",
    n_workers: int = N_WORKERS,
    retries: int = RETRIES,
    retry_failed: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> DesignResult:
    """Compare sampling ``plans`` (SamplingPlan objects or a plans TOML file) for ``spec`` (a
    Spec or a TOML path) on ``scenario``: ``reps`` replicates of each plan, each a dask task.

    scheduler: a dask scheduler address or an open ``distributed.Client`` (default: a
        LocalCluster of ``n_workers`` processes, 1 thread each).
    seed: the study's seed; replicate r's population is drawn from SeedSequence(seed)
        spawned at r, the same for every plan.
    n_population: beneficiaries in each replicate's population (default: the published
        197,074).
    draws, tune, chains, sampler, target_accept: NUTS settings (default: the spec's).
    effect_draws: posterior draws the estimands are computed from (evenly spaced).
    tau: the pathway types' capability-gain threshold.
    weights: 'survey' (effects weighted by the survey weights, so that every plan estimates
        the same population quantity) or 'none' (each sample as drawn).
    estimands: some of 'total_effects', 'nie', 'attribution', 'pathways', 'mrp' (default:
        all; capmodel.studies.design_estimands).
    doc: a Markdown file whose <!-- design:start --> ... <!-- design:end --> block receives
        the study's tables (``command`` is printed under them).
    retry_failed: rerun the tasks recorded as failed; overwrite: delete an earlier study in
        ``out`` first (default: resume it when its settings are the same, else refuse).
    """
    from capmodel.fitting.settings import check_sampler, check_settings
    from capmodel.simulate import cep2021 as S
    from capmodel.simulate.plans import check_plans, load_plans
    from capmodel.spec import Spec, load_spec

    t0 = time.perf_counter()
    check_design_settings(reps, scenario, n_population, effect_draws, tau, weights, estimands)
    check_settings(
        {
            "draws": draws,
            "tune": tune,
            "chains": chains,
            "seed": seed,
            "target_accept": target_accept,
        }
    )
    if doc is not None:
        check_doc(doc)
    out = check_study_path(out, overwrite=overwrite, kind="design study")
    plan_list = load_plans(plans) if isinstance(plans, str | Path) else list(plans)
    if not plan_list:
        raise ValueError("design needs at least one plan")
    n_pop = S.N_POPULATION if n_population is None else int(n_population)
    check_plans(plan_list, scenario, n_pop)
    names = [p.name for p in plan_list]
    if len(set(names)) != len(names):
        raise ValueError(f"two plans share a name: {names}")
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    s = spec.sampling
    check_sampler(sampler or s.sampler)
    _validate_spec(spec, plan_list, scenario)
    settings = {
        "kind": "design",
        "scenario": scenario,
        "n_population": n_pop,
        "spec_name": spec.name,
        "spec": spec.to_dict(),
        "plans": [plan_cost(p) for p in plan_list],
        "seed": int(seed),
        "draws": draws or s.draws,
        "tune": tune or s.tune,
        "chains": chains or s.chains,
        "sampler": sampler or s.sampler,
        "target_accept": target_accept or s.target_accept,
        "effect_draws": int(effect_draws),
        "tau": float(tau),
        "weights": weights,
        "estimands": list(estimands),
        "reps": int(reps),
    }
    resumed = open_study(out, settings, overwrite=overwrite)
    store = RecordStore(out / TASKS)
    tasks = [
        Task(task_key(p.name, r), design_replicate, (p.name, r))
        for r in range(reps)
        for p in plan_list
    ]
    if pending(tasks, store, retry_failed):
        with open_client(scheduler, n_workers=n_workers) as client:
            run = run_tasks(
                tasks,
                store,
                client,
                common={
                    "spec": spec,
                    "plans": {p.name: p for p in plan_list},
                    "settings": settings,
                },
                retries=retries,
                retry_failed=retry_failed,
                progress=progress,
                desc="design",
            )
    else:  # every task recorded: no cluster to start
        run = RunReport(skipped=[t.key for t in tasks])
    return _finish(out, settings, reps, t0, run, resumed, doc, command)


def _finish(
    out: Path,
    settings: Mapping[str, Any],
    reps: int,
    t0: float,
    run: RunReport,
    resumed: bool,
    doc: str | Path | None,
    command: str,
) -> DesignResult:
    from capmodel.atomic import atomic_write_text
    from capmodel.studies.design_page import write_design_page

    summary = summarise(RecordStore(out / TASKS).records(), settings["plans"], reps, settings)
    summary.write(out)
    seconds = time.perf_counter() - t0
    table = markdown(summary, command)
    atomic_write_text(out / "design.md", table + "\n")
    page = write_design_page(summary, out / PAGE, seconds)
    if doc is not None:
        write_doc(doc, table)
    return DesignResult(summary, out, page, run, resumed)


def load_design(out: str | Path) -> DesignSummary:
    """The summary of the design study in ``out`` from its records (a study still running, or
    one stopped, included)."""
    import json

    out = Path(out)
    settings = json.loads((out / "study.json").read_text(encoding="utf-8"))
    return summarise(
        RecordStore(out / TASKS).records(), settings["plans"], int(settings["reps"]), settings
    )
