"""SPARQL answers in the standard serializations (SPARQL JSON/XML/CSV/TSV for solutions,
Turtle/N-Triples/JSON-LD/RDF-XML for graphs), chosen from a client's preferences and cut at a
maximum number of rows. Both store backends hand their raw answers here, so the endpoint
serializes them one way."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox

from heritage_kg.errors import NotAcceptableError, QueryError


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
# What a `format` (or `output`) parameter names. SPARQLWrapper, and the Virtuoso and Fuseki
# clients it follows, send one name whatever the query form, so a name may mean one syntax for
# solutions and another for a graph: `xml` is SPARQL XML results for a SELECT and RDF/XML for a
# CONSTRUCT, `json` SPARQL JSON or JSON-LD; `n3` is read as Turtle (Turtle is a subset of N3).
FORMAT_NAMES: dict[str, tuple[str, ...]] = {
    "json": ("application/sparql-results+json", "application/ld+json"),
    "xml": ("application/sparql-results+xml", "application/rdf+xml"),
    "csv": ("text/csv",), "tsv": ("text/tab-separated-values",),
    "turtle": ("text/turtle",), "ttl": ("text/turtle",), "n3": ("text/turtle",),
    "ntriples": ("application/n-triples",), "nt": ("application/n-triples",), "n-triples": ("application/n-triples",),
    "jsonld": ("application/ld+json",), "json-ld": ("application/ld+json",),
    "rdfxml": ("application/rdf+xml",), "rdf+xml": ("application/rdf+xml",), "rdf": ("application/rdf+xml",),
}
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
    return list(_acceptable_media_types(accept))


@lru_cache(maxsize=256)  # read on every request; clients send the same few headers again and again
def _acceptable_media_types(accept: str | None) -> tuple[str, ...]:
    return tuple(rank_media_types(accept, [f.media_type for f in RESULT_FORMATS], MEDIA_TYPE_ALIASES))


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


def format_media_types(name: str) -> tuple[str, ...]:
    """The media types a `format` parameter names (a short name or a media type), one per kind of
    answer it can carry; empty if it names nothing the service writes."""
    name = name.strip().lower()
    if name in FORMAT_NAMES:
        return FORMAT_NAMES[name]
    return tuple(_matching(name, [f.media_type for f in RESULT_FORMATS], MEDIA_TYPE_ALIASES))


def media_type_for_format(name: str) -> str | None:
    """The first media type a `format` parameter names, if supported."""
    return next(iter(format_media_types(name)), None)


@dataclass(frozen=True)
class SerializedAnswer:
    body: bytes
    media_type: str
    truncated: bool = False  # more rows than max_rows: the body holds the first max_rows
    rows: int = 0
    data_version: str | None = None  # the store's data_version() the answer was read from, if known




TSV = ox.QueryResultsFormat.TSV
# A mark, in the head of capped SPARQL JSON/XML results, that rows were left out (the standard's
# place for metadata about results is a link in the head).
TRUNCATED_LINK = "urn:heritage-kg:truncated:max-rows={rows}"


def answer_query(run_query: Callable[[str], object], sparql: str, media_types: Sequence[str],
                 max_rows: int | None = None) -> SerializedAnswer:
    """Runs `sparql` with `run_query` (a store's raw query: text in, pyoxigraph answer out) and
    serializes the answer with pyoxigraph's own writers in the first of `media_types` that suits
    its kind; NotAcceptableError if none does. At most `max_rows` rows (or triples) are kept: a
    SELECT is wrapped in a LIMIT, so Oxigraph stops at the cap and no row passes through Python."""
    if max_rows is not None and selects_at_most(sparql, max_rows):
        max_rows = None  # its own LIMIT keeps it under the cap: nothing to count
    capped = capped_select(sparql, max_rows + 1) if max_rows is not None else None
    result = None
    if capped is not None:
        try:
            result = run_query(capped)
        except QueryError:
            capped = None  # the wrapped form does not parse (a subquery takes no FROM): as sent
    if result is None:
        result = run_query(sparql)
    media_type = _media_type_for(result, media_types)
    if isinstance(result, ox.QueryBoolean):
        return SerializedAnswer(result.serialize(format=ox.QueryResultsFormat.from_media_type(media_type)), media_type)
    if isinstance(result, ox.QuerySolutions):
        return _solutions(run_query, sparql, result, media_type, max_rows, capped is not None)
    triples = list(itertools.islice(result, max_rows + 1)) if max_rows is not None else list(result)
    truncated = max_rows is not None and len(triples) > max_rows
    kept = triples[:max_rows] if truncated else triples
    return SerializedAnswer(ox.serialize(kept, format=ox.RdfFormat.from_media_type(media_type)), media_type,
                            truncated, len(kept))


def _media_type_for(result, media_types: Sequence[str]) -> str:
    answers = "solutions" if isinstance(result, (ox.QuerySolutions, ox.QueryBoolean)) else "graph"
    media_type = next((m for m in media_types if m in _BY_MEDIA_TYPE and _BY_MEDIA_TYPE[m].answers == answers), None)
    if media_type is None:
        offered = ", ".join(f.media_type for f in RESULT_FORMATS if f.answers == answers)
        kind = "SELECT/ASK results" if answers == "solutions" else "CONSTRUCT/DESCRIBE graphs"
        raise NotAcceptableError(f"none of the accepted media types ({', '.join(media_types) or 'none'}) "
                                 f"can carry {kind}; available: {offered}")
    return media_type


def _solutions(run_query, sparql: str, result: ox.QuerySolutions, media_type: str, max_rows: int | None,
               capped: bool) -> SerializedAnswer:
    result_format = ox.QueryResultsFormat.from_media_type(media_type)
    if max_rows is None:
        return SerializedAnswer(result.serialize(format=result_format), media_type)
    if capped:
        # TSV writes one line per row (line breaks in literals are escaped), so the rows are
        # counted at C speed; other formats are written from it by Oxigraph's own parser.
        tsv = result.serialize(format=TSV)
    else:
        tsv = _tsv_of_first(result, max_rows + 1)
    rows = tsv.count(b"\n") - 1
    if rows <= max_rows:
        body = tsv if result_format == TSV else ox.parse_query_results(tsv, format=TSV).serialize(format=result_format)
        return SerializedAnswer(body, media_type, rows=rows)
    # Over the cap: Oxigraph answers the first max_rows rows again, written straight in the format.
    first = run_query(capped_select(sparql, max_rows)) if capped else ox.parse_query_results(
        tsv[: _end_of_line(tsv, max_rows)], format=TSV)
    return SerializedAnswer(_mark_truncated(first.serialize(format=result_format), media_type, max_rows),
                            media_type, truncated=True, rows=max_rows)


def _tsv_of_first(result: ox.QuerySolutions, rows: int) -> bytes:
    """The first `rows` solutions as TSV, row by row: only for the queries that cannot be wrapped
    in a LIMIT (a SELECT with FROM); `str` of a pyoxigraph term is its TSV (N-Triples) form."""
    variables = result.variables
    lines = ["\t".join(str(v) for v in variables)]
    for solution in itertools.islice(result, rows):
        lines.append("\t".join("" if (term := solution[v]) is None else str(term) for v in variables))
    return ("\n".join(lines) + "\n").encode()


def _end_of_line(text: bytes, line: int) -> int:
    """Where the line numbered `line` (the header is 0) ends, past its line break."""
    end = -1
    for _ in range(line + 1):
        end = text.index(b"\n", end + 1)
    return end + 1


def _mark_truncated(body: bytes, media_type: str, rows: int) -> bytes:
    link = TRUNCATED_LINK.format(rows=rows)
    if media_type == "application/sparql-results+json":  # {"head":{"vars":[...]},...: names hold no "]"
        end_of_vars = body.index(b"]") + 1
        return body[:end_of_vars] + f',"link":["{link}"]'.encode() + body[end_of_vars:]
    if media_type == "application/sparql-results+xml":
        head_end = body.index(b"</head>")
        return body[:head_end] + f'<link href="{link}"/>'.encode() + body[head_end:]
    return body


# Comments, strings and IRIs blanked (same length, so positions hold) before looking for keywords,
# so that a keyword inside them is not mistaken for one of the query's. A backslash escape outside
# them belongs to a prefixed name (`ex:a\#b`): its `#` starts no comment.
_NOT_KEYWORDS = re.compile(r'\\.|#[^\n]*|"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
                           r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>')
_FORM = re.compile(r"(?<![\w:?$])(SELECT|CONSTRUCT|DESCRIBE|ASK)\b", re.IGNORECASE)
_FROM = re.compile(r"(?<![\w:?$])FROM\b", re.IGNORECASE)


def keywords_only(sparql: str) -> str:
    """The query with its comments, strings and IRIs blanked out, positions kept."""
    return _NOT_KEYWORDS.sub(lambda match: " " * len(match.group()), sparql)


@lru_cache(maxsize=1024)  # read before every query: the same texts come again and again
def declares_dataset(sparql: str) -> bool:
    """Whether a query names its own dataset with FROM or FROM NAMED."""
    return bool(_FROM.search(keywords_only(sparql)))


@lru_cache(maxsize=1024)
def query_form(sparql: str) -> str | None:
    """SELECT, CONSTRUCT, DESCRIBE or ASK: the form of the query (None for an unreadable one)."""
    form = _FORM.search(keywords_only(sparql))
    return form.group(1).upper() if form else None


@dataclass(frozen=True)
class _Select:
    """What the cap needs to know of a SELECT query, read once per query text."""
    start: int  # where the SELECT keyword starts (the prologue ends)
    projection: str | None  # `?a ?b` or `*`; None where it cannot be wrapped (FROM, an unread projection)
    own_limit: int | None  # its LIMIT outside every group (the query's, not a subquery's)


@lru_cache(maxsize=1024)  # the workers see the same queries again and again
def _read_select(sparql: str) -> _Select | None:
    keywords = keywords_only(sparql)
    form = _FORM.search(keywords)
    if form is None or form.group(1).upper() != "SELECT":
        return None
    depth, own_limit = 0, None
    for token in _LIMIT.finditer(keywords, form.end()):
        if token.group() in "{}":
            depth += 1 if token.group() == "{" else -1
        elif depth == 0:
            own_limit = int(token.group(1))
    projection = None if _FROM.search(keywords) else _projected(keywords, form.end())
    return _Select(form.start(), projection, own_limit)


def capped_select(sparql: str, limit: int) -> str | None:
    """A SELECT query as the subquery of one that keeps its first `limit` rows, projecting the same
    variables in the same order; None for another form, for a SELECT with FROM (which a subquery
    cannot carry), or for a projection this reading does not follow. The prologue (BASE, PREFIX)
    stays in front."""
    select = _read_select(sparql)
    if select is None or select.projection is None:
        return None
    return (f"{sparql[:select.start]}SELECT {select.projection} WHERE {{\n{sparql[select.start:]}\n}} "
            f"LIMIT {limit}")


_LIMIT = re.compile(r"(?<![\w:?$])LIMIT\s+(\d+)|[{}]", re.IGNORECASE)


def selects_at_most(sparql: str, rows: int) -> bool:
    """Whether a SELECT query's own LIMIT keeps its answer to `rows` rows or fewer."""
    select = _read_select(sparql)
    return select is not None and select.own_limit is not None and select.own_limit <= rows


_PROJECTION_TOKEN = re.compile(r"\s+|[?$](\w+)|\(|\)|(?i:\bAS\b)|(?i:\b(?:DISTINCT|REDUCED)\b)|\*|\{|(?i:\bWHERE\b)|[^\s()?$]+")


def _projected(keywords: str, start: int) -> str | None:
    """The variables a SELECT clause projects, in order (`?a ?n` for `?a (COUNT(*) AS ?n)`), or
    `*`; read from just past SELECT to the WHERE clause."""
    depth, variables, after_as, star = 0, [], False, False
    for token in _PROJECTION_TOKEN.finditer(keywords, start):
        text = token.group()
        if depth == 0 and (text == "{" or text.upper() == "WHERE"):
            if star:
                return "*" if not variables else None
            return " ".join(f"?{v}" for v in variables) or None
        if text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
        elif token.group(1) and (depth == 0 or (depth == 1 and after_as)):
            variables.append(token.group(1))
        elif text == "*" and depth == 0:
            star = True
        after_as = text.upper() == "AS" or (after_as and text.isspace())
    return None
