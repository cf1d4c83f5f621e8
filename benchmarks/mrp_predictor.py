"""Does a regional predictor remove MRP's shrinkage bias in small regions? (issue 13, item 4)

Scenario ``cep2021_regional`` (capmodel.simulate.scenarios): each region has a labour-market
effect L_g ~ N(0, 0.4), centred within its operator type, added to the logit of every
realisation, and its beneficiaries answer the survey with odds exp(0.8 L_g / 0.4). The regions
with the worst labour markets answer least, so they have few respondents, and partial pooling
pulls their realisation effects towards their operator type's: the post-stratified region
margins of those regions keep part of the survey's selection (docs/validation.md).

Per seed the reference model (``--spec``) is fitted twice to the same simulated survey:

- ``none``: as it is (region effects = sum-to-zero random effects within operator);
- ``noisy``: with a regional unemployment rate declared as a group-level predictor of region
  (schema ``[[schema.groups]] predictors``, spec ``[groups] predictors``; docs/models.md §3).

The unemployment rate is what an agency would have: a noisy measure of the region's true
labour market, built from the scenario's true ``labour_market.region_effect`` (L_g,
capmodel.simulate.dataset.true_params):

    x_g = rho * L_g / sd_L + sqrt(1 - rho^2) * eps_g,   eps_g ~ N(0, 1) (numpy default_rng,
                                                         seed [2024, SEED], regions in order)
    unemployment_g = 8.0 - 1.5 * x_g                     (per cent; a better market, fewer
                                                         unemployed)

with rho = 0.8 (``--rho``), sd_L = 0.4. The expected correlation of unemployment with L_g is
-0.8; the realised one (18 regions) is printed and written per seed. ``--variants`` can add
``exact`` (x_g = L_g / sd_L: a perfect measure, the most a predictor can do).

Each fit is post-stratified on the whole simulated population (``fx.poststratify``, by
region) and every region x Q9 item margin (six realisations and any) is scored against the
population's realised share: signed error, absolute error, RMSE and 90% coverage, in the small
regions (at most ``--small`` respondents, default 50: Normandie, the overseas regions, Corse)
and in the others, and the "pull towards the operator": the signed error times the sign of
(operator's true share - region's true share), positive when the estimate lies on the
operator's side of the truth (shrinkage).

    python benchmarks/mrp_predictor.py --seeds 1 2 3 --draws 500 --tune 500 \\
        --fits /tmp/mrp-predictor-fits --write docs/validation.md

``--fits DIR`` saves each fit under DIR/<variant>/seed<N> and reuses a saved fit of the same
spec, settings and data; ``--write FILE`` replaces the block between
<!-- mrp-predictor:start --> and <!-- mrp-predictor:end --> of FILE.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from study_fits import replace_block, study_fit

import capmodel
import capmodel.effects as fx
import capmodel.simulate.cep2021 as S
from capmodel.simulate import Simulated
from capmodel.simulate.dataset import true_params
from capmodel.spec import Spec, load_spec, spec_from_dict
from capmodel.validation.truth_effects import population_margins

SCENARIO = "cep2021_regional"
ITEMS = (*S.REALISATIONS, "any_realisation")
PREDICTOR = "unemployment"
VARIANTS = ("none", "noisy", "exact")


def predictor_table(seed: int, variant: str, rho: float) -> tuple[dict[str, float], float]:
    """The regional unemployment rate of ``variant`` (level -> per cent) and its realised
    correlation with the true labour-market effect L_g."""
    lm = true_params(SCENARIO)["labour_market"]
    regions = list(lm["region_effect"])
    effect = np.array([lm["region_effect"][r] for r in regions])
    x = effect / lm["sd"]
    if variant == "noisy":
        eps = np.random.default_rng([2024, seed]).normal(size=x.size)
        x = rho * x + np.sqrt(1.0 - rho**2) * eps
    rate = 8.0 - 1.5 * x
    return {r: round(float(v), 4) for r, v in zip(regions, rate, strict=True)}, float(
        np.corrcoef(rate, effect)[0, 1]
    )


def variant_spec(base: Spec, table: dict[str, float] | None) -> Spec:
    """``base`` with the region's unemployment rate as a group-level predictor (or as is)."""
    if table is None:
        return base
    raw = base.to_dict()
    for g in raw["schema"]["groups"]:
        if g["column"] == "region":
            g["predictors"] = {PREDICTOR: table}
    raw.setdefault("groups", {})["predictors"] = {"region": [PREDICTOR]}
    return spec_from_dict(raw)


