"""A fast N-Quads writer. The builder emits millions of statements; formatting them as text and
letting Oxigraph's bulk loader parse them is several times faster than building term objects."""

from __future__ import annotations

import json
import re
from typing import IO

from heritage_kg.graph.namespaces import XSD

# Characters N-Quads forbids inside <...>; an IRI from a source field that holds one is not written.
_BAD_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def is_writable_iri(value: str) -> bool:
    return ":" in value and not _BAD_IRI.search(value)


def literal(value: str, lang: str | None = None) -> str:
    # JSON string escapes are a subset of N-Quads' ECHAR/UCHAR escapes.
    text = json.dumps(value, ensure_ascii=False)
    return f"{text}@{lang}" if lang else text


def typed(value, datatype: str) -> str:
    return f'"{value}"^^<{datatype}>'


def integer(value: int) -> str:
    return typed(int(value), XSD + "integer")


def decimal(value: float) -> str:
    return typed(repr(float(value)), XSD + "double")


class QuadWriter:
    """Writes statements of one named graph as N-Quads lines into a text stream."""

    def __init__(self, out: IO[str], graph: str):
        self._out = out
        self._suffix = f" <{graph}> .\n"
        self.count = 0

    def iri(self, subject: str, predicate: str, obj: str) -> None:
        self._out.write(f"<{subject}> <{predicate}> <{obj}>{self._suffix}")
        self.count += 1

    def term(self, subject: str, predicate: str, formatted_object: str) -> None:
        """`formatted_object` is already in N-Quads syntax (see `literal`, `typed`)."""
        self._out.write(f"<{subject}> <{predicate}> {formatted_object}{self._suffix}")
        self.count += 1

    def text(self, subject: str, predicate: str, value: str | None, lang: str | None = None) -> None:
        if value is not None:
            self.term(subject, predicate, literal(value, lang))

    def integer(self, subject: str, predicate: str, value: int | None) -> None:
        if value is not None:
            self.term(subject, predicate, integer(value))

    def decimal(self, subject: str, predicate: str, value: float | None) -> None:
        if value is not None:
            self.term(subject, predicate, decimal(value))

    def link(self, subject: str, predicate: str, url: str | None) -> bool:
        """An IRI from a source field (a web page, a thumbnail); skipped if not a valid IRI."""
        if url is None or not is_writable_iri(url):
            return False
        self.iri(subject, predicate, url)
        return True


class TripleWriter(QuadWriter):
    """QuadWriter's calls, writing triples for a SPARQL `INSERT DATA { GRAPH <g> { ... } }`."""

    def __init__(self, out):
        super().__init__(out, graph="unused")
        self._suffix = " .\n"
