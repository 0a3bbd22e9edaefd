"""Artist linking: the artists of each collection matched, by name and life years, to the
authority files' Wikidata and ULAN identifiers and to each other, published as owl:sameAs links
(each with its score and evidence) in the links graph and in a TSV curators review.

One concern per module: `_names` and `_years` (what is compared), `_artists` (the collections'
artists), `_matching` (who matches whom), `_curation` (the curators' TSV files), `_publishing`
(the run, the links graph and its coverage)."""

from heritage_kg.graph.linking._artists import CollectionArtist, read_collection_artists
from heritage_kg.graph.linking._curation import (
    CuratorDecision, apply_curator_decisions, read_curator_decisions, read_links_table, write_links_table,
)
from heritage_kg.graph.linking._matching import ArtistLink, ArtistReconciler, LinkStatus, MatchRules, TargetKind
from heritage_kg.graph.linking._names import forward_name, is_nobody, name_key
from heritage_kg.graph.linking._publishing import (
    CollectionCoverage, LinkingReport, WikidataService, coverage, link_artists, links_graph, review_sample,
    status_counts,
)
from heritage_kg.graph.linking._years import compare_years, life_years

__all__ = [
    "ArtistLink", "ArtistReconciler", "CollectionArtist", "CollectionCoverage", "CuratorDecision", "LinkStatus",
    "LinkingReport", "MatchRules", "TargetKind", "WikidataService", "apply_curator_decisions", "compare_years",
    "coverage", "forward_name", "is_nobody", "life_years", "link_artists", "links_graph", "name_key",
    "read_collection_artists", "read_curator_decisions", "read_links_table", "review_sample", "status_counts",
    "write_links_table",
]
