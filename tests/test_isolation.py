"""The crash-isolated pool: every way a task can die comes back as a Crash, never a dead run.

Task functions are module-level so that the workers (started by the
forkserver, which imports them by name) can unpickle them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from assocdata import isolation
from assocdata.isolation import Crash, IsolatedPool

GiB = 1024**3
TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent


# --- Task functions (run in the workers) ----------------------------------------

def work(task: tuple[str, object]) -> object:
    """One small job per kind of failure; checkpoints name the step reached."""
    kind, arg = task
    isolation.checkpoint(("start", kind, arg))
    if kind == "ok":
        return ("done", arg, os.getpid())
    if kind == "segv":
        isolation.checkpoint(("about to segfault", arg))
        os.kill(os.getpid(), signal.SIGSEGV)
    if kind == "abort":
        os.abort()
    if kind == "exit":
        os._exit(3)
    if kind == "memory":
        isolation.checkpoint(("allocating", arg))
        block = bytearray(10 * GiB)  # above the pool's RLIMIT_AS
        return len(block)
    if kind == "sleep":
        isolation.checkpoint(("sleeping", arg))
        time.sleep(float(arg))  # type: ignore[arg-type]
        return "woke up"
    if kind == "raise":
        raise ValueError(f"boom {arg}")
    if kind == "sysexit":
        raise SystemExit(4)
    if kind == "unpicklable":
        return lambda: None
    if kind == "big-checkpoint":
        isolation.checkpoint("x" * 10_000)
    raise AssertionError(kind)


def trivial(x: int) -> int:
    return x


def pid_of(_: object) -> int:
    return os.getpid()


def nap(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def failing_initializer() -> None:
    raise RuntimeError("cannot initialise")


# --- Helpers -----------------------------------------------------------------------

def gone(pid: int) -> bool:
    """True if the process no longer exists (a zombie is still there)."""
    try:
        psutil.Process(pid).status()
    except psutil.NoSuchProcess:
        return True
    return False


def wait_gone(pids: list[int], seconds: float = 10.0) -> list[int]:
    """Pids still present (or zombies) after waiting up to ``seconds``."""
    deadline = time.monotonic() + seconds
    left = list(pids)
    while left and time.monotonic() < deadline:
        left = [p for p in left if not gone(p)]
        if left:
            time.sleep(0.05)
    return left


# --- Tests ---------------------------------------------------------------------------

@pytest.mark.timeout(120)
def test_every_failure_becomes_an_outcome_and_neighbours_succeed() -> None:
    tasks = [("ok", i) for i in range(6)] + [
        ("segv", "a"), ("abort", "b"), ("exit", "c"), ("memory", "d"), ("sleep", 30),
        ("raise", "e"), ("sysexit", "f"), ("unpicklable", "g"), ("big-checkpoint", "h"),
    ] + [("ok", i) for i in range(6, 12)]
    seen: dict[tuple[str, object], object] = {}
    started = time.monotonic()
    with IsolatedPool(workers=2, memory_limit=2 * GiB, timeout=2.0) as pool:
        first_pids = set(pool.worker_pids())
        for task, outcome in pool.imap_unordered(work, tasks):
            assert task not in seen, f"{task} answered twice"
            seen[task] = outcome
        all_pids = set(pool.worker_pids()) | first_pids
    elapsed = time.monotonic() - started
    assert set(seen) == set(tasks), "every task yields exactly one outcome"

    for i in range(12):
        outcome = seen[("ok", i)]
        assert isinstance(outcome, tuple) and outcome[:2] == ("done", i)

    segv = seen[("segv", "a")]
    assert isinstance(segv, Crash) and segv.kind == "signal"
    assert "SIGSEGV" in segv.detail and "in work" in segv.detail  # faulthandler frame
    assert segv.checkpoint == ("about to segfault", "a")

    abort = seen[("abort", "b")]
    assert isinstance(abort, Crash) and abort.kind == "signal" and "SIGABRT" in abort.detail
    assert abort.checkpoint == ("start", "abort", "b")

    exit_ = seen[("exit", "c")]
    assert isinstance(exit_, Crash) and exit_.kind == "exit" and "code 3" in exit_.detail
    assert exit_.checkpoint == ("start", "exit", "c")

    memory = seen[("memory", "d")]
    assert isinstance(memory, Crash) and memory.kind == "memory", memory
    assert "MemoryError" in memory.detail and memory.checkpoint == ("allocating", "d")

    timeout = seen[("sleep", 30)]
    assert isinstance(timeout, Crash) and timeout.kind == "timeout"
    assert timeout.checkpoint == ("sleeping", 30)
    assert "time.sleep" in timeout.detail or "in work" in timeout.detail  # stack of the hung task
    assert elapsed < 25, "the 30 s task was killed at its 2 s timeout"

    raised = seen[("raise", "e")]
    assert isinstance(raised, Crash) and raised.kind == "exception"
    assert "ValueError: boom e" in raised.detail and raised.checkpoint == ("start", "raise", "e")

    sysexit = seen[("sysexit", "f")]
    assert isinstance(sysexit, Crash) and sysexit.kind == "exit" and "SystemExit" in sysexit.detail

    unpicklable = seen[("unpicklable", "g")]
    assert isinstance(unpicklable, Crash) and unpicklable.kind == "exception"
    assert "could not be sent" in unpicklable.detail

    big = seen[("big-checkpoint", "h")]
    assert isinstance(big, Crash) and big.kind == "exception" and "too large" in big.detail

    # Workers that died were replaced, and none is left behind.
    assert len(all_pids) >= 2
    assert wait_gone(sorted(all_pids)) == []


@pytest.mark.timeout(60)
def test_dead_worker_is_replaced_and_pool_goes_on() -> None:
    with IsolatedPool(workers=1, timeout=10) as pool:
        before = pool.worker_pids()
        out = dict(pool.imap_unordered(work, [("segv", 1)]))
        assert out[("segv", 1)].kind == "signal"  # type: ignore[union-attr]
        after = pool.worker_pids()
        assert before != after and len(after) == 1
        # A second round on the same pool works.
        results = [o for _, o in pool.imap_unordered(work, [("ok", i) for i in range(20)])]
        assert all(isinstance(o, tuple) for o in results) and len(results) == 20
    assert wait_gone(before + after) == []


@pytest.mark.timeout(60)
def test_tasks_queued_behind_a_killed_task_are_run_elsewhere() -> None:
    """Killed from outside (OOM killer, operator): the running task is blamed, the queued ones rerun."""
    tasks = [("sleep", 5), ("ok", 1), ("ok", 2)]
    with IsolatedPool(workers=1, prefetch=3, timeout=30) as pool:
        [victim] = pool.worker_pids()

        def kill_soon() -> None:
            time.sleep(1.5)  # the worker is then in the 5 s sleep, two tasks queued behind it
            os.kill(victim, signal.SIGKILL)

        threading.Thread(target=kill_soon, daemon=True).start()
        started = time.monotonic()
        outcomes = dict(pool.imap_unordered(work, tasks))
        assert time.monotonic() - started < 5
    crash = outcomes[("sleep", 5)]
    assert isinstance(crash, Crash) and crash.kind == "signal" and "SIGKILL" in crash.detail
    assert crash.checkpoint == ("sleeping", 5)
    assert outcomes[("ok", 1)][:2] == ("done", 1)  # type: ignore[index]
    assert outcomes[("ok", 2)][:2] == ("done", 2)  # type: ignore[index]


@pytest.mark.timeout(60)
def test_tasks_are_consumed_lazily_with_bounded_in_flight() -> None:
    pulled = 0

    def tasks():  # an endless stream: only lazy consumption makes this test end
        nonlocal pulled
        i = 0
        while True:
            pulled += 1
            yield i
            i += 1

    workers, prefetch = 2, 3
    done = 0
    with IsolatedPool(workers=workers, prefetch=prefetch) as pool:
        for _task, outcome in pool.imap_unordered(trivial, tasks()):
            done += 1
            assert pulled - done <= workers * prefetch, (pulled, done)
            if done == 500:
                break
        # Leaving the loop early abandons in-flight tasks; the pool is usable again.
        again = sorted(o for _, o in pool.imap_unordered(trivial, range(10)))
        assert again == list(range(10))


@pytest.mark.timeout(60)
def test_checkpoint_is_a_noop_outside_a_worker() -> None:
    isolation.checkpoint(("anything", 1))  # must not raise
    assert work(("ok", 5))[:2] == ("done", 5)  # type: ignore[index]


def test_fork_start_method_is_refused() -> None:
    with pytest.raises(ValueError, match="fork"):
        IsolatedPool(workers=1, context="fork")


@pytest.mark.timeout(60)
def test_spawn_context_also_works() -> None:
    with IsolatedPool(workers=1, context="spawn", timeout=20) as pool:
        out = dict(pool.imap_unordered(work, [("ok", 1), ("exit", 2)]))
    assert out[("ok", 1)][:2] == ("done", 1)  # type: ignore[index]
    assert isinstance(out[("exit", 2)], Crash) and out[("exit", 2)].kind == "exit"  # type: ignore[union-attr]


@pytest.mark.timeout(60)
def test_initializer_failure_stops_the_pool_quickly() -> None:
    with pytest.raises(RuntimeError, match="cannot initialise"):
        with IsolatedPool(workers=1, initializer=failing_initializer) as pool:
            list(pool.imap_unordered(trivial, range(3)))


@pytest.mark.timeout(60)
def test_max_tasks_per_worker_recycles_workers() -> None:
    with IsolatedPool(workers=1, max_tasks_per_worker=5, prefetch=1) as pool:
        pids = [o for _, o in pool.imap_unordered(pid_of, range(20))]
    assert len(set(pids)) == 4
    assert all(pids.count(p) == 5 for p in set(pids))


@pytest.mark.timeout(120)
def test_overhead_per_task() -> None:
    """~5,000 tasks/s must go through with room to spare: measure and print."""
    n = 20_000
    with IsolatedPool(workers=2) as pool:
        list(pool.imap_unordered(trivial, range(200)))  # warm up (imports in workers)
        started = time.perf_counter()
        count = sum(1 for _ in pool.imap_unordered(trivial, range(n)))
        elapsed = time.perf_counter() - started
    assert count == n
    rate = n / elapsed
    print(f"\nIsolatedPool overhead: {elapsed / n * 1e6:.1f} us/task, {rate:,.0f} trivial tasks/s "
          f"(2 workers)")
    assert rate > 2_000


_SCRIPT = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {tests!r})
    from assocdata.isolation import IsolatedPool
    import test_isolation

    if __name__ == "__main__":
        with IsolatedPool(workers=2) as pool:
            print("PIDS", *pool.worker_pids(), flush=True)
            for _ in pool.imap_unordered(test_isolation.nap, [60.0] * 4):
                pass
""")


