-- The rules' input, and the provenance of what came out.

-- A file's input to the rules (derive.derive_file): the one place where a
-- file's HDUs are assembled. HDU metadata as a JSON array; keywords and header
-- texts as arrays in the same order (no JSON escaping of ~8 kB headers).
-- The header defaults of the mapping files (mapping.hdu_default) ride along
-- with the HDU metadata; the rules merge them (assocdata.mapping.defaults).
DROP VIEW IF EXISTS derive.file_input;
CREATE VIEW derive.file_input AS
SELECT f.id AS file_id, f.catalogue, f.relpath, f.size, f.header_hash, f.status,
       h.hdus, h.keywords, h.headers
  FROM staging.file f,
  LATERAL (SELECT json_agg(json_build_object(
                      'hdu', h.hdu, 'xtension', h.xtension, 'extname', h.extname,
                      'bitpix', h.bitpix, 'naxis', h.naxis, 'columns', h.columns,
                      'wcs_status', h.wcs_status,
                      'defaults', d.defaults, 'default_sources', d.sources,
                      'defaults_checked', d.wcs_checked IS NOT NULL,
                      'defaults_wcs_status', d.wcs_status) ORDER BY h.hdu)::text AS hdus,
                  array_agg(h.keywords::text ORDER BY h.hdu) AS keywords,
                  array_agg(h.header ORDER BY h.hdu) AS headers
             FROM staging.hdu h
             LEFT JOIN mapping.hdu_default d ON d.file_id = h.file_id AND d.hdu = h.hdu
            WHERE h.file_id = f.id) h;
COMMENT ON VIEW derive.file_input IS
  'The rules'' input per staged file: HDU metadata with mapping defaults (JSON array), keywords (jsonb text) and header texts, in HDU order';

-- How each ObsCore cell was obtained: the derivation's provenance, except for
-- the cells a mapping rule set (mapping.cell), which name that rule.
DROP VIEW IF EXISTS derive.cell_provenance;
CREATE VIEW derive.cell_provenance AS
SELECT p.obs_publisher_did,
       c.key                  AS column_name,
       c.value ->> 'rule'     AS rule,
       ARRAY(SELECT jsonb_array_elements_text(c.value -> 'from')) AS sources,
       c.value ->> 'note'     AS note,
       ARRAY(SELECT jsonb_array_elements_text(c.value -> 'defaults')) AS header_defaults,
       p.rules_version,
       p.derived_at
  FROM derive.product p
  LEFT JOIN mapping.cell m ON m.obs_publisher_did = p.obs_publisher_did,
  LATERAL (SELECT e.key, coalesce(r.provenance, e.value) AS value
             FROM (SELECT d.key, d.value FROM jsonb_each(p.provenance) d
                   UNION ALL
                   SELECT k.key, NULL FROM jsonb_each_text(m.rules) k
                    WHERE NOT p.provenance ? k.key) e
             LEFT JOIN mapping.rule r
                    ON r.mapping_name || ':' || r.line = m.rules ->> e.key) c;
COMMENT ON VIEW derive.cell_provenance IS
  'How each ObsCore cell was obtained: e.g. em_min <- {CRVAL1,CDELT1,NAXIS1} via spectral.wcs, '
  'or target_name <- mapping lamost.map:4';
