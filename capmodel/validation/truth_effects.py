"""True causal quantities of a simulated survey sample, from the simulator's own structural model.

The simulator draws each person's residual e_i once and evaluates every world with it, so the
true unit-level counterfactuals of the survey respondents follow from ``generate.
capability_mean`` and ``generate.realisation_logit`` with the true parameters (the same
functions that generated the data; nothing is re-derived here). Quantities are expectations
over the realisation uniforms U given e_i (what the posterior estimates average over), except
:meth:`SampleTruth.realised_necessity`, the realised 0/1 "no change at all without the CEP".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from capmodel.simulate import cep2021 as S
from capmodel.simulate.dataset import Simulated, calibrated_intercepts
from capmodel.simulate.draws import expit
from capmodel.simulate.generate import (
    World,
    capability_growth,
    capability_mean,
    group_effects,
    realisation_logit,
)

Assignment = Mapping[str, int] | str  # {support: 0/1}, "observed" or "none"


@dataclass
class SampleTruth:
    """The survey respondents of a :class:`Simulated` at one wave, with their true residuals."""

    world: World
    e: np.ndarray
    person_id: np.ndarray
    weight: np.ndarray
    frame: pd.DataFrame  # the survey rows (one per respondent) at ``wave``
    wave: int
    scenario: str = "cep2021"

    @classmethod
    def of(cls, sim: Simulated, wave: int = S.SURVEY_WAVE) -> SampleTruth:
        df = sim.survey[sim.survey["months_since_exit"] == wave].reset_index(drop=True)
        scenario = str(sim.params.get("scenario", "cep2021"))
        groups = group_effects(scenario=scenario)
        w = World(n=len(df), waves=(wave,))
        w.levels.update(S.LEVELS)
        w.levels.update(groups.levels)
        for c in (*groups.levels, *S.LEVELS):
            if c in df:
                cats = list(df[c].cat.categories)
                if tuple(cats) != tuple(w.levels[c]):
                    raise ValueError(f"column {c!r}: levels {cats} differ from the simulator's")
                w.cols[c] = df[c].cat.codes.to_numpy().astype(np.int16)
        for c in (*S.MOTIVES, *S.SUPPORTS):
            if c in df:
                w.cols[c] = df[c].to_numpy().astype(np.int16)
        persons = sim.persons.set_index("person_id").loc[df["person_id"]]
        return cls(
            w,
            persons["e"].to_numpy(dtype=np.float64),
            df["person_id"].to_numpy(),
            df["weight"].to_numpy(dtype=np.float64),
            df,
            wave,
            scenario,
        )

    # ---------------------------------------------------------------- structure
    def supports(self, assignment: Assignment) -> dict[str, np.ndarray]:
        """Support columns under ``assignment`` (others as observed)."""
        observed = {k: self.world.cols[k].astype(np.float64) for k in S.SUPPORTS}
        if assignment == "observed":
            return observed
        if assignment == "none":
            return {k: np.zeros(self.world.n) for k in S.SUPPORTS}
        if isinstance(assignment, str):
            raise ValueError(
                f"assignment must be 'observed', 'none' or support -> 0/1, got {assignment!r}"
            )
        out = dict(observed)
        for k, v in dict(assignment).items():
            out[k] = np.full(self.world.n, float(v))
        return out

    def capability_mean(self, assignment: Assignment) -> np.ndarray:
        return capability_mean(
            self.world, self.supports(assignment), group_effects(scenario=self.scenario)
        )

    def capability_at_wave(self, assignment: Assignment) -> np.ndarray:
        """m(s) + log(wave / 6) g(s): capability without its residual at the sample's wave,
        as the wave-level indicators measure it (realisations read m(s) + e)."""
        growth = capability_growth(self.supports(assignment))
        return self.capability_mean(assignment) + np.log(self.wave / S.SURVEY_WAVE) * growth

    def probability(
        self, r: str, direct: Assignment, capability: Assignment | None = None
    ) -> np.ndarray:
        """True pi_r with ``direct`` supports in the direct part and capability under
        ``capability`` (default: the same), person keeping e_i."""
        cal = calibrated_intercepts(self.scenario)
        theta = self.capability_mean(direct if capability is None else capability) + self.e
        eta = realisation_logit(
            self.world,
            r,
            theta,
            self.supports(direct),
            group_effects(scenario=self.scenario),
            cal[f"realisation:{r}"],
            cal["capability_loading_scale"],
            self.wave,
        )
        return expit(eta)

    def probabilities(
        self, direct: Assignment, capability: Assignment | None = None
    ) -> dict[str, np.ndarray]:
        """pi_r for every realisation, and ``any_realisation`` = 1 - prod(1 - pi_r)."""
        out = {r: self.probability(r, direct, capability) for r in S.REALISATIONS}
        out["any_realisation"] = 1.0 - np.prod([1.0 - out[r] for r in S.REALISATIONS], axis=0)
        return out

    def _mean(self, x: np.ndarray, weighted: bool, mask: np.ndarray | None = None) -> float:
        w = self.weight if weighted else np.ones_like(x)
        if mask is not None:
            w = w * mask
        return float(np.sum(w * x) / np.sum(w))

    # ---------------------------------------------------------------- estimands
    def total_effect(
        self,
        treated: Assignment,
        control: Assignment,
        weighted: bool = False,
        mask: np.ndarray | None = None,
    ) -> dict[str, float]:
        """Sample TE per outcome: mean pi(treated) - mean pi(control)."""
        p1, p0 = self.probabilities(treated), self.probabilities(control)
        return {r: self._mean(p1[r] - p0[r], weighted, mask) for r in p1}

    def mediation(
        self, treated: Assignment, control: Assignment, weighted: bool = False
    ) -> dict[str, dict[str, float]]:
        """Sample NDE, NIE, TE per outcome (docs/effects.md, "Mediation through capability")."""
        p11 = self.probabilities(treated, treated)
        p10 = self.probabilities(treated, control)
        p00 = self.probabilities(control, control)
        return {
            r: {
                "nde": self._mean(p10[r] - p00[r], weighted),
                "nie": self._mean(p11[r] - p10[r], weighted),
                "te": self._mean(p11[r] - p00[r], weighted),
            }
            for r in p11
        }

    def conversion(self, support: str, factor: str, level: str) -> float:
        """True CE: mean of m(s_k=1) - m(s_k=0) with ``factor`` set to ``level`` for everyone."""
        saved = self.world.cols[factor]
        self.world.cols[factor] = np.full(
            self.world.n, self.world.levels[factor].index(level), dtype=np.int16
        )
        try:
            diff = self.capability_at_wave({support: 1}) - self.capability_at_wave({support: 0})
        finally:
            self.world.cols[factor] = saved
        return float(diff.mean())

    def observed_any(self) -> np.ndarray:
        return self.frame[list(S.REALISATIONS)].max(axis=1).to_numpy()

    def necessity(self) -> np.ndarray:
        """True PN_i (docs/effects.md, "Attribution") of every respondent (0 for non-changers)."""
        p1 = self.probabilities("observed")
        p0 = self.probabilities("none")
        pn = np.ones(self.world.n)
        for r in S.REALISATIONS:
            changed = self.frame[r].to_numpy() == 1
            ratio = np.maximum(0.0, (p1[r] - p0[r]) / p1[r])
            pn = np.where(changed, pn * ratio, pn)
        return np.where(self.observed_any() == 1, pn, 0.0)

    def necessity_share(self, weighted: bool = False, mask: np.ndarray | None = None) -> float:
        """Share attributable among changers: mean PN_i over respondents with a change."""
        changers = (self.observed_any() == 1).astype(float)
        return self._mean(self.necessity(), weighted, changers if mask is None else changers * mask)

    def realised_necessity(self, sim: Simulated, weighted: bool = False) -> float:
        """Realised share of changers who had no change at all in the no-CEP world."""
        persons = sim.persons.set_index("person_id").loc[self.person_id]
        nec = persons[f"necessary__m{self.wave}"].to_numpy().astype(float)
        return self._mean(nec, weighted, (self.observed_any() == 1).astype(float))

    def gain(self) -> np.ndarray:
        """True capability gain D_i = m(s_i) - m(0) at the wave (capability changes between
        waves: + log(wave / 6) (g(s_i) - g(0)), 0 at 6 months)."""
        return self.capability_at_wave("observed") - self.capability_at_wave("none")

    def pathway_types(self, tau: float, failed: np.ndarray | None = None) -> np.ndarray:
        """True pathway type (1-5) of each respondent (rule of docs/effects.md, "Pathway types")."""
        from capmodel.effects.pathways import classify

        f = self.frame["decisive_test_failed"].to_numpy() if failed is None else failed
        return classify(
            self.gain()[None, :], self.observed_any().astype(float), f.astype(float), tau
        )[0]


def population_margins(sim: Simulated, wave: int = S.SURVEY_WAVE) -> dict[str, float]:
    """True share of each realisation (and any) in the whole simulated population."""
    p = sim.persons
    out = {r: float(p[f"r_obs__{r}__m{wave}"].mean()) for r in S.REALISATIONS}
    out["any_realisation"] = float(p[f"any_obs__m{wave}"].mean())
    return out


def population_cep_effect(sim: Simulated, wave: int = S.SURVEY_WAVE) -> dict[str, float]:
    """True effect of the CEP as received vs no CEP in the whole population, per realisation
    (and any): the mean over everyone of pi_r(observed) - pi_r(none), each person keeping e_i."""
    p = sim.persons
    obs = {r: p[f"p_obs__{r}__m{wave}"].to_numpy(np.float64) for r in S.REALISATIONS}
    none = {r: p[f"p_none__{r}__m{wave}"].to_numpy(np.float64) for r in S.REALISATIONS}
    out = {r: float(np.mean(obs[r] - none[r])) for r in S.REALISATIONS}
    any_obs = 1.0 - np.prod([1.0 - obs[r] for r in S.REALISATIONS], axis=0)
    any_none = 1.0 - np.prod([1.0 - none[r] for r in S.REALISATIONS], axis=0)
    out["any_realisation"] = float(np.mean(any_obs - any_none))
    return out


def population_pathway_shares(
    sim: Simulated, tau: float = 0.5, wave: int = S.SURVEY_WAVE, respondents: bool = False
) -> dict[int, float]:
    """True shares of pathway types 1-4 (true capability gain >= ``tau`` or not, realised change
    or not) in the whole simulated population, or among the survey respondents."""
    p = sim.persons[sim.persons["in_survey"]] if respondents else sim.persons
    high = p["gain"].to_numpy() >= tau
    changed = p[f"any_obs__m{wave}"].to_numpy() == 1
    return {
        1: float(np.mean(changed & ~high)),
        2: float(np.mean(changed & high)),
        3: float(np.mean(~changed & high)),
        4: float(np.mean(~changed & ~high)),
    }
