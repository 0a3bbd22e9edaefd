"""POST /classify: registry models classify an artwork of the graph by IRI (a real Tate artwork, a
real CMOA object whose artist borrows the identity of the Tate artist it is owl:sameAs to), or one
the request describes (metadata, an image, both), with the very probabilities the learning stage's
own predict gives for the same inputs; and every bad input is a clear 4xx that changes nothing."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import torch
from classifier_data import write_kg_features
from classify_models import IMAGE_SIZE, SYNTHETIC_BASE, synthetic_classifiers, train_run
from fastapi.testclient import TestClient
from PIL import Image

from api import dependencies
from api.app import create_app
from heritage_kg.config import Settings
from heritage_kg.graph.namespaces import Minter
from heritage_kg.inference.predict import ArtworkClassifier
from heritage_kg.learning.datasets import DatasetSpec, build_dataset, open_dataset
from heritage_kg.learning.features.store import FeatureTable
from heritage_kg.learning.features.text import embed_titles
from heritage_kg.learning.inputs import assemble_inputs, period_of
from heritage_kg.learning.runs import load_run

TOLERANCE = 1e-4  # titles and images are encoded again, in another batch: float noise only


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def client_for(settings: Settings, store) -> TestClient:
    app = create_app(settings)
    app.dependency_overrides[dependencies.get_store] = lambda: store  # the store this process holds open
    return TestClient(app)


def expected_probabilities(run_folder, split: str, artwork: str, **assemble) -> dict[str, float]:
    """What learning's own predict gives an artwork of the run's dataset, by concept IRI."""
    run = load_run(run_folder)
    training_set = open_dataset(run.config.data.dataset)
    inputs = assemble_inputs(training_set, list(run.model.inputs), [], vocabularies=run.vocabularies, **assemble)
    rows = inputs.splits[split]
    probabilities, _, _ = run.predict(rows)
    return dict(zip(run.space.labels, probabilities[rows.artworks.index(artwork)].tolist(), strict=True))


def label_probabilities(answer: dict) -> dict[str, float]:
    """The probability of every concept of the answer (tasks and labels), by IRI."""
    return {subject["concept"]: subject["probability"]
            for task in answer["tasks"] for subject in (task, *task["labels"])}


def assert_close(answer: dict, expected: dict[str, float]) -> None:
    got = label_probabilities(answer)
    assert set(expected) <= set(got)
    assert all(abs(got[concept] - expected[concept]) < TOLERANCE for concept in expected), (got, expected)


def assert_consistent(answer: dict) -> None:
    """A task is at least as probable as each of its labels and predicted exactly when one is (a
    task that is itself the label, at level 1, by its own threshold); a label at or over its
    threshold is predicted."""
    for task in answer["tasks"]:
        assert all(task["probability"] >= label["probability"] for label in task["labels"])
        if task["threshold"] is None:
            assert task["predicted"] == any(label["predicted"] for label in task["labels"])
        for subject in (task, *task["labels"]):
            if subject["threshold"] is not None and subject["probability"] >= subject["threshold"]:
                assert subject["predicted"]


# --- synthetic models: metadata, image, both

@pytest.fixture(scope="module")
def synthetic(tmp_path_factory, fixture_store):
    classifiers = synthetic_classifiers(tmp_path_factory.mktemp("classify"), count=60)
    settings = Settings(store=fixture_store.location, base_iri=SYNTHETIC_BASE, models_dir=classifiers.models,
                        features_dir=classifiers.root / "features", default_model="meta",
                        classify_max_image_bytes=40_000, classify_max_image_pixels=250_000)
    return classifiers, client_for(settings, fixture_store)


def painted_row(rows: list[dict], split: str) -> dict:
    """A row of `split` whose medium is painting (what the glossary makes of 'Oil paint on canvas')."""
    return next(r for r in rows if r["split"] == split and r["medium_groups"] == [SYNTHETIC_BASE + "medium/painting"]
                and r["labels"])


def test_metadata_gives_the_probabilities_learning_gives(synthetic):
    classifiers, client = synthetic
    row = painted_row(classifiers.rows, "test")
    response = client.post("/classify", data={"title": row["title"], "artist": row["artists"][0],
                                              "medium": "Oil paint on canvas"})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["model"] == SYNTHETIC_BASE + "model/meta" and answer["artwork"] is None
    # The synthetic artists of held-out rows never made a train row: the model has no identity for
    # them, only their KG vector.
    assert answer["inputs_used"] == ["text", "kg", "medium", "words"] and answer["inputs_missing"] == ["artist"]
    expected = expected_probabilities(
        classifiers.models / "meta", "test", row["artwork"],
        features={"text": FeatureTable.load(classifiers.text),
                  "kg": FeatureTable.load(classifiers.root / "kg")})
    assert_close(answer, expected)
    assert_consistent(answer)
    assert [task["concept"] for task in answer["tasks"]] == sorted(
        (task["concept"] for task in answer["tasks"]), key=lambda c: -next(t["probability"] for t in answer["tasks"]
                                                                             if t["concept"] == c))


def test_a_title_alone_uses_the_title_and_says_what_was_missing(synthetic):
    _, client = synthetic
    answer = client.post("/classify", data={"title": "a red painting"}).json()
    # None of its words is in the training titles' vocabulary ("artwork number N"): no words input.
    assert answer["inputs_used"] == ["text"] and answer["inputs_missing"] == ["kg", "medium", "artist", "words"]


def test_an_image_alone_with_the_visual_model(synthetic):
    classifiers, client = synthetic
    row = next(r for r in classifiers.rows if r["split"] == "test" and r["labels"])
    image = classifiers.image_of(row)
    response = client.post("/classify?model=visual", files={"image": ("art.png", image.read_bytes(), "image/png")})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["model"] == SYNTHETIC_BASE + "model/visual" and answer["inputs_used"] == ["image"]
    expected = expected_probabilities(classifiers.models / "visual", "test", row["artwork"], features={},
                                      image_folder=classifiers.images, image_size=IMAGE_SIZE)
    assert_close(answer, expected)
    assert_consistent(answer)


def test_an_image_and_metadata_through_the_resnet_trunk(synthetic):
    classifiers, client = synthetic
    row = painted_row(classifiers.rows, "validation")
    image = classifiers.image_of(row).read_bytes()
    both = client.post(f"/classify?model={SYNTHETIC_BASE}model/both",  # a model named by its registry IRI
                       data={"title": row["title"], "medium": "Oil paint on canvas"},
                       files={"image": ("art.png", image, "image/png")}).json()
    assert both["model"] == SYNTHETIC_BASE + "model/both"
    assert both["inputs_used"] == ["image", "text", "medium"] and both["inputs_missing"] == []
    expected = expected_probabilities(classifiers.models / "both", "validation", row["artwork"],
                                      features={"text": FeatureTable.load(classifiers.text),
                                                "images": FeatureTable.load(classifiers.image_vectors)})
    assert_close(both, expected)
    image_only = client.post("/classify?model=both", files={"image": ("art.png", image, "image/png")}).json()
    assert image_only["inputs_used"] == ["image"] and image_only["inputs_missing"] == ["text", "medium"]
    assert label_probabilities(image_only) != label_probabilities(both)


def test_a_model_is_loaded_once_and_kept(synthetic):
    _, client = synthetic
    loaded = client.app.state.classifiers._loaded
    client.post("/classify", data={"title": "one"})
    first = dict(loaded)
    client.post("/classify", data={"title": "two"})
    assert dict(loaded) == first and all(loaded[folder] is first[folder] for folder in first)


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def _bomb_header(width: int, height: int) -> bytes:
    """A PNG that declares width x height pixels and holds almost none: a decompression bomb's
    header. Decoding it would fail as truncated; the pixel limit refuses it first."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(1000))))


