"""The README and docs say what the code does."""

import re
from pathlib import Path

from capmodel.data import PROBLEM_CODES

ROOT = Path(__file__).resolve().parents[1]


def test_readme_starts_with_the_two_setup_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```sh\n(.*?)```", text, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
    assert text.index("```sh") < text.index("capmodel is")


def test_readme_script_runs(tmp_path, monkeypatch):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    script = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    assert len(script.strip().splitlines()) <= 10
    monkeypatch.chdir(tmp_path)
    script = script.replace(
        'simulate("cep2021", seed=1)', 'simulate("cep2021", seed=1, n_population=5000)'
    )
    exec(compile(script, "README.md", "exec"), {})
    assert (tmp_path / "fits" / "mydata" / "survey.parquet").exists()


def test_every_problem_code_is_documented():
    text = (ROOT / "docs" / "data.md").read_text(encoding="utf-8")
    for code in PROBLEM_CODES:
        assert f"`{code}`" in text, code


def test_calibration_table_is_in_the_docs():
    text = (ROOT / "docs" / "data.md").read_text(encoding="utf-8")
    block = text.split("<!-- calibration:start -->")[1].split("<!-- calibration:end -->")[0]
    assert "python -m capmodel.validation.calibration_table" in block
    assert block.count("| Q9 change since the CEP |") == 7
