"""PNG thumbnails of published products, made at publication and cached on disk.

- images: astropy.visualization scaling (ZScale interval, asinh stretch);
- cubes: the cube collapsed along its first (spectral) numpy axis, then as an image;
- spectra and light curves: a small line plot of the flux;
- anything else (event lists, tables without a flux column): no preview, and
  the page shows a placeholder: a missing preview is never an error.

The PNG writer is the standard library's zlib and a few struct calls: no
plotting library (matplotlib is some 40 MB for 160x100 grey pixels). A file
is opened read-only with astropy (memory-mapped), never modified.
Thumbnails are named by a hash of the row's DID under the preview directory.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

SIZE = 128  # longest side of an image thumbnail
PLOT = (160, 96)  # width, height of a plot thumbnail


def key(did: str) -> str:
    return hashlib.sha256(did.encode("utf-8")).hexdigest()[:32]


def path_for(directory: Path, did: str) -> Path:
    return directory / f"{key(did)}.png"


def png(gray: np.ndarray) -> bytes:
    """An 8-bit greyscale PNG of a 2-D uint8 array."""
    h, w = gray.shape
    raw = b"".join(b"\x00" + gray[y].tobytes() for y in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def _image(data: np.ndarray) -> np.ndarray | None:
    from astropy.visualization import AsinhStretch, ZScaleInterval

    data = np.asarray(data, dtype=float)
    while data.ndim > 2:
        data = np.nansum(data, axis=0) if data.ndim == 3 else data[0]
    if data.ndim != 2 or data.size == 0:
        return None
    step = max(1, int(np.ceil(max(data.shape) / SIZE)))
    small = data[::step, ::step]
    finite = np.isfinite(small)
    if not finite.any():
        return None
    try:
        lo, hi = ZScaleInterval().get_limits(small[finite])
    except Exception:
        lo, hi = np.nanmin(small), np.nanmax(small)
    scaled = np.clip((np.where(finite, small, lo) - lo) / ((hi - lo) or 1.0), 0, 1)
    scaled = AsinhStretch()(scaled)
    return (np.flipud(scaled) * 255).astype(np.uint8)  # FITS row 1 is the bottom


def _plot(x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < 2:
        return None
    w, h = PLOT
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    lo, hi = np.percentile(y, [0.5, 99.5])
    if hi <= lo:
        hi = lo + 1
    px = ((x - x[0]) / ((x[-1] - x[0]) or 1) * (w - 1)).astype(int)
    py = (h - 1 - np.clip((y - lo) / (hi - lo), 0, 1) * (h - 1)).astype(int)
    canvas = np.full((h, w), 255, np.uint8)
    for col in range(w):  # each column: a vertical stroke over the samples that fall in it
        sel = py[px == col]
        if sel.size:
            canvas[sel.min():sel.max() + 1, col] = 0
    prev = None
    for col in range(w):  # join neighbouring columns
        sel = py[px == col]
        if not sel.size:
            continue
        if prev is not None:
            a, b = sorted((prev, int(sel[0])))
            canvas[a:b + 1, col] = 0
        prev = int(sel[-1])
    return canvas


_FLUX = ("FLUX", "SAP_FLUX", "PDCSAP_FLUX", "RATE", "COUNTS", "FLUX_DENSITY", "FLUX_POINTS")
_X = ("WAVELENGTH", "WAVE", "LAMBDA", "LOGLAM", "TIME", "CHANNEL", "ENERG_LO", "TSTART", "TIME_MIN")


def _table_plot(hdu: Any) -> np.ndarray | None:
    names = {n.upper(): n for n in (hdu.columns.names or [])}
    fx = next((names[n] for n in _FLUX if n in names), None)
    xx = next((names[n] for n in _X if n in names), None)
    if fx is None:
        return None
    y = np.asarray(hdu.data[fx], dtype=float)
    if y.ndim == 2 and y.shape[0] == 1:  # one row holding the whole spectrum
        y = y[0]
        x = np.asarray(hdu.data[xx], dtype=float)[0] if xx else np.arange(y.size, dtype=float)
    else:
        y = y.reshape(y.shape[0], -1)[:, 0] if y.ndim > 1 else y
        x = np.asarray(hdu.data[xx], dtype=float) if xx else np.arange(y.size, dtype=float)
        x = x.reshape(x.shape[0], -1)[:, 0] if x.ndim > 1 else x
    if x.shape != y.shape:
        x = np.arange(y.size, dtype=float)
    return _plot(x, y)


def render(path: Path, hdu_index: int, product_type: str | None) -> bytes | None:
    """The thumbnail of one product, or None when there is nothing sensible to draw."""
    import warnings

    from astropy.io import fits

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # non-standard files are the archive's daily bread
        try:
            return _render(fits, path, hdu_index, product_type, memmap=True)
        except ValueError as exc:  # scaled integers (BZERO/BSCALE) cannot be memory-mapped
            if "memory-mapped" not in str(exc):
                raise
            return _render(fits, path, hdu_index, product_type, memmap=False)


def _render(fits: Any, path: Path, hdu_index: int, product_type: str | None, *,
            memmap: bool) -> bytes | None:
    with fits.open(path, memmap=memmap, lazy_load_hdus=True) as hdul:
        hdu = hdul[hdu_index]
        if product_type in ("image", "cube") and hdu.is_image and hdu.data is not None:
            pixels = _image(hdu.data)
        elif product_type in ("spectrum", "timeseries"):
            if hdu.is_image and hdu.data is not None:
                y = np.asarray(hdu.data, dtype=float)
                y = y.reshape(-1, y.shape[-1])[0] if y.ndim > 1 else y
                pixels = _plot(np.arange(y.size, dtype=float), y)
            elif hasattr(hdu, "columns") and hdu.data is not None:
                pixels = _table_plot(hdu)
            else:
                pixels = None
        else:
            pixels = None
    return None if pixels is None else png(pixels)


def generate(conn: Any, directory: Path, catalogues: list[str] | None = None,
             *, overwrite: bool = False) -> dict[str, int]:
    """Thumbnails of the published rows (of some catalogues); counts made / skipped / failed."""
    from .search import product_files

    directory.mkdir(parents=True, exist_ok=True)
    sql = "SELECT obs_publisher_did, dataproduct_type FROM ivoa.obscore"
    args: list[Any] = []
    if catalogues:
        sql += " WHERE source_catalogue = ANY(%s)"
        args.append(catalogues)
    types = dict(conn.execute(sql, args).fetchall())
    counts = {"made": 0, "cached": 0, "none": 0, "failed": 0}
    for pf in product_files(conn, list(types), include_submissions=True):
        target = path_for(directory, pf.did)
        if target.exists() and not overwrite:
            counts["cached"] += 1
            continue
        try:
            data = render(pf.path, pf.hdu, types.get(pf.did))
        except Exception:  # unreadable data: the page shows the placeholder
            counts["failed"] += 1
            continue
        if data is None:
            counts["none"] += 1
            continue
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
        counts["made"] += 1
    return counts
