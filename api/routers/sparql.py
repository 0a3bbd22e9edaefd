"""The SPARQL 1.1 Protocol endpoint: queries at /sparql (GET, POST form, POST direct) answered by
the query workers within the service's limits, updates at /sparql/update for curators with the
service's token, and the service description at GET /sparql without a query."""

from __future__ import annotations

import asyncio
import secrets
from urllib.parse import parse_qsl

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS
from starlette.routing import Route

from api.dependencies import CacheDep, SettingsDep, StoreDep, WorkersDep, apply_update, service_parts
from api.query_workers import QueryRequest, QueryWorkers
from api.result_cache import ResultCache
from heritage_kg.config import Settings
from heritage_kg.errors import NotAcceptableError, QueryError, QueryTimeoutError, RemoteServiceError, StoreError
from heritage_kg.graph.remote_services import check_endpoints, may_call_endpoints
from heritage_kg.graph.results import RESULT_FORMATS, FORMAT_NAMES, acceptable_media_types, format_media_types
from heritage_kg.graph.store import GraphStore
from heritage_kg.graph.updates import check_curator_update

router = APIRouter(tags=["SPARQL"])

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
FORMAT_IRIS = {"json": "SPARQL_Results_JSON", "xml": "SPARQL_Results_XML", "csv": "SPARQL_Results_CSV",
               "tsv": "SPARQL_Results_TSV", "turtle": "Turtle", "ntriples": "N-Triples", "jsonld": "JSON-LD",
               "rdfxml": "RDF_XML"}
_updates_one_at_a_time = asyncio.Lock()


@router.api_route("/sparql", methods=["GET", "POST"], summary="SPARQL 1.1 query endpoint")
async def sparql_query(request: Request, config: SettingsDep, store: StoreDep, workers: WorkersDep,
                       cache: CacheDep) -> Response:
    """Queries (GET, or POST with a form or an application/sparql-query body) answered in SPARQL
    results or RDF as the client accepts; GET without a query: the service description. (The
    service answers /sparql through `query_route`, this function without FastAPI's dependencies.)"""
    return await answer_protocol_request(request, config, store, workers, cache)


async def lean_sparql_query(request: Request) -> Response:
    return await answer_protocol_request(request, *service_parts(request.app))


# /sparql without FastAPI's per-request machinery (dependency solving, parameter checks): tens
# of microseconds a request, on a path where a whole one-row lookup takes about a millisecond.
# create_app() puts this route before the router's, whose `sparql_query` stays as the
# endpoint's description in the OpenAPI docs.
query_route = Route("/sparql", lean_sparql_query, methods=["GET", "POST"], include_in_schema=False)


async def answer_protocol_request(request: Request, config: Settings, store: GraphStore, workers: QueryWorkers,
                                  cache: ResultCache) -> Response:
    parameters = await protocol_parameters(request, SPARQL_QUERY, config.max_request_bytes)
    if "update" in parameters:
        raise HTTPException(400, "updates go to /sparql/update")
    queries = parameters.get("query", [])
    if not queries:
        if request.method == "GET":
            return service_description(request, config)
        raise HTTPException(400, "no query: send it as the 'query' parameter or as an application/sparql-query body")
    if len(queries) > 1:
        raise HTTPException(400, f"one query per request, not {len(queries)}")
    query = QueryRequest(queries[0], tuple(_media_types(parameters, request.headers.get("accept"))),
                         tuple(parameters.get("default-graph-uri", [])), tuple(parameters.get("named-graph-uri", [])),
                         config.sparql_max_rows)
    endpoints = (await run_in_threadpool(check_endpoints, query.sparql, config.sparql_service_allow)
                 if may_call_endpoints(query.sparql) else ())
    # An answer is filed under the data version it was read from; one that calls other
    # endpoints depends on their data too, and is not kept.
    version = store.data_version() if cache.max_bytes and not endpoints else None
    answer = cache.get((query, version)) if version else None
    if answer is None:
        answer = await _answer(workers, query, endpoints)
        if version and answer.data_version == version:
            cache.put((query, version), answer)
    headers = {"Vary": "Accept"}
    if answer.truncated:
        headers["X-SPARQL-Truncated"] = (f"results cut at {answer.rows:,} rows, the service's maximum "
                                         f"(HERITAGE_KG_SPARQL_MAX_ROWS); add a LIMIT or page with OFFSET")
    return Response(answer.body, media_type=answer.media_type, headers=headers)


async def _answer(workers, query: QueryRequest, endpoints: tuple[str, ...]):
    try:
        return await workers.answer(query)
    except (NotAcceptableError, QueryTimeoutError):
        raise
    except (QueryError, StoreError):
        if not endpoints:
            raise
        # Oxigraph's message carries the remote answer's body, which is not ours to pass on.
        raise RemoteServiceError(f"the remote SPARQL endpoint {', '.join(endpoints)} failed or could not be "
                                 f"reached; its answer is not passed on") from None


