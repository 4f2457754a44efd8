"""Everything Dagster loads: assets, checks, resources, sensor, jobs and schedule (docs/dagster.md).

Loaded by ``dagster dev -w dagster_project/workspace.yaml`` (see
``python -m assocdata_dagster.serve``). The resources take the library's
configuration: ``ASSOCDATA_DATABASE_URL`` or the embedded cluster, and
``ASSOCDATA_COLLECTION`` or the sample collection.
"""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from .assets import ASSETS
from .jobs import catalogue_job, nightly_refresh, reprocess_collection
from .resources import AssocdataDatabase, Collection, QualityThresholds
from .sensors import catalogue_sensor


def resources(database_url: str | None = None, collection_root: str | None = None) -> dict:
    """The resources, configured from the environment unless given (tests give theirs)."""
    collection = Collection(root=collection_root) if collection_root else Collection()
    return {
        "database": AssocdataDatabase(url=database_url),
        "collection": collection,
        "thresholds": QualityThresholds(),
    }


# One process a run: the five assets are a chain (no step could run beside another),
# so a process a step (Dagster's default) would only add ~4 s of start-up per step;
# the library isolates what can crash (the ingest's worker pool) by itself.
defs = Definitions(
    executor=in_process_executor,
    assets=ASSETS,
    jobs=[catalogue_job, reprocess_collection],
    schedules=[nightly_refresh],
    sensors=[catalogue_sensor],
    resources=resources(),
)
