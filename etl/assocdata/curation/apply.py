"""Fill the empty ObsCore cells of some files from the curation caches: set-based SQL.

Why a separate, network-free step: the ObsCore rows must stay a function of
the staged headers, the derivation rules, the mappings and the curation
caches. The refresh derives a changed file again (its rows start without
curated values), applies the mappings' field rules, then calls
:func:`apply_curation` on the same ``todo`` files: the curated values come
back from the caches without asking any service. ``assocdata curate`` fills
the caches, then calls it on every file of the catalogues.

What it writes, in one transaction, a handful of statements whatever the
number of rows:

- ``target_name`` from a suggester (the ReadMe's Objects section);
- ``s_ra``, ``s_dec``, ``s_region`` (a circle of POSITION_RADIUS_DEG, as obscore.yaml's regular polygon)
  and ``hpx`` from the ReadMe's position for the file, else from Simbad's for
  the target name; ``target_class`` from Simbad's otype;
- ``em_min``, ``em_max`` from the filter the header names, when the matcher
  was confident (curation.filter_match.status = 'matched');
- ``obs_title``, ``bib_reference``, ``obs_creator_name`` from the ReadMe, where
  the derivation left them empty.

A cell is written only when :sql:`curation.cell_free` allows it: empty (and
not emptied on purpose by a mapping), or written by curation before (so that
a refreshed cache is followed, and a value whose source went is removed).
A value from the header or a mapping is never touched. Each curated cell has
its provenance in derive.product.provenance, as the derivation writes it:
``{"from": [...], "rule": "curation.simbad", "note": "Simbad main_id='M 1' 2026-11-23"}``.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

#: The ObsCore columns curation may write (hpx follows s_ra/s_dec).
CURATED_COLUMNS = ("target_name", "s_ra", "s_dec", "s_region", "target_class", "em_min", "em_max",
                   "obs_title", "bib_reference", "obs_creator_name")

_SCOPE = """
CREATE TEMP TABLE curation_scope ON COMMIT DROP AS
SELECT o.obs_publisher_did AS did, f.catalogue, f.relpath, pc.prov,
       -- what decides whether a cell is free: the provenance, where a mapping rule
       -- that set the cell (mapping.cell: column -> 'name:line') overrides the derivation's
       pc.prov || coalesce((SELECT jsonb_object_agg(m.key, jsonb_build_object('rule', 'mapping ' || m.value))
                              FROM jsonb_each_text(mc.rules) m), '{{}}'::jsonb) AS fprov,
       o.target_name, o.s_ra, o.s_dec, o.s_region, o.hpx, o.target_class, o.em_min, o.em_max,
       o.obs_title, o.bib_reference, o.obs_creator_name,
       -- the header strings only where a band may be filled (reading a header costs)
       CASE WHEN curation.cell_free(o.em_min IS NULL, pc.prov->'em_min') AND NOT coalesce(mc.rules ? 'em_min', false)
                 AND curation.cell_free(o.em_max IS NULL, pc.prov->'em_max') AND NOT coalesce(mc.rules ? 'em_max', false)
            THEN curation.filter_inputs(h.keywords, h0.keywords) END AS filter_inputs
  FROM {files} t
  JOIN staging.file f ON f.id = t.file_id
  JOIN derive.product p ON p.file_id = f.id AND p.published
  JOIN ivoa.obscore o ON o.obs_publisher_did = p.obs_publisher_did
  JOIN staging.hdu h ON h.file_id = p.file_id AND h.hdu = p.hdu
  LEFT JOIN staging.hdu h0 ON h0.file_id = p.file_id AND h0.hdu = 0 AND p.hdu <> 0
  LEFT JOIN mapping.cell mc ON mc.obs_publisher_did = o.obs_publisher_did
  -- the provenance of the curated columns only, read once (the whole document is large)
  CROSS JOIN LATERAL (
       SELECT coalesce(jsonb_object_agg(e.key, e.value), '{{}}'::jsonb) AS prov
         FROM jsonb_each(p.provenance) e
        WHERE e.key IN ('target_name', 's_ra', 's_dec', 's_region', 'hpx', 'target_class', 'em_min',
                        'em_max', 'obs_title', 'bib_reference', 'obs_creator_name')) pc
 WHERE f.catalogue = ANY(%(catalogues)s)
