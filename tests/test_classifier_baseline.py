"""The baselines: TF-IDF of title, medium and artist with a logistic regression per label, and
the majority predictor, scored with the classifier's threshold policy."""

from __future__ import annotations

import numpy as np
from classifier_data import BAR, BLUE, RED, synthetic_rows, write_training_set

from heritage_kg.learning.baseline import (
    MajorityBaseline,
    TfidfLogisticBaseline,
    artwork_documents,
    evaluate_baseline,
)
from heritage_kg.learning.datasets import open_dataset


def titled_rows(count: int = 400) -> list[dict]:
    """Titles that name the colour (with a word in three missing), and a bar that only the
    medium tells: prints have bars here."""
    rows = synthetic_rows(count, seed=5)
    rng = np.random.default_rng(5)
    for row in rows:
        words = [w for w, iri in (("crimson", RED), ("azure", BLUE)) if iri in row["labels"] and rng.random() > 0.3]
        row["title"] = " ".join(["study", *words, str(rng.integers(1000))])
        row["medium_groups"] = ["https://example.org/medium/print" if BAR in row["labels"]
                                else "https://example.org/medium/painting"]
    return rows


def test_documents_hold_title_words_medium_and_artist_tokens(tmp_path):
    training_set = open_dataset(write_training_set(tmp_path / "d", titled_rows(3)))
    documents = artwork_documents(training_set.table)
    assert documents[0].startswith("study ") and "medium:" in documents[0] and "artist:000" in documents[0]
    assert "group:" not in documents[0] and "period:" not in documents[0]


def test_documents_with_context_add_the_catalogue_group_and_period(tmp_path):
    rows = [dict(row, catalogue_groups=["https://example.org/group/65001"] if i == 0 else [], year=1842 if i < 2 else None)
            for i, row in enumerate(titled_rows(3))]
    documents = artwork_documents(open_dataset(write_training_set(tmp_path / "d", rows)).table, context=True)
    assert documents[0].endswith(" group:65001 period:1840")
    assert documents[1].endswith(" period:1840") and "group:" not in documents[1]
    assert "group:" not in documents[2] and "period:" not in documents[2]


def test_the_tfidf_baseline_learns_what_titles_and_media_say(tmp_path):
    training_set = open_dataset(write_training_set(tmp_path / "titled", titled_rows()))
    metrics = evaluate_baseline(TfidfLogisticBaseline(), training_set)
    test = metrics["tuned"]["test"]
    assert test.labels[BAR].f1 == 1.0            # the medium decides it
    for iri in (RED, BLUE):  # the title names it seven times in ten, and only when it is there
        assert test.labels[iri].precision > 0.9 and test.labels[iri].f1 > 0.6, test.labels[iri]
    assert set(metrics) == {"threshold_0.5", "tuned"} and set(metrics["tuned"]) == {"train", "validation", "test"}


def test_the_majority_predictor_says_no_to_every_minority_label_at_half(tmp_path):
    rows = titled_rows()
    training_set = open_dataset(write_training_set(tmp_path / "titled", rows))
    metrics = evaluate_baseline(MajorityBaseline(), training_set)
    at_half = metrics["threshold_0.5"]["test"]
    # Every label is on in fewer than half the training artworks: the majority is "no".
    train = [r for r in rows if r["split"] == "train"]
    assert all(sum(iri in r["labels"] for r in train) < len(train) / 2 for iri in (RED, BLUE, BAR))
    assert at_half.micro_f1 == 0.0 and all(s.predicted == 0 for s in at_half.labels.values())
    # Tuned on validation, a constant score can only say yes to all: F1 = 2p / (1 + p).
    test = [r for r in rows if r["split"] == "test"]
    for iri in (RED, BLUE, BAR):
        share = sum(iri in r["labels"] for r in test) / len(test)
        tuned = metrics["tuned"]["test"].labels[iri]
        assert tuned.f1 == 0.0 or abs(tuned.f1 - 2 * share / (1 + share)) < 1e-9
