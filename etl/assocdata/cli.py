"""The ``assocdata`` command line.

Exit codes: 0 when the run completed (bad input files are reject rows, not
failures); 1 for infrastructure failures (database unreachable, disk full) and
usage errors, with a message that says what to do.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _die(message: str, code: int = 1) -> int:
    print(f"assocdata: {message}", file=sys.stderr)
    return code


# -- db ------------------------------------------------------------------------

def cmd_db(args: argparse.Namespace) -> int:
    from . import cluster, config, migrate, provision

    action = args.action
    if action == "url":
        print(config.database_url())
        return 0
    if action == "setup":
        for line in provision.setup():
            print(line)
        return 0
    if action == "migrate":
        migrate.upgrade()
        print(f"database at migration {migrate.current()}")
        return 0
    if config.external_url():
        return _die(f"ASSOCDATA_DATABASE_URL is set: `db {action}` manages only the embedded cluster")
    if action == "start":
        cluster.start()
        print(f"{cluster.status()}: {config.database_url()}")
    elif action == "stop":
        cluster.stop()
        print("stopped")
    elif action == "status":
        state = cluster.status()
        print(f"{state}: {config.database_url()}" if state else
              f"not running (data directory {config.embedded().pgdata})")
        return 0 if state else 3
    return 0


# -- ingest --------------------------------------------------------------------

def cmd_ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .catalogues import CatalogueNotFound
    from .ingest import InfrastructureError, ingest

    bar: tqdm | None = None
    counts = {"hdus": 0, "rejects": 0}

    def on_files(n: int) -> None:
        nonlocal bar
        if not args.quiet:
            bar = tqdm(total=n, unit="file", dynamic_ncols=True, file=sys.stderr,
                       desc="staging", smoothing=0.05)

    def progress(staged) -> None:
        counts["hdus"] += len(staged.hdu_rows)
        counts["rejects"] += sum(p.severity == "error" for p in staged.problems)
        if bar is not None:
            bar.update(1)
            rate = counts["hdus"] / max(bar.format_dict["elapsed"], 1e-9)
            bar.set_postfix(HDUs=counts["hdus"], rejects=counts["rejects"],
                            rate=f"{rate:,.0f} HDU/s", refresh=False)

    try:
        summary = ingest(args.root, args.catalogues or None, workers=args.workers,
                         progress=progress, on_files=on_files)
    except CatalogueNotFound as exc:
        return _die(str(exc))
    except InfrastructureError as exc:
        return _die(str(exc))
    finally:
        if bar is not None:
            bar.close()
    print("\n".join(summary.lines()))
    return 0


def cmd_rejects(args: argparse.Namespace) -> int:
    import psycopg

    from . import config

    query = """
        SELECT catalogue, relpath, hdu, keyword, error_class, message
          FROM staging.reject
         WHERE (%(cat)s::text IS NULL OR catalogue = %(cat)s)
           AND (%(warnings)s OR severity = 'error')
         ORDER BY catalogue, relpath, hdu NULLS FIRST, id
         LIMIT %(limit)s
    """
    with psycopg.connect(config.database_url()) as conn:
        rows = conn.execute(query, {"cat": args.catalogue, "limit": args.limit,
                                     "warnings": args.warnings}).fetchall()
    for cat, rel, hdu, kw, cls, msg in rows:
        where = f"{cat}/{rel}" + (f"[{hdu}]" if hdu is not None else "") + (f" {kw}" if kw else "")
        print(f"{cls:<16} {where}: {msg}")
    return 0


# -- derive & export ---------------------------------------------------------------

def cmd_derive(args: argparse.Namespace) -> int:
    import psycopg

    from .derive.refresh import refresh

    try:
        summary = refresh(args.catalogues or None, full=args.full, workers=args.workers)
    except psycopg.OperationalError as exc:
        return _die(f"cannot use the database ({exc}); start it with `assocdata db start`")
    print("\n".join(summary.lines()))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from . import config
    from .api import query_table, write_table

    suffix = {"votable": ".xml", "csv": ".csv", "ecsv": ".ecsv", "fits": ".fits"}[args.format]
    out = Path(args.output or f"obscore{suffix}")
    if out.suffix.lower() != suffix and not (args.format == "votable" and out.suffix in (".vot", ".votable")):
        return _die(f"{out}: the name must end in {suffix} for --format {args.format}")
    table = query_table(config.database_url(), args.catalogue or None)
    write_table(table, out, overwrite=True)
    print(f"{len(table)} rows written to {out}")
    return 0


# -- map -------------------------------------------------------------------------

def _database_or_none():
    """A connection for `map check` (user functions, regex check), or None if unreachable."""
    import psycopg

    from . import config

    try:
        return psycopg.connect(config.database_url(), connect_timeout=3, autocommit=True)
    except psycopg.OperationalError:
        return None


def cmd_map(args: argparse.Namespace) -> int:
    from .mapping import MappingError, compile_file

    if args.action == "check":
        conn = _database_or_none()
        try:
            compiled, warnings = compile_file(args.file, conn=conn)
        except MappingError as exc:
            for d in exc.diagnostics:
                print(d, file=sys.stderr)
            errors = sum(d.severity == "error" for d in exc.diagnostics)
            print(f"{args.file}: {errors} error{'s' if errors != 1 else ''}", file=sys.stderr)
            return 1
        except OSError as exc:
            return _die(f"cannot read {args.file}: {exc}")
        finally:
            if conn is not None:
                conn.close()
        for d in warnings:
            print(d, file=sys.stderr)
        if conn is None:
            print(f"{args.file}: note: database not reachable; user-defined functions and regular "
                  "expressions were not checked", file=sys.stderr)
        mf = compiled.mapping
        print(f"{args.file}: ok (language version {mf.version}; {len(mf.defaults)} header defaults, "
              f"{len(mf.field_rules)} field rules, {len(compiled.statements)} SQL statements)")
        if args.sql:
            for st in compiled.statements:
                print(f"\n-- {st.kind}, {st.scope.describe()}, lines {', '.join(map(str, st.lines))}")
                print(st.text(restrict="<the catalogues' files>") + ";")
                print("-- parameters: " + ", ".join(f"{k} = {v!r}" for k, v in st.params.items()))
        return 0
    if args.action == "apply":
        return _map_apply(args)
    if args.action == "list":
        return _map_list()
    if args.action == "remove":
        return _map_remove(args)
    return _die(f"unknown action {args.action}")


def _map_apply(args: argparse.Namespace) -> int:
    import psycopg

    from . import config
    from .mapping import MappingError
    from .mapping.store import apply_file

    if not args.catalogue and not args.all:
        return _die("say where the mapping applies: --catalogue ID (repeatable) or --all")
    try:
        with psycopg.connect(config.database_url()) as conn:
            summary = apply_file(conn, args.file, None if args.all else args.catalogue,
                                 dry_run=args.dry_run)
    except MappingError as exc:
        for d in exc.diagnostics:
            print(d, file=sys.stderr)
        return 1
    except ValueError as exc:
        return _die(str(exc))
    except psycopg.errors.IntegrityError as exc:
        return _die(f"{args.file}: a value set by the mapping breaks the rule "
                    f"{exc.diag.constraint_name or ''} of {exc.diag.schema_name or 'ivoa'}."
                    f"{exc.diag.table_name or 'obscore'} ({exc.diag.message_primary}); nothing was written")
    except psycopg.OperationalError as exc:
        return _die(f"cannot use the database ({exc}); start it with `assocdata db start`")
    print("\n".join(summary.lines()))
    if args.dry_run:
        _print_changes(summary.changes, args.limit)
    return 0


def _map_remove(args: argparse.Namespace) -> int:
    import psycopg

    from . import config
    from .mapping.store import remove

    name = Path(args.file).name
    with psycopg.connect(config.database_url()) as conn:
        with conn.transaction():
            known = conn.execute("SELECT 1 FROM mapping.mapping WHERE name = %s", [name]).fetchone()
        if not known:
            return _die(f"no mapping named {name!r} (see `assocdata map list`)")
        summary = remove(conn, name, args.catalogue or None)
    where = ", ".join(args.catalogue) if args.catalogue else "everywhere"
    print(f"mapping {name} removed ({where})")
    if summary is not None:
        print("\n".join(summary.lines()))
    return 0


def _print_changes(changes, limit: int) -> None:
    if not changes:
        return
    def short(v):
        text = "NULL" if v is None else str(v)
        return text if len(text) <= 40 else text[:37] + "..."
    rows = [(c.obs_publisher_did, c.column, short(c.old), short(c.new)) for c in changes[:limit]]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in
              enumerate(("obs_publisher_did", "column", "old", "new"))]
    header = ("obs_publisher_did", "column", "old", "new")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for r in rows:
        print("  ".join([r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].ljust(widths[2]),
                         "-> " + r[3]]))
    if len(changes) > limit:
        print(f"... and {len(changes) - limit} more (--limit)")


def _map_list() -> int:
    import psycopg

    from . import config

    with psycopg.connect(config.database_url()) as conn:
        rows = conn.execute(
            """SELECT m.name, m.version, left(m.sha256, 12), m.updated_at::timestamp(0),
                      coalesce(string_agg(a.catalogue, ' ' ORDER BY a.catalogue), '')
                 FROM mapping.mapping m LEFT JOIN mapping.assignment a ON a.mapping_name = m.name
                GROUP BY m.name ORDER BY m.name""").fetchall()
    for name, version, sha, updated, cats in rows:
        print(f"{name}  v{version}  {sha}  {updated}  {cats or '(not assigned)'}")
    if not rows:
        print("no mapping applied yet")
    return 0


# -- curate ----------------------------------------------------------------------

def cmd_curate(args: argparse.Namespace) -> int:
    """Fill what headers lack from the ReadMe, Simbad and filter profiles (docs/curation.md)."""
    import psycopg
    from tqdm import tqdm

    from .curation import curate

    bar: tqdm | None = None

    def on_total(n: int) -> None:
        nonlocal bar
        bar = tqdm(total=n, unit="name", dynamic_ncols=True, file=sys.stderr, desc="curating")

    def progress(n: int) -> None:
        if bar is not None:
            bar.update(n)

    try:
        summary = curate(args.catalogues or None, offline=args.offline,
                         refresh_cache=args.refresh_cache, on_total=on_total, progress=progress)
    except ValueError as exc:
        return _die(str(exc))
    except psycopg.OperationalError as exc:
        return _die(f"cannot use the database ({exc}); start it with `assocdata db start`")
    finally:
        if bar is not None:
            bar.close()
    print("\n".join(summary.lines()))
    return 0


# -- sample & demo ---------------------------------------------------------------

def cmd_sample(args: argparse.Namespace) -> int:
    from . import sample

    dest = Path(args.dest) if args.dest else sample.default_destination()
    layout = sample.build(dest)
    for cat, files in layout.items():
        print(f"{cat}: {len(files)} files")
    print(f"sample collection in {dest}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """The main job on the embedded default: build the sample collection and stage it."""
    from . import config, sample
    from .ingest import InfrastructureError, ingest

    dest = sample.default_destination()
    layout = sample.build(dest)
    print(f"sample collection: {len(layout)} catalogues in {dest}")
    try:
        summary = ingest(dest, workers=args.workers)
    except InfrastructureError as exc:
        return _die(str(exc))
    print("\n".join(summary.lines()))
    from .derive.refresh import refresh

    derived = refresh(summary.catalogues, workers=os.cpu_count() or 1)
    print("\nObsCore derivation")
    print("\n".join(derived.lines()))
    print(f"\ndatabase: {config.database_url()}")
    print("try:     psql \"$(.venv/bin/assocdata db url)\" -c 'SELECT dataproduct_type, count(*) "
          "FROM ivoa.obscore GROUP BY 1'")
    return 0


# -- tap -----------------------------------------------------------------------

def cmd_tap(args: argparse.Namespace) -> int:
    import psycopg

    from . import config
    from .tap import check, publish, role, serve
    from .tap import config as tap_config

    if args.action == "serve":
        jars, missing = serve.requirements()
        if missing:
            return _die("cannot start Vollt, missing:\n  " + "\n  ".join(map(str, missing)))
        return serve.serve(Path(args.outdir) if args.outdir else None)
    if args.action == "config" and not args.outdir:
        return _die("tap config needs OUTDIR")
    try:
        with psycopg.connect(config.database_url(), autocommit=True) as conn:
            if args.action == "schema":
                rows, changed = publish.refresh_schema(conn)
                print("TAP_SCHEMA: " + ", ".join(f"{n} {t}" for t, n in rows.items()))
                print("TAP_SCHEMA changed: restart the TAP server (Vollt reads it only at start)"
                      if changed else "TAP_SCHEMA unchanged: no restart needed")
                return 0
            if args.action == "check":
                problems = check.check(conn)
                for problem in problems:
                    print(f"assocdata tap check: {problem}", file=sys.stderr)
                if not problems:
                    print("TAP_SCHEMA matches the database")
                return 1 if problems else 0
            settings = tap_config.TapSettings(database=tap_config.project_database(),
                                              database_access=args.access,
                                              upload_enabled=args.uploads)
            written = tap_config.render(Path(args.outdir), settings)
            role.set_password(conn, settings.database.password)
            role.set_uploads(conn, settings.upload_enabled)
    except psycopg.OperationalError as exc:
        return _die(f"database unreachable ({config.database_url()}): {exc}")
    except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName,
            psycopg.errors.UndefinedObject) as exc:
        return _die(f"the database lacks the TAP objects ({exc.diag.message_primary}): "
                    "run `assocdata db migrate`")
    for what, path in written.items():
        print(f"{what}: {path}")
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    import psycopg

    from .web import server
    from .web.auth import AccountError

    try:
        if args.add_user:
            server.add_user(args.add_user)
            print(f"account {args.add_user}: ready")
            return 0
        if args.previews is not None:
            counts = server.make_previews(args.previews or None)
            print(", ".join(f"{k} {v}" for k, v in counts.items()))
            return 0
    except AccountError as exc:
        return _die(str(exc))
    except psycopg.OperationalError as exc:
        return _die(f"cannot use the database ({exc}); start it with `assocdata db start`")
    except psycopg.errors.CheckViolation:
        return _die("account names are letters, digits, '_', '.' and '-' (at most 64)")
    from .web.area import AreaError

    try:
        server.serve(args.host, args.port)
    except AreaError as exc:
        return _die(str(exc))
    except psycopg.OperationalError as exc:
        return _die(f"cannot use the database ({exc}); start it with `assocdata db start`")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assocdata", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("db", help="the embedded PostgreSQL cluster and the schema")
    p.add_argument("action", choices=["start", "stop", "status", "url", "setup", "migrate"])
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("ingest", help="stage every FITS header of a collection tree")
    p.add_argument("root", help="collection root (catalogue ids are paths below it)")
    p.add_argument("catalogues", nargs="*", help="catalogue ids to stage (default: every "
                   "directory holding a ReadMe)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: cores)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("rejects", help="list what could not be read, and why")
    p.add_argument("--catalogue", default=None)
    p.add_argument("--limit", type=int, default=200)
    p.add_argument("--warnings", action="store_true",
                   help="also list what was read by tolerating non-standard FITS")
    p.set_defaults(func=cmd_rejects)

    p = sub.add_parser("derive", help="derive ivoa.obscore from the staged headers (incremental)")
    p.add_argument("catalogues", nargs="*", help="catalogue ids (default: all staged)")
    p.add_argument("--full", action="store_true", help="recompute every file, not only changed ones")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="concurrent database backends (default: cores)")
    p.set_defaults(func=cmd_derive)

    p = sub.add_parser("export", help="write ivoa.obscore rows to a file")
    p.add_argument("--format", choices=["votable", "csv", "ecsv", "fits"], default="votable")
    p.add_argument("-o", "--output", default=None)
    p.add_argument("--catalogue", action="append", help="restrict to a catalogue (repeatable)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("map", help="mapping files: check, apply, list, remove (docs/mapping.md)")
    p.add_argument("action", choices=["check", "apply", "list", "remove"])
    p.add_argument("file", nargs="?", help="the mapping file (check, apply), or its name (remove)")
    p.add_argument("--sql", action="store_true", help="check: print the compiled SQL")
    p.add_argument("--catalogue", action="append",
                   help="apply, remove: a catalogue id (repeatable; remove: default all)")
    p.add_argument("--all", action="store_true", help="apply: every catalogue, now and later")
    p.add_argument("--dry-run", action="store_true",
                   help="apply: print the cells that would change (old -> new), write nothing")
    p.add_argument("--limit", type=int, default=200, help="dry run: at most this many cells")
    p.set_defaults(func=cmd_map)

    p = sub.add_parser("curate", help="fill what headers lack from the ReadMe, Simbad and filter "
                       "profiles (docs/curation.md)")
    p.add_argument("catalogues", nargs="*", help="catalogue ids (default: all staged)")
    p.add_argument("--offline", action="store_true",
                   help="ask no service: the caches and the offline filter seed only")
    p.add_argument("--refresh-cache", action="store_true",
                   help="ask Simbad and SVO again for what they already answered")
    p.set_defaults(func=cmd_curate)

    p = sub.add_parser("sample", help="build the sample collection from the dev corpus")
    p.add_argument("dest", nargs="?", default=None)
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("demo", help="the main job: stage the sample collection")
    p.add_argument("--workers", type=int, default=None)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("tap", help="TAP publication with Vollt: TAP_SCHEMA, check, config, serve "
                                   "(docs/tap.md)")
    p.add_argument("action", choices=["schema", "check", "config", "serve"])
    p.add_argument("outdir", nargs="?", default=None,
                   help="config: where to write tap.properties and the web application; "
                        "serve: the same (default $ASSOCDATA_HOME/tap)")
    p.add_argument("--access", choices=["jndi", "jdbc"], default="jndi",
                   help="config: connections from the container's pool (jndi) or Vollt's own (jdbc)")
    p.add_argument("--uploads", action="store_true",
                   help="config: enable uploads (the TAP role may then CREATE in TAP_UPLOAD)")
    p.set_defaults(func=cmd_tap)

    p = sub.add_parser("web", help="the search, submission and documentalists' pages (docs/web.md)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--add-user", metavar="NAME",
                   help="create (or reset the password of) a documentalist account and exit; the "
                        "password is asked on the terminal, or read from the first line of stdin")
    p.add_argument("--previews", nargs="*", metavar="CATALOGUE", default=None,
                   help="make the missing preview thumbnails (of these catalogues, or all) and exit")
    p.set_defaults(func=cmd_web)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
