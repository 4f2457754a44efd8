"""``assocdata tap serve``: Vollt under Debian's Jetty 9, against the project database.

Vollt is not in any package registry this project can install from: the jars
come from ``VOLLT_LIB``, a directory holding Vollt's TAP library and what it
needs at run time (:data:`REQUIRED_JARS`). Debian's ``jetty9`` package gives
the servlet container (javax.servlet, like Tomcat 9; Tomcat 10's
jakarta.servlet cannot run Vollt). When something is missing the command says
exactly what, and starts nothing.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .. import config

#: What VOLLT_LIB must hold: (what, file name patterns).
REQUIRED_JARS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Vollt's TAP library (ADQL, UWS and TAP: e.g. tap_2.4.jar or vollt-tap-*.jar)",
     ("tap*.jar", "vollt*tap*.jar", "taplib*.jar")),
    ("STIL 3.x (VOTable, FITS, CSV output)", ("stil*.jar",)),
    ("org.json", ("json*.jar", "org.json*.jar")),
    ("Apache commons-fileupload (uploads)", ("commons-fileupload*.jar",)),
    ("Apache commons-io", ("commons-io*.jar",)),
    ("PostgreSQL JDBC driver", ("postgresql*.jar",)),
)
JETTY_HOME = Path("/usr/share/jetty9")


@dataclass(frozen=True)
class Missing:
    what: str
    how: str

    def __str__(self) -> str:
        return f"{self.what}: {self.how}"


def find_jars(lib: Path) -> tuple[list[Path], list[Missing]]:
    """The jars of VOLLT_LIB matching each requirement, and what is missing."""
    names = sorted(p.name for p in lib.glob("*.jar")) if lib.is_dir() else []
    found: list[Path] = []
    missing: list[Missing] = []
    for what, patterns in REQUIRED_JARS:
        match = [n for n in names if any(fnmatch.fnmatch(n.lower(), p) for p in patterns)]
        if match:
            found.append(lib / match[0])
        else:
            missing.append(Missing(what, f"no {' or '.join(patterns)} in {lib}"))
    return found, missing


def requirements(env: dict[str, str] | None = None) -> tuple[list[Path], list[Missing]]:
    """Everything `serve` needs; the second list is empty when it can start."""
    env = dict(os.environ if env is None else env)
    missing: list[Missing] = []
    jars: list[Path] = []
    lib = env.get("VOLLT_LIB")
    if not lib:
        missing.append(Missing("VOLLT_LIB", "not set: point it to a directory with the jars "
                               + "; ".join(w for w, _ in REQUIRED_JARS)
                               + " (Vollt is not installable from the package registries)"))
    elif not Path(lib).is_dir():
        missing.append(Missing("VOLLT_LIB", f"{lib} is not a directory"))
    else:
        jars, more = find_jars(Path(lib))
        missing += more
    if not shutil.which("java"):
        missing.append(Missing("java", "not found: apt-get install default-jre-headless"))
    if not (JETTY_HOME / "start.jar").exists():
        missing.append(Missing("Jetty 9", f"{JETTY_HOME}/start.jar not found: apt-get install jetty9"))
    return jars, missing


def prepare(outdir: Path, jars: list[Path]) -> Path:
    """A Jetty base in outdir/jetty-base deploying outdir/webapp with the jars; returns it."""
    base = outdir / "jetty-base"
    (base / "webapps").mkdir(parents=True, exist_ok=True)
    lib = outdir / "webapp" / "WEB-INF" / "lib"
    lib.mkdir(parents=True, exist_ok=True)
    for jar in jars:
        target = lib / jar.name
        if not target.exists():
            target.symlink_to(jar.resolve())
    link = base / "webapps" / "tap"
    if not link.exists():
        link.symlink_to(outdir / "webapp", target_is_directory=True)
    (base / "start.ini").write_text(
        "--module=server,http,deploy,jndi,plus,annotations\n"
        f"jetty.http.port={os.environ.get('ASSOCDATA_TAP_PORT', '8080')}\n"
        "jetty.http.host=127.0.0.1\n")
    return base


def command(base: Path) -> list[str]:
    return ["java", "-jar", str(JETTY_HOME / "start.jar"), f"jetty.home={JETTY_HOME}",
            f"jetty.base={base}"]


def serve(outdir: Path | None = None) -> int:
    """Render the configuration, then run Jetty in the foreground (Ctrl-C stops it)."""
    from . import config as tap_config

    jars, missing = requirements()
    if missing:
        raise RuntimeError("cannot start Vollt:\n  " + "\n  ".join(str(m) for m in missing))
    outdir = (outdir or config.home() / "tap").resolve()
    tap_config.render(outdir)
    base = prepare(outdir, jars)
    return subprocess.call(command(base), cwd=base)
