"""What a data product is called: facility, instrument, target, identifiers, access, curation.

:func:`derive_names` sets, for one product (docs/derivation/product-and-names.md):

- ``facility_name`` / ``instrument_name`` from TELESCOP / INSTRUME / OBSERVAT
  (primary header inherited), normalised through :data:`FACILITY_ALIASES` and
  :data:`INSTRUMENT_ALIASES`; unknown values are kept, cleaned (stripped,
  blanks collapsed), never invented;
- ``target_name`` from OBJECT, TARGNAME, TARGET, ESO OBS TARG NAME, DESIG,
  OBJNAME (first usable; placeholders, file names and ESO pipeline categories
  skipped; a digits-only catalogue number only when nothing better exists);
- ``obs_collection`` and ``source_catalogue``: the VizieR catalogue id;
- ``obs_id``: ``<catalogue>:<TELESCOP>:<OBS_ID>`` when the OGIP/GADF OBS_ID
  keyword is a usable token, else ``<catalogue>:<relpath without extensions>``;
- ``obs_publisher_did``: ``ivo://<authority>/<catalogue>?<relpath>#<hdu>``
  (``#<hdu>.<order>`` when several products share an HDU);
- ``access_url`` (``access_base_url`` + catalogue/relpath), ``access_format``
  (MIME type), ``access_estsize`` (kbyte, rounded up), ``header_url``;
- ``obs_title``, ``bib_reference``, ``obs_creator_name`` from the catalogue's
  ReadMe (VizieR standard description, or an AAS MRT header) when given.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from .context import Derivation, HDUContext, RuleConfig
from .product import Product, is_header_file

__all__ = [
    "derive_names", "normalise_facility", "normalise_instrument", "parse_readme", "ReadMe",
    "FACILITY_ALIASES", "INSTRUMENT_ALIASES", "obs_publisher_did", "file_stem",
]

_BLANKS_RE = re.compile(r"\s+")


def clean(value: Any) -> str | None:
    """A keyword value as display text: stripped, blanks collapsed; None when empty/not text."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    s = _BLANKS_RE.sub(" ", str(value)).strip().strip("'\"").strip()
    return s or None


