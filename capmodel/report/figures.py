"""The report's figures (matplotlib -> inline SVG): forests, rank and energy plots, predictive
checks, published margins and LOO comparisons. Each takes plain numbers, not a fit."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import arviz_plots as azp
import matplotlib
import numpy as np
import pandas as pd
import xarray as xr
from arviz_base.labels import BaseLabeller
from cycler import cycler
from markupsafe import Markup
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from capmodel import intervals
from capmodel.report.stats import SAMPLE_DIMS, Interval
from capmodel.report.svg import collection_to_svg, styled, subplots, text, to_svg

BLUE, GREY, RED, BLACK = "#1f4e79", "#8c8c8c", "#b3261e", "#222222"
CHAIN_COLOURS = ("#1f4e79", "#d08c00", "#2e7d32", "#6a1b9a", "#00838f", "#ad1457")
ROW_INCH = 0.22
RANK_DRAWS = 200  # draws per chain in a rank plot: longer chains are thinned evenly


def _height(n_rows: int, extra: float = 0.9) -> float:
    return max(1.6, ROW_INCH * n_rows + extra)


def _forest_axes(
    ax, rows: Sequence[Interval], zero: float | None, show_labels: bool = True, colour: str = BLUE
) -> None:
    y = np.arange(len(rows))[::-1]
    for yi, r in zip(y, rows, strict=True):
        if r.heading or not np.isfinite(r.mean):
            continue
        ax.plot([r.lo, r.hi], [yi, yi], color=colour, lw=1.6, solid_capstyle="butt")
        ax.plot(
            [r.mean],
            [yi],
            "o",
            ms=4,
            color=colour if r.excludes_zero or zero is None else "white",
            mec=colour,
            mew=1.2,
        )
    if zero is not None:
        ax.axvline(zero, color=GREY, lw=0.8, ls="--", zorder=0)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_yticks(y)
    if show_labels:
        labels = ax.set_yticklabels([text(r.label) for r in rows])
        for lab, r in zip(labels, rows, strict=True):
            if r.heading:
                lab.set_fontweight("bold")
    else:
        ax.tick_params(axis="y", labelleft=False)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color="#e6e6e6", lw=0.6)
    ax.set_axisbelow(True)


@styled
def forest(
    rows: Sequence[Interval],
    *,
    title: str = "",
    xlabel: str = "",
    zero: float | None = 0.0,
    width: float = 7.0,
) -> Markup:
    """One row per estimate: mean (dot; filled when the interval excludes ``zero``) and
    interval (line)."""
    fig, ax = subplots(figsize=(width, _height(len(rows))))
    _forest_axes(ax, rows, zero)
    ax.set_title(text(title))
    ax.set_xlabel(text(xlabel))
    return to_svg(fig)


def _panel_grid(
    n: int, longest: int, *, ncols: int, width: float, extra: float, sharey: bool
) -> tuple[Any, list[tuple[Any, bool, bool]]]:
    """A grid of ``n`` panels of up to ``longest`` rows (unused cells hidden, x shared): the
    figure and, per panel, (axes, at the bottom of its column?, in the first column?)."""
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, axes = subplots(
        nrows,
        ncols,
        figsize=(width, nrows * _height(longest, extra)),
        squeeze=False,
        sharex=True,
        sharey=sharey,
    )
    flat = axes.ravel()
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, [
        (flat[k], k // ncols == nrows - 1 or k + ncols >= n, k % ncols == 0) for k in range(n)
    ]


def _bottom_xlabel(ax, xlabel: str) -> None:
    ax.set_xlabel(text(xlabel))
    ax.xaxis.set_tick_params(labelbottom=True)


@styled
def forest_panels(
    panels: Sequence[tuple[str, Sequence[Interval]]],
    *,
    ncols: int = 3,
    xlabel: str = "",
    zero: float | None = 0.0,
    width: float = 9.0,
) -> Markup:
    """Small multiples of forests (one panel per title); y labels only on the first column
    when every panel has the same rows."""
    same = len({tuple(r.label for r in rows) for _, rows in panels}) == 1
    longest = max(len(rows) for _, rows in panels)
    fig, grid = _panel_grid(len(panels), longest, ncols=ncols, width=width, extra=0.7, sharey=same)
    for (ax, bottom, first), (title, rows) in zip(grid, panels, strict=True):
        _forest_axes(ax, rows, zero, show_labels=not same or first)
        ax.set_title(text(title))
        if bottom:
            _bottom_xlabel(ax, xlabel)
    fig.tight_layout()
    return to_svg(fig)


class _Labeller(BaseLabeller):
    """ArviZ's labels, as data labels for matplotlib (:func:`text`: no mathtext), long
    variable names shortened; ``names`` maps variable names to the labels shown."""

    def __init__(self, names: Mapping[str, str] | None = None) -> None:
        self.names = dict(names or {})

    def var_name_to_str(self, var_name: str | None) -> str | None:
        if var_name is None:
            return None
        name = self.names.get(var_name, str(var_name))
        return text(name if len(name) <= 60 else name[:57] + "...")

    def dim_coord_to_str(self, dim: Any, coord_val: Any, coord_idx: Any) -> str:
        return text(coord_val)


def _chains(n_chain: int, n_draw: int) -> dict[str, np.ndarray]:
    return {"chain": np.arange(n_chain), "draw": np.arange(n_draw)}


@styled
def rank_plot(items: Sequence[tuple[str, np.ndarray]], max_draws: int = RANK_DRAWS) -> Markup:
    """ArviZ's rank plot (``arviz_plots.plot_rank``): per parameter (``items``: label,
    (chain, draw) array), each chain's fractional-rank Δ-ECDF, with the p-value of ArviZ's
    multi-chain uniformity test and the draws that contribute most to a failed test marked.
    Lines close to zero mean the chains mix. Chains longer than ``max_draws`` are thinned
    evenly to at most ``max_draws`` draws (the figure's size grows with the draws)."""
    n = len(items)
    n_chain, n_draw = np.shape(items[0][1])
    # variables named by position: a label may hold any character, '/' included
    names = {f"p{k}": label for k, (label, _) in enumerate(items)}
    ds = xr.Dataset(
        {f"p{k}": (SAMPLE_DIMS, np.asarray(x, dtype=float)) for k, (_, x) in enumerate(items)},
        coords=_chains(n_chain, n_draw),
    )
    factor = math.ceil(n_draw / max_draws)
    ncols = 2 if n > 1 else 1
    nrows = math.ceil(n / ncols)
    with matplotlib.rc_context({"axes.prop_cycle": cycler(color=CHAIN_COLOURS)}):
        pc = azp.plot_rank(
            xr.DataTree.from_dict({"posterior": ds}),
            backend="matplotlib",
            labeller=_Labeller(names),
            visuals={"title": {"size": 8}},
            thin=factor > 1,
            stats={"thin": {"factor": factor}},
            col_wrap=ncols,
            figure_kwargs={"figsize": (9.0, 2.1 * nrows), "layout": "constrained"},
        )
        pc.add_legend("chain", loc="outside upper right", ncols=min(n_chain, 6), frameon=False)
    return collection_to_svg(pc)


@styled
def energy_plot(energy: np.ndarray, threshold: float) -> Markup:
    """ArviZ's energy plot (``arviz_plots.plot_energy``; ``energy``: chain, draw): the
    marginal energy vs the energy transitions (similar widths mean NUTS explores the energy
    well) and each chain's BFMI against ``threshold``."""
    e = np.asarray(energy, dtype=float)
    ds = xr.Dataset({"energy": (SAMPLE_DIMS, e)}, coords=_chains(*e.shape))
    with matplotlib.rc_context({"axes.prop_cycle": cycler(color=(BLUE, "#d08c00"))}):
        pc = azp.plot_energy(
            xr.DataTree.from_dict({"sample_stats": ds}),
            backend="matplotlib",
            threshold=threshold,
            visuals={"legend": {"frameon": False}},
            figure_kwargs={"figsize": (8.0, 2.6), "layout": "constrained"},
        )
    pc.viz["plot"].sel(column="energy").item().set_title("Energy (centred)")
    ax = pc.viz["plot"].sel(column="bfmi").item()
    ax.set_yticks(np.arange(e.shape[0]))  # one row per chain
    ax.set_ylim(-0.5, e.shape[0] - 0.5)
    return collection_to_svg(pc)


@styled
def loss_plot(loss: np.ndarray) -> Markup:
    """ADVI's loss (negative ELBO) per iteration and its running mean; the y axis starts at
    a tenth of the run, so that the end (a flat line: the optimisation settled) is visible."""
    x = np.asarray(loss, dtype=float)
    x = np.where(np.isfinite(x), x, np.nan)
    it = np.arange(1, x.size + 1)
    w = max(1, min(200, x.size // 20))
    smooth = np.convolve(np.nan_to_num(x, nan=np.nanmean(x)), np.ones(w) / w, mode="valid")
    fig, ax = subplots(figsize=(6.0, 2.4))
    ax.plot(it, x, color=GREY, lw=0.4, alpha=0.6, label="loss")
    ax.plot(it[w - 1 :], smooth, color=BLUE, lw=1.2, label=f"running mean ({w} iterations)")
    if smooth.size > 10:
        lo, hi = float(smooth.min()), float(smooth[smooth.size // 10])
        pad = 0.1 * max(hi - lo, 1e-9 + abs(lo) * 1e-4)
        ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel("iteration")
    ax.set_title("ADVI loss (negative ELBO)")
    ax.legend(fontsize=8, frameon=False)
    return to_svg(fig)


@styled
def ppc_overall(rows: Sequence[tuple[str, str, float, float, float, float] | str]) -> Markup:
    """Observed share (red) vs replicated share (mean and interval) per response level.
    ``rows``: a heading (str) or (label, _, observed, mean, lo, hi)."""
    fig, ax = subplots(figsize=(7.0, _height(len(rows), 1.2)))
    y = np.arange(len(rows))[::-1]
    labels = []
    for yi, r in zip(y, rows, strict=True):
        if isinstance(r, str):
            labels.append(r)
            continue
        label, _, obs, mean, lo, hi = r
        labels.append(label)
        ax.plot([lo, hi], [yi, yi], color=GREY, lw=3, solid_capstyle="butt")
        ax.plot([mean], [yi], "|", color=BLACK, ms=8)
        ax.plot([obs], [yi], "D", color=RED if not lo <= obs <= hi else BLUE, ms=4)
    ax.set_yticks(y)
    ticks = ax.set_yticklabels([text(s) for s in labels])
    for t, r in zip(ticks, rows, strict=True):
        if isinstance(r, str):
            t.set_fontweight("bold")
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlim(0, 1)
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel("share of respondents")
    ax.grid(axis="x", color="#e6e6e6", lw=0.6)
    ax.plot([], [], color=GREY, lw=3, label=f"replicated, {intervals.percent()} interval")
    ax.plot([], [], "D", color=BLUE, ms=4, label="observed (inside)")
    ax.plot([], [], "D", color=RED, ms=4, label="observed (outside)")
    ax.legend(fontsize=7, frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=3)
    return to_svg(fig)


@styled
def ppc_scatter(
    panels: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
) -> Markup:
    """Observed vs replicated share per (response level, group level) cell, one panel per
    split; ``panels``: title, observed, replicated mean, lo, hi."""
    n = len(panels)
    fig, axes = subplots(1, n, figsize=(3.2 * n + 0.4, 3.4), squeeze=False)
    for ax, (title, obs, mean, lo, hi) in zip(axes.ravel(), panels, strict=True):
        outside = (obs < lo) | (obs > hi)
        top = float(np.nanmax(np.concatenate([obs, hi, [0.05]]))) * 1.05
        ax.plot([0, top], [0, top], color=GREY, lw=0.8, ls="--")
        for sel, colour in ((~outside, BLUE), (outside, RED)):
            xerr = np.clip([mean[sel] - lo[sel], hi[sel] - mean[sel]], 0, None)
            ax.errorbar(
                mean[sel],
                obs[sel],
                xerr=xerr,
                fmt="o",
                ms=2.5,
                color=colour,
                ecolor=colour,
                elinewidth=0.6,
                alpha=0.8,
            )
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.set_aspect("equal")
        ax.set_title(text(f"{title}: {int(outside.sum())} of {obs.size} outside"), fontsize=9)
        ax.set_xlabel("replicated share")
        ax.set_ylabel("observed share")
    fig.tight_layout()
    return to_svg(fig)


@styled
def margins_plot(rows: Sequence[dict | str]) -> Markup:
    """Published (star), weighted observed (dot) and replicated (interval) shares per item;
    a str row is a table heading."""
    fig, ax = subplots(figsize=(7.5, _height(len(rows), 1.2)))
    y = np.arange(len(rows))[::-1]
    labels = []
    for yi, r in zip(y, rows, strict=True):
        if isinstance(r, str):
            labels.append(r)
            continue
        labels.append(r["item"])
        if np.isfinite(r.get("rep_lo", np.nan)):
            ax.plot([r["rep_lo"], r["rep_hi"]], [yi, yi], color=GREY, lw=3, solid_capstyle="butt")
        ax.plot([r["weighted"]], [yi], "o", color=BLUE, ms=4)
        ax.plot([r["published"]], [yi], "*", color=RED, ms=8)
    ax.set_yticks(y)
    ticks = ax.set_yticklabels([text(s) for s in labels])
    for t, r in zip(ticks, rows, strict=True):
        if isinstance(r, str):
            t.set_fontweight("bold")
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel("share")
    ax.grid(axis="x", color="#e6e6e6", lw=0.6)
    ax.plot([], [], "*", color=RED, ms=8, label="published")
    ax.plot([], [], "o", color=BLUE, ms=4, label="observed (weighted)")
    ax.plot(
        [], [], color=GREY, lw=3, label=f"replicated (weighted), {intervals.percent()} interval"
    )
    ax.legend(fontsize=7, frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=3)
    return to_svg(fig)


@styled
def compare_plot(
    names: Sequence[str],
    elpd: Sequence[float],
    se: Sequence[float],
    diff: Sequence[float],
    dse: Sequence[float],
) -> Markup:
    """ArviZ's comparison plot (``arviz_plots.plot_compare``; models best first): each
    model's elpd difference to the best (``diff``: ArviZ's, zero or negative) ± dSE, with
    ArviZ's line at -4 (smaller differences are negligible); when no difference could be
    computed (a NaN in ``diff``), each model's elpd ± SE."""
    table = pd.DataFrame(
        {"elpd": elpd, "se": se, "elpd_diff": diff, "dse": dse},
        index=[text(n) for n in names],
    )
    relative = bool(np.isfinite(table[["elpd_diff", "dse"]].to_numpy()).all())
    pc = azp.plot_compare(
        table,
        relative_scale=relative,
        backend="matplotlib",
        visuals={"similar_line": {} if relative else False},
        figure_kwargs={"figsize": (6.5, _height(len(names), 1.2))},
    )
    return collection_to_svg(pc)


@styled
def heatmap(
    values: np.ndarray,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    mark: np.ndarray,
    *,
    title: str = "",
) -> Markup:
    """A (row, column) grid of posterior means on a diverging scale centred on zero; a dot
    where ``mark`` is true (the interval excludes zero)."""
    v = np.asarray(values, dtype=float)
    lim = float(np.nanmax(np.abs(v))) or 1.0
    fig, ax = subplots(figsize=(min(9.0, 2.2 + 0.9 * v.shape[1]), _height(v.shape[0], 1.6)))
    im = ax.imshow(v, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    yy, xx = np.nonzero(mark)
    ax.plot(xx, yy, "o", color=BLACK, ms=3)
    ax.set_yticks(np.arange(v.shape[0]), [text(s) for s in row_labels])
    ax.set_xticks(np.arange(v.shape[1]), [text(s) for s in col_labels], rotation=30, ha="right")
    ax.tick_params(length=0)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_title(text(title))
    fig.colorbar(im, ax=ax, shrink=0.6, label="posterior mean")
    return to_svg(fig)


@styled
def mediation_bars(
    panels: Sequence[tuple[str, Sequence[tuple[str, float, float, Interval | None]]]],
    *,
    ncols: int = 3,
    width: float = 9.0,
) -> Markup:
    """One panel per contrast; per outcome a bar of the direct effect (light) followed by the
    indirect effect (dark) and the total effect's interval (line). ``panels``: title, rows of
    (outcome, direct mean, indirect mean, total interval)."""
    longest = max(len(rows) for _, rows in panels)
    fig, grid = _panel_grid(len(panels), longest, ncols=ncols, width=width, extra=0.8, sharey=True)
    for (ax, bottom, _), (title, rows) in zip(grid, panels, strict=True):
        y = np.arange(len(rows))[::-1]
        for yi, (_, nde, nie, te) in zip(y, rows, strict=True):
            ax.barh(yi, nde, height=0.6, color="#9ec5e8")
            ax.barh(yi, nie, left=nde, height=0.6, color=BLUE)
            if te is not None and np.isfinite(te.lo):
                ax.plot([te.lo, te.hi], [yi, yi], color=BLACK, lw=1.0)
        ax.axvline(0, color=GREY, lw=0.8, ls="--", zorder=0)
        ax.set_yticks(y)
        ax.set_yticklabels([text(r[0]) for r in rows])
        ax.tick_params(axis="y", length=0)
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_title(text(title))
        ax.grid(axis="x", color="#e6e6e6", lw=0.6)
        ax.set_axisbelow(True)
        if bottom:
            _bottom_xlabel(ax, "percentage points")
    grid[0][0].legend(
        handles=[
            Patch(color="#9ec5e8", label="direct"),
            Patch(color=BLUE, label="through capability"),
            Line2D([], [], color=BLACK, lw=1.0, label=f"total, {intervals.percent()} interval"),
        ],
        fontsize=7,
        frameon=False,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.08),
        ncols=3,
    )
    fig.tight_layout()
    return to_svg(fig)