BAD_REQUESTS = [
    ("an empty request", {}, None, "", 400, "nothing to classify"),
    ("blank fields", {"title": "  ", "medium": ""}, None, "", 400, "nothing to classify"),
    ("not an image", {}, b"%PDF-1.4 not a picture", "", 400, "not an image"),
    ("an empty upload", {}, b"", "", 400, "empty"),
    ("a truncated image", {}, _png(300, 200)[:400], "", 400, "truncated"),
    ("over the pixel limit", {}, _png(600, 600), "", 413, "pixels"),
    ("a decompression bomb", {}, _bomb_header(50_000, 50_000), "", 413, "pixels"),
    ("over the byte limit", {}, b"\x89PNG" + bytes(40_100), "", 413, "bytes"),
    ("far over the byte limit", {}, bytes(200_000), "", 413, "HERITAGE_KG_CLASSIFY_MAX_IMAGE_BYTES"),
    ("a title over the limit", {"title": "t" * 501}, None, "", 400, "at most 500"),
    ("an unknown artwork", {"artwork": "https://example.org/artwork/none"}, None, "", 404, "no artwork"),
    ("an artwork that is no IRI", {"artwork": "x> } } SELECT * { ?s ?p ?o"}, None, "", 400, "is not an IRI"),
    ("an artist IRI that is no IRI", {"artist": "https://x.org/a b"}, None, "", 400, "is not an IRI"),
    ("an artwork and a description", {"artwork": "https://example.org/artwork/0001", "title": "x"}, None, "",
     400, "not both"),
    ("an unknown model", {"title": "x"}, None, "?model=no-such-model", 404, "no model 'no-such-model'"),
    ("a model outside the models folder", {"title": "x"}, None, "?model=../synthetic", 404, "no model"),
]


