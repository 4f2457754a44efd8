-- The rules run in PL/Python, calling the package's own Python code
-- (assocdata.derive.rules): one implementation shared with the Python API.
-- wcslib only ever sees headers whose isolated pre-check verdict is 'ok'.
--
-- The hand-over (derive.file_input) is one small JSON array of HDU metadata
-- plus two arrays in HDU order: the keywords (jsonb as text, parsed once by
-- json.loads) and the header texts (passed as they are: no JSON escaping of
-- ~8 kB a header and no parsing it back).
DROP FUNCTION IF EXISTS derive.derive_file(text, text, bigint, text, text, text);
CREATE OR REPLACE FUNCTION derive.derive_file(
    catalogue text, relpath text, file_size bigint, hdus text, keywords text[],
    headers text[], readme text, settings text)
RETURNS SETOF text
LANGUAGE plpython3u STABLE PARALLEL SAFE AS $$
if 'derive_staged_file' not in GD:
    plpy.execute('SELECT assocdata.python_bootstrap()')
    from assocdata.derive.rules import derive_staged_file
    GD['derive_staged_file'] = derive_staged_file
return GD['derive_staged_file'](catalogue, relpath, file_size, hdus, readme, settings,
                                keywords, headers)
$$;
COMMENT ON FUNCTION derive.derive_file(text, text, bigint, text, text[], text[], text, text) IS
  'ObsCore rows of one staged file (JSON documents), from assocdata.derive.rules';

CREATE OR REPLACE FUNCTION derive.rules_version() RETURNS text
LANGUAGE plpython3u STABLE PARALLEL SAFE AS $$
plpy.execute('SELECT assocdata.python_bootstrap()')
from assocdata.derive.context import RULES_VERSION
return RULES_VERSION
$$;

CREATE OR REPLACE VIEW derive.cell_provenance AS
SELECT p.obs_publisher_did,
       c.key                  AS column_name,
       c.value ->> 'rule'     AS rule,
       ARRAY(SELECT jsonb_array_elements_text(c.value -> 'from')) AS sources,
       c.value ->> 'note'     AS note,
       p.rules_version,
       p.derived_at
  FROM derive.product p, jsonb_each(p.provenance) c;
COMMENT ON VIEW derive.cell_provenance IS
  'How each ObsCore cell was obtained: e.g. em_min <- {CRVAL1,CDELT1,NAXIS1} via spectral.wcs';

-- A file's input to the rules: the one place where a file's HDUs are assembled
-- (HDU metadata as a JSON array; keywords and header texts as arrays, same order).
DROP VIEW IF EXISTS derive.file_input;
CREATE VIEW derive.file_input AS
SELECT f.id AS file_id, f.catalogue, f.relpath, f.size, f.header_hash, f.status,
       h.hdus, h.keywords, h.headers
  FROM staging.file f,
  LATERAL (SELECT json_agg(json_build_object(
                      'hdu', h.hdu, 'xtension', h.xtension, 'extname', h.extname,
                      'bitpix', h.bitpix, 'naxis', h.naxis, 'columns', h.columns,
                      'wcs_status', h.wcs_status) ORDER BY h.hdu)::text AS hdus,
                  array_agg(h.keywords::text ORDER BY h.hdu) AS keywords,
                  array_agg(h.header ORDER BY h.hdu) AS headers
             FROM staging.hdu h WHERE h.file_id = f.id) h;
COMMENT ON VIEW derive.file_input IS
  'The rules'' input per staged file: HDU metadata (JSON array), keywords (jsonb text) and header texts, in HDU order';
