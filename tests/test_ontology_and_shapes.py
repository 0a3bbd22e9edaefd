"""The ontology is consistent OWL 2 (HermiT says so, and says so when it is not) and covers
what the builder writes; the `hk:` namespace of the code is the ontology's; the built graphs
conform to the SHACL shapes."""

from __future__ import annotations

import re
from inspect import get_annotations

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS
from typer.testing import CliRunner

from heritage_kg.cli import app
from heritage_kg.graph.namespaces import HK
from heritage_kg.graph.validation import load_ontology, reason, validate_graph, validate_store
from conftest import ROOT

BASE = "https://w3id.org/heritage-kg/"
ontology = load_ontology


def declared_terms() -> set[str]:
    return {str(s)[len(str(HK)):] for s in ontology().subjects(RDF.type, None) if str(s).startswith(str(HK))}


def _with_disjoint_artworks_and_artists() -> Graph:
    graph = ontology()
    graph.add((URIRef(HK + "Artwork"), OWL.disjointWith, URIRef(HK + "Artist")))
    return graph


def test_hermit_finds_the_ontology_consistent_and_every_class_satisfiable(fixture_store):
    result = CliRunner().invoke(app, ["validate", "--reasoner", "--store", fixture_store.location])
    assert result.exit_code == 0, result.output
    assert "HermiT: the ontology is consistent; 0 unsatisfiable classes" in result.output
    # the alignments hold: an hk:Artwork is a CIDOC-CRM human-made object
    assert URIRef("http://www.cidoc-crm.org/cidoc-crm/E22_Human-Made_Object") in \
        set(ontology().transitive_objects(URIRef(HK + "Artwork"), RDFS.subClassOf))


def test_hermit_reports_an_inconsistent_ontology():
    graph = _with_disjoint_artworks_and_artists()
    both = URIRef(BASE + "tate/artwork/both")
    graph.add((both, RDF.type, URIRef(HK + "Artwork")))
    graph.add((both, RDF.type, URIRef(HK + "Artist")))
    report = reason(graph)
    assert (report.consistent, report.sound) == (False, False)
    assert "the ontology is inconsistent" in report.summary_lines()[0]


def test_the_reasoner_reports_an_unsatisfiable_class_with_exit_status_1(fixture_store, tmp_path):
    graph = _with_disjoint_artworks_and_artists()
    impossible = URIRef(f"{HK}SelfPortraitOfItself")  # not a term of the ontology, so not HK + "..."
    graph.add((impossible, RDF.type, OWL.Class))
    graph.add((impossible, RDFS.subClassOf, URIRef(HK + "Artwork")))
    graph.add((impossible, RDFS.subClassOf, URIRef(HK + "Artist")))
    edited = tmp_path / "edited.ttl"
    graph.serialize(edited, format="turtle")
    result = CliRunner().invoke(app, ["validate", "--reasoner", "--ontology", str(edited),
                                      "--store", fixture_store.location])
    assert result.exit_code == 1, result.output
    assert "consistent; 1 unsatisfiable classes" in result.output
    assert f"unsatisfiable: {HK}SelfPortraitOfItself" in result.output


def test_an_unreadable_ontology_is_a_clear_error(fixture_store, tmp_path):
    (tmp_path / "broken.ttl").write_text("hk:Artwork a owl:Class", encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", "--reasoner", "--ontology", str(tmp_path / "broken.ttl"),
                                      "--store", fixture_store.location])
    assert result.exit_code == 2 and "cannot read the ontology" in result.output


def test_the_hk_namespace_of_the_code_declares_exactly_the_ontology_terms():
    assert set(get_annotations(HK)) == declared_terms()


def test_a_misspelt_hk_term_fails_where_it_is_written():
    assert HK + "title" == str(HK) + "title" and HK.title == URIRef(str(HK) + "title")
    with pytest.raises(AttributeError, match="titel"):
        HK + "titel"  # noqa: B018
    with pytest.raises(AttributeError, match="titel"):
        HK.titel  # noqa: B018


def test_every_hk_term_in_the_queries_shapes_and_code_is_declared():
    used: dict[str, set[str]] = {}
    for path in [*ROOT.glob("kg/queries/*.rq"), ROOT / "ontology" / "shapes.ttl"]:
        for term in re.findall(r"\bhk:(\w+)", path.read_text(encoding="utf-8")):
            used.setdefault(term, set()).add(path.name)
    for path in [*ROOT.glob("src/**/*.py"), *ROOT.glob("api/**/*.py"), *ROOT.glob("benchmarks/*.py")]:
        for term in re.findall(r'\bHK \+ "(\w+)"|\bHK\.(\w+)', path.read_text(encoding="utf-8")):
            used.setdefault("".join(term), set()).add(path.name)
    assert len(used) > 50
    assert {term: files for term, files in used.items() if term not in declared_terms()} == {}


def test_every_term_the_builder_uses_is_declared(fixture_store):
    declared = {str(s) for s in ontology().subjects(RDF.type, None) if str(s).startswith(str(HK))}
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
