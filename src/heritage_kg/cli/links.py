"""`heritage-kg link-artists`: reconcile the collections' artists with Wikidata and ULAN through
the authority files (and Wikidata itself when online), and with each other."""

from __future__ import annotations

from pathlib import Path

import typer

from heritage_kg.cli import app
from heritage_kg.cli.common import StoreOption, console, err_console, open_graph_store, reports_errors, settings


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