# ---------------------------------------------------------------------------
# Facility and instrument
# ---------------------------------------------------------------------------
#: Normalised facility names: key = cleaned upper-case keyword value.
#: Only spelling variants of one facility; the canonical form is the name
#: astronomers use (and the one the IVOA registry / ObsCore services use most).
FACILITY_ALIASES: dict[str, str] = {
    # optical/IR ground
    "UK SCHMIDT": "UK Schmidt", "UK SCHMIDT - DOUBL": "UK Schmidt", "UKST": "UK Schmidt",
    "UK SCHMIDT TELESCOPE": "UK Schmidt",
    "P48": "Palomar 48-inch", "PALOMAR 48": "Palomar 48-inch", "PALOMAR 48-INCH": "Palomar 48-inch",
    "LAMOST": "LAMOST", "GUOSHOUJING": "LAMOST", "GUO SHOU JING": "LAMOST", "GSJT": "LAMOST",
    "GUOSHOUJING TELESCOPE": "LAMOST",
    "SDSS 2.5-M": "SDSS", "SDSS 2.5M": "SDSS", "SDSS": "SDSS", "SLOAN": "SDSS", "APO 2.5M": "SDSS",
    "ANGLO-AUSTRALIAN TELESCOPE": "AAT", "AAT": "AAT",
    "CLAY_MAG_2": "Magellan Clay", "MAGELLAN CLAY": "Magellan Clay",
    "MAGELLAN-CLAY": "Magellan Clay", "MAGELLAN 2": "Magellan Clay",
    "BAADE_MAG_1": "Magellan Baade", "MAGELLAN BAADE": "Magellan Baade",
    "MAGELLAN-BAADE": "Magellan Baade", "MAGELLAN 1": "Magellan Baade",
    "GEMINI-NORTH": "Gemini-North", "GEMINI-N": "Gemini-North", "GEMINI NORTH": "Gemini-North",
    "GEMINI-SOUTH": "Gemini-South", "GEMINI-S": "Gemini-South", "GEMINI SOUTH": "Gemini-South",
    "ESO-VLT-U1": "VLT", "ESO-VLT-U2": "VLT", "ESO-VLT-U3": "VLT", "ESO-VLT-U4": "VLT",
    "ESO-VLT-U1234": "VLT", "VLT": "VLT", "ESO-VLTI-U1234": "VLTI",
    "ESO-NTT": "NTT", "ESO-3.6": "ESO 3.6m", "ESO-3P6": "ESO 3.6m", "ESO-VISTA": "VISTA",
    "ESO-VST": "VST", "ESO-2.2": "MPG/ESO 2.2m", "MPI-2.2": "MPG/ESO 2.2m",
    "KECK I": "Keck I", "KECK1": "Keck I", "KECK II": "Keck II", "KECK2": "Keck II",
    "SUBARU": "Subaru", "CFHT": "CFHT", "WHT": "WHT", "INT": "INT", "NOT": "NOT", "TNG": "TNG",
    "GTC": "GTC", "2MASS": "2MASS", "UKIRT": "UKIRT", "IRTF": "IRTF",
    # radio/mm
    "ATNF MOPRA": "Mopra", "MOPRA": "Mopra", "GBT": "GBT", "NRAO_GBT": "GBT", "NRAO GBT": "GBT",
    "VLA": "VLA", "EVLA": "VLA", "JVLA": "VLA", "ALMA": "ALMA", "JCMT": "JCMT", "APEX": "APEX",
    "IRAM-30M": "IRAM 30m", "IRAM 30M": "IRAM 30m", "PICO VELETA": "IRAM 30m",
    "ARECIBO": "Arecibo", "PARKES": "Parkes", "EFFELSBERG": "Effelsberg", "SMT": "SMT",
    "FCRAO": "FCRAO 14m", "CSO": "CSO",
    # space: optical/IR/UV
    "HST": "HST", "HUBBLE": "HST", "HUBBLE SPACE TELESCOPE": "HST", "JWST": "JWST",
    "SPITZER": "Spitzer", "SST": "Spitzer", "KEPLER": "Kepler", "K2": "Kepler", "TESS": "TESS",
    "GALEX": "GALEX", "WISE": "WISE", "NEOWISE": "WISE", "HERSCHEL": "Herschel",
    "PLANCK": "Planck", "GAIA": "Gaia", "MSX": "MSX", "IRAS": "IRAS", "AKARI": "AKARI",
    "IUE": "IUE", "FUSE": "FUSE", "COROT": "CoRoT", "CHEOPS": "CHEOPS",
    # space: high energy
    "CHANDRA": "Chandra", "AXAF": "Chandra", "CXO": "Chandra",
    "XMM": "XMM-Newton", "XMM-NEWTON": "XMM-Newton", "XMM NEWTON": "XMM-Newton",
    "GLAST": "Fermi", "FERMI": "Fermi", "FERMI GAMMA-RAY SPACE TELESCOPE": "Fermi",
    "SWIFT": "Swift", "SUZAKU": "Suzaku", "ASTRO-E2": "Suzaku", "NUSTAR": "NuSTAR",
    "INTEGRAL": "INTEGRAL", "ROSAT": "ROSAT", "XTE": "RXTE", "RXTE": "RXTE", "ASCA": "ASCA",
    "EINSTEIN": "Einstein", "EROSITA": "eROSITA", "SRG": "SRG", "NICER": "NICER",
    "HESSI": "RHESSI", "RHESSI": "RHESSI",
    # ground: gamma rays
    "HESS": "H.E.S.S.", "H.E.S.S.": "H.E.S.S.", "H.E.S.S": "H.E.S.S.", "MAGIC": "MAGIC",
    "HAWC": "HAWC", "VERITAS": "VERITAS", "CTA": "CTA", "LHAASO": "LHAASO", "FACT": "FACT",
    # solar / heliospheric
    "SOHO": "SOHO", "SDO": "SDO", "IRIS": "IRIS", "PROBA2": "PROBA2", "PROBA-2": "PROBA2",
    "STEREO A": "STEREO-A", "STEREO-A": "STEREO-A", "STEREO B": "STEREO-B",
    "STEREO-B": "STEREO-B", "HINODE": "Hinode", "SOLAR ORBITER": "Solar Orbiter",
    "SOLO": "Solar Orbiter", "TRACE": "TRACE",
}
#: Regular-expression aliases, tried after the table (pattern on the upper-case value).
_FACILITY_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"GOES[-_ ]?(\d+)"), "GOES-{0}"),
    (re.compile(r"ESO-VLT-U[1-4]+"), "VLT"),
    (re.compile(r"SMT(-.*)?"), "SMT"),  # CLASS telescope names: SMT-<backend>-<pol>
)
#: Values that name no facility (a waveband, a placeholder): dropped.
FACILITY_PLACEHOLDERS = frozenset({
    "UNKNOWN", "NONE", "N/A", "NA", "-", "?", "NULL", "OPTICAL", "RADIO", "X-RAY", "INFRARED",
    "IR", "UV", "TELESCOPE", "UNDEFINED",
})
#: Instrument spelling variants: key = cleaned upper-case value or prefix pattern.
INSTRUMENT_ALIASES: dict[str, str] = {
    "SPIRITIII": "SPIRIT III", "SPIRIT III": "SPIRIT III",
}
_INSTRUMENT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"HMI(_.*)?"), "HMI"),  # SDO: HMI_COMBINED, HMI_FRONT2, HMI_SIDE1
    (re.compile(r"AIA(_.*)?"), "AIA"),
)
#: A TELESCOP holding only an aperture ('3.5m', '2.1-m'): qualified by OBSERVAT.
_APERTURE_ONLY_RE = re.compile(r"\d+(\.\d+)?\s*-?\s*(M|METRE|METER|INCH|IN)", re.I)


