"""Many independent tasks on dask.distributed, one result file per task, resumable.

The engine is dask.distributed (a ``LocalCluster`` by default, any scheduler by address):
each task is one ``client.submit(..., key=..., retries=2, pure=False)``; results are taken
``as_completed`` and each is written at once, atomically, to ``FOLDER/<key>.json``
(:class:`RecordStore`). A rerun skips the keys that already have a record (resume); a task
that fails is recorded with its error text (``status = "failed"``) and the others go on.

A task function returns a JSON-able dict (its record). Exceptions it catches itself are
failures of the work (the same seed fails again): recorded, not retried. An exception that
escapes is retried up to ``retries`` times by dask; a worker that dies (killed, out of memory)
is replaced by its nanny and its task rerun on a live worker (the scheduler's
``allowed-failures``); a task that still fails is recorded with the error (e.g. ``KilledWorker``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import socket
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from capmodel.atomic import atomic_write_text

OK, FAILED = "ok", "failed"
RETRIES = 2  # dask's automatic retries of a task whose exception escapes
N_WORKERS = 2  # the default LocalCluster: 2 worker processes, 1 thread each
CONNECT_TIMEOUT = "20s"


@dataclass(frozen=True)
class Task:
    """One unit of work: ``fn(*args, **common, **kwargs)`` returns the task's record (a
    JSON-able dict). ``key`` names its record file and its dask key."""

    key: str
    fn: Callable[..., dict[str, Any]]
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class RunReport:
    """What a run did: the keys submitted, those skipped (already recorded), those that
    finished and those that failed in this run, and its duration."""

    submitted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0


def json_safe(value: Any) -> Any:
    """``value`` with non-finite floats as None and numpy scalars and arrays as Python's."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):
        return json_safe(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class RecordStore:
    """One JSON record per task key under ``folder``, each written atomically (complete under
    its name or absent: a run stopped at any moment leaves only whole records)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def write(self, key: str, record: Mapping[str, Any]) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path(key)
        atomic_write_text(path, json.dumps(json_safe(dict(record)), indent=1) + "\n")
        return path

    def read(self, key: str) -> dict[str, Any] | None:
        path = self.path(key)
        if not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def records(self) -> dict[str, dict[str, Any]]:
        """Every record, by key (temporary files of an interrupted write are not records)."""
        if not self.folder.is_dir():
            return {}
        out = {}
        for p in sorted(self.folder.glob("*.json")):
            if not p.name.startswith("."):
                out[p.stem] = json.loads(p.read_text(encoding="utf-8"))
        return out


def worker_id() -> str:
    """host:pid of the process running a task (a record says where it was computed)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def failure(exc: BaseException, **fields: Any) -> dict[str, Any]:
    """The record of a failed task: its error text (one line) and traceback."""
    return {
        **fields,
        "status": FAILED,
        "error": f"{type(exc).__name__}: {exc}".strip(),
        "traceback": "".join(traceback.format_exception(exc))[-4000:],
    }


def worker_environment(n_workers: int) -> dict[str, str]:
    """The environment of a LocalCluster's workers: XLA's host devices shared out, the
    cores divided by the workers (at least 1 each: a worker then runs its chains one after
    the other instead of competing with the other workers for the cores), unless the user's
    ``XLA_FLAGS`` set them."""
    from capmodel.xla_devices import xla_flags

    return {"XLA_FLAGS": xla_flags(max(1, (os.cpu_count() or 1) // max(1, n_workers)))}


def _local_cluster(n_workers: int, threads_per_worker: int) -> Any:
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=n_workers,
        threads_per_worker=threads_per_worker,
        processes=True,
        dashboard_address=":0",  # a free port: several clusters may run at once
        silence_logs=logging.ERROR,
        env=worker_environment(n_workers),
    )


@contextmanager
def open_client(
    scheduler: Any = None, *, n_workers: int = N_WORKERS, threads_per_worker: int = 1
) -> Iterator[Any]:
    """A dask ``Client``: of ``scheduler`` when given (an address such as
    ``tcp://10.0.0.5:8786``, or a ``Client`` already open, used as it is and not closed),
    else of a new ``LocalCluster`` of ``n_workers`` processes with ``threads_per_worker``
    threads each, closed on exit."""
    import dask
    from distributed import Client

    if isinstance(scheduler, Client):
        yield scheduler
        return
    if scheduler is None:
        # non-daemonic workers (PyMC's own sampler starts a process per chain), for as long
        # as the cluster lives: the nannies read it again when they restart a worker
        with dask.config.set({"distributed.worker.daemon": False}):
            cluster = _local_cluster(n_workers, threads_per_worker)
            try:
                with Client(cluster) as client:
                    yield client
            finally:
                cluster.close()
        return
    try:
        client = Client(str(scheduler), timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise ConnectionError(
            f"cannot reach the dask scheduler at {scheduler}: {str(exc) or type(exc).__name__}"
        ) from None
    try:
        yield client
    finally:
        client.close()


def _progress(total: int, done: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=done,
        desc=desc,
        unit="task",
        disable=not enabled,
        file=sys.stderr,
        dynamic_ncols=True,
    )


def pending(tasks: Sequence[Task], store: RecordStore, retry_failed: bool = False) -> list[Task]:
    """The tasks without a record in ``store`` (and, with ``retry_failed``, those recorded as
    failed): what a run has left to do."""
    recorded = store.records()
    return [
        t
        for t in tasks
        if t.key not in recorded or (retry_failed and recorded[t.key].get("status") != OK)
    ]


def run_tasks(
    tasks: Sequence[Task],
    store: RecordStore,
    client: Any,
    *,
    common: Mapping[str, Any] | None = None,
    retries: int = RETRIES,
    retry_failed: bool = False,
    progress: bool = True,
    desc: str = "tasks",
    on_record: Callable[[str, dict[str, Any]], None] | None = None,
) -> RunReport:
    """Run the ``tasks`` whose key has no record in ``store`` (and those recorded as failed,
    with ``retry_failed``) on ``client``; write each record as its task completes.

    ``common``: keyword arguments every task takes (the spec, the data): scattered to the
    cluster once, not sent with each task. ``on_record(key, record)`` is called after each
    record is written. On an interrupt (Ctrl-C) the pending tasks are cancelled; the records
    written so far stay, and the next run resumes from them.
    """
    from distributed import as_completed

    t0 = time.perf_counter()
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        raise ValueError("two tasks share a key")
    report = RunReport()
    todo = pending(tasks, store, retry_failed)
    report.skipped = [t.key for t in tasks if t not in todo]
    bar = _progress(len(tasks), len(report.skipped), desc, progress)
    if not todo:
        bar.close()
        report.seconds = time.perf_counter() - t0
        return report
    shared = {k: client.scatter(v, broadcast=False, hash=False) for k, v in (common or {}).items()}
    run_id = uuid.uuid4().hex[:8]
    futures = {}
    for t in todo:
        fut = client.submit(
            t.fn,
            *t.args,
            **shared,
            **dict(t.kwargs),
            key=f"capmodel-{desc}-{t.key}-{run_id}",
            retries=retries,
            pure=False,
        )
        futures[fut] = t.key
        report.submitted.append(t.key)
    try:
        for fut in as_completed(list(futures)):
            key = futures[fut]
            try:
                record = dict(fut.result())
                record.setdefault("status", OK)
            except (Exception, asyncio.CancelledError) as exc:  # the task's error, or its
                record = failure(exc, key=key)  # worker's (KilledWorker), after the retries
            fut.release()
            store.write(key, record)
            (report.finished if record.get("status") == OK else report.failed).append(key)
            if on_record is not None:
                on_record(key, record)
            bar.update(1)
            bar.set_postfix(failed=len(report.failed), refresh=False)
    except BaseException:
        client.cancel(list(futures))
        raise
    finally:
        bar.close()
    report.seconds = time.perf_counter() - t0
    return report
