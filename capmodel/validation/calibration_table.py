"""Write the published-vs-simulated tables (and a scale measurement) into docs/data.md.

    python -m capmodel.validation.calibration_table --seeds 1 2 3 --write docs/data.md

The text between ``<!-- calibration:start -->`` and ``<!-- calibration:end -->`` is replaced.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

from capmodel.atomic import atomic_write_text
from capmodel.reference.published import contrast_table, margin_table
from capmodel.simulate import simulate

START, END = "<!-- calibration:start -->", "<!-- calibration:end -->"

_SCALE_SCRIPT = """
import json, resource, time
from capmodel.simulate import simulate
t = time.perf_counter()
sim = simulate("cep2021", seed=1, n_population={n})
elapsed = time.perf_counter() - t
print(json.dumps({{"seconds": elapsed, "rows": len(sim.population),
                  "max_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}}))
"""


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def tables(seeds: list[int]) -> str:
    """Markdown tables: every margin and contrast, published vs simulated for each seed."""
    sims = {s: simulate("cep2021", seed=s) for s in seeds}
    margins = {s: margin_table(sim.survey, sim.population) for s, sim in sims.items()}
    contrasts = {s: contrast_table(sim.survey) for s, sim in sims.items()}
    seed_cols = " | ".join(f"seed {s}" for s in seeds)
    out = [
        f"Weighted survey shares (%), published vs simulated, seeds {seeds}.",
        "",
        f"| table | item | published | {seed_cols} | max gap (points) |",
        "|---|---|---|" + "---|" * len(seeds) + "---|",
    ]
    first = margins[seeds[0]]
    for i, row in first.iterrows():
        vals = [margins[s].loc[i, "weighted"] for s in seeds]
        gap = max(abs(v - row["published"]) for v in vals)
        out.append(
            f"| {row['table']} | {row['item']} | {_pct(row['published'])} | "
            + " | ".join(_pct(v) for v in vals)
            + f" | {100 * gap:.1f} |"
        )
    out += [
        "",
        "Published subgroup contrasts (weighted %, high group vs low group):",
        "",
        f"| table | contrast | published | {seed_cols} | same direction |",
        "|---|---|---|" + "---|" * len(seeds) + "---|",
    ]
    c0 = contrasts[seeds[0]]
    for i, row in c0.iterrows():
        vals = [contrasts[s].loc[i] for s in seeds]
        ok = all(v["same_direction"] for v in vals)
        out.append(
            f"| {row['table']} | {row['item']} | {_pct(row['published_high'])} vs "
            f"{_pct(row['published_low'])} | "
            + " | ".join(f"{_pct(v['simulated_high'])} vs {_pct(v['simulated_low'])}" for v in vals)
            + f" | {'yes' if ok else 'NO'} |"
        )
    out += ["", "Quota weights (mean 1; published range 0.13 to 8.9):", ""]
    for s, sim in sims.items():
        w = sim.survey["weight"].to_numpy()
        out.append(
            f"- seed {s}: min {w.min():.2f}, max {w.max():.2f}, "
            f"Kish design effect {np.mean(w**2) / np.mean(w) ** 2:.2f}"
        )
    return "\n".join(out)


def scale(n: int) -> str:
    """Time and peak memory of simulating ``n`` beneficiaries in a fresh process."""
    res = subprocess.run(
        [sys.executable, "-c", _SCALE_SCRIPT.format(n=n)],
        capture_output=True,
        text=True,
        check=True,
    )
    r = json.loads(res.stdout.strip().splitlines()[-1])
    return (
        f"Scale: simulating {r['rows']:,} beneficiaries (with the once-per-process "
        f"calibration of the intercepts) took {r['seconds']:.1f} s and peaked at "
        f"{r['max_rss_gib']:.2f} GiB of memory on {platform.machine()} "
        f"({_cores()} cores), Python {platform.python_version()}."
    )


def _cores() -> int:
    import os

    return os.cpu_count() or 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--scale", type=int, default=2_000_000, help="population size to time")
    p.add_argument("--write", type=Path, help="markdown file with the calibration markers")
    args = p.parse_args(argv)
    command = (
        "python -m capmodel.validation.calibration_table --seeds "
        + " ".join(map(str, args.seeds))
        + (f" --write {args.write}" if args.write else "")
    )
    body = "\n".join(
        [
            f"Produced by `{command}` (or `make calibration-table`).",
            "",
            tables(args.seeds),
            "",
            scale(args.scale),
        ]
    )
    if args.write is None:
        print(body)
        return 0
    text = args.write.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{args.write} has no {START} ... {END} markers")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    atomic_write_text(args.write, f"{head}{START}\n{body}\n{END}{tail}")
    print(f"updated {args.write}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
