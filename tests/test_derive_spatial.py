"""derive.spatial: s_ra, s_dec, s_region, s_fov, s_xel1, s_xel2, s_pixel_scale, s_resolution.

Corpus files: expected values worked out by hand from the headers (reasoning in
the comments); frame conversions checked against astropy's SkyCoord; every
s_region produced for the corpus (and for crafted all-sky, polar, wrap-around
and degenerate footprints) is given to the real PgSphere: it must parse, hold
the centre, and have the expected area. Crafted headers are marked as such:
they pin branches the corpus lacks and claim nothing about real archives.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import psycopg
import pytest
from astropy import units as u
from astropy.coordinates import (
    FK4,
    FK5,
    ICRS,
    BarycentricMeanEcliptic,
    FK4NoETerms,
    Galactic,
    SkyCoord,
    Supergalactic,
)
from conftest import scratch_database

from assocdata import wcscheck
from assocdata.derive import spatial
from assocdata.derive.context import Derivation, HDUContext, RuleConfig
from assocdata.derive.fromfile import contexts_from_file
from assocdata.derive.spatial import derive_spatial, icrs_from, parse_angle
from assocdata.obscore import schema

MANIFEST = "MANIFEST.tsv"
ARCSEC = 1.0 / 3600.0


# ------------------------------------------------------------------ helpers

def _files(corpus: Path) -> dict[str, Path]:
    rows = (line.split("\t") for line in (corpus / MANIFEST).read_text().splitlines()[1:])
    return {r[0]: corpus / r[1] for r in rows}


@pytest.fixture(scope="module")
def files(corpus) -> dict[str, Path]:
    return _files(corpus)


@pytest.fixture(scope="module")
def facts(corpus) -> dict:
    return json.loads((corpus / "facts.json").read_text())["files"]


def derive(ctxs: list[HDUContext], hdu: int, config: RuleConfig | None = None) -> Derivation:
    out = Derivation()
    derive_spatial(ctxs[hdu], out, config or RuleConfig(), ctxs)
    return out


def run(files: dict[str, Path], dev: str, hdu: int = 0) -> Derivation:
    return derive(contexts_from_file(files[dev]), hdu)


def sep_arcsec(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    return spatial._separation(ra1, dec1, ra2, dec2) * 3600.0


def to_icrs(lon: float, lat: float, frame) -> tuple[float, float]:
    c = SkyCoord(lon * u.deg, lat * u.deg, frame=frame).icrs
    return c.ra.deg, c.dec.deg


def vertices(region: str) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in re.findall(r"\(([-0-9.e]+)d,([-0-9.e]+)d\)", region)]


def issues(out: Derivation) -> dict[str, str]:
    return {i.code: i.message for i in out.issues}


def crafted(tmp_path: Path, name: str, cards: dict) -> list[HDUContext]:
    """A CRAFTED text header (one card per line) read as staging would."""
    lines = ["SIMPLE  = T", "BITPIX  = 8"]
    for k, v in cards.items():
        if isinstance(v, str) and not v.startswith("'"):
            v = f"'{v}'"
        lines.append(f"{k:<8}= {v}" if len(k) <= 8 else f"HIERARCH {k} = {v}")
    path = tmp_path / f"{name}.hdr"
    path.write_text("\n".join(lines + ["END"]) + "\n")
    return contexts_from_file(path)


def image(n1, n2, ctype1, ctype2, crval1, crval2, cdelt, crpix1=None, crpix2=None, **extra):
    cards = dict(NAXIS=2, NAXIS1=n1, NAXIS2=n2, CTYPE1=ctype1, CTYPE2=ctype2, CRVAL1=crval1,
                 CRVAL2=crval2, CRPIX1=(n1 + 1) / 2 if crpix1 is None else crpix1,
                 CRPIX2=(n2 + 1) / 2 if crpix2 is None else crpix2, CDELT1=-cdelt, CDELT2=cdelt)
    cards.update(extra)
    return cards


# ---------------------------------------------------------- PgSphere fixture

@pytest.fixture(scope="module")
def pg():
    """A scratch database with pg_sphere, dropped afterwards."""
    with scratch_database("spatial") as url, psycopg.connect(url, autocommit=True) as conn:
        yield conn


def pg_check(pg, out: Derivation) -> tuple[bool, float]:
    """(centre @ s_region, area in deg²) as PgSphere computes them (raises if invalid)."""
    v = out.values()
    inside, area = pg.execute(
        "SELECT spoint(radians(%s), radians(%s)) @ p, area(p) FROM (SELECT %s::spoly AS p) s",
        (v["s_ra"], v["s_dec"], v["s_region"])).fetchone()
    return inside, area * (180.0 / math.pi) ** 2


# ======================================================= celestial WCS (images)

def test_horsehead_tan_icrs_centre_footprint_and_pixel_scale(files, facts):
    out = run(files, "dev001")
    v = out.values()
    # NAXIS1 = 891, NAXIS2 = 893: the array centre (N+1)/2 is pixel (446, 447) = CRPIX, so
    # the centre is CRVAL (85.27497, -2.458265), RADESYS = ICRS. wcslib reads the DSS plate
    # solution (PLTRAH..., AMDX/AMDY) that the header also carries, as astropy does: the
    # centre then moves by 0.11" (facts.json, astropy at the array centre: 85.274994..).
    assert sep_arcsec(v["s_ra"], v["s_dec"], 85.27497, -2.458265) < 0.2
    assert v["s_ra"] == pytest.approx(facts["dev001"]["centre_icrs_deg"][0], abs=1e-9)
    assert v["s_dec"] == pytest.approx(facts["dev001"]["centre_icrs_deg"][1], abs=1e-9)
    assert (v["s_xel1"], v["s_xel2"]) == (891, 893)
    # sqrt|det CD| = sqrt(2.802651e-4 * 2.798187e-4 + 3.159e-7 * 2.767e-7) deg = 1.00815"
    assert v["s_pixel_scale"] == pytest.approx(1.00815, abs=2e-3)
    # diagonal: hypot(891, 893)/2 px * 1.00815" = 0.17663 deg half-diagonal -> 0.35327 deg
    assert v["s_fov"] == pytest.approx(0.35327, abs=2e-4)
    # TAN: pixel rows are great circles, so the traced sides keep only their corners;
    # the corners (outer pixel edges) lie 0.5 px outside astropy's pixel-centre corners.
    corners = vertices(v["s_region"])
    assert len(corners) == 4
    for ra, dec in facts["dev001"]["footprint_native_deg"]:
        assert min(sep_arcsec(ra, dec, a, b) for a, b in corners) < 1.0
    assert out.cells["s_ra"].rule == "spatial.wcs"
    assert {"CRVAL1", "CD1_1", "NAXIS1", "RADESYS"} <= set(out.cells["s_region"].sources)


def test_2mass_fk5_centre_is_converted_to_icrs(files, facts):
    v = run(files, "dev003").values()
    # centre pixel (361, 360.5) = CRPIX: CRVAL (266.4, -28.93333) in FK5 J2000 (EQUINOX = 2000,
    # no RADESYS) -> ICRS by the frame bias (~20 mas).
    assert (v["s_ra"], v["s_dec"]) == pytest.approx(to_icrs(266.4, -28.93333, FK5(equinox="J2000")),
                                                    abs=1e-9)
    assert (v["s_ra"], v["s_dec"]) == pytest.approx(facts["dev003"]["centre_icrs_deg"], abs=1e-8)
    # CDELT 0.001388889 deg = 5.0"; 721 x 720 px TAN: fov = 2 atan(hypot(721, 720)/2 * 5")
    assert v["s_pixel_scale"] == pytest.approx(5.0, abs=1e-3)
    assert v["s_fov"] == pytest.approx(1.415124, abs=1e-5)
    assert (v["s_xel1"], v["s_xel2"]) == (721, 720)


@pytest.mark.parametrize("dev", ["dev004", "dev005", "dev012"])
def test_galactic_car_maps_match_astropy_at_the_array_centre(files, facts, dev):
    # GLON-CAR / GLAT-CAR: the array centre converted Galactic -> ICRS, as facts.json did
    v = run(files, dev).values()
    assert sep_arcsec(v["s_ra"], v["s_dec"], *facts[dev]["centre_icrs_deg"]) < 1e-3
    lon, lat = facts[dev]["centre_native"]
    assert sep_arcsec(v["s_ra"], v["s_dec"], *to_icrs(lon, lat, Galactic())) < 1e-3


def test_bolocam_beam_gives_the_resolution(files):
    v = run(files, "dev004").values()
    # BMAJ = 0.00916667 / Beam FWHM (degrees) -> 33.0"; CD2_2 = 0.002 deg -> 7.2" pixels
    assert v["s_resolution"] == pytest.approx(33.0, abs=1e-3)
    assert v["s_pixel_scale"] == pytest.approx(7.2, abs=1e-3)
    assert (v["s_xel1"], v["s_xel2"]) == (640, 638)


def test_spitzer_car_pixel_scale_and_size(files):
    v = run(files, "dev012").values()
    # CD1_1 = -0.00033333333 deg = 1.2"; NAXIS 1025 x 513; the RA/DEC keywords of the
    # header are not used: the WCS wins.
    assert v["s_pixel_scale"] == pytest.approx(1.2, abs=1e-4)
    assert (v["s_xel1"], v["s_xel2"]) == (1025, 513)


def test_fermi_counts_maps_are_20_by_10_degrees(files):
    for dev in ("dev015", "dev016"):
        out = run(files, dev)
        v = out.values()
        # GLON/GLAT-CAR 400 x 200 px of 0.05 deg centred on (l, b) = (0, 0): the Galactic centre
        assert sep_arcsec(v["s_ra"], v["s_dec"], *to_icrs(0.0, 0.0, Galactic())) < 1e-3
        assert v["s_pixel_scale"] == pytest.approx(180.0, abs=0.01)
        assert (v["s_xel1"], v["s_xel2"]) == (400, 200)
        # corners at (l, b) = (+-10, +-5): distance from the centre acos(cos 10 cos 5) = 11.17 deg
        assert v["s_fov"] == pytest.approx(2 * math.degrees(math.acos(math.cos(math.radians(10))
                                                                       * math.cos(math.radians(5)))),
                                           abs=1e-3)
        # 20 deg sides: densified with 16 points a side, curved sides kept
        assert len(vertices(v["s_region"])) > 4


def test_cube_with_sfl_projection(files, facts):
    v = run(files, "dev009").values()
    # RA---SFL/DEC--SFL + VOPT: centre of the 105 x 105 celestial pixels (spectral axis at
    # its own centre, irrelevant here), RADESYS absent and no EQUINOX -> ICRS.
    assert sep_arcsec(v["s_ra"], v["s_dec"], *facts["dev009"]["centre_icrs_deg"]) < 1e-3
    assert (v["s_xel1"], v["s_xel2"]) == (105, 105)
    assert v["s_pixel_scale"] == pytest.approx(23.0, abs=1e-3)  # CDELT 0.006388889 deg


@pytest.mark.parametrize(("dev", "area_ratio_tol"), [("dev024", 0.01), ("dev025", 0.01),
                                                      ("dev026", 0.01), ("dev027", 0.01)])
def test_1904_66_test_field_in_four_projections(files, facts, dev, area_ratio_tol):
    out = run(files, dev)
    v = out.values()
    # 192 x 192 px of 0.0667 deg around (284.9, -66.3), reference point at the south pole
    # (CRVAL2 = -90) ~250 px off the array: the centre is where facts.json put it.
    assert sep_arcsec(v["s_ra"], v["s_dec"], *facts[dev]["centre_icrs_deg"]) < 1e-3
    # BMAJ = 0.24 deg -> 864"
    assert v["s_resolution"] == pytest.approx(864.0, abs=1e-3)
    # pixel scale at the array centre: 240" at the reference point, distorted here
    # (SIN 1/cos(theta) stretch, TAN 16 deg from its tangent point...) by up to ~12 %
    assert 200 < v["s_pixel_scale"] < 260
    assert (v["s_xel1"], v["s_xel2"]) == (192, 192)
    # the footprint is a 12.8 deg square: a valid polygon, vertices near astropy's corners
    corners = vertices(v["s_region"])
    for ra, dec in facts[dev]["footprint_native_deg"]:
        ra, dec = to_icrs(ra, dec, FK5(equinox="J2000"))
        assert min(sep_arcsec(ra, dec, a, b) for a, b in corners) < 0.1 * 3600 * 0.07 * 10


def test_fk4_sin_image_uses_the_e_terms(files, facts):
    v = run(files, "dev028").values()
    # EQUINOX = 1950.0 and no RADESYS -> FK4 B1950 (FITS default below 1984); the centre
    # pixel (15.5, 20.5) is far from CRPIX (226, 147): native centre from facts.json,
    # then FK4 (with E-terms) -> ICRS as astropy's SkyCoord does it.
    lon, lat = facts["dev028"]["centre_native"]
    assert sep_arcsec(v["s_ra"], v["s_dec"], *to_icrs(lon, lat, FK4(equinox="B1950"))) < 1e-3
    assert v["s_pixel_scale"] == pytest.approx(7.0, abs=1e-3)  # CDELT 0.001944444492 deg
    assert (v["s_xel1"], v["s_xel2"]) == (30, 40)


def test_single_pixel_image_is_a_position_with_the_keyword_circle(files, facts):
    out = run(files, "dev029")
    v = out.values()
    # header_newlines.fits: NAXIS1 = NAXIS2 = 1 (TAN-SIP): one celestial pixel, position
    # at pixel (1, 1) with the SIP polynomial (facts.json: astropy all_pix2world there)
    assert sep_arcsec(v["s_ra"], v["s_dec"], *facts["dev029"]["centre_icrs_deg"]) < 1e-3
    assert out.cells["s_ra"].rule == "spatial.wcs.point"
    assert (v["s_xel1"], v["s_xel2"]) == (1, 1)
    # no extent: the 1 arcmin circle of config.keyword_position_radius_deg, s_fov 2 arcmin
    assert v["s_fov"] == pytest.approx(2.0 / 60.0)
    assert "s_pixel_scale" not in v
    # SEEING = 2.04 / [pix]: pixels without a pixel scale are skipped; FWHMSEX = 2.45 / [arcsec]
    assert v["s_resolution"] == pytest.approx(2.45)
    assert out.cells["s_resolution"].sources == ("FWHMSEX",)


def test_degenerate_celestial_axes_of_a_spectral_cube(files, facts):
    out = run(files, "dev030")
    v = out.values()
    # orion-freq-4: FREQ/RA/DEC/STOKES, NAXIS2 = NAXIS3 = 1: position = CRVAL2/CRVAL3
    # (83.81042, -5.375222), RADESYS FK5 J2000 -> ICRS
    assert (v["s_ra"], v["s_dec"]) == pytest.approx(to_icrs(83.81042, -5.375222, FK5()), abs=1e-9)
    assert (v["s_xel1"], v["s_xel2"]) == (1, 1)
    assert out.cells["s_ra"].rule == "spatial.wcs.point"
    assert {"CRVAL2", "CRVAL3"} <= set(out.cells["s_ra"].sources)


def test_header_without_array_uses_the_reference_point(files):
    out = run(files, "dev031")
    v = out.values()
    # sip.fits: NAXIS = 0, WCSAXES = 2: the reference point CRVAL (202.482322805, 47.17511893)
    assert sep_arcsec(v["s_ra"], v["s_dec"], 202.482322805, 47.17511893) < 1e-6
    assert out.cells["s_ra"].rule == "spatial.wcs.refpoint"
    assert "s_xel1" not in v
    # sqrt|det(PC)| with CDELT = 1: sqrt(2.4976e-4 * 2.4997e-4 + 2.3018e-4 * 2.3043e-4) deg
    assert v["s_pixel_scale"] == pytest.approx(1.22331, abs=1e-4)


def test_allsky_ait_map_has_no_polygon_but_a_360_degree_fov(files, facts):
    out = run(files, "dev002")
    v = out.values()
    # GLON-AIT 480 x 240 px of 0.675 deg: exactly the 324 x 162 deg ellipse of the whole
    # sky; the corners of the array are outside the projection. Centre (l, b) = (0, 0).
    assert sep_arcsec(v["s_ra"], v["s_dec"], *facts["dev002"]["centre_icrs_deg"]) < 1e-3
    assert "s_region" not in v
    assert "footprint-outside-projection" in issues(out)
    assert v["s_fov"] > 359.0
    assert (v["s_xel1"], v["s_xel2"]) == (480, 240)


def test_aperture_images_of_tess_and_kepler(files, facts):
    for dev, n in (("dev006", (11, 11)), ("dev008", (12, 10))):
        v = run(files, dev, 2).values()
        assert sep_arcsec(v["s_ra"], v["s_dec"], *facts[dev]["centre_icrs_deg"]) < 1e-3
        assert (v["s_xel1"], v["s_xel2"]) == n


# ============================================================ tables and events

def test_tess_light_curve_takes_the_aperture_footprint(files):
    ctxs = contexts_from_file(files["dev006"])
    out = derive(ctxs, 1)
    v = out.values()
    # LIGHTCURVE table: RA_OBJ/DEC_OBJ of the extension (63.37480890472281, -69.226789),
    # RADESYS ICRS; s_region is the footprint of the APERTURE image (HDU 2, 11 x 11 px of
    # 20.3"), which holds the target.
    assert (v["s_ra"], v["s_dec"]) == pytest.approx((63.37480890472281, -69.226789), abs=1e-9)
    assert out.cells["s_ra"].sources[:2] == ("RA_OBJ", "DEC_OBJ")
    assert out.cells["s_region"].rule == "spatial.aperture-sibling"
    assert out.cells["s_region"].sources[0].endswith("[2]")
    aperture = derive(ctxs, 2).values()
    assert v["s_region"] == aperture["s_region"]
    assert v["s_fov"] == pytest.approx(aperture["s_fov"])
    assert "s_xel1" not in v  # a table: not pixelated in space as far as we know


def test_kepler_primary_inherits_nothing_but_has_its_own_ra_obj(files):
    ctxs = contexts_from_file(files["dev008"])
    v = derive(ctxs, 1).values()
    # RA_OBJ = 292.24728, DEC_OBJ = 47.969519 (ICRS) in the LIGHTCURVE extension
    assert (v["s_ra"], v["s_dec"]) == pytest.approx((292.24728, 47.969519), abs=1e-9)


def test_without_siblings_a_keyword_position_gets_the_circle(files):
    ctxs = contexts_from_file(files["dev006"])
    out = Derivation()
    derive_spatial(ctxs[1], out, RuleConfig())  # no siblings: no aperture footprint
    assert out.cells["s_region"].rule == "spatial.keywords"
    assert out.values()["s_region"] == schema.circle_to_spoly(63.37480890472281, -69.226789,
                                                              1 / 60)


def test_chandra_event_list_uses_the_sky_columns_not_long_npol(files):
    out = run(files, "dev032", 1)
    v = out.values()
    # TCTYP11/12 = RA---TAN/DEC--TAN (x, y) with TCRVL (308.10794344917, 40.956041532158),
    # TCRPX 4096.5, TCDLT 0.492"; TLMIN/TLMAX 0.5..8192.5: centre = TCRPX = TCRVL (ICRS).
    # TCTYP9/10 = LONG-TAN/NPOL-TAN (detx, dety) are detector angles, not sky: not used.
    assert sep_arcsec(v["s_ra"], v["s_dec"], 308.10794344917, 40.956041532158) < 1e-6
    assert out.cells["s_ra"].rule == "spatial.pixlist"
    assert not any("9" in s or "10" in s for s in out.cells["s_ra"].sources if s.startswith("TC"))
    # the legal range of the sky pixels: 8192 x 0.492" = 1.1196 deg square (TAN):
    # fov = 2 atan(hypot(0.5598, 0.5598) deg) = 1.58322 deg
    assert v["s_fov"] == pytest.approx(1.583215, abs=1e-5)
    assert (v["s_xel1"], v["s_xel2"]) == (-1, -1)
    assert "s_pixel_scale" not in v


def test_hess_and_magic_event_lists_use_the_pointing(files):
    out = run(files, "dev018", 1)
    v = out.values()
    # EVENTS: RA_PNT = 83.633333333333, DEC_PNT = 21.514444444444 (RA_OBJ is 0.5 deg away:
    # wobble), RADECSYS FK5, EQUINOX 2000 -> ICRS; flagged as a pointing
    assert (v["s_ra"], v["s_dec"]) == pytest.approx(
        to_icrs(83.633333333333, 21.514444444444, FK5()), abs=1e-9)
    assert out.cells["s_ra"].rule == "spatial.keywords.pointing"
    assert "position-is-pointing" in issues(out)
    assert (v["s_xel1"], v["s_xel2"]) == (-1, -1)
    out = run(files, "dev020", 1)
    v = out.values()
    # MAGIC: EQUINOX = '' (empty) with RADECSYS FK5 -> FK5 J2000
    assert (v["s_ra"], v["s_dec"]) == pytest.approx(
        to_icrs(83.2791666666667, 21.7838888888889, FK5()), abs=1e-9)


def test_event_lists_without_position_keywords(files):
    for dev in ("dev014", "dev017"):
        out = run(files, dev, 1)
        v = out.values()
        # HAWC (AZ_PNT/ALT_PNT only) and Fermi LAT (all-sky survey, no RA_PNT): no position,
        # still not pixelated
        assert "s_ra" not in v and "s_region" not in v
        assert "no-position" in issues(out)
        assert (v["s_xel1"], v["s_xel2"]) == (-1, -1)


def test_xray_spectra_use_the_target_keywords(files):
    cases = {
        # Chandra HETG: RA_TARG/DEC_TARG (not RA_PNT 68.3009...), RADESYS ICRS
        "dev050": (68.29625, 5.354333, ("RA_TARG", "DEC_TARG")),
        # XMM: RA_OBJ[0] inherited from the primary, FK5 J2000
        "dev052": to_icrs(230.8766655, -38.3580556, FK5()) + (("RA_OBJ[0]", "DEC_OBJ[0]"),),
        # CSC PHA3: RA/DEC = the source (RA_PNT/RA_NOM are the pointing), ICRS
        "dev053": (10.630253454287, 41.327478706953, ("RA", "DEC")),
    }
    for dev, (ra, dec, src) in cases.items():
        out = run(files, dev, 1)
        v = out.values()
        assert (v["s_ra"], v["s_dec"]) == pytest.approx((ra, dec), abs=1e-9), dev
        assert out.cells["s_ra"].sources[:2] == src
        assert out.cells["s_ra"].rule == "spatial.keywords"


# ================================================================ 1-D spectra

def test_uves_ra_dec_keywords_flagged_as_pointing(files):
    out = run(files, "dev010")
    v = out.values()
    # RA = 230.876323 / '15:23:30.3 RA (J2000) pointing (deg)', DEC = -38.35773,
    # RADESYS FK5, EQUINOX 2000: degrees (the comment says deg), the comment says pointing
    assert (v["s_ra"], v["s_dec"]) == pytest.approx(to_icrs(230.876323, -38.35773, FK5()), abs=1e-9)
    assert out.cells["s_ra"].rule == "spatial.keywords.pointing"
    # the s_region circle: config.keyword_position_radius_deg (1 arcmin) as a 32-gon
    assert v["s_region"] == schema.circle_to_spoly(v["s_ra"], v["s_dec"], 1 / 60)
    assert v["s_fov"] == pytest.approx(2 / 60)
    # a 1-D array: one spatial element
    assert (v["s_xel1"], v["s_xel2"]) == (1, 1)
    # ESO TEL IA FWHM = 1.45: delivered seeing, arcsec in the ESO dictionary
    assert v["s_resolution"] == pytest.approx(1.45)


def test_lamost_tables_inherit_the_primary_position_and_seeing(files):
    ctxs = contexts_from_file(files["dev021"])
    out = derive(ctxs, 3)
    v = out.values()
    # primary: RA = 345.797708 / [deg] Right ascension of object, DEC = 32.226539,
    # RADECSYS FK5, EQUINOX 2000; SEEING = 3.44 / [arcsec] (comment read in the primary)
    assert (v["s_ra"], v["s_dec"]) == pytest.approx(to_icrs(345.797708, 32.226539, FK5()), abs=1e-9)
    assert out.cells["s_ra"].sources == ("RA[0]", "DEC[0]", "RADECSYS[0]", "EQUINOX[0]")
    assert v["s_resolution"] == pytest.approx(3.44)
    assert out.cells["s_resolution"].sources == ("SEEING[0]",)
    # without the primary among the siblings the SEEING comment (its unit) is unknown
    out = Derivation()
    derive_spatial(ctxs[3], out, RuleConfig(), ctxs[1:])
    assert "s_resolution" not in out.values()


def test_lamost_placeholder_seeing_is_not_published(files):
    out = run(files, "dev023")
    # SEEING = -1.0 / [arcsec]: not a resolution
    assert "s_resolution" not in out.values()
    assert "implausible-resolution" in issues(out)
    assert run(files, "dev022").values()["s_resolution"] == pytest.approx(3.0)


def test_sdss_uses_the_object_not_the_plate_boresight(files):
    out = run(files, "dev048")
    v = out.values()
    # RA = 150.09221 / 1st row - Right ascension of telescope boresight; RAOBJ = 149.46417
    # / RA(deg) of object, DECOBJ = 10.976277: the object wins; FK5 J2000 -> ICRS
    assert (v["s_ra"], v["s_dec"]) == pytest.approx(to_icrs(149.46417, 10.976277, FK5()), abs=1e-9)
    assert out.cells["s_ra"].sources[:2] == ("RAOBJ", "DECOBJ")
    # SEEING50 = 1.69333 / 50% seeing during exposure (arcsec)
    assert v["s_resolution"] == pytest.approx(1.69333)


def test_sexagesimal_ra_is_hours_and_epoch_is_the_equinox(files):
    v = run(files, "dev045").values()
    # hr2421.fit: RA = '6:36:47.0' (hours), DEC = '16:25:09.0', EPOCH = 1985 / EPOCH OF RA
    # AND DEC (no EQUINOX, no RADESYS) -> FK5 J1985.0 (>= 1984) -> ICRS
    ra = (6 + 36 / 60 + 47.0 / 3600) * 15
    dec = 16 + 25 / 60 + 9.0 / 3600
    assert sep_arcsec(v["s_ra"], v["s_dec"], *to_icrs(ra, dec, FK5(equinox="J1985"))) < 1e-4


def test_string_epoch_and_trailing_dot_sexagesimal(files):
    for dev in ("dev062", "dev068"):
        v = run(files, dev).values()
        # TRES: RA = '05:19:00.0', DEC = '+33:44:54.', EPOCH = '2000.0' (a string) -> FK5 J2000
        assert sep_arcsec(v["s_ra"], v["s_dec"], *to_icrs(79.75, 33 + 44 / 60 + 54 / 3600,
                                                          FK5())) < 1e-4


def test_deimos_object_sexagesimal_and_unitless_fwhm(files):
    out = run(files, "dev067", 1)
    v = out.values()
    # RA_OBJ = '14:17:37.29' (RA/DEC are the mask centre), DEC_OBJ = '+52:26:50.5',
    # EQUINOX 2000 -> FK5 J2000
    ra = (14 + 17 / 60 + 37.29 / 3600) * 15
    dec = 52 + 26 / 60 + 50.5 / 3600
    assert sep_arcsec(v["s_ra"], v["s_dec"], *to_icrs(ra, dec, FK5())) < 1e-4
    # FWHM = 7.20456 / FWHM from Spatial Profile: no unit stated (pixels): not used
    assert "s_resolution" not in v


def test_stis_x1d_inherits_ra_targ(files):
    out = run(files, "dev066", 1)
    v = out.values()
    # RA_TARG[0] = 327.7957283233, DEC_TARG[0] = 28.86372955736, EQUINOX 2000, no RADESYS:
    # FK5 J2000 by the FITS default (RA_APER of the extension comes later in priority)
    assert (v["s_ra"], v["s_dec"]) == pytest.approx(
        to_icrs(327.7957283233, 28.86372955736, FK5()), abs=1e-9)
    assert out.cells["s_ra"].sources[:2] == ("RA_TARG[0]", "DEC_TARG[0]")


def test_rejected_gls_wcs_falls_back_to_the_degenerate_crval(files):
    ctxs = contexts_from_file(files["dev040"])
    assert ctxs[0].wcs_status == "error"  # CDELT2 = CDELT3 = 0: a singular matrix
    out = derive(ctxs, 0)
    v = out.values()
    # RA---GLS/DEC--GLS axes of length 1: CRVAL2 = 272.1558333333, CRVAL3 = -20.31791666667,
    # EQUINOX 2000 -> FK5 J2000 -> ICRS, without wcslib
    assert (v["s_ra"], v["s_dec"]) == pytest.approx(
        to_icrs(272.1558333333, -20.31791666667, FK5()), abs=1e-9)
    assert out.cells["s_ra"].rule == "spatial.crval-degenerate"


def test_gbt_targlon_targlat_are_not_used(files):
    # TARGLON/TARGLAT are galactic in one GBT file (31.947, 0.076 for G031.947+00.076) and
    # equatorial in another (287.558, 9.104 for G43.17+0.01): no keyword says which.
    for dev in ("dev042", "dev059"):
        out = run(files, dev)
        assert "s_ra" not in out.values()
        assert "no-position" in issues(out)


# ====================================================================== solar

@pytest.mark.parametrize(("dev", "xel", "scale"), [
    ("dev033", (37, 40), 0.16635),   # IRIS SJI: HPLN/HPLT/Time, CDELT 0.16635 arcsec
    ("dev036", (432, 381), 0.504042),  # HMI SHARP: CDELT 0.504042029 arcsec
    ("dev038", (128, 128), 95.2),    # LASCO C2: CDELT 95.2 arcsec
    ("dev039", (32, 32), 101.19257),  # SWAP: CDELT 101.19257087008 arcsec
    ("dev034", (128, 128), None),    # EIT: Solar-X/Solar-Y (no CUNIT): no pixel scale
])
def test_solar_frames_give_no_ra_dec(files, dev, xel, scale):
    out = run(files, dev)
    v = out.values()
    assert "s_ra" not in v and "s_region" not in v and "s_fov" not in v
    assert issues(out)["solar-frame"]
    assert (v["s_xel1"], v["s_xel2"]) == xel
    if scale is None:
        assert "s_pixel_scale" not in v
    else:
        assert v["s_pixel_scale"] == pytest.approx(scale, rel=1e-4)


# ============================================================== PgSphere checks

def _corpus_regions(files):
    for dev, path in sorted(files.items()):
        ctxs = contexts_from_file(path)
        for ctx in ctxs:
            out = Derivation()
            derive_spatial(ctx, out, RuleConfig(), ctxs)
            if "s_region" in out.values():
                yield dev, ctx, out


def test_every_corpus_region_is_valid_in_pgsphere_and_holds_its_centre(pg, files):
    n = 0
    for dev, ctx, out in _corpus_regions(files):
        inside, area = pg_check(pg, out)
        assert inside, f"{dev} HDU {ctx.hdu}: centre outside s_region"
        n += 1
        v = out.values()
        if out.cells["s_region"].rule == "spatial.wcs":
            # the pixel area at the array centre x the number of pixels: within 5 % (within
            # 0.6 % in fact; the 1904-66 maps, 12.8 deg wide, show their projection distortion)
            expected = (v["s_pixel_scale"] / 3600) ** 2 * v["s_xel1"] * v["s_xel2"]
            assert area == pytest.approx(expected, rel=0.05), f"{dev} HDU {ctx.hdu}"
        elif out.cells["s_region"].rule in ("spatial.keywords", "spatial.keywords.pointing"):
            # the circumscribed polygon of a 1' circle: pi r^2 (1 + the documented overshoot)
            overshoot = schema.load().region.area_overshoot
            assert area == pytest.approx(math.pi / 3600 * (1 + overshoot), rel=2e-3)
    assert n > 40


def test_corpus_centres_agree_with_astropy_facts(files, facts):
    """Every WCS image: the centre is astropy's (facts.json, array centre) to 1 mas."""
    checked = 0
    for dev, fact in facts.items():
        if not fact.get("has_celestial_wcs") or "centre_icrs_deg" not in fact:
            continue
        if fact["centre_definition"].startswith("reference pixel"):
            continue  # event lists (centre of TLMIN..TLMAX here) and NAXIS = 0
        v = run(files, dev, fact["science_hdu"]).values()
        assert sep_arcsec(v["s_ra"], v["s_dec"], *fact["centre_icrs_deg"]) < 1e-3, dev
        checked += 1
    assert checked >= 20