@router.post("/sparql/update", status_code=204, summary="SPARQL 1.1 update endpoint (curator graphs only)")
async def sparql_update(request: Request, config: SettingsDep, workers: WorkersDep) -> Response:
    if not config.update_token:
        raise HTTPException(403, "updates are off on this service; its operator enables them by setting "
                                 "HERITAGE_KG_UPDATE_TOKEN")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "updates need 'Authorization: Bearer <token>'", headers={"WWW-Authenticate": "Bearer"})
    if not secrets.compare_digest(token.strip().encode(), config.update_token.encode()):
        raise HTTPException(403, "the update token is wrong")
    parameters = await protocol_parameters(request, SPARQL_UPDATE, config.max_request_bytes)
    updates = parameters.get("update", [])
    if len(updates) != 1:
        raise HTTPException(400, "send exactly one update, as the 'update' parameter or an application/sparql-update body")
    # parsed off the event loop: rdflib's update parser takes milliseconds that reads would wait
    await run_in_threadpool(check_curator_update, updates[0], config.base_iri)
    await run_in_threadpool(check_endpoints, updates[0], config.sparql_service_allow, update=True)
    async with _updates_one_at_a_time:
        await run_in_threadpool(apply_update, config, updates[0])
        # acknowledged once the query workers read it: reads that follow see it, and none waits
        await workers.catch_up()
    return Response(status_code=204)


async def protocol_parameters(request: Request, direct_media_type: str, max_bytes: int) -> dict[str, list[str]]:
    """The protocol's parameters from the URL and, for a POST, the body: a form, or the query
    (update) itself sent directly; 415 for any other body, 400 for text that is not UTF-8."""
    # the URL's query as request.url.query has it, without building the whole URL
    pairs = _decoded_pairs(_utf8(request.scope.get("query_string", b""), "the URL's query"))
    if request.method == "POST":
        content_type = request.headers.get("content-type", "")
        media_type, *options = [part.strip().lower() for part in content_type.split(";")]
        body = await read_body(request, max_bytes)
        if media_type == FORM:
            pairs += _decoded_pairs(_utf8(body, "the form"))
        elif media_type == direct_media_type:
            charset = next((o.split("=", 1)[1].strip('"') for o in options if o.startswith("charset=")), "utf-8")
            if charset not in ("utf-8", "utf8"):
                raise HTTPException(415, f"a SPARQL body must be UTF-8, not {charset}")
            pairs.append(("query" if direct_media_type == SPARQL_QUERY else "update", _utf8(body, "the body")))
        else:
            raise HTTPException(415, f"a POST body must be {FORM} or {direct_media_type}, "
                                     f"not {content_type or 'unlabelled'}")
    parameters: dict[str, list[str]] = {}
    for key, value in pairs:
        parameters.setdefault(key, []).append(value)
    return parameters


async def read_body(request: Request, max_bytes: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise HTTPException(413, f"the request body is over {max_bytes:,} bytes, the service's maximum "
                                     f"(HERITAGE_KG_MAX_REQUEST_BYTES)")
    return bytes(body)


def _utf8(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(400, f"{what} is not UTF-8 ({exc})") from None


def _decoded_pairs(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError as exc:
        raise HTTPException(400, f"a parameter is not percent-encoded UTF-8 ({exc})") from None


def _media_types(parameters: dict[str, list[str]], accept: str | None) -> list[str]:
    """The result formats the client takes, best first: what a `format` (or `output`) parameter
    names wins over Accept; Accept still serves a query form the name has no syntax for (as
    SPARQLWrapper expects when it sends `format=n3` with a SELECT)."""
    media_types = acceptable_media_types(accept)
    if named := parameters.get("format") or parameters.get("output"):
        named_types = format_media_types(named[0])
        if not named_types:
            raise HTTPException(400, f"unknown format {named[0]!r}; use one of {', '.join(FORMAT_NAMES)}, "
                                     f"or a media type")
        return [*named_types, *(m for m in media_types if m not in named_types)]
    if not media_types:
        offered = ", ".join(f.media_type for f in RESULT_FORMATS)
        raise HTTPException(406, f"the service cannot answer in any of {accept!r}; it offers {offered}")
    return media_types


def service_description(request: Request, config: Settings) -> Response:
    """The endpoint described in the SPARQL 1.1 Service Description vocabulary, as Turtle."""
    endpoint = URIRef(str(request.url.replace(query="")))
    graph = Graph(bind_namespaces="core")
    graph.bind("sd", SD)
    graph.bind("formats", FORMATS)
    service = BNode()
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, endpoint))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    graph.add((service, SD.feature, SD.UnionDefaultGraph))
    for result_format in RESULT_FORMATS:
        graph.add((service, SD.resultFormat, FORMATS[FORMAT_IRIS[result_format.name]]))
    dataset = BNode()
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    graph.add((dataset, SD.defaultGraph, BNode()))
    if config.update_token:
        updates = BNode()
        graph.add((updates, RDF.type, SD.Service))
        graph.add((updates, SD.endpoint, URIRef(f"{endpoint}/update")))
        graph.add((updates, SD.supportedLanguage, SD.SPARQL11Update))
        graph.add((updates, RDFS.comment,
                   Literal(f"Writes only into graphs under {config.base_iri}graph/curator; needs a Bearer token.")))
    return Response(graph.serialize(format="turtle"), media_type="text/turtle")
