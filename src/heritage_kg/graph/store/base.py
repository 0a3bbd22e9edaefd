"""The store interface every backend implements: a backend gives the raw query (`raw_query`), the
update and the atomic publish of graphs; SELECT, ASK and CONSTRUCT with rdflib terms, triple
counts and the SPARQL endpoint's serialized answers are written once here over `raw_query`."""

from __future__ import annotations

import os
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TextIO

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from heritage_kg.errors import QueryError, StoreError
from heritage_kg.graph.queries import inline_bindings
from heritage_kg.graph.results import SerializedAnswer, answer_query, declares_dataset

Row = dict[str, Node]


class GraphStore(ABC):
    """A quad store holding one named graph per collection, queried with SPARQL 1.1 over the
    union of its graphs."""

    location: str

    @abstractmethod
    def raw_query(self, sparql: str, *, default_graphs: Sequence[str] = (), named_graphs: Sequence[str] = ()):
        """The answer as pyoxigraph gives it (QuerySolutions, QueryBoolean or triples). The dataset
        is the union of all graphs, unless the query names its own (FROM, FROM NAMED) or the
        protocol's `default_graphs`/`named_graphs` are given."""

    @abstractmethod
    def update(self, sparql: str) -> None: ...

    @abstractmethod
    def replace_graphs(self, nquads: Path, graphs: Iterable[str]) -> None:
        """Atomically replaces the named `graphs` with the content of the N-Quads file (which may
        also add to other graphs). Readers see the old graphs or the new ones, never a mix; a
        failure leaves the store as it was."""

    @abstractmethod
    def named_graphs(self) -> list[str]: ...

    @abstractmethod
    def export_graph(self, graph: str, out: Path) -> None:
        """Writes one named graph as N-Triples."""

    def data_version(self) -> str | None:
        """A token that differs whenever the data a reader sees may differ (a new generation, an
        update), for caches of answers; None where the backend cannot tell (a server store)."""
        return None

    @property
    def view_version(self) -> str | None:
        """`data_version()` as it was when the data this object answers from was opened: answers
        may be cached under it. None: do not cache them."""
        return None

    def refresh(self) -> None:  # noqa: B027  (a server store always answers from its latest data)
        """Catches up with the latest data now (an embedded store reopens its view if the data
        version moved), so that the next query does not wait for it."""

    # -- queries, once for every backend

    def _answer(self, sparql: str, bindings: dict[str, Node] | None):
        # pyoxigraph's own substitutions only bind projected variables; parameters are often
        # used in filters, so they are written into the query as RDF terms.
        return self.raw_query(inline_bindings(sparql, bindings) if bindings else sparql)

    def select(self, sparql: str, bindings: dict[str, Node] | None = None) -> tuple[list[str], list[Row]]:
        """Runs a SELECT query; returns its variables and its rows (unbound variables absent)."""
        result = self._answer(sparql, bindings)
        if not isinstance(result, ox.QuerySolutions):
            raise QueryError("expected a SELECT query")
        variables = [v.value for v in result.variables]
        rows = [{name: to_rdflib(solution[name]) for name in variables if solution[name] is not None}
                for solution in result]
        return variables, rows

    def ask(self, sparql: str, bindings: dict[str, Node] | None = None) -> bool:
        result = self._answer(sparql, bindings)
        if not isinstance(result, ox.QueryBoolean):
            raise QueryError("expected an ASK query")
        return bool(result)

    def construct(self, sparql: str, bindings: dict[str, Node] | None = None) -> list[tuple[Node, Node, Node]]:
        """Runs a CONSTRUCT or DESCRIBE query; returns its triples."""
        result = self._answer(sparql, bindings)
        if isinstance(result, (ox.QuerySolutions, ox.QueryBoolean)):
            raise QueryError("expected a CONSTRUCT or DESCRIBE query")
        return [(to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)) for t in result]

    def triple_count(self, graph: str | None = None) -> int:
        where = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "GRAPH ?g { ?s ?p ?o }"
        _, rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}")
        return int(rows[0]["n"].toPython())

    def answer_query(self, sparql: str, media_types: Sequence[str], *, default_graphs: Sequence[str] = (),
                     named_graphs: Sequence[str] = (), max_rows: int | None = None) -> SerializedAnswer:
        """The answer to any query, serialized in the first of `media_types` that suits it, for the
        SPARQL endpoint. The dataset is the union of all graphs, unless the query names its own
        (FROM, FROM NAMED) or the protocol's `default_graphs`/`named_graphs` are given."""
        return answer_query(lambda text: self.raw_query(text, default_graphs=default_graphs, named_graphs=named_graphs),
                            sparql, media_types, max_rows)

    # -- publishing

    def publish_graphs(self, write_quads: Callable[[TextIO], None], graphs: Iterable[str]) -> None:
        """`replace_graphs` for statements written on the fly: `write_quads(stream)` writes
        N-Quads text; the named `graphs` are replaced by what it wrote, atomically."""
        path = self.staging_dir() / f"publish-{os.getpid()}-{time.time_ns()}.nq"
        try:
            with open(path, "w", encoding="utf-8", buffering=1 << 20) as out:
                write_quads(out)
            self.replace_graphs(path, graphs)
        finally:
            path.unlink(missing_ok=True)

    def staging_dir(self) -> Path:
        """A folder for a build's temporary files."""
        path = Path(tempfile.gettempdir()) / "heritage-kg-staging"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def close(self) -> None:  # noqa: B027  (nothing to release by default)
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- terms: pyoxigraph <-> rdflib, so that callers see one term model whatever the backend ---

def to_rdflib(term) -> Node:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    raise StoreError(f"unsupported RDF term {term!r}")