# Crafted footprints (CRAFTED headers: geometry the corpus lacks).
POLAR_AND_WRAP = {
    "tan-centred-on-the-north-pole": image(2000, 2000, "RA---TAN", "DEC--TAN", 0.0, 90.0, 0.0005),
    "tan-holding-the-pole-off-centre": image(2000, 2000, "RA---TAN", "DEC--TAN", 123.0, 89.5, 0.001),
    "sin-near-the-south-pole": image(300, 300, "RA---SIN", "DEC--SIN", 45.0, -88.0, 0.02),
    "across-ra-0": image(1000, 1000, "RA---TAN", "DEC--TAN", 0.01, -10.0, 0.001),
    "car-polar-cap-360-deg-wide": image(360, 30, "RA---CAR", "DEC--CAR", 0.0, 0.0, 1.0,
                                        crpix1=180.5, crpix2=-59.5),
    "one-pixel-wide-sfl-strip": dict(
        NAXIS=2, NAXIS1=1, NAXIS2=10, CTYPE1="GLON-SFL", CTYPE2="GLAT-SFL",
        CRVAL1=144.83689668688308, CRVAL2=0.0, CRPIX1=0.17819129570186742,
        CRPIX2=-0.7394040723837243, CD1_1=-0.0074184725287410125, CD1_2=-0.03559669982300541,
        CD2_1=-0.03559669982300541, CD2_2=0.0074184725287410125),
    "three-pixel-wide-ait-strip": dict(
        NAXIS=2, NAXIS1=4000, NAXIS2=3, CTYPE1="GLON-AIT", CTYPE2="GLAT-AIT",
        CRVAL1=255.35911956257178, CRVAL2=0.0, CRPIX1=1707.6219929398217,
        CRPIX2=0.24177475872072662, CD1_1=-0.00010798170116428968, CD1_2=0.00040813616566968356,
        CD2_1=0.00040813616566968356, CD2_2=0.00010798170116428968),
}


