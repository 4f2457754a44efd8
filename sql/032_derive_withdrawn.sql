-- Published rows whose derive.product row went away outside a refresh: a
-- changed file is re-staged under a new id (loader.write_batch deletes the
-- old staging.file row), and its derive.product rows go with it (ON DELETE
-- CASCADE) while its ivoa.obscore rows stay published until the next refresh
-- replaces or removes them. That refresh must delete them first (the new
-- derivation of the same file gives the same obs_publisher_did).
--
-- Why a queue and not an anti-join of the catalogue's rows against
-- derive.product at every refresh: that anti-join was a third of an
-- incremental refresh's CPU (every row of every catalogue in the batch,
-- ~9 us a row), for the few rows a re-ingest actually orphans. The trigger
-- records exactly those, with their catalogue; a refresh deletes the queued
-- rows of its catalogues. The refresh's own deletes (rows first, then
-- products) queue nothing: the rows are already gone when the trigger looks.
CREATE TABLE derive.withdrawn (
    obs_publisher_did text NOT NULL,
    catalogue         text NOT NULL,
    queued_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX withdrawn_catalogue_idx ON derive.withdrawn (catalogue);
COMMENT ON TABLE derive.withdrawn IS
  'Published rows that lost their derive.product row outside a refresh (a re-staged file): the next refresh of their catalogue removes them';

CREATE OR REPLACE FUNCTION derive.queue_withdrawn() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO derive.withdrawn (obs_publisher_did, catalogue)
    SELECT o.obs_publisher_did, o.source_catalogue
      FROM gone g JOIN ivoa.obscore o ON o.obs_publisher_did = g.obs_publisher_did;
    RETURN NULL;
END $$;

CREATE TRIGGER product_withdrawn AFTER DELETE ON derive.product
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION derive.queue_withdrawn();
