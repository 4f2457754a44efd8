"""Jobs and schedules: a catalogue's assets, and the reprocessing of a whole collection.

``catalogue_job`` materialises the five assets of some partitions (the sensor's
runs, and what the UI launches). ``reprocess_collection`` re-derives thousands
of catalogues in one run: batches of catalogues, each one refresh transaction
(set-based SQL in the database), a few batches at once on their own
connections, each gated by the same checks as ``obscore_rows``; it records an
``obscore_rows`` materialisation per catalogue committed, so the UI's partition
view stays true.
"""


import threading
import time
from concurrent.futures import ThreadPoolExecutor

from dagster import (
    AssetMaterialization,
    AssetSelection,
    Config,
    DefaultScheduleStatus,
    Failure,
    OpExecutionContext,
    ScheduleDefinition,
    define_asset_job,
    job,
    op,
)
from pydantic import Field

from .partitions import BATCH_PARTITIONS, CATALOGUES, DATABASE_POOL
from .resources import AssocdataDatabase, QualityThresholds

catalogue_job = define_asset_job(
    "catalogue_job",
    selection=AssetSelection.groups("catalogue"),
    description="Stage, derive, curate, map and publish the selected catalogues.",
)


class ReprocessConfig(Config):
    catalogues: list[str] = Field(default_factory=list,
                                  description="catalogue ids; empty: every registered catalogue")
    prefix: str = Field(default="", description="only the catalogues whose id starts with this "
                                                "(e.g. 'J/A+A/')")
    full: bool = Field(default=False, description="derive every file again, not only the changed ones "
                                                  "(after a rules change is automatic: the rules version)")
    batch_size: int = Field(default=BATCH_PARTITIONS, description="catalogues per refresh transaction")
    workers: int = Field(default=2, description="batches refreshed at once (database backends)")


def _selection(context: OpExecutionContext, config: ReprocessConfig) -> list[str]:
    names = config.catalogues or context.instance.get_dynamic_partitions(CATALOGUES.name)
    return [n for n in names if n.startswith(config.prefix)]


@op(pool=DATABASE_POOL)
def rederive_catalogues(context: OpExecutionContext, config: ReprocessConfig,
                        database: AssocdataDatabase, thresholds: QualityThresholds) -> dict:
    """Re-derive the selected catalogues, batch by batch, each batch one gated transaction."""
    import psycopg

    from .assets import gated_refresh

    names = _selection(context, config)
    size = max(1, config.batch_size)
    batches = [names[i:i + size] for i in range(0, len(names), size)]
    context.log.info(f"{len(names)} catalogues in {len(batches)} batches of up to {size}, "
                     f"{config.workers} at once")
    local = threading.local()
    lock = threading.Lock()
    totals = {"catalogues": 0, "files": 0, "hdus": 0, "rows": 0, "issues": 0, "batches": 0}
    held: dict[str, list[str]] = {}
    started = time.monotonic()
    events: list[AssetMaterialization] = []
    connections: list[psycopg.Connection] = []

    def conn() -> psycopg.Connection:
        if getattr(local, "conn", None) is None:  # one backend a thread: its rules stay imported
            local.conn = psycopg.connect(database.database_url())
            with lock:
                connections.append(local.conn)
        return local.conn

    def work(batch: list[str]) -> None:
        gate = gated_refresh(conn(), batch, thresholds, full=config.full)
        with lock:
            totals["batches"] += 1
            totals["catalogues"] += len(gate.committed)
            totals["files"] += gate.summary.files
            totals["hdus"] += gate.summary.hdus
            totals["rows"] += gate.summary.rows
            totals["issues"] += gate.summary.issues
            held.update(gate.held_back)
            for cat in gate.committed:
                q = gate.measured[cat]
                events.append(AssetMaterialization(
                    asset_key="obscore_rows", partition=cat,
                    description=f"re-derived by run {context.run_id}",
                    metadata={"rows": q.rows, "unusable": q.unusable, "files": q.files}))
            context.log.info(f"batch {totals['batches']}/{len(batches)}: {len(gate.committed)} "
                             f"committed, {len(gate.held_back)} held back "
                             f"({time.monotonic() - started:.0f} s)")

    try:
        with ThreadPoolExecutor(max_workers=max(1, config.workers)) as pool:
            for future in [pool.submit(work, b) for b in batches]:
                future.result()
    finally:
        for c in connections:
            c.close()
    for event in events:  # from this thread: Dagster's event log is not thread-safe
        context.log_event(event)
    totals["seconds"] = round(time.monotonic() - started, 1)
    if held:
        raise Failure(
            f"{len(held)} catalogue(s) held back by blocking checks (rows rolled back): "
            + "; ".join(f"{c}: {', '.join(r)}" for c, r in sorted(held.items())[:20]),
            metadata={**totals, "held back": len(held)})
    context.add_output_metadata(totals)
    return totals


@job(description="Re-derive a whole collection (or a prefix, or a list) in batches: set-based SQL "
                 "per batch of catalogues, not one run per catalogue.")
def reprocess_collection() -> None:
    rederive_catalogues()


nightly_refresh = ScheduleDefinition(
    name="nightly_refresh", job=reprocess_collection, cron_schedule="0 3 * * *",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Every night: derive again what changed (headers, rules, settings, mappings) in "
                "every registered catalogue. Stopped by default: start it in the UI.")
