-- 070: the experimental HEALPix position index of ivoa.obscore, points (docs/position-index.md).
--
-- ivoa.obscore.hpx (bigint, sql/020) is healpix_nest(29, spoint(radians(s_ra), radians(s_dec))),
-- filled by the refresh. A b-tree on it answers cones through hpx.hpx_cone():
-- the C extension assocdata_hpx (ext/assocdata_hpx, built by `assocdata db setup`)
-- rewrites the call while planning into a few OR'ed ranges of hpx (BitmapOr on
-- this b-tree) AND hpx.within(), PgSphere's exact `spoint @ scircle` test.
-- Re-applicable: every statement is idempotent (CREATE OR REPLACE / IF NOT EXISTS).

CREATE EXTENSION IF NOT EXISTS assocdata_hpx;  -- schema hpx: within, cone_ranges, _cone ...

CREATE INDEX IF NOT EXISTS obscore_hpx_idx ON ivoa.obscore USING btree (hpx);

-- The cone test, in degrees: true when (s_ra, s_dec) is within radius_deg of
-- (ra0, dec0), exactly as PgSphere's spoint @ scircle decides. Inlined by the
-- planner (an SQL function with a RETURN body, stored pre-parsed), then the C
-- support function turns hpx._cone into the range conditions. Works in joins:
-- when (ra0, dec0) come from another table, four ranges per outer row
-- (hpx.cone_lo/cone_hi) are index conditions of a nested loop, like q3c_join.
CREATE OR REPLACE FUNCTION hpx.hpx_cone(hpx bigint, s_ra double precision, s_dec double precision,
                                        ra0 double precision, dec0 double precision,
                                        radius_deg double precision)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN hpx._cone(hpx, s_ra, s_dec, ra0, dec0, radius_deg);

COMMENT ON FUNCTION hpx.hpx_cone(bigint, double precision, double precision, double precision,
                                 double precision, double precision) IS
  'Cone search on the hpx b-tree: hpx ranges of the cone, then PgSphere''s exact spoint @ scircle (degrees)';

-- ADQL has no boolean type: Vollt emits a UDF as `<translation> = 1`, and a CAST
-- or CASE around the boolean would hide the index. This operator makes
-- `boolean = integer` mean `boolean = (integer <> 0)`; the support function of
-- hpx.bool_eq_int folds `x = 1` to `x` (and `x = 0` to `NOT x`) while planning, so
-- `hpx.hpx_cone(...) = 1` plans exactly like the bare predicate. In public,
-- PgSphere's schema, which every client (and the TAP role) has on its
-- search_path; `boolean = integer` was an error before, so no working query
-- changes meaning (`b = '1'`, with an untyped literal, still picks boolean = boolean).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_operator
                  WHERE oprname = '=' AND oprleft = 'boolean'::regtype
                    AND oprright = 'integer'::regtype
                    AND oprnamespace = 'public'::regnamespace) THEN
    CREATE OPERATOR public.= (LEFTARG = boolean, RIGHTARG = integer, FUNCTION = hpx.bool_eq_int);
  END IF;
END
$$;

GRANT USAGE ON SCHEMA hpx TO assocdata_tap;
