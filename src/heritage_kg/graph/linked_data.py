"""Linked Data: the IRIs the builder mints, resolved from the path they are served at and
described from the store, as pages for people (artwork, artist, subject concept, collection,
anything else) and as RDF for machines."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from heritage_kg.errors import MalformedResourceError, NotAcceptableError, ResourceNotFoundError
from heritage_kg.graph.namespaces import HK, PREFIXES, RDF, SKOS, XSD, Minter
from heritage_kg.graph.queries import load_query
from heritage_kg.graph.results import media_type_for_format, rank_media_types
from heritage_kg.graph.store import GraphStore
from heritage_kg.sources import READERS

PAGE_SIZE = 50

# --- what a minted IRI looks like: {base}{collection}/{kind}/{id}, {base}medium/{slug}, ... ---

# The identifiers of each kind, as the sources give them (before they are percent-encoded into
# the IRI). Anything else cannot be a minted IRI, so it is refused before any query runs.
_RECORD_ID = re.compile(r"[\w-]{1,100}")
_ACCESSION_NUMBER = re.compile(r"\w[\w .,/()&+:-]{0,99}")  # "N00530", "2013.29.1A-B", "T 01234/A"
_PLACE_NAME = re.compile(r"[^<>\"{}|\\^\x00-\x1f\x7f]{1,200}")  # free text: "king's lynn, united kingdom"
_SLUG = re.compile(r"[a-z0-9-]{1,100}")
_ORDER = re.compile(r"[0-9]{1,6}")
_BUILD_PART = re.compile(r"[\w.-]{1,100}")


@dataclass(frozen=True)
class CollectionKind:
    """A kind of resource minted inside a collection: `{base}{collection}/{kind}/{id}`."""

    pattern: re.Pattern
    mint: Callable[[Minter, str, str], str]
    view: str  # which description serves it (see DESCRIPTIONS)


COLLECTION_KINDS: dict[str, CollectionKind] = {
    "artwork": CollectionKind(_ACCESSION_NUMBER, Minter.artwork, "artwork"),
    "artist": CollectionKind(_RECORD_ID, Minter.artist, "artist"),
    "subject": CollectionKind(_RECORD_ID, Minter.subject, "concept"),
    "movement": CollectionKind(_RECORD_ID, Minter.movement, "resource"),
    "group": CollectionKind(_RECORD_ID, Minter.catalogue_group, "resource"),
    "place": CollectionKind(_PLACE_NAME, Minter.place, "resource"),
}
# The first path segments a minted IRI can have besides a collection's name.
SHARED_ROOTS = ("medium", "ontology", "graph", "build")


def served_roots() -> list[str]:
    """Every first path segment of a minted IRI: the collections, then the shared ones."""
    return [*READERS, *SHARED_ROOTS]


@dataclass(frozen=True)
class LinkedResource:
    """A minted IRI, recognised from its path, and the description that serves it."""

    iri: str
    view: str


def resolve(path: str, base: str) -> LinkedResource:
    """The resource a request path names: `/tate/artwork/N00530` -> `{base}tate/artwork/N00530`.
    `path` is the raw (still percent-encoded) path, so an identifier holding an encoded slash
    stays one segment. A path no minted IRI can have raises MalformedResourceError."""
    minter = Minter(base)
    segments = [unquote(s) for s in path.strip("/").split("/")]
    if not segments or any(not s for s in segments):
        raise MalformedResourceError(f"{path!r} has an empty path segment")
    root, rest = segments[0], segments[1:]
    if root in READERS:
        return _resolve_in_collection(minter, root, rest)
    if root == "medium":
        if not rest:
            return LinkedResource(minter.medium_scheme(), "resource")
        if len(rest) == 1 and _SLUG.fullmatch(rest[0]):
            return LinkedResource(minter.medium_group(rest[0]), "medium_group")
        raise MalformedResourceError(f"a medium group is /medium/<slug> with a slug of a-z, 0-9 and '-', not {path!r}")
    if root == "ontology" and not rest:
        return LinkedResource(minter.base + "ontology", "resource")
    if root == "graph" and len(rest) == 1 and _RECORD_ID.fullmatch(rest[0]):
        return LinkedResource(minter.graph(rest[0]), "resource")
    if root == "build" and len(rest) >= 2 and rest[0] in READERS and all(_BUILD_PART.fullmatch(s) for s in rest[1:]):
        return LinkedResource(minter.build(rest[0], "/".join(rest[1:])), "resource")
    raise MalformedResourceError(
        f"no resources are minted at {path!r}; paths start with a collection ({', '.join(READERS)}) "
        f"or one of {', '.join(SHARED_ROOTS)}")


def _resolve_in_collection(minter: Minter, collection: str, rest: list[str]) -> LinkedResource:
    if not rest:
        return LinkedResource(minter.collection(collection), "collection")
    if rest == ["subjects"]:
        return LinkedResource(minter.subject_scheme(collection), "scheme")
    kind_name, ids = rest[0], rest[1:]
    kind = COLLECTION_KINDS.get(kind_name)
    if kind is None:
        raise MalformedResourceError(
            f"no kind of resource called {kind_name!r} in {collection}; "
            f"known kinds: {', '.join(COLLECTION_KINDS)}, subjects")
    if not ids:
        raise MalformedResourceError(f"/{collection}/{kind_name} needs an identifier: /{collection}/{kind_name}/<id>")
    identifier = ids[0]
    if not kind.pattern.fullmatch(identifier):
        raise MalformedResourceError(f"{identifier!r} is not a well-formed {kind_name} identifier")
    iri = kind.mint(minter, collection, identifier)
    if len(ids) == 1:
        return LinkedResource(iri, kind.view)
    # Contributions hang below their artwork: {artwork}/contribution/{order}.
    if kind_name == "artwork" and len(ids) == 3 and ids[1] == "contribution" and _ORDER.fullmatch(ids[2]):
        return LinkedResource(minter.contribution(iri, int(ids[2])), "resource")
    raise MalformedResourceError(f"no resources are minted below {kind_name} {identifier!r} at {'/'.join(ids[1:])!r}")


def local_path(iri: str, base: str) -> str | None:
    """Where this service serves an IRI minted under `base` (the inverse of `resolve`), or None
    for an IRI from elsewhere."""
    return "/" + iri[len(base):] if iri.startswith(base) and len(iri) > len(base) else None


# --- descriptions for people ---

@dataclass(frozen=True)
class Link:
    """A resource to follow, with what a person reads for it."""

    iri: str
    label: str


@dataclass(frozen=True)
class Statement:
    property: str
    value: Node
    label: str | None = None  # the value's title, name or preferred label, where it has one


@dataclass(frozen=True)
class Page:
    """One page of a long list; `total` where counting it is cheap."""

    items: list
    number: int
    has_next: bool
    total: int | None = None

    @property
    def first_position(self) -> int:
        return (self.number - 1) * PAGE_SIZE + 1

    @property
    def last_number(self) -> int | None:
        return None if self.total is None else max(1, -(-self.total // PAGE_SIZE))


@dataclass(frozen=True)
class ArtworkLink:
    iri: str
    title: str | None
    date: str | None


@dataclass(frozen=True)
class Contributor:
    artist: Link
    role: str | None


@dataclass
class Description:
    """What a page shows about one resource: its label, its statements, and per view the lists
    gathered for it (artists, subjects, artworks paged...)."""

    iri: str
    view: str
    label: str
    types: list[str]
    statements: list[Statement]
    details: dict[str, object] = field(default_factory=dict)

    def values(self, prop: str) -> list[Node]:
        return [s.value for s in self.statements if s.property == prop]

    def value(self, prop: str) -> str | None:
        values = self.values(prop)
        return str(values[0]) if values else None

    def links(self, prop: str) -> list[Link]:
        return sorted((Link(str(s.value), s.label or _last_segment(str(s.value)))
                       for s in self.statements if s.property == prop and isinstance(s.value, URIRef)),
                      key=lambda link: link.label.lower())


LABEL_PROPERTIES = (HK + "title", HK + "name", SKOS + "prefLabel", PREFIXES["rdfs"] + "label")


def describe(store: GraphStore, resource: LinkedResource, page: int = 1) -> Description:
    """The description of a resource for its page; ResourceNotFoundError if the graph holds
    nothing about it."""
    if page < 1:
        raise MalformedResourceError(f"page numbers start at 1, not {page}")
    term = URIRef(resource.iri)
    if not store.ask(load_query("ld_resource_exists").text, _bind("ld_resource_exists", resource=term)):
        raise ResourceNotFoundError(f"the graph holds nothing about <{resource.iri}>")
    _, rows = store.select(load_query("ld_statements").text, _bind("ld_statements", resource=term))
    statements = [Statement(str(r["property"]), r["value"], str(r["valueLabel"]) if "valueLabel" in r else None)
                  for r in rows]
    description = Description(resource.iri, resource.view, "", [], statements)
    description.types = [str(v) for v in description.values(RDF + "type")]
    description.label = next((description.value(p) for p in LABEL_PROPERTIES if description.value(p)),
                             _last_segment(resource.iri))
    DESCRIPTIONS[resource.view](store, description, page)
    return description


@dataclass(frozen=True)
class CrossCollectionLink:
    """An artwork of another collection that `heritage-kg link-artworks` linked this one to."""

    target: str
    title: str | None
    score: float
    evidence: str


def _describe_artwork(store: GraphStore, description: Description, page: int) -> None:
    artwork = URIRef(description.iri)
    _, rows = store.select(load_query("ld_contributions").text, _bind("ld_contributions", artwork=artwork))
    description.details["contributors"] = [
        Contributor(Link(str(r["artist"]), str(r.get("name") or _last_segment(str(r["artist"])))),
                    str(r["role"]) if "role" in r else None) for r in rows]
    _, rows = store.select(load_query("artwork_links").text, _bind("artwork_links", artwork=artwork))
    description.details["links"] = [CrossCollectionLink(str(r["target"]), _text(r.get("title")),
                                                         float(r["score"].toPython()), str(r["evidence"]))
                                    for r in rows]


def _describe_artist(store: GraphStore, description: Description, page: int) -> None:
    description.details["artworks"] = _linked_artworks(store, description.iri, HK + "creator", page)


def _describe_medium_group(store: GraphStore, description: Description, page: int) -> None:
    description.details["artworks"] = _linked_artworks(store, description.iri, HK + "mediumGroup", page)


def _describe_collection(store: GraphStore, description: Description, page: int) -> None:
    collection = _last_segment(description.iri)
    scheme = Minter(description.iri[: -len(collection)]).subject_scheme(collection)
    description.details["scheme"] = Link(scheme, "subjects")
    description.details["top_concepts"] = _narrower(store, scheme)
    description.details["artworks"] = _linked_artworks(store, description.iri, HK + "inCollection", page)


def _describe_scheme(store: GraphStore, description: Description, page: int) -> None:
    description.details["top_concepts"] = _narrower(store, description.iri)


def _describe_concept(store: GraphStore, description: Description, page: int) -> None:
    concept = URIRef(description.iri)
    _, rows = store.select(load_query("ld_concept_broader").text, _bind("ld_concept_broader", concept=concept))
    description.details["broader"] = [Link(str(r["broader"]), str(r.get("label", _last_segment(str(r["broader"])))))
                                      for r in rows]
    description.details["narrower"] = _narrower(store, description.iri)
    _, counted = store.select(load_query("ld_concept_artworks_count").text,
                              _bind("ld_concept_artworks_count", concept=concept))
    description.details["artworks"] = _artwork_page(
        store, "ld_concept_artworks", {"concept": concept}, page, int(counted[0]["artworks"].toPython()))


def _describe_resource(store: GraphStore, description: Description, page: int) -> None:
    """Any other minted resource (movement, place, catalogue group, build...): its statements
    and, paged, the statements that point at it."""
    text = _paged(load_query("ld_referrers").text, page)
    _, rows = store.select(text, _bind("ld_referrers", resource=URIRef(description.iri)))
    referrers = [Statement(str(r["property"]), r["subject"], str(r["subjectLabel"]) if "subjectLabel" in r else None)
                 for r in rows]
    description.details["referrers"] = Page(referrers[:PAGE_SIZE], page, len(referrers) > PAGE_SIZE)


DESCRIPTIONS: dict[str, Callable[[GraphStore, Description, int], None]] = {
    "artwork": _describe_artwork,
    "artist": _describe_artist,
    "concept": _describe_concept,
    "scheme": _describe_scheme,
    "medium_group": _describe_medium_group,
    "collection": _describe_collection,
    "resource": _describe_resource,
}


@dataclass(frozen=True)
class NarrowerConcept:
    concept: Link
    artworks: int


def _narrower(store: GraphStore, concept: str) -> list[NarrowerConcept]:
    _, rows = store.select(load_query("ld_concept_narrower").text,
                           _bind("ld_concept_narrower", concept=URIRef(concept)))
    return [NarrowerConcept(Link(str(r["narrower"]), str(r.get("label", _last_segment(str(r["narrower"]))))),
                            int(r["artworks"].toPython())) for r in rows]


def _linked_artworks(store: GraphStore, resource: str, link: str, page: int) -> Page:
    values = {"resource": URIRef(resource), "link": URIRef(link)}
    _, counted = store.select(load_query("ld_linked_artworks_count").text, _bind("ld_linked_artworks_count", **values))
    return _artwork_page(store, "ld_linked_artworks", values, page, int(counted[0]["artworks"].toPython()))


def _artwork_page(store: GraphStore, query: str, values: dict[str, Node], page: int, total: int) -> Page:
    _, rows = store.select(_paged(load_query(query).text, page), _bind(query, **values))
    artworks = [ArtworkLink(str(r["artwork"]), _text(r.get("title")), _text(r.get("date"))) for r in rows]
    return Page(artworks[:PAGE_SIZE], page, len(artworks) > PAGE_SIZE, total)


def _paged(text: str, page: int) -> str:
    """The query with its #PAGE line written as LIMIT/OFFSET (one more row than a page, to tell
    whether another page follows). Only integers are written, so nothing a client sends can
    reach the query text."""
    return text.replace("#PAGE", f"LIMIT {PAGE_SIZE + 1} OFFSET {(int(page) - 1) * PAGE_SIZE}")


def _bind(query: str, **values: Node) -> dict[str, Node]:
    return load_query(query).bindings(values)


def _text(term: Node | None) -> str | None:
    return str(term) if term is not None else None


def _last_segment(iri: str) -> str:
    return unquote(re.split(r"[/#]", iri.rstrip("/"))[-1])


# --- descriptions for machines ---

RDF_SERIALIZATIONS = {  # media type -> rdflib format
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
}


def rdf_description(store: GraphStore, resource: LinkedResource, media_type: str) -> bytes:
    """The resource's statements (and its contributions') in an RDF serialization;
    ResourceNotFoundError if the graph holds nothing about it."""
    term = URIRef(resource.iri)
    if not store.ask(load_query("ld_resource_exists").text, _bind("ld_resource_exists", resource=term)):
        raise ResourceNotFoundError(f"the graph holds nothing about <{resource.iri}>")
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    for subject, predicate, value in store.construct(load_query("ld_description").text,
                                                     _bind("ld_description", resource=term)):
        graph.add((subject, predicate, _plain(value)))
    serialization = RDF_SERIALIZATIONS[media_type]
    if serialization == "json-ld":
        return graph.serialize(format="json-ld", context={p: ns for p, ns in PREFIXES.items()},
                               auto_compact=True).encode("utf-8")
    return graph.serialize(format=serialization, encoding="utf-8")


def _plain(term: Node) -> Node:
    """An xsd:string literal written as a plain one (the same literal in RDF 1.1, and less noise)."""
    if isinstance(term, Literal) and term.datatype == URIRef(XSD + "string"):
        return Literal(str(term))
    return term


def literal_text(term: Node) -> str:
    """A value as a person reads it (an integer as written, a language tag dropped)."""
    return str(term.toPython()) if isinstance(term, Literal) and term.datatype is not None else str(term)


# --- content negotiation ---

HTML = "text/html"
# In order of preference when a client accepts several equally (or sends no Accept).
MEDIA_TYPES = (HTML, *RDF_SERIALIZATIONS)
MEDIA_TYPE_ALIASES = {"application/xhtml+xml": (HTML,), "application/json": ("application/ld+json",),
                      "application/x-turtle": ("text/turtle",), "text/plain": ("application/n-triples",)}
# `.ttl`, `.jsonld`, `.nt` (or ?format=) name a serialization outright.
SUFFIXES = {".ttl": "text/turtle", ".jsonld": "application/ld+json", ".nt": "application/n-triples",
            ".html": HTML}


def split_suffix(path: str) -> tuple[str, str | None]:
    """`/tate/artwork/N00530.ttl` -> (`/tate/artwork/N00530`, "text/turtle")."""
    for suffix, media_type in SUFFIXES.items():
        if path.endswith(suffix):
            return path[: -len(suffix)], media_type
    return path, None


def media_type_named(name: str) -> str:
    """The media type a `format` parameter names ("html", "turtle", "ttl", "jsonld", "nt" or a
    media type); MalformedResourceError for one this service does not serve."""
    name = name.strip().lower()
    media_type = HTML if name in ("html", HTML) else media_type_for_format(name)
    if media_type not in MEDIA_TYPES:
        raise MalformedResourceError(
            f"unknown format {name!r}; Linked Data is served as html, turtle (ttl), jsonld or ntriples (nt)")
    return media_type


def negotiate(accept: str | None) -> str:
    """The media type to answer with for an `Accept` header (see results.rank_media_types; equal
    preferences go to MEDIA_TYPES' order). NotAcceptableError if the client accepts none of them."""
    ranked = rank_media_types(accept, MEDIA_TYPES, MEDIA_TYPE_ALIASES)
    if not ranked:
        raise NotAcceptableError(f"cannot answer with any of {accept!r}; this resource is served as "
                                 f"{', '.join(MEDIA_TYPES)}")
    return ranked[0]
