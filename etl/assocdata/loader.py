"""Writing staged files into PostgreSQL: COPY in batches, each all-or-nothing.

A batch replaces the rows of its files in one transaction: delete the old file
rows (their HDUs and rejects go with them, ON DELETE CASCADE), then COPY the
files, HDUs and rejects. A run killed at any point loses at most the batch in
flight, which the server rolls back; the rerun sees those files as not staged
and stages them, so the result equals an uninterrupted run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import psycopg

from .catalogues import Catalogue
from .stagefile import HDU_COPY_COLUMNS, StagedFile

#: Bytes of HDU rows handed to psycopg per write.
COPY_CHUNK = 1 << 20


def known_files(conn: psycopg.Connection, catalogue: str) -> dict[str, tuple[int, int, str]]:
    """relpath -> (size, mtime_ns, status) of the files staged for a catalogue."""
    rows = conn.execute(
        "SELECT relpath, size, mtime_ns, status FROM staging.file WHERE catalogue = %s",
        (catalogue,),
    ).fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def upsert_catalogue(conn: psycopg.Connection, catalogue: Catalogue, root: str) -> None:
    """Create or update the catalogue row; writes nothing when nothing changed."""
    readme, readme_hash = catalogue.readme()
    with conn.transaction():
        conn.execute(
            """
            INSERT INTO staging.catalogue (id, root, readme, readme_hash, last_ingest)
            VALUES (%s, %s, %s, %s, now())
            ON CONFLICT (id) DO UPDATE
               SET root = excluded.root, readme = excluded.readme,
                   readme_hash = excluded.readme_hash, last_ingest = now()
             WHERE staging.catalogue.root IS DISTINCT FROM excluded.root
                OR staging.catalogue.readme_hash IS DISTINCT FROM excluded.readme_hash
            """,
            (catalogue.id, root, readme, readme_hash),
        )


def mark_gone(conn: psycopg.Connection, catalogue: str, present: Sequence[str]) -> int:
    """Files staged before and no longer on disk: status 'gone' (rows kept, not published)."""
    with conn.transaction():
        cur = conn.execute(
            """
            UPDATE staging.file SET status = 'gone', gone_at = now()
             WHERE catalogue = %s AND status <> 'gone' AND NOT (relpath = ANY(%s))
            """,
            (catalogue, list(present)),
        )
        return cur.rowcount


def write_batch(conn: psycopg.Connection, batch: Sequence[StagedFile]) -> int:
    """Replace the rows of these files in one transaction; returns the number of HDU rows."""
    if not batch:
        return 0
    n_hdus = 0
    with conn.transaction():
        conn.execute(
            """
            DELETE FROM staging.file f
             USING unnest(%s::text[], %s::text[]) AS t(catalogue, relpath)
             WHERE f.catalogue = t.catalogue AND f.relpath = t.relpath
            """,
            ([s.task.catalogue for s in batch], [s.task.relpath for s in batch]),
        )
        ids = [r[0] for r in conn.execute(
            "SELECT nextval('staging.file_id_seq') FROM generate_series(1, %s)", (len(batch),)
        ).fetchall()]
        with conn.cursor() as cur:
            with cur.copy(
                "COPY staging.file (id, catalogue, relpath, size, mtime_ns, header_hash, "
                "n_hdus, status) FROM STDIN"
            ) as copy:
                for file_id, s in zip(ids, batch):
                    copy.write_row((file_id, s.task.catalogue, s.task.relpath, s.task.size,
                                    s.task.mtime_ns, s.header_hash, s.n_hdus, s.status))
            with cur.copy(f"COPY staging.hdu ({HDU_COPY_COLUMNS}) FROM STDIN") as copy:
                # Rows go out in chunks of about 1 MiB: one write per row costs
                # the parent more CPU than building the rows.
                chunk: list[bytes] = []
                chunk_size = 0
                for file_id, s in zip(ids, batch):
                    prefix = b"%d\t" % file_id
                    for row in s.hdu_rows:
                        chunk.append(prefix)
                        chunk.append(row)
                        chunk_size += len(row)
                    n_hdus += len(s.hdu_rows)
                    if chunk_size >= COPY_CHUNK:
                        copy.write(b"".join(chunk))
                        chunk, chunk_size = [], 0
                if chunk:
                    copy.write(b"".join(chunk))
            if any(s.problems for s in batch):
                with cur.copy(
                    "COPY staging.reject (file_id, catalogue, relpath, hdu, keyword, "
                    "error_class, severity, message) FROM STDIN"
                ) as copy:
                    for file_id, s in zip(ids, batch):
                        for p in s.problems:
                            copy.write_row((file_id, s.task.catalogue, s.task.relpath, p.hdu,
                                            p.keyword, p.error_class, p.severity,
                                            p.message.replace("\x00", "")))
    return n_hdus


def start_run(conn: psycopg.Connection, root: str, catalogues: Iterable[str] | None) -> int:
    with conn.transaction():
        return conn.execute(
            "INSERT INTO staging.ingest_run (root, catalogues) VALUES (%s, %s) RETURNING id",
            (root, list(catalogues) if catalogues else None),
        ).fetchone()[0]


def finish_run(conn: psycopg.Connection, run_id: int, status: str, counts: dict[str, int],
               message: str | None = None) -> None:
    with conn.transaction():
        conn.execute(
            """
            UPDATE staging.ingest_run
               SET finished_at = now(), status = %s, files_seen = %s, files_staged = %s,
                   files_unchanged = %s, files_gone = %s, hdus = %s, rejects = %s, message = %s
             WHERE id = %s
            """,
            (status, counts.get("files_seen", 0), counts.get("files_staged", 0),
             counts.get("files_unchanged", 0), counts.get("files_gone", 0),
             counts.get("hdus", 0), counts.get("rejects", 0), message, run_id),
        )