def normalise_facility(value: Any) -> tuple[str | None, str | None]:
    """(facility, instrument hint) for a TELESCOP/OBSERVAT value; (None, None) when unusable."""
    s = clean(value)
    if s is None:
        return None, None
    key = s.upper()
    if key in FACILITY_PLACEHOLDERS:
        return None, None
    alias = FACILITY_ALIASES.get(key)
    if alias is not None:
        return alias, None
    for pattern, template in _FACILITY_PATTERNS:
        m = pattern.fullmatch(key)
        if m is not None:
            return template.format(*m.groups()), None
    if "/" in s:  # 'SDO/HMI': facility / instrument
        head, _, tail = s.partition("/")
        alias = FACILITY_ALIASES.get(head.strip().upper())
        if alias is not None:
            return alias, (tail.strip() or None)
    return s, None


def normalise_instrument(value: Any) -> str | None:
    s = clean(value)
    if s is None:
        return None
    key = s.upper()
    if key in FACILITY_PLACEHOLDERS:
        return None
    alias = INSTRUMENT_ALIASES.get(key)
    if alias is not None:
        return alias
    for pattern, template in _INSTRUMENT_PATTERNS:
        m = pattern.fullmatch(key)
        if m is not None:
            return template.format(*m.groups())
    return s


# ---------------------------------------------------------------------------
# Target
# ---------------------------------------------------------------------------
_TARGET_KEYWORDS = ("OBJECT", "TARGNAME", "TARGET", "ESO OBS TARG NAME", "DESIG", "OBJNAME")
#: OBJECT values that are no target: placeholders and calibration frame types.
TARGET_PLACEHOLDERS = frozenset({
    "DATA", "NONE", "NULL", "UNKNOWN", "N/A", "NA", "-", "?", "OBJECT", "TARGET", "TEST",
    "IMAGE", "SPECTRUM", "NO NAME", "NONAME", "UNDEFINED", "DUMMY", "FLAT", "BIAS", "DARK",
    "ARC", "ZERO", "COMP", "SKY", "FULL FOV",
    "CSC",  # Chandra Source Catalog products: OBJECT = 'CSC', not a target
})
#: file names and VMS paths written into OBJECT (e.g. 'sxrb_disk_l1:[sxrb0.mjf.map]xr_m.map')
_FILENAME_RE = re.compile(r":\[|\.(fits?|fts|map|imh|hhh|sdf|dat|img)\b", re.I)
_DIGITS_RE = re.compile(r"\d+")


