"""``assocdata tap config OUTDIR``: Vollt's configuration, rendered for this project.

Writes, from the templates of ``tap_config/`` and the project configuration
(the database of ``config.database_url()``, the TAP role):

- ``OUTDIR/tap.properties``: Vollt's configuration (see the template's comments);
- ``OUTDIR/webapp/WEB-INF/web.xml``: ``ConfigurableTAPServlet``, init-param
  ``tapconf`` = the absolute path of that tap.properties;
- ``OUTDIR/webapp/WEB-INF/jetty-env.xml`` (Jetty 9) and
  ``OUTDIR/webapp/META-INF/context.xml`` (Tomcat 9): the JNDI pool ``jdbc/assocdata``;
- ``OUTDIR/webapp/examples.html``: the DALI examples (:mod:`.examples`);
- ``OUTDIR/files/``: Vollt's results, logs and job backups.

java.util.Properties has no end-of-line comments (``key = v # note`` makes
``v # note`` the value), so values are written bare and checked by
:func:`parse_properties`, which reads a file as Java does.
"""

from __future__ import annotations

import os
import re
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from .. import config
from . import examples

TEMPLATES = config.REPO_ROOT / "tap_config"
TAP_ROLE = "assocdata_tap"
JNDI_NAME = "java:comp/env/jdbc/assocdata"


@dataclass(frozen=True)
class Udf:
    """A UDF declared to Vollt: TAPRegExt signature, SQL translation, description.

    Parameter names have no underscore: Vollt's FunctionDef accepts only
    ``[a-zA-Z0-9,() ]`` between the parentheses of a signature.
    """

    signature: str
    translation: str
    description: str

    def item(self) -> str:
        desc = self.description.replace('"', '\\"')
        return f'[{self.signature}, "{self.translation}", "{desc}"]'


UDFS: tuple[Udf, ...] = (
    Udf("hpx_cone(hpx BIGINT, lon DOUBLE, lat DOUBLE, lon0 DOUBLE, lat0 DOUBLE, radius DOUBLE)"
        " -> INTEGER",
        "hpx.hpx_cone($1, $2, $3, $4, $5, $6)",
        "1 if (s_ra, s_dec) is within radius degrees of (ra0, dec0), else 0, through the "
        "HEALPix index hpx: WHERE hpx_cone(hpx, s_ra, s_dec, 10.68, 41.27, 0.5) = 1"),
    Udf("hpx_intersects(region REGION, lon0 DOUBLE, lat0 DOUBLE, radius DOUBLE) -> INTEGER",
        "hpx.hpx_intersects($1, $2, $3, $4)",
        "1 if the footprint s_region meets the cone of radius degrees around (ra0, dec0), "
        "through its HEALPix coverage: WHERE hpx_intersects(s_region, 10.68, 41.27, 0.5) = 1"),
)


@dataclass(frozen=True)
class Database:
    """Where Vollt connects: host, port, database, user, password (TCP)."""

    host: str
    port: int
    database: str
    user: str = TAP_ROLE
    password: str = ""

    @property
    def jdbc_url(self) -> str:
        return f"jdbc:postgresql://{self.host}:{self.port}/{self.database}"


@dataclass(frozen=True)
class TapSettings:
    """Everything the templates need; defaults are the project's."""

    database: Database
    database_access: str = "jndi"
    provider_name: str = "assocdata"
    service_description: str = ("ObsCore table of the FITS files attached to VizieR catalogues "
                                "(images, spectra, cubes, time series, event lists)")
    max_async_jobs: int = 2
    output_default_limit: int = 10_000
    output_max_limit: int = 1_000_000
    upload_enabled: bool = False
    udfs: tuple[Udf, ...] = field(default=UDFS)


def password_file() -> Path:
    return config.home() / "tap_password"


def tap_password() -> str:
    """The TAP role's password: ``ASSOCDATA_TAP_PASSWORD``, else one generated once
    and kept in ``$ASSOCDATA_HOME/tap_password`` (mode 0600)."""
    env = os.environ.get("ASSOCDATA_TAP_PASSWORD")
    if env:
        return env
    path = password_file()
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


def project_database(password: str | None = None) -> Database:
    """The configured database, as Vollt reaches it over TCP."""
    external = config.external_url()
    if external:
        parts = urlsplit(external)
        query = parse_qs(parts.query)
        host = parts.hostname or query.get("host", ["localhost"])[0]
        if host.startswith("/"):
            host = "localhost"  # a unix socket: Java connects over TCP
        return Database(host=host, port=parts.port or int(query.get("port", ["5432"])[0]),
                        database=(parts.path or "/postgres").lstrip("/") or "postgres",
                        password=password if password is not None else tap_password())
    return Database(host="127.0.0.1", port=config.port(), database=config.DEFAULT_DATABASE,
                    password=password if password is not None else tap_password())


def _properties_value(value: str) -> str:
    """Escape a value for java.util.Properties (leading blanks, backslashes, newlines)."""
    if "\n" in value or "\r" in value:
        raise ValueError(f"a properties value cannot hold a newline: {value!r}")
    value = value.replace("\\", "\\\\")
    return ("\\" + value) if value[:1] in (" ", "\t") else value


