"""Position and footprint: s_ra, s_dec, s_region, s_fov, s_xel1, s_xel2, s_pixel_scale, s_resolution.

One public function, :func:`derive_spatial`. The rules, their order and the
documented choices are in ``docs/derivation/spatial.md``; in short:

1. ``spatial.wcs`` — a celestial WCS the isolated pre-check accepted
   (``ctx.wcs_status == 'ok'``), read with :mod:`assocdata.wcscheck` only
   (``find_wcs_units`` + ``prepare_wcsprm`` + ``p2s``): centre = the array
   centre, footprint traced along the outer pixel edges (one vectorised
   ``p2s`` call), converted to ICRS with cached rotation matrices, checked to be
   a polygon PgSphere accepts. Variants: ``spatial.wcs.point`` (both celestial
   axes of length 1), ``spatial.wcs.refpoint`` (no array: NAXIS = 0),
   ``spatial.pixlist`` (event lists: TLMIN/TLMAX of the sky columns).
2. ``spatial.solar`` — helioprojective/heliographic axes: no RA/Dec, issue
   ``solar-frame``; only s_xel1/s_xel2 (and s_pixel_scale for HPLN/HPLT).
3. ``spatial.dss-circle`` — an event list's data-subspace ``POS(RA,DEC)``
   ``CIRCLE(...)`` (Fermi LAT files).
4. ``spatial.keywords`` / ``spatial.keywords.pointing`` /
   ``spatial.crval-degenerate`` — a position from keywords, with
   RADESYS/EQUINOX/EPOCH, and a circle of ``config.keyword_position_radius_deg``;
   ``spatial.aperture-sibling`` takes the footprint of a Kepler/TESS
   ``APERTURE`` image of the same file instead of the circle.
5. ``spatial.resolution.*`` — s_resolution only from a keyword whose unit is
   known (BMAJ in degrees by convention, or a unit stated in the comment).

Performance: nothing here imports astropy.coordinates or astropy.time: the
frame rotations come from erfa and numpy and are cached per (frame, equinox);
the footprint is one ``p2s`` call on at most 67 pixels; the short rings are
then handled with plain Python floats (numpy's per-call overhead dominates at
that size).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import erfa
import numpy as np

from .. import wcscheck
from ..obscore.schema import MAX_CIRCLE_RADIUS, circle_to_spoly
from ..obscore.schema import load as schema_load
from .context import keyword_number, Derivation, HDUContext, RuleConfig

__all__ = ["COLUMNS", "derive_spatial", "icrs_from", "parse_angle"]

#: The columns this module derives.
COLUMNS = ("s_ra", "s_dec", "s_region", "s_fov", "s_xel1", "s_xel2", "s_pixel_scale",
           "s_resolution")

#: Segments traced along each side of the array (more for wide footprints).
SEGMENTS_PER_SIDE = 8
SEGMENTS_PER_SIDE_WIDE = 16
#: A side longer than this (deg, estimated from the pixel scale) is "wide".
WIDE_SIDE_DEG = 5.0
#: Consecutive vertices closer than this (rad, ~10 mas) are merged (PgSphere
#: treats points within 1e-9 rad as equal and would merge them itself).
_MERGE_RAD = 5e-8
#: A vertex closer than this (rad, ~10 mas) to the great circle through its
#: neighbours is dropped: PgSphere misjudges nearly collinear segments (within
#: ~1e-9 rad of each other's great circle) as crossing and refuses the polygon.
_COLLINEAR_RAD = 5e-8
#: A side of the trace whose points all lie within this (rad, 0.4") of the great
#: circle through its two corners is replaced by that great-circle arc.
_STRAIGHT_SIDE_RAD = 2e-6
#: A traced point is dropped from s_region when the outline without it stays within
#: this fraction of the pixel scale (at the array centre) from it: a footprint is
#: not known better than its pixels (and PgSphere's cost grows as n^2 in vertices).
_SIDE_TOLERANCE_PIXELS = 0.1
#: Every vertex must be at least this far (cosine) inside the hemisphere
#: around PgSphere's polygon centre (PgSphere: strictly > 0, tolerance 1e-9).
_HEMISPHERE_MARGIN = 1e-6
#: Grid (per axis) sampled for s_fov when the array extends beyond the
#: projection's domain (all-sky maps).
_FOV_GRID = 33


# ============================================================== frames -> ICRS

def _rot(angle_deg: float, axis: str) -> np.ndarray:
    """Coordinate-frame rotation matrix (astropy's ``rotation_matrix`` convention)."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    if axis == "x":
        return np.array([[1.0, 0.0, 0.0], [0.0, c, s], [0.0, -s, c]])
    if axis == "y":
        return np.array([[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]])
    return np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])


#: Frame bias ICRS -> FK5 J2000 (USNO circular 179, as astropy).
_ICRS_TO_FK5 = (_rot(19.9 / 3.6e6, "x") @ _rot(9.1 / 3.6e6, "y") @ _rot(-22.9 / 3.6e6, "z"))
#: FK4 (no E-terms) B1950 -> FK5 J2000 (Standish 1982, as astropy) and its
#: per-century correction for the FK4 frame rotation (Murray 1989, eq. 29).
_B1950_TO_J2000 = np.array([
    [0.9999256794956877, -0.0111814832204662, -0.0048590038153592],
    [0.0111814832391717, +0.9999374848933135, -0.0000271625947142],
    [0.0048590037723143, -0.0000271702937440, +0.9999881946023742]])
_FK4_CORR = np.array([
    [-0.0026455262, -1.1539918689, +2.1111346190],
    [+1.1540628161, -0.0129042997, +0.0236021478],
    [-2.1112979048, -0.0056024448, +0.0102587734]]) * 1.0e-6
#: IAU 1958 galactic pole and longitude of the NCP, in FK5 J2000 (as astropy).
_FK5_TO_GALACTIC = (_rot(180.0 - 122.9319185680026, "z") @ _rot(90.0 - 27.12825118085622, "y")
                    @ _rot(192.8594812065348, "z"))
#: Supergalactic north pole (l, b) = (47.37, 6.32) and zero point (de Vaucouleurs).
_GALACTIC_TO_SUPERGALACTIC = _rot(90.0, "z") @ _rot(90.0 - 6.32, "y") @ _rot(47.37, "z")
_JD_B1950 = float(sum(erfa.epb2jd(1950.0)))


def _jd_julian(epoch: float) -> float:
    return 2451545.0 + (epoch - 2000.0) * 365.25


def _jd_besselian(epoch: float) -> float:
    return float(sum(erfa.epb2jd(epoch)))


def _fk5_precession(jd_from: float, jd_to: float) -> np.ndarray:
    """FK5 mean-equator precession (IAU 2006, without frame bias: astropy's FK5)."""
    return erfa.bp06(jd_to, 0.0)[1] @ erfa.bp06(jd_from, 0.0)[1].T


def _fk4_precession(b_from: float, b_to: float) -> np.ndarray:
    """FK4 precession between Besselian epochs (Newcomb, as astropy's FK4NoETerms)."""
    t1 = (b_from - 1850.0) / 1000.0
    dt = (b_to - 1850.0) / 1000.0 - t1
    z1 = (0.060 * t1 + 139.720) * t1 + 23035.545
    zeta = ((17.995 * dt + (-0.27 * t1 + 30.240)) * dt + z1) * dt / 3600.0
    z = ((18.325 * dt + (109.480 + 0.39 * t1)) * dt + z1) * dt / 3600.0
    theta1 = (-0.37 * t1 - 85.29) * t1 + 20051.12
    theta = ((-41.8 * dt + (-0.37 * t1 - 42.65)) * dt + theta1) * dt / 3600.0
    return _rot(-z, "z") @ _rot(theta, "y") @ _rot(-zeta, "z")


def _fk4_e_terms(b_equinox: float) -> np.ndarray:
    """E-terms of aberration of FK4 positions (Explanatory Supplement 1992, as astropy)."""
    jd = _jd_besselian(b_equinox)
    t = (jd - _JD_B1950) / 36525.0
    ek = math.radians(0.0056932) * ((-0.000000126 * t - 0.00004193) * t + 0.01673011)
    g = math.radians((((0.012 * t + 1.65) * t + 6190.67) * t + 1015489.951) / 3600.0)
    o = erfa.obl80(jd, 0.0)
    return np.array([ek * math.sin(g), -ek * math.cos(g) * math.cos(o),
                     -ek * math.cos(g) * math.sin(o)])


@functools.lru_cache(maxsize=128)
def _frame_matrix(system: str, equinox: float | None) -> tuple[np.ndarray, np.ndarray | None]:
    """(M, A): v_icrs = M @ v, after removing the FK4 E-terms A (None for other frames)."""
    fk5_to_icrs = _ICRS_TO_FK5.T
    if system == "ICRS":
        return np.eye(3), None
    if system == "FK5":
        jd = _jd_julian(2000.0 if equinox is None else equinox)
        return fk5_to_icrs @ _fk5_precession(jd, _jd_julian(2000.0)), None
    if system in ("FK4", "FK4-NO-E"):
        b = 1950.0 if equinox is None else equinox
        # astropy: FK4 obstime defaults to its equinox; the B matrix rotates with it.
        jyear = 2000.0 + (_jd_besselian(b) - 2451545.0) / 365.25
        m = fk5_to_icrs @ (_B1950_TO_J2000 + _FK4_CORR * (jyear - 1950.0) / 100.0) \
            @ _fk4_precession(b, 1950.0)
        return m, (_fk4_e_terms(b) if system == "FK4" else None)
    if system == "GALACTIC":
        return fk5_to_icrs @ _FK5_TO_GALACTIC.T, None
    if system == "SUPERGALACTIC":
        return fk5_to_icrs @ _FK5_TO_GALACTIC.T @ _GALACTIC_TO_SUPERGALACTIC.T, None
    if system == "ECLIPTIC":
        # Mean ecliptic and equinox of date, IAU 2006 (astropy's BarycentricMeanEcliptic).
        jd = _jd_julian(2000.0 if equinox is None else equinox)
        return erfa.ecm06(jd, 0.0).T, None
    raise ValueError(f"unknown frame {system!r}")


