"""Every safety rule of the submission page, with hostile inputs (docs/web.md, "Safety").

Archives are built here with the standard library's tarfile/zipfile so that each
hostile shape (traversal, links, devices, bombs, nesting) is exactly what the
test says; the FITS content is a real file of the dev corpus.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import zipfile

import pytest

from test_web_support import client, csrf, env  # noqa: F401  (fixtures)

from assocdata.web import uploads
from assocdata.web.uploads import Intake, take


@pytest.fixture(scope="module")
def fits_bytes(corpus) -> bytes:
    return (corpus / "pkg-astropy" / "sip.fits").read_bytes()


def intake_of(tmp_path, name: str, data: bytes) -> Intake:
    intake = Intake(tmp_path / "sub")
    take(intake, name, io.BytesIO(data))
    return intake


def tar_of(members: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for info, data in members:
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def member(name: str, data: bytes = b"", **attrs) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for k, v in attrs.items():
        setattr(info, k, v)
    return info, data


def reasons(intake: Intake) -> str:
    return " | ".join(f"{r.name}: {r.reason}" for r in intake.rejected)


def test_fits_is_recognised_by_content_not_by_name(tmp_path, fits_bytes):
    intake = intake_of(tmp_path, "holiday-photo.jpg", fits_bytes)
    assert [a.kind for a in intake.accepted] == ["fits"]
    stored = tmp_path / "sub" / intake.accepted[0].stored
    assert stored.read_bytes() == fits_bytes
    named_fits = intake_of(tmp_path / "b", "data.fits", b"<html><script>alert(1)</script></html>" * 100)
    assert not [a for a in named_fits.accepted if a.kind == "fits"]
    png = intake_of(tmp_path / "c", "image.fits", b"\x89PNG\r\n\x1a\n" + bytes(4000))
    assert not png.accepted and "content looks like binary" in reasons(png)


def test_gzipped_fits_is_accepted_and_gzipped_junk_refused(tmp_path, fits_bytes):
    ok = intake_of(tmp_path, "a.fits.gz", gzip.compress(fits_bytes))
    assert [a.kind for a in ok.accepted] == ["fits"]
    bad = intake_of(tmp_path / "b", "a.fits.gz", gzip.compress(b"MZ" + bytes(5000)))
    assert not bad.accepted and "neither FITS nor a tar" in reasons(bad)


def test_stored_names_are_generated_whatever_the_uploaded_name(tmp_path, fits_bytes):
    intake = Intake(tmp_path / "sub")
    for name in ("../../etc/passwd", "/abs/x.fits", "C:\\win\\evil.fits", "a b;rm -rf.fits", "", "....fits"):
        take(intake, name, io.BytesIO(fits_bytes))
    stored = [a.stored for a in intake.accepted]
    assert len(stored) == 6 and len(set(stored)) == 6
    for s in stored:
        assert s.startswith("f") and "/" not in s and "\\" not in s and ".." not in s and " " not in s
    assert sorted(os.listdir(tmp_path / "sub")) == sorted(stored)


def test_readme_and_mapping_are_text_and_limited(tmp_path):
    intake = Intake(tmp_path / "sub")
    take(intake, "ReadMe", io.BytesIO(b"J/A+A/1/1  A catalogue\n"))
    take(intake, "lamost.map", io.BytesIO(b"version 1\n"))
    assert intake.readme.startswith("J/A+A/1/1") and intake.mapping == "version 1\n"
    by_content = intake_of(tmp_path / "d", "notes.txt", b"# my fixes\nassocdata-mapping 1\nfacility_name := 'X'\n")
    assert by_content.mapping is not None
    other = intake_of(tmp_path / "e", "notes.txt", b"Dear documentalist, ...\n")
    assert other.mapping is None and other.readme is None and "neither a ReadMe" in reasons(other)
    binary = intake_of(tmp_path / "b", "ReadMe", b"\x7fELF" + bytes(3000))
    assert binary.readme is None and binary.rejected
    huge = intake_of(tmp_path / "c", "ReadMe", b"x" * (uploads.MAX_TEXT + 10))
    assert huge.readme is None and "larger than" in reasons(huge)


def test_tar_path_traversal_and_absolute_paths_are_refused(tmp_path, fits_bytes):
    data = tar_of([member("../../../tmp/evil.fits", fits_bytes), member("/etc/evil.fits", fits_bytes),
                   member("ok/dir/good.fits", fits_bytes), member("sub\\..\\x.fits", fits_bytes)])
    intake = intake_of(tmp_path, "upload.tar", data)
    assert [a.original for a in intake.accepted] == ["ok/dir/good.fits"]
    text = reasons(intake)
    assert "path traversal" in text and "absolute path" in text and "backslash" in text
    assert not (tmp_path / "tmp").exists() and not list(tmp_path.parent.glob("evil*"))


def test_tar_links_and_devices_are_refused(tmp_path, fits_bytes):
    data = tar_of([member("link.fits", type=tarfile.SYMTYPE, linkname="/etc/passwd"),
                   member("hard.fits", type=tarfile.LNKTYPE, linkname="good.fits"),
                   member("dev.fits", type=tarfile.CHRTYPE, devmajor=1, devminor=3),
                   member("fifo.fits", type=tarfile.FIFOTYPE),
                   member("good.fits", fits_bytes)])
    intake = intake_of(tmp_path, "x.tar", data)
    assert [a.original for a in intake.accepted] == ["good.fits"]
    text = reasons(intake)
    assert text.count("links are not accepted") == 2 and text.count("special file") == 2


def test_zip_links_traversal_and_encryption_are_refused(tmp_path, fits_bytes):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        link = zipfile.ZipInfo("link.fits")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/passwd")
        zf.writestr("../escape.fits", fits_bytes)
        zf.writestr("good.fits", fits_bytes)
        zf.writestr("secret.fits", fits_bytes)
    intake = intake_of(tmp_path, "x.zip", encrypted(buf.getvalue(), b"secret.fits"))
    assert [a.original for a in intake.accepted] == ["good.fits"]
    text = reasons(intake)
    assert "link or special file" in text and "path traversal" in text and "encrypted" in text


def encrypted(data: bytes, name: bytes) -> bytes:
    """The zip with ``name`` flagged as encrypted in the central directory (what readers trust)."""
    data = bytearray(data)
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        n = int.from_bytes(data[at + 28:at + 30], "little")
        if bytes(data[at + 46:at + 46 + n]) == name:
            data[at + 8] |= 0x1
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


def test_zip_bomb_stops_at_the_streaming_limit(tmp_path, monkeypatch, fits_bytes):
    """A member that inflates past the per-file limit is stopped while reading, whatever
    its header declares (the declared size is forged small here)."""
    monkeypatch.setattr(uploads, "MAX_FILE", 4 * 1024**2)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.fits", fits_bytes[:2880] + bytes(64 * 1024**2))  # 64 MiB of zeros
        zf.writestr("good.fits", fits_bytes)
    data = buf.getvalue()
    assert len(data) < 200 * 1024  # deflate packs the zeros 1000:1
    intake = intake_of(tmp_path, "bomb.zip", data)
    assert [a.original for a in intake.accepted] == ["good.fits"]
    assert "once decompressed" in reasons(intake)
    assert sum(p.stat().st_size for p in (tmp_path / "sub").iterdir()) < 5 * 1024**2


def test_tar_gz_bomb_stops_at_the_total_limit(tmp_path, monkeypatch, fits_bytes):
    monkeypatch.setattr(uploads, "MAX_FILE", 2 * 1024**2)
    monkeypatch.setattr(uploads, "MAX_TOTAL", 3 * 1024**2)
    members = [member(f"part{i}.fits", fits_bytes[:2880] + bytes(1024**2)) for i in range(8)]
    data = tar_of(members, mode="w:gz")
    intake = intake_of(tmp_path, "bomb.tar.gz", data)
    assert intake.total <= 3 * 1024**2
    assert len(intake.accepted) < 8 and intake.rejected


def test_archives_inside_archives_are_refused(tmp_path, fits_bytes):
    inner = tar_of([member("a.fits", fits_bytes)])
    outer = tar_of([member("inner.tar", inner), member("b.fits", fits_bytes)])
    intake = intake_of(tmp_path, "outer.tar", outer)
    assert [a.original for a in intake.accepted] == ["b.fits"]
    assert "archive inside an archive" in reasons(intake)


def test_per_file_and_file_count_limits(tmp_path, monkeypatch, fits_bytes):
    monkeypatch.setattr(uploads, "MAX_FILE", 10_000)
    big = intake_of(tmp_path, "big.fits", fits_bytes + bytes(20_000))
    assert not big.accepted and "larger than" in reasons(big)
    monkeypatch.setattr(uploads, "MAX_FILE", 256 * 1024**2)
    monkeypatch.setattr(uploads, "MAX_FILES", 3)
    many = tar_of([member(f"{i}.fits", fits_bytes) for i in range(5)])
    intake = intake_of(tmp_path / "b", "many.tar", many)
    assert len(intake.accepted) == 3 and "more than 3 files" in reasons(intake)


def test_request_body_over_the_limit_is_refused_before_parsing():
    from starlette.testclient import TestClient

    from assocdata.web import app as web_app

    small_app_limit = 1024

    async def app(scope, receive, send):  # reads the whole body, as a form parser would
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    c = TestClient(web_app.BodyLimit(app, small_app_limit))  # no lifespan for this bare app
    r = c.post("/submit", content=b"x" * 5000, headers={"content-type": "application/octet-stream"})
    assert r.status_code == 413 and "larger than" in r.text
    assert c.post("/submit", content=b"x" * 500).status_code == 200

    def chunks():
        for _ in range(10):
            yield b"y" * 500

    r = c.post("/submit", content=chunks())  # no Content-Length: counted as it streams
    assert r.status_code == 413


def test_forms_without_the_csrf_token_are_refused(client, fits_bytes):
    r = client.post("/submit", files={"files": ("a.fits", fits_bytes)})
    assert r.status_code == 403 and "CSRF" in r.text
    client.get("/submit")
    r = client.post("/submit", data={"csrf": "forged-value"}, files={"files": ("a.fits", fits_bytes)})
    assert r.status_code == 403
    r = client.post("/desk/login", data={"username": "x", "password": "y"})
    assert r.status_code == 403


def test_uploads_are_stored_outside_the_web_root(env):
    from assocdata.web import app as web_app

    settings = env.settings().submission_settings()
    web_root = web_app.HERE.resolve()
    assert not settings.submissions_dir.resolve().is_relative_to(web_root)
    assert not settings.previews_dir.resolve().is_relative_to(web_root)
