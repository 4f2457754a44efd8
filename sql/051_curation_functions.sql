-- Run-time helpers of curation (docs/curation.md). Replaceable objects only:
-- a migration that changes one re-applies this file.

-- A target name as the Simbad cache keys it: blanks collapsed, trimmed, upper
-- case ('m  31 ' and 'M 31' are one entry). The resolver reads the names to
-- ask through this function too, so the key is computed in one place.
CREATE OR REPLACE FUNCTION curation.norm_name(name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT nullif(upper(btrim(regexp_replace(name, '\s+', ' ', 'g'), ' ''"')), '')
$$;

-- The header strings the filter matcher reads, of one HDU (an extension
-- inherits its primary header's, unless INHERIT = F): a jsonb object of the
-- non-empty ones, or NULL when the HDU names no filter or band at all.
-- Its text form is the key of curation.filter_match.
CREATE OR REPLACE FUNCTION curation.filter_inputs(kw jsonb, kw0 jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
-- one pass over each header (jsonb_each): a staged header is large and
-- compressed, and reading it key by key would decompress it each time
WITH v AS (
    SELECT e.key, e.value, 1 AS pri FROM jsonb_each(kw) e
     WHERE e.key IN ('TELESCOP', 'INSTRUME', 'DETECTOR', 'DATASET', 'OBSERVAT',
                     'FILTER', 'FILTNAM', 'FILTER1', 'FILTER2', 'FILTER3', 'BAND', 'INHERIT')
    UNION ALL
    SELECT e.key, e.value, 2 FROM jsonb_each(kw0) e
     WHERE e.key IN ('TELESCOP', 'INSTRUME', 'DETECTOR', 'DATASET', 'OBSERVAT',
                     'FILTER', 'FILTNAM', 'FILTER1', 'FILTER2', 'FILTER3', 'BAND')
), own_inherit AS (
    SELECT coalesce(bool_and(value <> 'false'::jsonb) FILTER (WHERE key = 'INHERIT' AND pri = 1), true) AS ok
      FROM v
), best AS (
    SELECT DISTINCT ON (v.key) v.key, nullif(btrim(v.value #>> '{}'), '') AS val
      FROM v, own_inherit i
     WHERE v.key <> 'INHERIT' AND jsonb_typeof(v.value) IN ('string', 'number')
       AND (v.pri = 1 OR i.ok) AND nullif(btrim(v.value #>> '{}'), '') IS NOT NULL
     ORDER BY v.key, v.pri
)
SELECT CASE WHEN bool_or(key IN ('FILTER', 'FILTNAM', 'FILTER1', 'FILTER2', 'FILTER3', 'BAND'))
            THEN jsonb_object_agg(key, val) END
  FROM best
$$;

-- May curation write this cell? Yes when it is empty, unless a mapping
-- emptied it on purpose (`col := null`), and when curation wrote it before
-- (its value follows the caches). Never when the header or a mapping gave it.
CREATE OR REPLACE FUNCTION curation.cell_free(is_null boolean, cell jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT coalesce(cell->>'rule', '') LIKE 'curation.%'
       OR (is_null AND coalesce(cell->>'rule', '') NOT LIKE 'mapping %')
$$;

-- What a person should look at: filter strings the matcher would not decide,
-- and target names Simbad did not resolve.
CREATE OR REPLACE VIEW curation.review AS
SELECT 'filter'::text AS kind, m.filter_key AS item, m.status, m.reason AS message,
       m.candidates, m.example, m.matched_at AS checked_at
  FROM curation.filter_match m
 WHERE m.status IN ('ambiguous', 'low-confidence')
UNION ALL
SELECT 'simbad', s.name, s.status, s.message, coalesce(s.candidates, '[]'::jsonb), NULL, s.resolved_at
  FROM curation.simbad s
 WHERE s.status IN ('not-found', 'ambiguous', 'error');
COMMENT ON VIEW curation.review IS 'Curation items left for a person: ambiguous filters, unresolved target names';
