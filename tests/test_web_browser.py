"""The pages in a real browser: Debian's Chromium driven by Playwright.

Few and fast on purpose (the suite runs on a shared 2-core machine): one
server, one browser, the five journeys the issue names. Screenshots are kept
as test artifacts in ``$ASSOCDATA_SCREENSHOTS`` (default: the session's
temporary directory, printed) to be looked at.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import tarfile
import threading
import time
from pathlib import Path

import psycopg
import pytest

from test_web_support import web_env
from test_web_submission import wrong_unit_copy

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")


@pytest.fixture(scope="module")
def server(request, tmp_path_factory, sample_root):
    import uvicorn

    from assocdata.web import create_app

    env = web_env(request, tmp_path_factory, sample_root)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(env.settings()), host="127.0.0.1", port=port,
                                        log_level="warning", lifespan="on"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield env, f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--headless", "--no-sandbox", "--disable-background-networking"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    where = os.environ.get("ASSOCDATA_SCREENSHOTS")
    path = Path(where) if where else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {path}")
    return path


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 900})
    p = context.new_page()
    p.set_default_timeout(30_000)
    yield p
    context.close()


def test_cone_search_finds_the_horsehead_file(server, page, shots):
    env, url = server
    page.goto(url + "/")
    page.fill("input[name=pos]", "05:41:06.0 -02:27:30")
    page.fill("input[name=radius]", "1")
    page.select_option("select[name=radius_unit]", "arcmin")
    page.wait_for_function("document.getElementById('live-count').textContent.includes('1 matching row')")
    page.click("button[type=submit]")
    page.wait_for_selector("table.results tbody tr")
    rows = page.locator("table.results tbody tr")
    assert rows.count() == 1
    assert "HorseHead.fits" in rows.first.get_attribute("data-did")
    assert page.locator("svg.sky polygon.fp").count() == 1
    page.wait_for_function("document.querySelector('img.thumb').naturalWidth > 0")
    page.screenshot(path=str(shots / "1-cone-search.png"), full_page=True)
    page.click("text=header")
    assert "SIMPLE  =" in page.inner_text("body")


def test_band_filter_and_adql(server, page, shots):
    env, url = server
    page.goto(url + "/")
    page.fill("input[name=band_min]", "600")
    page.fill("input[name=band_max]", "650")
    page.select_option("select[name=band_unit]", "nm")
    page.check("input[name=type][value=spectrum]")
    page.click("button[type=submit]")
    page.wait_for_selector("table.results tbody tr")
    did_list = page.eval_on_selector_all("table.results tbody tr", "rs => rs.map(r => r.dataset.did)")
    assert any("sample_sdss.fits" in d for d in did_list)
    assert re.search(r"band_min=600", page.url) and "type=spectrum" in page.url  # the permalink
    page.click("#show-adql")
    page.wait_for_selector("#adql:not([hidden])")
    adql = page.inner_text("#adql")
    assert "em_min <= 6.5e-07" in adql and "em_max >= 6e-07" in adql
    page.screenshot(path=str(shots / "2-band-filter.png"), full_page=True)


def test_tar_download_members_match_the_rows(server, page, shots):
    env, url = server
    page.goto(url + "/?cat=DEMO/pyspeckit&type=spectrum&size=100")
    page.wait_for_function("document.getElementById('tar-size').textContent.includes('files')")
    announced = page.inner_text("#tar-size")
    did_list = page.eval_on_selector_all("table.results tbody tr", "rs => rs.map(r => r.dataset.did)")
    with page.expect_download() as info:
        page.click("#tar")
    data = Path(info.value.path()).read_bytes()
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        names = sorted(tf.getnames())
    expected = sorted({"DEMO/pyspeckit/" + d.split("?", 1)[1].split("#", 1)[0] for d in did_list})
    assert names == expected
    assert f"{len(names)} files" in announced
    page.screenshot(path=str(shots / "3-tar.png"))


def test_submission_with_a_wrong_header_then_approval(server, browser, page, shots):
    env, url = server
    base = env.collection / "DEMO" / "pyspeckit"
    upload = shots.parent / "upload"
    upload.mkdir(exist_ok=True)
    (upload / "hr2421.fit").write_bytes(wrong_unit_copy(base / "hr2421.fit"))
    shutil.copy2(base / "sample_sdss.fits", upload / "sample_sdss.fits")
    (upload / "ReadMe").write_text("J/WEB/BROWSER  Spectra of the browser test\n")
    page.goto(url + "/submit")
    page.set_input_files("input[type=file]", [str(upload / n) for n in ("hr2421.fit", "sample_sdss.fits", "ReadMe")])
    page.click("text=Upload and check")
    page.wait_for_url(re.compile(r"/submit/[0-9a-f]{24}$"), timeout=120_000)
    token = page.url.rsplit("/", 1)[1]
    em = page.locator("details.row[data-did*='hr2421'] tr[data-column=em_min]")
    assert em.locator(".verdict").inner_text() == "suspicious"
    assert "CUNIT" in em.locator(".reason").inner_text()
    sdss_em = page.locator("details.row[data-did*='sample_sdss'] tr[data-column=em_min] .verdict")
    assert sdss_em.inner_text() == "ok"
    em.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "4-submission-verdicts.png"), full_page=False)
    page.fill("input[name=catalogue]", "J/WEB/BROWSER")
    page.click("#send")
    page.wait_for_selector("#status:text('new')")

    with psycopg.connect(env.url, autocommit=True) as conn:
        from assocdata.web import auth

        auth.create_account(conn, "browser-doc", "a documentalist's password")
    desk = browser.new_context().new_page()
    desk.goto(url + "/desk")
    desk.fill("input[name=username]", "browser-doc")
    desk.fill("input[name=password]", "a documentalist's password")
    desk.click("text=Log in")
    desk.click(f"a[href='/desk/{token}'] >> nth=0")
    desk.wait_for_selector("#status:text('checking')")
    desk.screenshot(path=str(shots / "5-desk-review.png"))
    desk.click("#approve")
    desk.wait_for_selector("#status:text('published')", timeout=120_000)
    desk.context.close()

    page.goto(url + "/?cat=J/WEB/BROWSER")
    page.wait_for_selector("table.results tbody tr")
    did_list = page.eval_on_selector_all("table.results tbody tr", "rs => rs.map(r => r.dataset.did)")
    assert sorted(d.split("?", 1)[1] for d in did_list) == ["hr2421.fit#0", "sample_sdss.fits#0"]
    page.screenshot(path=str(shots / "6-published-in-search.png"), full_page=True)