def _vectors(lon_deg: np.ndarray, lat_deg: np.ndarray) -> np.ndarray:
    """Unit vectors (n x 3) of longitudes/latitudes in degrees."""
    lon = np.radians(lon_deg)
    lat = np.radians(lat_deg)
    cl = np.cos(lat)
    return np.column_stack((cl * np.cos(lon), cl * np.sin(lon), np.sin(lat)))


def _to_icrs_vectors(system: str, equinox: float | None, lon_deg: np.ndarray,
                     lat_deg: np.ndarray) -> np.ndarray:
    m, e_terms = _frame_matrix(system, equinox)
    v = _vectors(lon_deg, lat_deg)
    if e_terms is not None:
        v = v - e_terms + (v @ e_terms)[:, None] * v
        v /= np.sqrt((v * v).sum(axis=1))[:, None]
    return v if system == "ICRS" else v @ m.T


def icrs_from(system: str, equinox: float | None, lon: float, lat: float) -> tuple[float, float]:
    """ICRS (ra, dec) in degrees of one position given in ``system`` (see :func:`_frame_matrix`)."""
    lo, la = math.radians(lon), math.radians(lat)
    x, y, z = math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)
    m, e = _frame_rows(system, equinox)
    if e is not None:
        d = x * e[0] + y * e[1] + z * e[2]
        x, y, z = x - e[0] + d * x, y - e[1] + d * y, z - e[2] + d * z
    x, y, z = (m[0][0] * x + m[0][1] * y + m[0][2] * z, m[1][0] * x + m[1][1] * y + m[1][2] * z,
               m[2][0] * x + m[2][1] * y + m[2][2] * z)
    ra = math.degrees(math.atan2(y, x)) % 360.0
    return (0.0 if ra >= 360.0 else ra), math.degrees(math.atan2(z, math.hypot(x, y)))


@functools.lru_cache(maxsize=128)
def _frame_rows(system: str, equinox: float | None
                ) -> tuple[tuple[tuple[float, ...], ...], tuple[float, ...] | None]:
    """:func:`_frame_matrix` as Python floats (single positions without numpy overhead)."""
    m, e = _frame_matrix(system, equinox)
    return tuple(tuple(r) for r in m.tolist()), (None if e is None else tuple(e.tolist()))


def _describe_frame(system: str, equinox: float | None) -> str:
    if system in ("FK5", "ECLIPTIC"):
        return f"{system} J{2000.0 if equinox is None else equinox:g}"
    if system in ("FK4", "FK4-NO-E"):
        return f"{system} B{1950.0 if equinox is None else equinox:g}"
    return system


def _equatorial_frame(radesys: str, equinox: float | None
                      ) -> tuple[str, float | None] | None:
    """(system, equinox) of RA/Dec, with the FITS defaults (Paper II, 3.1), or None if unsupported."""
    radesys = radesys.strip().upper()
    if radesys == "":
        if equinox is None:
            return "ICRS", None
        radesys = "FK4" if equinox < 1984.0 else "FK5"
    if radesys == "ICRS":
        return "ICRS", None
    if radesys == "FK5":
        return "FK5", 2000.0 if equinox is None else equinox
    if radesys in ("FK4", "FK4-NO-E"):
        return radesys, 1950.0 if equinox is None else equinox
    return None  # GAPPT (apparent place of date) and unknown systems


# ====================================================================== geometry

# Rings are short (at most 4 x 16 points, usually 4 after _straighten): plain
# Python floats beat numpy's per-call overhead here; numpy only for the O(n^2)
# fallbacks. A vector is a tuple (x, y, z); a ring is a list of vectors.

Vec = tuple[float, float, float]


def _cross(a: Sequence[float], b: Sequence[float]) -> Vec:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _fov(ring: Sequence[Sequence[float]], c: Sequence[float]) -> float:
    """2 x the largest angular distance (deg) from c to the ring (arccos: ~3 mas accuracy)."""
    cx, cy, cz = c
    m = min(x * cx + y * cy + z * cz for x, y, z in ring)
    return min(360.0, 2.0 * math.degrees(math.acos(max(-1.0, min(1.0, m)))))


