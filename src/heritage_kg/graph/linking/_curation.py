"""The two TSV files curators work with: `artists.tsv`, every pair a run found (written, never
edited), and `curated.tsv`, the curators' decisions, which win on every run."""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path

from heritage_kg.errors import CurationError
from heritage_kg.graph.linking._artists import CollectionArtist
from heritage_kg.graph.linking._matching import ArtistLink, LinkStatus
from heritage_kg.sources.authorities import ulan_entity

CURATED_COLUMNS = ("artist", "target", "status", "note")
LINK_COLUMNS = ("artist", "name", "collection", "target", "kind", "authority", "score", "status", "evidence")
DECISIONS = (LinkStatus.ACCEPTED, LinkStatus.REJECTED)


@dataclass(frozen=True)
class CuratorDecision:
    artist: str
    target: str
    status: LinkStatus  # accepted or rejected
    note: str = ""

    @property
    def pair(self) -> frozenset[str]:
        return frozenset((self.artist, self.target))

    @property
    def evidence(self) -> str:
        return f"{self.status} by a curator" + (f": {self.note}" if self.note else "")


def read_curator_decisions(path: Path) -> dict[frozenset[str], CuratorDecision]:
    """The decisions in `curated.tsv`, by pair (in either order, since owl:sameAs is symmetric).
    A decision written against a Getty ULAN page is read as one about its ULAN entity."""
    if not path.is_file():
        return {}
    decisions = {}
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t")
        missing = [c for c in CURATED_COLUMNS[:3] if c not in (reader.fieldnames or [])]
        if missing:
            raise CurationError(f"{path} lacks the columns {', '.join(missing)} (expected: {', '.join(CURATED_COLUMNS)})")
        for number, row in enumerate(reader, start=2):
            status = (row.get("status") or "").strip().lower()
            artist, target = (row.get("artist") or "").strip(), ulan_entity((row.get("target") or "").strip())
            if status not in DECISIONS or not artist or not target:
                raise CurationError(f"{path} line {number}: a decision needs an artist, a target and the status "
                                    f"accepted or rejected (found {status or 'no status'!r})")
            decision = CuratorDecision(artist, target, LinkStatus(status), (row.get("note") or "").strip())
            decisions[decision.pair] = decision
    return decisions


def apply_curator_decisions(links: list[ArtistLink], decisions: dict[frozenset[str], CuratorDecision],
                            artists: dict[str, CollectionArtist]) -> list[ArtistLink]:
    """Curators win: a rejected pair is never published, an accepted one always is, whether the
    matcher found it or not."""
    result, found = [], set()
    for link in links:
        decision = decisions.get(frozenset((link.artist, link.target)))
        if decision is not None:
            found.add(decision.pair)
            link = replace(link, status=decision.status, evidence=f"{link.evidence}; {decision.evidence}")
        result.append(link)
    for pair, decision in decisions.items():
        if pair in found or decision.status is not LinkStatus.ACCEPTED:
            continue
        artist = artists.get(decision.artist)
        result.append(ArtistLink(
            artist=decision.artist, artist_name=artist.label if artist else decision.artist,
            collection=artist.collection if artist else "", target=decision.target, authorities=("curator",),
            score=1.0, evidence=decision.evidence, status=LinkStatus.ACCEPTED))
    return result


def write_links_table(links: list[ArtistLink], path: Path) -> None:
    """The reviewable TSV: one row per pair, published or not, sorted by artist and target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tsv.tmp")
    with open(temporary, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(LINK_COLUMNS)
        for link in sorted(links, key=lambda link: (link.artist, link.target)):
            writer.writerow([link.artist, link.artist_name, link.collection, link.target, link.target_kind,
                             ",".join(link.authorities), f"{link.score:.3f}", link.status,
                             link.evidence.replace("\t", " ").replace("\n", " ")])
    temporary.replace(path)


def read_links_table(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))
