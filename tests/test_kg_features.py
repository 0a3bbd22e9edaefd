"""Knowledge-graph features: leak-free triples from the store, PyKEEN vectors for every entity
with their link-prediction quality, and outside word2vec vectors reached through owl:sameAs."""

from __future__ import annotations


import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from typer.testing import CliRunner

from heritage_kg.cli import app
from heritage_kg.config import get_settings
from heritage_kg.errors import FeatureError
from heritage_kg.graph.namespaces import HK, OWL
from heritage_kg.learning.datasets import DatasetManifest, open_dataset, table_schema
from heritage_kg.learning.features.kg import (
    KGEmbedding,
    dataset_artworks,
    export_training_triples,
    train_kg_features,
)
from heritage_kg.learning.features.kg_vectors import artist_vectors_from_file, read_word2vec
from heritage_kg.learning.features.store import FeatureTable
from conftest import store_of_fixtures

BASE = "https://w3id.org/heritage-kg/"
TATE = BASE + "tate/"
TURNER, COUSEN, BRANDT, HEPWORTH = (TATE + "artist/558", TATE + "artist/2000", TATE + "artist/3000",
                                    TATE + "artist/3001")
PISSARRO = BASE + "cmoa/artist/11111111-1111-4111-8111-111111111111"
SUBJECT = HK + "subject"
SPLITS = {  # artwork -> (split, artists), as the fixture store holds them
    TATE + "artwork/N00530": ("train", [TURNER]),
    TATE + "artwork/D00001": ("train", [TURNER]),
    TATE + "artwork/P00003": ("train", [BRANDT]),
    BASE + "cmoa/artwork/99.4": ("train", [PISSARRO]),
    TATE + "artwork/T00002": ("validation", [TURNER, COUSEN]),
    TATE + "artwork/T00004": ("test", [HEPWORTH]),
}
HELD_OUT = {artwork for artwork, (split, _) in SPLITS.items() if split != "train"}
TRAIN = set(SPLITS) - HELD_OUT


@pytest.fixture(autouse=True)
def _two_threads():
    torch.set_num_threads(2)


@pytest.fixture(scope="module")
def dataset_folder(tmp_path_factory):
    """A small training set over the fixture store in the dataset folder layout, with
    subject-annotated artworks in every split. Written by hand: the fixture has too few annotated
    artworks for `build_dataset`'s stratified split to hold any out."""
    folder = tmp_path_factory.mktemp("datasets") / "fixture-level2"
    folder.mkdir()
    rows = [{"artwork": artwork, "split": split, "labels": [], "tasks": [], "title": "",
             "artists": artists, "medium_groups": [], "image_url": None}
            for artwork, (split, artists) in SPLITS.items()]
    pq.write_table(pa.Table.from_pylist(rows, schema=table_schema()), folder / "table.parquet")
    DatasetManifest(name="fixture-level2", version="by-hand", created="", parameters={"seed": 0}, tasks={}, media={},
                    population="by hand", queries={}, source={}, artworks=len(rows), splits={}, labels=[]).save(folder)
    return folder


def subject_annotations(store) -> set[tuple[str, str, str]]:
    _, rows = store.select(f"SELECT ?a ?c WHERE {{ ?a <{SUBJECT}> ?c }}")
    return {(str(row["a"]), SUBJECT, str(row["c"])) for row in rows}


def test_export_keeps_subjects_of_train_artworks_only(fixture_store, dataset_folder):
    annotations = subject_annotations(fixture_store)
    assert {a for a, _, _ in annotations} & HELD_OUT == HELD_OUT  # the held-out artworks do have subjects

    triples = export_training_triples(fixture_store, dataset_artworks(open_dataset(dataset_folder)).train,
                                      dataset="fixture-level2")
    exported = triples.labeled()

    assert not {t for t in exported if t[1] == SUBJECT and t[0] in HELD_OUT}
    train_subjects = {t for t in annotations if t[0] in TRAIN}
    assert train_subjects and {t for t in exported if t[1] == SUBJECT} == train_subjects
    assert triples.subject_triples_dropped == len(annotations - train_subjects)
    # Only labels are held back: a held-out artwork's creator is metadata the classifier sees too.
    assert (TATE + "artwork/T00002", HK + "creator", COUSEN) in exported
    assert all(term.startswith(("http://", "https://")) for t in exported for term in t)  # no literals


@pytest.fixture(scope="module")
def transe_run(fixture_store, dataset_folder, tmp_path_factory):
    torch.set_num_threads(2)
    folder = tmp_path_factory.mktemp("features") / "TransE-16"
    return train_kg_features(fixture_store, str(dataset_folder), KGEmbedding("TransE", dim=16, epochs=5, seed=7),
                             folder=folder)


