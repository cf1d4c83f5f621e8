"""The estimands of a design study (docs/design.md): each with its 90% posterior interval from
a fit of a plan's survey and its truth from the simulator (capmodel.validation.truth_effects).

At each horizon h the plan observes (months since the CEP: 1, 6, 18), with the effects'
``horizon=h`` (each surveyed person once, at h; capability at h when it changes between
waves) and the study's weights (``survey``: the survey weights, which make the sample stand
for the population whatever the plan's allocation; ``none``: the sample as drawn):

- ``total_effect[SUPPORT, h m]``: total effect of each support, do(k=1) - do(k=0), and of
  the CEP as received vs none (``cep``), on the share with any realisation; truth: the same
  average of every surveyed person's true effect at h (the surveyed persons, each at h:
  :func:`capmodel.simulate.plans.everyone_at`);
- ``nie[SUPPORT, h m]``: the natural indirect effect through capability of the same
  contrasts (truth: the same persons);
- ``pn_share[changers, h m]``: the share of changers (any realisation by h) whose change is
  attributable to the CEP, PN (truth: the respondents at h);
- ``pathway_share[type K, h m]``: the share of pathway types 1-4 (type 5 is observed, not
  estimated; truth: the respondents at h);
- ``mrp_margin[population, h m]``: MRP (post-stratified to the population table) share of the
  whole population with any realisation by h (truth: the realised share among all
  beneficiaries);
- ``mrp_cep_effect[population, h m]``: MRP effect of the CEP as received vs none on any
  realisation in the whole population (truth: the mean of every beneficiary's true effect).

The truths are the simulator's (:class:`Truth`: SampleTruth's functions with each person's
true residual, as in capmodel.validation.truth_effects), with "any realisation" over the
spec's realisations, as the model's own. MRP gives group levels the survey missed (a small
survey may miss a small region) a new level's effect (``allow_unseen_groups``).

A plan with a single wave gets its estimands at that wave (the model then has no time effect
and no other horizon). The NIE and the pathway shares need a latent capability; attribution
and the pathways need realisations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

TOTAL_EFFECTS, NIE, ATTRIBUTION, PATHWAYS, MRP = (
    "total_effects",
    "nie",
    "attribution",
    "pathways",
    "mrp",
)
ESTIMANDS = (TOTAL_EFFECTS, NIE, ATTRIBUTION, PATHWAYS, MRP)
DEFAULT_ESTIMANDS = ESTIMANDS
WEIGHTS = ("survey", "none")
ANY = "any_realisation"
# block key -> (table name, zero is the question: P(interval excludes 0) is reported)
BLOCKS: dict[str, tuple[str, bool]] = {
    "total_effect": ("total effect on any realisation", True),
    "nie": ("NIE through capability, any realisation", True),
    "pn_share": ("PN share among changers", False),
    "pathway_share": ("pathway-type share", False),
    "mrp_margin": ("MRP: population share with any realisation", False),
    "mrp_cep_effect": ("MRP: CEP effect in the population", True),
}


@dataclass(frozen=True)
class Estimate:
    """One estimand of one fit: its interval and its truth."""

    block: str
    what: str
    horizon: int
    estimate: float
    lower: float
    upper: float
    truth: float | None

    @property
    def label(self) -> str:
        return f"{self.block}[{self.what}, {self.horizon} m]"

    def record(self) -> dict[str, Any]:
        zero = BLOCKS[self.block][1]
        finite = bool(np.isfinite(self.lower) and np.isfinite(self.upper))
        truth = None if self.truth is None or not np.isfinite(self.truth) else float(self.truth)
        return {
            "estimand": self.label,
            "block": self.block,
            "what": self.what,
            "horizon": int(self.horizon),
            "estimate": float(self.estimate),
            "lower": float(self.lower),
            "upper": float(self.upper),
            "width": float(self.upper - self.lower) if finite else None,
            "excludes_zero": (bool(self.lower > 0 or self.upper < 0) if zero and finite else None),
            "truth": truth,
            "covered": (
                bool(self.lower <= truth <= self.upper) if truth is not None and finite else None
            ),
        }


def _pair(contrast: str) -> tuple[Any, Any]:
    return ("observed", "none") if contrast == "cep" else ({contrast: 1}, {contrast: 0})


class Truth:
    """The true values of the estimands for the persons of a SampleTruth, with "any
    realisation" over the spec's ``outcomes`` (the model's own "any": a spec may model fewer
    realisations than the simulator draws); the simulator's own functions
    (SampleTruth.probability, gain, pathway rule) with each person's true residual."""

    def __init__(self, sample: Any, outcomes: Sequence[str], weighted: bool):
        self.sample = sample
        self.outcomes = tuple(outcomes)
        self.w = sample.weight if weighted else np.ones(sample.world.n)

    def _mean(self, x: np.ndarray, mask: np.ndarray | None = None) -> float:
        w = self.w if mask is None else self.w * mask
        return float(np.sum(w * x) / np.sum(w))

    def any(self, direct: Any, capability: Any = None) -> np.ndarray:
        """P(any of the outcomes) per person: 1 - prod_r (1 - pi_r)."""
        p = [self.sample.probability(r, direct, capability) for r in self.outcomes]
        return 1.0 - np.prod([1.0 - x for x in p], axis=0)

    def total_effect(self, contrast: str) -> float:
        treated, control = _pair(contrast)
        return self._mean(self.any(treated) - self.any(control))

    def nie(self, contrast: str) -> float:
        treated, control = _pair(contrast)
        return self._mean(self.any(treated, treated) - self.any(treated, control))

    def changed(self) -> np.ndarray:
        """(N, R) observed realisations of the outcomes, 0/1."""
        return self.sample.frame[list(self.outcomes)].to_numpy(dtype=float) == 1

    def pn_share(self) -> float:
        """Weighted mean of PN_i over the persons with an observed change (docs/effects.md)."""
        changed = self.changed()
        pn = np.ones(self.sample.world.n)
        for j, r in enumerate(self.outcomes):
            p1 = self.sample.probability(r, "observed")
            p0 = self.sample.probability(r, "none")
            pn = np.where(changed[:, j], pn * np.maximum(0.0, (p1 - p0) / p1), pn)
        return self._mean(pn, changed.any(axis=1).astype(float))

    def pathway_shares(self, tau: float) -> dict[int, float]:
        """Weighted share of each pathway type (1-5) by the rule of capmodel.effects.pathways."""
        from capmodel.effects.pathways import classify

        frame = self.sample.frame
        failed = (
            frame["decisive_test_failed"].to_numpy(dtype=float)
            if "decisive_test_failed" in frame
            else None
        )
        any_change = self.changed().any(axis=1).astype(float)
        types = classify(self.sample.gain()[None, :], any_change, failed, tau)[0]
        return {t: self._mean((types == t).astype(float)) for t in (1, 2, 3, 4, 5)}


