"""capmodel against brms on the realisations-only model (models/realisations.toml), same data,
same run. Writes a markdown report (docs/benchmarks-brms.md via `make bench-brms`).

    python benchmarks/brms_compare.py [--seed 1] [--out docs/benchmarks-brms.md]
        [--samplers numpyro nutpie] [--keep DIR] [--brms-from DIR]

Simulates the cep2021 survey (n = 6,396), writes it to a temporary CSV, fits
models/realisations.toml on that CSV with ``capmodel.fit`` at the spec's defaults (with each of
``--samplers`` if given: the spec's default sampler otherwise), then fits the closest brms model
on the same CSV in fresh Rscript processes (benchmarks/brms_fit.R): once at brms's defaults
(2 chains, 1,000 warmup + 1,000 draws, matching capmodel's 2 chains) and once with
``control = list(adapt_delta = 0.99)``. R-hat and ESS of all runs are computed here by the same
function (``capmodel.fitting.diagnostics.diagnose``, ArviZ) from brms's exported draws.

The brms runs take hours on 2 cores. ``--keep DIR`` keeps the CSV and brms's outputs;
``--brms-from DIR`` reuses those of an earlier ``--keep`` run (same seed and settings: the CSV
must be byte-identical) and refits capmodel only; the report says when each run was made.
Without R, brms or rstan (``make bench-brms-deps`` installs them on Debian) it prints one line
saying brms was skipped and exits 0. ``--draws``/``--warmup`` shorten both tools' runs for a
smoke test; the report states the settings used.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "models" / "realisations.toml"
R_SCRIPT = Path(__file__).resolve().parent / "brms_fit.R"
BRMS_RUNS = (("brms (defaults)", None), ("brms (adapt_delta=0.99)", 0.99))

DIFFERENCES = """\
**What is compared.** capmodel fits `models/realisations.toml` (docs/models.md, section 1 with
`latent_capability = false`): for person i and realisation r,
`logit P(R_ir = 1) = realisation_intercept_r + direct_effect_r . s_i + realisation_covariate_r . z_i
+ realisation_operator_effect[r, operator_i] + realisation_region_effect[r, region_i]`, the
survey has one wave (6 months) so there is no time term. brms fits, on the same CSV in long
format (one row per person x realisation, 38,376 rows):

    {formula}

with `family = bernoulli()` (logit link). `(1 | realisation:operator)` gives one effect per
realisation x operator (24) with **one sd shared by the six realisations**, as capmodel's
`realisation_operator_sd`; the same for regions (108 effects). Region labels are unique across
operators, so `realisation:region` is the nested `realisation:operator:region`. The formula
`(0 + realisation | operator) + (0 + realisation | region)` would instead estimate six sds and a
6 x 6 correlation matrix per factor from 4 operators: a different (and, on 4 groups,
ill-posed) model.

**Differences that remain** (the likelihoods are the same family; the parameterisation and the
priors are not):

- **Group effects.** capmodel: they sum to zero (`ZeroSumNormal`), operator effects over the
  4 operators of each realisation, region effects within each operator (docs/models.md,
  section 2), and the intercepts carry the average; one effect's marginal sd is then
  sd x sqrt((n-1)/n) (n = 4 operators; 3 or 9 regions per operator). brms: free normal effects
  of sd `sd`; their mean and the intercept are told apart by the prior only.
- **Group sd prior.** capmodel `group_sd ~ lognormal(log 0.2, 0.6)`; brms `student_t(3, 0, 2.5)`,
  half (its default for `sd`).
- **Group parameterisation.** capmodel `auto` (docs/models.md section 3): here operators
  centred (>= 100 persons each), regions non-centred; brms always non-centred (standard-normal
  `z` times `sd`).
- **Intercepts and slopes.** capmodel `realisation_intercept_c ~ normal(-1, 2.5)` (on centred
  predictors), `direct_effect` and `realisation_covariate ~ normal(0, 1)`; brms: every `b`
  coefficient (the six `realisation` intercepts and the 180 slopes) has its default flat,
  improper prior.
- **Centring.** capmodel samples on centred predictors (sample means subtracted, docs/models.md
  section 2); brms centres the design matrix only when the formula has an `Intercept`, and
  `0 + realisation` has none, so its intercepts and slopes are sampled uncentred.
- **Sampler.** capmodel: NUTS of the sampler named in the table (the spec's default, or
  `--samplers`), diagonal mass matrix, `target_accept` 0.9; brms: rstan's NUTS, diagonal mass
  matrix, `adapt_delta` 0.8 (default) or 0.99; all with max tree depth 10.

