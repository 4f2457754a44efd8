"""Build rule contexts straight from a file, as staging would: for tests and tools.

The database path builds the same :class:`HDUContext` from ``staging.hdu``
rows; this one reads the file with the same staging code (``fitsfile``,
``cards``, ``columns``, ``wcscheck``), in process. Use it only on trusted
files (it runs wcslib in this process).
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import cards, columns, fitsfile, wcscheck
from .context import HDUContext


def contexts_from_file(path: str | os.PathLike[str], catalogue: str = "TEST/catalogue",
                       relpath: str | None = None) -> list[HDUContext]:
    path = Path(path)
    raws, _digest, _problems = fitsfile.read_headers(path)
    out: list[HDUContext] = []
    primary: dict = {}
    with columns.open_data(path) as source:
        records = []
        for raw in raws:
            parsed = cards.parse_header(raw.text, raw.index, raw.card_sep)
            record = cards.to_hdu_record(raw, parsed)
            if any(c.role for c in record.columns):
                columns.read_column_ranges(path, raw.index, record.columns,
                                           keywords=record.keywords, data_offset=raw.data_offset,
                                           data_size=raw.data_size, source=source)
            records.append(record)
    for raw, record in zip(raws, records):
        status, _msg = wcscheck.check_wcs(record.keywords, raw.text, record.xtension)
        if raw.index == 0:
            primary = record.keywords
        out.append(HDUContext(
            catalogue=catalogue, relpath=relpath or path.name, hdu=raw.index,
            keywords=record.keywords, header_text=raw.text, xtension=record.xtension,
            extname=record.extname, bitpix=record.bitpix, naxis=list(record.naxis),
            columns=[c.as_json() for c in record.columns], wcs_status=status,
            primary=primary if raw.index else {}, file_size=path.stat().st_size,
            n_hdus=len(raws),
        ))
    return out
