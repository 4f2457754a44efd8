"""The corrected pg_sphere script differs from the packaged one by exactly the two clauses."""

from __future__ import annotations

import difflib

import pytest

from assocdata import pgsphere

PACKAGED = pgsphere.extension_dir() / f"pg_sphere--{pgsphere.BASE_VERSION}.sql"


@pytest.mark.skipif(not PACKAGED.exists(), reason="Debian's pg_sphere 1.2.0 is not installed")
def test_patch_removes_only_the_commutator_and_negator_of_the_two_legacy_operators():
    original = PACKAGED.read_text()
    patched = pgsphere.patch_script(original)
    removed = [l for l in difflib.unified_diff(original.splitlines(), patched.splitlines(), n=0)
               if l.startswith("-") and not l.startswith("---")]
    assert sorted(x.strip("- ,") for x in removed) == sorted(
        ["COMMUTATOR = '@>'", "COMMUTATOR = '@>'", "NEGATOR    = '!<@'", "NEGATOR    = '!<@'"])
    assert patched.count("CREATE OPERATOR") == original.count("CREATE OPERATOR")


def test_patch_refuses_an_unexpected_script():
    with pytest.raises(pgsphere.PgSphereFixError, match="found 0"):
        pgsphere.patch_script("CREATE OPERATOR @ (LEFTARG = spoint, RIGHTARG = scircle);")


@pytest.mark.skipif(not PACKAGED.exists(), reason="Debian's pg_sphere 1.2.0 is not installed")
def test_install_is_idempotent(tmp_path):
    (tmp_path / PACKAGED.name).write_text(PACKAGED.read_text())
    assert pgsphere.needed(tmp_path)
    assert pgsphere.install(tmp_path) is not None
    assert not pgsphere.needed(tmp_path)
    assert pgsphere.install(tmp_path) is None
