"""Which graphs a SPARQL update writes, and whether curators may write them: the builder's graphs
(one per collection, vocabularies, ontology, builds, links) are read-only to updates; curators
write into `{base}graph/curator` or graphs under `{base}graph/curator/`."""

from __future__ import annotations

from rdflib import URIRef, Variable
from rdflib.plugins.sparql.algebra import translateUpdate
from rdflib.plugins.sparql.parser import parseUpdate

from heritage_kg.errors import QueryError, UpdateRefusedError
from heritage_kg.graph.namespaces import Minter

DEFAULT_GRAPH = "DEFAULT"
EVERY_GRAPH = "every graph"  # CLEAR/DROP ALL or NAMED


def written_graphs(update: str) -> set[str]:
    """The graphs an update may write: IRIs, DEFAULT_GRAPH, EVERY_GRAPH, or '?var' for a graph
    chosen at run time. QueryError if the update does not parse."""
    try:
        operations = translateUpdate(parseUpdate(update)).algebra
    except Exception as exc:  # noqa: BLE001  (pyparsing and rdflib raise several kinds)
        raise QueryError(f"SPARQL update syntax error: {exc}") from None
    graphs: set[str] = set()
    for operation in operations:
        name = operation.name
        if name in ("InsertData", "DeleteData", "DeleteWhere"):
            graphs |= _template_graphs(operation, None)
        elif name == "Modify":
            for clause in (_part(operation, "delete"), _part(operation, "insert")):
                if clause is not None:
                    graphs |= _template_graphs(clause, _part(operation, "withClause"))
        elif name in ("Clear", "Drop", "Create"):
            graphs.add(_graph_name(operation.graphiri))
        elif name in ("Add", "Copy"):
            graphs.add(_graph_name(operation.graph[1]))
        elif name == "Move":
            graphs |= {_graph_name(g) for g in operation.graph}
        elif name == "Load":
            raise UpdateRefusedError("LOAD is not allowed: the service fetches nothing from the web; "
                                     "send the triples with INSERT DATA")
        else:
            raise UpdateRefusedError(f"the update operation {name} is not allowed")
    return graphs


def _part(node, key: str):
    """A part of rdflib's update algebra, or None (its `get` answers a missing key with the key)."""
    return node[key] if key in node else None


def _template_graphs(clause, with_graph) -> set[str]:
    graphs = {_graph_name(g) for g in (_part(clause, "quads") or {})}
    if _part(clause, "triples"):
        graphs.add(_graph_name(with_graph) if with_graph is not None else DEFAULT_GRAPH)
    return graphs


def _graph_name(graph) -> str:
    if isinstance(graph, Variable):
        return f"?{graph}"
    if isinstance(graph, URIRef):
        return str(graph)
    return DEFAULT_GRAPH if str(graph) == "DEFAULT" else EVERY_GRAPH


# Curators' verdicts on model predictions, and the annotations the accepted ones make: a curator
# graph of its own, so that training sets can take or leave them (inference/review.py writes it).
REVIEWS_GRAPH = "curator/reviews"


def reviews_graph(base_iri: str) -> str:
    return Minter(base_iri).graph(REVIEWS_GRAPH)


def is_curator_graph(graph: str, base_iri: str) -> bool:
    curator = Minter(base_iri).graph("curator")
    return graph == curator or graph.startswith(curator + "/")


def check_curator_update(update: str, base_iri: str) -> set[str]:
    """The curator graphs an update writes; UpdateRefusedError if it writes any other graph."""
    graphs = written_graphs(update)
    refused = sorted(g for g in graphs if not is_curator_graph(g, base_iri))
    if refused:
        curator = Minter(base_iri).graph("curator")
        raise UpdateRefusedError(
            f"this update writes {', '.join(_describe(g) for g in refused)}; the builder's graphs are "
            f"read-only to updates: write inside GRAPH <{curator}> (or a graph under <{curator}/>)")
    return graphs


def _describe(graph: str) -> str:
    if graph == DEFAULT_GRAPH:
        return "the default graph"
    if graph.startswith("?"):
        return f"a graph chosen at run time (GRAPH {graph})"
    return graph if graph == EVERY_GRAPH else f"<{graph}>"