def region_truth(sim: Simulated, wave: int = S.SURVEY_WAVE) -> pd.DataFrame:
    """Realised share of each Q9 item in the whole population, by region and by operator
    (``persons`` rows are the population's, in the same order), and the region's mean of the
    true probabilities (``expected``: the share without the population's own outcome noise)."""
    p = sim.persons
    cols = {r: p[f"r_obs__{r}__m{wave}"].to_numpy() for r in S.REALISATIONS}
    cols["any_realisation"] = p[f"any_obs__m{wave}"].to_numpy()
    probs = np.stack([p[f"p_obs__{r}__m{wave}"].to_numpy(np.float64) for r in S.REALISATIONS])
    expected = dict(zip(S.REALISATIONS, probs, strict=True))
    expected["any_realisation"] = 1.0 - np.prod(1.0 - probs, axis=0)
    df = pd.DataFrame(cols)
    df["region"] = sim.population["region"].astype(str).to_numpy()
    df["operator"] = sim.population["operator"].astype(str).to_numpy()
    by_region = df.groupby("region")[list(ITEMS)].mean()
    exp = pd.DataFrame(expected).groupby(df["region"].to_numpy())[list(ITEMS)].mean()
    by_op = df.groupby("operator")[list(ITEMS)].mean()
    op_of = df.groupby("region")["operator"].first()
    out = by_region.stack().rename("truth").reset_index()
    out.columns = ["region", "outcome", "truth"]
    out["operator"] = out["region"].map(op_of)
    out["operator_truth"] = [
        by_op.loc[o, i] for o, i in zip(out["operator"], out["outcome"], strict=True)
    ]
    out["expected"] = [exp.loc[g, i] for g, i in zip(out["region"], out["outcome"], strict=True)]
    out["population"] = out["region"].map(df["region"].value_counts())
    return out


def run_one(seed: int, variant: str, args: argparse.Namespace) -> tuple[pd.DataFrame, dict]:
    """Per region x item rows (truth, MRP, raw and weighted survey means) and the fit's
    summary for one seed and variant."""
    table, corr = (None, float("nan"))
    if variant != "none":
        table, corr = predictor_table(seed, variant, args.rho)
    spec = variant_spec(load_spec(args.spec), table)
    fits_dir = args.fits / variant if args.fits else None
    t0 = time.perf_counter()
    s = study_fit(
        spec,
        seed,
        n_population=args.n_population,
        draws=args.draws,
        tune=args.tune,
        fits_dir=fits_dir,
        scenario=SCENARIO,
    )
    f, sim = s.fit, s.sim
    print(f"seed {seed} {variant}: fit {s.seconds:.0f} s ({time.perf_counter() - t0:.0f} s)")
    t0 = time.perf_counter()
    model = fx.effect_model(f, draws=args.effect_draws)
    res = fx.poststratify(model, sim.population, by=["region"], seed=3)
    t_fx = time.perf_counter() - t0
    comp = res.extra["comparison"]
    reg = comp[comp["by_variable"] == "region"].rename(columns={"by_level": "region"})
    rows = region_truth(sim).merge(
        reg[
            [
                "region",
                "outcome",
                "survey_raw",
                "survey_weighted",
                "mrp_mean",
                "mrp_lower",
                "mrp_upper",
            ]
        ],
        on=["region", "outcome"],
        how="left",
    )
    n_resp = sim.survey.drop_duplicates("person_id")["region"].astype(str).value_counts()
    rows["respondents"] = rows["region"].map(n_resp).fillna(0).astype(int)
    rows["seed"], rows["variant"] = seed, variant
    allr = comp[comp["by_variable"] == "all"].set_index("outcome")
    post = f.posterior
    d = f.diagnostics
    summary = {
        "seed": seed,
        "variant": variant,
        "fit_s": s.seconds,
        "effects_s": t_fx,
        "max_rhat": d.max_rhat,
        "min_ess_bulk": d.min_ess_bulk,
        "divergences": d.divergences,
        "corr": corr,
        "realisation_region_sd": float(post["realisation_region_sd"].mean()),
        "region_sd": float(post["region_sd"].mean()) if "region_sd" in post else float("nan"),
        "coef": (
            post["realisation_region_predictor_effect"]
            .mean(("chain", "draw"))
            .values.ravel()
            .tolist()
            if "realisation_region_predictor_effect" in post
            else None
        ),
        "national_mae": float(
            np.mean([abs(allr.loc[k, "mrp_mean"] - v) for k, v in population_margins(sim).items()])
        ),
    }
    print(
        f"seed {seed} {variant}: effects {t_fx:.0f} s, max R-hat {d.max_rhat:.3f}, "
        f"min bulk ESS {d.min_ess_bulk:.0f}, divergences {d.divergences}, corr {corr:.2f}",
        flush=True,
    )
    return rows, summary


