"""Which mode of the reference fit sets its R-hat: the person residuals, one by one, or their
collective scale? Fits models/capability.toml to a simulated cep2021 survey keeping every
residual draw, then prints, with ArviZ's diagnostics: the bulk and folded ESS and R-hat of the
residuals (quantiles), those of their mean square (the capability scale, moved by all
residuals together), of the log density and the energy, and of the loadings, with the
correlation of each with that scale.

    python benchmarks/residual_modes.py --seed 1 [--set sampling.draws=3000]

Results: docs/benchmarks.md, "Where the R-hat of the person residuals comes from".
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import xarray as xr

DIMS = ["chain", "draw"]


def _diag(da: xr.DataArray, what: str, method: str) -> np.ndarray:
    ds = xr.Dataset({"x": da})
    acc = ds.azstats
    out = (
        acc.ess(sample_dims=DIMS, method=method)
        if what == "ess"
        else acc.rhat(sample_dims=DIMS, method=method)
    )
    return np.atleast_1d(out["x"].to_numpy())


def _value(text: str) -> object:
    """A ``--set`` value as JSON (numbers, booleans), else the bare string, as
    divergence_location.py reads its ``--set``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main() -> None:
    import arviz_stats  # noqa: F401  (the azstats accessor)

    import capmodel
    from capmodel.simulate.dataset import simulate

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--set", action="append", default=[], metavar="sampling.KEY=VALUE")
    args = ap.parse_args()
    settings = {}
    for item in args.set:
        key, value = item.split("=", 1)
        if not key.startswith("sampling."):
            raise SystemExit(f"--set takes sampling.KEY=VALUE, got {item!r}")
        settings[key.removeprefix("sampling.")] = _value(value)
    sim = simulate("cep2021", seed=args.seed)
    f = capmodel.fit(
        Path(__file__).resolve().parents[1] / "models" / "capability.toml",
        sim.survey,
        keep_residuals=10**9,
        progressbar=False,
        **settings,
    )
    z = f.idata["residual_draws"].to_dataset()["capability_residual"].astype("float64")
    scale = (z**2).mean("person")
    q = [0.0, 0.05, 0.5, 0.95, 1.0]
    rows = [
        ("residuals: bulk ESS", np.quantile(_diag(z, "ess", "bulk"), q)),
        ("residuals: folded ESS", np.quantile(_diag(z, "ess", "folded"), q)),
        ("residuals: bulk R-hat (split)", np.quantile(_diag(z, "rhat", "split"), q)),
        ("residuals: folded R-hat", np.quantile(_diag(z, "rhat", "folded"), q)),
        ("residuals: rank R-hat (the verdict's)", np.quantile(_diag(z, "rhat", "rank"), q)),
    ]
    print(f"seed {args.seed}, {z.sizes['chain']} chains x {z.sizes['draw']} draws")
    print("quantiles 0, 5, 50, 95, 100%:")
    for name, v in rows:
        print(f"  {name}: " + ", ".join(f"{x:.4g}" for x in v))
    print(
        f"  mean square of the residuals (capability scale): bulk ESS "
        f"{_diag(scale, 'ess', 'bulk')[0]:.0f}, R-hat {_diag(scale, 'rhat', 'rank')[0]:.4f}"
    )
    # HMC moves the log density (and the energy) by about one sd of its own per draw in high
    # dimension (E-BFMI): a quadratic form of all residuals follows it
    stats = f.idata["sample_stats"].to_dataset()
    for name in ("lp", "energy"):
        if name in stats:
            v = stats[name].astype("float64")
            r = np.corrcoef(v.to_numpy().ravel(), scale.to_numpy().ravel())[0, 1]
            print(
                f"  sample_stats.{name}: bulk ESS {_diag(v, 'ess', 'bulk')[0]:.0f}, "
                f"correlation with the scale {r:.2f}"
            )
    loading = f.posterior["loading"]
    for ind in loading["indicator"].to_numpy():
        x = loading.sel(indicator=ind)
        r = np.corrcoef(x.to_numpy().ravel(), scale.to_numpy().ravel())[0, 1]
        print(
            f"  loading[{ind}]: bulk ESS {_diag(x, 'ess', 'bulk')[0]:.0f}, "
            f"correlation with the scale {r:.2f}"
        )
    steps = stats.get("n_steps", stats.get("tree_size"))
    if steps is not None:
        print(f"  gradients per draw (mean n_steps): {float(steps.mean()):.1f}")
    if "step_size" in stats:
        print(f"  step size (median): {float(stats['step_size'].median()):.4f}")
    print(f"  timings: {f.manifest['timings']}")
    print(f.diagnostics.text())


if __name__ == "__main__":
    main()