def _target(ctx: HDUContext, out: Derivation) -> None:
    pro_catg = clean(ctx.get("ESO PRO CATG")[0])
    weak: tuple[str, str] | None = None
    for key in _TARGET_KEYWORDS:
        value, src = ctx.get(key)
        s = clean(value)
        if s is None:
            continue
        reason = None
        if s.upper() in TARGET_PLACEHOLDERS:
            reason = "a placeholder"
        elif _FILENAME_RE.search(s):
            reason = "a file name"
        elif pro_catg is not None and s == pro_catg:
            reason = "the ESO pipeline product category (PRO.CATG)"
        if reason is not None:
            out.issue("target-name-placeholder", f"{src} = {s!r} is {reason}, not a target name",
                      "target_name", "info")
            continue
        if _DIGITS_RE.fullmatch(s):
            if weak is None:  # a bare catalogue number: only when nothing better exists
                weak = (s, src)
            continue
        out.set("target_name", s, (src,), "names.target.keyword")
        return
    if weak is not None:
        out.set("target_name", weak[0], (weak[1],), "names.target.keyword",
                "a bare catalogue number (no other name in the header)")


# ---------------------------------------------------------------------------
# Identifiers and access
# ---------------------------------------------------------------------------
#: compression suffixes, then the data-file suffix, stripped for obs_id
_COMPRESSION_SUFFIXES = (".gz", ".fz", ".bz2", ".z", ".zip", ".xz")
_DATA_SUFFIXES = (".fits", ".fit", ".fts", ".pha", ".pi", ".hdr", ".header", ".img", ".lc",
                  ".evt", ".rmf", ".arf")
_OBS_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+-]{0,63}")
#: characters kept verbatim: RFC 3986 pchar minus the ones a CGI or a form
#: decoder could misread ('+' = blank, '&', '=') in URLs; identifiers keep them.
_URL_SAFE = "/:@-._~!$'()*,;"
_DID_SAFE = _URL_SAFE + "+=&"


def file_stem(relpath: str) -> str:
    """relpath without its compression and data-file suffixes ('a/b.fits.gz' -> 'a/b')."""
    s = relpath
    low = s.lower()
    changed = True
    while changed:
        changed = False
        for suf in _COMPRESSION_SUFFIXES:
            if low.endswith(suf) and len(low) > len(suf):
                s, low, changed = s[:-len(suf)], low[:-len(suf)], True
    for suf in _DATA_SUFFIXES:
        if low.endswith(suf) and len(low) > len(suf):
            return s[:-len(suf)]
    return s


def obs_publisher_did(authority: str, catalogue: str, relpath: str, hdu: int,
                      order: int | None = None) -> str:
    frag = f"{hdu}" if order is None else f"{hdu}.{order}"
    return (f"ivo://{authority}/{quote(catalogue, safe=_DID_SAFE)}"
            f"?{quote(relpath, safe=_DID_SAFE)}#{frag}")


def _obs_id_token(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer()):
            return None
        value = int(value)
    s = str(value).strip()
    return s if _OBS_ID_RE.fullmatch(s) else None