def scores(rows: pd.DataFrame, small: int) -> pd.DataFrame:
    """Per variant and region size: bias, mean |error|, RMSE, 90% coverage, pull."""
    r = rows.assign(
        err=rows["mrp_mean"] - rows["truth"],
        covered=(rows["mrp_lower"] <= rows["truth"]) & (rows["truth"] <= rows["mrp_upper"]),
        size=np.where(rows["respondents"] <= small, f"small (<= {small})", f"large (> {small})"),
        width=rows["mrp_upper"] - rows["mrp_lower"],
        covered_expected=(rows["mrp_lower"] <= rows["expected"])
        & (rows["expected"] <= rows["mrp_upper"]),
    )
    r["pull"] = r["err"] * np.sign(r["operator_truth"] - r["truth"])
    r["werr"] = r["survey_weighted"] - r["truth"]
    g = r.groupby(["size", "variant"], sort=False)
    return pd.DataFrame(
        {
            "regions x items x seeds": g.size(),
            "regions": g["region"].nunique(),
            "mean error": g["err"].mean(),
            "mean |error|": g["err"].apply(lambda e: e.abs().mean()),
            "RMSE": g["err"].apply(lambda e: float(np.sqrt((e**2).mean()))),
            "pull": g["pull"].mean(),
            "90% coverage": g["covered"].mean(),
            "coverage of mean p": g["covered_expected"].mean(),
            "mean width": g["width"].mean(),
            "weighted mean |error|": g["werr"].apply(lambda e: e.abs().mean()),
        }
    ).reset_index()


def _md(df: pd.DataFrame, fmt: dict[str, str]) -> list[str]:
    cols = list(df.columns)
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        cells = []
        for c, v in zip(cols, row, strict=True):
            f = fmt.get(c)
            cells.append(format(v, f) if f and isinstance(v, float | int | np.number) else str(v))
        out.append("| " + " | ".join(cells) + " |")
    return out


