"""Parse a mapping file into its syntax tree (:mod:`.nodes`), reporting every syntax error.

The language is line-oriented: one rule, section header, version line or
comment per line (docs/mapping.md has the grammar). A mapping file is
untrusted text: sizes and nesting are bounded, and nothing here evaluates
anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .diagnostics import Reporter
from .nodes import (BinOp, Call, ColumnRef, Expr, Fallback, Index, Keyword, Literal, MappingFile,
                    Negate, Pos, Rule, Scope, Variable)

#: The language versions this code understands; the version line names one.
VERSIONS = (1,)
VERSION_LINE = re.compile(r"assocdata-mapping\s+(\S+)\s*$")
MAX_FILE_BYTES = 1_000_000
MAX_LINE_CHARS = 4_000
MAX_DEPTH = 64

VARIABLES = ("FILENAME", "STEM", "PATH", "CATALOGUE", "HDU", "EXTNAME")
_NUMBER = re.compile(r"(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEY_TAIL = re.compile(r"(?:-[A-Za-z0-9_]+)+")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_VAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_OPS = (":=", ":", "|", "+", "-", "*", "/", "(", ")", "[", "]", ",")
#: A FITS keyword as the standard writes it (8 characters at most, A-Z 0-9 - _).
FITS_KEYWORD = re.compile(r"[A-Z0-9_-]{1,8}$")
HIERARCH_WORD = re.compile(r"[A-Z0-9_-]+$")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # num str ident key var env op end
    text: str
    column: int  # 1-based
    value: object = None


class _Stop(Exception):
    """A syntax error already reported: skip the rest of the line."""


def _tokens(text: str, line: int, rep: Reporter) -> list[Token]:
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t":
            i += 1
            continue
        if c == "#":
            break
        col = i + 1
        if c in "'\"":
            j, buf = i + 1, []
            while True:
                if j >= n:
                    rep.error(line, col, "unterminated string (a quote inside a string is doubled: 'it''s')")
                    raise _Stop
                if text[j] == c:
                    if j + 1 < n and text[j + 1] == c:
                        buf.append(c)
                        j += 2
                        continue
                    break
                buf.append(text[j])
                j += 1
            out.append(Token("str", text[i:j + 1], col, "".join(buf)))
            i = j + 1
            continue
        if c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            m = _NUMBER.match(text, i)
            assert m
            s = m.group()
            value: object = float(s) if any(ch in s for ch in ".eE") else int(s)
            out.append(Token("num", s, col, value))
            i = m.end()
            continue
        if c == "$":
            m = _ENV.match(text, i)
            if m:
                out.append(Token("env", m.group(), col, (m.group(1), m.group(2))))
                i = m.end()
                continue
            m = _VAR.match(text, i)
            if m:
                out.append(Token("var", m.group(), col, m.group(1)))
                i = m.end()
                continue
            rep.error(line, col, "'$' starts a variable ($FILENAME) or an environment variable (${NAME})")
            raise _Stop
        m = _WORD.match(text, i)
        if m:
            word = m.group()
            end = m.end()
            if any(ch.isupper() for ch in word):
                tail = _KEY_TAIL.match(text, end)
                if tail:  # DATE-OBS: a keyword may contain '-'
                    word += tail.group()
                    end = tail.end()
                out.append(Token("key", word, col, word))
            else:
                out.append(Token("ident", word, col, word))
            i = end
            continue
        for op in _OPS:
            if text.startswith(op, i):
                out.append(Token("op", op, col))
                i += len(op)
                break
        else:
            if c == "=":
                rep.error(line, col, "'=' is not an operator here: 'column: value' fills, "
                                     "'column := value' overrides, 'KEYWORD: value' is a header default")
                raise _Stop
            rep.error(line, col, f"unexpected character {c!r}")
            raise _Stop
    out.append(Token("end", "", len(text.rstrip()) + 1))
    return out


class _Line:
    """Recursive-descent parser of one line's tokens."""

    def __init__(self, tokens: list[Token], line: int, rep: Reporter) -> None:
        self.t = tokens
        self.i = 0
        self.line = line
        self.rep = rep
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.t[self.i]

    def pos(self, tok: Token | None = None) -> Pos:
        return Pos(self.line, (tok or self.tok).column)

    def fail(self, message: str, tok: Token | None = None) -> None:
        self.rep.error(self.line, (tok or self.tok).column, message)
        raise _Stop

    def is_op(self, op: str) -> bool:
        return self.tok.kind == "op" and self.tok.text == op

    def expect(self, op: str, what: str) -> Token:
        if not self.is_op(op):
            found = self.tok.text or "end of line"
            self.fail(f"expected {what}, found {found!r}" if self.tok.text else f"expected {what}")
        tok = self.tok
        self.i += 1
        return tok

    # expr := sum ('|' sum)*
    def expr(self) -> Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"expression nested more than {MAX_DEPTH} levels deep")
        first = self.tok
        options = [self.sum()]
        while self.is_op("|"):
            self.i += 1
            options.append(self.sum())
        self.depth -= 1
        return options[0] if len(options) == 1 else Fallback(tuple(options), self.pos(first))

    def sum(self) -> Expr:
        left = self.term()
        while self.tok.kind == "op" and self.tok.text in "+-":
            op = self.tok
            self.i += 1
            left = BinOp(op.text, left, self.term(), self.pos(op))
        return left

    def term(self) -> Expr:
        left = self.unary()
        while self.tok.kind == "op" and self.tok.text in "*/":
            op = self.tok
            self.i += 1
            left = BinOp(op.text, left, self.unary(), self.pos(op))
        return left

    def unary(self) -> Expr:
        if self.is_op("-"):
            tok = self.tok
            self.i += 1
            self.depth += 1
            if self.depth > MAX_DEPTH:
                self.fail(f"expression nested more than {MAX_DEPTH} levels deep")
            operand = self.unary()
            self.depth -= 1
            if isinstance(operand, Literal) and isinstance(operand.value, (int, float)) \
                    and not isinstance(operand.value, bool):
                return Literal(-operand.value, self.pos(tok))
            return Negate(operand, self.pos(tok))
        return self.postfix()

    def postfix(self) -> Expr:
        node = self.primary()
        while self.is_op("["):
            open_ = self.tok
            self.i += 1
            sign = 1
            if self.is_op("-"):
                sign = -1
                self.i += 1
            if self.tok.kind != "num" or not isinstance(self.tok.value, int):
                self.fail("an index is an integer: [1] is the first item, [-1] the last")
            index = sign * int(self.tok.value)  # type: ignore[arg-type]
            if index == 0:
                self.fail("indices start at 1, as in FITS (NAXIS1, TTYPE1): [1] is the first item, "
                          "[-1] the last")
            self.i += 1
            self.expect("]", "']'")
            node = Index(node, index, self.pos(open_))
        return node

    def primary(self) -> Expr:
        tok = self.tok
        pos = self.pos(tok)
        if tok.kind == "num":
            self.i += 1
            return Literal(tok.value, pos)  # type: ignore[arg-type]
        if tok.kind == "str":
            self.i += 1
            return Literal(tok.value, pos)  # type: ignore[arg-type]
        if tok.kind == "env":
            self.i += 1
            return Call("$env", (Literal(tok.value[0], pos),  # type: ignore[index]
                                 Literal(tok.value[1], pos)), pos)  # type: ignore[index]
        if tok.kind == "var":
            self.i += 1
            name = str(tok.value)
            if name not in VARIABLES:
                self.fail(f"unknown variable '${name}'; the variables are "
                          + ", ".join("$" + v for v in VARIABLES), tok)
            return Variable(name, pos)
        if tok.kind == "key":
            return Keyword(self.keyword_name(), pos)
        if tok.kind == "ident":
            self.i += 1
            if self.is_op("("):
                self.i += 1
                args: list[Expr] = []
                if not self.is_op(")"):
                    args.append(self.expr())
                    while self.is_op(","):
                        self.i += 1
                        args.append(self.expr())
                self.expect(")", "',' or ')'")
                return Call(tok.text, tuple(args), pos)
            if tok.text == "null":
                return Literal(None, pos)
            return ColumnRef(tok.text, pos)
        if self.is_op("("):
            self.i += 1
            inner = self.expr()
            self.expect(")", "')'")
            return inner
        if tok.kind == "end":
            self.fail("expected a value (a string, a number, a KEYWORD, a $VARIABLE or a function call)")
        self.fail(f"unexpected {tok.text!r}")
        raise AssertionError  # unreachable

    def keyword_name(self) -> str:
        """A FITS keyword at the current token (HIERARCH: the following words); advances."""
        tok = self.tok
        self.i += 1
        if tok.text == "HIERARCH":
            words = []
            while self.tok.kind == "key":
                words.append(self.tok)
                self.i += 1
            if not words:
                self.fail("HIERARCH is followed by the keyword's words: HIERARCH ESO DET DIT", tok)
            bad = [w for w in words if not HIERARCH_WORD.match(w.text)]
            if bad:
                self.fail(f"HIERARCH keyword words are upper case: {bad[0].text!r}", bad[0])
            return " ".join(w.text for w in words)
        if not FITS_KEYWORD.match(tok.text):
            if tok.text.upper() != tok.text:
                self.fail(f"FITS keywords are written in upper case: {tok.text.upper()!r}", tok)
            self.fail(f"{tok.text!r} is not a FITS keyword (at most 8 characters A-Z 0-9 - _; "
                      "longer names are HIERARCH keywords)", tok)
        return tok.text


