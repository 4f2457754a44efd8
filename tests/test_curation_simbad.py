"""Simbad resolution: batched, rate limited, retried, cached, offline-safe.

Simbad's answers are real recorded ones (tests/data/curation/README.md); only
the HTTP post of astroquery's session is replaced, the database is the real one.
"""

from __future__ import annotations

import importlib.resources
import io
from collections.abc import Iterator

import pytest
import requests
import urllib3

from assocdata.curation import simbad
from assocdata.curation.ratelimit import RateLimiter

JWST_DATA = "esa/jwst/tests/data"


def recorded(name: str) -> bytes:
    return (importlib.resources.files("astroquery") / JWST_DATA / name).read_bytes()


def http_response(body: bytes, status: int = 200) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r.url = "https://simbad.cds.unistra.fr/simbad/sim-tap/sync"
    r.headers["Content-Type"] = "application/x-votable+xml"
    r.raw = urllib3.response.HTTPResponse(body=io.BytesIO(body), preload_content=False, status=status)
    return r


class FakeClock:
    """Time that only moves when slept: pacing is checked without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s


class Recorder:
    """Astroquery's Simbad TAP service whose HTTP post replays recorded answers."""

    def __init__(self, answers: list[bytes | int | Exception]) -> None:
        self.service = simbad.simbad_service()
        self.answers = answers
        self.posts: list[dict] = []
        self.service._session.post = self.post  # the HTTP layer, nothing else

    def post(self, url, data=None, stream=None, files=None, **kw):
        uploaded = {k: v.read() for k, v in (files or {}).items()}
        self.posts.append({"url": url, "data": dict(data or {}), "files": uploaded})
        answer = self.answers[min(len(self.posts) - 1, len(self.answers) - 1)]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, int):
            return http_response(b"Service Unavailable", answer)
        return http_response(answer)

    def uploaded_names(self, i: int = 0) -> list[str]:
        from astropy.io.votable import parse_single_table

        table = parse_single_table(io.BytesIO(self.posts[i]["files"]["names"])).to_table()
        return [str(x) for x in table["user_specified_id"]]


@pytest.fixture
def cache(db) -> Iterator[None]:
    db.execute("DELETE FROM curation.simbad")
    yield
    db.execute("DELETE FROM curation.simbad")


def limiter() -> tuple[RateLimiter, FakeClock]:
    fake = FakeClock()
    return RateLimiter(5.0, clock=fake.clock, sleep=fake.sleep), fake


def test_many_names_go_to_simbad_in_one_request(db, cache):
    rec = Recorder([recorded("simbad_M1.vot")])
    names = ["M1", "TEST", "NGC 1316", "TW Hya", "Vega"]
    lim, _ = limiter()
    report = simbad.resolve(db, names, service=rec.service, limiter=lim)
    assert len(rec.posts) == 1 and report.requests == 1
    assert rec.posts[0]["url"].endswith("/sim-tap/sync")
    assert "JOIN ident" in rec.posts[0]["data"]["QUERY"]
    assert rec.uploaded_names() == names


def test_a_batch_answer_is_split_per_name_and_cached(db, cache):
    rec = Recorder([recorded("simbad_M1.vot")])
    lim, _ = limiter()
    report = simbad.resolve(db, ["M1", "TEST"], service=rec.service, limiter=lim)
    assert (report.resolved, report.not_found) == (1, 1)
    rows = {r[0]: r[1:] for r in db.execute(
        "SELECT name, status, main_id, ra, dec, region IS NOT NULL, radius_deg FROM curation.simbad")}
    assert rows["M1"][:4] == ("resolved", "M 1", 83.6287, 22.0147)  # Simbad's 'M   1', blanks collapsed
    assert rows["M1"][4] is True and rows["M1"][5] == pytest.approx(1 / 3600)
    assert rows["TEST"][:2] == ("not-found", None)


def test_a_single_name_answer_without_the_upload_column_is_matched_by_identifier():
    from astropy.io.votable import parse_single_table

    table = parse_single_table(io.BytesIO(recorded("simbad_M1.vot"))).to_table()
    assert "user_specified_id" not in table.colnames
    got = simbad.interpret(table, [("m 1", "M 1"), ("M31", "M31")])
    assert [(r.status, r.main_id) for r in got] == [("resolved", "M 1"), ("not-found", None)]


def test_the_recorded_not_found_answer_gives_not_found(db, cache):
    rec = Recorder([recorded("simbad_TEST.vot")])
    report = simbad.resolve(db, ["TEST OBJECT 1"], service=rec.service, limiter=limiter()[0])
    assert report.not_found == 1
    assert db.execute("SELECT status FROM curation.simbad").fetchone()[0] == "not-found"


