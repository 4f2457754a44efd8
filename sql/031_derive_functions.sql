-- The rules run in PL/Python, calling the package's own Python code
-- (assocdata.derive.rules): one implementation shared with the Python API.
-- wcslib only ever sees headers whose isolated pre-check verdict is 'ok'.
CREATE OR REPLACE FUNCTION derive.derive_file(
    catalogue text, relpath text, file_size bigint, hdus text, readme text, settings text)
RETURNS SETOF text
LANGUAGE plpython3u STABLE PARALLEL SAFE AS $$
if 'derive_staged_file' not in GD:
    plpy.execute('SELECT assocdata.python_bootstrap()')
    from assocdata.derive.rules import derive_staged_file
    GD['derive_staged_file'] = derive_staged_file
return GD['derive_staged_file'](catalogue, relpath, file_size, hdus, readme, settings)
$$;
COMMENT ON FUNCTION derive.derive_file(text, text, bigint, text, text, text) IS
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

-- A file's input to the rules: its HDUs as one JSON array.
CREATE OR REPLACE VIEW derive.file_input AS
SELECT f.id AS file_id, f.catalogue, f.relpath, f.size, f.header_hash, f.status,
       (SELECT jsonb_agg(jsonb_build_object(
                   'hdu', h.hdu, 'xtension', h.xtension, 'extname', h.extname,
                   'bitpix', h.bitpix, 'naxis', to_jsonb(h.naxis), 'keywords', h.keywords,
                   'header', h.header, 'columns', h.columns, 'wcs_status', h.wcs_status)
                 ORDER BY h.hdu)
          FROM staging.hdu h WHERE h.file_id = f.id)::text AS hdus
  FROM staging.file f;
