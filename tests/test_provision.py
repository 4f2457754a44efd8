"""Set-up steps that must be safe while the server is in use."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from assocdata.provision import switch_directory


def _version(root: Path, name: str, module: str) -> Path:
    d = root / name
    d.mkdir()
    (d / f"{module}.py").write_text("VALUE = 1\n")
    return d


def test_the_packages_path_never_disappears_while_a_new_version_is_switched_in(tmp_path):
    """A backend importing during a re-install always finds the packages (the failure a
    Dagster run met: "No module named 'erfa'" while set-up reinstalled in place)."""
    link = tmp_path / "plpython"
    first = _version(tmp_path, "plpython-a-1", "erfa")
    switch_directory(link, first)
    seen_missing = []
    checks = [0]
    stop = threading.Event()

    def importer() -> None:
        while not stop.is_set():
            if not (link / "erfa.py").exists():
                seen_missing.append(time.monotonic())
            checks[0] += 1

    t = threading.Thread(target=importer)
    t.start()
    try:
        for i in range(2, 40):
            # as in real life (an install takes seconds), a lookup never straddles two
            # switches: the importer finishes the ones begun before the last switch
            seen = checks[0]
            while checks[0] < seen + 2:
                time.sleep(0)
            switch_directory(link, _version(tmp_path, f"plpython-a-{i}", "erfa"))
    finally:
        stop.set()
        t.join()
    assert seen_missing == []
    assert link.is_symlink() and link.resolve().name == "plpython-a-39"
    # the current one and the one it replaced are kept, older ones removed
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "plpython") == [
        "plpython-a-38", "plpython-a-39"]


def test_a_real_directory_from_the_old_layout_becomes_a_link(tmp_path):
    link = _version(tmp_path, "plpython", "astropy")
    new = _version(tmp_path, "plpython-b-1", "astropy")
    switch_directory(link, new)
    assert link.is_symlink() and (link / "astropy.py").exists()
    assert any(p.name.startswith("plpython-legacy-") for p in tmp_path.iterdir())
