"""The assets of one catalogue partition: thin calls into the library.

    staged_headers -> obscore_rows -> curated -> mapped -> published

Every asset takes ``context.partition_keys``: one catalogue when launched from
the UI, a range of 100-500 when a backfill or the sensor batches them
(:data:`.partitions.BACKFILL_POLICY`); the library does the batch set-based
(one refresh transaction for all of them), never one tiny run per catalogue.

The gate (docs/dagster.md): ``obscore_rows`` and ``mapped`` refresh inside a
transaction of their own and measure the rows before committing; a catalogue
whose rows break a blocking check is rolled back (ivoa.obscore keeps what it
had, which TAP goes on serving), its check fails, and the step fails, so no
downstream step runs for the batch. The other catalogues of the batch are
committed.
"""


import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import psycopg
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field

from assocdata.catalogues import CatalogueNotFound
from assocdata.derive.refresh import RefreshSummary, refresh_batch
from assocdata.ingest import InfrastructureError, ingest

from . import quality, report
from .partitions import BACKFILL_POLICY, CATALOGUES, DATABASE_POOL
from .resources import AssocdataDatabase, Collection, QualityThresholds

# BackfillPolicy is "beta" in Dagster 1.13; it is what batches a backfill (docs/dagster.md).
warnings.filterwarnings("ignore", message=".*backfill_policy.*")

_COMMON = dict(partitions_def=CATALOGUES, backfill_policy=BACKFILL_POLICY, pool=DATABASE_POOL,
               group_name="catalogue", kinds={"postgres"})


def _keys(context: AssetExecutionContext) -> list[str]:
    return list(context.partition_keys)


# -- staged_headers ------------------------------------------------------------------

@asset(
    **_COMMON,
    description="Every FITS header of the catalogue staged in PostgreSQL (assocdata ingest).",
    check_specs=[AssetCheckSpec(
        "few_rejected_files", asset="staged_headers", blocking=True,
        description="Files rejected whole (unreadable) stay under max_rejected_file_share of the "
                    "catalogue's files: above, the catalogue is broken and is not derived.")],
)
def staged_headers(context: AssetExecutionContext, database: AssocdataDatabase,
                   collection: Collection, thresholds: QualityThresholds) -> Iterator:
    keys = _keys(context)
    try:
        summary = ingest(collection.path(), keys, database_url=database.database_url())
    except CatalogueNotFound as exc:
        raise Failure(f"{exc} (collection root {collection.path()})") from exc
    except InfrastructureError as exc:
        raise Failure(str(exc)) from exc
    with database.connect() as conn:
        measured = quality.measure(conn, keys)
    over = sorted(c for c, q in measured.items()
                  if q.files and q.files_rejected / q.files > thresholds.max_rejected_file_share)
    yield MaterializeResult(
        metadata={
            "catalogues": len(keys),
            "files": summary.files_seen,
            "files staged (new or changed)": summary.files_staged,
            "files unchanged": summary.files_unchanged,
            "files gone": summary.files_gone,
            "files rejected": summary.files_rejected,
            "HDUs": summary.hdus,
            "rejects": summary.rejects,
            "warnings": summary.warnings,
            "seconds": round(summary.seconds, 2),
            **report.where_to_look(keys),
        },
        check_results=[AssetCheckResult(
            check_name="few_rejected_files", passed=not over, severity=AssetCheckSeverity.ERROR,
            metadata={
                "threshold": thresholds.max_rejected_file_share,
                "catalogues over": MetadataValue.text(report.catalogue_list(over) or "none"),
                "files rejected": sum(q.files_rejected for q in measured.values()),
                "files": sum(q.files for q in measured.values()),
            })],
    )


# -- the gated refresh (obscore_rows, mapped) -----------------------------------------------

@dataclass
class GatedRefresh:
    summary: RefreshSummary
    measured: dict[str, quality.CatalogueQuality]
    committed: list[str]
    held_back: dict[str, list[str]]  # catalogue -> reasons


def _blocking_reasons(q: quality.CatalogueQuality, thresholds: QualityThresholds) -> list[str]:
    reasons = [f"{n} rows: {rule}" for rule, n in q.violations.items()]
    if q.products and q.unusable / q.products > thresholds.max_unusable_share:
        reasons.append(f"{q.unusable} of {q.products} products unusable "
                       f"(limit {thresholds.max_unusable_share:.0%})")
    if q.files and q.error_issues / q.files > thresholds.max_error_issues_per_file:
        reasons.append(f"{q.error_issues} derivation issues of severity error for {q.files} files "
                       f"(limit {thresholds.max_error_issues_per_file} a file)")
    return reasons


