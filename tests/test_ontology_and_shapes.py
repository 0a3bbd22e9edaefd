"""The ontology is consistent OWL 2 and covers what the builder writes; the built graphs conform
to the SHACL shapes."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF

from heritage_kg.config import get_settings
from heritage_kg.graph.namespaces import HK
from heritage_kg.graph.validation import validate_graph, validate_store

BASE = "https://w3id.org/heritage-kg/"


def ontology() -> Graph:
    return Graph().parse(get_settings().ontology_dir / "heritage.ttl", format="turtle")


def test_hermit_finds_the_ontology_consistent(tmp_path):
    owlready2 = pytest.importorskip("owlready2")
    # owlready2 does not read Turtle: hand it RDF/XML
    rdfxml = tmp_path / "heritage.owl"
    ontology().serialize(rdfxml, format="xml")
    world = owlready2.World()
    onto = world.get_ontology(rdfxml.as_uri()).load()
    with onto:
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
    assert list(world.inconsistent_classes()) == []
    assert onto.search_one(iri=HK + "Artwork") is not None
    # reasoning sees the alignments: an hk:Artwork is a CIDOC-CRM human-made object
    crm_object = world.search_one(iri="http://www.cidoc-crm.org/cidoc-crm/E22_Human-Made_Object")
    assert crm_object in onto.search_one(iri=HK + "Artwork").ancestors()


def test_every_term_the_builder_uses_is_declared(fixture_store):
    declared = {str(s) for s in ontology().subjects(RDF.type, None) if str(s).startswith(HK)}
    _, rows = fixture_store.select(
        "SELECT DISTINCT ?term WHERE { GRAPH ?g { { ?s ?term ?o } UNION { ?s a ?term } } "
        "FILTER(?g != <%sgraph/ontology>) FILTER(STRSTARTS(STR(?term), STR(<%s>))) }" % (BASE, HK))
    used = {str(r["term"]) for r in rows}
    assert used and used <= declared, used - declared


def test_the_ontology_is_loaded_into_its_own_graph(fixture_store):
    assert fixture_store.ask("ASK { GRAPH <%sgraph/ontology> { <%sArtwork> a <%s> } }" % (BASE, HK, OWL.Class))


def test_the_fixture_store_conforms_to_the_shapes(fixture_store):
    report = validate_store(fixture_store)
    assert report.conforms, report.violations
    assert report.checked[HK + "Artwork"] == 9  # 6 Tate + 3 CMOA
    assert report.checked[HK + "SubjectConcept"] == 15  # 14 the records use, glacier only in the list file
    assert report.checked[HK + "SourceNote"] == 3  # a subject conflict, an unreadable size, a duplicate contributor


def test_the_shapes_catch_what_the_builder_must_never_emit(fixture_store):
    # take a real artwork's description and break it the ways the shapes guard against
    artwork = URIRef(BASE + "tate/artwork/N00530")
    data = Graph()
    for triple in fixture_store.construct(
            "CONSTRUCT { ?a ?p ?o . ?o a ?t } WHERE { ?a ?p ?o OPTIONAL { ?o a ?t } }", {"a": artwork}):
        data.add(triple)

    def artwork_violations():  # the neighbours' own statements are not in `data`: look at the artwork only
        return [line for line in validate_graph(data)[1] if line.startswith(str(artwork) + " ")]

    assert artwork_violations() == []
    data.add((artwork, URIRef(HK + "accessionNumber"), Literal("N00530-again")))
    data.add((artwork, URIRef(HK + "subject"), URIRef(BASE + "tate/artist/558")))
    lines = artwork_violations()
    assert len(lines) == 2
    assert any("accession number" in line for line in lines)
    assert any("concept of the subject taxonomy" in line for line in lines)


@pytest.mark.realdata
def test_a_sample_of_the_real_graph_conforms(real_store):
    report = validate_store(real_store, sample=300)
    assert report.conforms, report.violations[:10]
    assert report.checked[HK + "Artwork"] == 300
