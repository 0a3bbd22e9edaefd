"""Artworks linked across collections: for an artwork of one collection, the artworks of another
ranked by what they share (an artist, subjects, a similar title), each with its score and its
reasons; and `link_artworks`, which writes a whole collection's best links into the artwork
links graph with the run's provenance.

The score of a candidate t (target collection) for an artwork s, in [0, 1]:

    score = 0.5 * artist + 0.3 * subjects + 0.2 * title

- artist: 1 when s and t share an artist; else the hk:score (0.75 to 1) of the best owl:sameAs
  match that `heritage-kg link-artists` published between an artist of s and one of t; else 0.
- subjects: the cosine of the two artworks' subject vectors. An artwork weighs a concept 1 when
  a curator annotated it (hk:subject), else by the confidence of a model's unrejected prediction
  (hk:SubjectPrediction; the highest if several); a concept above a weighed one (skos:broader)
  weighs as much ("hill" is also "landscape" and "nature"). Each weight is multiplied by the
  concept's inverse document frequency in the target collection, ln(1 + N / n_c) (N of its
  artworks have a subject, n_c the concept; a concept it lacks counts as rare, n_c = 1), so
  sharing "nature" says little and sharing "Venice" much.
- title: the cosine c of the two titles' MiniLM vectors (learning/features/text.py), rescaled as
  max(0, (c - 0.5) / 0.5): sentence vectors all lean one way, and two unrelated Tate titles have a
  median cosine of about 0.5 (0.78 at the 99th percentile), so 0.5 is no likeness and 1 the same
  title. A placeholder title ("Untitled", "[title not known]", a title wholly in brackets) or one
  that 100 or more artworks of its collection share (a series: Turner's 538 sketchbook pages
  called "Mountains") is no evidence. The rescaling is a constant, not a statistic of either
  collection, so a pair's score does not move when artworks are added elsewhere.

The same artist is the strongest single reason (0.5 on its own); subjects and title together
weigh as much. The top k is exact, not a shortlist: a candidate without a shared artist scores
its subjects and title only, so the k best of those over the whole target collection, with every
work of a same-as artist, hold the k best overall.

One concern per module: `_collections` (what is read of a collection), `_ranking` (the score and
its reasons), `_linker` (links for an artwork, a description, a collection), `_publishing` (the
links graph, and the sample checked by hand)."""

from heritage_kg.inference.linking._collections import (
    CollectionIndex, SubjectHierarchy, collection_title_table, is_placeholder_title, read_collection_index,
    read_same_as, title_key, title_table_name,
)
from heritage_kg.inference.linking._linker import MAX_LINKS, ArtworkLinker, check_collection, check_request
from heritage_kg.inference.linking._publishing import (
    ArtworkLinkingReport, artwork_links_graph, artwork_match_iri, link_artworks, review_sample, write_review_table,
)
from heritage_kg.inference.linking._ranking import (
    UNRELATED_TITLES, WEIGHTS, ArtworkLink, SameArtist, ScoreWeights, SharedConcept, SourceBlock, TargetSpace,
    rank_block,
)

__all__ = [
    "MAX_LINKS", "UNRELATED_TITLES", "WEIGHTS", "ArtworkLink", "ArtworkLinker", "ArtworkLinkingReport",
    "CollectionIndex", "SameArtist", "ScoreWeights", "SharedConcept", "SourceBlock", "SubjectHierarchy",
    "TargetSpace", "artwork_links_graph", "artwork_match_iri", "check_collection", "check_request",
    "collection_title_table", "is_placeholder_title", "link_artworks", "rank_block", "read_collection_index",
    "read_same_as", "review_sample", "title_key", "title_table_name", "write_review_table",
]


