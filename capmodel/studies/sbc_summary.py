"""The SBC study's results from its replicate records: per-replicate table, ranks, and per
estimand the ECDF-difference test against the simultaneous band (capmodel.studies.ecdf), its
exact p-value and Holm's adjustment over the estimands, and the rank histogram; written as CSV
and JSON, atomically.

Two levels: an estimand is *outside its band* when its ECDF leaves its own simultaneous
``prob`` band (about 1 - prob of calibrated estimands are, by chance), and *fails* when its
Holm-adjusted p-value is below 1 - prob: the study then fails at the family-wise level
1 - prob, i.e. a calibrated model fails with probability at most 1 - prob however many
estimands it has."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from capmodel.atomic import atomic_write_text
from capmodel.studies.ecdf import BAND_PROB, Uniformity, holm, p_values, pit_values, uniformity
from capmodel.studies.fanout import OK, json_safe

RHAT_FAIL = 1.05  # capmodel.fitting.diagnostics.RHAT's failing threshold
REPLICATE_COLUMNS = [
    "replicate",
    "status",
    "L",
    "thin",
    "min_ess",
    "divergences",
    "verdict",
    "max_rhat",
    "seconds",
    "error",
]


@dataclass
class Histogram:
    """Counts of PIT values in ``bins`` equal bins of (0, 1) and the pointwise ``prob``
    binomial interval of a bin's count under uniformity."""

    counts: np.ndarray
    lower: float
    upper: float

    @property
    def bins(self) -> int:
        return int(self.counts.size)


@dataclass
class SBCSummary:
    """What an SBC study found, over the replicates 0..reps-1 recorded so far."""

    reps: int
    settings: dict[str, Any]
    replicates: pd.DataFrame  # one row per recorded replicate (REPLICATE_COLUMNS)
    ranks: pd.DataFrame  # one row per (replicate, estimand): rank, L, pit, truth, mean
    estimands: pd.DataFrame  # one row per estimand: kind, n, verdict, outside, p, Holm p
    tests: dict[str, Uniformity] = field(default_factory=dict)
    histograms: dict[str, Histogram] = field(default_factory=dict)
    prob: float = BAND_PROB

    @property
    def finished(self) -> int:
        return int((self.replicates["status"] == OK).sum()) if len(self.replicates) else 0

    @property
    def failed(self) -> int:
        return int(len(self.replicates) - self.finished)

    @property
    def missing(self) -> int:
        return int(self.reps - len(self.replicates))

    def share(self, column: str) -> float | None:
        """Share of the finished replicates with divergences ('divergent'), a failing
        convergence verdict ('verdict_fail') or R-hat above 1.05 ('rhat')."""
        ok = self.replicates[self.replicates["status"] == OK]
        if not len(ok):
            return None
        if column == "divergent":
            hit = ok["divergences"].fillna(0) > 0
        elif column == "verdict_fail":
            hit = ok["verdict"] == "fail"
        elif column == "rhat":
            hit = ok["max_rhat"].fillna(np.inf) > RHAT_FAIL
        else:
            raise ValueError(f"unknown share {column!r}")
        return float(hit.mean())

    @property
    def failing(self) -> list[str]:
        """The estimands that fail at the family-wise level 1 - prob (Holm-adjusted p-value
        below it)."""
        if not len(self.estimands):
            return []
        return list(self.estimands.loc[self.estimands["verdict"] == "fail", "estimand"])

    @property
    def outside_band(self) -> list[str]:
        """The estimands whose ECDF leaves their own ``prob`` band (failing or not)."""
        if not len(self.estimands):
            return []
        return list(self.estimands.loc[self.estimands["points_outside_band"] > 0, "estimand"])

    @property
    def expected_outside(self) -> float:
        """How many estimands leave their own band by chance alone when all are calibrated
        (at most; the band is simultaneous at ``prob`` for each)."""
        return float(len(self.estimands) * (1 - self.prob))

    @property
    def verdict(self) -> str:
        """'fail' (an estimand fails at the family-wise level), 'incomplete' (replicates
        not run yet or failed, or none finished: the ranks cover only the replicates that
        could be fitted) or 'pass'."""
        if self.failing:
            return "fail"
        if self.missing or self.failed or not self.finished:
            return "incomplete"
        return "pass"

    def to_dict(self) -> dict[str, Any]:
        return json_safe(
            {
                "verdict": self.verdict,
                "reps": self.reps,
                "finished": self.finished,
                "failed": self.failed,
                "missing": self.missing,
                "band_prob": self.prob,
                "family_wise_level": 1 - self.prob,
                "share_divergent": self.share("divergent"),
                "share_verdict_fail": self.share("verdict_fail"),
                "share_rhat_above_1.05": self.share("rhat"),
                "estimands": len(self.estimands),
                "estimands_failing": self.failing,
                "estimands_outside_band": self.outside_band,
                "expected_outside_band_by_chance": self.expected_outside,
                "settings": self.settings,
            }
        )

    def write(self, out: str | Path) -> list[Path]:
        """``summary.json``, ``summary.csv`` (per estimand), ``replicates.csv`` and
        ``ranks.csv`` under ``out``, each atomically."""
        out = Path(out)
        files = {
            "summary.json": json.dumps(self.to_dict(), indent=1) + "\n",
            "summary.csv": self.estimands.to_csv(index=False),
            "replicates.csv": self.replicates.to_csv(index=False),
            "ranks.csv": self.ranks.to_csv(index=False),
        }
        paths = []
        for name, text in files.items():
            atomic_write_text(out / name, text)
            paths.append(out / name)
        return paths


