"""Build and install the ``assocdata_hpx`` C extension with PGXS (run by ``assocdata db setup``).

Why a C extension: the cone -> HEALPix ranges step runs while the query is
planned, once per query; it must cost microseconds (PL/Python costs ~0.5 ms
of planning per query and ~1 s of import per new backend). The sources are in
``ext/assocdata_hpx``; Debian's ``postgresql-server-dev-15`` and gcc build them.

Idempotent: a stamp (hash of the sources and of ``pg_config --version``) is
written beside the installed control file; when it matches, nothing is done.
The build runs in a temporary copy: the repository stays clean. Installing
writes into the server's directories, so it needs root, like ``apt-get``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .. import config

SOURCE_DIR = config.REPO_ROOT / "ext" / "assocdata_hpx"
EXTENSION = "assocdata_hpx"
SOURCES = ("Makefile", "assocdata_hpx.c", "assocdata_hpx.control", "assocdata_hpx--1.0.sql")


class BuildError(RuntimeError):
    """The extension could not be built or installed (the message says what to do)."""


def _pg_config(flag: str) -> str:
    try:
        return subprocess.run(["pg_config", flag], check=True, capture_output=True,
                              text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        raise BuildError("pg_config not found: apt-get install postgresql-server-dev-15") from exc


def stamp() -> str:
    """What the installed extension must have been built from."""
    h = hashlib.sha256(_pg_config("--version").encode())
    for name in SOURCES:
        h.update(name.encode() + b"\0" + (SOURCE_DIR / name).read_bytes())
    return h.hexdigest()


def stamp_file() -> Path:
    return Path(_pg_config("--sharedir")) / "extension" / f"{EXTENSION}.assocdata-stamp"


def installed_library() -> Path:
    return Path(_pg_config("--pkglibdir")) / f"{EXTENSION}.so"


def needed() -> bool:
    """True when the installed extension is missing or built from other sources."""
    path = stamp_file()
    return not (path.exists() and installed_library().exists()
                and path.read_text().strip() == stamp())


def install(force: bool = False) -> bool:
    """Build and install when needed; returns True when it installed."""
    if not force and not needed():
        return False
    if os.geteuid() != 0:
        raise PermissionError(
            f"the C extension {EXTENSION} must be installed into {installed_library().parent}; "
            "run as root: sudo .venv/bin/assocdata db setup")
    if not shutil.which("gcc") and not shutil.which("cc"):
        raise BuildError("no C compiler: apt-get install gcc postgresql-server-dev-15")
    with tempfile.TemporaryDirectory(prefix="assocdata_hpx-") as tmp:
        for name in SOURCES:
            shutil.copy2(SOURCE_DIR / name, Path(tmp) / name)
        for target in ([], ["install"]):
            proc = subprocess.run(["make", "-C", tmp, *target], capture_output=True, text=True)
            if proc.returncode != 0:
                raise BuildError(f"building {EXTENSION} failed (make {' '.join(target)}):\n"
                                 f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    stamp_file().write_text(stamp() + "\n")
    return True
