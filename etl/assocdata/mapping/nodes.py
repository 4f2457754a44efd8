"""The syntax tree of a mapping file (what the parser builds and the compiler reads).

Every node keeps its line and column so that type errors point at the right
character of the right line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True, slots=True)
class Pos:
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Literal:
    """A string, an integer, a real number, or ``null``."""

    value: str | int | float | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class Keyword:
    """A FITS keyword of the HDU (``TELESCOP``, ``DATE-OBS``, HIERARCH ``ESO DET DIT``)."""

    name: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class ColumnRef:
    """An ObsCore column of the row (field rules only): its value at that point of the file."""

    name: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class Variable:
    """``$FILENAME``, ``$PATH``, ``$STEM``, ``$CATALOGUE``, ``$HDU``, ``$EXTNAME``."""

    name: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple["Expr", ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class Index:
    """``expr[n]``: 1-based as in FITS (NAXIS1), negative from the end (-1 is the last item)."""

    target: "Expr"
    index: int
    pos: Pos


@dataclass(frozen=True, slots=True)
class BinOp:
    op: str  # + - * /
    left: "Expr"
    right: "Expr"
    pos: Pos


@dataclass(frozen=True, slots=True)
class Negate:
    operand: "Expr"
    pos: Pos


@dataclass(frozen=True, slots=True)
class Fallback:
    """``a | b | c``: the first that has a value."""

    options: tuple["Expr", ...]
    pos: Pos


Expr = Union[Literal, Keyword, ColumnRef, Variable, Call, Index, BinOp, Negate, Fallback]


@dataclass(frozen=True, slots=True)
class Scope:
    """Where the rules of a section apply. Empty fields mean 'everywhere'."""

    files: tuple[str, ...] = ()       # globs on the file's path in its catalogue
    hdus: tuple[int | str, ...] = ()  # HDU index (0 = primary) or EXTNAME
    catalogues: tuple[str, ...] = ()  # globs on the catalogue id
    line: int = 0

    def describe(self) -> str:
        parts = [f"files: {g}" for g in self.files] + [f"hdu: {h}" for h in self.hdus] + \
                [f"catalogue: {g}" for g in self.catalogues]
        return "[" + ", ".join(parts) + "]" if parts else "[all]"


@dataclass(frozen=True, slots=True)
class Rule:
    """One line ``target op expr``.

    kind: 'default' (``KEYWORD: expr``, a header default), 'fill'
    (``column: expr``) or 'override' (``column := expr``).
    """

    kind: str
    target: str
    expr: Expr
    scope: Scope
    pos: Pos
    text: str  # the rule's source text, for provenance


@dataclass(slots=True)
class MappingFile:
    name: str
    version: int
    rules: list[Rule] = field(default_factory=list)
    source: str = ""

    @property
    def defaults(self) -> list[Rule]:
        return [r for r in self.rules if r.kind == "default"]

    @property
    def field_rules(self) -> list[Rule]:
        return [r for r in self.rules if r.kind != "default"]