def _separation(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    """Angular distance (deg) between two positions (Vincenty's formula)."""
    a1, d1, a2, d2 = map(math.radians, (ra1, dec1, ra2, dec2))
    dl = a2 - a1
    num = math.hypot(math.cos(d2) * math.sin(dl),
                     math.cos(d1) * math.sin(d2) - math.sin(d1) * math.cos(d2) * math.cos(dl))
    return math.degrees(math.atan2(num, math.sin(d1) * math.sin(d2)
                                   + math.cos(d1) * math.cos(d2) * math.cos(dl)))


def _straighten(ring: list, n1: int, n2: int, tolerance: float = _STRAIGHT_SIDE_RAD) -> list:
    """The trace with the points of each side that the footprint needs, to ``tolerance`` (rad).

    Per side, the corners stay; an inner point stays only when the great-circle
    arcs through the points kept so far would pass farther than ``tolerance``
    from it (Douglas-Peucker on the sphere: the farthest point first). TAN
    images (whose pixel rows are great circles) end with their 4 corners; a
    curved side keeps what its curvature needs. Why: PgSphere's input check and
    its GiST key both cost O(n^2) in the vertices (a 64-gon ~26 ms, a 16-gon
    ~1.8 ms), which dominated the refresh of wide maps.
    """
    n = len(ring)
    corners = (0, n1, n1 + n2, 2 * n1 + n2, n)
    out = []
    for k in range(4):
        start, end = corners[k], corners[k + 1]
        out.append(ring[start])
        if end - start < 2:
            continue
        a, b = ring[start], ring[end % n]
        normal = _cross(a, b)
        if _dot(normal, normal) < 1e-24 or _dot(a, b) <= 0.0:
            out.extend(ring[start + 1:end])  # coincident corners or a side of 90 deg or more
            continue
        keep: list[int] = []
        _keep_needed(ring, start, end, tolerance, keep)
        out.extend(ring[i] for i in sorted(keep))
    return out


def _keep_needed(ring: list, start: int, end: int, tolerance: float, keep: list[int]) -> None:
    """Indices strictly between start and end (end may be len(ring): index 0) to keep."""
    if end - start < 2:
        return
    a, b = ring[start], ring[end % len(ring)]
    normal = _cross(a, b)
    norm2 = _dot(normal, normal)
    if norm2 < 1e-24:
        keep.extend(range(start + 1, end))
        return
    worst, far = -1.0, start
    for i in range(start + 1, end):
        d = abs(_dot(ring[i], normal))
        if d > worst:
            worst, far = d, i
    if worst < tolerance * math.sqrt(norm2):
        return
    keep.append(far)
    _keep_needed(ring, start, far, tolerance, keep)
    _keep_needed(ring, far, end, tolerance, keep)


def _merge_close(ring: list) -> list:
    """Drop vertices closer than _MERGE_RAD to their predecessor, then spikes (A, P, A).

    A spike is what a trace gives where two array edges map onto one line, e.g.
    the RA = 0 and RA = 360 edges of a CAR map holding a pole: the ring goes up
    to the pole and back down the same meridian.
    """
    lim = _MERGE_RAD * _MERGE_RAD

    def close(a: Sequence[float], b: Sequence[float]) -> bool:
        return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + (a[2] - b[2]) ** 2 <= lim

    out: list = []
    for p in ring:
        if not out or not close(p, out[-1]):
            out.append(p)
    while len(out) > 1 and close(out[0], out[-1]):
        out.pop()
    changed = True
    while changed and len(out) >= 3:
        changed = False
        n = len(out)
        for i in range(n):
            if close(out[i - 1], out[(i + 1) % n]):
                # drop the spike's tip and one copy of its base
                drop = {i, (i + 1) % n}
                out = [p for k, p in enumerate(out) if k not in drop]
                changed = True
                break
    return out or ring[:1]


def _pgsphere_centre(ring: list) -> Vec | None:
    """PgSphere's polygon centre (middle of the vertices' bounding box), unit, or None."""
    xs, ys, zs = zip(*ring)
    c = ((min(xs) + max(xs)) / 2.0, (min(ys) + max(ys)) / 2.0, (min(zs) + max(zs)) / 2.0)
    n = math.sqrt(_dot(c, c))
    return None if n < 1e-6 else (c[0] / n, c[1] / n, c[2] / n)


def _in_hemisphere(ring: list) -> Vec | None:
    """PgSphere's centre if every vertex is inside its hemisphere (PgSphere's size rule), else None."""
    c = _pgsphere_centre(ring)
    if c is None or min(_dot(p, c) for p in ring) <= _HEMISPHERE_MARGIN:
        return None
    return c


def _gnomonic(ring: list, c: Sequence[float]) -> list[tuple[float, float]]:
    """Gnomonic projection about ``c`` (all p . c > 0): great-circle arcs become segments."""
    cx, cy, cz = c
    e1 = (0.0, cz, -cy) if abs(cx) < 0.9 else (-cz, 0.0, cx)
    n = math.sqrt(_dot(e1, e1))
    e1 = (e1[0] / n, e1[1] / n, e1[2] / n)
    e2 = _cross(c, e1)
    out = []
    for p in ring:
        d = _dot(p, c)
        out.append((_dot(p, e1) / d, _dot(p, e2) / d))
    return out


def _star_shaped(xy: list[tuple[float, float]], origin: tuple[float, float]) -> bool:
    """True when the ring winds once, monotonically, around ``origin`` (hence simple)."""
    ox, oy = origin
    ang = [math.atan2(y - oy, x - ox) for x, y in xy]
    total = 0.0
    sign = 0
    prev = ang[-1]
    for a in ang:
        step = (a - prev + math.pi) % (2.0 * math.pi) - math.pi
        prev = a
        s = 1 if step > 1e-12 else (-1 if step < -1e-12 else 0)
        if s == 0 or (sign and s != sign) or abs(step) > math.pi - 1e-9:
            return False
        sign = s
        total += step
    return abs(abs(total) - 2.0 * math.pi) < 1e-6


def _contains(xy: list[tuple[float, float]], point: tuple[float, float]) -> bool:
    """Point in polygon (even-odd rule) in the plane."""
    px, py = point
    inside = False
    x2, y2 = xy[-1]
    for x1, y1 in xy:
        if (y1 > py) != (y2 > py) and px < x1 + (py - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
        x2, y2 = x1, y1
    return inside


def _near_collinear(ring: list) -> bool:
    """Whether a vertex lies within _COLLINEAR_RAD of the great circle of an edge not its own.

    PgSphere (1.2) may take such nearly collinear edges for crossing ones.
    """
    n = len(ring)
    if n <= 12:
        for i in range(n):
            normal = _cross(ring[i], ring[(i + 1) % n])
            limit = _COLLINEAR_RAD * math.sqrt(_dot(normal, normal))
            for j in range(n):
                if j != i and j != (i + 1) % n and abs(_dot(ring[j], normal)) < limit:
                    return True
        return False
    v = np.asarray(ring)
    b = v[np.arange(1, n + 1) % n]
    normals = np.column_stack((v[:, 1] * b[:, 2] - v[:, 2] * b[:, 1],
                               v[:, 2] * b[:, 0] - v[:, 0] * b[:, 2],
                               v[:, 0] * b[:, 1] - v[:, 1] * b[:, 0]))
    norm = np.sqrt(np.einsum("ij,ij->i", normals, normals))
    dist = np.abs(v @ normals.T) - _COLLINEAR_RAD * norm  # [vertex, edge]
    idx = np.arange(n)
    dist[idx, idx] = 1.0
    dist[(idx + 1) % n, idx] = 1.0
    return bool((dist < 0).any())


def _simplify(ring: list) -> list:
    """Drop vertices within _COLLINEAR_RAD of the great circle through their neighbours.

    Runs of such vertices lose every other one per round, so each removal is
    judged against vertices that stay.
    """
    for _ in range(16):
        n = len(ring)
        if n <= 3:
            return ring
        drop: list[int] = []
        previous = False
        for i in range(n):
            normal = _cross(ring[i - 1], ring[(i + 1) % n])
            cand = abs(_dot(ring[i], normal)) < _COLLINEAR_RAD * math.sqrt(_dot(normal, normal)) \
                or _dot(normal, normal) < 1e-24
            if cand and not previous and not (i == n - 1 and drop and drop[0] == 0):
                drop.append(i)
                previous = True
            else:
                previous = False
        if not drop:
            return ring
        gone = set(drop)
        ring = [p for i, p in enumerate(ring) if i not in gone]
    return ring


def _self_intersects(xy: list[tuple[float, float]]) -> bool:
    """Whether the closed ring has touching/crossing non-adjacent edges or a folded corner."""
    p = np.asarray(xy)
    n = len(p)
    a = p
    b = np.roll(p, -1, axis=0)
    d = b - a
    # folded corner: consecutive edges going back along each other
    dn = np.roll(d, -1, axis=0)
    turn = d[:, 0] * dn[:, 1] - d[:, 1] * dn[:, 0]
    scale = np.linalg.norm(d, axis=1) * np.linalg.norm(dn, axis=1)
    if np.any((np.abs(turn) <= 1e-12 * scale) & ((d * dn).sum(axis=1) < 0)):
        return True
    i, j = np.triu_indices(n, k=2)
    mask = ~((i == 0) & (j == n - 1))
    i, j = i[mask], j[mask]

    def orient(p0, q, r):
        return (q[:, 0] - p0[:, 0]) * (r[:, 1] - p0[:, 1]) - (q[:, 1] - p0[:, 1]) * (r[:, 0] - p0[:, 0])

    d1 = orient(a[i], b[i], a[j])
    d2 = orient(a[i], b[i], b[j])
    d3 = orient(a[j], b[j], a[i])
    d4 = orient(a[j], b[j], b[i])
    straddle = (d1 * d2 <= 0) & (d3 * d4 <= 0)
    lo_i, hi_i = np.minimum(a[i], b[i]), np.maximum(a[i], b[i])
    lo_j, hi_j = np.minimum(a[j], b[j]), np.maximum(a[j], b[j])
    boxes = np.all((lo_i <= hi_j) & (lo_j <= hi_i), axis=1)
    return bool(np.any(straddle & boxes))


def _convex_hull(xy: list[tuple[float, float]]) -> list[int]:
    """Indices of the convex hull (Andrew's monotone chain), counter-clockwise."""
    order = sorted(range(len(xy)), key=lambda k: xy[k])

    def cross(o: int, p: int, q: int) -> float:
        return ((xy[p][0] - xy[o][0]) * (xy[q][1] - xy[o][1])
                - (xy[p][1] - xy[o][1]) * (xy[q][0] - xy[o][0]))

    lower: list[int] = []
    for k in order:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], k) <= 0:
            lower.pop()
        lower.append(k)
    upper: list[int] = []
    for k in reversed(order):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], k) <= 0:
            upper.pop()
        upper.append(k)
    return lower[:-1] + upper[:-1]


def _polygon(ring: list, centre: Sequence[float]) -> tuple[list | None, str | None]:
    """Vertices PgSphere accepts for the traced ring (unit vectors), and a note/reason.

    Returns (vertices, None) for the traced ring, (hull, note) when the ring is
    not usable as traced and its convex hull is, or (None, reason) when no valid
    polygon exists: 'larger than a hemisphere', 'degenerate', 'not representable'.
    """
    if len(ring) >= 3 and _in_hemisphere(ring) is None:
        return None, "larger than a hemisphere"
    ring = _merge_close(ring)
    if len(ring) > 3 and _near_collinear(ring):
        ring = _simplify(ring)
    if len(ring) < 3:
        return None, "degenerate"
    c = _in_hemisphere(ring)
    if c is None:
        return None, "larger than a hemisphere"
    xy = _gnomonic(ring, c)
    origin = _gnomonic([centre], c)[0] if _dot(centre, c) > _HEMISPHERE_MARGIN else None
    if origin is not None and _star_shaped(xy, origin):
        return ring, None  # winds once around the centre: simple, and contains it
    if origin is not None and not _self_intersects(xy) and _contains(xy, origin):
        return ring, None
    # edges cross, or the centre is outside the ring (the array covers the ring's
    # outside: a footprint wider than the projection shows, e.g. a huge STG map)
    hull = _simplify([ring[k] for k in _convex_hull(xy)])
    c = _in_hemisphere(hull) if len(hull) >= 3 else None
    why = "not representable: its traced edges cross or surround the outside"
    if c is None or _dot(centre, c) <= _HEMISPHERE_MARGIN:
        return None, why
    if not _contains(_gnomonic(hull, c), _gnomonic([centre], c)[0]):
        return None, why
    return hull, "traced edges cross or bend around the centre: convex hull of the traced points"


def _radec_of(p: Sequence[float]) -> tuple[float, float]:
    ra = math.degrees(math.atan2(p[1], p[0])) % 360.0
    return (0.0 if ra >= 360.0 else ra), math.degrees(math.atan2(p[2], math.hypot(p[0], p[1])))


def _spoly(ring: list) -> str:
    """PgSphere polygon text in degrees (``schema.spoly_literal``'s syntax, 1e-10 deg digits)."""
    return "{" + ",".join(["({:.10f}d,{:.10f}d)".format(*_radec_of(p)) for p in ring]) + "}"


# ================================================================ WCS footprints

@dataclass
class _Footprint:
    """What one celestial WCS says about position and footprint (nothing set yet)."""

    rule: str
    sources: tuple[str, ...]
    ra: float | None = None
    dec: float | None = None
    region: str | None = None
    fov: float | None = None
    xel: tuple[int, int] | None = None
    pixel_scale: float | None = None
    frame: str = ""
    solar: bool = False
    centre_note: str = ""
    region_note: str | None = None
    issues: list[tuple[str, str, str | None, str]] = field(default_factory=list)


