"""The output folder of a study (SBC, grid): created new, or resumed when it holds the same
study, or replaced with ``overwrite``; refused otherwise, before any work.

``OUT/study.json`` records the study's settings. Rerunning the same command (same spec, data
and settings; the number of replicates may change) resumes the study: finished tasks are
kept. Other settings in an existing study folder are refused with the settings that differ,
unless ``overwrite`` (the old study is then deleted first). A folder that exists but holds no
study (and is not empty) is refused unless ``overwrite``, as ``fit --out`` refuses one.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from capmodel.atomic import atomic_write_text
from capmodel.outpaths import check_output_dir
from capmodel.studies.fanout import json_safe

STUDY_FILE = "study.json"


def check_study_path(
    out: str | Path, *, overwrite: bool = False, option: str = "--out", kind: str = "study"
) -> Path:
    """``out`` checked before any data is read: not a file, its parent writable; an existing
    folder must hold a study (``study.json``) or be empty, unless ``overwrite``."""
    target = check_output_dir(out, overwrite=True, option=option)
    is_study = (target / STUDY_FILE).is_file()
    if target.is_dir() and not overwrite and not is_study and any(target.iterdir()):
        raise FileExistsError(
            f"{option} {target}: the directory exists and holds no capmodel {kind} "
            f"({STUDY_FILE}); pass --overwrite to replace it, or choose a new path"
        )
    return target


def _normal(value: Any) -> Any:
    return json.loads(json.dumps(json_safe(value)))


def open_study(
    out: Path,
    settings: Mapping[str, Any],
    *,
    overwrite: bool = False,
    free: Sequence[str] = ("reps",),
    option: str = "--out",
) -> bool:
    """Create (or resume, or with ``overwrite`` replace) the study folder ``out`` for
    ``settings`` and write its ``study.json``; returns True when an earlier run is resumed.
    ``free``: the settings that may differ from the earlier run's (e.g. the replicates)."""
    check_study_path(out, overwrite=overwrite, option=option)
    settings = _normal(dict(settings))
    file = out / STUDY_FILE
    resumed = False
    if file.is_file() and not overwrite:
        old = json.loads(file.read_text(encoding="utf-8"))
        differ = [
            k
            for k in sorted(set(old) | set(settings))
            if k not in free and old.get(k) != settings.get(k)
        ]
        if differ:
            shown = "; ".join(
                f"{k}: {_short(old.get(k))} then, {_short(settings.get(k))} now" for k in differ
            )
            raise FileExistsError(
                f"{option} {out}: holds a study with other settings ({shown}); rerun with "
                "the same settings to resume it, pass --overwrite to start again, or choose "
                "a new path"
            )
        resumed = True
    elif out.exists() and overwrite:
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(file, json.dumps(settings, indent=1) + "\n")
    return resumed


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."