"""

# Sources of every row: its suggestions (a file's own before the catalogue's),
# the Simbad answer for its target name, the filter its header names.
_SOURCES = """
CREATE TEMP TABLE curation_src ON COMMIT DROP AS
SELECT c.*,
       curation.cell_free(c.target_name IS NULL, c.fprov->'target_name') AS f_target,
       curation.cell_free(c.s_ra IS NULL, c.fprov->'s_ra')
         AND curation.cell_free(c.s_dec IS NULL, c.fprov->'s_dec') AS f_pos,
       curation.cell_free(c.s_region IS NULL, c.fprov->'s_region') AS f_region,
       curation.cell_free(c.target_class IS NULL, c.fprov->'target_class') AS f_class,
       curation.cell_free(c.em_min IS NULL, c.fprov->'em_min')
         AND curation.cell_free(c.em_max IS NULL, c.fprov->'em_max') AS f_em,
       curation.cell_free(c.obs_title IS NULL, c.fprov->'obs_title') AS f_title,
       curation.cell_free(c.bib_reference IS NULL, c.fprov->'bib_reference') AS f_bib,
       curation.cell_free(c.obs_creator_name IS NULL, c.fprov->'obs_creator_name') AS f_creator,
       coalesce(sg.j, '{{}}'::jsonb) AS sg
  FROM curation_scope c
  LEFT JOIN LATERAL (
       SELECT jsonb_object_agg(x.column_name, jsonb_build_object(
                  'v', x.value, 'd', x.detail, 's', x.suggester,
                  'file', x.relpath <> '')) AS j
         FROM (SELECT DISTINCT ON (g.column_name) g.column_name, g.value, g.detail, g.suggester, g.relpath
                 FROM curation.suggestion g
                WHERE g.catalogue = c.catalogue
                  AND g.relpath IN ('', c.relpath, regexp_replace(c.relpath, '^.*/', ''))
                ORDER BY g.column_name, g.relpath = '', g.suggester) x) sg ON true
