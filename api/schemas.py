"""The JSON the service's API answers with, as Pydantic models: they validate what goes out and
appear in the OpenAPI docs."""

from __future__ import annotations

from pydantic import BaseModel, Field

from heritage_kg.inference.linking import ArtworkLink


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
