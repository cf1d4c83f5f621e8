"""The `capmodel` command line; each command mirrors a Python function."""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence

DESCRIPTION = """capmodel: Bayesian capability-approach models for evaluating career guidance (CEP).

Every input is checked before any expensive work: output paths, option ranges, the data
against the spec (`capmodel validate`), population tables. Errors are one line (or one
line per problem) on stderr, with exit status 1."""

EPILOG = "Run `capmodel COMMAND --help` for the options of a command."

SIMULATE_HELP = """Simulate CEP beneficiaries and a 6-month survey of them, with known truth.

Writes into OUT (refused if it exists, unless --overwrite; written atomically):
  population.parquet     every beneficiary, administrative columns (operator, region, sex,
                         age_band, qualification, csp, company_size, service_level)
  survey.parquet         the survey respondents (one row per person and wave) with supports,
                         capability indicators, realisations, usefulness, attribution, weight
  schema.json            the role of each survey column (for capmodel.data / model specs)
  truth/params.json      the true parameters of the generating model
  truth/persons.parquet  per-person truth: latent capability with and without support,
                         potential outcomes of every realisation in both worlds
  manifest.json          scenario, seed, sizes, sha256 of every file

Same seed, same data. Python: capmodel.simulate.simulate(scenario, seed, n_population, ...).
"""


# capmodel.simulate.scenarios.SCENARIOS, named here so that parsing imports nothing heavy
# (tests/test_simulate_scenarios.py checks the two lists agree)
SCENARIO_NAMES = ("cep2021", "cep2021_regional", "cep_crossed", "cep_crossed_interaction")
MAX_SEED = 2**32 - 1  # capmodel.fitting.settings.MAX_SEED (numpy's and JAX's seeds)


def _simulate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from capmodel.data import load_data
    from capmodel.outpaths import check_output_dir
    from capmodel.simulate import simulate
    from capmodel.simulate.summary import summarise

    check_output_dir(args.out, overwrite=args.overwrite)
    if args.n is not None and args.n_survey is not None and args.n_survey > args.n:
        raise ValueError(
            f"--n-survey {args.n_survey:,} is larger than the population --n {args.n:,}; "
            "expected at most --n respondents"
        )
    t0 = time.perf_counter()
    sim = simulate(
        args.scenario,
        seed=args.seed,
        n_population=args.n,
        n_survey=args.n_survey,
        waves=tuple(args.waves),
        attrition=tuple(args.attrition or ()),
    )
    out = sim.write(args.out, overwrite=args.overwrite)
    print(summarise(sim))
    data = load_data(Path(out) / "survey.parquet", sim.schema)
    ds = data.dataset
    print(
        f"\nsurvey.parquet validates against schema.json: {ds.attrs['n_rows']:,} rows, "
        f"{ds.attrs['n_persons']:,} persons, data hash {ds.attrs['data_hash'][:12]}"
    )
    print(f"written to {out} in {time.perf_counter() - t0:.1f} s")
    return 0


FIT_HELP = """Fit a capability-approach model (a TOML spec, see docs/models.md) to data by NUTS.

Reads the data (CSV or Parquet), validates it against the spec's schema, builds the PyMC
model, samples, prints a convergence summary and saves the fit to OUT (netCDF + manifest.json,
written atomically; refused if OUT exists unless --overwrite). Options left out take the
spec's [sampling] values. Python: capmodel.fit(spec, data, ...).save(out).

Each stage (read, validate, build, compile, sampling, save) prints a line with its duration
on stderr as it ends, and the data validator's warnings too: `capmodel fit ... > log 2>&1`
fills the log while the fit runs.

--method advi: a fast approximate preview by mean-field ADVI (PyMC's pm.fit, at most
--iterations steps, stopped early when the approximation stops moving), then as many draws
from it as NUTS would keep. Its verdict is APPROXIMATE, never PASS: not for inference.

OUT is checked first: an existing directory (without --overwrite), a file, a path under a
file or an unwritable parent is refused in seconds, before the data is read. So are options
out of range and a sampler whose packages are not installed.

The per-person capability residual draws are not saved (the effects integrate each person's
residual instead); --keep-residuals saves them, thinned to 200 draws per chain, as float32.
--log-likelihood also saves the groups log_likelihood (one term per person) and
posterior_predictive, so that az.loo(az.from_netcdf("OUT/fit.nc")) and az.plot_ppc work.

Exit status: 0 saved (PASS, WARN or an APPROXIMATE fit), 3 saved but the convergence verdict
is FAIL, 1 an error.
"""


def _fit(args: argparse.Namespace) -> int:
    from capmodel.outpaths import check_output_dir

    check_output_dir(args.out, overwrite=args.overwrite)  # before any data is read
    from capmodel.fitting import fit

    f = fit(
        args.spec,
        args.data,
        method=args.method,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        seed=args.seed,
        sampler=args.sampler,
        target_accept=args.target_accept,
        precision=args.precision,
        iterations=args.iterations,
        keep_residuals=args.keep_residuals,
        log_likelihood=args.log_likelihood,
        progressbar=not args.no_progress,
    )
    t0 = time.perf_counter()
    path = f.save(args.out, overwrite=args.overwrite)
    size = sum(p.stat().st_size for p in path.iterdir()) / 2**20
    print(f"save {time.perf_counter() - t0:.1f} s ({size:.1f} MiB)", file=sys.stderr, flush=True)
    print(f"saved to {path}")
    # an approximate (ADVI) fit has no convergence verdict to fail: 0, like PASS and WARN
    return 3 if f.diagnostics.verdict == "fail" else 0


