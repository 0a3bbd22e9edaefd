"""The Jinja2 templates of the service's HTML pages (Linked Data pages, the curator's page) and
the helpers they share: IRIs under the base link to this service's own pages."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates
from rdflib import URIRef

from heritage_kg.config import get_settings
from heritage_kg.graph.linked_data import literal_text, local_path
from heritage_kg.graph.namespaces import PREFIXES

templates = Jinja2Templates(directory=Path(__file__).parent)


def href(iri: str) -> str:
    """Where a person follows an IRI: this service's page for a minted one, else the IRI."""
    return local_path(iri, get_settings().base_iri) or iri


def compact(iri: str) -> str:
    """`https://w3id.org/heritage-kg/ontology#title` -> `hk:title`, for property names."""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return iri


templates.env.globals.update(href=href, compact=compact, literal_text=literal_text,
                             is_iri=lambda term: isinstance(term, URIRef))
