"""POST /classify: the subjects a registry model predicts for an artwork of the graph (by IRI) or
one described by the request (an image, a title, an artist, a medium, a year). Thin over
heritage_kg.inference.predict; models are loaded at their first request and kept."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import anyio.from_thread
import torch
from fastapi import APIRouter, File, Form, Query, Request, UploadFile

from api.dependencies import SettingsDep, StoreDep, apply_curator_update, linker_for, require_update_token
from api.schemas import ArtworkLinkAnswer, Classification, WrittenRunAnswer
from heritage_kg.config import Settings
from heritage_kg.errors import ClassificationRequestError, UnknownModelError
from heritage_kg.graph.store import GraphStore
from heritage_kg.inference.predict import ArtworkClassifier, ArtworkPrediction, ImageLimits, find_model
from heritage_kg.inference.review import CURATOR_NAME, curator_agent
from heritage_kg.inference.writeback import PredictionRun, prepare_update

router = APIRouter(tags=["classification"])


class LoadedModels:
    """The classifiers loaded so far, by run folder: each is loaded once, at its first request
    (a load takes seconds: weights, the KG table, the text and image encoders)."""

    def __init__(self):
        self._loaded: dict[Path, ArtworkClassifier] = {}
        self._lock = threading.Lock()

    def get(self, config: Settings, model: str | None) -> ArtworkClassifier:
        name = model or config.default_model
        if not name:
            raise UnknownModelError("no model named (model=) and the service has no default model "
                                    "(HERITAGE_KG_DEFAULT_MODEL)")
        folder = find_model(config.models_dir, name, config.base_iri).resolve()
        with self._lock:  # one load per model, however many requests ask for it at once
            if folder not in self._loaded:
                torch.set_num_threads(config.classify_threads)
                self._loaded[folder] = ArtworkClassifier.load(
                    folder, features_dir=config.features_dir, base_iri=config.base_iri, images_dir=config.images_dir,
                    image_limits=ImageLimits(config.classify_max_image_bytes, config.classify_max_image_pixels))
            return self._loaded[folder]


@router.post("/classify", response_model=Classification,
             summary="Predict an artwork's subjects")
def classify(
    request: Request, config: SettingsDep, store: StoreDep,
    image: Annotated[UploadFile | None, File(description="the artwork's image (JPEG, PNG, ...)")] = None,
    title: Annotated[str | None, Form(description="the artwork's title")] = None,
    artist: Annotated[str | None, Form(description="the artist's name (exactly as the graph has it) or IRI")] = None,
    medium: Annotated[str | None, Form(description="the medium, in words: 'Oil paint on canvas'")] = None,
    year: Annotated[int | None, Form(ge=-10000, le=2100, description="the year the artwork was begun")] = None,
    artwork: Annotated[str | None, Form(description="the IRI of an artwork of the graph, which brings its own "
                                                    "features (instead of a description)")] = None,
    model: Annotated[str | None, Query(description="a registry model, by name or IRI; default: the service's")] = None,
    links: Annotated[bool, Query(description="add the artworks of other collections it links to")] = False,
    write: Annotated[bool, Query(description="write the predictions back into the graph, in a predictions graph "
                                             "of their own (needs the curator token and an artwork IRI)")] = False,
    curator: Annotated[str | None, Query(pattern=f"^(?:{CURATOR_NAME.pattern})$", max_length=64,
                                         description="with write=true: the curator the run is attributed to "
                                                     "({base}agent/curator/{name})")] = None,
) -> Classification:
    """Send an artwork of the graph by IRI, or describe one: an image and/or metadata. The answer
    gives, per task and label, the probability, the tuned threshold and whether the model says
    yes, and which of the model's inputs were there. Bad input is a 4xx that says why."""
    if write:
        require_update_token(request, config)
        if not (artwork and artwork.strip()) or not curator:
            raise ClassificationRequestError("write=true writes the predictions of an artwork of the graph: give its "
                                             "IRI (artwork=) and the curator who asks (curator=NAME)")
    upload = _read_image(image, config)
    described = any(value is not None and value.strip() for value in (title, artist, medium)) or year is not None
    if title is not None and len(title) > config.classify_max_title_chars:
        raise ClassificationRequestError(f"the title is {len(title):,} characters; the service takes at most "
                                         f"{config.classify_max_title_chars:,}")
    classifier = request.app.state.classifiers.get(config, model)
    if artwork is not None and artwork.strip():
        if described or upload is not None:
            raise ClassificationRequestError("give either an artwork IRI or a description (image, title, artist, "
                                             "medium, year), not both")
        prediction = classifier.classify_artworks(store, [artwork.strip()])[0]
    else:
        prediction = classifier.classify_metadata(title=title, artist=artist, medium=medium, image=upload, year=year,
                                                  store=store)
    answer = Classification.of(prediction)
    if write:
        answer.written = write_back(request, config, store, prediction, curator)
    if links:
        artists = classifier.artists_of(store, artist.strip()) if artist and artist.strip() else []
        # the linker only when asked: a plain classification never builds one
        found = linker_for(config).links_for_prediction(prediction, title=title, artists=artists)
        answer.links = {to: [ArtworkLinkAnswer.of(link) for link in ranked] for to, ranked in found.items()}
    return answer


def write_back(request: Request, config: Settings, store: GraphStore, prediction: ArtworkPrediction,
               curator: str) -> WrittenRunAnswer:
    """The prediction written into a run graph of its own, attributed to the curator too, by one
    update through the service's one writer (heritage_kg.inference.writeback)."""
    run = PredictionRun.start(prediction.model, base_iri=config.base_iri,
                              curator=curator_agent(config.base_iri, curator))
    written, update = prepare_update(store, run, [prediction], artworks=[prediction.artwork])
    # this route runs in a worker thread; the writer is shared with the async routes (one at a time)
    anyio.from_thread.run(apply_curator_update, config, request.app.state.query_workers, update)
    return WrittenRunAnswer(run=run.iri, graph=run.graph, predictions=written.predictions,
                            replaced_artworks=written.replaced_artworks)


def _read_image(image: UploadFile | None, config: Settings) -> bytes | None:
    """The upload's bytes, read no further than the limit; a form's empty file field is no image."""
    if image is None or (not image.filename and not image.size):
        return None
    data = image.file.read(config.classify_max_image_bytes + 1)
    if not data:
        raise ClassificationRequestError("the image upload is empty")
    return data  # over the limit: decode_upload refuses it, saying so