def gated_refresh(conn: psycopg.Connection, catalogues: Sequence[str],
                  thresholds: QualityThresholds, *, full: bool = False) -> GatedRefresh:
    """Refresh the catalogues in one transaction, committed only for those whose rows pass.

    ``conn`` must not be in autocommit mode. The library's refresh (derivation,
    mappings, curation values) runs as a savepoint of our transaction; the rows
    are measured before the commit. Catalogues that fail are rolled back and
    the others refreshed again and committed: at most two refreshes of the batch,
    whatever its size.
    """
    todo = list(catalogues)
    held: dict[str, list[str]] = {}
    measured: dict[str, quality.CatalogueQuality] = {}
    while True:
        summary = RefreshSummary()
        failed: dict[str, list[str]] = {}
        with conn.transaction() as tx:
            if todo:
                refresh_batch(conn, todo, full=full, summary=summary)
                measured.update(quality.measure(conn, todo))
                for cat in todo:
                    reasons = _blocking_reasons(measured[cat], thresholds)
                    if reasons:
                        failed[cat] = reasons
            if failed:
                raise psycopg.Rollback(tx)
        if not failed:
            return GatedRefresh(summary, measured, todo, held)
        held.update(failed)
        todo = [c for c in todo if c not in failed]


def _gate_results(gate: GatedRefresh, thresholds: QualityThresholds,
                  asset_key: str) -> list[AssetCheckResult]:
    qs = list(gate.measured.values())
    invalid = {c: r for c, r in gate.held_back.items() if gate.measured[c].violations}
    over = {c: r for c, r in gate.held_back.items() if c not in invalid}
    examples = [f"{did}: {rule}" for q in qs for did, rule in q.examples][:20]
    key_nulls = {col: (sum(q.null_rates.get(col, 0) * q.rows for q in qs) / max(1, sum(q.rows for q in qs)))
                 for col in quality.KEY_COLUMNS}
    high = sorted(c for c, rate in key_nulls.items() if rate > thresholds.max_null_rate)
    return [
        AssetCheckResult(
            asset_key=asset_key, check_name=f"{asset_key}_valid", passed=not invalid,
            severity=AssetCheckSeverity.ERROR,
            description="ObsCore validity: required columns, vocabularies, ranges, "
                        "em_min <= em_max, t_min <= t_max, s_region valid and containing s_ra/s_dec",
            metadata={
                "rows checked": sum(q.rows for q in qs),
                "catalogues held back": MetadataValue.md(
                    "\n".join(f"- `{c}`: {'; '.join(r)}" for c, r in invalid.items()) or "none"),
                "examples": MetadataValue.md("\n".join(f"- {e}" for e in examples) or "none"),
                "rules": MetadataValue.md("\n".join(f"- {name}" for name, _ in quality.rules())),
            }),
        AssetCheckResult(
            asset_key=asset_key, check_name=f"{asset_key}_issues_within_limits", passed=not over,
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "unusable products": sum(q.unusable for q in qs),
                "products": sum(q.products for q in qs),
                "error issues": sum(q.error_issues for q in qs),
                "files": sum(q.files for q in qs),
                "limits": MetadataValue.json({
                    "max_unusable_share": thresholds.max_unusable_share,
                    "max_error_issues_per_file": thresholds.max_error_issues_per_file}),
                "catalogues held back": MetadataValue.md(
                    "\n".join(f"- `{c}`: {'; '.join(r)}" for c, r in over.items()) or "none"),
            }),
        AssetCheckResult(
            asset_key=asset_key, check_name=f"{asset_key}_null_rates", passed=not high,
            severity=AssetCheckSeverity.WARN,
            description=f"NULL rate of the key columns at most {thresholds.max_null_rate:.0%} "
                        "(reported, never blocking: a header may simply not say)",
            metadata={"null rates": report.null_rates(qs),
                      "columns over": MetadataValue.text(", ".join(high) or "none")}),
    ]


def _gate_specs(asset_key: str) -> list[AssetCheckSpec]:
    return [
        AssetCheckSpec(f"{asset_key}_valid", asset=asset_key, blocking=True,
                       description="ObsCore validity of the catalogue's rows, measured before the "
                                   "commit: a failing catalogue is rolled back, nothing published"),
        AssetCheckSpec(f"{asset_key}_issues_within_limits", asset=asset_key, blocking=True,
                       description="Unusable products and derivation errors under the thresholds"),
        AssetCheckSpec(f"{asset_key}_null_rates", asset=asset_key,
                       description="NULL rate per key column (a warning)"),
    ]


