"""Matplotlib figures as inline SVG: text kept as (escaped) text, ids unique in the page.

capmodel's own figures are made with ``matplotlib.figure.Figure`` directly: no pyplot, no
backend switch, no global state touched outside a ``rc_context``. ArviZ's plots
(``arviz_plots``, matplotlib backend) make theirs with ``pyplot.subplots``:
:func:`collection_to_svg` renders such a figure the same way and then closes it, so that
pyplot keeps no reference to it.
"""

from __future__ import annotations

import functools
import io
import itertools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import matplotlib
from markupsafe import Markup
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

_COUNTER = itertools.count(1)
_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|xlink:href="#|href="#)([^")]+)')

STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",  # text stays text: searchable, small, escaped by matplotlib
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "figure.dpi": 72,
}


def text(label: object) -> str:
    """A data label for matplotlib: no mathtext interpretation of '$'."""
    return str(label).replace("$", r"\$")


def subplots(
    nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], **kw: Any
) -> tuple[Figure, Any]:
    """A new figure and its axes (as ``pyplot.subplots``, without pyplot)."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kw)


def to_svg(fig: Figure) -> Markup:
    """The figure as an ``<svg>`` element for inlining (no XML prolog, no metadata, ids
    prefixed so that several figures can share a page)."""
    n = next(_COUNTER)
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"capmodel-{n}"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    prefix = f"f{n}-"
    svg = _ID.sub(lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = _REF.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", svg)
    svg = svg.replace("<svg ", '<svg role="img" ', 1)
    return Markup(svg)  # matplotlib escapes every text it writes


def collection_to_svg(pc: Any) -> Markup:
    """The figure of an ``arviz_plots.PlotCollection`` (matplotlib backend) as
    :func:`to_svg`; the figure is closed afterwards (pyplot made it)."""
    from matplotlib import pyplot

    fig = pc.viz["figure"].item()
    try:
        return to_svg(fig)
    finally:
        pyplot.close(fig)


def styled[**P](fn: Callable[P, Markup]) -> Callable[P, Markup]:
    """Run a figure function (which ends with :func:`to_svg`) in the report's style."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Markup:
        with matplotlib.rc_context(STYLE):
            return fn(*args, **kwargs)

    return wrapper
