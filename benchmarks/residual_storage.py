"""Effect estimates with and without the per-person residual draws, and the fit's size on disk.

    python benchmarks/residual_storage.py [--seed 21] [--n-population 40000] [--draws 300]

Fits models/capability.toml once to the small simulated survey (cep2021, 40,000 beneficiaries
-> 1,298 respondents; 2 chains x 300 draws after 400 tuning steps, seed 5) keeping its residual
draws (``keep_residuals=True``: 200 of the 300 draws per chain, float32). Then, on the same
400 parameter draws (those with a residual draw), computes the total effects and the mediation
table twice: with each person's stored residual draw, and with the variable removed (each
person's residual integrated over its conditional posterior by adaptive Gauss-Hermite,
capmodel.effects.residuals). Prints both tables side by side, the largest absolute
differences of the means and of the interval bounds, also relative to the posterior sd of each
estimate (per quantity, and over all but the proportion mediated, a ratio nie / te with heavy
tails where te is near 0), the time each computation took, and the sizes on disk of the fit
saved with and without the residual draws.

The two are Monte Carlo estimates from two representations of the same posterior: they agree
within Monte Carlo error, not to 1e-8.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

import capmodel.effects as fx
from capmodel.fitting import fit
from capmodel.fitting.fit import Fit
from capmodel.simulate import simulate
from capmodel.spec import load_spec

STATS = ["mean", "sd", "lower", "upper", "prob_positive"]


def on_kept_draws(f: Fit) -> Fit:
    """``f`` restricted to the posterior draws that have a stored residual draw."""
    kept = f.residual_draws["draw"].values
    idata = f.idata.copy()
    idata["posterior"] = xr.DataTree(f.posterior.sel(draw=kept))
    return Fit(idata, f.spec, f.manifest)


def side_by_side(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``a`` (with residual draws) and ``b`` (integrated) joined on their keys."""
    keys = [c for c in a.columns if c not in STATS and c != "n_rows"]
    both = a.merge(b, on=keys, suffixes=("_draws", "_integrated"), validate="one_to_one")
    return both[
        keys
        + [f"{s}_{k}" for s in ("mean", "lower", "upper", "sd") for k in ("draws", "integrated")]
    ]


def differences(t: pd.DataFrame) -> dict[str, float]:
    """Largest absolute differences of means and interval bounds, and relative to the sd."""
    out = {}
    sd = t["sd_draws"].where(t["sd_draws"] > 0)
    for stat in ("mean", "lower", "upper"):
        d = (t[f"{stat}_draws"] - t[f"{stat}_integrated"]).abs()
        out[f"max |d {stat}|"] = float(np.nanmax(d))
        out[f"max |d {stat}| / sd"] = float(np.nanmax(d / sd))
    return out


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=21)
    p.add_argument("--n-population", type=int, default=40_000)
    p.add_argument("--draws", type=int, default=300)
    args = p.parse_args()
    spec = load_spec("models/capability.toml")
    sim = simulate("cep2021", seed=args.seed, n_population=args.n_population)
    t0 = time.perf_counter()
    f = fit(
        spec,
        sim.survey,
        draws=args.draws,
        tune=400,
        chains=2,
        seed=5,
        keep_residuals=True,
        progressbar=False,
        verbose=False,
    )
    print(
        f"fit: {time.perf_counter() - t0:.0f} s, {f.diagnostics.verdict.upper()}, "
        f"residuals {f.manifest['residuals']}"
    )
    kept = on_kept_draws(f)
    models = {
        "draws": fx.effect_model(kept),
        "integrated": fx.effect_model(kept.without_residual_draws()),
    }
    assert models["draws"].params.residual is not None
    assert models["integrated"].params.residual is None
    tables: dict[str, dict[str, pd.DataFrame]] = {}
    for how, em in models.items():
        t0 = time.perf_counter()
        tables[how] = {
            "total effects": fx.total_effects(em).table,
            "mediation": fx.mediation(em).table,
        }
        print(
            f"effects with residual {how}: {em.params.n_draws} draws, "
            f"{time.perf_counter() - t0:.1f} s ({em.residual_text})"
        )
    with pd.option_context(
        "display.width", 200, "display.max_rows", 500, "display.max_columns", 30
    ):
        for name in ("total effects", "mediation"):
            t = side_by_side(tables["draws"][name], tables["integrated"][name])
            t = t[t["by_variable"] == "all"].drop(columns=["by_variable", "by_level"])
            print(f"\n{name} ({len(t)} rows):")
            print(t.round(4).to_string(index=False))
            for quantity, rows in t.groupby("quantity", sort=False):
                d = differences(rows)
                print(f"  {quantity:>20}: " + ", ".join(f"{k} {v:.4f}" for k, v in d.items()))
            # nie / te: heavy-tailed where te is near 0, so its mean is left out of "all"
            d = differences(t[t["quantity"] != "proportion_mediated"])
            print(
                f"  {'all (not proportion)':>20}: "
                + ", ".join(f"{k} {v:.4f}" for k, v in d.items())
            )
    with tempfile.TemporaryDirectory() as tmp:
        sizes = {}
        for label, g in (
            ("with residual draws (200/chain, float32)", f),
            ("without residual draws (default)", f.without_residual_draws()),
        ):
            path = g.save(Path(tmp) / label.split(" ")[0])
            sizes[label] = (path / "fit.nc").stat().st_size / 2**20
    post = f.posterior
    full = post.sizes["chain"] * post.sizes["draw"] * f.manifest["data"]["n_persons"] * 8
    print("\nfit.nc sizes:")
    for label, mib in sizes.items():
        print(f"  {label}: {mib:.2f} MiB")
    print(f"  (every residual draw as float64 would add {full / 2**20:.2f} MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
