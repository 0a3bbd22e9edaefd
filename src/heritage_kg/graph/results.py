"""SPARQL answers in the standard serializations (SPARQL JSON/XML/CSV/TSV for solutions,
Turtle/N-Triples/JSON-LD/RDF-XML for graphs), chosen from a client's preferences and cut at a
maximum number of rows. Both store backends hand their raw answers here, so the endpoint
serializes them one way."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from heritage_kg.errors import NotAcceptableError

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


@dataclass(frozen=True)
class ResultFormat:
    media_type: str
    answers: str  # "solutions" (SELECT, ASK) or "graph" (CONSTRUCT, DESCRIBE)
    name: str  # the short name a `format` parameter may use


# In order of preference for a client that accepts anything.
RESULT_FORMATS: tuple[ResultFormat, ...] = (
    ResultFormat("application/sparql-results+json", "solutions", "json"),
    ResultFormat("application/sparql-results+xml", "solutions", "xml"),
    ResultFormat("text/csv", "solutions", "csv"),
    ResultFormat("text/tab-separated-values", "solutions", "tsv"),
    ResultFormat("text/turtle", "graph", "turtle"),
    ResultFormat("application/n-triples", "graph", "ntriples"),
    ResultFormat("application/ld+json", "graph", "jsonld"),
    ResultFormat("application/rdf+xml", "graph", "rdfxml"),
)
# Media types clients commonly send that mean one of the above.
MEDIA_TYPE_ALIASES = {
    "application/json": ("application/sparql-results+json", "application/ld+json"),
    "application/xml": ("application/sparql-results+xml", "application/rdf+xml"),
    "text/xml": ("application/sparql-results+xml", "application/rdf+xml"),
    "application/x-turtle": ("text/turtle",),
    "text/plain": ("application/n-triples",),
}
FORMAT_NAMES = {f.name: f.media_type for f in RESULT_FORMATS} | {"ttl": "text/turtle", "nt": "application/n-triples",
                                                                   "json-ld": "application/ld+json"}
_BY_MEDIA_TYPE = {f.media_type: f for f in RESULT_FORMATS}


def rank_media_types(accept: str | None, offered: Sequence[str],
                     aliases: dict[str, Sequence[str]] | None = None) -> list[str]:
    """The `offered` media types an `Accept` header allows, best first. Each type takes the q-value
    of the most specific range that matches it (so `text/csv;q=0` refuses CSV whatever `*/*`
    says); ties go to the more specific range, then to the header's order, then to `offered`'s.
    `aliases` maps a range clients send to the offered types it means."""
    if not accept or not accept.strip():
        return list(offered)
    best: dict[str, tuple[float, int, int]] = {}  # media type -> (q, specificity, position) of its range
    for position, part in enumerate(accept.split(",")):
        media_range, *parameters = [p.strip() for p in part.split(";")]
        media_range = media_range.lower()
        if not media_range:
            continue
        quality = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        specificity = 0 if media_range == "*/*" else 1 if media_range.endswith("/*") else 2
        for media_type in _matching(media_range, offered, aliases or {}):
            if media_type not in best or specificity > best[media_type][1]:
                best[media_type] = (quality, specificity, position)
    ranked = sorted((-quality, -specificity, position, offered.index(media_type), media_type)
                    for media_type, (quality, specificity, position) in best.items() if quality > 0)
    return [media_type for *_, media_type in ranked]


def acceptable_media_types(accept: str | None) -> list[str]:
    """The supported result media types an `Accept` header allows, best first."""
    return rank_media_types(accept, [f.media_type for f in RESULT_FORMATS], MEDIA_TYPE_ALIASES)


def _matching(media_range: str, offered: Sequence[str], aliases: dict[str, Sequence[str]]) -> list[str]:
    if media_range in offered:
        return [media_range]
    if media_range in aliases:
        return [m for m in aliases[media_range] if m in offered]
    if media_range == "*/*":
        return list(offered)
    if media_range.endswith("/*"):
        return [m for m in offered if m.startswith(media_range[:-1])]
    return []


def media_type_for_format(name: str) -> str | None:
    """The media type a `format` parameter names (a short name or a media type), if supported."""
    name = name.strip().lower()
    if name in FORMAT_NAMES:
        return FORMAT_NAMES[name]
    matches = _matching(name, [f.media_type for f in RESULT_FORMATS], MEDIA_TYPE_ALIASES)
    return matches[0] if matches else None


@dataclass(frozen=True)
class SerializedAnswer:
    body: bytes
    media_type: str
    truncated: bool = False  # more rows than max_rows: the body holds the first max_rows
    rows: int = 0


def serialize_answer(result, media_types: Sequence[str], max_rows: int | None = None) -> SerializedAnswer:
    """Serializes a raw pyoxigraph answer (solutions, a boolean, or triples) in the first of
    `media_types` that suits its kind; NotAcceptableError if none does."""
    answers = "solutions" if isinstance(result, (ox.QuerySolutions, ox.QueryBoolean)) else "graph"
    media_type = next((m for m in media_types if m in _BY_MEDIA_TYPE and _BY_MEDIA_TYPE[m].answers == answers), None)
    if media_type is None:
        offered = ", ".join(f.media_type for f in RESULT_FORMATS if f.answers == answers)
        kind = "SELECT/ASK results" if answers == "solutions" else "CONSTRUCT/DESCRIBE graphs"
        raise NotAcceptableError(f"none of the accepted media types ({', '.join(media_types) or 'none'}) "
                                 f"can carry {kind}; available: {offered}")
    if isinstance(result, ox.QueryBoolean):
        return SerializedAnswer(result.serialize(format=ox.QueryResultsFormat.from_media_type(media_type)),
                                media_type)
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        rows, truncated = _first(([solution[v] for v in variables] for solution in result), max_rows)
        body = _SOLUTION_WRITERS[media_type](variables, rows, truncated)
        return SerializedAnswer(body, media_type, truncated, len(rows))
    triples, truncated = _first(result, max_rows)
    body = ox.serialize(triples, format=ox.RdfFormat.from_media_type(media_type))
    return SerializedAnswer(body, media_type, truncated, len(triples))


def _first(items: Iterable, limit: int | None) -> tuple[list, bool]:
    if limit is None:
        return list(items), False
    taken = list(itertools.islice(items, limit + 1))
    return taken[:limit], len(taken) > limit


# --- SELECT results. pyoxigraph can only serialize a whole answer, so a capped one is written here.

def _json_term(term) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        if term.language:
            return {"type": "literal", "value": term.value, "xml:lang": term.language}
        if term.datatype.value != XSD_STRING:
            return {"type": "literal", "value": term.value, "datatype": term.datatype.value}
        return {"type": "literal", "value": term.value}
    return {"type": "triple", "value": {"subject": _json_term(term.subject), "predicate": _json_term(term.predicate),
                                        "object": _json_term(term.object)}}


def _write_json(variables, rows, truncated) -> bytes:
    bindings = [{v: _json_term(t) for v, t in zip(variables, row, strict=True) if t is not None} for row in rows]
    head: dict = {"vars": variables}
    if truncated:
        # A link in the head is the standard's place for metadata about the results.
        head["link"] = [f"urn:heritage-kg:truncated:max-rows={len(rows)}"]
    return json.dumps({"head": head, "results": {"bindings": bindings}}, ensure_ascii=False).encode()


def _xml_term(term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
        return f"<literal>{escape(term.value)}</literal>"
    return (f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>{_xml_term(term.predicate)}"
            f"</predicate><object>{_xml_term(term.object)}</object></triple>")


def _write_xml(variables, rows, truncated) -> bytes:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">',
           "<head>", *(f"<variable name={quoteattr(v)}/>" for v in variables)]
    if truncated:
        out.append(f'<link href="urn:heritage-kg:truncated:max-rows={len(rows)}"/>')
    out.append("</head><results>")
    for row in rows:
        out.append("<result>")
        out.extend(f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
                   for v, t in zip(variables, row, strict=True) if t is not None)
        out.append("</result>")
    out.append("</results></sparql>\n")
    return "".join(out).encode()


def _write_csv(variables, rows, truncated) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(variables)
    writer.writerows(["" if t is None else str(t) if isinstance(t, ox.BlankNode) else t.value for t in row]
                     for row in rows)
    return buffer.getvalue().encode()


def _write_tsv(variables, rows, truncated) -> bytes:
    lines = ["\t".join(f"?{v}" for v in variables)]
    lines.extend("\t".join("" if t is None else str(t) for t in row) for row in rows)
    return ("\n".join(lines) + "\n").encode()


_SOLUTION_WRITERS = {
    "application/sparql-results+json": _write_json,
    "application/sparql-results+xml": _write_xml,
    "text/csv": _write_csv,
    "text/tab-separated-values": _write_tsv,
}
