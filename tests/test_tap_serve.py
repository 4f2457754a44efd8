"""etl/assocdata/tap/serve.py: what `tap serve` needs, and Vollt itself when VOLLT_LIB is set.

Vollt cannot be installed from the package registries: the test that runs it is
skipped unless VOLLT_LIB points to its jars (and Debian's jetty9 is installed).
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from assocdata.tap import serve


def test_without_vollt_lib_serve_names_what_is_missing():
    _, missing = serve.requirements({"PATH": os.environ.get("PATH", "")})
    assert any(m.what == "VOLLT_LIB" and "not set" in m.how for m in missing)


def test_jars_are_found_by_name_and_missing_ones_named(tmp_path):
    for name in ("tap_2.4.jar", "stil_3.4.jar", "json-20231013.jar", "postgresql-42.7.3.jar"):
        (tmp_path / name).write_bytes(b"")
    jars, missing = serve.find_jars(tmp_path)
    assert [j.name for j in jars] == ["tap_2.4.jar", "stil_3.4.jar", "json-20231013.jar",
                                      "postgresql-42.7.3.jar"]
    assert [m.what.split(" (")[0] for m in missing] == ["Apache commons-fileupload",
                                                       "Apache commons-io"]


def test_cli_serve_exits_1_with_the_list(monkeypatch, capsys):
    from assocdata import cli

    monkeypatch.delenv("VOLLT_LIB", raising=False)
    assert cli.main(["tap", "serve"]) == 1
    assert "VOLLT_LIB" in capsys.readouterr().err


@pytest.mark.skipif(not os.environ.get("VOLLT_LIB"), reason="VOLLT_LIB unset: Vollt is not "
                    "installable from the package registries")
def test_running_vollt_answers_adql_through_both_indexes(tmp_path, db):
    from assocdata.tap import publish

    publish.publish(db)
    _, missing = serve.requirements()
    assert not missing, missing
    proc = subprocess.Popen([".venv/bin/assocdata", "tap", "serve", str(tmp_path / "tap")])
    try:
        base = f"http://127.0.0.1:{os.environ.get('ASSOCDATA_TAP_PORT', '8080')}/tap/tap"
        for _ in range(120):
            try:
                urllib.request.urlopen(base + "/availability", timeout=2)
                break
            except OSError:
                time.sleep(1)

        def sync(adql: str) -> bytes:
            data = urllib.parse.urlencode({"REQUEST": "doQuery", "LANG": "ADQL", "FORMAT": "csv",
                                           "QUERY": adql}).encode()
            return urllib.request.urlopen(base + "/sync", data, timeout=60).read()

        cone = sync("SELECT obs_publisher_did FROM ivoa.obscore WHERE "
                    "CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 83.8, -69.3, 5)) = 1")
        hpx = sync("SELECT obs_publisher_did FROM ivoa.obscore WHERE "
                   "hpx_cone(hpx, s_ra, s_dec, 83.8, -69.3, 5) = 1")
        assert sorted(cone.splitlines()) == sorted(hpx.splitlines())
    finally:
        proc.terminate()
        proc.wait(30)
