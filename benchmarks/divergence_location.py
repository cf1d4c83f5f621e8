"""Where a fit's divergent transitions are: the group sds at each divergent draw.

    python benchmarks/divergence_location.py --seed 5 --draws 3000 \
        --set groups.parameterisation='{"operator": "centred"}' \
        --set priors.group_sd='{"dist": "gamma", "alpha": 2.0, "beta": 5.0}'

Simulates ``--scenario`` (default cep2021) with ``--seed``, fits ``--spec`` (default
models/capability.toml) with the ``--set SECTION.KEY=JSON`` changes (validated like a spec
file, before any simulation), and prints, for every divergent draw, its chain and draw index
and the value of each group sd (``*_sd`` variables), then each sd's posterior median and
1% / 99% quantiles for comparison, the five elements furthest from their posterior median (in
posterior sds) at each divergent draw, and the fit's gradients per draw, step size, sampling
time and verdict (docs/benchmarks.md, "Issue 11: the lognormal sd prior", "target_accept
0.85").
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from capmodel.fitting import fit
from capmodel.simulate import simulate
from capmodel.simulate.scenarios import SCENARIOS
from capmodel.spec import SpecError, load_spec, spec_with


def _change(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--set {text!r}: expected SECTION.KEY=JSON")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value  # a bare string, e.g. groups.parameterisation=centred


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spec", default="models/capability.toml")
    ap.add_argument("--scenario", default="cep2021", choices=sorted(SCENARIOS))
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--draws", type=int, default=None, help="default: the spec's")
    ap.add_argument("--tune", type=int, default=None, help="default: the spec's")
    ap.add_argument("--n-population", type=int, default=None, help="default: full (197,074)")
    ap.add_argument("--set", type=_change, action="append", default=[], dest="changes")
    args = ap.parse_args(argv)
    try:  # the spec and its changes are checked before the simulation and the fit
        spec = spec_with(load_spec(args.spec), dict(args.changes))
    except SpecError as exc:
        ap.error(str(exc))
    sim = simulate(args.scenario, seed=args.seed, n_population=args.n_population)
    f = fit(spec, sim.survey, draws=args.draws, tune=args.tune, seed=args.seed)
    post = f.idata["posterior"].dataset
    div = f.idata["sample_stats"].dataset["diverging"].values.astype(bool)
    sds = sorted(str(v) for v in post.data_vars if str(v).endswith("_sd") and post[v].ndim == 2)
    print(f"{int(div.sum())} divergent transitions of {div.size}")
    print("| chain | draw | " + " | ".join(sds) + " |")
    print("|---|---:|" + "---:|" * len(sds))
    for chain, draw in zip(*np.nonzero(div), strict=True):
        values = " | ".join(f"{float(post[v].values[chain, draw]):.3f}" for v in sds)
        print(f"| {chain} | {draw} | {values} |")
    for v in sds:
        q01, q50, q99 = np.quantile(post[v].values, [0.01, 0.5, 0.99])
        print(f"{v}: median {q50:.3f}, 1% {q01:.3f}, 99% {q99:.3f}")
    _furthest(post, div)
    stats = f.idata["sample_stats"].dataset
    print(
        f"gradients per draw {float(stats['n_steps'].mean()):.1f}, "
        f"step size {float(stats['step_size'].median()):.4f}, "
        f"sampling {f.manifest['timings']['sampling_seconds']:.0f} s"
    )
    print(f.diagnostics.text())
    return 0


def _furthest(post, div: np.ndarray, top: int = 5) -> None:
    """The ``top`` elements furthest from their posterior median, in posterior sds, at each
    divergent draw (every variable of the posterior, flattened; the person residuals are in it
    only where the fit kept them, which it does not by default)."""
    if not div.any():
        return
    names, values = [], []
    for v, da in post.data_vars.items():
        x = da.values.reshape(da.shape[0], da.shape[1], -1)
        labels = [f"{v}[{i}]" for i in range(x.shape[2])] if x.shape[2] > 1 else [str(v)]
        names += labels
        values.append(x)
    allx = np.concatenate(values, axis=2)  # chain, draw, element
    flat = allx.reshape(-1, allx.shape[2])
    med, sd = np.median(flat, axis=0), flat.std(axis=0) + 1e-12
    for chain, draw in zip(*np.nonzero(div), strict=True):
        z = (allx[chain, draw] - med) / sd
        order = np.argsort(-np.abs(z))[:top]
        print(f"chain {chain} draw {draw}: " + ", ".join(f"{names[i]} {z[i]:+.1f}" for i in order))


if __name__ == "__main__":
    sys.exit(main())
