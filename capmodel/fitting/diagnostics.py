"""Convergence diagnostics of a fit and a pass/warn/fail verdict with its reasons; an
approximate (ADVI) fit gets the verdict 'approximate' instead: the checks do not apply."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

APPROXIMATE = "approximate"  # the verdict of an ADVI fit: no convergence check applies
APPROXIMATE_TEXT = "APPROXIMATE (ADVI): not for inference"
# thresholds: (warn, fail)
RHAT = (1.01, 1.05)
ESS = (400, 100)
BFMI = 0.3
DIVERGENCE_FAIL_SHARE = 0.01
# float32 sampling: the largest change, between consecutive draws, of the Hamiltonian's
# rounding error (float32 against float64 at the same point). NUTS accepts by differences of
# the Hamiltonian: an error that moves by 0.1 tilts an acceptance probability by ~10%.
FLOAT32_ENERGY_WARN = 0.1
TREEDEPTH_WARN_SHARE = 0.01


@dataclass(frozen=True)
class Diagnostics:
    """Summary of the sampler's health; ``verdict`` is 'pass', 'warn' or 'fail' ('approximate'
    for an ADVI fit, whose R-hat, ESS, BFMI and tree-depth numbers are then None)."""

    verdict: str
    reasons: tuple[str, ...]
    max_rhat: float | None  # None: does not apply (approximate fit), as below
    min_ess_bulk: float | None
    min_ess_tail: float | None
    worst_rhat: tuple[str, ...]
    worst_ess: tuple[str, ...]
    divergences: int
    n_draws: int
    min_bfmi: float | None
    treedepth_saturation: float | None
    notes: tuple[str, ...] = field(default_factory=tuple)
    # the max R-hat over the person-level variables (residuals) alone, when there are any:
    # a maximum over thousands has a higher noise floor (docs/models.md, "Reading a warning")
    max_rhat_persons: float | None = None
    max_rhat_others: float | None = None  # over the other (non-person) parameters
    # float32 fits: the largest change between consecutive draws of the potential energy's
    # rounding error (float32 minus float64 at the same point); None for a float64 fit
    float32_energy_error: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def approximate(self) -> bool:
        return self.verdict == APPROXIMATE

    def _rhat_split(self) -> str:
        """'; person residuals 1.012, other parameters 1.008' when a fit has both."""
        if self.max_rhat_persons is None or self.max_rhat_others is None:
            return ""
        return (
            f"; person residuals {self.max_rhat_persons:.3f}, "
            f"other parameters {self.max_rhat_others:.3f}"
        )

    def text(self) -> str:
        if self.approximate:
            return "\n".join(
                [
                    f"convergence: {APPROXIMATE_TEXT}",
                    *[f"  - {r}" for r in self.reasons],
                    *[f"  note: {n}" for n in self.notes],
                ]
            )
        # every sampler statistic is set but for an approximate fit (above)
        assert self.treedepth_saturation is not None
        lines = [
            f"convergence: {self.verdict.upper()}",
            f"  max R-hat {self.max_rhat:.3f} (worst: {', '.join(self.worst_rhat[:3])})"
            + self._rhat_split(),
            f"  min bulk ESS {self.min_ess_bulk:.0f}, min tail ESS {self.min_ess_tail:.0f} "
            f"(worst: {', '.join(self.worst_ess[:3])})",
            f"  divergences {self.divergences} of {self.n_draws} draws; min BFMI "
            f"{self.min_bfmi:.2f}; tree-depth saturation "
            f"{100 * self.treedepth_saturation:.1f}%",
        ]
        if self.float32_energy_error is not None:
            lines.append(
                "  float32: the log-density's rounding error changes by at most "
                f"{self.float32_energy_error:.2g} between draws"
            )
        lines += [f"  - {r}" for r in self.reasons]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _person_elements(post: xr.Dataset, labels: list[str]) -> np.ndarray:
    """Which of ``labels`` (az.summary's, in its order) are elements of a person-level variable."""
    persons = {str(v) for v, da in post.data_vars.items() if "person" in da.dims}
    return np.array([lab.split("[", 1)[0] in persons for lab in labels], dtype=bool)


DIAGNOSTIC_COLUMNS = ("ess_bulk", "ess_tail", "r_hat")


def parameter_diagnostics(post: xr.Dataset) -> pd.DataFrame:
    """ArviZ's bulk and tail ESS and rank-normalised split R-hat of every element of ``post``,
    indexed by ArviZ's element labels (``name[c1, c2]``): the columns of
    ``az.summary(kind="diagnostics")`` that the verdict and the report use, computed as
    ``az.summary`` does, without its two MCSEs (two more ESS passes over every element: 40% of
    the time on a fit's 6,396 person residuals). The verdict and every report table use these
    numbers."""
    if not post.data_vars:
        return pd.DataFrame(columns=list(DIAGNOSTIC_COLUMNS))
    from arviz_base import dataset_to_dataframe

    dims = ["chain", "draw"]
    parts = [
        post.azstats.ess(sample_dims=dims, method="bulk").expand_dims(summary=["ess_bulk"]),
        post.azstats.ess(sample_dims=dims, method="tail").expand_dims(summary=["ess_tail"]),
        post.azstats.rhat(sample_dims=dims).expand_dims(summary=["r_hat"]),
    ]
    return dataset_to_dataframe(xr.concat(parts, dim="summary"), sample_dims=["summary"]).T


def _stat(stats: xr.Dataset, *names: str) -> xr.DataArray | None:
    for n in names:
        if n in stats:
            return stats[n]
    return None


def bfmi(energy: xr.DataArray) -> np.ndarray:
    """Bayesian fraction of missing information per chain (``az.bfmi``; energy: chain x draw)."""
    tree = xr.DataTree.from_dict({"sample_stats": xr.Dataset({"energy": energy})})
    return np.asarray(az.bfmi(tree)["energy"].values, dtype=float)


def diagnose(
    idata: xr.DataTree, notes: tuple[str, ...] = (), max_treedepth: int = 10
) -> Diagnostics:
    """R-hat, bulk/tail ESS, divergences, BFMI and tree-depth saturation of ``idata``."""
    post = idata["posterior"].dataset
    table = parameter_diagnostics(post)
    labels = [str(x) for x in table.index]
    rhat = table["r_hat"].to_numpy(dtype=float)
    ess_bulk = table["ess_bulk"].to_numpy(dtype=float)
    ess_tail = table["ess_tail"].to_numpy(dtype=float)
    stats = idata["sample_stats"].dataset
    div = _stat(stats, "diverging")
    n_draws = int(post.sizes["chain"] * post.sizes["draw"])
    divergences = int(div.values.sum()) if div is not None else 0
    energy = _stat(stats, "energy")
    min_bfmi = float(np.min(bfmi(energy))) if energy is not None else float("nan")
    saturated = _stat(stats, "maxdepth_reached", "reached_max_treedepth")
    if saturated is not None:
        sat = float(np.asarray(saturated.values, dtype=float).mean())
    else:
        depth = _stat(stats, "depth", "tree_depth")
        sat = float((depth.values >= max_treedepth).mean()) if depth is not None else 0.0
    rhat_f = np.where(np.isfinite(rhat), rhat, 1.0)
    max_rhat = float(rhat_f.max()) if rhat_f.size else float("nan")
    worst_rhat = tuple(labels[i] for i in np.argsort(-rhat_f)[:5])
    ess_b = np.where(np.isfinite(ess_bulk), ess_bulk, np.inf)
    ess_t = np.where(np.isfinite(ess_tail), ess_tail, np.inf)
    worst_ess = tuple(labels[i] for i in np.argsort(ess_b)[:5])
    person = _person_elements(post, labels)
    max_rhat_persons = float(rhat_f[person].max()) if person.any() else None
    max_rhat_others = float(rhat_f[~person].max()) if (~person).any() else None
    min_b, min_t = float(ess_b.min()), float(ess_t.min())

    fails, warns = [], []
    if max_rhat > RHAT[1]:
        fails.append(f"R-hat {max_rhat:.3f} > {RHAT[1]} ({worst_rhat[0]}): chains disagree")
    elif max_rhat > RHAT[0]:
        warns.append(f"R-hat {max_rhat:.3f} > {RHAT[0]} ({worst_rhat[0]})")
    low = min(min_b, min_t)
    if low < ESS[1]:
        fails.append(f"effective sample size {low:.0f} < {ESS[1]} ({worst_ess[0]})")
    elif low < ESS[0]:
        warns.append(f"effective sample size {low:.0f} < {ESS[0]} ({worst_ess[0]})")
    if divergences and divergences / n_draws > DIVERGENCE_FAIL_SHARE:
        fails.append(
            f"{divergences} divergent transitions ({100 * divergences / n_draws:.1f}% "
            "of draws): the posterior geometry is not explored reliably"
        )
    elif divergences:
        warns.append(f"{divergences} divergent transitions")
    if np.isfinite(min_bfmi) and min_bfmi < BFMI:
        warns.append(f"BFMI {min_bfmi:.2f} < {BFMI}: poor exploration of the energy")
    if sat > TREEDEPTH_WARN_SHARE:
        warns.append(f"{100 * sat:.1f}% of draws hit the maximum tree depth")
    rounding = _stat(stats, "float32_energy_error")
    f32_error = None
    if rounding is not None:
        f32_error = float(np.abs(np.diff(np.asarray(rounding.values, dtype=float), axis=1)).max())
        if not np.isfinite(f32_error) or f32_error > FLOAT32_ENERGY_WARN:
            warns.append(
                f"float32 rounding of the log-density changes by up to {f32_error:.3g} between "
                f"draws (> {FLOAT32_ENERGY_WARN}): refit with precision float64"
            )
    verdict = "fail" if fails else ("warn" if warns else "pass")
    return Diagnostics(
        verdict,
        tuple(fails + warns),
        max_rhat,
        min_b,
        min_t,
        worst_rhat,
        worst_ess,
        divergences,
        n_draws,
        min_bfmi,
        sat,
        tuple(notes),
        max_rhat_persons,
        max_rhat_others,
        f32_error,
    )


def approximate_diagnostics(
    n_draws: int, reasons: tuple[str, ...], notes: tuple[str, ...] = ()
) -> Diagnostics:
    """The diagnostics of an approximate fit: verdict 'approximate', no R-hat, ESS or sampler
    statistics (its draws are independent draws from the approximation)."""
    return Diagnostics(
        APPROXIMATE,
        tuple(reasons),
        None,
        None,
        None,
        (),
        (),
        0,
        int(n_draws),
        None,
        None,
        tuple(notes),
    )
