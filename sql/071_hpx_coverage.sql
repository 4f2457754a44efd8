-- 071: footprints and coverage on HEALPix (docs/position-index.md).
--
-- Footprints: the HEALPix coverage (MOC) of each s_region, as an int8multirange of
-- depth-29 NESTED index ranges, in a GiST index on ivoa.obscore. It is an
-- expression index (the int8multirange values are stored in the index, not in
-- a column): a column would have to be filled by the refresh or by triggers on
-- every derivation, and could go stale; the expression cannot.
-- hpx.hpx_intersects() checks `coverage && coverage of the shape` on that index,
-- then PgSphere's exact `s_region && shape`.
-- Coverage: hpx.catalogue_moc holds, per catalogue, the union of its footprints'
-- coverage (and of the cells holding its positions without footprint), to
-- answer "which catalogues have data here" without reading the rows (as VizieR
-- does), and to export FITS MOCs (etl/assocdata/hpx/moc.py).
-- Re-applicable: CREATE OR REPLACE / IF NOT EXISTS.

-- MOC order for a footprint of this size (deg): cells about a quarter of it, order 0..18.
CREATE OR REPLACE FUNCTION hpx.moc_order(size_deg double precision)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN least(18, greatest(0, ceil(ln(58.6323 * 4 / greatest(size_deg, 1e-6)) / ln(2.0))::integer));

-- The coverage of a polygon, as depth-29 ranges: PgSphere's smoc (inclusive:
-- every cell that meets the polygon) at the order of its size. PgSphere 1.2.0's
-- smoc refuses non-convex polygons ("polygon is not convex"), which real
-- footprints can be: then the coverage of the smallest cap around the mean of
-- the vertices that holds them all (a cap under a hemisphere is convex, so it
-- holds the edges too), and the whole sky when there is no such cap or the
-- vertices cannot be read (PgSphere output not in its default radians). Never
-- an error: this is an index expression, evaluated by every INSERT of the refresh.
CREATE OR REPLACE FUNCTION hpx.region_moc(region spoly)
RETURNS int8multirange
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
  sky constant int8multirange := int8multirange(int8range(0, 3458764513820540928));
  vertex constant text := '\(\s*([-+0-9.eE]+)\s*,\s*([-+0-9.eE]+)\s*\)';
  x float8 := 0;
  y float8 := 0;
  z float8 := 0;
  n float8;
  clng float8;
  clat float8;
  r float8;
  v record;
BEGIN
  BEGIN
    RETURN hpx.smoc_text_ranges(
      smoc(hpx.moc_order(2 * degrees(sqrt(area(region) / pi()))), region)::text);
  EXCEPTION WHEN OTHERS THEN
    NULL;  -- a non-convex polygon: the bounding cap below
  END;
  FOR v IN SELECT m[1]::float8 AS lng, m[2]::float8 AS lat
             FROM regexp_matches(region::text, vertex, 'g') AS m LOOP
    x := x + cos(v.lat) * cos(v.lng);
    y := y + cos(v.lat) * sin(v.lng);
    z := z + sin(v.lat);
  END LOOP;
  n := sqrt(x * x + y * y + z * z);
  IF n < 1e-9 THEN
    RETURN sky;
  END IF;
  clng := atan2(y, x);
  clat := asin(greatest(-1.0, least(1.0, z / n)));
  SELECT max(spoint(m[1]::float8, m[2]::float8) <-> spoint(clng, clat)) INTO r
    FROM regexp_matches(region::text, vertex, 'g') AS m;
  IF r IS NULL OR r >= radians(89.0) THEN
    RETURN sky;
  END IF;
  RETURN hpx.cone_moc(degrees(clng), degrees(clat), degrees(r) + 1e-6);
END
$$;

CREATE INDEX IF NOT EXISTS obscore_s_region_moc_gist
  ON ivoa.obscore USING gist (hpx.region_moc(s_region));

-- s_region meets the cone (degrees): coverage on the GiST index, then PgSphere exactly.
CREATE OR REPLACE FUNCTION hpx.hpx_intersects(s_region spoly, ra0 double precision,
                                              dec0 double precision, radius_deg double precision)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN hpx.region_moc(s_region) && hpx.cone_moc(ra0, dec0, radius_deg)
   AND s_region && scircle(spoint(radians(ra0), radians(dec0)), radians(radius_deg));

-- s_region meets a polygon.
CREATE OR REPLACE FUNCTION hpx.hpx_intersects(s_region spoly, shape spoly)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN hpx.region_moc(s_region) && hpx.region_moc(shape) AND s_region && shape;

CREATE TABLE IF NOT EXISTS hpx.catalogue_moc (
    source_catalogue text PRIMARY KEY,
    moc              int8multirange NOT NULL,
    n_footprints     bigint NOT NULL,
    n_points         bigint NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE hpx.catalogue_moc IS
  'Per catalogue: union of the HEALPix coverage of its footprints (and of the cells of its positions without footprint), depth-29 ranges';
CREATE INDEX IF NOT EXISTS catalogue_moc_gist ON hpx.catalogue_moc USING gist (moc);

-- Recompute the MOCs of these catalogues (NULL: all); returns the number of catalogues.
CREATE OR REPLACE FUNCTION hpx.refresh_catalogue_moc(catalogues text[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
  n integer;
BEGIN
  DELETE FROM hpx.catalogue_moc c
   WHERE catalogues IS NULL OR c.source_catalogue = ANY (catalogues);
  INSERT INTO hpx.catalogue_moc (source_catalogue, moc, n_footprints, n_points)
  SELECT t.source_catalogue, range_agg(t.m), count(*) FILTER (WHERE t.footprint),
         count(*) FILTER (WHERE NOT t.footprint)
    FROM (SELECT o.source_catalogue, o.s_region IS NOT NULL AS footprint,
                 CASE WHEN o.s_region IS NOT NULL THEN hpx.region_moc(o.s_region)
                      -- the depth-29 cells that may hold the position, computed
                      -- geometrically (not hpx: PgSphere files face-edge points elsewhere)
                      ELSE hpx.cone_moc(o.s_ra, o.s_dec, 0.0)
                 END AS m
            FROM ivoa.obscore o
           WHERE (catalogues IS NULL OR o.source_catalogue = ANY (catalogues))
             AND (o.s_region IS NOT NULL OR (o.s_ra IS NOT NULL AND o.s_dec IS NOT NULL))) AS t
   GROUP BY t.source_catalogue;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;

-- Catalogues whose coverage meets the cone: answered from hpx.catalogue_moc
-- alone (a superset at the MOC's resolution, never a row read).
CREATE OR REPLACE FUNCTION hpx.catalogues_at(ra0 double precision, dec0 double precision,
                                             radius_deg double precision)
RETURNS SETOF text
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT c.source_catalogue FROM hpx.catalogue_moc c
   WHERE c.moc && hpx.cone_moc(ra0, dec0, radius_deg)
   ORDER BY c.source_catalogue;
END;

GRANT SELECT ON hpx.catalogue_moc TO assocdata_tap;
