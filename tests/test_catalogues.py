"""Which directories are catalogues, and which files belong to them."""

from __future__ import annotations

from pathlib import Path

import pytest

from assocdata.catalogues import CatalogueNotFound, discover, scan


def _touch(path: Path, data: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    _touch(tmp_path / "J/A+A/526/A155/ReadMe", b"ReadMe")
    _touch(tmp_path / "J/A+A/526/A155/fits/spec1.fits")
    _touch(tmp_path / "J/A+A/526/A155/fits/deep/spec2.fit.gz")
    _touch(tmp_path / "J/A+A/526/A155/notes.txt")
    _touch(tmp_path / "J/A+A/526/A155/.hidden/skip.fits")
    _touch(tmp_path / "J/A+A/526/A155/sub/ReadMe", b"nested catalogue")
    _touch(tmp_path / "J/A+A/526/A155/sub/img.fits")
    _touch(tmp_path / "J/ApJ/1/2/incomplete.fits")  # no ReadMe yet: not a catalogue
    _touch(tmp_path / "B/hdr/ReadMe")
    _touch(tmp_path / "B/hdr/h.hdr")
    return tmp_path


def test_directories_with_a_readme_are_catalogues(tree):
    assert [c.id for c in discover(tree)] == ["B/hdr", "J/A+A/526/A155", "J/A+A/526/A155/sub"]


def test_files_anywhere_below_a_catalogue_except_nested_catalogues_and_hidden(tree):
    found = {c.id: c for c in discover(tree)}
    nested = {c.directory for c in found.values()}
    main = found["J/A+A/526/A155"]
    assert sorted(e.relpath for e in scan(main, nested - {main.directory})) == [
        "fits/deep/spec2.fit.gz", "fits/spec1.fits"]
    assert [e.relpath for e in scan(found["B/hdr"])] == ["h.hdr"]


def test_a_named_catalogue_needs_no_readme(tree):
    [cat] = discover(tree, ["J/ApJ/1/2"])
    assert cat.id == "J/ApJ/1/2"
    assert [e.relpath for e in scan(cat)] == ["incomplete.fits"]


def test_an_unknown_catalogue_is_a_clear_error(tree):
    with pytest.raises(CatalogueNotFound, match="J/none"):
        discover(tree, ["J/none"])
