"""A trained classifier applied to artworks: those already in the graph (read by a named query,
in batches) or described by the caller (title, artist, medium, image). The model's inputs are
built as training built them (learning/inputs.py), and its decisions are the run's own: tuned
thresholds, carried up skos:broader (learning/runs.py ClassificationRun.predict)."""

from __future__ import annotations

import copy
import io
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import numpy as np
from PIL import Image
from rdflib import Literal, URIRef

from heritage_kg.errors import (
    ClassificationRequestError,
    FeatureError,
    ImageTooLargeError,
    ResourceNotFoundError,
    TrainingError,
    UnknownModelError,
)
from heritage_kg.graph.media import load_glossary
from heritage_kg.graph.namespaces import Minter
from heritage_kg.graph.nquads import is_writable_iri
from heritage_kg.graph.queries import load_query, with_values
from heritage_kg.graph.store import GraphStore
from heritage_kg.learning.features.images import SIZE, ImageEncoder, decode_rgb
from heritage_kg.learning.features.store import FeatureTable
from heritage_kg.learning.features.text import TitleEncoder, locate_text_encoder
from heritage_kg.learning.images import ImageCache
from heritage_kg.learning.inputs import as_tensors, decode_cached_images, input_columns, load_features
from heritage_kg.learning.models import ContextNet
from heritage_kg.learning.registry import model_iri
from heritage_kg.learning.runs import ClassificationRun, load_run
from heritage_kg.learning.taxonomy import consistent_probabilities
from heritage_kg.sources.parsing import year as year_of

ARTWORKS_QUERY = "classify_artworks"
ARTISTS_NAMED_QUERY = "classify_artists_named"
SAME_AS_QUERY = "classify_artist_same_as"
FEATURE_KINDS = {"text": "text", "kg": "kg", "image": "images"}  # model input -> feature table kind


@dataclass(frozen=True)
class SubjectScore:
    concept: str          # the concept's IRI
    label: str            # its label
    task: str             # its task's IRI (a task's own IRI for a task)
    probability: float
    threshold: float | None  # the label's tuned threshold; None for a task, which its labels decide
    predicted: bool       # consistent with skos:broader: a predicted label's broader concepts are too


@dataclass(frozen=True)
class ArtworkPrediction:
    artwork: str | None   # None for metadata/image-only requests
    model: str            # the model's registry IRI
    subjects: list[SubjectScore]  # every label and task, most probable first
    inputs_used: list[str]
    inputs_missing: list[str]

    @property
    def predicted(self) -> list[SubjectScore]:
        return [subject for subject in self.subjects if subject.predicted]


@dataclass(frozen=True)
class ImageLimits:
    """What an uploaded image may weigh, in bytes and in pixels (width x height)."""

    max_bytes: int = 20_000_000
    max_pixels: int = 40_000_000


def decode_upload(data: bytes, size: int, limits: ImageLimits) -> np.ndarray:
    """An uploaded image as RGB pixels (uint8, (3, size, size)), or a ClassificationRequestError:
    too many bytes, too many pixels (read from the header, before anything is decoded), not an
    image, or truncated."""
    if len(data) > limits.max_bytes:
        raise ImageTooLargeError(f"the image is {len(data):,} bytes; the service takes at most {limits.max_bytes:,}")
    try:
        with Image.open(io.BytesIO(data)) as image:  # the header only: no pixel is decoded yet
            width, height = image.size
    except Image.DecompressionBombError:
        raise ImageTooLargeError(f"the image has more pixels than the service takes ({limits.max_pixels:,})") from None
    except (OSError, ValueError, SyntaxError):
        raise ClassificationRequestError("the upload is not an image the service can read "
                                         "(send a JPEG, PNG, GIF, WebP or TIFF file)") from None
    if width * height > limits.max_pixels:
        raise ImageTooLargeError(f"the image is {width} x {height} pixels; the service takes at most "
                                 f"{limits.max_pixels:,} pixels")
    try:
        return decode_rgb(data, size)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ClassificationRequestError(f"the image cannot be decoded, it may be truncated ({exc})") from None


