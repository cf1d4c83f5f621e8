"""How much of the survey's error on the Q9 margins can post-stratification remove at all?

Part 1, the selection gap. For each seed, from the simulator's own expected probabilities p_i
(no outcome noise):
  raw      = mean of p_i over the respondents            - mean of p_i over the population
  weighted = survey-weighted mean of p_i over respondents - mean of p_i over the population
The gap is what post-stratification can correct; the outcomes' own noise (sd) comes on top.

Part 2, the per-item criterion under repeated surveys. The population (and every p_i) is kept
and K surveys are redrawn from it (who answers, then every outcome y_i ~ Bernoulli(p_i)).
Each is scored against the realised population share with three estimators: the raw and the
weighted survey means, and an ORACLE: the population mean of the true p_i, shifted by the
respondents' mean residual (y_i - p_i). That is an MRP whose model is exactly right except the
level, which, as with any fitted model, is learnt from the respondents; no real MRP can do
better. The table gives, per item, how often the oracle is closer than the raw mean and at
least as close as the weighted mean, and how often that holds for EVERY item at once.

    python benchmarks/mrp_limits.py --seeds 1 2 3
    python benchmarks/mrp_limits.py --seeds 1 2 3 --scenario cep2021_regional
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

import capmodel.simulate.cep2021 as S
from capmodel.simulate.calibrate import Intercepts
from capmodel.simulate.dataset import calibrated_intercepts
from capmodel.simulate.generate import draw_world, group_effects
from capmodel.simulate.scenarios import scenario as get_scenario
from capmodel.simulate.survey import rake, select_respondents

ITEMS = (*S.REALISATIONS, "any_realisation")


def world_of(name: str, seed: int, n_population: int):
    """The population of ``simulate(name, seed)`` (same draws), its response offset and the
    true probabilities of every item (the six realisations, then any realisation)."""
    scen = get_scenario(name)
    groups = group_effects(scenario=scen.name)
    world = draw_world(
        np.random.default_rng(seed),
        n_population,
        Intercepts(calibrated_intercepts(scen.name)),
        (S.SURVEY_WAVE,),
        groups,
    )
    offset = scen.response_offset(groups["labour_market"], world.cols["region"])
    p = np.stack([world.truth[f"p_obs:{r}@{S.SURVEY_WAVE}"] for r in S.REALISATIONS])
    return world, offset, np.vstack([p, 1.0 - np.prod(1.0 - p, axis=0)])


def draw_survey(rng, world, offset, n_survey: int) -> tuple[np.ndarray, np.ndarray]:
    """Who answers (as in simulate) and their quota weights."""
    rows = select_respondents(rng, world.cols, world.levels, S.RESPONSE_EFFECTS, n_survey, offset)
    w = rake(
        {v: world.cols[v][rows] for v in S.QUOTA_VARIABLES},
        {v: world.cols[v] for v in S.QUOTA_VARIABLES},
        S.QUOTA_VARIABLES,
        {v: world.levels[v] for v in S.QUOTA_VARIABLES},
    )
    return rows, w


def survey_once(rng, world, offset, ps, n_survey: int) -> dict[str, np.ndarray]:
    """One survey redrawn from the population: errors of raw, weighted and oracle, per item
    (``ps``: the items' true probabilities, any realisation last)."""
    rows, w = draw_survey(rng, world, offset, n_survey)
    y = (rng.random(ps[:-1].shape) < ps[:-1]).astype(float)
    ys = np.vstack([y, y.max(axis=0)])
    truth = ys.mean(axis=1)
    raw = ys[:, rows].mean(axis=1)
    weighted = ys[:, rows] @ w / w.sum()
    oracle = ps.mean(axis=1) + (ys[:, rows] - ps[:, rows]).mean(axis=1)
    return {"raw": raw - truth, "weighted": weighted - truth, "oracle": oracle - truth}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--scenario", default="cep2021")
    ap.add_argument("--n-population", type=int, default=S.N_POPULATION)
    ap.add_argument("--n-survey", type=int, default=S.N_SURVEY)
    ap.add_argument("--replicates", type=int, default=200, help="surveys redrawn per seed")
    args = ap.parse_args()
    gaps, reps = [], []
    for seed in args.seeds:
        world, offset, ps = world_of(args.scenario, seed, args.n_population)
        rng = np.random.default_rng([seed, 7])
        rows, w = draw_survey(rng, world, offset, args.n_survey)
        for i, item in enumerate(ITEMS):
            pr = ps[i, rows]
            gaps.append(
                {
                    "seed": seed,
                    "item": item,
                    "raw_gap": pr.mean() - ps[i].mean(),
                    "weighted_gap": pr @ w / w.sum() - ps[i].mean(),
                    "noise_sd": float(np.sqrt(np.mean(pr * (1 - pr)) / len(rows))),
                }
            )
        for k in range(args.replicates):
            err = survey_once(rng, world, offset, ps, args.n_survey)
            for i, item in enumerate(ITEMS):
                reps.append(
                    {"seed": seed, "rep": k, "item": item, **{e: abs(v[i]) for e, v in err.items()}}
                )
    g, r = pd.DataFrame(gaps), pd.DataFrame(reps)
    r["ok"] = (r["oracle"] < r["raw"]) & (r["oracle"] <= r["weighted"])
    cmd = (
        f"python benchmarks/mrp_limits.py --seeds {' '.join(map(str, args.seeds))} "
        f"--scenario {args.scenario}"
    )
    if args.n_survey != S.N_SURVEY or args.n_population != S.N_POPULATION:
        cmd += f" --n-population {args.n_population} --n-survey {args.n_survey}"
    print(f"Command: `{cmd}` ({args.replicates} surveys per seed)")
    print()
    print(
        "| item | raw gap | gap left after weighting | outcome noise sd | oracle closer than "
        "raw and <= weighted | mean abs. error raw / weighted / oracle |"
    )
    print("|---|---|---|---|---|---|")
    for item in ITEMS:
        gi, ri = g[g["item"] == item], r[r["item"] == item]
        print(
            f"| {item} | {gi['raw_gap'].mean():+.4f} | {gi['weighted_gap'].mean():+.4f} "
            f"| {gi['noise_sd'].mean():.4f} | {ri['ok'].mean():.2f} "
            f"| {ri['raw'].mean():.4f} / {ri['weighted'].mean():.4f} / "
            f"{ri['oracle'].mean():.4f} |"
        )
    every = r.groupby(["seed", "rep"])["ok"].all()
    print()
    print(
        f"The oracle meets the criterion on every item at once in {every.mean():.1%} of "
        f"{len(every)} surveys."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
