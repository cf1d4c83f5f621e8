"""How much of the survey's error on the Q9 margins can post-stratification remove at all?

For each seed, from the simulator's own expected probabilities p_i (no outcome noise):
  raw      = mean of p_i over the respondents            - mean of p_i over the population
  weighted = survey-weighted mean of p_i over respondents - mean of p_i over the population
The "weighted" gap is the part that depends on who answered beyond the weighting (cell)
variables: what is left after an ideal correction on the cells. Where it is as large as the raw
gap, no cell-based estimator (weighting or MRP) can be expected to beat the raw mean on that
item; and the outcomes' own noise (sd) comes on top.

    python benchmarks/mrp_limits.py --seeds 1 2 3
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

import capmodel.simulate.cep2021 as S
from capmodel.simulate import simulate


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--n-population", type=int, default=None, help="default: 197,074")
    args = p.parse_args()
    rows = []
    for seed in args.seeds:
        sim = simulate("cep2021", seed=seed, n_population=args.n_population)
        people = sim.persons.set_index("person_id")
        sv = sim.survey.drop_duplicates("person_id").set_index("person_id")
        resp = people.loc[sv.index]
        w = sv["weight"].to_numpy(float)
        for r in S.REALISATIONS:
            col = f"p_obs__{r}__m{S.SURVEY_WAVE}"
            pop = people[col].mean()
            pr = resp[col].to_numpy(float)
            rows.append({"seed": seed, "item": r, "n": len(sv),
                         "raw_gap": pr.mean() - pop,
                         "weighted_gap": np.average(pr, weights=w) - pop,
                         "noise_sd": float(np.sqrt(np.mean(pr * (1 - pr)) / len(sv)))})
    t = pd.DataFrame(rows)
    print(f"Command: `python benchmarks/mrp_limits.py --seeds {' '.join(map(str, args.seeds))}`")
    print()
    print("| item | raw gap (mean over seeds) | gap left after weighting | outcome noise sd |")
    print("|---|---|---|---|")
    for item, g in t.groupby("item", sort=False):
        print(f"| {item} | {g['raw_gap'].mean():+.4f} | {g['weighted_gap'].mean():+.4f} "
              f"| {g['noise_sd'].mean():.4f} |")
    print()
    print(t.round(4).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