def _prior_check(args: argparse.Namespace) -> int:
    import pandas as pd

    from capmodel.fitting.inputs import checked_data
    from capmodel.fitting.prior_check import prior_check
    from capmodel.spec import load_spec

    spec = load_spec(args.spec)
    data = checked_data(args.data, spec, _warnings_only)
    table = prior_check(spec, data, draws=args.draws, seed=args.seed)
    with pd.option_context("display.width", 120, "display.max_rows", 500):
        print(table.round(3).to_string(index=False))
    return 0


def _warnings_only(text: str) -> None:
    """Print the validator's warnings (not the timings) on stderr."""
    if text.startswith("warning: "):
        print(text, file=sys.stderr, flush=True)


VALIDATE_HELP = """Check a model spec and a data file together, as `capmodel fit` does before it
samples, without fitting: the spec is read, the data read and validated against the spec's
schema, the design and the PyMC model built (not compiled). The same messages as `fit`; the
validator's warnings on stderr.

Exit status: 0 the data and spec are ready to fit, 1 an error (each problem on its own line).
"""


def _validate(args: argparse.Namespace) -> int:
    from capmodel.fitting.inputs import check_inputs

    t0 = time.perf_counter()
    spec, data, design, built = check_inputs(args.spec, args.data, _warnings_only)
    ds = data.dataset
    n_warn = len(data.validated.warnings)
    dropped = int(ds.attrs.get("dropped_rows", 0))
    print(
        f"{args.data}: valid for spec {spec.name!r}: {int(ds.attrs['n_persons']):,} persons, "
        f"{int(ds.attrs['n_rows']):,} rows"
        + (f" ({dropped:,} rows dropped)" if dropped else "")
        + f", {len(built.model.free_RVs)} free variables; "
        f"{n_warn} warning{'s' if n_warn != 1 else ''}; data hash "
        f"{ds.attrs['data_hash'][:12]} ({time.perf_counter() - t0:.1f} s)"
    )
    return 0


EFFECTS_HELP = """Causal effects from a saved fit (docs/effects.md), as a tidy table.

Estimands (--estimand):
  total        (default) total effects: M(intervention) - M(control) and M(intervention) /
               M(control) for each realisation and any realisation; with no --intervention,
               do(k=1) vs do(k=0) for every support and the CEP as received vs no CEP
  predict      predicted realisation shares under each --intervention (default: observed, none)
  mediation    natural direct and indirect effects through capability, proportion mediated
  conversion   effect of each support on capability by level of its conversion factors
  attribution  probability that a change would not have happened without the CEP (needs --data
               for the self-reported column)
  pathways     shares of the five pathway types (needs --data for the failed decisive test;
               with --population, also the post-stratified population shares of types 1-4)
  poststratify population shares under each --intervention by post-stratification (MRP) on
               --population (a table of the population's cell variables, one row per person)

Output: a compact table (rows: contrast or intervention and subgroup; columns: outcomes;
cells "mean [lower, upper]" in percentage points) after the notes; --long prints the tidy
table instead. --out writes the tidy table (.csv, .json) or the draws (.nc) with the
provenance (fit, data hash, verdict, draws). A fit that did not pass its convergence checks
is said so on the first line. --population tables are checked against the fit: labels not
among a column's levels are errors; group levels the fit never saw are errors unless
--allow-unseen-groups (they then get, per draw, their group-level predictors' line plus a
draw from the group's spread, listed in the notes).

Interventions: "reflection=1", "reflection=1,referral=0", "none" (no CEP: every support 0),
"observed" (supports as received). Each is contrasted with --control, by default its
complement (k=1 vs k=0; "none" vs "observed"). Supports an intervention leaves out keep their
observed values. Population: the fit's survey sample (--weights survey to weight it); each
person keeps their own posterior residual unless --residual integrated.
Python: capmodel.effects.total_effects(capmodel.load_fit(FIT), ...).
"""


