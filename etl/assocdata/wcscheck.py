"""The WCS pre-check of one header, and the wcslib entry points derivation must share.

Why a pre-check
---------------
wcslib (inside astropy) can kill the process that parses a header.  The ingest
runs this check in its isolated worker processes (:mod:`assocdata.isolation`),
so a crash there becomes a reject row naming the file and HDU.  Later the
database (PL/Python inside PostgreSQL, where a segfault restarts the whole
server) runs wcslib only on headers this check accepted.  That guarantee holds
only if derivation makes *the same wcslib calls on the same bytes*: it must get
its ``Wcsprm`` objects from :func:`find_wcs_units` + :func:`prepare_wcsprm`
(which use :func:`header_bytes` and :func:`build_wcsprm`), and transform
pixels with ``p2s``.  Any other wcslib call (``s2p``, ``sub``, ``WCS()``,
``find_all_wcs``, another ``keysel``/``colsel``) is not covered and must be
added here first.

What is checked
---------------
The keywords (as staged) decide which *WCS units* a header has:

- ``image``: any CTYPEia/CRVALia/CDi_ja/PCi_ja -> ``wcspih()`` (astropy's
  ``keysel=-1``, what ``astropy.wcs.WCS(header)`` uses), image-header keywords
  only;
- ``pixel-list`` (event lists): any TCTYPn/TCRVLn in a table -> ``wcsbth()``
  with ``WCSHDR_PIXLIST`` only.  When two columns form a celestial pair
  (RA/DEC, xLON/xLAT, xyLN/xyLT with the same projection), only those columns
  are selected (``colsel``): that is the sky position ObsCore needs, and other
  pixel-list axes may be invalid for wcslib without harm (see below);
- binary-table image arrays (iCTYPn, ...) are *not* a unit: wcsbth()'s
  image-array path crashed repeatedly when fuzzed (abort or segfault with a
  handful of malformed or alternate iCTYna/iCNAna keywords), no file of the
  corpus has one, and ObsCore does not need them; derivation must not use
  them either.

For each unit: parse (``Wcsprm(header_bytes, keysel, colsel, relax=True,
warnings=False)``), the repairs ``WCS()`` makes (:func:`fix_wcsprm`: wcslib's
``fix()`` for dates, units, AIPS spectral and celestial types; SCAMP TPV/SIP),
``set()``, then ``p2s`` at the reference pixel and at the corners of the array
(NAXISn, ZNAXISn of a tile-compressed image, TLMIN/TLMAX of pixel-list
columns).  The verdict is ``'none'`` (no
WCS keywords), ``'ok'``, or ``'error'`` with a message naming the unit, the
wcslib step and, where wcslib says, the keyword (pixel-list axes are mapped
back to their column, e.g. CTYPE3 -> TCTYP9).  A crash is not returned: it
kills the worker, and the caller's :func:`assocdata.isolation.checkpoint`
tells which HDU did it.

Fast path: ``Wcsprm`` directly on header bytes, with the cards wcslib would
discard left out (an order of magnitude faster than ``astropy.wcs.WCS(header)``,
which also round-trips the header through ``astropy.io.fits``);
``warnings=False`` (wcslib then formats no diagnostics: the ``wcsprintf``
buffer path has had a heap overflow, astropy#20349).

What crashes wcslib 8.6 (astropy 8.0.2)
---------------------------------------
Found by fuzzing headers in forked children (then fuzzing this check),
explained from the wcspih.l/wcsbth.l sources, confirmed with valgrind, and
reproduced by the headers in tests/data/crash (README there).

The policy: a crash that happens *every time* on a header (a NULL pointer,
a pointer overwritten by the header's text) is left alone: this check dies on
it in its worker, the pool reports the HDU, and derivation never runs on that
header.  A crash that depends on the state of the heap (a write past an array
may corrupt something, or nothing) is *defused* here, in :func:`header_bytes`
and :func:`build_wcsprm`, because the check could pass in the worker and the
same call crash in the database.  Defusing means leaving cards out (or
refusing the header with ValueError) so that wcslib does not reach the bug; the
derivation, which uses the same functions, gets the same bytes.

Left alone (deterministic):

1. wcspih(), DSS and SIP.  wcspih() translates these two non-standard
   distortions itself.  When every card of a group has a value of the wrong
   type (a lone ``PLTDECD = '-2'`` left over from a DSS cut-out, a lone
   ``A_0_2 = 'x'``), the keyword rule has already flagged the distortion but
   none was set up: wcspih_init1() reads a NULL pointer (address 0x8) and the
   process gets SIGSEGV.  Plain ``astropy.wcs.WCS(header)`` dies on the DSS
   case too (tests/data/crash/dss_plate_string_value.hdr: the crash test).

Defused (heap-dependent; a few deterministic crashes go away with them):

2. wcsbth() trusts TFIELDS.  With ``TFIELDS = -1`` its per-column arrays have
   no column; the first table keyword flags its column past the end, the next
   one makes it reallocate and zero the arrays, so that column is forgotten;
   in the second pass ``wcsbth_colax()`` gives axis 0 and the value is
   written over the wcsprm's *pointer field* (strcpy of 'RA---TAN' over
   ``wcs->ctype``), then the next TCTYPn goes through it: SIGSEGV at
   0x4e41542d2d2d4152 ("RA---TAN", wcsbth.l:2991).  That much is
   deterministic, but the stray write past the 0-column array corrupts the
   heap when the first column is 6 or more.  A first keyword naming a column
   beyond a valid TFIELDS (left behind by a deleted column) is written past
   the arrays too, and a short string then overwrites only part of the
   pointer, which may well point into valid memory.  ``TFIELDS >=
   159072862`` overflows ``(1 + TFIELDS) * 27``.  Hence: TFIELDS outside
   0..999 is refused, and table keywords of columns beyond TFIELDS are left
   out.
3. wcsbth() with image-header keywords (CTYPEn, accepted in a table under
   ``relax``) and pixel-list keywords in one parse: the image-header wcsprm
   comes first and has no columns, so every pixel-list value lands on pointer
   fields (``WCS(hdr, keysel=['image', 'pixel'])`` and ``Wcsprm(keysel=
   WCSHDR_IMGHEAD | WCSHDR_PIXLIST)`` die; astropy's default ``keysel=0``
   takes the same path).  Hence one keyword type per parse, and each parse is
   given only the keyword forms of its type.
4. Alternates.  A table keyword with alternate letter *a* is looked up in
   pixel list *a* before its value or column selection is checked; if list
   *a* does not exist, ``wcsbth_colax()`` reads the struct before the array.
   Distortion keywords spread over alternates (``DP1B``, ``DQ4B``,
   ``CPDIS1Z``, no other keyword of B or Z) segfault wcspih().  Hence each
   parse gets only the alternate it parses.
5. Distortions.  A repeated Paper IV record (``DQ2 = 'NAXES: 2'`` twice)
   aborts wcspih() (glibc heap check); SIP next to a DPja record, or SIP in
   a WCS of fewer than two axes (a spectrum with a stray ``A_0_2``), writes
   past its arrays.  Hence no Paper IV distortion functions (DPja, DQia,
   CPDISja, ...: rare in archives, sub-pixel corrections a footprint does
   not need), and no SIP cards unless the primary WCS has two axes.  Not a
   crash but as bad: a SIP or DSS group mixing well-typed cards with
   malformed ones is applied by wcspih() with defaults for the rejected cards
   (HorseHead.fits with ``PLTDECD = '2'`` lands 4 degrees away), so such a
   group is left out and the linear WCS is used.  SIP, TPV and DSS
   otherwise stay.
6. Image arrays (iCTYPn): wcsbth()'s image-array path crashed repeatedly
   under fuzzing; they are not a unit (see above).

Fuzzing this check afterwards with 80,000 mutated headers (30,000 image
headers, 30,000 event lists, 20,000 tables with image-array keywords) crashed
it only on item 1 (a quarter of the image headers: the mutator likes string
values).  That is no proof: the database must run wcslib only on headers this
check accepted, with the same astropy/wcslib version.

The real Chandra event list of the corpus (pkg-glue/events.fits) does *not*
crash with astropy 8.0.2: ``WCS(hdr, keysel=['pixel'])`` builds one 6-axis
pixel list (columns 5,6,9,10,11,12) and ``set()`` raises
``InconsistentAxisTypesError: Unrecognized celestial type (LONG-TAN in
CTYPE3)``: columns 9,10 (detx, dety) are typed LONG-TAN/NPOL-TAN with TCNA
'PHI'/'THETA', Chandra's detector angles, a celestial-looking type wcslib does
not know.  Selecting the sky columns 11,12 (RA---TAN/DEC--TAN) gives a valid
WCS; that is what the pixel-list unit does.

An AIPS spectral axis ``CTYPEi = 'FELO-HEL'`` with ``VELREF`` outside 1..7 (mod
256), e.g. 8 or 264, makes ``wcsset()`` raise *MemoryError* ("Unknown spectral
type 'FELO-HEL'"): spcaips() fails, wcsset() returns spctype()'s status 2
(SPCERR_BAD_SPEC_PARAMS) unchanged, and astropy maps status 2 to MemoryError
(WCSERR_MEMORY).  Nothing is allocated; it is reported here as an 'error' that
says so.  Real runaway allocations exist too: ``WCSAXES = 30000`` makes
wcspih() allocate and initialise a 7 GB PC matrix (and ``wcsset()`` would
invert it); NAXIS/WCSAXESa above 99 are therefore refused before wcslib is
called, and anything else is bounded by the pool's RLIMIT_AS.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from astropy.wcs import WCSHDR_PIXLIST, Wcsprm

__all__ = [
    "IMAGE_KEYSEL", "MESSAGE_MAX", "WcsUnit", "build_wcsprm", "check_wcs", "find_wcs_units",
    "fix_wcsprm", "header_bytes", "prepare_wcsprm", "probe_pixels",
]

#: ``keysel`` that makes astropy call ``wcspih()``: image-header keywords only.
IMAGE_KEYSEL = -1
#: Longest message returned by :func:`check_wcs`.
MESSAGE_MAX = 1000
#: At most this many axes get both ends probed (2**6 = 64 corners).
_MAX_CORNER_AXES = 6
#: Most axes a WCS may have (wcslib's own limit on axis numbers in keywords).
_MAX_AXES = 99
_INTEGER_CARD = re.compile(rb"([A-Z0-9 ]{8})= *([+-]?[0-9]{1,18})\b")
_SIP_CARD = re.compile(rb"(?:A|B|AP|BP)_(?:[0-9]{1,2}_[0-9]{1,2}|ORDER|DMAX) *=")
# group 1: the DSS keywords with a string value
_DSS_CARD = re.compile(rb"(PLTDECSN|PLATEID )|(?:CNPIX[12]  |PPO[1-6]    |XPIXELSZ|YPIXELSZ"
                       rb"|PLTRA[HMS]  |PLTDEC[DMS] |AMD[XY][1-9][0-9]? )")
_DSS_PREFIXES = (b"CNPIX", b"PPO", b"XPIXELSZ", b"YPIXELSZ", b"PLT", b"PLATEID", b"AMDX", b"AMDY")
_NUMBER_CARD = re.compile(rb"[ -~]{8}= *[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[EDed][+-]?[0-9]+)? *(?:/.*)?",
                          re.S)
_STRING_CARD = re.compile(rb"[ -~]{8}= *'(?:[^']|'')*' *(?:/.*)?", re.S)
_TFIELDS_CARD = re.compile(rb"TFIELDS = *([+-]?[0-9]{1,12})")  # as wcsbth() reads it
# Table-form keywords with their column numbers (for TPn_ka/TCn_ka both n and k).
_TABLE_COLUMN_CARD = re.compile(
    rb"T(?:C[A-Z]{2,3}([1-9][0-9]{0,2})|WCS([1-9][0-9]{0,2})"
    rb"|(?:P|PC|C|CD)([1-9][0-9]{0,2})_([1-9][0-9]{0,2})|(?:V|PV|S|PS)([1-9][0-9]{0,2})_[0-9]{1,3})"
    rb"[A-Z]? *="
    rb"|(?:LONP|LATP|EQUI|RADE|WCSN|RFRQ|RWAV|SPEC|SOBS|SSRC|VSYS|VANG|ZSOU|VSOU)([1-9][0-9]{0,2})"
    rb"[A-Z]? *=")
# Keyword forms (without the alternate letter), for _card_filter().
_N = rb"[1-9][0-9]{0,2}"
#: image-header axis keywords: CTYPE1, PC1_2, PV2_1, WCSAXES, ...
_IMAGE_AXIS = (rb"(?:CTYPE|CRVAL|CRPIX|CDELT|CUNIT|CNAME|CRDER|CSYER|CZPHS|CPERI|CROTA)[1-9][0-9]?"
               rb"|(?:PC|CD|PV|PS)[1-9][0-9]?_[0-9]{1,2}|WCSAXES")
#: image-header auxiliary keywords that take an alternate letter
_IMAGE_AUX = (rb"WCSNAME|LONPOLE|LATPOLE|RESTFRQ|RESTWAV|EQUINOX|RADESYS|SPECSYS|SSYSOBS|SSYSSRC"
              rb"|VELOSYS|ZSOURCE|VELANGL|VSOURCE|VELREF|EPOCH")
#: binary-table image-array forms: 1CTYP5, 1CTY5A, 12PC5, 1V5_1, WCAX5, ...
_ARRAY_FORMS = (rb"[1-9]C[A-Z]{2,3}" + _N + rb"|[1-9][1-9](?:PC|CD)" + _N
                + rb"|[1-9](?:V|S|PV|PS)" + _N + rb"_[0-9]{1,3}|WCAX" + _N + rb"|WCS[TX]" + _N)
#: all table forms: pixel list (TCTYP5, TCTY5A, TCNAM3B, TP5_6, TV5_0, TWCS5),
#: image arrays, and per-column auxiliaries (EQUI5A, RADE5, LONP5, ...)
_TABLE_FORMS = (rb"T(?:C[A-Z]{2,3}" + _N + rb"|WCS" + _N + rb"|(?:P|PC|C|CD|V|PV|S|PS)" + _N
                + rb"_[0-9]{1,3})|" + _ARRAY_FORMS
                + rb"|(?:LONP|LATP|EQUI|RADE|WCSN|RFRQ|RWAV|SPEC|SOBS|SSRC|VSYS|VANG|ZSOU|VSOU)" + _N)
#: Every keyword wcslib's header parsers have a rule for, as prefixes of the
#: 8-character keyword field: the ``^KEYWORD`` rules of wcspih.l (image header)
#: and wcsbth.l (binary table), wcslib 8.6 as bundled by astropy 8.0 (the same
#: rules in 8.9).  Any other card matches only their catch-all rule ``^.``
#: (discarded, counted as "other"), so leaving it out changes nothing but the
#: time flex spends scanning it: ~2 us per card, and a typical header has
#: several times more such cards than WCS cards.  Generous on purpose (``PC``
#: also keeps PCOUNT, ``TS`` TSCALn): a card kept needlessly costs time, a
#: card left out wrongly would change a WCS.
_WCSLIB_KEYWORDS = (
    # structure
    rb"NAXIS|TFIELDS|END "
    # image-header axis and auxiliary keywords (wcspih), with relax's old forms
    rb"|CRPIX|CRVAL|CTYPE|CUNIT|CDELT|CROTA|CNAME|CRDER|CSYER|CZPHS|CPERI|PC|CD|PV|PS|PROJP"
    rb"|WCSAXES|WCSNAME|LONPOLE|LATPOLE|RESTFRQ|RESTFREQ|RESTWAV|VELREF|EPOCH|EQUINOX"
    rb"|RADESYS|RADECSYS|SPECSYS|SSYSOBS|SSYSSRC|VELOSYS|ZSOURCE|VELANGL|VSOURCE"
    # time and observer (both parsers)
    rb"|DATE-|DATEREF|MJD-|MJDREF|JD-REF|JDREF|BEPOCH|JEPOCH|TIMESYS|TREFPOS|TREFDIR|PLEPHEM"
    rb"|TIMEUNIT|TIMEOFFS|TSTART|TSTOP|XPOSURE|TELAPSE|TIMSYER|TIMRDER|TIMEDEL|TIMEPIXR"
    rb"|OBSGEO-|OBSORBIT|DSUN_OBS|CRLN_OBS|CRLT_OBS|HGLN_OBS|HGLT_OBS|RSUN_REF"
    rb"|A_RADIUS|B_RADIUS|C_RADIUS|BLON_OBS|BLAT_OBS|BDIS_OBS"
    # distortions: Paper IV, SIP, IRAF WAT, DSS plate solutions (wcspih)
    rb"|DP|DQ|CPDIS|CQDIS|CPERR|CQERR|DVERR|A_|B_|AP_|BP_|WAT1_|WAT2_"
    rb"|CNPIX|PPO|XPIXELSZ|YPIXELSZ|PLTRA|PLTDEC|PLATEID|AMDX|AMDY"
    # binary-table forms (wcsbth): pixel lists and per-column auxiliaries
    rb"|TC|TP|TV|TS|TWCS|WCAX|WCST|WCSX|WCSN|EQUI|RADE|LONP|LATP|RFRQ|RWAV|SPEC|SOBS|SSRC"
    rb"|VSYS|VANG|ZSOU|VSOU|DOBS|DAVG|MJDA|MJDOB|OBSG|TRPOS|TRDIR"
    # binary-table image arrays (1CTYP5, 12PC5, ...): left out by the type rules anyway
    rb"|[1-9]"
)
#: Keywords of the distortion functions of WCS Paper IV (not SIP, not TPV).
_DISTORTION_FUNCTION = (rb"(?:(?:DP|DQ|CPDIS|CQDIS|CPERR|CQERR)[1-9][0-9]?|DVERR)[ A-Z]")
# NAXIS / WCSAXES values, and the axis numbers of primary (letter-less) keywords.
_PRIMARY_AXIS_CARD = re.compile(
    rb"(NAXIS   |WCSAXES )= *([0-9]+)"
    rb"|(?:CTYPE|CRVAL|CRPIX|CDELT|CUNIT|CNAME|CRDER|CSYER|CZPHS|CPERI|CROTA|CPDIS|CQDIS|CPERR"
    rb"|CQERR|DP|DQ)([1-9][0-9]?) "
    rb"|(?:PC|CD)([1-9][0-9]?)_([1-9][0-9]?) "
    rb"|(?:PV|PS)([1-9][0-9]?)_[0-9]{1,2} ")

_IMAGE_KEY = re.compile(r"(?:CTYPE|CRVAL)[1-9][0-9]?[A-Z]?|(?:CD|PC)[1-9][0-9]?_[1-9][0-9]?[A-Z]?")
_PIXLIST_KEY = re.compile(r"TC(?:TYP|RVL)([1-9][0-9]{0,2})|TC(?:TY|RV)([1-9][0-9]{0,2})([A-Z])")
_TABLES = frozenset({"BINTABLE", "TABLE", "A3DTABLE"})
_CONTROLS_TO_SPACE = bytes(32 if c < 32 or c == 127 else c for c in range(256))
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_WCSLIB_ERROR = re.compile(r"ERROR (\d+) in (\w+)\(\)")
_AXIS_KEYWORD = re.compile(r"\b(CTYPE|CRVAL|CRPIX|CDELT|CUNIT|CNAME)([0-9]+)\b")
_PIXLIST_FORM = {"CTYPE": "TCTYP", "CRVAL": "TCRVL", "CRPIX": "TCRPX", "CDELT": "TCDLT",
                 "CUNIT": "TCUNI", "CNAME": "TCNA"}


@dataclass(frozen=True, slots=True)
class WcsUnit:
    """One WCS of a header that derivation may use, and how wcslib is asked for it.

    ``kind``: 'image' or 'pixel-list'.  ``keysel``: :data:`IMAGE_KEYSEL`
    (``wcspih``) or ``WCSHDR_PIXLIST`` (``wcsbth``).
    ``colsel``: table columns given to wcslib (None: all).  ``key``: the
    alternate WCS letter (' ' for the primary one).
    """

    kind: str
    keysel: int
    colsel: tuple[int, ...] | None = None
    key: str = " "

    @property
    def label(self) -> str:
        name = self.kind.replace("-", " ")
        if self.colsel:
            name += f" (column{'s' if len(self.colsel) > 1 else ''} "
            name += ",".join(map(str, self.colsel)) + ")"
        if self.key != " ":
            name += f" [alternate {self.key}]"
        return name


# --- Header bytes and wcslib calls, shared with derivation ----------------------

def header_bytes(header_text: str, key: str = " ", keysel: int = -1) -> bytes:
    """The header as wcslib is given it for one parse: ASCII 80-character cards.

    ``header_text`` is the staged text: 80-character cards (from a FITS file,
    up to and including END) or one card per line (a text header file).
    Characters outside printable ASCII become spaces (controls) or '?', one
    for one, so cards keep their positions (flex reads 80 bytes a card; a NUL
    or newline inside a card would shift or split it).

    Cards that no wcspih/wcsbth rule can match are left out: keywords
    beginning with COMM, HIST, CONT, HIER or four blanks (COMMENT, HISTORY,
    CONTINUE, HIERARCH, blank) and the table-structure keywords (TTYPn,
    TFORMn, TUNITn, TNULLn, TSCALn, TZEROn, TDISPn, TDIMn, TLMINn, TLMAXn,
    TDMINn, TDMAXn; no WCS keyword begins with these four letters).  wcslib
    would discard them, but scanning them is most of its time on long headers
    (a Chandra event list: 949 cards, 40 of them WCS).  For the same reason
    every card whose keyword no rule of wcslib's parsers can match (OBJECT,
    EXPTIME, INSTRUME, ...: see ``_WCSLIB_KEYWORDS``) is left out; wcslib
    would count it as "other" and discard it.

    The WCS keywords of other alternates than ``key`` (CTYPE1A, DP1B,
    TCTY5A, TCNAM3B, ...) are left out too: a unit parses one alternate, and
    wcslib's bookkeeping of alternates is where it crashes (module docstring,
    items 3 and 5).  So are the distortion functions of WCS Paper IV (DPja,
    DQia, CPDISja, CQDISia, CPERRja, CQERRia, DVERRa): rare in archives, a
    crash source in wcspih() (item 5), and sub-pixel corrections that an
    ObsCore footprint does not need.  SIP (A_p_q...) and TPV (PVi_m) stay.

    Finally only the keyword forms of the parser's type are kept: an image
    parse (``keysel`` -1, wcspih) gets no table forms (TCTYPn, iCTYPn,
    EQUIna, ...), a pixel-list parse (``WCSHDR_PIXLIST``, wcsbth) no
    image-axis forms (CTYPEi, PCi_j, ...) and no image-array forms (iCTYPn,
    ...).  The parser would discard them, but only after running their
    lexer rules, some of which are buggy.  Pre-check and derivation both
    parse these bytes.
    """
    text = header_text
    if ("\n" in text or "\r" in text) and not (len(text) % 80 == 0 and text[-80:].startswith("END")):
        text = "".join([line[:80].ljust(80) for line in _LINE_BREAK.split(text) if line])
    elif len(text) % 80:
        text = text.ljust(len(text) + 80 - len(text) % 80)
    # One byte per character ('?' for non-ASCII), then drop bulk cards, then
    # controls -> spaces: all C loops (this runs for every header of the ingest).
    data = b"".join(_card_filter(key, keysel).findall(text.encode("ascii", "replace")))
    return data.translate(_CONTROLS_TO_SPACE)


def _card_filter(key: str, keysel: int) -> re.Pattern[bytes]:
    """A pattern whose findall() keeps the cards wcslib is given for one parse.

    Each match is exactly one 80-byte card, so the scan stays aligned on card
    boundaries; cards to leave out match a branch without a group (bulk
    cards, Paper IV distortions, other alternates, other keyword types, and
    last any keyword no wcslib rule can match), the others the one group.
    """
    pattern = _CARD_FILTERS.get((key, keysel))
    if pattern is None:
        letters = "".join(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c != key).encode()
        every = _IMAGE_AXIS + b"|" + _IMAGE_AUX + b"|" + _TABLE_FORMS
        other_type = _TABLE_FORMS if keysel == IMAGE_KEYSEL else _IMAGE_AXIS + b"|" + _ARRAY_FORMS
        pattern = re.compile(
            rb"(?:COMM|HIST|CONT|HIER|    |T(?:TYP|FOR|UNI|NUL|SCA|ZER|DIS|DIM|LMI|LMA|DMI|DMA)).{76}"
            rb"|(?=" + _DISTORTION_FUNCTION + rb").{80}"
            rb"|(?=(?:" + every + rb")[" + letters + rb"] *=).{80}"
            rb"|(?=(?:" + other_type + rb")[A-Z]? *=).{80}"
            rb"|(?=" + _WCSLIB_KEYWORDS + rb")(.{80})"
            rb"|.{80}", re.S)
        _CARD_FILTERS[(key, keysel)] = pattern
    return pattern


_CARD_FILTERS: dict[tuple[str, int], re.Pattern[bytes]] = {}


def build_wcsprm(header: str | bytes, keysel: int = IMAGE_KEYSEL, *,
                 colsel: tuple[int, ...] | list[int] | None = None, key: str = " ") -> Wcsprm:
    """Parse one WCS with wcslib: the single implementation for the pre-check and derivation.

    ``header``: staged header text, or bytes from ``header_bytes(text, key,
    keysel)`` (the same ``key`` and ``keysel``).
    ``keysel``: :data:`IMAGE_KEYSEL` (-1, ``wcspih``) or ``WCSHDR_PIXLIST``
    (``wcsbth``).  Never 0 (astropy's default, "all keyword types"), nor a
    combination with ``WCSHDR_IMGHEAD``: on a binary table mixing CTYPEn with
    TCTYPn that segfaults wcslib (module docstring, item 2); nor
    ``WCSHDR_BIMGARR`` (image arrays: see the module docstring).
    ``relax=True`` as ``astropy.wcs.WCS`` does; ``warnings=False`` so that
    wcslib formats no diagnostics.
    """
    if keysel not in (IMAGE_KEYSEL, WCSHDR_PIXLIST):
        raise ValueError(f"keysel must be IMAGE_KEYSEL or WCSHDR_PIXLIST, not {keysel}")
    data = header if isinstance(header, bytes) else header_bytes(header, key, keysel)
    _refuse_excessive_axes(data, keysel)
    data = _safe_distortions(data) if keysel == IMAGE_KEYSEL else _safe_columns(data)
    return Wcsprm(header=data, key=key, relax=True, keysel=keysel,
                  colsel=list(colsel) if colsel else None, warnings=False)


def _safe_distortions(data: bytes) -> bytes:
    """Leave out SIP or DSS cards where wcspih() would misread them silently (items 1, 5).

    wcspih() translates SIP (A_p_q, B_p_q, AP_p_q, BP_p_q, A_ORDER, ...) and
    the DSS plate solution (PLTRAH, PLTDECD, AMDXm, CNPIX1, ...) itself:

    - a group mixing well-typed cards with cards whose value has the wrong
      type (``PLTDECD = '-2'`` next to a full plate solution) is applied
      without the rejected cards, i.e. with defaults (a plate centre at
      declination 0): a wrong position that no check would notice, so the
      whole group is left out and the linear WCS is used;
    - SIP in a primary WCS of fewer than two axes writes past wcspih()'s
      arrays (heap-dependent): the SIP cards are left out;
    - a group whose cards are *all* of the wrong type crashes wcspih(), every
      time (item 1): left alone, the pre-check reports it.
    """
    heads = _keyword_heads(data)
    sip = [pos for prefix in (b"A_", b"B_", b"AP_", b"BP_") for pos in _card_starts(heads, prefix)
           if _SIP_CARD.match(data, pos)]
    dss = [(pos, m) for prefix in _DSS_PREFIXES for pos in _card_starts(heads, prefix)
           if (m := _DSS_CARD.match(data, pos))]
    if not sip and not dss:
        return data
    drop: set[int] = set()
    if sip:
        good = [bool(_NUMBER_CARD.fullmatch(data, pos, pos + 80)) for pos in sip]
        if (any(good) and not all(good)) or _primary_axes(data) < 2:
            drop.update(sip)
    if dss:
        good = [bool((_STRING_CARD if m.group(1) else _NUMBER_CARD).fullmatch(data, pos, pos + 80))
                for pos, m in dss]
        if any(good) and not all(good):
            drop.update(pos for pos, _ in dss)
    if not drop:
        return data
    return b"".join(data[i:i + 80] for i in range(0, len(data), 80) if i not in drop)


def _keyword_heads(data: bytes) -> bytes:
    """The first 8 bytes of every card, end to end: what :func:`_card_starts` searches.

    Searching the 8-byte keyword fields instead of the whole header makes the
    dozen prefix searches of :func:`_safe_distortions` ten times cheaper (and
    values or comments that contain a prefix no longer cost a loop turn).
    """
    return b"".join([data[i:i + 8] for i in range(0, len(data), 80)])


def _card_starts(heads: bytes, prefix: bytes) -> list[int]:
    """Offsets (in the header) of the cards whose keyword begins with ``prefix``.

    ``heads`` is :func:`_keyword_heads` of the header; ``prefix`` is at most 8
    bytes long, so a match at a multiple of 8 lies within one card's keyword.
    """
    found = []
    pos = heads.find(prefix)
    while pos >= 0:
        if pos % 8 == 0:
            found.append(pos // 8 * 80)
        pos = heads.find(prefix, pos + 1)
    return found


def _safe_columns(data: bytes) -> bytes:
    """Keep wcsbth() within the columns TFIELDS declares (item 1).

    wcsbth() sizes its per-column arrays by TFIELDS and trusts it: with
    ``TFIELDS = -1`` the arrays have no column at all, and a first table
    keyword naming a column beyond TFIELDS (a keyword left behind when a
    column was deleted) is written past them; what follows depends on the
    heap.  So TFIELDS outside 0..999 is refused (ValueError; 0 or no TFIELDS
    makes wcsbth() size for 999 columns itself, which is safe), and the
    table-form cards of columns beyond TFIELDS are left out.
    """
    pos = data.find(b"TFIELDS =")
    while pos >= 0 and pos % 80:
        pos = data.find(b"TFIELDS =", pos + 1)
    m = _TFIELDS_CARD.match(data[pos:pos + 80]) if pos >= 0 else None
    if m is None:
        return data  # no (integer) TFIELDS: wcsbth() assumes 999 columns
    tfields = int(m.group(1))
    if not 0 <= tfields <= 999:
        raise ValueError(f"TFIELDS = {tfields} is not a column count (0 to 999): not given to "
                         "wcslib, which sizes its per-column arrays by it")
    if tfields == 0:
        return data
    kept = []
    for i in range(0, len(data), 80):
        card = data[i:i + 80]
        c = _TABLE_COLUMN_CARD.match(card)
        if c and any(int(g) > tfields for g in c.groups() if g):
            continue
        kept.append(card)
    return b"".join(kept)


def _primary_axes(data: bytes) -> int:
    """The number of axes wcspih() will give the primary WCS (no alternate letter)."""
    n = 0
    for i in range(0, len(data), 80):
        m = _PRIMARY_AXIS_CARD.match(data, i)  # anchored at the card: no scanning
        if m is None:
            continue
        if m.group(1):  # NAXIS / WCSAXES = value
            n = max(n, int(m.group(2)) if len(m.group(2)) < 4 else 0)
        else:
            n = max(n, *(int(g) for g in m.groups()[2:] if g))
    return n


def _refuse_excessive_axes(data: bytes, keysel: int) -> None:
    """Raise ValueError if NAXIS or WCSAXESa exceeds 99 (image parse).

    wcslib sizes a WCS by these values (wcsini allocates naxis x naxis
    matrices and wcsset inverts one: WCSAXES = 30000 asks for 7 GB, 3000
    spends minutes in the inversion) although no axis keyword can number
    beyond 99.  Read from the bytes, as wcslib does (the last card wins there;
    the staged keywords keep the first).
    """
    prefixes = (b"NAXIS   =", b"WCSAXES") if keysel == IMAGE_KEYSEL else ()
    for prefix in prefixes:
        pos = data.find(prefix)
        while pos >= 0:
            if pos % 80 == 0:
                card = data[pos:pos + 80]
                m = _INTEGER_CARD.match(card)
                if m and int(m.group(2)) > _MAX_AXES:
                    raise ValueError(f"{m.group(1).decode().strip()} = {int(m.group(2))} exceeds "
                                     f"{_MAX_AXES} axes: not given to wcslib (it would allocate "
                                     "and invert a matrix of that order)")
            pos = data.find(prefix, pos + 1)






def prepare_wcsprm(header: str | bytes, unit: WcsUnit) -> Wcsprm:
    """Parse, fix and set one unit: a Wcsprm ready for ``p2s`` (raises on a bad WCS)."""
    p = build_wcsprm(header, unit.keysel, colsel=unit.colsel, key=unit.key)
    fix_wcsprm(p)
    p.set()
    return p


def fix_wcsprm(p: Wcsprm) -> None:
    """The header repairs ``astropy.wcs.WCS`` makes, on a parsed Wcsprm (before ``set()``).

    ``fix()``: wcslib's datfix, unitfix, celfix, spcfix (e.g. AIPS 'FELO-HEL'
    -> 'VOPT-F2W'), cdfix, obsfix; cylfix is skipped as in ``WCS()``.  Then
    SCAMP distortions, as ``WCS()`` does: a TAN pair carrying PVi_m with m >= 5
    is pre-2012 SCAMP TPV (CTYPE -TAN becomes -TPV); if the axes are
    -TAN-SIP, the SIP polynomial wins and the PVi_m are dropped (wcslib rejects
    TAN with PVi_5..).
    """
    p.fix("", None)
    pv = p.get_pv()
    if not pv:
        return
    ctype = [c.strip().upper() for c in p.ctype]
    scamp = {i for i, m, _ in pv if m >= 5 and 1 <= i <= len(ctype) and "-TAN" in ctype[i - 1]}
    if not scamp:
        return
    tan = [i for i, c in enumerate(ctype) if c.endswith("-TAN")]
    sip = [i for i, c in enumerate(ctype) if c.endswith("-TAN-SIP")]
    if len(tan) == 2:
        new = list(p.ctype)
        for i in tan:
            new[i] = new[i].strip()[:-4] + "-TPV"
        p.ctype = new
    elif len(sip) == 2:
        p.set_pv([])


# --- Which units a header has ----------------------------------------------------

def find_wcs_units(keywords: Mapping[str, Any], xtension: str | None) -> list[WcsUnit]:
    """The WCS units of a header, decided from its keywords (keyword -> typed value)."""
    units: list[WcsUnit] = []
    table = xtension is not None and xtension.strip().upper() in _TABLES
    image_alts: set[str] = set()
    pixel_alts: set[str] = set()
    for k in keywords:
        c = k[:1]
        if c == "C" or c == "P":
            if _IMAGE_KEY.fullmatch(k):
                image_alts.add(k[-1] if k[-1].isalpha() else " ")
        elif c == "T" and table and k.startswith("TC"):
            m = _PIXLIST_KEY.fullmatch(k)
            if m:
                pixel_alts.add(" " if m.group(1) else m.group(3))
    if image_alts:
        units.append(WcsUnit("image", IMAGE_KEYSEL, None, min(image_alts)))
    if pixel_alts:
        if " " in pixel_alts:
            units.append(WcsUnit("pixel-list", WCSHDR_PIXLIST, _celestial_columns(keywords), " "))
        else:
            units.append(WcsUnit("pixel-list", WCSHDR_PIXLIST, None, min(pixel_alts)))
    return units


def _celestial_kind(ctype: str) -> tuple[str, str, str] | None:
    """('lng'|'lat', coordinate family, projection) of a celestial CTYPE, else None."""
    ctype = ctype.strip().upper()
    if len(ctype) < 8 or ctype[4] != "-":
        return None
    head, proj = ctype[:4], ctype[5:8]
    if head == "RA--":
        return "lng", "EQ", proj
    if head == "DEC-":
        return "lat", "EQ", proj
    if head[1:] == "LON":
        return "lng", head[0], proj
    if head[1:] == "LAT":
        return "lat", head[0], proj
    if head[2:] == "LN":
        return "lng", head[:2], proj
    if head[2:] == "LT":
        return "lat", head[:2], proj
    return None


def _celestial_columns(keywords: Mapping[str, Any]) -> tuple[int, int] | None:
    """The first (lng, lat) pair of pixel-list columns with matching celestial TCTYPn."""
    lng: list[tuple[int, str, str]] = []
    lat: dict[tuple[str, str], int] = {}
    for k, v in keywords.items():
        if not (isinstance(v, str) and k.startswith("TCTYP")):
            continue
        m = _PIXLIST_KEY.fullmatch(k)
        if not (m and m.group(1)):
            continue
        kind = _celestial_kind(v)
        if kind is None:
            continue
        col = int(m.group(1))
        if kind[0] == "lng":
            lng.append((col, kind[1], kind[2]))
        else:
            lat.setdefault((kind[1], kind[2]), col)
    for col, family, proj in sorted(lng):
        other = lat.get((family, proj))
        if other is not None and other != col:
            return (min(col, other), max(col, other))
    return None


# --- Probing ------------------------------------------------------------------------

def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _axis_ranges(p: Wcsprm, unit: WcsUnit, keywords: Mapping[str, Any]
                 ) -> list[tuple[float, float] | None]:
    """First and last pixel coordinate (1-based) of each WCS axis, where known."""
    n = p.naxis
    if unit.kind == "image":
        prefix = "ZNAXIS" if keywords.get("ZIMAGE") is True else "NAXIS"
        lengths = [_number(keywords.get(f"{prefix}{i}")) for i in range(1, n + 1)]
        return [(1.0, length) if length and length >= 1 else None for length in lengths]
    ranges: list[tuple[float, float] | None] = []
    for col in list(p.colax)[:n]:  # pixel list
        lo, hi = _number(keywords.get(f"TLMIN{col}")), _number(keywords.get(f"TLMAX{col}"))
        ranges.append((lo, hi) if lo is not None and hi is not None else None)
    return ranges


def probe_pixels(p: Wcsprm, unit: WcsUnit, keywords: Mapping[str, Any]) -> np.ndarray:
    """Pixel coordinates (1-based, one row each) to transform: the reference pixel, then corners.

    Corners vary the axes whose extent is known (at most 6); other axes stay at
    the reference pixel.
    """
    ref = [float(x) for x in p.crpix]
    rows = [ref]
    ranges = _axis_ranges(p, unit, keywords)
    varying = [i for i, r in enumerate(ranges) if r is not None][:_MAX_CORNER_AXES]
    for mask in range(1 << len(varying)):
        row = ref[:]
        for bit, axis in enumerate(varying):
            lo, hi = ranges[axis]  # type: ignore[misc]
            row[axis] = hi if mask >> bit & 1 else lo
        rows.append(row)
    return np.array(rows, dtype=float)


# --- The check ------------------------------------------------------------------------

def check_wcs(keywords: Mapping[str, Any], header_text: str, xtension: str | None
              ) -> tuple[str, str | None]:
    """The WCS verdict of one header: ('none'|'ok'|'error', message).

    ``keywords``: keyword -> typed value, as staged (they decide what to
    check); ``header_text``: the staged header text (what wcslib parses);
    ``xtension``: None for a primary HDU.  Returns ('none', None) when there is
    no WCS keyword, ('ok', None) when every unit parses, sets and transforms
    its reference pixel, else ('error', what failed).  Never raises for a bad
    header; it may kill the process (that is what the isolated pool is for).
    """
    units = find_wcs_units(keywords, xtension)
    if not units:
        return "none", None
    errors = [e for e in (_check_unit(header_bytes(header_text, unit.key, unit.keysel), unit, keywords)
                          for unit in units) if e]
    if errors:
        message = "; ".join(errors)
        if len(message) > MESSAGE_MAX:
            message = message[:MESSAGE_MAX - 3] + "..."
        return "error", message
    return "ok", None


def _check_unit(data: bytes, unit: WcsUnit, keywords: Mapping[str, Any]) -> str | None:
    p: Wcsprm | None = None
    step = "parse"
    try:
        p = build_wcsprm(data, unit.keysel, colsel=unit.colsel, key=unit.key)
        step = "fix"
        fix_wcsprm(p)
        step = "set"
        p.set()
        if p.naxis == 0:
            return None
        step = "p2s"
        pixels = probe_pixels(p, unit, keywords)
        result = p.p2s(pixels, 1)
        world, stat = result["world"], result["stat"]
        if stat[0] != 0 or not all(math.isfinite(x) for x in world[0].tolist()):
            return (f"{unit.label}: p2s: the reference pixel {_fmt(pixels[0])} has no valid "
                    f"world coordinates")
    except Exception as exc:  # noqa: BLE001 - every wcslib failure is a verdict
        return _describe(exc, unit, p, step)
    return None


def _fmt(values: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:g}" for v in values) + ")"


def _describe(exc: BaseException, unit: WcsUnit, p: Wcsprm | None, step: str) -> str:
    """'<unit>: <step>: <Exception> in <wcslib function>(): <wcslib's last line>'."""
    text = str(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    message = lines[-1] if lines else ""
    found = _WCSLIB_ERROR.findall(text)
    where = f" in {found[-1][1]}()" if found else ""
    if unit.kind == "pixel-list" and p is not None:
        message = _table_keywords(message, unit, p)
    if isinstance(exc, MemoryError) and found:
        message += (f" [wcslib status {found[-1][0]}, reported by astropy as MemoryError: "
                    "not an allocation failure]")
    elif isinstance(exc, MemoryError) and step == "parse":
        message += (" [astropy's message for any failure of wcslib's header parser, e.g. "
                    "incomplete -TAB keywords; rarely a real allocation failure]")
    return f"{unit.label}: {step}: {type(exc).__name__}{where}: {message}".rstrip(": ")


def _table_keywords(message: str, unit: WcsUnit, p: Wcsprm) -> str:
    """Name table keywords in a wcslib message: CTYPE3 -> TCTYP9 (axis 3 = column 9)."""
    try:
        colax = [int(c) for c in p.colax]
    except Exception:  # noqa: BLE001
        return message

    def repl(m: re.Match[str]) -> str:
        axis = int(m.group(2))
        if 1 <= axis <= len(colax) and colax[axis - 1]:
            return f"{_PIXLIST_FORM[m.group(1)]}{colax[axis - 1]}"
        return m.group(0)

    return _AXIS_KEYWORD.sub(repl, message)
