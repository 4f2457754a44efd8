"""``assocdata curate``: fill the caches (ReadMe, Simbad, filters), then apply them.

The resolvers may use the network (Simbad, SVO); everything they learn goes
to the curation tables first, committed batch by batch (a killed run keeps
what it learnt, a rerun asks nothing twice). Then one set-based step
(:func:`~assocdata.curation.apply.apply_curation`) writes the empty ObsCore
cells of the catalogues' files, in one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import psycopg

from .. import config
from . import filters as filters_mod
from . import simbad as simbad_mod
from .apply import apply_curation
from .suggesters import MetadataSuggester, refresh_suggestions

FILES_TABLE = "curate_files"

_NAMES = f"""
SELECT DISTINCT CASE WHEN curation.cell_free(o.target_name IS NULL, p.provenance->'target_name')
                          AND NOT coalesce(mc.rules ? 'target_name', false)  -- a mapping's name
                     THEN sg.value ELSE o.target_name END AS name
  FROM {FILES_TABLE} t
  JOIN staging.file f ON f.id = t.file_id
  JOIN derive.product p ON p.file_id = f.id AND p.published
  JOIN ivoa.obscore o ON o.obs_publisher_did = p.obs_publisher_did
  LEFT JOIN mapping.cell mc ON mc.obs_publisher_did = o.obs_publisher_did
  LEFT JOIN LATERAL (
       SELECT g.value FROM curation.suggestion g
        WHERE g.catalogue = f.catalogue AND g.column_name = 'target_name'
          AND g.relpath IN ('', f.relpath, regexp_replace(f.relpath, '^.*/', ''))
        ORDER BY g.relpath = '', g.suggester LIMIT 1) sg ON true
 WHERE (curation.cell_free(o.s_ra IS NULL, p.provenance->'s_ra')
        AND curation.cell_free(o.s_dec IS NULL, p.provenance->'s_dec'))
    OR curation.cell_free(o.target_class IS NULL, p.provenance->'target_class')
 ORDER BY 1
"""


@dataclass
class CurateSummary:
    catalogues: list[str] = field(default_factory=list)
    files: int = 0
    suggestions: int = 0
    filters_seeded: int = 0
    simbad: simbad_mod.SimbadReport = field(default_factory=simbad_mod.SimbadReport)
    filters: filters_mod.FilterReport = field(default_factory=filters_mod.FilterReport)
    rows_changed: int = 0
    seconds: float = 0.0

    @property
    def unresolved(self) -> list[tuple[str, str, str]]:
        """(kind, item, reason) of everything curation could not settle."""
        return ([("target", n, r) for n, r in self.simbad.unresolved]
                + [("target", n, f"skipped: {r}") for n, r in self.simbad.skipped]
                + [("filter", n, r) for n, r in self.filters.unresolved])

    def lines(self) -> list[str]:
        s, f = self.simbad, self.filters
        out = [
            f"catalogues      {len(self.catalogues)} ({self.files} files)",
            f"suggestions     {self.suggestions} (ReadMe; curation.suggestion)",
            f"target names    {s.resolved} resolved, {s.cached} from the cache, {s.not_found} not found, "
            f"{s.ambiguous} ambiguous, {s.errors} errors, {s.not_asked} not asked (offline), "
            f"{len(s.skipped)} skipped "
            f"({s.requests} Simbad requests for {s.asked} names)",
            f"filters         {f.matched} matched, {f.ambiguous} ambiguous, {f.low_confidence} low confidence, "
            f"{f.unmatched} unknown ({f.keys} distinct header strings; {f.svo_requests} SVO requests)",
            f"rows changed    {self.rows_changed} (ivoa.obscore)",
        ]
        for reason in (s.offline_reason, f.svo_offline_reason):
            if reason:
                out.append(f"offline         {reason}")
        if self.unresolved:
            out.append("not resolved (see also the view curation.review):")
            for kind, item, reason in self.unresolved[:50]:
                out.append(f"  {kind:<7} {item}: {reason}")
            if len(self.unresolved) > 50:
                out.append(f"  ... and {len(self.unresolved) - 50} more")
        return out


def _catalogues(conn: psycopg.Connection, names: Iterable[str] | None) -> list[str]:
    known = [r[0] for r in conn.execute("SELECT id FROM staging.catalogue ORDER BY id")]
    if not names:
        return known
    names = list(names)
    unknown = [c for c in names if c not in set(known)]
    if unknown:
        raise ValueError(f"unknown catalogue(s): {', '.join(unknown)} (ingest them first: assocdata ingest)")
    return names


def curate(catalogues: Iterable[str] | None = None, *, database_url: str | None = None,
           offline: bool = False, refresh_cache: bool = False,
           on_total: Callable[[int], None] | None = None,
           progress: Callable[[int], None] | None = None,
           simbad_service: object = None, svo_client: object = None,
           limiter: object = None,
           suggesters: list[MetadataSuggester] | None = None) -> CurateSummary:
    """Curate the catalogues (default: all staged); see the module docstring.

    ``offline`` asks no service (the caches and the offline filter seed
    only); ``refresh_cache`` asks Simbad and SVO again for what they already
    answered. ``on_total``/``progress`` drive a progress bar (items: target
    names, then distinct filter strings). Never fails for want of network:
    what could not be resolved is listed in the summary, with the reason.
    """
    started = time.monotonic()
    summary = CurateSummary()
    url = database_url or config.database_url()
    with psycopg.connect(url, autocommit=True) as conn:
        names = _catalogues(conn, catalogues)
        summary.catalogues = names
        summary.filters_seeded = filters_mod.load_seed(conn)
        conn.execute(f"DROP TABLE IF EXISTS pg_temp.{FILES_TABLE}")
        conn.execute(f"CREATE TEMP TABLE {FILES_TABLE} AS SELECT id AS file_id FROM staging.file "
                     "WHERE catalogue = ANY(%s) AND status IN ('staged', 'partial')", [names])
        conn.execute(f"ANALYZE {FILES_TABLE}")
        summary.files = conn.execute(f"SELECT count(*) FROM {FILES_TABLE}").fetchone()[0]
        summary.suggestions = refresh_suggestions(conn, names, suggesters)
        targets = [r[0] for r in conn.execute(_NAMES) if r[0]]
        if on_total:
            on_total(len(targets))
        summary.simbad = simbad_mod.resolve(conn, targets, offline=offline, refresh=refresh_cache,
                                            service=simbad_service, limiter=limiter,  # type: ignore[arg-type]
                                            progress=progress)
        summary.filters = filters_mod.match_pending(conn, FILES_TABLE, offline=offline,
                                                    refresh=refresh_cache, svo=svo_client,
                                                    limiter=limiter)  # type: ignore[arg-type]
        summary.rows_changed = apply_curation(conn, names, FILES_TABLE)
        conn.execute(f"DROP TABLE IF EXISTS pg_temp.{FILES_TABLE}")
    summary.seconds = time.monotonic() - started
    return summary
