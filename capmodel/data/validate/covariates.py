"""Checks of the covariates: reference levels, empty or single levels, constant numbers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from capmodel.data.validate.context import Context
from capmodel.data.validate.report import MAX_EXAMPLES, Findings, problem
from capmodel.data.validate.scalars import label
from capmodel.data.validate.wording import did_you_mean, preview, suggest, where


@dataclass(frozen=True, kw_only=True)
class Covariates(Findings):
    """Covariate problems and warnings, and each categorical covariate's reference level."""

    references: dict[str, str] = field(default_factory=dict)


def check_covariates(ctx: Context) -> Covariates:
    """``reference_not_found``; warn about constant, single-level or empty-level covariates."""
    problems, warnings = [], []
    references: dict[str, str] = {}
    for role, covs in (
        ("factors", ctx.schema.factors),
        ("confounders", ctx.schema.confounders),
    ):
        for cov in covs:
            col = cov.column
            if col not in ctx.clean:
                continue
            if cov.kind == "numeric":
                nums = ctx.clean[col][ctx.keep]
                nums = nums[~np.isnan(nums)]
                if len(nums) and np.all(nums == nums[0]):
                    warnings.append(
                        f"{where(col, role)} is constant ({label(float(nums[0]))}): "
                        "its effect cannot be estimated"
                    )
                continue
            levels = ctx.levels[col]
            if cov.reference is not None and cov.reference not in levels:
                problems.append(
                    problem(
                        "reference_not_found",
                        col,
                        f"{where(col, role)}: reference level {cov.reference!r} does not "
                        f"occur in the data{did_you_mean(suggest(cov.reference, levels))}; "
                        f"expected one of the observed levels {list(levels)}",
                        values=[cov.reference],
                    )
                )
                continue
            if not levels:
                continue
            ref = cov.reference if cov.reference is not None else levels[0]
            references[col] = ref
            counts = Counter(lb for lb in ctx.labels[col] if lb is not None)
            empty = [lv for lv in levels if not counts[lv]]
            if empty:
                note = (
                    f"; it includes the reference level {ref!r}, so contrasts against it "
                    "are not identified"
                    if ref in empty
                    else ""
                )
                warnings.append(
                    f"{where(col, role)}: declared level"
                    f"{'s' if len(empty) > 1 else ''} {preview(empty, MAX_EXAMPLES)} "
                    f"{'have' if len(empty) > 1 else 'has'} no rows{note}"
                )
            if len(counts) == 1:
                warnings.append(
                    f"{where(col, role)}: only one level is observed "
                    f"({next(iter(counts))!r}): its effect cannot be estimated"
                )
    return Covariates(problems=tuple(problems), warnings=tuple(warnings), references=references)