_CELESTIAL_CTYPE = re.compile(r"(?:RA|DEC)(?:-|$)|.(?:LON|LAT)(?:-|$)|..(?:LN|LT)(?:-|$)")
_SOLAR_CTYPE = re.compile(r"SOLAR[-_ ]?[XY]|(?:HP|HG|CR|HR|HC|HS)(?:LN|LT)(?:-|$)")
_SOLAR_PAIRS = frozenset({"HP", "HG", "CR", "HR", "HC", "HS"})
_CTYPE_KEY = re.compile(r"CTYPE([1-9][0-9]?)([A-Z]?)")


def _ctypes(keywords: dict[str, Any], key: str = " ") -> dict[int, str]:
    """Axis number -> CTYPE (upper-case, stripped) for alternate ``key`` (' ' = primary)."""
    out: dict[int, str] = {}
    suffix = "" if key == " " else key
    for i in range(1, 10):
        v = keywords.get(f"CTYPE{i}{suffix}")
        if isinstance(v, str):
            out[i] = v.strip().upper()
    if len(out) >= 9:  # rare: more than nine axes
        for k, v in keywords.items():
            m = _CTYPE_KEY.fullmatch(k)
            if m and m.group(2) == suffix and isinstance(v, str):
                out[int(m.group(1))] = v.strip().upper()
    return out


_number = keyword_number  # one implementation: derive.context

def _wcs_sources(keywords: dict[str, Any], axes: Sequence[int], key: str,
                 naxis_prefix: str | None) -> tuple[str, ...]:
    """The WCS keywords of the celestial axes present in the header (for provenance)."""
    a = "" if key == " " else key
    out: list[str] = []
    names = []
    for i in axes:
        names += [f"CTYPE{i}{a}", f"CRVAL{i}{a}", f"CRPIX{i}{a}", f"CDELT{i}{a}", f"CUNIT{i}{a}"]
        names += [f"CD{i}_{j}{a}" for j in axes] + [f"PC{i}_{j}{a}" for j in axes]
        if naxis_prefix:
            names.append(f"{naxis_prefix}{i}")
    names += [f"CROTA{axes[-1]}", f"LONPOLE{a}", f"LATPOLE{a}", f"RADESYS{a}", "RADECSYS",
              f"EQUINOX{a}", "EPOCH", "A_ORDER", "B_ORDER"]
    for name in names:
        if name in keywords and name not in out:
            out.append(name)
    return tuple(out)


def _pixlist_sources(keywords: dict[str, Any], cols: Sequence[int]) -> tuple[str, ...]:
    names = []
    for c in cols:
        names += [f"TCTYP{c}", f"TCRVL{c}", f"TCRPX{c}", f"TCDLT{c}", f"TCUNI{c}", f"TLMIN{c}",
                  f"TLMAX{c}"]
    names += ["RADESYS", "RADECSYS", "EQUINOX"]
    return tuple(n for n in names if n in keywords)


def _axis_extent(unit: wcscheck.WcsUnit, p: Any, keywords: dict[str, Any], axis: int
                 ) -> tuple[float, float] | None:
    """(lo, hi) pixel coordinates of the outer edges of WCS axis ``axis`` (0-based), or None."""
    if unit.kind == "image":
        prefix = "ZNAXIS" if keywords.get("ZIMAGE") is True else "NAXIS"
        n = _number(keywords.get(f"{prefix}{axis + 1}"))
        naxis = _number(keywords.get("ZNAXIS" if prefix == "ZNAXIS" else "NAXIS")) or 0
        if n is None:
            # axes beyond NAXIS (WCSAXES > NAXIS) have pixel coordinate 1; NAXIS = 0: no array
            return (0.5, 1.5) if 0 < naxis <= axis else None
        return (0.5, n + 0.5) if n >= 1 else None
    if unit.kind == "pixel-list":
        col = int(p.colax[axis])
        lo, hi = _number(keywords.get(f"TLMIN{col}")), _number(keywords.get(f"TLMAX{col}"))
        return (lo, hi) if lo is not None and hi is not None and hi > lo else None
    return None


def _frame_of(p: Any) -> tuple[str, str | None, float | None]:
    """('sky'|'solar'|'other'|'unsupported', system, equinox) of a Wcsprm's celestial axes."""
    lngtyp = p.lngtyp.strip().upper()
    equinox = float(p.equinox) if math.isfinite(p.equinox) else None
    if lngtyp == "RA":
        frame = _equatorial_frame(p.radesys, equinox)
        if frame is None:
            return "unsupported", p.radesys.strip().upper(), equinox
        return "sky", frame[0], frame[1]
    if lngtyp == "GLON":
        return "sky", "GALACTIC", None
    if lngtyp in ("ELON", "HLON"):
        return "sky", "ECLIPTIC", 2000.0 if equinox is None else equinox
    if lngtyp == "SLON":
        return "sky", "SUPERGALACTIC", None
    if lngtyp[:2] in _SOLAR_PAIRS and lngtyp[2:] == "LN":
        return "solar", lngtyp, None
    return "other", lngtyp, None


def _pixel_scale(v: Sequence[Sequence[float]]) -> float | None:
    """sqrt(sky area of one pixel) in arcsec from unit vectors (centre, +1 px lng, +1 px lat)."""
    (x0, y0, z0), (x1, y1, z1), (x2, y2, z2) = v[:3]
    ax, ay, az = x1 - x0, y1 - y0, z1 - z0
    bx, by, bz = x2 - x0, y2 - y0, z2 - z0
    area = math.sqrt((ay * bz - az * by) ** 2 + (az * bx - ax * bz) ** 2 + (ax * by - ay * bx) ** 2)
    scale = math.degrees(math.sqrt(area)) * 3600.0
    return scale if math.isfinite(scale) and scale > 0 else None


_PAPER_IV = re.compile(r"(?:CPDIS|CQDIS|DP|DQ)[1-9][0-9]?[A-Z]?")
_SIP_KEY = re.compile(r"(?:A|B|AP|BP)_[0-9]{1,2}_[0-9]{1,2}")
_PAPER_IV_PROBES = ("CPDIS1", "CPDIS2", "CQDIS1", "CQDIS2", "DP1", "DP2", "DQ1", "DQ2")
_SIP_PROBES = ("A_ORDER", "B_ORDER", "AP_ORDER", "BP_ORDER", "A_0_2", "A_2_0", "B_0_2", "B_2_0")
_DSS_PROBES = ("PLTRAH", "PLTDECD", "AMDX1", "AMDY1", "PPO1", "XPIXELSZ", "CNPIX1")
_DSS_KEY = re.compile(r"PLT(?:RA[HMS]|DEC[DMS]|SCALE)|[XY]PIXELSZ|CNPIX[12]|PPO[1-6]|AMD[XY][0-9]{1,2}")


def _distortion_ignored(ctx: HDUContext) -> str | None:
    """The distortion of the header that wcscheck keeps from wcslib (the trace lacks it), if any.

    As wcscheck documents it: WCS Paper IV distortion functions (CPDISja,
    DPja...) are never given to wcslib; SIP and DSS plate-solution cards only
    when their values have the right type (numbers). Decided from the staged
    keywords, not from wcscheck's internals.
    """
    kw = ctx.keywords
    if any(k in kw for k in _PAPER_IV_PROBES) and any(_PAPER_IV.fullmatch(k) for k in kw if k[:1] in "CD"):
        return "Paper IV distortion functions (CPDISja/DPja) not applied"
    for pattern, name, probes in ((_SIP_KEY, "SIP", _SIP_PROBES),
                                  (_DSS_KEY, "DSS plate solution", _DSS_PROBES)):
        if any(k in kw for k in probes) and any(
                (isinstance(v, bool) or not isinstance(v, (int, float))) and pattern.fullmatch(k)
                for k, v in kw.items() if k[:1] in "ABPXYC"):
            return f"{name} cards with non-numeric values left out by wcscheck: not applied"
    return None


