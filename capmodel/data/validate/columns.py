"""Checks of the table's columns against the schema: roles, duplicates, missing, ignored, empty."""

from __future__ import annotations

from collections import Counter

from capmodel.data.validate.context import Context, Entry
from capmodel.data.validate.report import Problem, problem
from capmodel.data.validate.wording import ROLE_LABEL, did_you_mean, preview, suggest


def check_roles(ctx: Context) -> tuple[Problem, ...]:
    """``column_in_two_roles``: a column declared in two roles, or twice in one."""
    out = []
    for col, roles in ctx.schema.role_of().items():
        if len(roles) < 2:
            continue
        distinct = list(dict.fromkeys(roles))
        if len(distinct) > 1:
            msg = (
                f"column {col!r} is declared in {len(distinct)} roles "
                f"({', '.join(distinct)}); expected each column in exactly one role"
            )
        else:
            msg = (
                f"column {col!r} is declared {len(roles)} times in {roles[0]}; "
                "expected each column to be declared once"
            )
        out.append(problem("column_in_two_roles", col, msg, values=distinct))
    return tuple(out)


def duplicated_columns(ctx: Context) -> frozenset[str]:
    """The schema's columns that appear more than once in the data."""
    wanted = set(ctx.schema.columns())
    counts = Counter(ctx.df.columns)
    return frozenset(c for c, k in counts.items() if k > 1 and c in wanted)


def check_duplicate_columns(ctx: Context) -> tuple[Problem, ...]:
    """``duplicate_column``: a column the schema uses appears more than once."""
    counts = Counter(ctx.df.columns)
    return tuple(
        problem(
            "duplicate_column",
            c,
            f"column {c!r} appears {counts[c]} times in the data; expected each column name "
            "once (rename or drop the copies)",
        )
        for c in sorted(duplicated_columns(ctx))
    )


def check_empty(ctx: Context) -> tuple[Problem, ...]:
    """``empty``: the data has no rows."""
    if ctx.n:
        return ()
    return (problem("empty", None, "the data has no rows; expected at least one data row"),)


def check_missing_columns(ctx: Context) -> tuple[Problem, ...]:
    """``missing_column``: a column the schema names is not in the data."""
    df = ctx.df
    role_of = ctx.schema.role_of()
    data_cols = list(df.columns)
    names = [str(c) for c in data_cols]
    used = {c for c in role_of if c in df.columns}
    free = [nm for c, nm in zip(data_cols, names, strict=True) if c not in used]
    out = []
    for col, roles in role_of.items():
        if col in df.columns:
            continue
        hint = did_you_mean(suggest(col, free, n=2))
        if not hint and col in [n for n in df.index.names if n is not None]:
            hint = " (it is the DataFrame's index: call df.reset_index() first)"
        label = ", ".join(ROLE_LABEL[r] for r in dict.fromkeys(roles))
        out.append(
            problem(
                "missing_column",
                col,
                f"column {col!r} ({label}) is not in the data{hint}; expected a column named "
                f"{col!r}; the data has {len(names)} columns: {preview(names)}",
            )
        )
    return tuple(out)


def present_entries(ctx: Context) -> tuple[Entry, ...]:
    """The schema's entries whose column is in the data exactly once."""
    dups = duplicated_columns(ctx)
    return tuple(e for e in ctx.entries if e.column in ctx.df.columns and e.column not in dups)


def check_ignored_columns(ctx: Context) -> tuple[str, ...]:
    """A warning naming the data's columns the schema does not name."""
    wanted = set(ctx.schema.columns())
    counts = Counter(c for c in ctx.df.columns if c not in wanted)
    ignored = [str(c) + (f" (x{k})" if k > 1 else "") for c, k in counts.items()]
    if not ignored:
        return ()
    return (
        f"{len(ignored)} column{'s' if len(ignored) > 1 else ''} not named by the schema "
        f"{'are' if len(ignored) > 1 else 'is'} ignored: {preview(ignored, 10)}",
    )
