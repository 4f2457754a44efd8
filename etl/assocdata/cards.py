"""Parse the 80-character cards of one FITS header into typed values, fast.

Why not astropy's ``Header``: building one costs ~1 ms per header, five times
the budget of the ingest (>= 5,000 headers/s per core).  Here one regular
expression runs over all the cards of a header at once (``findall`` on the
cards joined by newlines, in C) and Python only dispatches on the group that
matched.  Standard cards (``KEYWORD = value / comment`` with a string,
integer, real or logical value, and COMMENT/HISTORY/blank cards) never leave
that fast path.  Everything else (CONTINUE, HIERARCH, a lower-case exponent,
a misplaced ``=``, garbage) takes a slower per-card path that follows
astropy's reading rules and reports every deviation as a
:class:`~assocdata.records.Problem`.

Values (JSON-friendly, equal to astropy's ``header[key]`` for every valid
card of the test corpus):

- logical ``T``/``F`` -> bool; integer -> int (any size); real, with an ``E``
  or ``D`` exponent -> float; string -> str with ``''`` unescaped, trailing
  blanks stripped, leading blanks kept; no value (``KEY =`` alone) -> None;
  complex ``(re, im)`` -> the string as written.
- NaN/Inf (or a real that overflows a double) are not FITS values: the card is
  rejected (``invalid-value``).
- CONTINUE long strings are joined as astropy does: each piece loses its
  trailing blanks and one trailing ``&``, then the pieces are concatenated.
- HIERARCH keys are normalised to upper case with single blanks
  (``HIERARCH ESO DET CHIP1 ID = ...`` -> ``'ESO DET CHIP1 ID'``), which is how
  astropy looks them up.
- ``COMMENT``, ``HISTORY`` and blank-keyword cards are collected, in order, in
  lists under the keys ``'COMMENT'``, ``'HISTORY'`` and ``''``; each item is
  the card from column 9 with trailing blanks stripped (astropy's value).
- Record-valued keyword cards (``DP1 = 'AXIS.1: 1'``) are read as the plain
  string cards they are in the FITS standard (astropy would expose
  ``DP1.AXIS.1 = 1``).

Duplicated keywords: ``keywords[key]`` holds the FIRST occurrence, which is what
astropy's ``header[key]`` returns, and ``duplicates[key]`` lists every value of
that keyword in file order (the first one included).  Keys that occur once
are not in ``duplicates``.

Problem classes produced here (``Problem.error_class``):

- ``invalid-card``: the card cannot be read (illegal keyword characters, such
  as ``P.I.``; non-ASCII or control characters; no value indicator, such as
  ``ZSOURCE  =  0.1`` with ``=`` in column 10; an orphan CONTINUE; a text
  line longer than 80 characters).  The keyword is left out of ``keywords``.
- ``invalid-value``: the value is not a FITS value (``INDEF``, ``1.0-297``,
  NaN, Inf).  The keyword is left out.
- ``truncated``: the last card of an 80-character stream (header text file)
  is shorter than 80 characters.  The keyword is left out.
- ``nonstandard-card`` / ``nonstandard-value`` (``severity='warning'``; all
  the others are errors): astropy reads it and so do we (the value is
  kept), but it breaks the standard: lower-case or
  right-justified keyword, ``=`` not in column 9, a lower-case exponent,
  blanks inside a number, an unescaped quote inside a string, CONTINUE after
  a string without ``&``, junk after END.
- ``invalid-header``: NAXIS announces an axis whose NAXISn is missing.

Compressed images (``ZIMAGE = T`` in a BINTABLE): the parsed ``xtension`` is
``'IMAGE'`` and ``bitpix``/``naxis`` come from ``ZBITPIX``/``ZNAXISn``: the
logical image, which the WCS keywords describe and ObsCore should list.
``compressed`` is True, and the raw keywords (ZIMAGE, TFIELDS, NAXIS1 = row
length, ...) stay unchanged in ``keywords``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .records import FITSValue, HDURecord, Problem

if TYPE_CHECKING:  # pragma: no cover
    from .fitsfile import RawHeader

CARD_LENGTH = 80
COMMENTARY_KEYS = ("COMMENT", "HISTORY", "")

# --- the value grammar -------------------------------------------------------
# One alternative per value type, each a named group, so that the loop only
# has to test which group is non-empty.  Strings keep their quotes so that the
# empty string '' differs from "no value".  Anything else goes to <o>, the
# rare slow path.
# Possessive quantifiers (*+, ++) and the look-ahead after an integer only
# save the regex engine from backtracking into a repeat, which can never make
# a card match differently (a string cannot end on one quote of a doubled '',
# a comment runs to the end of the card, an integer followed by '.', 'E' or
# 'D' is a real): the same groups, ~10% faster on real headers.
_V_STRING = r"(?P<s>'[^'\n]*+(?:''[^'\n]*+)*+')"
_V_INT = r"(?P<i>[+-]?[0-9]++)(?![.ED])"
_V_REAL = r"(?P<f>[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[ED][+-]?[0-9]+)?)"
_V_BOOL = r"(?P<b>[TF])"
_V_OTHER = r"(?P<o>[^ '/\n][^/\n]*?)"
_VALUE = rf" *+(?:{_V_STRING}|{_V_INT}|{_V_REAL}|{_V_BOOL}|{_V_OTHER})? *+(?:/[^\n]*+)?"

#: One line = one card.  Alternative 1: a value card, either with a keyword
#: field of 8 characters (validated in Python, through a cache) and '= ' in
#: columns 9-10, or a HIERARCH card.  Alternative 2: COMMENT, HISTORY and
#: blank-keyword cards.  Alternative 3: everything else, for the slow path.
_CARD_RE = re.compile(
    r"^(?:(?:(?P<k>[A-Z0-9_ -]{8})= |(?P<h>HIERARCH +[^ =\n][^=\n]*)=)" + _VALUE
    + r"|(?P<c>COMMENT |HISTORY |        )(?P<t>[^\n]*+)"
    + r"|(?P<x>[^\n]*+))$",
    re.M,
)
_VALUE_RE = re.compile(_VALUE)
#: astropy's lenient string: ends at the first quote followed by a blank, '/'
#: or the end of the card (so 'J. O'Meara' reads as J. O'Meara).
_LOOSE_STRING_RE = re.compile(r" *'((?:[ -~]+?|'')) *?'(?=$|/| ) *(?:/.*)?", re.S)
_KEYWORD_RE = re.compile(r"[A-Z0-9_-]{1,8}")
_BAD_CHAR_RE = re.compile(r"[^ -~]")
_PRINTABLE = bytes(range(0x20, 0x7F))

_FSC_NUMBER = r"[+-]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[DE][+-]?[0-9]+)?"
_FSC_REAL_RE = re.compile(_FSC_NUMBER)
# Numbers astropy accepts beyond the standard: lower-case exponent, blanks
# between sign, digits and exponent.
_NFSC_DIGITS = r"(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?) *(?:[deDE] *[+-]? *[0-9]+)?"
_NFSC_NUMBER_RE = re.compile(rf"[+-]? *{_NFSC_DIGITS}")
_COMPLEX_FSC_RE = re.compile(rf"\( *{_FSC_NUMBER} *, *{_FSC_NUMBER} *\)")
_COMPLEX_NFSC_RE = re.compile(rf"\( *[+-]? *{_NFSC_DIGITS} *, *[+-]? *{_NFSC_DIGITS} *\)")
_NOT_A_NUMBER = frozenset({"NAN", "INF", "INFINITY"})
_EXPONENT_TABLE = str.maketrans("dDE", "eee")

#: Replaces a card holding non-printable-ASCII characters (then reported).
_BAD_MARK = "\x01"
#: Replaces a text line longer than 80 characters (already reported).
_SKIP = "\x02"
#: Keyword fields seen so far (the 8 columns of a standard card, or
#: 'HIERARCH name' as written) -> keyword, or '' if the card needs the slow
#: path (illegal characters, embedded or leading blanks, COMMENT/HISTORY/END
#: with '= ').  Real headers reuse a few thousand keywords.
_KEY_CACHE: dict[str, str] = {}
_KEY_CACHE_MAX = 100_000


@dataclass(slots=True)
class ParsedHeader:
    """Typed content of one header; see the module docstring for the rules."""

    keywords: dict[str, Any]
    duplicates: dict[str, list[FITSValue]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    xtension: str | None = None  # None for a primary header; 'IMAGE' if compressed
    extname: str | None = None
    bitpix: int | None = None
    naxis: list[int] = field(default_factory=list)
    #: True for a tile-compressed image (ZIMAGE = T): bitpix/naxis are then
    #: ZBITPIX/ZNAXISn and xtension is 'IMAGE'.
    compressed: bool = False


class _CardError(Exception):
    """A value could not be read; becomes a Problem."""

    def __init__(self, error_class: str, message: str) -> None:
        super().__init__(message)
        self.error_class = error_class


# --- values --------------------------------------------------------------------
def _quote(card: str) -> str:
    """The card as quoted in a message."""
    return repr(card.rstrip()[:CARD_LENGTH])


def _string(raw: str) -> str:
    """Value of a quoted FITS string (``raw`` includes the quotes)."""
    return raw[1:-1].replace("''", "'").rstrip()


def _float(text: str) -> float:
    value = float(text.replace("D", "E"))
    if value - value != 0.0:  # inf (overflow)
        raise _CardError("invalid-value", f"real value {text} overflows a double")
    return value


def _other_value(token: str) -> tuple[FITSValue, str | None]:
    """Value of a token that the fast grammar left aside.

    Returns the value and, when astropy reads it but the standard forbids it,
    a note for a ``nonstandard-value`` problem.  Raises _CardError otherwise.
    """
    if _FSC_REAL_RE.fullmatch(token):
        return _float(token), None
    if _COMPLEX_FSC_RE.fullmatch(token):
        return token, None
    if _COMPLEX_NFSC_RE.fullmatch(token):
        return token, "complex value with non-standard number syntax"
    if _NFSC_NUMBER_RE.fullmatch(token):
        text = token.replace(" ", "").translate(_EXPONENT_TABLE)
        try:
            value: FITSValue = int(text)
        except ValueError:
            value = float(text)
            if not math.isfinite(value):
                raise _CardError("invalid-value", f"real value {token} overflows a double") from None
        return value, f"number {token!r} written with a lower-case exponent or blanks"
    if token.lstrip("+-").upper() in _NOT_A_NUMBER:
        raise _CardError("invalid-value", f"{token} is not a valid FITS value (FITS has no NaN/Inf)")
    raise _CardError("invalid-value", f"unparsable value {token!r}")


def _match_value(field_text: str) -> tuple[FITSValue, str | None, str | None]:
    """Parse a value field (what follows the value indicator).

    Returns (value, the string with its quotes or None, non-standard note or None).
    """
    m = _VALUE_RE.fullmatch(field_text)
    if m is None:
        m = _LOOSE_STRING_RE.fullmatch(field_text)
        if m is None:
            raise _CardError("invalid-value", "unparsable value field")
        raw = f"'{m.group(1)}'"
        return _string(raw), raw, "string with an unescaped quote (read as astropy does)"
    s, i, f, b, o = m.group("s", "i", "f", "b", "o")
    if s is not None:
        return _string(s), s, None
    if i is not None:
        return int(i), None, None
    if f is not None:
        return _float(f), None, None
    if b is not None:
        return b == "T", None, None
    if o is not None:
        value, note = _other_value(o)
        return value, None, note
    return None, None, None


def parse_value(field_text: str) -> FITSValue:
    """Typed value of a value field (the card from column 11 on).

    Used by :mod:`assocdata.fitsfile` for the few structural keywords it needs
    before the whole header is parsed.  Raises ValueError when unparsable.
    """
    try:
        return _match_value(field_text)[0]
    except _CardError as exc:
        raise ValueError(str(exc)) from None


def _learn_key(field: str) -> str:
    """Keyword of a keyword field (see _KEY_CACHE), or '' for the slow path.

    A HIERARCH name gets astropy's lookup form: upper case, single blanks.
    """
    if len(field) > 8:  # 'HIERARCH name'
        key = " ".join(field.split()[1:]).upper()
    else:
        key = field.rstrip()
        if not _KEYWORD_RE.fullmatch(key) or key in ("COMMENT", "HISTORY", "END", "CONTINUE"):
            key = ""
    if len(_KEY_CACHE) >= _KEY_CACHE_MAX:
        _KEY_CACHE.clear()
    _KEY_CACHE[field] = key
    return key


def _clean_piece(piece: str) -> str:
    """One part of a long string, as astropy joins it: trailing blanks and one
    trailing '&' removed (quotes still doubled)."""
    piece = piece.rstrip()
    return piece[:-1] if piece.endswith("&") else piece


# --- the parser ------------------------------------------------------------------
#: A string value that CONTINUE cards may extend: (key, the quoted first piece
#: or the list of cleaned pieces, first occurrence of key?, index of the last
#: card read, whether that card's piece ended with '&').
_Cont = tuple[str, "str | list[str]", bool, int, bool]


class _HeaderParser:
    """Collected keywords, duplicates, commentary and problems of one header.

    The fast loop lives in :func:`_parse_cards`; the methods here are the
    slow path.  The fast loop keeps no CONTINUE state: a CONTINUE card looks
    back at the card before it (``rows``), or at ``cont``, the state left by
    the slow path.
    """

    __slots__ = ("hdu", "body", "lines", "rows", "keywords", "duplicates", "problems",
                 "commentary", "cont")

    def __init__(self, hdu: int, body: str, lines: list[str] | None) -> None:
        self.hdu = hdu
        self.body = body  # 80-character cards (sep='' mode)
        self.lines = lines  # or the lines of a text header
        self.rows: list[tuple[str, ...]] = []  # _CARD_RE.findall of the cards
        self.keywords: dict[str, Any] = {}
        self.duplicates: dict[str, list[FITSValue]] = {}
        self.problems: list[Problem] = []
        self.commentary: dict[str, list[str]] = {}
        self.cont: _Cont | None = None

    def card(self, index: int) -> str:
        """The original text of card ``index``."""
        if self.lines is not None:
            return self.lines[index]
        return self.body[index * CARD_LENGTH:(index + 1) * CARD_LENGTH]

    def problem(self, error_class: str, key: str | None, message: str) -> None:
        severity = "warning" if error_class.startswith("nonstandard") else "error"
        self.problems.append(Problem(error_class, message, self.hdu, key, severity))

    def store(self, key: str, value: FITSValue) -> bool:
        """Record a value; True if it is the first occurrence of ``key``."""
        keywords = self.keywords
        if key not in keywords:
            keywords[key] = value
            return True
        dup = self.duplicates.get(key)
        if dup is None:
            self.duplicates[key] = [keywords[key], value]
        else:
            dup.append(value)
        return False

    def other_card(self, card: str, index: int) -> bool:
        """Any card that is not a standard value or commentary card.

        Returns False at an END card (parsing stops).
        """
        if card[:1] == _BAD_MARK:
            self.bad_card(index)
            return True
        if card == _SKIP:
            return True
        key = card[:8].strip().upper()
        if key in COMMENTARY_KEYS:
            # Same list as the fast path's (keyed by the 8-column field).
            self.commentary.setdefault(f"{key:<8}", []).append(card[8:].rstrip())
        elif key == "CONTINUE":
            self.cont = self.continue_card(card, index)
        elif key == "END":
            if not card[3:].strip():
                return False
            self.problem("invalid-card", "END", f"card {index + 1} of HDU {self.hdu} is an "
                         f"END card with text after it, before the last card: {_quote(card)}")
        elif card[:9].upper() == "HIERARCH " and "=" in card:
            self.cont = self.hierarch_card(card, index)
        else:
            self.cont = self.nonstandard_card(card, index)
        return True

    def bad_card(self, index: int) -> None:
        original = self.card(index)
        bad = _BAD_CHAR_RE.search(original)
        column = bad.start() + 1 if bad else 0
        key = original[:8].strip().upper()
        self.problem("invalid-card", key if key and not _BAD_CHAR_RE.search(key) else None,
                     f"card {index + 1} of HDU {self.hdu} has a non-ASCII or control "
                     f"character at column {column}: {_quote(original)}")

    def value_card(self, key: str, field_text: str, index: int,
                   note: str | None = None) -> _Cont | None:
        """Parse and store a value that left the fast path."""
        card = self.card(index)
        try:
            value, raw, value_note = _match_value(field_text)
        except _CardError as exc:
            self.problem(exc.error_class, key,
                         f"{exc} in card {index + 1} of HDU {self.hdu}: {_quote(card)}")
            return None
        first = self.store(key, value)
        if note:
            self.problem("nonstandard-card", key, f"{note} in card {index + 1} of HDU "
                         f"{self.hdu} (value kept): {_quote(card)}")
        if value_note:
            self.problem("nonstandard-value", key, f"{value_note} in card {index + 1} of HDU "
                         f"{self.hdu} (value kept): {_quote(card)}")
        return (key, raw, first, index, False) if raw is not None else None

    def hierarch_card(self, card: str, index: int) -> _Cont | None:
        name, _, rest = card[9:].partition("=")
        key = " ".join(name.split()).upper()
        if not key:
            self.problem("invalid-card", None, f"HIERARCH card {index + 1} of HDU {self.hdu} "
                         f"has no keyword: {_quote(card)}")
            return None
        return self.value_card(key, rest, index)

    def nonstandard_card(self, card: str, index: int) -> _Cont | None:
        """'= ' out of column 9, a lower-case/right-justified keyword, or garbage."""
        eq = card.find("= ")
        if 0 < eq <= 8:
            raw_key = card[:eq].strip()
            key = raw_key.upper()
            if _KEYWORD_RE.fullmatch(key):
                notes = []
                if raw_key != key:
                    notes.append("lower-case keyword")
                if card[0] == " ":
                    notes.append("keyword not starting in column 1")
                if eq != 8:
                    notes.append("'=' not in column 9")
                return self.value_card(key, card[eq + 2:], index, ", ".join(notes) or None)
            self.problem("invalid-card", raw_key or None, f"illegal keyword {raw_key!r} in "
                         f"card {index + 1} of HDU {self.hdu}: {_quote(card)}")
            return None
        key = card[:8].strip().upper()
        if _KEYWORD_RE.fullmatch(key) and card[:1] != " ":
            self.problem("invalid-card", key, f"no value indicator '= ' in columns 9-10 of "
                         f"card {index + 1} of HDU {self.hdu}: {_quote(card)}")
        else:
            self.problem("invalid-card", card[:8].strip() or None, f"illegal keyword "
                         f"{card[:8].strip()!r} in card {index + 1} of HDU {self.hdu}: "
                         f"{_quote(card)}")
        return None

    def string_before(self, index: int) -> _Cont | None:
        """The string value that card ``index`` may continue, if any."""
        cont = self.cont
        if cont is not None and cont[3] == index - 1:
            return cont  # left by the slow path (or an earlier CONTINUE)
        if index == 0:
            return None
        k, h, s = self.rows[index - 1][:3]
        if not s or not (k or h):
            return None
        key = _KEY_CACHE.get(k or h)
        if not key:
            return None
        # The fast path stored it; it is the latest occurrence of its key.
        return (key, s, key not in self.duplicates, index - 1, False)

    def continue_card(self, card: str, index: int) -> _Cont | None:
        """Extend the string value of the previous card (astropy's rule)."""
        cont = self.string_before(index)
        if cont is None:
            self.problem("invalid-card", "CONTINUE", f"CONTINUE card {index + 1} of HDU "
                         f"{self.hdu} does not follow a string value: {_quote(card)}")
            return None
        key, pieces, first, _, amp = cont
        m = _VALUE_RE.fullmatch(card[8:])
        if m is not None and all(m.group(g) is None for g in "ifbo"):
            piece = m.group("s")[1:-1] if m.group("s") else ""
        else:
            # astropy's writer may split a doubled quote across two cards;
            # astropy's lenient string rule reads that back.
            loose = _LOOSE_STRING_RE.fullmatch(card[8:])
            if loose is None:
                self.problem("invalid-card", "CONTINUE", f"CONTINUE card {index + 1} of HDU "
                             f"{self.hdu} (continuing {key}) has no string value: "
                             f"{_quote(card)}")
                return None
            piece = loose.group(1)
            self.problem("nonstandard-card", key, f"CONTINUE card {index + 1} of HDU {self.hdu} "
                         f"(continuing {key}) has an unescaped quote (read as astropy does): "
                         f"{_quote(card)}")
        if isinstance(pieces, str):
            amp = pieces[1:-1].rstrip().endswith("&")
            pieces = [_clean_piece(pieces[1:-1])]
        if not amp:
            self.problem("nonstandard-card", key, f"CONTINUE card {index + 1} of HDU "
                         f"{self.hdu} continues {key} whose previous part does not end "
                         f"with '&' (joined as astropy does)")
        pieces.append(_clean_piece(piece))
        value = "".join(pieces).replace("''", "'").rstrip()
        if first:
            self.keywords[key] = value
        else:
            self.duplicates[key][-1] = value
        return (key, pieces, first, index, piece.rstrip().endswith("&"))

    def truncated(self, card: str) -> None:
        key: str | None = card[:8].strip().upper()
        if card[:9].upper() == "HIERARCH ":
            key = " ".join(card[9:].partition("=")[0].split()).upper()
        if key and _BAD_CHAR_RE.search(key):
            key = None
        self.problem("truncated", key or None, f"last card of HDU {self.hdu} is truncated "
                     f"to {len(card)} characters: {_quote(card)}")


def _parse_cards(parser: _HeaderParser, rows: list[tuple[str, ...]]) -> None:
    """The loop over the cards (``rows`` from _CARD_RE.findall), in file order.

    Kept lean on purpose: it runs ~100 times per header.
    """
    parser.rows = rows
    keywords = parser.keywords
    commentary = parser.commentary
    cache_get = _KEY_CACHE.get
    for index, (k, h, s, i, f, b, o, c, t, x) in enumerate(rows):
        if k:
            key = cache_get(k)
            if not key:
                if key is None:
                    key = _learn_key(k)
                if not key:
                    if not parser.other_card(parser.card(index), index):
                        return
                    continue
        elif h:
            key = cache_get(h) or _learn_key(h)
        elif c:
            lst = commentary.get(c)
            if lst is None:
                lst = commentary[c] = []
            lst.append(t.rstrip())
            continue
        else:
            if not parser.other_card(x, index):
                return
            continue
        if s:
            value: FITSValue = s[1:-1].replace("''", "'").rstrip()
        elif i:
            value = int(i)
        elif f:
            value = float(f) if "D" not in f else float(f.replace("D", "E"))
            if value - value:  # inf - inf is NaN: the real overflowed
                parser.problem("invalid-value", key, f"real value {f} overflows a double in "
                               f"card {index + 1} of HDU {parser.hdu}: "
                               f"{_quote(parser.card(index))}")
                continue
        elif b:
            value = b == "T"
        elif o:
            card = parser.card(index)
            parser.cont = parser.value_card(key, card[10:] if k else card.partition("=")[2], index)
            continue
        else:
            value = None
        if key in keywords:
            parser.store(key, value)
        else:
            keywords[key] = value


# --- entry points --------------------------------------------------------------
def parse_header(text: str, hdu: int, sep: str | None = None) -> ParsedHeader:
    """Parse one header (:attr:`assocdata.fitsfile.RawHeader.text`).

    ``sep`` is the card separator: '' for FITS files (80-character cards),
    '\\n' (or '\\r') for text header files with one card per line; None
    guesses from the text.  Parsing stops at the END card.  A card that
    cannot be read yields a Problem and is left out of ``keywords``; the
    header as a whole is always usable.
    """
    if sep is None:
        sep = "\n" if "\n" in text else ""
    if sep:
        parser, joined = _prepare_lines(text, sep, hdu)
        partial = None
    else:
        parser, joined, partial = _prepare_stream(text, hdu)
    _parse_cards(parser, _CARD_RE.findall(joined) if joined else [])
    if partial is not None:
        parser.truncated(partial)
    return _finish(parser)


def _prepare_stream(text: str, hdu: int) -> tuple[_HeaderParser, str, str | None]:
    """Cards of an 80-character stream, joined by newlines for the regex.

    Returns the parser, the joined cards (unreadable ones replaced by a
    marker) and a truncated last card if any.
    """
    n = len(text) // CARD_LENGTH * CARD_LENGTH
    partial = text[n:] or None
    if partial is not None and partial.rstrip() == "END":
        partial = None  # an END card cut short: harmless
    body = text[:n]
    parser = _HeaderParser(hdu, body, None)
    if body[-CARD_LENGTH:][:3] == "END":
        end = body[-CARD_LENGTH:]
        body = parser.body = body[:-CARD_LENGTH]
        if end[3:].strip():
            parser.problem("nonstandard-card", "END", f"END card of HDU {hdu} has text "
                           f"after it: {_quote(end)}")
    if not body:
        return parser, "", partial
    if body.isascii():
        raw = body.encode("ascii")
        if not raw.translate(None, _PRINTABLE):
            # Clean header: insert the newlines with numpy, without a Python loop.
            cards = np.frombuffer(raw, np.uint8).reshape(-1, CARD_LENGTH)
            lines = np.empty((cards.shape[0], CARD_LENGTH + 1), np.uint8)
            lines[:, :CARD_LENGTH] = cards
            lines[:, CARD_LENGTH] = 10
            return parser, lines.tobytes()[:-1].decode("ascii"), partial
    cards = [body[i:i + CARD_LENGTH] for i in range(0, len(body), CARD_LENGTH)]
    return parser, "\n".join(_mark_bad_cards(cards)), partial


def _prepare_lines(text: str, sep: str, hdu: int) -> tuple[_HeaderParser, str]:
    """Cards of a text header (one per line), joined by newlines for the regex."""
    lines = text.split(sep)
    if lines and not lines[-1].strip("\r"):
        lines.pop()  # the separator after the last card
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    parser = _HeaderParser(hdu, "", lines)
    if lines and lines[-1].rstrip() == "END":
        lines.pop()
    marked = []
    for i, line in enumerate(lines):
        if len(line) > CARD_LENGTH:
            if line[CARD_LENGTH:].strip():
                key = line[:8].strip().upper()
                parser.problem("invalid-card", key if _KEYWORD_RE.fullmatch(key) else None,
                               f"line {i + 1} of text header {hdu} is longer than 80 "
                               f"characters: {line[:100]!r}")
                marked.append(_SKIP)
                continue
            line = lines[i] = line[:CARD_LENGTH]
        marked.append(f"{_BAD_MARK}{i}" if _BAD_CHAR_RE.search(line) else line)
    return parser, "\n".join(marked)


def _mark_bad_cards(cards: list[str]) -> list[str]:
    """Replace cards holding non-printable-ASCII characters by a marker."""
    return [f"{_BAD_MARK}{i}" if _BAD_CHAR_RE.search(card) else card
            for i, card in enumerate(cards)]


def _finish(parser: _HeaderParser) -> ParsedHeader:
    """Add the commentary lists and derive the structural summary."""
    keywords = parser.keywords
    for key8, values in parser.commentary.items():
        keywords[key8.strip()] = values
    first = parser.card(0) if (parser.lines or parser.body) else ""
    xtension = None
    if first.startswith("XTENSION"):
        value = keywords.get("XTENSION")
        xtension = value if isinstance(value, str) else None
    extname = keywords.get("EXTNAME")
    if extname is not None and not isinstance(extname, str):
        extname = str(extname)
    parsed = ParsedHeader(keywords, parser.duplicates, parser.problems, xtension, extname)
    if xtension == "BINTABLE" and keywords.get("ZIMAGE") is True:
        parsed.compressed = True
        parsed.xtension = "IMAGE"
        parsed.bitpix, parsed.naxis = _axes(parser, "ZBITPIX", "ZNAXIS")
    else:
        parsed.bitpix, parsed.naxis = _axes(parser, "BITPIX", "NAXIS")
    return parsed


def _axes(parser: _HeaderParser, bitpix_key: str, naxis_key: str) -> tuple[int | None, list[int]]:
    """BITPIX and [NAXIS1..NAXISn] (or their Z- counterparts)."""
    keywords = parser.keywords
    bitpix = keywords.get(bitpix_key)
    if type(bitpix) is not int:
        bitpix = None
    n = keywords.get(naxis_key)
    if type(n) is not int or n < 0:
        return bitpix, []
    axes = []
    for j in range(1, n + 1):
        value = keywords.get(f"{naxis_key}{j}")
        if type(value) is not int:
            parser.problem("invalid-header", f"{naxis_key}{j}", f"HDU {parser.hdu}: "
                           f"{naxis_key} = {n} but {naxis_key}{j} is missing or not an integer")
            return bitpix, axes
        axes.append(value)
    return bitpix, axes


def to_hdu_record(raw: RawHeader, parsed: ParsedHeader | None = None) -> HDURecord:
    """The staged record of one HDU, from its raw (and parsed) header.

    Parses ``raw`` when ``parsed`` is not given.  Table HDUs get their column
    descriptors (min/max are filled later by
    :func:`assocdata.columns.read_column_ranges`); a compressed image gets
    none, its columns being storage, not science.
    """
    from .columns import describe_columns

    if parsed is None:
        parsed = parse_header(raw.text, raw.index, raw.card_sep)
    columns = []
    if parsed.xtension in ("BINTABLE", "TABLE") and not parsed.compressed:
        columns = describe_columns(parsed.keywords, raw.index)
    return HDURecord(
        index=raw.index,
        header_text=raw.text,
        keywords=parsed.keywords,
        duplicates=parsed.duplicates,
        xtension=parsed.xtension,
        extname=parsed.extname,
        bitpix=parsed.bitpix,
        naxis=parsed.naxis,
        header_offset=raw.header_offset,
        data_offset=raw.data_offset,
        data_size=raw.data_size,
        columns=columns,
    )