def _gated(context: AssetExecutionContext, database: AssocdataDatabase,
           thresholds: QualityThresholds, asset_key: str, extra: dict | None = None) -> Iterator:
    keys = _keys(context)
    with database.connect(autocommit=False) as conn:
        gate = gated_refresh(conn, keys, thresholds)
        conn.autocommit = True
        metadata = {
            "catalogues": len(keys),
            "catalogues committed": len(gate.committed),
            "catalogues held back": MetadataValue.text(report.catalogue_list(sorted(gate.held_back)) or "none"),
            "files derived": gate.summary.files,
            "HDUs derived": gate.summary.hdus,
            "rows": sum(q.rows for q in gate.measured.values()),
            "rows written": gate.summary.rows,
            "unusable": sum(q.unusable for q in gate.measured.values()),
            "rows removed": gate.summary.removed,
            "derivation issues": gate.summary.issues,
            "null rates": report.null_rates(list(gate.measured.values())),
            "preview": report.preview(conn, keys),
            **report.where_to_look(keys),
            **(extra(conn, keys) if extra else {}),
        }
    results = _gate_results(gate, thresholds, asset_key)
    if gate.held_back:
        # The check results are recorded; the step fails without a materialisation,
        # so nothing downstream runs for this batch.
        for result in results:
            yield result
        raise Failure(
            description=f"{len(gate.held_back)} catalogue(s) held back by blocking checks "
                        f"(their rows were rolled back): {report.catalogue_list(sorted(gate.held_back))}",
            metadata={k: v for k, v in metadata.items() if k != "preview"})
    yield MaterializeResult(metadata=metadata, check_results=results)


# -- obscore_rows --------------------------------------------------------------------

@asset(**_COMMON, deps=[staged_headers], check_specs=_gate_specs("obscore_rows"),
       description="ivoa.obscore rows derived in the database from the staged headers "
                   "(assocdata derive: rules, header defaults and field rules of the mappings, "
                   "curation values), committed only when the blocking checks pass.")
def obscore_rows(context: AssetExecutionContext, database: AssocdataDatabase,
                 thresholds: QualityThresholds) -> Iterator:
    yield from _gated(context, database, thresholds, "obscore_rows")


# -- curated ---------------------------------------------------------------------------

def _offline_default() -> bool:
    return os.environ.get("ASSOCDATA_OFFLINE", "").strip().lower() in ("1", "true", "yes")


class CurationConfig(Config):
    offline: bool = Field(default_factory=_offline_default,
                          description="ask no service (Simbad, SVO): the caches and the offline "
                                      "filter seed only; default: ASSOCDATA_OFFLINE")


@asset(**_COMMON, deps=[obscore_rows],
       check_specs=[AssetCheckSpec("curated_valid", asset="curated", blocking=True,
                                   description="ObsCore validity of the rows after curation")],
       description="Empty cells filled from the ReadMe, Simbad and filter profiles "
                   "(assocdata curate: cached, batched, offline-safe; never overwrites a header "
                   "or mapping value).")
def curated(context: AssetExecutionContext, config: CurationConfig, database: AssocdataDatabase,
            thresholds: QualityThresholds) -> MaterializeResult:
    keys = _keys(context)
    try:
        from assocdata.curation import curate
    except ImportError:  # pragma: no cover - curation is part of the library now
        curate = None
    metadata: dict = {"catalogues": len(keys)}
    if curate is None:
        metadata["curation"] = "not available in this version of the library"
    else:
        summary = curate(keys, database_url=database.database_url(), offline=config.offline)
        s, f = summary.simbad, summary.filters
        metadata.update({
            "files": summary.files,
            "ReadMe suggestions": summary.suggestions,
            "target names resolved": s.resolved + s.cached,
            "target names not resolved": len(s.unresolved) + len(s.skipped) + s.not_asked,
            "filters matched": f.matched,
            "rows changed": summary.rows_changed,
            "offline": MetadataValue.text(
                "; ".join(r for r in (s.offline_reason, f.svo_offline_reason) if r) or "no"),
            "not resolved": MetadataValue.md(
                "\n".join(f"- {kind} `{item}`: {reason}" for kind, item, reason in summary.unresolved[:30])
                or "none"),
            "review": MetadataValue.md("`SELECT * FROM curation.review`"),
            "seconds": round(summary.seconds, 2),
        })
    with database.connect() as conn:
        measured = quality.measure(conn, keys)
        metadata["preview"] = report.preview(conn, keys)
    invalid = {c: q for c, q in measured.items() if not q.valid}
    metadata["null rates"] = report.null_rates(list(measured.values()))
    return MaterializeResult(metadata=metadata, check_results=[AssetCheckResult(
        check_name="curated_valid", passed=not invalid, severity=AssetCheckSeverity.ERROR,
        metadata={"rows checked": sum(q.rows for q in measured.values()),
                  "catalogues": MetadataValue.md("\n".join(
                      f"- `{c}`: " + "; ".join(f"{n} rows: {r}" for r, n in q.violations.items())
                      for c, q in invalid.items()) or "none")})])


