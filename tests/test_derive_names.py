"""Names, identifiers, access and curation columns (assocdata.derive.names).

Expected values are read by hand from the corpus headers (reasoning in the
comments); ReadMe parsing runs on the real VizieR ReadMe / AAS MRT files
shipped with astropy's io.ascii tests.  Crafted cases are marked as such.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import astropy
import pytest

from assocdata.derive.context import Derivation, HDUContext, RuleConfig
from assocdata.derive.fromfile import contexts_from_file
from assocdata.derive.names import (
    derive_names, file_stem, normalise_facility, obs_publisher_did, parse_readme,
)
from assocdata.derive.product import Product, derive_product, select_products

CAT = "J/A+A/511/A56"
CFG = RuleConfig()
ASTROPY_ASCII = Path(astropy.__file__).parent / "io" / "ascii" / "tests" / "data"
VIZIER_README = ASTROPY_ASCII / "vizier" / "ReadMe"  # J/A+A/511/A56 (Pancino+, 2010)


def _manifest(corpus: Path) -> dict[str, str]:
    with open(corpus / "MANIFEST.tsv", newline="") as f:
        return {r["id"]: r["file"] for r in csv.DictReader(f, delimiter="\t")}


@lru_cache(maxsize=None)
def _contexts(path: str, relpath: str) -> tuple[HDUContext, ...]:
    return tuple(contexts_from_file(path, catalogue=CAT, relpath=relpath))


def named(corpus: Path, dev_id: str, readme: str | None = None) -> list[Derivation]:
    """Derivations (product + names) of every product of a corpus file, in product order."""
    rel = _manifest(corpus)[dev_id]
    ctxs = _contexts(str(corpus / rel), rel)
    products, _ = select_products(ctxs)
    outs = []
    for p in products:
        out = Derivation()
        derive_product(ctxs[p.hdu], p, out, CFG)
        derive_names(ctxs[p.hdu], p, out, CFG, catalogue_readme=readme)
        outs.append(out)
    return outs


# id -> (facility_name, instrument_name, target_name)
NAMES = {
    # TELESCOP = 'UK Schmidt - Doubl' (truncated 'Doublet') -> alias 'UK Schmidt';
    # OBJECT = 'data' is a placeholder -> no target.
    "dev001": ("UK Schmidt", "Photographic Plate", None),
    # no TELESCOP; OBJECT is a VMS file path 'sxrb_disk_l1:[sxrb0.mjf.map]xr_m.map' -> rejected.
    "dev002": (None, None, None),
    # TESS/'TESS Photometer', OBJECT 'TIC 25155310' (inherited by the LIGHTCURVE HDU too).
    "dev006": ("TESS", "TESS Photometer", "TIC 25155310"),
    "dev008": ("Kepler", "Kepler Photometer", "KIC 10666592"),
    # UVES: TELESCOP 'ESO-VLT-U2' -> 'VLT'; OBJECT = 'RED_SCI_POINT_BLUE' equals
    # ESO PRO CATG (the pipeline category) -> ESO OBS TARG NAME = 'MN-Lup'.
    "dev010": ("VLT", "UVES", "MN-Lup"),
    # SPITZER -> Spitzer.
    "dev012": ("Spitzer", "IRAC", None),
    # HAWC EVENTS: TELESCOP = INSTRUME = 'HAWC', no OBJECT.
    "dev014": ("HAWC", "HAWC", None),
    # GLAST -> Fermi, INSTRUME LAT.
    "dev015": ("Fermi", "LAT", None),
    "dev017": ("Fermi", "LAT", None),
    # HESS -> 'H.E.S.S.', INSTRUME 'H.E.S.S. Phase I', OBJECT 'Crab Nebula'.
    "dev018": ("H.E.S.S.", "H.E.S.S. Phase I", "Crab Nebula"),
    "dev020": ("MAGIC", "MAGIC stereo, post major upgrade", "CrabNebula"),
    # LAMOST MRS: no INSTRUME; OBJNAME '1886955093649969280' is a bare number, DESIG wins.
    "dev021": ("LAMOST", None, "LAMOST J230311.44+321335.5"),
    # LAMOST LRS DR2: same rule (OBJNAME 'X1259-024273' comes after DESIG).
    "dev058": ("LAMOST", None, "LAMOST J055722.77+355459.7"),
    # checksum.fits HDU0: TELESCOP = 'Optical' names no facility.
    "dev028": (None, None, "NGC 1316"),
    # PTF: P48 -> 'Palomar 48-inch'.
    "dev029": ("Palomar 48-inch", "PTF/MOSAIC", "PTF_survey"),
    # 'ATNF Mopra' -> Mopra; no INSTRUME.
    "dev030": ("Mopra", None, "Orion-KL"),
    # Chandra events: CHANDRA -> Chandra.
    "dev032": ("Chandra", "ACIS", "Cygnus X-3"),
    "dev033": ("IRIS", "SJI", None),
    # EIT: OBJECT 'full FOV' is no target.
    "dev034": ("SOHO", "EIT", None),
    # GOES 15 -> GOES-15; OBJECT 'Sun'.
    "dev035": ("GOES-15", "X-ray Detector", "Sun"),
    # TELESCOP 'SDO/HMI' -> SDO; INSTRUME 'HMI_COMBINED' -> HMI.
    "dev036": ("SDO", "HMI", None),
    # HESSI -> RHESSI (product HDU 6 inherits TELESCOP/OBJECT from the primary).
    "dev037": ("RHESSI", None, "Sun"),
    "dev039": ("PROBA2", "SWAP", "Sun EUV"),
    # CLASS telescope 'SMT-F1M-VL' -> SMT.
    "dev040": ("SMT", None, "10074-190"),
    # TELESCOP '3.5m' is only an aperture: qualified by OBSERVAT 'APO'; OBJNAME 'Vega'.
    "dev044": ("APO 3.5m", "echelle", "Vega"),
    # no TELESCOP: OBSERVAT 'CTIO'.
    "dev045": ("CTIO", None, "HR2421"),
    # 'SDSS 2.5-M' -> SDSS.
    "dev048": ("SDSS", None, None),
    # Chandra PHA, OBJECT from the SPECTRUM HDU.
    "dev051": ("Chandra", "ACIS", "3C 273"),
    # XMM -> XMM-Newton; OBJECT 'MN Lup' only in the primary (inherited).
    "dev052": ("XMM-Newton", "EMOS1", "MN Lup"),
    # CSC products: OBJECT = 'CSC' is the catalogue, not a target.
    "dev053": ("Chandra", "ACIS", None),
    "dev060": ("AAT", "UCLES", "TW Hya"),
    "dev061": ("Gemini-North", "GMOS-N", "U20171"),
    # 'Clay_Mag_2' -> 'Magellan Clay'.
    "dev063": ("Magellan Clay", "MagE", "UM669"),
    # HST: no OBJECT, TARGNAME 'BD+28D4211'.
    "dev066": ("HST", "STIS", "BD+28D4211"),
}


@pytest.mark.parametrize("dev_id", sorted(NAMES))
def test_facility_instrument_target(corpus, dev_id):
    out = named(corpus, dev_id)[0]
    assert (out.value("facility_name"), out.value("instrument_name"),
            out.value("target_name")) == NAMES[dev_id]


def test_checksum_light_curve_has_its_own_names(corpus):
    # dev028 HDU1 (RATE table): TELESCOP 'XTE' -> RXTE, INSTRUME ASM, OBJECT grs1915+105
    out = named(corpus, "dev028")[1]
    assert (out.value("facility_name"), out.value("instrument_name"),
            out.value("target_name")) == ("RXTE", "ASM", "grs1915+105")


def test_name_provenance(corpus):
    out = named(corpus, "dev010")[0]
    assert out.cells["facility_name"].rule == "names.facility.alias"
    assert out.cells["facility_name"].sources == ("TELESCOP",)
    assert out.cells["target_name"].sources == ("ESO OBS TARG NAME",)
    assert "target-name-placeholder" in [i.code for i in out.issues]
    out = named(corpus, "dev052")[0]  # inherited from the primary
    assert out.cells["target_name"].sources == ("OBJECT[0]",)
    out = named(corpus, "dev044")[0]
    assert out.cells["facility_name"].sources == ("OBSERVAT", "TELESCOP")
    out = named(corpus, "dev036")[0]
    assert out.cells["instrument_name"].rule == "names.instrument.alias"


# ---------------------------------------------------------------------------
# Identifiers and access
# ---------------------------------------------------------------------------
# id -> (obs_id, access_format, access_estsize)
IDENTIFIERS = {
    # no OBS_ID: catalogue + path without '.fits'; 2 HDUs -> application/fits;
    # 1650240 bytes / 1024 = 1611.6 -> 1612 kbyte.
    "dev001": (f"{CAT}:astropy-data/HorseHead", "application/fits", 1612),
    # single-HDU image: image/fits; 478080 / 1024 = 466.9 -> 467.
    "dev002": (f"{CAT}:astropy-data/allsky_rosat", "image/fits", 467),
    # OBS_ID = 23523 (int) with TELESCOP 'HESS'; gzip'ed MEF -> application/x-fits-gzip;
    # 522418 / 1024 = 510.2 -> 511.
    "dev018": (f"{CAT}:HESS:23523", "application/x-fits-gzip", 511),
    # OBS_ID = 'chunks 103 - 133' is no identifier token -> path.
    "dev014": (f"{CAT}:gammapy-data/EventList_Crab_fHitbin9GP", "application/x-fits-gzip", 377),
    # single-HDU gzip'ed image: image/x-fits-gzip; 25987 / 1024 = 25.4 -> 26.
    "dev016": (f"{CAT}:gammapy-data/fermi-3fhl-gc-counts", "image/x-fits-gzip", 26),
    # OBS_ID '0670580101' (primary, inherited), TELESCOP 'XMM'.
    "dev052": (f"{CAT}:XMM:0670580101", "application/fits", 68),
    "dev051": (f"{CAT}:CHANDRA:459", "application/fits", 105),
    # header text file: text/plain; 9200 / 1024 = 8.98 -> 9.
    "dev024": (f"{CAT}:pkg-astropy/1904-66_CAR", "text/plain", 9),
    # FITS file with NAXIS = 0 only: no image data -> application/fits; 5760 / 1024 -> 6.
    "dev031": (f"{CAT}:pkg-astropy/sip", "application/fits", 6),
    # LAMOST MRS: OBSID (no underscore) is not used; '.fits' stripped.
    "dev021": (f"{CAT}:laspec/med-58408-TD230151N343645T01_sp01-015", "application/fits", 1005),
    # '.pha.gz' stripped twice.
    "dev050": (f"{CAT}:CHANDRA:16221", "application/x-fits-gzip", 73),
    "dev045": (f"{CAT}:pyspeckit/hr2421", "image/fits", 9),
}


@pytest.mark.parametrize("dev_id", sorted(IDENTIFIERS))
def test_obs_id_access_format_estsize(corpus, dev_id):
    out = named(corpus, dev_id)[0]
    assert (out.value("obs_id"), out.value("access_format"),
            out.value("access_estsize")) == IDENTIFIERS[dev_id]
    assert out.value("obs_collection") == CAT == out.value("source_catalogue")


def test_did_and_urls_exact(corpus):
    out = named(corpus, "dev001")[0]
    assert out.value("obs_publisher_did") == \
        "ivo://cds.unistra.fr/J/A+A/511/A56?astropy-data/HorseHead.fits#0"
    # '+' is %2B in URLs (a CGI may read '+' as a blank)
    assert out.value("access_url") == ("https://cdsarc.cds.unistra.fr/viz-bin/nph-Cat/fits?"
                                       "J/A%2BA/511/A56/astropy-data/HorseHead.fits")
    assert out.value("header_url") == ("https://cdsarc.cds.unistra.fr/viz-bin/nph-Cat/txt?"
                                       "J/A%2BA/511/A56/astropy-data/HorseHead.fits")
    # LAMOST MRS: two products of one file share obs_id, differ by DID fragment
    b, r = named(corpus, "dev021")
    assert b.value("obs_id") == r.value("obs_id")
    assert b.value("obs_publisher_did").endswith(".fits#1")
    assert r.value("obs_publisher_did").endswith(".fits#2")
    # file name with '+': kept in the DID, %2B in the URL
    out = named(corpus, "dev061")[0]
    assert out.value("obs_publisher_did").endswith("?specutils-history/L5g_0355+11_Cruz09.fits#0")
    assert out.value("access_url").endswith("/specutils-history/L5g_0355%2B11_Cruz09.fits")


def test_dids_unique_over_the_corpus_and_stable(corpus):
    dids = []
    for dev_id in _manifest(corpus):
        dids += [o.value("obs_publisher_did") for o in named(corpus, dev_id)]
    assert len(dids) == len(set(dids)) == 72  # 72 products in the 68 files
    # stable: a fresh staging of the same file gives the same identifiers
    rel = _manifest(corpus)["dev018"]
    ctxs = contexts_from_file(corpus / rel, catalogue=CAT, relpath=rel)
    (p,), _ = select_products(ctxs)
    again = Derivation()
    derive_names(ctxs[p.hdu], p, again, CFG)
    first = named(corpus, "dev018")[0]
    for column in ("obs_publisher_did", "obs_id", "access_url"):
        assert again.value(column) == first.value(column)


def test_crafted_quoting_of_odd_file_names():
    # crafted: blanks, '#', '?', '%', '&', non-ASCII in the relative path
    rel = "spectra/NGC 1234 #2?é&x=1%.fits"
    assert obs_publisher_did("cds.unistra.fr", "J/A+A/1/2", rel, 3) == \
        "ivo://cds.unistra.fr/J/A+A/1/2?spectra/NGC%201234%20%232%3F%C3%A9&x=1%25.fits#3"
    assert obs_publisher_did("a.b", "J/X/1", "f.fits", 1, order=4) == "ivo://a.b/J/X/1?f.fits#1.4"
    ctx = HDUContext(catalogue="J/A+A/1/2", relpath=rel, hdu=0, keywords={}, naxis=[10],
                     file_size=0, n_hdus=1)
    out = Derivation()
    derive_names(ctx, Product(0, "spectrum"), out, CFG)
    assert out.value("access_url").endswith(
        "J/A%2BA/1/2/spectra/NGC%201234%20%232%3F%C3%A9%26x%3D1%25.fits")
    assert out.value("access_estsize") == 0


def test_file_stem():
    assert file_stem("a/b.fits.gz") == "a/b"
    assert file_stem("x.pha.gz") == "x"
    assert file_stem("img.fits.fz") == "img"
    assert file_stem("h.header") == "h"
    assert file_stem("r.UVES.2011-08-11T232352.266-A01_0000.fits") == \
        "r.UVES.2011-08-11T232352.266-A01_0000"
    assert file_stem("noext") == "noext"
    assert file_stem(".fits") == ".fits"


# ---------------------------------------------------------------------------
# ReadMe
# ---------------------------------------------------------------------------
def test_readme_vizier_standard():
    r = parse_readme(VIZIER_README.read_text())
    # line 1: 'J/A+A/511/A56       Abundances of five open clusters   (Pancino+, 2010)'
    assert (r.catalogue, r.short_title, r.year) == (CAT, "Abundances of five open clusters", 2010)
    assert r.title == ("Chemical abundance analysis of the open clusters Cr 110, NGC 2420, "
                       "NGC 7789, and M 67 (NGC 2682).")
    assert r.authors == "Pancino E., Carrera R., Rossetti, E., Gallart C."
    assert r.first_author == "Pancino E."
    assert r.bibcode == "2010A&A...511A..56P"


@pytest.mark.parametrize("path, catalogue, short, bibcode, first", [
    # 'B/cb   Cataclysmic Binaries, LMXBs, and related objects   (Ritter+, 2011)';
    # bibcode of the reference paper (2003)
    ("cds/glob/ReadMe", "B/cb", "Cataclysmic Binaries, LMXBs, and related objects",
     "2003A&A...404..301R", "Ritter H."),
    # '(Tinney+ 1998)' without a comma
    ("cds/multi/ReadMe", "J/MNRAS/301/1031", "High resolution spectra of VLM stars",
     "1998MNRAS.301.1031T", "Tinney C.G."),
    # bibcode line with a trailing '(SIMBAD/NED BibCode)'
    ("cds/datasplitcomplete/ReadMe", "J/A+A/603/A43", "CoRoT-9 radial velocity curve",
     "2017A&A...603A..43B", "Bonomo A.S."),
    ("cdsFunctional2.dat", "J/A+A/642/A176", "Chemical evolution of dSph galaxy Sextans",
     "2020A&A...642A.176T", "Theler R."),
])
def test_readme_real_files(path, catalogue, short, bibcode, first):
    r = parse_readme((ASTROPY_ASCII / path).read_text())
    assert (r.catalogue, r.short_title, r.bibcode, r.first_author) == \
        (catalogue, short, bibcode, first)


def test_readme_empty_author_entries_are_dropped():
    # datasplitcomplete ReadMe has 'Moutou C.,  , Ollivier M.'
    r = parse_readme((ASTROPY_ASCII / "cds/datasplitcomplete/ReadMe").read_text())
    assert "Moutou C., Ollivier M." in r.authors and ", ," not in r.authors


@pytest.mark.parametrize("path, title, first", [
    # AAS MRT header: 'Title:' / 'Authors:' blocks, leading blank lines
    ("cds.dat", "Spitzer Observations of NGC 1333: A Study of Structure and Evolution in a "
                "Nearby Embedded Cluster", "Gutermuth R.A."),
    # BOM, 'Kirkpatrick, J. D.; et al.'
    ("cds_mrt_dashes.txt", "The Initial Mass Function Based on the Full-sky 20-pc Census of "
                           "~3,600 Stars and Brown Dwarfs", "Kirkpatrick, J. D."),
])
def test_readme_mrt(path, title, first):
    r = parse_readme((ASTROPY_ASCII / path).read_text(encoding="utf-8"))
    assert (r.title, r.first_author, r.bibcode) == (title, first, None)


def test_readme_garbage_never_raises():
    # crafted
    for text in ("", "\n\n", "x", "====\n====", "J/A+A/1/1\n" + "=" * 80 + "\n   =notabibcode\n"):
        r = parse_readme(text)
        assert r.bibcode is None


def test_curation_from_readme(corpus):
    readme = VIZIER_README.read_text()
    out = named(corpus, "dev010", readme)[0]
    assert out.value("obs_title") == "Abundances of five open clusters: spectrum of MN-Lup"
    assert out.value("bib_reference") == "2010A&A...511A..56P"
    assert out.value("obs_creator_name") == "Pancino E., Carrera R., Rossetti, E., Gallart C."
    assert out.cells["obs_title"].rule == "names.title.readme"
    assert not [i for i in out.issues if i.code == "readme-catalogue-mismatch"]
    # no target: the file name stands in
    out = named(corpus, "dev003", readme)[0]
    assert out.value("obs_title") == "Abundances of five open clusters: image gc_2mass_k.fits"
    # no ReadMe: the catalogue id, and no bibcode/creator
    out = named(corpus, "dev010")[0]
    assert out.value("obs_title") == f"{CAT}: spectrum of MN-Lup"
    assert not out.has("bib_reference") and not out.has("obs_creator_name")


def test_curation_long_author_list_and_mismatch(corpus):
    # Bonomo+ 2017 lists 30 authors (> 200 characters): first author et al.
    readme = (ASTROPY_ASCII / "cds/datasplitcomplete/ReadMe").read_text()
    out = named(corpus, "dev010", readme)[0]
    assert out.value("obs_creator_name") == "Bonomo A.S. et al."
    # that ReadMe is for J/A+A/603/A43, the file is in J/A+A/511/A56
    assert "readme-catalogue-mismatch" in [i.code for i in out.issues]


def test_crafted_obs_title_is_at_most_200_characters():
    # crafted: a 300-character catalogue title
    long_title = " ".join(["Spectroscopy"] * 25)
    readme = f"J/X/1   {long_title}   (Doe+, 2020)\n" + "=" * 80 + "\nT\n   Doe J.\n" + "=" * 80
    ctx = HDUContext(catalogue="J/X/1", relpath="f.fits", hdu=0, keywords={"OBJECT": "M 31"},
                     naxis=[10], file_size=100, n_hdus=1)
    out = Derivation()
    derive_names(ctx, Product(0, "spectrum"), out, CFG, catalogue_readme=readme)
    title = out.value("obs_title")
    assert len(title) <= 200 and title.endswith("...: spectrum of M 31")
    assert title.startswith("Spectroscopy Spectroscopy")


def test_crafted_aliases_and_cleaning():
    assert normalise_facility("  GOES   13 ") == ("GOES-13", None)
    assert normalise_facility("ESO-VLT-U4") == ("VLT", None)
    assert normalise_facility("GuoShouJing") == ("LAMOST", None)
    assert normalise_facility("SDO/AIA") == ("SDO", "AIA")
    # unknown: kept, cleaned, never invented
    assert normalise_facility("  My   Backyard\tScope ") == ("My Backyard Scope", None)
    assert normalise_facility("unknown") == (None, None)
    assert normalise_facility(7) == ("7", None)
    assert normalise_facility(True) == (None, None)


def test_crafted_odd_keyword_types_never_raise():
    # crafted: numeric OBJECT, float OBS_ID, boolean TELESCOP, no file size
    ctx = HDUContext(catalogue="J/X/1", relpath="f.fits", hdu=0,
                     keywords={"OBJECT": 12345, "OBS_ID": 42.0, "TELESCOP": True,
                               "INSTRUME": None, "OBSERVAT": "Lick"},
                     naxis=[10], file_size=None, n_hdus=1)
    out = Derivation()
    derive_names(ctx, Product(0, "spectrum"), out)
    assert out.value("target_name") == "12345"  # a bare number, but the only name
    assert out.value("facility_name") == "Lick"
    assert out.value("obs_id") == "J/X/1:f"     # OBS_ID without a TELESCOP: path
    assert not out.has("access_estsize")
    assert {"obs-id-keyword-unusable", "no-file-size"} <= {i.code for i in out.issues}
    assert not [i for i in out.issues if i.code == "names-failed"]