brms's priors as it states them (`prior_summary` of the first brms run, one line per class;
every coefficient of a class has its class's prior):

```
{priors}
```
"""


def skip(reason: str) -> int:
    print(f"brms_compare: brms skipped: {reason}")
    return 0


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def r_available(rscript: str) -> str | None:
    """None when Rscript, brms and rstan load; otherwise why not."""
    exe = shutil.which(rscript)
    if exe is None:
        return f"'{rscript}' not found on PATH (run `make bench-brms-deps` to install R and brms)"
    try:
        res = subprocess.run(
            [
                exe,
                "-e",
                "suppressPackageStartupMessages({library(brms); "
                "library(rstan); library(jsonlite)})",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"Rscript did not run ({exc})"
    if res.returncode != 0:
        last = (res.stderr.strip().splitlines() or ["?"])[-1]
        return f"R packages brms/rstan/jsonlite do not load ({last}); run `make bench-brms-deps`"
    return None


def r_config(
    spec, data, csv: Path, seed: int, draws: int, warmup: int, adapt_delta: float | None
) -> dict:
    """What brms_fit.R needs to build the same predictors as capmodel's design."""
    refs = data.validated.references
    categorical = {}
    for cov in spec.realisation_covariates():
        levels = data.validated.levels.get(cov)
        if levels is not None:
            ref = refs[cov]
            categorical[cov] = [ref] + [lv for lv in levels if lv != ref]
    return {
        "csv": str(csv),
        "outcomes": list(spec.realisations),
        "supports": list(spec.direct_effects),
        "covariates": list(spec.realisation_covariates()),
        "categorical": categorical,
        "groups": [g.column for g in spec.schema.groups],
        "seed": seed,
        "chains": 2,
        "cores": 2,
        "iter": warmup + draws,
        "warmup": warmup,
        "adapt_delta": adapt_delta,
    }


def brms_names(cfg: dict) -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """capmodel (realisation, support) -> brms column of its direct effect; capmodel group sd
    name -> brms sd column."""
    direct = {(r, k): f"b_realisation{r}:{k}" for r in cfg["outcomes"] for k in cfg["supports"]}
    sds = {f"realisation_{g}_sd": f"sd_realisation:{g}__Intercept" for g in cfg["groups"]}
    return direct, sds


def brms_column(term: str) -> str:
    """capmodel term 'training:sex[M]' -> brms column 'b_realisationtraining:sexM'."""
    r, t = term.split(":", 1)
    return f"b_realisation{r}:{t.replace('[', '').replace(']', '')}"


def brms_idata(out: Path) -> xr.DataTree:
    """brms's exported draws as a DataTree (posterior: every b_, sd_, r_ parameter; sample_stats:
    diverging, energy, tree_depth) for capmodel's diagnose()."""
    draws = pd.read_csv(out / "draws.csv")
    chains = sorted(draws[".chain"].unique())
    params = [c for c in draws.columns if c.startswith(("b_", "sd_", "r_"))]

    def cube(frame: pd.DataFrame, col: str, chain_col: str) -> np.ndarray:
        return np.stack([frame.loc[frame[chain_col] == c, col].to_numpy() for c in chains])

    post = xr.Dataset({p: (("chain", "draw"), cube(draws, p, ".chain")) for p in params})
    sp = pd.read_csv(out / "sampler.csv")
    stats = xr.Dataset(
        {
            "diverging": (("chain", "draw"), cube(sp, "divergent__", "chain").astype(bool)),
            "energy": (("chain", "draw"), cube(sp, "energy__", "chain")),
            "tree_depth": (("chain", "draw"), cube(sp, "treedepth__", "chain")),
            "n_steps": (("chain", "draw"), cube(sp, "n_leapfrog__", "chain")),
        }
    )
    return xr.DataTree.from_dict({"posterior": post, "sample_stats": stats})


def min_bulk_ess(post: xr.Dataset) -> float:
    """Min bulk ESS over the variables of ``post`` (by the same ArviZ call as diagnose)."""
    import arviz as az

    ess = az.ess(post, method="bulk")
    return float(min(np.nanmin(np.asarray(v.values, dtype=float)) for v in ess.data_vars.values()))


def mean_steps(stats: xr.Dataset) -> float | None:
    """Mean leapfrog steps (gradient evaluations) per draw after tuning."""
    for name in ("n_steps", "num_steps", "n_leapfrog", "n_leapfrog__"):
        if name in stats:
            return float(np.asarray(stats[name].values, dtype=float).mean())
    return None


