"""The graph store as any SPARQL 1.1 server with the Graph Store Protocol: Oxigraph's
`oxigraph serve`, OpenLink Virtuoso, or another server described URL by URL (`endpoints.py`),
chosen by giving `open_store` its URL, e.g. HERITAGE_KG_STORE=http://127.0.0.1:7878 and
HERITAGE_KG_STORE_SERVER=virtuoso.

What a reader sees while a build publishes (`replace_graphs`):
- While the build loads, its quads sit in staging graphs (`urn:heritage-kg:staging:...`). A query
  that names its graphs (GRAPH <...>, FROM) sees only the old ones; a query over the union
  default graph sees the staged quads beside the old ones, on both engines, as every named graph
  is in that union.
- The publish is one update: on Oxigraph one request (one transaction) that drops the replaced
  graphs and adds the staged ones (service_publish_staged_graph.rq); on Virtuoso, whose requests
  commit operation by operation, one DELETE/INSERT (service_publish_staged_graphs.rq). Oxigraph
  answers every query from a snapshot: a query sees all the old graphs or all the new ones.
  Virtuoso runs the operation in one transaction, and a query reads at READ COMMITTED without
  waiting for it: the old graphs until the commit, the new ones after; a query that is still
  reading while the commit lands may see part of it (Virtuoso keeps no snapshot for a query: a
  reader polling a 107-triple graph replaced by 300,000 saw 362 times the old graph, once an
  empty one, twice the new one).
- A failure before the publish leaves the old graphs and drops the staging graphs; a failed
  publish changes nothing on either engine."""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox
from rdflib import URIRef

from heritage_kg.errors import QueryError, StoreError, UnsupportedQueryError
from heritage_kg.graph.queries import inline_bindings, load_query
from heritage_kg.graph.results import query_form
from heritage_kg.graph.store.base import GraphStore, declares_dataset
from heritage_kg.graph.store.endpoints import ServerEndpoints, server_endpoints

SOLUTIONS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
# A build's graphs are loaded under these names first, then moved into place by one update.
STAGING_GRAPH = "urn:heritage-kg:staging:{token}:{graph}"
STAGING_MANIFEST = "urn:heritage-kg:staging:{token}"
PUBLISH = "urn:heritage-kg:publish#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
# Virtuoso writes blank nodes of JSON answers as "nodeID://b123", not a blank node label.
VIRTUOSO_BLANK_NODE = re.compile(rb'("type": "bnode", "value": ")nodeID://')
# Virtuoso's errors start "Virtuoso <SQL state> Error <code>: ..."; these are its SPARQL
# compiler's and evaluator's, about the query rather than the server.
VIRTUOSO_QUERY_ERROR = re.compile(r"^Virtuoso (37000|22\w\w\w|42\w\w\w) Error")