def population_truth(sim: Any, outcomes: Sequence[str], wave: int) -> tuple[float, float]:
    """(share with any of ``outcomes`` realised by ``wave``, effect of the CEP as received vs
    none on it) in the whole simulated population, each person with their true residual."""
    p = sim.persons
    realised = np.column_stack([p[f"r_obs__{r}__m{wave}"].to_numpy() for r in outcomes])
    obs = np.column_stack([p[f"p_obs__{r}__m{wave}"].to_numpy(np.float64) for r in outcomes])
    none = np.column_stack([p[f"p_none__{r}__m{wave}"].to_numpy(np.float64) for r in outcomes])
    effect = np.mean((1 - np.prod(1 - obs, axis=1)) - (1 - np.prod(1 - none, axis=1)))
    return float(realised.max(axis=1).mean()), float(effect)


def plan_estimates(
    fit: Any,
    sim: Any,
    population: Any,
    *,
    estimands: Sequence[str] = DEFAULT_ESTIMANDS,
    weights: str = "survey",
    effect_draws: int | None = 200,
    tau: float = 0.5,
    mrp_seed: int = 1,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(estimates, errors) of one fitted plan: a record per estimand (as
    :meth:`Estimate.record`) and one per block that could not be computed (its error text;
    the other blocks go on)."""
    import capmodel.effects as fx
    from capmodel.simulate.plans import everyone_at
    from capmodel.validation.truth_effects import SampleTruth

    weighted = weights == "survey"
    waves = sorted(int(w) for w in sim.survey["months_since_exit"].unique())
    out: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    latent = bool(fit.spec.latent)
    realisations = bool(fit.design.realisations)
    outcomes = tuple(fit.spec.realisations)
    cache: dict[str, Any] = {}

    def run(block: str, horizon: int, fn: Callable[[], list[Estimate]]) -> None:
        try:
            out.extend(e.record() for e in fn())
        except Exception as exc:  # one block's failure: recorded, the others go on
            errors.append(
                {"block": block, "horizon": horizon, "error": f"{type(exc).__name__}: {exc}"}
            )

    for h in waves:
        model = fx.effect_model(
            fit, draws=effect_draws, weights=weights, horizon=h if len(waves) > 1 else None
        )
        seen = Truth(SampleTruth.of(sim, h), outcomes, weighted)  # the respondents at h
        everyone = Truth(  # every surveyed person, at h
            SampleTruth.of(everyone_at(population, sim, h), h), outcomes, weighted
        )

        def total(model=model, everyone=everyone, h=h) -> list[Estimate]:
            t = fx.total_effects(model).table
            t = t[(t["quantity"] == "difference") & (t["by_variable"] == "all")]
            t = t[t["outcome"] == ANY]
            return [
                Estimate(
                    "total_effect",
                    str(r.contrast),
                    h,
                    r.mean,
                    r.lower,
                    r.upper,
                    everyone.total_effect(str(r.contrast)),
                )
                for r in t.itertuples()
            ]

        def nie(model=model, everyone=everyone, h=h) -> list[Estimate]:
            t = fx.mediation(model).table
            t = t[(t["quantity"] == "nie") & (t["by_variable"] == "all") & (t["outcome"] == ANY)]
            return [
                Estimate(
                    "nie",
                    str(r.contrast),
                    h,
                    r.mean,
                    r.lower,
                    r.upper,
                    everyone.nie(str(r.contrast)),
                )
                for r in t.itertuples()
            ]

        def attribution(model=model, seen=seen, h=h) -> list[Estimate]:
            t = fx.attribution(model).table
            r = t[t["by_variable"] == "all"].iloc[0]
            truth = seen.pn_share()
            return [Estimate("pn_share", "changers", h, r.pn_mean, r.pn_lower, r.pn_upper, truth)]

        def pathways(model=model, seen=seen, h=h) -> list[Estimate]:
            t = fx.pathways(model, data=sim.survey, tau=tau).table
            t = t[(t["by_variable"] == "all") & (t["type"] < 5)]
            truth = seen.pathway_shares(tau)
            return [
                Estimate(
                    "pathway_share",
                    f"type {int(r.type)}",
                    h,
                    r.mean,
                    r.lower,
                    r.upper,
                    truth[int(r.type)],
                )
                for r in t.itertuples()
            ]

        def mrp(h=h) -> list[Estimate]:
            if "base" not in cache:  # every row at its own wave: poststratify picks h
                cache["base"] = fx.effect_model(fit, draws=effect_draws)
            base = cache["base"]
            ps = fx.poststratify(
                base,
                sim.population,
                interventions=["observed", "none"],
                wave=h,
                seed=mrp_seed,
                allow_unseen_groups=True,
            )
            m = ps.table
            m = m[(m["by_variable"] == "all") & (m["outcome"] == ANY)]
            m = m[m["intervention"] == "observed"]
            c = ps.extra["contrasts"]
            c = c[(c["by_variable"] == "all") & (c["outcome"] == ANY)]
            margin, effect = population_truth(sim, outcomes, h)
            return [
                Estimate("mrp_margin", "population", h, r.mean, r.lower, r.upper, margin)
                for r in m.itertuples()
            ] + [
                Estimate("mrp_cep_effect", "population", h, r.mean, r.lower, r.upper, effect)
                for r in c.itertuples()
            ]

        blocks: Mapping[str, tuple[bool, Callable[[], list[Estimate]]]] = {
            TOTAL_EFFECTS: (realisations, total),
            NIE: (realisations and latent, nie),
            ATTRIBUTION: (realisations, attribution),
            PATHWAYS: (realisations and latent, pathways),
            MRP: (realisations, mrp),
        }
        for name in estimands:
            applies, fn = blocks[name]
            if applies:
                run(name, h, fn)
    return out, errors
