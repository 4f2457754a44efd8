"""The authors' submission page and the documentalists' desk, end to end on real files.

The files are the sample collection's (the dev corpus); one copy has a wrong
header made here on purpose (CUNIT1 = 'm' where the file says angstroms), the
mistake the page must point at.
"""

from __future__ import annotations

import io
import re
import tarfile

import psycopg
import pytest

from test_web_support import client, csrf, env  # noqa: F401  (fixtures)

from assocdata.web import auth, submissions


def wrong_unit_copy(path) -> bytes:
    """hr2421.fit with CUNIT1 = 'm' instead of 'angstroms' (same card length, rest untouched)."""
    data = path.read_bytes()
    card = data.find(b"CUNIT1  = ")
    assert card >= 0 and b"angstroms" in data[card:card + 80]
    new = b"CUNIT1  = 'm       '".ljust(80)
    return data[:card] + new + data[card + 80:]


def upload(client, files, token=None):
    value = csrf(client)
    url = f"/submit/{token}/upload" if token else "/submit"
    return client.post(url, data={"csrf": value}, files=[("files", f) for f in files],
                       follow_redirects=False)


@pytest.fixture
def submission(client, env):
    base = env.collection / "DEMO" / "pyspeckit"
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as tf:
        for name in ("sample_sdss.fits", "ReadMe"):
            tf.add(base / name, arcname=f"mycat/{name}")
    r = upload(client, [("hr2421.fit", wrong_unit_copy(base / "hr2421.fit")),
                        ("mycat.tar", tar.getvalue()), ("notes.exe", b"MZ\x90\x00" + bytes(3000))])
    assert r.status_code == 303, r.text
    return r.headers["location"].rsplit("/", 1)[1]


def row_fields(html: str, file_part: str) -> dict[str, tuple[str, str]]:
    block = html[re.search(rf'<details class="row"[^>]*data-did="[^"]*{re.escape(file_part)}', html).start():]
    block = block[:block.index("</details>")]
    out = {}
    for col, verdict, reason in re.findall(
            r'data-column="(\w+)">.*?<td class="verdict">([\w-]+)</td><td class="reason">(.*?)</td>',
            block, re.S):
        out[col] = (verdict, reason)
    return out


def test_submission_shows_verdicts_and_the_wrong_header(client, submission, env):
    page = client.get(f"/submit/{submission}")
    assert page.status_code == 200
    assert "notes.exe" in page.text and "not a FITS file" in page.text  # refused, with why
    hr = row_fields(page.text, "hr2421")
    verdict, reason = hr["em_min"]
    assert verdict == "suspicious" and "implausible" in reason and "CUNIT" in reason
    assert hr["em_max"][0] == "suspicious" and hr["s_ra"][0] == "ok"
    assert "readme-catalogue-mismatch" in hr["obs_title"][1]  # another catalogue's ReadMe
    sdss = row_fields(page.text, "sample_sdss")
    assert sdss["em_min"][0] == "ok" and sdss["s_ra"][0] == "ok"
    assert sdss["obs_title"][0] == "suspicious"  # the same ReadMe
    # submissions never reach the public search, nor its links
    with psycopg.connect(env.area_url) as conn:
        did = conn.execute("SELECT obs_publisher_did FROM ivoa.obscore WHERE source_catalogue = %s LIMIT 1",
                           [submissions.catalogue_of(submission)]).fetchone()[0]
    assert submission not in client.get("/", params={"cat": "SUBMIT", "size": "100"}).text
    assert submission not in client.get("/", params={"target": "hr2421", "size": "100"}).text
    assert client.get("/header", params={"did": did}).status_code == 404
    assert client.get("/header", params={"did": did, "token": submission}).status_code == 200
    assert client.get("/file", params={"did": did}).status_code == 404