def test_transe_gives_one_vector_per_entity_with_the_artists(transe_run):
    table = FeatureTable.load(transe_run.folder)
    entities = {e for h, _, t in transe_run.triples.labeled() for e in (h, t)}

    assert sorted(table.keys) == sorted(entities)
    assert table.vectors.shape == (len(entities), 16)
    assert np.isfinite(table.vectors).all()
    assert {TURNER, COUSEN, BRANDT, HEPWORTH, PISSARRO} <= set(table.keys)
    assert table.get(TURNER) is not None and not np.allclose(table.get(TURNER), table.get(HEPWORTH))


def test_transe_meta_records_link_prediction_and_the_exclusion(transe_run):
    saved = FeatureTable.load(transe_run.folder).meta
    meta = saved.details
    assert saved == transe_run.table.meta and saved.kind == "kg"  # meta.json gives back what was saved

    assert 0.0 < meta["mrr"] <= 1.0 and 0.0 <= meta["hits_at_10"] <= 1.0
    assert (saved.model, saved.dim, meta["epochs"], meta["seed"]) == ("TransE", 16, 5, 7)
    counts = meta["triples"]
    assert counts["training"] + counts["validation"] + counts["testing"] == counts["exported"]
    assert counts["evaluated"] == counts["testing"] > 0
    assert meta["subject_triples_dropped"] == 4 and meta["subject_triples_kept"] == 4
    assert "train split" in meta["exclusion"]
    assert meta["relations"][SUBJECT] == 4


def test_complex_models_store_real_and_imaginary_parts(fixture_store, dataset_folder, tmp_path):
    run = train_kg_features(fixture_store, str(dataset_folder), KGEmbedding("ComplEx", dim=8, epochs=2),
                            folder=tmp_path / "ComplEx-8")

    assert run.table.vectors.shape[1] == 16
    assert (run.table.meta.dim, run.table.meta.details["stored_dim"]) == (8, 16)
    assert "real parts then imaginary parts" in run.table.meta.details["vector_layout"]


def test_vectors_with_nowhere_to_go_are_refused_before_training(fixture_store, dataset_folder):
    with pytest.raises(FeatureError, match="say where the vectors go"):
        train_kg_features(fixture_store, dataset_folder, KGEmbedding("TransE", dim=4, epochs=1))


def test_a_dataset_name_is_found_under_the_datasets_folder(fixture_store, dataset_folder, tmp_path):
    run = train_kg_features(fixture_store, dataset_folder.name, KGEmbedding("TransE", dim=4, epochs=1),
                            datasets_dir=dataset_folder.parent, features_dir=tmp_path / "features")
    assert run.folder == tmp_path / "features" / "kg" / "fixture-level2" / "TransE-4"
    assert FeatureTable.load(run.folder).meta.dataset == "fixture-level2"


def test_an_unknown_model_is_a_clear_error(fixture_store, dataset_folder, tmp_path):
    with pytest.raises(FeatureError, match="no knowledge-graph model called 'TransX'.*TransE"):
        train_kg_features(fixture_store, str(dataset_folder), KGEmbedding("TransX"), folder=tmp_path / "x")
    assert not (tmp_path / "x").exists()

    result = CliRunner().invoke(app, ["embed", "kg", "--dataset", str(dataset_folder), "--model", "TransX",
                                      "--store", fixture_store.location])
    assert result.exit_code == 2
    assert "no knowledge-graph model called 'TransX'" in result.output


def test_embed_kg_command_trains_and_reports(fixture_store, dataset_folder, tmp_path):
    result = CliRunner().invoke(app, ["embed", "kg", "--dataset", str(dataset_folder), "--model", "DistMult",
                                      "--dim", "8", "--epochs", "2", "--store", fixture_store.location,
                                      "--out", str(tmp_path / "out")])

    assert result.exit_code == 0, result.output
    assert "MRR" in result.output and "Hits@10" in result.output
    table = FeatureTable.load(tmp_path / "out")
    assert table.meta.model == "DistMult" and TURNER in table.keys


