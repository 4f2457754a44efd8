"""The end of the README's main command: materialise the sample collection through Dagster.

The sample catalogues are registered as partitions of the project's Dagster
instance (``DAGSTER_HOME``, storage in PostgreSQL) and their five assets are
materialised in one batched run, recorded there: the UI then shows them, with
their checks and metadata, and a newcomer can launch one catalogue again from
it. Curation asks Simbad and SVO unless ``ASSOCDATA_OFFLINE=1``; without network
it says so in the metadata and goes on (offline-safe).
"""

from __future__ import annotations

import os
import sys

from dagster import DagsterInstance, materialize
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from assocdata import sample

from . import home
from .assets import ASSETS
from .definitions import resources
from .partitions import CATALOGUES


def run() -> int:
    os.environ["DAGSTER_HOME"] = str(home.write().parent)
    root = sample.default_destination()
    layout = sample.build(root)
    keys = sorted(layout)
    with DagsterInstance.get() as instance:
        known = set(instance.get_dynamic_partitions(CATALOGUES.name))
        new = [k for k in keys if k not in known]
        if new:
            instance.add_dynamic_partitions(CATALOGUES.name, new)
        order = instance.get_dynamic_partitions(CATALOGUES.name)
        first, last = order.index(min(keys, key=order.index)), order.index(max(keys, key=order.index))
        if last - first + 1 != len(keys):
            raise SystemExit("the sample catalogues are not consecutive partitions of the instance: "
                             "materialise them from the UI (or run `dagster` with a fresh DAGSTER_HOME)")
        result = materialize(
            ASSETS, instance=instance, resources=resources(collection_root=str(root)),
            tags={ASSET_PARTITION_RANGE_START_TAG: order[first], ASSET_PARTITION_RANGE_END_TAG: order[last],
                  "assocdata/source": "scripts/demo"},
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            raise_on_error=False)
        status = "succeeded" if result.success else "FAILED (see the run in the UI)"
        print(f"Dagster: materialised {len(keys)} sample catalogues in run {result.run_id}: {status}")
        for name in ("staged_headers", "obscore_rows", "curated", "mapped", "published"):
            events = result.asset_materializations_for_node(name)
            print(f"  {name:<15} {len(events)} partitions materialised")
        for check in result.get_asset_check_evaluations():
            if not check.passed:
                print(f"  check {check.asset_key.to_user_string()}.{check.check_name}: failed")
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(run())
