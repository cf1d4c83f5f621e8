"""Rendering a :class:`~capmodel.report.blocks.Page` to one self-contained HTML file (jinja2
with autoescape; CSS inline; figures inline SVG; a Content-Security-Policy that forbids
scripts and any request) and writing it atomically."""

from __future__ import annotations

from pathlib import Path

import jinja2

from capmodel import __version__
from capmodel.atomic import atomic_write_text
from capmodel.report.blocks import Page

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("capmodel.report", "templates"),
    autoescape=True,  # every string is escaped; only the Markup SVG figures are not
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


def render(page: Page) -> str:
    """The page as HTML text."""
    return _ENV.get_template("page.html").render(page=page, version=__version__)


def write(page: Page, path: str | Path) -> Path:
    """Render ``page`` and write it to ``path`` (a temporary file, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, render(page))
    return path
