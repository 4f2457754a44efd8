#!/usr/bin/env python3
"""Build the offline filter seed (etl/assocdata/curation/data/filters_seed.ecsv).

Why a seed: the SVO Filter Profile Service is not always reachable (and not at
all from the build machines), yet the common bands must be known offline. The
seed is computed from the real transmission curves that the pyphot package
(MIT licence, Morgan Fouesneau) ships in ``pyphot/libs/new_filters.hd5``: one
row per filter, with the quantities SVO publishes, computed with SVO's
definitions:

- lambda_min / lambda_max: first / last wavelength where the transmission is
  at least 1 % of its maximum (SVO WavelengthMin / WavelengthMax);
- lambda_mean: integral(l T dl) / integral(T dl) (SVO WavelengthMean);
- width: integral(T dl) / max(T) (SVO WidthEff);
- lambda_eff (SVO's Vega-weighted WavelengthEff) is left empty.

Only the families listed in FAMILIES are kept (the others are narrow-band or
site-specific sets with names no header uses). Usage, in any virtualenv with
numpy and h5py (neither is a dependency of assocdata):

    pip download --no-deps pyphot==2.1.1 -d /tmp/pyphot
    python scripts/build_filter_seed.py /tmp/pyphot/pyphot-2.1.1-py3-none-any.whl

The wheel is read in place (never installed) and the seed is rewritten with a
header naming its origin and licence.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "etl" / "assocdata" / "curation" / "data" / "filters_seed.ecsv"
PYPHOT_VERSION = "2.1.1"
LIBRARY = "pyphot/libs/new_filters.hd5"

#: Wavelength units of the library -> Angstrom.
UNITS = {"AA": 1.0, "angstrom": 1.0, "Angstrom": 1.0, "nm": 10.0, "nanometer": 10.0,
         "um": 1e4, "micron": 1e4, "micrometer": 1e4}

WFC3_IR = {"F098M", "F105W", "F110W", "F125W", "F126N", "F127M", "F128N", "F130N", "F132N",
           "F139M", "F140W", "F153M", "F160W", "F164N", "F167N"}
IRAC = {"36": ("I1", "3.6"), "45": ("I2", "4.5"), "58": ("I3", "5.8"), "80": ("I4", "8.0")}


def describe(name: str) -> tuple[str, str, str, str, str, list[str]] | None:
    """pyphot name -> (filter_id, facility, instrument, band, system, aliases), or None to skip."""
    m = re.fullmatch(r"2MASS_(J|H|Ks)", name)
    if m:
        b = m[1]
        aliases = [b] + (["K", "K_s", "Kshort"] if b == "Ks" else [])
        return f"2MASS/2MASS.{b}", "2MASS", "2MASS", b, "Vega", aliases
    m = re.fullmatch(r"GALEX_(FUV|NUV)", name)
    if m:
        return f"GALEX/GALEX.{m[1]}", "GALEX", "GALEX", m[1], "AB", [m[1]]
    m = re.fullmatch(r"GROUND_(JOHNSON|COUSINS|BESSELL)_([A-Z])", name)
    if m:
        system = m[1].capitalize()
        b = m[2]
        extra = {"Cousins": [f"{b}c", f"{b}_c"]}.get(system, [])
        return f"Generic/{system}.{b}", "Generic", system, b, "Vega", [b] + extra
    m = re.fullmatch(r"Gaia_(G|BP|RP)", name)
    if m:
        band = {"G": "G", "BP": "Gbp", "RP": "Grp"}[m[1]]
        return f"GAIA/Gaia.{band}", "GAIA", "Gaia", band, "Vega", [m[1], band, f"G_{m[1]}"]
    m = re.fullmatch(r"HST_(ACS_WFC|ACS_HRC|WFC3|WFPC2|NIC2|NIC3)_(F\w+)", name)
    if m:
        inst, band = m[1], m[2]
        if inst == "WFC3":
            inst = "WFC3_IR" if band in WFC3_IR else "WFC3_UVIS"
        inst = {"NIC2": "NICMOS2", "NIC3": "NICMOS3"}.get(inst, inst)
        return f"HST/{inst}.{band}", "HST", inst, band, "Vega", [band]
    m = re.fullmatch(r"JWST_NIRCAM_(F\w+)", name)
    if m:
        return f"JWST/NIRCam.{m[1]}", "JWST", "NIRCam", m[1], "Vega", [m[1]]
    if name == "KEPLER_Kp":
        return "Kepler/Kepler.K", "Kepler", "Kepler", "Kp", "AB", ["Kp", "Kepler"]
    if name == "TESS":
        return "TESS/TESS.Red", "TESS", "TESS", "T", "Vega", ["T", "TESS"]
    m = re.fullmatch(r"PS1_([grizyw])", name)
    if m:
        return f"PAN-STARRS/PS1.{m[1]}", "PAN-STARRS", "PS1", m[1], "AB", [m[1], f"{m[1]}P1"]
    m = re.fullmatch(r"SDSS_([ugriz])", name)
    if m:
        return f"SLOAN/SDSS.{m[1]}", "SLOAN", "SDSS", m[1], "AB", [m[1], f"{m[1]}'"]
    m = re.fullmatch(r"SPITZER_IRAC_(\d\d)", name)
    if m:
        band, micron = IRAC[m[1]]
        ch = band[1]
        return (f"Spitzer/IRAC.{band}", "Spitzer", "IRAC", band, "Vega",
                [band, f"CH{ch}", f"IRAC{ch}", micron, f"{micron}um", f"IRAC{micron}"])
    m = re.fullmatch(r"WISE_RSR_(W[1-4])", name)
    if m:
        return f"WISE/WISE.{m[1]}", "WISE", "WISE", m[1], "Vega", [m[1]]
    m = re.fullmatch(r"ZTF_([gri])", name)
    if m:
        return f"Palomar/ZTF.{m[1]}", "Palomar", "ZTF", m[1], "AB", [m[1], f"ZTF_{m[1]}"]
    m = re.fullmatch(r"HERSCHEL_PACS_(BLUE|GREEN|RED)", name)
    if m:
        band = m[1].lower()
        micron = {"blue": "70", "green": "100", "red": "160"}[band]
        return f"Herschel/Pacs.{band}", "Herschel", "PACS", band, "AB", [band, m[1], micron]
    m = re.fullmatch(r"HERSCHEL_SPIRE_(PSW|PMW|PLW)", name)
    if m:
        micron = {"PSW": "250", "PMW": "350", "PLW": "500"}[m[1]]
        return f"Herschel/SPIRE.{m[1]}", "Herschel", "SPIRE", m[1], "AB", [m[1], micron]
    m = re.fullmatch(r"STROMGREN_([ubvy])", name)
    if m:
        return f"Generic/Stromgren.{m[1]}", "Generic", "Stromgren", m[1], "Vega", [m[1]]
    m = re.fullmatch(r"SkyMapper_([uvgriz])", name)
    if m:
        return f"SkyMapper/SkyMapper.{m[1]}", "SkyMapper", "SkyMapper", m[1], "AB", [m[1]]
    return None


def characterise(wave_aa, thr) -> tuple[float, float, float, float]:
    """SVO's WavelengthMin/Max (1 % of max), WavelengthMean and WidthEff of one curve."""
    import numpy as np

    order = np.argsort(wave_aa)
    w, t = np.asarray(wave_aa, float)[order], np.clip(np.asarray(thr, float)[order], 0, None)
    peak = t.max()
    above = np.nonzero(t >= 0.01 * peak)[0]
    lo, hi = w[above[0]], w[above[-1]]
    area = np.trapezoid(t, w)
    mean = np.trapezoid(w * t, w) / area
    width = area / peak
    return float(lo), float(hi), float(mean), float(width)


