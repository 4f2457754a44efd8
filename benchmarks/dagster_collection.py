"""A VizieR-sized collection through Dagster: ``python benchmarks/dagster_collection.py [N] [--files F]``.

N catalogues (default 10,000) of F files each (default 10): hard links to the
dev corpus's real files (cycled, so every catalogue is a mix of images,
spectra, cubes and event lists, gzip included), each catalogue with its
ReadMe. A fresh assocdata database and a fresh Dagster database on the same
server, a DAGSTER_HOME of its own, and ``dagster dev`` (webserver + daemon,
as ``./scripts/demo`` serves it) over them. Then, timed:

1. **discovery and first materialisation**: the catalogue sensor finds the N
   complete catalogues, registers them and requests their runs in batches of
   ``ASSOCDATA_DAGSTER_BATCH`` (200) partitions; the daemon runs them (at most
   ``max_concurrent_runs`` at once, database steps limited by the pool).
   Wall time from the server's start to the last run's end, number of runs;
2. **the UI's partition page** of ``obscore_rows`` with N partitions, loaded
   in Chromium (time until the partition list shows a key; a screenshot);
3. **reprocessing the whole collection** (``reprocess_collection``, ``full``:
   every file derived again) launched through the UI's GraphQL API: one run,
   batches of 200 catalogues, wall time;
4. optionally (``--backfill``) a **backfill** of the five assets over every
   partition (BackfillPolicy.multi_run(200)): runs and wall time.

Figures are printed, never asserted; the machine is shared, so the load
average is printed beside them. ``--keep`` keeps the databases and the tree.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg

from assocdata import config, migrate, sample

sys.path.insert(0, str(config.REPO_ROOT / "dagster_project"))
from assocdata_dagster import home, serve  # noqa: E402
from assocdata_dagster.partitions import BATCH_PARTITIONS, CATALOGUES  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def build_collection(root: Path, n: int, files: int) -> int:
    """N catalogues of F hard-linked corpus files; idempotent. Returns the number of files."""
    corpus = sample.corpus_dir()
    entries = [e for e in sample.manifest(corpus) if (corpus / e.file).exists()]
    total = 0
    for i in range(n):
        cat = root / "BENCH" / f"C{i // 100:03d}" / f"{i:05d}"
        cat.mkdir(parents=True, exist_ok=True)
        for j in range(files):
            e = entries[(i * files + j) % len(entries)]
            target = cat / f"{j:02d}_{Path(e.file).name}"
            if not target.exists():
                try:
                    os.link(corpus / e.file, target)
                except OSError:
                    shutil.copy2(corpus / e.file, target)
            total += 1
        readme = cat / "ReadMe"  # last: the catalogue is complete
        if not readme.exists():
            readme.write_text(f"BENCH/{i:05d}  benchmark catalogue of {files} real corpus files\n")
    return total


def create_database(name: str, migrated: bool) -> str:
    with psycopg.connect(config.database_url("postgres"), autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
    if migrated:
        migrate.upgrade(name)
    return config.database_url(name)


def drop_database(name: str) -> None:
    with psycopg.connect(config.database_url("postgres"), autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            psycopg.sql.Identifier(name)))


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    req = urllib.request.Request(f"{url}/graphql", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=300) as r:
        out = json.load(r)
    if out.get("errors"):
        raise RuntimeError(out["errors"])
    return out["data"]


def wait_runs(instance, tag: tuple[str, str] | None, expected: int | None, since: float,
              timeout: float) -> tuple[int, int, float]:
    """Wait until the runs (with tag, created after since) are all finished; (runs, failed, end)."""
    from dagster import DagsterRunStatus, RunsFilter

    done = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        filters = RunsFilter(tags=dict([tag])) if tag else None
        runs = [r for r in instance.get_run_records(filters=filters)
                if r.create_timestamp.timestamp() >= since]
        finished = [r for r in runs if r.dagster_run.status in done]
        status = f"  {len(finished)}/{len(runs)} runs finished"
        if status != last:
            print(status, flush=True)
            last = status
        if runs and len(finished) == len(runs) and (expected is None or len(runs) >= expected):
            end = max(r.end_time or 0 for r in finished)
            failed = sum(r.dagster_run.status != DagsterRunStatus.SUCCESS for r in finished)
            return len(runs), failed, end
        if time.monotonic() > deadline:
            raise TimeoutError(status)
        time.sleep(5)


def partition_page(url: str, n: int, shot: Path) -> float:
    """Seconds until the obscore_rows partition page lists a key (Chromium, headless)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}/assets/obscore_rows", wait_until="networkidle")  # pop-up, then timed load
        try:
            page.get_by_role("button", name="Skip").click(timeout=10_000)
        except Exception:  # noqa: BLE001 - not shown
            pass
        started = time.monotonic()
        page.goto(f"{url}/assets/obscore_rows?view=partitions")
        page.get_by_text("BENCH/C000/00000", exact=True).first.wait_for(timeout=300_000)
        seconds = time.monotonic() - started
        page.wait_for_timeout(1000)
        page.screenshot(path=str(shot))
        browser.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=10_000, help="catalogues")
    parser.add_argument("--files", type=int, default=10, help="files per catalogue")
    parser.add_argument("--backfill", action="store_true", help="also time a backfill of every partition")
    parser.add_argument("--keep", action="store_true", help="keep the databases and the tree")
    parser.add_argument("--timeout", type=float, default=3 * 3600)
    args = parser.parse_args()

    from dagster import DagsterInstance

    out = config.home() / f"bench-dagster-{args.n}x{args.files}"
    root = out / "collection"
    t0 = time.monotonic()
    n_files = build_collection(root, args.n, args.files)
    print(f"collection: {args.n} catalogues, {n_files} files in {root} "
          f"({time.monotonic() - t0:.0f} s to build, not timed below)")
    tag = uuid.uuid4().hex[:6]
    data_db, dagster_db = f"assocdata_bench_{tag}", f"dagster_bench_{tag}"
    data_url = create_database(data_db, migrated=True)
    create_database(dagster_db, migrated=False)
    dagster_home = out / "dagster_home"
    shutil.rmtree(dagster_home, ignore_errors=True)
    home.write(dagster_home, dagster_db)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    env = home.environment(dagster_home)
    env.update(ASSOCDATA_DATABASE_URL=data_url, ASSOCDATA_COLLECTION=str(root), ASSOCDATA_OFFLINE="1")
    log = (out / "dagster-dev.log").open("wb")
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, load {os.getloadavg()}")
    started_wall = time.time()
    proc = subprocess.Popen(serve.command("127.0.0.1", port), cwd=serve.PROJECT_DIR, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while not serve.answers(address=url):
            if proc.poll() is not None:
                raise SystemExit(f"dagster dev exited: see {out / 'dagster-dev.log'}")
            time.sleep(1)
        with DagsterInstance.from_config(str(dagster_home)) as instance:
            expected = -(-args.n // BATCH_PARTITIONS)
            print(f"1. sensor discovery + first materialisation ({expected} runs expected)")
            runs, failed, end = wait_runs(instance, ("dagster/sensor_name", "catalogue_sensor"),
                                          expected, started_wall, args.timeout)
            keys = instance.get_dynamic_partitions(CATALOGUES.name)
            first = end - started_wall
            load1 = os.getloadavg()
            with psycopg.connect(data_url) as conn:
                rows, files = conn.execute(
                    "SELECT (SELECT count(*) FROM ivoa.obscore), (SELECT count(*) FROM staging.file)"
                ).fetchone()
            print(f"   {len(keys)} partitions registered, {runs} runs ({failed} failed), "
                  f"{files} files staged, {rows} ObsCore rows: {first:.0f} s wall "
                  f"(from the server's start), load {load1}")

            print("2. the UI's partition page of obscore_rows")
            page_s = partition_page(url, args.n, out / "partitions-page.png")
            print(f"   loaded in {page_s:.1f} s (screenshot {out / 'partitions-page.png'})")

            print("3. reprocess_collection, full (every file derived again), one run")
            since = time.time()
            launched = graphql(url, """
                mutation($p: ExecutionParams!) { launchRun(executionParams: $p) {
                  __typename ... on LaunchRunSuccess { run { runId } }
                  ... on PythonError { message } ... on RunConfigValidationInvalid { errors { message } } } }""",
                {"p": {"selector": {"repositoryLocationName": "assocdata", "repositoryName": "__repository__",
                                    "jobName": "reprocess_collection"},
                       "runConfigData": {"ops": {"rederive_catalogues": {"config": {"full": True}}}}}})
            if launched["launchRun"]["__typename"] != "LaunchRunSuccess":
                raise SystemExit(f"launch failed: {launched}")
            run_id = launched["launchRun"]["run"]["runId"]
            runs3, failed3, end3 = wait_runs(instance, None, 1, since, args.timeout)
            record = instance.get_run_record_by_id(run_id)
            meta = [e.asset_materialization for e in instance.all_logs(run_id)
                    if e.is_dagster_event and e.dagster_event.event_type_value == "ASSET_MATERIALIZATION"]
            print(f"   run {run_id[:8]} {record.dagster_run.status.value}: "
                  f"{record.end_time - record.start_time:.0f} s in the run, {end3 - since:.0f} s wall "
                  f"from the launch; {len(meta)} partition materialisations recorded; load {os.getloadavg()}")

            if args.backfill:
                print("4. backfill of the five assets over every partition")
                since = time.time()
                data = graphql(url, """
                    mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) {
                      __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
                    {"p": {"partitionNames": keys, "fromFailure": False,
                           "assetSelection": [{"path": [a]} for a in (
                               "staged_headers", "obscore_rows", "curated", "mapped", "published")]}})
                backfill = data["launchPartitionBackfill"]
                if backfill["__typename"] != "LaunchBackfillSuccess":
                    raise SystemExit(f"backfill failed to launch: {backfill}")
                runs4, failed4, end4 = wait_runs(instance, ("dagster/backfill", backfill["backfillId"]),
                                                 expected, since, args.timeout)
                print(f"   {runs4} runs ({failed4} failed), {end4 - since:.0f} s wall; load {os.getloadavg()}")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        if not args.keep:
            drop_database(data_db)
            drop_database(dagster_db)
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
