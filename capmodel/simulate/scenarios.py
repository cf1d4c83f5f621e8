"""The simulator's scenarios: ``cep2021`` and its variants.

Every scenario shares the structural model and the published margins of
:mod:`capmodel.simulate.cep2021` (intercepts are re-calibrated per scenario, so the margins
still hold); a variant changes only what it names.

``cep2021_regional`` adds regional labour markets and a survey whose response rate follows
them. Each region gets a labour-market effect L_g ~ N(0, sd) (centred within its operator
type, like every region effect), added to the logit of every realisation; and its
beneficiaries answer the survey with odds multiplied by exp(response * L_g / sd). Regions are
not a quota variable, so raking on the national quota variables leaves this selection in the
weighted survey means; a model with region effects, post-stratified on region, removes it.
It is the case post-stratification is for, and what the MRP acceptance test runs on (in
``cep2021`` itself the survey's selection moves the Q9 margins by less than the sample's own
noise: ``benchmarks/mrp_limits.py``).

``cep_crossed`` keeps cep2021's people and structural model but serves them as the 2014-18 CEP
did: five national operators crossed with the metropolitan regions, with local structures
nested in operator x region (:mod:`capmodel.simulate.groups`); ``cep_crossed_interaction``
adds an operator x region interaction on capability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Scenario:
    """A named variant of cep2021: regional labour-market sd and its pull on survey response."""

    name: str
    description: str
    labour_market_sd: float = 0.0
    response_to_labour_market: float = 0.0
    layout: str = "nested"  # capmodel.simulate.groups: "nested" (cep2021) or "crossed"
    interaction_sd: float = 0.0  # crossed: operator x region interaction on capability

    @property
    def regional(self) -> bool:
        return self.labour_market_sd > 0

    def response_offset(self, labour_market: np.ndarray, region: np.ndarray) -> np.ndarray | None:
        """Survey-response logit offset of each person (``region``: codes into
        ``labour_market``), or None when response does not follow the labour market."""
        if not self.regional:
            return None
        return self.response_to_labour_market / self.labour_market_sd * labour_market[region]


SCENARIOS: dict[str, Scenario] = {
    "cep2021": Scenario(
        "cep2021", "the 2021-22 CEP for employed workers, calibrated to the published tables"
    ),
    "cep2021_regional": Scenario(
        "cep2021_regional",
        "cep2021 with regional labour markets (a shared region effect on every realisation, "
        "sd 0.4) and a survey whose response odds rise by exp(0.8) per sd of that effect",
        labour_market_sd=0.4,
        response_to_labour_market=0.8,
    ),
    "cep_crossed": Scenario(
        "cep_crossed",
        "cep2021's people and structural model served as in the 2014-18 CEP: five national "
        "operators crossed with the 13 metropolitan regions in unequal cells, 1-4 local "
        "structures nested in each operator x region cell",
        layout="crossed",
    ),
    "cep_crossed_interaction": Scenario(
        "cep_crossed_interaction",
        "cep_crossed with an operator x region interaction on capability (sd 0.15)",
        layout="crossed",
        interaction_sd=0.15,
    ),
}


def scenario(name: str) -> Scenario:
    """The scenario called ``name``; a clear error listing the available ones otherwise."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; available: {sorted(SCENARIOS)}") from None
