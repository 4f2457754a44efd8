"""Curation: fill what headers lack from Simbad, filter profiles and the catalogue's ReadMe.

Two halves (docs/curation.md):

- **resolvers** that fill database caches, possibly over the network:
  :mod:`.suggesters` / :mod:`.readme` (the ReadMe: titles, objects, positions),
  :mod:`.simbad` (target names -> positions and object types, batched, rate
  limited, cached), :mod:`.filters` (the filter table, SVO, the matcher);
- one set-based, network-free step, :func:`.apply.apply_curation`, that fills
  the empty ObsCore cells of some files from those caches, with provenance.
  The refresh calls it after the mappings' field rules, so a file derived
  again keeps its curated values.

``assocdata curate`` and ``Response.curate()`` run both (:func:`.run.curate`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["apply_curation", "curate", "CurateSummary"]

if TYPE_CHECKING:
    from .apply import apply_curation
    from .run import CurateSummary, curate


def __getattr__(name: str) -> Any:  # lazy: the refresh imports apply without astroquery
    if name == "apply_curation":
        from .apply import apply_curation

        return apply_curation
    if name in ("curate", "CurateSummary"):
        from . import run

        return getattr(run, name)
    raise AttributeError(name)
