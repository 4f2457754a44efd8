-- Curation (docs/curation.md): what headers lack, filled from external
-- knowledge. The resolvers (`assocdata curate`, network-bound, in the client)
-- fill these caches; one set-based step (assocdata.curation.apply) fills the
-- NULL ObsCore cells from them, so the rows stay a function of the staged
-- headers, the rules, the mappings and these tables: a refresh that derives a
-- file again gets the same curated values without asking any service.
CREATE SCHEMA IF NOT EXISTS curation;
COMMENT ON SCHEMA curation IS 'Caches of external knowledge (Simbad, filter profiles, ReadMe) and what was not resolved';

-- Simbad name resolution, one row per normalised name (curation.norm_name).
-- Failures are cached too: a rerun asks Simbad only for names never asked
-- (and for 'error' rows, which are transient), unless --refresh-cache.
CREATE TABLE curation.simbad (
    name_norm   text PRIMARY KEY,                -- curation.norm_name(name)
    name        text NOT NULL,                   -- as sent to Simbad
    status      text NOT NULL CHECK (status IN ('resolved', 'not-found', 'ambiguous', 'error')),
    main_id     text,
    ra          double precision CHECK (ra >= 0 AND ra < 360),
    dec         double precision CHECK (dec BETWEEN -90 AND 90),
    otype       text,
    region      spoly,                           -- circle of radius_deg about (ra, dec): s_region
    radius_deg  double precision,
    candidates  jsonb,                           -- ambiguous: [{"main_id", "ra", "dec", "otype"}]
    message     text,                            -- why not resolved
    query       text,                            -- service and ADQL of the request
    resolved_at timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'resolved' OR (main_id IS NOT NULL))
);
COMMENT ON TABLE curation.simbad IS
  'Simbad answers per target name (resolved, not-found, ambiguous, error), with the date of the request';

-- Filter profiles, as the SVO Filter Profile Service describes them.
-- Wavelengths in Angstrom (as SVO gives them); vacuum is assumed (air/vacuum
-- differ by < 0.03 %, far below a band's width).
CREATE TABLE curation.filter (
    filter_id   text PRIMARY KEY,                -- SVO style: 2MASS/2MASS.Ks, HST/ACS_WFC.F606W
    facility    text NOT NULL,
    instrument  text,
    band        text NOT NULL,
    system      text,                            -- photometric system (Johnson, AB, ...)
    lambda_min  double precision NOT NULL CHECK (lambda_min > 0),  -- first wavelength with T >= 1 % of max (SVO WavelengthMin)
    lambda_max  double precision NOT NULL CHECK (lambda_max >= lambda_min),  -- last one (SVO WavelengthMax)
    lambda_mean double precision,                -- integral(l T dl) / integral(T dl) (SVO WavelengthMean)
    lambda_eff  double precision,                -- SVO WavelengthEff (Vega-weighted); NULL in the offline seed
    width       double precision,                -- integral(T dl) / max T (SVO WidthEff)
    aliases     text[] NOT NULL DEFAULT '{}',    -- band names as headers write them
    source      text NOT NULL,                   -- 'seed: pyphot 2.1.1 ...' or 'svo-fps 2026-11-23'
    loaded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX filter_facility_idx ON curation.filter (upper(facility));
COMMENT ON TABLE curation.filter IS 'Filter profiles (offline seed, and SVO FPS when online); wavelengths in Angstrom';

-- Which SVO facility/instrument lists were asked for (reruns ask nothing twice).
CREATE TABLE curation.svo_fetch (
    facility    text NOT NULL,
    instrument  text NOT NULL DEFAULT '',
    status      text NOT NULL CHECK (status IN ('ok', 'empty', 'error')),
    n_filters   integer NOT NULL DEFAULT 0,
    message     text,
    fetched_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (facility, instrument)
);

-- The matcher's verdict per distinct set of header strings
-- (curation.filter_inputs(hdu keywords, primary keywords)::text).
CREATE TABLE curation.filter_match (
    filter_key  text PRIMARY KEY,
    inputs      jsonb NOT NULL,
    status      text NOT NULL CHECK (status IN ('matched', 'ambiguous', 'low-confidence', 'unmatched', 'no-filter')),
    filter_id   text REFERENCES curation.filter(filter_id) ON DELETE CASCADE,
    confidence  real,
    candidates  jsonb NOT NULL DEFAULT '[]',     -- [{"filter_id", "score", "why"}], best first
    reason      text,
    example     text,                            -- catalogue/relpath[hdu] of one HDU with these strings
    matched_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'matched' OR filter_id IS NOT NULL)
);
COMMENT ON TABLE curation.filter_match IS
  'Header filter strings -> filter id with a confidence; only status matched fills em_min/em_max';

-- Suggestions of the metadata suggesters (the ReadMe parser first), per
-- catalogue and file (relpath '' = the whole catalogue). Values are text,
-- cast to the ObsCore column's type when applied; column_name may also name
-- something that is no ObsCore column (keywords, description): kept for review.
CREATE TABLE curation.suggestion (
    catalogue   text NOT NULL,
    relpath     text NOT NULL DEFAULT '',        -- a relpath or a bare file name; '' for the catalogue
    column_name text NOT NULL,
    suggester   text NOT NULL,                   -- 'readme'
    value       text NOT NULL,
    detail      text,                            -- where it was read (ReadMe section, line)
    source_hash text,                            -- e.g. the ReadMe hash the suggestion comes from
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (catalogue, relpath, column_name, suggester)
);
CREATE INDEX suggestion_file_idx ON curation.suggestion (catalogue, column_name);
COMMENT ON TABLE curation.suggestion IS 'Metadata suggested for a catalogue or one of its files (ReadMe, ...)';
