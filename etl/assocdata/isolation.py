"""A crash-isolated, memory-bounded process pool.

Some inputs kill the process that reads them: wcslib (inside astropy) can
segfault or abort on a crafted or corrupted FITS header (see
:mod:`assocdata.wcscheck`), a runaway allocation can exhaust memory, a reader
can hang.  No single input may kill an ingest run, so the per-file work runs in
worker processes of an :class:`IsolatedPool`, and every way a task can fail
comes back to the parent as a value, a :class:`Crash`, next to the task that
caused it::

    with IsolatedPool(workers=8, memory_limit=2 << 30, timeout=300) as pool:
        for task, outcome in pool.imap_unordered(stage_file, tasks):
            if isinstance(outcome, Crash):
                ...  # outcome.kind, outcome.detail, outcome.checkpoint
            else:
                ...  # the function's return value

Design decisions (and why):

* **Process start method: 'forkserver'** (default; 'spawn' also allowed,
  'fork' refused).  The parent holds PostgreSQL connections (a libpq socket,
  maybe TLS state) and may run threads; a plain ``fork()`` would copy the
  socket into every worker (a worker exiting, or a library closing it, could
  corrupt the parent's session) and could copy a lock held by another thread
  (deadlock in the child).  The forkserver is a fresh interpreter started by
  fork+exec, so workers forked from it inherit none of that, and starting a
  replacement worker after a crash costs a fork of a small process (a few ms)
  instead of a new interpreter ('spawn', ~50 ms plus imports).  Caveat shared
  with 'spawn': the forkserver imports the parent's ``__main__`` module (as
  ``__mp_main__``), so a main script must keep its side effects under
  ``if __name__ == "__main__"``.
* **Memory bound: RLIMIT_AS** is set in each worker, so a runaway allocation
  raises MemoryError inside the worker (reported as ``Crash(kind='memory')``)
  instead of waking the kernel's OOM killer, which might pick the parent or the
  database server.  After a MemoryError the worker retires and is replaced, as
  a C library may have leaked on the way out.  The limit is on address space,
  not resident memory: numpy/OpenBLAS reserve address space per thread, so the
  workers run with one BLAS thread (``OPENBLAS_NUM_THREADS=1`` etc.).
* **Transport: one duplex Pipe per worker** (pickle), multiplexed with
  :func:`multiprocessing.connection.wait`.  Each worker gets at most
  ``prefetch`` tasks at a time (default 2), so it never waits for the parent,
  and the number of tasks taken from the iterable but not finished stays below
  ``workers * prefetch`` whatever the number of tasks: the iterable is
  consumed lazily.
* **Checkpoints in shared memory.**  :func:`checkpoint` (called by the task,
  e.g. with the HDU index before a risky wcslib call) writes the pickled value
  into a small shared-memory slot owned by the worker: no system call, so it
  costs 1-2 us and can be called per HDU.  When the worker dies the parent reads
  the slot, so the Crash names the last checkpoint of the task that was
  running.  Two buffers and a switch byte written last keep the value
  consistent even if the worker is killed in the middle of a write.  The same
  slot records which task is running and since when, which is how the parent
  enforces the per-task timeout without any message per task start.
* **Crash forensics.**  Each worker enables :mod:`faulthandler` into a file of
  the pool's temporary directory; after a fatal signal the parent puts the
  innermost Python frames into ``Crash.detail`` (which tells, e.g., that the
  process died in ``wcscheck.build_wcsprm``).  Before killing a task for its
  timeout the parent asks for the same dump with SIGUSR1.
* **Replacement and shutdown.**  A worker that dies is replaced at once; tasks
  that were queued to it but had not started are handed to other workers.  The
  pool never waits on a worker without a deadline.  On leaving the ``with``
  block normally, workers are asked to exit and joined; on an exception
  (KeyboardInterrupt included) they are killed and joined; while the pool is
  open in the main thread, SIGTERM raises :class:`PoolTerminated` (a
  SystemExit, exit status 143) so that the same cleanup runs.  Workers ignore
  SIGINT (Ctrl-C reaches the whole process group; the parent decides), and
  a thread in each worker waits on a "lifeline" pipe whose write end only the
  parent holds: when the parent dies, even by SIGKILL, every worker exits at
  once, even in the middle of a hung task.  (Without it a worker busy in a
  task would linger, and would keep the forkserver alive too, since the
  forkserver lives as long as any of its children.)  Workers also die with
  their forkserver (PR_SET_PDEATHSIG).

Functions sent to the pool must be picklable by reference (module-level), as
must tasks and results.  The function is expected to catch its own exceptions
(stagefile does, turning them into reject rows); an uncaught exception is
reported as ``Crash(kind='exception', detail=<traceback>)``.
"""