@pytest.mark.parametrize("name", sorted(POLAR_AND_WRAP))
def test_crafted_polar_wrap_and_thin_footprints_are_valid_pgsphere_polygons(pg, tmp_path, name):
    ctxs = crafted(tmp_path, name, POLAR_AND_WRAP[name])
    out = derive(ctxs, 0)
    v = out.values()
    inside, area = pg_check(pg, out)
    assert inside
    n1, n2 = v["s_xel1"], v["s_xel2"]
    expected = (v["s_pixel_scale"] / 3600) ** 2 * n1 * n2
    if name.startswith("car-polar-cap"):
        # dec 60..90 over 360 deg of RA: a cap of 2 pi (1 - sin 60) sr = 2763 deg². The RA = 0
        # and RA = 360 edges trace the same meridian up to the pole and back (a spike, dropped):
        # the polygon is the 16 points on dec = 60, whose great-circle edges cut 2 %
        assert len(vertices(v["s_region"])) == 16
        assert area == pytest.approx(2 * math.pi * (1 - math.sin(math.radians(60)))
                                     * (180 / math.pi) ** 2, rel=0.03)
        north = pg.execute("SELECT spoint(0, pi()/2) @ %s::spoly", (v["s_region"],)).fetchone()[0]
        assert north
    elif "strip" not in name and area > 1e-3:
        assert area == pytest.approx(expected, rel=0.02)
    if "north-pole" in name or "holding-the-pole" in name:
        assert pg.execute("SELECT spoint(0, pi()/2) @ %s::spoly", (v["s_region"],)).fetchone()[0]
    if "south-pole" in name:
        assert pg.execute("SELECT spoint(0, -pi()/2) @ %s::spoly", (v["s_region"],)).fetchone()[0]
    if name == "across-ra-0":
        assert v["s_ra"] == pytest.approx(0.01)
        ras = [a for a, _ in vertices(v["s_region"])]
        assert min(ras) < 1 and max(ras) > 359  # vertices on both sides of RA = 0


