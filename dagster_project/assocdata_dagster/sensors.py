"""The catalogue sensor: registers the complete catalogues of the collection and materialises them.

Completeness convention (docs/dagster.md, and :mod:`assocdata.catalogues`): a
catalogue is a directory of the collection holding a ``ReadMe``, which the data
centre writes last; a directory without one is still being written and is not
picked up. A catalogue is registered once (its partition key exists from then
on); new ones are requested in runs of up to :data:`.partitions.BATCH_PARTITIONS`
catalogues (contiguous ranges of the keys just added), not one run each.
"""


from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from .jobs import catalogue_job
from .partitions import BATCH_PARTITIONS, CATALOGUES
from .resources import Collection


def run_requests_for(new: list[str], batch: int = BATCH_PARTITIONS) -> list[RunRequest]:
    """One run per batch of consecutive new keys (a partition range), one key: a plain partition."""
    requests = []
    for i in range(0, len(new), batch):
        chunk = new[i:i + batch]
        if len(chunk) == 1:
            requests.append(RunRequest(run_key=f"catalogue:{chunk[0]}", partition_key=chunk[0]))
        else:
            requests.append(RunRequest(
                run_key=f"catalogues:{chunk[0]}..{chunk[-1]}",
                tags={ASSET_PARTITION_RANGE_START_TAG: chunk[0],
                      ASSET_PARTITION_RANGE_END_TAG: chunk[-1]}))
    return requests


@sensor(job=catalogue_job, minimum_interval_seconds=60, default_status=DefaultSensorStatus.RUNNING,
        description="Registers each complete catalogue (a directory with its ReadMe) of the "
                    "collection as a partition, once, and requests its materialisation in batches.")
def catalogue_sensor(context: SensorEvaluationContext, collection: Collection) -> SensorResult | SkipReason:
    found = [c.id for c in collection.complete_catalogues()]
    known = set(context.instance.get_dynamic_partitions(CATALOGUES.name))
    new = [key for key in found if key not in known]
    if not new:
        return SkipReason(f"no new complete catalogue under {collection.path()} "
                          f"({len(found)} known)")
    context.log.info(f"{len(new)} new catalogue(s): {', '.join(new[:10])}")
    return SensorResult(
        dynamic_partitions_requests=[CATALOGUES.build_add_request(new)],
        run_requests=run_requests_for(new),
    )
