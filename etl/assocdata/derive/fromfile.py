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
from .rules import contexts_from_staged


def contexts_from_file(path: str | os.PathLike[str], catalogue: str = "TEST/catalogue",
                       relpath: str | None = None) -> list[HDUContext]:
    path = Path(path)
    raws, _digest, _problems = fitsfile.read_headers(path)
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
    # The same JSON shape as derive.file_input, through the same constructor as
    # the database path: tests see exactly the contexts PL/Python sees.
    staged = [{
        "hdu": raw.index, "xtension": record.xtension, "extname": record.extname,
        "bitpix": record.bitpix, "naxis": list(record.naxis), "keywords": record.keywords,
        "header": raw.text, "columns": [c.as_json() for c in record.columns] or None,
        "wcs_status": wcscheck.check_wcs(record.keywords, raw.text, record.xtension)[0],
    } for raw, record in zip(raws, records)]
    return contexts_from_staged(catalogue, relpath or path.name, staged, path.stat().st_size)