def _run_and_signal(sig: int, tmp_path: Path) -> tuple[int, list[int], str]:
    script = tmp_path / "pool_script.py"
    script.write_text(_SCRIPT.format(tests=str(TESTS)))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("PIDS"), line + proc.stderr.read()  # type: ignore[union-attr]
    pids = [int(x) for x in line.split()[1:]]
    time.sleep(1.0)  # let the workers start their 60 s naps
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError(f"the parent did not exit after signal {sig}")
    return proc.returncode, pids, err


@pytest.mark.timeout(90)
def test_sigterm_of_parent_shuts_down_cleanly(tmp_path: Path) -> None:
    code, pids, err = _run_and_signal(signal.SIGTERM, tmp_path)
    assert code == 143, err
    assert len(pids) == 2
    assert wait_gone(pids) == [], "workers survived their parent's SIGTERM"


@pytest.mark.timeout(90)
def test_keyboard_interrupt_of_parent_shuts_down_cleanly(tmp_path: Path) -> None:
    code, pids, err = _run_and_signal(signal.SIGINT, tmp_path)
    assert code != 0 and "KeyboardInterrupt" in err
    assert wait_gone(pids) == [], "workers survived their parent's Ctrl-C"


@pytest.mark.timeout(90)
def test_parent_killed_leaves_no_worker(tmp_path: Path) -> None:
    code, pids, _ = _run_and_signal(signal.SIGKILL, tmp_path)
    assert code == -signal.SIGKILL
    assert wait_gone(pids, 15) == [], "workers outlived a SIGKILLed parent"


@pytest.mark.timeout(60)
def test_no_zombies_after_many_crashes() -> None:
    seen_pids: set[int] = set()
    with IsolatedPool(workers=2, timeout=5) as pool:
        tasks = [("segv", i) if i % 3 == 0 else ("ok", i) for i in range(30)]
        for _task, outcome in pool.imap_unordered(work, tasks):
            if isinstance(outcome, tuple):
                seen_pids.add(outcome[2])
            seen_pids.update(pool.worker_pids())
        me = psutil.Process()
        zombies = [c for c in me.children(recursive=True) if c.status() == psutil.STATUS_ZOMBIE]
        assert zombies == []
    assert len(seen_pids) > 2
    assert wait_gone(sorted(seen_pids)) == []