_SCOPE_ITEM = re.compile(r"\s*(files|hdu|catalogue|all)\b\s*(:)?\s*", re.IGNORECASE)


def _section(text: str, line: int, rep: Reporter) -> Scope | None:
    """``[files: glob, hdu: SCI, catalogue: glob]`` or ``[all]``."""
    stripped = text.strip()
    body_start = text.index("[") + 1
    close = stripped.rfind("]")
    if close < 0:
        rep.error(line, len(text.rstrip()) + 1, "a section header ends with ']'")
        return None
    after = stripped[close + 1:].strip()
    if after and not after.startswith("#"):
        rep.error(line, text.index(after) + 1, "nothing may follow a section header but a comment")
        return None
    body = stripped[1:close]
    files: list[str] = []
    hdus: list[int | str] = []
    cats: list[str] = []
    if not body.strip():
        rep.error(line, body_start, "empty section: write [all] to apply to everything")
        return None
    # split on commas that start a new 'name:' item (a glob may itself hold commas in [...])
    parts = re.split(r",(?=\s*(?:files|hdu|catalogue|all)\b)", body, flags=re.IGNORECASE)
    offset = body_start
    for part in parts:
        m = _SCOPE_ITEM.match(part)
        col = offset + (len(part) - len(part.lstrip())) + 1
        if not m:
            rep.error(line, col, "a section item is 'files: GLOB', 'hdu: N|EXTNAME', "
                                 "'catalogue: GLOB' or 'all'")
            return None
        name = m.group(1).lower()
        value = part[m.end():].strip()
        if name == "all":
            if value or m.group(2):
                rep.error(line, col, "'all' takes no value")
                return None
        elif not m.group(2) or not value:
            rep.error(line, col, f"'{name}' needs a value: {name}: ...")
            return None
        elif name == "files":
            files.append(value)
        elif name == "catalogue":
            cats.append(value)
        else:
            if re.fullmatch(r"\d+", value):
                hdus.append(int(value))
            elif re.fullmatch(r"[A-Za-z0-9_. -]{1,68}", value):
                hdus.append(value)
            else:
                rep.error(line, col, f"'hdu' is an HDU number (0 = primary) or an EXTNAME, not {value!r}")
                return None
        offset += len(part) + 1
    return Scope(tuple(files), tuple(hdus), tuple(cats), line)


