"""Visual features: the ResNet-50 trunk of torchvision (final fully connected layer removed, 2048-d)
over images resized to 224x224 and normalised with ImageNet's mean and deviation (method.md 3).

Weights come from a local file or torchvision's own cache, never from the network; `none` gives
seeded random weights, for tests and speed measurements."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from heritage_kg.errors import FeatureError
from heritage_kg.learning.features.store import EmbeddingCache, FeatureKind, FeatureMeta, FeatureTable
from heritage_kg.learning.images import ImageCache

SIZE = 224
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
RECIPE = (f"ResNet-50 trunk (fc removed, global average pool, 2048-d); RGB resized to {SIZE}x{SIZE} "
          "(bilinear), scaled to [0, 1] and normalised with ImageNet mean/std")
RANDOM_SEED = 0


def _torchvision_weights(name: str):
    from torchvision.models import ResNet50_Weights

    return getattr(ResNet50_Weights, name)


# Named ImageNet weights, in the order `imagenet` tries them: V1 is the one of the method's era.
RESNET50_WEIGHTS = {
    "imagenet1k-v1": lambda: _torchvision_weights("IMAGENET1K_V1"),
    "imagenet1k-v2": lambda: _torchvision_weights("IMAGENET1K_V2"),
}
DEFAULT_WEIGHTS = "imagenet"


def torchvision_checkpoints() -> Path:
    """Where torchvision keeps downloaded weights: $TORCH_HOME/hub/checkpoints."""
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints"


@dataclass(frozen=True)
class ResNetWeights:
    model_id: str
    file: Path | None   # None: seeded random weights


def locate_weights(weights: str | Path | None) -> ResNetWeights:
    """`none`, a state-dict file, a name of `RESNET50_WEIGHTS`, or `imagenet` (either one found
    in torchvision's cache)."""
    if weights is None or str(weights).lower() == "none":
        return ResNetWeights(f"resnet50-random{RANDOM_SEED}", None)
    path = Path(weights).expanduser()
    if path.is_file():
        return ResNetWeights(f"resnet50-{_file_digest(path)}", path.resolve())
    names = list(RESNET50_WEIGHTS) if str(weights) == DEFAULT_WEIGHTS else [str(weights)]
    if not set(names) <= set(RESNET50_WEIGHTS):
        raise FeatureError(f"no weights file {path} and no weights named {str(weights)!r}; pass a state-dict file, "
                           f"one of {', '.join([DEFAULT_WEIGHTS, *RESNET50_WEIGHTS])}, or 'none' (random, for tests)")
    folder = torchvision_checkpoints()
    expected = []
    for name in names:
        url = RESNET50_WEIGHTS[name]().url
        file = folder / url.rsplit("/", 1)[-1]
        if file.is_file():
            return ResNetWeights(f"resnet50-{_file_digest(file)}", file)
        expected.append((file.name, url))
    files = " or ".join(f"{filename} ({url})" for filename, url in expected)
    raise FeatureError(f"the ResNet-50 ImageNet weights are not on this machine and nothing is downloaded at run time: "
                       f"put {files} in {folder}/ (torchvision's cache; set TORCH_HOME to move it), "
                       "or pass --weights /path/to/resnet50.pth, or --weights none for random weights (tests only)")


def resnet50_trunk(weights: ResNetWeights):
    """torchvision's ResNet-50 with `weights` loaded (random when it names no file) and its final
    fully connected layer removed: 2048-d out. Shared by the feature extractor and the classifier."""
    import torch
    from torchvision.models import resnet50

    model = resnet50(weights=None)
    if weights.file is not None:
        try:
            state = torch.load(weights.file, map_location="cpu", weights_only=True)
            model.load_state_dict(state.get("state_dict", state) if isinstance(state, dict) else state)
        except Exception as exc:  # a wrong file can fail in many ways; all mean the same to a user
            raise FeatureError(f"{weights.file} is not a ResNet-50 state dict torchvision can load "
                               f"({type(exc).__name__}: {str(exc)[:200]})") from exc
    model.fc = torch.nn.Identity()
    return model


def _file_digest(path: Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()[:10]


def decode_rgb(data: bytes, size: int = SIZE) -> np.ndarray:
    """One image's bytes as RGB pixels, uint8 (3, size, size), resized bilinear."""
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(rgb, dtype=np.uint8).transpose(2, 0, 1).copy()


def image_tensor(data: bytes) -> np.ndarray:
    """One image's bytes as the trunk's input: float32 (3, 224, 224), ImageNet-normalised."""
    return normalised(decode_rgb(data))


def normalised(pixels: np.ndarray) -> np.ndarray:
    """uint8 pixels, (..., 3, h, w), scaled to [0, 1] and normalised with ImageNet's mean and deviation."""
    scaled = np.asarray(pixels, dtype=np.float32) / 255.0
    return (scaled - IMAGENET_MEAN[:, None, None]) / IMAGENET_STD[:, None, None]


class ImageEncoder:
    """Image files to 2048-d vectors, sklearn-style: `ImageEncoder(weights=...).fit().transform(paths)`.

    `fit` finds the weights (nothing is loaded yet); `transform` looks each image up in the cache
    by (model id, hash of the file's bytes) and runs the network only on images it has not seen."""

    def __init__(self, weights: str | Path | None = DEFAULT_WEIGHTS, batch_size: int = 32,
                 cache_path: Path | None = None):
        self.weights = weights
        self.batch_size = batch_size
        self.cache_path = cache_path

    def fit(self, paths: Sequence[Path] | None = None) -> ImageEncoder:
        """Nothing is learned from the images; fitting finds the weights and names the model."""
        if self.batch_size < 1:
            raise FeatureError(f"the batch size must be at least 1, not {self.batch_size}")
        self.weights_ = locate_weights(self.weights)
        self.model_id_ = self.weights_.model_id
        self.cache_model_ = f"{self.model_id_}|{SIZE}px-bilinear-imagenet-norm"
        self.images_encoded_ = 0
        self.model_ = None
        return self

    def transform(self, paths: Sequence[Path], *, progress=None) -> np.ndarray:
        if not hasattr(self, "model_id_"):
            raise FeatureError("ImageEncoder.transform called before fit")
        out = np.zeros((len(paths), 2048), dtype=np.float32)
        cache = EmbeddingCache(self.cache_path) if self.cache_path else None
        task = progress.add_task("embed images", total=len(paths)) if progress else None
        # Chunks bound the memory that image bytes take; each chunk is one cache round trip.
        chunk = max(256, self.batch_size)
        try:
            for start in range(0, len(paths), chunk):
                files = [Path(p) for p in paths[start:start + chunk]]
                data = [file.read_bytes() for file in files]
                known = cache.get_many(self.cache_model_, data) if cache else [None] * len(data)
                missing = [i for i, vector in enumerate(known) if vector is None]
                for i, vector in enumerate(known):
                    if vector is not None:
                        out[start + i] = vector
                if missing:
                    vectors = self._encode([files[i] for i in missing], [data[i] for i in missing])
                    out[[start + i for i in missing]] = vectors
                    if cache:
                        cache.put_many(self.cache_model_, [data[i] for i in missing], vectors)
                if progress:
                    progress.advance(task, len(files))
        finally:
            if cache:
                cache.close()
        return out

    def _load(self):
        import torch

        if self.weights_.file is None:
            with torch.random.fork_rng():  # the same random trunk every time, global RNG untouched
                torch.manual_seed(RANDOM_SEED)
                model = resnet50_trunk(self.weights_)
        else:
            model = resnet50_trunk(self.weights_)
        self.model_ = (model.eval(), torch)

    def _encode(self, files: list[Path], data: list[bytes]) -> np.ndarray:
        pixels = np.zeros((len(files), 3, SIZE, SIZE), dtype=np.uint8)
        for i, (file, raw) in enumerate(zip(files, data, strict=True)):
            try:
                pixels[i] = decode_rgb(raw)
            except (OSError, ValueError, Image.DecompressionBombError) as exc:
                raise FeatureError(f"{file} cannot be decoded ({exc}); delete it and run "
                                   "`heritage-kg fetch-images` again") from exc
        return self.encode_pixels(pixels)

    def encode_pixels(self, pixels: np.ndarray) -> np.ndarray:
        """Decoded images (uint8, (n, 3, 224, 224), as `decode_rgb` gives them) to 2048-d vectors,
        without the cache: for images that are no file, such as an upload to be classified."""
        if not hasattr(self, "model_id_"):
            raise FeatureError("ImageEncoder.encode_pixels called before fit")
        if self.model_ is None:
            self._load()
        model, torch = self.model_
        out = np.zeros((len(pixels), 2048), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(pixels), self.batch_size):
                batch = normalised(pixels[start:start + self.batch_size])
                out[start:start + len(batch)] = model(torch.from_numpy(batch)).numpy()
                self.images_encoded_ += len(batch)
        return out


@dataclass
class ImageFeatures:
    table: FeatureTable
    folder: Path
    without_image: int   # artworks left out: no URL, or no cached image for it
    encoded: int         # images that went through the network in this run (0: all cached)


def embed_images(artworks: Sequence[str], image_urls: Sequence[str | None], *, dataset: str, images: ImageCache,
                 features_dir: Path, weights: str | Path | None = DEFAULT_WEIGHTS, batch_size: int = 32,
                 progress=None) -> ImageFeatures:
    """The image vectors of a dataset's artworks whose image is in `images`, saved as a
    FeatureTable under `features_dir/images/<dataset>/<model id>/`. The others are absent (masked)."""
    encoder = ImageEncoder(weights=weights, batch_size=batch_size,
                           cache_path=features_dir / "images" / "cache.sqlite").fit()
    found = [(iri, images.find(url)) for iri, url in zip(artworks, image_urls, strict=True) if url]
    found = [(iri, path) for iri, path in found if path is not None]
    if not found:
        raise FeatureError(f"no image of dataset {dataset} is in {images.folder}: "
                           f"run `heritage-kg fetch-images --dataset {dataset}` first")
    files = list(dict.fromkeys(path for _, path in found))  # artworks sharing an image share its vector
    by_file = dict(zip(files, encoder.transform(files, progress=progress)))
    vectors = np.stack([by_file[path] for _, path in found])
    meta = FeatureMeta(FeatureKind.IMAGES, dataset, encoder.model_id_, int(vectors.shape[1]), {
        "weights": str(encoder.weights_.file) if encoder.weights_.file else "none (random, seeded)",
        "recipe": RECIPE, "image_cache": str(images.folder),
        "artworks": len(found), "without_image": len(artworks) - len(found)})
    table = FeatureTable([iri for iri, _ in found], vectors, meta)
    folder = table.save(features_dir / "images" / dataset / encoder.model_id_)
    return ImageFeatures(table, folder, len(artworks) - len(found), encoder.images_encoded_)
