"""One dynamic partition per catalogue; its key is the catalogue id (``J/A+A/526/A155``).

Dynamic, because a collection grows: the sensor (:mod:`.sensors`) adds a key
when a catalogue becomes complete on disk. Keys are registered in the order the
sensor finds them, so that a batch of new catalogues is a contiguous range of
keys and can be materialised as one run.
"""

from __future__ import annotations

import os

from dagster import BackfillPolicy, DynamicPartitionsDefinition

CATALOGUES = DynamicPartitionsDefinition(name="catalogues")

#: Partitions (catalogues) per run of a backfill or of a sensor request: the
#: fixed cost of a run (process start, imports, a refresh transaction) is paid
#: once per batch, not per catalogue; 100-500 keeps a run's transaction short
#: enough to be rerun cheaply after a failure.
BATCH_PARTITIONS = int(os.environ.get("ASSOCDATA_DAGSTER_BATCH", 200))

BACKFILL_POLICY = BackfillPolicy.multi_run(max_partitions_per_run=BATCH_PARTITIONS)

#: The concurrency pool of every step that works in the database (docs/dagster.md):
#: its limit (dagster.yaml ``concurrency: pools: default_limit``) caps the
#: number of such steps running at once, whatever the number of runs queued.
DATABASE_POOL = "assocdata_database"
