-- assocdata_hpx 1.0: the C half of the experimental HEALPix position index.
-- The SQL half (hpx_cone, the index, footprint MOCs) is sql/070_hpx_index.sql.
\echo Use "CREATE EXTENSION assocdata_hpx" to load this file. \quit

-- PgSphere's `spoint(radians(ra), radians(dec)) @ scircle(spoint(radians(ra0), radians(dec0)), radians(r))`
-- with the same arithmetic (degrees in); not indexable on purpose.
CREATE FUNCTION @extschema@._within_support(internal)
RETURNS internal AS 'MODULE_PATHNAME', 'hpx_within_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.within(ra_deg float8, dec_deg float8, ra0 float8, dec0 float8, radius float8)
RETURNS boolean AS 'MODULE_PATHNAME', 'hpx_within'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 5
SUPPORT @extschema@._within_support;

-- Bounds of range i (0..3) of the join form, cells of order maxorder; -1/-2 (empty) when the cone needs fewer.
CREATE FUNCTION @extschema@.cone_lo(ra0 float8, dec0 float8, radius float8, i int4, maxorder int4)
RETURNS int8 AS 'MODULE_PATHNAME', 'hpx_cone_lo'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.cone_hi(ra0 float8, dec0 float8, radius float8, i int4, maxorder int4)
RETURNS int8 AS 'MODULE_PATHNAME', 'hpx_cone_hi'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The depth-29 NESTED index ranges covering a cone (inclusive bounds, ascending).
CREATE FUNCTION @extschema@.cone_ranges(ra0 float8, dec0 float8, radius float8,
                                        max_ranges int4 DEFAULT 0,
                                        OUT lo int8, OUT hi int8)
RETURNS SETOF record AS 'MODULE_PATHNAME', 'hpx_cone_ranges'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 16;

-- One range of the join form as a boolean: its support function makes it the
-- index condition hpx >= cone_lo(...) AND hpx <= cone_hi(...) (a parameterised
-- b-tree scan per outer row) and gives the planner its selectivity.
CREATE FUNCTION @extschema@._arm_support(internal)
RETURNS internal AS 'MODULE_PATHNAME', 'hpx_arm_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@._arm(hpx int8, ra0 float8, dec0 float8, radius float8, i int4, maxorder int4)
RETURNS boolean AS 'MODULE_PATHNAME', 'hpx_arm'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
SUPPORT @extschema@._arm_support;

CREATE FUNCTION @extschema@._cone_support(internal)
RETURNS internal AS 'MODULE_PATHNAME', 'hpx_cone_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Rewritten by the planner into OR'ed hpx ranges AND within(...): see assocdata_hpx.c.
CREATE FUNCTION @extschema@._cone(hpx int8, ra_deg float8, dec_deg float8,
                                  ra0 float8, dec0 float8, radius float8)
RETURNS boolean AS 'MODULE_PATHNAME', 'hpx_cone_exec'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 10
SUPPORT @extschema@._cone_support;

-- The cone's coverage (depth-29 ranges) as an int8multirange: for footprint MOCs.
CREATE FUNCTION @extschema@.cone_moc(ra0 float8, dec0 float8, radius float8)
RETURNS int8multirange AS 'MODULE_PATHNAME', 'hpx_cone_moc'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- PgSphere's smoc text output ("7/621 623 8/2463-2465") as depth-29 int8multirange.
CREATE FUNCTION @extschema@.smoc_text_ranges(moc text)
RETURNS int8multirange AS 'MODULE_PATHNAME', 'hpx_smoc_text_ranges'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- boolean = integer, as `b = (i <> 0)`; its support function folds `b = 1` to `b`
-- while planning. The operator itself is created in public by sql/070.
CREATE FUNCTION @extschema@._bool_eq_int_support(internal)
RETURNS internal AS 'MODULE_PATHNAME', 'hpx_bool_eq_int_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.bool_eq_int(b boolean, i int4)
RETURNS boolean AS 'MODULE_PATHNAME', 'hpx_bool_eq_int'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
SUPPORT @extschema@._bool_eq_int_support;