def _footprint(ctx: HDUContext, unit: wcscheck.WcsUnit) -> _Footprint | None:
    """Centre and footprint from one WCS unit, or None when it has no celestial axes."""
    # wcscheck builds the unit's header bytes itself (the pre-check's very bytes)
    p = wcscheck.prepare_wcsprm(ctx.header_text, unit)
    if p.lng < 0 or p.lat < 0:
        return None
    kw = ctx.keywords
    lng, lat = int(p.lng), int(p.lat)
    kind, system, equinox = _frame_of(p)
    if unit.kind == "pixel-list":
        cols = (int(p.colax[lng]), int(p.colax[lat]))
        fp = _Footprint("spatial.pixlist", _pixlist_sources(kw, cols))
    else:
        prefix = ("ZNAXIS" if kw.get("ZIMAGE") is True else "NAXIS") if unit.kind == "image" else None
        fp = _Footprint("spatial.wcs", _wcs_sources(kw, (lng + 1, lat + 1), unit.key, prefix))
    fp.frame = system or ""
    fp.solar = kind == "solar"
    ext = [_axis_extent(unit, p, kw, i) for i in range(p.naxis)]
    e1, e2 = ext[lng], ext[lat]
    if unit.kind != "pixel-list" and e1 is not None and e2 is not None:
        fp.xel = (round(e1[1] - e1[0]), round(e2[1] - e2[0]))
        if lat < lng:
            fp.xel = (fp.xel[1], fp.xel[0])
    if kind == "other" or kind == "unsupported":
        what = f"{p.ctype[lng].strip()}/{p.ctype[lat].strip()}"
        fp.issues.append(
            ("unsupported-celestial-frame", f"celestial axes {what} in RADESYS {system!r}: not "
             "converted to ICRS", "s_ra", "warning") if kind == "unsupported" else
            ("non-sky-frame", f"celestial axes {what} are not a sky frame: no RA/Dec from them",
             "s_ra", "info"))
        return fp

    # Pixel coordinates (1-based) of the centre of every axis (reference pixel where unknown).
    centre = [((e[0] + e[1]) / 2.0) if e is not None else float(p.crpix[i])
              for i, e in enumerate(ext)]
    no_extent = e1 is None or e2 is None
    point = not no_extent and unit.kind != "pixel-list" and max(e1[1] - e1[0], e2[1] - e2[0]) <= 1.0
    if no_extent:
        # NAXIS = 0, or an event list without TLMIN/TLMAX: a position only
        centre[lng], centre[lat] = float(p.crpix[lng]), float(p.crpix[lat])
        fp.rule += ".refpoint"
        fp.centre_note = "reference pixel (no array extent)"
    elif point:
        fp.rule += ".point"
        fp.centre_note = "the single celestial pixel"
    else:
        fp.centre_note = "array centre"
    # One p2s call: the centre, the centre + 1 pixel along each celestial axis (pixel
    # scale), then the ring of outer pixel edges, densified.
    base = np.array(centre, dtype=float)
    nring = n1 = n2 = 0
    if no_extent or point:
        pix = np.empty((3, len(base)))
        pix[:] = base
    else:
        side = max(e1[1] - e1[0], e2[1] - e2[0])
        nseg = (SEGMENTS_PER_SIDE_WIDE if side * _rough_scale(p, lng, lat) > WIDE_SIDE_DEG
                else SEGMENTS_PER_SIDE)
        n1 = max(1, min(nseg, math.ceil(e1[1] - e1[0])))
        n2 = max(1, min(nseg, math.ceil(e2[1] - e2[0])))
        ux, uy = _unit_ring(n1, n2)
        nring = len(ux)
        pix = np.empty((3 + nring, len(base)))
        pix[:] = base
        pix[3:, lng] = e1[0] + ux * (e1[1] - e1[0])
        pix[3:, lat] = e2[0] + uy * (e2[1] - e2[0])
    pix[1, lng] += 1.0
    pix[2, lat] += 1.0
    res = p.p2s(pix, 1)
    world = res["world"]
    lon, latv = world[:, lng], world[:, lat]
    ok = (res["stat"] == 0) & np.isfinite(lon) & np.isfinite(latv)
    if not ok[0]:
        fp.issues.append(("wcs-centre-invalid", f"the {fp.centre_note} has no valid celestial "
                          "coordinates", "s_ra", "warning"))
        return fp
    if kind == "solar":
        # helioprojective angles are angles on the observer's sky: a pixel size, no RA/Dec
        if system == "HPLN" and not point and ok[1] and ok[2]:
            fp.pixel_scale = _pixel_scale(_vectors(lon[:3], latv[:3]).tolist())
        return fp
    fp.frame = _describe_frame(system, equinox)  # type: ignore[arg-type]
    fp.centre_note += f" ({base[lng]:g}, {base[lat]:g}), {fp.frame} -> ICRS"
    all_ok = bool(ok.all())
    v = _to_icrs_vectors(system, equinox, lon if all_ok else lon[:3],  # type: ignore[arg-type]
                         latv if all_ok else latv[:3]).tolist()
    c = tuple(v[0])
    fp.ra, fp.dec = _radec_of(c)
    if unit.kind != "pixel-list" and not point and ok[1] and ok[2]:
        fp.pixel_scale = _pixel_scale(v[:3])
    if no_extent or point:
        return fp
    distortion = _distortion_ignored(ctx) if unit.kind == "image" else None
    if distortion:
        fp.issues.append(("distortion-ignored", f"{distortion}: footprint traced without it",
                          "s_region", "info"))
    if not all_ok:
        # The array reaches beyond the projection's domain (e.g. an all-sky AIT map).
        fp.fov = _fov_from_grid(p, ext, centre, lng, lat, system, equinox, c)  # type: ignore[arg-type]
        fp.region_note = "array extends beyond the projection's domain"
        fp.issues.append(("footprint-outside-projection", "pixels of the array edges have no "
                          "celestial coordinates (all-sky or partial-sky projection): s_region "
                          f"left empty, s_fov = {fp.fov:.6g} deg from a {_FOV_GRID}x{_FOV_GRID} "
                          "pixel grid", "s_region", "info"))
        return fp
    # s_fov from every traced point; the polygon keeps the points that the outline
    # needs to a tenth of a pixel (0.4" at least)
    fp.fov = _fov(v[3:], c)
    tolerance = max(_STRAIGHT_SIDE_RAD, math.radians(
        _SIDE_TOLERANCE_PIXELS * (fp.pixel_scale or 0.0) / 3600.0))
    ring_v = _straighten(v[3:], n1, n2, tolerance)
    verts, why = _polygon(ring_v, c)
    if verts is None:
        if why == "degenerate" and fp.fov < 2.0 * MAX_CIRCLE_RADIUS:
            # all traced points (nearly) on one great circle or within ~10 mas: a circle
            r = max(fp.fov / 2.0, 1e-7)
            fp.region = _circle_region(fp.ra, fp.dec, r)
            fp.region_note = (f"traced edges degenerate (no area at PgSphere's precision): "
                              f"circle of radius {r * 3600:.6g} arcsec")
            return fp
        fp.region_note = why
        fp.issues.append(("footprint-too-large" if why == "larger than a hemisphere"
                          else "footprint-not-polygon",
                          f"traced footprint is {why}: not a valid PgSphere polygon, s_region "
                          "left empty", "s_region", "info"))
        return fp
    fp.region = _spoly(verts)
    fp.region_note = (f"pixel edges {e1[0]:g}..{e1[1]:g} x {e2[0]:g}..{e2[1]:g} traced with "
                      f"{nring} points ({len(verts)} vertices), {fp.frame} -> ICRS")
    if why:
        fp.region_note += f"; {why}"
        fp.issues.append(("footprint-convex-hull", why, "s_region", "warning"))
    if distortion:
        fp.region_note += f"; {distortion}"
    return fp


@functools.lru_cache(maxsize=64)
def _unit_ring(n1: int, n2: int) -> tuple[np.ndarray, np.ndarray]:
    """The outer edge of the unit square, counter-clockwise from (0, 0): n1/n2 segments a side."""
    t1 = np.arange(n1) / n1
    t2 = np.arange(n2) / n2
    ux = np.concatenate((t1, np.ones(n2), 1.0 - t1, np.zeros(n2)))
    uy = np.concatenate((np.zeros(n1), t2, np.ones(n1), 1.0 - t2))
    ux.flags.writeable = uy.flags.writeable = False
    return ux, uy


def _rough_scale(p: Any, lng: int, lat: int) -> float:
    """Pixel size (deg) from the linear part at the reference pixel: only to choose densification."""
    try:
        cd = p.get_cdelt().tolist()
        pc = p.get_pc().tolist()
        det = cd[lng] * cd[lat] * (pc[lng][lng] * pc[lat][lat] - pc[lng][lat] * pc[lat][lng])
        scale = math.sqrt(abs(det))
        return scale if math.isfinite(scale) else 0.0
    except Exception:  # noqa: BLE001
        return 0.0


def _fov_from_grid(p: Any, ext: list, centre: list[float], lng: int, lat: int, system: str,
                   equinox: float | None, c: np.ndarray) -> float:
    """2 x the largest distance from the centre over a pixel grid (valid pixels only)."""
    e1, e2 = ext[lng], ext[lat]
    g1 = np.linspace(e1[0], e1[1], _FOV_GRID)
    g2 = np.linspace(e2[0], e2[1], _FOV_GRID)
    xx, yy = np.meshgrid(g1, g2)
    pix = np.tile(np.array(centre, dtype=float), (xx.size, 1))
    pix[:, lng] = xx.ravel()
    pix[:, lat] = yy.ravel()
    res = p.p2s(pix, 1)
    world, stat = res["world"], np.asarray(res["stat"])
    ok = (stat == 0) & np.isfinite(world[:, lng]) & np.isfinite(world[:, lat])
    v = _to_icrs_vectors(system, equinox, world[ok, lng], world[ok, lat])
    return _fov(v.tolist(), c) if len(v) else 0.0


