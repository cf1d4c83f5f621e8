"""The studies on a real dask LocalCluster (2 worker processes, 1 thread each), end to end:
a worker killed mid-run (its task rerun, the run completes), failures recorded and not fatal,
resume (no task run twice), SBC and a grid on a tiny spec (docs/studies.md)."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import cloudpickle
import pytest
from studies_tiny import write_tiny

from capmodel.cli import main
from capmodel.studies.fanout import RecordStore, Task, open_client, run_tasks
from capmodel.studies.replicate import replicate_seeds

pytestmark = pytest.mark.slow  # starts clusters; the SBC and grid tests run NUTS

# the tasks below travel to the workers by value (the workers need not import this file)
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def light_client():
    """The LocalCluster the studies start (2 processes, 1 thread each), for light tasks."""
    with open_client() as client:
        yield client


def _note(path: str) -> int:
    """Append a line to ``path``; the number of lines (attempts) so far."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()}\n")
    with open(path, encoding="utf-8") as fh:
        return len(fh.readlines())


def ok_task(x: int, log: str) -> dict:
    _note(log)
    return {"status": "ok", "x": x, "pid": os.getpid()}


def kill_once_task(x: int, log: str) -> dict:
    """Kills its own worker process on its first attempt (as the OOM killer would)."""
    if _note(log) == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return {"status": "ok", "x": x, "pid": os.getpid()}


def raising_task(x: int, log: str) -> dict:
    _note(log)
    raise ValueError(f"replicate {x} cannot be fitted <here>")


def test_killed_worker_retried_failures_recorded_and_resumed(light_client, tmp_path):
    store = RecordStore(tmp_path / "records")
    logs = {k: str(tmp_path / f"{k}.log") for k in ("a", "b", "c", "d")}
    tasks = [
        Task("a", ok_task, (1, logs["a"])),
        Task("b", kill_once_task, (2, logs["b"])),
        Task("c", raising_task, (3, logs["c"])),
        Task("d", ok_task, (4, logs["d"])),
    ]
    report = run_tasks(tasks, store, light_client, progress=False, desc="t")
    assert sorted(report.finished) == ["a", "b", "d"] and report.failed == ["c"]
    records = store.records()
    assert records["b"]["status"] == "ok"
    assert len(Path(logs["b"]).read_text().split()) == 2  # killed once, run again
    assert records["c"]["status"] == "failed"
    assert records["c"]["error"] == "ValueError: replicate 3 cannot be fitted <here>"
    assert len(Path(logs["c"]).read_text().split()) == 3  # dask's 2 retries, then recorded
    # a rerun skips every recorded task; --retry-failed reruns the failed one only
    again = run_tasks(tasks, store, light_client, progress=False, desc="t")
    assert again.submitted == [] and sorted(again.skipped) == ["a", "b", "c", "d"]
    retry = run_tasks(tasks, store, light_client, progress=False, desc="t", retry_failed=True)
    assert retry.submitted == ["c"] and retry.failed == ["c"]
    assert len(Path(logs["a"]).read_text().split()) == 1


@pytest.fixture(scope="module")
def client():
    """The LocalCluster `capmodel sbc` starts, kept for the module's NUTS tests."""
    with open_client() as client:
        yield client


def test_sbc_end_to_end_resumes_without_refitting(client, tmp_path):
    from capmodel.studies.sbc import sbc

    spec, data = write_tiny(tmp_path / "in")
    out = tmp_path / "sbc"
    settings = {"draws": 100, "tune": 100, "seed": 5, "progress": False, "scheduler": client}
    first = sbc(spec, data, reps=2, out=out, **settings)
    assert first.run.submitted == ["r00000", "r00001"] and not first.resumed
    assert first.summary.verdict in ("pass", "fail") and first.summary.finished == 2
    kept = {p.name: p.read_bytes() for p in (out / "replicates").glob("r*.json")}
    # an interrupted run: a temporary file of a record half written is not a record
    (out / "replicates" / ".r00002.json.tmp-x").write_text("{")
    second = sbc(spec, data, reps=4, out=out, **settings)
    assert second.resumed and second.run.skipped == ["r00000", "r00001"]
    assert second.run.submitted == ["r00002", "r00003"]
    assert {p: (out / "replicates" / p).read_bytes() for p in kept} == kept
    s = second.summary
    assert (s.finished, s.failed, s.missing) == (4, 0, 0)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["finished"] == 4 and summary["reps"] == 4
    names = set(s.estimands["estimand"])
    assert {
        "direct_effect[training, information]",
        "realisation_covariate[training, sex[M]]",
    } <= names
    assert {"total_effect[reflection, any_realisation]", "pn_share[changers]"} <= names
    assert not any(n.startswith("pathway_share") for n in names)  # no latent capability
    assert (s.estimands["n"] == 4).all()
    rec = json.loads((out / "replicates" / "r00003.json").read_text())
    assert rec["L"] == 2 * len(range(rec["thin"] - 1, 100, rec["thin"]))
    assert len(rec["ranks"]) == len(names) and all(0 <= r <= rec["L"] for r in rec["ranks"])
    page = (out / "sbc.html").read_text(encoding="utf-8")
    assert "Simulation-based calibration: tiny" in page and "4 of 4 replicates finished" in page
    # replicate r's seeds are a function of the study's seed and r alone (reproducible)
    assert rec["seeds"] == replicate_seeds(5, 3)


def test_grid_command_on_a_scheduler_address(client, tmp_path, capsys):
    spec, data = write_tiny(tmp_path / "in")
    out = tmp_path / "grid"
    argv = ["grid", str(spec), "--data", str(data), "--out", str(out), "--seeds", "1", "2"]
    argv += ["--draws", "100", "--tune", "100", "--no-progress"]
    argv += ["--scheduler", client.scheduler.address]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "comparison written to" in printed
    for name in ("tiny-seed1", "tiny-seed2"):
        assert (out / name / "manifest.json").is_file()
        assert json.loads((out / "tasks" / f"{name}.json").read_text())["status"] == "ok"
    assert (out / "compare.html").is_file() and (out / "grid.csv").is_file()
    assert main(argv) == 0  # rerun: nothing fitted again
    assert "comparison written to" in capsys.readouterr().out
