"""RDF namespaces, declared once, and the IRIs the builder mints under the configured base."""

from __future__ import annotations

import functools
from urllib.parse import quote

from rdflib import Namespace, URIRef
from rdflib.namespace import DefinedNamespace, DefinedNamespaceMeta


class _CheckedTerms(DefinedNamespaceMeta):
    """`HK + "title"` is checked like `HK.title`, but stays a plain string: this code passes IRIs
    around as `str`, and rdflib's URIRef never equals a `str`."""

    def __add__(cls, term: str) -> str:
        return _checked_term(cls, term)


@functools.cache
def _checked_term(namespace: DefinedNamespaceMeta, term: str) -> str:
    return str(namespace[term])  # AttributeError for a term the namespace does not declare


class HK(DefinedNamespace, metaclass=_CheckedTerms):
    """The terms ontology/heritage.ttl declares, and only those: a misspelt or undeclared term
    ("titel" for "title"), as an attribute or added to HK, raises AttributeError where it is
    written. A test keeps this list and the ontology the same."""

    _NS = Namespace("https://w3id.org/heritage-kg/ontology#")
    _fail = True

    # classes
    Artist: URIRef; ArtistMatch: URIRef; Artwork: URIRef; ArtworkLinkingRun: URIRef; ArtworkMatch: URIRef;
    Authority: URIRef; CatalogueGroup: URIRef;
    ClassificationRun: URIRef; Collection: URIRef; ConceptScore: URIRef; DatasetQuery: URIRef; Contribution: URIRef; GraphBuild: URIRef;
    HeritageKGSoftware: URIRef; LinkingRun: URIRef; Match: URIRef; MediumGroup: URIRef; Model: URIRef;
    ModelEvaluation: URIRef;
    Movement: URIRef;
    Place: URIRef; SkippedRecord: URIRef; SourceArchive: URIRef; SourceNote: URIRef; SubjectConcept: URIRef;
    SubjectPrediction: URIRef; Task: URIRef; TrainingRun: URIRef; TrainingSet: URIRef;
    # properties and individuals
    accessionNumber: URIRef; acquisitionYear: URIRef; artistCount: URIRef; artworkCount: URIRef;
    birthPlace: URIRef; birthYear: URIRef; builtCollection: URIRef; catalogueGroup: URIRef; checksum: URIRef;
    classification: URIRef; collectionName: URIRef; conceptCount: URIRef; confidence: URIRef;
    contribution: URIRef; contributor: URIRef; creator: URIRef; creditLine: URIRef; dateText: URIRef;
    deathPlace: URIRef; deathYear: URIRef; department: URIRef; depicts: URIRef; depthMm: URIRef;
    dimensions: URIRef; displayOrder: URIRef; endYear: URIRef; era: URIRef; evidence: URIRef; gender: URIRef;
    heightMm: URIRef; inCollection: URIRef; keywordStem: URIRef; level: URIRef; lifeDates: URIRef;
    linkCount: URIRef; matchStatus: URIRef; matchSubject: URIRef; matchTarget: URIRef; matchedBy: URIRef;
    medium: URIRef; mediumGroup: URIRef; movement: URIRef; name: URIRef; nationality: URIRef; noteKind: URIRef;
    noteRecord: URIRef;
    placeType: URIRef; predictedSubject: URIRef; predictionFor: URIRef; reason: URIRef; recordId: URIRef;
    recordPath: URIRef; role: URIRef; score: URIRef; skippedCount: URIRef; skippedRecord: URIRef;
    softwareVersion: URIRef; sortName: URIRef; sourceLocation: URIRef; sourceNote: URIRef; sourcePage: URIRef; startYear: URIRef;
    subject: URIRef; task: URIRef; taskSubject: URIRef; thumbnail: URIRef; title: URIRef; trainedOn: URIRef;
    tripleCount: URIRef; usedModel: URIRef; widthMm: URIRef;
    # the model registry
    accuracy: URIRef; architecture: URIRef; configDigest: URIRef; datasetName: URIRef; datasetVersion: URIRef;
    evaluation: URIRef; f1: URIRef; labelMacroF1: URIRef; labelMicroF1: URIRef; labelScore: URIRef;
    meanTaskF1: URIRef; precision: URIRef; queryName: URIRef; queryText: URIRef; recall: URIRef; runFolder: URIRef;
    scoredConcept: URIRef; split: URIRef; support: URIRef; taskScore: URIRef; thresholdPolicy: URIRef;
    # predictions written back
    rank: URIRef;
    # curators' reviews of predictions
    SubjectReview: URIRef; reviewOf: URIRef; reviewedArtwork: URIRef; reviewedSubject: URIRef; verdict: URIRef;


RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
SCHEMA = "https://schema.org/"
CRM = "http://www.cidoc-crm.org/cidoc-crm/"
SH = "http://www.w3.org/ns/shacl#"
FOAF = "http://xmlns.com/foaf/0.1/"

PREFIXES = {
    "hk": str(HK), "rdf": RDF, "rdfs": RDFS, "owl": OWL, "xsd": XSD, "skos": SKOS,
    "dcterms": DCTERMS, "prov": PROV, "schema": SCHEMA, "crm": CRM,
}


def segment(value: str) -> str:
    """A source identifier as one readable IRI path segment ("T 01234/A" -> "T%2001234%2FA")."""
    return quote(value, safe="-._~()!*'+,;=:@")


# Where minted IRIs start unless a deployment sets its own domain (Settings.base_iri).
DEFAULT_BASE_IRI = "https://w3id.org/heritage-kg/"


class Minter:
    """Stable, readable IRIs under a base: `{base}{collection}/artwork/{accession number}`,
    `{base}{collection}/artist/{id}`, `{base}tate/subject/{id}`, and the graph names."""

    def __init__(self, base: str):
        self.base = base if base.endswith(("/", "#")) else base + "/"

    def artwork(self, collection: str, accession: str) -> str:
        return f"{self.base}{collection}/artwork/{segment(accession)}"

    def artist(self, collection: str, artist_id: str) -> str:
        return f"{self.base}{collection}/artist/{segment(artist_id)}"

    def contribution(self, artwork_iri: str, position: int) -> str:
        """Named by the contributor's place in the record's list, which is unique (a displayOrder
        need not be)."""
        return f"{artwork_iri}/contribution/{position}"

    def subject(self, collection: str, concept_id: str) -> str:
        return f"{self.base}{collection}/subject/{segment(concept_id)}"

    def subject_scheme(self, collection: str) -> str:
        return f"{self.base}{collection}/subjects"

    def movement(self, collection: str, movement_id: str) -> str:
        return f"{self.base}{collection}/movement/{segment(movement_id)}"

    def catalogue_group(self, collection: str, group_id: str) -> str:
        return f"{self.base}{collection}/group/{segment(group_id)}"

    def place(self, collection: str, name: str) -> str:
        return f"{self.base}{collection}/place/{segment(name.lower())}"

    def collection(self, collection: str) -> str:
        return f"{self.base}{collection}"

    def medium_group(self, slug: str) -> str:
        return f"{self.base}medium/{segment(slug)}"

    def medium_scheme(self) -> str:
        return f"{self.base}medium"

    def graph(self, name: str) -> str:
        """Named graphs: one per collection, plus `ontology`, `vocabularies`, `builds`."""
        return f"{self.base}graph/{name}"

    def build(self, collection: str, stamp: str) -> str:
        return f"{self.base}build/{collection}/{stamp}"
