-- Run-time helpers of compiled mapping files (assocdata.mapping.compiler).
-- Conversions never raise: a value that does not convert is missing (NULL),
-- so one odd header cannot abort a mapping applied to a million rows.

-- A number from text: FITS/Fortran 'D' exponents too; NULL if not one or out of float8 range.
CREATE OR REPLACE FUNCTION mapping.to_double(s text) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN n = 0 OR abs(n) BETWEEN 1e-307 AND 1e308 THEN n::float8 END
  FROM (SELECT CASE WHEN s ~ '^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eEdD][-+]?[0-9]{1,4})?\s*$'
                    THEN translate(btrim(s), 'dD', 'ee')::numeric END AS n) x
$$;

CREATE OR REPLACE FUNCTION mapping.to_bigint(x float8) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN x BETWEEN -9.2e18 AND 9.2e18 THEN x::bigint END
$$;

CREATE OR REPLACE FUNCTION mapping.round_to(x float8, digits bigint) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN x BETWEEN -1e300 AND 1e300 AND digits BETWEEN -300 AND 300
            THEN round(x::numeric, digits::int)::float8 END
$$;

-- A staged keyword value (jsonb) as text, as FITS writes it: T/F for logicals.
CREATE OR REPLACE FUNCTION mapping.kw_text(v jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE jsonb_typeof(v)
         WHEN 'string' THEN v #>> '{}'
         WHEN 'number' THEN v #>> '{}'
         WHEN 'boolean' THEN CASE WHEN v = 'true' THEN 'T' ELSE 'F' END
       END
$$;

CREATE OR REPLACE FUNCTION mapping.kw_double(v jsonb) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE jsonb_typeof(v)
         WHEN 'number' THEN mapping.to_double(v #>> '{}')
         WHEN 'string' THEN mapping.to_double(v #>> '{}')
       END
$$;

-- An integral keyword value; NULL when it has a fraction.
CREATE OR REPLACE FUNCTION mapping.kw_bigint(v jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN x = trunc(x) THEN mapping.to_bigint(x) END
  FROM (SELECT mapping.kw_double(v) AS x) s
$$;

-- items[-n]: the n'th item from the end (the compiler writes [n] for n >= 0 directly).
CREATE OR REPLACE FUNCTION mapping.item_from_end(items text[], n integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN n BETWEEN 1 AND coalesce(cardinality(items), 0)
            THEN items[cardinality(items) - n + 1] END
$$;

-- Dates: the derivation's own parser (assocdata.derive.temporal), through PL/Python.
CREATE OR REPLACE FUNCTION mapping.to_mjd(s text) RETURNS float8
LANGUAGE plpython3u IMMUTABLE PARALLEL SAFE AS $$
if 'mapping_to_mjd' not in GD:
    plpy.execute('SELECT assocdata.python_bootstrap()')
    from assocdata.mapping.functions import to_mjd
    GD['mapping_to_mjd'] = to_mjd
return GD['mapping_to_mjd'](s)
$$;

CREATE OR REPLACE FUNCTION mapping.to_timestamp(s text) RETURNS timestamp
LANGUAGE plpython3u IMMUTABLE PARALLEL SAFE AS $$
if 'mapping_to_timestamp' not in GD:
    plpy.execute('SELECT assocdata.python_bootstrap()')
    from assocdata.mapping.functions import to_timestamp
    GD['mapping_to_timestamp'] = to_timestamp
return GD['mapping_to_timestamp'](s)
$$;

-- The mappings of catalogues, one hash each ('' without any): part of what a
-- refresh compares to decide whether a file must be derived again
-- (derive.file_state.settings_hash). Set-based: a refresh of a batch of
-- catalogues asks once, not once per catalogue.
CREATE OR REPLACE FUNCTION mapping.catalogue_hashes(cats text[])
RETURNS TABLE (catalogue text, hash text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT c.id, coalesce(h.hash, '')
  FROM unnest(cats) AS c(id)
  LEFT JOIN (SELECT c2.id, md5(string_agg(m.name || ':' || m.sha256, ','
                                          ORDER BY a.catalogue <> '*', a.position)) AS hash
               FROM unnest(cats) AS c2(id)
               JOIN mapping.assignment a ON a.catalogue = c2.id OR a.catalogue = '*'
               JOIN mapping.mapping m ON m.name = a.mapping_name
              GROUP BY c2.id) h ON h.id = c.id
$$;

CREATE OR REPLACE FUNCTION mapping.catalogue_hash(cat text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT hash FROM mapping.catalogue_hashes(ARRAY[cat])
$$;
