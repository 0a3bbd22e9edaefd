"""Image features: the ResNet-50 trunk (2048-d) on 224 px ImageNet-normalised images, weights from
a file or torchvision's cache (a clear error when neither is here), the cache by image bytes, and
`heritage-kg embed images` (artworks without an image are absent, never made up)."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from heritage_kg.cli import app
from heritage_kg.errors import FeatureError
from heritage_kg.learning.features.images import (
    IMAGENET_MEAN, IMAGENET_STD, ImageEncoder, embed_images, image_tensor, locate_weights,
)
from heritage_kg.learning.features.store import FeatureTable
from heritage_kg.learning.images import ImageCache

from test_text_features import fixture_dataset, learning_dirs  # noqa: F401  (fixtures)

V1_FILENAME = "resnet50-0676ba61.pth"  # what torchvision's ResNet50_Weights.IMAGENET1K_V1 downloads


def image_file(path, colour=None, size=(48, 32), seed=0):
    rng = np.random.default_rng(seed)
    pixels = np.full((size[1], size[0], 3), colour, dtype="uint8") if colour else \
        (rng.random((size[1], size[0], 3)) * 255).astype("uint8")
    Image.fromarray(pixels).save(path, format="JPEG" if path.suffix == ".jpg" else "PNG")
    return path


@pytest.fixture(scope="module")
def random_state_dict(tmp_path_factory):
    """The seeded random trunk's weights saved as a state-dict file, as a user's weights would be."""
    encoder = ImageEncoder(weights="none").fit()
    encoder._load()
    model = encoder.model_[0]
    state = {k: v for k, v in model.state_dict().items()}
    state["fc.weight"], state["fc.bias"] = torch.zeros(1000, 2048), torch.zeros(1000)  # a full ResNet-50
    path = tmp_path_factory.mktemp("weights") / "my-resnet50.pth"
    torch.save(state, path)
    return path


def test_images_become_imagenet_normalised_224px_tensors(tmp_path):
    tensor = image_tensor(image_file(tmp_path / "red.png", colour=(255, 0, 0), size=(50, 300)).read_bytes())

    assert tensor.shape == (3, 224, 224)
    expected = (np.array([1.0, 0.0, 0.0], dtype=np.float32) - IMAGENET_MEAN) / IMAGENET_STD
    np.testing.assert_allclose(tensor[:, 100, 100], expected, rtol=1e-5)
    np.testing.assert_allclose(tensor[:, 0, 223], expected, rtol=1e-5)


def test_the_trunk_gives_2048_d_vectors_the_same_whatever_the_batch(tmp_path):
    paths = [image_file(tmp_path / f"{i}.jpg", seed=i) for i in range(3)]

    in_twos = ImageEncoder(weights="none", batch_size=2).fit().transform(paths)
    at_once = ImageEncoder(weights="none", batch_size=3).fit().transform(paths)

    assert in_twos.shape == (3, 2048) and in_twos.dtype == np.float32
    np.testing.assert_allclose(in_twos, at_once, rtol=1e-4, atol=1e-5)
    assert not np.allclose(in_twos[0], in_twos[1])  # different images, different vectors
    assert (in_twos >= 0).all()  # after the final ReLU and average pool


def test_a_second_run_computes_nothing_and_the_cache_keys_on_image_bytes(tmp_path):
    paths = [image_file(tmp_path / f"{i}.jpg", seed=i) for i in range(2)]
    first = ImageEncoder(weights="none", cache_path=tmp_path / "cache.sqlite").fit()
    vectors = first.transform(paths)
    assert first.images_encoded_ == 2
    copy = tmp_path / "same-bytes-other-name.jpg"
    copy.write_bytes(paths[1].read_bytes())

    second = ImageEncoder(weights="none", cache_path=tmp_path / "cache.sqlite").fit()
    again = second.transform([copy, paths[0]])

    assert second.images_encoded_ == 0 and second.model_ is None
    assert np.array_equal(again, vectors[::-1])


def test_weights_from_a_file_or_torchvisions_cache(tmp_path, monkeypatch, random_state_dict):
    paths = [image_file(tmp_path / "a.jpg", seed=7)]
    random_vectors = ImageEncoder(weights="none").fit().transform(paths)

    from_file = ImageEncoder(weights=str(random_state_dict)).fit()
    np.testing.assert_allclose(from_file.transform(paths), random_vectors, rtol=1e-5, atol=1e-6)

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    checkpoints = tmp_path / "torch-home" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    os.link(random_state_dict, checkpoints / V1_FILENAME)
    found = locate_weights("imagenet")
    assert found.file == checkpoints / V1_FILENAME and found.model_id == from_file.model_id_


def test_without_weights_the_error_names_the_file_and_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-home"))

    with pytest.raises(FeatureError) as missing:
        locate_weights("imagenet")

    message = str(missing.value)
    assert V1_FILENAME in message and "resnet50-11ad3fa6.pth" in message
    assert str(tmp_path / "empty-torch-home" / "hub" / "checkpoints") in message
    assert "--weights none" in message
    not_weights = tmp_path / "notes.pth"
    not_weights.write_bytes(b"not a state dict")
    with pytest.raises(FeatureError, match="not a ResNet-50 state dict"):
        encoder = ImageEncoder(weights=str(not_weights)).fit()
        encoder.transform([image_file(tmp_path / "b.jpg")])


def test_artworks_without_a_cached_image_are_absent(tmp_path):
    cache = ImageCache(tmp_path / "images")
    cache.folder.mkdir()
    for url, seed in (("http://museum.test/a.jpg", 1), ("http://museum.test/b.jpg", 2)):
        image_file(cache.folder / (cache.stem(url) + ".jpg"), seed=seed)
    artworks = ["art:a", "art:b", "art:not-fetched", "art:no-url", "art:b-again"]
    urls = ["http://museum.test/a.jpg", "http://museum.test/b.jpg", "http://museum.test/c.jpg", None,
            "http://museum.test/b.jpg"]

    result = embed_images(artworks, urls, dataset="tiny", images=cache, features_dir=tmp_path / "features",
                          weights="none", batch_size=4)

    table = FeatureTable.load(result.folder)
    assert result.folder == tmp_path / "features" / "images" / "tiny" / "resnet50-random0"
    assert table.keys == ["art:a", "art:b", "art:b-again"]
    assert table.get("art:not-fetched") is None and table.get("art:no-url") is None
    assert np.array_equal(table.get("art:b"), table.get("art:b-again"))
    assert (table.meta.dim, table.meta.details["without_image"], result.encoded) == (2048, 2, 2)


def test_embed_images_command(fixture_dataset, learning_dirs, monkeypatch):  # noqa: F811
    artworks = fixture_dataset.table.column("artwork").to_pylist()
    urls = fixture_dataset.table.column("image_url").to_pylist()
    cache = ImageCache(learning_dirs / "images")
    cache.folder.mkdir()
    for seed, url in enumerate(urls[:2]):  # as if fetch-images had got only the first two
        image_file(cache.folder / (cache.stem(url) + ".jpg"), seed=seed)
    monkeypatch.setenv("TORCH_HOME", str(learning_dirs / "empty-torch-home"))
    runner = CliRunner()

    done = runner.invoke(app, ["embed", "images", "--dataset", "fixture", "--weights", "none"])
    refused = runner.invoke(app, ["embed", "images", "--dataset", "fixture"])

    assert done.exit_code == 0, done.output
    table = FeatureTable.load(learning_dirs / "features" / "images" / "fixture" / "resnet50-random0")
    assert table.keys == artworks[:2] and table.dim == 2048 and len(artworks) > 2
    assert f"{len(artworks) - 2} artworks without a fetched image left out" in done.output
    assert refused.exit_code == 2 and V1_FILENAME in refused.output and "Traceback" not in refused.output


def test_a_corrupt_cached_image_is_named_in_the_error(tmp_path):
    broken = tmp_path / "broken.jpg"
    data = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 20, 30)).save(data, format="JPEG")
    broken.write_bytes(data.getvalue()[:200])

    with pytest.raises(FeatureError, match="broken.jpg cannot be decoded"):
        ImageEncoder(weights="none").fit().transform([broken])
