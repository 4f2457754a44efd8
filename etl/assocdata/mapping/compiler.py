"""Type-check a parsed mapping and compile it to parameterised SQL.

A mapping file is untrusted text. Nothing from it is ever spliced into SQL:
literals, keywords, globs and environment values become named parameters
(``%(p3)s``); ObsCore columns are checked against the one description of the
table (obscore.yaml) before being quoted; functions come from a registry
(:mod:`.functions`). Only the built-in templates and checked identifiers make
up the SQL text.

What the SQL does (docs/mapping.md has the semantics):

- header defaults (``KEYWORD: expr``) become one ``INSERT INTO
  mapping.hdu_default ... SELECT`` per section, evaluated per HDU over the
  staged headers; the refresh merges them into the keywords the derivation
  rules see;
- field rules (``column: expr``, ``column := expr``) become one ``UPDATE``
  per section, set-based, that applies the rules in file order (each rule
  sees the values the previous ones left) and records the per-cell
  provenance of every value a rule set.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..obscore import schema
from .diagnostics import Reporter, did_you_mean
from .functions import (ANY, BUILTINS, DOUBLE, INTEGER, LIST, NULL, NUMERIC, PG_TYPE, TEXT,
                        TIMESTAMP, Function, spectral_unit, to_mjd)
from .nodes import (BinOp, Call, ColumnRef, Expr, Fallback, Index, Keyword, Literal, MappingFile,
                    Negate, Rule, Scope, Variable)

#: Language type of each ObsCore datatype.
COLUMN_TYPES = {"VARCHAR": TEXT, "CLOB": TEXT, "DOUBLE": DOUBLE, "INTEGER": INTEGER,
                "BIGINT": INTEGER, "TIMESTAMP": TIMESTAMP}
#: Columns a mapping may not set, and why.
PROTECTED = {
    "obs_publisher_did": "it identifies the row (derived from the catalogue, file and HDU)",
    "source_catalogue": "it names the catalogue the row belongs to",
    "hpx": "it is computed from s_ra and s_dec (set those)",
    "s_region": "it is the footprint derived from the WCS (set s_ra, s_dec, s_fov instead)",
}

VARIABLE_SQL = {
    "FILENAME": ("regexp_replace(f.relpath, '^.*/', '')", TEXT),
    "STEM": (r"regexp_replace(regexp_replace(f.relpath, '^.*/', ''), "
             r"'\.(fits?|fts|hdr)(\.(gz|bz2|fz|z))?$', '', 'i')", TEXT),
    "PATH": ("f.relpath", TEXT),
    "CATALOGUE": ("f.catalogue", TEXT),
    "HDU": ("h.hdu::bigint", INTEGER),
    "EXTNAME": ("h.extname", TEXT),
}


def glob_regex(glob: str) -> str:
    """A shell glob as an anchored PostgreSQL regular expression.

    ``*`` and ``?`` stay within one path segment, ``**`` crosses segments,
    ``[abc]``/``[!abc]`` are classes; every other character is literal.
    """
    out = ["^"]
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if c == "*":
            if glob.startswith("**", i):
                out.append(".*")
                i += 2
                if i < n and glob[i] == "/":
                    i += 1
                    out[-1] = "(.*/)?"
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and glob.find("]", i + (3 if glob[i + 1:i + 2] in ("!", "^") else 2)) > 0:
            start = i + (2 if glob[i + 1:i + 2] in ("!", "^") else 1)
            j = glob.find("]", start + 1)
            body = glob[start:j].replace("\\", "\\\\").replace("[", "\\[")
            out.append("[" + ("^" if start == i + 2 else "") + body + "]")
            i = j + 1
            continue
        elif c.isalnum() or c in "/_- ":
            out.append(c)
        else:
            out.append("\\" + c)
        i += 1
    out.append("$")
    return "".join(out)


@dataclass
class Value:
    """A compiled expression: SQL text, its language type, the inputs it reads."""

    sql: str
    type: str
    sources: tuple[str, ...] = ()
    constant: Any = None
    is_constant: bool = False


@dataclass
class Statement:
    """One SQL statement of a compiled mapping, with its parameters and what it does."""

    kind: str  # 'defaults' | 'fields'
    scope: Scope
    sql: str
    params: dict[str, Any]
    columns: tuple[str, ...] = ()  # ObsCore columns (fields) or keywords (defaults) it sets
    lines: tuple[int, ...] = ()
    #: field rules: ``sql`` computes the new values into mapping_computed, ``update``
    #: writes the rows that change, ``cells`` records which rule set which cell
    update: str = ""
    cells: str = ""

    def text(self, target: str = "ivoa.obscore", restrict: str = "true", provenance: bool = True) -> str:
        """The SQL as it runs (parameters as placeholders), statements separated by ';'."""
        parts = [self.sql, "ANALYZE mapping_computed", self.update] if self.update else [self.sql]
        if self.cells and provenance:
            parts.append(self.cells)
        if self.update:
            parts.append("DROP TABLE mapping_computed")
        return ";\n".join(p.replace("{target}", target).replace("{restrict}", restrict) for p in parts)


@dataclass
class CompiledMapping:
    mapping: MappingFile
    default_statements: list[Statement] = field(default_factory=list)
    field_statements: list[Statement] = field(default_factory=list)
    #: regex patterns to validate against the database before use
    patterns: list[tuple[int, int, str]] = field(default_factory=list)
    #: environment variables read at compile time (name -> value used)
    env: dict[str, str] = field(default_factory=dict)
    #: field rules: (line, column, provenance document) -> mapping.rule
    rules: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)

    def rule_key(self, line: int) -> str:
        """How mapping.cell names a rule of this mapping: 'name:line'."""
        return f"{self.mapping.name}:{line}"

    @property
    def statements(self) -> list[Statement]:
        return self.default_statements + self.field_statements


class _Params:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any, cast: str | None = None) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"%({name})s" + (f"::{cast}" if cast else "")


class Compiler:
    """Compiles one parsed mapping file; errors go to the reporter (all of them)."""

    def __init__(self, mf: MappingFile, rep: Reporter, functions: Mapping[str, Function],
                 env: Mapping[str, str] | None = None,
                 desc: schema.TableDescription | None = None) -> None:
        self.mf = mf
        self.rep = rep
        self.functions = functions
        self.env = os.environ if env is None else env
        self.desc = desc or schema.load()
        self.columns = {c.name: c for c in self.desc.columns}
        self.out = CompiledMapping(mf)
        #: per statement: keywords read, and which joins the expressions need
        self.keywords: list[str] = []
        self.needs: set[str] = set()

    # -- expressions ---------------------------------------------------------

    def error(self, node: Any, message: str) -> Value:
        self.rep.error(node.pos.line, node.pos.column, message)
        return Value("NULL", NULL)

    def expr(self, node: Expr, p: _Params, mode: str, cur: dict[str, tuple[str, str]]) -> Value:
        """Compile ``node``; mode 'default' (header default) or 'field'; cur: column -> (sql, type)."""
        if isinstance(node, Literal):
            v = node.value
            if v is None:
                return Value("NULL", NULL, is_constant=True)
            if isinstance(v, str):
                return Value(p.add(v, "text"), TEXT, constant=v, is_constant=True)
            if isinstance(v, int):
                if abs(v) > 2**63 - 1:
                    return self.error(node, "integer out of range (64 bits)")
                return Value(p.add(v, "bigint"), INTEGER, constant=v, is_constant=True)
            return Value(p.add(float(v), "float8"), DOUBLE, constant=float(v), is_constant=True)
        if isinstance(node, Keyword):
            k = self.keyword_column(node)
            self.needs.update(("staging", "keywords"))
            inherit = 'h.hdu > 0 AND hk."INHERIT" IS DISTINCT FROM \'false\''
            if mode == "default":
                sql = f"coalesce(nullif(hk.{k}, '\"\"'), CASE WHEN {inherit} THEN nullif(h0k.{k}, '\"\"') END)"
            else:
                sql = (f"coalesce(nullif(hk.{k}, '\"\"'), dk.{k}, CASE WHEN {inherit} "
                       f"THEN coalesce(nullif(h0k.{k}, '\"\"'), d0k.{k}) END)")
            return Value(sql, ANY, (node.name,))
        if isinstance(node, Variable):
            self.needs.add("staging")
            sql, typ = VARIABLE_SQL[node.name]
            if node.name == "CATALOGUE" and mode == "field":
                sql = "coalesce(f.catalogue, o.source_catalogue)"
            return Value(sql, typ, ("$" + node.name,))
        if isinstance(node, ColumnRef):
            if mode == "default":
                return self.error(node, f"ObsCore column '{node.name}' cannot be used in a header "
                                        "default: defaults are applied before the derivation")
            col = self.columns.get(node.name)
            if col is None:
                if node.name in self.functions or node.name in BUILTINS:
                    return self.error(node, f"'{node.name}' is a function: call it, {node.name}(...)")
                return self.error(node, f"unknown ObsCore column '{node.name}'"
                                        + did_you_mean(node.name, self.columns))
            typ = COLUMN_TYPES.get(col.datatype)
            if typ is None:
                return self.error(node, f"column '{node.name}' ({col.datatype}) cannot be read by a mapping")
            sql, typ = cur.get(node.name, (f'o."{node.name}"', typ))
            return Value(sql, typ, (node.name,))
        if isinstance(node, Index):
            target = self.expr(node.target, p, mode, cur)
            if target.type == NULL:
                return target
            if target.type != LIST:
                return self.error(node, f"only a list (the result of split) can be indexed, not {_a(target.type)}")
            i = node.index
            sql = (f"({target.sql})[{i}]" if i > 0 else
                   f"mapping.item_from_end({target.sql}, {-i})")
            return Value(sql, TEXT, target.sources)
        if isinstance(node, Negate):
            v = self.expr(node.operand, p, mode, cur)
            v = self.numeric(v, node)
            return Value(f"(-({v.sql}))", v.type, v.sources)
        if isinstance(node, BinOp):
            left = self.numeric(self.expr(node.left, p, mode, cur), node.left, node.op)
            right = self.numeric(self.expr(node.right, p, mode, cur), node.right, node.op)
            sources = left.sources + right.sources
            if NULL in (left.type, right.type):
                return Value("NULL", NULL, sources)
            if node.op == "/":
                return Value(f"(({left.sql})::float8 / nullif(({right.sql})::float8, 0))", DOUBLE, sources)
            typ = INTEGER if left.type == right.type == INTEGER else DOUBLE
            return Value(f"(({left.sql}) {node.op} ({right.sql}))", typ, sources)
        if isinstance(node, Fallback):
            return self.coalesce([self.expr(o, p, mode, cur) for o in node.options], node)
        if isinstance(node, Call):
            return self.call(node, p, mode, cur)
        raise AssertionError(node)

    def keyword_column(self, node: Keyword) -> str:
        """The quoted column of a keyword in the per-HDU keyword records (jsonb_to_record).

        One record per header extracts every keyword a statement reads in one
        pass over the (compressed) keywords: ``h.keywords -> 'K'`` would
        decompress the whole header once per reference. The name is a FITS
        keyword by the grammar ([A-Z0-9_-], blanks between HIERARCH words),
        checked again here before it is quoted.
        """
        name = node.name
        if not re.fullmatch(r"[A-Z0-9_-]+(?: [A-Z0-9_-]+)*", name) or len(name.encode()) > 63:
            self.error(node, f"keyword {name!r} is too long for a mapping (63 characters at most)")
            name = "INHERIT"
        if name not in self.keywords:
            self.keywords.append(name)
        return f'"{name}"'

    def keyword_records(self, mode: str) -> str:
        """LATERAL jsonb_to_record() joins giving each keyword a statement reads as a column."""
        if not self.keywords:
            return ""
        names = list(dict.fromkeys([*self.keywords, "INHERIT"]))
        cols = ", ".join(f'"{k}" jsonb' for k in names)
        sources = [("h.keywords", "hk"), ("h0.keywords", "h0k")]
        if mode == "field":
            sources += [("d.defaults", "dk"), ("d0.defaults", "d0k")]
        return "\n".join(f"  LEFT JOIN LATERAL jsonb_to_record({src}) AS {alias}({cols}) ON true"
                         for src, alias in sources)

    def numeric(self, v: Value, node: Any, op: str | None = None) -> Value:
        if v.type in NUMERIC or v.type == NULL:
            return v
        if v.type == ANY:
            return Value(f"mapping.kw_double({v.sql})", DOUBLE, v.sources)
        what = f"'{op}'" if op else "'-'"
        hint = " (join texts with concat())" if v.type == TEXT and op == "+" else \
            " (convert it with float())" if v.type == TEXT else ""
        self.error(node, f"{what} needs numbers, not {_a(v.type)}{hint}")
        return Value("NULL", NULL, v.sources)

    def coalesce(self, values: list[Value], node: Any) -> Value:
        types = {v.type for v in values} - {NULL, ANY}
        sources = tuple(s for v in values for s in v.sources)
        if not types:
            typ = ANY if any(v.type == ANY for v in values) else NULL
        elif types <= set(NUMERIC):
            typ = INTEGER if types == {INTEGER} else DOUBLE
        elif len(types) == 1:
            typ = types.pop()
        elif types <= {TEXT, DOUBLE, INTEGER}:
            typ = TEXT
        else:
            return self.error(node, "the alternatives of '|' (or coalesce) have incompatible types: "
                                    + ", ".join(sorted(types)))
        parts = [self.coerce(v, typ, node) for v in values]
        return Value("coalesce(" + ", ".join(parts) + ")", typ, sources)

    def coerce(self, v: Value, to: str, node: Any, what: str | None = None) -> str:
        """SQL of ``v`` as type ``to`` (implicit conversions only; errors otherwise)."""
        if v.type == to:
            return v.sql
        if v.type == NULL:
            return f"NULL::{PG_TYPE[to]}"
        if to == ANY:
            return f"to_jsonb({v.sql})" if v.type != LIST else f"to_jsonb({v.sql})"
        if v.type == ANY:
            return {TEXT: f"mapping.kw_text({v.sql})", DOUBLE: f"mapping.kw_double({v.sql})",
                    INTEGER: f"mapping.kw_bigint({v.sql})",
                    TIMESTAMP: f"mapping.to_timestamp(mapping.kw_text({v.sql}))",
                    }.get(to) or self._type_error(v, to, node, what)
        if to == TEXT and v.type in (DOUBLE, INTEGER):
            return f"({v.sql})::text"
        if to == TEXT and v.type == TIMESTAMP:
            return f"to_char({v.sql}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
        if to == DOUBLE and v.type == INTEGER:
            return f"({v.sql})::float8"
        if to == TIMESTAMP and v.type == TEXT:
            return f"mapping.to_timestamp({v.sql})"
        return self._type_error(v, to, node, what)

    def _type_error(self, v: Value, to: str, node: Any, what: str | None) -> str:
        hints = {(TEXT, DOUBLE): " (convert it with float())", (TEXT, INTEGER): " (convert it with int())",
                 (DOUBLE, INTEGER): " (convert it with int() or round())",
                 (LIST, TEXT): " (pick an item: split(...)[1])"}
        target = what or f"{_a(to)} value"
        self.error(node, f"{_a(v.type)} cannot go into {target}{hints.get((v.type, to), '')}")
        return f"NULL::{PG_TYPE[to]}"

    def call(self, node: Call, p: _Params, mode: str, cur: dict[str, tuple[str, str]]) -> Value:
        if node.name == "$env":
            name, default = (a.value for a in node.args)  # type: ignore[union-attr]
            value = self.env.get(str(name))
            if value is None:
                if default is None:
                    return self.error(node, f"environment variable '{name}' is not set "
                                            f"(set it, or give a default: ${{{name}:-value}})")
                value = default
            else:
                self.out.env[str(name)] = value
            return Value(p.add(value, "text"), TEXT, ("${" + str(name) + "}",), value, True)
        fn = self.functions.get(node.name)
        if fn is None:
            known = sorted(self.functions)
            return self.error(node, f"unknown function '{node.name}'" + did_you_mean(node.name, known)
                              + "; user-defined functions live in schema mapping_udf (docs/mapping.md)")
        n = len(node.args)
        if n < fn.min_args or (fn.max_args is not None and n > fn.max_args):
            return self.error(node, f"{fn.name}() takes {fn.arity_text()} argument"
                                    f"{'s' if fn.max_args != 1 else ''}, not {n}")
        args = [self.expr(a, p, mode, cur) for a in node.args]
        sources = tuple(s for a in args for s in a.sources)
        constants: list[Any] = []
        for i, (a, arg_node) in enumerate(zip(args, node.args)):
            constants.append(a.constant if a.is_constant else None)
            if i in fn.literal and not a.is_constant:
                return self.error(arg_node, f"argument {i + 1} of {fn.name}() must be a constant")
        if fn.name == "coalesce":
            return self.coalesce(args, node)
        if fn.name == "to_m":
            unit = constants[1]
            if not isinstance(unit, str) or spectral_unit(unit) is None:
                return self.error(node.args[1], f"unknown spectral unit {unit!r} (a length, frequency, "
                                                "energy or wavenumber unit: 'Angstrom', 'nm', 'GHz', 'keV')")
        if fn.name == "to_mjd" and args[0].is_constant:
            if not isinstance(constants[0], str) or to_mjd(constants[0]) is None:
                return self.error(node.args[0], f"not a date: {constants[0]!r} (ISO 8601: 2011-08-11T23:23:52)")
            mjd = to_mjd(constants[0])
            return Value(p.add(mjd, "float8"), DOUBLE, sources, mjd, True)
        if fn.name == "regex":
            pattern = constants[1]
            if not isinstance(pattern, str):
                return self.error(node.args[1], "the pattern of regex() is a string")
            group = constants[2] if n > 2 else 0
            if not isinstance(group, int) or group < 0:
                return self.error(node.args[2], "the group of regex() is an integer >= 0")
            # group 0 is the whole match: the pattern is wrapped in one more group
            args[1] = Value(p.add("(" + pattern + ")", "text"), TEXT)
            self.out.patterns.append((node.args[1].pos.line, node.args[1].pos.column, pattern))
        if fn.name == "round" and n > 1 and not isinstance(constants[1], int):
            return self.error(node.args[1], "the digits of round() are an integer")
        sqls = []
        for i, (a, arg_node) in enumerate(zip(args, node.args)):
            want = fn.arg_type(i)
            if fn.name in ("float", "int", "round") and i == 0:
                sqls.append(self._to_number(a, arg_node, fn.name))
            elif want == ANY:
                sqls.append(a.sql)
            else:
                sqls.append(self.coerce(a, want, arg_node, f"argument {i + 1} of {fn.name}()"
                                        f" ({_a(want)})"))
        result = Value(fn.build(sqls, constants), fn.result, sources)
        if fn.name == "round" and n == 1:
            result.type = INTEGER
        return result

    def _to_number(self, a: Value, node: Any, name: str) -> str:
        if a.type == TEXT:
            return f"mapping.to_double({a.sql})"
        if a.type == ANY:
            return f"mapping.kw_double({a.sql})"
        if a.type == INTEGER:
            return f"({a.sql})::float8"
        if a.type in (DOUBLE, NULL):
            return a.sql if a.type == DOUBLE else "NULL::float8"
        self.error(node, f"{name}() needs a number, a text or a keyword, not {_a(a.type)}")
        return "NULL::float8"

    # -- rules -----------------------------------------------------------------

    def target_column(self, rule: Rule) -> str | None:
        col = self.columns.get(rule.target)
        if col is None:
            self.rep.error(rule.pos.line, rule.pos.column, f"unknown ObsCore column '{rule.target}'"
                           + did_you_mean(rule.target, self.columns))
            return None
        if rule.target in PROTECTED:
            self.rep.error(rule.pos.line, rule.pos.column,
                           f"column '{rule.target}' cannot be set by a mapping: {PROTECTED[rule.target]}")
            return None
        if col.datatype not in COLUMN_TYPES:
            self.rep.error(rule.pos.line, rule.pos.column,
                           f"column '{rule.target}' ({col.datatype}) cannot be set by a mapping")
            return None
        return rule.target

    def provenance(self, rule: Rule, sources: tuple[str, ...]) -> str:
        doc = {"from": sorted(set(sources)), "rule": f"mapping {self.mf.name}:{rule.pos.line}",
               "note": rule.text}
        return json.dumps(doc, ensure_ascii=False)

    def compile(self) -> CompiledMapping:
        groups: list[tuple[Scope, list[Rule]]] = []
        for rule in self.mf.rules:
            if groups and groups[-1][0] == rule.scope:
                groups[-1][1].append(rule)
            else:
                groups.append((rule.scope, [rule]))
        for scope, rules in groups:
            defaults = [r for r in rules if r.kind == "default"]
            fields = [r for r in rules if r.kind != "default"]
            if defaults:
                st = self.defaults_statement(scope, defaults)
                if st:
                    self.out.default_statements.append(st)
            if fields:
                st = self.fields_statement(scope, fields)
                if st:
                    self.out.field_statements.append(st)
        return self.out

    def scope_sql(self, scope: Scope, p: _Params, mode: str) -> str:
        parts = []
        if scope.files or scope.catalogues or scope.hdus:
            self.needs.add("staging")
        basename = "regexp_replace(f.relpath, '^.*/', '')"
        if scope.files:
            parts.append("(" + " OR ".join(
                f"{'f.relpath' if '/' in g else basename} ~ {p.add(glob_regex(g), 'text')}"
                for g in scope.files) + ")")
        if scope.catalogues:
            cat = "f.catalogue" if mode == "default" else "coalesce(f.catalogue, o.source_catalogue)"
            parts.append("(" + " OR ".join(f"{cat} ~ {p.add(glob_regex(g), 'text')}"
                                           for g in scope.catalogues) + ")")
        if scope.hdus:
            hdu = "h.hdu"
            alts = [f"{hdu} = {p.add(h, 'int')}" if isinstance(h, int)
                    else f"upper(h.extname) = upper({p.add(h, 'text')})" for h in scope.hdus]
            parts.append("(" + " OR ".join(alts) + ")")
        return " AND ".join(parts) or "true"

    def defaults_statement(self, scope: Scope, rules: list[Rule]) -> Statement | None:
        p = _Params()
        self.keywords, self.needs = [], set()
        pairs, sources = [], []
        keys = []
        for rule in rules:
            v = self.expr(rule.expr, p, "default", {})
            if v.type == LIST:
                self.rep.error(rule.pos.line, rule.pos.column,
                               "a header default is one value, not a list (pick an item: split(...)[1])")
                continue
            if v.type == NULL:
                continue
            value_sql = self.coerce(v, ANY, rule.expr)
            key = p.add(rule.target, "text")
            pairs.append(f"{key}, {value_sql}")
            prov = p.add(self.provenance(rule, v.sources), "jsonb")
            sources.append(f"{key}, CASE WHEN ({value_sql}) IS NOT NULL THEN {prov} END")
            keys.append(rule.target)
        if not pairs:
            return None
        sql = f"""INSERT INTO mapping.hdu_default AS t (file_id, hdu, defaults, sources)
