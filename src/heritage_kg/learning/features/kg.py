"""Knowledge-graph features: entity vectors learned with PyKEEN from the store's own graph.

The triples come from the store by SPARQL (`kg_training_triples`) and are made leak-free for a
training set: subject annotations are kept only for the set's train artworks, so no label of a
validation or test artwork shapes the vectors the classifier will see."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from heritage_kg.errors import FeatureError
from heritage_kg.graph.namespaces import HK
from heritage_kg.graph.queries import load_query
from heritage_kg.graph.store import GraphStore
from heritage_kg.learning.datasets import TrainingSet, open_dataset
from heritage_kg.learning.features.store import FeatureKind, FeatureMeta, FeatureTable

TRAINING_TRIPLES_QUERY = "kg_training_triples"
NO_DESTINATION = "say where the vectors go: a folder, or a features folder to put them under"
SUBJECT = HK + "subject"
EXCLUSION_RULE = ("hk:subject triples are kept only for the artworks of the dataset's train split; "
                  "those of its validation and test artworks, and of artworks outside it, are dropped")


@dataclass
class TrainingTriples:
    """Entity-to-entity triples as integer ids over sorted IRI vocabularies, ready for PyKEEN."""

    entities: list[str]
    relations: list[str]
    ids: np.ndarray  # (n, 3) int64: head, relation, tail; sorted, without duplicates
    dataset: str
    subject_triples_kept: int
    subject_triples_dropped: int
    exclusion: str = EXCLUSION_RULE

    def __len__(self) -> int:
        return len(self.ids)

    def labeled(self) -> set[tuple[str, str, str]]:
        """The triples as IRIs (for inspection and tests; training uses the ids)."""
        return {(self.entities[h], self.relations[r], self.entities[t]) for h, r, t in self.ids.tolist()}

    def relation_counts(self) -> dict[str, int]:
        counts = np.bincount(self.ids[:, 1], minlength=len(self.relations))
        return {relation: int(n) for relation, n in zip(self.relations, counts, strict=True)}


def export_training_triples(store: GraphStore, train_artworks: set[str], *, dataset: str) -> TrainingTriples:
    """The store's entity-to-entity triples, minus every subject annotation of an artwork that is
    not in `train_artworks`."""
    _, rows = store.select(load_query(TRAINING_TRIPLES_QUERY).text)
    kept, dropped = [], 0
    for row in rows:
        head, relation, tail = str(row["head"]), str(row["relation"]), str(row["tail"])
        if relation == SUBJECT and head not in train_artworks:
            dropped += 1
            continue
        kept.append((head, relation, tail))
    if not kept:
        raise FeatureError(f"the store at {store.location} holds no entity-to-entity triples to learn from; "
                           "build it first with 'heritage-kg build-graph'")
    entities = sorted({h for h, _, _ in kept} | {t for _, _, t in kept})
    relations = sorted({r for _, r, _ in kept})
    entity_id = {iri: i for i, iri in enumerate(entities)}
    relation_id = {iri: i for i, iri in enumerate(relations)}
    ids = np.array([(entity_id[h], relation_id[r], entity_id[t]) for h, r, t in kept], dtype=np.int64)
    ids = np.unique(ids, axis=0)  # sorted rows: the same store gives the same order, hence the same split
    subjects_kept = sum(1 for _, r, _ in kept if r == SUBJECT)
    return TrainingTriples(entities, relations, ids, dataset, subjects_kept, dropped)


def resolve_kg_model(name: str):
    """The PyKEEN model class called `name` (any spelling its resolver accepts: TransE, transe)."""
    from pykeen.models import model_resolver

    try:
        return model_resolver.lookup(name)
    except (KeyError, ValueError):
        known = ", ".join(sorted(cls.__name__ for cls in model_resolver))
        raise FeatureError(f"PyKEEN has no knowledge-graph model called {name!r}; known models: {known}") from None


class KGEmbedding:
    """A PyKEEN model trained on `TrainingTriples`, scikit-learn style: the constructor keeps the
    configuration as given, `fit` learns, fitted state ends in `_`.

    The triples are split by `seed` into training and held-out validation and test parts
    (`held_out` = their shares); link prediction is scored on the test part (or a seeded sample
    of `evaluation_triples` of it) with filtered rank-based evaluation: every known triple,
    whatever its part, is filtered out of the ranking. Entity vectors come from the model
    trained on the training part, which holds every entity."""

    def __init__(self, model: str = "TransE", dim: int = 200, epochs: int = 20, *, seed: int = 0,
                 batch_size: int = 1024, learning_rate: float = 0.001, negatives_per_positive: int = 1,
                 held_out: tuple[float, float] = (0.05, 0.05), evaluation_triples: int | None = 2000,
                 evaluation_batch_size: int = 32, show_progress: bool = False):
        self.model = model
        self.dim = dim
        self.epochs = epochs
        self.seed = seed
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.negatives_per_positive = negatives_per_positive
        self.held_out = held_out
        self.evaluation_triples = evaluation_triples
        self.evaluation_batch_size = evaluation_batch_size
        self.show_progress = show_progress

    def fit(self, triples: TrainingTriples) -> KGEmbedding:
        import torch
        from pykeen.pipeline import pipeline
        from pykeen.triples import TriplesFactory

        model_class = resolve_kg_model(self.model)
        if len(triples) < 20:
            raise FeatureError(f"only {len(triples)} triples to learn from; a knowledge-graph embedding needs more")
        factory = TriplesFactory(
            mapped_triples=torch.as_tensor(triples.ids),
            entity_to_id={iri: i for i, iri in enumerate(triples.entities)},
            relation_to_id={iri: i for i, iri in enumerate(triples.relations)})
        validation_share, test_share = self.held_out
        training, validation, testing = factory.split(
            [1.0 - validation_share - test_share, validation_share, test_share], random_state=self.seed)
        evaluated = testing
        if self.evaluation_triples and testing.num_triples > self.evaluation_triples:
            sample = torch.randperm(testing.num_triples, generator=torch.Generator().manual_seed(self.seed))
            evaluated = testing.clone_and_exchange_triples(testing.mapped_triples[sample[:self.evaluation_triples]])
        try:
            result = pipeline(
                training=training, validation=validation, testing=evaluated,
                model=model_class, model_kwargs={"embedding_dim": self.dim},
                negative_sampler_kwargs={"num_negs_per_pos": self.negatives_per_positive},
                optimizer_kwargs={"lr": self.learning_rate},
                training_kwargs={"num_epochs": self.epochs, "batch_size": min(self.batch_size, training.num_triples),
                                 "use_tqdm": self.show_progress, "pin_memory": False},
                evaluator="rankbased",
                # The unsampled test and the validation triples are true too: filtering them keeps
                # the ranks honest.
                evaluation_kwargs={"additional_filter_triples": [testing.mapped_triples, validation.mapped_triples],
                                   "batch_size": self.evaluation_batch_size, "use_tqdm": self.show_progress},
                random_seed=self.seed, device="cpu")
        except TypeError as exc:  # a model whose constructor takes no embedding_dim, for one
            raise FeatureError(f"PyKEEN's {model_class.__name__} cannot be trained with these settings: {exc}") from None
        self.model_ = result.model
        self.model_name_ = model_class.__name__
        self.entities_ = list(triples.entities)
        representation = result.model.entity_representations[0]
        with torch.no_grad():
            vectors = representation(indices=None).detach()
        self.complex_ = bool(torch.is_complex(vectors))
        if self.complex_:
            vectors = torch.cat([vectors.real, vectors.imag], dim=-1)
        self.entity_vectors_ = vectors.reshape(len(self.entities_), -1).numpy().astype(np.float32)
        self.train_seconds_ = float(result.train_seconds)
        self.evaluate_seconds_ = float(result.evaluate_seconds)
        self.final_loss_ = float(result.losses[-1]) if result.losses else None
        self.split_sizes_ = {"training": training.num_triples, "validation": validation.num_triples,
                             "testing": testing.num_triples, "evaluated": evaluated.num_triples}
        metrics = result.metric_results
        # Per side too: predicting an artwork's subject or artist (tail) is what the features serve;
        # predicting which of thousands of alike artworks a triple is about (head) is near chance.
        self.metrics_ = {f"{key}{suffix}": float(metrics.get_metric(f"{side}.realistic.{name}"))
                         for side, suffix in (("both", ""), ("tail", "_tail"), ("head", "_head"))
                         for key, name in (("mrr", "inverse_harmonic_mean_rank"), ("hits_at_10", "hits_at_10"))}
        return self

    def to_feature_table(self, triples: TrainingTriples, **meta) -> FeatureTable:
        """Every entity's vector, keyed by its IRI, with what produced it."""
        return FeatureTable(self.entities_, self.entity_vectors_, FeatureMeta(
            FeatureKind.KG, triples.dataset, self.model_name_, self.dim, {
            "source": "pykeen",
            "stored_dim": int(self.entity_vectors_.shape[1]),
            "vector_layout": ("complex entity embedding: real parts then imaginary parts, concatenated"
                              if self.complex_ else "real entity embedding"),
            "epochs": self.epochs,
            "seed": self.seed,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "negatives_per_positive": self.negatives_per_positive,
            **self.metrics_,
            "evaluation": (f"filtered rank-based link prediction (both sides, realistic ranks) on "
                           f"{self.split_sizes_['evaluated']} of {self.split_sizes_['testing']} held-out test "
                           f"triples (seeded split {1 - sum(self.held_out):.2f}/{self.held_out[0]:.2f}/"
                           f"{self.held_out[1]:.2f}); vectors from the model trained on the training part"),
            "triples": {"exported": len(triples), **self.split_sizes_},
            "entities": len(self.entities_),
            "relations": triples.relation_counts(),
            "exclusion": triples.exclusion,
            "subject_triples_kept": triples.subject_triples_kept,
            "subject_triples_dropped": triples.subject_triples_dropped,
            "query": TRAINING_TRIPLES_QUERY,
            "train_seconds": round(self.train_seconds_, 2),
            "seconds_per_epoch": round(self.train_seconds_ / max(self.epochs, 1), 3),
            "evaluate_seconds": round(self.evaluate_seconds_, 2),
            "final_loss": self.final_loss_,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            **meta,
        }))


