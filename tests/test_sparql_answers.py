"""Answers serialized by pyoxigraph's own writers, and the row cap kept by Oxigraph: a capped
answer is byte for byte what Oxigraph writes for the query (variables in the query's order,
every kind of term), and one over the cap holds the first rows and says it was cut."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from heritage_kg.graph.results import answer_query, capped_select, selects_at_most

XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
FORMATS = ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
           "text/tab-separated-values"]
QUERIES = [
    "SELECT * WHERE { ?s ?p ?o } ORDER BY ?o",
    "PREFIX e: <urn:> SELECT ?o (COUNT(*) AS ?n) WHERE { ?s ?p ?o OPTIONAL { ?s e:none ?z } } "
    "GROUP BY ?o ORDER BY DESC(?n) STR(?o)",
    "SELECT ?z ?s WHERE { ?s ?p ?o OPTIONAL { ?s <urn:none> ?z } } ORDER BY STR(?s)",
    "SELECT DISTINCT ?p WHERE { ?s ?p ?o } VALUES ?p { <urn:p> } # a comment with SELECT in it",
]


@pytest.fixture(scope="module")
def run():
    store = ox.Store()
    terms = [(ox.NamedNode("urn:a"), ox.Literal('line\nbreak\ttab "quoted" é')),
             (ox.NamedNode("urn:a"), ox.Literal("hello", language="en-gb")),
             (ox.BlankNode("b1"), ox.Literal("3", datatype=XSD_INTEGER)),
             (ox.NamedNode("urn:b"), ox.BlankNode("b2"))]
    for subject, value in terms:
        store.add(ox.Quad(subject, ox.NamedNode("urn:p"), value, ox.NamedNode("urn:g")))
    return lambda text: store.query(text, use_default_graph_as_union=True)


@pytest.mark.parametrize("media_type", FORMATS)
@pytest.mark.parametrize("query", QUERIES)
def test_a_capped_answer_is_what_oxigraph_writes(run, query, media_type):
    direct = run(query).serialize(format=ox.QueryResultsFormat.from_media_type(media_type))
    answer = answer_query(run, query, [media_type], max_rows=100)
    assert answer.body == direct and not answer.truncated


def test_an_answer_over_the_cap_keeps_the_first_rows_and_says_so(run):
    query = "SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY STR(?o)"
    whole = json.loads(run(query).serialize(format=ox.QueryResultsFormat.JSON))
    cut = answer_query(run, query, ["application/sparql-results+json"], max_rows=2)
    body = json.loads(cut.body)
    assert cut.truncated and cut.rows == 2
    assert body["results"]["bindings"] == whole["results"]["bindings"][:2]
    assert body["head"] == {"vars": ["s", "o"], "link": ["urn:heritage-kg:truncated:max-rows=2"]}
    xml = answer_query(run, query, ["application/sparql-results+xml"], max_rows=2).body.decode()
    assert xml.count("<result>") == 2 and 'link href="urn:heritage-kg:truncated:max-rows=2"' in xml


def test_a_query_with_from_is_capped_too(run):
    query = "SELECT ?o FROM <urn:g> WHERE { ?s ?p ?o }"
    assert capped_select(query, 3) is None  # a subquery cannot carry FROM
    cut = answer_query(run, query, ["text/tab-separated-values"], max_rows=3)
    assert cut.truncated and cut.body.decode().count("\n") == 1 + 3


def test_the_wrapper_projects_the_querys_variables_in_order():
    wrapped = capped_select('PREFIX a: <urn:select#> # SELECT ?x\nSELECT DISTINCT ?b (COUNT(*) AS ?n) '
                            '(SAMPLE(?c)AS?c2) $d WHERE { ?b ?c ?d }', 7)
    assert wrapped.startswith("PREFIX a: <urn:select#> # SELECT ?x\nSELECT ?b ?n ?c2 ?d WHERE {")
    assert wrapped.endswith("} LIMIT 7")
    assert capped_select("ASK { ?s ?p ?o }", 7) is None


def test_a_querys_own_limit_is_read_outside_its_groups_only():
    assert selects_at_most("select * { ?s ?p ?o } order by ?s limit 5 offset 10", 5)
    assert not selects_at_most("SELECT * { ?s ?p ?o } LIMIT 6", 5)
    assert not selects_at_most("SELECT * { { SELECT * { ?s ?p ?o } LIMIT 5 } ?s ?q ?r }", 5)
    assert not selects_at_most('SELECT * { ?s ?p "} LIMIT 5" }', 5)
    assert not selects_at_most("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 5", 5)  # a limit on solutions, not triples
