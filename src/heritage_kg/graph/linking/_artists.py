"""The collections' artists as the store describes them, with what matching compares."""

from __future__ import annotations

from dataclasses import dataclass

from heritage_kg.graph.linking._names import name_keys
from heritage_kg.graph.linking._years import Years, life_years
from heritage_kg.graph.namespaces import Minter
from heritage_kg.graph.queries import load_query
from heritage_kg.graph.store import GraphStore


@dataclass(frozen=True)
class CollectionArtist:
    iri: str
    collection: str  # "tate", "cmoa"
    name: str | None
    sort_name: str | None = None
    birth_year: int | None = None
    death_year: int | None = None
    nationality: str | None = None

    @property
    def keys(self) -> set[str]:
        return name_keys(self.name, self.sort_name)

    @property
    def years(self) -> Years:
        return self.birth_year, self.death_year

    @property
    def label(self) -> str:
        return self.name or self.sort_name or self.iri


def read_collection_artists(store: GraphStore, minter: Minter) -> list[CollectionArtist]:
    """The artists of every collection in the store, with the death year read from the life
    dates where the record lacks one."""
    graph_prefix = minter.graph("")
    _, rows = store.select(load_query("links_collection_artists").text)
    artists = []
    for row in rows:
        graph = str(row["graph"])
        if not graph.startswith(graph_prefix):
            continue
        value = {k: v.toPython() for k, v in row.items()}
        birth, death = life_years(_int(value.get("birthYear")), _int(value.get("deathYear")),
                                  value.get("lifeDates"))
        artists.append(CollectionArtist(
            iri=str(row["artist"]), collection=graph[len(graph_prefix):], name=value.get("name"),
            sort_name=value.get("sortName"), birth_year=birth, death_year=death,
            nationality=value.get("nationality")))
    return artists


def _int(value) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
