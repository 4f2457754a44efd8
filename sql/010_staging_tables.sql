-- Staged FITS headers: the raw material every ObsCore column is derived from.
-- Table DDL files are immutable once a migration has applied them: a change to
-- a table goes into a new numbered file applied by a new migration.
CREATE SCHEMA IF NOT EXISTS staging;
COMMENT ON SCHEMA staging IS 'Raw FITS headers of the associated data, as read from the files';

CREATE TABLE staging.catalogue (
    id          text PRIMARY KEY,          -- path below the collection root, e.g. J/A+A/526/A155
    root        text NOT NULL,             -- collection root of the last ingest
    readme      text,                      -- the catalogue's ReadMe (VizieR standard), as text
    readme_hash text,
    first_seen  timestamptz NOT NULL DEFAULT now(),
    last_ingest timestamptz
);
COMMENT ON TABLE staging.catalogue IS 'One VizieR catalogue: a directory of the collection';

CREATE TABLE staging.file (
    id          bigint PRIMARY KEY,        -- from staging.file_id_seq, allocated per batch
    catalogue   text NOT NULL REFERENCES staging.catalogue(id) ON DELETE CASCADE,
    relpath     text NOT NULL,             -- '/'-separated path below the catalogue directory
    size        bigint NOT NULL,
    mtime_ns    bigint NOT NULL,
    header_hash text,                      -- blake2b-128 of every header block of the file
    n_hdus      integer,
    status      text NOT NULL CHECK (status IN ('staged', 'partial', 'rejected', 'gone')),
    staged_at   timestamptz NOT NULL DEFAULT now(),
    gone_at     timestamptz,
    UNIQUE (catalogue, relpath)
);
CREATE SEQUENCE staging.file_id_seq OWNED BY staging.file.id;
COMMENT ON TABLE staging.file IS
  'One FITS or header file. status: staged (all HDUs), partial (some HDUs or cards rejected), '
  'rejected (nothing readable), gone (no longer on disk; its rows are kept but not published)';

CREATE TABLE staging.hdu (
    file_id       bigint NOT NULL REFERENCES staging.file(id) ON DELETE CASCADE,
    hdu           integer NOT NULL,        -- 0-based index in the file
    xtension      text,                    -- NULL for the primary HDU
    extname       text,
    bitpix        integer,
    naxis         integer[] NOT NULL,      -- NAXIS1..NAXISn
    header_offset bigint NOT NULL,
    data_offset   bigint NOT NULL,
    data_size     bigint NOT NULL,
    header        text COMPRESSION lz4 NOT NULL,   -- every card, exactly as in the file
    keywords      jsonb COMPRESSION lz4 NOT NULL,  -- keyword -> typed value (first occurrence)
    duplicates    jsonb,                   -- keyword -> [values in file order], when repeated
    columns       jsonb,                   -- table HDUs: [{n, ttype, tform, tunit, ..., min, max}]
    wcs_status    text NOT NULL CHECK (wcs_status IN ('ok', 'none', 'error', 'crash', 'skipped')),
    wcs_message   text,
    PRIMARY KEY (file_id, hdu)
);
COMMENT ON TABLE staging.hdu IS 'One header-data unit: its full header text and typed keywords';
COMMENT ON COLUMN staging.hdu.wcs_status IS
  'Verdict of the isolated wcslib pre-check; derivation only hands ''ok'' headers to wcslib in the server';

CREATE TABLE staging.reject (
    id          bigserial PRIMARY KEY,
    file_id     bigint REFERENCES staging.file(id) ON DELETE CASCADE,
    catalogue   text NOT NULL,
    relpath     text NOT NULL,
    hdu         integer,
    keyword     text,
    error_class text NOT NULL,
    severity    text NOT NULL DEFAULT 'error' CHECK (severity IN ('error', 'warning')),
    message     text NOT NULL,
    rejected_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reject_catalogue_idx ON staging.reject (catalogue, relpath);
CREATE INDEX reject_file_idx ON staging.reject (file_id);
CREATE INDEX reject_class_idx ON staging.reject (error_class);
COMMENT ON TABLE staging.reject IS
  'What could not be read (severity error: a whole file when hdu is NULL, one HDU, or one card), '
  'and what was read only by tolerating a departure from the FITS standard (severity warning: '
  'the value is staged). Replaced with the file''s rows when the file changes.';

CREATE TABLE staging.ingest_run (
    id              bigserial PRIMARY KEY,
    root            text NOT NULL,
    catalogues      text[],
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    status          text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'finished', 'failed')),
    files_seen      bigint NOT NULL DEFAULT 0,
    files_staged    bigint NOT NULL DEFAULT 0,
    files_unchanged bigint NOT NULL DEFAULT 0,
    files_gone      bigint NOT NULL DEFAULT 0,
    hdus            bigint NOT NULL DEFAULT 0,
    rejects         bigint NOT NULL DEFAULT 0,
    message         text
);
COMMENT ON TABLE staging.ingest_run IS 'One `assocdata ingest` run: what it saw and did (a killed run stays ''running'')';
