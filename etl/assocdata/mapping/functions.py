"""The functions a mapping may call: the built-ins and the user-defined ones.

A function is a name in a registry, never text spliced into SQL: built-ins
have a fixed SQL template; user-defined functions are the functions of the
``mapping_udf`` schema, looked up in ``pg_proc`` and called by their quoted,
schema-qualified name (docs/mapping.md, "User-defined functions").

Unit and date conversions are computed by the derivation's own Python code
(:mod:`assocdata.derive.spectral`, :mod:`assocdata.derive.temporal`): one
implementation of each rule. A constant argument is converted at compile
time; a per-row one calls the PL/Python functions of sql/041, which call the
same Python.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

# Types of the language.
TEXT, DOUBLE, INTEGER, LIST, ANY, TIMESTAMP, NULL = (
    "text", "double", "integer", "list", "any", "timestamp", "null")
NUMERIC = (DOUBLE, INTEGER)

#: SQL type of each language type (for NULL literals and casts).
PG_TYPE = {TEXT: "text", DOUBLE: "float8", INTEGER: "bigint", LIST: "text[]", ANY: "jsonb",
           TIMESTAMP: "timestamp", NULL: "text"}


@dataclass(frozen=True, slots=True)
class Function:
    """A callable name: its arity, argument types, result type and SQL builder.

    ``literal`` lists the argument positions that must be constants (they
    are checked or converted at compile time: a regex pattern, a unit).
    """

    name: str
    min_args: int
    max_args: int | None
    arg_types: tuple[str, ...]  # the last one repeats for variadic functions
    result: str
    build: Callable[[list[str], list[object]], str]
    doc: str
    literal: tuple[int, ...] = ()
    user: bool = False

    def arg_type(self, i: int) -> str:
        return self.arg_types[min(i, len(self.arg_types) - 1)]

    def arity_text(self) -> str:
        if self.max_args is None:
            return f"at least {self.min_args}"
        if self.min_args == self.max_args:
            return str(self.min_args)
        return f"{self.min_args} to {self.max_args}"


def _f(name: str, lo: int, hi: int | None, args: tuple[str, ...], result: str, doc: str,
       build: Callable[[list[str], list[object]], str], literal: tuple[int, ...] = ()) -> Function:
    return Function(name, lo, hi, args, result, build, doc, literal)


def _split(a: list[str], c: list[object]) -> str:
    if len(a) == 1:
        return rf"regexp_split_to_array(btrim({a[0]}), '\s+')"
    return f"string_to_array({a[0]}, {a[1]})"


def _round(a: list[str], c: list[object]) -> str:
    if len(a) == 1:
        return f"mapping.to_bigint(round({a[0]}))"
    return f"mapping.round_to({a[0]}, {a[1]})"


BUILTINS: dict[str, Function] = {f.name: f for f in (
    _f("split", 1, 2, (TEXT, TEXT), LIST, "split(s[, sep]): the pieces of s (blanks when no sep); index with [n], 1-based",
       _split),
    _f("concat", 1, None, (TEXT,), TEXT, "concat(a, b, ...): the texts joined (a missing value counts as '')",
       lambda a, c: "concat(" + ", ".join(a) + ")"),
    _f("upper", 1, 1, (TEXT,), TEXT, "upper(s)", lambda a, c: f"upper({a[0]})"),
    _f("lower", 1, 1, (TEXT,), TEXT, "lower(s)", lambda a, c: f"lower({a[0]})"),
    _f("strip", 1, 2, (TEXT, TEXT), TEXT, "strip(s[, chars]): without leading/trailing blanks (or chars)",
       lambda a, c: f"btrim({', '.join(a)})"),
    _f("replace", 3, 3, (TEXT, TEXT, TEXT), TEXT, "replace(s, old, new): every occurrence",
       lambda a, c: f"replace({a[0]}, {a[1]}, {a[2]})"),
    _f("regex", 2, 3, (TEXT, TEXT, INTEGER), TEXT,
       "regex(s, pattern[, group]): the group'th group of the first match (0, the default: the whole "
       "match); PostgreSQL regular expressions",
       lambda a, c: f"(regexp_match({a[0]}, {a[1]}))[{int(c[2]) + 1 if len(c) > 2 else 1}]",
       literal=(1, 2)),
    _f("coalesce", 1, None, (ANY,), ANY, "coalesce(a, b, ...): the first that has a value (as a | b | ...)",
       lambda a, c: "coalesce(" + ", ".join(a) + ")"),
    _f("float", 1, 1, (DOUBLE,), DOUBLE, "float(x): a number from a text or a keyword (missing if not one)",
       lambda a, c: a[0]),
    _f("int", 1, 1, (DOUBLE,), INTEGER, "int(x): x truncated to an integer",
       lambda a, c: f"mapping.to_bigint(trunc({a[0]}))"),
    _f("round", 1, 2, (DOUBLE, INTEGER), DOUBLE, "round(x[, digits]): to an integer, or to digits decimals",
       _round, literal=(1,)),
    _f("to_m", 2, 2, (DOUBLE, TEXT), DOUBLE,
       "to_m(x, unit): a wavelength, frequency, energy or wavenumber in unit -> vacuum wavelength in m",
       lambda a, c: _to_m_sql(a[0], str(c[1])), literal=(1,)),
    _f("to_mjd", 1, 1, (TEXT,), DOUBLE, "to_mjd(date): an ISO 8601 (or old FITS) date -> MJD",
       lambda a, c: f"mapping.to_mjd({a[0]})"),
)}


def spectral_unit(unit: str) -> tuple[str, float] | None:
    """(kind, factor to SI) of a spectral unit, by the derivation's own unit table."""
    from ..derive.spectral import _unit

    found = _unit(unit)
    if found is None or found[0] not in ("length", "frequency", "energy", "wavenumber"):
        return None
    return found


