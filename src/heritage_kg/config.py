"""Settings from the environment, in one place (prefix HERITAGE_KG_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from typing import TYPE_CHECKING, Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from heritage_kg.graph.namespaces import DEFAULT_BASE_IRI
from heritage_kg.resources import KG_DIR, ONTOLOGY_DIR

if TYPE_CHECKING:
    from heritage_kg.graph.store.endpoints import ServerEndpoints


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HERITAGE_KG_", extra="ignore")

    # A folder for the embedded Oxigraph store, or the URL of a SPARQL 1.1 server.
    store: str = "data/store"
    # A server store: the engine's preset ("oxigraph": /query, /update, /store and the
    # union-default-graph parameter; "virtuoso": /sparql, /sparql-auth, /sparql-graph-crud-auth by
    # digest auth, its default graph the union), and, for another layout, each URL in full.
    store_server: str = "oxigraph"
    store_query_url: str | None = None
    store_update_url: str | None = None
    store_graph_store_url: str | None = None
    # how a query's default graph becomes the union of the named graphs: "parameter" (Oxigraph's
    # union-default-graph) or "native" (the server's default graph is the union); the preset's if unset
    store_union_default_graph: str | None = None
    # who updates and loads: Virtuoso's dba or a user with the SPARQL_UPDATE role
    store_user: str | None = None
    store_password: str | None = Field(default=None, repr=False)
    store_auth: str | None = None  # "basic" or "digest"; the preset's if unset
    store_load_chunk_triples: int = 100_000  # triples per Graph Store post of a bulk load
    # Every IRI the builder mints starts with this; a deployment sets its own domain.
    base_iri: str = DEFAULT_BASE_IRI
    # Downloads (collection archives, images) are cached here.
    cache_dir: Path = Path("data/cache")
    # Learning data: dataset folders, feature vectors and their caches, downloaded images.
    datasets_dir: Path = Path("data/datasets")
    features_dir: Path = Path("data/features")
    images_dir: Path = Path("data/images")
    models_dir: Path = Path("data/models")
    # the table of every artist pair a linking run found: generated, for review, never edited
    links_table: Path = Path("data/links/artists.tsv")
    # The search box's full-text index (graph/search.py): beside an embedded store when unset;
    # a store that is a SPARQL server needs a path here.
    search_index: Path | None = None
    # The SPARQL service.
    sparql_timeout_s: float = 30.0
    sparql_max_rows: int = 100_000
    max_request_bytes: int = 1_000_000
    update_token: str | None = None  # updates are off unless a token is set
    sparql_workers: int = 0  # query worker processes; 0: one per CPU core, at least 2
    # Subject classification (POST /classify): the registry model used when a request names none
    # (a folder name under models_dir, or its registry IRI), and what a request may send.
    default_model: str | None = None
    classify_max_image_bytes: int = 20_000_000
    classify_max_image_pixels: int = 40_000_000  # width x height, read from the header before decoding
    classify_max_title_chars: int = 500
    # Torch threads of the serving process. One per request: requests run side by side on the
    # cores, where more threads each would spin against each other (a title took 0.7 s instead of
    # 0.05 s with two threads on a busy 2-core machine: benchmarks/classify.py).
    classify_threads: int = 1
    # Remote endpoints a query may call with SERVICE, by IRI, separated by spaces or commas
    # (e.g. https://query.wikidata.org/sparql); none by default: SERVICE is refused.
    sparql_service_allow: Annotated[tuple[str, ...], NoDecode] = ()
    # Answers kept in memory for repeated queries, at most this many bytes; 0 turns the cache off.
    sparql_cache_bytes: int = 256 * 1024 * 1024
    # Artist reconciliation: the authority files (NGA, MoMA, Whitney) and, for --online,
    # Wikidata's public SPARQL service.
    authorities_dir: Path = Path("../shared/data/authorities")
    wikidata_sparql_url: str = "https://query.wikidata.org/sparql"
    # The project's own resources (resources.py); a deployment may point at edited copies.
    kg_dir: Path = KG_DIR
    ontology_dir: Path = ONTOLOGY_DIR

    def store_server_endpoints(self, location: str | None = None) -> ServerEndpoints | None:
        """The endpoints of the server store at `location` (the `store` setting by default), or
        None when it is a folder."""
        from heritage_kg.graph.store.endpoints import server_endpoints  # the store package: only when asked

        location = location or self.store
        if not location.startswith(("http://", "https://")):
            return None
        return server_endpoints(location, self.store_server, query_url=self.store_query_url,
                                update_url=self.store_update_url, graph_store_url=self.store_graph_store_url,
                                user=self.store_user, password=self.store_password, auth=self.store_auth,
                                union_default_graph=self.store_union_default_graph,
                                load_chunk_triples=self.store_load_chunk_triples)

    @field_validator("sparql_service_allow", mode="before")
    @classmethod
    def _endpoint_list(cls, value):
        return tuple(value.replace(",", " ").split()) if isinstance(value, str) else value


@lru_cache
def get_settings() -> Settings:
    return Settings()