SELECT h.file_id, h.hdu, jsonb_strip_nulls(jsonb_build_object({', '.join(pairs)})),
       jsonb_strip_nulls(jsonb_build_object({', '.join(sources)}))
  FROM staging.file f
  JOIN staging.hdu h ON h.file_id = f.id
  LEFT JOIN staging.hdu h0 ON h0.file_id = f.id AND h0.hdu = 0
{self.keyword_records('default')}
 WHERE f.status IN ('staged', 'partial') AND ({{restrict}}) AND {self.scope_sql(scope, p, 'default')}
ON CONFLICT (file_id, hdu) DO UPDATE
   SET defaults = t.defaults || EXCLUDED.defaults, sources = t.sources || EXCLUDED.sources,
       wcs_checked = NULL"""
        return Statement("defaults", scope, sql, p.values, tuple(keys),
                         tuple(r.pos.line for r in rules))

    def fields_statement(self, scope: Scope, rules: list[Rule]) -> Statement | None:
        p = _Params()
        self.keywords, self.needs = [], set()
        cur: dict[str, tuple[str, str]] = {}
        cur_prov: dict[str, str] = {}
        laterals: list[str] = []
        for k, rule in enumerate(rules):
            col = self.target_column(rule)
            v = self.expr(rule.expr, p, "field", cur)
            if col is None:
                continue
            typ = COLUMN_TYPES[self.columns[col].datatype]
            if v.type == LIST:
                self.rep.error(rule.expr.pos.line, rule.expr.pos.column,
                               f"a list cannot go into column '{col}' (pick an item: split(...)[1])")
                continue
            e_sql = self.coerce(v, typ, rule.expr, f"column '{col}' ({self.columns[col].datatype})")
            before, before_type = cur.get(col, (f'o."{col}"', typ))
            before_prov = cur_prov.get(col, "NULL::text")
            self.out.rules.append((rule.pos.line, col, json.loads(self.provenance(rule, v.sources))))
            prov = p.add(self.out.rule_key(rule.pos.line), "text")
            laterals.append(f"CROSS JOIN LATERAL (SELECT {e_sql} AS e) x{k}")
            if rule.kind == "fill":
                value = f"coalesce({before}, x{k}.e)"
                applied = f"{before} IS NULL AND x{k}.e IS NOT NULL"
            elif v.type == NULL:  # col := null
                value, applied = f"NULL::{PG_TYPE[typ]}", "true"
            else:
                value, applied = f"coalesce(x{k}.e, {before})", f"x{k}.e IS NOT NULL"
            laterals.append(f"CROSS JOIN LATERAL (SELECT {value} AS v, "
                            f"CASE WHEN {applied} THEN {prov} ELSE {before_prov} END AS p) v{k}")
            cur[col] = (f"v{k}.v", typ)
            cur_prov[col] = f"v{k}.p"
        if not cur:
            return None
        columns = list(cur)
        if ("s_ra" in cur or "s_dec" in cur) and "hpx" in self.columns:
            for c in ("s_ra", "s_dec"):
                cur.setdefault(c, (f'o."{c}"', DOUBLE))
        select = ", ".join(f'{cur[c][0]} AS "{c}"' for c in cur)
        # which rule set which cell, as one small jsonb per row (mapping.cell)
        provs = "jsonb_strip_nulls(jsonb_build_object(" + ", ".join(
            f'{p.add(c, "text")}, {cur_prov[c]}' for c in columns) + ")) AS rules__"
        sets = [f'"{c}" = c."{c}"' for c in columns]
        if "s_ra" in columns or "s_dec" in columns:
            sets.append('hpx = CASE WHEN c.s_ra IS NOT NULL AND c.s_dec IS NOT NULL THEN '
                        'healpix_nest(29, spoint(radians(c.s_ra), radians(c.s_dec))) END')
        changed = " OR ".join(f'o."{c}" IS DISTINCT FROM c."{c}"' for c in columns)
        scope_sql = self.scope_sql(scope, p, "field")
        joins = []
        if self.needs:  # only the joins the expressions and the scope use
            joins += ["LEFT JOIN derive.product p ON p.obs_publisher_did = o.obs_publisher_did",
                      "LEFT JOIN staging.file f ON f.id = p.file_id",
                      "LEFT JOIN staging.hdu h ON h.file_id = p.file_id AND h.hdu = p.hdu"]
        if "keywords" in self.needs:
            joins += ["LEFT JOIN staging.hdu h0 ON h0.file_id = p.file_id AND h0.hdu = 0",
                      "LEFT JOIN mapping.hdu_default d ON d.file_id = p.file_id AND d.hdu = p.hdu",
                      "LEFT JOIN mapping.hdu_default d0 ON d0.file_id = p.file_id AND d0.hdu = 0"]
        from_sql = "\n".join("  " + j for j in joins)
        records = self.keyword_records("field")
        # Three statements on one temporary table: the SELECT that computes every
        # rule for all rows in scope may run on parallel workers (a data-modifying
        # statement never does), then one UPDATE writes the rows that change and
        # one upsert records which rule set which cell (mapping.cell: ~100 bytes
        # a row rather than a rewrite of derive.product.provenance).
        compute = f"""CREATE TEMP TABLE mapping_computed ON COMMIT DROP AS
SELECT o.obs_publisher_did AS did, {select}, {provs}
  FROM {{target}} o
{from_sql}
{records}
{chr(10).join('  ' + x for x in laterals)}
 WHERE ({{restrict}}) AND {scope_sql}"""
        update = f"""UPDATE {{target}} o SET {', '.join(sets)}
  FROM mapping_computed c
 WHERE o.obs_publisher_did = c.did AND ({changed})"""
        cells = """INSERT INTO mapping.cell AS m (obs_publisher_did, rules)
SELECT c.did, c.rules__ FROM mapping_computed c
 WHERE c.rules__ <> '{}'::jsonb
ON CONFLICT (obs_publisher_did) DO UPDATE SET rules = m.rules || EXCLUDED.rules
 WHERE NOT m.rules @> EXCLUDED.rules"""
        return Statement("fields", scope, compute, p.values, tuple(columns),
                         tuple(r.pos.line for r in rules), update=update, cells=cells)


def _a(typ: str) -> str:
    return {TEXT: "a text", DOUBLE: "a DOUBLE", INTEGER: "an INTEGER", LIST: "a list",
            ANY: "a keyword value", TIMESTAMP: "a TIMESTAMP", NULL: "null"}.get(typ, typ)
