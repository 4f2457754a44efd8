"""The sample collection: real corpus files, one catalogue per origin, licences kept."""

from __future__ import annotations

import hashlib

from assocdata import sample


def test_every_corpus_file_is_copied_unchanged(sample_root, corpus):
    entries = sample.manifest(corpus)
    assert len(entries) == 68
    for e in entries:
        copy = sample_root / sample.catalogue_of(e) / e.file.split("/", 1)[1]
        assert hashlib.md5(copy.read_bytes()).hexdigest() == e.md5, e.file


def test_licence_terms_travel_with_the_hess_files(sample_root):
    cat = sample_root / "DEMO" / "gammapy-data"
    assert (cat / "HESS_DL3_DR1_README.txt").exists()
    assert "CC BY-NC-SA 4.0" in (cat / "ReadMe").read_text()


def test_build_is_idempotent(tmp_path, corpus):
    first = sample.build(tmp_path, corpus)
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    assert sample.build(tmp_path, corpus) == first
    assert mtimes == {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
