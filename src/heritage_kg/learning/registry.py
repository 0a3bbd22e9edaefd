"""The model registry in the graph: a trained run, recorded in the models graph
(`{base}graph/models`) as PROV, so that any model's numbers can be traced by SPARQL back to the
queries and the store build that made its data.

    <model> a hk:Model, prov:Entity           rdfs:label, hk:architecture, hk:runFolder, hk:checksum
        hk:trainedOn <training set> ; prov:wasGeneratedBy <training run> ;
        hk:evaluation <evaluation>            one per split and threshold policy:
            hk:split, hk:thresholdPolicy, hk:labelMicroF1, hk:labelMacroF1, hk:meanTaskF1, hk:artworkCount,
            hk:taskScore / hk:labelScore <score>  hk:scoredConcept, hk:accuracy, hk:precision, hk:recall, hk:f1, hk:support
    <training run> a hk:TrainingRun           prov times, hk:softwareVersion, hk:configDigest (sha256), prov:used the set
    <training set> a hk:TrainingSet           hk:datasetName, hk:datasetVersion,
        prov:wasDerivedFrom <collection graph> and each <query> ; prov:wasInfluencedBy <graph build>
    <query> a hk:DatasetQuery                 hk:queryName, hk:queryText, hk:checksum (named by its digest)

Everything of one model lives under its IRI (`{base}model/{run name}`), so registering a run again
replaces its statements; training sets and queries are shared by the models that used them.
"""

from __future__ import annotations

import hashlib
import io
from datetime import datetime
from pathlib import Path

from rdflib import Literal, URIRef

from heritage_kg.graph.namespaces import HK, PROV, RDF, RDFS, Minter, segment
from heritage_kg.graph.nquads import QuadWriter, TripleWriter
from heritage_kg.graph.provenance import write_activity, write_used
from heritage_kg.graph.queries import inline_bindings, load_query
from heritage_kg.graph.store import GraphStore
from heritage_kg.learning.datasets import DatasetManifest, open_dataset
from heritage_kg.learning.evaluation import BinaryScores, SplitMetrics
from heritage_kg.learning.runs import ClassificationRun

TYPE, LABEL = RDF + "type", RDFS + "label"
MODELS_GRAPH = "models"


def models_graph(minter: Minter) -> str:
    return minter.graph(MODELS_GRAPH)


def model_iri(minter: Minter, run_name: str) -> str:
    return f"{minter.base}model/{segment(run_name)}"


def training_set_iri(minter: Minter, manifest: DatasetManifest) -> str:
    return f"{minter.base}dataset/{segment(manifest.name)}/{segment(manifest.version)}"


def query_iri(minter: Minter, text: str) -> str:
    """A query is named by its text's digest: the same text is the same entity, whoever used it."""
    return f"{minter.base}query/{_sha256(text)[:20]}"


def register_run(store: GraphStore, run: ClassificationRun, *, base_iri: str,
                 manifest: DatasetManifest | None = None, datasets_dir: Path | None = None) -> str:
    """Records `run` in the models graph, replacing an earlier record of the same run; returns
    the model's IRI. `manifest` is the training set's (read from the run's dataset by default)."""
    minter = Minter(base_iri)
    manifest = manifest or open_dataset(run.config.data.dataset, datasets_dir).manifest
    model = model_iri(minter, run.name)
    text = io.StringIO()
    write_model(TripleWriter(text), minter, run, manifest)
    graph = models_graph(minter)
    drop = load_query("models_drop_model")
    removal = inline_bindings(drop.text, drop.bindings({"graph": URIRef(graph), "model": URIRef(model),
                                                        "prefix": Literal(model + "/")}))
    # one request, so a reader sees the old record or the new one
    store.update(f"{removal} ;\nINSERT DATA {{ GRAPH <{graph}> {{\n{text.getvalue()}}} }}")
    return model