def _effects(args: argparse.Namespace) -> int:
    import pandas as pd

    from capmodel.outpaths import check_output_file

    if args.out:  # before the fit is loaded
        check_output_file(args.out, suffixes=(".csv", ".json", ".nc"))
    if args.estimand == "poststratify" and not args.population:
        raise ValueError(
            "--estimand poststratify needs --population FILE (the population's "
            "cell variables, one row per person)"
        )
    if args.population and args.estimand not in ("poststratify", "pathways"):
        raise ValueError(
            f"--population is used by --estimand poststratify and pathways, not {args.estimand}"
        )
    import capmodel.effects as fx
    from capmodel.effects.compact import compact_text, fit_provenance, verdict_warning
    from capmodel.effects.interventions import parse_intervention
    from capmodel.fitting import load_fit

    interventions = [parse_intervention(t) for t in args.intervention or []]
    control = parse_intervention(args.control) if args.control else None
    by = [b.strip() for text in args.by or [] for b in text.split(",") if b.strip()]
    population = None
    if args.population:  # read (and its file checked) before the fit is loaded
        from capmodel.data.io import read_table

        population = read_table(args.population)
    fit = load_fit(args.fit)
    warning = verdict_warning(fit, args.fit)
    if warning:  # first, before any number
        print(warning, flush=True)
    model = fx.effect_model(
        fit,
        draws=args.draws,
        weights=args.weights,
        residual=args.residual,
        horizon=args.horizon,
    )
    for iv in interventions + ([control] if control else []):
        iv.check(model.units.support_names)
    for b in by:
        model.units.split(b)
    estimand = args.estimand
    if estimand == "total":
        contrasts = (
            [(iv, control or iv.complement()) for iv in interventions] if interventions else None
        )
        result = fx.total_effects(model, contrasts=contrasts, by=by)
    elif estimand == "predict":
        result = fx.predict(model, interventions or ["observed", "none"], by=by)
    elif estimand == "mediation":
        supports = [k for iv in interventions for k, _ in iv.values] or None
        result = fx.mediation(model, supports=supports, by=by)
    elif estimand == "conversion":
        result = fx.conversion(model, by=by)
    elif estimand == "attribution":
        result = fx.attribution(model, data=args.data, by=by)
    elif estimand == "pathways":
        result = fx.pathways(
            model,
            data=args.data,
            tau=args.tau,
            by=by,
            population=population,
            allow_unseen_groups=args.allow_unseen_groups,
        )
    else:
        assert population is not None  # checked above
        result = fx.poststratify(
            model,
            population,
            interventions=interventions or ["observed", "none"],
            by=by,
            allow_unseen_groups=args.allow_unseen_groups,
        )
    result.provenance = fit_provenance(fit, args.fit, model.params.n_draws)
    with pd.option_context("display.width", 160, "display.max_rows", 2000):
        print(result.text() if args.long else compact_text(result))
        for name, table in result.extra.items():
            if name != "persons":  # one row per person: written with --out only as JSON/CSV
                print(f"\n{name}:\n{table.round(4).to_string(index=False)}")
    if args.out:
        out = str(args.out)
        if out.endswith(".csv"):
            result.to_csv(out)
        elif out.endswith(".json"):
            result.to_json(out)
        else:
            result.to_netcdf(out)
        print(f"written to {out}")
    return 0


REPORT_HELP = """Write the HTML posterior report of a saved fit (docs/report.md).

One self-contained file (figures inline, no request to any other host), written atomically to
FIT/report.html unless --out is given: run, convergence, model graph, measurement, capability,
realisations, groups, causal effects, posterior predictive checks and published figures, with
90% equal-tailed intervals throughout. Python: capmodel.write_report(capmodel.load_fit(FIT), PATH).
"""

COMPARE_HELP = """Compare saved fits by PSIS-LOO over persons and write an HTML page.

elpd, SE, differences and their SE, stacking weights and Pareto k diagnostics, with a warning
when the comparison is unreliable (bad Pareto k, different data, different responses, or a
difference small against its SE). Python: capmodel.report.compare([FIT, ...], out=PATH).
"""