def to_m(value: float, unit: str) -> float | None:
    """A spectral coordinate in ``unit`` -> vacuum wavelength (m), as the derivation converts."""
    from ..derive.spectral import _to_metres

    found = spectral_unit(unit)
    if found is None or value is None:
        return None
    out = _to_metres(found[0], float(value) * found[1])
    return out if math.isfinite(out) else None


def _to_m_sql(x: str, unit: str) -> str:
    """SQL for to_m with the unit's factor computed here (one conversion table: the derivation's)."""
    kind, factor = spectral_unit(unit) or ("length", math.nan)
    # factor and the conversion constant are repr()'d Python floats: numbers, never text
    if kind == "length":
        return f"(({x}) * {factor!r}::float8)"
    const = {"frequency": _c(), "energy": _hc(), "wavenumber": 1.0}[kind]
    return f"({const!r}::float8 / nullif(({x}) * {factor!r}::float8, 0))"


def _c() -> float:
    from ..derive.spectral import C

    return float(C)


def _hc() -> float:
    from ..derive.spectral import HC

    return float(HC)


def to_mjd(text: str | None) -> float | None:
    """MJD (UTC as written) of a date string, by the derivation's own date parser."""
    from ..derive.temporal import parse_date

    if text is None:
        return None
    parsed = parse_date(text.strip())
    if parsed is None:
        return None
    day, frac, _ = parsed
    return day + (frac or 0.0)


#: PostgreSQL argument/result types a user-defined function may use, by language type.
_PG_TO_TYPE = {"text": TEXT, "character varying": TEXT, "double precision": DOUBLE,
               "real": DOUBLE, "numeric": DOUBLE, "bigint": INTEGER, "integer": INTEGER,
               "smallint": INTEGER, "text[]": LIST, "jsonb": ANY,
               "timestamp without time zone": TIMESTAMP}
UDF_SCHEMA = "mapping_udf"


def user_functions(conn) -> dict[str, Function]:
    """The functions of schema ``mapping_udf`` a mapping may call (one signature per name)."""
    rows = conn.execute(
        """SELECT p.proname, p.pronargs, p.pronargdefaults,
                  ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) t),
                  format_type(p.prorettype, NULL), p.proretset, coalesce(obj_description(p.oid), '')
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = %s AND p.prokind = 'f'
            ORDER BY p.proname, p.pronargs""", [UDF_SCHEMA]).fetchall()
    out: dict[str, Function] = {}
    for name, nargs, ndefaults, argtypes, rettype, retset, comment in rows:
        types = tuple(_PG_TO_TYPE.get(t) for t in argtypes)
        result = _PG_TO_TYPE.get(rettype)
        if retset or result is None or None in types or name in out or name in BUILTINS:
            continue
        qualified = f'{UDF_SCHEMA}."{name}"'  # name comes from pg_proc, quoted
        casts = [PG_TYPE[t] for t in types]

        def build(a: list[str], c: list[object], q: str = qualified, casts: list[str] = casts) -> str:
            return f"{q}(" + ", ".join(f"({x})::{casts[i]}" for i, x in enumerate(a)) + ")"

        out[name] = Function(name, nargs - ndefaults, nargs, types or (TEXT,), result, build,
                             comment or f"user-defined: {UDF_SCHEMA}.{name}", user=True)
    return out


def to_timestamp(text: str | None) -> str | None:
    """An ISO timestamp text for PostgreSQL from a date string (None if not a date)."""
    import datetime as dt

    mjd = to_mjd(text)
    if mjd is None:
        return None
    return (dt.datetime(1858, 11, 17) + dt.timedelta(days=mjd)).isoformat(sep=" ")