def run_capmodel(csv: Path, sampler: str | None, draws: int | None, tune: int | None) -> dict:
    import capmodel
    from capmodel.data import load_data

    spec = capmodel.load_spec(SPEC)
    started, load0 = now(), os.getloadavg()[0]
    t0 = time.perf_counter()
    f = capmodel.fit(
        spec, csv, sampler=sampler, draws=draws, tune=tune, progressbar=False, verbose=False
    )
    wall = time.perf_counter() - t0
    load = (load0, os.getloadavg()[0])
    post = f.posterior
    d = f.manifest["diagnostics"]
    sds = [n for n in post.data_vars if n.startswith("realisation_") and n.endswith("_sd")]
    shared = post[["direct_effect", "realisation_covariate", *sds]]

    def ms(da: xr.DataArray) -> tuple[float, float]:
        return float(da.mean()), float(da.std())

    direct = post["direct_effect"]
    reals = [str(r) for r in post["realisation"].values]
    slopes = {
        f"{r}:{k}": ms(direct.sel(realisation=r, direct_support=k))
        for r in reals
        for k in post["direct_support"].values
    }
    cov = post["realisation_covariate"]
    slopes |= {
        f"{r}:{t}": ms(cov.sel(realisation=r, realisation_term=t))
        for r in reals
        for t in post["realisation_term"].values
    }
    data = load_data(csv, spec.schema)
    return {
        "label": "capmodel (" + f.manifest["settings"]["sampler"] + ")",
        "started": started,
        "settings": f.manifest["settings"],
        "parameterisation": f.manifest["parameterisation"],
        "versions": f.manifest["versions"],
        "compile_s": f.manifest["timings"]["compile_seconds"],
        "sampling_s": f.manifest["timings"]["sampling_seconds"],
        "wall_s": wall,
        "load": load,
        "max_rhat": d["max_rhat"],
        "min_ess_bulk": d["min_ess_bulk"],
        "min_ess_tail": d["min_ess_tail"],
        "divergences": d["divergences"],
        "worst_rhat": d["worst_rhat"][0],
        "worst_ess": d["worst_ess"][0],
        "shared_min_ess": min_bulk_ess(shared),
        "mean_steps": mean_steps(f.idata["sample_stats"].dataset),
        "n_params": int(
            sum(
                int(np.prod([post[v].sizes[k] for k in post[v].dims if k not in ("chain", "draw")]))
                for v in post.data_vars
            )
        ),
        "direct": {
            (r, str(k)): slopes[f"{r}:{k}"] for r in reals for k in post["direct_support"].values
        },
        "sds": {n: ms(post[n]) for n in sds},
        "slopes": slopes,
        "spec": spec,
        "data": data,
        "n_draws": d["n_draws"],
        "n_persons": int(data.dataset.attrs["n_persons"]),
    }