def _report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from capmodel.outpaths import check_output_file

    if not Path(args.fit).is_dir():
        raise FileNotFoundError(f"{args.fit}: no such fit directory")
    out = Path(args.out) if args.out else Path(args.fit) / "report.html"
    if out.suffix.lower() not in (".html", ".htm"):
        if out.exists() and not out.is_dir():
            raise ValueError(f"--out {out}: expected a .html file or a directory")
        out = out / "report.html"
    check_output_file(out, suffixes=(".html", ".htm"))  # before the fit is loaded
    from capmodel.report import report_fit_dir

    t0 = time.perf_counter()
    path = report_fit_dir(
        args.fit,
        out,
        ppc_draws=args.ppc_draws,
        effect_draws=args.effect_draws,
        reference=None if args.reference == "none" else args.reference,
    )
    size = path.stat().st_size / 2**20
    print(f"report written to {path} ({size:.1f} MiB, {time.perf_counter() - t0:.1f} s)")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from capmodel.outpaths import check_output_file

    if len(args.fits) < 2:
        raise ValueError(f"compare needs two or more fit directories, got {len(args.fits)}")
    if len(set(args.fits)) < len(args.fits):
        raise ValueError(f"compare: the same fit directory is named twice: {args.fits}")
    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        if out.exists() and not out.is_dir():
            raise ValueError(f"--out {out}: expected a .html file or a directory")
        out = out / "compare.html"
    check_output_file(out, suffixes=(".html", ".htm"))  # before any fit is loaded
    missing = [f for f in args.fits if not Path(f).is_dir()]
    if missing:
        raise FileNotFoundError(f"no such fit directory: {', '.join(missing)}")
    from capmodel.report import compare

    c = compare(args.fits, out=out, responses=args.responses)
    cols = ["rank", "model", "elpd", "se", "elpd_diff", "dse", "weight", "k_bad", "k_very_bad"]
    print(c.table[cols].round(2).to_string(index=False))
    for w in c.warnings:
        print(f"warning: {w}")
    print(f"comparison written to {c.path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from capmodel import __version__
    from capmodel.spec.spec import PRECISIONS

    parser = argparse.ArgumentParser(
        prog="capmodel",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"capmodel {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    p = sub.add_parser(
        "simulate",
        help="simulate a CEP data set with known truth",
        description=SIMULATE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--scenario",
        default="cep2021",
        choices=SCENARIO_NAMES,
        help="calibrated scenario (default: cep2021, the 2021-22 CEP for "
        "employed workers; cep2021_regional adds regional labour markets "
        "that drive survey response)",
    )
    p.add_argument("--seed", type=_seed, default=1, help="random seed (default: 1)")
    p.add_argument(
        "--out", required=True, help="output directory (must not exist unless --overwrite)"
    )
    p.add_argument(
        "--n",
        type=_positive,
        default=None,
        metavar="N",
        help="population size (default: the published 197,074)",
    )
    p.add_argument(
        "--n-survey",
        type=_positive,
        default=None,
        metavar="N",
        help="number of survey respondents (default: 6,396, or the same 3.2%% "
        "response rate when --n is given)",
    )
    p.add_argument(
        "--waves",
        type=int,
        nargs="+",
        default=[6],
        choices=[1, 6, 18],
        metavar="MONTHS",
        help="months since exit at which respondents answer "
        "(default: 6; e.g. --waves 1 6 18 for a panel)",
    )
    p.add_argument(
        "--attrition",
        type=float,
        nargs="+",
        default=None,
        metavar="RATE",
        help="panel attrition: the share of the persons still answering who leave after each "
        "wave but the last (e.g. --waves 1 6 18 --attrition 0.15 0.30)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.set_defaults(run=_simulate)

    p = sub.add_parser(
        "fit",
        help="fit a model spec to data by NUTS (or ADVI) and save it",
        description=FIT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("spec", help="model spec (TOML), e.g. models/capability.toml")
    p.add_argument("--data", required=True, help="data file (.csv, .csv.gz, .parquet)")
    p.add_argument("--out", required=True, help="fit directory to write, e.g. fits/NAME")
    p.add_argument("--seed", type=_seed, default=None, help="random seed (default: the spec's)")
    p.add_argument("--draws", type=_positive, default=None, help="draws per chain")
    p.add_argument("--tune", type=_positive, default=None, help="tuning steps per chain")
    p.add_argument("--chains", type=_positive, default=None, help="number of chains")
    p.add_argument(
        "--sampler",
        choices=["nutpie", "pymc", "numpyro"],
        default=None,
        help="NUTS implementation (default: the spec's, normally numpyro)",
    )
    p.add_argument(
        "--target-accept",
        type=_target_accept,
        default=None,
        help="NUTS target acceptance, in [0.5, 1) (default: the spec's)",
    )
    p.add_argument(
        "--precision",
        choices=list(PRECISIONS),
        default=None,
        help="numpyro's floating-point precision: auto (float32 where its rounding is small), "
        "float64 or float32 (default: the spec's)",
    )
    p.add_argument(
        "--method",
        choices=["nuts", "advi"],
        default="nuts",
        help="nuts (default) or advi: a fast approximate preview, not for inference",
    )
    p.add_argument(
        "--iterations",
        type=_positive,
        default=None,
        help="advi: the most optimisation steps (default 20,000)",
    )
    p.add_argument(
        "--keep-residuals",
        action="store_true",
        help="save the per-person residual draws (at most 200 per chain, float32)",
    )
    p.add_argument(
        "--log-likelihood",
        action="store_true",
        help="also save log_likelihood and posterior_predictive (for az.loo, az.plot_ppc)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.add_argument(
        "--no-progress",
        action="store_true",
        help="no sampling progress (numpyro: lines on stderr; nutpie, pymc: bars)",
    )
    p.set_defaults(run=_fit)

    p = sub.add_parser(
        "validate",
        help="check a spec and a data file together, without fitting",
        description=VALIDATE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("spec", help="model spec (TOML), e.g. models/capability.toml")
    p.add_argument("--data", required=True, help="data file (.csv, .csv.gz, .parquet)")
    p.set_defaults(run=_validate)

    p = sub.add_parser(
        "prior-check",
        help="prior predictive check of a model spec on data (no fit)",
        description="Shares of every response level implied by the priors "
        "(5%%, 50%%, 95%% quantiles) next to the observed shares.",
    )
    p.add_argument("spec", help="model spec (TOML)")
    p.add_argument("--data", required=True, help="data file (.csv, .parquet)")
    p.add_argument("--draws", type=_positive, default=500, help="prior draws (default 500)")
    p.add_argument("--seed", type=_seed, default=1, help="random seed (default 1)")
    p.set_defaults(run=_prior_check)

    p = sub.add_parser(
        "effects",
        help="causal effects from a saved fit (total, mediation, MRP...)",
        description=EFFECTS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("fit", help="fit directory, e.g. fits/NAME")
    p.add_argument(
        "--estimand",
        default="total",
        choices=[
            "total",
            "predict",
            "mediation",
            "conversion",
            "attribution",
            "pathways",
            "poststratify",
        ],
        help="what to compute (default: total)",
    )
    p.add_argument(
        "--intervention",
        action="append",
        metavar="TEXT",
        help='e.g. "reflection=1", "reflection=1,referral=0", "none" (repeatable)',
    )
    p.add_argument(
        "--control",
        default=None,
        metavar="TEXT",
        help="the control of every contrast (default: each intervention's complement)",
    )
    p.add_argument(
        "--by",
        action="append",
        metavar="COLUMN",
        help="subgroups: a factor, confounder, group, support or the wave column "
        "(repeatable or comma-separated)",
    )
    p.add_argument(
        "--weights",
        choices=["none", "survey"],
        default="none",
        help="weight the survey sample (default: none)",
    )
    p.add_argument(
        "--residual",
        choices=["posterior", "integrated"],
        default="posterior",
        help="each person's own posterior residual (default) or e ~ N(0, 1)",
    )
    p.add_argument(
        "--draws",
        type=_positive,
        default=None,
        help="use at most this many posterior draws, evenly spaced (default: all)",
    )
    p.add_argument(
        "--horizon",
        type=_positive,
        default=None,
        metavar="MONTHS",
        help="count realisations at this many months since the CEP, each person once "
        "(e.g. 1, 6, 18; needs data with several waves; default: every row at its own wave)",
    )
    p.add_argument(
        "--data",
        default=None,
        help="the raw data file, for extra columns (attribution, failed test)",
    )
    p.add_argument(
        "--population",
        default=None,
        help="poststratify (and pathways): population table (.parquet, .csv), one row per person",
    )
    p.add_argument(
        "--allow-unseen-groups",
        action="store_true",
        help="poststratify, pathways: group levels of the population the fit never saw get, "
        "per draw, their group-level predictors' line (values from a population column named "
        "like the predictor, or the schema's table) plus N(0, group sd) (default: an error "
        "naming them)",
    )
    p.add_argument(
        "--tau",
        type=_non_negative,
        default=0.5,
        help="pathways: capability-gain threshold in residual sd, >= 0 (default 0.5)",
    )
    p.add_argument(
        "--long", action="store_true", help="print the tidy long table, not the compact one"
    )
    p.add_argument(
        "--out",
        default=None,
        help="write the tidy table (.csv, .json) or draws (.nc), with provenance",
    )
    p.set_defaults(run=_effects)
    _add_report_commands(sub)
    _add_study_commands(sub)
    return parser


def _add_report_commands(sub) -> None:
    """The `report` and `compare` subcommands (capmodel.report)."""
    p = sub.add_parser(
        "report",
        help="write the HTML posterior report of a saved fit",
        description=REPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("fit", help="fit directory written by `capmodel fit`, e.g. fits/NAME")
    p.add_argument("--out", default=None, help="output file (default: FIT/report.html)")
    p.add_argument(
        "--ppc-draws",
        type=_positive,
        default=200,
        help="posterior draws replicated for the predictive checks (default 200)",
    )
    p.add_argument(
        "--effect-draws",
        type=_positive,
        default=100,
        help="posterior draws the Effects section is computed from (default 100)",
    )
    p.add_argument(
        "--reference",
        default="auto",
        help="table of published figures: 'auto' (by the data's columns), "
        "'none', or a name such as cep2021",
    )
    p.set_defaults(run=_report)

    p = sub.add_parser(
        "compare",
        help="compare saved fits by LOO and write an HTML comparison page",
        description=COMPARE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("fits", nargs="+", help="two or more fit directories")
    p.add_argument("--out", required=True, help="output file, e.g. fits/compare.html")
    p.add_argument(
        "--responses",
        choices=["auto", "all", "realisations"],
        default="auto",
        help="responses compared on (default auto: all when the models share "
        "them, else the realisations)",
    )
    p.set_defaults(run=_compare)


SBC_HELP = """Simulation-based calibration of a model spec on the design of a data set
(docs/studies.md): each replicate draws the parameters from the spec's priors, simulates the
responses on the data's persons, supports, covariates and groups, fits the spec by NUTS, and
ranks the truth among nearly independent (thinned) posterior draws, for every scalar parameter
and for derived estimands (total effects and NIE on any realisation, the PN share among
changers, the pathway-type shares; --estimands chooses). One dask task per
replicate, on a LocalCluster of --workers processes or on the scheduler at --scheduler.

Writes into OUT: study.json (settings), replicates/rNNNNN.json (one per replicate, as it
arrives; a failed replicate is recorded with its error), then summary.json, summary.csv (per
estimand: the ECDF test against the simultaneous 99% band, its exact p-value and Holm's
adjustment over the estimands), replicates.csv, ranks.csv and the page sbc.html.
Rerunning the same command resumes: recorded replicates are not run again (--reps may grow).
An OUT holding a study with other settings, or a non-empty folder that is no study, is
refused unless --overwrite (the old study is then deleted first).

Exit status: 0 no estimand fails at the family-wise 1% level (Holm-adjusted p-values of
the band's test), 3 some estimand fails or the study is incomplete, 1 an error,
130 interrupted (rerun to resume).
Python: capmodel.sbc(spec, data, reps=..., out=...).
"""

GRID_HELP = """Fit several model specs (and/or seeds) to one data set as parallel dask tasks,
save each fit under OUT/NAME (NAME: the spec's name, with -seedN when several --seeds), then
compare the fits by LOO and write OUT/compare.html (as `capmodel compare`) and OUT/grid.csv.

Each fit is saved by the worker that made it: with --scheduler, OUT must be on a file system
the workers share. Rerunning the same command skips the fits already recorded
(OUT/tasks/NAME.json); a failed fit is recorded with its error and left out of the comparison.
Python: capmodel.grid([spec, ...], data, out=...).
"""


def _study_common_checks(args: argparse.Namespace, kind: str) -> None:
    """The checks every study makes before any data is read or any cluster started."""
    from capmodel.studies.studydir import check_study_path

    if args.scheduler is not None and not str(args.scheduler).strip():
        raise ValueError("--scheduler: empty address; expected e.g. tcp://10.0.0.5:8786")
    if args.scheduler is not None and args.workers is not None:
        raise ValueError("--workers sizes the LocalCluster; a --scheduler has its own workers")
    check_study_path(args.out, overwrite=args.overwrite, kind=kind)


def _study_run_options(args: argparse.Namespace) -> dict:
    """The options every study command (sbc, grid, design) passes on alike: the scheduler,
    the sampler settings, the workers and the resume/overwrite/progress switches."""
    return {
        "scheduler": args.scheduler,
        "draws": args.draws,
        "tune": args.tune,
        "chains": args.chains,
        "sampler": args.sampler,
        "target_accept": args.target_accept,
        "n_workers": args.workers or 2,
        "retry_failed": args.retry_failed,
        "overwrite": args.overwrite,
        "progress": not args.no_progress,
    }


def _sbc(args: argparse.Namespace) -> int:
    from pathlib import Path

    _study_common_checks(args, "study")
    if not Path(args.spec).is_file():
        raise FileNotFoundError(f"model spec not found: {args.spec}")
    from capmodel.studies.sbc import sbc

    try:
        result = sbc(
            args.spec,
            args.data,
            reps=args.reps,
            out=args.out,
            thin=args.thin,
            seed=args.seed,
            estimands=tuple(args.estimands or SBC_ESTIMANDS),
            **_study_run_options(args),
        )
    except KeyboardInterrupt:
        print(
            f"capmodel sbc: interrupted; the finished replicates are saved in {args.out}; "
            "rerun the same command to resume",
            file=sys.stderr,
        )
        return 130
    s = result.summary
    print(
        f"{s.finished} of {s.reps} replicates finished ({len(result.run.skipped)} from an "
        f"earlier run), {s.failed} failed; {len(s.outside_band)} of {len(s.estimands)} "
        f"estimands leave their own {100 * s.prob:g}% band (about {s.expected_outside:.1f} "
        f"by chance), {len(s.failing)} fail at the family-wise {100 * (1 - s.prob):g}% "
        f"level (Holm): {s.verdict.upper()}"
    )
    for name in s.failing:
        print(f"  fails: {name}")
    flagged = [n for n in s.outside_band if n not in s.failing]
    for name in flagged[:10]:
        print(f"  outside its band (not failing): {name}")
    if len(flagged) > 10:
        print(f"  ... and {len(flagged) - 10} more outside their band (summary.csv)")
    print(f"page written to {result.page}")
    return 0 if s.verdict == "pass" else 3


def _grid(args: argparse.Namespace) -> int:
    from pathlib import Path

    _study_common_checks(args, "grid")
    missing = [p for p in args.specs if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(f"model spec not found: {', '.join(missing)}")
    if args.seeds is not None and len(set(args.seeds)) < len(args.seeds):
        raise ValueError(f"--seeds: a seed is named twice: {args.seeds}")
    if len(args.specs) < 2 and (args.seeds is None or len(args.seeds) < 2):
        raise ValueError(
            "grid needs two or more fits to compare: several specs, or --seeds with two or more"
        )
    from capmodel.studies.grid import grid

    try:
        result = grid(
            args.specs,
            args.data,
            out=args.out,
            seeds=args.seeds,
            responses=args.responses,
            **_study_run_options(args),
        )
    except KeyboardInterrupt:
        print(
            f"capmodel grid: interrupted; the finished fits are saved in {args.out}; "
            "rerun the same command to resume",
            file=sys.stderr,
        )
        return 130
    import pandas as pd

    with pd.option_context("display.width", 160):
        cols = [c for c in ("name", "status", "verdict", "seconds", "loo_rank", "elpd")]
        print(result.table[[c for c in cols if c in result.table]].to_string(index=False))
    for _, row in result.table[result.table["status"] != "ok"].iterrows():
        print(f"failed: {row['name']}: {row['error']}")
    if result.comparison is not None:
        for w in result.comparison.warnings:
            print(f"warning: {w}")
        print(f"comparison written to {result.comparison.path}")
        return 0
    print("fewer than two fits finished: no comparison written")
    return 3


def _add_study_options(p: argparse.ArgumentParser, data: bool = True) -> None:
    if data:
        p.add_argument("--data", required=True, help="data file (.csv, .csv.gz, .parquet)")
    p.add_argument("--out", required=True, help="study folder (resumed when rerun)")
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="address of a running dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a "
        "LocalCluster on this machine)",
    )
    p.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="LocalCluster worker processes, 1 thread each (default 2; not with --scheduler)",
    )
    p.add_argument("--draws", type=_positive, default=None, help="draws per chain")
    p.add_argument("--tune", type=_positive, default=None, help="tuning steps per chain")
    p.add_argument("--chains", type=_positive, default=None, help="number of chains")
    p.add_argument(
        "--sampler",
        choices=["nutpie", "pymc", "numpyro"],
        default=None,
        help="NUTS implementation (default: the spec's)",
    )
    p.add_argument(
        "--target-accept",
        type=_target_accept,
        default=None,
        help="NUTS target acceptance, in [0.5, 1) (default: the spec's)",
    )
    p.add_argument("--retry-failed", action="store_true", help="rerun the tasks recorded as failed")
    p.add_argument(
        "--overwrite", action="store_true", help="delete an earlier study in OUT and start again"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_study_commands(sub) -> None:
    """The `sbc` and `grid` subcommands (capmodel.studies)."""
    p = sub.add_parser(
        "sbc",
        help="simulation-based calibration of a spec (many fits on dask)",
        description=SBC_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("spec", help="model spec (TOML), e.g. models/realisations.toml")
    p.add_argument("--reps", type=_positive, required=True, help="number of replicates")
    p.add_argument(
        "--thin",
        type=_positive,
        default=None,
        help="keep every THIN-th draw of each chain (default: ceil(draws / min ESS) per replicate)",
    )
    p.add_argument("--seed", type=_seed, default=1, help="the study's seed (default 1)")
    p.add_argument(
        "--estimands",
        nargs="+",
        choices=list(SBC_ESTIMANDS),
        default=None,
        help="what is ranked (default: all; the derived ones where the model has them)",
    )
    _add_study_options(p)
    p.set_defaults(run=_sbc)

    p = sub.add_parser(
        "grid",
        help="fit several specs or seeds as parallel tasks, then compare them by LOO",
        description=GRID_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("specs", nargs="+", metavar="SPEC", help="model specs (TOML)")
    p.add_argument(
        "--seeds",
        type=_seed,
        nargs="+",
        default=None,
        help="fit every spec with each seed (default: each spec's own seed)",
    )
    p.add_argument(
        "--responses",
        choices=["auto", "all", "realisations"],
        default="auto",
        help="responses the LOO comparison is on (as `capmodel compare`)",
    )
    _add_study_options(p)
    p.set_defaults(run=_grid)
    _add_design_command(sub)


DESIGN_HELP = """Compare sampling plans for the 1/6/18-month follow-up survey by simulation
(docs/design.md). PLANS is a TOML file of [[plan]] tables (panel or repeated cross sections,
respondents per wave, attrition, oversampling; models/plans/followup.toml is an example).
Replicate r draws a population of --scenario (the same for every plan of the replicate); each
plan draws its survey from it, fits --spec by NUTS and scores its estimands (total effects of
each support and of the CEP, NIE, PN share, pathway-type shares, MRP margin and CEP effect, at
each wave the plan observes) against the simulator's truth. One dask task per plan and
replicate, on a LocalCluster of --workers processes or on the scheduler at --scheduler.

Writes into OUT: study.json (settings), tasks/rNNNNN-PLAN.json (one per plan and replicate, as
it arrives; a failure is recorded with its error), then design.csv (per plan and estimand: mean
90% interval width and its Monte Carlo se, P(interval excludes 0), coverage and its se, cost),
estimates.csv, tasks.csv, plans.csv, design.md (the tables in Markdown) and the page
design.html. --doc FILE also writes the tables into FILE's <!-- design:start --> ...
<!-- design:end --> block. Rerunning the same command resumes (--reps may grow).

Exit status: 0 every fit finished, 3 some fit failed or is missing, 1 an error, 130
interrupted (rerun to resume). Python: capmodel.design_study(plans, spec, reps=..., out=...).
"""

ESTIMAND_SETS = ("total_effects", "nie", "attribution", "pathways", "mrp")  # design_estimands
# capmodel.studies.replicate.ESTIMANDS (not imported: the CLI loads the studies lazily)
SBC_ESTIMANDS = ("parameters", "total_effects", "nie", "pn_share", "pathway_shares")


def _design_command(args: argparse.Namespace) -> str:
    """The command line of a design run, for the tables it writes."""
    import shlex

    parts = ["capmodel", "design", args.plans, "--spec", args.spec]
    parts += ["--scenario", args.scenario, "--reps", str(args.reps)]
    for flag, value in (
        ("--n-population", args.n_population),
        ("--seed", args.seed),
        ("--draws", args.draws),
        ("--tune", args.tune),
        ("--chains", args.chains),
        ("--sampler", args.sampler),
        ("--target-accept", args.target_accept),
        ("--effect-draws", args.effect_draws),
        ("--tau", args.tau),
        ("--weights", args.weights),
        ("--workers", args.workers),
    ):
        if value is not None:
            parts += [flag, str(value)]
    if args.estimands:
        parts += ["--estimands", *args.estimands]
    parts += ["--out", args.out]
    if args.doc:
        parts += ["--doc", args.doc]
    return shlex.join(parts)


def _design(args: argparse.Namespace) -> int:
    from pathlib import Path

    _study_common_checks(args, "design study")
    if not Path(args.spec).is_file():
        raise FileNotFoundError(f"model spec not found: {args.spec}")
    from capmodel.simulate.plans import check_plans, load_plans

    plans = load_plans(args.plans)  # the whole file checked before any work
    if args.n_population is not None:
        check_plans(plans, args.scenario, args.n_population)
    if args.doc is not None:
        from capmodel.studies.design import check_doc

        check_doc(args.doc)
    from capmodel.studies.design import design_study

    try:
        result = design_study(
            plans,
            args.spec,
            reps=args.reps,
            out=args.out,
            scenario=args.scenario,
            seed=args.seed if args.seed is not None else 1,
            n_population=args.n_population,
            effect_draws=args.effect_draws if args.effect_draws is not None else 200,
            tau=args.tau if args.tau is not None else 0.5,
            weights=args.weights or "survey",
            estimands=tuple(args.estimands or ESTIMAND_SETS),
            doc=args.doc,
            command=_design_command(args),
            **_study_run_options(args),
        )
    except KeyboardInterrupt:
        print(
            f"capmodel design: interrupted; the finished fits are saved in {args.out}; "
            "rerun the same command to resume",
            file=sys.stderr,
        )
        return 130
    from capmodel.studies.design_summary import wide

    s = result.summary
    print(
        f"{s.finished} of {len(s.tasks)} fits finished ({len(result.run.skipped)} from an "
        f"earlier run), {s.failed} failed"
    )
    for _, row in s.tasks[s.tasks["status"] == "failed"].iterrows():
        print(f"  failed: {row['plan']}, replicate {row['replicate']}: {row['error']}")
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_rows", 500):
        table = wide(s, "width")
        if len(table):
            print("\nmean width of the 90% intervals (± Monte Carlo se):")
            print(table.to_string(index=False))
    print(f"\ntables written to {result.out / 'design.csv'} and {result.out / 'design.md'}")
    print(f"page written to {result.page}")
    if args.doc:
        print(f"table written into {args.doc}")
    return 0 if s.complete else 3


def _add_design_command(sub) -> None:
    """The `design` subcommand (capmodel.studies.design)."""
    p = sub.add_parser(
        "design",
        help="compare survey sampling plans by simulation (many fits on dask)",
        description=DESIGN_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "plans", metavar="PLANS", help="plans file (TOML), e.g. models/plans/followup.toml"
    )
    p.add_argument("--spec", required=True, help="model spec (TOML), e.g. models/capability.toml")
    p.add_argument(
        "--scenario",
        default="cep2021",
        choices=SCENARIO_NAMES,
        help="simulated scenario the surveys are drawn from (default: cep2021)",
    )
    p.add_argument("--reps", type=_positive, required=True, help="replicates of each plan")
    p.add_argument("--seed", type=_seed, default=None, help="the study's seed (default 1)")
    p.add_argument(
        "--n-population",
        type=_positive,
        default=None,
        metavar="N",
        help="beneficiaries in each replicate's population (default: the published 197,074)",
    )
    p.add_argument(
        "--effect-draws",
        type=_positive,
        default=None,
        help="posterior draws the estimands are computed from (default 200)",
    )
    p.add_argument(
        "--tau",
        type=_positive_float,
        default=None,
        help="capability-gain threshold of the pathway types (default 0.5)",
    )
    p.add_argument(
        "--weights",
        choices=["survey", "none"],
        default=None,
        help="survey: effects weighted by the survey weights, the same population quantity "
        "for every plan (default); none: each sample as drawn",
    )
    p.add_argument(
        "--estimands",
        nargs="+",
        choices=ESTIMAND_SETS,
        default=None,
        help="estimand blocks (default: all)",
    )
    p.add_argument(
        "--doc",
        default=None,
        metavar="FILE",
        help="also write the tables into FILE's <!-- design:start/end --> block",
    )
    _add_study_options(p, data=False)
    p.set_defaults(run=_design)


def _positive_float(text: str) -> float:
    value = _float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {value:g}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected a seed in [0, {MAX_SEED}], got {value}")
    return value


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _target_accept(text: str) -> float:
    value = _float(text)
    if not 0.5 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0.5, 1), got {value:g}")
    return value


def _non_negative(text: str) -> float:
    value = _float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value:g}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `capmodel` command: errors are one line each on stderr (exit 1),
    never a traceback, for wrong inputs, unwritable outputs and missing optional packages."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except (FileExistsError, FileNotFoundError, ValueError) as exc:
        print(f"capmodel {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except ImportError as exc:  # an optional package an option needs
        name = getattr(exc, "name", None)
        what = (
            str(exc)
            if not isinstance(exc, ModuleNotFoundError) or not name
            else (f"the optional package {name!r} is not installed (pip install {name})")
        )
        print(f"capmodel {args.command}: error: {what}", file=sys.stderr)
        return 1
    except OSError as exc:  # permissions, full disk, a file where a directory is expected
        print(f"capmodel {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
