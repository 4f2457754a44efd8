"""The Dagster assets, checks and sensor against the real database (docs/dagster.md).

Each test materialises with ``dagster.materialize`` on an ephemeral Dagster
instance; the assocdata database is the test run's own. The catalogues are the
sample collection's real files, copied under the prefix ``DAGSTER_TEST/`` so
that their rows never meet those of other tests in the shared test database.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import psycopg
import pytest


from assocdata import config

sys.path.insert(0, str(config.REPO_ROOT / "dagster_project"))


from dagster import DagsterInstance, build_sensor_context, materialize  # noqa: E402
from dagster._core.storage.tags import (  # noqa: E402
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from assocdata_dagster.assets import ASSETS  # noqa: E402
from assocdata_dagster.definitions import resources  # noqa: E402
from assocdata_dagster.partitions import CATALOGUES  # noqa: E402
from assocdata_dagster.sensors import catalogue_sensor  # noqa: E402
from assocdata_dagster.resources import Collection  # noqa: E402

PREFIX = "DAGSTER_TEST"


def _copy(sample_root: Path, root: Path, origin: str, prefix: str = PREFIX) -> str:
    shutil.copytree(sample_root / "DEMO" / origin, root / prefix / origin, copy_function=shutil.copy2)
    return f"{prefix}/{origin}"


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as inst:
        yield inst


def _rows(db_url: str, catalogue: str) -> int:
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT count(*) FROM ivoa.obscore WHERE source_catalogue = %s",
                            [catalogue]).fetchone()[0]


def test_two_catalogues_materialise_in_one_batched_run(tmp_path, sample_root, db_url, instance):
    root = tmp_path / "collection"
    keys = [_copy(sample_root, root, "laspec"), _copy(sample_root, root, "pkg-glue")]
    instance.add_dynamic_partitions(CATALOGUES.name, keys)
    result = materialize(
        ASSETS, instance=instance, resources=resources(db_url, str(root)),
        tags={ASSET_PARTITION_RANGE_START_TAG: keys[0], ASSET_PARTITION_RANGE_END_TAG: keys[1]},
        run_config={"ops": {"curated": {"config": {"offline": True}}}},
    )
    assert result.success
    for name in ("staged_headers", "obscore_rows", "curated", "mapped", "published"):
        assert result.asset_materializations_for_node(name), name
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["obscore_rows_valid"] and checks["few_rejected_files"] and checks["curated_valid"]
    meta = result.asset_materializations_for_node("obscore_rows")[0].metadata
    assert meta["rows"].value == _rows(db_url, keys[0]) + _rows(db_url, keys[1]) > 0
    assert "obs_publisher_did" in meta["preview"].value
    assert "s_ra" in meta["null rates"].value
    assert "staging.reject" in result.asset_materializations_for_node("staged_headers")[0].metadata[
        "rejects"].value
    published = result.asset_materializations_for_node("published")[0].metadata
    assert published["rows visible to TAP"].value == meta["rows"].value


def test_bad_catalogue_fails_a_blocking_check_and_publishes_nothing(tmp_path, sample_root, db_url,
                                                                   instance):
    """A mapping that moves every position away from its footprint (an operator's slip)."""
    from assocdata.mapping import compile_mapping
    from assocdata.mapping.store import assign, save

    root = tmp_path / "collection"
    key = _copy(sample_root, root, "laspec", prefix=f"{PREFIX}_BAD")
    instance.add_dynamic_partitions(CATALOGUES.name, [key])
    with psycopg.connect(db_url) as conn:
        compiled, _ = compile_mapping("assocdata-mapping 1\ns_ra := 10.0\ns_dec := -80.0\n",
                                      "misplaced.map", conn=conn)
        save(conn, compiled)
        assign(conn, "misplaced.map", [key])
    result = materialize(ASSETS, instance=instance, resources=resources(db_url, str(root)),
                         partition_key=key, raise_on_error=False,
                         run_config={"ops": {"curated": {"config": {"offline": True}}}})
    assert not result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["obscore_rows_valid"].passed is False
    held = checks["obscore_rows_valid"].metadata["catalogues held back"].value
    assert key in held and "does not contain (s_ra, s_dec)" in held
    assert not result.asset_materializations_for_node("obscore_rows")
    assert not result.asset_materializations_for_node("published")
    assert _rows(db_url, key) == 0  # rolled back: nothing visible to TAP


def test_sensor_registers_a_new_catalogue_exactly_once(tmp_path, sample_root, instance):
    root = tmp_path / "collection"
    key = _copy(sample_root, root, "pkg-glue")
    collection = Collection(root=str(root))
    first = catalogue_sensor(build_sensor_context(instance=instance, resources={"collection": collection}))
    (request,) = first.dynamic_partitions_requests
    assert list(request.partition_keys) == [key]
    assert [r.partition_key for r in first.run_requests] == [key]
    instance.add_dynamic_partitions(CATALOGUES.name, list(request.partition_keys))  # as the daemon does
    second = catalogue_sensor(build_sensor_context(instance=instance, resources={"collection": collection}))
    assert not getattr(second, "dynamic_partitions_requests", None)
    assert instance.get_dynamic_partitions(CATALOGUES.name) == [key]


def test_sensor_leaves_a_catalogue_without_its_readme(tmp_path, sample_root, instance):
    root = tmp_path / "collection"
    key = _copy(sample_root, root, "laspec")
    readme = root / key / "ReadMe"
    text = readme.read_text()
    readme.unlink()  # still being written: the data centre writes the ReadMe last
    collection = Collection(root=str(root))
    partial = catalogue_sensor(build_sensor_context(instance=instance, resources={"collection": collection}))
    assert not getattr(partial, "dynamic_partitions_requests", None)
    readme.write_text(text)
    complete = catalogue_sensor(build_sensor_context(instance=instance, resources={"collection": collection}))
    assert list(complete.dynamic_partitions_requests[0].partition_keys) == [key]


def test_sensor_batches_many_new_catalogues_into_partition_ranges():
    from assocdata_dagster.sensors import run_requests_for

    keys = [f"J/A+A/{i}/A1" for i in range(450)]
    requests = run_requests_for(keys, batch=200)
    assert [(r.partition_key_range.start, r.partition_key_range.end) for r in requests] == [
        (keys[0], keys[199]), (keys[200], keys[399]), (keys[400], keys[449])]


def test_reprocess_collection_rederives_in_batches_and_records_each_partition(
        tmp_path, sample_root, db_url, instance):
    from dagster import AssetKey

    from assocdata_dagster.assets import staged_headers
    from assocdata_dagster.jobs import reprocess_collection

    root = tmp_path / "collection"
    prefix = f"{PREFIX}_REPROCESS"
    keys = [_copy(sample_root, root, "laspec", prefix), _copy(sample_root, root, "pkg-sunpy", prefix)]
    instance.add_dynamic_partitions(CATALOGUES.name, keys)
    staged = materialize([staged_headers], instance=instance, resources=resources(db_url, str(root)),
                         tags={ASSET_PARTITION_RANGE_START_TAG: keys[0],
                               ASSET_PARTITION_RANGE_END_TAG: keys[1]})
    files = staged.asset_materializations_for_node("staged_headers")[0].metadata["files"].value
    result = reprocess_collection.execute_in_process(
        run_config={"ops": {"rederive_catalogues": {"config": {
            "prefix": f"{prefix}/", "batch_size": 1, "full": True, "workers": 2}}}},
        instance=instance, resources=resources(db_url, str(root)))
    assert result.success
    totals = result.output_for_node("rederive_catalogues")
    assert (totals["batches"], totals["catalogues"], totals["files"]) == (2, 2, files)
    assert totals["rows"] == sum(_rows(db_url, k) for k in keys) > 0
    recorded = instance.get_materialized_partitions(AssetKey("obscore_rows"))
    assert recorded == set(keys)


def test_catalogue_of_truncated_files_is_stopped_before_derivation(tmp_path, sample_root, db_url,
                                                                   instance):
    """A transfer cut every file short (real files, first 1,000 bytes): rejected, not derived."""
    root = tmp_path / "collection"
    key = _copy(sample_root, root, "laspec", prefix=f"{PREFIX}_CUT")
    for path in (root / key).iterdir():
        if path.name != "ReadMe":
            path.write_bytes(path.read_bytes()[:1000])
    instance.add_dynamic_partitions(CATALOGUES.name, [key])
    result = materialize(ASSETS, instance=instance, resources=resources(db_url, str(root)),
                         partition_key=key, raise_on_error=False)
    assert not result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["few_rejected_files"].passed is False
    assert key in checks["few_rejected_files"].metadata["catalogues over"].value
    assert not result.asset_materializations_for_node("obscore_rows")
    assert _rows(db_url, key) == 0