def run_brms(rscript: str, cfg: dict, run_dir: Path, timeout: float) -> None:
    """Fit brms in a fresh Rscript process; its outputs and result.json go to ``run_dir``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg_path = run_dir / "config.json"
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    started, load0 = now(), os.getloadavg()[0]
    t0 = time.perf_counter()
    result = {"started": started}
    try:
        res = subprocess.run(
            [rscript, str(R_SCRIPT), str(cfg_path), str(run_dir / "out")],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if res.returncode != 0:
            print(res.stdout[-2000:], res.stderr[-4000:], file=sys.stderr)
            result["error"] = f"Rscript failed (exit {res.returncode})"
    except subprocess.TimeoutExpired:
        result["error"] = f"timed out after {timeout:.0f} s"
    result |= {"wall_s": time.perf_counter() - t0, "load": [load0, os.getloadavg()[0]]}
    (run_dir / "result.json").write_text(json.dumps(result), encoding="utf-8")


def read_brms(run_dir: Path, label: str, cfg: dict) -> dict:
    """One brms run's row, from the outputs run_brms left in ``run_dir``."""
    from capmodel.fitting.diagnostics import diagnose

    result = json.loads((run_dir / "result.json").read_text(encoding="utf-8"))
    if "error" in result:
        return {"label": label, "error": result["error"]}
    ran = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    if {k: v for k, v in ran.items() if k != "csv"} != {k: v for k, v in cfg.items() if k != "csv"}:
        raise RuntimeError(f"{run_dir} was run with other settings: {ran}")
    out = run_dir / "out"
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    idata = brms_idata(out)
    diag = diagnose(idata, max_treedepth=10)
    post = idata["posterior"].dataset
    direct_cols, sd_cols = brms_names(cfg)
    missing = [c for c in [*direct_cols.values(), *sd_cols.values()] if c not in post]
    if missing:
        raise RuntimeError(f"brms draws lack {missing[:5]}: the formula does not match")
    shared = [c for c in post.data_vars if c.startswith("b_realisation") and ":" in c]
    shared += list(sd_cols.values())

    def ms(col: str) -> tuple[float, float]:
        return float(post[col].mean()), float(post[col].std())

    return {
        "label": label,
        "started": result["started"],
        "meta": meta,
        "compile_s": meta["compile_s"],
        "sampling_s": meta["sampling_s"],
        "wall_s": result["wall_s"],
        "load": result["load"],
        "max_rhat": diag.max_rhat,
        "min_ess_bulk": diag.min_ess_bulk,
        "min_ess_tail": diag.min_ess_tail,
        "divergences": diag.divergences,
        "worst_rhat": diag.worst_rhat[0],
        "worst_ess": diag.worst_ess[0],
        "mean_steps": mean_steps(idata["sample_stats"].dataset),
        "shared_min_ess": min_bulk_ess(post[shared]),
        "n_draws": diag.n_draws,
        "direct": {key: ms(c) for key, c in direct_cols.items()},
        "sds": {n: ms(c) for n, c in sd_cols.items()},
        "slope_of": lambda term: ms(brms_column(term)),
        "priors": (out / "prior.txt").read_text(encoding="utf-8"),
    }


def readable_priors(text: str) -> str:
    """brms's condensed prior table with its blanks spelled out: a blank prior is flat for
    class b and the class's prior for a group's row."""
    lines = text.rstrip().splitlines()
    if not lines or " class" not in lines[0]:
        return text.rstrip()
    cut = lines[0].index(" class")
    out = [lines[0]]
    for line in lines[1:]:
        if len(line) > cut and not line[:cut].strip() and line[cut:].split():
            fill = "(flat)" if line[cut:].split()[0] == "b" else "(class sd prior)"
            line = fill.rjust(cut) + line[cut:]
        out.append(line)
    return "\n".join(out)


def fmt(v: float | None, nd: int = 0) -> str:
    return "-" if v is None or not np.isfinite(v) else f"{v:,.{nd}f}"


def git_state() -> str:
    commit = (
        subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True, capture_output=True
        ).stdout.strip()
        or "?"
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "capmodel"], cwd=ROOT, text=True, capture_output=True
    ).stdout.strip()
    return commit + (" with uncommitted changes under capmodel/" if dirty else "")