def write_model(graph: QuadWriter, minter: Minter, run: ClassificationRun, manifest: DatasetManifest) -> None:
    """The statements of the module's docstring, for one run."""
    model, activity = model_iri(minter, run.name), model_iri(minter, run.name) + "/training"
    training_set = training_set_iri(minter, manifest)
    graph.iri(model, TYPE, HK + "Model")
    graph.iri(model, TYPE, PROV + "Entity")
    graph.text(model, LABEL, run.name)
    graph.text(model, HK + "architecture", run.model_name)
    graph.text(model, HK + "runFolder", str(run.folder.resolve()))
    weights = run.folder / "weights.safetensors"
    if weights.is_file():
        graph.text(model, HK + "checksum", "sha256:" + hashlib.sha256(weights.read_bytes()).hexdigest())
    graph.iri(model, HK + "trainedOn", training_set)
    graph.iri(model, PROV + "wasGeneratedBy", activity)

    times = run.training
    write_activity(graph, activity, HK + "TrainingRun", _moment(times.get("started")),
                   ended=_moment(times.get("ended")))
    graph.text(activity, HK + "configDigest", "sha256:" + run.config.sha256)
    write_used(graph, activity, training_set, HK + "TrainingSet")

    for policy, splits in run.metrics.items():
        for split, metrics in splits.items():
            _write_evaluation(graph, f"{model}/evaluation/{segment(policy)}/{split}", model, policy, split, metrics)
    write_training_set(graph, minter, manifest)


def write_training_set(graph: QuadWriter, minter: Minter, manifest: DatasetManifest) -> None:
    training_set = training_set_iri(minter, manifest)
    graph.iri(training_set, TYPE, HK + "TrainingSet")
    graph.iri(training_set, TYPE, PROV + "Entity")
    graph.text(training_set, HK + "datasetName", manifest.name)
    graph.text(training_set, HK + "datasetVersion", manifest.version)
    graph.integer(training_set, HK + "artworkCount", manifest.artworks)
    source = manifest.source
    if source.get("graph"):
        graph.iri(training_set, PROV + "wasDerivedFrom", source["graph"])
    if source.get("build"):
        # A build is an activity: an entity derived from its output was influenced by it.
        graph.iri(training_set, PROV + "wasInfluencedBy", source["build"])
    for name, text in sorted(manifest.queries.items()):
        query = query_iri(minter, text)
        graph.iri(training_set, PROV + "wasDerivedFrom", query)
        graph.iri(query, TYPE, HK + "DatasetQuery")
        graph.text(query, HK + "queryName", name)
        graph.text(query, HK + "queryText", text)
        graph.text(query, HK + "checksum", "sha256:" + _sha256(text))


def _write_evaluation(graph: QuadWriter, evaluation: str, model: str, policy: str, split: str,
                      metrics: SplitMetrics) -> None:
    graph.iri(model, HK + "evaluation", evaluation)
    graph.iri(evaluation, TYPE, HK + "ModelEvaluation")
    graph.text(evaluation, HK + "split", split)
    graph.text(evaluation, HK + "thresholdPolicy", policy)
    graph.integer(evaluation, HK + "artworkCount", metrics.rows)
    graph.decimal(evaluation, HK + "labelMicroF1", metrics.micro_f1)
    graph.decimal(evaluation, HK + "labelMacroF1", metrics.macro_f1)
    graph.decimal(evaluation, HK + "meanTaskF1", metrics.mean_task_f1)
    for kind, scores in (("task", metrics.tasks), ("label", metrics.labels)):
        for number, (concept, score) in enumerate(scores.items()):
            node = f"{evaluation}/{kind}/{number}"
            graph.iri(evaluation, HK + f"{kind}Score", node)
            _write_score(graph, node, concept, score)


def _write_score(graph: QuadWriter, node: str, concept: str, score: BinaryScores) -> None:
    graph.iri(node, TYPE, HK + "ConceptScore")
    graph.iri(node, HK + "scoredConcept", concept)
    graph.decimal(node, HK + "accuracy", score.accuracy)
    graph.decimal(node, HK + "precision", score.precision)
    graph.decimal(node, HK + "recall", score.recall)
    graph.decimal(node, HK + "f1", score.f1)
    graph.integer(node, HK + "support", score.support)


def _moment(value: str | None) -> datetime:
    return datetime.fromisoformat(value) if value else datetime.now().astimezone()


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

