"""Authors' submissions: isolated staging, checking, mapping, review, publication.

A submission is its own catalogue, ``SUBMIT/<token>``, under the
submissions directory, staged in the **submission area** (``area``: a
database of its own, never the published tables): the library stages it and
derives ObsCore exactly as for a published catalogue (same ingest, same
rules, same mapping store), and neither TAP, the public search, nor a
collection-wide reprocessing can see it. The submission's record (status,
files, mapping text, history) is in ``web.submission`` of the published
database, where the documentalists' accounts are. Publication copies the
accepted files into the real catalogue's directory of the collection and runs
the same library calls as ``assocdata ingest`` + ``assocdata map apply`` (or
``derive``) on the published database, then makes the previews.

Statuses: draft (the author is checking) -> new (submitted) -> checking (a
documentalist opened it) -> needs-fix (sent back with a note; the author can
upload again and resubmit) or approved -> published.
"""

from __future__ import annotations

import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import psycopg
from psycopg.types.json import Jsonb

from . import area, previews, uploads, verdicts
from .query import SUBMISSION_PREFIX

STATUSES = ("draft", "new", "checking", "needs-fix", "approved", "published")
_TOKEN = re.compile(r"^[0-9a-f]{24}$")
#: A VizieR-like catalogue id a submission may be published as (no '..', no leading '/').
_CATALOGUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+_.-]*(/[A-Za-z0-9+_.-]+){0,5}$")


class SubmissionError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    submissions_dir: Path  # root of the SUBMIT/<token> catalogues (outside the web root)
    collection_root: Path  # where published catalogues live (as assocdata ingest ROOT)
    previews_dir: Path
    database_url: str  # the published database (web.submission records, publication)
    area_url: str  # the submission area (staging and derivation of submissions)


def valid_token(token: str) -> bool:
    return bool(_TOKEN.match(token or ""))


def catalogue_of(token: str) -> str:
    return f"{SUBMISSION_PREFIX}{token}"


def directory_of(settings: Settings, token: str) -> Path:
    return settings.submissions_dir / SUBMISSION_PREFIX.rstrip("/") / token


def create(conn: psycopg.Connection) -> str:
    token = secrets.token_hex(12)
    conn.execute("INSERT INTO web.submission (token, catalogue) VALUES (%s, %s)",
                 [token, catalogue_of(token)])
    _event(conn, token, "author", "draft", None)
    return token


def get(conn: psycopg.Connection, token: str) -> dict[str, Any] | None:
    if not valid_token(token):
        return None
    cur = conn.execute("SELECT * FROM web.submission WHERE token = %s", [token])
    row = cur.fetchone()
    return dict(zip([d.name for d in cur.description], row)) if row else None


def listing(conn: psycopg.Connection, area_conn: psycopg.Connection,
            status: str | None = None) -> list[dict[str, Any]]:
    """Submitted submissions (not drafts), newest first, with their row counts in the area."""
    sql = ("SELECT s.token, s.status, s.target_catalogue, s.contact, s.submitted_at, s.updated_at, "
           "jsonb_array_length(s.files) AS n_files, s.reviewed_by, s.catalogue "
           "FROM web.submission s WHERE s.status <> 'draft'")
    args: list[Any] = []
    if status in STATUSES:
        sql += " AND s.status = %s"
        args.append(status)
    sql += " ORDER BY s.submitted_at DESC NULLS LAST"
    cur = conn.execute(sql, args)
    names = [d.name for d in cur.description]
    items = [dict(zip(names, r)) for r in cur.fetchall()]
    counts = dict(area_conn.execute(
        "SELECT source_catalogue, count(*) FROM ivoa.obscore WHERE source_catalogue = ANY(%s) "
        "GROUP BY 1", [[i["catalogue"] for i in items]]).fetchall())
    for item in items:
        item["n_rows"] = counts.get(item.pop("catalogue"), 0)
    return items


def _event(conn: psycopg.Connection, token: str, actor: str, status: str, note: str | None) -> None:
    conn.execute("INSERT INTO web.submission_event (token, actor, status, note) VALUES (%s, %s, %s, %s)",
                 [token, actor, status, note])


def events(conn: psycopg.Connection, token: str) -> list[tuple[Any, ...]]:
    return conn.execute("SELECT at, actor, status, note FROM web.submission_event WHERE token = %s "
                        "ORDER BY at, id", [token]).fetchall()


def receive(conn: psycopg.Connection, settings: Settings, token: str,
            files: list[tuple[str, BinaryIO]]) -> uploads.Intake:
    """Take an upload in (safety rules of ``uploads``) and record what was accepted or refused."""
    sub = get(conn, token)
    if sub is None:
        raise SubmissionError("unknown submission")
    if sub["status"] not in ("draft", "needs-fix"):
        raise SubmissionError(f"this submission is {sub['status']}: it cannot change now")
    directory = directory_of(settings, token)
    intake = uploads.Intake(directory)
    intake.accepted = [uploads.Accepted(**f) for f in sub["files"]]
    intake.total = sum(f["size"] for f in sub["files"])
    for name, stream in files:
        uploads.take(intake, name[:255], stream)
    if intake.readme is not None:
        (directory / "ReadMe").write_text(intake.readme, encoding="utf-8")
    files_json = [a.__dict__ for a in intake.accepted]
    rejected = [r.__dict__ for r in intake.rejected]
    conn.execute("UPDATE web.submission SET files = %s, rejected = %s, updated_at = now(), "
                 "mapping = coalesce(%s, mapping) WHERE token = %s",
                 [Jsonb(files_json), Jsonb(rejected), intake.mapping, token])
    return intake


