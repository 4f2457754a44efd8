"""The mapping language: one test per construct, the seed examples verbatim, exact error texts.

These tests need no database: they pin what the parser and the compiler
accept, reject and say. test_mapping_apply.py runs the compiled SQL.
"""

from __future__ import annotations

import pytest

from assocdata.mapping import MappingError, compile_mapping
from assocdata.mapping.compiler import glob_regex
from assocdata.mapping.nodes import (BinOp, Call, ColumnRef, Fallback, Index, Keyword, Literal,
                                     Negate, Variable)
from assocdata.mapping.parser import parse

SEED = """\
CUNIT1: 'Angstrom'                         # default value for a FITS keyword (used when the keyword is absent)
facility_name := 'LAMOST'                  # force a value in an ObsCore field
instrument_name: TELESCOP                  # fill an ObsCore field from a FITS keyword
target_name: split($FILENAME, '_')[2]      # indexed value from a function result
"""


def errors(source: str, name: str = "t.map", env: dict[str, str] | None = None) -> str:
    with pytest.raises(MappingError) as info:
        compile_mapping(source, name, env=env or {})
    return str(info.value)


def rule(source: str):
    mf, rep = parse("assocdata-mapping 1\n" + source, "t.map")
    assert not rep.errors, rep.errors
    return mf.rules[0]


def test_seed_examples_parse_verbatim_into_the_four_rule_kinds():
    mf, rep = parse(SEED, "lamost.map")
    assert not rep.errors
    kinds = [(r.kind, r.target) for r in mf.rules]
    assert kinds == [("default", "CUNIT1"), ("override", "facility_name"),
                     ("fill", "instrument_name"), ("fill", "target_name")]
    assert mf.rules[3].expr == Index(Call("split", (Variable("FILENAME", mf.rules[3].expr.target.args[0].pos),
                                                    Literal("_", mf.rules[3].expr.target.args[1].pos)),
                                          mf.rules[3].expr.target.pos), 2, mf.rules[3].expr.pos)


def test_seed_examples_compile_to_one_defaults_and_one_fields_statement():
    compiled, warnings = compile_mapping(SEED, "lamost.map", env={})
    assert [s.kind for s in compiled.statements] == ["defaults", "fields"]
    assert compiled.field_statements[0].columns == ("facility_name", "instrument_name", "target_name")
    assert [str(w).split("\n")[0] for w in warnings] == [
        "lamost.map:1:1: warning: no version line; assuming 'assocdata-mapping 1' (write it as the first line)"]


def test_rule_text_for_provenance_leaves_the_comment_out():
    mf, _ = parse(SEED, "lamost.map")
    assert mf.rules[3].text == "target_name: split($FILENAME, '_')[2]"


def test_version_line_is_read_and_unknown_versions_are_refused():
    mf, rep = parse("# c\nassocdata-mapping 1\nobs_title: 'x'\n")
    assert mf.version == 1 and not rep.diagnostics
    assert errors("assocdata-mapping 2\nobs_title: 'x'\n") == (
        "t.map:1:19: unsupported mapping language version '2' (this assocdata reads version 1)\n"
        "    assocdata-mapping 2\n"
        "                      ^")


def test_comments_blank_lines_and_utf8_text():
    r = rule("\n   # a comment\nobs_title: 'Spectre de l''étoile # pas un commentaire'  # comment\n")
    assert r.expr.value == "Spectre de l'étoile # pas un commentaire"


def test_string_literals_take_single_or_double_quotes_with_doubling():
    assert rule('obs_title: "say ""hi"""').expr.value == 'say "hi"'


@pytest.mark.parametrize("text, value", [("3", 3), ("-3", -3), ("2.5", 2.5), ("1e-3", 0.001), (".5", 0.5)])
def test_number_literals(text, value):
    lit = rule(f"em_min: {text}").expr
    assert isinstance(lit, Literal) and lit.value == value