def report(
    args: argparse.Namespace, caps: list[dict], brms: list[dict], cfg: dict, code: str
) -> str:
    cap = caps[0]
    v = cap["versions"]
    ok = [b for b in brms if "error" not in b]
    meta = ok[0]["meta"] if ok else {}
    cmd = f"python benchmarks/brms_compare.py --seed {args.seed}"
    if args.samplers:
        cmd += " --samplers " + " ".join(args.samplers)
    if args.draws != 1000 or args.warmup != 1000:
        cmd += f" --draws {args.draws} --warmup {args.warmup}"
    if args.brms_from:
        cmd += f" --brms-from {args.brms_from}"
    if args.out:
        cmd += f" --out {args.out}"
    brms_when = "; ".join(f"{b['label']} {b['started']}" for b in brms if "started" in b)
    settings = "; ".join(f"{c['label']} `{json.dumps(c['settings'])}`" for c in caps)
    lines = [
        "# capmodel and brms on the realisations-only model",
        "",
        f"Command: `{cmd}` (`make bench-brms` runs it with the spec's default sampler only). "
        f"capmodel ran on {cap['started']} with the code of commit {code}"
        + (
            f"; the brms runs were reused from `{args.brms_from}` (same seed, data and settings),"
            f" started {brms_when}"
            if args.brms_from
            else f"; brms started {brms_when}"
        )
        + f". Machine: {platform.platform()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}. Versions: PyMC {v.get('pymc', '?')}, nutpie "
        f"{v.get('nutpie', '?')}, numpyro {v.get('numpyro', '?')}, jax {v.get('jax', '?')}, "
        f"PyTensor {v.get('pytensor', '?')}, ArviZ {v.get('arviz', '?')}; "
        f"{meta.get('r', 'R ?')}, brms {meta.get('brms', '?')}, rstan {meta.get('rstan', '?')} "
        f"(StanHeaders {meta.get('stanheaders', '?')}). The runs ran one after the other; "
        "timing noise on these machines is about +-30% run to run, more when other jobs share "
        "the cores (load averages below).",
        "",
        f'Data: `simulate("cep2021", seed={args.seed})`, n = {cap["n_persons"]:,} respondents,'
        " written once to a CSV that both tools read. capmodel: `capmodel.fit(spec, csv)` at the"
        f" spec's defaults, settings: {settings}; group parameterisation "
        f"{json.dumps(cap['parameterisation'])}. brms: chains = {cfg['chains']}, cores = "
        f"{cfg['cores']}, iter = {cfg['iter']}, warmup = {cfg['warmup']}, seed = {cfg['seed']}, "
        "each configuration in a fresh Rscript process (`benchmarks/brms_fit.R`); compile s is "
        "`brm(..., chains = 0)`, sampling s is the `update(...)` call that samples (both chains "
        "in parallel, including rstan's worker start-up), wall s is the whole Rscript process "
        "(R start, data, compile, sampling, export of the draws) for brms and the "
        "`capmodel.fit` call (reading the CSV, build, compile, sampling, diagnostics) for "
        "capmodel.",
        "",
        "R-hat and ESS: the same function for every run "
        "(`capmodel.fitting.diagnostics.diagnose`, ArviZ rank-normalised split R-hat and "
        "bulk/tail ESS), over every parameter each tool samples or reports (capmodel: the "
        f"{cap['n_params']} scalars of its posterior, deterministics included; brms: its "
        '`b_`, `sd_` and `r_` draws, exported with `posterior::as_draws_df`). "min bulk ESS '
        '(shared)" is over the parameters with the same meaning in both models: the 180 '
        "per-realisation slopes of supports and covariates and the two group sds. ESS/s is min "
        "bulk ESS / sampling s; steps/draw is the mean number of leapfrog steps (gradients) per "
        "draw after warmup.",
        "",
        "| run | compile s | sampling s | wall s | min bulk ESS | min tail ESS | max R-hat "
        "| divergences | bulk ESS/s | min bulk ESS (shared) | steps/draw | worst R-hat "
        "| worst ESS |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in [*caps, *brms]:
        if "error" in r:
            lines.append(f"| {r['label']} | {r['error']} |" + " |" * 11)
            continue
        lines.append(
            f"| {r['label']} | {fmt(r['compile_s'])} | {fmt(r['sampling_s'])} "
            f"| {fmt(r['wall_s'])} | {fmt(r['min_ess_bulk'])} | {fmt(r['min_ess_tail'])} "
            f"| {r['max_rhat']:.3f} | {r['divergences']} of {r['n_draws']} "
            f"| {r['min_ess_bulk'] / r['sampling_s']:.2f} | {fmt(r['shared_min_ess'])} "
            f"| {fmt(r['mean_steps'], 1)} | `{r['worst_rhat']}` | `{r['worst_ess']}` |"
        )
    done = [*caps, *ok]
    lines += [
        "",
        "Machine load (1-minute load average, before and after each run; 2 means both "
        "cores busy): "
        + "; ".join(f"{r['label']} {r['load'][0]:.1f} -> {r['load'][1]:.1f}" for r in done)
        + ".",
    ]
    if ok:
        lines += [
            "rstan's own per-chain times (warmup + sampling; CPU seconds with this rstan, "
            "whose Stan measures `clock()`): "
            + "; ".join(
                b["label"]
                + " "
                + ", ".join(
                    f"{w:.0f} + {t:.0f}"
                    for w, t in zip(
                        b["meta"]["chain_warmup_s"], b["meta"]["chain_sample_s"], strict=True
                    )
                )
                for b in ok
            )
            + ". Step size after adaptation (per chain): "
            + "; ".join(
                b["label"] + " " + ", ".join(f"{x:.4f}" for x in b["meta"]["stepsize"]) for b in ok
            )
            + "."
        ]
    lines += [
        "",
        "**Posterior means (sd) of the support effects** (`direct_effect[realisation, "
        "support]` in capmodel, `b_realisation<r>:<support>` in brms; log-odds):",
        "",
        "| realisation | support | " + " | ".join(r["label"] for r in done) + " |",
        "|---|---|" + "---|" * len(done),
    ]
    for key in cap["direct"]:
        cells = [f"{r['direct'][key][0]:+.3f} ({r['direct'][key][1]:.3f})" for r in done]
        lines.append(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")
    for name in cap["sds"]:
        cells = [f"{r['sds'][name][0]:.3f} ({r['sds'][name][1]:.3f})" for r in done]
        lines.append(f"| (group sd) | `{name}` | " + " | ".join(cells) + " |")
    terms = list(cap["slopes"])
    ref_m = np.array([cap["slopes"][t][0] for t in terms])
    ref_sd = np.array([cap["slopes"][t][1] for t in terms])
    lines.append("")
    for r in done[1:]:
        m = np.array([(r["slope_of"](t) if "slope_of" in r else r["slopes"][t])[0] for t in terms])
        diff = np.abs(m - ref_m) / ref_sd
        lines.append(
            f"- {r['label']} against {cap['label']}, over all {len(terms)} slopes: "
            "|difference of posterior means| / the latter's posterior sd has median "
            f"{np.median(diff):.2f}, max {diff.max():.2f} "
            f"(`{terms[int(diff.argmax())]}`)."
        )
    lines += [
        "",
        DIFFERENCES.format(
            formula=meta.get("formula", "?"), priors=readable_priors(ok[0]["priors"]) if ok else "?"
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=1, help="simulation seed (and brms's seed)")
    p.add_argument("--out", type=Path, help="write the markdown report here")
    p.add_argument(
        "--samplers",
        nargs="+",
        choices=["numpyro", "nutpie", "pymc"],
        help="capmodel samplers to fit with (default: the spec's default only)",
    )
    p.add_argument("--rscript", default="Rscript")
    p.add_argument("--draws", type=int, default=1000, help="draws per chain, both tools")
    p.add_argument("--warmup", type=int, default=1000, help="tuning/warmup steps, both tools")
    p.add_argument("--timeout", type=float, default=10 * 3600, help="seconds per brms run")
    p.add_argument("--keep", type=Path, help="keep the CSV and brms outputs in this folder")
    p.add_argument(
        "--brms-from",
        type=Path,
        help="reuse the brms outputs of an earlier --keep folder (refit capmodel only)",
    )
    args = p.parse_args()

    why = r_available(args.rscript)
    if why and not args.brms_from:
        return skip(why)
    rscript = shutil.which(args.rscript) or args.rscript
    code = git_state()

    from capmodel.simulate import simulate

    work = Path(tempfile.mkdtemp(prefix="brms-compare-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    try:
        sim = simulate("cep2021", seed=args.seed)
        csv = work / "survey.csv"
        sim.survey.to_csv(csv, index=False)
        print(f"data: {len(sim.survey):,} respondents -> {csv}", flush=True)
        if args.brms_from and sha256(csv) != sha256(args.brms_from / "survey.csv"):
            raise SystemExit(f"{args.brms_from}/survey.csv is not this run's data: rerun brms")

        smoke = args.draws != 1000 or args.warmup != 1000  # else: the spec's own settings
        caps = []
        for sampler in args.samplers or [None]:
            cap = run_capmodel(
                csv,
                sampler,
                draws=args.draws if smoke else None,
                tune=args.warmup if smoke else None,
            )
            print(
                f"{cap['label']}: compile {cap['compile_s']:.0f} s, sampling "
                f"{cap['sampling_s']:.0f} s, min bulk ESS {cap['min_ess_bulk']:.0f}, max R-hat "
                f"{cap['max_rhat']:.3f}, {cap['divergences']} divergences",
                flush=True,
            )
            caps.append(cap)
        brms = []
        for label, delta in BRMS_RUNS:
            cfg = r_config(
                caps[0]["spec"], caps[0]["data"], csv, args.seed, args.draws, args.warmup, delta
            )
            run_dir = (args.brms_from or work) / label.replace(" ", "_").replace("=", "")
            if not args.brms_from:
                run_brms(rscript, cfg, run_dir, args.timeout)
            b = read_brms(run_dir, label, cfg)
            if "error" in b:
                print(f"{label}: {b['error']}", flush=True)
            else:
                print(
                    f"{label}: compile {b['compile_s']:.0f} s, sampling {b['sampling_s']:.0f} s,"
                    f" min bulk ESS {b['min_ess_bulk']:.0f}, max R-hat {b['max_rhat']:.3f}, "
                    f"{b['divergences']} divergences",
                    flush=True,
                )
            brms.append(b)
        text = report(args, caps, brms, cfg, code)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