from __future__ import annotations

import ctypes
import errno
import faulthandler
import importlib
import itertools
import math
import multiprocessing
import os
import pickle
import resource
import select
import shutil
import signal
import struct
import sys
import tempfile
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any, TypeVar

__all__ = ["Crash", "IsolatedPool", "PoolTerminated", "checkpoint", "CHECKPOINT_MAX"]

T = TypeVar("T")
R = TypeVar("R")

#: Largest pickled checkpoint value, in bytes.
CHECKPOINT_MAX = 4000

#: Crash kinds, in Crash.kind.
CRASH_KINDS = ("signal", "timeout", "memory", "exit", "exception")


@dataclass(frozen=True, slots=True)
class Crash:
    """How a task failed instead of returning a value.

    ``kind`` is one of:

    - ``'signal'``: the worker was killed by a signal (SIGSEGV, SIGABRT from a
      failed assertion or a heap-corruption check, SIGKILL from the OOM killer
      or an operator);
    - ``'timeout'``: the task ran longer than the pool's ``timeout`` and its
      worker was killed;
    - ``'memory'``: the task raised MemoryError (typically the RLIMIT_AS limit;
      note that astropy also reports some wcslib errors as MemoryError);
    - ``'exit'``: the worker process exited (``os._exit``, or SystemExit raised
      by the function);
    - ``'exception'``: the function raised another exception (``detail`` is
      the traceback), or its task or result could not be pickled.

    ``checkpoint`` is the last value the task passed to :func:`checkpoint`
    (None if it never called it), so the caller can tell which part of the
    task was running, e.g. which HDU.
    """

    kind: str
    detail: str
    checkpoint: Any = None


class PoolTerminated(SystemExit):
    """Raised in the main thread on SIGTERM while a pool is open (exit status 143)."""

    def __init__(self) -> None:
        super().__init__(128 + signal.SIGTERM)


# --- The shared-memory slot of a worker --------------------------------------
#
# offset 0   u64  seq of the running task (0: none)   written last at start
# offset 8   f64  time.monotonic() when it started    written first at start
# offset 16  u8   which checkpoint buffer is current (0 or 1)
# offset 24  checkpoint buffer 0: u64 task seq, u32 length, payload
# offset ... checkpoint buffer 1: same
#
# CLOCK_MONOTONIC is system-wide on Linux, so the parent can compare the start
# time with its own clock.

_U64 = struct.Struct("<Q")
_F64 = struct.Struct("<d")
_CKHEAD = struct.Struct("<QI")
_ACTIVE = 16
_BUF_SIZE = (_CKHEAD.size + CHECKPOINT_MAX + 7) // 8 * 8
_BUFS = (24, 24 + _BUF_SIZE)
SLOT_SIZE = 24 + 2 * _BUF_SIZE

# Message codes, worker -> parent: (seq, code, payload, checkpoint).
_OK, _EXCEPTION, _MEMORY, _EXIT, _READY, _INIT_ERROR = range(6)
_CODE_KIND = {_EXCEPTION: "exception", _MEMORY: "memory", _EXIT: "exit"}

#: Tasks whose pickle is larger than this are only sent to an idle worker, so
#: that the parent never blocks writing into the pipe of a busy (maybe hung)
#: worker.
_BIG_TASK = 32 * 1024

#: Consecutive worker deaths before initialisation that make the pool give up.
_MAX_START_FAILURES = 3


# --- Worker side ---------------------------------------------------------------

