"""The experimental HEALPix position index (docs/position-index.md).

- :mod:`.build`: the C extension ``assocdata_hpx`` (ext/assocdata_hpx), built with
  PGXS and installed by ``assocdata db setup``;
- :mod:`.moc`: per-catalogue coverage (hpx.catalogue_moc) and its FITS MOC export.

The SQL lives in sql/070_hpx_index.sql and sql/071_hpx_coverage.sql.
"""
