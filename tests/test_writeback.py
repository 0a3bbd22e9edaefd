"""Predictions written back into the graph: one predictions graph per classification run with
its PROV, SHACL-valid, atomic (a failure half way leaves the store as it was), a model's newer
run replacing that model's predictions for the same artworks and nothing else, and never an
hk:subject. On the embedded store and on a real Oxigraph server, through both ways a run is
written (one SPARQL update; the store's publish).

The predictions are made here, over the fixture store's real artworks and subject concepts, by
two tiny models really trained and registered (the fixture collections are too small to train
on: the models learn from synthetic rows, as in test_classifier_registry)."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
import torch
from classifier_data import synthetic_rows, write_training_set
from conftest import store_of_fixtures
from rdflib import URIRef
from test_store_backends import oxigraph_server

from heritage_kg import __version__
from heritage_kg.config import get_settings
from heritage_kg.errors import UnknownModelError
from heritage_kg.graph.namespaces import HK
from heritage_kg.graph.provenance import SOFTWARE_AGENT
from heritage_kg.graph.queries import load_query
from heritage_kg.graph.validation import validate_store
from heritage_kg.inference.predict import ArtworkPrediction, SubjectScore
from heritage_kg.inference.writeback import (
    PredictionRun, drop_run, find_run, list_runs, run_predictions, write_predictions,
)
from heritage_kg.learning.datasets import DatasetManifest
from heritage_kg.learning.registry import register_run
from heritage_kg.learning.run_config import RunConfig
from heritage_kg.learning.training import train

PREFIXES = "PREFIX hk: <https://w3id.org/heritage-kg/ontology#>\nPREFIX prov: <http://www.w3.org/ns/prov#>\n"
THRESHOLD = 0.3


def train_and_register(store, root, name: str) -> str:
    """A tiny fusion model trained on synthetic rows and recorded in the store's models graph."""
    torch.set_num_threads(1)
    folder = write_training_set(root / "datasets" / name, synthetic_rows(60), name=name)
    config = RunConfig.from_dict({
        "name": name, "seed": 0, "data": {"dataset": str(folder)},
        "model": {"name": "fusion", "inputs": ["medium", "artist"], "hidden": 4},
        "optimizer": {"name": "Adam", "lr": 0.01, "weight_decay": 0.0},
        "training": {"epochs": 1, "patience": 1, "batch_size": 16}})
    run = train(config, models_dir=root / "models")
    return register_run(store, run, base_iri=get_settings().base_iri, manifest=DatasetManifest.load(folder))


@dataclass
class WritebackStore:
    store: object
    models: tuple[str, str]
    artworks: list[str]
    concepts: list[tuple[str, str]]  # (concept, its task)


def _world(store, root) -> WritebackStore:
    models = (train_and_register(store, root, "writeback-a"), train_and_register(store, root, "writeback-b"))
    _, rows = store.select(PREFIXES + "SELECT ?a WHERE { ?a a hk:Artwork } ORDER BY ?a")
    artworks = [str(r["a"]) for r in rows]
    _, rows = store.select(PREFIXES + "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
                           "SELECT ?c ?top WHERE { ?c a hk:SubjectConcept ; skos:broader+ ?top . "
                           "?top hk:level 0 } ORDER BY ?c")
    return WritebackStore(store, models, artworks, [(str(r["c"]), str(r["top"])) for r in rows])


@pytest.fixture(scope="module", params=["embedded", "oxigraph-server"])
def world(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"writeback-{request.param}")
    if request.param == "embedded":
        store = store_of_fixtures(root / "store")
        yield _world(store, root)
        store.close()
        return
    with oxigraph_server(root / "oxigraph") as url:
        store = store_of_fixtures(url)
        yield _world(store, root)
        store.close()


def predictions(world: WritebackStore, model: str, artworks: list[str], seed: int) -> list[ArtworkPrediction]:
    """Scores for six concepts per artwork, most probable first; those over THRESHOLD predicted."""
    rng = random.Random(seed)
    made = []
    for artwork in artworks:
        chosen = rng.sample(world.concepts, 6)
        scores = sorted((SubjectScore(concept, concept.rsplit("/", 1)[-1], task, p, THRESHOLD, p >= THRESHOLD)
                         for (concept, task), p in zip(chosen, (rng.random() for _ in chosen), strict=True)),
                        key=lambda s: -s.probability)
        made.append(ArtworkPrediction(artwork, model, scores, ["medium", "artist"], []))
    return made


