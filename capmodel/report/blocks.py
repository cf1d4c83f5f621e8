"""The building blocks of a report page: sections made of text, figures, tables and
collapsible details. Plain data: html.py renders them (everything escaped but the SVG)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from markupsafe import Markup


@dataclass(frozen=True)
class Text:
    text: str
    cls: str = ""  # "" | "note" | "warn" | "fail" | "ok"
    kind: str = "text"


@dataclass(frozen=True)
class Items:
    """A bulleted list."""

    items: Sequence[str]
    cls: str = ""
    kind: str = "items"


@dataclass(frozen=True)
class Figure:
    svg: Markup
    caption: str
    kind: str = "figure"


@dataclass(frozen=True)
class Table:
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    caption: str = ""
    flags: Sequence[str] = ()  # a CSS class per row ("", "warn", "fail")
    kind: str = "table"


@dataclass(frozen=True)
class Details:
    """A collapsed block: preformatted text or blocks."""

    summary: str
    text: str = ""
    blocks: Sequence[Text | Items | Figure | Table] = ()
    kind: str = "details"


Block = Text | Items | Figure | Table | Details


@dataclass
class Section:
    """One section of the page: an anchor id, a title, a plain-language lead, blocks."""

    id: str
    title: str
    lead: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Page:
    """A whole page: title, subtitle lines, an optional failure banner, sections."""

    title: str
    subtitle: Sequence[str]
    sections: list[Section]
    verdict: str | None = None  # pass / warn / fail, shown as a badge
    banner: str | None = None  # shown in red at the top (a failed fit)
    banner_items: Sequence[str] = ()
    banner_level: str = "fail"  # "fail" (red) or "warn" (amber)
    interval_note: str = ""
    footer: str = ""