def test_fits_keywords_with_hyphens_and_hierarch_keywords():
    assert rule("t_min: to_mjd(DATE-OBS)").expr.args[0] == Keyword("DATE-OBS", rule("t_min: to_mjd(DATE-OBS)").expr.args[0].pos)
    r = rule("t_exptime: HIERARCH ESO DET DIT")
    assert isinstance(r.expr, Keyword) and r.expr.name == "ESO DET DIT"
    d = rule("HIERARCH ESO INS FILT1 NAME: 'R'")
    assert d.kind == "default" and d.target == "ESO INS FILT1 NAME"


def test_fallback_list_is_one_node_with_lowest_precedence():
    r = rule("instrument_name: TELESCOP | OBSERVAT | 'unknown'")
    assert isinstance(r.expr, Fallback) and len(r.expr.options) == 3
    assert isinstance(rule("em_min: A | B + 1").expr.options[1], BinOp)


def test_arithmetic_precedence_and_negation():
    e = rule("em_min: 1 + 2 * CRVAL1").expr
    assert isinstance(e, BinOp) and e.op == "+" and isinstance(e.right, BinOp) and e.right.op == "*"
    assert isinstance(rule("em_min: -CRVAL1").expr, Negate)
    assert isinstance(rule("em_min: (1 + 2) * 3").expr.left, BinOp)


def test_variables_and_column_references():
    assert rule("obs_title: $STEM").expr.name == "STEM"
    assert isinstance(rule("obs_title: concat(target_name, ' ', instrument_name)").expr.args[0], ColumnRef)


def test_indices_are_1_based_as_in_fits_and_negative_from_the_end():
    assert rule("target_name: split($STEM, '-')[-1]").expr.index == -1
    assert rule("target_name: split($STEM, '-')[1]").expr.index == 1
    assert errors("assocdata-mapping 1\ntarget_name: split($STEM, '-')[0]\n").split("\n")[0] == (
        "t.map:2:32: indices start at 1, as in FITS (NAXIS1, TTYPE1): [1] is the first item, [-1] the last")


def test_sections_scope_the_rules_that_follow():
    mf, rep = parse("assocdata-mapping 1\nobs_title: 'a'\n[files: spec-*.fits, hdu: SCI]\n"
                    "obs_title: 'b'\n[hdu: 0]\nobs_title: 'c'\n[catalogue: J/A+A/*]\nobs_title: 'd'\n"
                    "[all]\nobs_title: 'e'\n")
    assert not rep.errors
    scopes = [(r.scope.files, r.scope.hdus, r.scope.catalogues) for r in mf.rules]
    assert scopes == [((), (), ()), (("spec-*.fits",), ("SCI",), ()), ((), (0,), ()),
                      ((), (), ("J/A+A/*",)), ((), (), ())]


@pytest.mark.parametrize("glob, matches, misses", [
    ("spec-*.fits", ["spec-1.fits"], ["a/spec-1.fits", "spec-1.fits.gz", "xspec-1.fits"]),
    ("**/*.fits", ["a/b/c.fits", "c.fits"], ["c.fit"]),
    ("img_?.fit[s]", ["img_1.fits"], ["img_12.fits"]),
    ("[!x]*.fz", ["a.fz"], ["x.fz"]),
    ("a+b(1).fits", ["a+b(1).fits"], ["aab1.fits"]),
])
def test_globs_translate_to_anchored_regular_expressions(glob, matches, misses):
    import re

    pattern = re.compile(glob_regex(glob))
    assert all(pattern.search(m) for m in matches)
    assert not any(pattern.search(m) for m in misses)


def test_environment_variables_resolve_at_compile_time_with_defaults():
    compiled, _ = compile_mapping("assocdata-mapping 1\nobs_creator_name: ${CREATOR}\n"
                                  "publisher_id: ${PUB:-ivo://cds}\n", "t.map", env={"CREATOR": "CDS"})
    params = compiled.field_statements[0].params
    assert "CDS" in params.values() and "ivo://cds" in params.values()
    assert compiled.env == {"CREATOR": "CDS"}