def _wcs_units(ctx: HDUContext, ctypes: dict[int, str]) -> list[wcscheck.WcsUnit]:
    """The WCS units worth giving to wcslib: those that may have a celestial pair of axes.

    Decided from the keywords first (two celestial CTYPEn, or celestial TCTYPn of
    a table), so that spectra and plain tables never pay for a wcslib parse here.
    """
    image = sum(1 for t in ctypes.values() if _CELESTIAL_CTYPE.match(t)) >= 2
    pixlist = ctx.is_table and _has_celestial_tctyp(ctx.keywords)
    if not (image or pixlist):
        # an alternate WCS (CTYPE1A...) may still be celestial: let wcscheck decide
        kw = ctx.keywords
        if not any(f"CTYPE1{a}" in kw or f"CTYPE2{a}" in kw for a in _LETTERS):
            return []
    units = []
    for unit in wcscheck.find_wcs_units(ctx.keywords, ctx.xtension):
        if unit.kind == "image":
            types = ctypes if unit.key == " " else _ctypes(ctx.keywords, unit.key)
            if sum(1 for t in types.values() if _CELESTIAL_CTYPE.match(t)) >= 2:
                units.append(unit)
        elif unit.kind == "pixel-list":
            if unit.colsel is not None or unit.key != " ":
                units.append(unit)
    return units


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _has_celestial_tctyp(keywords: dict[str, Any]) -> bool:
    n = _number(keywords.get("TFIELDS")) or 0
    for i in range(1, min(int(n), 999) + 1):
        t = keywords.get(f"TCTYP{i}")
        if isinstance(t, str) and _CELESTIAL_CTYPE.match(t.strip().upper()):
            return True
    return False


# =========================================================== keyword positions

_SEXAGESIMAL = re.compile(
    r"^([+-]?)\s*(\d{1,3}(?:\.\d*)?)\s*([:hHdD\u00b0 ])\s*(\d{1,2}(?:\.\d*)?)\s*"
    r"(?:[:mM' ]\s*(\d{1,2}(?:\.\d*)?)?\s*[sS\"]?)?$")
_HOURS_COMMENT = re.compile(r"\b(?:hours?|hrs?|h)\b|\[h\]|\(h\)", re.I)
_DEG_COMMENT = re.compile(r"\bdeg", re.I)
_POINTING_COMMENT = re.compile(r"pointing|boresight|telescope", re.I)


def parse_angle(value: Any, is_ra: bool, comment: str | None = None
                ) -> tuple[float | None, str | None]:
    """Degrees from a keyword value, and how it was read ('deg', 'hours', 'sexagesimal hours'...).

    Numbers are degrees, unless the RA keyword's comment says hours (and not
    degrees) and the value is at most 24. Sexagesimal strings ('05 41 06.0',
    '05:41:06', '05h41m06s', '+22d30m') are hours for RA (degrees with an
    explicit d/°) and degrees for declinations. Returns (None, reason) when the
    value cannot be read or is out of range.
    """
    num = _number(value)
    how = "deg"
    if num is None:
        if not isinstance(value, str):
            return None, f"not a number: {value!r}"
        text = value.strip()
        m = _SEXAGESIMAL.match(text)
        single = re.fullmatch(r"([+-]?\d+(?:\.\d*)?)\s*([hHdD\u00b0])", text)
        if single:
            num = float(single.group(1))
            hours = single.group(2) in "hH"
        elif m:
            sign, a, sep, b, c = m.groups()
            if "." in a and (b or c):
                return None, f"unreadable sexagesimal value {value!r}"
            mins, secs = float(b), float(c or 0.0)
            if mins >= 60 or secs >= 60:
                return None, f"minutes or seconds >= 60 in {value!r}"
            num = float(a) + mins / 60.0 + secs / 3600.0
            if sign == "-":
                num = -num
            hours = is_ra and sep not in "dD\u00b0"
        else:
            return None, f"unreadable angle {value!r}"
        if is_ra and hours:
            if not 0 <= num < 24:
                return None, f"RA {value!r} out of 0..24 h"
            return num * 15.0, "sexagesimal hours" if m else "hours"
        how = "sexagesimal deg" if m else "deg"
    elif is_ra and comment and _HOURS_COMMENT.search(comment) and not _DEG_COMMENT.search(comment):
        if not 0 <= num < 24:
            return None, f"RA {value!r} said to be in hours but out of 0..24"
        return num * 15.0, "hours (comment)"
    if is_ra:
        if not 0 <= num <= 360:
            return None, f"RA {value!r} out of 0..360 deg"
        return num % 360.0, how
    if not -90 <= num <= 90:
        return None, f"declination {value!r} out of -90..90 deg"
    return num, how


def _card_comment(text: str, key: str) -> str | None:
    """The comment of keyword ``key``'s card in staged header text (None if none)."""
    if not text:
        return None
    k = key.ljust(8) if len(key) <= 8 else f"HIERARCH {key}"
    lines = "\n" in text
    pos = text.find(k)
    while pos >= 0:
        start = pos == 0 or (text[pos - 1] == "\n" if lines else pos % 80 == 0)
        rest_at = pos + len(k)
        if start and text[rest_at:rest_at + 72].lstrip().startswith("="):
            end = text.find("\n", pos) if lines else pos + 80
            card = text[rest_at:end if end >= 0 else len(text)]
            return _comment_of(card.split("=", 1)[1])
        pos = text.find(k, pos + 1)
    return None


def _comment_of(field_text: str) -> str | None:
    s = field_text.lstrip()
    if s.startswith("'"):
        i = 1
        while True:
            j = s.find("'", i)
            if j < 0:
                return None
            if s[j + 1:j + 2] == "'":
                i = j + 2
                continue
            s = s[j + 1:]
            break
    slash = s.find("/")
    return s[slash + 1:].strip() if slash >= 0 else None


def _comment(ctx: HDUContext, siblings: Sequence[HDUContext], source: str) -> str | None:
    """Comment of a keyword read by ``ctx.get`` ('KEY' or 'KEY[0]' from the primary)."""
    if source.endswith("[0]"):
        primary = next((s for s in siblings if s.hdu == 0), None)
        return _card_comment(primary.header_text, source[:-3]) if primary is not None else None
    return _card_comment(ctx.header_text, source)


#: (RA keyword, Dec keyword) pairs, in priority order within each group. Products
#: that are not event lists: object pairs, a degenerate CRVAL, generic pairs, then
#: the pointings; event lists: the pointings first (the field of view's centre).
_OBJECT_PAIRS = (
    ("RA_OBJ", "DEC_OBJ"), ("RAOBJ", "DECOBJ"), ("OBJRA", "OBJDEC"), ("OBJCTRA", "OBJCTDEC"),
    ("RA_TARG", "DEC_TARG"), ("TARG_RA", "TARG_DEC"), ("TARGRA", "TARGDEC"),
    ("RA_APER", "DEC_APER"),
)
_GENERIC_PAIRS = (("RA", "DEC"), ("RA_OBS", "DEC_OBS"), ("OBSRA", "OBSDEC"))
_POINTING_PAIRS = (("RA_PNT", "DEC_PNT"), ("RA_NOM", "DEC_NOM"), ("TELRA", "TELDEC"),
                   ("RA_TEL", "DEC_TEL"))


@dataclass
class _Position:
    ra: float
    dec: float
    sources: tuple[str, ...]
    rule: str
    note: str
    pointing: bool = False


def _keyword_frame(ctx: HDUContext) -> tuple[tuple[str, float | None] | None, list[str], str]:
    """(system, equinox) from RADESYS/RADECSYS and EQUINOX (or EPOCH), sources, label."""
    radesys, rsrc = ctx.get("RADESYS", "RADECSYS")
    equinox, esrc = ctx.get("EQUINOX")
    if equinox is None:
        equinox, esrc = ctx.get("EPOCH")
    sources = [s for s in (rsrc, esrc) if s]
    eq = None
    if equinox is not None:
        eq = _number(equinox)
        if eq is None and isinstance(equinox, str):
            m = re.fullmatch(r"\s*[JB]?\s*(\d{3,4}(?:\.\d*)?)\s*", equinox, re.I)
            eq = float(m.group(1)) if m else None
        if eq is not None and not 1800 <= eq <= 2200:
            eq = None
    frame = _equatorial_frame(str(radesys) if radesys is not None else "", eq)
    return frame, sources, str(radesys or "")


def _pair_position(ctx: HDUContext, siblings: Sequence[HDUContext], ra_key: str, dec_key: str,
                   out: Derivation) -> tuple[float, float, tuple[str, ...], str, bool] | None:
    """(ra, dec, sources, how, said-pointing) in the header's frame from one keyword pair."""
    rv, rs = ctx.get(ra_key)
    dv, ds = ctx.get(dec_key)
    if rv is None or dv is None or rs is None or ds is None:
        return None
    comment = _comment(ctx, siblings, rs) if _number(rv) is not None else None
    ra, how_ra = parse_angle(rv, True, comment)
    dec, how_dec = parse_angle(dv, False)
    if ra is None or dec is None:
        out.issue("bad-position-keyword", f"{rs}={rv!r}, {ds}={dv!r}: {how_ra if ra is None else how_dec}",
                  "s_ra", "warning")
        return None
    if ra == 0.0 and dec == 0.0:
        out.issue("placeholder-position", f"{rs} = {ds} = 0: taken as a placeholder, not a position",
                  "s_ra", "info")
        return None
    said_pointing = bool(comment and _POINTING_COMMENT.search(comment))
    return ra, dec, (rs, ds), f"RA {how_ra}, Dec {how_dec}", said_pointing


