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
SCENARIO_NAMES = ("cep2021", "cep2021_regional")
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
--allow-unseen-groups (they then get effect 0, listed in the notes).

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
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
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
        help="poststratify, pathways: group levels of the population the fit never saw get "
        "effect 0 (default: an error naming them)",
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