@pytest.mark.parametrize(("data", "image", "query", "status", "reason"),
                         [case[1:] for case in BAD_REQUESTS], ids=[case[0] for case in BAD_REQUESTS])
def test_bad_input_is_a_clear_4xx_and_changes_nothing(synthetic, fixture_store, data, image, query, status, reason):
    _, client = synthetic
    before = (fixture_store.data_version(), fixture_store.triple_count())
    files = {"image": ("upload.png", image, "image/png")} if image is not None else None
    response = client.post(f"/classify{query}", data=data, files=files)
    assert response.status_code == status, response.text
    assert reason in response.json()["detail"]
    assert (fixture_store.data_version(), fixture_store.triple_count()) == before
    assert client.post("/classify", data={"title": "still answering"}).status_code == 200


def test_an_upload_sent_without_a_length_is_read_no_further_than_the_limit(synthetic):
    classifiers, client = synthetic
    image = classifiers.image_of(classifiers.rows[0]).read_bytes()

    def chunked(files: dict):  # a multipart body sent in chunks, without a Content-Length
        built = client.build_request("POST", "/classify?model=visual", files=files)
        body = built.read()
        return client.post("/classify?model=visual", content=(body[i:i + 4096] for i in range(0, len(body), 4096)),
                           headers={"Content-Type": built.headers["Content-Type"]})

    small = chunked({"image": ("art.png", image, "image/png")})
    assert small.status_code == 200, small.text
    assert small.json()["inputs_used"] == ["image"]
    large = chunked({"image": ("art.png", bytes(300_000), "image/png")})
    assert large.status_code == 413 and "HERITAGE_KG_CLASSIFY_MAX_IMAGE_BYTES" in large.json()["detail"]


