"""The mapping of collection records to RDF under the heritage-kg ontology
(`ontology/heritage.ttl`), written as N-Quads, one named graph per collection."""

from __future__ import annotations

from collections import Counter
from typing import IO

from heritage_kg.graph.media import MediumGlossary
from heritage_kg.graph.namespaces import HK, RDF, RDFS, SKOS, Minter
from heritage_kg.graph.nquads import QuadWriter
from heritage_kg.sources.records import Artist, Artwork, CollectionExtract

TYPE = RDF + "type"
LABEL = RDFS + "label"

COLLECTION_LABELS = {"tate": "Tate collection", "cmoa": "Carnegie Museum of Art collection"}


class CollectionMapping:
    """Writes one collection's extract as the statements of its named graph."""

    def __init__(self, minter: Minter, glossary: MediumGlossary):
        self.minter = minter
        self.glossary = glossary

    def write(self, extract: CollectionExtract, out: IO[str]) -> Counter:
        """Writes the collection graph; returns counts of what it wrote by kind."""
        name = extract.collection
        graph = QuadWriter(out, self.minter.graph(name))
        counts: Counter = Counter()
        collection = self.minter.collection(name)
        graph.iri(collection, TYPE, HK + "Collection")
        graph.text(collection, LABEL, COLLECTION_LABELS.get(name, name))

        self._write_taxonomy(graph, extract)
        counts["concepts"] = len(extract.concepts)
        written_nodes: set[str] = set()  # places, movements, groups shared by many records
        for artist in extract.artists.values():
            self._write_artist(graph, name, artist, written_nodes)
        counts["artists"] = len(extract.artists)
        for artwork in extract.artworks:
            groups = self._write_artwork(graph, name, collection, artwork, written_nodes)
            counts.update(f"medium:{slug}" for slug in groups)
        counts["artworks"] = len(extract.artworks)
        counts["triples"] = graph.count
        return counts

    def write_vocabularies(self, out: IO[str]) -> int:
        """The medium-group scheme, shared by all collections, in the `vocabularies` graph."""
        graph = QuadWriter(out, self.minter.graph("vocabularies"))
        scheme = self.minter.medium_scheme()
        graph.iri(scheme, TYPE, SKOS + "ConceptScheme")
        graph.text(scheme, SKOS + "prefLabel", "Medium groups", "en")
        for group in self.glossary.groups:
            iri = self.minter.medium_group(group.slug)
            graph.iri(iri, TYPE, HK + "MediumGroup")
            graph.text(iri, SKOS + "prefLabel", group.label, "en")
            graph.text(iri, SKOS + "notation", group.slug)
            graph.iri(iri, SKOS + "inScheme", scheme)
            graph.iri(iri, SKOS + "topConceptOf", scheme)
            for stem in sorted(group.keywords):
                graph.text(iri, HK + "keywordStem", stem)
        return graph.count

    def _write_taxonomy(self, graph: QuadWriter, extract: CollectionExtract) -> None:
        if not extract.concepts:
            return
        name = extract.collection
        scheme = self.minter.subject_scheme(name)
        graph.iri(scheme, TYPE, SKOS + "ConceptScheme")
        graph.text(scheme, SKOS + "prefLabel", f"{COLLECTION_LABELS.get(name, name)}: subjects", "en")
        for concept in extract.concepts.values():
            iri = self.minter.subject(name, concept.id)
            graph.iri(iri, TYPE, HK + "SubjectConcept")
            graph.text(iri, SKOS + "prefLabel", concept.name, "en")
            graph.text(iri, SKOS + "notation", concept.id)
            graph.integer(iri, HK + "level", concept.level)
            graph.iri(iri, SKOS + "inScheme", scheme)
            if concept.level == 0:
                graph.iri(iri, SKOS + "topConceptOf", scheme)
            elif concept.parent_id is not None and concept.parent_id in extract.concepts:
                graph.iri(iri, SKOS + "broader", self.minter.subject(name, concept.parent_id))

    def _node(self, graph: QuadWriter, iri: str, cls: str, label: str, written: set[str]) -> str:
        if iri not in written:
            written.add(iri)
            graph.iri(iri, TYPE, cls)
            graph.text(iri, LABEL, label)
        return iri

    def _write_artist(self, graph: QuadWriter, name: str, artist: Artist, written: set[str]) -> None:
        iri = self.minter.artist(name, artist.id)
        graph.iri(iri, TYPE, HK + "Artist")
        graph.text(iri, HK + "recordId", artist.id)
        graph.text(iri, HK + "name", artist.name)
        graph.text(iri, HK + "sortName", artist.sort_name)
        graph.text(iri, HK + "gender", artist.gender)
        graph.integer(iri, HK + "birthYear", artist.birth_year)
        graph.integer(iri, HK + "deathYear", artist.death_year)
        graph.text(iri, HK + "lifeDates", artist.date_text)
        graph.text(iri, HK + "nationality", artist.nationality)
        graph.link(iri, HK + "sourcePage", artist.page_url)
        for predicate, place in ((HK + "birthPlace", artist.birth_place), (HK + "deathPlace", artist.death_place)):
            if place is not None:
                place_iri = self.minter.place(name, place.name)
                if place_iri not in written:
                    self._node(graph, place_iri, HK + "Place", place.name, written)
                    graph.text(place_iri, HK + "placeType", place.place_type)
                graph.iri(iri, predicate, place_iri)
        for movement in artist.movements:
            graph.iri(iri, HK + "movement", self._movement(graph, name, movement, written))

    def _movement(self, graph: QuadWriter, name: str, movement, written: set[str]) -> str:
        iri = self.minter.movement(name, movement.id)
        if iri not in written:
            self._node(graph, iri, HK + "Movement", movement.name, written)
            graph.text(iri, HK + "era", movement.era)
        return iri

    def _write_artwork(self, graph: QuadWriter, name: str, collection: str, artwork: Artwork,
                       written: set[str]) -> tuple[str, ...]:
        iri = self.minter.artwork(name, artwork.id)
        graph.iri(iri, TYPE, HK + "Artwork")
        graph.iri(iri, HK + "inCollection", collection)
        graph.text(iri, HK + "accessionNumber", artwork.id)
        graph.text(iri, HK + "recordId", artwork.record_id)
        graph.text(iri, HK + "title", artwork.title)
        graph.text(iri, HK + "dateText", artwork.date_text)
        graph.integer(iri, HK + "startYear", artwork.start_year)
        graph.integer(iri, HK + "endYear", artwork.end_year)
        graph.text(iri, HK + "classification", artwork.classification)
        graph.text(iri, HK + "dimensions", artwork.dimensions)
        graph.decimal(iri, HK + "widthMm", artwork.width_mm)
        graph.decimal(iri, HK + "heightMm", artwork.height_mm)
        graph.decimal(iri, HK + "depthMm", artwork.depth_mm)
        graph.text(iri, HK + "creditLine", artwork.credit_line)
        graph.integer(iri, HK + "acquisitionYear", artwork.acquisition_year)
        graph.text(iri, HK + "department", artwork.department)
        graph.link(iri, HK + "thumbnail", artwork.thumbnail_url)
        graph.link(iri, HK + "sourcePage", artwork.page_url)
        groups = self.glossary.groups_of(artwork.medium)
        if artwork.medium is not None:
            graph.text(iri, HK + "medium", artwork.medium)
            for slug in groups:
                graph.iri(iri, HK + "mediumGroup", self.minter.medium_group(slug))
        if artwork.catalogue_group is not None:
            group = self.minter.catalogue_group(name, artwork.catalogue_group.id)
            self._node(graph, group, HK + "CatalogueGroup", artwork.catalogue_group.title or artwork.catalogue_group.id, written)
            graph.iri(iri, HK + "catalogueGroup", group)
        for contribution in artwork.contributions:
            artist = self.minter.artist(name, contribution.artist_id)
            node = self.minter.contribution(iri, contribution.position)
            graph.iri(iri, HK + "creator", artist)
            graph.iri(iri, HK + "contribution", node)
            graph.iri(node, TYPE, HK + "Contribution")
            graph.iri(node, HK + "contributor", artist)
            graph.text(node, HK + "role", contribution.role)
            graph.integer(node, HK + "displayOrder", contribution.order)
        for concept_id in artwork.subject_ids:
            graph.iri(iri, HK + "subject", self.minter.subject(name, concept_id))
        for movement in artwork.movements:
            graph.iri(iri, HK + "movement", self._movement(graph, name, movement, written))
        return groups