def parse(source: str, name: str = "<mapping>") -> tuple[MappingFile, Reporter]:
    """The syntax tree and the diagnostics (syntax only; :mod:`.checker` does the rest)."""
    lines = source.split("\n")
    rep = Reporter(name, lines)
    mf = MappingFile(name=name, version=VERSIONS[-1], source=source)
    if len(source.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        rep.error(1, 1, f"a mapping file is at most {MAX_FILE_BYTES:,} bytes")
        return mf, rep
    scope = Scope()
    seen_rule = False
    seen_version = False
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip("\r")
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if len(text) > MAX_LINE_CHARS:
            rep.error(number, MAX_LINE_CHARS + 1, f"line longer than {MAX_LINE_CHARS} characters")
            continue
        if "\x00" in text:
            rep.error(number, text.index("\x00") + 1, "NUL character")
            continue
        m = VERSION_LINE.match(stripped)
        if m:
            if seen_version or seen_rule:
                rep.error(number, 1, "the version line comes first, once")
                continue
            seen_version = True
            try:
                version = int(m.group(1))
            except ValueError:
                version = -1
            if version not in VERSIONS:
                rep.error(number, text.index(m.group(1)) + 1,
                          f"unsupported mapping language version {m.group(1)!r} "
                          f"(this assocdata reads version {', '.join(map(str, VERSIONS))})")
            else:
                mf.version = version
            continue
        if stripped.startswith("["):
            seen_rule = True
            new = _section(text, number, rep)
            if new is not None:
                scope = new
            continue
        seen_rule = True
        try:
            rule = _rule(text, number, rep, scope)
        except _Stop:
            continue
        if rule is not None:
            mf.rules.append(rule)
    if not seen_version and mf.rules:
        rep.warning(1, 1, f"no version line; assuming 'assocdata-mapping {VERSIONS[-1]}' "
                          "(write it as the first line)")
    return mf, rep


def _rule(text: str, number: int, rep: Reporter, scope: Scope) -> Rule | None:
    tokens = _tokens(text, number, rep)
    p = _Line(tokens, number, rep)
    first = p.tok
    if first.kind == "key":
        target = p.keyword_name()
        kind = "default"
    elif first.kind == "ident":
        target = first.text
        p.i += 1
        kind = ""
    else:
        p.fail("a rule starts with an ObsCore column (lower case) or a FITS KEYWORD (upper case)")
        return None
    op = p.tok
    if not (p.is_op(":") or p.is_op(":=")):
        p.fail("expected ':' (default or fill) or ':=' (override) after the rule's target")
    p.i += 1
    if kind == "default":
        if op.text == ":=":
            p.fail("a FITS keyword takes a default value with ':'; ':=' overrides ObsCore columns", op)
    else:
        kind = "override" if op.text == ":=" else "fill"
    expr = p.expr()
    if p.tok.kind != "end":
        p.fail(f"unexpected {p.tok.text!r} after the expression")
    return Rule(kind, target, expr, scope, Pos(number, first.column), _rule_text(text, tokens))


def _rule_text(text: str, tokens: list[Token]) -> str:
    """The rule as written, without a trailing comment."""
    end = tokens[-1].column - 1 if tokens else len(text)
    last = tokens[-2] if len(tokens) >= 2 else None
    if last is not None:
        end = last.column - 1 + len(last.text)
    return text[:end].strip()