def test_the_schemas_are_in_the_openapi_docs(synthetic):
    _, client = synthetic
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/classify"]["post"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Classification")
    form = spec["components"]["schemas"][operation["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
                                         .rsplit("/", 1)[-1]]
    assert {"image", "title", "artist", "medium", "artwork"} <= set(form["properties"])
    assert {"tasks", "inputs_used", "inputs_missing", "model"} <= set(spec["components"]["schemas"]["Classification"]
                                                                      ["properties"])


# --- a model trained on a slice of the real Tate collection, over the real store

@pytest.fixture(scope="module")
def real_model(real_store, tmp_path_factory):
    """A fusion model over title, artist KG vector, medium and the artist, catalogue group and
    period identities, trained on the real Tate sculptures' level-1 subjects; the titles through the real encoder, the artists' KG vectors
    random (training PyKEEN here would take minutes)."""
    root = tmp_path_factory.mktemp("classify-real")
    built = build_dataset(real_store, DatasetSpec(name="classify-sculpture", granularity="level1",
                                                  media=("sculpture",)), datasets_dir=root / "datasets")
    rows = built.table.to_pylist()
    features = root / "features"
    text = embed_titles([r["artwork"] for r in rows], [r["title"] for r in rows], dataset=built.name,
                        features_dir=features).folder
    kg = write_kg_features(root / "kg", rows, dataset=built.name)
    folder = train_run(root / "models", "sculpture", built.folder,
                       {"name": "fusion", "inputs": ["text", "kg", "medium", "artist", "group", "period"],
                        "hidden": 32},
                       {"text": str(text), "kg": str(kg)}, epochs=6)
    settings = Settings(store=real_store.location, models_dir=root / "models", features_dir=features,
                        default_model="sculpture")
    return {"folder": folder, "rows": rows, "text": text, "kg": kg, "features": features,
            "client": client_for(settings, real_store)}


@pytest.mark.realdata
def test_a_real_tate_artwork_by_iri(real_model):
    vocabularies = load_run(real_model["folder"], with_model=False).vocabularies
    # a held-out sculpture whose artist and decade the model knows: the graph gives it both inputs
    row = next(r for r in real_model["rows"] if r["split"] == "test" and set(r["artists"]) & set(vocabularies.artists)
               and r["year"] is not None and period_of(r["year"]) in vocabularies.periods)
    answer = real_model["client"].post("/classify", data={"artwork": row["artwork"]}).json()
    assert answer["artwork"] == row["artwork"]
    assert answer["model"] == Minter(Settings().base_iri).base + "model/sculpture"
    in_group = bool(set(row["catalogue_groups"]) & set(vocabularies.catalogue_groups))
    assert answer["inputs_used"] == ["text", "kg", "medium", "artist", *(["group"] if in_group else []), "period"]
    expected = expected_probabilities(real_model["folder"], "test", row["artwork"],
                                      features={"text": FeatureTable.load(real_model["text"]),
                                                "kg": FeatureTable.load(real_model["kg"])})
    assert len(expected) == 6  # level 1: each task is one label
    assert_close(answer, expected)
    assert_consistent(answer)


@pytest.mark.realdata
def test_an_artist_named_in_the_request_is_found_in_the_graph(real_model, real_store):
    run = load_run(real_model["folder"], with_model=False)
    artist = run.vocabularies.artists[0]
    _, names = real_store.select("PREFIX hk: <https://w3id.org/heritage-kg/ontology#> "
                                 f"SELECT ?name WHERE {{ <{artist}> hk:name ?name }}")
    client = real_model["client"]
    by_name = client.post("/classify", data={"title": "Figure", "artist": str(names[0]["name"])}).json()
    by_iri = client.post("/classify", data={"title": "Figure", "artist": artist}).json()
    assert by_name["inputs_used"] == ["text", "kg", "artist"]
    assert label_probabilities(by_name) == label_probabilities(by_iri)
    unknown = client.post("/classify", data={"title": "Figure", "artist": "Nobody Of That Name"}).json()
    assert unknown["inputs_missing"] == ["kg", "medium", "artist", "group", "period"]


@pytest.mark.realdata
def test_a_year_in_the_request_is_read_as_its_period(real_model):
    periods = load_run(real_model["folder"], with_model=False).vocabularies.periods
    client = real_model["client"]
    dated = client.post("/classify", data={"title": "Figure", "year": str(periods[0] + 3)}).json()
    assert dated["inputs_used"] == ["text", "period"]
    other = client.post("/classify", data={"title": "Figure", "year": str(periods[-1] + 3)}).json()
    assert label_probabilities(dated) != label_probabilities(other)
    alone = client.post("/classify", data={"year": str(periods[0])})
    assert alone.status_code == 200 and alone.json()["inputs_used"] == ["period"]
    for bad in ("1850s", "99999"):
        response = client.post("/classify", data={"title": "Figure", "year": bad})
        assert response.status_code == 422 and "year" in response.text


@pytest.mark.realdata
def test_a_cmoa_object_borrows_the_tate_artist_it_is_the_same_as(real_model, real_store):
    _, found = real_store.select("""PREFIX hk: <https://w3id.org/heritage-kg/ontology#>
        SELECT ?artwork ?artist ?title ?medium ?year WHERE {
          ?artwork hk:inCollection <https://w3id.org/heritage-kg/cmoa> ; hk:title ?title ; hk:medium ?medium ;
                   hk:mediumGroup ?group ; hk:creator ?artist ; hk:startYear ?year .
          FILTER NOT EXISTS { ?artwork hk:creator ?other FILTER(?other != ?artist) }
        } ORDER BY ?artwork LIMIT 1""")
    cmoa = found[0]
    vocabularies = load_run(real_model["folder"], with_model=False).vocabularies
    # the CMOA object's start year comes from the graph as its period, when the model knows the decade
    period = ["period"] if period_of(int(cmoa["year"])) in vocabularies.periods else []
    client = real_model["client"]
    alone = client.post("/classify", data={"artwork": str(cmoa["artwork"])}).json()
    assert alone["artwork"] == str(cmoa["artwork"])
    assert alone["inputs_used"] == ["text", "medium", *period]
    assert alone["inputs_missing"] == ["kg", "artist", "group", *(["period"] if not period else [])]

    tate_artist = vocabularies.artists[0]
    graph = "https://w3id.org/heritage-kg/graph/links/test-classify"
    real_store.update(f"INSERT DATA {{ GRAPH <{graph}> {{ <{cmoa['artist']}> "
                      f"<http://www.w3.org/2002/07/owl#sameAs> <{tate_artist}> }} }}")
    try:
        linked = client.post("/classify", data={"artwork": str(cmoa["artwork"])}).json()
        described = client.post("/classify", data={"title": str(cmoa["title"]), "artist": tate_artist,
                                                    "medium": str(cmoa["medium"]), "year": str(cmoa["year"])}).json()
    finally:
        real_store.update(f"DROP GRAPH <{graph}>")
    assert linked["inputs_used"] == ["text", "kg", "medium", "artist", *period]
    assert_close(linked, label_probabilities(described))
    assert label_probabilities(linked) != label_probabilities(alone)


@pytest.mark.realdata
def test_artworks_are_classified_in_batches_as_one_by_one(real_model, real_store):
    classifier = ArtworkClassifier.load(real_model["folder"], features_dir=real_model["features"],
                                        base_iri=Settings().base_iri)
    artworks = [r["artwork"] for r in real_model["rows"][:7]]
    batched = classifier.classify_artworks(real_store, artworks, batch_size=3)
    assert [p.artwork for p in batched] == artworks
    for artwork, prediction in zip(artworks, batched, strict=True):
        alone = classifier.classify_artworks(real_store, [artwork])[0]
        assert np.allclose([s.probability for s in alone.subjects], [s.probability for s in prediction.subjects],
                           atol=TOLERANCE)

