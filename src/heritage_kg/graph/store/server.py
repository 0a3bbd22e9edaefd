"""The graph store as a SPARQL 1.1 server (Oxigraph's `oxigraph serve`, or a server with the same
layout: `/query`, `/update`, and the Graph Store Protocol at `/store`), chosen by giving
`open_store` its URL, e.g. HERITAGE_KG_STORE=http://127.0.0.1:7878."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox
from rdflib import URIRef

from heritage_kg.errors import QueryError, StoreError
from heritage_kg.graph.queries import inline_bindings, load_query
from heritage_kg.graph.store.base import GraphStore, declares_dataset

SOLUTIONS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
N_QUADS = "application/n-quads"
# A build's graphs are loaded under these names first, then moved into place by one update.
STAGING_GRAPH = "urn:heritage-kg:staging:{token}:{graph}"


class SparqlServerStore(GraphStore):
    """Every call is one HTTP request; Oxigraph's `union-default-graph` parameter makes the
    default graph the union of all graphs, as in the embedded store."""

    def __init__(self, url: str, *, timeout_s: float | None = None):
        self.url = url.rstrip("/")
        self.location = self.url
        self.timeout_s = timeout_s
        self._client: httpx.Client | None = None

    @property
    def _http(self) -> httpx.Client:
        if self._client is None:  # opened on first use, and again after close()
            self._client = httpx.Client(timeout=httpx.Timeout(self.timeout_s, connect=10.0))
        return self._client

    # -- HTTP

    def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            response = self._http.request(method, f"{self.url}{path}", **kwargs)
        except httpx.TimeoutException:
            raise StoreError(f"the SPARQL server at {self.url} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise StoreError(f"cannot reach the SPARQL server at {self.url} ({exc}); start it with "
                             f"'oxigraph serve --location DIR --bind HOST:PORT' or set HERITAGE_KG_STORE") from None
        if response.status_code == 400:
            raise QueryError(f"SPARQL syntax error: {response.text.strip()}")
        if response.status_code >= 300:
            raise StoreError(f"the SPARQL server at {self.url} answered {response.status_code}: "
                             f"{response.text.strip()[:500]}")
        return response

    def raw_query(self, sparql, *, default_graphs=(), named_graphs=()):
        form: list[tuple[str, str]] = [("query", sparql)]
        if default_graphs or named_graphs:
            form += [("default-graph-uri", g) for g in default_graphs]
            form += [("named-graph-uri", g) for g in named_graphs]
        elif not declares_dataset(sparql):
            form.append(("union-default-graph", "true"))
        response = self._request("POST", "/query", content=urlencode(form).encode(),
                                 headers={"Accept": f"{SOLUTIONS_JSON}, {N_TRIPLES}",
                                          "Content-Type": "application/x-www-form-urlencoded"})
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if media_type == SOLUTIONS_JSON:
            return ox.parse_query_results(response.content, format=ox.QueryResultsFormat.JSON)
        return [quad.triple for quad in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES)]

    # -- GraphStore

    def update(self, sparql):
        self._request("POST", "/update", content=sparql.encode(),
                      headers={"Content-Type": "application/sparql-update"})

    def named_graphs(self):
        _, rows = self.select(load_query("service_named_graphs").text)
        return sorted(str(row["g"]) for row in rows if "g" in row)

    def export_graph(self, graph, out):
        with self._http.stream("GET", f"{self.url}/store", params={"graph": graph},
                               headers={"Accept": N_TRIPLES}) as response:
            if response.status_code >= 300:
                raise StoreError(f"cannot export <{graph}> from {self.url}: {response.status_code}")
            with open(out, "wb") as file:
                for chunk in response.iter_bytes():
                    file.write(chunk)

    def replace_graphs(self, nquads: Path, graphs):
        """Loads the quads into staging graphs through the Graph Store Protocol, then one SPARQL
        update (one transaction in Oxigraph) drops the replaced graphs and moves the staged ones in;
        until then readers see the old graphs, and a failure drops the staging graphs only."""
        token = uuid.uuid4().hex
        staged: dict[str, str] = {}

        def staging_name(graph_name) -> ox.NamedNode:
            if not isinstance(graph_name, ox.NamedNode):
                raise StoreError(f"{nquads} has quads outside a named graph; a build writes named graphs only")
            graph = graph_name.value
            return ox.NamedNode(staged.setdefault(graph, STAGING_GRAPH.format(token=token, graph=graph)))

        staging_file = self.staging_dir() / f"staged-{token}.nq"
        try:
            ox.serialize((ox.Quad(q.subject, q.predicate, q.object, staging_name(q.graph_name))
                          for q in ox.parse(path=str(nquads), format=ox.RdfFormat.N_QUADS)),
                         str(staging_file), format=ox.RdfFormat.N_QUADS)
            with open(staging_file, "rb") as body:
                self._request("POST", "/store", content=body, headers={"Content-Type": N_QUADS})
            drop, publish = load_query("service_drop_graph"), load_query("service_publish_staged_graph")
            operations = [inline_bindings(drop.text, drop.bindings({"graph": URIRef(g)})) for g in graphs]
            operations += [inline_bindings(publish.text, publish.bindings({"staging": URIRef(s), "target": URIRef(g)}))
                           for g, s in staged.items()]
            self.update(" ;\n".join(operations))  # one request: one transaction
        except BaseException:
            self._drop_quietly(staged.values())
            raise
        finally:
            staging_file.unlink(missing_ok=True)

    def _drop_quietly(self, graphs) -> None:
        drop = load_query("service_drop_graph")
        try:
            if graphs:
                self.update(" ;\n".join(inline_bindings(drop.text, drop.bindings({"graph": URIRef(g)})) for g in graphs))
        except StoreError:
            pass  # the server is gone; the staging graphs hold nothing readers look for

    def close(self):
        if self._client is not None:
            self._client.close()
            self._client = None
