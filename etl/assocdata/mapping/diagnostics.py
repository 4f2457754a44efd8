"""Compiler-style diagnostics of a mapping file: ``file:line:col: message`` and a caret.

Why a collecting object rather than exceptions: a documentalist fixes a file
faster when every error of it is reported at once, as a compiler does.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One error or warning, at a line and column (both 1-based) of a mapping file."""

    file: str
    line: int
    column: int
    message: str
    source_line: str = ""
    severity: str = "error"  # 'error' | 'warning'

    def __str__(self) -> str:
        head = f"{self.file}:{self.line}:{self.column}: "
        if self.severity == "warning":
            head += "warning: "
        text = head + self.message
        if self.source_line:
            caret = " " * (self.column - 1) + "^"
            text += f"\n    {self.source_line.rstrip()}\n    {caret}"
        return text


class MappingError(ValueError):
    """A mapping file that cannot be compiled: every error found, in line order."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.severity == "error"]
        super().__init__("\n".join(str(d) for d in errors))


@dataclass
class Reporter:
    """Collects the diagnostics of one file; knows its lines for the carets."""

    file: str
    lines: list[str]
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, line: int, column: int, message: str) -> None:
        self._add(line, column, message, "error")

    def warning(self, line: int, column: int, message: str) -> None:
        self._add(line, column, message, "warning")

    def _add(self, line: int, column: int, message: str, severity: str) -> None:
        source = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        self.diagnostics.append(Diagnostic(self.file, line, max(column, 1), message, source, severity))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def raise_if_errors(self) -> None:
        if self.errors:
            self.diagnostics.sort(key=lambda d: (d.line, d.column))
            raise MappingError(self.diagnostics)


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 's_ra'?)`` when a close candidate exists, else ''."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
