"""Commands over the knowledge graph: build-graph, search-index, stats, query, validate."""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from enum import Enum
from pathlib import Path

import typer

from heritage_kg.cli import app
from heritage_kg.cli.common import StoreOption, console, open_graph_store, progress_bars, reports_errors, settings
from heritage_kg.errors import QueryError


class Collection(str, Enum):
    tate = "tate"
    cmoa = "cmoa"


class OutputFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


@app.command("build-graph")
@reports_errors
def build_graph_command(
    source: str = typer.Option(..., "--source", help="A folder (git clone), a zip in GitHub's layout, or (Tate) a URL."),
    collection: Collection = typer.Option(Collection.tate, "--collection", help="Which collection the source holds."),
    store: str = StoreOption,
):
    """Load a collection into the graph store, replacing its previous graph atomically, then
    rebuild the search box's full-text index from the store (see search-index)."""
    from heritage_kg.graph.build import build_graph

    config = settings()
    with open_graph_store(store) as graph_store, progress_bars() as progress:
        report = build_graph(graph_store, collection.value, source, base_iri=config.base_iri,
                             cache_dir=config.cache_dir, glossary=config.kg_dir / "medium_glossary.toml",
                             ontology=config.ontology_dir / "heritage.ttl", progress=progress)
        _rebuild_search_index(graph_store, config)
    console.print(f"built [bold]{report.collection}[/] from {report.source} in {report.seconds:.1f} s: "
                  f"{report.artworks:,} artworks, {report.artists:,} artists, {report.concepts:,} subject concepts, "
                  f"{report.triples:,} triples into <{report.graph}>")
    if report.skipped:
        console.print(f"[yellow]skipped {len(report.skipped)} records[/]:")
        for record in report.skipped[:20]:
            console.print(f"  {record.path}: {record.reason}", highlight=False)
        if len(report.skipped) > 20:
            console.print(f"  ... and {len(report.skipped) - 20} more "
                          f"(all are in the build's provenance: heritage-kg query build_skipped_records)")
    if report.source_notes:
        kinds = Counter(note.kind for note in report.source_notes)
        console.print(f"[yellow]notes on loaded records[/]: {', '.join(f'{n} {kind}' for kind, n in kinds.items())} "
                      f"(in the build's provenance: heritage-kg query build_source_notes)", highlight=False)


@app.command("search-index")
@reports_errors
def search_index_command(store: str = StoreOption):
    """Rebuild the full-text index of artwork titles and artist names that the service's search
    box reads: beside an embedded store, or at HERITAGE_KG_SEARCH_INDEX (which a store that is a
    SPARQL server needs). build-graph runs it; run it yourself after a build made elsewhere."""

    with open_graph_store(store, read_only=True) as graph_store:
        _rebuild_search_index(graph_store, settings())


def _rebuild_search_index(graph_store, config) -> None:
    import time

    from heritage_kg.graph.search import build_index, index_location

    started = time.perf_counter()
    path = index_location(graph_store.location, config.search_index)
    entries = build_index(graph_store, path)
    console.print(f"search index: {entries:,} artworks and artists in {path} "
                  f"({time.perf_counter() - started:.1f} s)", highlight=False)


@app.command()
@reports_errors
def stats(store: str = StoreOption):
    """Artworks, artists and concepts per collection; artworks and level-1 subjects in use per
    top-level subject; artworks per medium group."""
    from rich.table import Table

    from heritage_kg.graph.stats import collection_stats

    with open_graph_store(store, read_only=True) as graph_store:
        summary = collection_stats(graph_store)
    table = Table("collection", "artworks", "artists", "subject concepts", title="Collections")
    for row in summary.collections:
        table.add_row(row.label, f"{row.artworks:,}", f"{row.artists:,}", f"{row.concepts:,}")
    console.print(table)
    table = Table("top-level subject", "artworks", "level-1 subjects in use", title="Subjects")
    for row in summary.subjects:
        table.add_row(row.label, f"{row.artworks:,}", str(row.level1_in_use))
    console.print(table)
    collections = [c.label for c in summary.collections]
    table = Table("medium group", *collections, title="Artworks per medium group")
    for row in summary.medium_groups:
        table.add_row(row.label, *(f"{row.artworks.get(c, 0):,}" for c in collections))
    console.print(table)


@app.command()
@reports_errors
def query(
    query: str = typer.Argument(..., help="SPARQL text, a .rq file, or the name of a query in kg/queries/."),
    param: list[str] = typer.Option([], "--param", "-p",
                                    help="name=value for a named query's parameters; name=<iri> for an IRI."),
    output: OutputFormat = typer.Option(OutputFormat.table, "--format", help="table, csv or json."),
    store: str = StoreOption,
):
    """Run a SELECT query over all graphs and print its rows."""
    from rich.table import Table


    text, bindings = _query_text(query, param)
    with open_graph_store(store, read_only=True) as graph_store:
        variables, rows = graph_store.select(text, bindings)
    if output is OutputFormat.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(variables)
        writer.writerows([str(row.get(v, "")) for v in variables] for row in rows)
    elif output is OutputFormat.json:
        json.dump([{v: str(row[v]) for v in variables if v in row} for row in rows], sys.stdout, indent=1,
                  ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        table = Table(*variables)
        for row in rows:
            table.add_row(*(str(row.get(v, "")) for v in variables))
        console.print(table)
        console.print(f"{len(rows)} rows")


def _query_text(query: str, params: list[str]):
    from heritage_kg.graph.queries import parameter_value

    values = {}
    for item in params:
        if "=" not in item:
            raise QueryError(f"--param takes name=value, not {item!r}")
        name, value = item.split("=", 1)
        values[name.lstrip("?$")] = parameter_value(value)
    if query.endswith(".rq"):
        path = Path(query)
        if not path.is_file():
            raise QueryError(f"no such query file: {query}")
        return path.read_text(encoding="utf-8"), {}
    if query.replace("_", "").isalnum():
        from heritage_kg.graph.queries import load_query

        named = load_query(query, settings().kg_dir / "queries")
        return named.text, named.bindings(values)
    return query, {}


@app.command()
@reports_errors
def validate(
    store: str = StoreOption,
    sample: int = typer.Option(0, "--sample", help="Check only this many resources of each shape's class (0: all)."),
    reasoner: bool = typer.Option(False, "--reasoner", help="Also run the HermiT OWL reasoner over the ontology "
                                  "(needs Java) and report inconsistency and unsatisfiable classes."),
    ontology: Path = typer.Option(None, "--ontology", help="The ontology to reason over (default "
                                  "ontology/heritage.ttl), e.g. an edited copy before it is built in."),
):
    """Check the store against the SHACL shapes in ontology/shapes.ttl and, with --reasoner, the
    ontology with HermiT. Exit status 1 when either finds a fault."""
    from heritage_kg.graph.validation import load_ontology, reason, validate_store

    config = settings()
    sound = True
    if reasoner:
        reasoned = reason(load_ontology(ontology or config.ontology_dir / "heritage.ttl"))
        for line in reasoned.summary_lines():
            console.print(line, highlight=False)
        sound = reasoned.sound
    with open_graph_store(store, read_only=True) as graph_store, progress_bars() as progress:
        report = validate_store(graph_store, shapes_file=config.ontology_dir / "shapes.ttl", sample=sample or None,
                                progress=progress)
    for line in report.summary_lines():
        console.print(line, highlight=False)
    if not (report.conforms and sound):
        raise typer.Exit(1)
