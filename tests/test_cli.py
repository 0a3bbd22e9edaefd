"""The command line as a user meets it: real processes, messages instead of tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import CMOA_FIXTURE, TATE_FIXTURE


def heritage_kg(*args, store=None, check=True, env=None):
    env = {**os.environ, **(env or {})}
    if store:
        env["HERITAGE_KG_STORE"] = str(store)
    result = subprocess.run([sys.executable, "-m", "heritage_kg.cli", *args], env=env, capture_output=True,
                            text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}: {result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def cli_store(tmp_path_factory):
    store = tmp_path_factory.mktemp("cli") / "store"
    heritage_kg("build-graph", "--source", str(TATE_FIXTURE), "--store", str(store))
    heritage_kg("build-graph", "--source", str(CMOA_FIXTURE), "--collection", "cmoa", "--store", str(store))
    return store


def test_build_graph_reports_what_it_loaded_and_skipped(tmp_path):
    result = heritage_kg("build-graph", "--source", str(TATE_FIXTURE), "--store", str(tmp_path / "s"))
    # 14 concepts the records use, and glacier, which only the taxonomy files list
    assert "6 artworks, 4 artists, 15 subject concepts" in result.stdout
    assert "skipped 5 records" in result.stdout
    assert "artworks/t/000/t00008-1008.json: expected a JSON object, found list" in result.stdout
    assert ("1 subject parent conflict, 1 unparsed dimensions, 1 duplicate contributor "
            "(in the build's provenance: heritage-kg query build_source_notes)") in " ".join(result.stdout.split())


def test_stats_prints_the_subject_and_medium_tables(cli_store):
    out = heritage_kg("stats", store=cli_store).stdout
    assert "Tate collection" in out and "Carnegie Museum of Art collection" in out
    nature = next(line for line in out.splitlines() if " nature " in line)
    assert nature.split("│")[2].strip() == "2"  # N00530 and D00001
    painting = next(line for line in out.splitlines() if " painting " in line)
    assert [cell.strip() for cell in painting.split("│")[2:4]] == ["1", "1"]  # CMOA, Tate


def test_query_by_name_text_and_file_in_each_format(cli_store, tmp_path):
    rows = json.loads(heritage_kg("query", "titles_containing", "-p", "needle=harbour", "--format", "json",
                                  store=cli_store).stdout)
    assert sorted(r["title"] for r in rows) == ["Harbour at Night", "Snow Storm - Steam-Boat off a Harbour's Mouth",
                                                "Untitled (Harbour)"]
    csv_out = heritage_kg("query", "SELECT (COUNT(*) AS ?n) WHERE { ?a a <https://w3id.org/heritage-kg/ontology#Artwork> }",
                          "--format", "csv", store=cli_store).stdout
    assert csv_out.splitlines() == ["n", "9"]
    query_file = tmp_path / "artists.rq"
    query_file.write_text("PREFIX hk: <https://w3id.org/heritage-kg/ontology#>\n"
                          "SELECT ?name WHERE { ?a a hk:Artist ; hk:name ?name } ORDER BY ?name")
    table = heritage_kg("query", str(query_file), store=cli_store).stdout
    assert "Camille Pissarro" in table and "6 rows" in table
    # an IRI parameter is written <iri>: the Tate fixture graph holds its six artworks
    rows = json.loads(heritage_kg("query", "service_graph_types_by_count", "-p",
                                  "graph=<https://w3id.org/heritage-kg/graph/tate>", "--format", "json",
                                  store=cli_store).stdout)
    assert {r["type"]: r["resources"] for r in rows}["https://w3id.org/heritage-kg/ontology#Artwork"] == "6"


def test_validate_passes_on_a_built_store(cli_store):
    result = heritage_kg("validate", store=cli_store)
    assert "conforms" in result.stdout and "Artwork: 9 checked" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["build-graph", "--source", "/no/such/archive.zip"], "source not found: /no/such/archive.zip"),
    (["query", "SELECT ?x WHERE { ?x"], "SPARQL syntax error"),
    (["query", "no_such_query"], "no query named 'no_such_query'"),
    (["query", "titles_containing"], "missing ['needle']"),
])
def test_user_errors_are_one_line_messages_not_tracebacks(cli_store, args, message):
    result = heritage_kg(*args, store=cli_store, check=False)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_reading_a_store_that_was_never_built_says_how_to_build_it(tmp_path):
    result = heritage_kg("stats", store=tmp_path / "empty", check=False)
    assert result.returncode == 2 and "build one with 'heritage-kg build-graph" in result.stderr
