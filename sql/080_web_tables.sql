-- The web pages (docs/web.md): authors' submissions and the documentalists'
-- accounts and sessions. A submission's files are staged as their own
-- catalogue, SUBMIT/<token>, which the public search never shows; publication
-- stages them again into the real catalogue.
CREATE SCHEMA IF NOT EXISTS web;
COMMENT ON SCHEMA web IS 'Submissions of authors and the documentalists'' accounts (assocdata web)';

CREATE TABLE web.account (
    username      text PRIMARY KEY CHECK (username ~ '^[A-Za-z0-9_.-]{1,64}$'),
    password_hash text NOT NULL,                 -- scrypt$n$r$p$salt$hash (hex), never the password
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled      boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE web.account IS 'Documentalists (assocdata web --add-user NAME)';

CREATE TABLE web.session (
    token_hash  text PRIMARY KEY,                -- sha256 of the cookie value: a leaked table opens no session
    username    text NOT NULL REFERENCES web.account(username) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX session_expires_idx ON web.session (expires_at);

CREATE TABLE web.submission (
    token            text PRIMARY KEY CHECK (token ~ '^[0-9a-f]{24}$'),
    catalogue        text NOT NULL UNIQUE,       -- SUBMIT/<token>: the isolated staging catalogue
    target_catalogue text,                       -- the VizieR id it is for (J/A+A/526/A155)
    contact          text,
    status           text NOT NULL DEFAULT 'draft'
                     CHECK (status IN ('draft', 'new', 'checking', 'needs-fix', 'approved', 'published')),
    files            jsonb NOT NULL DEFAULT '[]',  -- [{"stored", "original", "size", "kind"}]
    rejected         jsonb NOT NULL DEFAULT '[]',  -- [{"name", "reason"}]: what the upload refused
    mapping          text,                       -- the mapping file's text, as last checked
    diagnostics      text[] NOT NULL DEFAULT '{}', -- its compiler messages at that check (file:line:col ...)
    note             text,                       -- the documentalists' note when sent back
    created_at       timestamptz NOT NULL DEFAULT now(),
    submitted_at     timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    reviewed_by      text REFERENCES web.account(username) ON DELETE SET NULL
);
CREATE INDEX submission_status_idx ON web.submission (status, submitted_at);
COMMENT ON TABLE web.submission IS 'Authors'' submissions: draft (being checked by the author), then the documentalists'' statuses';

CREATE TABLE web.submission_event (
    id         bigserial PRIMARY KEY,
    token      text NOT NULL REFERENCES web.submission(token) ON DELETE CASCADE,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text NOT NULL,                    -- 'author' or a documentalist's username
    status     text NOT NULL,
    note       text
);
CREATE INDEX submission_event_token_idx ON web.submission_event (token, at);
COMMENT ON TABLE web.submission_event IS 'History of a submission: who changed its status, when, with what note';
