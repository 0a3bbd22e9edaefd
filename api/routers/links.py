"""Links across collections: `GET /artworks/{collection}/{id}/links?to=cmoa&k=10` ranks the
artworks of another collection for one artwork (inference/linking.py), each with its score and
its reasons."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query

from api.dependencies import LinkerDep
from api.schemas import ArtworkLinkAnswer, ArtworkLinksAnswer
from heritage_kg.errors import ResourceNotFoundError
from heritage_kg.inference.linking import MAX_LINKS
from heritage_kg.sources import READERS

router = APIRouter(tags=["links"])

CollectionName = StrEnum("CollectionName", {name: name for name in READERS})


# A path parameter: an accession number may hold a "/" (sent as %2F).
@router.get("/artworks/{collection}/{artwork_id:path}/links", summary="Artworks of another collection like this one")
def artwork_links(collection: str, artwork_id: str, linker: LinkerDep,
                  to: Annotated[CollectionName, Query(description="The collection to link to")],
                  k: Annotated[int, Query(ge=1, le=MAX_LINKS, description="How many links")] = 10) -> ArtworkLinksAnswer:
    """The k artworks of collection `to` that share most with this one: the same artist (through
    owl:sameAs), subjects (annotated, or predicted and weighted by confidence) and a similar
    title, best first, each with its score and its reasons."""
    if collection not in READERS:
        raise ResourceNotFoundError(f"no collection {collection!r}; known: {', '.join(READERS)}")
    artwork = linker.minter.artwork(collection, artwork_id)
    links = linker.links(artwork, to=to.value, k=k)
    return ArtworkLinksAnswer(artwork=artwork, to=to.value, links=[ArtworkLinkAnswer.of(link) for link in links])