def test_a_rerun_asks_simbad_nothing(db, cache):
    rec = Recorder([recorded("simbad_M1.vot")])
    simbad.resolve(db, ["M1", "TEST"], service=rec.service, limiter=limiter()[0])
    again = simbad.resolve(db, ["M1", "TEST", "m1 "], service=rec.service, limiter=limiter()[0])
    assert len(rec.posts) == 1  # the second run cost nothing
    assert (again.cached, again.requests, again.resolved, again.not_found) == (2, 0, 1, 1)


def test_refresh_cache_asks_again(db, cache):
    rec = Recorder([recorded("simbad_M1.vot")])
    simbad.resolve(db, ["M1"], service=rec.service, limiter=limiter()[0])
    report = simbad.resolve(db, ["M1"], service=rec.service, limiter=limiter()[0], refresh=True)
    assert len(rec.posts) == 2 and report.resolved == 1 and report.cached == 0


def test_requests_are_paced_to_the_rate_limit(db, cache):
    rec = Recorder([recorded("simbad_M1.vot")])
    lim, fake = limiter()
    report = simbad.resolve(db, [f"NAME {i}" for i in range(7)] + ["M1"], service=rec.service,
                            limiter=lim, batch_size=2)
    assert report.requests == 4 == len(rec.posts)
    # the clock never moved but by sleeping: each request waited 1/rate after the previous one
    assert fake.sleeps == [pytest.approx(0.2)] * 3


def test_a_transient_failure_is_retried_with_backoff(db, cache):
    rec = Recorder([503, 503, recorded("simbad_M1.vot")])
    lim, fake = limiter()
    report = simbad.resolve(db, ["M1"], service=rec.service, limiter=lim)
    assert len(rec.posts) == 3 and report.resolved == 1
    backoffs = [s for s in fake.sleeps if s >= 1.0]
    assert backoffs == [1.0, 2.0]


def test_a_persistent_failure_is_cached_as_an_error_and_retried_next_time(db, cache):
    rec = Recorder([503])
    report = simbad.resolve(db, ["M1"], service=rec.service, limiter=limiter()[0])
    assert report.errors == 1 and len(rec.posts) == 4
    assert db.execute("SELECT status FROM curation.simbad").fetchone()[0] == "error"
    rec.answers = [recorded("simbad_M1.vot")]
    again = simbad.resolve(db, ["M1"], service=rec.service, limiter=limiter()[0])
    assert again.resolved == 1 and again.cached == 0


def test_offline_asks_nothing_and_says_why(db, cache):
    rec = Recorder([recorded("simbad_M1.vot")])
    report = simbad.resolve(db, ["M1", "TW Hya"], service=rec.service, offline=True)
    assert rec.posts == [] and report.not_asked == 2
    assert report.unresolved == [("M1", "no network: not asked (--offline)"),
                                 ("TW Hya", "no network: not asked (--offline)")]


def test_no_route_to_simbad_stops_after_one_attempt(db, cache):
    err = requests.ConnectionError(
        "HTTPSConnectionPool(host='simbad.cds.unistra.fr', port=443): Max retries exceeded "
        "(Caused by NameResolutionError(\"Failed to resolve 'simbad.cds.unistra.fr' "
        "([Errno -2] Name or service not known)\"))")
    rec = Recorder([err])
    report = simbad.resolve(db, [f"NAME {i}" for i in range(5)], service=rec.service,
                            limiter=limiter()[0], batch_size=2)
    assert len(rec.posts) == 1 and report.not_asked == 5
    assert report.offline_reason.startswith("Simbad unreachable")
    assert db.execute("SELECT count(*) FROM curation.simbad").fetchone()[0] == 0  # nothing false cached


def test_solar_system_bodies_and_placeholders_are_not_asked(db, cache):
    rec = Recorder([recorded("simbad_M1.vot")])
    report = simbad.resolve(db, ["Sun", "Sun EUV", "UNKNOWN", "M1"], service=rec.service,
                            limiter=limiter()[0])
    assert rec.uploaded_names() == ["M1"]
    assert [n for n, _ in report.skipped] == ["Sun", "Sun EUV", "UNKNOWN"]


def test_names_differing_in_case_and_blanks_are_one_cache_entry(db):
    assert db.execute("SELECT curation.norm_name(' m   31 '), curation.norm_name('M 31')").fetchone() == \
        ("M 31", "M 31")