def report(rows: pd.DataFrame, summaries: list[dict], args: argparse.Namespace) -> str:
    sc = scores(rows, args.small)
    fmt = {c: "+.4f" for c in ("mean error", "pull")}
    fmt |= {c: ".4f" for c in ("mean |error|", "RMSE", "mean width", "weighted mean |error|")}
    fmt["90% coverage"] = fmt["coverage of mean p"] = ".3f"
    cmd = (
        "python benchmarks/mrp_predictor.py --seeds "
        + " ".join(str(s) for s in args.seeds)
        + (
            f" --variants {' '.join(args.variants)}"
            if list(args.variants) != ["none", "noisy"]
            else ""
        )
        + (f" --n-population {args.n_population}" if args.n_population else "")
        + (f" --draws {args.draws}" if args.draws else "")
        + (f" --tune {args.tune}" if args.tune else "")
        + f" --effect-draws {args.effect_draws}"
        + (f" --rho {args.rho}" if args.rho != 0.8 else "")
        + (f" --small {args.small}" if args.small != 50 else "")
    )
    lines = [
        f"Command: `{cmd}` ({platform.machine()}, Python {platform.python_version()}, "
        f"capmodel {capmodel.__version__}, PyMC {_version('pymc')}, NumPyro "
        f"{_version('numpyro')}; run on {time.strftime('%Y-%m-%d')}).",
        "",
        "| seed | predictor | corr(unemployment, L_g) | fit s | max R-hat | min bulk ESS | "
        "divergences | realisation_region_sd | coefficient per realisation (per sd) | "
        "national mean abs. error |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        coef = ", ".join(f"{c:+.2f}" for c in s["coef"]) if s["coef"] else "-"
        corr = "-" if np.isnan(s["corr"]) else f"{s['corr']:+.2f}"
        lines.append(
            f"| {s['seed']} | {s['variant']} | {corr} | {s['fit_s']:.0f} | {s['max_rhat']:.3f} | "
            f"{s['min_ess_bulk']:.0f} | {s['divergences']} | {s['realisation_region_sd']:.3f} | "
            f"{coef} | {s['national_mae']:.4f} |"
        )
    lines += [
        "",
        "Post-stratified region margins of the 7 Q9 items against the population's realised "
        f"share, regions with at most {args.small} respondents vs the others (error = MRP - "
        "truth; pull = error x sign(operator's share - region's share), > 0 towards the "
        "operator; coverage of mean p: of the region's mean true probability, without the "
        "population's outcome noise; the last column is the quota-weighted survey mean's "
        "error):",
        "",
        *_md(sc, fmt),
        "",
        "Small regions, any realisation: the population's realised share, the quota-weighted "
        "survey mean and the MRP estimates, means over seeds (respondents: per seed):",
        "",
    ]
    small = rows[(rows["respondents"] <= args.small) & (rows["outcome"] == "any_realisation")]
    piv = small.pivot_table(
        index="region", columns="variant", values="mrp_mean", aggfunc="mean"
    ).reindex(columns=list(args.variants))
    first = small[small["variant"] == args.variants[0]]
    base = first.groupby("region").agg(
        respondents=("respondents", lambda n: "/".join(str(int(x)) for x in n)),
        truth=("truth", "mean"),
        weighted=("survey_weighted", "mean"),
    )
    lm = true_params(SCENARIO)["labour_market"]["region_effect"]
    tab = base.join(piv).reset_index()
    tab.insert(1, "L_g", tab["region"].map(lm))
    tab = tab.sort_values("L_g")
    lines += _md(
        tab.rename(columns={v: f"MRP {v}" for v in args.variants}),
        {"L_g": "+.2f", "truth": ".3f", "weighted": ".3f"}
        | {f"MRP {v}": ".3f" for v in args.variants},
    )
    return "\n".join(lines)


def _version(name: str) -> str:
    from importlib.metadata import version

    try:
        return version(name)
    except Exception:  # noqa: BLE001
        return "?"


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--variants", nargs="+", default=["none", "noisy"], choices=VARIANTS)
    p.add_argument("--spec", default="models/capability.toml")
    p.add_argument("--n-population", type=int, default=None, help="default: 197,074 (full)")
    p.add_argument("--draws", type=int, default=None, help="default: the spec's")
    p.add_argument("--tune", type=int, default=None, help="default: the spec's")
    p.add_argument("--effect-draws", type=int, default=300)
    p.add_argument("--rho", type=float, default=0.8, help="correlation of x_g with L_g / sd_L")
    p.add_argument("--small", type=int, default=50, help="small region: <= this many respondents")
    p.add_argument("--fits", type=Path, default=None, help="save/reuse fits under DIR/<variant>/")
    p.add_argument("--write", type=Path, default=None, help="markdown file with the block")
    p.add_argument("--rows", type=Path, default=None, help="write every region x item row (CSV)")
    args = p.parse_args()
    all_rows, summaries = [], []
    for seed in args.seeds:
        for variant in args.variants:
            rows, summary = run_one(seed, variant, args)
            all_rows.append(rows)
            summaries.append(summary)
            if args.fits:  # what has been measured so far survives a later crash
                out = args.fits / variant / f"seed{seed}-regions.csv"
                rows.to_csv(out, index=False)
                (args.fits / variant / f"seed{seed}-summary.json").write_text(json.dumps(summary))
    rows = pd.concat(all_rows, ignore_index=True)
    if args.rows:
        rows.to_csv(args.rows, index=False)
    text = report(rows, summaries, args)
    print(text)
    if args.write:
        replace_block(args.write, "mrp-predictor", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
