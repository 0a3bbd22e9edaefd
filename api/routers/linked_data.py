"""Linked Data: every IRI the builder mints is served at its path under the base
(`/tate/artwork/N00530` for `{base}tate/artwork/N00530`), as an HTML page or as JSON-LD,
Turtle or N-Triples, by `Accept`, a `format` parameter or a `.ttl`/`.jsonld`/`.nt` suffix."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.dependencies import get_store, settings
from api.templates import templates
from heritage_kg.config import Settings
from heritage_kg.errors import (HeritageKGError, MalformedResourceError, NotAcceptableError,
                                ResourceNotFoundError, StoreError)
from heritage_kg.graph import linked_data
from heritage_kg.graph.store import GraphStore

router = APIRouter(tags=["linked data"])

STATUS = {MalformedResourceError: (400, "Bad Request"), ResourceNotFoundError: (404, "Not Found"),
          NotAcceptableError: (406, "Not Acceptable"), StoreError: (503, "Service Unavailable")}
TEMPLATES = {"artwork": "artwork.html", "artist": "artist.html", "concept": "concept.html", "scheme": "concept.html",
             "medium_group": "concept.html", "collection": "collection.html", "resource": "resource.html"}


def dereference(request: Request, format: str | None = None, page: str = "1",
                store: GraphStore = Depends(get_store), config: Settings = Depends(settings)) -> Response:
    # The raw path keeps percent-encodings, so an identifier's encoded "/" stays in one segment.
    path, suffix_type = linked_data.split_suffix(request.scope.get("raw_path", b"").decode("latin-1")
                                                 or request.url.path)
    wants_html = False  # until the client's preference is known, errors are plain text
    try:
        media_type = (linked_data.media_type_named(format) if format else suffix_type) \
            or linked_data.negotiate(request.headers.get("accept"))
        wants_html = media_type == linked_data.HTML
        if not page.isdigit() or int(page) < 1:
            raise MalformedResourceError(f"?page= takes a page number from 1, not {page!r}")
        resource = linked_data.resolve(path, config.base_iri)
        if not wants_html:
            body = linked_data.rdf_description(store, resource, media_type)
            return Response(body, media_type=media_type, headers={"Vary": "Accept"})
        description = linked_data.describe(store, resource, int(page))
    except HeritageKGError as error:
        return _error_response(request, error, wants_html)
    return templates.TemplateResponse(request, TEMPLATES[resource.view],
                                      {"description": description, "path": path},
                                      headers={"Vary": "Accept"})


def _error_response(request: Request, error: HeritageKGError, html: bool) -> Response:
    status, reason = next((s for cls, s in STATUS.items() if isinstance(error, cls)), (400, "Bad Request"))
    if html:
        return templates.TemplateResponse(request, "error.html",
                                          {"status": status, "reason": reason, "message": str(error)},
                                          status_code=status)
    return Response(f"{status} {reason}: {error}\n", status_code=status, media_type="text/plain")


for root in linked_data.served_roots():
    router.add_api_route(f"/{root}", dereference, methods=["GET", "HEAD"], include_in_schema=False)
    router.add_api_route(f"/{root}/{{rest:path}}", dereference, methods=["GET", "HEAD"], include_in_schema=False)
