"""A small sky view of the results' footprints: SVG on a blank RA/Dec grid.

Why not Aladin Lite: its npm package (3.8.2) is a 2.4 MB WebGL 2 bundle,
GPL-3/LGPL (this project is BSD), whose value is the HiPS survey tiles it
loads from CDS servers, which this deployment (and its tests) cannot reach;
without them it shows the same outlines this SVG draws.
The view is a plain equirectangular projection around the results (RA grows
to the left, as on the sky), with a cos(Dec) aspect correction, which is
faithful for the small fields a search returns; a selection spanning the sky
is drawn on the whole-sky frame.
"""

from __future__ import annotations

import math
import re
from html import escape
from typing import Any

_POINT = re.compile(r"\(\s*([-+0-9.eE]+)d\s*,\s*([-+0-9.eE]+)d\s*\)")
WIDTH, HEIGHT = 360, 220


def _polygon(text: str | None) -> list[tuple[float, float]]:
    if not text:
        return []
    return [(float(a), float(b)) for a, b in _POINT.findall(text)]


def _unwrap(ra: float, centre: float) -> float:
    """RA as close as possible to the centre (a field across RA = 0 stays in one piece)."""
    return centre + ((ra - centre + 180.0) % 360.0) - 180.0


def render(rows: list[dict[str, Any]], centre: tuple[float, float] | None = None,
           radius: float | None = None) -> str:
    """SVG markup: a grid, the search circle if any, each row's footprint (or a dot)."""
    shapes = []
    for r in rows:
        poly = _polygon(r.get("s_region"))
        if r.get("s_ra") is not None and r.get("s_dec") is not None:
            shapes.append((r, poly))
    if centre is None:
        if shapes:
            xs = [s[0]["s_ra"] for s in shapes]
            cx = math.degrees(math.atan2(sum(math.sin(math.radians(x)) for x in xs),
                                         sum(math.cos(math.radians(x)) for x in xs))) % 360
            cy = sum(s[0]["s_dec"] for s in shapes) / len(shapes)
        else:
            cx, cy = 0.0, 0.0
    else:
        cx, cy = centre
    pts = [(_unwrap(a, cx), d) for r, poly in shapes for a, d in (poly or [(r["s_ra"], r["s_dec"])])]
    if radius:
        pts += [(cx - radius / max(math.cos(math.radians(cy)), 1e-3), cy - radius),
                (cx + radius / max(math.cos(math.radians(cy)), 1e-3), cy + radius)]
    if pts:
        half_w = max(abs(a - cx) for a, _ in pts) * 1.2 + 1e-3
        half_h = max(abs(d - cy) for _, d in pts) * 1.2 + 1e-3
        # room for the dots at the edges, and a frame never wildly elongated
        half_w = max(half_w, half_h * 0.5 / max(math.cos(math.radians(cy)), 0.05))
        half_h = max(half_h, half_w * 0.3 * max(math.cos(math.radians(cy)), 0.05))
    else:
        half_w, half_h = 180.0, 90.0
    cosd = max(math.cos(math.radians(cy)), 0.05)
    # keep the aspect: one degree of Dec = one degree of RA * cos(Dec)
    scale = min(WIDTH / (2 * half_w * cosd), HEIGHT / (2 * half_h))
    if half_w * cosd > 120 or half_h > 60:  # the whole sky
        cx, cy, cosd, scale = 180.0, 0.0, 1.0, min(WIDTH / 360, HEIGHT / 180)

    def xy(ra: float, dec: float) -> tuple[float, float]:
        x = WIDTH / 2 - (_unwrap(ra, cx) - cx) * cosd * scale
        y = HEIGHT / 2 - (dec - cy) * scale
        return x, y

    out = [f'<svg class="sky" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
           f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="footprints of the results">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#0b1020"/>']
    step = _grid_step(HEIGHT / scale)
    d0 = math.floor((cy - HEIGHT / scale) / step) * step
    d = d0
    while d <= cy + HEIGHT / scale:
        if -90 <= d <= 90:
            _, y = xy(cx, d)
            out.append(f'<line x1="0" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                       f'<text x="2" y="{y - 2:.1f}" class="gl">{d:+.4g}°</text>')
        d += step
    rstep = _grid_step(WIDTH / scale / cosd)
    a = math.floor((cx - WIDTH / scale / cosd) / rstep) * rstep
    while a <= cx + WIDTH / scale / cosd:
        x, _ = xy(a % 360, cy)
        out.append(f'<line y1="0" y2="{HEIGHT}" x1="{x:.1f}" x2="{x:.1f}" class="grid"/>'
                   f'<text x="{x + 2:.1f}" y="{HEIGHT - 3}" class="gl">{a % 360:.4g}°</text>')
        a += rstep
    if radius and centre is not None:
        x, y = xy(*centre)
        out.append(f'<ellipse cx="{x:.1f}" cy="{y:.1f}" rx="{radius * scale:.1f}" '
                   f'ry="{radius * scale:.1f}" class="cone"/>')
    for r, poly in shapes:
        title = escape(f"{r.get('target_name') or ''} {r['obs_publisher_did']}")
        pixels = [xy(a, d) for a, d in poly]
        extent = (max(x for x, _ in pixels) - min(x for x, _ in pixels) +
                  max(y for _, y in pixels) - min(y for _, y in pixels)) if pixels else 0.0
        if len(poly) >= 3 and extent >= 4:  # smaller than a few pixels: a dot says more
            p = " ".join("%.1f,%.1f" % q for q in pixels)
            out.append(f'<polygon points="{p}" class="fp"><title>{title}</title></polygon>')
        else:
            x, y = xy(r["s_ra"], r["s_dec"])
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" class="pt"><title>{title}</title></circle>')
    out.append("</svg>")
    return "".join(out)


def _grid_step(span: float) -> float:
    for step in (1 / 3600, 5 / 3600, 15 / 3600, 1 / 60, 5 / 60, 15 / 60, 0.5, 1, 2, 5, 10, 15, 30, 45, 90):
        if span / step <= 6:
            return step
    return 90.0
