"""The VizieR ReadMe as a source of metadata: which file is which object, and where.

A VizieR ReadMe ("Standard Description for Astronomical Catalogues", the
format astropy's ``io.ascii`` CDS reader reads) opens with the catalogue's
title, authors and bibcode (read by :func:`assocdata.derive.names.parse_readme`,
the one implementation the derivation also uses), then has sections:
``ADC_Keywords:`` and ``Keywords:``, ``Objects:`` (a table of positions,
designations and the file each one is in), ``File Summary:`` (every file
with a one-line explanation), byte-by-byte descriptions and notes.

This module reads the sections the derivation does not, never raising: a
section it cannot read is simply absent from the result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..derive.names import parse_readme
from .suggesters import CatalogueInfo, Suggestion

_RULE = re.compile(r"^\s*[-=]{10,}\s*$")
_SECTION = re.compile(r"^(?P<name>[A-Z][A-Za-z0-9_ ()./-]{1,60}?)\s*:\s*(?P<rest>.*)$")
_SEXA = re.compile(
    r"^\s*(?P<rah>\d{1,2})\s+(?P<ram>\d{1,2})(?:\s+(?P<ras>\d{1,2}(?:\.\d*)?))?\s+"
    r"(?P<sign>[-+])\s?(?P<ded>\d{1,2})\s+(?P<dem>\d{1,2})(?:\s+(?P<des>\d{1,2}(?:\.\d*)?))?"
    r"\s+(?P<rest>\S.*?)\s*$")
_DEGREES = re.compile(r"^\s*(?P<ra>\d{1,3}\.\d+)\s+(?P<dec>[-+]?\d{1,2}\.\d+)\s+(?P<rest>\S.*?)\s*$")
_FILES = re.compile(r"\((?P<files>[^()]*\.[A-Za-z0-9*]+[^()]*)\)\s*$")
_GREEK = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class FileEntry:
    """One line of the File Summary."""

    name: str
    explanation: str


@dataclass(frozen=True)
class ObjectEntry:
    """One line of the Objects section: a position, designations, the files it is in."""

    designation: str
    aliases: tuple[str, ...]
    ra: float | None
    dec: float | None
    files: tuple[str, ...]
    line: int


@dataclass
class VizierReadMe:
    catalogue: str | None = None
    title: str | None = None
    short_title: str | None = None
    authors: str | None = None
    first_author: str | None = None
    bibcode: str | None = None
    adc_keywords: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    files: list[FileEntry] = field(default_factory=list)
    objects: list[ObjectEntry] = field(default_factory=list)
    equinox: str | None = None  # of the Objects positions, as written: '2000', 'J2000', 'ICRS', '1950'


def _sections(lines: list[str]) -> dict[str, tuple[int, list[str]]]:
    """Top-level sections: a line 'Name:' at column 1, up to the next one."""
    out: dict[str, tuple[int, list[str]]] = {}
    current: str | None = None
    for i, line in enumerate(lines):
        m = _SECTION.match(line) if line[:1].isalpha() else None
        if m and not line.startswith(("Byte-by-byte", "Note")):
            current = m["name"].strip()
            out.setdefault(current, (i + 1, []))[1].append(m["rest"])
            continue
        if line[:1].isalpha() and line.startswith(("Byte-by-byte", "Note", "History",
                                                   "Acknowledgements", "References", "=")):
            current = None
            continue
        if current is not None:
            out[current][1].append(line)
    return out


def _keywords(text_lines: list[str], sep: str) -> list[str]:
    text = " ".join(x.strip() for x in text_lines if x.strip())
    return [k.strip() for k in re.split(sep, text) if k.strip()]


def _file_summary(block: list[str]) -> list[FileEntry]:
    rows = [line for line in block if line.strip() and not _RULE.match(line)]
    out: list[tuple[str, str]] = []
    for line in rows:
        if re.match(r"^\s*FileName\b", line):
            continue
        m = re.match(r"^(?P<name>\S+)\s+(?P<lrecl>\d+|\.)\s+(?P<records>\d+|\.)\s+\*?(?P<expl>.*)$", line)
        if m and not line[:1].isspace():
            out.append((m["name"], m["expl"].strip()))
        elif out and line[:1].isspace():  # continuation of the explanation
            name, expl = out[-1]
            out[-1] = (name, f"{expl} {line.strip()}".strip())
    return [FileEntry(n, e) for n, e in out if n != "ReadMe"]


def _objects(block: list[str], first_line: int) -> tuple[list[ObjectEntry], str | None]:
    equinox = None
    header = next((line for line in block if re.search(r"\bRA\b", line)), "")
    m = re.search(r"\((J?\d{4}(?:\.\d)?|ICRS|FK5|FK4)\)", header)
    if m:
        equinox = m[1]
    out = []
    for k, line in enumerate(block):
        if not line.strip() or _RULE.match(line) or re.search(r"\bRA\b.*\bDE", line):
            continue
        ra = dec = None
        s = _SEXA.match(line)
        if s:
            rest = s["rest"]
            ra = 15 * (int(s["rah"]) + int(s["ram"]) / 60 + float(s["ras"] or 0) / 3600)
            dec = int(s["ded"]) + int(s["dem"]) / 60 + float(s["des"] or 0) / 3600
            dec = -dec if s["sign"] == "-" else dec
        else:
            d = _DEGREES.match(line)
            if not d:
                continue
            rest, ra, dec = d["rest"], float(d["ra"]), float(d["dec"])
        files: tuple[str, ...] = ()
        f = _FILES.search(rest)
        if f:
            files = tuple(x.strip() for x in re.split(r"[,\s]+", f["files"]) if x.strip())
            rest = rest[:f.start()].strip()
        names = tuple(_GREEK.sub(r"\1", n).strip() for n in rest.split(" = ") if n.strip())
        if not names or not (0 <= ra < 360) or not (-90 <= dec <= 90):
            continue
        out.append(ObjectEntry(names[0], names[1:], ra, dec, files, first_line + k))
    return out, equinox


def parse(text: str) -> VizierReadMe:
    """Everything this module reads from a ReadMe; never raises."""
    head = parse_readme(text)
    out = VizierReadMe(head.catalogue, head.title, head.short_title, head.authors,
                       head.first_author, head.bibcode)
    try:
        lines = text.lstrip("\ufeff").splitlines()
        sections = _sections(lines)
        if "ADC_Keywords" in sections:
            out.adc_keywords = _keywords(sections["ADC_Keywords"][1], r";")
        if "Keywords" in sections:
            out.keywords = _keywords(sections["Keywords"][1], r"\s+-\s+|\s+-$|;")
        if "File Summary" in sections:
            out.files = _file_summary(sections["File Summary"][1])
        if "Objects" in sections:
            start, block = sections["Objects"]
            out.objects, out.equinox = _objects(block, start)
    except Exception:  # a ReadMe is free text: what cannot be read is left out
        pass
    return out


def to_icrs(ra: float, dec: float, equinox: str | None) -> tuple[float, float] | None:
    """A ReadMe position in ICRS degrees (FK5 J2000 taken as ICRS: < 0.1 arcsec apart).

    B1950 positions are converted with astropy (FK4 -> ICRS); an unknown frame gives None.
    """
    if equinox in (None, "2000", "J2000", "2000.0", "J2000.0", "ICRS", "FK5"):
        return ra, dec
    if equinox in ("1950", "B1950", "1950.0", "FK4"):
        from astropy import units as u
        from astropy.coordinates import FK4, SkyCoord

        c = SkyCoord(ra * u.deg, dec * u.deg, frame=FK4(equinox="B1950")).icrs
        return float(c.ra.deg) % 360.0, float(c.dec.deg)
    return None


class ReadmeSuggester:
    """The first metadata suggester: what the catalogue's ReadMe says."""

    name = "readme"

    def suggest(self, catalogue: CatalogueInfo) -> Iterable[Suggestion]:
        from ..obscore.schema import circle_to_spoly
        from .simbad import POSITION_RADIUS_DEG

        if not catalogue.readme:
            return
        rm = parse(catalogue.readme)
        if rm.short_title or rm.title:
            yield Suggestion("", "obs_title", (rm.short_title or rm.title)[:200], "ReadMe title")
        if rm.bibcode:
            yield Suggestion("", "bib_reference", rm.bibcode, "ReadMe bibcode line")
        creator = rm.authors if rm.authors and len(rm.authors) <= 200 else (
            f"{rm.first_author} et al." if rm.first_author else None)
        if creator:
            yield Suggestion("", "obs_creator_name", creator, "ReadMe authors")
        if rm.keywords or rm.adc_keywords:
            yield Suggestion("", "keywords", "; ".join(rm.adc_keywords + rm.keywords),
                             "ReadMe ADC_Keywords and Keywords")
        for f in rm.files:
            if f.explanation:
                yield Suggestion(f.name, "description", f.explanation, "ReadMe File Summary")
        seen: set[tuple[str, str]] = set()
        for obj in rm.objects:
            pos = to_icrs(obj.ra, obj.dec, rm.equinox) if obj.ra is not None else None
            for name in obj.files:
                where = f"ReadMe Objects, line {obj.line}"
                if (name, "target_name") in seen:
                    continue  # one file listed twice: the first line wins
                seen.add((name, "target_name"))
                yield Suggestion(name, "target_name", obj.designation, where)
                if pos is not None:
                    ra, dec = pos
                    yield Suggestion(name, "s_ra", repr(ra), where + f" ({rm.equinox or 'J2000'})")
                    yield Suggestion(name, "s_dec", repr(dec), where + f" ({rm.equinox or 'J2000'})")
                    yield Suggestion(name, "s_region", circle_to_spoly(ra, dec, POSITION_RADIUS_DEG),
                                     where + f"; circle of {POSITION_RADIUS_DEG * 3600:g} arcsec")
