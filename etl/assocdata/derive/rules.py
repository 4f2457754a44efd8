"""Derive the ObsCore rows of one file from its staged HDUs: the rule pipeline.

The order is fixed and documented (docs/derivation.md): product selection,
then per product the type and calibration level, the names and identifiers,
the position and footprint, the spectral axis, the time axis. Each step only
fills what is still unset, so an earlier, more authoritative source wins.

This module is what PL/Python calls (``derive.derive_file`` in
sql/031_derive_functions.sql) and what the Python API uses: one implementation.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .context import RULES_VERSION, Derivation, HDUContext, Issue, RuleConfig
from .validate import validate


@dataclass(slots=True)
class FileInput:
    """A staged file, as the refresh SQL hands it over."""

    catalogue: str
    relpath: str
    size: int | None
    readme: str | None
    hdus: list[HDUContext]


@dataclass(slots=True)
class DerivedRow:
    hdu: int
    derivation: Derivation

    def as_json(self) -> dict[str, Any]:
        return {
            "hdu": self.hdu,
            "values": _jsonable(self.derivation.values()),
            "provenance": self.derivation.provenance(),
            "issues": [
                {"code": i.code, "message": i.message, "column": i.column, "severity": i.severity}
                for i in self.derivation.issues
            ],
            "unusable": self.derivation.unusable,
        }


#: ObsCore columns the standard requires to be filled: a row without them is not published.
REQUIRED = ("obs_publisher_did", "obs_id", "obs_collection", "calib_level")


def derive_file(file: FileInput, config: RuleConfig | None = None
                ) -> tuple[list[DerivedRow], list[Issue]]:
    """All ObsCore rows of one file, plus file-level issues (e.g. no product found)."""
    from . import names, product, spatial, spectral, temporal

    config = config or RuleConfig()
    products, file_issues = product.select_products(file.hdus)
    rows: list[DerivedRow] = []
    by_index = {h.hdu: h for h in file.hdus}
    for prod in products:
        ctx = by_index[prod.hdu]
        siblings = [h for h in file.hdus if h.hdu != prod.hdu]
        out = Derivation()
        for step, call in (
            ("product", lambda: product.derive_product(ctx, prod, out, config)),
            ("names", lambda: names.derive_names(ctx, prod, out, config,
                                                 catalogue_readme=file.readme)),
            ("spatial", lambda: spatial.derive_spatial(ctx, out, config, siblings)),
            ("spectral", lambda: spectral.derive_spectral(ctx, out, config, siblings)),
            ("temporal", lambda: temporal.derive_temporal(ctx, out, config, siblings)),
        ):
            try:
                call()
            except Exception as exc:  # a rule bug must not lose the row: record it
                out.issue("rule-error", f"{step} rules failed: {type(exc).__name__}: {exc}",
                          severity="error")
        validate(out)
        missing = [c for c in REQUIRED if not out.has(c)]
        if missing and out.unusable is None:
            out.unusable = f"required ObsCore columns not derivable: {', '.join(missing)}"
        rows.append(DerivedRow(prod.hdu, out))
    return rows, list(file_issues)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe values: NaN/inf become absent (NULL), numpy scalars become Python."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            continue
        out[key] = value
    return out


# -- the PL/Python entry point ------------------------------------------------------

def contexts_from_staged(catalogue: str, relpath: str, hdus_json: Sequence[dict[str, Any]],
                         file_size: int | None) -> list[HDUContext]:
    """HDUContexts from the JSON the refresh SQL aggregates from staging.hdu.

    An HDU object may carry the header defaults of the mapping files
    ("defaults", from mapping.hdu_default): those whose keyword the header
    lacks complete the keywords and the header text (assocdata.mapping.defaults,
    the same merge the wcslib pre-check of completed headers used). wcslib
    sees a completed header only if that pre-check accepted it.
    """
    contexts: list[HDUContext] = []
    primary: dict[str, Any] = {}
    for h in sorted(hdus_json, key=lambda x: x["hdu"]):
        keywords = h.get("keywords") or {}
        header = h.get("header") or ""
        wcs_status = h.get("wcs_status") or "none"
        if h.get("defaults"):
            keywords, header, wcs_status = _with_defaults(h, keywords, header, wcs_status,
                                                          primary if h["hdu"] else None)
        if h["hdu"] == 0:
            primary = keywords
        contexts.append(HDUContext(
            catalogue=catalogue, relpath=relpath, hdu=h["hdu"], keywords=keywords,
            header_text=header, xtension=h.get("xtension"),
            extname=h.get("extname"), bitpix=h.get("bitpix"), naxis=h.get("naxis") or [],
            columns=h.get("columns") or [], wcs_status=wcs_status,
            primary=primary if h["hdu"] else {}, file_size=file_size, n_hdus=len(hdus_json),
        ))
    return contexts


def _with_defaults(h: dict[str, Any], keywords: dict[str, Any], header: str, wcs_status: str,
                   primary: dict[str, Any] | None) -> tuple[dict[str, Any], str, str]:
    from ..mapping.defaults import complete

    merged, text, applied = complete(keywords, header, primary, h["defaults"], h["hdu"])
    if not applied:
        return keywords, header, wcs_status
    h["applied_defaults"] = applied
    if not h.get("defaults_checked"):
        return merged, text, "skipped"  # never checked: wcslib must not see it
    return merged, text, h.get("defaults_wcs_status") or wcs_status


def _annotate_defaults(doc: dict[str, Any], hdus_json: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Name the mapping line behind every defaulted keyword a cell was derived from."""
    by_hdu = {h["hdu"]: h for h in hdus_json}
    own = by_hdu.get(doc.get("hdu"), {})
    primary = by_hdu.get(0, {})
    applied = dict(own.get("applied_defaults") or {})
    sources = dict(own.get("default_sources") or {})
    if primary is not own and primary.get("applied_defaults"):
        applied.update({f"{k}[0]": v for k, v in primary["applied_defaults"].items()})
        sources.update({f"{k}[0]": v for k, v in (primary.get("default_sources") or {}).items()})
    if applied:
        from ..mapping.defaults import annotate

        annotate(doc.get("provenance") or {}, applied, sources)
    return doc


