"""The docs, docstrings, specs and report templates cite only files that ship in the repository
(issue 14: references to notes that were never committed, e.g. cep-facts.md)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = (
    "README.md",
    "Makefile",
    "docs/*.md",
    "models/*",
    "capmodel/**/*.py",
    "capmodel/report/templates/*",
    "benchmarks/*.py",
    "tests/*.py",
)
# a path under one of the repository's folders, or any Markdown file named bare
PATH = re.compile(
    r"(?<![\w/.-])((?:docs|models|benchmarks|tests|tools|capmodel)/[\w./-]*\w"
    r"\.(?:md|toml|py|html|css|json|parquet|nc|sh))\b"
)
BARE_MD = re.compile(r"(?<![\w/.-])([\w-]+\.md)\b")
# what a command writes (not a citation): `--out PATH`, `tee PATH`, `> PATH`; the outputs of
# `make bench` (docs/bench/, made by the Makefile) and example names in usage lines
WRITTEN = re.compile(r"(--out|--spec|tee|>)\s+$")
GENERATED = ("docs/bench/",)
PLACEHOLDER = re.compile(r"/(NAME|x)\.\w+$")


def _sources() -> list[Path]:
    files = {p for pattern in SOURCES for p in ROOT.glob(pattern) if p.is_file()}
    return sorted(files - {Path(__file__).resolve()})  # this file names a missing one


def missing_references() -> list[str]:
    markdown = {p.name for p in ROOT.rglob("*.md") if ".venv" not in p.parts}
    out = []
    for path in _sources():
        text = path.read_text(encoding="utf-8", errors="replace")
        where = path.relative_to(ROOT)
        for m in PATH.finditer(text):
            ref = m.group(1)
            if WRITTEN.search(text[max(0, m.start() - 12) : m.start()]):
                continue
            if ref.startswith(GENERATED) or PLACEHOLDER.search(ref):
                continue
            if not (ROOT / ref).exists():
                out.append(f"{where}: {ref}")
        for m in BARE_MD.finditer(text):
            if m.group(1) not in markdown:
                out.append(f"{where}: {m.group(1)}")
    return out


def test_every_cited_file_exists():
    assert missing_references() == []


def test_the_check_finds_a_missing_file(tmp_path, monkeypatch):
    fake = ROOT / "docs" / "domain.md"
    original = fake.read_text(encoding="utf-8")
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: original + " see cep-facts.md")
    assert any(r.endswith("cep-facts.md") for r in missing_references())


def test_models_readme_names_the_specs_that_ship():
    text = (ROOT / "models" / "README.md").read_text(encoding="utf-8")
    specs = sorted(p.name for p in (ROOT / "models").glob("*.toml"))
    for name in specs:
        assert f"`{name}`" in text, name
    assert "arrive with the model issue" not in text  # the stale sentence
