"""The TAP examples document (DALI 1.1 examples: XHTML with RDFa, as taplint reads it).

Each example is an ADQL query on ivoa.obscore and the SQL Vollt's
PgSphereTranslator sends for it (tests run that SQL on the real table: the
examples must work, not only parse). Served at ``/examples`` through the
``examples`` property of tap.properties.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

VOCAB = "http://www.ivoa.net/rdf/examples#"


@dataclass(frozen=True)
class Example:
    """One example: DALI name and id, a sentence, the ADQL, Vollt's SQL."""

    id: str
    name: str
    text: str
    adql: str
    sql: str


def _cone_sql(ra: float, dec: float, r: float) -> str:
    return (f'(spoint(radians("ivoa"."obscore"."s_ra"),radians("ivoa"."obscore"."s_dec")) @ '
            f"scircle(spoint(radians({ra}),radians({dec})),radians({r}))) = '1'")


EXAMPLES: tuple[Example, ...] = (
    Example(
        "cone", "Data products around a position",
        "Every product whose central position is within 1 degree of the LMC (ICRS, degrees).",
        "SELECT obs_publisher_did, dataproduct_type, s_ra, s_dec, access_url\n"
        "FROM ivoa.obscore\n"
        "WHERE CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 80.89, -69.76, 3.0)) = 1",
        'SELECT "ivoa"."obscore"."obs_publisher_did", "ivoa"."obscore"."dataproduct_type", '
        '"ivoa"."obscore"."s_ra", "ivoa"."obscore"."s_dec", "ivoa"."obscore"."access_url" '
        'FROM "ivoa"."obscore" WHERE ' + _cone_sql(80.89, -69.76, 3.0),
    ),
    Example(
        "footprint", "Footprints that meet a region",
        "Products whose footprint (s_region) intersects a circle of 2 degrees.",
        "SELECT obs_publisher_did, s_region\n"
        "FROM ivoa.obscore\n"
        "WHERE INTERSECTS(s_region, CIRCLE('ICRS', 83.8, -69.3, 2.0)) = 1",
        'SELECT "ivoa"."obscore"."obs_publisher_did", "ivoa"."obscore"."s_region" '
        'FROM "ivoa"."obscore" WHERE ("ivoa"."obscore"."s_region" && '
        "scircle(spoint(radians(83.8),radians(-69.3)),radians(2.0))) = '1'",
    ),
    Example(
        "band", "Spectra covering a wavelength",
        "Spectra whose spectral coverage contains H-alpha (656.3 nm; em_min and em_max are "
        "vacuum wavelengths in metres).",
        "SELECT obs_publisher_did, em_min, em_max, em_res_power\n"
        "FROM ivoa.obscore\n"
        "WHERE dataproduct_type = 'spectrum' AND em_min <= 6.563e-7 AND em_max >= 6.563e-7",
        'SELECT "ivoa"."obscore"."obs_publisher_did", "ivoa"."obscore"."em_min", '
        '"ivoa"."obscore"."em_max", "ivoa"."obscore"."em_res_power" FROM "ivoa"."obscore" '
        "WHERE \"ivoa\".\"obscore\".\"dataproduct_type\" = 'spectrum' AND "
        '"ivoa"."obscore"."em_min" <= 6.563e-7 AND "ivoa"."obscore"."em_max" >= 6.563e-7',
    ),
    Example(
        "time", "Observations in a time interval",
        "Products observed at some time between MJD 50000 and 55000 (t_min, t_max in MJD).",
        "SELECT obs_publisher_did, t_min, t_max, t_exptime\n"
        "FROM ivoa.obscore\n"
        "WHERE t_min <= 55000 AND t_max >= 50000",
        'SELECT "ivoa"."obscore"."obs_publisher_did", "ivoa"."obscore"."t_min", '
        '"ivoa"."obscore"."t_max", "ivoa"."obscore"."t_exptime" FROM "ivoa"."obscore" '
        'WHERE "ivoa"."obscore"."t_min" <= 55000 AND "ivoa"."obscore"."t_max" >= 50000',
    ),
    Example(
        "per-catalogue", "Products per catalogue",
        "How many products of each type every VizieR catalogue has.",
        "SELECT source_catalogue, dataproduct_type, COUNT(*) AS n\n"
        "FROM ivoa.obscore\n"
        "GROUP BY source_catalogue, dataproduct_type\n"
        "ORDER BY source_catalogue, dataproduct_type",
        'SELECT "ivoa"."obscore"."source_catalogue", "ivoa"."obscore"."dataproduct_type", '
        'COUNT(*) AS "n" FROM "ivoa"."obscore" GROUP BY "ivoa"."obscore"."source_catalogue", '
        '"ivoa"."obscore"."dataproduct_type" ORDER BY "ivoa"."obscore"."source_catalogue" ASC, '
        '"ivoa"."obscore"."dataproduct_type" ASC',
    ),
    Example(
        "hpx-cone", "Cone search through the HEALPix index",
        "The cone of the first example with the experimental HEALPix position index "
        "(user-defined function hpx_cone: same rows, see docs/position-index.md).",
        "SELECT obs_publisher_did, dataproduct_type, s_ra, s_dec, access_url\n"
        "FROM ivoa.obscore\n"
        "WHERE hpx_cone(hpx, s_ra, s_dec, 80.89, -69.76, 3.0) = 1",
        'SELECT "ivoa"."obscore"."obs_publisher_did", "ivoa"."obscore"."dataproduct_type", '
        '"ivoa"."obscore"."s_ra", "ivoa"."obscore"."s_dec", "ivoa"."obscore"."access_url" '
        'FROM "ivoa"."obscore" WHERE hpx.hpx_cone("ivoa"."obscore"."hpx", "ivoa"."obscore"."s_ra", '
        '"ivoa"."obscore"."s_dec", 80.89, -69.76, 3.0) = 1',
    ),
)


def render(examples: tuple[Example, ...] = EXAMPLES) -> str:
    """The XHTML+RDFa document (one ``typeof="example"`` element per example)."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML+RDFa 1.1//EN" '
        '"http://www.w3.org/MarkUp/DTD/xhtml-rdfa-2.dtd">',
        '<html xmlns="http://www.w3.org/1999/xhtml" version="XHTML+RDFa 1.1">',
        "<head><title>assocdata TAP examples</title></head>",
        f'<body vocab="{VOCAB}">',
        "<h1>Examples of ADQL queries on ivoa.obscore</h1>",
    ]
    for ex in examples:
        parts += [
            f'<div id="{ex.id}" resource="#{ex.id}" typeof="example">',
            f'  <h2 property="name">{escape(ex.name)}</h2>',
            f"  <p>{escape(ex.text)}</p>",
            f'  <pre class="dali-example-query" property="query">{escape(ex.adql)}</pre>',
            '  <p>Table: <span property="table">ivoa.obscore</span></p>',
            "</div>",
        ]
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)