@pytest.mark.parametrize(("name", "cards", "code"), [
    ("car-200-deg-band", image(200, 20, "RA---CAR", "DEC--CAR", 100.0, 0.0, 1.0), "footprint-too-large"),
    ("car-170-deg-band", image(170, 20, "RA---CAR", "DEC--CAR", 100.0, 0.0, 1.0), "footprint-too-large"),
    ("car-all-sky", image(360, 180, "GLON-CAR", "GLAT-CAR", 0.0, 0.0, 1.0), "footprint-too-large"),
    ("mol-all-sky", image(720, 360, "GLON-MOL", "GLAT-MOL", 0.0, 0.0, 0.5), "footprint-outside-projection"),
    # stereographic map of most of the sky: the traced edges surround the outside
    ("stg-most-of-the-sky", dict(
        NAXIS=2, NAXIS1=1000, NAXIS2=4000, CTYPE1="GLON-STG", CTYPE2="GLAT-STG",
        CRVAL1=325.426882014816, CRVAL2=-87.29100664321565, CRPIX1=922.7425477325964,
        CRPIX2=2518.4926444638695, CD1_1=-0.39287157281863494, CD1_2=-0.9625903853006311,
        CD2_1=-0.9625903853006311, CD2_2=0.39287157281863494), "footprint-not-polygon"),
])
def test_crafted_footprints_beyond_a_hemisphere_get_no_region(tmp_path, name, cards, code):
    out = derive(crafted(tmp_path, name, cards), 0)
    v = out.values()
    assert "s_region" not in v
    assert code in issues(out)
    assert "s_ra" in v and v["s_fov"] > 150


