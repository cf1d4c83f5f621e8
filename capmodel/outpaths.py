"""Output paths checked before any work: a fit, a simulation, a report or a table is refused in
seconds when its destination cannot take it, not after minutes of computing.

:func:`check_output_dir` for a directory written whole (``fit --out``, ``simulate --out``),
:func:`check_output_file` for one file (``report``, ``effects``, ``compare --out``). Both
return the path and raise :class:`FileExistsError` (an existing directory without
``overwrite``) or :class:`OutputPathError` (a path under a file, an unwritable parent, a file
where a directory is expected or the reverse, an unsupported file type).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path


class OutputPathError(ValueError):
    """An output path that cannot be written (under a file, unwritable, wrong kind or type)."""


def check_output_dir(
    path: str | Path, *, overwrite: bool = False, option: str = "--out", flag: str = "--overwrite"
) -> Path:
    """``path`` as a directory to write whole: new, or existing with ``overwrite``; its
    nearest existing parent a writable directory. ``option``/``flag`` name the option and the
    overwrite switch in messages."""
    target = _non_empty(path, option)
    if target.is_file() or (target.exists() and not target.is_dir()):
        raise OutputPathError(
            f"{option} {target}: is a file, not a directory; expected a directory to write "
            "(a new path, or an existing directory with " + flag + ")"
        )
    if target.is_dir() and not overwrite:
        raise FileExistsError(
            f"{option} {target}: the directory already exists; pass {flag} to replace it "
            "(only once the new content is complete), or choose a new path"
        )
    _check_parent(target, option)
    return target


def check_output_file(
    path: str | Path, *, suffixes: Sequence[str] = (), option: str = "--out"
) -> Path:
    """``path`` as a file to write: not a directory, ending in one of ``suffixes`` (when
    given), its nearest existing parent a writable directory. An existing file is replaced
    (atomically) by the writer."""
    target = _non_empty(path, option)
    if target.is_dir():
        want = f" ending in {', '.join(suffixes)}" if suffixes else ""
        raise OutputPathError(f"{option} {target}: is a directory; expected a file path{want}")
    if suffixes and not target.name.lower().endswith(tuple(s.lower() for s in suffixes)):
        raise OutputPathError(
            f"{option} {target}: unsupported file type; expected a file ending in "
            f"{', '.join(suffixes)}"
        )
    _check_parent(target, option)
    return target


def _non_empty(path: str | Path, option: str) -> Path:
    if not str(path).strip():
        raise OutputPathError(f"{option}: empty path; expected a file or directory name")
    return Path(path).expanduser()


def _check_parent(target: Path, option: str) -> None:
    """The nearest existing ancestor of ``target`` is a directory we can create entries in."""
    parent = target.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise OutputPathError(
            f"{option} {target}: cannot be created, {parent} is a file, not a directory"
        )
    try:  # a real probe: permissions, read-only file systems and root alike
        probe = tempfile.mkdtemp(prefix=".capmodel-probe-", dir=parent)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OutputPathError(
            f"{option} {target}: cannot write in {parent} ({reason}); expected a writable directory"
        ) from None
    shutil.rmtree(probe, ignore_errors=True)