"""

_NEW = """
CREATE TEMP TABLE curation_new ON COMMIT DROP AS
WITH t AS (
    SELECT s.*,
           CASE WHEN s.f_target THEN s.sg->'target_name'->>'v' ELSE s.target_name END AS target_new
      FROM curation_src s
), k AS (
    SELECT t.*, sb.main_id, sb.name AS sb_name, sb.ra AS sb_ra, sb.dec AS sb_dec, sb.otype,
           sb.region AS sb_region, sb.radius_deg, to_char(sb.resolved_at, 'YYYY-MM-DD') AS sb_date,
           fl.filter_id, fl.lambda_min, fl.lambda_max, fl.source AS fl_source,
           fm.confidence, fm.reason AS fm_reason,
           CASE WHEN NOT t.f_pos THEN NULL
                WHEN t.sg ? 's_ra' AND t.sg ? 's_dec' AND (t.sg->'s_ra'->>'file')::boolean THEN 'readme'
                WHEN sb.ra IS NOT NULL AND sb.dec IS NOT NULL THEN 'simbad' END AS pos_src
      FROM t
      LEFT JOIN curation.simbad sb
             ON sb.name_norm = curation.norm_name(t.target_new) AND sb.status = 'resolved'
      LEFT JOIN curation.filter_match fm
             ON fm.filter_key = t.filter_inputs::text AND fm.status = 'matched'
      LEFT JOIN curation.filter fl ON fl.filter_id = fm.filter_id
)
SELECT k.did, k.prov, k.f_pos, k.pos_src,
       k.target_new AS target_name,
       CASE WHEN NOT k.f_pos THEN k.s_ra WHEN k.pos_src = 'readme' THEN (k.sg->'s_ra'->>'v')::float8
            WHEN k.pos_src = 'simbad' THEN k.sb_ra END AS s_ra,
       CASE WHEN NOT k.f_pos THEN k.s_dec WHEN k.pos_src = 'readme' THEN (k.sg->'s_dec'->>'v')::float8
            WHEN k.pos_src = 'simbad' THEN k.sb_dec END AS s_dec,
       CASE WHEN NOT (k.f_pos AND k.f_region) THEN k.s_region
            WHEN k.pos_src = 'readme' THEN (k.sg->'s_region'->>'v')::spoly
            WHEN k.pos_src = 'simbad' THEN k.sb_region END AS s_region,
       CASE WHEN k.f_class THEN k.otype ELSE k.target_class END AS target_class,
       CASE WHEN k.f_em THEN k.lambda_min * 1e-10 ELSE k.em_min END AS em_min,
       CASE WHEN k.f_em THEN k.lambda_max * 1e-10 ELSE k.em_max END AS em_max,
       CASE WHEN k.f_title THEN left(k.sg->'obs_title'->>'v', 200) ELSE k.obs_title END AS obs_title,
       CASE WHEN k.f_bib THEN k.sg->'bib_reference'->>'v' ELSE k.bib_reference END AS bib_reference,
       CASE WHEN k.f_creator THEN k.sg->'obs_creator_name'->>'v' ELSE k.obs_creator_name END
            AS obs_creator_name,
       -- provenance: the cells curation wrote before go (drop), the new ones come (add)
       ARRAY(SELECT key FROM jsonb_each(k.prov)
              WHERE value->>'rule' LIKE 'curation.%'
                 OR (key = 'hpx' AND k.f_pos AND k.prov->'s_ra'->>'rule' LIKE 'curation.%')) AS drop_keys,
       jsonb_strip_nulls(jsonb_build_object(
            'target_name', CASE WHEN k.f_target AND k.target_new IS NOT NULL THEN jsonb_build_object(
                'from', jsonb_build_array(k.sg->'target_name'->>'s'),
                'rule', 'curation.' || (k.sg->'target_name'->>'s'),
                'note', k.sg->'target_name'->>'d') END,
            's_ra', CASE WHEN k.pos_src IS NOT NULL THEN {pos_prov} END,
            's_dec', CASE WHEN k.pos_src IS NOT NULL THEN {pos_prov} END,
            's_region', CASE WHEN k.pos_src IS NOT NULL AND k.f_region THEN {region_prov} END,
            'hpx', CASE WHEN k.pos_src IS NOT NULL THEN jsonb_build_object(
                'from', jsonb_build_array('s_ra', 's_dec'), 'rule', 'hpx.healpix-nest-29',
                'note', 'healpix_nest(29, spoint(radians(s_ra), radians(s_dec))) in SQL') END,
            'target_class', CASE WHEN k.f_class AND k.otype IS NOT NULL THEN jsonb_build_object(
                'from', jsonb_build_array('target_name'), 'rule', 'curation.simbad',
                'note', format('Simbad otype of main_id=''%s'' (asked %L) %s', k.main_id, k.sb_name,
                               k.sb_date)) END,
            'em_min', CASE WHEN k.f_em AND k.filter_id IS NOT NULL THEN {em_prov} END,
            'em_max', CASE WHEN k.f_em AND k.filter_id IS NOT NULL THEN {em_prov} END,
            'obs_title', CASE WHEN k.f_title AND k.sg ? 'obs_title' THEN {sg_prov_title} END,
            'bib_reference', CASE WHEN k.f_bib AND k.sg ? 'bib_reference' THEN {sg_prov_bib} END,
            'obs_creator_name', CASE WHEN k.f_creator AND k.sg ? 'obs_creator_name'
                                     THEN {sg_prov_creator} END)) AS add_prov
  FROM k