def test_a_pending_submission_is_invisible_to_tap_and_to_the_published_tables(client, submission, env):
    """Its rows exist only in the submission area: the TAP server's role, reading the published
    database, finds nothing of it in ivoa.obscore nor in staging, whatever ADQL it runs."""
    catalogue = submissions.catalogue_of(submission)
    with psycopg.connect(env.area_url) as conn:
        in_area = conn.execute("SELECT count(*) FROM ivoa.obscore WHERE source_catalogue = %s",
                               [catalogue]).fetchone()[0]
    with psycopg.connect(env.url) as conn:
        published = conn.execute(
            "SELECT (SELECT count(*) FROM ivoa.obscore WHERE source_catalogue LIKE 'SUBMIT/%%' "
            "        OR obs_publisher_did LIKE %s), "
            "       (SELECT count(*) FROM staging.file WHERE catalogue LIKE 'SUBMIT/%%')",
            [f"%{submission}%"]).fetchone()
        recorded = conn.execute("SELECT status FROM web.submission WHERE token = %s",
                                [submission]).fetchone()[0]
    assert in_area >= 2 and published == (0, 0) and recorded == "draft"


def test_the_area_gets_the_published_databases_udfs_and_collection_wide_mappings(client, submission, env):
    """What the author sees is what publication produces: a mapping applied to every catalogue
    (--all) of the published database, calling a UDF registered there, applies in the area too."""
    from assocdata.mapping.store import apply_file, remove
    from assocdata.web import area

    with psycopg.connect(env.url, autocommit=True) as conn:
        conn.execute("CREATE OR REPLACE FUNCTION mapping_udf.web_area_label(text) RETURNS text "
                     "LANGUAGE sql IMMUTABLE AS $$ SELECT 'label ' || $1 $$")
        apply_file(conn, None, None, source="assocdata-mapping 1\nobs_creator_name := "
                   "web_area_label('all')\n", name="web-area-all.map")
        try:
            assert area.sync(conn, env.area_url) == ["function mapping_udf.web_area_label",
                                                     "mapping web-area-all.map (all catalogues)"]
            assert area.sync(conn, env.area_url) == []  # idempotent
            with psycopg.connect(env.area_url) as a:
                names = {r[0] for r in a.execute(
                    "SELECT obs_creator_name FROM ivoa.obscore WHERE source_catalogue = %s",
                    [submissions.catalogue_of(submission)])}
            assert names == {"label all"}
        finally:
            remove(conn, "web-area-all.map")
            conn.execute("DROP FUNCTION mapping_udf.web_area_label(text)")
    with psycopg.connect(env.url, autocommit=True) as conn:
        assert area.sync(conn, env.area_url) == ["mapping web-area-all.map removed"]


def test_mapping_errors_are_shown_like_the_cli_and_a_good_mapping_applies(client, submission):
    token = csrf(client)
    bad = "assocdata-mapping 1\nfacility_name := 'APO\ninstrument_name: NO_SUCH_FUNC(TELESCOP)\n"
    r = client.post(f"/submit/{submission}/mapping", data={"csrf": token, "mapping": bad})
    assert r.status_code == 200
    diag = re.search(r'<pre class="errors diagnostics" id="diagnostics">(.*?)</pre>', r.text, re.S).group(1)
    assert re.search(rf"submission-{submission}\.map:2:\d+: ", diag)
    good = "assocdata-mapping 1\nfacility_name := 'APO 3.5m'\n"
    r = client.post(f"/submit/{submission}/mapping", data={"csrf": token, "mapping": good})
    assert 'id="diagnostics"' not in r.text
    assert row_fields(r.text, "hr2421")["facility_name"][0] == "ok"
    assert "APO 3.5m" in r.text
    assert client.get(f"/submit/{submission}/mapping.map").text == good