def test_embed_kg_writes_under_the_features_folder_by_default(fixture_store, dataset_folder, tmp_path,
                                                              monkeypatch):
    monkeypatch.setenv("HERITAGE_KG_FEATURES_DIR", str(tmp_path / "features"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["embed", "kg", "--dataset", str(dataset_folder), "--dim", "4",
                                          "--epochs", "1", "--store", fixture_store.location])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert (tmp_path / "features" / "kg" / "fixture-level2" / "TransE-4" / "vectors.npy").is_file()


# --- outside vectors through owl:sameAs

WIKIDATA_TURNER = "http://www.wikidata.org/entity/Q159758"
WIKIDATA_PISSARRO = "http://www.wikidata.org/entity/Q134741"
DBPEDIA_HEPWORTH = "http://dbpedia.org/resource/Barbara_Hepworth"
DBPEDIA_BRANDT = "http://dbpedia.org/resource/Bill_Brandt"


@pytest.fixture(scope="module")
def linked_store(tmp_path_factory):
    """A copy of the fixture store with a links graph: Turner and Hepworth linked from their
    side, Pissarro from the Wikidata side, Brandt linked to a URI whose vector is malformed,
    Cousen not linked at all."""
    root = tmp_path_factory.mktemp("linked-store")
    store = store_of_fixtures(root / "store")
    links = BASE + "graph/links"
    nquads = root / "links.nq"
    nquads.write_text("".join(f"<{s}> <{OWL}sameAs> <{o}> <{links}> .\n" for s, o in [
        (TURNER, WIKIDATA_TURNER), (HEPWORTH, DBPEDIA_HEPWORTH), (WIKIDATA_PISSARRO, PISSARRO),
        (BRANDT, DBPEDIA_BRANDT)]))
    store.replace_graphs(nquads, [links])
    yield store
    store.close()


@pytest.fixture
def vectors_file(tmp_path):
    path = tmp_path / "kgvec2go-sample.txt"
    path.write_text("\n".join([
        "6 3",
        f"{WIKIDATA_TURNER} 0.1 0.2 0.3",
        f"<{DBPEDIA_HEPWORTH}> 1.0 -2.0 0.5",
        "http://www.wikidata.org/entity/Q42 9.0 9.0",  # malformed: two values for three
        "http://dbpedia.org/resource/Somebody_Else 1 2 3",  # nobody's: never kept
        f"{DBPEDIA_BRANDT} 1 two 3",  # malformed: not a number
        f"{WIKIDATA_PISSARRO} -1 0 1",
    ]) + "\n", encoding="utf-8")
    return path


def test_outside_vectors_map_through_same_as_and_mask_the_rest(linked_store, dataset_folder, vectors_file,
                                                               tmp_path):
    table, folder, coverage = artist_vectors_from_file(linked_store, str(dataset_folder), vectors_file,
                                                       folder=tmp_path / "vectors")

    assert sorted(table.keys) == sorted([TURNER, HEPWORTH, PISSARRO])
    np.testing.assert_allclose(table.get(TURNER), [0.1, 0.2, 0.3], rtol=1e-6)
    np.testing.assert_allclose(table.get(HEPWORTH), [1.0, -2.0, 0.5])
    np.testing.assert_allclose(table.get(PISSARRO), [-1.0, 0.0, 1.0])
    assert table.get(COUSEN) is None and table.get(BRANDT) is None  # masked, not made up
    assert (coverage.artists, coverage.linked, coverage.covered) == (5, 4, 3)
    assert [(m.number, "not a number" in m.reason) for m in coverage.malformed] == [(4, False), (6, True)]
    assert coverage.artworks_covered == 5  # every artwork but Brandt's P00003
    saved = FeatureTable.load(folder)
    assert saved.keys == table.keys and saved.meta.details["covered"] == 3 \
        and saved.meta.details["malformed_lines"] == 2


def test_without_links_every_artist_is_masked_and_the_command_says_how_to_link(fixture_store, dataset_folder,
                                                                             vectors_file, tmp_path):
    result = CliRunner().invoke(app, ["embed", "kg", "--dataset", str(dataset_folder), "--vectors",
                                      str(vectors_file), "--store", fixture_store.location,
                                      "--out", str(tmp_path / "vectors")])

    assert result.exit_code == 0, result.output
    assert "0 of 5 artists covered" in result.output
    assert "heritage-kg link-artists" in result.output
    table = FeatureTable.load(tmp_path / "vectors")
    assert table.keys == [] and table.vectors.shape == (0, 3)


def test_a_vectors_file_without_a_header_is_a_clear_error(tmp_path):
    path = tmp_path / "no-header.txt"
    path.write_text(f"{WIKIDATA_TURNER} 0.1 0.2 0.3\n", encoding="utf-8")

    with pytest.raises(FeatureError, match="first line should be 'N D'"):
        read_word2vec(path, {WIKIDATA_TURNER})
    with pytest.raises(FeatureError, match="cannot read the vectors file"):
        read_word2vec(tmp_path / "absent.txt", {WIKIDATA_TURNER})
