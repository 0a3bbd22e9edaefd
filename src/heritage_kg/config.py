"""Settings from the environment, in one place (prefix HERITAGE_KG_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from typing import Annotated

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from heritage_kg.graph.namespaces import DEFAULT_BASE_IRI
from heritage_kg.resources import KG_DIR, ONTOLOGY_DIR


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HERITAGE_KG_", extra="ignore")

    # A folder for the embedded Oxigraph store, or the URL of a SPARQL 1.1 server.
    store: str = "data/store"
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

    @field_validator("sparql_service_allow", mode="before")
    @classmethod
    def _endpoint_list(cls, value):
        return tuple(value.replace(",", " ").split()) if isinstance(value, str) else value


@lru_cache
def get_settings() -> Settings:
    return Settings()