def check(conn: psycopg.Connection, settings: Settings, token: str,
          mapping: str | None = None) -> list[str]:
    """Stage the submission's files in the area and derive its rows (with its mapping, if any).

    ``conn`` is the published database's (the submission's record; the
    collection-wide mappings and functions copied to the area first). Returns the mapping's diagnostics (``file:line:col: message`` with a caret,
    as ``assocdata map check`` prints them); a mapping that does not compile is
    kept for editing and the rows are derived without it.
    """
    from ..derive.refresh import refresh
    from ..ingest import ingest
    from ..mapping import MappingError
    from ..mapping.store import apply_file, remove

    sub = get(conn, token)
    if sub is None:
        raise SubmissionError("unknown submission")
    if mapping is not None:
        conn.execute("UPDATE web.submission SET mapping = %s, updated_at = now() WHERE token = %s",
                     [mapping, token])
    else:
        mapping = sub["mapping"]
    catalogue = catalogue_of(token)
    directory = directory_of(settings, token)
    directory.mkdir(parents=True, exist_ok=True)
    area.sync(conn, settings.area_url)
    ingest(settings.submissions_dir, [catalogue], database_url=settings.area_url, workers=1)
    name = f"submission-{token}.map"
    if mapping and mapping.strip():
        try:
            with psycopg.connect(settings.area_url) as mconn:
                apply_file(mconn, None, [catalogue], source=mapping, name=name)
            return []
        except MappingError as exc:
            messages = [str(d) for d in exc.diagnostics]
        except ValueError as exc:
            messages = [f"{name}: {exc}"]
        except psycopg.errors.IntegrityError as exc:  # as `assocdata map apply` words it
            messages = [f"{name}: a value set by the mapping breaks the rule "
                        f"{exc.diag.constraint_name or ''} of ivoa.obscore "
                        f"({exc.diag.message_primary}); nothing was written"]
    else:
        messages = []
    with psycopg.connect(settings.area_url) as mconn:
        if mconn.execute("SELECT 1 FROM mapping.mapping WHERE name = %s", [name]).fetchone():
            remove(mconn, name, [catalogue])
    refresh([catalogue], database_url=settings.area_url)
    return messages


def rows(area_conn: psycopg.Connection, token: str) -> list[dict[str, Any]]:
    """Each derived row of the submission (in the area) with its per-field verdicts."""
    conn = area_conn
    catalogue = catalogue_of(token)
    names = [c.name for c in __import__("assocdata.obscore.schema", fromlist=["load"]).load().columns]
    select = ", ".join(f"o.{n}::text" if n == "s_region" else f"o.{n}" for n in names)
    cur = conn.execute(f"SELECT {select} FROM ivoa.obscore o WHERE o.source_catalogue = %s "
                       "ORDER BY o.obs_publisher_did", [catalogue])
    found = [dict(zip(names, r)) for r in cur.fetchall()]
    out = []
    for row in found:
        did = row["obs_publisher_did"]
        prov = {r[0]: {"rule": r[1], "sources": r[2], "note": r[3]} for r in conn.execute(
            "SELECT column_name, rule, sources, note FROM derive.cell_provenance "
            "WHERE obs_publisher_did = %s", [did])}
        issues = [dict(zip(("column_name", "code", "severity", "message"), r)) for r in conn.execute(
            "SELECT i.column_name, i.code, i.severity, i.message FROM derive.issue i "
            "JOIN derive.product p ON p.file_id = i.file_id "
            "WHERE p.obs_publisher_did = %s AND (i.obs_publisher_did = %s OR "
            "(i.obs_publisher_did IS NULL AND (i.hdu IS NULL OR i.hdu = p.hdu)))", [did, did])]
        fields = verdicts.field_verdicts(row, prov, issues)
        out.append({"did": did, "row": row, "fields": fields, "summary": verdicts.summary(fields),
                    "issues": [i for i in issues if not i["column_name"]]})
    return out


def file_problems(area_conn: psycopg.Connection, token: str) -> list[tuple[str, str]]:
    """Files or HDUs of the submission (in the area) that gave no row, and why."""
    conn = area_conn
    catalogue = catalogue_of(token)
    out = [(f"{r[0]} HDU {r[1]}" if r[1] is not None else r[0], r[2]) for r in conn.execute(
        "SELECT f.relpath, r.hdu, coalesce(r.keyword || ': ', '') || r.message FROM staging.reject r "
        "JOIN staging.file f ON f.id = r.file_id WHERE f.catalogue = %s ORDER BY 1", [catalogue])]
    out += [(f"{r[0]} HDU {r[1]}", f"not published: {r[2]}") for r in conn.execute(
        "SELECT f.relpath, p.hdu, p.unusable_reason FROM derive.product p "
        "JOIN staging.file f ON f.id = p.file_id WHERE f.catalogue = %s AND NOT p.published", [catalogue])]
    return out


