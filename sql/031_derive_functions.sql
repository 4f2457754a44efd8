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
-- ~1 ms a file and ~1 row an HDU: the real figures, so that the planner runs it
-- after the joins that select the files (never for a file a join would drop)
LANGUAGE plpython3u STABLE PARALLEL SAFE COST 100000 ROWS 2 AS $$
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

-- derive.cell_provenance is in sql/042: it adds the cells set by mapping files.

-- derive.file_input (the rules' input per file) is in sql/042: it merges the
-- header defaults of the mapping files, whose tables come with migration 0004.