@pytest.mark.parametrize(("lon_from", "lon_to", "accepted"), [(20.0, 179.0, True), (15.0, 185.0, False)])
def test_crafted_hemisphere_rule_is_pgspheres(pg, lon_from, lon_to, accepted):
    # PgSphere refuses a polygon a vertex of which is not in the open hemisphere around the
    # middle of the vertices' bounding box: a band of 20..179 deg x +-10 deg passes, a band of
    # 15..185 deg does not; our check says the same, so no refused row reaches the database
    lons = np.linspace(lon_from, lon_to, 5)
    ring = spatial._vectors(np.r_[lons, lons[::-1]], np.r_[[-10.0] * 5, [10.0] * 5]).tolist()
    literal = "{" + ",".join(f"({a}d,{b}d)" for a, b in zip(np.r_[lons, lons[::-1]],
                                                          [-10.0] * 5 + [10.0] * 5)) + "}"
    if accepted:
        pg.execute("SELECT %s::spoly", (literal,))
        assert spatial._in_hemisphere(ring) is not None
    else:
        with pytest.raises(psycopg.Error, match="too large"):
            pg.execute("SELECT %s::spoly", (literal,))
        assert spatial._in_hemisphere(ring) is None


# ======================================================= frames (vs SkyCoord)

@pytest.mark.parametrize(("system", "equinox", "frame"), [
    ("ICRS", None, ICRS()),
    ("FK5", 2000.0, FK5(equinox="J2000")),
    ("FK5", 1985.0, FK5(equinox="J1985")),
    ("FK4", 1950.0, FK4(equinox="B1950")),
    ("FK4", 1900.0, FK4(equinox="B1900")),
    ("FK4-NO-E", 1950.0, FK4NoETerms(equinox="B1950")),
    ("GALACTIC", None, Galactic()),
    ("SUPERGALACTIC", None, Supergalactic()),
    ("ECLIPTIC", 2000.0, BarycentricMeanEcliptic(equinox="J2000")),
])
def test_cached_rotations_agree_with_skycoord(system, equinox, frame):
    rng = np.random.default_rng(42)
    points = list(zip(rng.uniform(0, 360, 40), rng.uniform(-90, 90, 40)))
    points += [(0.0, 89.9999), (180.0, -89.9999), (359.99999, 0.0), (0.0, 0.0)]
    for lon, lat in points:
        ra, dec = icrs_from(system, equinox, lon, lat)
        assert 0 <= ra < 360 and -90 <= dec <= 90
        assert sep_arcsec(ra, dec, *to_icrs(lon, lat, frame)) < 1e-6  # < 1 micro-arcsec


