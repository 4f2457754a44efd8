"""Stage a collection tree: every header of every FITS file of its catalogues.

The parent process scans the tree, asks the database which files changed, and
feeds only those to a crash-isolated pool of worker processes (one per core)
that read and encode the headers (``stagefile``); it then writes them in
batches with COPY (``loader``). Memory stays bounded whatever the tree size: the
pool keeps a few tasks in flight, and a batch is flushed at a fixed size.

Idempotent: an unchanged file (same size and mtime) is not read again; a changed
file replaces its rows; a file no longer on disk is marked 'gone'.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import psycopg

from . import config, isolation
from .catalogues import Catalogue, discover, scan
from .loader import finish_run, known_files, mark_gone, start_run, upsert_catalogue, write_batch
from .records import Problem
from .stagefile import FileTask, StagedFile, stage_files

#: Flush a batch at whichever comes first.
BATCH_FILES = int(os.environ.get("ASSOCDATA_BATCH_FILES", 500))
BATCH_HDUS = int(os.environ.get("ASSOCDATA_BATCH_HDUS", 5000))
BATCH_BYTES = 48 * 1024 * 1024
#: Files per worker task (one parent-worker round trip each).
CHUNK_FILES = 8
#: Per-worker address-space limit: a runaway allocation becomes MemoryError.
WORKER_MEMORY = 2 * 1024**3
#: A worker task (a chunk of files) that takes longer than this is killed and the
#: file it was reading is rejected (a hung reader); the others are read again.
TASK_TIMEOUT = 300.0


class InfrastructureError(RuntimeError):
    """The run cannot go on (database unreachable, disk full): not the input's fault."""


@dataclass
class IngestSummary:
    root: str
    catalogues: list[str] = field(default_factory=list)
    files_seen: int = 0
    files_unchanged: int = 0
    files_staged: int = 0
    files_rejected: int = 0
    files_partial: int = 0
    files_gone: int = 0
    hdus: int = 0
    rejects: int = 0
    warnings: int = 0
    seconds: float = 0.0
    run_id: int | None = None
    reject_classes: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {
            "files_seen": self.files_seen, "files_staged": self.files_staged,
            "files_unchanged": self.files_unchanged, "files_gone": self.files_gone,
            "hdus": self.hdus, "rejects": self.rejects,
        }

    def lines(self) -> list[str]:
        rate = self.hdus / self.seconds if self.seconds else 0.0
        out = [
            f"catalogues      {len(self.catalogues)}",
            f"files seen      {self.files_seen}",
            f"  unchanged     {self.files_unchanged}",
            f"  staged        {self.files_staged} ({self.files_partial} partial, "
            f"{self.files_rejected} rejected)",
            f"  gone          {self.files_gone}",
            f"HDUs staged     {self.hdus} ({rate:,.0f} HDUs/s in {self.seconds:.1f} s)",
            f"rejects         {self.rejects} (files, HDUs or cards that could not be read)",
            f"warnings        {self.warnings} (read by tolerating non-standard FITS)",
        ]
        for cls, n in sorted(self.reject_classes.items(), key=lambda kv: -kv[1]):
            out.append(f"  {cls:<30}{n}")
        if self.rejects or self.warnings:
            out.append(
                "rejects: SELECT * FROM staging.reject ORDER BY rejected_at DESC  "
                "(or: assocdata rejects)"
            )
        return out


Progress = Callable[[StagedFile], None]


def _chunks(tasks: Iterable[FileTask], size: int) -> Iterator[tuple[FileTask, ...]]:
    """Tasks grouped by ``size``, lazily (the pool takes them as workers free up)."""
    chunk: list[FileTask] = []
    for task in tasks:
        chunk.append(task)
        if len(chunk) >= size:
            yield tuple(chunk)
            chunk = []
    if chunk:
        yield tuple(chunk)


def _stage_all(tasks: Iterable[FileTask], workers: int) -> Iterator[StagedFile]:
    """Stage files in the isolated pool; a worker crash becomes a reject, never a dead run.

    Files go to the workers by :data:`CHUNK_FILES` (one round trip each).  The
    checkpoint of a crash says which file of the chunk was being read, and
    which HDU if it was in a WCS pre-check: the other files of the chunk are
    staged again; a crash inside the pre-check of HDU k is retried with that
    HDU's WCS marked as crashed, so the file's other HDUs are staged; any
    other crash rejects the file.
    """
    pending: Iterable[tuple[FileTask, ...]] = _chunks(tasks, CHUNK_FILES)
    while True:
        retries: list[tuple[FileTask, ...]] = []
        with isolation.IsolatedPool(
            workers=workers, memory_limit=WORKER_MEMORY, timeout=TASK_TIMEOUT
        ) as pool:
            for chunk, outcome in pool.imap_unordered(stage_files, pending):
                if not isinstance(outcome, isolation.Crash):
                    yield from outcome
                    continue
                where = outcome.checkpoint
                position, hdu = where if isinstance(where, tuple) and len(where) == 2 else (None, None)
                if not isinstance(position, int) or not 0 <= position < len(chunk):
                    if len(chunk) > 1:  # which file is unknown: each one again, alone
                        retries.extend((task,) for task in chunk)
                        continue
                    position = 0
                task = chunk[position]
                others = chunk[:position] + chunk[position + 1:]
                if others:
                    retries.append(others)
                if isinstance(hdu, int) and hdu not in dict(task.wcs_crashed):
                    detail = f"{outcome.kind}: {outcome.detail}"
                    retries.append((replace(task, wcs_crashed=(*task.wcs_crashed, (hdu, detail))),))
                    continue
                yield StagedFile(
                    task, status="rejected", n_hdus=None,
                    problems=[Problem(
                        f"worker-{outcome.kind}",
                        f"reading this file {_crash_words(outcome.kind)} ({outcome.detail})",
                        hdu if isinstance(hdu, int) else None,
                    )],
                )
        if not retries:
            return
        pending = retries


