"""The reference fit (models/capability.toml on the cep2021 survey, n = 6,396), timed.

    python benchmarks/reference_fit.py --samplers nutpie numpyro --seeds 1 2 3 4 5 \
        --repeat 3 --cold --out docs/bench_reference.md

Each run is a fresh Python process, as a user's ``capmodel fit`` is: its wall time counts
everything from the data to the saved fit (simulate excluded). ``--cold`` gives every run
empty compile caches (PyTensor/numba and JAX), as on a fresh install; without it the caches
are shared and warm after the first run. ``--set SECTION.KEY=VALUE`` changes the spec (e.g.
``--set groups.parameterisation=noncentred``). Prints one JSON line per run, then a markdown
table of medians per sampler and seed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

RUN = r"""
import json, resource, sys, time, tempfile, pathlib
t_start = time.perf_counter()
from capmodel.simulate import simulate
from capmodel.spec import load_spec, spec_with
from capmodel.fitting import fit
sampler, seed, n_survey = sys.argv[1], int(sys.argv[2]), sys.argv[4]
changes = json.loads(sys.argv[3])
spec = spec_with(load_spec("models/capability.toml"), changes)
sim = simulate("cep2021", seed=seed, **({"n_survey": int(n_survey)} if n_survey else {}))
survey = sim.survey
t0 = time.perf_counter()
f = fit(spec, survey, sampler=sampler, progressbar=False, verbose=False)
with tempfile.TemporaryDirectory() as tmp:
    path = f.save(pathlib.Path(tmp) / "fit")
    size = sum(p.stat().st_size for p in pathlib.Path(path).rglob("*") if p.is_file())
wall = time.perf_counter() - t0
d = f.manifest["diagnostics"]; t = f.manifest["timings"]; s = f.manifest["settings"]
stats = f.idata["sample_stats"].dataset
steps = next((stats[k] for k in ("n_steps", "tree_size") if k in stats), None)
gradients = float(steps.sum()) if steps is not None else None
print(json.dumps({
    "sampler": sampler, "seed": seed, "changes": changes,
    "persons": f.manifest["data"]["n_persons"],
    "draws": s["draws"], "tune": s["tune"], "chains": s["chains"],
    "parameterisation": f.manifest["parameterisation"],
    "compile_s": t["compile_seconds"], "sampling_s": t["sampling_seconds"], "wall_s": wall,
    "max_rhat": d["max_rhat"], "min_ess_bulk": d["min_ess_bulk"], "min_ess_tail": d["min_ess_tail"],
    "divergences": d["divergences"], "verdict": d["verdict"], "worst": d["worst_ess"][:3],
    "gradients": gradients,
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "fit_mib": size / 2**20}))
"""


def run_one(sampler: str, seed: int, changes: dict, cold: bool, n_survey: int | None) -> dict:
    env = dict(os.environ)
    if cold:
        env["PYTENSOR_FLAGS"] = f"compiledir={tempfile.mkdtemp(prefix='capmodel-bench-pt-')}"
        env["CAPMODEL_CACHE_DIR"] = tempfile.mkdtemp(prefix="capmodel-bench-jax-")
        env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="capmodel-bench-numba-")
    res = subprocess.run(
        [sys.executable, "-c", RUN, sampler, str(seed), json.dumps(changes), str(n_survey or "")],
        capture_output=True,
        text=True,
        env=env,
    )
    if res.returncode != 0:
        raise RuntimeError(f"{sampler} seed {seed} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def table(rows: list[dict]) -> str:
    """Medians over repeats, one line per sampler and seed."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["sampler"], json.dumps(r["changes"]), r["seed"]), []).append(r)
    lines = [
        "| sampler | changes | seed | runs | compile s | sampling s | wall s | min bulk ESS "
        "| min tail ESS | bulk ESS/s | ESS per 1k gradients | max R-hat | divergences "
        "| peak RSS MiB | fit MiB | verdicts |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def med(rs: list[dict], key: str) -> float:
        values = [r[key] for r in rs if r.get(key) is not None]
        return statistics.median(values) if values else float("nan")

    for (sampler, changes, seed), rs in groups.items():
        per_grad = [1000 * r["min_ess_bulk"] / r["gradients"] for r in rs if r["gradients"]]
        lines.append(
            f"| {sampler} | {changes if changes != '{}' else '-'} | {seed} | {len(rs)} "
            f"| {med(rs, 'compile_s'):.0f} | {med(rs, 'sampling_s'):.0f} "
            f"| {med(rs, 'wall_s'):.0f} | {med(rs, 'min_ess_bulk'):.0f} "
            f"| {med(rs, 'min_ess_tail'):.0f} "
            f"| {statistics.median(r['min_ess_bulk'] / r['wall_s'] for r in rs):.2f} "
            f"| {statistics.median(per_grad) if per_grad else float('nan'):.2f} "
            f"| {med(rs, 'max_rhat'):.3f} | {med(rs, 'divergences'):.0f} "
            f"| {med(rs, 'peak_rss_mib'):.0f} | {med(rs, 'fit_mib'):.0f} "
            f"| {', '.join(r['verdict'] for r in rs)} |"
        )
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--samplers", nargs="+", default=["numpyro", "nutpie"])
    p.add_argument("--seeds", nargs="+", type=int, default=[1])
    p.add_argument("--repeat", type=int, default=1, help="runs per sampler and seed")
    p.add_argument("--cold", action="store_true", help="empty compile caches for every run")
    p.add_argument("--n-survey", type=int, help="survey size (default: the scenario's)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="change the spec (values parsed as JSON, else as text)",
    )
    p.add_argument("--out", type=Path, help="write the markdown table there")
    args = p.parse_args()
    changes = {}
    for item in args.set:
        key, _, value = item.partition("=")
        try:
            changes[key] = json.loads(value)
        except json.JSONDecodeError:
            changes[key] = value
    rows = []
    for seed in args.seeds:
        for sampler in args.samplers:
            for _ in range(args.repeat):
                row = run_one(sampler, seed, changes, args.cold, args.n_survey)
                print(json.dumps(row), flush=True)
                rows.append(row)
    header = (
        f"Command: `python benchmarks/reference_fit.py {' '.join(sys.argv[1:])}`; "
        f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}.\n"
    )
    text = header + "\n" + table(rows)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