def write(world, model, artworks, seed, *, publish=None, curator=None):
    run = PredictionRun.start(model, base_iri=get_settings().base_iri, curator=curator)
    made = predictions(world, model, artworks, seed)
    return write_predictions(world.store, run, made, artworks=artworks, publish=publish), made


def quads(store) -> set[tuple[str, ...]]:
    _, rows = store.select("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
    return {(str(r["g"]), r["s"].n3(), r["p"].n3(), r["o"].n3()) for r in rows}


def stored(store, model: str) -> dict[str, dict[str, tuple[float, int, str]]]:
    """The model's predictions in the store: artwork -> concept -> (confidence, rank, run)."""
    _, rows = store.select(PREFIXES + """SELECT ?artwork ?concept ?confidence ?rank ?run WHERE { GRAPH ?g {
        ?run hk:usedModel ?model . ?p prov:wasGeneratedBy ?run ; hk:predictionFor ?artwork ;
        hk:predictedSubject ?concept ; hk:confidence ?confidence ; hk:rank ?rank } }""", {"model": URIRef(model)})
    found: dict[str, dict] = {}
    for r in rows:
        concepts = found.setdefault(str(r["artwork"]), {})
        assert str(r["concept"]) not in concepts, f"{r['concept']} predicted twice for {r['artwork']}"
        concepts[str(r["concept"])] = (float(r["confidence"]), int(r["rank"]), str(r["run"]))
    return found


def expected(made: list[ArtworkPrediction], run: str) -> dict[str, dict[str, tuple[float, int, str]]]:
    return {p.artwork: {s.concept: (pytest.approx(s.probability), rank, run)
                        for rank, s in enumerate(sorted(p.predicted, key=lambda s: -s.probability), start=1)}
            for p in made if p.predicted}


def subject_statements(store) -> set[tuple[str, str, str]]:
    _, rows = store.select(PREFIXES + "SELECT ?g ?a ?c WHERE { GRAPH ?g { ?a hk:subject ?c } }")
    return {(str(r["g"]), str(r["a"]), str(r["c"])) for r in rows}


@pytest.mark.parametrize("publish", [False, True], ids=["update", "publish"])
def test_a_run_writes_its_predictions_and_provenance_into_its_own_graph(world, publish):
    model = world.models[0]
    artworks = world.artworks[:4]
    base = get_settings().base_iri
    curator = f"{base}agent/curator/alice"
    written, made = write(world, model, artworks, seed=1, publish=publish, curator=curator)
    run = written.run
    assert run.graph == f"{base}graph/predictions/{run.run_id}" and run.run_id.startswith("writeback-a-")
    assert run.iri == f"{base}classification/{run.run_id}"
    assert run.graph in world.store.named_graphs()
    in_graph = {a: c for a, c in stored(world.store, model).items() if any(v[2] == run.iri for v in c.values())}
    assert in_graph == expected(made, run.iri)
    assert written.predictions == sum(len(p.predicted) for p in made) > 0
    assert written.artworks == 4
    _, (row,) = world.store.select(PREFIXES + """SELECT ?start ?end ?version ?model WHERE { GRAPH ?g {
        ?run a hk:ClassificationRun ; prov:startedAtTime ?start ; prov:endedAtTime ?end ;
             hk:softwareVersion ?version ; hk:usedModel ?model ; prov:wasAssociatedWith ?agent } }""",
                                   {"g": URIRef(run.graph), "run": URIRef(run.iri), "agent": URIRef(SOFTWARE_AGENT)})
    assert row["start"].toPython() <= row["end"].toPython()
    assert str(row["version"]) == __version__ and str(row["model"]) == model
    # the model is the registry's entity
    assert world.store.ask(PREFIXES + "ASK { GRAPH ?g { ?run prov:wasAssociatedWith ?curator } }",
                           {"g": URIRef(run.graph), "run": URIRef(run.iri), "curator": URIRef(curator)})
    assert world.store.ask(PREFIXES + "ASK { GRAPH ?models { ?model a hk:Model ; hk:runFolder ?folder } }",
                           {"model": URIRef(model)})
    # every prediction of the graph was generated by the run, and the graph holds nothing else
    _, rows = world.store.select(PREFIXES + "SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s ?p ?o } }",
                                 {"g": URIRef(run.graph)})
    subjects = {str(r["s"]) for r in rows} - {run.iri}
    assert len(subjects) == written.predictions
    assert all(s.startswith(f"{base}prediction/{run.run_id}/") for s in subjects)


def test_the_written_predictions_conform_to_the_shapes(world):
    write(world, world.models[1], world.artworks, seed=2, publish=True)
    report = validate_store(world.store)
    assert report.conforms, report.violations[:5]
    assert report.checked[HK + "SubjectPrediction"] > 0 and report.checked[HK + "ClassificationRun"] > 0


def test_predictions_never_appear_as_subjects(world):
    before = subject_statements(world.store)
    for publish in (False, True):
        write(world, world.models[0], world.artworks, seed=3, publish=publish)
    assert subject_statements(world.store) == before
    assert not world.store.ask(PREFIXES + "ASK { GRAPH ?g { ?run a hk:ClassificationRun . ?x hk:subject ?y } }")


@pytest.mark.parametrize("publish", [False, True], ids=["update", "publish"])
def test_a_rerun_replaces_that_models_predictions_for_those_artworks_and_nothing_else(world, publish):
    model_a, model_b = world.models
    first, first_made = write(world, model_a, world.artworks, seed=10, publish=True)
    other, other_made = write(world, model_b, world.artworks, seed=11, publish=True)
    curated = subject_statements(world.store)
    rerun_artworks = world.artworks[:3]
    rerun, rerun_made = write(world, model_a, rerun_artworks, seed=12, publish=publish)

    assert rerun.replaced_artworks == 3 and rerun.replaced_graphs == [first.run.graph]
    want = expected(first_made, first.run.iri)
    for artwork in rerun_artworks:
        want.pop(artwork, None)
    want.update(expected(rerun_made, rerun.run.iri))
    assert stored(world.store, model_a) == want
    assert stored(world.store, model_b) == expected(other_made, other.run.iri)
    assert subject_statements(world.store) == curated
    # the older run stays, with what it still says
    older = find_run(world.store, first.run.run_id, base_iri=get_settings().base_iri)
    assert older.artworks == len([a for a in expected(first_made, "").keys() if a not in rerun_artworks])


def test_a_model_missing_from_the_models_graph_is_refused_before_anything_is_written(world):
    before = quads(world.store)
    unregistered = f"{get_settings().base_iri}model/never-registered"
    for publish in (False, True):
        run = PredictionRun.start(unregistered, base_iri=get_settings().base_iri)
        with pytest.raises(UnknownModelError, match="models register never-registered"):
            write_predictions(world.store, run, predictions(world, unregistered, world.artworks, seed=5),
                              artworks=world.artworks, publish=publish)
    assert quads(world.store) == before


class Failure(RuntimeError):
    pass


def failing(made, after: int):
    """The predictions, then a failure, as a classifier that breaks half way."""
    for number, prediction in enumerate(made):
        if number == after:
            raise Failure("the classifier failed half way")
        yield prediction


@pytest.mark.parametrize("publish", [False, True], ids=["update", "publish"])
def test_a_run_that_fails_half_way_leaves_the_store_as_it_was(world, publish):
    model = world.models[0]
    write(world, model, world.artworks, seed=20, publish=True)  # older predictions a rerun would replace
    before = quads(world.store)
    run = PredictionRun.start(model, base_iri=get_settings().base_iri)
    made = predictions(world, model, world.artworks, seed=21)
    with pytest.raises(Failure):
        write_predictions(world.store, run, failing(made, after=len(made) // 2), artworks=world.artworks,
                          publish=publish)
    assert quads(world.store) == before
    assert run.graph not in world.store.named_graphs()


def test_runs_are_listed_shown_and_dropped(world):
    written, made = write(world, world.models[1], world.artworks[:2], seed=30)
    runs = list_runs(world.store)
    assert runs[0].graph == written.run.graph  # newest first
    summary = find_run(world.store, written.run.run_id, base_iri=get_settings().base_iri)
    assert (summary.model, summary.predictions, summary.artworks) == (
        world.models[1], written.predictions, len([p for p in made if p.predicted]))
    shown = {(p.artwork, p.concept, p.rank) for p in run_predictions(world.store, summary)}
    assert shown == {(a, c, v[1]) for a, cs in expected(made, "").items() for c, v in cs.items()}
    before_other = {g for g in world.store.named_graphs() if g != summary.graph}
    drop_run(world.store, summary)
    assert set(world.store.named_graphs()) == before_other
    assert written.run.run_id not in {r.run_id for r in list_runs(world.store)}


def test_the_predictions_for_an_artwork_query_reads_them_back(world):
    artwork = world.artworks[0]
    written, made = write(world, world.models[0], [artwork], seed=40)
    query = load_query("predictions_for_artwork")
    _, rows = world.store.select(query.text, query.bindings({"artwork": URIRef(artwork)}))
    mine = [r for r in rows if str(r["run"]) == written.run.iri]
    (prediction,) = made
    assert [(str(r["concept"]), int(r["rank"])) for r in mine] == [
        (s.concept, rank) for rank, s in enumerate(prediction.predicted, start=1)]
    assert all(str(r["model"]) == world.models[0] and "conceptLabel" in r for r in mine)
    # one run per model at most
    runs_per_model = {}
    for r in rows:
        runs_per_model.setdefault(str(r["model"]), set()).add(str(r["run"]))
    assert set(runs_per_model) <= set(world.models)
    assert all(len(runs) == 1 for runs in runs_per_model.values())


def test_the_sources_query_tells_the_collection_a_curator_and_each_model_apart(world):
    base = get_settings().base_iri
    _, rows = world.store.select(PREFIXES + "SELECT ?a ?c WHERE { GRAPH ?g { ?a hk:subject ?c } } ORDER BY ?a ?c",
                                 {"g": URIRef(f"{base}graph/tate")})
    artwork = str(rows[0]["a"])
    annotated = {str(r["c"]) for r in rows if str(r["a"]) == artwork}
    written, made = write(world, world.models[1], [artwork], seed=60)
    (prediction,) = made
    # a curator accepts one prediction, as a review writes it into the curator graph
    accepted = prediction.predicted[0].concept
    review, curator = f"{base}review/test-1", f"{base}agent/curator/alice"
    world.store.update(PREFIXES + f"""INSERT DATA {{ GRAPH <{base}graph/curator/reviews> {{
        <{artwork}> hk:subject <{accepted}> .
        <{review}> a hk:SubjectReview ; hk:verdict "accepted" ; hk:reviewedArtwork <{artwork}> ;
            hk:reviewedSubject <{accepted}> ; prov:wasAttributedTo <{curator}> ;
            prov:generatedAtTime "2026-11-29T12:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> }} }}""")
    try:
        query = load_query("subject_statement_sources")
        _, rows = world.store.select(query.text, query.bindings({"artwork": URIRef(artwork)}))
        by_source: dict[str, list] = {}
        for row in rows:
            by_source.setdefault(str(row["source"]), []).append(row)
        assert {str(r["concept"]) for r in by_source["collection"]} == annotated
        assert {str(r["agent"]) for r in by_source["collection"]} == {f"{base}tate"}
        assert all("when" in r and "confidence" not in r for r in by_source["collection"])
        (by_curator,) = by_source["curator"]
        assert (str(by_curator["concept"]), str(by_curator["agent"]), str(by_curator["statement"])) == (
            accepted, curator, review)
        mine = {str(r["concept"]): r for r in by_source["model"] if str(r["agent"]) == world.models[1]}
        assert {c: float(r["confidence"]) for c, r in mine.items()} == {
            s.concept: pytest.approx(s.probability) for s in prediction.predicted}
        assert {r["when"].toPython() for r in mine.values()} == {written.ended}
    finally:
        world.store.update(f"DROP GRAPH <{base}graph/curator/reviews>")
