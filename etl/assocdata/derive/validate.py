"""Check derived cells against the one description of the table (obscore.yaml).

The table's CHECK constraints come from the same description; checking here
first means one bad value costs its cell (NULL plus an issue), never the
whole refresh transaction of a catalogue.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

from ..obscore import schema
from .context import Derivation

_NUMERIC = {"double precision", "real", "integer", "bigint", "smallint"}
_INTEGER = {"integer", "bigint", "smallint"}


@lru_cache(maxsize=1)
def _columns() -> dict[str, schema.Column]:
    return {c.name: c for c in schema.load().columns}


@lru_cache(maxsize=64)
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


def _problem(col: schema.Column, value: Any) -> str | None:
    if col.pg_type in _NUMERIC:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"not a number: {value!r}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"not finite: {value!r}"
        if col.pg_type in _INTEGER and isinstance(value, float):
            if not value.is_integer():
                return f"not an integer: {value!r}"
        r = col.range
        if r is not None:
            if r.lo is not None and (value < r.lo or (value == r.lo and not r.lo_closed)):
                return f"{value!r} outside {r}"
            if r.hi is not None and (value > r.hi or (value == r.hi and not r.hi_closed)):
                return f"{value!r} outside {r}"
        return None
    if not isinstance(value, str):
        return None if col.pg_type in ("timestamp", "spoly") else f"not text: {value!r}"
    if col.values and value not in col.values:
        return f"{value!r} not one of {', '.join(col.values)}"
    if col.pattern and not _pattern(col.pattern).search(value):
        return f"{value!r} does not match {col.pattern}"
    if col.size and len(value) > col.size:
        return f"longer than {col.size} characters"
    return None


def validate(out: Derivation) -> None:
    """Drop cells that the table would refuse, each with an 'invalid-value' issue."""
    columns = _columns()
    for name in list(out.cells):
        col = columns.get(name)
        if col is None:
            out.issue("unknown-column", f"rules produced a value for unknown column {name!r}",
                      name, "error")
            del out.cells[name]
            continue
        problem = _problem(col, out.cells[name].value)
        if problem:
            cell = out.cells.pop(name)
            out.issue("invalid-value", f"{name} {problem} (from {', '.join(cell.sources)} "
                      f"via {cell.rule}): not published", name, "error")
    for lo, hi in (("em_min", "em_max"), ("t_min", "t_max")):
        a, b = out.value(lo), out.value(hi)
        if a is not None and b is not None and a > b:
            out.cells.pop(lo)
            out.cells.pop(hi)
            out.issue("inverted-range", f"{lo} {a!r} > {hi} {b!r}: neither published", lo, "error")