def render_properties(settings: TapSettings, file_root: Path) -> str:
    db = settings.database
    if settings.database_access == "jndi":
        database_lines = f"datasource_jndi_name = {_properties_value(JNDI_NAME)}"
    elif settings.database_access == "jdbc":
        database_lines = "\n".join([
            f"jdbc_url = {_properties_value(db.jdbc_url)}",
            "jdbc_driver = org.postgresql.Driver",
            f"db_username = {_properties_value(db.user)}",
            f"db_password = {_properties_value(db.password)}",
        ])
    else:
        raise ValueError(f"database_access {settings.database_access!r}: jndi or jdbc")
    udfs = ", \\\n       ".join(_properties_value(u.item()) for u in settings.udfs)
    values = {
        "provider_name": _properties_value(settings.provider_name),
        "service_description": _properties_value(settings.service_description),
        "database_access": settings.database_access,
        "database_lines": database_lines,
        "file_root_path": _properties_value(str(file_root)),
        "max_async_jobs": str(settings.max_async_jobs),
        "output_default_limit": str(settings.output_default_limit),
        "output_max_limit": str(settings.output_max_limit),
        "upload_enabled": "true" if settings.upload_enabled else "false",
        "udfs": udfs,
    }
    text = string.Template((TEMPLATES / "tap.properties.template").read_text()).substitute(values)
    _check_clean(text)
    return text


def _check_clean(text: str) -> None:
    """No value may carry a '#': Java would keep it as part of the value."""
    for key, value in parse_properties(text).items():
        if "#" in value:
            raise ValueError(f"tap.properties: the value of {key} contains '#': {value!r}")


def _xml_values(values: Mapping[str, object]) -> dict[str, str]:
    return {k: escape(str(v), {'"': "&quot;"}) for k, v in values.items()}


def render(outdir: Path | str, settings: TapSettings | None = None) -> dict[str, Path]:
    """Write every file of a deployment into ``outdir``; returns them by role."""
    settings = settings or TapSettings(database=project_database())
    out = Path(outdir).resolve()
    webapp = out / "webapp"
    files = out / "files"
    for d in (webapp / "WEB-INF", webapp / "META-INF", files):
        d.mkdir(parents=True, exist_ok=True)
    db = settings.database
    written = {
        "tap.properties": out / "tap.properties",
        "web.xml": webapp / "WEB-INF" / "web.xml",
        "jetty-env.xml": webapp / "WEB-INF" / "jetty-env.xml",
        "context.xml": webapp / "META-INF" / "context.xml",
        "examples": webapp / "examples.html",
    }
    written["tap.properties"].write_text(render_properties(settings, files))
    written["tap.properties"].chmod(0o600)  # may hold a password (jdbc)
    written["web.xml"].write_text(string.Template((TEMPLATES / "web.xml").read_text()).substitute(
        _xml_values({"tapconf": written["tap.properties"]})))
    pool = _xml_values({"host": db.host, "port": db.port, "database": db.database,
                        "user": db.user, "password": db.password})
    for name in ("jetty-env.xml", "context.xml"):
        written[name].write_text(string.Template((TEMPLATES / name).read_text()).substitute(pool))
        written[name].chmod(0o600)
    written["examples"].write_text(examples.render())
    return written


# ------------------------------------------------ java.util.Properties reader

_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def parse_properties(text: str) -> dict[str, str]:
    """Read a .properties text exactly as java.util.Properties.load does.

    Logical lines (a line ending in an odd number of backslashes continues on
    the next, whose leading blanks are dropped), comment lines starting with
    '#' or '!', key ended by the first unescaped '=', ':' or blank, escapes
    (\\t \\n \\uXXXX, \\x -> x). A '#' after a value is part of the value.
    """
    out: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].lstrip(" \t\f")
        i += 1
        if not line or line[0] in "#!":
            continue
        while _continues(line) and i < len(lines):
            line = line[:-1] + lines[i].lstrip(" \t\f")
            i += 1
        if _continues(line):
            line = line[:-1]
        key, value = _split(line)
        out[_unescape(key)] = _unescape(value)
    return out


def _continues(line: str) -> bool:
    n = len(line) - len(line.rstrip("\\"))
    return n % 2 == 1


def _split(line: str) -> tuple[str, str]:
    j = 0
    while j < len(line):
        c = line[j]
        if c == "\\":
            j += 2
            continue
        if c in "=: \t\f":
            break
        j += 1
    key, rest = line[:j], line[j:]
    rest = rest.lstrip(" \t\f")
    if rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip(" \t\f")
    return key, rest


def _unescape(s: str) -> str:
    out = []
    j = 0
    while j < len(s):
        c = s[j]
        if c == "\\" and j + 1 < len(s):
            n = s[j + 1]
            if n == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", s[j + 2:j + 6] or ""):
                out.append(chr(int(s[j + 2:j + 6], 16)))
                j += 6
                continue
            out.append(_ESCAPES.get(n, n))
            j += 2
            continue
        out.append(c)
        j += 1
    return "".join(out)
