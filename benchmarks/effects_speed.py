"""Time `capmodel effects` and `capmodel report` on a saved fit, for several source trees.

Each tree (a checkout of capmodel, e.g. a git worktree of the previous version and this one)
runs the same commands in a fresh process, in alternating order, ``--repeat`` times with the
compile caches it has built (warm, what a user sees after the first call), and once with empty
caches (cold: every compiled function built anew). Medians are reported side by side.

    git worktree add /tmp/before <commit>
    cd benchmarks && ../.venv/bin/python effects_speed.py --fit ../fits/demo/capability \
        --tree before=/tmp/before --tree after=.. --repeat 3 --write ../docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from study_fits import replace_block

COMMANDS = {
    "effects --draws 500": ["effects", "{fit}", "--draws", "500"],
    "effects --estimand mediation --draws 200": [
        "effects",
        "{fit}",
        "--estimand",
        "mediation",
        "--draws",
        "200",
    ],
    "report": ["report", "{fit}", "--out", "{tmp}/report.html"],
}


def run(tree: Path, args: list[str], env: dict[str, str]) -> float:
    """Wall seconds of ``python -m capmodel ARGS`` with ``tree`` first on the path."""
    with tempfile.TemporaryDirectory() as tmp:
        argv = [a.format(tmp=tmp) for a in args]
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "capmodel", *argv],
            cwd=tree,
            env={**env, "PYTHONPATH": str(tree)},
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--fit", required=True, type=Path, help="a saved fit directory")
    ap.add_argument("--tree", action="append", required=True, help="NAME=PATH of a source tree")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--write", type=Path, help="replace the block in this markdown file")
    args = ap.parse_args()
    trees = {}
    for item in args.tree:
        name, _, path = item.partition("=")
        trees[name] = Path(path).resolve()
    fit = str(args.fit.resolve())
    warm: dict[tuple[str, str], list[float]] = {}
    cold: dict[tuple[str, str], float] = {}
    env = dict(os.environ)
    for label, cmd in COMMANDS.items():
        argv = [a.format(fit=fit, tmp="{tmp}") for a in cmd]
        for name, tree in trees.items():  # cold: empty compile caches
            with tempfile.TemporaryDirectory() as cache:
                cold_env = {
                    **env,
                    "PYTENSOR_FLAGS": f"base_compiledir={cache}",
                    "NUMBA_CACHE_DIR": cache,
                    "CAPMODEL_CACHE_DIR": cache,  # JAX's persistent compilation cache
                }
                cold[(label, name)] = run(tree, argv, cold_env)
            run(tree, argv, env)  # fill the user's caches
        for i in range(args.repeat):
            order = list(trees.items())
            if i % 2:
                order.reverse()
            for name, tree in order:
                warm.setdefault((label, name), []).append(run(tree, argv, env))
        print(label, {k: statistics.median(v) for k, v in warm.items() if k[0] == label})
    names = list(trees)
    lines = [
        f"Fit: `{args.fit}`. Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}. Medians of {args.repeat} warm runs (compile "
        "caches filled by an earlier run), alternating trees; cold: one run with empty caches.",
        "",
        "| command | " + " | ".join(f"{n} warm (s) | {n} cold (s)" for n in names) + " | ratio "
        f"{names[-1]}/{names[0]} warm |",
        "|---|" + "---:|" * (2 * len(names) + 1),
    ]
    for label in COMMANDS:
        cells = []
        for n in names:
            cells += [f"{statistics.median(warm[(label, n)]):.1f}", f"{cold[(label, n)]:.1f}"]
        ratio = statistics.median(warm[(label, names[-1])]) / statistics.median(
            warm[(label, names[0])]
        )
        lines.append(f"| `capmodel {label}` | " + " | ".join(cells) + f" | {ratio:.2f} |")
    lines += ["", "Command: `python " + " ".join(sys.argv) + "`"]
    text = "\n".join(lines)
    print(text)
    if args.write:
        replace_block(args.write, "effects-speed", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