def _identifiers(ctx: HDUContext, product: Product, out: Derivation, config: RuleConfig) -> None:
    cat, rel = ctx.catalogue, ctx.relpath
    if not cat:
        out.issue("no-catalogue", "the product has no catalogue id", "obs_collection", "error")
        return
    out.set("obs_collection", cat, ("catalogue",), "names.collection.catalogue")
    out.set("source_catalogue", cat, ("catalogue",), "names.source-catalogue")
    value, src = ctx.get("OBS_ID")
    token = _obs_id_token(value)
    # qualified by TELESCOP as written (not the normalised facility: obs_id must not
    # change when the alias table does)
    telescop, t_src = ctx.get("TELESCOP")
    facility = clean(telescop)
    if token is not None and facility:
        out.set("obs_id", f"{cat}:{facility}:{token}", ("catalogue", t_src, src),
                "names.obs-id.keyword", "<catalogue>:<TELESCOP>:<OBS_ID>")
    else:
        if value is not None:
            why = "no TELESCOP to qualify it" if token is not None else "not an identifier token"
            out.issue("obs-id-keyword-unusable", f"{src} = {value!r}: {why}; obs_id from the "
                      f"file path", "obs_id", "info")
        out.set("obs_id", f"{cat}:{file_stem(rel)}", ("catalogue", "file"), "names.obs-id.path",
                "<catalogue>:<file path without extensions>")
    out.set("obs_publisher_did",
            obs_publisher_did(config.authority, cat, rel, product.hdu, product.order),
            ("catalogue", "file", "hdu"), "names.did",
            f"ivo://{config.authority}/<catalogue>?<file>#<hdu>")
    path = quote(f"{cat}/{rel}", safe=_URL_SAFE)
    out.set("access_url", config.access_base_url + path, ("catalogue", "file"),
            "names.access.url", "access_base_url + <catalogue>/<file>")
    out.set("header_url", config.header_base_url + path, ("catalogue", "file"),
            "names.header-url", "header_base_url + <catalogue>/<file>")
    out.set("access_format", _access_format(ctx, product), ("file", "hdu"),
            "names.access.format")
    if isinstance(ctx.file_size, int) and ctx.file_size >= 0:
        out.set("access_estsize", -(-ctx.file_size // 1024), ("file",), "names.access.estsize",
                "file size / 1024, rounded up (the file as stored)")
    else:
        out.issue("no-file-size", "file size unknown: access_estsize not set", "access_estsize",
                  "info")


def _access_format(ctx: HDUContext, product: Product) -> str:
    """MIME type of the file as stored (ObsCore 1.1 §4.7 table)."""
    rel = ctx.relpath.lower()
    if is_header_file(rel):
        return "text/plain"
    single_image = ctx.n_hdus == 1 and not ctx.is_table and not product.header_only
    if rel.endswith(".gz"):
        return "image/x-fits-gzip" if single_image else "application/x-fits-gzip"
    return "image/fits" if single_image else "application/fits"


# ---------------------------------------------------------------------------
# ReadMe
# ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ReadMe:
    """What the catalogue's ReadMe says about the catalogue."""

    catalogue: str | None = None
    short_title: str | None = None
    title: str | None = None
    authors: str | None = None  # the author list as written, cleaned
    first_author: str | None = None
    year: int | None = None
    bibcode: str | None = None


_LINE1_RE = re.compile(r"^(?P<cat>\S+)\s+(?P<title>.*?)\s*"
                       r"\((?P<who>[^()]*?)[,\s]\s*(?P<year>\d{4})[a-z]?\)\s*$")
_BIBCODE_RE = re.compile(r"^\s*=\s*(?P<bib>\d{4}[A-Za-z0-9&.]{14}[A-Za-z.])(?:\s|$)")
_RULE_RE = re.compile(r"^\s*[=-]{20,}\s*$")


def _join(lines: list[str]) -> str | None:
    s = _BLANKS_RE.sub(" ", " ".join(x.strip() for x in lines)).strip()
    return s or None


def _clean_authors(s: str | None) -> str | None:
    if s is None:
        return None
    parts = [p.strip() for p in s.split(",")]  # drops the empty entries of 'A B., , C D.'
    return ", ".join(p for p in parts if p) or None


@lru_cache(maxsize=256)
def parse_readme(text: str) -> ReadMe:
    """Title, authors and bibcode of a VizieR ReadMe (or an AAS MRT header).

    VizieR ("Standard Description for Astronomical Catalogues"): line 1 is
    ``<catalogue id>  <short title>  (<First author>+, <year>)``, a rule of
    '=', then the full title (lines starting at column 1), the authors
    (indented), the reference ``<...>`` and the bibcode ``=2011A&A...526A.155X``,
    closed by a rule of '='.  MRT: ``Title:`` and ``Authors:`` blocks.
    Never raises: what cannot be read stays None.
    """
    lines = text.lstrip("\ufeff").splitlines()
    # skip leading blank lines
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return ReadMe()
    if lines[0].startswith("Title:"):
        return _parse_mrt(lines)
    cat = short = who = None
    year = None
    m = _LINE1_RE.match(lines[0].rstrip())
    if m is not None:
        cat, short, who, year = (m.group("cat"), m.group("title").strip() or None,
                                 m.group("who").strip(" ,+") or None, int(m.group("year")))
    else:
        parts = lines[0].split(None, 1)
        cat = parts[0] if parts else None
        short = parts[1].strip() if len(parts) > 1 else None
    title_lines: list[str] = []
    author_lines: list[str] = []
    bibcode = None
    started = False
    for line in lines[1:60]:
        if _RULE_RE.match(line):
            if started:
                break
            started = True
            continue
        if not started:
            continue
        b = _BIBCODE_RE.match(line)
        if b is not None:
            bibcode = b.group("bib")
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("<"):
            continue
        if line[:1].isspace():
            author_lines.append(stripped)
        elif not author_lines:
            title_lines.append(stripped)
    authors = _clean_authors(_join(author_lines))
    first = authors.split(",")[0].strip() if authors else None
    return ReadMe(cat, short, _join(title_lines), authors, first or who, year, bibcode)


def _parse_mrt(lines: list[str]) -> ReadMe:
    blocks: dict[str, list[str]] = {}
    current = None
    for line in lines[:60]:
        if _RULE_RE.match(line):
            break
        m = re.match(r"^(Title|Authors|Table):\s*(.*)$", line)
        if m is not None:
            current = m.group(1)
            blocks[current] = [m.group(2)]
        elif current is not None and line[:1].isspace():
            blocks[current].append(line)
    title = _join(blocks.get("Title", []))
    authors = _join(blocks.get("Authors", []))
    first = None
    if authors:
        # 'Gutermuth R.A., Myers P.C.' or 'Kirkpatrick, J. D.; et al.'
        first = (authors.split(";")[0] if ";" in authors else authors.split(",")[0]).strip() or None
    return ReadMe(None, None, title, authors, first, None, None)


_TITLE_MAX = 200


def _fit(base: str, suffix: str, limit: int = _TITLE_MAX) -> str:
    """``base + suffix`` within ``limit`` characters, shortening ``base`` at a word ('...')."""
    if len(base) + len(suffix) <= limit:
        return base + suffix
    room = limit - len(suffix) - 3
    if room < 10:
        s = (base + suffix)
        return s[:limit - 3].rstrip() + "..."
    cut = base[:room]
    if " " in cut[room // 2:]:
        cut = cut[:cut.rstrip().rfind(" ")]
    return cut.rstrip(" ,;:-") + "..." + suffix


def _curation(ctx: HDUContext, product: Product, out: Derivation, readme_text: str | None) -> None:
    readme = parse_readme(readme_text) if readme_text else None
    if readme is not None and readme.catalogue and ctx.catalogue and \
            readme.catalogue.strip("/") != ctx.catalogue.strip("/"):
        out.issue("readme-catalogue-mismatch", f"ReadMe is for {readme.catalogue!r}, the file "
                  f"belongs to {ctx.catalogue!r}", "obs_title", "warning")
    # obs_title: "<catalogue title>: <type> of <target>" (or the file name without a target)
    dptype = product.dataproduct_type or "data"
    target = out.value("target_name")
    base_src: tuple[str, ...]
    if readme is not None and (readme.short_title or readme.title):
        base = readme.short_title or readme.title
        base_src, rule = ("readme",), "names.title.readme"
    else:
        base, base_src, rule = ctx.catalogue or "", ("catalogue",), "names.title.catalogue"
    if target:
        suffix = f": {dptype} of {target}"
        srcs = base_src + ("dataproduct_type", "target_name")
    else:
        suffix = f": {dptype} {ctx.relpath.rsplit('/', 1)[-1]}"
        srcs = base_src + ("dataproduct_type", "file")
    if base:
        out.set("obs_title", _fit(base, suffix), srcs, rule,
                "<catalogue title>: <dataproduct_type> of <target> (or <file name>)")
    if readme is None:
        return
    if readme.bibcode:
        out.set("bib_reference", readme.bibcode, ("readme",), "names.bibcode.readme")
    creator = readme.authors
    if creator and len(creator) > _TITLE_MAX and readme.first_author:
        creator = f"{readme.first_author} et al."
    if not creator and readme.first_author:
        creator = f"{readme.first_author} et al."
    if creator:
        out.set("obs_creator_name", creator, ("readme",), "names.creator.readme",
                "the catalogue's authors (first author et al. beyond 200 characters)")


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------
def derive_names(ctx: HDUContext, product: Product, out: Derivation,
                 config: RuleConfig | None = None, *, catalogue_readme: str | None = None) -> None:
    """Set the naming, identification, access and curation columns of one product."""
    config = config or RuleConfig()
    for step in (_facility, _target):
        try:
            step(ctx, out)
        except Exception as exc:  # never raise on bad input
            out.issue("names-failed", f"{step.__name__}: {type(exc).__name__}: {exc}", None,
                      "error")
    try:
        _identifiers(ctx, product, out, config)
    except Exception as exc:
        out.issue("names-failed", f"identifiers: {type(exc).__name__}: {exc}", "obs_id", "error")
    try:
        _curation(ctx, product, out, catalogue_readme)
    except Exception as exc:
        out.issue("names-failed", f"curation: {type(exc).__name__}: {exc}", "obs_title", "error")


def _facility(ctx: HDUContext, out: Derivation) -> None:
    telescop, t_src = ctx.get("TELESCOP")
    observat, o_src = ctx.get("OBSERVAT")
    facility, hint = normalise_facility(telescop)
    hint_src = t_src
    if facility is not None:
        raw = clean(telescop) or ""
        if _APERTURE_ONLY_RE.fullmatch(raw) and clean(observat):
            # TELESCOP = '3.5m', OBSERVAT = 'APO' -> 'APO 3.5m'
            obs, _ = normalise_facility(observat)
            if obs is not None:
                out.set("facility_name", f"{obs} {raw}", (o_src, t_src),
                        "names.facility.observatory-aperture", "TELESCOP is only an aperture")
        else:
            rule = "names.facility.alias" if facility != raw else "names.facility.keyword"
            out.set("facility_name", facility, (t_src,), rule)
    elif clean(telescop) is not None:
        out.issue("facility-placeholder", f"{t_src} = {clean(telescop)!r} names no facility",
                  "facility_name", "info")
    if not out.has("facility_name"):
        obs, _ = normalise_facility(observat)
        if obs is not None:
            rule = "names.facility.alias" if obs != clean(observat) else "names.facility.keyword"
            out.set("facility_name", obs, (o_src,), rule, "OBSERVAT (no usable TELESCOP)")
    instrume, i_src = ctx.get("INSTRUME")
    instrument = normalise_instrument(instrume)
    if instrument is not None:
        rule = "names.instrument.alias" if instrument != clean(instrume) else \
            "names.instrument.keyword"
        out.set("instrument_name", instrument, (i_src,), rule)
    elif hint is not None:
        out.set("instrument_name", normalise_instrument(hint), (hint_src,),
                "names.instrument.telescop-suffix", "TELESCOP = <facility>/<instrument>")