@dataclass
class KGFeatureRun:
    """What `train_kg_features` made and where it put it."""

    table: FeatureTable
    folder: Path
    triples: TrainingTriples


def kg_features_folder(features_dir: Path | None, folder: Path | None, dataset: str, variant: str) -> Path:
    """`folder` if given, else features_dir/kg/<dataset>/<variant>, e.g. kg/tate-level2/TransE-200."""
    if folder is not None:
        return folder
    if features_dir is None:
        raise FeatureError(NO_DESTINATION)
    return features_dir / "kg" / dataset / variant


def train_kg_features(store: GraphStore, dataset: str | Path, embedding: KGEmbedding, *,
                      datasets_dir: Path | None = None, features_dir: Path | None = None,
                      folder: Path | None = None) -> KGFeatureRun:
    """Exports the leak-free triples for `dataset` (its folder, or a name under `datasets_dir`),
    fits `embedding` on them and saves the entity vectors as a FeatureTable in `folder` (else
    features_dir/kg/<dataset>/<model>-<dim>)."""
    resolve_kg_model(embedding.model)  # an unknown model fails before the export, not after it
    if folder is None and features_dir is None:  # said before the training, not after it
        raise FeatureError(NO_DESTINATION)
    training_set = open_dataset(dataset, datasets_dir)
    clock = time.perf_counter()
    triples = export_training_triples(store, dataset_artworks(training_set).train, dataset=training_set.name)
    exported = time.perf_counter() - clock
    embedding.fit(triples)
    table = embedding.to_feature_table(triples, store=store.location, export_seconds=round(exported, 2))
    folder = kg_features_folder(features_dir, folder, training_set.name, f"{embedding.model_name_}-{embedding.dim}")
    table.save(folder)
    return KGFeatureRun(table, folder, triples)


@dataclass
class DatasetArtworks:
    """A training set's artworks: the split of each and its artists."""

    split: dict[str, str]  # artwork IRI -> train | validation | test
    artists: dict[str, set[str]]  # artwork IRI -> its artists' IRIs

    @property
    def train(self) -> set[str]:
        return {artwork for artwork, split in self.split.items() if split == "train"}

    @property
    def all_artists(self) -> set[str]:
        return set().union(*self.artists.values()) if self.artists else set()


def dataset_artworks(training_set: TrainingSet) -> DatasetArtworks:
    artworks = training_set.table.column("artwork").to_pylist()
    return DatasetArtworks(
        dict(zip(artworks, training_set.table.column("split").to_pylist(), strict=True)),
        {artwork: set(listed or ()) for artwork, listed in
         zip(artworks, training_set.table.column("artists").to_pylist(), strict=True)})