def histogram_bins(n: int) -> int:
    """Bins of a rank histogram of ``n`` values: about 10 expected per bin, 2 to 20."""
    return int(np.clip(n // 10, 2, 20))


def histogram(pit: np.ndarray, prob: float = BAND_PROB) -> Histogram:
    from scipy.stats import binom

    n = int(pit.size)
    bins = histogram_bins(n)
    counts, _ = np.histogram(pit, bins=bins, range=(0.0, 1.0))
    lo, hi = binom.ppf([(1 - prob) / 2, 1 - (1 - prob) / 2], n, 1.0 / bins)
    return Histogram(counts, float(lo), float(hi))


def summarise(
    records: Mapping[str, Mapping[str, Any]],
    reps: int,
    settings: Mapping[str, Any],
    prob: float = BAND_PROB,
) -> SBCSummary:
    """The summary of the records of replicates 0..``reps``-1 (others are left out)."""
    recs = sorted(
        (dict(r) for r in records.values() if 0 <= int(r.get("replicate", -1)) < reps),
        key=lambda r: int(r["replicate"]),
    )
    replicates = pd.DataFrame(
        [{c: r.get(c) for c in REPLICATE_COLUMNS} for r in recs], columns=REPLICATE_COLUMNS
    )
    rows = []
    for r in recs:
        if r.get("status") != OK:
            continue
        rng = np.random.default_rng([int(r["seeds"]["pit"]), 1])
        rk = np.asarray(r["ranks"], dtype=float)
        pit = pit_values(rk, np.full(rk.shape, float(r["L"])), rng)
        for i, name in enumerate(r["estimands"]):
            rows.append(
                {
                    "replicate": int(r["replicate"]),
                    "estimand": name,
                    "kind": r["kinds"][i],
                    "rank": int(rk[i]),
                    "L": int(r["L"]),
                    "pit": float(pit[i]),
                    "truth": r["truth"][i],
                    "mean": r["mean"][i] if r["mean"] else None,
                }
            )
    ranks = pd.DataFrame(
        rows, columns=["replicate", "estimand", "kind", "rank", "L", "pit", "truth", "mean"]
    )
    tests: dict[str, Uniformity] = {}
    hists: dict[str, Histogram] = {}
    est_rows = []
    groups = list(ranks.groupby("estimand", sort=False))
    p = p_values([g["pit"].to_numpy(float) for _, g in groups])
    p_holm = holm(p)
    for (name, g), p_one, p_adj in zip(groups, p, p_holm, strict=True):
        pit = g["pit"].to_numpy(float)
        u = uniformity(pit, prob)
        tests[str(name)] = u
        hists[str(name)] = histogram(pit, prob)
        est_rows.append(
            {
                "estimand": name,
                "kind": g["kind"].iloc[0],
                "n": u.n,
                "verdict": "fail" if p_adj < 1 - prob else "pass",
                "points_outside_band": u.outside,
                "max_abs_ecdf_difference": u.max_abs_difference,
                "p_value": float(p_one),
                "holm_p_value": float(p_adj),
                "mean_pit": float(pit.mean()),
                "median_L": float(g["L"].median()),
            }
        )
    estimands = pd.DataFrame(
        est_rows,
        columns=[
            "estimand",
            "kind",
            "n",
            "verdict",
            "points_outside_band",
            "max_abs_ecdf_difference",
            "p_value",
            "holm_p_value",
            "mean_pit",
            "median_L",
        ],
    )
    return SBCSummary(reps, dict(settings), replicates, ranks, estimands, tests, hists, prob)
