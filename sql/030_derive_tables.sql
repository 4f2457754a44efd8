-- Derivation bookkeeping: which staged file was derived under which rules,
-- the per-cell provenance of every published row, and the problems met.
CREATE SCHEMA IF NOT EXISTS derive;
COMMENT ON SCHEMA derive IS 'How every ObsCore value was derived from the staged headers';

-- One row per published (or unusable) product: links ivoa.obscore to staging.
CREATE TABLE derive.product (
    obs_publisher_did text PRIMARY KEY,
    file_id           bigint NOT NULL REFERENCES staging.file(id) ON DELETE CASCADE,
    hdu               integer NOT NULL,
    published         boolean NOT NULL,          -- false: unusable, see unusable_reason
    unusable_reason   text,
    provenance        jsonb NOT NULL,            -- column -> {"from": [...], "rule": "...", "note": "..."}
    rules_version     text NOT NULL,
    derived_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX product_file_idx ON derive.product (file_id);
COMMENT ON TABLE derive.product IS 'One ObsCore product per row: the staged HDU it comes from and the provenance of each cell';

-- What each staged file was last derived from: the refresh recomputes a file
-- only when its header hash or the rules version changed.
CREATE TABLE derive.file_state (
    file_id       bigint PRIMARY KEY REFERENCES staging.file(id) ON DELETE CASCADE,
    header_hash   text,
    rules_version text NOT NULL,
    settings_hash text NOT NULL,
    n_products    integer NOT NULL,
    derived_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE derive.issue (
    id                bigserial PRIMARY KEY,
    file_id           bigint NOT NULL REFERENCES staging.file(id) ON DELETE CASCADE,
    hdu               integer,
    obs_publisher_did text,
    column_name       text,
    code              text NOT NULL,
    severity          text NOT NULL CHECK (severity IN ('info', 'warning', 'error')),
    message           text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX issue_file_idx ON derive.issue (file_id);
CREATE INDEX issue_code_idx ON derive.issue (code);
COMMENT ON TABLE derive.issue IS 'Problems met while deriving (singular matrix, unknown unit, implausible time...)';

-- Site settings of the rules (authority, base URLs, house-rule switches):
-- keys are the fields of assocdata.derive.context.RuleConfig.
CREATE TABLE derive.setting (
    key   text PRIMARY KEY,
    value jsonb NOT NULL
);