def find_model(models_dir: Path, name_or_iri: str, base_iri: str) -> Path:
    """The run folder of a registry model given by its name or its IRI (`{base}model/{name}`);
    only folders that are there are named, so no request can reach outside the models folder."""
    prefix = model_iri(Minter(base_iri), "")
    name = unquote(name_or_iri.removeprefix(prefix)) if name_or_iri.startswith(prefix) else name_or_iri
    folders = {folder.name: folder for folder in Path(models_dir).iterdir()} if Path(models_dir).is_dir() else {}
    folder = folders.get(name)
    if folder is None or not (folder / "metrics.json").is_file():
        known = sorted(n for n, f in folders.items() if (f / "metrics.json").is_file())
        raise UnknownModelError(f"no model {name_or_iri!r} in the registry ({models_dir}); "
                                f"the models are: {', '.join(known) or 'none (train one with heritage-kg train)'}")
    return folder


@dataclass
class _Described:
    """What the classifier reads of one artwork, before it becomes the model's inputs."""

    artwork: str | None
    title: str | None
    artists: list[str]
    medium_groups: list[str]
    pixels: np.ndarray | None = None  # decoded at the model's size
    year: int | None = None
    catalogue_groups: list[str] = field(default_factory=list)


class ArtworkClassifier:
    """A loaded run and the encoders its inputs need; load once, classify many times, from any
    number of threads."""

    def __init__(self, run: ClassificationRun, *, model: str, minter: Minter, tables: dict[str, FeatureTable],
                 text_encoder: TitleEncoder | None, image_encoder: ImageEncoder | None, image_size: int,
                 features_dir: Path, images: ImageCache | None, image_limits: ImageLimits):
        self.run, self.model, self.minter, self.tables = run, model, minter, tables
        self.text_encoder, self.image_encoder, self.image_size = text_encoder, image_encoder, image_size
        self.features_dir, self.images, self.image_limits = features_dir, images, image_limits
        self.inputs: list[str] = list(run.model.inputs)
        self._identities = set(run.vocabularies.artists)
        # A Hugging Face fast tokenizer is not to be called from two threads at once.
        self._encoding_titles = threading.Lock()

    @classmethod
    def load(cls, run_folder: Path, *, features_dir: Path, base_iri: str, images_dir: Path | None = None,
             image_limits: ImageLimits = ImageLimits()) -> ArtworkClassifier:
        """The run in `run_folder` (weights as tensors only), its KG table, and the text and image
        encoders that made its training features, found on this machine and checked to be the
        very same (by model id): a prediction's inputs must be made as the training ones were."""
        run = load_run(run_folder)
        model_inputs = list(run.model.inputs)
        raw_pixels = isinstance(run.model, ContextNet) and run.model_arguments.get("backbone") != "precomputed"
        tables = {"kg": load_features(run.config.data.kg, "kg", run.space.dataset)} if "kg" in model_inputs else {}
        text_encoder = _text_encoder(load_features(run.config.data.text, "text", run.space.dataset)) \
            if "text" in model_inputs else None
        image_encoder = None
        if "image" in model_inputs and not raw_pixels:
            image_encoder = _image_encoder(load_features(run.config.data.images, "images", run.space.dataset))
        # The encoders' weights are loaded now, not by whichever requests come first.
        if text_encoder is not None:
            text_encoder.transform(["a title"])
        if image_encoder is not None:
            image_encoder.encode_pixels(np.zeros((1, 3, SIZE, SIZE), dtype=np.uint8))
        return cls(run, model=model_iri(Minter(base_iri), run.name), minter=Minter(base_iri), tables=tables,
                   text_encoder=text_encoder, image_encoder=image_encoder,
                   image_size=run.config.data.image_size if raw_pixels else SIZE, features_dir=Path(features_dir),
                   images=ImageCache(images_dir) if images_dir else None, image_limits=image_limits)

    # -- the two ways in

    def classify_artworks(self, store: GraphStore, artworks: list[str], batch_size: int = 256
                          ) -> list[ArtworkPrediction]:
        """Artworks of the graph, by IRI, with the features the graph gives them; an IRI that is no
        artwork there is a ResourceNotFoundError. Read, encoded and predicted `batch_size` at a time."""
        predictions = []
        query = load_query(ARTWORKS_QUERY)
        # Bulk runs meet the same titles again: their vectors are kept in the features folder's cache.
        titles = copy.copy(self.text_encoder) if self.text_encoder else None
        if titles is not None:
            titles.cache_path = self.features_dir / "text" / "cache.sqlite"
        for start in range(0, len(artworks), batch_size):
            batch = [_checked_iri(artwork, "artwork") for artwork in artworks[start:start + batch_size]]
            _, rows = store.select(with_values(query.text, "artwork", [URIRef(a) for a in batch]))
            found = {str(row["artwork"]): row for row in rows}
            unknown = [a for a in batch if a not in found]
            if unknown:
                raise ResourceNotFoundError(f"no artwork {unknown[0]} in the graph"
                                            + (f" (nor {len(unknown) - 1} more of the request)" if len(unknown) > 1 else ""))
            described = [_Described(a, _text(found[a].get("title")), _iris(found[a].get("artists")),
                                    _iris(found[a].get("groups")), year=year_of(found[a].get("year")),
                                    catalogue_groups=_iris(found[a].get("catalogueGroups"))) for a in batch]
            if "image" in self.inputs and self.images is not None:
                urls = [_text(found[a].get("thumbnail")) for a in batch]
                pixels, present = decode_cached_images(urls, self.images, self.image_size)
                for item, row_pixels, has in zip(described, pixels, present, strict=True):
                    item.pixels = row_pixels if has else None
            self._borrow_artists(store, described)
            predictions += self._predict(described, titles)
        return predictions

    def classify_metadata(self, *, title: str | None = None, artist: str | None = None, medium: str | None = None,
                          image: bytes | None = None, year: int | None = None,
                          store: GraphStore | None = None) -> ArtworkPrediction:
        """An artwork described by the caller: its title, its artist (an IRI, or a name looked up in
        `store`), its medium text (read through the medium glossary), the year it was begun and its
        image's bytes."""
        if not any(value for value in (title and title.strip(), artist and artist.strip(),
                                       medium and medium.strip(), image)) and year is None:
            raise ClassificationRequestError("nothing to classify: give a title, an artist, a medium, a year, "
                                             "an image, or the IRI of an artwork")
        pixels = decode_upload(image, self.image_size, self.image_limits) if image else None
        groups = [self.minter.medium_group(slug) for slug in load_glossary().groups_of(medium)] if medium else []
        described = _Described(None, title.strip() if title and title.strip() else None,
                               self.artists_of(store, artist.strip()) if artist and artist.strip() else [],
                               groups, pixels, year=year)
        if store is not None:
            self._borrow_artists(store, [described])
        return self._predict([described], self.text_encoder)[0]

    # -- inputs

    def artists_of(self, store: GraphStore | None, artist: str) -> list[str]:
        if artist.startswith(("http://", "https://")):
            return [_checked_iri(artist, "artist")]
        if store is None:
            return []
        query = load_query(ARTISTS_NAMED_QUERY)
        _, rows = store.select(query.text, query.bindings({"name": Literal(artist)}))
        return [str(row["artist"]) for row in rows]

    def _knows(self, artist: str) -> bool:
        """Whether the model has something of this artist: an identity or a KG vector."""
        return artist in self._identities or ("kg" in self.tables and self.tables["kg"].get(artist) is not None)

    def _borrow_artists(self, store: GraphStore, described: list[_Described]) -> None:
        """An artist the model knows nothing of (a CMOA artist, for a model trained on Tate) is read
        as the artists it is owl:sameAs to that the model knows."""
        if not ({"kg", "artist"} & set(self.inputs)):
            return
        strangers = sorted({a for item in described for a in item.artists if not self._knows(a)})
        if not strangers:
            return
        _, rows = store.select(with_values(load_query(SAME_AS_QUERY).text, "artist", [URIRef(a) for a in strangers]))
        partners: dict[str, list[str]] = defaultdict(list)
        for row in rows:
            if self._knows(str(row["same"])):
                partners[str(row["artist"])].append(str(row["same"]))
        for item in described:
            item.artists = list(dict.fromkeys(b for a in item.artists
                                              for b in ([a] if self._knows(a) else sorted(partners.get(a, [a])))))

    def _predict(self, described: list[_Described], titles: TitleEncoder | None) -> list[ArtworkPrediction]:
        keys = [item.artwork or "" for item in described]
        given = {}
        if "text" in self.inputs:
            given["text"] = self._title_vectors(titles, [item.title for item in described])
        if "image" in self.inputs:
            given["image"] = self._image_input([item.pixels for item in described])
        columns, _ = input_columns(self.inputs, artworks=keys, artists=[item.artists for item in described],
                                   media=[item.medium_groups for item in described],
                                   titles=[item.title for item in described],
                                   vocabularies=self.run.vocabularies, features=self.tables,
                                   catalogue_groups=[item.catalogue_groups for item in described],
                                   years=[item.year for item in described], given=given)
        probabilities, labels, tasks = self.run.predict(as_tensors(keys, columns))
        task_probabilities = consistent_probabilities(probabilities, self.run.space)[1]
        present = {name: columns[f"{name}_mask"] for name in self.inputs}
        return [ArtworkPrediction(item.artwork, self.model,
                                  self._scores(probabilities[i], labels[i], task_probabilities[i], tasks[i]),
                                  [name for name in self.inputs if present[name][i]],
                                  [name for name in self.inputs if not present[name][i]])
                for i, item in enumerate(described)]

    def _title_vectors(self, titles: TitleEncoder, texts: list[str | None]) -> tuple[np.ndarray, np.ndarray]:
        mask = np.array([bool(text) for text in texts], dtype=bool)
        vectors = np.zeros((len(texts), self.run.model_arguments["input_dims"]["text"]), dtype=np.float32)
        if mask.any():
            with self._encoding_titles:
                vectors[mask] = titles.transform([text for text in texts if text])
        return vectors, mask

    def _image_input(self, images: list[np.ndarray | None]) -> tuple[np.ndarray, np.ndarray]:
        """Decoded pixels for a model with its own trunk; else the trunk's vectors, as `embed images`
        made the training ones."""
        mask = np.array([pixels is not None for pixels in images], dtype=bool)
        pixels = np.zeros((len(images), 3, self.image_size, self.image_size), dtype=np.uint8)
        for i, decoded in enumerate(images):
            if decoded is not None:
                pixels[i] = decoded
        if self.image_encoder is None:
            return pixels, mask
        vectors = np.zeros((len(images), 2048), dtype=np.float32)
        if mask.any():
            vectors[mask] = self.image_encoder.encode_pixels(pixels[mask])
        return vectors, mask

    def _scores(self, label_probabilities, label_decisions, task_probabilities, task_decisions) -> list[SubjectScore]:
        space, thresholds = self.run.space, self.run.thresholds
        scores = [SubjectScore(iri, name, space.tasks[space.label_task[j]], float(label_probabilities[j]),
                               float(thresholds[j]), bool(label_decisions[j]))
                  for j, (iri, name) in enumerate(zip(space.labels, space.label_names, strict=True))]
        scores += [SubjectScore(iri, name, iri, float(task_probabilities[t]), None, bool(task_decisions[t]))
                   for t, (iri, name) in enumerate(zip(space.tasks, space.task_names, strict=True))
                   if iri not in space.labels]
        return sorted(scores, key=lambda score: (-score.probability, score.concept))


