"""The request and answer bodies of the service's JSON routes, as Pydantic models: they are
checked at the edge and appear in the OpenAPI docs."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from heritage_kg.inference.linking import ArtworkLink
from heritage_kg.inference.predict import ArtworkPrediction, SubjectScore
from heritage_kg.inference.review import CURATOR_NAME, OpenPrediction, Verdict


# --- POST /classify (api/routers/classify.py)

class ScoredSubject(BaseModel):
    """One concept of the model's label space and what the model says of it."""

    concept: str = Field(description="the concept's IRI")
    label: str = Field(description="the concept's label")
    probability: float = Field(ge=0, le=1, description="raised, if need be, to the largest of its narrower "
                                                       "concepts' (a broader concept is at least as probable)")
    threshold: float | None = Field(description="the label's threshold, tuned on the validation split; none for a "
                                                "task, which is predicted when one of its labels is")
    predicted: bool = Field(description="said yes at the threshold; a predicted label makes its broader concepts "
                                        "and its task predicted too (skos:broader)")

    @classmethod
    def of(cls, score: SubjectScore) -> ScoredSubject:
        return cls(concept=score.concept, label=score.label, probability=score.probability,
                   threshold=score.threshold, predicted=score.predicted)


class TaskSubjects(ScoredSubject):
    """A task (a top-level subject) with its labels, most probable first."""

    labels: list[ScoredSubject]


class WrittenRunAnswer(BaseModel):
    """Where POST /classify?write=true put the predictions."""

    run: str = Field(description="the classification run's IRI (a prov:Activity)")
    graph: str = Field(description="the run's predictions graph")
    predictions: int = Field(description="the predictions written (the subjects the model said yes to)")
    replaced_artworks: int = Field(description="1 when the model's earlier predictions for the artwork were "
                                               "replaced, else 0")


class Classification(BaseModel):
    """POST /classify's answer."""

    artwork: str | None = Field(description="the artwork's IRI when one of the graph was classified")
    model: str = Field(description="the registry IRI of the model that classified it")
    tasks: list[TaskSubjects] = Field(description="every task of the model, most probable first, with its labels")
    inputs_used: list[str] = Field(description="the model's inputs that the request or the graph gave")
    inputs_missing: list[str] = Field(description="the model's inputs that were missing (masked, as in training)")
    links: dict[str, list[ArtworkLinkAnswer]] | None = Field(
        default=None, description="with links=true: by collection, the artworks of the other collections it links to, "
                                  "best first (the ranking of GET /artworks/{collection}/{id}/links)")
    written: WrittenRunAnswer | None = Field(default=None, description="with write=true: the run written back")

    @classmethod
    def of(cls, prediction: ArtworkPrediction) -> Classification:
        tasks = [score for score in prediction.subjects if score.task == score.concept]
        return cls(artwork=prediction.artwork, model=prediction.model,
                   tasks=[TaskSubjects(**ScoredSubject.of(task).model_dump(),
                                       labels=[ScoredSubject.of(s) for s in prediction.subjects
                                               if s.task == task.concept and s.concept != task.concept])
                          for task in tasks],
                   inputs_used=prediction.inputs_used, inputs_missing=prediction.inputs_missing)


# ------------------------------------------------------------------ links across collections

class SameArtistReason(BaseModel):
    artist: str = Field(description="The linked artwork's artist")
    artist_name: str | None
    target_artist: str = Field(description="The target's artist: the same IRI, or one owl:sameAs it")
    target_artist_name: str | None
    match_score: float = Field(description="1 for the same artist IRI; else the owl:sameAs match's hk:score")


class SharedSubjectReason(BaseModel):
    concept: str
    label: str | None
    weight: float = Field(description="The artwork's weight for the concept: 1 annotated, else a model's confidence")
    target_weight: float = Field(description="The target's weight for it")


class LinkReasons(BaseModel):
    artist: float = Field(description="Same artist, in [0, 1] (weight 0.5 in the score)")
    subjects: float = Field(description="Cosine of the idf-weighted subject vectors, in [0, 1] (weight 0.3)")
    title: float = Field(description="Title similarity: the MiniLM cosine c as max(0, (c - 0.5) / 0.5) (weight 0.2)")
    same_artist: SameArtistReason | None
    shared_subjects: list[SharedSubjectReason] = Field(description="The shared concepts that weigh most")
    evidence: str = Field(description="The reasons in words, as the links graph keeps them")


class ArtworkLinkAnswer(BaseModel):
    target: str = Field(description="The linked artwork of the other collection")
    title: str | None
    score: float = Field(description="0.5 x artist + 0.3 x subjects + 0.2 x title, in [0, 1]")
    reasons: LinkReasons

    @classmethod
    def of(cls, link: ArtworkLink) -> ArtworkLinkAnswer:
        same = link.same_artist
        return cls(target=link.target, title=link.target_title, score=link.score, reasons=LinkReasons(
            artist=link.artist, subjects=link.subjects, title=link.title,
            same_artist=SameArtistReason(**vars(same)) if same else None,
            shared_subjects=[SharedSubjectReason(**vars(c)) for c in link.shared_concepts],
            evidence=link.evidence))


class ArtworkLinksAnswer(BaseModel):
    artwork: str
    to: str = Field(description="The collection the links go to")
    links: list[ArtworkLinkAnswer] = Field(description="Best first")


# --- curators' review (api/routers/review.py)

class ReviewRequest(BaseModel):
    prediction: str = Field(description="The IRI of the prediction judged (an hk:SubjectPrediction).")
    verdict: Verdict = Field(description="accepted: the artwork gets the concept as a curator annotation; "
                                         "rejected: kept as a negative judgement, never a label.")
    curator: str = Field(pattern=f"^(?:{CURATOR_NAME.pattern})$", max_length=64,
                         description="The curator's name; the review is attributed to the agent "
                                     "{base}agent/curator/{name}. The Bearer token authorises the write, the name "
                                     "says who judged.")


class ReviewAnswer(BaseModel):
    review: str = Field(description="The review's IRI, in the curator graph graph/curator/reviews.")
    prediction: str
    artwork: str
    concept: str
    verdict: Verdict
    curator: str = Field(description="The curator's agent IRI.")
    time: datetime


class ReviewQueue(BaseModel):
    task: str = Field(description="The task's IRI.")
    open: list[OpenPrediction] = Field(
        description="The open predictions, highest priority first: priority = H(p) / log2(2 + n), with "
                    "uncertainty H(p) the binary entropy of the confidence p in bits and examples n the "
                    "artworks annotated with the concept or a narrower one.")


# --- the search box (api/routers/search.py)

class SearchHitModel(BaseModel):
    iri: str
    kind: str = Field(description="artwork or artist")
    label: str = Field(description="The artwork's title or the artist's name.")
    collection: str
    extra: str | None = Field(description="An artwork's date, an artist's life dates.")
    page: str = Field(description="Where this service shows it.")


class SearchAnswerModel(BaseModel):
    query: str
    total: int = Field(description="Every match; `hits` are the first of them, shortest text first.")
    hits: list[SearchHitModel]
    milliseconds: float = Field(description="The time the index took to answer.")