def test_constant_dates_are_converted_at_compile_time_by_the_derivation_parser():
    compiled, _ = compile_mapping("assocdata-mapping 1\nt_min := to_mjd('2011-08-11T23:23:52')\n", "t.map",
                                  env={})
    mjds = [v for v in compiled.field_statements[0].params.values() if isinstance(v, float)]
    assert mjds == [pytest.approx(55784.97490740741, abs=1e-9)]


# -- errors: exact texts, all of a file at once ------------------------------------------

def test_unknown_column_error_names_the_place_and_suggests():
    assert errors("assocdata-mapping 1\nobs_title: 'x'\nobs_title: 'x'\nobs_title: 'x'\n"
                  "obs_title: 'x'\nobs_title: 'x'\ns_raa: RA\n", "lamost.map") == (
        "lamost.map:7:1: unknown ObsCore column 's_raa' (did you mean 's_ra'?)\n"
        "    s_raa: RA\n"
        "    ^")


def test_every_error_of_a_file_is_reported_at_once_in_line_order():
    text = errors("assocdata-mapping 1\ns_raa: RA\nem_min: 'abc'\nobs_title: foo(1)\n"
                  "obs_title: upper(1, 2)\nt_min: ${NOPE}\ncalib_level: 2.5\n")
    assert text == (
        "t.map:2:1: unknown ObsCore column 's_raa' (did you mean 's_ra'?)\n"
        "    s_raa: RA\n    ^\n"
        "t.map:3:9: a text cannot go into column 'em_min' (DOUBLE) (convert it with float())\n"
        "    em_min: 'abc'\n            ^\n"
        "t.map:4:12: unknown function 'foo'; user-defined functions live in schema mapping_udf "
        "(docs/mapping.md)\n"
        "    obs_title: foo(1)\n               ^\n"
        "t.map:5:12: upper() takes 1 argument, not 2\n"
        "    obs_title: upper(1, 2)\n               ^\n"
        "t.map:6:8: environment variable 'NOPE' is not set (set it, or give a default: ${NOPE:-value})\n"
        "    t_min: ${NOPE}\n           ^\n"
        "t.map:7:14: a DOUBLE cannot go into column 'calib_level' (INTEGER) (convert it with int() or round())\n"
        "    calib_level: 2.5\n                 ^")


