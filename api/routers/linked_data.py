"""Linked Data: every IRI the builder mints is served at its path under the base
(`/tate/artwork/N00530` for `{base}tate/artwork/N00530`), as an HTML page or as JSON-LD,
Turtle or N-Triples, by `Accept`, a `format` parameter or a `.ttl`/`.jsonld`/`.nt` suffix.
An artwork's page also shows its image (the cached copy, served from `/cached-images/`, when
`fetch-images` has one), the models' predicted subjects with the curators' verdicts and the
buttons to give one, and its links to other collections."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from api.dependencies import SettingsDep, StoreDep
from api.templates import templates
from heritage_kg.config import Settings
from heritage_kg.errors import MalformedResourceError, ResourceNotFoundError
from heritage_kg.graph import linked_data
from heritage_kg.graph.namespaces import HK
from heritage_kg.inference.review import artwork_predictions
from heritage_kg.learning.images import ImageCache

CACHED_IMAGES = "/cached-images"

router = APIRouter(tags=["linked data"])

TEMPLATES = {"artwork": "artwork.html", "artist": "artist.html", "concept": "concept.html", "scheme": "concept.html",
             "medium_group": "concept.html", "collection": "collection.html", "resource": "resource.html"}


def dereference(request: Request, store: StoreDep, config: SettingsDep, format: str | None = None,
                page: str = "1") -> Response:
    # The raw path keeps percent-encodings, so an identifier's encoded "/" stays in one segment.
    path, suffix_type = linked_data.split_suffix(request.scope.get("raw_path", b"").decode("latin-1")
                                                 or request.url.path)
    request.state.error_style = "text"  # until the client's preference is known (app.error_answer)
    media_type = (linked_data.media_type_named(format) if format else suffix_type) \
        or linked_data.negotiate(request.headers.get("accept"))
    if media_type == linked_data.HTML:
        request.state.error_style = "html"
    if not page.isdigit() or int(page) < 1:
        raise MalformedResourceError(f"?page= takes a page number from 1, not {page!r}")
    resource = linked_data.resolve(path, config.base_iri)
    if media_type != linked_data.HTML:
        body = linked_data.rdf_description(store, resource, media_type)
        return Response(body, media_type=media_type, headers={"Vary": "Accept"})
    description = linked_data.describe(store, resource, int(page))
    context = {"description": description, "path": path}
    if resource.view == "artwork":
        context.update(predictions=artwork_predictions(store, resource.iri),
                       image=image_source(description.value(HK + "thumbnail"), config))
    return templates.TemplateResponse(request, TEMPLATES[resource.view], context, headers={"Vary": "Accept"})


def image_source(thumbnail: str | None, config: Settings) -> str | None:
    """What an artwork page's <img> loads: the cached copy when `fetch-images` has one, else the
    collection's thumbnail URL (which the curator's browser loads; this service never fetches it)."""
    if thumbnail is None:
        return None
    cached = ImageCache(config.images_dir).find(thumbnail)
    return f"{CACHED_IMAGES}/{cached.name}" if cached is not None else thumbnail


@router.get(CACHED_IMAGES + "/{name}", include_in_schema=False)
def cached_image(name: str, config: SettingsDep) -> FileResponse:
    """A file of the image cache, by the name the cache gives it; nothing else."""
    path = ImageCache(config.images_dir).file_named(name)
    if path is None:
        raise ResourceNotFoundError(f"no cached image {name!r}")
    return FileResponse(path, headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "max-age=86400"})


for root in linked_data.served_roots():
    router.add_api_route(f"/{root}", dereference, methods=["GET", "HEAD"], include_in_schema=False)
    router.add_api_route(f"/{root}/{{rest:path}}", dereference, methods=["GET", "HEAD"], include_in_schema=False)