def _text_encoder(table: FeatureTable) -> TitleEncoder:
    """The encoder that made a run's title vectors, found on this machine by the folder or the name
    its table records, and only if its model id is the table's."""
    details = table.meta.details
    for candidate in (details.get("model_dir"), table.meta.model.rsplit("-", 1)[0]):
        if not candidate:
            continue
        try:
            location = locate_text_encoder(candidate)
        except FeatureError:  # not found that way: try the next
            continue
        if location.model_id == table.meta.model:
            return TitleEncoder(encoder=location.directory, max_length=details.get("max_length", 128)).fit()
    raise TrainingError(f"the model's title vectors were made by the text encoder {table.meta.model!r}, which is not "
                        "on this machine: install it (or put its folder back) to classify with this model")


def _image_encoder(table: FeatureTable) -> ImageEncoder:
    """The ResNet-50 trunk that made a run's image vectors, with the same weights."""
    weights = table.meta.details.get("weights", "")
    encoder = ImageEncoder(weights="none" if not weights or weights.startswith("none") else weights).fit()
    if encoder.model_id_ != table.meta.model:
        raise TrainingError(f"the model's image vectors were made by {table.meta.model!r}, whose weights are not on "
                            f"this machine (found {encoder.model_id_!r}): put them back to classify with this model")
    return encoder


def _checked_iri(value: str, what: str) -> str:
    """An IRI a request gave, refused if it holds a character no IRI has (it is written into a
    query as an RDF term, which such a character would break)."""
    if not is_writable_iri(value):
        raise ClassificationRequestError(f"the {what} {value[:200]!r} is not an IRI")
    return value


def _text(term) -> str | None:
    text = str(term).strip() if term is not None else ""
    return text or None


def _iris(term) -> list[str]:
    return str(term).split() if term is not None else []


__all__ = ["ArtworkClassifier", "ArtworkPrediction", "ImageLimits", "SubjectScore", "decode_upload", "find_model"]