def _degenerate_crval(ctx: HDUContext) -> tuple[float, float, tuple[str, ...], str] | None:
    """CRVAL of a celestial RA/DEC, xLON/xLAT pair of axes of length 1 (the WCS not used)."""
    types = _ctypes(ctx.keywords)
    lng = lat = None
    for i, t in types.items():
        if t.startswith("RA") and _CELESTIAL_CTYPE.match(t):
            lng = (i, "EQ")
        elif t.startswith("DEC") and _CELESTIAL_CTYPE.match(t):
            lat = (i, "EQ")
        elif t[1:4] == "LON" and t[0] in "GES":
            lng = (i, t[0])
        elif t[1:4] == "LAT" and t[0] in "GES":
            lat = (i, t[0])
    if lng is None or lat is None or lng[1] != lat[1]:
        return None
    naxis = _number(ctx.keywords.get("NAXIS")) or 0
    for i, _ in (lng, lat):
        n = _number(ctx.keywords.get(f"NAXIS{i}"))
        if not (i > naxis or n is None or n <= 1):
            return None
    lon, latv = _number(ctx.keywords.get(f"CRVAL{lng[0]}")), _number(ctx.keywords.get(f"CRVAL{lat[0]}"))
    if lon is None or latv is None or not -90 <= latv <= 90:
        return None
    return lon % 360.0, latv, (f"CTYPE{lng[0]}", f"CRVAL{lng[0]}", f"CTYPE{lat[0]}",
                               f"CRVAL{lat[0]}"), lng[1]


def _keyword_position(ctx: HDUContext, siblings: Sequence[HDUContext], out: Derivation,
                      event_list: bool) -> _Position | None:
    frame, fsources, radesys = _keyword_frame(ctx)
    groups: list[tuple[tuple[tuple[str, str], ...], bool]] = (
        [(_POINTING_PAIRS, True), (_OBJECT_PAIRS, False), (_GENERIC_PAIRS, False)] if event_list
        else [(_OBJECT_PAIRS, False), (("CRVAL",), False), (_GENERIC_PAIRS, False),  # type: ignore[list-item]
              (_POINTING_PAIRS, True)])
    for pairs, pointing in groups:
        for pair in pairs:
            if pair == "CRVAL":
                got = _degenerate_crval(ctx)
                if got is None:
                    continue
                lon, lat, sources, family = got
                if family == "EQ":
                    if frame is None:
                        out.issue("unsupported-celestial-frame", f"RADESYS {radesys!r}", "s_ra", "warning")
                        continue
                    system, eq = frame
                    sources += tuple(fsources)
                else:
                    system, eq = {"G": ("GALACTIC", None), "S": ("SUPERGALACTIC", None),
                                  "E": ("ECLIPTIC", frame[1] if frame and frame[0] != "ICRS" else 2000.0)
                                  }[family]
                ra, dec = icrs_from(system, eq, lon, lat)
                return _Position(ra, dec, sources, "spatial.crval-degenerate",
                                 f"CRVAL of degenerate celestial axes, read without wcslib "
                                 f"(wcs_status {ctx.wcs_status!r}), {_describe_frame(system, eq)}"
                                 " -> ICRS")
            got2 = _pair_position(ctx, siblings, pair[0], pair[1], out)
            if got2 is None:
                continue
            ra0, dec0, sources, how, said_pointing = got2
            if frame is None:
                out.issue("unsupported-celestial-frame", f"RADESYS {radesys!r} of {sources[0]}/"
                          f"{sources[1]} is not converted to ICRS", "s_ra", "warning")
                return None
            system, eq = frame
            ra, dec = icrs_from(system, eq, ra0, dec0)
            is_pointing = pointing or said_pointing
            note = f"{how}, {_describe_frame(system, eq)} -> ICRS"
            if is_pointing:
                note += "; telescope pointing, not necessarily the target"
            return _Position(ra, dec, sources + tuple(fsources),
                             "spatial.keywords.pointing" if is_pointing else "spatial.keywords",
                             note, is_pointing)
    return None


_DSS_CIRCLE = re.compile(r"\s*CIRCLE\s*\(\s*([^,]+),([^,]+),([^,)]+)\)\s*", re.I)


def _dss_circle(ctx: HDUContext) -> tuple[float, float, float, tuple[str, ...]] | None:
    """The data-subspace selection POS(RA,DEC) = CIRCLE(ra,dec,r) of an event list (deg)."""
    for n in range(1, 100):
        t, ts = ctx.get(f"DSTYP{n}", inherit=False)
        if t is None:
            if f"DSVAL{n}" in ctx.keywords:
                continue
            return None
        if isinstance(t, str) and t.replace(" ", "").upper() == "POS(RA,DEC)":
            v, vs = ctx.get(f"DSVAL{n}", inherit=False)
            m = _DSS_CIRCLE.fullmatch(v) if isinstance(v, str) else None
            if not m:
                return None
            ra, dec, r = (_number(x) for x in m.groups())
            if ra is None or dec is None or r is None or not (0 <= ra <= 360 and -90 <= dec <= 90
                                                              and r > 0):
                return None
            return ra % 360.0, dec, r, (ts, vs)  # type: ignore[return-value]
    return None


def _is_event_list(ctx: HDUContext) -> bool:
    if not ctx.is_table or ctx.keywords.get("ZIMAGE") is True:
        return False
    h1 = ctx.keywords.get("HDUCLAS1")
    if isinstance(h1, str) and h1.strip().upper() == "EVENTS":
        return True
    return (ctx.extname or "").strip().upper() in ("EVENTS", "EVENT", "STDEVT")


# ================================================================== resolution

#: (keyword, unit when the comment states none), in priority order.
_RESOLUTION_KEYS = (
    ("BMAJ", "deg"),                # FITS/AIPS beam: major-axis FWHM, degrees by convention
    ("PSF_FWHM", None), ("PSFFWHM", None), ("FWHM", None), ("SEEING", None),
    ("SEEING50", None), ("FWHMSEX", None), ("MEDFWHM", None),
    ("ESO TEL IA FWHM", "arcsec"),  # ESO dictionary: delivered image quality, arcsec
)
_UNIT_WORDS = (
    (re.compile(r"arc\s*-?\s*sec|arcsecond|\basec\b|\"|''", re.I), "arcsec"),
    (re.compile(r"arc\s*-?\s*min|arcminute|\bamin\b", re.I), "arcmin"),
    (re.compile(r"\bdeg", re.I), "deg"),
    (re.compile(r"\bpix|\bpx\b", re.I), "pix"),
)
_TO_ARCSEC = {"arcsec": 1.0, "arcmin": 60.0, "deg": 3600.0}


def _comment_unit(comment: str | None) -> str | None:
    if not comment:
        return None
    m = re.search(r"\[([^\]]+)\]", comment)
    text = m.group(1) if m else comment
    for pattern, unit in _UNIT_WORDS:
        if pattern.search(text):
            return unit
    return None


def _resolution(ctx: HDUContext, out: Derivation, siblings: Sequence[HDUContext],
                pixel_scale: float | None) -> None:
    for key, default in _RESOLUTION_KEYS:
        value, src = ctx.get(key)
        if value is None or src is None:
            continue
        num = _number(value)
        if num is None:
            continue
        unit = _comment_unit(_comment(ctx, siblings, src)) or default
        if unit is None:
            continue
        note = f"{src} in {unit}"
        if unit == "pix":
            if pixel_scale is None:
                continue
            arcsec = num * pixel_scale
            note = f"{src} in pixels x s_pixel_scale {pixel_scale:.6g} arcsec"
        else:
            arcsec = num * _TO_ARCSEC[unit]
        if not 0 < arcsec < 648000.0:
            out.issue("implausible-resolution", f"{src} = {value!r} ({unit}) is not a resolution",
                      "s_resolution", "info")
            continue
        rule = "spatial.resolution.beam" if key == "BMAJ" else "spatial.resolution.keyword"
        out.set("s_resolution", arcsec, (src,), rule, note + ("" if key != "BMAJ"
                                                             else " (beam major axis FWHM)"))
        return


# ======================================================================= driver

def derive_spatial(ctx: HDUContext, out: Derivation, config: RuleConfig,
                   siblings: Sequence[HDUContext] = ()) -> None:
    """Set s_ra, s_dec, s_region, s_fov, s_xel1, s_xel2, s_pixel_scale, s_resolution of one HDU.

    ``siblings``: the file's other HDUs (the primary's header text gives the
    comments of inherited keywords; an APERTURE image gives a footprint).
    Never raises: an unexpected failure becomes an issue 'spatial-failed'.
    """
    try:
        _derive(ctx, out, config, siblings)
    except Exception as exc:  # noqa: BLE001 - bad input must never stop the derivation
        out.issue("spatial-failed", f"{type(exc).__name__}: {exc}", None, "error")


