"""Spectral axis rules (assocdata.derive.spectral): em_min, em_max, em_xel, em_res_power, em_ucd.

Corpus tests: every expected value is computed here from the numbers of the
header (copied into the test, with the reasoning in a comment), never by the
module's own helpers.  Crafted tests (marked CRAFTED) cover branches the
corpus lacks; they claim nothing about real-world files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from numpy.polynomial import chebyshev, legendre

from assocdata.derive.context import Derivation, RuleConfig
from assocdata.derive.fromfile import contexts_from_file
from assocdata.derive.spectral import (
    LAMBDA_MIN, R_BAND, R_CLASS, R_COLUMN, R_DSS, R_EBOUNDS, R_LINEAR, R_LOGLIN, R_MULTISPEC,
    R_NAMED, R_REST, R_RESKEY, R_SDSS, R_WCS, R_WCSLIB, air_to_vacuum, derive_spectral,
)

C = 299_792_458.0
HC = 6.62607015e-34 * C                  # J m
KEV = 1.602176634e-16                    # J
ANGSTROM = 1e-10


def derive(path: Path, hdu: int = 0, config: RuleConfig | None = None,
           with_siblings: bool = True) -> Derivation:
    ctxs = contexts_from_file(path)
    ctx = ctxs[hdu]
    siblings = [c for c in ctxs if c.hdu != hdu] if with_siblings else []
    out = Derivation()
    derive_spectral(ctx, out, config or RuleConfig(), siblings)
    return out


def codes(out: Derivation) -> set[str]:
    return {i.code for i in out.issues}


@dataclass(frozen=True)
class _Switches(RuleConfig):
    """RuleConfig plus the two switches this part reads with getattr (not yet in RuleConfig)."""

    house_class_offset_frequency: bool = True
    house_instrument_band: bool = True


def nyquist_r(lam_centre: float, dlam_per_pixel: float) -> float:
    return lam_centre / (2.0 * abs(dlam_per_pixel))


def energy_to_m(e_joule: float) -> float:
    return HC / e_joule


# =====================================================================================
# Standard spectral WCS (Paper III)
# =====================================================================================

def test_radio_vrad_spectrum_converted_with_restfrq(corpus: Path) -> None:
    # dev042 GBT NH3(1,1): CTYPE1 = 'VRAD', CUNIT1 = 'km/s', CRVAL1 = 68.365635,
    # CDELT1 = -0.077230503, CRPIX1 = 4096, NAXIS1 = 8192, RESTFRQ = 23694500000 Hz.
    # Edges p = 0.5 and 8192.5; radio convention nu = nu0 (1 - v/c); lambda = c/nu.
    out = derive(corpus / "pyspeckit/G031.947+00.076_nh3_11_Tastar.fits")
    v = [(68.365635 + -0.077230503 * (p - 4096.0)) * 1e3 for p in (0.5, 8192.5)]
    lam = [C / (23694500000.0 * (1 - x / C)) for x in v]
    assert out.value("em_min") == pytest.approx(min(lam), rel=1e-12)
    assert out.value("em_max") == pytest.approx(max(lam), rel=1e-12)
    assert out.value("em_min") == pytest.approx(0.0126419, rel=1e-5)   # ~23.71 GHz
    assert out.value("em_xel") == 8192
    assert out.value("em_ucd") == "spect.dopplerVeloc.radio"
    cell = out.cells["em_min"]
    assert cell.rule == R_WCS
    assert {"CTYPE1", "CRVAL1", "CDELT1", "CRPIX1", "NAXIS1", "CUNIT1", "RESTFRQ"} <= set(cell.sources)
    # resolving power: nu/(2 dnu) at the centre; dnu = nu0 |CDELT| / c
    nu_c = 23694500000.0 * (1 - (68.365635 + -0.077230503 * (4096.5 - 4096.0)) * 1e3 / C)
    assert out.value("em_res_power") == pytest.approx(
        nu_c / (2 * 23694500000.0 * 0.077230503e3 / C), rel=1e-6)


@pytest.mark.parametrize("relpath, crval_ms, cdelt_ms, crpix, n, restfrq", [
    # dev047 sample_13CO: CD1_1 (no CDELT1) = 212.5358581543 m/s, CUNIT1 'm/s', RESTFREQ (AIPS name)
    ("pyspeckit/sample_13CO.fits", 40000.10101113, 212.5358581543, 212.5084533691, 659,
     110201370000.0),
    # dev059 GBT 1d.fits: CDELT1 = -0.25258831 km/s, CRVAL1 = 7.5845751 km/s, RESTFRQ
    ("specutils-history/1d.fits", 7584.5751, -252.58831, 2049.0, 4096, 14488479000.0),
])
def test_vrad_spectra_with_rest_frequency(corpus: Path, relpath: str, crval_ms: float,
                                          cdelt_ms: float, crpix: float, n: int,
                                          restfrq: float) -> None:
    out = derive(corpus / relpath)
    lam = [C / (restfrq * (1 - (crval_ms + cdelt_ms * (p - crpix)) / C)) for p in (0.5, n + 0.5)]
    assert out.value("em_min") == pytest.approx(min(lam), rel=1e-12)
    assert out.value("em_max") == pytest.approx(max(lam), rel=1e-12)
    assert out.value("em_xel") == n
    assert out.cells["em_min"].rule == R_WCS


def test_vopt_cube_without_rest_frequency_publishes_axis_but_no_range(corpus: Path) -> None:
    # dev009 l1448 13CO: CTYPE3 = 'VOPT', NAXIS3 = 53, no RESTFRQ/RESTFREQ/RESTWAV anywhere:
    # a velocity cannot become a wavelength.  The axis (53 channels, optical velocity) is known.
    out = derive(corpus / "astropy-data/l1448_13co.fits")
    assert not out.has("em_min") and not out.has("em_max") and not out.has("em_res_power")
    assert out.value("em_xel") == 53
    assert out.value("em_ucd") == "spect.dopplerVeloc.opt"
    assert "velocity-without-rest-frequency" in codes(out)


def test_freq_axis_of_2d_image_read_from_staged_keywords(corpus: Path) -> None:
    # dev043 Arecibo H2CO, 2-D [8192 x 17]: CTYPE1 = 'FREQ', CUNIT1 = 'Hz',
    # CRVAL1 = 4830660000, CDELT1 = -1400, CRPIX1 = 4097, NAXIS1 = 8192.
    # nu(0.5) = 4830660000 + 1400 * 4096.5 = 4836395100 Hz; nu(8192.5) = 4824926300 Hz.
    # (Its CRVAL1/CDELT1/CRPIX1 cards are right-justified ('  CRVAL1='): the staging
    # parser reads them, wcslib would not, which is why the linear axis is read from
    # the staged keywords.)
    out = derive(corpus / "pyspeckit/G203.04+1.76_h2co.fits")
    assert out.value("em_min") == pytest.approx(C / 4836395100.0, rel=1e-12)
    assert out.value("em_max") == pytest.approx(C / 4824926300.0, rel=1e-12)
    assert out.value("em_xel") == 8192          # the spectral axis only, not the 17 rows
    assert out.value("em_ucd") == "em.freq"
    # R = nu_c / (2 * 1400 Hz), nu_c at pixel 4096.5
    assert out.value("em_res_power") == pytest.approx(
        (4830660000.0 - 1400 * (4096.5 - 4097)) / 2800.0, rel=1e-9)


def test_orion_4axis_freq_header(corpus: Path) -> None:
    # dev030 orion-freq-4.hdr (wcslib test header): CTYPE1 = 'FREQ', CUNIT1 = 'Hz',
    # CRVAL1 = 102118941400 (sic: at CRPIX1 = 32768, beyond NAXIS1 = 4096), CDELT1 = -269537.297.
    out = derive(corpus / "pkg-astropy/orion-freq-4.hdr")
    nu = [102118941400.0 + -269537.297 * (p - 32768.0) for p in (0.5, 4096.5)]
    assert out.value("em_min") == pytest.approx(C / max(nu), rel=1e-12)
    assert out.value("em_max") == pytest.approx(C / min(nu), rel=1e-12)
    assert out.value("em_xel") == 4096
    assert out.cells["em_min"].rule == R_WCS


def test_linear_axes_from_keywords_agree_with_wcslib_p2s(corpus: Path) -> None:
    """The keyword reading of a linear spectral axis is what wcslib computes (p2s at the edges)."""
    from assocdata import wcscheck

    for relpath, restfrq in (("pkg-astropy/orion-freq-4.hdr", None),
                             ("pyspeckit/G031.947+00.076_nh3_11_Tastar.fits", 23694500000.0),
                             ("pyspeckit/sample_13CO.fits", 110201370000.0),
                             ("specutils-history/1d.fits", 14488479000.0)):
        ctx = contexts_from_file(corpus / relpath)[0]
        assert ctx.wcs_status == "ok"
        unit = wcscheck.find_wcs_units(ctx.keywords, ctx.xtension)[0]
        p = wcscheck.prepare_wcsprm(ctx.header_text, unit)
        n = int(ctx.keywords["NAXIS1"])
        pix = np.repeat(np.asarray(p.crpix, float)[None, :], 2, axis=0)
        pix[:, p.spec] = [0.5, n + 0.5]
        world = p.p2s(pix, 1)["world"][:, p.spec]          # SI: Hz or m/s
        lam = C / world if restfrq is None else C / (restfrq * (1 - world / C))
        out = Derivation()
        derive_spectral(ctx, out, RuleConfig(), [])
        assert out.value("em_min") == pytest.approx(lam.min(), rel=1e-12), relpath
        assert out.value("em_max") == pytest.approx(lam.max(), rel=1e-12), relpath


def test_class_offset_frequency_axis_with_rejected_wcs(corpus: Path) -> None:
    # dev040 SMT HCO+(3-2), written by CLASS: CTYPE1 = 'FREQ', CRVAL1 = 0 ("Offset frequency"),
    # CDELT1 = -1000000.119209, CRPIX1 = 256.5, NAXIS1 = 512, RESTFREQ = 267557625000 Hz.
    # Standard reading gives -256 .. +256 MHz (impossible); CLASS: nu = RESTFREQ + offset.
    # The wcslib pre-check rejects the header (GLS axes with CDELT = 0: singular matrix), but
    # the spectral axis is linear and independent: read from the keywords, no wcslib call.
    path = corpus / "pyspeckit/10074-190_HCOp.fits"
    assert contexts_from_file(path)[0].wcs_status == "error"
    out = derive(path)
    nu_hi = 267557625000.0 + -1000000.119209 * (0.5 - 256.5)     # 267813625030.5 Hz
    nu_lo = 267557625000.0 + -1000000.119209 * (512.5 - 256.5)   # 267301624969.5 Hz
    assert out.value("em_min") == pytest.approx(C / nu_hi, rel=1e-12)
    assert out.value("em_max") == pytest.approx(C / nu_lo, rel=1e-12)
    assert out.cells["em_min"].rule == R_CLASS
    assert "RESTFREQ" in out.cells["em_min"].sources
    assert out.value("em_xel") == 512
    # switched off: the standard reading stands and is implausible (negative frequencies)
    off = derive(path, config=_Switches(house_class_offset_frequency=False))
    assert not off.has("em_min") and "implausible-spectral-range" in codes(off)


# =====================================================================================
# House rules: LINEAR / WAVELENGTH / LAMBDA, IRAF log-linear, SDSS/LAMOST COEFF
# =====================================================================================

@pytest.mark.parametrize("relpath", [
    "astropy-data/r.UVES.2011-08-11T232352.266-A01_0000.fits",   # dev010
    "astropy-data/r.UVES.2011-08-13T031149.083-A01_0000.fits",   # dev011 (same wavelength setup)
])
def test_uves_unit_from_ctype_brackets(corpus: Path, relpath: str) -> None:
    # CTYPE1 = 'WAVELENGTH [Ang]', no CUNIT1, CRVAL1 = 3732.05623191818, CDELT1 = 0.0296533834852385,
    # CRPIX1 = 1, NAXIS1 = 42751 -> unit 'Ang' from the brackets:
    # 3732.05623191818 - 0.5 * 0.02965... = 3732.0414 A .. 3732.056 + 42750.5 * 0.02965... = 4999.753 A
    out = derive(corpus / relpath)
    lo = (3732.05623191818 + 0.0296533834852385 * (0.5 - 1.0)) * ANGSTROM
    hi = (3732.05623191818 + 0.0296533834852385 * (42751.5 - 1.0)) * ANGSTROM
    assert out.value("em_min") == pytest.approx(lo, rel=1e-12)
    assert out.value("em_max") == pytest.approx(hi, rel=1e-12)
    assert out.value("em_xel") == 42751
    assert out.value("em_ucd") == "em.wl"
    cell = out.cells["em_min"]
    assert cell.rule == R_LINEAR and "brackets" in (cell.note or "")
    lam_c = (3732.05623191818 + 0.0296533834852385 * (21376.0 - 1.0)) * ANGSTROM
    assert out.value("em_res_power") == pytest.approx(
        nyquist_r(lam_c, 0.0296533834852385 * ANGSTROM), rel=1e-9)


def test_house_linear_units_switch(corpus: Path) -> None:
    out = derive(corpus / "astropy-data/r.UVES.2011-08-11T232352.266-A01_0000.fits",
                 config=RuleConfig(house_linear_units=False))
    assert not out.cells


def test_lowercase_lambda_ctype_with_iraf_plural_unit(corpus: Path) -> None:
    # dev045 hr2421.fit: CTYPE1 = 'lambda', CUNIT1 = 'angstroms' (IRAF plural), CRVAL1 = 3064.15,
    # CD1_1 = CDELT1 = 8.285417, CRPIX1 = 1, NAXIS1 = 573 -> 3060.0073 .. 7807.5512 A
    out = derive(corpus / "pyspeckit/hr2421.fit")
    assert out.value("em_min") == pytest.approx((3064.15 - 0.5 * 8.285417) * ANGSTROM, rel=1e-12)
    assert out.value("em_max") == pytest.approx((3064.15 + 572.5 * 8.285417) * ANGSTROM, rel=1e-12)
    assert out.value("em_xel") == 573
    assert out.cells["em_min"].rule == R_LINEAR
    assert "CUNIT1" in out.cells["em_min"].sources


def test_iraf_linear_unit_from_wat(corpus: Path) -> None:
    # dev061 GMOS: CTYPE1 = 'LINEAR', WAT1_001 = 'wtype=linear label=Wavelength units=Angstroms',
    # CRVAL1 = 6100, CD1_1 = 1.374627360053, CRPIX1 = 1, NAXIS1 = 3020, DC-FLAG = 0
    # -> 6100 - 0.687 = 6099.3127 A .. 6100 + 3019.5 * 1.3746 = 10250.687 A
    out = derive(corpus / "specutils-history/L5g_0355+11_Cruz09.fits")
    assert out.value("em_min") == pytest.approx((6100 - 0.5 * 1.374627360053) * ANGSTROM, rel=1e-12)
    assert out.value("em_max") == pytest.approx((6100 + 3019.5 * 1.374627360053) * ANGSTROM,
                                                rel=1e-12)
    cell = out.cells["em_min"]
    assert cell.rule == R_LINEAR and "WAT1_001" in cell.sources and "CD1_1" in cell.sources
    assert out.value("em_xel") == 3020
    assert "spectral-unit-assumed" not in codes(out)


def test_iraf_log_linear_without_unit_uses_plausibility_window(corpus: Path) -> None:
    # dev063 MagE: CTYPE1 = 'LINEAR', DC-FLAG = 1, CRVAL1 = 3.48308100271,
    # CDELT1 = 3.18703100992e-05, CRPIX1 = 1, NAXIS1 = 16602, no CUNIT/WAT:
    # 10**(3.483081 - 0.5 * 3.187e-5) = 3040.9 .. 10**(3.483081 + 16601.5 * 3.187e-5) = 10284.3,
    # inside the 3000..30000 window -> Angstrom (an info issue says so).
    out = derive(corpus / "specutils-history/UM669_nF.fits")
    lo = 10 ** (3.48308100271 + 3.18703100992e-05 * (0.5 - 1)) * ANGSTROM
    hi = 10 ** (3.48308100271 + 3.18703100992e-05 * (16602.5 - 1)) * ANGSTROM
    assert out.value("em_min") == pytest.approx(lo, rel=1e-12)
    assert out.value("em_max") == pytest.approx(hi, rel=1e-12)
    assert out.cells["em_min"].rule == R_LOGLIN
    assert "DC-FLAG" in out.cells["em_min"].sources
    assert "spectral-unit-assumed" in codes(out)
    # R for log sampling: 1 / (2 ln10 CDELT1) (finite difference over one pixel)
    assert out.value("em_res_power") == pytest.approx(1 / (2 * math.log(10) * 3.18703100992e-05),
                                                      rel=1e-6)
    assert not derive(corpus / "specutils-history/UM669_nF.fits",
                      config=RuleConfig(house_iraf_log_linear=False)).has("em_min")


def test_sdss_spspec_coeff(corpus: Path) -> None:
    # dev048 old SDSS spSpec: COEFF0 = 3.5796, COEFF1 = 0.0001 (log10 vacuum Angstrom),
    # NAXIS1 = 3853 -> 10**(3.5796 - 0.00005) = 3797.96 A .. 10**(3.5796 + 3852.5e-4) = 9222.53 A
    out = derive(corpus / "pyspeckit/sample_sdss.fits")
    assert out.value("em_min") == pytest.approx(10 ** (3.5796 - 0.5e-4) * ANGSTROM, rel=1e-12)
    assert out.value("em_max") == pytest.approx(10 ** (3.5796 + 3852.5e-4) * ANGSTROM, rel=1e-12)
    assert out.value("em_xel") == 3853
    assert out.cells["em_min"].rule == R_SDSS
    assert out.cells["em_min"].sources[:2] == ("COEFF0", "COEFF1")
    assert "coeff-crval-mismatch" not in codes(out)        # CRVAL1/CD1_1 say the same
    assert out.value("em_res_power") == pytest.approx(1 / (2 * math.log(10) * 1e-4), rel=1e-6)
    assert not derive(corpus / "pyspeckit/sample_sdss.fits",
                      config=RuleConfig(house_sdss_coeff=False, house_iraf_log_linear=False)
                      ).has("em_min")


@pytest.mark.parametrize("relpath, n", [
    ("laspec/spec-57287-KP193637N444141V03_sp10-161.fits.gz", 3909),     # dev022
    ("laspec/spec-58397-EG014118N254444M01_sp03-031.fits", 3909),        # dev023
    ("spectraml/spec-55916-B5591606_sp01-001.fits", 3909),               # dev056
    ("spectraml/spec-55939-B5593905_sp01-018.fits", 3909),               # dev057
    ("spectraml/spec-56257-GAC089N38V2_sp01-001.fits", 3899),            # dev058
])
def test_lamost_lrs_log_lambda(corpus: Path, relpath: str, n: int) -> None:
    # LAMOST LRS: CTYPE1 = 'LINEAR', DC-FLAG = 1, CRVAL1 = COEFF0 = 3.5682, CD1_1 = COEFF1 = 1e-4,
    # CRPIX1 = 1 -> 10**(3.5682 - 0.00005) = 3699.56 A .. 10**(3.5682 + (n - 0.5) 1e-4)
    out = derive(corpus / relpath)
    assert out.value("em_min") == pytest.approx(10 ** (3.5682 - 0.5e-4) * ANGSTROM, rel=1e-12)
    assert out.value("em_max") == pytest.approx(10 ** (3.5682 + (n - 0.5) * 1e-4) * ANGSTROM,
                                                rel=1e-12)
    assert out.value("em_xel") == n
    assert out.cells["em_min"].rule == R_SDSS


def test_velocity_axis_name_read_as_radio_velocity(corpus: Path) -> None:
    # dev046 n2hp_cube: CTYPE3 = 'VELOCITY' (not a Paper III code), CUNIT3 = 'm/s',
    # CRVAL3 = 2500, CDELT3 = -62.84131109715, CRPIX3 = 403.0960083008, NAXIS3 = 501,
    # RESTFREQ = 93176265000 Hz (N2H+ 1-0), no VELREF -> radio convention.
    out = derive(corpus / "pyspeckit/n2hp_cube.fits")
    v = [2500 + -62.84131109715 * (p - 403.0960083008) for p in (0.5, 501.5)]
    lam = [C / (93176265000.0 * (1 - x / C)) for x in v]
    assert out.value("em_min") == pytest.approx(min(lam), rel=1e-12)
    assert out.value("em_max") == pytest.approx(max(lam), rel=1e-12)
    assert out.value("em_xel") == 501
    assert out.value("em_ucd") == "spect.dopplerVeloc.radio"
    assert out.cells["em_min"].rule == R_NAMED
    # its SPECSYS = 'REST' is not a Paper III value: noted, not applied to a velocity axis
    assert "SPECSYS" in (out.cells["em_min"].note or "")


def test_rest_frame_axis_without_values(corpus: Path) -> None:
    # dev049 sn2009ip_halpha: CTYPE1 = 'WAVEREST', CUNIT1 = 'angstroms', SPECSYS = 'REST',
    # and no CRVAL1/CDELT1/CRPIX1 at all: neither observed nor even rest wavelengths are defined.
    out = derive(corpus / "pyspeckit/sn2009ip_halpha.fits")
    assert not out.has("em_min") and not out.has("em_max")
    assert out.value("em_xel") == 746
    assert out.cells["em_xel"].rule == R_REST
    assert {"rest-frame-spectral-axis", "spectral-axis-incomplete"} <= codes(out)


def test_no_spectral_description_sets_nothing(corpus: Path) -> None:
    # dev041 BD60596_merged: 3 x 7278 image, no CTYPE/CRVAL/WAT/COEFF at all (the wavelengths are
    # in the data); XUNITS = 'um' and WAVECAL hint at a spectrum -> nothing set, an info issue.
    out = derive(corpus / "pyspeckit/BD60596_merged.fits")
    assert not out.cells
    assert codes(out) == {"spectral-axis-not-described"}


@pytest.mark.parametrize("relpath", ["astropy-data/HorseHead.fits", "pkg-sunpy/efz20040301.010016_s.fits",
                                     "gammapy-data/fermi-3fhl-gc-counts.fits.gz"])
def test_images_without_spectral_information_get_nothing(corpus: Path, relpath: str) -> None:
    out = derive(corpus / relpath)
    assert not out.cells and not out.issues


# =====================================================================================
# IRAF MULTISPEC
# =====================================================================================

def test_multispec_linear_echelle_all_orders(corpus: Path) -> None:
    # dev044 evega: 107 orders, all dtype 0 (linear), nw = 2048, LTM1_1 = 1, no LTV1.
    # spec1   = "1 56 0 10025.712754933 0.12939426408953 2048 ..." (reddest order)
    # spec107 = "107 162 0 3466.3731733026 0.044737763443524 2048 ..." (bluest order)
    # em_min = 3466.3731733026 - 0.5 * 0.044737763443524; em_max = 10025.7128 + 2047.5 * 0.129394
    out = derive(corpus / "pyspeckit/evega.0039.rs.ec.dispcor.fits")
    assert out.value("em_min") == pytest.approx(
        (3466.3731733026 + 0.044737763443524 * (0.5 - 1)) * ANGSTROM, rel=1e-12)
    assert out.value("em_max") == pytest.approx(
        (10025.712754933 + 0.12939426408953 * (2048.5 - 1)) * ANGSTROM, rel=1e-12)
    assert out.value("em_xel") == 107 * 2048
    cell = out.cells["em_min"]
    assert cell.rule == R_MULTISPEC
    assert "WAT2_001..WAT2_122" in cell.sources and "WAT1_001" in cell.sources


def test_multispec_chebyshev_orders(corpus: Path) -> None:
    # dev060 AAO UCLES, 51 orders, dtype 2, one Chebyshev function each (ftype 1, order 5,
    # pmin 1, pmax 2746), dispersion negative (wavelength falls with pixel).
    # Reddest edge: spec1 at p = 0.5; bluest edge: spec51 at p = 2746.5.  Evaluated here with
    # numpy's Chebyshev series on n = (p - 1373.5) / 1372.5 and the coefficients of the header.
    spec1 = [8351.39981536282, -64.4513088639052, -0.69518134996877, 0.0132846614878874,
             -0.0046230831715419]
    spec51 = [4817.97491231321, -37.2344349777396, -0.406017996227674, 0.00893402248883658,
              6.37883959413454e-4]
    norm = lambda p: (p - 1373.5) / 1372.5  # noqa: E731
    # IRAF's own w1 (first pixel) agrees with the function: a check of the reading
    assert chebyshev.chebval(norm(1.0), spec1) == pytest.approx(8415.1380351321, abs=1e-6)
    out = derive(corpus / "specutils-history/AAO.fits")
    assert out.value("em_max") == pytest.approx(chebyshev.chebval(norm(0.5), spec1) * ANGSTROM,
                                                rel=1e-12)
    assert out.value("em_min") == pytest.approx(chebyshev.chebval(norm(2746.5), spec51) * ANGSTROM,
                                                rel=1e-12)
    assert out.value("em_xel") == 51 * 2746
    assert "multispec-function-mismatch" not in codes(out)


def test_multispec_legendre_orders(corpus: Path) -> None:
    # dev062 TRES: 51 orders, dtype 2, Legendre (ftype 2, order 5, pmin 1, pmax 2304),
    # no LTV/LTM (physical = logical).  Bluest edge spec1 p = 0.5, reddest spec51 p = 2304.5.
    spec1 = [3.88916167994706075e+03, 3.79382324171804228e+01, -1.0705926140357809e+00,
             -1.5336842230746590e-02, 1.40858413769215872e-03]
    spec51 = [9.01166669852831910e+03, 8.77712107541941862e+01, -2.4819938970412712e+00,
              -2.6146059812234210e-02, 1.57554807328447372e-03]
    norm = lambda p: (p - 1152.5) / 1151.5  # noqa: E731
    assert legendre.legval(norm(1.0), spec1) == pytest.approx(3850.16960034221, abs=1e-6)
    out = derive(corpus / "specutils-history/TRES.fits")
    assert out.value("em_min") == pytest.approx(legendre.legval(norm(0.5), spec1) * ANGSTROM,
                                                rel=1e-12)
    assert out.value("em_max") == pytest.approx(legendre.legval(norm(2304.5), spec51) * ANGSTROM,
                                                rel=1e-12)
    assert out.value("em_xel") == 51 * 2304


def test_multispec_inconsistent_spline_functions_fall_back_to_w1_dw(corpus: Path) -> None:
    # dev068 spline.fits (a specutils parser fixture): spec1 is a linear spline (ftype 4) and
    # spec2 a cubic spline (ftype 3) whose coefficients are ~1..10 (not wavelengths), while
    # their w1 say 3850.17 / 3894.50 A.  The functions contradict w1: flagged, and w1/dw used:
    # spec1 -> 3850.16960034221 - 0.5 * 0.03293347422922.  The reddest order is the Legendre
    # spec51 identical to TRES (dev062).
    out = derive(corpus / "specutils-history/spline.fits")
    assert out.value("em_min") == pytest.approx(
        (3850.16960034221 - 0.5 * 0.03293347422922) * ANGSTROM, rel=1e-12)
    tres = derive(corpus / "specutils-history/TRES.fits")
    assert out.value("em_max") == pytest.approx(tres.value("em_max"), rel=1e-12)
    issue = next(i for i in out.issues if i.code == "multispec-function-mismatch")
    assert "spec1" in issue.message and "spec2" in issue.message


def test_multispec_linear_and_log_orders(corpus: Path) -> None:
    # dev064 (specutils fixture, the evega orders with spec2 rewritten as dtype 1 log-linear):
    # spec2 = "2 57 1 0.4901380351321 0.0020049380111051048 2048 ..." gives
    # 10**0.49 = 3.09 A .. 10**(0.49 + 2047.5 * 0.002) = 39400 A: no spectrum spans a factor
    # 12700; it is skipped (issue) and the 106 other orders give the dev044 range.
    out = derive(corpus / "specutils-history/multispec-linear-log.fits")
    evega = derive(corpus / "pyspeckit/evega.0039.rs.ec.dispcor.fits")
    assert out.value("em_min") == pytest.approx(evega.value("em_min"), rel=1e-12)
    assert out.value("em_max") == pytest.approx(evega.value("em_max"), rel=1e-12)
    assert out.value("em_xel") == 106 * 2048
    issue = next(i for i in out.issues if i.code == "multispec-spectrum-skipped")
    assert "spec2" in issue.message


def test_multispec_3d_equispec_two_orders(corpus: Path) -> None:
    # dev065 HR4659: CTYPE1/2 = 'MULTISPE', CTYPE3 = 'LINEAR' (band axis, not spectral).
    # spec1 = "1 1 0 14740.266391838 3.5958949648134 1024", spec2 = "2 2 0 19492.348956459
    # 4.8615912982264 1024" -> 14740.27 - 1.80 = 14738.47 A .. 19492.35 + 1023.5 * 4.86 = 24468.19 A
    out = derive(corpus / "specutils-history/multispec_equispec.fits")
    assert out.value("em_min") == pytest.approx((14740.266391838 - 0.5 * 3.5958949648134) * ANGSTROM,
                                                rel=1e-12)
    assert out.value("em_max") == pytest.approx(
        (19492.348956459 + 1023.5 * 4.8615912982264) * ANGSTROM, rel=1e-12)
    assert out.value("em_xel") == 2048
    assert not derive(corpus / "specutils-history/multispec_equispec.fits",
                      config=RuleConfig(house_multispec=False)).has("em_min")


# =====================================================================================
# Table columns
# =====================================================================================

@pytest.mark.parametrize("hdu, lo, hi, rows", [
    # dev021 LAMOST MRS, LOGLAM column (TFORM E, no TUNIT): log10 of vacuum Angstrom
    (1, 3.689659833908081, 3.7306597232818604, 4101),     # COADD_B
    (2, 3.7988200187683105, 3.8357300758361816, 3692),    # COADD_R
    (3, 3.689655303955078, 3.730355739593506, 4136),      # B-84107311 (one exposure)
    (16, 3.7988169193267822, 3.835440158843994, 4136),    # R-84107464
])
def test_lamost_mrs_loglam_column(corpus: Path, hdu: int, lo: float, hi: float, rows: int) -> None:
    out = derive(corpus / "laspec/med-58408-TD230151N343645T01_sp01-015.fits", hdu=hdu)
    assert out.value("em_min") == pytest.approx(10 ** lo * ANGSTROM, rel=1e-12)
    assert out.value("em_max") == pytest.approx(10 ** hi * ANGSTROM, rel=1e-12)
    assert out.value("em_xel") == rows
    assert out.cells["em_min"].rule == R_COLUMN
    assert out.cells["em_min"].sources == ("column:LOGLAM",)
    assert "log10" in out.cells["em_min"].note


def test_lamost_mrs_primary_without_data_gets_nothing(corpus: Path) -> None:
    out = derive(corpus / "laspec/med-58408-TD230151N343645T01_sp01-015.fits", hdu=0)
    assert not out.cells and not out.issues


def test_stis_x1d_wavelength_array_column_and_specres(corpus: Path) -> None:
    # dev066 STIS echelle x1d: WAVELENGTH 1024D per row, 40 rows (orders), TUNIT 'Angstroms':
    # column min/max 1606.8905762973995 .. 2366.663684679708 A; 40 x 1024 samples;
    # SPECRES = 30000 in the primary header (inherited: 'SPECRES[0]').
    out = derive(corpus / "specutils-history/odbue5030_x1d.fits", hdu=1)
    assert out.value("em_min") == pytest.approx(1606.8905762973995 * ANGSTROM, rel=1e-12)
    assert out.value("em_max") == pytest.approx(2366.663684679708 * ANGSTROM, rel=1e-12)
    assert out.value("em_xel") == 40 * 1024
    assert out.value("em_res_power") == 30000.0
    assert out.cells["em_res_power"].rule == R_RESKEY
    assert out.cells["em_res_power"].sources == ("SPECRES[0]",)


@pytest.mark.parametrize("hdu, lo, hi", [
    (1, 6485.869140625, 7811.734375),        # Bxspf-B
    (2, 7818.38232421875, 9110.9267578125),  # Bxspf-R
])
def test_deimos_lambda_column_without_unit(corpus: Path, hdu: int, lo: float, hi: float) -> None:
    # dev067 DEIMOS spec1d: LAMBDA 4096E in one row, no TUNIT: values inside 3000..30000
    # -> Angstrom.  The table also carries image keywords CTYPE1 = 'LAMBDA', CRVAL1 = 6484.99
    # (the same in the B and R HDUs): they do not describe the table and are ignored.
    out = derive(corpus / "specutils-history/spec1d.1245.066.12004136.fits", hdu=hdu)
    assert out.value("em_min") == pytest.approx(lo * ANGSTROM, rel=1e-12)
    assert out.value("em_max") == pytest.approx(hi * ANGSTROM, rel=1e-12)
    assert out.value("em_xel") == 4096
    assert out.cells["em_min"].rule == R_COLUMN
    assert "spectral-unit-assumed" in codes(out)


@pytest.mark.parametrize("relpath, hdu, lo, hi, unit", [
    # event lists: ENERGY column min/max (staged), energies -> lambda = hc/E
    ("gammapy-data/fermi-3fhl-gc-events.fits.gz", 1, 10000.23828125, 1917859.25, 1e3 * KEV),  # MeV
    ("gammapy-data/hess_dl3_dr1_obs_id_023523.fits.gz", 1, 0.24408458173274994,
     100.97813415527344, 1e9 * KEV),                                                            # TeV
    ("gammapy-data/run_05029748_DL3.fits", 1, 0.016265567392110825, 14.076743125915527,
     1e9 * KEV),                                                                                # TeV
    ("gammapy-data/EventList_Crab_fHitbin9GP.fits.gz", 1, 10.280162981264747, 208.4490883097293,
     1e9 * KEV),                                                                                # TeV
    ("pkg-glue/events.fits", 1, 949.826904296875, 16688.95703125, 1e-3 * KEV),                 # eV
])
def test_event_list_energy_column(corpus: Path, relpath: str, hdu: int, lo: float, hi: float,
                                  unit: float) -> None:
    out = derive(corpus / relpath, hdu=hdu)
    assert out.value("em_min") == pytest.approx(energy_to_m(hi * unit), rel=1e-9)
    assert out.value("em_max") == pytest.approx(energy_to_m(lo * unit), rel=1e-9)
    assert out.value("em_xel") == -1          # events are not binned
    assert out.value("em_ucd") == "em.energy"
    assert [x.upper() for x in out.cells["em_min"].sources] == ["COLUMN:ENERGY"]
    assert out.value("em_min") >= LAMBDA_MIN   # TeV photons are ~1e-20 m: inside the bounds


# =====================================================================================
# X-ray / gamma-ray products without a spectral WCS
# =====================================================================================

def test_fermi_counts_cube_energy_bins_from_ebounds(corpus: Path) -> None:
    # dev015: CTYPE3 = 'Energy' (not Paper III 'ENER'), CRVAL3 = 10000 MeV, CDELT3 = 4270.9 is a
    # linear stand-in for log bins.  EBOUNDS (HDU 1): E_MIN min 1.0e7 keV, E_MAX max 5.0e8 keV
    # -> 10 GeV .. 500 GeV -> hc/E; 11 energy planes (NAXIS3 = 11 = EBOUNDS rows).
    out = derive(corpus / "gammapy-data/fermi-3fhl-gc-counts-cube.fits.gz")
    assert out.value("em_min") == pytest.approx(energy_to_m(5.0e8 * KEV), rel=1e-6)
    assert out.value("em_max") == pytest.approx(energy_to_m(1.0e7 * KEV), rel=1e-6)
    assert out.value("em_xel") == 11
    assert out.value("em_ucd") == "em.energy"
    assert out.cells["em_min"].rule == R_EBOUNDS
    assert "EBOUNDS[1]:column:E_MIN" in out.cells["em_min"].sources


def test_fermi_counts_cube_without_siblings_uses_data_subspace(corpus: Path) -> None:
    # The same primary alone: DSTYP4 = 'ENERGY', DSUNI4 = 'MeV', DSVAL4 = '10000:2000000'
    # (the event selection, 10 GeV .. 2 TeV) is the next source.
    out = derive(corpus / "gammapy-data/fermi-3fhl-gc-counts-cube.fits.gz", with_siblings=False)
    assert out.value("em_min") == pytest.approx(energy_to_m(2e6 * 1e3 * KEV), rel=1e-12)
    assert out.value("em_max") == pytest.approx(energy_to_m(1e4 * 1e3 * KEV), rel=1e-12)
    assert out.cells["em_min"].rule == R_DSS
    assert out.value("em_xel") == 11


@pytest.mark.parametrize("relpath, hdu, lo_kev, hi_kev, channels, ucd", [
    # dev050 HETG/HEG type-I grating PHA (TG_PART = 1, BIN_LO/BIN_HI in angstrom): HEG 0.8-10 keV
    ("sherpa-test-data/3c120_heg_1.pha.gz", 1, 0.8, 10.0, 8192, "em.wl"),
    # dev051 ACIS PI spectrum (GRATING = 'HETG' in the header but a CCD PI spectrum): 0.3-10 keV
    ("sherpa-test-data/3c273.pi", 1, 0.3, 10.0, 1024, "em.energy"),
    # dev052 XMM EPIC MOS1 background PHA: EPIC 0.15-12 keV, DETCHANS = 800
    ("sherpa-test-data/MNLup_2138_0670580101_EMOS1_S001_specbg.fits", 1, 0.15, 12.0, 800,
     "em.energy"),
    # dev053 Chandra Source Catalog PHA3 (ACIS): two SPECTRUM HDUs
    ("sherpa-test-data/acisf01575_001N001_r0085_pha3.fits.gz", 1, 0.3, 10.0, 1024, "em.energy"),
    ("sherpa-test-data/acisf01575_001N001_r0085_pha3.fits.gz", 4, 0.3, 10.0, 1024, "em.energy"),
    # dev055 HRC-I PHA3: HRC 0.1-10 keV
    ("sherpa-test-data/hrcf24564_000N030_r0001_pha3.fits.gz", 1, 0.1, 10.0, 1024, "em.energy"),
])
def test_pha_spectrum_energy_from_instrument_band(corpus: Path, relpath: str, hdu: int,
                                                  lo_kev: float, hi_kev: float, channels: int,
                                                  ucd: str) -> None:
    # CHANNEL/COUNTS only: energies need the RMF, which is not in the file.
    out = derive(corpus / relpath, hdu=hdu)
    assert out.value("em_min") == pytest.approx(energy_to_m(hi_kev * KEV), rel=1e-12)
    assert out.value("em_max") == pytest.approx(energy_to_m(lo_kev * KEV), rel=1e-12)
    assert out.value("em_xel") == channels
    assert out.value("em_ucd") == ucd
    assert out.cells["em_min"].rule == R_BAND
    assert "energy-from-instrument-band" in codes(out)
    off = derive(corpus / relpath, hdu=hdu, config=_Switches(house_instrument_band=False))
    assert not off.has("em_min") and off.value("em_xel") == channels


# =====================================================================================
# CRAFTED headers (branches the corpus lacks; no claim about real files)
# =====================================================================================

def _header_ctx(tmp_path: Path, cards: list[tuple[str, object]], name: str = "h"):
    h = fits.Header()
    h["SIMPLE"] = True
    h["BITPIX"] = -32
    for k, v in cards:
        h[k] = v
    path = tmp_path / f"{name}.hdr"
    path.write_text(h.tostring(sep="\n"))
    return contexts_from_file(path)[0]


def _run(ctx, config: RuleConfig | None = None, siblings=()) -> Derivation:
    out = Derivation()
    derive_spectral(ctx, out, config or RuleConfig(), list(siblings))
    return out


ONE_AXIS = [("NAXIS", 1), ("NAXIS1", 100)]


def test_crafted_awav_converted_to_vacuum_like_wcslib(tmp_path: Path) -> None:
    # CRAFTED: AWAV, CUNIT1 Angstrom, 6557.9 .. 6567.9 A in air
    ctx = _header_ctx(tmp_path, ONE_AXIS + [("CTYPE1", "AWAV"), ("CRVAL1", 6562.8),
                                            ("CDELT1", 0.1), ("CRPIX1", 50), ("CUNIT1", "Angstrom")])
    out = _run(ctx)
    air = [(6562.8 + 0.1 * (p - 50)) * ANGSTROM for p in (0.5, 100.5)]
    # wcslib's own AWAV -> WAVE translation (test-only use of sptr on a trusted header)
    from assocdata import wcscheck
    p = wcscheck.prepare_wcsprm(ctx.header_text, wcscheck.find_wcs_units(ctx.keywords, None)[0])
    p.sptr("WAVE-A2W")
    vac = p.p2s(np.array([[0.5], [100.5]]), 1)["world"][:, 0]
    assert out.value("em_min") == pytest.approx(vac[0], rel=1e-12)
    assert out.value("em_max") == pytest.approx(vac[1], rel=1e-12)
    assert air_to_vacuum(air[0]) == pytest.approx(vac[0], rel=1e-12)
    assert out.value("em_min") / air[0] - 1 == pytest.approx(2.76e-4, rel=0.02)  # n(air) - 1


def test_crafted_wave_log_axis(tmp_path: Path) -> None:
    # CRAFTED: WAVE-LOG: S = CRVAL exp(w / CRVAL), w = CDELT (p - CRPIX)
    ctx = _header_ctx(tmp_path, ONE_AXIS + [("CTYPE1", "WAVE-LOG"), ("CRVAL1", 5e-7),
                                            ("CDELT1", 1e-10), ("CRPIX1", 50), ("CUNIT1", "m")])
    out = _run(ctx)
    lam = [5e-7 * math.exp(1e-10 * (p - 50) / 5e-7) for p in (0.5, 100.5)]
    assert out.value("em_min") == pytest.approx(lam[0], rel=1e-12)
    assert out.value("em_max") == pytest.approx(lam[1], rel=1e-12)
    assert out.cells["em_min"].rule == R_WCS


@pytest.mark.filterwarnings("ignore::astropy.wcs.FITSFixedWarning")
@pytest.mark.parametrize("cards, kind", [
    ([("CTYPE1", "VOPT-F2W"), ("CUNIT1", "m/s")], "VOPT"),     # non-linear: frequency-linear axis
    ([("CTYPE1", "FELO-HEL"), ("VELREF", 2)], "VOPT"),          # AIPS: wcslib's spcfix -> VOPT-F2W
])
def test_crafted_nonlinear_velocity_axes_go_through_wcslib(tmp_path: Path, cards, kind) -> None:
    # CRAFTED: HI 21 cm, optical velocity sampled linearly in frequency
    ctx = _header_ctx(tmp_path, ONE_AXIS + cards + [("CRVAL1", 1e6), ("CDELT1", 1e4),
                                                    ("CRPIX1", 50), ("RESTFRQ", 1.420405752e9)])
    assert ctx.wcs_status == "ok"
    out = _run(ctx)
    assert out.cells["em_min"].rule == R_WCSLIB
    from astropy.wcs import WCS
    w = WCS(fits.Header.fromstring(ctx.header_text, sep="\n"))
    w.wcs.sptr("WAVE-F2W")
    lam = w.wcs_pix2world(np.array([[0.5], [100.5]]), 1)[:, 0]
    assert out.value("em_min") == pytest.approx(lam.min(), rel=1e-9)
    assert out.value("em_max") == pytest.approx(lam.max(), rel=1e-9)
    assert out.value("em_ucd") == "spect.dopplerVeloc.opt"


def test_crafted_nonlinear_axis_not_sent_to_wcslib_when_precheck_refused(tmp_path: Path) -> None:
    # CRAFTED: same axis with an invalid celestial pair (wcs_status 'error'): no wcslib call
    ctx = _header_ctx(tmp_path, [("NAXIS", 3), ("NAXIS1", 100), ("NAXIS2", 1), ("NAXIS3", 1),
                                 ("CTYPE1", "VOPT-F2W"), ("CRVAL1", 1e6), ("CDELT1", 1e4),
                                 ("CRPIX1", 50), ("RESTFRQ", 1.420405752e9),
                                 ("CTYPE2", "RA---TAN"), ("CTYPE3", "DEC--TAN"), ("CDELT2", 0.0),
                                 ("CDELT3", 0.0)])
    assert ctx.wcs_status == "error"
    out = _run(ctx)
    assert not out.has("em_min")
    assert out.value("em_xel") == 100
    assert "spectral-wcs-unavailable" in codes(out)


def test_crafted_tab_axis_without_table(tmp_path: Path) -> None:
    # CRAFTED: WAVE-TAB needs a BINTABLE that is not staged
    ctx = _header_ctx(tmp_path, ONE_AXIS + [("CTYPE1", "WAVE-TAB"), ("CRVAL1", 1), ("CDELT1", 1),
                                            ("CRPIX1", 1), ("PS1_0", "WCS-TAB"),
                                            ("PS1_1", "COORDS")])
    out = _run(ctx)
    assert not out.has("em_min") and out.value("em_xel") == 100
    assert "spectral-tab-unavailable" in codes(out)


def test_crafted_coupled_spectral_axis_uses_wcslib(tmp_path: Path) -> None:
    # CRAFTED: PC1_2 = 0.5 couples the wavelength to axis 2; evaluated along axis 1 at CRPIX2
    ctx = _header_ctx(tmp_path, [("NAXIS", 2), ("NAXIS1", 100), ("NAXIS2", 10),
                                 ("CTYPE1", "WAVE"), ("CTYPE2", "LINEAR"), ("CRVAL1", 5e-7),
                                 ("CRVAL2", 0.0), ("CDELT1", 1e-10), ("CDELT2", 1.0),
                                 ("CRPIX1", 1), ("CRPIX2", 1), ("PC1_2", 0.5), ("CUNIT1", "m")])
    out = _run(ctx)
    assert out.cells["em_min"].rule == R_WCSLIB
    assert out.value("em_min") == pytest.approx(5e-7 + 1e-10 * (0.5 - 1), rel=1e-12)
    assert out.value("em_max") == pytest.approx(5e-7 + 1e-10 * (100.5 - 1), rel=1e-12)


def test_crafted_cd_matrix_takes_precedence_over_cdelt(tmp_path: Path) -> None:
    # CRAFTED: CD1_1 and CDELT1 both present (wcslib uses CD, ignores CDELT)
    ctx = _header_ctx(tmp_path, ONE_AXIS + [("CTYPE1", "FREQ"), ("CRVAL1", 1e9), ("CDELT1", 99.0),
                                            ("CD1_1", 1e6), ("CRPIX1", 1), ("CUNIT1", "Hz")])
    out = _run(ctx)
    assert out.value("em_max") == pytest.approx(C / (1e9 - 0.5e6), rel=1e-12)
    assert out.value("em_min") == pytest.approx(C / (1e9 + 99.5e6), rel=1e-12)


def test_crafted_standard_wave_without_cunit_never_4000_metres(tmp_path: Path) -> None:
    # CRAFTED: CTYPE1 = 'WAVE', CRVAL1 = 4000, no CUNIT1: SI metres (4000 m) are implausible;
    # the house unit rule finds Angstrom from the values (4000 .. 4099 in the window).
    ctx = _header_ctx(tmp_path, ONE_AXIS + [("CTYPE1", "WAVE"), ("CRVAL1", 4000.0),
                                            ("CDELT1", 1.0), ("CRPIX1", 1)])
    out = _run(ctx)
    assert out.value("em_min") == pytest.approx(3999.5e-10, rel=1e-12)
    assert out.cells["em_min"].rule == R_LINEAR
    off = _run(ctx, RuleConfig(house_linear_units=False))
    assert not off.has("em_min") and "implausible-spectral-range" in codes(off)


def test_crafted_linear_axis_unit_from_site_default(tmp_path: Path) -> None:
    # CRAFTED: IRAF LINEAR with DC-FLAG = 0, values 400 .. 500 (no window fits): site default
    ctx = _header_ctx(tmp_path, ONE_AXIS + [("CTYPE1", "LINEAR"), ("DC-FLAG", 0),
                                            ("CRVAL1", 400.5), ("CDELT1", 1.0), ("CRPIX1", 1)])
    out = _run(ctx, RuleConfig(default_spectral_unit="nm"))
    assert out.value("em_min") == pytest.approx(400e-9, rel=1e-12)
    assert out.value("em_max") == pytest.approx(500e-9, rel=1e-12)
    assert "spectral-unit-assumed" in codes(out)
    # with the default 'm', 400 .. 500 m is within the bounds but no wavelength of an optical
    # spectrum: published only as the site chose; 4000 m would not be
    far = _header_ctx(tmp_path, ONE_AXIS + [("CTYPE1", "LINEAR"), ("DC-FLAG", 0),
                                            ("CRVAL1", 40000.5), ("CDELT1", 1.0), ("CRPIX1", 1)],
                      "far")
    assert not _run(far).has("em_min")


def test_crafted_linear_axis_without_spectral_evidence_is_ignored(tmp_path: Path) -> None:
    # CRAFTED: CTYPE1 = 'LINEAR' alone (a pixel axis, no DC-FLAG/WAT/DISPAXIS/CUNIT)
    ctx = _header_ctx(tmp_path, ONE_AXIS + [("CTYPE1", "LINEAR"), ("CRVAL1", 1.0), ("CDELT1", 1.0)])
    assert not _run(ctx).cells


def test_crafted_source_rest_frame(tmp_path: Path) -> None:
    # CRAFTED: SPECSYS = 'SOURCE': shifted with ZSOURCE, withheld without it
    cards = ONE_AXIS + [("CTYPE1", "WAVE"), ("CUNIT1", "Angstrom"), ("CRVAL1", 6563.0),
                        ("CDELT1", 1.0), ("CRPIX1", 1), ("SPECSYS", "SOURCE")]
    out = _run(_header_ctx(tmp_path, cards + [("ZSOURCE", 0.1)], "z"))
    assert out.value("em_min") == pytest.approx(6562.5e-10 * 1.1, rel=1e-12)
    rest = _run(_header_ctx(tmp_path, cards, "noz"))
    assert not rest.has("em_min") and rest.value("em_xel") == 100
    assert rest.value("em_res_power") == pytest.approx((6563.0 + 49.5) / 2.0, rel=1e-9)
    assert "rest-frame-spectral-axis" in codes(rest)


def test_crafted_implausible_energy_axis_not_published(tmp_path: Path) -> None:
    # CRAFTED: ENER in joules by default (no CUNIT): 1 J photons (2e-25 m) are not plausible
    ctx = _header_ctx(tmp_path, ONE_AXIS + [("CTYPE1", "ENER"), ("CRVAL1", 1.0), ("CDELT1", 0.01),
                                            ("CRPIX1", 1)])
    out = _run(ctx)
    assert not out.has("em_min") and "implausible-spectral-range" in codes(out)


def test_crafted_vrad_with_rest_wavelength_only(tmp_path: Path) -> None:
    # CRAFTED: RESTWAV instead of RESTFRQ: nu0 = c / RESTWAV
    ctx = _header_ctx(tmp_path, ONE_AXIS + [("CTYPE1", "VRAD"), ("CUNIT1", "km/s"),
                                            ("CRVAL1", 0.0), ("CDELT1", 1.0), ("CRPIX1", 50.5),
                                            ("RESTWAV", 0.21106114)])
    out = _run(ctx)
    lam = [0.21106114 / (1 - v * 1e3 / C) for v in (-50.0, 50.0)]
    assert out.value("em_min") == pytest.approx(lam[0], rel=1e-12)
    assert out.value("em_max") == pytest.approx(lam[1], rel=1e-12)


def test_crafted_multispec_with_ltv_and_dtype1(tmp_path: Path) -> None:
    # CRAFTED: one log-linear order, logical = physical + LTV1 (LTV1 = -10): p = l + 10
    cards = [("NAXIS", 2), ("NAXIS1", 100), ("NAXIS2", 1), ("CTYPE1", "MULTISPE"),
             ("CTYPE2", "MULTISPE"), ("LTV1", -10.0), ("LTM1_1", 1.0),
             ("WAT0_001", "system=multispec"),
             ("WAT1_001", "wtype=multispec label=Wavelength units=nanometers"),
             ("WAT2_001", 'wtype=multispec spec1 = "1 1 1 2.6 0.001 100 0. 1 2"')]
    out = _run(_header_ctx(tmp_path, cards))
    assert out.value("em_min") == pytest.approx(10 ** (2.6 + 0.001 * (10.5 - 1)) * 1e-9, rel=1e-12)
    assert out.value("em_max") == pytest.approx(10 ** (2.6 + 0.001 * (110.5 - 1)) * 1e-9, rel=1e-12)
    assert out.value("em_xel") == 100


def test_crafted_pha_with_ebounds_sibling(tmp_path: Path) -> None:
    # CRAFTED: a PHA SPECTRUM table and an EBOUNDS extension (0.5 .. 8 keV in 3 channels)
    ebounds = fits.BinTableHDU.from_columns([
        fits.Column("CHANNEL", "J", array=np.arange(1, 4)),
        fits.Column("E_MIN", "E", unit="keV", array=np.array([0.5, 1.0, 4.0])),
        fits.Column("E_MAX", "E", unit="keV", array=np.array([1.0, 4.0, 8.0]))], name="EBOUNDS")
    spectrum = fits.BinTableHDU.from_columns([
        fits.Column("CHANNEL", "J", array=np.arange(1, 4)),
        fits.Column("COUNTS", "J", array=np.array([5, 9, 2]))], name="SPECTRUM")
    spectrum.header["HDUCLAS1"] = "SPECTRUM"
    spectrum.header["DETCHANS"] = 3
    spectrum.header["TELESCOP"] = "NOSUCH"
    path = tmp_path / "pha.fits"
    fits.HDUList([fits.PrimaryHDU(), spectrum, ebounds]).writeto(path)
    out = derive(path, hdu=1)
    assert out.value("em_min") == pytest.approx(energy_to_m(8 * KEV), rel=1e-6)
    assert out.value("em_max") == pytest.approx(energy_to_m(0.5 * KEV), rel=1e-6)
    assert out.value("em_xel") == 3
    assert out.cells["em_min"].rule == R_EBOUNDS
    # without the sibling and with an unknown telescope: nothing but an issue
    alone = derive(path, hdu=1, with_siblings=False)
    assert not alone.has("em_min") and "no-energy-information" in codes(alone)


def test_crafted_bad_keyword_values_never_raise(tmp_path: Path) -> None:
    # CRAFTED: string CDELT, zero pixel spacing, garbage WAT2: issues, no exception
    for i, cards in enumerate([
        ONE_AXIS + [("CTYPE1", "FREQ"), ("CRVAL1", 1e9), ("CDELT1", "abc")],
        ONE_AXIS + [("CTYPE1", "WAVE"), ("CRVAL1", 5e-7), ("CDELT1", 0.0), ("CUNIT1", "m")],
        [("NAXIS", 2), ("NAXIS1", 10), ("NAXIS2", 1), ("CTYPE1", "MULTISPE"),
         ("WAT2_001", 'wtype=multispec spec1 = "1 1 2 x y"')],
        ONE_AXIS + [("CTYPE1", "VRAD"), ("CRVAL1", 0.0), ("CDELT1", 1.0), ("CUNIT1", "furlong")],
    ]):
        out = _run(_header_ctx(tmp_path, cards, f"bad{i}"))
        assert not out.has("em_min")
        assert out.issues and all(i.code != "spectral-rule-error" for i in out.issues)


@pytest.mark.parametrize("cards, expected", [
    # CRAFTED: ZOPT with RESTWAV: lambda = RESTWAV (1 + z), z = 0.1 .. 0.2
    ([("CTYPE1", "ZOPT"), ("CRVAL1", 0.1), ("CDELT1", 0.001), ("CRPIX1", 0.5),
      ("RESTWAV", 6.5628e-7)], (6.5628e-7 * 1.1, 6.5628e-7 * 1.2)),
    # CRAFTED: WAVN in cm-1: lambda = 1 / sigma; 2000 .. 2100 cm-1
    ([("CTYPE1", "WAVN"), ("CUNIT1", "cm-1"), ("CRVAL1", 2000.0), ("CDELT1", 1.0),
      ("CRPIX1", 0.5)], (1 / 210000.0, 1 / 200000.0)),
    # CRAFTED: ENER in keV: lambda = hc / E; 1 .. 2 keV
    ([("CTYPE1", "ENER"), ("CUNIT1", "keV"), ("CRVAL1", 1.0), ("CDELT1", 0.01),
      ("CRPIX1", 0.5)], (HC / (2 * KEV), HC / (1 * KEV))),
])
def test_crafted_other_standard_types(tmp_path: Path, cards, expected) -> None:
    out = _run(_header_ctx(tmp_path, ONE_AXIS + cards))
    assert out.value("em_min") == pytest.approx(expected[0], rel=1e-12)
    assert out.value("em_max") == pytest.approx(expected[1], rel=1e-12)
    assert out.cells["em_min"].rule == R_WCS


def test_crafted_event_list_fallbacks(tmp_path: Path) -> None:
    # CRAFTED: an event list whose ENERGY column is all NaN (no staged min/max): E_MIN/E_MAX
    # keywords (unit in the comment) are the next source; without them TLMIN/TLMAX of the
    # column (the legal range, 300 .. 8000 eV); without those the instrument band.
    def events(tlmin: bool, ekeys: bool) -> Path:
        col = fits.Column("ENERGY", "E", unit="eV", array=np.full(3, np.nan, dtype=np.float32))
        hdu = fits.BinTableHDU.from_columns([col], name="EVENTS")
        hdu.header["TELESCOP"] = "CHANDRA"
        hdu.header["INSTRUME"] = "ACIS"
        if tlmin:
            hdu.header["TLMIN1"] = 300.0
            hdu.header["TLMAX1"] = 8000.0
        if ekeys:
            hdu.header["E_MIN"] = (0.5, "[keV] lower energy")
            hdu.header["E_MAX"] = (7.0, "[keV] upper energy")
        path = tmp_path / f"ev{int(tlmin)}{int(ekeys)}.fits"
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)
        return path

    out = derive(events(True, True), hdu=1)
    assert out.cells["em_min"].rule == "spectral.xray.energy-keywords"
    assert out.value("em_max") == pytest.approx(energy_to_m(0.5 * KEV), rel=1e-12)
    assert out.value("em_xel") == -1
    out = derive(events(True, False), hdu=1)
    assert out.cells["em_min"].rule == "spectral.xray.tlmin-tlmax"
    assert out.value("em_min") == pytest.approx(energy_to_m(8.0 * KEV), rel=1e-12)
    out = derive(events(False, False), hdu=1)
    assert out.cells["em_min"].rule == R_BAND
    assert out.value("em_max") == pytest.approx(energy_to_m(0.3 * KEV), rel=1e-12)


def test_crafted_tile_compressed_spectral_cube(tmp_path: Path) -> None:
    # CRAFTED: a Rice-compressed FREQ cube (BINTABLE with ZIMAGE = T): the image path applies
    data = np.zeros((8, 4, 4), dtype=np.float32)
    hdu = fits.CompImageHDU(data)
    for k, v in (("CTYPE3", "FREQ"), ("CUNIT3", "GHz"), ("CRVAL3", 100.0), ("CDELT3", 0.5),
                 ("CRPIX3", 1.0)):
        hdu.header[k] = v
    path = tmp_path / "cube.fits"
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)
    out = derive(path, hdu=1)
    assert out.value("em_max") == pytest.approx(C / 99.75e9, rel=1e-12)
    assert out.value("em_min") == pytest.approx(C / 103.75e9, rel=1e-12)
    assert out.value("em_xel") == 8