def submit(conn: psycopg.Connection, token: str, target: str, contact: str) -> None:
    sub = get(conn, token)
    if sub is None:
        raise SubmissionError("unknown submission")
    if sub["status"] not in ("draft", "needs-fix"):
        raise SubmissionError(f"this submission is already {sub['status']}")
    target = target.strip()
    if not _CATALOGUE.match(target) or ".." in target or target.upper().startswith("SUBMIT"):
        raise SubmissionError(f"catalogue id {target[:80]!r}: expected a VizieR id like J/A+A/526/A155")
    if not any(f["kind"] == "fits" for f in sub["files"]):
        raise SubmissionError("no FITS file was accepted: upload some first")
    conn.execute("UPDATE web.submission SET status = 'new', target_catalogue = %s, contact = %s, "
                 "submitted_at = now(), updated_at = now() WHERE token = %s",
                 [target, contact.strip()[:200], token])
    _event(conn, token, "author", "new", None)


def set_status(conn: psycopg.Connection, token: str, status: str, actor: str,
               note: str | None = None) -> None:
    if status not in STATUSES:
        raise SubmissionError(f"unknown status {status!r}")
    conn.execute("UPDATE web.submission SET status = %s, note = coalesce(%s, note), reviewed_by = %s, "
                 "updated_at = now() WHERE token = %s", [status, note, actor, token])
    _event(conn, token, actor, status, note)


def publish(conn: psycopg.Connection, settings: Settings, token: str, actor: str) -> dict[str, Any]:
    """Approve and publish: copy into the real catalogue, stage, map or derive, make previews."""
    from ..derive.refresh import refresh
    from ..ingest import ingest
    from ..mapping.store import apply_file

    sub = get(conn, token)
    if sub is None:
        raise SubmissionError("unknown submission")
    if sub["status"] not in ("new", "checking", "approved"):
        raise SubmissionError(f"this submission is {sub['status']}: only a submitted one can be published")
    target = sub["target_catalogue"]
    if not target or not _CATALOGUE.match(target):
        raise SubmissionError("the submission names no valid catalogue id")
    set_status(conn, token, "approved", actor)
    source = directory_of(settings, token)
    destination = (settings.collection_root / target).resolve()
    if not destination.is_relative_to(settings.collection_root.resolve()):
        raise SubmissionError("catalogue id leaves the collection")
    destination.mkdir(parents=True, exist_ok=True)
    copied = []
    for f in sub["files"]:
        if f["kind"] != "fits":
            continue
        name = re.sub(r"^f\d{3}-", "", f["stored"])  # the generated prefix goes, the safe stem stays
        if f["original"].lower().endswith(".gz"):
            name += ".gz"
        target_path = destination / name
        if target_path.exists() and target_path.stat().st_size != f["size"]:
            raise SubmissionError(f"{target}/{name} already exists with other content: not overwritten")
        shutil.copy2(source / f["stored"], target_path)
        copied.append(name)
    readme = source / "ReadMe"
    if readme.exists():
        shutil.copy2(readme, destination / "ReadMe")  # last: it marks the catalogue complete
    elif not (destination / "ReadMe").exists():
        (destination / "ReadMe").write_text(f"{target}  (submitted through assocdata web)\n")
    ingest(settings.collection_root, [target], database_url=settings.database_url, workers=1)
    mapping = sub["mapping"]
    if mapping and mapping.strip():
        with psycopg.connect(settings.database_url) as mconn:
            apply_file(mconn, None, [target], source=mapping, name=f"{target.replace('/', '_')}.map")
    else:
        refresh([target], database_url=settings.database_url)
    made = previews.generate(conn, settings.previews_dir, [target])
    set_status(conn, token, "published", actor)
    _withdraw(conn, settings, token)
    return {"catalogue": target, "files": copied, "previews": made}


def _withdraw(conn: psycopg.Connection, settings: Settings, token: str) -> None:
    """The submission's own rows go once published (its files now live in the catalogue):
    its files are removed, and the same library calls mark them gone and drop their rows."""
    from ..derive.refresh import refresh
    from ..ingest import ingest
    from ..mapping.store import remove

    catalogue = catalogue_of(token)
    directory = directory_of(settings, token)
    for path in directory.iterdir():
        if path.is_file():
            path.unlink()
    name = f"submission-{token}.map"
    with psycopg.connect(settings.area_url) as mconn:
        if mconn.execute("SELECT 1 FROM mapping.mapping WHERE name = %s", [name]).fetchone():
            remove(mconn, name)
    ingest(settings.submissions_dir, [catalogue], database_url=settings.area_url, workers=1)
    refresh([catalogue], database_url=settings.area_url)
