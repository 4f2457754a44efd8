-- Mapping field rules (and curation) update ObsCore rows in place. With room
-- left on each page for a new version of every row, an update that changes no
-- indexed column is a HOT update: no new index entry at all. That matters:
-- inserting into the GiST index of s_region costs ~1.7 ms a polygon here
-- (PgSphere 1.2), ~15x the rest of the update. A mapping applied to a whole
-- table updates every row once, so half of each page is left free (the table
-- takes twice the room; index scans, what TAP queries use, do not notice).
ALTER TABLE ivoa.obscore SET (fillfactor = 50);