def derive_staged_file(catalogue: str, relpath: str, file_size: int | None, hdus_text: str,
                       readme: str | None, config_text: str | None,
                       keywords_texts: Sequence[str | None] | None = None,
                       header_texts: Sequence[str | None] | None = None) -> list[str]:
    """What ``derive.derive_file()`` returns: one JSON document per row, plus file issues.

    ``hdus_text``: the JSON array of ``derive.file_input.hdus``. The keywords
    (JSON text each) and the header texts come as two arrays in the same HDU
    order (``keywords_texts``, ``header_texts``): passing a header as a plain
    string spares JSON escaping and parsing ~8 kB per HDU. Without them, each
    HDU object must carry its own "keywords" and "header" (the older shape).

    The last element is ``{"file_issues": [...], "rules_version": ...}``.
    """
    config = _config(config_text)
    hdus_json = json.loads(hdus_text) if hdus_text else []
    if keywords_texts is not None:
        loads = json.loads
        for h, kw in zip(hdus_json, keywords_texts):
            h["keywords"] = loads(kw) if kw else {}
    if header_texts is not None:
        for h, text in zip(hdus_json, header_texts):
            h["header"] = text
    hdus = contexts_from_staged(catalogue, relpath, hdus_json, file_size)
    rows, issues = derive_file(FileInput(catalogue, relpath, file_size, readme, hdus), config)
    if any(h.get("applied_defaults") for h in hdus_json):
        out = [_encode(_annotate_defaults(r.as_json(), hdus_json)) for r in rows]
    else:
        out = [_encode(r.as_json()) for r in rows]
    out.append(_encode({
        "file_issues": [{"code": i.code, "message": i.message, "column": i.column,
                         "severity": i.severity} for i in issues],
        "rules_version": RULES_VERSION,
    }))
    return out


#: One encoder for every row (json.dumps builds a new one per call when given options).
_encode = json.JSONEncoder(allow_nan=False, check_circular=False, separators=(",", ":")).encode


@functools.lru_cache(maxsize=8)
def _config(config_text: str | None) -> RuleConfig:
    """The settings of a refresh (the same text for every file of it): parsed once per process."""
    return RuleConfig(**json.loads(config_text)) if config_text else RuleConfig()
