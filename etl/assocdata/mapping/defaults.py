"""Header defaults of mapping files: merged into what the derivation reads.

A default (``CUNIT1: 'Angstrom'``) is used when the keyword is absent from
the header, i.e. neither in the HDU nor, for an extension that inherits, in
the primary header. The merge is done here, once, for the two readers that
need it: the derivation (keywords and header text of its ``HDUContext``)
and the isolated wcslib pre-check of the completed header.

wcslib only ever sees bytes an isolated pre-check accepted (wcscheck.py):
when a default adds a card that wcslib reads, the completed header is
checked again in an isolated worker before the derivation may use it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from .. import isolation, wcscheck


def effective(keywords: Mapping[str, Any], primary: Mapping[str, Any] | None,
              defaults: Mapping[str, Any] | None, hdu: int) -> dict[str, Any]:
    """The defaults that apply: those whose keyword the header does not give.

    Same lookup as the derivation (``HDUContext.get``): the HDU's keyword, else
    the primary's when the extension inherits (INHERIT is not F). An empty
    string counts as absent.
    """
    if not defaults:
        return {}
    inherit = hdu > 0 and primary is not None and keywords.get("INHERIT") is not False
    out = {}
    for key, value in defaults.items():
        own = keywords.get(key)
        if own is not None and own != "":
            continue
        if inherit and primary is not None:
            parent = primary.get(key)
            if parent is not None and parent != "":
                continue
        out[key] = value
    return out


def format_card(key: str, value: Any) -> str:
    """One 80-character FITS card for a default value (HIERARCH for long keys)."""
    if isinstance(value, bool):
        text = "T".rjust(20) if value else "F".rjust(20)
    elif isinstance(value, (int, float)):
        text = (repr(float(value)).upper() if isinstance(value, float) else str(value)).rjust(20)
    else:
        s = str(value).replace("'", "''")
        text = "'" + s.ljust(8) + "'"
    if len(key) <= 8 and " " not in key:
        card = f"{key:<8}= {text}"
    else:
        card = f"HIERARCH {key} = {text.strip()}"
    return card[:80].ljust(80)


def augment_header(text: str, cards: Iterable[str]) -> str:
    """The staged header text with ``cards`` added before its END card."""
    cards = list(cards)
    if not cards:
        return text
    if len(text) % 80 == 0 and "\n" not in text:
        for i in range(len(text) - 80, -1, -80):
            if text[i:i + 8] == "END     ":
                return text[:i] + "".join(cards) + text[i:]
        return text + "".join(cards)
    lines = text.split("\n")
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].rstrip() == "END":
            return "\n".join(lines[:i] + [c.rstrip() for c in cards] + lines[i:])
    return text.rstrip("\n") + "\n" + "\n".join(c.rstrip() for c in cards)


def complete(keywords: Mapping[str, Any], header_text: str, primary: Mapping[str, Any] | None,
             defaults: Mapping[str, Any] | None, hdu: int) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """(keywords, header text) completed with the defaults that apply, and those defaults."""
    eff = effective(keywords, primary, defaults, hdu)
    if not eff:
        return dict(keywords), header_text, {}
    merged = dict(keywords)
    merged.update(eff)
    return merged, augment_header(header_text, (format_card(k, v) for k, v in eff.items())), eff


def wcs_visible(before: str, after: str) -> bool:
    """Whether wcslib would parse other bytes once the defaults are added."""
    for keysel in (wcscheck.IMAGE_KEYSEL, wcscheck.WCSHDR_PIXLIST):
        if wcscheck.header_bytes(before, " ", keysel) != wcscheck.header_bytes(after, " ", keysel):
            return True
    return False


def defaults_hash(defaults: Mapping[str, Any]) -> str:
    return hashlib.md5(json.dumps(defaults, sort_keys=True).encode()).hexdigest()


def annotate(provenance: dict[str, dict[str, Any]], applied: Mapping[str, Any],
             sources: Mapping[str, Any]) -> None:
    """Name the mapping rule behind every defaulted keyword a cell was derived from.

    ``applied`` and ``sources`` are keyed as the cells' sources are: ``CUNIT1``
    for the HDU's own keyword, ``CUNIT1[0]`` for one inherited from the primary.
    """
    if not applied:
        return
    for cell in provenance.values():
        used = [s for s in cell.get("from", []) if s in applied]
        if used:
            cell["defaults"] = [
                f"{k} <- {sources.get(k, {}).get('rule', 'mapping')} {sources.get(k, {}).get('note', '')}"
                .strip() for k in used]


def _check(task: tuple[int, int, str, dict[str, Any], str, str | None]) -> tuple[str, str | None]:
    """The pre-check of one completed header (runs in an isolated worker)."""
    return wcscheck.check_wcs(task[3], task[4], task[5])


_PENDING = """
SELECT d.file_id, d.hdu, d.defaults, h.keywords, h.header, h.xtension, h0.keywords,
       h.wcs_status, h.wcs_message
  FROM mapping.hdu_default d
  JOIN staging.hdu h ON h.file_id = d.file_id AND h.hdu = d.hdu
  LEFT JOIN staging.hdu h0 ON h0.file_id = d.file_id AND h0.hdu = 0
 WHERE d.file_id IN (SELECT file_id FROM {files}) AND d.wcs_checked IS NULL
"""


def check_pending(conn: Any, files: str = "todo", workers: int | None = None) -> int:
    """Run the wcslib pre-check on headers completed by defaults; returns how many were checked.

    ``files``: a table of file_id (the refresh's ``todo``). A completed
    header that wcslib would read exactly as before keeps the staged verdict.
    """
    if files not in ("todo", "mapping_files"):
        raise ValueError(files)
    rows = conn.execute(_PENDING.format(files=files)).fetchall()
    same: list[tuple[str, int, int]] = []
    tasks: list[tuple[int, int, str, dict[str, Any], str, str | None]] = []
    for file_id, hdu, defaults, keywords, header, xtension, primary, status, message in rows:
        merged, text, eff = complete(keywords, header, primary if hdu else None, defaults, hdu)
        key = defaults_hash(defaults)
        if not eff or not wcs_visible(header, text):
            same.append((key, file_id, hdu))
        else:
            tasks.append((file_id, hdu, key, merged, text, xtension))
    with conn.cursor() as cur:
        if same:
            cur.executemany("UPDATE mapping.hdu_default SET wcs_checked = %s, wcs_status = NULL, "
                            "wcs_message = NULL WHERE file_id = %s AND hdu = %s", same)
        if not tasks:
            return 0
        verdicts = []
        with isolation.IsolatedPool(workers=min(workers or 2, len(tasks)), memory_limit=2 * 1024**3,
                                    timeout=60.0, handle_sigterm=False) as pool:
            for task, outcome in pool.imap_unordered(_check, tasks):
                if isinstance(outcome, isolation.Crash):
                    verdict = ("crash", f"wcslib {outcome.kind} on the header completed by mapping "
                                        f"defaults: {outcome.detail[:500]}")
                else:
                    verdict = outcome
                verdicts.append((task[2], verdict[0], verdict[1], task[0], task[1]))
        cur.executemany("UPDATE mapping.hdu_default SET wcs_checked = %s, wcs_status = %s, "
                        "wcs_message = %s WHERE file_id = %s AND hdu = %s", verdicts)
    return len(tasks)
