"""The published ObsCore table ``ivoa.obscore``.

``obscore.yaml`` is the single, versioned description of the table; ``schema``
loads it and derives every artefact from it (DDL, astropy metadata, TAP_SCHEMA
rows, Markdown documentation), so that they can never disagree.
"""