class _WorkerState:
    __slots__ = ("view", "seq", "value")

    def __init__(self, view: memoryview) -> None:
        self.view = view
        self.seq = 0
        self.value: Any = None


_state: _WorkerState | None = None


def checkpoint(value: Any) -> None:
    """Record how far the current task got; a Crash of this task will carry ``value``.

    Call it before a step that may kill the process (e.g. with the HDU index
    before the wcslib pre-check of that HDU) and again with None after it.  The
    value must be picklable and at most CHECKPOINT_MAX bytes pickled (keep it
    small: an int, a short tuple).  Outside a pool worker this does nothing, so
    the same code runs in-process (tests, debugging).
    """
    st = _state
    if st is None:
        return
    data = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
    if len(data) > CHECKPOINT_MAX:
        raise ValueError(f"checkpoint value too large ({len(data)} bytes pickled, "
                         f"at most {CHECKPOINT_MAX}): {value!r:.80}")
    st.value = value
    view = st.view
    b = 1 - view[_ACTIVE]
    off = _BUFS[b]
    _CKHEAD.pack_into(view, off, st.seq, len(data))
    start = off + _CKHEAD.size
    view[start:start + len(data)] = data
    view[_ACTIVE] = b


def _set_pdeathsig() -> None:
    """Die with SIGKILL when our parent (the forkserver) dies."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _limit_memory(limit: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY and hard < limit:
        limit = hard
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _is_memory_error(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or (
        isinstance(exc, OSError) and exc.errno == errno.ENOMEM)


def _format_exc() -> str:
    try:
        return traceback.format_exc()
    except BaseException:  # formatting can itself fail when memory is short
        return "".join(traceback.format_exception_only(*sys.exc_info()[:2])) or "MemoryError"


def _watch_parent(lifeline: Connection) -> None:
    """Exit as soon as the pool's parent process is gone (EOF on the lifeline pipe)."""
    try:
        lifeline.recv_bytes()
    except BaseException:  # noqa: BLE001 - EOF (parent dead) or anything else: leave
        pass
    os._exit(0)


def _worker_main(conn: Connection, lifeline: Connection, slot: Any, fault_path: str,
                 memory_limit: int | None, preload: Sequence[str],
                 initializer: Callable[..., Any] | None, initargs: tuple[Any, ...]) -> None:
    """Worker loop: receive (seq, task), run func(task), send (seq, code, value, checkpoint)."""
    global _state
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _set_pdeathsig()
    # The forkserver outlives a parent killed with SIGKILL as long as any worker
    # lives, and a worker busy in a task would not see EOF on its pipe: this
    # thread ends the worker the moment the parent is gone.
    threading.Thread(target=_watch_parent, args=(lifeline,), name="lifeline", daemon=True).start()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    try:
        fault_file = open(fault_path, "w")  # noqa: SIM115 - lives as long as the worker
        faulthandler.enable(fault_file, all_threads=False)
        faulthandler.register(signal.SIGUSR1, fault_file, all_threads=False)
        if memory_limit:
            _limit_memory(memory_limit)
        view = memoryview(slot).cast("B")
        st = _state = _WorkerState(view)
        for name in preload:
            importlib.import_module(name)
        if initializer is not None:
            initializer(*initargs)
    except BaseException:
        try:
            conn.send((0, _INIT_ERROR, _format_exc(), None))
        finally:
            os._exit(70)
    conn.send((0, _READY, os.getpid(), None))

    func: Callable[[Any], Any] = _no_function
    pack_u64, pack_f64, monotonic = _U64.pack_into, _F64.pack_into, time.monotonic
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            break
        if not data:
            break  # the parent asks us to exit
        seq = _U64.unpack_from(data)[0]
        st.seq, st.value = seq, None
        if seq == 0:
            try:
                func = pickle.loads(memoryview(data)[8:])
            except BaseException:  # noqa: BLE001 - e.g. its module cannot be imported here
                func = _BrokenFunction(_format_exc())
            continue
        pack_f64(view, 8, monotonic())
        pack_u64(view, 0, seq)
        code = _OK
        try:
            result = func(pickle.loads(memoryview(data)[8:]))
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a message
            result = _format_exc()
            if _is_memory_error(exc):
                code = _MEMORY
            elif isinstance(exc, SystemExit):
                code = _EXIT
            else:
                code = _EXCEPTION
            del exc
        pack_u64(view, 0, 0)
        try:
            conn.send((seq, code, result, None if code == _OK else st.value))
        except (BrokenPipeError, ConnectionResetError):
            break
        except BaseException:  # noqa: BLE001 - the result could not be pickled
            detail = f"the result could not be sent to the parent: {_format_exc()}"
            try:
                conn.send((seq, _EXCEPTION, detail, st.value))
            except OSError:
                break
        result = None
        if code == _MEMORY:
            break  # retire: C code may have leaked on the way to the MemoryError
    os._exit(0)


