"""How large does the maximum R-hat of a fit get from Monte Carlo noise alone?

Simulates chains that have converged by construction (stationary AR(1) draws, 2 chains, as the
reference fit runs) for P parameters at a given ESS per parameter, and reports the median of the
maximum rank-normalised split R-hat (ArviZ's, as capmodel's verdict computes it) over P and the
share of repetitions where it exceeds 1.01. Used in docs/benchmarks.md to read the verdicts of
the reference fit (about 370 structural parameters, plus 6,396 person residuals).

    python benchmarks/rhat_noise.py                      # the table of docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import platform

import arviz as az
import numpy as np
import xarray as xr


def max_rhat(rng: np.random.Generator, chains: int, draws: int, params: int, rho: float) -> tuple:
    e = rng.standard_normal((chains, draws, params))
    x = np.empty_like(e)
    x[:, 0] = e[:, 0]
    scale = np.sqrt(1 - rho**2)
    for t in range(1, draws):
        x[:, t] = rho * x[:, t - 1] + scale * e[:, t]
    ds = xr.Dataset({"p": (("chain", "draw", "k"), x)})
    return float(az.rhat(ds)["p"].values.max()), float(np.median(az.ess(ds)["p"].values))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--chains", type=int, default=2)
    p.add_argument("--draws", type=int, default=1500)
    p.add_argument("--params", type=int, nargs="+", default=[370, 6800])
    p.add_argument("--rho", type=float, nargs="+", default=[0.2, 0.5, 0.65])
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    rng = np.random.default_rng(args.seed)
    print(
        f"Command: `python benchmarks/rhat_noise.py --draws {args.draws} --repeat {args.repeat}`"
        f" ({platform.machine()}, Python {platform.python_version()}, ArviZ {az.__version__}); "
        f"{args.chains} chains x {args.draws} draws, converged by construction.\n"
    )
    print("| parameters | ESS per parameter (median) | median max R-hat | P(max R-hat > 1.01) |")
    print("|---|---|---|---|")
    for n in args.params:
        for rho in args.rho:
            runs = [max_rhat(rng, args.chains, args.draws, n, rho) for _ in range(args.repeat)]
            mx = np.array([r[0] for r in runs])
            ess = np.median([r[1] for r in runs])
            print(
                f"| {n:,} | {ess:.0f} | {np.median(mx):.4f} | {(mx > 1.01).mean():.2f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
