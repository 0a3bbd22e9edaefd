"""Where a SPARQL 1.1 server takes queries, updates and Graph Store requests, with which
credentials, and how its default graph becomes the union of the named graphs: the address of a
server store. Presets name the common engines (`oxigraph`, `virtuoso`); any other server is
described URL by URL. Light on purpose: the settings build one without loading a backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from heritage_kg.errors import StoreError

# How the default graph of a query that names no dataset becomes the union of the named graphs,
# as the embedded store makes it:
# - "parameter": the server takes Oxigraph's `union-default-graph` request parameter;
# - "native": the server's default graph is already the union (Virtuoso; Fuseki with
#   tdb:unionDefaultGraph; GraphDB), and the request says nothing.
UnionDefaultGraph = Literal["parameter", "native"]


@dataclass(frozen=True)
class ServerEndpoints:
    """The address of a SPARQL server store. `engine` names the server in error messages and
    selects what differs between engines (see server.py); its own graphs (`system_graphs`) must
    be unreadable by queries (docker/virtuoso/setup.sql), and are never listed as ours."""

    engine: str
    query_url: str
    update_url: str
    graph_store_url: str
    union_default_graph: UnionDefaultGraph
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    auth: Literal["basic", "digest"] = "basic"
    system_graphs: tuple[str, ...] = ()
    # a bulk load posts each graph's N-Triples to the Graph Store in chunks of this many triples
    load_chunk_triples: int = 100_000

    @property
    def location(self) -> str:
        return self.query_url


# The paths under the server's base URL, the union and the credentials' scheme of each preset.
PRESETS: dict[str, dict] = {
    # `oxigraph serve`: open endpoints, the union by a parameter.
    "oxigraph": {"query": "/query", "update": "/update", "graph_store": "/store",
                 "union_default_graph": "parameter", "auth": "basic", "system_graphs": ()},
    # Virtuoso 7: anonymous queries at /sparql; updates and the Graph Store need a user with the
    # SPARQL_UPDATE role, by HTTP digest; its default graph is the union of every graph it lets
    # the reader see: docker/virtuoso/setup.sql makes the system graphs of a fresh database private.
    "virtuoso": {"query": "/sparql", "update": "/sparql-auth", "graph_store": "/sparql-graph-crud-auth",
                 "union_default_graph": "native", "auth": "digest",
                 "system_graphs": ("http://www.openlinksw.com/schemas/virtrdf#", "http://www.w3.org/ns/ldp#",
                                   "http://localuriqaserver/sparql")},
}


def server_endpoints(url: str, preset: str = "oxigraph", *, query_url: str | None = None,
                     update_url: str | None = None, graph_store_url: str | None = None,
                     user: str | None = None, password: str | None = None, auth: str | None = None,
                     union_default_graph: str | None = None, load_chunk_triples: int | None = None) -> ServerEndpoints:
    """The endpoints of the server at base `url`: the preset's paths under it, each replaced by
    the URL given for it."""
    if preset not in PRESETS:
        raise StoreError(f"no SPARQL server preset {preset!r}; known: {', '.join(PRESETS)} "
                         f"(another server: give its query, update and graph store URLs)")
    paths = PRESETS[preset]
    base = url.rstrip("/")
    union = union_default_graph or paths["union_default_graph"]
    if union not in ("parameter", "native"):
        raise StoreError(f"union_default_graph must be 'parameter' or 'native', not {union!r}")
    scheme = auth or paths["auth"]
    if scheme not in ("basic", "digest"):
        raise StoreError(f"the store's HTTP auth must be 'basic' or 'digest', not {scheme!r}")
    return ServerEndpoints(engine=preset, query_url=query_url or base + paths["query"],
                           update_url=update_url or base + paths["update"],
                           graph_store_url=graph_store_url or base + paths["graph_store"],
                           union_default_graph=union, user=user, password=password, auth=scheme,
                           system_graphs=paths["system_graphs"],
                           load_chunk_triples=load_chunk_triples or ServerEndpoints.load_chunk_triples)