def _no_function(task: Any) -> Any:
    raise RuntimeError("no function was sent to this worker")


class _BrokenFunction:
    """Stands for a function the worker could not unpickle: every task fails with why."""

    def __init__(self, why: str) -> None:
        self.why = why

    def __call__(self, task: Any) -> Any:
        raise RuntimeError(f"the function could not be loaded in the worker:\n{self.why}")


# --- Parent side ---------------------------------------------------------------

class _Job:
    __slots__ = ("seq", "task", "data", "attempts")

    def __init__(self, seq: int, task: Any, data: bytes) -> None:
        self.seq = seq
        self.task = task
        self.data = data  # the message: u64 seq + pickled task
        self.attempts = 0


class _Worker:
    __slots__ = ("index", "process", "conn", "view", "fault_path", "queue", "func",
                 "ready", "retiring", "sent", "head_since", "init_error", "kill_reason", "kill_seq")

    def __init__(self, index: int, process: Any, conn: Connection, view: memoryview,
                 fault_path: str) -> None:
        self.index = index
        self.process = process
        self.conn = conn
        self.view = view
        self.fault_path = fault_path
        self.queue: deque[_Job] = deque()
        self.func: Any = None
        self.ready = False
        self.retiring = False
        self.sent = 0
        self.head_since = time.monotonic()
        self.init_error: str | None = None
        self.kill_reason: str | None = None
        self.kill_seq = 0  # the task that was over time when we killed the worker

    def running_seq(self) -> int:
        return _U64.unpack_from(self.view, 0)[0]

    def running_since(self, seq: int) -> float | None:
        """Start time of task ``seq`` if it is the running one (consistent read)."""
        if _U64.unpack_from(self.view, 0)[0] != seq:
            return None
        started = _F64.unpack_from(self.view, 8)[0]
        if _U64.unpack_from(self.view, 0)[0] != seq:
            return None
        return started

    def last_checkpoint(self, seq: int) -> Any:
        """The last checkpoint value task ``seq`` wrote, or None."""
        try:
            off = _BUFS[self.view[_ACTIVE] & 1]
            ck_seq, length = _CKHEAD.unpack_from(self.view, off)
            if ck_seq != seq or length > CHECKPOINT_MAX:
                return None
            start = off + _CKHEAD.size
            return pickle.loads(bytes(self.view[start:start + length]))
        except Exception:  # noqa: BLE001 - a dying process may have scribbled on it
            return None


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else text


def _fault_excerpt(path: str, max_frames: int = 6) -> str:
    """The innermost Python frames of a faulthandler dump, on one line."""
    try:
        with open(path, errors="replace") as f:
            text = f.read(64 * 1024)
    except OSError:
        return ""
    frames = [line.strip() for line in text.splitlines() if line.strip().startswith("File ")]
    if not frames:
        return ""
    return "; in " + " <- ".join(frames[:max_frames])