def build(wheel: Path) -> list[dict]:
    import h5py

    with zipfile.ZipFile(wheel) as zf, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "new_filters.hd5"
        path.write_bytes(zf.read(LIBRARY))
        rows = []
        with h5py.File(path) as lib:
            for name in sorted(lib["filters"]):
                desc = describe(name)
                if desc is None:
                    continue
                ds = lib["filters"][name]
                unit = ds.attrs["WAVELENGTH_UNIT"]
                unit = unit.decode() if isinstance(unit, bytes) else str(unit)
                scale = UNITS[unit]
                data = ds[()]
                lo, hi, mean, width = characterise(data["WAVELENGTH"] * scale, data["THROUGHPUT"])
                fid, facility, instrument, band, system, aliases = desc
                rows.append(dict(filter_id=fid, facility=facility, instrument=instrument, band=band,
                                 system=system, lambda_min=round(lo, 3), lambda_max=round(hi, 3),
                                 lambda_mean=round(mean, 3), width=round(width, 3),
                                 aliases=";".join(dict.fromkeys(aliases)),
                                 source=f"seed: pyphot {PYPHOT_VERSION} {LIBRARY}:{name}"))
    return rows


HEADER = f"""Offline filter seed of assocdata (etl/assocdata/curation/filters.py loads it).
Computed by scripts/build_filter_seed.py from the transmission curves of
pyphot {PYPHOT_VERSION} ({LIBRARY}), Copyright (c) 2016 Morgan Fouesneau,
MIT licence (the full text is in FILTERS_SEED_LICENSE.txt beside this file).
Wavelengths in Angstrom. lambda_min/lambda_max: first/last wavelength with a
transmission >= 1 % of the maximum; lambda_mean: integral(l T)/integral(T);
width: integral(T)/max(T) (the definitions of the SVO Filter Profile Service).
filter_id follows SVO's Facility/Instrument.Band pattern; it is not a claim
that SVO's curve for that id is the one used here."""


def write(rows: list[dict], out: Path) -> None:
    from astropy.table import Table

    table = Table(rows=rows, names=list(rows[0]))
    for col in ("lambda_min", "lambda_max", "lambda_mean", "width"):
        table[col].unit = "Angstrom"
    table.meta["comments"] = HEADER.splitlines()
    buf = io.StringIO()
    table.write(buf, format="ascii.ecsv")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(buf.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("wheel", type=Path, help=f"pyphot-{PYPHOT_VERSION} wheel (pip download)")
    parser.add_argument("-o", "--output", type=Path, default=OUT)
    args = parser.parse_args(argv)
    rows = build(args.wheel)
    write(rows, args.output)
    print(f"{len(rows)} filters written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
