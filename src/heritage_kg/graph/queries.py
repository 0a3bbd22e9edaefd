"""The SPARQL the platform runs, kept as SPARQL: named, commented `.rq` files under
`kg/queries/`, loaded by name. A file starts with comment lines: what it answers, then
`@param ?name description` for each parameter and `@example name="value"` if curators should
see it among the examples. A value written `<iri>` (in an example, or after `heritage-kg query -p`)
is an IRI, any other a plain literal."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rdflib import Literal, URIRef
from rdflib.term import Node

from heritage_kg.errors import QueryError
from heritage_kg.resources import QUERIES_DIR

_PARAM = re.compile(r"@param\s+[?$](\w+)\s*(.*)")
_EXAMPLE = re.compile(r"@example\b(.*)")


@dataclass(frozen=True)
class NamedQuery:
    name: str
    text: str
    description: str
    parameters: dict[str, str] = field(default_factory=dict)  # name -> what it is
    example: dict[str, Node] | None = None  # parameter values for the curators' examples

    def bindings(self, values: dict[str, object]) -> dict[str, Node]:
        """Parameter values as RDF terms; a missing or unknown parameter is an error."""
        missing = [p for p in self.parameters if p not in values]
        unknown = [p for p in values if p not in self.parameters]
        if missing or unknown:
            raise QueryError(
                f"query {self.name!r} takes parameters {sorted(self.parameters) or 'none'}; "
                f"missing {missing}, unknown {unknown}")
        return {k: v if isinstance(v, Node) else Literal(v) for k, v in values.items()}


def parse_query_file(path: Path) -> NamedQuery:
    text = path.read_text(encoding="utf-8")
    description, parameters, example = [], {}, None
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        comment = line.lstrip("#").strip()
        if match := _PARAM.match(comment):
            parameters[match.group(1)] = match.group(2)
        elif match := _EXAMPLE.match(comment):
            example = {name: parameter_value(value) for name, value in
                       (pair.split("=", 1) for pair in shlex.split(match.group(1)))}
        else:
            description.append(comment)
    return NamedQuery(path.stem, text, " ".join(description).strip(), parameters, example)


def parameter_value(value: str) -> Node:
    """A parameter's value as a person writes it: `<iri>` an IRI, anything else a plain literal."""
    return URIRef(value[1:-1]) if value.startswith("<") and value.endswith(">") else Literal(value)


@lru_cache
def _catalogue(folder: Path) -> dict[str, NamedQuery]:
    return {p.stem: parse_query_file(p) for p in sorted(folder.glob("*.rq"))}


def all_queries(folder: Path = QUERIES_DIR) -> dict[str, NamedQuery]:
    """Every query of the catalogue in `folder` (default: the project's kg/queries/), by name."""
    return _catalogue(folder)


def load_query(name: str, folder: Path = QUERIES_DIR) -> NamedQuery:
    try:
        return all_queries(folder)[name]
    except KeyError:
        raise QueryError(f"no query named {name!r} in {folder}; known: {', '.join(all_queries(folder))}") from None


def inline_bindings(sparql: str, bindings: dict[str, Node]) -> str:
    """The query with each bound variable replaced by its term (SEP-0007 style pre-binding),
    for backends that cannot take bindings separately. Terms are written in SPARQL syntax, so a
    value can never change the shape of the query."""
    for name, term in bindings.items():
        sparql = re.sub(rf"[?$]{re.escape(name)}\b", lambda _m, t=term: t.n3(), sparql)
    return sparql


def with_values(sparql: str, variable: str, terms: Sequence[Node]) -> str:
    """The query with its empty `VALUES ?variable { }` block filled with `terms`, written in
    SPARQL syntax (a value can never change the shape of the query): how a query takes a batch."""
    block = re.compile(rf"VALUES\s+[?$]{re.escape(variable)}\s*\{{\s*\}}")
    if not block.search(sparql):
        raise QueryError(f"the query has no empty 'VALUES ?{variable} {{ }}' block to fill")
    return block.sub(lambda _m: f"VALUES ?{variable} {{ {' '.join(term.n3() for term in terms)} }}", sparql, count=1)
