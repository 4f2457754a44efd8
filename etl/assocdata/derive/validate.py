"""Check derived cells against the one description of the table (obscore.yaml).

The table's CHECK constraints come from the same description; checking here
first means one bad value costs its cell (NULL plus an issue), never the
whole refresh transaction of a catalogue.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from collections.abc import Callable
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


@lru_cache(maxsize=1)
def _checks() -> dict[str, Callable[[Any], str | None]]:
    """Column -> its check, built once per process (validate runs for every row)."""
    return {name: _check_for(col) for name, col in _columns().items()}


def _check_for(col: schema.Column) -> Callable[[Any], str | None]:
    """The check of one column: plain numbers in range and in-vocabulary text pass fast."""
    if col.pg_type in _NUMERIC:
        r = col.range
        integer = col.pg_type in _INTEGER
        lo = r.lo if r is not None and r.lo is not None and r.lo_closed else None
        hi = r.hi if r is not None and r.hi is not None and r.hi_closed else None
        exclusive = r is not None and ((r.lo is not None and not r.lo_closed)
                                       or (r.hi is not None and not r.hi_closed))

        def check(value: Any) -> str | None:
            t = type(value)
            if (t is float and not integer and not exclusive and math.isfinite(value)
                    and (lo is None or value >= lo) and (hi is None or value <= hi)):
                return None
            if (t is int and not exclusive and (lo is None or value >= lo)
                    and (hi is None or value <= hi)):
                return None
            return _problem(col, value)
        return check
    if not (col.values or col.pattern or col.size):
        return lambda value: None if type(value) is str else _problem(col, value)
    return lambda value: _problem(col, value)


def validate(out: Derivation) -> None:
    """Drop cells that the table would refuse, each with an 'invalid-value' issue."""
    checks = _checks()
    for name in list(out.cells):
        check = checks.get(name)
        if check is None:
            out.issue("unknown-column", f"rules produced a value for unknown column {name!r}",
                      name, "error")
            del out.cells[name]
            continue
        problem = check(out.cells[name].value)
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
