"""The simulated worlds' group structures: who is served by which operator, where, and how much
operators, regions and local structures shift capability and realisations.

Two layouts (docs/data.md §4):

- ``nested`` (cep2021, the 2021-22 CEP for employed workers): 18 regions, each served by one of
  four operator types (regions nested in operator type); operator-type and region effects.
- ``crossed`` (the 2014-18 CEP the Céreq report describes): five national operators (Apec, Cap
  emploi, Missions locales, Fongecif/Opacif, Pôle emploi) crossed with the 13 metropolitan
  regions, in unequal cells (each region has its own operator mix: some cells hold a handful of
  persons, some none), with one to four local structures nested in each operator x region cell;
  operator, region and local-structure effects on capability (structures: on capability only,
  summing to zero within each operator), operator and region effects on realisations, and an
  optional operator x region interaction on capability (``interaction_sd``).

Effects are drawn once per layout from ``PARAMETER_SEED`` (the same world for every simulation
seed) and centred: operator and region effects sum to zero (a nested region's within its
operator type), a structure's within its operator, an interaction over rows and columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from capmodel.simulate import cep2021 as S
from capmodel.simulate.draws import Effects

CROSSED_OPERATORS = ("Apec", "Cap emploi", "Missions locales", "Fongecif-Opacif", "Pôle emploi")
# national shares of the beneficiaries (each region's mix varies around them)
CROSSED_OPERATOR_SHARES = (0.15, 0.05, 0.15, 0.25, 0.40)
CROSSED_REGIONS = tuple((r, s) for r, _, s in S.REGIONS[:12]) + (("Corse", 0.005),)
CROSSED_MIX_SD = 0.6  # log-odds spread of a region's operator mix around the national shares
CROSSED_PERSONS_PER_STRUCTURE = 1 / 60  # cell share x 60, rounded, clipped to 1..4 structures
CROSSED_MAX_STRUCTURES = 4
# operators' practices (relative to Apec): who gets the detailed service and confidence support
CROSSED_PRACTICE = {
    "service_level": {"Cap emploi": 0.3, "Fongecif-Opacif": 0.2, "Pôle emploi": -0.2},
    "confidence": {"Missions locales": 0.3, "Cap emploi": 0.2, "Pôle emploi": -0.2},
}
# effect sds: the Céreq report judged operator variance larger than territory variance
CROSSED_SD = {
    "operator": 0.30,
    "region": 0.15,
    "structure": 0.15,
    "realisation_operator": 0.15,
    "realisation_region": 0.15,
}


@dataclass(frozen=True)
class GroupWorld:
    """A layout's groups and their true effects.

    - ``levels``: group column -> its levels (``operator``, ``region`` and, crossed,
      ``structure``);
    - ``capability``: group column -> effect of each level on capability; ``operator:region``
      (crossed, with an interaction): an (operators, regions) array;
    - ``realisation``: group column -> (realisations, levels) effects on the realisation logits;
    - ``sd``: the sds the effects were drawn from (``<g>`` and ``realisation_<g>``);
    - ``labour_market``: a regional scenario's labour-market effect per region (zeros otherwise),
      already included in ``realisation["region"]``;
    - ``within``: nested group -> its parent group column;
    - ``parent``: nested group -> the parent's code of each of its levels;
    - draw probabilities: ``region_p`` (regions), ``operator_p`` ((regions, operators): the
      operator mix of each region, crossed), ``structures`` ((operators, regions): how many
      local structures each cell has, crossed; their codes are numbered cell by cell).
    """

    layout: str
    levels: dict[str, tuple[str, ...]]
    capability: dict[str, np.ndarray]
    realisation: dict[str, np.ndarray]
    sd: dict[str, float]
    labour_market: np.ndarray
    within: dict[str, str]
    parent: dict[str, np.ndarray]
    region_p: np.ndarray
    operator_p: np.ndarray
    structures: np.ndarray | None = None
    # operators' practices: effect table (service_level, a support) -> operator level -> effect
    operator_practice: dict[str, dict[str, float]] = field(default_factory=dict)

    def with_practice(self, name: str, effects: Effects) -> Effects:
        """``effects`` (cep2021's table called ``name``) with this layout's operator effects."""
        if "operator" not in effects:
            return effects
        return {**effects, "operator": self.operator_practice.get(name, {})}

    def draw(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """Codes of every group column for ``n`` persons (the nested layout draws exactly what
        cep2021 always drew: the random stream is unchanged)."""
        region = rng.choice(self.region_p.size, size=n, p=self.region_p).astype(np.int16)
        if self.layout == "nested":
            return {"region": region, "operator": self.parent["region"][region].astype(np.int16)}
        u = rng.random(n)
        cum = np.cumsum(self.operator_p, axis=1)[region]
        operator = np.minimum((u[:, None] > cum).sum(axis=1), len(self.levels["operator"]) - 1)
        assert self.structures is not None
        first = np.concatenate([[0], np.cumsum(self.structures.ravel())])[:-1].reshape(
            self.structures.shape
        )
        k = self.structures[operator, region]
        structure = first[operator, region] + np.floor(rng.random(n) * k).astype(np.int64)
        return {
            "operator": operator.astype(np.int16),
            "region": region,
            "structure": structure.astype(np.int16),
        }

    def capability_shift(self, cols: dict[str, np.ndarray]) -> np.ndarray:
        """Sum of the group effects on capability of each person (``cols``: group codes)."""
        out = np.zeros(len(cols["region"]))
        for key, effect in self.capability.items():
            if ":" in key:
                a, b = key.split(":")
                out = out + effect[cols[a], cols[b]]
            else:
                out = out + effect[cols[key]]
        return out

    def realisation_shift(self, i: int, cols: dict[str, np.ndarray]) -> np.ndarray:
        """Sum of the group effects on realisation ``i``'s logit of each person."""
        out = np.zeros(len(cols["region"]))
        for key, effect in self.realisation.items():
            out = out + effect[i][cols[key]]
        return out


def _centred_within(raw: np.ndarray, parent: np.ndarray) -> np.ndarray:
    out = raw.copy()
    for p in np.unique(parent):
        out[..., parent == p] -= out[..., parent == p].mean(axis=-1, keepdims=True)
    return out


def nested_groups(labour_market_sd: float = 0.0, seed: int = S.PARAMETER_SEED) -> GroupWorld:
    """cep2021's groups: regions nested in four operator types (the draws cep2021 always had)."""
    rng = np.random.default_rng(seed)
    op_of_region = np.array([S.OPERATORS.index(op) for _, op, _ in S.REGIONS])

    def regions(sd: float, stream: np.random.Generator = rng) -> np.ndarray:
        return _centred_within(stream.normal(0.0, sd, len(S.REGIONS)), op_of_region)

    def operators(sd: float) -> np.ndarray:
        raw = rng.normal(0.0, sd, len(S.OPERATORS))
        return raw - raw.mean()

    capability = {"operator": operators(S.SD_OPERATOR), "region": regions(S.SD_REGION)}
    real_op = np.stack([operators(S.SD_REAL_OPERATOR) for _ in S.REALISATIONS])
    real_reg = np.stack([regions(S.SD_REAL_REGION) for _ in S.REALISATIONS])
    labour = np.zeros(len(S.REGIONS))
    if labour_market_sd > 0:
        labour = regions(labour_market_sd, np.random.default_rng([seed, 1]))
    shares = np.array([s for _, _, s in S.REGIONS])
    return GroupWorld(
        layout="nested",
        levels={"operator": S.OPERATORS, "region": tuple(r for r, _, _ in S.REGIONS)},
        capability=capability,
        realisation={"operator": real_op, "region": real_reg + labour},
        sd={
            "operator": S.SD_OPERATOR,
            "region": S.SD_REGION,
            "realisation_operator": S.SD_REAL_OPERATOR,
            "realisation_region": S.SD_REAL_REGION,
        },
        labour_market=labour,
        within={"region": "operator"},
        parent={"region": op_of_region},
        region_p=shares / shares.sum(),
        operator_p=np.eye(len(S.OPERATORS))[op_of_region],
        operator_practice={
            "service_level": dict(S.SERVICE_LEVEL_EFFECTS["operator"]),  # type: ignore[arg-type]
            "confidence": dict(S.SUPPORT_EFFECTS["confidence"]["operator"]),  # type: ignore[arg-type]
        },
    )


def crossed_groups(interaction_sd: float = 0.0, seed: int = S.PARAMETER_SEED) -> GroupWorld:
    """Five national operators crossed with 13 regions, local structures nested in the cells."""
    rng = np.random.default_rng([seed, 13])
    n_op, n_reg = len(CROSSED_OPERATORS), len(CROSSED_REGIONS)
    region_p = np.array([s for _, s in CROSSED_REGIONS])
    region_p = region_p / region_p.sum()
    logits = np.log(np.array(CROSSED_OPERATOR_SHARES))[None, :] + rng.normal(
        0.0, CROSSED_MIX_SD, (n_reg, n_op)
    )
    operator_p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    cell_share = (region_p[:, None] * operator_p).T  # (operators, regions)
    structures = np.clip(
        np.rint(cell_share / CROSSED_PERSONS_PER_STRUCTURE), 1, CROSSED_MAX_STRUCTURES
    ).astype(np.int64)
    labels, parent = [], []
    for o, op in enumerate(CROSSED_OPERATORS):
        for g, (reg, _) in enumerate(CROSSED_REGIONS):
            for k in range(structures[o, g]):
                labels.append(f"{op} | {reg} | {k + 1}")
                parent.append(o)
    # the cell-major numbering of GroupWorld.draw: operator, then region, then structure
    parent_arr = np.array(parent)
    sd = CROSSED_SD

    def zero_sum(raw: np.ndarray) -> np.ndarray:
        return raw - raw.mean(axis=-1, keepdims=True)

    capability = {
        "operator": zero_sum(rng.normal(0.0, sd["operator"], n_op)),
        "region": zero_sum(rng.normal(0.0, sd["region"], n_reg)),
        "structure": _centred_within(rng.normal(0.0, sd["structure"], len(labels)), parent_arr),
    }
    real_op = zero_sum(rng.normal(0.0, sd["realisation_operator"], (len(S.REALISATIONS), n_op)))
    real_reg = zero_sum(rng.normal(0.0, sd["realisation_region"], (len(S.REALISATIONS), n_reg)))
    all_sd = dict(sd)
    if interaction_sd > 0:
        raw = np.random.default_rng([seed, 14]).normal(0.0, interaction_sd, (n_op, n_reg))
        raw = raw - raw.mean(axis=0, keepdims=True)
        capability["operator:region"] = raw - raw.mean(axis=1, keepdims=True)
        all_sd["operator:region"] = interaction_sd
    return GroupWorld(
        layout="crossed",
        levels={
            "operator": CROSSED_OPERATORS,
            "region": tuple(r for r, _ in CROSSED_REGIONS),
            "structure": tuple(labels),
        },
        capability=capability,
        realisation={"operator": real_op, "region": real_reg},
        sd=all_sd,
        labour_market=np.zeros(n_reg),
        within={"structure": "operator"},
        parent={"structure": parent_arr},
        region_p=region_p,
        operator_p=operator_p,
        structures=structures,
        operator_practice={k: dict(v) for k, v in CROSSED_PRACTICE.items()},
    )