class SparqlServerStore(GraphStore):
    """Every call is one HTTP request. Queries that name no dataset read the union of the named
    graphs, as in the embedded store: by Oxigraph's `union-default-graph` parameter, or from the
    server's own union (Virtuoso), the engine's system graphs left out."""

    def __init__(self, url: str | ServerEndpoints, *, timeout_s: float | None = None):
        self.endpoints = url if isinstance(url, ServerEndpoints) else server_endpoints(url)
        self.url = self.endpoints.query_url
        self.location = self.url
        self.engine = self.endpoints.engine
        self.timeout_s = timeout_s
        self._client: httpx.Client | None = None
        self._virtuoso_max_rows: int | None = None  # read at the first query

    @property
    def _http(self) -> httpx.Client:
        if self._client is None:  # opened on first use, and again after close()
            endpoints = self.endpoints
            auth = None
            if endpoints.user is not None:
                scheme = httpx.DigestAuth if endpoints.auth == "digest" else httpx.BasicAuth
                auth = scheme(endpoints.user, endpoints.password or "")
            self._client = httpx.Client(timeout=httpx.Timeout(self.timeout_s, connect=10.0), auth=auth)
        return self._client

    # -- HTTP

    def _request(self, method: str, url: str, **kwargs) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise StoreError(f"the {self.engine} SPARQL server at {url} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise StoreError(f"cannot reach the SPARQL server at {url} ({exc}); start it (e.g. 'oxigraph serve "
                             f"--location DIR --bind HOST:PORT') or set HERITAGE_KG_STORE") from None
        if response.status_code < 300:
            return response
        text = response.text.strip()
        if response.status_code == 400:
            raise QueryError(f"SPARQL syntax error ({self.engine}): {text[:1000]}")
        if response.status_code in (401, 403):
            raise StoreError(f"the {self.engine} server at {url} refused the credentials "
                             f"(HERITAGE_KG_STORE_USER, HERITAGE_KG_STORE_PASSWORD): {response.status_code}")
        if self.engine == "virtuoso" and VIRTUOSO_QUERY_ERROR.match(text):
            # a query SPARQL 1.1 allows and Virtuoso cannot run (e.g. a transitive path with
            # neither end bound): said as such, never answered differently
            raise UnsupportedQueryError(f"Virtuoso cannot answer this query: {text.splitlines()[0][:500]}")
        raise StoreError(f"the {self.engine} SPARQL server at {url} answered {response.status_code}: {text[:500]}")

    def raw_query(self, sparql, *, default_graphs=(), named_graphs=()):
        form: list[tuple[str, str]] = []
        if default_graphs or named_graphs:
            form += [("default-graph-uri", g) for g in default_graphs]
            form += [("named-graph-uri", g) for g in named_graphs]
        elif not declares_dataset(sparql):
            if self.endpoints.union_default_graph == "parameter":
                form.append(("union-default-graph", "true"))
        if self.engine == "virtuoso" and self._virtuoso_max_rows is None:
            self._virtuoso_max_rows = self._check_virtuoso()
        # one media type, by the query's form: Virtuoso answers the first one listed, whatever the form
        accept = N_TRIPLES if query_form(sparql) in ("CONSTRUCT", "DESCRIBE") else SOLUTIONS_JSON
        response = self._request("POST", self.endpoints.query_url, content=urlencode([("query", sparql), *form]).encode(),
                                 headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"})
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        body = response.content
        if media_type == SOLUTIONS_JSON:
            if self.engine == "virtuoso":
                body = self._virtuoso_answer(response, body)
            return ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        return [quad.triple for quad in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]

    # -- Virtuoso: what it would otherwise answer differently, without saying so

    def _check_virtuoso(self) -> int:
        """Refuses a Virtuoso whose system graphs are in the union default graph (they would join
        every answer over it); returns its ResultSetMaxRows, at which it cuts answers silently."""
        self._virtuoso_max_rows = 0  # these two queries are not checked themselves
        probe = load_query("virtuoso_engine_check")
        _, rows = self.select(inline_bindings(probe.text, probe.bindings(
            {"system_graph": URIRef(self.endpoints.system_graphs[0])})))
        if rows and str(rows[0].get("systemGraphReadable")) in ("true", "1"):  # Virtuoso's booleans are 0 and 1
            raise StoreError(f"the Virtuoso at {self.url} lets SPARQL read its system graphs, which are in its "
                             f"union default graph and would join every answer: run docker/virtuoso/setup.sql "
                             f"on it once (isql-vt HOST:1111 dba PASSWORD docker/virtuoso/setup.sql)")
        return int(str(rows[0]["maxRows"])) if rows and "maxRows" in rows[0] else 0

    def _virtuoso_answer(self, response: httpx.Response, body: bytes) -> bytes:
        """The JSON answer with Virtuoso's blank nodes made labels; an error where Virtuoso cut
        it short (its anytime queries past MaxQueryExecutionTime, its ResultSetMaxRows)."""
        if "x-sql-state" in response.headers:
            raise StoreError(f"Virtuoso gave a partial answer ({response.headers['x-sql-state']}: "
                             f"{response.headers.get('x-sql-message', '')}); raise [SPARQL] MaxQueryExecutionTime "
                             f"in its virtuoso.ini")
        limit = self._virtuoso_max_rows
        # one binding a line: the lines bound the rows, and the count is made only near the limit
        if limit and body.count(b"\n") >= limit and len(json.loads(body)["results"]["bindings"]) >= limit:
            raise StoreError(f"Virtuoso cut the answer at its ResultSetMaxRows ({limit:,} rows); raise [SPARQL] "
                             f"ResultSetMaxRows in its virtuoso.ini, or add a LIMIT below it to the query")
        return VIRTUOSO_BLANK_NODE.sub(rb"\1", body)

    # -- GraphStore

    def update(self, sparql):
        self._request("POST", self.endpoints.update_url, content=sparql.encode(),
                      headers={"Content-Type": "application/sparql-update"})

    def named_graphs(self):
        # Virtuoso answers `GRAPH ?g { }` with one empty solution: its graphs are found by their
        # triples, and this form lists its private system graphs too
        query = load_query("service_named_graphs_scan" if self.engine == "virtuoso" else "service_named_graphs")
        _, rows = self.select(query.text)
        return sorted(str(row["g"]) for row in rows if "g" in row and str(row["g"]) not in self.endpoints.system_graphs)

    def export_graph(self, graph, out):
        try:
            with self._http.stream("GET", self.endpoints.graph_store_url, params={"graph": graph},
                                   headers={"Accept": N_TRIPLES}) as response:
                if response.status_code >= 300:
                    raise StoreError(f"cannot export <{graph}> from the {self.engine} server: {response.status_code}")
                with open(out, "wb") as file:
                    for chunk in response.iter_bytes():
                        file.write(chunk)
        except httpx.HTTPError as exc:
            raise StoreError(f"cannot export <{graph}> from the {self.engine} server: {exc}") from None

    def replace_graphs(self, nquads: Path, graphs):
        """Loads the quads into staging graphs (chunked Graph Store posts of N-Triples, the bulk
        path both engines have), then publishes them with one update (see the module's note on
        what readers see meanwhile). A failure drops the staging graphs and leaves the old ones."""
        token = uuid.uuid4().hex
        manifest = STAGING_MANIFEST.format(token=token)
        staged: dict[str, str] = {}
        try:
            self.load_quads(nquads, lambda graph: staged.setdefault(graph, STAGING_GRAPH.format(token=token, graph=graph)))
            self.update(self._publishing(graphs, staged, manifest))
        except BaseException:
            self._drop_quietly([*staged.values(), manifest])
            raise

    def _publishing(self, graphs, staged: dict[str, str], manifest: str) -> str:
        """The one update that publishes the staged graphs. Oxigraph runs a request in one
        transaction: drop the replaced graphs, add each staged graph to its target, drop it.
        Virtuoso commits each operation of a request on its own: one DELETE/INSERT does it all,
        from the manifest of what to clear and what to publish, posted first. (On Oxigraph that
        single operation held every solution in memory: past 9 GB, for minutes, on Tate's 2.2M
        triples; benchmarks/scale.py measures the ADD.)"""
        drop = load_query("service_drop_graph")
        drops = [inline_bindings(drop.text, drop.bindings({"graph": URIRef(g)})) for g in graphs]
        if self.engine != "virtuoso":
            add = load_query("service_publish_staged_graph")
            return " ;\n".join(drops + [inline_bindings(add.text, add.bindings({"staging": URIRef(s), "target": URIRef(g)}))
                                        for g, s in staged.items()])
        statements = [f"<{g}> <{RDF_TYPE}> <{PUBLISH}ClearedGraph> .\n" for g in {*graphs, *staged.values(), manifest}]
        statements += [f"<{s}> <{PUBLISH}publishedAs> <{g}> .\n" for g, s in staged.items()]
        self._post_triples(manifest, "".join(statements).encode())
        publish = load_query("service_publish_staged_graphs")
        return inline_bindings(publish.text, publish.bindings({"manifest": URIRef(manifest)}))

    def load_quads(self, nquads: Path, into: Callable[[str], str] = str) -> None:
        """Adds the quads of an N-Quads file to their graphs (or to the graph `into(graph)` names),
        posting each graph's N-Triples to the Graph Store `load_chunk_triples` at a time: the bulk
        path of both engines. Statements with a blank node go in one last post per graph, as a
        blank node is the same node only within one request. Readers see each post as it lands:
        `replace_graphs` is the atomic way; this is for what no reader sees yet."""
        size = self.endpoints.load_chunk_triples
        chunks: dict[str, list[str]] = defaultdict(list)
        with_blank_nodes: dict[str, list[str]] = defaultdict(list)
        try:
            quads = ox.parse(path=str(nquads), format=ox.RdfFormat.N_QUADS)
            for quad in quads:
                if not isinstance(quad.graph_name, ox.NamedNode):
                    raise StoreError(f"{nquads} has quads outside a named graph; a build writes named graphs only")
                graph = quad.graph_name.value
                line = f"{quad.triple} .\n"
                if isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode):
                    with_blank_nodes[graph].append(line)
                    continue
                chunk = chunks[graph]
                chunk.append(line)
                if len(chunk) >= size:
                    self._post_triples(into(graph), "".join(chunk).encode())
                    chunk.clear()
        except SyntaxError as exc:
            raise StoreError(f"{nquads} is not valid N-Quads: {exc}") from None
        for pending in (chunks, with_blank_nodes):
            for graph, lines in pending.items():
                if lines:
                    self._post_triples(into(graph), "".join(lines).encode())

    def _post_triples(self, graph: str, body: bytes) -> None:
        self._request("POST", self.endpoints.graph_store_url, params={"graph": graph}, content=body,
                      headers={"Content-Type": N_TRIPLES})

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
