"""The `capmodel` command line; each command mirrors a Python function."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

DESCRIPTION = """capmodel: Bayesian capability-approach models for evaluating career guidance (CEP).

Commands:
  simulate      simulate a CEP data set with known truth
  fit           fit a model spec (TOML) to data by NUTS and save the fit
  prior-check   prior predictive check of a model spec on data (no fit)

Run `capmodel COMMAND --help` for the options of a command."""

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


def _simulate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from capmodel.data import load_data
    from capmodel.simulate import simulate
    from capmodel.simulate.summary import summarise

    t0 = time.perf_counter()
    sim = simulate(args.scenario, seed=args.seed, n_population=args.n, n_survey=args.n_survey,
                   waves=tuple(args.waves))
    out = sim.write(args.out, overwrite=args.overwrite)
    print(summarise(sim))
    data = load_data(Path(out) / "survey.parquet", sim.schema)
    ds = data.dataset
    print(f"\nsurvey.parquet validates against schema.json: {ds.attrs['n_rows']:,} rows, "
          f"{ds.attrs['n_persons']:,} persons, data hash {ds.attrs['data_hash'][:12]}")
    print(f"written to {out} in {time.perf_counter() - t0:.1f} s")
    return 0


FIT_HELP = """Fit a capability-approach model (a TOML spec, see docs/models.md) to data by NUTS.

Reads the data (CSV or Parquet), validates it against the spec's schema, builds the PyMC
model, samples, prints a convergence summary and saves the fit to OUT (netCDF + manifest.json,
written atomically; refused if OUT exists unless --overwrite). Options left out take the
spec's [sampling] values. Python: capmodel.fit(spec, data, ...).save(out).
"""


def _fit(args: argparse.Namespace) -> int:
    from capmodel.fitting import fit

    f = fit(args.spec, args.data, draws=args.draws, tune=args.tune, chains=args.chains,
            seed=args.seed, sampler=args.sampler, target_accept=args.target_accept,
            progressbar=not args.no_progress)
    path = f.save(args.out, overwrite=args.overwrite)
    print(f"saved to {path}")
    return 0 if f.diagnostics.verdict != "fail" else 3


def _prior_check(args: argparse.Namespace) -> int:
    import pandas as pd

    from capmodel.data import load_data
    from capmodel.fitting.prior_check import prior_check
    from capmodel.spec import load_spec

    spec = load_spec(args.spec)
    table = prior_check(spec, load_data(args.data, spec.schema), draws=args.draws, seed=args.seed)
    with pd.option_context("display.width", 120, "display.max_rows", 500):
        print(table.round(3).to_string(index=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="capmodel", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("simulate", help="simulate a CEP data set with known truth",
                       description=SIMULATE_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenario", default="cep2021", choices=["cep2021"],
                   help="calibrated scenario (default: cep2021, the 2021-22 CEP for "
                        "employed workers)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    p.add_argument("--out", required=True, help="output directory (must not exist)")
    p.add_argument("--n", type=_positive, default=None, metavar="N",
                   help="population size (default: the published 197,074)")
    p.add_argument("--n-survey", type=_positive, default=None, metavar="N",
                   help="number of survey respondents (default: 6,396, or the same 3.2%% "
                        "response rate when --n is given)")
    p.add_argument("--waves", type=int, nargs="+", default=[6], choices=[1, 6, 18],
                   metavar="MONTHS", help="months since exit at which respondents answer "
                                          "(default: 6; e.g. --waves 1 6 18 for a panel)")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.set_defaults(run=_simulate)

    p = sub.add_parser("fit", help="fit a model spec to data by NUTS", description=FIT_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("spec", help="model spec (TOML), e.g. models/capability.toml")
    p.add_argument("--data", required=True, help="data file (.csv, .csv.gz, .parquet)")
    p.add_argument("--out", required=True, help="fit directory to write, e.g. fits/NAME")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the spec's)")
    p.add_argument("--draws", type=_positive, default=None, help="draws per chain")
    p.add_argument("--tune", type=_positive, default=None, help="tuning steps per chain")
    p.add_argument("--chains", type=_positive, default=None, help="number of chains")
    p.add_argument("--sampler", choices=["nutpie", "pymc", "numpyro"], default=None,
                   help="NUTS implementation (default: the spec's, normally nutpie)")
    p.add_argument("--target-accept", type=float, default=None, help="NUTS target acceptance")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=_fit)

    p = sub.add_parser("prior-check", help="prior predictive check of a spec on data",
                       description="Shares of every response level implied by the priors "
                                   "(5%%, 50%%, 95%% quantiles) next to the observed shares.")
    p.add_argument("spec", help="model spec (TOML)")
    p.add_argument("--data", required=True, help="data file (.csv, .parquet)")
    p.add_argument("--draws", type=_positive, default=500, help="prior draws (default 500)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.set_defaults(run=_prior_check)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `capmodel` command."""
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


if __name__ == "__main__":
    raise SystemExit(main())
