"""A drawing of the fitted model's structure, from its spec (no graphviz needed):
supports -> capability (with conversion factors) -> indicators and realisations, groups."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from markupsafe import Markup
from matplotlib.patches import FancyBboxPatch

from capmodel.report.svg import styled, subplots, text, to_svg

SUPPORT, LATENT, OBSERVED, OTHER = "#dbe8f5", "#fde7c8", "#e3f1e4", "#eeeeee"
BLUE_DIRECT = "#1f4e79"


@dataclass(frozen=True)
class Structure:
    """What the drawing shows (taken from a spec and the fitted data)."""

    supports: tuple[str, ...]
    conversion: tuple[tuple[str, tuple[str, ...]], ...]
    capability_covariates: tuple[str, ...]
    indicators: tuple[str, ...]
    realisations: tuple[str, ...]
    direct_effects: tuple[str, ...]
    realisation_covariates: tuple[str, ...]
    groups: tuple[str, ...]
    groups_in: tuple[str, ...]
    latent: bool
    time: bool


def structure_of(spec, waves: tuple[int, ...] | list[int]) -> Structure:
    """The :class:`Structure` of a spec fitted to data with these waves."""
    return Structure(
        supports=tuple(spec.supports),
        conversion=tuple(spec.conversion),
        capability_covariates=tuple(spec.capability_covariates()),
        indicators=tuple(spec.indicators),
        realisations=tuple(spec.realisations),
        direct_effects=tuple(spec.direct_effects) if spec.realisations else (),
        realisation_covariates=tuple(spec.realisation_covariates()),
        groups=tuple(spec.groups),
        groups_in=tuple(
            eq
            for eq in ("capability", "realisations")
            if any(spec.group_in(g, eq) for g in spec.groups)
        ),
        latent=bool(spec.latent),
        time=bool(spec.realisations) and spec.time != "no" and len(waves) > 1,
    )


def _box(
    ax,
    x: float,
    y: float,
    label: str,
    colour: str,
    style: str = "round,pad=0.35",
    size: float = 8.5,
    bold: bool = False,
):
    return ax.text(
        x,
        y,
        text(label),
        ha="center",
        va="center",
        fontsize=size,
        fontweight="bold" if bold else "normal",
        bbox={"boxstyle": style, "fc": colour, "ec": "#555555", "lw": 0.8},
    )


def _arrow(ax, src, dst, dashed: bool = False, colour: str = "#444444") -> None:
    """An arrow from box ``src`` to box ``dst`` (edge to edge)."""
    ax.annotate(
        "",
        xy=(0.5, 0.5),
        xycoords=dst,
        xytext=(0.5, 0.5),
        textcoords=src,
        arrowprops={
            "arrowstyle": "-|>",
            "color": colour,
            "lw": 0.9,
            "ls": "--" if dashed else "-",
            "shrinkA": 0,
            "shrinkB": 0,
            "patchA": src.get_bbox_patch(),
            "patchB": dst.get_bbox_patch(),
            "connectionstyle": "arc3,rad=0",
        },
    )


def _column(n: int, top: float, bottom: float) -> np.ndarray:
    if n == 1:
        return np.array([(top + bottom) / 2])
    return np.linspace(top, bottom, n)


def _short(items: tuple[str, ...], limit: int = 4) -> str:
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" +{len(items) - limit}"


def _frame(ax, x0: float, x1: float, y0: float, y1: float, label: str) -> tuple:
    """A light frame around a column of boxes; returns its left/right mid points."""
    ax.add_patch(
        FancyBboxPatch(
            (x0, y0),
            x1 - x0,
            y1 - y0,
            boxstyle="round,pad=0.01",
            fc="none",
            ec="#b0b0b0",
            lw=0.8,
            ls=":",
        )
    )
    ax.text((x0 + x1) / 2, y1 + 0.02, label, ha="center", va="bottom", fontsize=8, color="#555555")
    return (x0 - 0.012, (y0 + y1) / 2), (x1 + 0.012, (y0 + y1) / 2)


def _line(
    ax, start: tuple, end: tuple, dashed: bool = False, colour: str = "#444444", rad: float = 0.0
) -> None:
    """An arrow between two points (axes coordinates)."""
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        arrowprops={
            "arrowstyle": "-|>",
            "color": colour,
            "lw": 0.9,
            "ls": "--" if dashed else "-",
            "shrinkA": 0,
            "shrinkB": 0,
            "connectionstyle": f"arc3,rad={rad}",
        },
    )


@styled
def model_graph(s: Structure) -> Markup:
    """The structure as an SVG drawing."""
    fig, ax = subplots(figsize=(9.5, 5.8))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.04)
    conv = dict(s.conversion)
    ys = _column(len(s.supports), 0.88, 0.46)
    sup = [_box(ax, 0.1, y, k, SUPPORT) for k, y in zip(s.supports, ys, strict=True)]
    if sup:
        _frame(ax, 0.02, 0.18, ys.min() - 0.05, ys.max() + 0.05, "supports")
    has_ind = s.latent and bool(s.indicators)
    if has_ind:
        yi = _column(len(s.indicators), 0.95, 0.68)
        ind = [_box(ax, 0.88, y, j, OBSERVED) for j, y in zip(s.indicators, yi, strict=True)]
        _frame(ax, 0.77, 0.99, yi.min() - 0.04, yi.max() + 0.03, "indicators")
    else:
        ind = []
    yr = _column(len(s.realisations), 0.54 if has_ind else 0.88, 0.14)
    real = [_box(ax, 0.88, y, r, OBSERVED) for r, y in zip(s.realisations, yr, strict=True)]
    if real:
        real_left, _ = _frame(ax, 0.77, 0.99, yr.min() - 0.04, yr.max() + 0.04, "realisations")
    groups = _box(ax, 0.5, 0.04, "groups: " + ", ".join(s.groups), OTHER) if s.groups else None
    if s.latent:
        cap = _box(ax, 0.52, 0.62, "capability\n(latent)", LATENT, "ellipse,pad=0.4", 10, bold=True)
        for box, k in zip(sup, s.supports, strict=True):
            _arrow(ax, box, cap)
            if k in conv:
                y = box.get_position()[1]
                ax.text(
                    0.3,
                    0.62 + (y - 0.62) * 0.55,
                    text("× " + ", ".join(conv[k])),
                    fontsize=7.5,
                    color="#7a4b00",
                    ha="center",
                    va="center",
                    style="italic",
                    bbox={"fc": "white", "ec": "none", "pad": 0.5},
                )
        if s.capability_covariates:
            cov = _box(
                ax,
                0.34,
                0.3,
                "factors & confounders:\n" + _short(s.capability_covariates),
                OTHER,
                size=7.5,
            )
            _arrow(ax, cov, cap)
        for box in ind + real:
            _arrow(ax, cap, box, colour="#2e7d32")
        if groups is not None and "capability" in s.groups_in:
            _arrow(ax, groups, cap, dashed=True, colour="#777777")
    if real:
        if s.direct_effects and sup:
            _line(
                ax,
                (0.1, ys.min() - 0.06),
                (real_left[0], real_left[1] - 0.08),
                dashed=True,
                colour=BLUE_DIRECT,
                rad=0.3,
            )
            ax.text(
                0.19,
                0.12,
                text(f"direct effects of supports\n({_short(s.direct_effects)})"),
                fontsize=7,
                color=BLUE_DIRECT,
                ha="center",
            )
        if s.realisation_covariates and not s.latent:
            _box(
                ax,
                0.45,
                0.55,
                "factors & confounders:\n" + _short(s.realisation_covariates),
                OTHER,
                size=7.5,
            )
            _line(ax, (0.6, 0.55), real_left)
        if groups is not None and "realisations" in s.groups_in:
            _line(ax, (0.58, 0.05), (real_left[0], yr.min()), dashed=True, colour="#777777")
        if s.time:
            _box(ax, 0.66, 0.31, "time since exit\nlog(months / 6)", OTHER, size=7.5)
            _line(ax, (0.72, 0.31), (real_left[0], yr.min() + 0.1))
    return to_svg(fig)
