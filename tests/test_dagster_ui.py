"""The Dagster UI in real Chromium: launch the materialisation of one catalogue and see it succeed.

A ``dagster dev`` of the project's definitions (webserver and daemon, as
``./scripts/demo`` serves it) on a free port, with a DAGSTER_HOME of its own
whose storage is a scratch database of the same PostgreSQL server, over the
test run's assocdata database and a one-catalogue collection (real files).
Chromium is Debian's, driven by Playwright; the screenshots are saved under the
test's output folder (printed; pytest keeps the last runs' folders).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest


from assocdata import config

sys.path.insert(0, str(config.REPO_ROOT / "dagster_project"))

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dagster_database():
    """A scratch database for Dagster's storage on the same server, dropped afterwards."""
    name = f"dagster_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = config.database_url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                psycopg.sql.Identifier(name)))


@pytest.fixture
def dagster_ui(tmp_path, sample_root, db_url, dagster_database):
    """(URL, catalogue key) of a running `dagster dev` whose only catalogue is registered."""
    from dagster import DagsterInstance

    from assocdata_dagster import home, serve
    from assocdata_dagster.partitions import CATALOGUES

    root = tmp_path / "collection"
    key = "DAGSTER_UI/pkg-glue"
    shutil.copytree(sample_root / "DEMO" / "pkg-glue", root / key, copy_function=shutil.copy2)
    dagster_home = tmp_path / "dagster_home"
    home.write(dagster_home, dagster_database)
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        instance.add_dynamic_partitions(CATALOGUES.name, [key])  # so the sensor has nothing new
    port = _free_port()
    env = home.environment(dagster_home)
    env.update(ASSOCDATA_DATABASE_URL=db_url, ASSOCDATA_COLLECTION=str(root), ASSOCDATA_OFFLINE="1")
    log = (tmp_path / "dagster-dev.log").open("wb")
    proc = subprocess.Popen(serve.command("127.0.0.1", port), cwd=serve.PROJECT_DIR, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while not serve.answers(address=url):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("dagster dev did not start:\n"
                            + (tmp_path / "dagster-dev.log").read_text(errors="replace")[-3000:])
            time.sleep(1)
        yield url, key
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.mark.timeout(600)
def test_ui_launches_one_catalogue_and_the_run_succeeds(dagster_ui, tmp_path, db_url):
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run ./scripts/setup as root")
    from playwright.sync_api import expect, sync_playwright

    url, key = dagster_ui
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--headless", "--no-sandbox", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(60_000)
        try:
            page.goto(f"{url}/locations/assocdata/asset-groups/catalogue", wait_until="networkidle")
            skip = page.get_by_role("button", name="Skip")  # the "Join the community" pop-up
            try:
                skip.click(timeout=10_000)
            except Exception:  # noqa: BLE001 - not shown (already dismissed in this browser)
                pass
            page.get_by_role("button", name="Materialize all").first.click()
            page.get_by_text("Select a partition or create one").click()
            page.keyboard.type(key)
            page.get_by_role("menuitem", name=key).click()
            page.keyboard.press("Escape")
            page.screenshot(path=str(shots / "1-launch-dialog.png"))
            page.get_by_role("button", name="Launch 1 run").click()
            toast = page.get_by_role("link", name="View", exact=True)  # "Launched run ... View"
            page.goto(url + toast.first.get_attribute("href"))
            expect(page.get_by_text("Success", exact=True).first).to_be_visible(timeout=300_000)
            page.screenshot(path=str(shots / "2-run-succeeded.png"))
        finally:
            page.screenshot(path=str(shots / "last.png"))
            print(f"screenshots: {shots}")
            browser.close()
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT count(*) FROM ivoa.obscore WHERE source_catalogue = %s",
                            [key]).fetchone()[0]
    assert rows > 0
