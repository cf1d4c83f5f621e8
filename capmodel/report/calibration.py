"""Links from a fit's report to the simulation-based calibration (SBC) studies of the same
spec beside it: a folder next to the report's folder that holds an SBC study of a spec of
the same name (``study.json`` with ``kind = "sbc"``) and its page ``sbc.html``, as
``capmodel sbc SPEC --out FITS/sbc`` writes next to ``FITS/<fit>``. The study's files are read
as data (the report does not depend on capmodel.studies); the SBC page links back the same
way."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from capmodel.report.blocks import Text

STUDY_FILE = "study.json"
SUMMARY_FILE = "summary.json"
PAGE_FILE = "sbc.html"


@dataclass(frozen=True)
class StudyLink:
    """An SBC study of the fit's spec: where its page is (relative to the report) and what
    its summary says (empty while the study has not written one)."""

    href: str
    name: str
    summary: dict

    def text(self) -> Markup:
        s = self.summary
        if not s:
            what = "no summary yet"
        else:
            what = (
                f"verdict {str(s.get('verdict', '?')).upper()}: {s.get('finished', 0)} of "
                f"{s.get('reps', 0)} replicates finished, "
                f"{len(s.get('estimands_failing') or [])} of {s.get('estimands', 0)} estimands "
                f"failing at the family-wise {100 * float(s.get('family_wise_level', 0.01)):g}% "
                "level"
            )
        return Markup('Simulation-based calibration of this spec: <a href="{}">{}</a> ({})').format(
            self.href, self.name, what
        )

    def block(self) -> Text:
        verdict = str(self.summary.get("verdict", ""))
        return Text(self.text(), cls={"pass": "ok", "fail": "fail"}.get(verdict, "note"))


def _read(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def sbc_studies(report_path: str | Path, spec_name: str) -> list[StudyLink]:
    """The SBC studies of ``spec_name`` in the folders beside the report's folder."""
    report_path = Path(report_path).resolve()
    here = report_path.parent
    found = []
    for study in sorted(here.parent.glob(f"*/{STUDY_FILE}")):
        folder = study.parent
        settings = _read(study)
        if settings.get("kind") != "sbc" or settings.get("spec_name") != spec_name:
            continue
        if folder == here or not (folder / PAGE_FILE).is_file():
            continue
        href = Path(os.path.relpath(folder / PAGE_FILE, here)).as_posix()
        found.append(StudyLink(href, folder.name, _read(folder / SUMMARY_FILE)))
    return found