@pytest.mark.parametrize("source, message", [
    ("obs_title: 'abc", "t.map:2:12: unterminated string (a quote inside a string is doubled: 'it''s')"),
    ("obs_title = 'x'", "t.map:2:11: '=' is not an operator here: 'column: value' fills, "
                         "'column := value' overrides, 'KEYWORD: value' is a header default"),
    ("CUNIT1 := 'm'", "t.map:2:8: a FITS keyword takes a default value with ':'; ':=' overrides ObsCore columns"),
    ("obs_title: upper('a'", "t.map:2:21: expected ',' or ')'"),
    ("obs_title: $FILE", "t.map:2:12: unknown variable '$FILE'; the variables are $FILENAME, $STEM, $PATH, "
                         "$CATALOGUE, $HDU, $EXTNAME"),
    ("obs_title: Telescop", "t.map:2:12: FITS keywords are written in upper case: 'TELESCOP'"),
    ("obs_title: TELESCOPES", "t.map:2:12: 'TELESCOPES' is not a FITS keyword (at most 8 characters A-Z 0-9 - _; "
                              "longer names are HIERARCH keywords)"),
    ("em_min: 'a' + 1", "t.map:2:9: '+' needs numbers, not a text (join texts with concat())"),
    ("obs_title: split('a b')", "t.map:2:12: a list cannot go into column 'obs_title' (pick an item: split(...)[1])"),
    ("obs_title: upper('a')[1]", "t.map:2:22: only a list (the result of split) can be indexed, not a text"),
    ("obs_title: regex($PATH, $STEM)", "t.map:2:25: argument 2 of regex() must be a constant"),
    ("em_min: to_m(4000, 'parsec/s')", "t.map:2:20: unknown spectral unit 'parsec/s' (a length, frequency, "
                                        "energy or wavenumber unit: 'Angstrom', 'nm', 'GHz', 'keV')"),
    ("t_min: to_mjd('2011-13-45')", "t.map:2:15: not a date: '2011-13-45' (ISO 8601: 2011-08-11T23:23:52)"),
    ("hpx := 1", "t.map:2:1: column 'hpx' cannot be set by a mapping: it is computed from s_ra and s_dec (set those)"),
    ("obs_publisher_did := 'x'", "t.map:2:1: column 'obs_publisher_did' cannot be set by a mapping: it identifies "
                                 "the row (derived from the catalogue, file and HDU)"),
    ("CUNIT1: em_min", "t.map:2:9: ObsCore column 'em_min' cannot be used in a header default: defaults are "
                       "applied before the derivation"),
    ("[files spec*.fits]", "t.map:2:2: 'files' needs a value: files: ..."),
    ("obs_title: 'a' 'b'", "t.map:2:16: unexpected \"'b'\" after the expression"),
    ("obs_title: split($PATH, '/')[x]", "t.map:2:30: an index is an integer: [1] is the first item, [-1] the last"),
])
def test_error_messages(source, message):
    assert errors("assocdata-mapping 1\n" + source + "\n").split("\n")[0] == message


# -- untrusted text: no injection, bounded sizes ---------------------------------------------

@pytest.mark.parametrize("payload", [
    "obs_title: 'x''; DROP TABLE ivoa.obscore; --'",
    "obs_title: \"x\"\"); DELETE FROM staging.file; --\"",
    "obs_title: ${EVIL}",
    "HIERARCH ESO X: '$$; DROP SCHEMA staging CASCADE; $$'",
    "[files: *'; DROP TABLE x; --]\nobs_title: 'a'",
])
def test_values_never_reach_the_sql_text(payload):
    compiled, _ = compile_mapping("assocdata-mapping 1\n" + payload + "\n", "t.map",
                                  env={"EVIL": "'); DROP TABLE ivoa.obscore; --"})
    for st in compiled.statements:
        text = st.text()
        for fragment in ("DROP TABLE ivoa", "DROP TABLE x", "DELETE FROM", "DROP SCHEMA", "--"):
            assert fragment not in text


@pytest.mark.parametrize("payload, message", [
    ('"obs_title": 1', "t.map:2:1: a rule starts with an ObsCore column (lower case) or a FITS KEYWORD (upper case)"),
    ("obs_title; DROP TABLE x: 1", "t.map:2:10: unexpected character ';'"),
    ("obs_title: upper/**/('a')", "t.map:2:18: unexpected '*'"),
    ("obs_title: pg_sleep(10)", "t.map:2:12: unknown function 'pg_sleep'; user-defined functions live in schema "
                                "mapping_udf (docs/mapping.md)"),
])
def test_injection_attempts_are_syntax_or_type_errors(payload, message):
    assert errors("assocdata-mapping 1\n" + payload + "\n").split("\n")[0] == message


def test_huge_inputs_are_refused_without_recursion_errors():
    deep = "obs_title: " + "(" * 5000 + "'a'" + ")" * 5000
    assert "line longer than 4000 characters" in errors("assocdata-mapping 1\n" + deep + "\n")
    nested = "obs_title: " + "upper(" * 100 + "'a'" + ")" * 100
    assert "expression nested more than 64 levels deep" in errors("assocdata-mapping 1\n" + nested + "\n")
    big = "assocdata-mapping 1\n" + ("obs_title: 'a'\n" * 70_000)
    assert "a mapping file is at most 1,000,000 bytes" in errors(big)