def _crash_words(kind: str) -> str:
    return {
        "signal": "killed the reader process",
        "timeout": f"took longer than {TASK_TIMEOUT:.0f} s",
        "memory": f"needed more than {WORKER_MEMORY // 1024**2} MiB",
        "exit": "made the reader process exit",
    }.get(kind, "failed")


def ingest(
    root: str | os.PathLike[str],
    catalogues: list[str] | None = None,
    *,
    database_url: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    on_files: Callable[[int], None] | None = None,
) -> IngestSummary:
    """Stage every changed file of the catalogues below ``root``.

    ``catalogues``: ids (paths relative to root) to restrict to; default: every
    directory holding a ReadMe. ``progress`` is called once per file staged.
    Raises InfrastructureError when the database cannot be used.
    """
    started = time.monotonic()
    root_path = Path(root).expanduser().resolve()
    found = discover(root_path, catalogues)
    summary = IngestSummary(str(root_path), [c.id for c in found])
    url = database_url or config.database_url()
    try:
        conn = psycopg.connect(url)
    except psycopg.OperationalError as exc:
        raise InfrastructureError(
            f"cannot connect to the database ({exc}).\n"
            "Start the embedded cluster with `assocdata db start`, or set ASSOCDATA_DATABASE_URL."
        ) from exc
    conn.autocommit = True  # every write below opens its own transaction
    try:
        summary.run_id = start_run(conn, str(root_path), catalogues)
        tasks = _plan(conn, root_path, found, summary)
        if on_files:
            on_files(len(tasks))
        _run(conn, tasks, summary, workers or os.cpu_count() or 1, progress)
        summary.seconds = time.monotonic() - started
        finish_run(conn, summary.run_id, "finished", summary.counts())
    except psycopg.errors.DiskFull as exc:
        raise InfrastructureError(f"the database server's disk is full: {exc}") from exc
    except psycopg.OperationalError as exc:
        raise InfrastructureError(f"lost the database connection: {exc}") from exc
    except OSError as exc:
        if exc.errno == 28:  # ENOSPC
            raise InfrastructureError(f"no space left on device: {exc}") from exc
        raise
    finally:
        conn.close()
    return summary


def _plan(conn: psycopg.Connection, root: Path, found: list[Catalogue],
          summary: IngestSummary) -> list[FileTask]:
    """Register catalogues, mark gone files, and list the files that must be (re)read."""
    tasks: list[FileTask] = []
    nested = {c.directory for c in found}
    for catalogue in found:
        upsert_catalogue(conn, catalogue, str(root))
        known = known_files(conn, catalogue.id)
        present: list[str] = []
        for entry in scan(catalogue, nested - {catalogue.directory}):
            present.append(entry.relpath)
            summary.files_seen += 1
            before = known.get(entry.relpath)
            if before and before[2] != "gone" and before[0] == entry.size and before[1] == entry.mtime_ns:
                summary.files_unchanged += 1
                continue
            tasks.append(FileTask(catalogue.id, entry.relpath, entry.path, entry.size, entry.mtime_ns))
        on_disk = set(present)
        if any(status != "gone" and rel not in on_disk for rel, (_, _, status) in known.items()):
            summary.files_gone += mark_gone(conn, catalogue.id, present)
    return tasks


class _Writer:
    """Writes the batches on its own thread, so that the workers never wait for PostgreSQL.

    While a batch is being COPYed (the server parses its JSONB and compresses
    its text meanwhile), the main thread goes on collecting the workers'
    results into the next batch.  At most one batch waits for the thread
    (memory stays bounded: the one filling, the one waiting, the one being
    written).  Batches are still written one at a time, in order, each in its
    own transaction; an error in the thread (database gone, disk full) is
    raised in the main thread at the next hand-over or at the end.
    """

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.hdus = 0
        self.error: BaseException | None = None
        self._queue: queue.Queue[list[StagedFile] | None] = queue.Queue(maxsize=1)
        self._thread = threading.Thread(target=self._loop, name="ingest-writer", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            if self.error is None:
                try:
                    self.hdus += write_batch(self.conn, batch)
                except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
                    self.error = exc

    def put(self, batch: list[StagedFile]) -> None:
        self._raise()
        self._queue.put(batch)

    def close(self) -> None:
        """Wait until every batch handed over is written; raise the thread's error."""
        self._queue.put(None)
        self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error


def _run(conn: psycopg.Connection, tasks: list[FileTask], summary: IngestSummary,
         workers: int, progress: Progress | None) -> None:
    batch: list[StagedFile] = []
    hdus = size = 0
    writer = _Writer(conn)
    try:
        for staged in _stage_all(tasks, workers):
            summary.files_staged += 1
            for p in staged.problems:
                if p.severity == "error":
                    summary.rejects += 1
                else:
                    summary.warnings += 1
                key = p.error_class if p.severity == "error" else f"{p.error_class} (warning)"
                summary.reject_classes[key] = summary.reject_classes.get(key, 0) + 1
            if staged.status == "rejected":
                summary.files_rejected += 1
            elif staged.status == "partial":
                summary.files_partial += 1
            batch.append(staged)
            hdus += len(staged.hdu_rows)
            size += staged.header_bytes
            if len(batch) >= BATCH_FILES or hdus >= BATCH_HDUS or size >= BATCH_BYTES:
                writer.put(batch)
                batch, hdus, size = [], 0, 0
            if progress:
                progress(staged)
        if batch:
            writer.put(batch)
    finally:
        writer.close()
        summary.hdus += writer.hdus