def test_submit_then_a_documentalist_publishes_it(client, submission, env):
    token = csrf(client)
    r = client.post(f"/submit/{submission}/send", data={"csrf": token, "catalogue": "../etc"})
    assert r.status_code == 400 and "catalogue id" in r.text
    r = client.post(f"/submit/{submission}/send",
                    data={"csrf": token, "catalogue": "J/WEB/TEST1", "contact": "a@b.org"})
    assert r.status_code == 200 and 'id="status">new<' in r.text
    # the desk needs a login
    assert client.get("/desk", follow_redirects=False).headers["location"] == "/desk/login"
    with psycopg.connect(env.url, autocommit=True) as conn:
        auth.create_account(conn, "doc1", "correct horse battery")
        stored = conn.execute("SELECT password_hash FROM web.account WHERE username = 'doc1'").fetchone()[0]
    assert "correct horse" not in stored and stored.startswith("scrypt$")
    assert client.post("/desk/login", data={"csrf": token, "username": "doc1",
                                            "password": "wrong"}).status_code == 401
    r = client.post("/desk/login", data={"csrf": token, "username": "doc1",
                                         "password": "correct horse battery"})
    assert r.status_code == 200 and "J/WEB/TEST1" in r.text
    page = client.get(f"/desk/{submission}")
    assert 'id="status">checking<' in page.text
    r = client.post(f"/desk/{submission}/send-back", data={"csrf": token, "note": "CUNIT1 of hr2421 is wrong"})
    assert 'id="status">needs-fix<' in r.text
    author = client.get(f"/submit/{submission}")
    assert "CUNIT1 of hr2421 is wrong" in author.text
    client.post(f"/submit/{submission}/send", data={"csrf": token, "catalogue": "J/WEB/TEST1"})
    r = client.post(f"/desk/{submission}/mapping",
                    data={"csrf": token, "mapping": "assocdata-mapping 1\nobs_title := 'Spectra sent through the web'\n"})
    assert r.status_code == 200 and "Spectra sent through the web" in r.text
    r = client.post(f"/desk/{submission}/publish", data={"csrf": token})
    assert r.status_code == 200 and 'id="status">published<' in r.text, r.text[:2000]
    found = client.get("/", params={"cat": "J/WEB/TEST1"})
    assert "sample_sdss.fits" in found.text and "hr2421.fit" in found.text
    assert (env.collection / "J/WEB/TEST1" / "sample_sdss.fits").read_bytes() == (
        env.collection / "DEMO/pyspeckit/sample_sdss.fits").read_bytes()
    with psycopg.connect(env.url) as conn:
        history = [r[2] for r in submissions.events(conn, submission)]
        titles = {r[0] for r in conn.execute(
            "SELECT obs_title FROM ivoa.obscore WHERE source_catalogue = 'J/WEB/TEST1'")}
    with psycopg.connect(env.area_url) as conn:
        left = conn.execute("SELECT count(*) FROM ivoa.obscore WHERE source_catalogue = %s",
                            [submissions.catalogue_of(submission)]).fetchone()[0]
    assert history == ["draft", "new", "checking", "needs-fix", "new", "checking", "approved", "published"]
    assert titles == {"Spectra sent through the web"}  # the mapping went with the publication
    assert left == 0  # the submission's own rows are withdrawn once published


def test_documentalist_accounts_are_made_by_the_cli(env, monkeypatch):
    from assocdata import cli

    monkeypatch.setenv("ASSOCDATA_DATABASE_URL", env.url)
    monkeypatch.setattr("sys.stdin", io.StringIO("a password from stdin\n"))
    assert cli.main(["web", "--add-user", "doc.cli"]) == 0
    with psycopg.connect(env.url) as conn:
        assert auth.login(conn, "doc.cli", "a password from stdin") is not None
        assert auth.login(conn, "doc.cli", "another") is None
        conn.commit()
    monkeypatch.setattr("sys.stdin", io.StringIO("a password\n"))
    assert cli.main(["web", "--add-user", "bad name; drop"]) == 1


def test_passwords_are_hashed_and_checked():
    stored = auth.hash_password("a long enough secret")
    assert auth.verify_password("a long enough secret", stored)
    assert not auth.verify_password("a long enough secreT", stored)
    assert not auth.verify_password("x", "garbage")
    assert auth.hash_password("a long enough secret") != stored  # salted
    with pytest.raises(auth.AccountError):
        auth.hash_password("short")


def test_logout_ends_the_session(client, env):
    token = csrf(client)
    with psycopg.connect(env.url, autocommit=True) as conn:
        auth.create_account(conn, "doc-logout", "a fine password")
    client.post("/desk/login", data={"csrf": token, "username": "doc-logout", "password": "a fine password"})
    session = client.cookies.get(auth.SESSION_COOKIE)
    assert client.get("/desk", follow_redirects=False).status_code == 200
    client.post("/desk/logout", data={"csrf": token})
    assert client.get("/desk", follow_redirects=False).status_code == 303
    client.cookies.set(auth.SESSION_COOKIE, session)  # the old cookie, replayed
    assert client.get("/desk", follow_redirects=False).status_code == 303