# -- mapped ----------------------------------------------------------------------------

def _mapping_report(conn: psycopg.Connection, keys: Sequence[str]) -> dict:
    rows = conn.execute(
        """SELECT a.mapping_name, count(DISTINCT c.id), min(m.sha256),
                  (SELECT count(*) FROM mapping.rule r WHERE r.mapping_name = a.mapping_name)
             FROM staging.catalogue c
             JOIN mapping.assignment a ON a.catalogue = c.id OR a.catalogue = '*'
             JOIN mapping.mapping m ON m.name = a.mapping_name
            WHERE c.id = ANY(%s) GROUP BY 1 ORDER BY 1""", [list(keys)]).fetchall()
    cells = conn.execute(
        "SELECT count(*) FROM mapping.cell m JOIN ivoa.obscore o USING (obs_publisher_did) "
        "WHERE o.source_catalogue = ANY(%s)", [list(keys)]).fetchone()[0]
    return {
        "mappings": MetadataValue.md(
            "\n".join(f"- `{name}` on {n} catalogue(s), {rules} field rules, sha256 {sha[:12]}"
                      for name, n, sha, rules in rows) or "none assigned"),
        "rows with mapped cells": cells,
        "list": MetadataValue.md("`assocdata map list`"),
    }


@asset(**_COMMON, deps=[curated], check_specs=_gate_specs("mapped"),
       description="The catalogue's stored mappings are applied: a mapping assigned since the "
                   "last refresh is applied now (incremental refresh, gated like obscore_rows); "
                   "reports which mappings hold and how many cells they set.")
def mapped(context: AssetExecutionContext, database: AssocdataDatabase,
           thresholds: QualityThresholds) -> Iterator:
    yield from _gated(context, database, thresholds, "mapped", extra=_mapping_report)


# -- published -------------------------------------------------------------------------

@asset(**_COMMON, deps=[mapped],
       description="ivoa.obscore rows of the catalogue published: TAP_SCHEMA regenerated and "
                   "checked, the catalogue's coverage MOC recomputed; says when the TAP server "
                   "must be restarted (Vollt reads TAP_SCHEMA only at start).")
def published(context: AssetExecutionContext, database: AssocdataDatabase) -> MaterializeResult:
    keys = _keys(context)
    metadata: dict = {"catalogues": len(keys)}
    with database.connect() as conn:
        metadata["rows visible to TAP"] = conn.execute(
            "SELECT count(*) FROM ivoa.obscore WHERE source_catalogue = ANY(%s)", [keys]).fetchone()[0]
        try:
            from assocdata.tap import check, publish
        except ImportError:  # pragma: no cover
            publish = None
        if publish is None:
            metadata["TAP_SCHEMA"] = "not available in this version of the library"
        else:
            rows, changed = publish.refresh_schema(conn)
            problems = check.check(conn)
            metadata["TAP_SCHEMA rows"] = MetadataValue.json(rows)
            metadata["TAP restart needed"] = changed
            metadata["TAP_SCHEMA problems"] = MetadataValue.md(
                "\n".join(f"- {p}" for p in problems) or "none")
            if problems:
                raise Failure("TAP_SCHEMA does not match the database: "
                              + "; ".join(map(str, problems[:5])), metadata=metadata)
        has_moc = conn.execute(
            "SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'hpx' AND p.proname = 'refresh_catalogue_moc'").fetchone()
        if has_moc:
            metadata["coverage MOCs"] = conn.execute(
                "SELECT hpx.refresh_catalogue_moc(%s)", [keys]).fetchone()[0]
    metadata["TAP"] = MetadataValue.md(
        "TAP_SCHEMA changed: restart the TAP server (`assocdata tap serve`)"
        if metadata.get("TAP restart needed") else "no restart needed")
    return MaterializeResult(metadata=metadata)


ASSETS = [staged_headers, obscore_rows, curated, mapped, published]