@pytest.mark.parametrize(("ctype", "extra", "frame"), [
    (("ELON-TAN", "ELAT-TAN"), {"EQUINOX": 2000.0}, BarycentricMeanEcliptic()),
    (("SLON-TAN", "SLAT-TAN"), {}, Supergalactic()),
    (("RA---TAN", "DEC--TAN"), {"RADESYS": "FK4", "EQUINOX": 1950.0}, FK4()),
    (("RA---TAN", "DEC--TAN"), {"RADESYS": "FK4-NO-E", "EQUINOX": 1950.0}, FK4NoETerms()),
    (("RA---TAN", "DEC--TAN"), {"RADESYS": "FK5", "EQUINOX": 1975.0}, FK5(equinox="J1975")),
])
def test_crafted_wcs_frames_are_converted_to_icrs(tmp_path, ctype, extra, frame):
    cards = image(100, 100, ctype[0], ctype[1], 10.0, 20.0, 0.01, **extra)
    out = derive(crafted(tmp_path, "frame", cards), 0)
    v = out.values()
    assert sep_arcsec(v["s_ra"], v["s_dec"], *to_icrs(10.0, 20.0, frame)) < 1e-6


def test_crafted_gappt_is_not_converted(tmp_path):
    cards = image(100, 100, "RA---TAN", "DEC--TAN", 10.0, 20.0, 0.01, RADESYS="GAPPT",
                  RA=10.0, DEC=20.0)
    out = derive(crafted(tmp_path, "gappt", cards), 0)
    assert "s_ra" not in out.values()
    assert "unsupported-celestial-frame" in issues(out)
    assert out.values()["s_xel1"] == 100


