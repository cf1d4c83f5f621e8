"""float32 against float64: the reference fit sampled by numpyro in both precisions.

    python benchmarks/float32_check.py --seeds 1 2 3 --fits /tmp/f32-fits \
        --write docs/benchmarks.md

For each seed: the cep2021 survey (n = 6,396), ``models/capability.toml`` at its defaults,
fitted once with ``sampling.precision = "float64"`` and once with ``"float32"`` (same data,
same sampler seed; fits saved under ``FITS/<precision>/seed<N>`` and reused when they match).
Reported per seed and precision: compile and sampling seconds, gradients per draw, min bulk /
tail ESS, max R-hat, divergences; for float32, the Hamiltonian's rounding error (each draw's
potential energy in float32 minus the same point's in float64: its sd over draws and the
largest change between consecutive draws); and the agreement of the two posteriors over every
non-person parameter: the difference of posterior means in units of its Monte Carlo standard
error (sqrt(mcse32^2 + mcse64^2); about N(0, 1) where the two samplers target the same
posterior) and the ratio of posterior sds. ``--baseline SEEDS`` also fits float64 again with
another sampler seed (seed + 1000) and reports the same agreement between the two float64 fits:
what Monte Carlo error alone gives. ``--write`` replaces the block between
``<!-- float32:start -->`` and ``<!-- float32:end -->``.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import arviz as az
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from study_fits import replace_block, study_fit  # noqa: E402

from capmodel.spec import load_spec, spec_with  # noqa: E402

PRECISIONS = ("float64", "float32")


def _non_person(post) -> list[str]:
    return [v for v in post.data_vars if "person" not in post[v].dims and v != "capability"]


def agreement(f64, f32) -> dict:
    """Mean differences in MCSE units and sd ratios over the non-person parameters."""
    p64, p32 = f64.idata["posterior"].dataset, f32.idata["posterior"].dataset
    names = [v for v in _non_person(p64) if v in p32]
    s64 = az.summary(p64[names], round_to="none")
    s32 = az.summary(p32[names], round_to="none")
    z = (s32["mean"] - s64["mean"]) / np.sqrt(s32["mcse_mean"] ** 2 + s64["mcse_mean"] ** 2)
    ratio = s32["sd"] / s64["sd"]
    return {
        "parameters": len(z),
        "abs_z_median": float(np.median(np.abs(z))),
        "share_abs_z_gt_3": float(np.mean(np.abs(z) > 3)),
        "abs_z_max": float(np.max(np.abs(z))),
        "worst": str(np.abs(z).idxmax()),
        "sd_ratio_range": (float(ratio.min()), float(ratio.max())),
    }


def row(seed: int, precision: str, sf) -> dict:
    m = sf.fit.manifest
    d, t = m["diagnostics"], m["timings"]
    stats = sf.fit.idata["sample_stats"].dataset
    out = {
        "seed": seed,
        "precision": precision,
        "compile_s": t["compile_seconds"],
        "sampling_s": t["sampling_seconds"],
        "gradients_per_draw": float(stats["n_steps"].mean()),
        "min_ess_bulk": d["min_ess_bulk"],
        "min_ess_tail": d["min_ess_tail"],
        "max_rhat": d["max_rhat"],
        "max_rhat_others": d.get("max_rhat_others"),
        "divergences": d["divergences"],
        "verdict": d["verdict"],
        "step_size": float(stats["step_size"].mean()),
        "reused": sf.reused,
    }
    if "float32_energy_error" in stats:
        e = stats["float32_energy_error"].values
        out["energy_error_sd"] = float(e.std(axis=1).max())
        out["energy_error_max_step"] = float(np.abs(np.diff(e, axis=1)).max())
    return out


def markdown(rows: list[dict], agree: list[dict], command: str) -> str:
    import capmodel

    versions = {}
    for mod in ("jax", "numpyro", "pymc", "pytensor"):
        versions[mod] = __import__(mod).__version__
    lines = [
        f"Command: `{command}`. Machine: {platform.machine()}, {_cores()} cores, Python "
        f"{platform.python_version()}, capmodel {capmodel.__version__}, "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + ". One fit per seed and precision, in one process, float64 first.",
        "",
        "| seed | precision | compile s | sampling s | gradients per draw | step size | "
        "min bulk ESS | min tail ESS | max R-hat (non-person) | divergences | verdict | "
        "energy error sd | largest change between draws |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['seed']} | {r['precision']} | {r['compile_s']:.0f} | {r['sampling_s']:.0f} | "
            f"{r['gradients_per_draw']:.0f} | {r['step_size']:.3f} | {r['min_ess_bulk']:.0f} | "
            f"{r['min_ess_tail']:.0f} | {r['max_rhat']:.4f} ({r['max_rhat_others']:.4f}) | "
            f"{r['divergences']} | {r['verdict']} | "
            + (
                f"{r['energy_error_sd']:.2e} | {r['energy_error_max_step']:.2e} |"
                if "energy_error_sd" in r
                else "- | - |"
            )
        )
    lines += [
        "",
        "Agreement of the two posteriors (non-person parameters; z = difference of means / "
        "sqrt(mcse32^2 + mcse64^2)):",
        "",
        "| seed | parameters | median abs z | share abs z > 3 | max abs z (where) | sd ratio "
        "float32 / float64 |",
        "|---|---:|---:|---:|---|---|",
    ]
    for a in agree:
        lo, hi = a["sd_ratio_range"]
        lines.append(
            f"| {a['seed']} | {a['parameters']} | {a['abs_z_median']:.2f} | "
            f"{a['share_abs_z_gt_3']:.3f} | {a['abs_z_max']:.1f} "
            f"(`{a['worst'].replace('|', '\\|')}`) | "
            f"{lo:.2f}-{hi:.2f} |"
        )
    return "\n".join(lines)


def _cores() -> int:
    import os

    return os.cpu_count() or 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", nargs="+", type=int, default=[1])
    p.add_argument("--fits", type=Path, required=True, help="where the fits are saved")
    p.add_argument("--write", type=Path, help="markdown file with a float32 block")
    p.add_argument(
        "--baseline",
        nargs="*",
        type=int,
        default=[],
        help="seeds also fitted in float64 with sampler seed + 1000 (Monte Carlo baseline)",
    )
    args = p.parse_args()
    base = load_spec("models/capability.toml")
    rows, agree = [], []
    for seed in args.seeds:
        fits = {}
        for precision in PRECISIONS:
            spec = spec_with(base, {"sampling.precision": precision})
            sf = study_fit(
                spec,
                seed,
                n_population=None,
                draws=None,
                tune=None,
                fits_dir=args.fits / precision,
            )
            fits[precision] = sf.fit
            rows.append(row(seed, precision, sf))
            print(rows[-1], flush=True)
        agree.append({"seed": seed, **agreement(fits["float64"], fits["float32"])})
        print(agree[-1], flush=True)
        if seed in args.baseline:
            spec = spec_with(base, {"sampling.precision": "float64"})
            other = study_fit(
                spec,
                seed,
                n_population=None,
                draws=None,
                tune=None,
                fits_dir=args.fits / "float64-other",
                sampler_seed=seed + 1000,
            )
            rows.append(row(seed, "float64 (seed + 1000)", other))
            agree.append(
                {
                    "seed": f"{seed}: float64 against float64 (seed + 1000)",
                    **agreement(fits["float64"], other.fit),
                }
            )
            print(agree[-1], flush=True)
    command = "python benchmarks/float32_check.py --seeds " + " ".join(map(str, args.seeds))
    if args.baseline:
        command += " --baseline " + " ".join(map(str, args.baseline))
    text = markdown(rows, agree, command + " --fits DIR --write docs/benchmarks.md")
    print(text)
    if args.write:
        replace_block(args.write, "float32", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