class IsolatedPool:
    """N worker processes that run ``func(task)`` and survive whatever ``func`` does.

    ``workers``: number of processes (default ``os.cpu_count()``).
    ``memory_limit``: RLIMIT_AS of each worker in bytes (None: no limit).
    ``timeout``: seconds a single task may run before its worker is killed
    (None: no limit).  ``prefetch``: tasks queued per worker (>= 1); the pool
    holds at most ``workers * prefetch`` unfinished tasks.  ``context``:
    'forkserver' (default) or 'spawn'.  ``preload``: modules each worker
    imports at start; ``initializer(*initargs)`` runs after that (an error in
    either stops the pool with RuntimeError).  ``max_tasks_per_worker``:
    replace a worker after that many tasks (bounds slow leaks).
    ``handle_sigterm``: while open in the main thread, turn SIGTERM into
    :class:`PoolTerminated` (only if no other SIGTERM handler is installed).

    Use it as a context manager; one ``imap_unordered`` at a time.  Not
    thread-safe.
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        memory_limit: int | None = None,
        timeout: float | None = None,
        prefetch: int = 2,
        context: str = "forkserver",
        preload: Sequence[str] = (),
        initializer: Callable[..., Any] | None = None,
        initargs: tuple[Any, ...] = (),
        max_tasks_per_worker: int | None = None,
        handle_sigterm: bool = True,
    ) -> None:
        if context == "fork":
            raise ValueError("IsolatedPool refuses the 'fork' start method: the parent may hold "
                             "database connections and threads (use 'forkserver' or 'spawn')")
        if context not in multiprocessing.get_all_start_methods():
            raise ValueError(f"start method {context!r} is not available here")
        self._ctx = multiprocessing.get_context(context)
        self.workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
        self.memory_limit = memory_limit
        self.timeout = timeout
        self.prefetch = max(1, prefetch)
        self.preload = tuple(preload)
        self.initializer = initializer
        self.initargs = tuple(initargs)
        self.max_tasks_per_worker = max_tasks_per_worker
        self.handle_sigterm = handle_sigterm
        self._slots = [self._ctx.RawArray(ctypes.c_char, SLOT_SIZE) for _ in range(self.workers)]
        self._views = [memoryview(s).cast("B") for s in self._slots]
        self._pool: list[_Worker | None] = [None] * self.workers
        self._tmpdir: str | None = None
        self._lifeline: tuple[Connection, Connection] | None = None
        self._seq = itertools.count(1)
        self._spawned = itertools.count()
        self._start_failures = 0
        self._started = False
        self._closed = False
        self._iterating = False
        self._old_sigterm: Any = None
        self._poller: select.poll | None = None
        self._poll_waitables: list[Any] = []
        self._poll_objects: dict[int, Any] = {}

    # -- lifecycle -------------------------------------------------------------

    def __enter__(self) -> IsolatedPool:
        self.start()
        if (self.handle_sigterm and threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None)):
            self._old_sigterm = signal.signal(signal.SIGTERM, _raise_terminated)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None:
                self.close()
            else:
                self.terminate()
        finally:
            if self._old_sigterm is not None:
                signal.signal(signal.SIGTERM, self._old_sigterm)
                self._old_sigterm = None

    def start(self) -> None:
        """Start the workers (done by ``with``; idempotent)."""
        if self._closed:
            raise RuntimeError("the pool is closed")
        if self._started:
            return
        self._tmpdir = tempfile.mkdtemp(prefix="assocdata-pool-")
        # Workers get the read end; only this process holds the write end, so
        # its death (however it dies) is EOF for every worker.
        self._lifeline = self._ctx.Pipe(duplex=False)
        self._started = True
        for i in range(self.workers):
            self._spawn(i)

    def close(self) -> None:
        """Ask the workers to exit after their current task, wait for them (5 s), kill stragglers."""
        if self._closed:
            return
        self._closed = True
        for w in self._live():
            try:
                w.conn.send_bytes(b"")
            except OSError:
                pass
        deadline = time.monotonic() + 5.0
        for w in self._live():
            w.process.join(max(0.0, deadline - time.monotonic()))
        self._shutdown()

    def terminate(self) -> None:
        """Kill every worker now and wait for them."""
        if self._closed:
            return
        self._closed = True
        self._shutdown()

    def _shutdown(self) -> None:
        for w in self._live():
            if w.process.is_alive():
                w.process.kill()
        for w in self._live():
            self._reap(w)
        if self._lifeline is not None:
            for end in self._lifeline:
                end.close()
            self._lifeline = None
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def worker_pids(self) -> list[int]:
        """Process ids of the current workers (for monitoring and tests)."""
        return [w.process.pid for w in self._live() if w.process.pid is not None]

    def _live(self) -> list[_Worker]:
        return [w for w in self._pool if w is not None]

    def _spawn(self, i: int) -> _Worker:
        view = self._views[i]
        view[:] = bytes(SLOT_SIZE)  # no running task, no checkpoint: a requeued job must not look started
        assert self._tmpdir is not None and self._lifeline is not None
        fault_path = os.path.join(self._tmpdir, f"worker{i}-{next(self._spawned)}.fault")
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(
            target=_worker_main,
            args=(child_conn, self._lifeline[0], self._slots[i], fault_path, self.memory_limit,
                  self.preload, self.initializer, self.initargs),
            name=f"assocdata-isolated-{i}",
            daemon=True,
        )
        process.start()
        child_conn.close()
        w = _Worker(i, process, parent_conn, view, fault_path)
        self._pool[i] = w
        return w

    # -- the work --------------------------------------------------------------

    def imap_unordered(self, func: Callable[[T], R], tasks: Iterable[T]
                       ) -> Iterator[tuple[T, R | Crash]]:
        """Run ``func`` on every task; yield ``(task, outcome)`` in completion order.

        ``outcome`` is ``func(task)`` or a :class:`Crash`.  Tasks are taken from
        ``tasks`` lazily, at most ``workers * prefetch`` at a time.  Every task
        yields exactly one outcome; the pool itself raises only if workers
        cannot start at all (RuntimeError).
        """
        if self._closed:
            raise RuntimeError("the pool is closed")
        if self._iterating:
            raise RuntimeError("one imap_unordered at a time")
        self.start()
        self._iterating = True
        try:
            yield from self._run(func, iter(tasks))
        finally:
            self._iterating = False
            self._abandon()

    def _run(self, func: Callable[[T], R], it: Iterator[T]) -> Iterator[tuple[T, R | Crash]]:
        pending: deque[_Job] = deque()  # taken from `it` (or requeued), not yet sent
        exhausted = False
        out: list[tuple[Any, Any]] = []
        while True:
            # Fill every worker's queue up to `prefetch`.
            while pending or not exhausted:
                if pending:
                    job = pending[0]
                else:
                    try:
                        task = next(it)
                    except StopIteration:
                        exhausted = True
                        break
                    seq = next(self._seq)
                    try:
                        data = _U64.pack(seq) + bytes(ForkingPickler.dumps(task))
                    except Exception:  # noqa: BLE001
                        yield task, Crash("exception", f"the task could not be pickled: {_format_exc()}")
                        continue
                    job = _Job(seq, task, data)
                    pending.append(job)
                w = self._pick(big=len(job.data) > _BIG_TASK)
                if w is None:
                    break
                pending.popleft()
                self._send(w, job, func)
            if not pending and exhausted and not any(w.queue for w in self._live()):
                return

            # Wait for results, deaths or the next deadline.
            live = self._live()
            waitables: list[Any] = [w.conn for w in live] + [w.process.sentinel for w in live]
            by_obj: dict[Any, _Worker] = {}
            for w in live:
                by_obj[w.conn] = w
                by_obj[w.process.sentinel] = w
            ready = self._wait(waitables, self._wait_time())
            dead: dict[int, _Worker] = {}
            for obj in ready:
                w = by_obj[obj]
                if w.index in dead:
                    continue
                if obj is w.conn:
                    if not self._receive(w, out):
                        dead[w.index] = w
                else:
                    dead[w.index] = w
            if self.timeout is not None:
                for w in self._live():
                    if w.index in dead or not w.queue:
                        continue
                    if _readable(w.conn) and not self._receive(w, out):
                        dead[w.index] = w  # results that arrived since wait(), read first
                    elif self._expired(w):
                        self._kill_for_timeout(w)
                        dead[w.index] = w
            for w in dead.values():
                self._bury(w, out, pending)
            # Retire workers that reached max_tasks_per_worker once idle.
            if self.max_tasks_per_worker:
                for w in self._live():
                    if (w.sent >= self.max_tasks_per_worker and not w.queue
                            and not w.retiring):
                        w.retiring = True
                        try:
                            w.conn.send_bytes(b"")
                        except OSError:
                            pass
            if out:
                batch, out = out, []
                yield from batch

    def _wait(self, waitables: list[Any], timeout: float | None) -> list[Any]:
        """``multiprocessing.connection.wait`` with one ``poll`` object kept while the
        workers stay the same: wait() builds and fills a new selector on every
        call, which cost the parent more CPU per file than the rest of the loop."""
        same = len(waitables) == len(self._poll_waitables) and all(
            a is b for a, b in zip(waitables, self._poll_waitables))
        if not same:  # a worker was replaced (its fds may even be reused)
            fds = [obj if isinstance(obj, int) else obj.fileno() for obj in waitables]
            poller = select.poll()
            for fd in fds:
                poller.register(fd, select.POLLIN)
            self._poller, self._poll_waitables = poller, list(waitables)
            self._poll_objects = dict(zip(fds, waitables))
        assert self._poller is not None
        ms = None if timeout is None else max(0, math.ceil(timeout * 1000))
        return [self._poll_objects[fd] for fd, _ in self._poller.poll(ms)]

    def _pick(self, big: bool) -> _Worker | None:
        best: _Worker | None = None
        for w in self._pool:
            if w is None or w.retiring:
                continue
            n = len(w.queue)
            if n >= self.prefetch or (big and n):
                continue
            if self.max_tasks_per_worker and w.sent >= self.max_tasks_per_worker:
                continue
            if best is None or n < len(best.queue):
                best = w
                if n == 0:
                    break
        return best

    def _send(self, w: _Worker, job: _Job, func: Any) -> None:
        if not w.queue:
            w.head_since = time.monotonic()
        w.queue.append(job)
        w.sent += 1
        try:
            if w.func is not func:
                w.conn.send_bytes(_U64.pack(0) + bytes(ForkingPickler.dumps(func)))
                w.func = func
            w.conn.send_bytes(job.data)
        except OSError:
            pass  # the worker is dead: found by wait() and handled by _bury

    def _receive(self, w: _Worker, out: list[tuple[Any, Any]]) -> bool:
        """Read every message available from ``w``; False when its pipe is closed."""
        conn = w.conn
        try:
            while True:
                seq, code, payload, ckpt = conn.recv()
                if code == _READY:
                    w.ready = True
                    self._start_failures = 0
                elif code == _INIT_ERROR:
                    w.init_error = payload
                else:
                    job = w.queue.popleft()
                    if job.seq != seq:  # cannot happen: the worker is FIFO
                        raise RuntimeError(f"isolated worker answered task {seq}, expected {job.seq}")
                    if code == _OK:
                        out.append((job.task, payload))
                    else:
                        if code == _MEMORY:
                            w.retiring = True
                            limit = (f"{self.memory_limit / 2**20:,.0f} MiB" if self.memory_limit
                                     else "no limit")
                            payload = f"{_last_line(payload)} (address-space limit: {limit})\n{payload}"
                        elif code == _EXIT:
                            payload = f"{_last_line(payload)}\n{payload}"
                        out.append((job.task, Crash(_CODE_KIND[code], payload, ckpt)))
                    w.head_since = time.monotonic()
                if not _readable(conn):
                    return True
        except (EOFError, OSError):
            return False

    def _wait_time(self) -> float | None:
        if self.timeout is None:
            return None
        now = time.monotonic()
        deadlines = []
        for w in self._live():
            if w.queue:
                head = w.queue[0]
                started = w.running_since(head.seq)
                deadlines.append((started if started is not None else w.head_since) + self.timeout)
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - now) + 0.001

    def _expired(self, w: _Worker) -> bool:
        """Has the task at the head of ``w``'s queue run longer than the timeout?"""
        assert self.timeout is not None
        if not w.queue:
            return False
        now = time.monotonic()
        head = w.queue[0]
        started = w.running_since(head.seq)
        if started is not None:
            return now - started >= self.timeout
        if w.running_seq() != 0:
            return False  # a later task runs: the head's result is still in the pipe
        # The head has not started `timeout` after it became the head: the worker
        # is stuck outside any task (e.g. unpickling); treat it alike.
        return now - w.head_since >= self.timeout

    def _kill_for_timeout(self, w: _Worker) -> None:
        w.kill_reason = "timeout"
        w.kill_seq = w.queue[0].seq
        pid = w.process.pid
        if pid is not None and w.process.is_alive():
            # Ask for a Python traceback of the stuck task, give it a moment, then kill.
            try:
                size = os.path.getsize(w.fault_path)
                os.kill(pid, signal.SIGUSR1)
                deadline = time.monotonic() + 0.2
                while time.monotonic() < deadline and os.path.getsize(w.fault_path) == size:
                    time.sleep(0.005)
                time.sleep(0.005)
            except OSError:
                pass
        w.process.kill()

    def _bury(self, w: _Worker, out: list[tuple[Any, Any]], pending: deque[_Job]) -> None:
        """Handle the death of ``w``: report its running task, requeue the others, replace it."""
        self._receive(w, out)  # results it sent before dying
        w.process.join(2.0)
        if w.process.is_alive():
            w.process.kill()
            w.process.join(2.0)
        code = w.process.exitcode
        running = w.running_seq()
        if w.queue:
            head = w.queue.popleft()
            if w.kill_reason == "timeout":
                # Blame the task found over time, not one that started in the
                # microseconds between that finding and the kill.
                blame = head.seq == w.kill_seq
            else:
                blame = running == head.seq or head.attempts > 0
                if not blame:
                    head.attempts += 1  # died between tasks: not this task's fault (once)
            if blame:
                out.append((head.task, self._crash(w, head, code)))
            else:
                pending.appendleft(head)
            for job in reversed(w.queue):
                pending.appendleft(job)  # never started: give them to another worker
            w.queue.clear()
        w.conn.close()
        try:
            w.process.close()
        except ValueError:
            pass
        self._pool[w.index] = None
        if not w.ready:
            self._start_failures += 1
            if w.init_error or self._start_failures >= _MAX_START_FAILURES:
                reason = w.init_error or (
                    f"exit code {code}{_fault_excerpt(w.fault_path)} (see their stderr; with "
                    f"'forkserver' and 'spawn' the parent's __main__ module must be importable "
                    f"from a file, and must not start work at import)")
                raise RuntimeError(f"isolated worker processes cannot start: {reason}")
        self._remove_fault_file(w)
        if not self._closed:
            self._spawn(w.index)

    def _crash(self, w: _Worker, job: _Job, code: int | None) -> Crash:
        ckpt = w.last_checkpoint(job.seq)
        excerpt = _fault_excerpt(w.fault_path)
        if w.kill_reason == "timeout":
            return Crash("timeout", f"the task ran longer than {self.timeout:g} s; "
                         f"its worker was killed{excerpt}", ckpt)
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return Crash("signal", f"worker killed by {name} (signal {-code}){excerpt}", ckpt)
        return Crash("exit", f"worker exited with code {code} during the task{excerpt}", ckpt)

    def _reap(self, w: _Worker) -> None:
        """Wait for a (killed or exiting) worker and release its slot."""
        w.process.join(5.0)
        w.conn.close()
        try:
            w.process.close()
        except ValueError:  # still running after the join: nothing more to do
            pass
        self._pool[w.index] = None

    def _remove_fault_file(self, w: _Worker) -> None:
        try:
            os.unlink(w.fault_path)
        except OSError:
            pass

    def _abandon(self) -> None:
        """After an early end of iteration: kill workers that still hold tasks."""
        if self._closed:
            return
        for w in self._live():
            if w.queue:
                w.process.kill()
                self._reap(w)
                self._remove_fault_file(w)
                self._spawn(w.index)


def _readable(conn: Connection) -> bool:
    """``conn.poll()`` without its cost: Connection.poll builds a selector per call.

    True also when the connection is closed, so that the caller's recv() meets
    the EOF or error and handles it.
    """
    try:
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def _raise_terminated(signum: int, frame: Any) -> None:
    raise PoolTerminated()