# ===================================================== keyword values (crafted)

@pytest.mark.parametrize(("value", "is_ra", "comment", "expected"), [
    (85.27, True, None, 85.27),
    ("85.27", True, None, 85.27),
    ("05 41 06.000", True, None, 85.275),
    ("05:41:06", True, None, 85.275),
    ("05h41m06s", True, None, 85.275),
    ("5h", True, None, 75.0),
    ("+85d16m30s", True, None, 85.275),
    ("-02 27 30.00", False, None, -2.458333333),
    ("-00:30:00", False, None, -0.5),
    ("+33:44:54.", False, None, 33.748333333),
    (" 01:05:17.0", True, None, 16.320833333),
    (5.685, True, "RA of target (hours)", 85.275),
    (5.685, True, "[h] right ascension", 85.275),
    (5.685, True, "15:23:30.3 RA (J2000) pointing (deg)", 5.685),
    (360.0, True, None, 0.0),
])
def test_angles_are_read_in_degrees_or_hours(value, is_ra, comment, expected):
    got, _how = parse_angle(value, is_ra, comment)
    assert got == pytest.approx(expected, abs=1e-8)


@pytest.mark.parametrize(("value", "is_ra", "comment"), [
    ("abc", True, None), ("25:00:00", True, None), ("12:61:00", True, None),
    ("95:00:00", False, None), (400.0, True, None), (-91.0, False, None),
    (30.0, True, "RA in hours"), (None, True, None), (True, False, None), (float("nan"), False, None),
])
def test_unreadable_or_out_of_range_angles(value, is_ra, comment):
    got, why = parse_angle(value, is_ra, comment)
    assert got is None and why


def test_crafted_bad_position_keywords_become_issues_and_the_next_pair_is_used(tmp_path):
    cards = dict(NAXIS=1, NAXIS1=100, RA_OBJ="junk", DEC_OBJ="+10:00:00", RA=150.0, DEC=10.0)
    out = derive(crafted(tmp_path, "bad", cards), 0)
    assert "bad-position-keyword" in issues(out)
    assert out.cells["s_ra"].sources[:2] == ("RA", "DEC")
    # no RADESYS, no EQUINOX: ICRS (FITS default)
    assert out.values()["s_ra"] == 150.0


def test_crafted_zero_zero_is_a_placeholder(tmp_path):
    out = derive(crafted(tmp_path, "zero", dict(NAXIS=1, NAXIS1=10, RA=0.0, DEC=0.0)), 0)
    assert "s_ra" not in out.values()
    assert "placeholder-position" in issues(out)


def test_crafted_hours_comment_on_a_numeric_ra(tmp_path):
    path = tmp_path / "hours.hdr"
    path.write_text("SIMPLE  = T\nNAXIS   = 1\nNAXIS1  = 10\n"
                    "RA      =               5.685 / Right ascension (hours)\n"
                    "DEC     =               -2.45 / Declination (deg)\nEND\n")
    v = derive(contexts_from_file(path), 0).values()
    assert v["s_ra"] == pytest.approx(85.275)


def test_crafted_pointing_order_for_other_tables(tmp_path):
    # a non-event table with both pointing and target keywords: the target wins
    cards = dict(NAXIS=0, RA_PNT=10.0, DEC_PNT=10.0, RA_TARG=10.5, DEC_TARG=10.5, RADESYS="ICRS")
    out = derive(crafted(tmp_path, "order", cards), 0)
    assert out.cells["s_ra"].sources[:2] == ("RA_TARG", "DEC_TARG")


def test_crafted_fermi_data_subspace_circle(tmp_path):
    # CRAFTED: a Fermi LAT event list as gtselect writes it (a POS(RA,DEC) selection circle)
    from astropy.io import fits
    hdu = fits.BinTableHDU.from_columns([fits.Column(name="TIME", format="D", array=[1.0])],
                                        name="EVENTS")
    hdu.header.update({"HDUCLAS1": "EVENTS", "RADECSYS": "FK5", "EQUINOX": 2000.0,
                       "DSTYP1": "TIME", "DSVAL1": "TABLE", "DSTYP2": "POS(RA,DEC)",
                       "DSUNI2": "deg", "DSVAL2": "CIRCLE(266.405,-28.936,12)"})
    path = tmp_path / "fermi.fits"
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)
    out = derive(contexts_from_file(path), 1)
    v = out.values()
    assert (v["s_ra"], v["s_dec"]) == pytest.approx(to_icrs(266.405, -28.936, FK5()), abs=1e-9)
    assert v["s_fov"] == 24.0
    assert out.cells["s_region"].rule == "spatial.dss-circle"
    assert v["s_region"] == schema.circle_to_spoly(v["s_ra"], v["s_dec"], 12.0)
    assert (v["s_xel1"], v["s_xel2"]) == (-1, -1)


