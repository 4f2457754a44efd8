-- Prefix search on the catalogue id: the search page's catalogue field
-- ("J/A+A/526" finds J/A+A/526/A155, ...) and ADQL's
-- source_catalogue LIKE 'J/A+A/526%'. The b-tree of 020 serves equality and
-- ordering, but a LIKE prefix can use a b-tree only under the "C" collation,
-- and databases are usually created with another one (C.UTF-8 and en_US.UTF-8
-- are not "C" to PostgreSQL 15): text_pattern_ops compares byte-wise whatever
-- the collation, so the planner turns the prefix into an index range.
CREATE INDEX IF NOT EXISTS obscore_source_catalogue_prefix_idx
    ON ivoa.obscore USING btree (source_catalogue text_pattern_ops);
