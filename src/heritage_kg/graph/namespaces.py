"""RDF namespaces, declared once, and the IRIs the builder mints under the configured base."""

from __future__ import annotations

from urllib.parse import quote

HK = "https://w3id.org/heritage-kg/ontology#"
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

PREFIXES = {
    "hk": HK, "rdf": RDF, "rdfs": RDFS, "owl": OWL, "xsd": XSD, "skos": SKOS,
    "dcterms": DCTERMS, "prov": PROV, "schema": SCHEMA, "crm": CRM,
}


def segment(value: str) -> str:
    """A source identifier as one readable IRI path segment ("T 01234/A" -> "T%2001234%2FA")."""
    return quote(value, safe="-._~()!*'+,;=:@")


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
