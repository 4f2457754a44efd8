"""Dagster orchestration of assocdata: thin assets over the library (docs/dagster.md).

Dagster decides what runs when, and records what happened; the library and the
database do the work. Nothing here derives an ObsCore value: every asset calls
the same functions as the ``assocdata`` command line.
"""
