-- Mapping files (docs/mapping.md): stored with the catalogues they apply to,
-- so that every refresh re-applies them; and the header defaults they give,
-- evaluated per staged HDU.
CREATE SCHEMA IF NOT EXISTS mapping;
COMMENT ON SCHEMA mapping IS 'Mapping files of the documentalists and what they apply to';

-- User-defined functions a mapping may call: every function of this schema
-- (docs/mapping.md, "User-defined functions").
CREATE SCHEMA IF NOT EXISTS mapping_udf;
COMMENT ON SCHEMA mapping_udf IS 'Functions callable from mapping files, by their name';

CREATE TABLE mapping.mapping (
    name        text PRIMARY KEY,               -- the file name, e.g. lamost.map
    source      text NOT NULL,                  -- the file, as applied
    sha256      text NOT NULL,                  -- of the source and the environment values below
    env         jsonb NOT NULL DEFAULT '{}',    -- ${NAME} values read when it was applied
    version     integer NOT NULL,               -- language version of the file
    path        text,                           -- where it was read from (information only)
    updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE mapping.mapping IS 'Mapping files as applied: name, text and hash';

CREATE TABLE mapping.assignment (
    mapping_name text NOT NULL REFERENCES mapping.mapping(name) ON DELETE CASCADE,
    catalogue    text NOT NULL,                 -- a catalogue id, or '*' for every catalogue
    position     bigserial,                     -- application order within a catalogue
    assigned_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mapping_name, catalogue)
);
CREATE INDEX assignment_catalogue_idx ON mapping.assignment (catalogue);
COMMENT ON TABLE mapping.assignment IS
  'Which mappings apply to which catalogue (''*'': all), in which order: ''*'' first, then by position';

-- Header defaults of the mappings, per staged HDU (only HDUs some default
-- applies to). The derivation merges them into the HDU's keywords (a keyword
-- of the header always wins). When a default is a keyword wcslib reads, the
-- augmented header is checked by the isolated pre-check first (wcs_status).
CREATE TABLE mapping.hdu_default (
    file_id     bigint NOT NULL,
    hdu         integer NOT NULL,
    defaults    jsonb NOT NULL,                 -- keyword -> value
    sources     jsonb NOT NULL,                 -- keyword -> provenance {"rule", "from", "note"}
    wcs_checked text,                           -- md5 of the defaults the verdict below is for
    wcs_status  text CHECK (wcs_status IN ('ok', 'none', 'error', 'crash', 'skipped')),
    wcs_message text,
    PRIMARY KEY (file_id, hdu),
    FOREIGN KEY (file_id, hdu) REFERENCES staging.hdu (file_id, hdu) ON DELETE CASCADE
);
COMMENT ON TABLE mapping.hdu_default IS
  'Keyword defaults of the mapping files for one staged HDU, and the wcslib pre-check verdict of the header they complete';

-- The field rules of the stored mappings, one row per rule: what a cell's
-- provenance says when that rule set it.
CREATE TABLE mapping.rule (
    mapping_name text NOT NULL REFERENCES mapping.mapping(name) ON DELETE CASCADE,
    line         integer NOT NULL,
    column_name  text NOT NULL,
    provenance   jsonb NOT NULL,                -- {"from": [...], "rule": "mapping x.map:4", "note": "<rule text>"}
    PRIMARY KEY (mapping_name, line)
);
COMMENT ON TABLE mapping.rule IS 'Field rules of the stored mappings, for the provenance of the cells they set';

-- Which mapping rule set which cell of a row: column -> 'name:line' (a key of
-- mapping.rule). Narrow on purpose: a mapping applied to a million rows
-- writes ~100 bytes a row here, not the row's whole derive.product.provenance.
-- No foreign key to derive.product (its per-row trigger would be a tenth of the
-- cost of a mapping): the refresh deletes the cells of the files it derives
-- again (assocdata.mapping.store.before_derive).
CREATE TABLE mapping.cell (
    obs_publisher_did text PRIMARY KEY,
    rules             jsonb NOT NULL
) WITH (fillfactor = 50);
COMMENT ON TABLE mapping.cell IS 'Cells set by mapping rules: column -> mapping_name:line';
