"""A plain-text summary of a simulated data set (what `capmodel simulate` prints)."""

from __future__ import annotations

from capmodel.reference.published import contrast_table, margin_table
from capmodel.simulate.dataset import Simulated


def summarise(sim: Simulated) -> str:
    """Sizes, groups, weights, and published vs simulated survey margins."""
    sv, pop = sim.survey, sim.population
    persons = sv["person_id"].nunique()
    waves = ", ".join(str(w) for w in sorted(sv["months_since_exit"].unique()))
    w = sv.drop_duplicates("person_id")["weight"]
    lines = [
        f"scenario {sim.params['scenario']}, seed {sim.seed}",
        f"population: {len(pop):,} beneficiaries in {pop['region'].nunique()} regions "
        + (
            f"crossed with {pop['operator'].nunique()} operators, "
            f"{pop['structure'].nunique()} local structures"
            if "structure" in pop
            else f"within {pop['operator'].nunique()} operator types"
        ),
        f"survey: {persons:,} respondents, {len(sv):,} rows (months since exit: {waves})",
        f"quota weights (mean 1): min {w.min():.2f}, max {w.max():.2f}",
        "",
        "published vs simulated (weighted survey; percentages):",
    ]
    table = margin_table(sv, pop)
    for row in table.itertuples():
        lines.append(
            f"  {row.table:<26} {row.item[:42]:<42} {100 * row.published:5.1f} "
            f"{100 * row.weighted:6.1f}"
        )
    contrasts = contrast_table(sv)
    ok = int(contrasts["same_direction"].sum())
    lines.append(f"published subgroup contrasts reproduced in direction: {ok}/{len(contrasts)}")
    return "\n".join(lines)
