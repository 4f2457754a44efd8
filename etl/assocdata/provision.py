"""Set-up steps that need Python: run by ``scripts/setup`` (``assocdata db setup``).

Each step is idempotent and cheap when there is nothing to do, so the two
README commands can run it every time.

1. PgSphere: install our corrected extension version when the packaged one
   cannot be created (see ``pgsphere.py``).
2. PL/Python packages: the server runs Debian's ``/usr/bin/python3`` (3.11), not
   our virtualenv, and must import the same astropy/numpy as the client. We
   ``pip install --target`` them, pinned by ``constraints.txt``, into
   ``$ASSOCDATA_HOME/plpython``; the project's own code is imported from the
   repository's ``etl/`` folder. Nothing goes into system site-packages.
3. The embedded cluster: initdb, start, create the database.
4. ``alembic upgrade head``.

Between 1 and 2, the C extension of the HEALPix position index is built with
PGXS and installed when its sources changed (``hpx/build.py``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import config

#: What PL/Python imports besides the project's own code (pinned by constraints.txt).
PLPYTHON_REQUIREMENTS = ["astropy", "numpy", "pyerfa", "astropy-iers-data", "pyyaml", "packaging"]
SERVER_PYTHON = Path("/usr/bin/python3")


def _stamp(paths: config.EmbeddedPaths) -> str:
    constraints = (config.REPO_ROOT / "constraints.txt").read_bytes()
    digest = hashlib.sha256(constraints + " ".join(PLPYTHON_REQUIREMENTS).encode()).hexdigest()
    return digest


def install_plpython_packages(force: bool = False) -> bool:
    """Populate the PL/Python packages directory; returns True when it (re)installed.

    Why a new directory and a link switched in one step: running backends
    import from this path at any moment (a Dagster run deriving while an
    operator re-runs set-up). Installing in place removed the packages for the
    ~10 s pip takes, and a derivation in that window failed with "No module
    named 'erfa'". Now pip fills ``plpython-<stamp>-<time>`` beside it, then
    the ``plpython`` symbolic link is replaced atomically (``os.replace``);
    the previous directory is kept for backends that already imported from it
    (and still import submodules lazily), older ones are removed.
    """
    paths = config.embedded()
    target = paths.plpython_dir
    stamp_file = target / ".assocdata-stamp"
    stamp = _stamp(paths)
    if not force and stamp_file.exists() and stamp_file.read_text() == stamp:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f"{target.name}-*.tmp"):  # a killed install's leftovers
        shutil.rmtree(stale, ignore_errors=True)
    version = target.with_name(f"{target.name}-{stamp[:12]}-{time.time_ns()}")
    tmp = version.with_name(version.name + ".tmp")
    subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-warn-script-location", "--target", str(tmp),
            "--python-version", "3.11", "--only-binary=:all:", "--implementation", "cp",
            "-c", str(config.REPO_ROOT / "constraints.txt"), *PLPYTHON_REQUIREMENTS,
        ],
        check=True,
    )
    (tmp / ".assocdata-stamp").write_text(stamp)
    os.chmod(tmp, 0o755)
    tmp.rename(version)
    switch_directory(target, version)
    return True


def switch_directory(link: Path, new: Path, keep: int = 1) -> None:
    """Point ``link`` at ``new`` in one atomic step; keep ``keep`` previous versions.

    ``link`` may be a real directory (the layout before links): it is moved
    aside to a versioned name first (the one short window left, once).
    """
    previous = [p for p in link.parent.glob(f"{link.name}-*") if p.is_dir() and p != new
                and not p.name.endswith(".tmp")]
    if link.is_dir() and not link.is_symlink():
        legacy = link.with_name(f"{link.name}-legacy-{time.time_ns()}")
        link.rename(legacy)
        previous.append(legacy)
    pending = link.with_name(link.name + ".link")
    if pending.is_symlink() or pending.exists():
        pending.unlink()
    pending.symlink_to(new.name)
    current = link.resolve() if link.is_symlink() else None
    os.replace(pending, link)
    # newest first; the one just replaced is kept for backends still importing from it
    previous.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    if current is not None and current in previous:
        previous.remove(current)
        previous.insert(0, current)
    for old in previous[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def check_server_python() -> str:
    """Import the stack with the server's Python, outside the server: a clear error early."""
    if not SERVER_PYTHON.exists():
        raise RuntimeError(f"{SERVER_PYTHON} not found: install python3 (Debian) for PL/Python")
    paths = config.embedded()
    code = (
        "import sys; sys.path[:0] = %r; import assocdata, astropy, astropy.wcs, numpy; "
        "print(sys.version.split()[0], astropy.__version__, numpy.__version__)"
        % [str(paths.plpython_dir), str(config.REPO_ROOT / "etl")]
    )
    proc = subprocess.run([str(SERVER_PYTHON), "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the server's Python cannot import the project:\n{proc.stderr}")
    return proc.stdout.strip()


def setup(start_cluster: bool = True) -> list[str]:
    """Every Python-side set-up step; returns what was done, for the log."""
    from . import cluster, migrate, pgsphere

    done: list[str] = []
    if pgsphere.needed():
        if os.geteuid() != 0:
            raise PermissionError(
                "PgSphere needs its corrected install script, written next to the packaged one "
                f"in {pgsphere.extension_dir()}; run as root:\n"
                f"  sudo {sys.executable} -m assocdata.cli db setup"
            )
        done.append(f"installed {pgsphere.install()}")
    from .hpx import build as hpx_build

    if hpx_build.install():
        done.append(f"built and installed the C extension {hpx_build.EXTENSION} "
                    f"({hpx_build.installed_library()})")
    if install_plpython_packages():
        done.append(f"installed PL/Python packages into {config.embedded().plpython_dir}")
    done.append(f"server python: {check_server_python()}")
    if start_cluster and not config.external_url():
        cluster.start()
        done.append(f"embedded PostgreSQL {cluster.status()} at {config.database_url()}")
    migrate.upgrade()
    done.append(f"database at migration {migrate.current()}")
    from .web import area

    revision = area.prepare(config.submissions_database_url())
    done.append(f"submission area (the web pages' own database) at migration {revision}")
    return done
