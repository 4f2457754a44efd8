"""The submission area: a database of its own where authors' files are checked.

Why a separate database: a submission is staged and derived by exactly the
same library calls as a published catalogue (ingest, derive, mappings,
curation), and that code writes to ``staging.*`` and ``ivoa.obscore``. In the
published database those rows would be visible to the TAP server (Vollt
answers any ADQL on ``ivoa.obscore``), to collection-wide reprocessing and to
every count. In a database of their own they are visible to nothing but the
submission pages; publication stages the accepted files again into the real
catalogue of the published database.

The area has the published database's schema (the same migrations, run by
``assocdata db setup`` and again when ``assocdata web`` starts) and, before
each check, the published database's user-defined mapping functions and its
collection-wide (``--all``) mappings, so that what an author sees is what
publication will produce.
"""

from __future__ import annotations

import json

import psycopg
from psycopg.conninfo import conninfo_to_dict

from .. import cluster, migrate


class AreaError(RuntimeError):
    pass


def prepare(url: str) -> str:
    """Create the area's database if it is missing and bring it to the head migration.

    Idempotent. Returns its migration revision.
    """
    name = conninfo_to_dict(url).get("dbname")
    if not name:
        raise AreaError(f"the submission area's URL names no database: {url}")
    try:
        with psycopg.connect(url, connect_timeout=10):
            pass
    except psycopg.OperationalError:
        # missing (or not reachable: then creating it fails with the server's own words)
        try:
            cluster.ensure_database(name, url)
        except psycopg.errors.InsufficientPrivilege as err:
            raise AreaError(
                f"cannot create the submission area's database {name!r} ({err.diag.message_primary}): "
                "create it yourself, or set ASSOCDATA_SUBMISSIONS_DATABASE_URL to one") from err
    migrate.upgrade(url=url)
    return migrate.current(url=url) or ""


def sync(published: psycopg.Connection, area_url: str) -> list[str]:
    """Bring the published database's mapping UDFs and ``--all`` mappings into the area.

    Functions are copied as their definitions (``pg_get_functiondef``:
    operators' own code from the published database, not author input);
    a collection-wide mapping is applied in the area when its text or
    environment differs there, and removed from the area when it is gone
    from the published database. Returns what changed, for the log.
    """
    from ..mapping.store import apply_file, remove

    done: list[str] = []
    functions = published.execute(
        "SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'mapping_udf' AND p.prokind = 'f' ORDER BY 1").fetchall()
    wanted = published.execute(
        "SELECT m.name, m.source, m.env, m.sha256 FROM mapping.mapping m "
        "JOIN mapping.assignment a ON a.mapping_name = m.name WHERE a.catalogue = '*' "
        "ORDER BY a.position").fetchall()
    with psycopg.connect(area_url, autocommit=True) as area:
        for name, definition in functions:
            current = area.execute(
                "SELECT pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n "
                "ON n.oid = p.pronamespace WHERE n.nspname = 'mapping_udf' AND p.proname = %s",
                [name]).fetchall()
            if (definition,) not in current:
                area.execute(definition)
                done.append(f"function mapping_udf.{name}")
        have = dict(area.execute(
            "SELECT m.name, m.sha256 FROM mapping.mapping m JOIN mapping.assignment a "
            "ON a.mapping_name = m.name WHERE a.catalogue = '*'").fetchall())
        for name, source, env, digest in wanted:
            env = env if isinstance(env, dict) else json.loads(env or "{}")
            if have.get(name) != digest:
                apply_file(area, None, None, source=source, name=name, env=env)
                done.append(f"mapping {name} (all catalogues)")
        for name in set(have) - {w[0] for w in wanted}:
            remove(area, name)
            done.append(f"mapping {name} removed")
    return done