def _derive(ctx: HDUContext, out: Derivation, config: RuleConfig,
            siblings: Sequence[HDUContext]) -> None:
    ctypes = _ctypes(ctx.keywords)
    event_list = _is_event_list(ctx)
    pixel_scale: float | None = None
    done = False
    wcs_note = ""
    if ctx.wcs_status == "ok":
        units = _wcs_units(ctx, ctypes)
        for unit in units:
            try:
                fp = _footprint(ctx, unit)
            except Exception as exc:  # noqa: BLE001 - wcslib refused what the pre-check took
                out.issue("wcs-failed", f"{unit.kind} WCS: {type(exc).__name__}: {exc}"[:300],
                          "s_ra", "warning")
                continue
            if fp is None:
                continue
            if fp.solar:
                _solar_from_wcs(out, fp)
                done = True
                break
            if unit.kind == "pixel-list":
                event_list = True  # sky coordinates per row: not pixelated
            for code, message, column, severity in fp.issues:
                out.issue(code, message, column, severity)
            if fp.xel is not None:
                out.set("s_xel1", fp.xel[0], fp.sources, fp.rule, "NAXIS of the first celestial axis")
                out.set("s_xel2", fp.xel[1], fp.sources, fp.rule, "NAXIS of the second celestial axis")
            if fp.pixel_scale is not None:
                pixel_scale = fp.pixel_scale
                out.set("s_pixel_scale", fp.pixel_scale, fp.sources, fp.rule,
                        "sqrt of the sky area of the pixel at the array centre (p2s)")
            if fp.ra is None:
                continue  # not a sky frame, or no valid centre: keywords may still give one
            out.set("s_ra", fp.ra, fp.sources, fp.rule, fp.centre_note)
            out.set("s_dec", fp.dec, fp.sources, fp.rule, fp.centre_note)
            if fp.region is not None:
                out.set("s_region", fp.region, fp.sources, fp.rule, fp.region_note)
            if fp.fov is not None:
                out.set("s_fov", fp.fov, fp.sources, fp.rule,
                        "2 x largest distance from the centre to the traced edges"
                        + (f" ({fp.region_note})" if fp.region is None and fp.region_note else ""))
            elif fp.region is None:
                # a position only (one celestial pixel, no array): the keyword-position circle
                _circle(out, config, fp.ra, fp.dec, fp.sources,  # type: ignore[arg-type]
                        fp.rule, fp.centre_note)
            done = True
            break
    elif ctx.wcs_status == "error" and any(_CELESTIAL_CTYPE.match(t) for t in ctypes.values()):
        wcs_note = "celestial WCS rejected by the pre-check"
    if not done:
        solar = [i for i, t in ctypes.items() if _SOLAR_CTYPE.match(t)]
        if solar:
            _solar_from_keywords(ctx, out, ctypes, solar)
        else:
            _from_keywords(ctx, out, config, siblings, event_list, wcs_note)
    if event_list:
        src = ("EXTNAME",) if ctx.extname else ("HDUCLAS1",)
        out.set("s_xel1", -1, src, "spatial.events", "event list: not pixelated")
        out.set("s_xel2", -1, src, "spatial.events", "event list: not pixelated")
    elif (not out.has("s_xel1") and out.has("s_ra") and not ctx.is_table
          and ctx.keywords.get("NAXIS") == 1):
        out.set("s_xel1", 1, ("NAXIS",), "spatial.keywords.xel", "1-D array: one spatial element")
        out.set("s_xel2", 1, ("NAXIS",), "spatial.keywords.xel", "1-D array: one spatial element")
    _resolution(ctx, out, siblings, pixel_scale)


def _solar_from_wcs(out: Derivation, fp: _Footprint) -> None:
    out.issue("solar-frame", f"solar coordinates ({fp.frame}): no RA/Dec derived", "s_ra", "info")
    if fp.xel is not None:
        out.set("s_xel1", fp.xel[0], fp.sources, "spatial.solar", "NAXIS of the first solar axis")
        out.set("s_xel2", fp.xel[1], fp.sources, "spatial.solar", "NAXIS of the second solar axis")
    if fp.pixel_scale is not None:
        out.set("s_pixel_scale", fp.pixel_scale, fp.sources, "spatial.solar",
                "helioprojective pixel size at the array centre (an angle on the observer's sky)")


def _solar_from_keywords(ctx: HDUContext, out: Derivation, ctypes: dict[int, str],
                         solar: list[int]) -> None:
    out.issue("solar-frame", "solar coordinates (" + "/".join(ctypes[i] for i in solar)
              + "): no RA/Dec derived", "s_ra", "info")
    if len(solar) < 2:
        return
    i, j = solar[:2]
    n1, n2 = _number(ctx.keywords.get(f"NAXIS{i}")), _number(ctx.keywords.get(f"NAXIS{j}"))
    if n1 and n2 and n1 >= 1 and n2 >= 1:
        src = (f"CTYPE{i}", f"CTYPE{j}", f"NAXIS{i}", f"NAXIS{j}")
        out.set("s_xel1", int(n1), src, "spatial.solar", "NAXIS of the first solar axis")
        out.set("s_xel2", int(n2), src, "spatial.solar", "NAXIS of the second solar axis")


@functools.lru_cache(maxsize=512)
def _circle_region(ra: float, dec: float, radius: float) -> str:
    """schema.circle_to_spoly, cached: the HDUs of one file often share their position."""
    return circle_to_spoly(ra, dec, radius)


_CIRCLE_VERTICES = schema_load().region.circle_vertices


def _circle(out: Derivation, config: RuleConfig, ra: float, dec: float, sources: Sequence[str],
            rule: str, note: str, radius: float | None = None) -> None:
    r = config.keyword_position_radius_deg if radius is None else radius
    if not (r > 0 and math.isfinite(r)):
        return
    if r < MAX_CIRCLE_RADIUS:
        out.set("s_region", _circle_region(ra, dec, r), sources, rule,
                f"{note}; circle of radius {r * 3600:.6g} arcsec as its circumscribed "
                f"{_CIRCLE_VERTICES}-gon")
    out.set("s_fov", min(360.0, 2.0 * r), sources, rule, f"diameter of the {r * 3600:.6g} arcsec circle")


def _from_keywords(ctx: HDUContext, out: Derivation, config: RuleConfig,
                   siblings: Sequence[HDUContext], event_list: bool, wcs_note: str) -> None:
    if event_list:
        dss = _dss_circle(ctx)
        if dss is not None:
            frame, fsources, _ = _keyword_frame(ctx)
            if frame is not None:
                ra, dec = icrs_from(frame[0], frame[1], dss[0], dss[1])
                note = f"data-subspace POS(RA,DEC) circle, {_describe_frame(*frame)} -> ICRS"
                src = dss[3] + tuple(fsources)
                out.set("s_ra", ra, src, "spatial.dss-circle", note)
                out.set("s_dec", dec, src, "spatial.dss-circle", note)
                if dss[2] >= MAX_CIRCLE_RADIUS:
                    out.issue("footprint-too-large", f"selection circle of radius {dss[2]:g} deg: "
                              "s_region left empty", "s_region", "info")
                _circle(out, config, ra, dec, src, "spatial.dss-circle", note, radius=dss[2])
                return
    pos = _keyword_position(ctx, siblings, out, event_list)
    if pos is None:
        out.issue("no-position", "no celestial WCS and no position keyword"
                  + (f" ({wcs_note})" if wcs_note else ""), "s_ra", "info")
        return
    note = pos.note + (f"; {wcs_note}" if wcs_note and pos.rule != "spatial.crval-degenerate" else "")
    out.set("s_ra", pos.ra, pos.sources, pos.rule, note)
    out.set("s_dec", pos.dec, pos.sources, pos.rule, note)
    if pos.pointing:
        out.issue("position-is-pointing", f"position from the pointing keywords {pos.sources[0]}/"
                  f"{pos.sources[1]}", "s_ra", "info")
    if event_list or not _aperture_footprint(ctx, out, pos, siblings):
        _circle(out, config, pos.ra, pos.dec, pos.sources, pos.rule, note)


_APERTURE_CACHE: dict[tuple, _Footprint | None] = {}


def _aperture_cache_get(ap: HDUContext) -> _Footprint | None:
    """The footprint of an APERTURE image, parsed once for all the HDUs of its file."""
    key = (ap.catalogue, ap.relpath, ap.hdu, ap.header_text)
    if key in _APERTURE_CACHE:
        return _APERTURE_CACHE[key]
    units = [u for u in _wcs_units(ap, _ctypes(ap.keywords)) if u.kind == "image"]
    try:
        fp = _footprint(ap, units[0]) if units else None
    except Exception:  # noqa: BLE001 - no footprint from it, the circle is used
        fp = None
    if len(_APERTURE_CACHE) >= 32:
        _APERTURE_CACHE.clear()
    _APERTURE_CACHE[key] = fp
    return fp


def _aperture_footprint(ctx: HDUContext, out: Derivation, pos: _Position,
                        siblings: Sequence[HDUContext]) -> bool:
    """Footprint of the file's APERTURE image (Kepler, K2, TESS) when it holds the position."""
    apertures = [s for s in siblings if s.hdu != ctx.hdu and s.wcs_status == "ok"
                 and (s.extname or "").strip().upper() == "APERTURE" and not s.is_table]
    if len(apertures) != 1:
        return False
    ap = apertures[0]
    fp = _aperture_cache_get(ap)
    if fp is None or fp.region is None or fp.ra is None or fp.fov is None:
        return False
    if _separation(fp.ra, fp.dec, pos.ra, pos.dec) > fp.fov / 2.0:
        return False
    src = tuple(f"{s}[{ap.hdu}]" for s in fp.sources)
    out.set("s_region", fp.region, src, "spatial.aperture-sibling",
            f"footprint of the APERTURE image (HDU {ap.hdu}): {fp.region_note}")
    out.set("s_fov", fp.fov, src, "spatial.aperture-sibling",
            f"2 x largest distance from the APERTURE image centre (HDU {ap.hdu}) to its edges")
    return True
