"""Baselines beside the classifier, in scikit-learn's fit/predict shape: TF-IDF features of an
artwork's title, medium groups and artists (optionally also its catalogue group and period) with
one logistic regression per label, and the majority predictor (each label's training prevalence
as its probability, so at 0.5 it predicts the majority class: what "collapses to the majority"
scores). Both are judged with the classifier's policy: thresholds tuned per label on the
validation split, and the taxonomy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from heritage_kg.errors import TrainingError
from heritage_kg.learning.datasets import SPLITS, TrainingSet
from heritage_kg.learning.evaluation import SplitMetrics, score_splits
from heritage_kg.learning.inputs import period_of, title_words
from heritage_kg.learning.taxonomy import label_space, tune_thresholds

def _tail(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1]


def artwork_documents(table: pa.Table, context: bool = False) -> list[str]:
    """One document per artwork: its title's words, then `medium:<group>` and `artist:<id>`
    tokens, so that one vocabulary holds all three kinds of evidence. With `context`, also the
    facts the fusion model's group and period inputs read: `group:<id>` and `period:<decade>`."""
    documents = []
    for title, media, artists in zip(table.column("title").to_pylist(), table.column("medium_groups").to_pylist(),
                                     table.column("artists").to_pylist(), strict=True):
        words = title_words(title)
        words += [f"medium:{_tail(g)}" for g in media or ()] + [f"artist:{_tail(a)}" for a in artists or ()]
        documents.append(" ".join(words))
    if context:
        for i, (groups, year) in enumerate(zip(table.column("catalogue_groups").to_pylist(),
                                                table.column("year").to_pylist(), strict=True)):
            tokens = [f"group:{_tail(g)}" for g in groups or ()] + ([f"period:{period_of(year)}"] if year is not None else [])
            documents[i] = " ".join([documents[i], *tokens])
    return documents


class TfidfLogisticBaseline:
    """TF-IDF over `artwork_documents`, one logistic regression per label (one-vs-rest); a label
    without a positive training row gets probability 0."""

    def __init__(self, C: float = 4.0, min_df: int = 2, max_iter: int = 1000):
        self.C = C
        self.min_df = min_df
        self.max_iter = max_iter

    def fit(self, documents: Sequence[str], targets: np.ndarray) -> TfidfLogisticBaseline:
        targets = np.asarray(targets)
        self.vectorizer_ = TfidfVectorizer(token_pattern=r"\S+", min_df=self.min_df, sublinear_tf=True)
        features = self.vectorizer_.fit_transform(documents)
        self.trained_ = targets.sum(axis=0) > 0
        self.classifier_ = OneVsRestClassifier(LogisticRegression(C=self.C, max_iter=self.max_iter,
                                                                  solver="liblinear"))
        self.classifier_.fit(features, targets[:, self.trained_])
        self.labels_ = targets.shape[1]
        return self

    def predict_proba(self, documents: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(documents), self.labels_), dtype=np.float32)
        if len(documents):
            out[:, self.trained_] = self.classifier_.predict_proba(self.vectorizer_.transform(documents))
        return out


class MajorityBaseline:
    """Each label's share of positive training rows, for every artwork."""

    def fit(self, documents: Sequence[str], targets: np.ndarray) -> MajorityBaseline:
        self.prevalence_ = np.asarray(targets, dtype=np.float32).mean(axis=0)
        return self

    def predict_proba(self, documents: Sequence[str]) -> np.ndarray:
        return np.tile(self.prevalence_, (len(documents), 1))


def evaluate_baseline(estimator, training_set: TrainingSet, context: bool = False) -> dict[str, dict[str, SplitMetrics]]:
    """Fits `estimator` on the train split and scores every split at 0.5 and with thresholds
    tuned on validation, as a classifier run is scored (`context`: see `artwork_documents`)."""
    space = label_space(training_set)
    splits = {split: training_set.split(split) for split in SPLITS}
    if splits["train"].num_rows == 0:
        raise TrainingError(f"the train split of dataset {training_set.name} has no artwork")
    targets = {split: training_set.label_matrix(split) for split in SPLITS}
    estimator.fit(artwork_documents(splits["train"], context), targets["train"])
    probabilities = {split: estimator.predict_proba(artwork_documents(table, context))
                     for split, table in splits.items()}
    thresholds = tune_thresholds(probabilities["validation"], targets["validation"])
    return score_splits(probabilities, targets, thresholds, space)
