"""Linked Data: every minted IRI dereferences at its path, as an HTML page or as RDF chosen by
Accept, `format` or a suffix; unknown ids are 404, malformed ones 400, and nothing a client sends
reaches the query text or the page unescaped."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, Literal, URIRef

from api.app import create_app
from api.dependencies import get_store
from heritage_kg.config import get_settings
from heritage_kg.graph import linked_data
from heritage_kg.graph.namespaces import HK, Minter

BASE = "https://w3id.org/heritage-kg/"
HOSTILE_GRAPH = BASE + "graph/test-hostile-records"
HOSTILE_TITLE = "<script>alert('owned')</script> & \"Sons\""


@pytest.fixture(scope="module")
def client(fixture_store):
    """The service over the fixture store, plus, for the module's duration, one artwork whose
    title is markup (a record a page must escape), in a graph of its own."""
    artwork = Minter(get_settings().base_iri).artwork("tate", "T99999")
    fixture_store.update(
        f"INSERT DATA {{ GRAPH <{HOSTILE_GRAPH}> {{ <{artwork}> a <{HK}Artwork> ; "
        f"<{HK}title> {Literal(HOSTILE_TITLE).n3()} . }} }}")
    app = create_app()
    app.dependency_overrides[get_store] = lambda: fixture_store
    yield TestClient(app)
    fixture_store.update(f"DROP GRAPH <{HOSTILE_GRAPH}>")


def test_an_artwork_page_shows_what_a_person_needs(client):
    page = client.get("/tate/artwork/T00002", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<h1>Interior of a Cathedral, after Turner</h1>" in html
    # both artists, with the role of the one who is not simply "artist", linked to their pages
    assert '<a href="/tate/artist/558">Joseph Mallord William Turner</a> <span class="role">(after)</span>' in html
    assert '<a href="/tate/artist/2000">John Cousen</a> <span class="role">(engraver)</span>' in html
    assert "Etching and line engraving on paper" in html and "date not known" in html
    assert 'href="/medium/etching"' in html and 'href="/medium/engraving-intaglio"' in html
    assert '<a class="tag" href="/tate/subject/9999">pilgrim</a>' in html
    assert "http://www.tate.org.uk/art/images/work/N/N00/T00002_8.jpg" in html
    assert 'href="http://www.tate.org.uk/art/artworks/test-t00002"' in html


@pytest.mark.parametrize(("accept", "media_type", "parse_as"), [
    ("text/turtle", "text/turtle", "turtle"),
    ("application/ld+json", "application/ld+json", "json-ld"),
    ("application/n-triples", "application/n-triples", "nt"),
    ("text/html;q=0.5, application/ld+json;q=0.9, text/turtle;q=0.7", "application/ld+json", "json-ld"),
    ("text/html;q=0, */*", "text/turtle", "turtle"),
])
def test_machines_get_rdf_by_accept_with_q_values(client, accept, media_type, parse_as):
    answer = client.get("/tate/artwork/N00530", headers={"Accept": accept})
    assert answer.status_code == 200
    assert answer.headers["content-type"].split(";")[0] == media_type
    assert "Accept" in answer.headers["vary"]
    graph = Graph().parse(data=answer.text, format=parse_as)
    artwork = URIRef(BASE + "tate/artwork/N00530")
    assert graph.value(artwork, URIRef(HK + "title")).toPython() == "Snow Storm - Steam-Boat off a Harbour's Mouth"
    contribution = graph.value(artwork, URIRef(HK + "contribution"))
    assert str(graph.value(contribution, URIRef(HK + "role"))) == "artist"


def test_format_parameter_and_suffix_name_a_serialization(client):
    by_format = client.get("/tate/artist/558", params={"format": "nt"}, headers={"Accept": "text/html"})
    by_suffix = client.get("/tate/artist/558.ttl")
    assert by_format.headers["content-type"].startswith("application/n-triples")
    assert by_suffix.headers["content-type"].startswith("text/turtle")
    assert Graph().parse(data=by_format.text, format="nt").isomorphic(Graph().parse(data=by_suffix.text, format="turtle"))
    jsonld = json.loads(client.get("/cmoa/artwork/99.4.jsonld").text)
    assert any(node.get("@id") == BASE + "cmoa/artwork/99.4" for node in jsonld["@graph"])
    assert client.get("/tate/artist/558", params={"format": "pdf"}).status_code == 400
    assert client.get("/tate/artist/558", headers={"Accept": "image/png"}).status_code == 406


def test_an_artist_page_lists_life_places_movements_and_artworks(client):
    html = client.get("/tate/artist/558").text
    assert "<h1>Joseph Mallord William Turner</h1>" in html and "1775–1851" in html
    assert '<a href="/tate/place/london,%20united%20kingdom">London, United Kingdom</a>' in html
    assert '<a class="tag" href="/tate/movement/300">Romanticism</a>' in html
    # Turner made or inspired three of the fixture's artworks
    assert 'Artworks <span class="count">3</span>' in html
    assert '<a href="/tate/artwork/N00530">Snow Storm - Steam-Boat off a Harbour&#39;s Mouth</a>' in html


def test_a_concept_page_shows_broader_narrower_and_its_artworks(client):
    html = client.get("/tate/subject/95").text  # "adults", below "people"
    assert "<h1>adults</h1>" in html
    assert 'href="/tate/subject/91">people</a>' in html.replace("\n", "")  # the broader concept
    assert '<a href="/tate/subject/9999">pilgrim</a>' in html  # a narrower one
    assert 'href="/tate/artwork/T00002"' in html  # annotated with "pilgrim", so with "adults" too


def test_long_lists_are_paged(client, monkeypatch):
    monkeypatch.setattr(linked_data, "PAGE_SIZE", 2)
    first = client.get("/tate/artist/558").text
    second = client.get("/tate/artist/558", params={"page": 2}).text
    first_links = {a for a in _artwork_links(first)}
    second_links = {a for a in _artwork_links(second)}
    assert len(first_links) == 2 and len(second_links) == 1 and not first_links & second_links
    assert "page 1 of 2" in first
    assert 'rel="next" href="/tate/artist/558?page=2"' in first and 'rel="prev"' in second
    assert client.get("/tate/artist/558", params={"page": "0"}).status_code == 400


def _artwork_links(html: str) -> list[str]:
    section = html.split('<ol class="artworks"', 1)[1].split("</ol>", 1)[0]
    return [part.split('"', 1)[0] for part in section.split('href="')[1:]]


def test_collection_medium_group_and_other_minted_iris_dereference(client):
    tate = client.get("/tate").text
    assert "<h1>Tate collection</h1>" in tate and "<strong>6</strong> artworks" in tate  # the six readable Tate fixture records
    assert 'href="/tate/subjects"' in tate
    painting = client.get("/medium/painting").text
    assert "<h1>painting</h1>" in painting.lower() and 'href="/tate/artwork/N00530"' in painting
    for path in ("/tate/movement/300", "/tate/place/london,%20united%20kingdom", "/tate/group/65001",
                 "/tate/subjects", "/medium", "/tate/artwork/N00530/contribution/1", "/graph/tate", "/cmoa"):
        assert client.get(path).status_code == 200, path
    place = client.get("/tate/place/london,%20united%20kingdom").text
    assert '<a href="/tate/artist/558">Joseph Mallord William Turner</a>' in place  # linked from


@pytest.mark.parametrize("path", ["/tate/artwork/X99999", "/cmoa/artwork/1.2.3", "/tate/artist/99999999",
                                  "/medium/pottery", "/tate/subject/424242"])
def test_an_unknown_id_is_404(client, path):
    answer = client.get(path, headers={"Accept": "text/turtle"})
    assert answer.status_code == 404
    assert "holds nothing about" in answer.text


@pytest.mark.parametrize("path", [
    "/tate/artwork/x%3E%20%7D%20;%20DROP%20ALL%20;%20%3C",  # x> } ; DROP ALL ; <
    "/tate/artwork/N00530%22%20.%20%3Fs%20%3Fp%20%3Fo",  # N00530" . ?s ?p ?o
    "/tate/artwork/N00530'%20OR%20'1'='1",
    "/tate/artist/558%3E",
    "/tate/place/london%3E%20%7D",
    "/medium/Painting!",
    "/tate/painting/N00530",  # no such kind
    "/tate/artwork",  # no identifier
    "/tate/artwork/N00530/contribution/one",
    "/graph/x%7Cy",
])
def test_a_malformed_id_is_400_and_never_reaches_a_query(client, fixture_store, path):
    before = fixture_store.triple_count()
    for accept in ("text/html", "text/turtle"):
        answer = client.get(path, headers={"Accept": accept})
        assert answer.status_code == 400, (path, answer.text)
        assert "syntax error" not in answer.text.lower() and "Traceback" not in answer.text
    assert fixture_store.triple_count() == before


def test_a_title_with_markup_is_escaped(client):
    html = client.get("/tate/artwork/T99999").text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt; &amp; &#34;Sons&#34;" in html


def test_resolving_maps_paths_to_minted_iris_and_back():
    resource = linked_data.resolve("/cmoa/artwork/2013.29.1A-B", BASE)
    assert resource == linked_data.LinkedResource(BASE + "cmoa/artwork/2013.29.1A-B", "artwork")
    # an identifier with a slash or a space is minted percent-encoded, and found from that path
    encoded = Minter(BASE).artwork("tate", "T 01234/A")
    assert linked_data.resolve("/" + encoded[len(BASE):], BASE).iri == encoded
    assert linked_data.local_path(encoded, BASE) == "/tate/artwork/T%2001234%2FA"
    assert linked_data.local_path("http://www.tate.org.uk/art", BASE) is None
