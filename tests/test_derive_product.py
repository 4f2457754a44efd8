"""Product selection, dataproduct_type and calib_level (assocdata.derive.product).

Every corpus file is in CORPUS_PRODUCTS with its expected products, checked by
hand from the headers (reasoning in the comments).  Crafted cases (marked as
such) cover branches the corpus lacks; they claim no real-world behaviour.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import pytest

from assocdata import fitsfile
from assocdata.derive.context import Derivation, HDUContext, RuleConfig
from assocdata.derive.fromfile import contexts_from_file
from assocdata.derive.product import (
    HEADER_SUFFIXES, Product, classify_axes, derive_product, is_header_file, select_products,
)

CFG = RuleConfig()
B = tuple(range(3, 10))    # LAMOST MRS blue exposures B-84107311 ... B-84107464
R = tuple(range(10, 17))   # LAMOST MRS red exposures R-...
RHESSI_EXTRAS = (1, 2, 3, 4, 5) + tuple(range(7, 25))

# id -> [(hdu, dataproduct_type, subtype, extra_hdus, calib_level, calib rule suffix)], file issues
CORPUS_PRODUCTS: dict[str, tuple[list[tuple], list[str]]] = {
    # RA---TAN/DEC--TAN 891x893 primary; HDU1 ASCII table 'er.mask' (plate mask) is an extra.
    "dev001": ([(0, "image", None, (1,), 2, "default")], []),
    # GLON-AIT/GLAT-AIT 480x240 all-sky map, single HDU (no mosaic keyword: default 2).
    "dev002": ([(0, "image", None, (), 2, "default")], []),
    # RA/DEC TAN 721x720 2MASS K image, single HDU.
    "dev003": ([(0, "image", None, (), 2, "default")], []),
    # GLON/GLAT-CAR 640x638 Bolocam map (CALIB_n keywords are not a level).
    "dev004": ([(0, "image", None, (), 2, "default")], []),
    # GLON/GLAT-CAR 149x149 MSX band E.
    "dev005": ([(0, "image", None, (), 2, "default")], []),
    # TESS: empty primary (NAXIS=0); HDU1 EXTNAME=LIGHTCURVE with TIME column -> timeseries;
    # HDU2 APERTURE image (ancillary) belongs to it. PDCSAP light curve: calibrated -> 2.
    "dev006": ([(1, "timeseries", "lightcurve", (2,), 2, "default")], []),
    # 100x100 primary without any CTYPE: an image by shape only (guessed); the 128x128
    # IMAGE extension without EXTNAME follows the primary product.
    "dev007": ([(0, "image", None, (1,), 2, "default")], []),
    # Kepler short cadence: same layout as TESS (LIGHTCURVE + APERTURE).
    "dev008": ([(1, "timeseries", "lightcurve", (2,), 2, "default")], []),
    # RA---SFL/DEC--SFL/VOPT 105x105x53: two celestial + a spectral axis -> cube.
    "dev009": ([(0, "cube", None, (), 2, "default")], []),
    # UVES: 1-D, CTYPE1='WAVELENGTH [Ang]' (starts with WAVE: spectral); ESO PRO TYPE
    # REDUCED, PRO DATANCOM = 1 (not combined) -> 2.
    "dev010": ([(0, "spectrum", None, (), 2, "default")], []),
    "dev011": ([(0, "spectrum", None, (), 2, "default")], []),
    # GLON/GLAT-CAR 1025x513 with FILETYPE='mosaic' and MOSAICER='Montage V2.2' -> 3.
    "dev012": ([(0, "image", None, (), 3, "combined")], []),
    # Empty primary + BINTABLE JD-2400000/TEMPO2/BARYCORR: a temporal column but no
    # observable (flux/rate/mag...) column: no product.
    "dev013": ([], ["not-an-observation"]),
    # HAWC: 4x4 primary without a single WCS keyword in a 3-HDU file: a dummy, not a
    # product. HDU1 HDUCLAS1=EVENTS -> event (1, ObsCore example: events are level 1);
    # HDU2 GTI belongs to it.
    "dev014": ([(1, "event", None, (2,), 1, "instrumental")], ["dummy-primary"]),
    # Fermi counts cube GLON/GLAT/'Energy' 400x200x11 -> cube; EBOUNDS (HDU1) and GTI
    # (HDU2) are its extras. Binned map: default 2.
    "dev015": ([(0, "cube", None, (1, 2), 2, "default")], []),
    # Fermi counts map GLON/GLAT-CAR 400x200 -> image.
    "dev016": ([(0, "image", None, (), 2, "default")], []),
    # Fermi FT1: EVENTS (HDUCLAS1=EVENTS) + GTI.
    "dev017": ([(1, "event", None, (2,), 1, "instrumental")], []),
    # H.E.S.S. DL3: EVENTS + GTI + AEFF/EDISP/PSF/BKG IRFs: one event product.
    "dev018": ([(1, "event", None, (2, 3, 4, 5, 6), 1, "instrumental")], []),
    # gammapy FLUXPOINTS table with time_min/time_max varying over 34 rows: a
    # reconstructed light curve -> timeseries, calib 4 (ObsCore 1.1 CTA example); GTI extra.
    "dev019": ([(1, "timeseries", "flux-points", (2,), 4, "flux-points")], []),
    # MAGIC DL3: EVENTS + GTI + EFFECTIVE AREA + ENERGY DISPERSION.
    "dev020": ([(1, "event", None, (2, 3, 4), 1, "instrumental")], []),
    # LAMOST MRS: empty primary; COADD_B/COADD_R (FLUX + LOGLAM) are the products (coadd,
    # calib 3), each with the 7 exposures of its arm (B-*, R-*) as extras.
    "dev021": ([(1, "spectrum", "coadd", B, 3, "combined"),
                (2, "spectrum", "coadd", R, 3, "combined")], []),
    # LAMOST LRS: 3909x5 primary, CTYPE1='LINEAR' (IRAF dispersion axis), CTYPE2 absent:
    # 5 stacked rows (flux, ivar, wavelength, masks) -> one spectrum. NEXP=3 is not a
    # combination marker.
    "dev022": ([(0, "spectrum", "stacked-spectra", (), 2, "default")], []),
    "dev023": ([(0, "spectrum", "stacked-spectra", (), 2, "default")], []),
    # wcslib test headers (.hdr): 192x192 RA/DEC image described by a text header.
    "dev024": ([(0, "image", None, (), 2, "default")], []),
    "dev025": ([(0, "image", None, (), 2, "default")], []),
    "dev026": ([(0, "image", None, (), 2, "default")], []),
    "dev027": ([(0, "image", None, (), 2, "default")], []),
    # NGC 1316 30x40 RA/DEC-SIN primary image AND an OGIP light curve of another source
    # (EXTNAME=RATE, TIME + RATE columns, TELESCOP=XTE): two products.
    "dev028": ([(0, "image", None, (), 2, "default"),
                (1, "timeseries", "lightcurve", (), 2, "default")], []),
    # PTF header copy: NAXIS1 = NAXIS2 = 1 with RA/DEC TAN-SIP: a degenerate image.
    "dev029": ([(0, "image", None, (), 2, "default")], []),
    # Mopra FREQ/RA/DEC/STOKES 4096x1x1x1 (.hdr): only the FREQ axis is longer than 1.
    "dev030": ([(0, "spectrum", None, (), 2, "default")], []),
    # sip.fits: single header, NAXIS=0, RA---TAN-SIP/DEC--TAN-SIP: header-only image.
    "dev031": ([(0, "image", None, (), 2, "default")], []),
    # Chandra ACIS EVENTS (HDUCLAS1=EVENTS), single extension.
    "dev032": ([(1, "event", None, (), 1, "instrumental")], []),
    # IRIS SJI HPLN-TAN/HPLT-TAN/Time 37x40x52 -> cube; LVL_NUM = 2.0 -> 2; the aux image
    # (HDU1) and the ASCII table (HDU2) belong to it.
    "dev033": ([(0, "cube", None, (1, 2), 2, "level-keyword")], []),
    # EIT Solar-X/Solar-Y 128x128 (helioprojective, old spelling) -> image.
    "dev034": ([(0, "image", None, (), 2, "default")], []),
    # GOES-15 XRS: empty primary; EDGES (ancillary), FLUXES (TIME array + FLUX) ->
    # timeseries, STATUS (TIME + STATUS, no observable) is an extra.
    "dev035": ([(2, "timeseries", None, (1, 3), 2, "default")], []),
    # SDO HMI .header: HPLN/HPLT 432x381 -> image.
    "dev036": ([(0, "image", None, (), 2, "default")], []),
    # RHESSI observing summary: rates in HSI_OBSSUMMRATEDATA (known layout) -> timeseries;
    # count rates are instrumental -> 1; the 23 other tables are extras.
    "dev037": ([(6, "timeseries", "rhessi-obssumm", RHESSI_EXTRAS, 1, "instrumental")], []),
    # LASCO C2 .header: HPLN/HPLT; LEVEL = '1.0' (solar level 1 = calibrated) -> 2.
    "dev038": ([(0, "image", None, (), 2, "level-keyword")], []),
    # SWAP lv1 .header: HPLN/HPLT 32x32; LEVEL = 1 -> 2.
    "dev039": ([(0, "image", None, (), 2, "level-keyword")], []),
    # SMT FREQ/RA---GLS/DEC--GLS/STOKES 512x1x1x1 (wcslib refuses GLS; the type needs no
    # wcslib) -> spectrum.
    "dev040": ([(0, "spectrum", None, (), 2, "default")], []),
    # Spextool 7278x3 without any CTYPE (wave/flux/error rows): spectrum by shape (guessed).
    "dev041": ([(0, "spectrum", "stacked-spectra", (), 2, "default")], []),
    # GBT VRAD 8192 -> spectrum.
    "dev042": ([(0, "spectrum", None, (), 2, "default")], []),
    # FREQ 8192 x 17 rows (CTYPE2 absent) -> stacked spectra.
    "dev043": ([(0, "spectrum", "stacked-spectra", (), 2, "default")], []),
    # IRAF multispec echelle 2048x107 (CTYPE1/2 = MULTISPE): ONE product, orders are its range.
    "dev044": ([(0, "spectrum", "multispec", (), 2, "default")], []),
    # CTYPE1 = 'lambda' (lower case) 573 -> spectrum.
    "dev045": ([(0, "spectrum", None, (), 2, "default")], []),
    # 2x2x501, CTYPE1/2 empty, CTYPE3 = VELOCITY: 3 axes longer than 1 -> cube.
    "dev046": ([(0, "cube", None, (), 2, "default")], []),
    # VRAD 659 -> spectrum.
    "dev047": ([(0, "spectrum", None, (), 2, "default")], []),
    # SDSS spSpec: LINEAR 3853x5 primary -> spectrum; the 6 line/redshift tables (no flux
    # column) belong to it.
    "dev048": ([(0, "spectrum", "stacked-spectra", (1, 2, 3, 4, 5, 6), 2, "default")], []),
    # WAVEREST 746x3 -> stacked spectra.
    "dev049": ([(0, "spectrum", "stacked-spectra", (), 2, "default")], []),
    # Chandra HETG PHA (HDUCLAS1 = SPECTRUM): counts per channel -> 1 (ObsCore example).
    "dev050": ([(1, "spectrum", "ogip-pha", (), 1, "instrumental")], []),
    "dev051": ([(1, "spectrum", "ogip-pha", (2,), 1, "instrumental")], []),
    # XMM MOS1 PHA + 5 GTIs + a REGION extension.
    "dev052": ([(1, "spectrum", "ogip-pha", (2, 3, 4, 5, 6, 7, 8), 1, "instrumental")], []),
    # CSC pha3: source SPECTRUM (HDU1) + GTIs + background SPECTRUM (HDU4, HDUCLAS2=BKG,
    # belongs to the source spectrum).
    "dev053": ([(1, "spectrum", "ogip-pha", (2, 3, 4, 5), 1, "instrumental")], []),
    # CSC source image RA/DEC TAN 169x377 (HDUCLAS1=EVENTS in an IMAGE primary is ignored:
    # only tables are event lists); GTI extra.
    "dev054": ([(0, "image", None, (1,), 2, "default")], []),
    # HRC pha3: SPECTRUM + GTI + MASK image + BKG SPECTRUM + MASK image.
    "dev055": ([(1, "spectrum", "ogip-pha", (2, 3, 4, 5), 1, "instrumental")], []),
    # LAMOST LRS (spectraml) LINEAR x 5.
    "dev056": ([(0, "spectrum", "stacked-spectra", (), 2, "default")], []),
    "dev057": ([(0, "spectrum", "stacked-spectra", (), 2, "default")], []),
    "dev058": ([(0, "spectrum", "stacked-spectra", (), 2, "default")], []),
    # GBT VRAD 4096.
    "dev059": ([(0, "spectrum", None, (), 2, "default")], []),
    # AAT UCLES multispec 2746x51.
    "dev060": ([(0, "spectrum", "multispec", (), 2, "default")], []),
    # GMOS LINEAR 3020, NCOMBINE = 4 (stack of 4 exposures) -> 3.
    "dev061": ([(0, "spectrum", None, (), 3, "combined")], []),
    # TRES multispec 2304x51.
    "dev062": ([(0, "spectrum", "multispec", (), 2, "default")], []),
    # MagE LINEAR 16602.
    "dev063": ([(0, "spectrum", None, (), 2, "default")], []),
    # APO echelle multispec (linear + log orders).
    "dev064": ([(0, "spectrum", "multispec", (), 2, "default")], []),
    # MULTISPE/MULTISPE/LINEAR 1024x2x2 (IRAF bands), NCOMBINE = 3 -> 3.
    "dev065": ([(0, "spectrum", "multispec", (), 3, "combined")], []),
    # STIS x1d: empty primary; SCI table with WAVELENGTH (spectral) + FLUX -> spectrum.
    "dev066": ([(1, "spectrum", None, (), 2, "default")], []),
    # DEIMOS spec1d: 4 tables (boxcar/optimal x blue/red) each LAMBDA + SPEC, no coadd:
    # one product per spectrum HDU.
    "dev067": ([(1, "spectrum", None, (), 2, "default"), (2, "spectrum", None, (), 2, "default"),
                (3, "spectrum", None, (), 2, "default"), (4, "spectrum", None, (), 2, "default")],
               []),
    # TRES spline3 multispec.
    "dev068": ([(0, "spectrum", "multispec", (), 2, "default")], []),
}


def _manifest(corpus: Path) -> dict[str, str]:
    with open(corpus / "MANIFEST.tsv", newline="") as f:
        return {r["id"]: r["file"] for r in csv.DictReader(f, delimiter="\t")}


@lru_cache(maxsize=None)
def _contexts(path: str, relpath: str) -> tuple[HDUContext, ...]:
    return tuple(contexts_from_file(path, catalogue="J/A+A/000/A00", relpath=relpath))


def contexts(corpus: Path, dev_id: str) -> tuple[HDUContext, ...]:
    rel = _manifest(corpus)[dev_id]
    return _contexts(str(corpus / rel), rel)


def test_every_corpus_file_has_an_expectation(corpus):
    assert set(_manifest(corpus)) == set(CORPUS_PRODUCTS)


@pytest.mark.parametrize("dev_id", sorted(CORPUS_PRODUCTS))
def test_corpus_products_types_and_calib_levels(corpus, dev_id):
    expected, expected_issues = CORPUS_PRODUCTS[dev_id]
    ctxs = contexts(corpus, dev_id)
    products, issues = select_products(ctxs)
    got = []
    for p in products:
        out = Derivation()
        derive_product(ctxs[p.hdu], p, out, CFG)
        cal = out.cells["calib_level"]
        assert out.value("dataproduct_type") == p.dataproduct_type
        got.append((p.hdu, p.dataproduct_type, p.subtype, p.extra_hdus, cal.value,
                    cal.rule.removeprefix("product.calib.")))
    assert got == expected
    assert [i.code for i in issues] == expected_issues


def test_one_product_per_row_and_extras_are_disjoint(corpus):
    """No HDU is both a product and an extra, nor the extra of two products."""
    for dev_id in CORPUS_PRODUCTS:
        products, _ = select_products(contexts(corpus, dev_id))
        seen = [p.hdu for p in products] + [h for p in products for h in p.extra_hdus]
        assert len(seen) == len(set(seen)), dev_id


def test_header_text_files_and_naxis0_header_are_header_only(corpus):
    # .hdr/.header by name; sip.fits is a FITS file whose only header has NAXIS = 0
    for dev_id in ("dev024", "dev030", "dev036", "dev038", "dev039", "dev031"):
        (p,), _ = select_products(contexts(corpus, dev_id))
        assert p.header_only, dev_id
        out = Derivation()
        derive_product(contexts(corpus, dev_id)[0], p, out, CFG)
        assert "header-only" in [i.code for i in out.issues]
    (p,), _ = select_products(contexts(corpus, "dev001"))
    assert not p.header_only


def test_header_suffixes_match_staging():
    assert HEADER_SUFFIXES == fitsfile.HEADER_SUFFIXES
    assert is_header_file("a/b/x.hdr") and is_header_file("X.HEADER.gz")
    assert not is_header_file("x.fits") and not is_header_file("hdr/x.fits")


def test_type_provenance_names_the_structural_facts(corpus):
    # LAMOST MRS coadd: decided by the LOGLAM spectral column and the FLUX column
    ctxs = contexts(corpus, "dev021")
    products, _ = select_products(ctxs)
    out = Derivation()
    derive_product(ctxs[1], products[0], out, CFG)
    cell = out.cells["dataproduct_type"]
    assert cell.rule == "product.type.table-spectrum"
    assert cell.sources == ("column:LOGLAM", "column:FLUX", "EXTNAME")
    assert out.cells["calib_level"].sources == ("EXTNAME",)
    # H.E.S.S. events: HDUCLAS1
    ctxs = contexts(corpus, "dev018")
    (p,), _ = select_products(ctxs)
    out = Derivation()
    derive_product(ctxs[1], p, out, CFG)
    assert out.cells["dataproduct_type"].sources == ("HDUCLAS1",)
    assert out.cells["dataproduct_type"].rule == "product.type.events"
    # UVES: NAXIS1 and the non-standard CTYPE1
    ctxs = contexts(corpus, "dev010")
    (p,), _ = select_products(ctxs)
    assert p.sources == ("NAXIS1", "CTYPE1") and p.rule == "product.type.axes"
    # IRIS: calib from LVL_NUM
    ctxs = contexts(corpus, "dev033")
    (p,), _ = select_products(ctxs)
    out = Derivation()
    derive_product(ctxs[0], p, out, CFG)
    assert out.cells["calib_level"].sources == ("LVL_NUM",)


def test_shape_guess_and_degenerate_array_are_flagged(corpus):
    for dev_id, code in (("dev041", "dataproduct-type-guessed"),
                         ("dev007", "dataproduct-type-guessed"),
                         ("dev029", "degenerate-array")):
        ctxs = contexts(corpus, dev_id)
        (p, *_), _ = select_products(ctxs)
        out = Derivation()
        derive_product(ctxs[p.hdu], p, out, CFG)
        assert code in [i.code for i in out.issues], dev_id


# ---------------------------------------------------------------------------
# classify_axes: crafted axis combinations
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape, kinds, expected", [
    # crafted: radio continuum image with degenerate FREQ/STOKES axes
    ((512, 512, 1, 1), ("celestial", "celestial", "spectral", "stokes"), ("image", None, "axes")),
    # crafted: polarisation cube RA/DEC/STOKES(4)
    ((64, 64, 4), ("celestial", "celestial", "stokes"), ("cube", None, "axes")),
    # crafted: long-slit 2-D spectrum (dispersion x 300 spatial pixels)
    ((2048, 300), ("spectral", "other"), ("spectrum", "2d-spectrum", "axes")),
    # crafted: light curve as a 1-D image with a TIME axis; 3 series stacked; time x position
    ((1000,), ("time",), ("timeseries", None, "axes")),
    ((1000, 3), ("time", "none"), ("timeseries", "stacked-series", "axes")),
    ((1000, 400), ("time", "celestial"), ("image", None, "axes")),
    # crafted: 3-D array without WCS
    ((10, 10, 10), ("none", "none", "none"), ("cube", None, "shape")),
    # crafted: IRAF writes LINEAR on both axes of plain images: no dispersion axis
    ((100, 100), ("linear", "linear"), ("image", None, "shape")),
    # crafted: LINEAR axis 1 with a few stacked rows (LAMOST/SDSS layout)
    ((3909, 5), ("linear", "none"), ("spectrum", "stacked-spectra", "axes")),
    # crafted: 1-pixel array without WCS
    ((1,), ("none",), (None, None, "degenerate")),
])
def test_classify_axes_crafted(shape, kinds, expected):
    assert classify_axes(shape, kinds) == expected


# ---------------------------------------------------------------------------
# Crafted files for branches the corpus lacks
# ---------------------------------------------------------------------------
def hdu(i, keywords=None, *, xtension=None, extname=None, naxis=(), columns=(), n_hdus=1,
        primary=None, relpath="crafted.fits"):
    kw = dict(keywords or {})
    if extname is not None:
        kw["EXTNAME"] = extname
    return HDUContext(catalogue="J/X/1", relpath=relpath, hdu=i, keywords=kw, xtension=xtension,
                      extname=extname, naxis=list(naxis), columns=list(columns),
                      primary=dict(primary or {}) if i else {}, n_hdus=n_hdus, file_size=8640)


def col(name, role=None, lo=None, hi=None):
    return {"ttype": name, "role": role, "min": lo, "max": hi}


def test_crafted_mef_sci_err_dq_gives_one_product_per_sci():
    # crafted: HST-like MEF, empty primary, two SCI chips each followed by ERR and DQ
    n = 7
    sky = {"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN"}
    hdus = [hdu(0, n_hdus=n)]
    for _chip in range(2):
        for name in ("SCI", "ERR", "DQ"):
            hdus.append(hdu(len(hdus), sky, xtension="IMAGE", extname=name, naxis=(100, 100),
                            n_hdus=n))
    products, issues = select_products(hdus)
    assert [(p.hdu, p.dataproduct_type, p.extra_hdus) for p in products] == \
        [(1, "image", (2, 3)), (4, "image", (5, 6))]
    assert issues == []


def test_crafted_random_groups_is_a_visibility():
    # crafted: UVFITS primary, GROUPS = T, NAXIS1 = 0
    products, _ = select_products([hdu(0, {"GROUPS": True}, naxis=(0, 3, 4, 1, 1, 1))])
    (p,) = products
    assert (p.dataproduct_type, p.subtype) == ("visibility", "random-groups")
    out = Derivation()
    derive_product(hdu(0, {"GROUPS": True}), p, out)
    assert out.value("calib_level") == 1


def test_crafted_tile_compressed_image_uses_znaxis():
    # crafted: fpack'ed image, empty primary + BINTABLE with ZIMAGE = T
    kw = {"ZIMAGE": True, "ZNAXIS": 2, "ZNAXIS1": 2048, "ZNAXIS2": 4096,
          "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN"}
    hdus = [hdu(0, n_hdus=2), hdu(1, kw, xtension="BINTABLE", naxis=(8, 4096), n_hdus=2,
                                  extname="COMPRESSED_IMAGE")]
    (p,), _ = select_products(hdus)
    assert (p.hdu, p.dataproduct_type) == (1, "image")
    assert p.sources == ("ZNAXIS1", "ZNAXIS2", "CTYPE1", "CTYPE2")


def test_crafted_background_spectrum_alone_is_the_product():
    # crafted: a file holding only a background PHA (HDUCLAS2 = BKG)
    kw = {"HDUCLAS1": "SPECTRUM", "HDUCLAS2": "BKG"}
    hdus = [hdu(0, n_hdus=2), hdu(1, kw, xtension="BINTABLE", extname="SPECTRUM",
                                  naxis=(8, 1024), n_hdus=2)]
    (p,), _ = select_products(hdus)
    assert (p.hdu, p.dataproduct_type, p.note) == (1, "spectrum", "background spectrum")


def test_crafted_sed_flux_points_without_time():
    # crafted: gammapy SED flux points (no time columns)
    cols = [col("e_ref"), col("e_min", "spectral", 1, 10), col("e_max", "spectral", 2, 20),
            col("dnde")]
    hdus = [hdu(0, n_hdus=2), hdu(1, {"SED_TYPE": "dnde"}, xtension="BINTABLE",
                                  extname="FLUXPOINTS", naxis=(32, 8), columns=cols, n_hdus=2)]
    (p,), _ = select_products(hdus)
    assert (p.dataproduct_type, p.subtype) == ("sed", "flux-points")
    out = Derivation()
    derive_product(hdus[1], p, out)
    assert out.value("calib_level") == 4


def test_crafted_fits_idi_and_sdfits():
    # crafted: FITS-IDI UV_DATA table and SDFITS SINGLE DISH table
    for extname, dptype in (("UV_DATA", "visibility"), ("SINGLE DISH", "spectrum")):
        hdus = [hdu(0, n_hdus=2), hdu(1, xtension="BINTABLE", extname=extname, naxis=(64, 10),
                                      n_hdus=2)]
        (p,), _ = select_products(hdus)
        assert p.dataproduct_type == dptype


def test_crafted_empty_event_table_and_empty_file():
    # crafted: EVENTS table with zero rows is no product; a lone NAXIS=0 header without WCS
    hdus = [hdu(0, n_hdus=2), hdu(1, {"HDUCLAS1": "EVENTS"}, xtension="BINTABLE",
                                  extname="EVENTS", naxis=(16, 0), n_hdus=2)]
    products, issues = select_products(hdus)
    assert products == [] and [i.code for i in issues] == ["not-an-observation"]
    products, issues = select_products([hdu(0)])
    assert products == [] and [i.code for i in issues] == ["no-data"]
    products, issues = select_products([])
    assert products == [] and [i.code for i in issues] == ["no-data"]


def test_crafted_garbage_never_raises():
    # crafted: nonsense structural values
    bad = HDUContext(catalogue="J/X/1", relpath="x.fits", hdu=0,
                     keywords={"CTYPE1": 5, "WCSAXES": "two", "ZIMAGE": True, "ZNAXIS": "x"},
                     naxis=["a", None], columns=[{"ttype": None, "role": "spectral"}])
    products, issues = select_products([bad])
    assert isinstance(products, list)
    out = Derivation()
    derive_product(bad, Product(hdu=0, dataproduct_type=None), out)
    assert out.value("calib_level") == 2
    assert "unknown-dataproduct-type" in [i.code for i in out.issues]


def test_crafted_table_timeseries_needs_an_observable_and_varying_time():
    # crafted: TIME + MAG varying -> timeseries; TIME constant -> not a light curve
    cols = [col("TIME", "temporal", 0.0, 10.0), col("MAG")]
    hdus = [hdu(0, n_hdus=2), hdu(1, xtension="BINTABLE", naxis=(16, 100), columns=cols, n_hdus=2)]
    (p,), _ = select_products(hdus)
    assert (p.hdu, p.dataproduct_type, p.rule) == (1, "timeseries", "product.type.table-timeseries")
    cols = [col("TIME", "temporal", 5.0, 5.0), col("MAG")]
    hdus = [hdu(0, n_hdus=2), hdu(1, xtension="BINTABLE", naxis=(16, 100), columns=cols, n_hdus=2)]
    products, issues = select_products(hdus)
    assert products == [] and [i.code for i in issues] == ["not-an-observation"]


@pytest.mark.parametrize("keywords, level, rule", [
    # crafted: ESO raw frame (DPR keywords, no PRO keywords) -> 1
    ({"ESO DPR CATG": "SCIENCE"}, 1, "product.calib.eso-raw"),
    # crafted: ESO product with PRO.DATANCOM = 5 -> combined
    ({"ESO PRO CATG": "SCIENCE.SPECTRUM", "ESO PRO DATANCOM": 5}, 3, "product.calib.combined"),
    # crafted: solar level 0 -> 1; level 3 -> 3; an out-of-range LEVEL is ignored
    ({"LVL_NUM": 0.5}, 1, "product.calib.level-keyword"),
    ({"LVL_NUM": 3}, 3, "product.calib.level-keyword"),
    ({"LEVEL": 1000}, 2, "product.calib.default"),
    # crafted: MOSAIC = T
    ({"MOSAIC": True}, 3, "product.calib.combined"),
    ({"NCOMBINE": 1}, 2, "product.calib.default"),
])
def test_crafted_calib_level_rules(keywords, level, rule):
    ctx = hdu(0, keywords, naxis=(10, 10))
    out = Derivation()
    derive_product(ctx, Product(0, "image"), out)
    assert (out.value("calib_level"), out.cells["calib_level"].rule) == (level, rule)


def test_calib_level_keyword_inherited_from_primary_is_marked():
    # crafted: NCOMBINE in the primary, product in an extension -> source 'NCOMBINE[0]'
    ext = hdu(1, {}, xtension="IMAGE", naxis=(10, 10), primary={"NCOMBINE": 4}, n_hdus=2)
    out = Derivation()
    derive_product(ext, Product(1, "image"), out)
    assert out.cells["calib_level"].sources == ("NCOMBINE[0]",)


def test_crafted_iraf_long_slit_linear_with_dc_flag_is_a_spectrum():
    # crafted: 2-D long slit, CTYPE1 = CTYPE2 = LINEAR, DC-FLAG = 0 (IRAF dispersion-corrected)
    kw = {"CTYPE1": "LINEAR", "CTYPE2": "LINEAR", "DC-FLAG": 0}
    (p,), _ = select_products([hdu(0, kw, naxis=(2048, 300))])
    assert (p.dataproduct_type, p.subtype) == ("spectrum", "2d-spectrum")
    assert "DC-FLAG" in p.sources
    kw = {"CTYPE1": "LINEAR", "CTYPE2": "LINEAR",
          "WAT1_001": "wtype=linear label=Wavelength units=angstroms"}
    (p,), _ = select_products([hdu(0, kw, naxis=(2048, 300))])
    assert p.dataproduct_type == "spectrum" and "WAT1_001" in p.sources
    (p,), _ = select_products([hdu(0, {"CTYPE1": "LINEAR", "CTYPE2": "LINEAR"}, naxis=(2048, 300))])
    assert p.dataproduct_type == "image" and p.rule == "product.type.shape"


def test_crafted_spectrum_extname_without_channels_is_not_a_pha():
    # crafted: EXTNAME = 'SPECTRUM' with WAVE/FLUX columns, no HDUCLAS1: a calibrated
    # spectrum table, not an OGIP PHA (so not calib 1)
    cols = [col("WAVE", "spectral", 4e-7, 9e-7), col("FLUX")]
    hdus = [hdu(0, n_hdus=2), hdu(1, xtension="BINTABLE", extname="SPECTRUM", naxis=(8, 4000),
                                  columns=cols, n_hdus=2)]
    (p,), _ = select_products(hdus)
    assert (p.dataproduct_type, p.subtype, p.rule) == ("spectrum", None,
                                                       "product.type.extname-spectrum")
    out = Derivation()
    derive_product(hdus[1], p, out)
    assert out.value("calib_level") == 2
    # with a CHANNEL column it is a PHA
    cols = [{"ttype": "CHANNEL", "role": None}, col("COUNTS")]
    hdus[1] = hdu(1, xtension="BINTABLE", extname="SPECTRUM", naxis=(8, 1024), columns=cols,
                  n_hdus=2)
    (p,), _ = select_products(hdus)
    assert p.subtype == "ogip-pha"
