"""Mapping files: a small language documentalists write and the database executes.

``parse`` -> syntax tree, ``compile_mapping`` -> type-checked, parameterised
SQL (:class:`CompiledMapping`), :mod:`.store` applies it (stored with its
catalogues, re-applied by every refresh). docs/mapping.md is the guide.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .compiler import CompiledMapping, Compiler, Statement
from .diagnostics import Diagnostic, MappingError
from .functions import BUILTINS, Function, user_functions
from .parser import parse

__all__ = ["CompiledMapping", "Diagnostic", "MappingError", "Statement", "compile_mapping",
           "compile_file", "functions"]


def functions(conn: Any = None) -> dict[str, Function]:
    """The functions a mapping may call: built-ins, plus mapping_udf's when connected."""
    out = dict(BUILTINS)
    if conn is not None:
        out.update(user_functions(conn))
    return out


def compile_mapping(source: str, name: str = "<mapping>", *, conn: Any = None,
                    env: Mapping[str, str] | None = None) -> tuple[CompiledMapping, list[Diagnostic]]:
    """Parse, check and compile; raises :class:`MappingError` listing every error.

    With ``conn``, user-defined functions are known and regular expressions
    are checked by PostgreSQL itself (the engine that will run them).
    Returns the compiled mapping and the warnings.
    """
    mf, rep = parse(source, name)
    compiler = Compiler(mf, rep, functions(conn), env=env)
    compiled = compiler.compile()
    if conn is not None:
        for line, column, pattern in compiled.patterns:
            try:
                with conn.transaction():
                    conn.execute("SELECT regexp_match('', %s)", [pattern])
            except Exception as exc:  # noqa: BLE001 - psycopg's DataError family
                message = str(exc).split("\n")[0]
                rep.error(line, column, message if message.startswith("invalid regular expression") else f"invalid regular expression: {message}")
    rep.raise_if_errors()
    rep.diagnostics.sort(key=lambda d: (d.line, d.column))
    return compiled, rep.diagnostics


def read_source(path: str | os.PathLike[str]) -> str:
    """A mapping file's text; not UTF-8 is a diagnostic naming the line."""
    path = Path(path)
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise MappingError([Diagnostic(path.name, line, 1, f"not UTF-8: {exc.reason}")]) from None


def compile_file(path: str | os.PathLike[str], *, conn: Any = None,
                 env: Mapping[str, str] | None = None) -> tuple[CompiledMapping, list[Diagnostic]]:
    """Compile a mapping file (UTF-8); the file name is the mapping's name."""
    path = Path(path)
    source = read_source(path)
    return compile_mapping(source, path.name, conn=conn, env=env)
