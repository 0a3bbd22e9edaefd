"""`heritage-kg link-artists`: reconcile the collections' artists with Wikidata and ULAN through
the authority files (and Wikidata itself when online), and with each other. `heritage-kg
link-artworks`: link the artworks of one collection to related artworks of another."""

from __future__ import annotations

from pathlib import Path

import typer

from heritage_kg.cli import app
from heritage_kg.cli.common import (
    StoreOption, console, err_console, open_graph_store, progress_bars, reports_errors, settings,
)


@app.command("link-artists")
@reports_errors
def link_artists_command(
    store: str = StoreOption,
    authorities: Path = typer.Option(None, "--authorities", help="Folder of the authority files (nga-constituents.csv, "
                                     "moma-artists.csv, whitney-artists.csv); default $HERITAGE_KG_AUTHORITIES_DIR "
                                     "or ../shared/data/authorities."),
    no_authorities: bool = typer.Option(False, "--no-authorities", help="Link the collections' artists to one "
                                        "another only, without authority files (no Wikidata or ULAN links)."),
    links_dir: Path = typer.Option(None, "--links-dir", help="Where curated.tsv is read (default kg/links) and, "
                                   "when given, artists.tsv written."),
    table: Path = typer.Option(None, "--table", help="Where the table of every pair found is written (default: "
                               "in --links-dir when given, else $HERITAGE_KG_LINKS_TABLE or data/links/artists.tsv)."),
    online: bool = typer.Option(False, "--online", help="Also ask Wikidata's public SPARQL service "
                                "($HERITAGE_KG_WIKIDATA_SPARQL_URL); offline, the files alone are used."),
    tolerance: int = typer.Option(2, "--tolerance", help="Years by which life dates may differ (5 before 1700)."),
    threshold: float = typer.Option(0.75, "--threshold", help="Score from which a match is published without a curator."),
):
    """Match every collection's artists to Wikidata and ULAN identifiers and across collections;
    publish the matches as owl:sameAs links in the links graph, and every pair in a TSV for review."""
    from rich.table import Table

    from heritage_kg.graph.linking import LinkStatus, MatchRules, WikidataService, link_artists

    config = settings()
    rules = MatchRules(tolerance=tolerance, threshold=threshold)
    wikidata = WikidataService(config.wikidata_sparql_url, config.sparql_timeout_s) if online else None
    with open_graph_store(store) as graph_store:
        report = link_artists(graph_store, base_iri=config.base_iri, links_dir=links_dir or config.kg_dir / "links",
                              authorities_dir=None if no_authorities else authorities or config.authorities_dir,
                              table=table or (None if links_dir else config.links_table), rules=rules, wikidata=wikidata)
    if online:
        err_console.print(report.online_message, highlight=False)
    if no_authorities:
        console.print("no authority files: the collections' artists are linked to one another only", highlight=False)
    for authority in report.authorities:
        console.print(f"read {len(authority.records):,} records of {authority.label} ({authority.location})"
                      + (f"; skipped {len(authority.skipped)} malformed rows" if authority.skipped else ""),
                      highlight=False)
        for skipped in authority.skipped[:5]:
            console.print(f"  {skipped.path}: {skipped.reason}", highlight=False)
    table = Table("collection", "artists", "linked", "Wikidata", "ULAN", "cross", "artworks", "covered",
                  "via Wikidata", title="Artist links: coverage (artworks covered: one of their artists is linked)")
    for row in report.coverage:
        table.add_row(row.collection, f"{row.artists:,}", _share(row.artists_linked, row.artists),
                      f"{row.artists_wikidata:,}", f"{row.artists_ulan:,}", f"{row.artists_other_collection:,}",
                      f"{row.artworks:,}", _share(row.artworks_covered, row.artworks),
                      _share(row.artworks_wikidata, row.artworks))
    console.print(table)
    auto, accepted = report.count(LinkStatus.AUTO), report.count(LinkStatus.ACCEPTED)
    console.print(f"{auto + accepted:,} links published into <{report.graph}> ({accepted} accepted by curators); "
                  f"{report.count(LinkStatus.CANDIDATE):,} candidates and {report.count(LinkStatus.REJECTED)} rejected "
                  f"pairs left out; all listed in {report.table}", highlight=False)


def _share(part: int, whole: int) -> str:
    return f"{part:,} ({100 * part / whole:.1f}%)" if whole else "0"


@app.command("link-artworks")
@reports_errors
def link_artworks_command(
    source: str = typer.Option(..., "--from", help="The collection whose artworks are linked (tate, cmoa)."),
    target: str = typer.Option(..., "--to", help="The collection they are linked to."),
    k: int = typer.Option(5, "--k", help="Links kept per artwork, at most (1 to 100)."),
    min_score: float = typer.Option(0.4, "--min-score", help="Score from which a link is kept: 0.4 is a same-as "
                                    "artist whose name and a life year agree (match score 0.8) on its own; without "
                                    "one, only strong subject and title agreement together reach it."),
    store: str = StoreOption,
    sample: Path = typer.Option(None, "--sample", help="Also write a seeded random sample of the links written, "
                                "as a TSV to check by hand (kg/links/artwork-precision-sample.tsv is one)."),
    sample_size: int = typer.Option(40, "--sample-size", help="Links in the --sample TSV."),
):
    """Link every artwork of one collection to the artworks of another that share its artist
    (owl:sameAs), its subjects and its title's meaning; write the best links, with their scores,
    reasons and the run's provenance, into the artwork links graph (replacing that direction's
    previous links). Encodes both collections' titles first, once (cached)."""
    from heritage_kg.inference.linking import link_artworks, review_sample, write_review_table

    config = settings()
    with open_graph_store(store) as graph_store, progress_bars() as progress:
        report = link_artworks(graph_store, base_iri=config.base_iri, features_dir=config.features_dir,
                               source=source, target=target, k=k, min_score=min_score, progress=progress)
        if sample is not None:
            write_review_table(graph_store, review_sample(report, sample_size, seed=2026), sample,
                               sample=f"{source}-{target}-uniform-{sample_size}-seed-2026", k=k)
    kinds = report.reason_counts()
    console.print(f"{report.linked:,} of {report.artworks:,} {source} artworks "
                  f"({100 * report.linked / max(report.artworks, 1):.1f}%) linked to {target}: "
                  f"{report.link_count:,} links (score >= {min_score}) into <{report.graph}> in "
                  f"{report.seconds:.1f} s; links with the same artist {kinds['artist']:,}, shared subjects "
                  f"{kinds['subjects']:,}, similar titles {kinds['title']:,}", highlight=False)
    if report.kept:
        console.print(f"kept {report.kept:,} statements of the links between other collections", highlight=False)
    if sample is not None:
        console.print(f"sample of {min(sample_size, report.link_count)} links to check by hand: {sample}",
                      highlight=False)
