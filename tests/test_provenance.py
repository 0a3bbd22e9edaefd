"""One PROV writer for everything the software does to the store: builds and linking runs are
recorded alike, and a classification run (the next stage) can be written with the same calls."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from rdflib import Dataset, Literal, URIRef
from rdflib.namespace import PROV, RDF, XSD

from heritage_kg.config import get_settings
from heritage_kg.graph.linking import link_artists
from heritage_kg.graph.namespaces import HK
from heritage_kg.graph.nquads import QuadWriter
from heritage_kg.graph.provenance import (
    SOFTWARE_AGENT, activity_stamp, write_activity, write_generated, write_used,
)
from conftest import store_of_fixtures

BASE = "https://w3id.org/heritage-kg/"


def test_a_classification_run_is_written_with_the_same_calls():
    started = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    run = f"{BASE}classification/{activity_stamp(started)}"
    model, prediction = f"{BASE}model/tate-l2-fusion", f"{run}/prediction/1"
    out = io.StringIO()
    graph = QuadWriter(out, f"{BASE}graph/predictions")
    write_activity(graph, run, HK + "ClassificationRun", started, ended=started + timedelta(minutes=3))
    write_used(graph, run, model, HK + "Model", relation=HK + "usedModel")
    write_generated(graph, run, prediction)
    dataset = Dataset()
    dataset.parse(data=out.getvalue(), format="nquads")
    dataset = dataset.graph(URIRef(f"{BASE}graph/predictions"))
    run_iri = URIRef(run)
    assert run == f"{BASE}classification/20261129T100000000000Z"
    assert (run_iri, RDF.type, HK.ClassificationRun) in dataset
    assert (run_iri, PROV.startedAtTime, Literal("2026-11-29T10:00:00+00:00", datatype=XSD.dateTime)) in dataset
    assert (run_iri, PROV.endedAtTime, Literal("2026-11-29T10:03:00+00:00", datatype=XSD.dateTime)) in dataset
    assert (run_iri, PROV.wasAssociatedWith, URIRef(SOFTWARE_AGENT)) in dataset
    assert (run_iri, HK.usedModel, URIRef(model)) in dataset and (URIRef(model), RDF.type, HK.Model) in dataset
    assert (URIRef(prediction), PROV.wasGeneratedBy, run_iri) in dataset
    assert len(dataset) == 8  # the three above, the software version, the model's type and two times


def test_builds_and_linking_runs_are_recorded_alike(tmp_path):
    store = store_of_fixtures(tmp_path / "store")
    try:
        link_artists(store, base_iri=get_settings().base_iri, links_dir=tmp_path / "links", authorities_dir=None)
        _, rows = store.select(
            "SELECT ?class ?p WHERE { GRAPH ?g { ?a a ?class ; ?p ?o } "
            "FILTER(?class IN (<%sGraphBuild>, <%sLinkingRun>)) "
            "FILTER(STRSTARTS(STR(?p), STR(<%s>)) || ?p = <%ssoftwareVersion>) }" % (HK, HK, PROV, HK))
    finally:
        store.close()
    recorded: dict[str, set[str]] = {}
    for row in rows:
        recorded.setdefault(str(row["class"]).rsplit("#", 1)[-1], set()).add(str(row["p"]).rsplit("#", 1)[-1])
    activity = {"startedAtTime", "endedAtTime", "wasAssociatedWith", "softwareVersion"}
    assert recorded["LinkingRun"] == activity  # no authority files: nothing used
    assert recorded["GraphBuild"] == activity | {"used", "generated"}
