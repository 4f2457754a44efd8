"""etl/assocdata/hpx/build.py: the C extension is built by set-up, once, from the committed sources."""

from __future__ import annotations

from assocdata.hpx import build


def test_installed_extension_matches_the_committed_sources():
    # `assocdata db setup` (scripts/setup) ran before the tests: nothing left to build
    assert not build.needed()
    assert build.installed_library().exists()
    assert build.install() is False  # idempotent: a second run does nothing


def test_stamp_changes_with_the_sources(tmp_path, monkeypatch):
    before = build.stamp()
    copy = tmp_path / "src"
    copy.mkdir()
    for name in build.SOURCES:
        (copy / name).write_bytes((build.SOURCE_DIR / name).read_bytes())
    (copy / "assocdata_hpx.c").write_text((copy / "assocdata_hpx.c").read_text() + "\n/* x */\n")
    monkeypatch.setattr(build, "SOURCE_DIR", copy)
    assert build.stamp() != before


def test_database_runs_the_installed_version(db):
    assert db.execute("SELECT extversion FROM pg_extension WHERE extname = 'assocdata_hpx'"
                      ).fetchone() == ("1.0",)
