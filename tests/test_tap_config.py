"""etl/assocdata/tap/config.py and tap_config/: the files Vollt is deployed with."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from assocdata.tap import config as tap_config

# Vollt's own expressions for a UDF declaration (adql.db.FunctionDef), transcribed
IDENT = r"[a-zA-Z]+[a-zA-Z0-9_]*"
TYPE = r"([a-zA-Z_]+[ 0-9a-zA-Z_]*)(\(\s*([0-9]+)\s*\))?"
FCT_DEF = re.compile(r"\s*(" + IDENT + r")\s*\(([a-zA-Z0-9,() \r\n\t]*)\)(\s*->\s*(" + TYPE + r"))?\s*")
PARAM = re.compile(r"\s*(" + IDENT + r")\s+" + TYPE + r"\s*")


@pytest.fixture
def settings() -> tap_config.TapSettings:
    db = tap_config.Database(host="127.0.0.1", port=54329, database="assocdata",
                             password="s3cret&<\"pw")
    return tap_config.TapSettings(database=db)


@pytest.fixture
def rendered(tmp_path, settings) -> dict[str, Path]:
    return tap_config.render(tmp_path / "tap", settings)


def test_properties_parse_with_the_settings_vollt_needs(rendered):
    props = tap_config.parse_properties(rendered["tap.properties"].read_text())
    assert props["sql_translator"] == "pgsphere"
    assert props["metadata"] == "db"
    assert props["database_access"] == "jndi"
    assert props["datasource_jndi_name"] == "java:comp/env/jdbc/assocdata"
    assert props["coordinate_systems"] == "ICRS * *"
    assert props["examples"].startswith("/")
    assert int(props["output_max_limit"]) >= int(props["output_default_limit"]) > 0
    assert props["backup_frequency"].isdigit() and props["max_async_jobs"].isdigit()
    assert Path(props["file_root_path"]).is_dir()


def test_no_value_carries_a_comment(rendered):
    for key, value in tap_config.parse_properties(rendered["tap.properties"].read_text()).items():
        assert "#" not in value, key
        assert value == value.strip(), key


def test_geometries_exclude_what_fails_on_pgsphere(rendered):
    props = tap_config.parse_properties(rendered["tap.properties"].read_text())
    geometries = {g.strip() for g in props["geometries"].split(",")}
    assert {"CONTAINS", "INTERSECTS", "POINT", "CIRCLE", "POLYGON", "BOX"} <= geometries
    assert not geometries & {"REGION", "COORDSYS", "CENTROID"}


def test_udfs_are_declared_as_vollt_parses_them(rendered):
    value = tap_config.parse_properties(rendered["tap.properties"].read_text())["udfs"]
    items = re.findall(r'\[([^\[\]]+?), "([^"]*)", "((?:[^"\\]|\\.)*)"\]', value)
    assert [i[0].split("(")[0] for i in items] == ["hpx_cone", "hpx_intersects"]
    for signature, translation, _ in items:
        m = FCT_DEF.fullmatch(signature)
        assert m and m.group(5) == "INTEGER", signature
        for param in m.group(2).split(","):
            assert PARAM.fullmatch(param), param
        n = len(m.group(2).split(","))
        assert sorted(set(re.findall(r"\$(\d+)", translation))) == [str(i) for i in range(1, n + 1)]


def test_jdbc_alternative(tmp_path, settings):
    from dataclasses import replace

    files = tap_config.render(tmp_path / "j", replace(settings, database_access="jdbc"))
    props = tap_config.parse_properties(files["tap.properties"].read_text())
    assert props["jdbc_url"] == "jdbc:postgresql://127.0.0.1:54329/assocdata"
    assert props["db_username"] == "assocdata_tap" and props["db_password"] == 's3cret&<"pw'
    assert "datasource_jndi_name" not in props
    assert files["tap.properties"].stat().st_mode & 0o077 == 0


def test_web_xml_runs_the_configurable_servlet_on_the_rendered_file(rendered):
    ns = {"j": "http://xmlns.jcp.org/xml/ns/javaee"}
    root = ET.parse(rendered["web.xml"]).getroot()
    assert root.find("j:servlet/j:servlet-class", ns).text == "tap.config.ConfigurableTAPServlet"
    param = root.find("j:servlet/j:init-param", ns)
    assert param.find("j:param-name", ns).text == "tapconf"
    assert Path(param.find("j:param-value", ns).text) == rendered["tap.properties"]
    assert root.find("j:resource-ref/j:res-ref-name", ns).text == "jdbc/assocdata"


def test_pool_files_are_well_formed_and_escape_the_password(rendered):
    jetty = ET.parse(rendered["jetty-env.xml"]).getroot()
    values = {s.get("name"): s.text for s in jetty.iter("Set") if s.text}
    assert values["password"] == 's3cret&<"pw' and values["user"] == "assocdata_tap"
    ctx = ET.parse(rendered["context.xml"]).getroot().find("Resource")
    assert ctx.get("url") == "jdbc:postgresql://127.0.0.1:54329/assocdata"
    assert ctx.get("password") == 's3cret&<"pw'


@pytest.mark.parametrize("text, expected", [
    ("a = b # not a comment", {"a": "b # not a comment"}),
    ("# a comment\n! another\nk:v", {"k": "v"}),
    ("k = one, \\\n    two", {"k": "one, two"}),
    ("k = a\\\\\nj = b", {"k": "a\\", "j": "b"}),
    ("k\\ ey = \\u0041\\tB", {"k ey": "A\tB"}), ("k\\ey = x", {"key": "x"}),
    ("k    v", {"k": "v"}),
])
def test_properties_reader_follows_java(text, expected):
    assert tap_config.parse_properties(text) == expected
