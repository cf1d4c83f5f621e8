"""Checks of the groups: nesting cycles, empty and single levels, declared and inferred nesting."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from capmodel.data.schema import Group
from capmodel.data.validate.context import Context
from capmodel.data.validate.report import MAX_EXAMPLES, Findings, Problem, problem
from capmodel.data.validate.wording import preview, rows_text, where


@dataclass(frozen=True, kw_only=True)
class Cycles(Findings):
    """``nesting_cycle`` problems and the groups caught in a cycle."""

    cyclic: frozenset[str] = frozenset()


@dataclass(frozen=True, kw_only=True)
class Nesting(Findings):
    """Inner group -> outer group (declared, then inferred) and the inferred subset."""

    nesting: dict[str, str] = field(default_factory=dict)
    inferred: dict[str, str] = field(default_factory=dict)


def check_nesting_cycles(ctx: Context) -> Cycles:
    """``nesting_cycle``: groups declared within each other in a cycle."""
    within = {g.column: g.within for g in ctx.schema.groups if g.within}
    reported: set[frozenset[str]] = set()
    cyclic: set[str] = set()
    out = []
    for start in within:
        chain = [start]
        cur = within.get(start)
        while cur is not None:
            if cur in chain:
                cycle = chain[chain.index(cur) :]
                cyclic |= set(cycle)
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    path = " -> ".join(repr(c) for c in [*cycle, cur])
                    out.append(
                        problem(
                            "nesting_cycle",
                            cycle[0],
                            f"groups are declared within each other in a cycle ({path}); "
                            "expected a hierarchy (each group within a coarser one)",
                            values=cycle,
                        )
                    )
                break
            chain.append(cur)
            cur = within.get(cur)
    return Cycles(problems=tuple(out), cyclic=frozenset(cyclic))


def _checked_groups(ctx: Context) -> list[Group]:
    return [g for g in ctx.schema.groups if g.column in ctx.labels]


def _observed(ctx: Context, g: Group) -> list[str]:
    counts = Counter(lb for lb in ctx.labels[g.column] if lb is not None)
    return [lv for lv in ctx.levels[g.column] if counts[lv]]


def check_group_levels(ctx: Context) -> Findings:
    """``empty_group_level`` for declared levels without rows; warn about single-level groups."""
    problems, warnings = [], []
    for g in _checked_groups(ctx):
        counts = Counter(lb for lb in ctx.labels[g.column] if lb is not None)
        observed = _observed(ctx, g)
        if g.levels is not None:
            empty = [lv for lv in g.levels if not counts[lv]]
            if empty:
                after = f" (after dropping {len(ctx.dropped)} rows)" if ctx.dropped else ""
                problems.append(
                    problem(
                        "empty_group_level",
                        g.column,
                        f"{where(g.column, 'groups')}: declared level"
                        f"{'s' if len(empty) > 1 else ''} {preview(empty, MAX_EXAMPLES)} "
                        f"{'have' if len(empty) > 1 else 'has'} no rows{after}; expected every "
                        "declared level to have at least one row (remove unused levels from "
                        "Group.levels)",
                        values=empty,
                    )
                )
        if len(observed) == 1:
            warnings.append(
                f"{where(g.column, 'groups')} has a single level "
                f"{observed[0]!r}: its effect cannot be separated from the intercept"
            )
    return Findings(problems=tuple(problems), warnings=tuple(warnings))


def _n_outer(ctx: Context, inner: str, outer: str) -> pd.Series:
    """Per level of ``inner``: how many levels of ``outer`` it appears under."""
    pairs = pd.DataFrame({"i": ctx.labels[inner], "o": ctx.labels[outer]})
    pairs = pairs[pairs["i"].notna().to_numpy() & pairs["o"].notna().to_numpy()]
    return pairs.drop_duplicates().groupby("i", sort=False).size()


def _nesting_problem(ctx: Context, inner: str, outer: str) -> Problem | None:
    n_outer = _n_outer(ctx, inner, outer)
    violating = set(n_outer.index[n_outer.to_numpy() > 1])
    if not violating:
        return None
    a, b = ctx.labels[inner], ctx.labels[outer]
    found: dict[str, dict[str, list[int]]] = {}
    for i in np.flatnonzero(np.fromiter((x in violating for x in a), bool, ctx.n)):
        if b[i] is not None:
            found.setdefault(a[i], {}).setdefault(b[i], []).append(int(i) + 1)
    bad = list(found.items())
    parts, rows = [], []
    for lv, outs in bad[:MAX_EXAMPLES]:
        ordered = sorted(outs.items(), key=lambda kv: -len(kv[1]))
        rows += [r for _, rs in ordered[1:] for r in rs]
        under = " and ".join(f"{o!r} ({rows_text(rs, 3)})" for o, rs in ordered)
        parts.append(f"{lv!r} appears under {len(outs)} levels of {outer!r}: {under}")
    more = f"; and {len(bad) - MAX_EXAMPLES} more" if len(bad) > MAX_EXAMPLES else ""
    return problem(
        "nesting_violated",
        inner,
        f"group {inner!r} is declared within {outer!r}, but {'; '.join(parts)}{more}; "
        f"expected each level of {inner!r} under exactly one level of {outer!r} (if "
        "same-named levels are different units, give them distinct labels)",
        rows=sorted(rows),
        values=[lv for lv, _ in bad],
        n_rows=len(rows),
    )


def check_nesting(ctx: Context) -> Nesting:
    """``nesting_violated`` for declared nesting; infer (and warn about) undeclared nesting."""
    groups = _checked_groups(ctx)
    problems, warnings = [], []
    nesting: dict[str, str] = {}
    for g in groups:
        if g.within and g.within in ctx.labels and g.column not in ctx.cyclic:
            found = _nesting_problem(ctx, g.column, g.within)
            if found is not None:
                problems.append(found)
            nesting[g.column] = g.within
    observed = {g.column: _observed(ctx, g) for g in groups}
    inferred: dict[str, str] = {}
    for g in groups:
        if g.within is not None:
            continue
        n_inner = len(observed[g.column])
        best: str | None = None
        for h in groups:
            n_outer = len(observed[h.column])
            if h.column == g.column or n_outer < 2 or n_outer >= n_inner:
                continue
            if best is not None and n_outer <= len(observed[best]):
                continue
            if (_n_outer(ctx, g.column, h.column) == 1).all():
                best = h.column
        if best is not None:
            nesting[g.column] = best
            inferred[g.column] = best
            warnings.append(
                f"group {g.column!r} is not declared within another group, but each of its "
                f"{n_inner} levels lies within exactly one level of {best!r}: it is treated as "
                f"nested within {best!r} (inferred; declare within = {best!r} to make it "
                "explicit)"
            )
    return Nesting(
        problems=tuple(problems), warnings=tuple(warnings), nesting=nesting, inferred=inferred
    )