def test_crafted_pixel_list_without_tlmin_gives_the_reference_point(tmp_path):
    from astropy.io import fits
    cols = [fits.Column(name="X", format="E", array=[1.0]), fits.Column(name="Y", format="E", array=[1.0])]
    hdu = fits.BinTableHDU.from_columns(cols, name="EVENTS")
    hdu.header.update({"TCTYP1": "RA---TAN", "TCTYP2": "DEC--TAN", "TCRVL1": 10.0, "TCRVL2": -20.0,
                       "TCRPX1": 4096.5, "TCRPX2": 4096.5, "TCDLT1": -1e-4, "TCDLT2": 1e-4,
                       "RADESYS": "ICRS"})
    path = tmp_path / "events.fits"
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)
    ctxs = contexts_from_file(path)
    assert ctxs[1].wcs_status == "ok"
    out = derive(ctxs, 1)
    v = out.values()
    assert (v["s_ra"], v["s_dec"]) == pytest.approx((10.0, -20.0), abs=1e-9)
    assert out.cells["s_ra"].rule == "spatial.pixlist.refpoint"
    assert v["s_fov"] == pytest.approx(2 / 60)  # the keyword-position circle
    assert (v["s_xel1"], v["s_xel2"]) == (-1, -1)


@pytest.mark.parametrize(("name", "extra", "what"), [
    # CRAFTED: a SIP coefficient that is not a number: wcscheck leaves every SIP card out
    # (such a card segfaults wcspih); the footprint is traced without SIP, and says so
    ("malformed-sip", {"A_ORDER": 2, "B_ORDER": 2, "A_2_0": "'x'", "B_0_2": 1e-5}, "SIP"),
    # CRAFTED: WCS Paper IV distortion functions (DP1/CPDIS1): always left out by wcscheck
    ("paper-iv", {"CPDIS1": "'Polynomial'", "DP1": "'NAXES: 2'"}, "Paper IV"),
])
def test_crafted_distortion_left_out_by_wcscheck_is_noted(tmp_path, name, extra, what):
    cards = image(100, 100, "RA---TAN-SIP" if "sip" in name else "RA---TAN",
                  "DEC--TAN-SIP" if "sip" in name else "DEC--TAN", 10.0, 20.0, 0.01, **extra)
    ctxs = crafted(tmp_path, name, cards)
    assert ctxs[0].wcs_status == "ok"
    out = derive(ctxs, 0)
    assert what in issues(out)["distortion-ignored"]
    assert what in out.cells["s_region"].note


def test_sip_is_applied_when_wcscheck_keeps_it(files, facts):
    # header_newlines.fits (PTF, TAN-SIP, well-formed): wcslib applies SIP, like astropy's
    # all_pix2world (facts.json), and nothing is said about ignored distortion
    out = run(files, "dev029")
    assert "distortion-ignored" not in issues(out)
    v = out.values()
    assert sep_arcsec(v["s_ra"], v["s_dec"], *facts["dev029"]["centre_icrs_deg"]) < 1e-3


# ========================================================= resolution (crafted)

@pytest.mark.parametrize(("card", "expected"), [
    ("BMAJ    =              0.001 / Beam FWHM (degrees)", 3.6),
    ("BMAJ    =              0.001", 3.6),                        # degrees by convention
    ("BMAJ    =                3.6 / [arcsec] beam major axis", 3.6),  # the comment wins
    ("SEEING  =                1.2 / [arcsec]", 1.2),
    ("SEEING  =               0.02 / seeing in arcmin", 1.2),
    ("FWHM    =                2.0 / FWHM (pixels)", 2.0 * 36.0),  # x the 36" pixels
    ("FWHM    =                2.0 / FWHM of the PSF", None),      # no unit: not used
    ("SEEING  =                0.0 / [arcsec]", None),              # implausible
])
def test_crafted_resolution_needs_a_known_unit(tmp_path, card, expected):
    cards = image(100, 100, "RA---TAN", "DEC--TAN", 10.0, 20.0, 0.01)
    lines = ["SIMPLE  = T"] + [f"{k:<8}= {v!r}".replace('"', "'") for k, v in cards.items()]
    path = tmp_path / "res.hdr"
    path.write_text("\n".join(lines + [card, "END"]) + "\n")
    v = derive(contexts_from_file(path), 0).values()
    if expected is None:
        assert "s_resolution" not in v
    else:
        assert v["s_resolution"] == pytest.approx(expected, rel=1e-4)


# ================================================================= robustness

def test_wcslib_is_never_called_when_the_precheck_rejected_the_header(files, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("wcslib called on a rejected header")
    monkeypatch.setattr(wcscheck, "prepare_wcsprm", forbidden)
    monkeypatch.setattr(wcscheck, "build_wcsprm", forbidden)
    ctxs = contexts_from_file(files["dev040"])
    out = derive(ctxs, 0)
    assert out.values()["s_ra"]  # from CRVAL, without wcslib
    ctx = contexts_from_file(files["dev003"])[0]
    ctx.wcs_status = "error"  # as if the isolated pre-check had refused it
    out = Derivation()
    derive_spatial(ctx, out, RuleConfig())
    assert "s_region" not in out.values()
    assert not any(i.code == "spatial-failed" for i in out.issues)


def test_spectra_and_tables_never_reach_wcslib(files, monkeypatch):
    calls = []
    real = wcscheck.prepare_wcsprm
    monkeypatch.setattr(wcscheck, "prepare_wcsprm", lambda *a, **k: calls.append(1) or real(*a, **k))
    for dev in ("dev010", "dev022", "dev048", "dev061", "dev064"):
        run(files, dev)
    assert calls == []


@pytest.mark.parametrize("keywords", [
    {"RA": [1, 2], "DEC": {"x": 1}},
    {"RA": "12:00:00", "DEC": "+10:00:00", "EQUINOX": "nonsense", "RADESYS": 5},
    {"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "NAXIS": "two"},  # and no header text
    {"DSTYP1": "POS(RA,DEC)", "DSVAL1": "CIRCLE(a,b,c)", "EXTNAME": "EVENTS"},
    {"BMAJ": "wide", "SEEING": -5},
])
def test_crafted_garbage_never_raises(keywords):
    ctx = HDUContext(catalogue="X", relpath="x.fits", hdu=0, keywords=keywords,
                     header_text="", wcs_status="ok")
    out = Derivation()
    derive_spatial(ctx, out, RuleConfig())
    assert not any(i.code == "spatial-failed" for i in out.issues)


def test_every_corpus_hdu_derives_without_failure(files):
    for dev, path in files.items():
        ctxs = contexts_from_file(path)
        for ctx in ctxs:
            out = Derivation()
            derive_spatial(ctx, out, RuleConfig(), ctxs)
            assert not any(i.code == "spatial-failed" for i in out.issues), (dev, ctx.hdu)
            v = out.values()
            if "s_ra" in v:
                assert 0 <= v["s_ra"] < 360 and -90 <= v["s_dec"] <= 90
                assert 0 < v["s_fov"] <= 360
            for col in v:
                assert col in spatial.COLUMNS
                assert out.cells[col].rule.startswith("spatial.")
