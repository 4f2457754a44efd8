"""Which HDUs of a file are data products, what they are, and how calibrated.

Two steps (docs/derivation/product-and-names.md has the full policy):

1. :func:`select_products` looks at *all* the staged HDUs of one file and
   decides its science data products: one ObsCore row per product.  Each
   :class:`Product` names the HDU whose header/data *is* the product, its
   ``dataproduct_type`` and the other HDUs that belong to it (GTI, EBOUNDS,
   IRFs, aperture/mask images, per-exposure spectra of a coadd, ...).
2. :func:`derive_product` writes ``dataproduct_type`` and ``calib_level`` of
   one product into its :class:`~.context.Derivation`, with provenance.

Everything is decided from staged keywords and column descriptors (never the
data), without raising: bad input becomes an :class:`~.context.Issue`.

Selection, in order (each HDU is classified once, see ``_classify``):

- *typed tables* are products whatever else the file holds: OGIP/GADF
  ``EVENTS`` (event), OGIP ``SPECTRUM`` (PHA; a ``HDUCLAS2 = 'BKG'`` spectrum
  next to a source spectrum belongs to it), light curves (``HDUCLAS1 =
  'LIGHTCURVE'``, EXTNAME ``LIGHTCURVE``/``RATE``/...), flux-point tables
  (gammapy ``FLUXPOINTS``/``SED_TYPE``), FITS-IDI ``UV_DATA``, SDFITS
  ``SINGLE DISH``, and the few known layouts of :data:`KNOWN_LAYOUTS`;
- the *primary array* when it has data: NAXIS >= 1, every NAXISn >= 1, and not
  a dummy (a tiny array without any WCS keyword in a file with extensions,
  e.g. HAWC's 4x4 primary); random groups (``GROUPS = T``) are visibilities;
- only when neither gave a product: *image extensions* whose EXTNAME is not
  ancillary (SCI, not ERR/DQ/MASK/...), and *tables recognised by their
  columns* (a spectral column with a flux-like column: spectrum; a varying
  temporal column with an observable column: timeseries).  When coadded
  spectra (EXTNAME ``COADD*``) sit next to per-exposure spectra, only the
  coadds are products (one row each, e.g. LAMOST MRS blue and red arms) and
  the exposures are their ``extra_hdus``;
- a file whose single header has NAXIS = 0 but a celestial WCS is a
  header-only product (a WCS/header file); header text files (.hdr/.header)
  go through the same rules (their NAXISn describe the absent data).

Everything else that has content is an extra HDU of a product: the product
named by an explicit link (coadd arm, background spectrum), else the nearest
product before it, else the first product.  A file without products gets the
issue ``not-an-observation`` (tables, but none observational) or ``no-data``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .context import Derivation, HDUContext, Issue, RuleConfig

__all__ = [
    "Product", "select_products", "derive_product", "classify_axes", "KNOWN_LAYOUTS",
    "HEADER_SUFFIXES", "is_header_file",
]

#: Header text files (same list as :data:`assocdata.fitsfile.HEADER_SUFFIXES`,
#: repeated here so the rules import nothing outside ``derive``; a test pins it).
HEADER_SUFFIXES = (".hdr", ".header")


def is_header_file(relpath: str) -> bool:
    """Whether the file name says "header text file" (.hdr/.header, maybe .gz)."""
    name = relpath.rsplit("/", 1)[-1].lower()
    while name.endswith(".gz"):
        name = name[:-3]
    return name.endswith(HEADER_SUFFIXES)


@dataclass(frozen=True, slots=True)
class Product:
    """One data product of a file: one ObsCore row."""

    #: the HDU whose header/data IS the product
    hdu: int
    #: ObsCore dataproduct_type (image, cube, spectrum, sed, timeseries, visibility, event)
    dataproduct_type: str | None
    #: house subtype note: 'ogip-pha', 'multispec', 'stacked-spectra', 'coadd', 'flux-points', ...
    subtype: str | None = None
    #: when several products share one HDU (spectra/orders as rows); None otherwise
    order: int | None = None
    #: other HDUs that belong to the product (GTI, EBOUNDS, IRFs, masks, exposures)
    extra_hdus: tuple[int, ...] = ()
    #: rule id that typed the product, and the keywords/columns it read
    rule: str = ""
    sources: tuple[str, ...] = ()
    note: str | None = None
    #: the file holds no data for this product (header text file, NAXIS = 0 header)
    header_only: bool = False


# ---------------------------------------------------------------------------
# Axis kinds from CTYPEn
# ---------------------------------------------------------------------------
_HEAD_RE = re.compile(r"[A-Z]+")
_CELESTIAL_HEADS = frozenset({
    "RA", "DEC", "GLON", "GLAT", "ELON", "ELAT", "SLON", "SLAT", "HPLN", "HPLT", "HGLN",
    "HGLT", "CRLN", "CRLT", "HOLN", "HOLT", "SOLAR", "SOLARX", "SOLARY",
})
#: the 4-letter "xxLN"/"xxLT" celestial pairs of WCS Paper II
_CELESTIAL_PAIR_RE = re.compile(r"[A-Z]{2}L[NT]")
_SPECTRAL_PREFIXES = ("FREQ", "ENER", "WAVN", "VRAD", "WAVE", "VOPT", "ZOPT", "AWAV", "VELO",
                      "BETA", "FELO", "LAMB")
_TIME_HEADS = frozenset({"TIME", "UTC", "TAI", "TT", "TDT", "TDB", "TCG", "TCB", "GPS",
                         "LOCAL", "ET", "IAT", "UT", "MJD", "JD", "BJD", "HJD"})


def _axis_kind(ctype: Any) -> str:
    """'celestial' | 'spectral' | 'time' | 'stokes' | 'multispec' | 'linear' | 'other' | 'none'."""
    if not isinstance(ctype, str):
        return "none"
    c = ctype.strip().upper()
    if not c:
        return "none"
    m = _HEAD_RE.match(c)
    if m is None:
        return "other"
    head = m.group(0)
    if head in _CELESTIAL_HEADS or (len(head) == 4 and _CELESTIAL_PAIR_RE.fullmatch(head)
                                   and c[4:5] in ("", "-")):
        return "celestial"
    if head == "MULTISPE":
        return "multispec"
    if head == "LINEAR":
        return "linear"
    if head.startswith(_SPECTRAL_PREFIXES):
        return "spectral"
    if head in _TIME_HEADS or head.startswith("TIME"):
        return "time"
    if head == "STOKES":
        return "stokes"
    return "other"


@dataclass(frozen=True, slots=True)
class _Axes:
    shape: tuple[int, ...]
    ctypes: tuple[Any, ...]
    kinds: tuple[str, ...]
    sources: tuple[str, ...]


_WAT_SPECTRAL_RE = re.compile(r"label\s*=\s*wavelength|units\s*=\s*(angstrom|nanometer|micron)",
                             re.I)


def _as_int(value: Any) -> int:
    return value if type(value) is int else 0


def _image_axes(ctx: HDUContext) -> _Axes:
    kw = ctx.keywords
    if kw.get("ZIMAGE") is True:  # tile-compressed image: the image is described by ZNAXISn
        n = kw.get("ZNAXIS")
        shape = tuple(_as_int(kw.get(f"ZNAXIS{i}")) for i in range(1, n + 1)) \
            if type(n) is int and 0 < n < 1000 else ()
        prefix = "ZNAXIS"
    else:
        shape = tuple(_as_int(x) for x in ctx.naxis)
        prefix = "NAXIS"
    nwcs = kw.get("WCSAXES")
    count = max(len(shape), nwcs if type(nwcs) is int and 0 < nwcs < 100 else 0)
    ctypes = tuple(kw.get(f"CTYPE{i}") for i in range(1, count + 1))
    kinds = tuple(_axis_kind(c) for c in ctypes)
    sources = tuple(f"{prefix}{i}" for i in range(1, len(shape) + 1)) + tuple(
        f"CTYPE{i}" for i, c in enumerate(ctypes, 1) if c is not None)
    if kinds[:1] == ("linear",):
        # IRAF says the LINEAR axis 1 is a dispersion axis: DC-FLAG, or WAT1_001 label/units
        wat = kw.get("WAT1_001")
        if kw.get("DC-FLAG") is not None:
            kinds, sources = ("spectral",) + kinds[1:], sources + ("DC-FLAG",)
        elif isinstance(wat, str) and _WAT_SPECTRAL_RE.search(wat):
            kinds, sources = ("spectral",) + kinds[1:], sources + ("WAT1_001",)
    return _Axes(shape, ctypes, kinds, sources)


def classify_axes(shape: Sequence[int], kinds: Sequence[str]) -> tuple[str | None, str | None, str]:
    """dataproduct_type of an array from its axis lengths and CTYPE kinds.

    Returns (type, subtype, how) with ``how`` 'axes' (decided by WCS axis
    types), 'shape' (no usable CTYPE: guessed from the shape) or 'degenerate'
    (no axis longer than 1).  Axes of length 1 are ignored.
    """
    n_axes = len(shape)
    kinds = tuple(kinds[i] if i < len(kinds) else "none" for i in range(n_axes))
    if "multispec" in kinds:
        return "spectrum", "multispec", "axes"
    sig = [i for i in range(n_axes) if shape[i] > 1]
    # IRAF 'LINEAR' (also written for plain images) is taken as a dispersion axis when it
    # is axis 1 of a non-celestial array that is 1-D or a stack of a few rows
    # (_image_axes already turned it 'spectral' when DC-FLAG or WAT1_001 says so).
    has_cel = "celestial" in kinds
    stack_ok = all(shape[i] <= 32 for i in range(1, n_axes))
    kinds = tuple(("spectral" if (k == "linear" and i == 0 and not has_cel and stack_ok) else
                   ("other" if k == "linear" else k)) for i, k in enumerate(kinds))
    if not sig:
        if kinds.count("celestial") >= 2:
            return "image", None, "degenerate"
        if "spectral" in kinds:
            return "spectrum", None, "degenerate"
        return ("image" if n_axes >= 2 else None), None, "degenerate"
    sk = [kinds[i] for i in sig]
    n = len(sig)
    n_cel = sk.count("celestial")
    if n_cel >= 2:
        return ("image", None, "axes") if n == 2 else ("cube", None, "axes")
    if n >= 3:
        known = any(k not in ("none", "other") for k in sk)
        return "cube", None, ("axes" if known else "shape")
    if "spectral" in sk:
        if n == 1:
            return "spectrum", None, "axes"
        other = shape[sig[1]] if sk[0] == "spectral" else shape[sig[0]]
        spec_len = shape[sig[0]] if sk[0] == "spectral" else shape[sig[1]]
        stacked = other <= 32 and spec_len >= 8 * other
        return "spectrum", ("stacked-spectra" if stacked else "2d-spectrum"), "axes"
    if "time" in sk:
        if n == 1:
            return "timeseries", None, "axes"
        other = shape[sig[1]] if sk[0] == "time" else shape[sig[0]]
        return ("timeseries", "stacked-series", "axes") if other <= 32 else ("image", None, "axes")
    if n_cel == 1:
        return "image", None, "axes"
    # nothing known about the axes: the shape decides (documented guesses)
    if n == 1:
        return "spectrum", None, "shape"
    a, b = shape[sig[0]], shape[sig[1]]
    if b <= 32 and a >= 8 * b and a >= 64:
        return "spectrum", "stacked-spectra", "shape"
    return "image", None, "shape"


# ---------------------------------------------------------------------------
# Table structure
# ---------------------------------------------------------------------------
_FLUX_TOKENS = frozenset({
    "FLUX", "SPEC", "SPECTRUM", "COUNTS", "NET", "GROSS", "INTENSITY", "INTENS", "FLAM",
    "FNU", "FLAMBDA", "TA", "TMB", "SB", "SURFBRI", "DATA",
})
_OBSERVABLE_TOKENS = frozenset({
    "FLUX", "RATE", "COUNTS", "COUNT", "CTS", "MAG", "MAGNITUDE", "INTENSITY", "RV", "VRAD",
    "NORM", "SIGNAL", "DNDE", "EFLUX", "BRIGHTNESS",
})
_SPLIT_RE = re.compile(r"[^A-Z0-9]+")
_LC_EXTNAMES = frozenset({"LIGHTCURVE", "LIGHT_CURVE", "LC", "RATE", "LCURVE"})
_FLUXPOINT_EXTNAMES = frozenset({"FLUXPOINTS", "FLUX_POINTS", "SED"})
#: EXTNAMEs (first word) of image/table HDUs that accompany a product, never are one.
ANCILLARY_EXTNAMES = frozenset({
    "ERR", "ERROR", "ERRORS", "SIGMA", "NOISE", "RMS", "UNC", "UNCERT", "UNCERTAINTY", "VAR",
    "VARIANCE", "IVAR", "INVVAR", "WHT", "WEIGHT", "WEIGHTS", "DQ", "QUALITY", "MASK", "BPM",
    "BADPIX", "FLAGS", "CTX", "CON", "SAMP", "TIME", "EXP", "EXPOSURE", "EXPMAP", "APERTURE",
    "BKG", "BACKGROUND", "SKY", "PSF", "HDRTAB", "WCSCORR", "ASN", "GTI", "STDGTI", "EBOUNDS",
    "MATRIX", "SPECRESP", "AEFF", "EDISP", "REGION", "POINTING", "EDGES", "STATUS",
})
#: HDUCLAS1 values of OGIP/GADF ancillary extensions
_ANCILLARY_HDUCLAS1 = frozenset({"GTI", "RESPONSE", "REGION", "POINTING", "BKG", "PSF"})

#: Layouts recognised by EXTNAME alone (instrument files whose data have no
#: spectral/temporal column the generic rules could see): EXTNAME ->
#: (dataproduct_type, subtype, note).
KNOWN_LAYOUTS: dict[str, tuple[str, str, str]] = {
    "HSI_OBSSUMMRATEDATA": (
        "timeseries", "rhessi-obssumm",
        "RHESSI observing summary count rates; the time axis is UT_REF/TIME_INTV of "
        "HSI_OBSSUMMRATEINFO"),
}


def _upper(value: Any) -> str:
    return value.strip().upper() if isinstance(value, str) else ""


def _tokens(name: Any) -> list[str]:
    return [t for t in _SPLIT_RE.split(_upper(name)) if t]


@lru_cache(maxsize=8192)
def _is_flux_name(name: Any) -> bool:
    return any(t in _FLUX_TOKENS or t.startswith("FLUX") or t.endswith("FLUX")
               for t in _tokens(name))


@lru_cache(maxsize=8192)
def _is_observable_name(name: Any) -> bool:
    return any(t in _OBSERVABLE_TOKENS or t.startswith("FLUX") or t.endswith(("FLUX", "RATE"))
               for t in _tokens(name))


def _first_word(extname: str) -> str:
    toks = _tokens(extname)
    return toks[0] if toks else ""


def _varies(col: dict[str, Any]) -> bool | None:
    lo, hi = col.get("min"), col.get("max")
    if isinstance(lo, (int, float)) and isinstance(hi, (int, float)):
        return hi > lo
    return None


@dataclass(slots=True)
class _Class:
    """Classification of one HDU."""

    #: 'typed' | 'primary' | 'image-ext' | 'table' | 'ancillary' | 'empty' | 'dummy' | 'other'
    kind: str
    dptype: str | None = None
    subtype: str | None = None
    rule: str = ""
    sources: tuple[str, ...] = ()
    note: str | None = None
    link: str | None = None  # explicit link key (coadd arm, 'bkg')
    header_only: bool = False


def _has_wcs_keywords(kw: dict[str, Any]) -> bool:
    return any(k in kw for k in ("CTYPE1", "CRVAL1", "CD1_1", "PC1_1", "CDELT1"))


def _classify_table(ctx: HDUContext) -> _Class:
    kw = ctx.keywords
    extname = _upper(ctx.extname if ctx.extname is not None else kw.get("EXTNAME"))
    clas1, clas2 = _upper(kw.get("HDUCLAS1")), _upper(kw.get("HDUCLAS2"))
    nrows = ctx.naxis[1] if len(ctx.naxis) >= 2 else 0
    if nrows == 0:
        return _Class("empty", note="table without rows")
    src_ext = ("EXTNAME",) if extname else ()

    def by(key_clas: bool) -> tuple[str, ...]:
        return ("HDUCLAS1",) if key_clas else src_ext

    # --- typed tables ---------------------------------------------------------
    if clas1 == "EVENTS" or extname == "EVENTS":
        return _Class("typed", "event", None, "product.type.events", by(clas1 == "EVENTS"))
    if clas1 == "SPECTRUM" or (extname == "SPECTRUM" and ctx.column("CHANNEL", "PI")):
        sub = "ogip-pha2" if "TYPE:II" in (_upper(kw.get("HDUCLAS3")), _upper(kw.get("HDUCLAS4"))) \
            else "ogip-pha"
        srcs = by(clas1 == "SPECTRUM")
        if clas2 == "BKG":
            return _Class("typed", "spectrum", sub, "product.type.ogip-spectrum",
                          srcs + ("HDUCLAS2",), note="background spectrum", link="bkg")
        return _Class("typed", "spectrum", sub, "product.type.ogip-spectrum", srcs)
    if extname == "SPECTRUM":  # not OGIP (no CHANNEL/PI column): a spectrum table by name
        return _Class("typed", "spectrum", None, "product.type.extname-spectrum", src_ext)
    temporal = ctx.columns_with_role("temporal")
    if clas1 == "LIGHTCURVE" or extname in _LC_EXTNAMES:
        srcs = by(clas1 == "LIGHTCURVE") + tuple(f"column:{c.get('ttype')}" for c in temporal[:1])
        if clas1 == "LIGHTCURVE" or temporal:
            return _Class("typed", "timeseries", "lightcurve", "product.type.lightcurve", srcs)
    if extname in _FLUXPOINT_EXTNAMES or kw.get("SED_TYPE") is not None:
        srcs = (src_ext if extname in _FLUXPOINT_EXTNAMES else ("SED_TYPE",))
        varying = [c for c in temporal if _varies(c)]
        if varying:
            return _Class("typed", "timeseries", "flux-points", "product.type.flux-points",
                          srcs + (f"column:{varying[0].get('ttype')}",),
                          note="flux points in time bins (a reconstructed light curve)")
        return _Class("typed", "sed", "flux-points", "product.type.flux-points", srcs)
    if extname == "UV_DATA":
        return _Class("typed", "visibility", "fits-idi", "product.type.visibility", src_ext)
    if extname == "SINGLE DISH":
        return _Class("typed", "spectrum", "sdfits", "product.type.sdfits", src_ext)
    if extname in KNOWN_LAYOUTS:
        dptype, sub, note = KNOWN_LAYOUTS[extname]
        return _Class("typed", dptype, sub, "product.type.known-layout", src_ext, note)
    # --- ancillary --------------------------------------------------------------
    if clas1 in _ANCILLARY_HDUCLAS1 or _first_word(extname) in ANCILLARY_EXTNAMES \
            or extname.startswith(("GTI", "REG")):
        return _Class("ancillary")
    # --- structural: spectrum / timeseries by columns -------------------------
    spectral = ctx.columns_with_role("spectral")
    flux = [c for c in ctx.columns if _is_flux_name(c.get("ttype"))]
    observable = [c for c in ctx.columns if _is_observable_name(c.get("ttype"))]
    varying = [c for c in temporal if _varies(c) is not False]
    if varying and observable and not (spectral and flux and _varies(varying[0]) is None):
        return _Class("table", "timeseries", None, "product.type.table-timeseries",
                      (f"column:{varying[0].get('ttype')}", f"column:{observable[0].get('ttype')}"))
    if spectral and flux:
        arm = None
        if extname.startswith("COADD"):
            arm = extname[5:].lstrip("_-") or ""
            return _Class("table", "spectrum", "coadd", "product.type.table-spectrum",
                          (f"column:{spectral[0].get('ttype')}", f"column:{flux[0].get('ttype')}",
                           "EXTNAME"), link=f"coadd:{arm}")
        if "-" in extname:
            arm = extname.split("-", 1)[0]
        return _Class("table", "spectrum", None, "product.type.table-spectrum",
                      (f"column:{spectral[0].get('ttype')}", f"column:{flux[0].get('ttype')}"),
                      link=(f"exposure:{arm}" if arm is not None else None))
    return _Class("other")


def _classify_image(ctx: HDUContext, n_hdus: int) -> _Class:
    kw = ctx.keywords
    if ctx.is_primary and kw.get("GROUPS") is True:
        return _Class("primary", "visibility", "random-groups", "product.type.visibility",
                      ("GROUPS",))
    axes = _image_axes(ctx)
    shape = axes.shape
    extname = _upper(ctx.extname if ctx.extname is not None else kw.get("EXTNAME"))
    if not shape or any(n <= 0 for n in shape):
        # no data: a header-only product when it is the file's single header with a celestial WCS
        if n_hdus == 1 and axes.kinds.count("celestial") >= 2:
            dptype, sub, _how = classify_axes([1] * len(axes.kinds), axes.kinds)
            return _Class("primary", dptype, sub, "product.type.header-only",
                          ("NAXIS",) + tuple(f"CTYPE{i}" for i in range(1, len(axes.kinds) + 1)),
                          note="NAXIS = 0: the header describes an image not in the file",
                          header_only=True)
        return _Class("empty")
    if ctx.is_primary and n_hdus > 1 and not _has_wcs_keywords(kw) and math.prod(shape) <= 64:
        return _Class("dummy", note=f"{'x'.join(map(str, shape))} primary array without WCS")
    dptype, sub, how = classify_axes(shape, axes.kinds)
    rule = {"axes": "product.type.axes", "shape": "product.type.shape",
            "degenerate": "product.type.degenerate"}[how]
    note = None
    if how == "shape":
        note = (f"no usable CTYPE: {dptype} guessed from the shape "
                f"{'x'.join(map(str, shape))}")
    elif how == "degenerate":
        note = f"every axis has length 1 ({'x'.join(map(str, shape))})"
    if sub == "multispec":
        orders = shape[1] if len(shape) > 1 else 1
        note = f"IRAF multispec: {orders} orders/apertures in one product"
    kind = "primary" if ctx.is_primary else (
        "ancillary" if _first_word(extname) in ANCILLARY_EXTNAMES else "image-ext")
    return _Class(kind, dptype, sub, rule, axes.sources, note)


def _classify(ctx: HDUContext, n_hdus: int) -> _Class:
    if ctx.is_table and ctx.keywords.get("ZIMAGE") is not True:
        return _classify_table(ctx)
    return _classify_image(ctx, n_hdus)


# ---------------------------------------------------------------------------
# Selection
# ---------------------------------------------------------------------------
def select_products(hdus: Sequence[HDUContext]) -> tuple[list[Product], list[Issue]]:
    """The data products of one file (its HDUs in file order), and file-level issues."""
    issues: list[Issue] = []
    try:
        return _select(hdus, issues), issues
    except Exception as exc:  # never raise on bad input
        issues.append(Issue("product-selection-failed",
                            f"cannot select the products: {type(exc).__name__}: {exc}",
                            "dataproduct_type", "error"))
        return [], issues


def _select(hdus: Sequence[HDUContext], issues: list[Issue]) -> list[Product]:
    if not hdus:
        issues.append(Issue("no-data", "the file has no HDU", None, "warning"))
        return []
    n_hdus = len(hdus)
    header_file = is_header_file(hdus[0].relpath)
    classes = [_classify(ctx, n_hdus) for ctx in hdus]
    chosen: list[int] = []

    # 1. typed tables; a background spectrum is a product only without a source spectrum
    typed = [i for i, c in enumerate(classes) if c.kind == "typed"]
    has_source_spectrum = any(classes[i].subtype in ("ogip-pha", "ogip-pha2")
                              and classes[i].link != "bkg" for i in typed)
    for i in typed:
        if classes[i].link == "bkg" and has_source_spectrum:
            continue
        chosen.append(i)
    # 2. the primary array
    if classes[0].kind == "primary" and classes[0].dptype is not None:
        chosen.append(0)
    # 3. extensions recognised by structure, only when nothing else is a product
    if not chosen:
        images = [i for i, c in enumerate(classes) if c.kind == "image-ext" and c.dptype]
        tables = [i for i, c in enumerate(classes) if c.kind == "table"]
        if any(classes[i].subtype == "coadd" for i in tables):
            # coadded spectra are the products; per-exposure spectra become their extras
            tables = [i for i in tables
                      if classes[i].dptype != "spectrum" or classes[i].subtype == "coadd"]
        chosen.extend(images + tables)
    chosen.sort()

    if classes[0].kind == "dummy":
        issues.append(Issue("dummy-primary", f"primary HDU is not a product: {classes[0].note}",
                            "dataproduct_type", "info"))
    if not chosen:
        if any(c.kind in ("table", "other", "ancillary") for c in classes[1:]) or \
                any(ctx.is_table for ctx in hdus):
            issues.append(Issue("not-an-observation",
                                "no HDU of the file is an observation (tables without "
                                "spectral/temporal/observable structure)", "dataproduct_type",
                                "warning"))
        else:
            issues.append(Issue("no-data", "no HDU of the file has data or a usable WCS",
                                "dataproduct_type", "warning"))
        return []

    # extras: every other HDU with content goes to the product it belongs to
    extras: dict[int, list[int]] = {i: [] for i in chosen}
    coadd_by_arm = {classes[i].link.split(":", 1)[1]: i for i in chosen
                    if classes[i].link and classes[i].link.startswith("coadd:")}
    for j, c in enumerate(classes):
        if j in extras or c.kind in ("empty", "dummy"):
            continue
        target = None
        if c.link and c.link.startswith("exposure:"):
            target = coadd_by_arm.get(c.link.split(":", 1)[1])
        if target is None:
            before = [i for i in chosen if i < j]
            target = before[-1] if before else chosen[0]
        extras[target].append(j)

    products = []
    for i in chosen:
        c = classes[i]
        products.append(Product(
            hdu=i, dataproduct_type=c.dptype, subtype=c.subtype, order=None,
            extra_hdus=tuple(extras[i]), rule=c.rule, sources=c.sources, note=c.note,
            header_only=c.header_only or header_file))
    return products


# ---------------------------------------------------------------------------
# dataproduct_type and calib_level of one product
# ---------------------------------------------------------------------------
#: keywords holding a producer's processing level (solar physics: 0 raw, 1 calibrated, ...)
_LEVEL_KEYWORDS = ("LVL_NUM", "DATA_LEV", "LEVEL")
_INSTRUMENTAL_SUBTYPES = frozenset({"ogip-pha", "ogip-pha2", "rhessi-obssumm", "random-groups",
                                    "fits-idi"})


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            x = float(value.strip())
        except ValueError:
            return None
        return x if math.isfinite(x) else None
    return None


def derive_product(ctx: HDUContext, product: Product, out: Derivation,
                   config: RuleConfig | None = None) -> None:
    """Set dataproduct_type and calib_level of ``product`` (whose HDU is ``ctx``)."""
    try:
        _derive_product(ctx, product, out)
    except Exception as exc:  # never raise on bad input
        out.issue("product-derivation-failed", f"{type(exc).__name__}: {exc}",
                  "calib_level", "error")


def _derive_product(ctx: HDUContext, product: Product, out: Derivation) -> None:
    if product.dataproduct_type is not None:
        out.set("dataproduct_type", product.dataproduct_type, product.sources,
                product.rule or "product.type", product.note)
    else:
        out.issue("unknown-dataproduct-type", "no ObsCore data product type fits this product",
                  "dataproduct_type", "warning")
    if product.rule == "product.type.shape":
        out.issue("dataproduct-type-guessed", product.note or "type guessed from the shape",
                  "dataproduct_type", "info")
    elif product.rule == "product.type.degenerate":
        out.issue("degenerate-array", product.note or "every axis has length 1",
                  "dataproduct_type", "warning")
    if product.header_only:
        out.issue("header-only", "the file holds the header only, no data", None, "info")
    level, sources, rule, note = _calib_level(ctx, product)
    out.set("calib_level", level, sources, rule, note)


def _calib_level(ctx: HDUContext, product: Product) -> tuple[int, tuple[str, ...], str, str]:
    # 1. the producer's own processing level (solar data: LVL_NUM, DATA_LEV, LEVEL)
    for key in _LEVEL_KEYWORDS:
        value, src = ctx.get(key)
        x = _number(value)
        if x is not None and 0 <= x <= 4:
            level = 1 if x < 1 else (2 if x < 3 else 3)
            return level, (src,), "product.calib.level-keyword", \
                f"{key} = {value}: producer level {x:g} (<1 raw, 1-<3 calibrated, >=3 enhanced)"
    # 2. ESO raw frame: DPR keywords without PRO keywords
    dpr, dpr_src = ctx.get("ESO DPR CATG")
    pro, _pro_src = ctx.get("ESO PRO CATG")
    if dpr is not None and pro is None:
        return 1, (dpr_src,), "product.calib.eso-raw", "ESO raw frame (DPR.CATG, no PRO.CATG)"
    # 3. analysis products: flux points
    if product.subtype == "flux-points":
        return 4, product.sources, "product.calib.flux-points", \
            "flux points from a likelihood fit (ObsCore 1.1: reconstructed light curve = 4)"
    # 4. combined data: coadds, mosaics, stacks
    if product.subtype == "coadd":
        return 3, ("EXTNAME",), "product.calib.combined", "coadded spectrum (EXTNAME COADD*)"
    filetype, ft_src = ctx.get("FILETYPE")
    if isinstance(filetype, str) and "MOSAIC" in filetype.upper():
        return 3, (ft_src,), "product.calib.combined", f"FILETYPE = {filetype!r}"
    mosaicer, m_src = ctx.get("MOSAICER", "MOSAIC")
    if mosaicer not in (None, False):
        return 3, (m_src,), "product.calib.combined", "mosaic (MOSAICER/MOSAIC keyword)"
    for key in ("NCOMBINE", "ESO PRO DATANCOM"):
        value, src = ctx.get(key)
        x = _number(value)
        if x is not None and x > 1:
            return 3, (src,), "product.calib.combined", f"{key} = {value}: stack of exposures"
    # 5. instrumental data (ObsCore 1.1 examples: event lists, X-ray PHA spectra, visibilities = 1)
    if product.dataproduct_type in ("event", "visibility") or \
            product.subtype in _INSTRUMENTAL_SUBTYPES:
        what = product.subtype or product.dataproduct_type
        return 1, product.sources, "product.calib.instrumental", \
            f"{what}: instrumental data in a standard format"
    # 6. default: reduced, science-ready data published with a catalogue
    return 2, product.sources, "product.calib.default", \
        "catalogue-associated data: calibrated, science ready"