"""

_POS_PROV = """CASE k.pos_src
    WHEN 'simbad' THEN jsonb_build_object('from', jsonb_build_array('target_name'), 'rule', 'curation.simbad',
        'note', format('Simbad main_id=''%s'' (asked %L) %s', k.main_id, k.sb_name, k.sb_date))
    ELSE jsonb_build_object('from', jsonb_build_array(k.sg->'s_ra'->>'s'), 'rule', 'curation.' || (k.sg->'s_ra'->>'s'),
        'note', k.sg->'s_ra'->>'d') END"""

_REGION_PROV = """CASE k.pos_src
    WHEN 'simbad' THEN jsonb_build_object('from', jsonb_build_array('s_ra', 's_dec'), 'rule', 'curation.simbad',
        'note', format('circle of %s arcsec about Simbad''s position of main_id=''%s'' %s, as a polygon',
                       round((k.radius_deg * 3600)::numeric, 3), k.main_id, k.sb_date))
    ELSE jsonb_build_object('from', jsonb_build_array(k.sg->'s_region'->>'s'),
        'rule', 'curation.' || (k.sg->'s_region'->>'s'), 'note', k.sg->'s_region'->>'d') END"""

_EM_PROV = """jsonb_build_object(
    'from', (SELECT jsonb_agg(key ORDER BY key) FROM jsonb_object_keys(k.filter_inputs) AS key),
    'rule', 'curation.filter',
    'note', format('filter %s [%s .. %s Angstrom, 1 %% of peak] from %s; matched %s (confidence %s)',
                   k.filter_id, k.lambda_min, k.lambda_max, k.fl_source, k.fm_reason, k.confidence))"""


def _sg_prov(column: str) -> str:
    return (f"jsonb_build_object('from', jsonb_build_array(k.sg->'{column}'->>'s'), "
            f"'rule', 'curation.' || (k.sg->'{column}'->>'s'), 'note', k.sg->'{column}'->>'d')")


_UPDATE_OBSCORE = """
UPDATE ivoa.obscore o
   SET target_name = n.target_name, s_ra = n.s_ra, s_dec = n.s_dec, s_region = n.s_region,
       hpx = CASE WHEN NOT n.f_pos THEN o.hpx
                  WHEN n.s_ra IS NOT NULL AND n.s_dec IS NOT NULL
                  THEN healpix_nest(29, spoint(radians(n.s_ra), radians(n.s_dec))) END,
       target_class = n.target_class, em_min = n.em_min, em_max = n.em_max,
       obs_title = n.obs_title, bib_reference = n.bib_reference, obs_creator_name = n.obs_creator_name
  FROM curation_new n
 WHERE o.obs_publisher_did = n.did
   AND (o.target_name IS DISTINCT FROM n.target_name OR o.s_ra IS DISTINCT FROM n.s_ra
        OR o.s_dec IS DISTINCT FROM n.s_dec OR o.s_region::text IS DISTINCT FROM n.s_region::text
        OR o.target_class IS DISTINCT FROM n.target_class OR o.em_min IS DISTINCT FROM n.em_min
        OR o.em_max IS DISTINCT FROM n.em_max OR o.obs_title IS DISTINCT FROM n.obs_title
        OR o.bib_reference IS DISTINCT FROM n.bib_reference
        OR o.obs_creator_name IS DISTINCT FROM n.obs_creator_name)
"""

_UPDATE_PROVENANCE = """
UPDATE derive.product p SET provenance = (p.provenance - n.drop_keys) || n.add_prov
  FROM curation_new n
 WHERE p.obs_publisher_did = n.did
   AND n.prov IS DISTINCT FROM (n.prov - n.drop_keys) || n.add_prov
"""


def statements(files: str = "todo") -> list[str]:
    """The SQL apply_curation runs, in order (``files``: a table of file_id)."""
    if not files.replace("_", "").replace(".", "").isalnum():
        raise ValueError(f"files must name a table, not {files!r}")
    new = _NEW.format(pos_prov=_POS_PROV, region_prov=_REGION_PROV, em_prov=_EM_PROV,
                      sg_prov_title=_sg_prov("obs_title"), sg_prov_bib=_sg_prov("bib_reference"),
                      sg_prov_creator=_sg_prov("obs_creator_name"))
    return [_SCOPE.format(files=files), _SOURCES.format(), new]


def apply_curation(conn: psycopg.Connection, catalogues: Sequence[str], files: str = "todo") -> int:
    """Fill the empty cells of the ObsCore rows of the files listed in the temp table ``files``.

    ``files`` names a table with a ``file_id`` column (the refresh's ``todo``);
    only the rows of ``catalogues`` are considered. Runs in the caller's
    transaction (a savepoint of it), or in its own one. No network: the
    caches are read as they are. Returns the number of ObsCore rows changed.
    """
    scope, sources, new = statements(files)
    if conn.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {files})").fetchone()[0]:
        return 0  # a refresh with nothing to derive pays nothing here
    with conn.transaction():
        for name in ("curation_scope", "curation_src", "curation_new"):
            conn.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
        conn.execute(scope, {"catalogues": list(catalogues)})
        conn.execute("ANALYZE curation_scope")
        conn.execute(sources)
        conn.execute(new)
        changed = conn.execute(_UPDATE_OBSCORE).rowcount
        conn.execute(_UPDATE_PROVENANCE)
        for name in ("curation_new", "curation_src", "curation_scope"):
            conn.execute(f"DROP TABLE pg_temp.{name}")
    return changed
