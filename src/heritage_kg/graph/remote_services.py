"""Which remote SPARQL endpoints a query or update would call with SERVICE, read from its parse
tree, and the service's policy on them: a public endpoint must not become a way to reach the
addresses it can see, so SERVICE is refused unless the operator allows the endpoint by name."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from rdflib import URIRef, Variable
from rdflib.plugins.sparql.algebra import translateQuery, translateUpdate
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from heritage_kg.errors import ServiceRefusedError
from heritage_kg.graph.results import keywords_only

UNREADABLE = "(an endpoint the service could not read)"
_CODEPOINT_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_SERVICE = re.compile(r"(?<![\w:?$])SERVICE\b", re.IGNORECASE)


def may_call_endpoints(sparql: str) -> bool:
    """False for a query that cannot hold a SERVICE keyword (it lacks the letters): most queries,
    which then need no parse."""
    return "service" in _unescaped(sparql).lower()


def _unescaped(sparql: str) -> str:
    # SPARQL lets \\u escapes stand for any character, keywords included: read the text they mean.
    return _CODEPOINT_ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), sparql) if "\\" in sparql else sparql


def called_endpoints(sparql: str, *, update: bool = False) -> tuple[str, ...]:
    """The endpoints the query (or update) calls: IRIs, `?name` for one chosen at run time, or
    UNREADABLE where it uses SERVICE in a form the parser cannot follow."""
    return _called_endpoints(sparql, update) if may_call_endpoints(sparql) else ()


@lru_cache(maxsize=1024)  # rdflib's parser takes tens of milliseconds; a repeated query, none
def _called_endpoints(sparql: str, update: bool) -> tuple[str, ...]:
    text = _unescaped(sparql)
    try:
        tree = translateUpdate(parseUpdate(text)) if update else translateQuery(parseQuery(text))
    except (Exception, RecursionError):  # noqa: BLE001  (pyparsing and rdflib raise several kinds)
        # rdflib's grammar fails on some queries Oxigraph runs (nested SERVICE among them): the
        # keyword outside comments, strings and IRIs is then enough to refuse.
        return (UNREADABLE,) if _SERVICE.search(keywords_only(text)) else ()
    return tuple(_endpoint(node.term) for node in _nodes(tree.algebra) if node.name == "ServiceGraphPattern")


def check_endpoints(sparql: str, allowed: Iterable[str], *, update: bool = False) -> tuple[str, ...]:
    """The endpoints the query calls, every one of them in `allowed`; ServiceRefusedError if not."""
    endpoints = called_endpoints(sparql, update=update)
    refused = [e for e in endpoints if e not in set(allowed)]
    if refused:
        raise ServiceRefusedError(
            f"SERVICE is refused for {', '.join(sorted(set(refused)))}: this service calls only the SPARQL "
            f"endpoints its operator allows by name (HERITAGE_KG_SPARQL_SERVICE_ALLOW), and never one "
            f"chosen by a variable")
    return endpoints


def _endpoint(term) -> str:
    if isinstance(term, Variable):
        return f"?{term}"
    return str(term) if isinstance(term, URIRef) else UNREADABLE


def _nodes(node) -> Iterator[CompValue]:
    """Every algebra node below `node`, nested patterns, subqueries and EXISTS filters included."""
    if isinstance(node, CompValue):
        yield node
        children = node.values()
    elif isinstance(node, (list, tuple)):
        children = node
    elif isinstance(node, dict):
        children = node.values()
    else:
        return
    for child in children:
        yield from _nodes(child)
