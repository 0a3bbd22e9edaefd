"""Real SPARQL clients against a real `heritage-kg serve` service (uvicorn on loopback, over the
fixture store): SPARQLWrapper with each query form, each return format it offers, GET and POST,
and rdflib's SPARQLStore with each result format it reads. SPARQLWrapper sends `format=` and
`output=` beside Accept, as Virtuoso and Fuseki expect: for a graph, `xml` means RDF/XML and `n3`
Turtle; a name with no syntax for the answer's kind leaves the choice to Accept."""

from __future__ import annotations

import csv
import io
import json
import warnings

import httpx
import pytest
from rdflib import Graph, URIRef
from rdflib.plugins.stores.sparqlconnector import SPARQLConnector
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, GET, JSON, JSONLD, N3, POST, RDF, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

from api.app import create_app
from heritage_kg.config import Settings
from heritage_kg.graph.namespaces import HK
from live_service import serving

ARTWORK = "https://w3id.org/heritage-kg/tate/artwork/N00530"
QUERIES = {
    "SELECT": f"SELECT ?a ?t WHERE {{ ?a <{HK}title> ?t }}",
    "ASK": f"ASK {{ <{ARTWORK}> <{HK}title> ?t }}",
    "CONSTRUCT": f"CONSTRUCT {{ ?a <{HK}title> ?t }} WHERE {{ ?a <{HK}title> ?t }}",
    "DESCRIBE": f"DESCRIBE <{ARTWORK}>",
}
SOLUTIONS = {JSON: "application/sparql-results+json", XML: "application/sparql-results+xml",
             CSV: "text/csv", TSV: "text/tab-separated-values"}
GRAPHS = {JSON: "application/ld+json", JSONLD: "application/ld+json", XML: "application/rdf+xml",
          RDF: "application/rdf+xml", RDFXML: "application/rdf+xml", N3: "text/turtle", TURTLE: "text/turtle"}
RDFLIB_SYNTAX = {"application/ld+json": "json-ld", "application/rdf+xml": "xml", "text/turtle": "turtle",
                 "application/n-triples": "nt"}
RETURN_FORMATS = (JSON, XML, CSV, TSV, N3, TURTLE, RDF, RDFXML, JSONLD)


@pytest.fixture(scope="module")
def endpoint(fixture_store):
    settings = Settings(store=fixture_store.location, sparql_workers=2)
    with serving(create_app(settings)) as url:
        yield f"{url}/sparql"


def expected_media_type(form: str, return_format: str) -> str:
    """What the service answers: the syntax the format names for the answer's kind, else the
    first the client's Accept (`*/*` for such a format) takes: SPARQL JSON, or Turtle."""
    if form in ("SELECT", "ASK"):
        return SOLUTIONS.get(return_format, "application/sparql-results+json")
    return GRAPHS.get(return_format, "text/turtle")


def content_of(body: bytes, media_type: str):
    """Rows (as sets of values), a boolean, or a graph's triple count, whatever the syntax."""
    text = body.decode()
    if media_type == "application/sparql-results+json":
        parsed = json.loads(text)
        if "boolean" in parsed:
            return parsed["boolean"]
        return sorted(tuple(sorted(b[v]["value"] for v in b)) for b in parsed["results"]["bindings"])
    if media_type == "application/sparql-results+xml":
        from xml.etree import ElementTree

        root = ElementTree.fromstring(body)
        ns = "{http://www.w3.org/2005/sparql-results#}"
        if (boolean := root.find(f"{ns}boolean")) is not None:
            return boolean.text == "true"
        return sorted(tuple(sorted("".join(b.itertext()) for b in r)) for r in root.iter(f"{ns}result"))
    if media_type in ("text/csv", "text/tab-separated-values"):
        if text.strip() in ("true", "false"):
            return text.strip() == "true"
        if media_type == "text/csv":
            rows = list(csv.reader(io.StringIO(text)))[1:]
        else:  # terms in N-Triples syntax, one row a line
            rows = [[Graph().parse(data=f"<urn:s> <urn:p> {t} .", format="nt").value(URIRef("urn:s"), URIRef("urn:p"))
                     for t in line.split("\t")] for line in text.splitlines()[1:]]
        return sorted(tuple(sorted(str(t) for t in row)) for row in rows)
    return len(Graph().parse(data=text, format=RDFLIB_SYNTAX[media_type]))


def expected_content(store, form: str):
    if form == "SELECT":
        _, rows = store.select(QUERIES[form])
        return sorted(tuple(sorted(str(row[v]) for v in row)) for row in rows)
    if form == "ASK":
        return store.ask(QUERIES[form])
    return len(store.construct(QUERIES[form]))


@pytest.mark.parametrize("method", [GET, POST])
@pytest.mark.parametrize("form", list(QUERIES))
def test_sparqlwrapper_every_form_and_return_format(endpoint, fixture_store, form, method):
    expected = expected_content(fixture_store, form)
    assert expected  # the fixture answers every form with something
    for return_format in RETURN_FORMATS:
        client = SPARQLWrapper(endpoint)
        client.setQuery(QUERIES[form])
        client.setMethod(method)
        with warnings.catch_warnings():  # SPARQLWrapper warns when it sends Accept: */* for a format
            warnings.simplefilter("ignore", RuntimeWarning)
            client.setReturnFormat(return_format)
            result = client.query()
        media_type = result.info()["content-type"].split(";")[0]
        assert media_type == expected_media_type(form, return_format), (form, return_format)
        assert content_of(result.response.read(), media_type) == expected, (form, return_format)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("return_format", ["xml", "json", "csv", "tsv"])
def test_rdflib_sparqlstore_every_form(endpoint, fixture_store, return_format, method):
    graph = Graph(store=SPARQLStore(endpoint, returnFormat=return_format, method=method))
    rows = sorted(tuple(sorted(str(t) for t in row if t is not None)) for row in graph.query(QUERIES["SELECT"]))
    assert rows == expected_content(fixture_store, "SELECT")
    accept = SPARQLConnector(endpoint, returnFormat=return_format).response_mime_types()
    if return_format in ("xml", "json"):
        assert graph.query(QUERIES["ASK"]).askAnswer is expected_content(fixture_store, "ASK")
    else:  # rdflib reads CSV and TSV as SELECT results only; the service writes the boolean
        answer = httpx.get(endpoint, params={"query": QUERIES["ASK"]}, headers={"Accept": accept})
        assert answer.text.strip() == str(expected_content(fixture_store, "ASK")).lower()
    for form in ("CONSTRUCT", "DESCRIBE"):
        if return_format == "xml":  # the client's Accept then takes RDF/XML as well
            assert len(graph.query(QUERIES[form]).graph) == expected_content(fixture_store, form), form
        else:  # it accepts result formats only, which carry no graph: 406, as from `oxigraph serve`
            refused = httpx.get(endpoint, params={"query": QUERIES[form]}, headers={"Accept": accept})
            assert refused.status_code == 406
            assert "text/turtle" in refused.json()["detail"]
