"""Artist reconciliation: the artists of each collection matched, by name and life years, to
the authority files' Wikidata and ULAN identifiers and to each other, published as owl:sameAs
links (each with its score and evidence) in the links graph and in a TSV curators review."""

from __future__ import annotations

import csv
import hashlib
import random
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from heritage_kg.config import get_settings
from heritage_kg.errors import CurationError, OfflineDownloadError, SourceError
from heritage_kg.graph.build import write_activity, write_source_archive
from heritage_kg.graph.mapping import LABEL, TYPE
from heritage_kg.graph.namespaces import HK, OWL, PROV, Minter
from heritage_kg.graph.nquads import QuadWriter
from heritage_kg.graph.queries import load_query
from heritage_kg.graph.store import GraphStore
from heritage_kg.sources.authorities import (
    FORMATS, ULAN_PAGE, WIKIDATA_ENTITY, AuthorityFile, AuthorityRecord, query_wikidata_people, read_authorities,
)

SAME_AS = OWL + "sameAs"

# --------------------------------------------------------------------------- names

# Titles, ranks and post-nominal letters that catalogues add to a name and authorities do not.
HONORIFICS = frozenset("""
    sir dame lord lady baron baroness baronet bt bart count countess earl viscount duke duchess
    marquess marquis rev revd reverend dr mr mrs ms prof professor hon honourable the
    ra pra ara rsa arsa rws rba rp ri rca om ch kbe cbe obe mbe kcvo cvo frs fsa
""".split())
# Letters Unicode does not decompose into a base letter and an accent.
_FOLD = str.maketrans({"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ß": "ss", "ł": "l",
                       "Ł": "l", "đ": "d", "Đ": "d", "ı": "i", "þ": "th", "Þ": "th", "ð": "d", "&": " and "})
_APOSTROPHES = re.compile(r"['’‘`´]")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
# Names that stand for no one in particular: they must never be linked to a person.
_NOBODY = re.compile(
    r"^\W*(after|follower of|followers of|circle of|workshop of|studio of|manner of|style of|school of|"
    r"attributed to|imitator of|copy after)\b"
    r"|\b(unknown|anonymous|anon|unidentified|not known|various|school|century)\b")


def fold(text: str) -> str:
    """Lower case without accents: "Géricault" -> "gericault", "Øvre" -> "ovre"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


_ASIDE = re.compile(r"\([^)]*\)?")


def name_tokens(name: str) -> list[str]:
    """The words of a name, folded, without punctuation, honorifics or asides in parentheses
    ("Elizabeth Rigby (Lady Eastlake)"), in the order written."""
    words = _NON_ALNUM.split(_APOSTROPHES.sub("", fold(_ASIDE.sub(" ", name))))
    words = [w for w in words if w]
    kept = [w for w in words if w not in HONORIFICS]
    return kept or words


def forward_name(sort_name: str) -> str:
    """ "Turner, Joseph Mallord William" -> "Joseph Mallord William Turner"; a name without a
    comma is already in forward order."""
    surname, comma, forenames = sort_name.partition(",")
    return f"{forenames.strip()} {surname.strip()}".strip() if comma else sort_name


def is_nobody(name: str) -> bool:
    """ "British School 18th century", "Unknown", "Anonymous", "after Rembrandt": no one person."""
    return bool(_NOBODY.search(fold(name)))


def name_key(name: str | None) -> str | None:
    """The key two spellings of one person share: the words of the name, sorted, so that
    "Surname, Forename" and "Forename Surname" meet. None for names of no one in particular."""
    if not name or is_nobody(name):
        return None
    tokens = name_tokens(name.replace(",", " "))
    return " ".join(sorted(tokens)) if tokens else None


def name_keys(name: str | None, sort_name: str | None) -> set[str]:
    keys = {name_key(name), name_key(forward_name(sort_name)) if sort_name else None}
    return {k for k in keys if k}


def surname_and_forename(name: str | None, sort_name: str | None) -> tuple[str, str] | None:
    """The last word of the surname and the first forename, for the looser match of a person
    written with more or fewer forenames ("Anders L. Zorn" and "Anders Zorn"). The surname is
    what precedes the comma of a sort name, else the last word of the name."""
    if sort_name and "," in sort_name and not is_nobody(sort_name):
        surname, _, forenames = sort_name.partition(",")
        surname_words, forename_words = name_tokens(surname), name_tokens(forenames)
    elif name and not is_nobody(name):
        words = name_tokens(name)
        surname_words, forename_words = words[-1:], words[:-1]
    else:
        return None
    if not surname_words or not forename_words:
        return None
    return surname_words[-1], forename_words[0]


def forenames_compatible(a: str, b: str) -> bool:
    """ "anders" and "anders", or an initial and the name it stands for ("e" and "edward")."""
    return a == b or (len(a) == 1 and b.startswith(a)) or (len(b) == 1 and a.startswith(b))


# --------------------------------------------------------------------------- life years

_FLORUIT = re.compile(r"^\s*(active|exhibited|established|founded|fl\.|flourished)|century", re.I)
_DEATH_AFTER_DASH = re.compile(r"[–-]\s*(?:c\.\s*|\?\s*|after\s+|before\s+)*(\d{2,4})")
_DIED = re.compile(r"\bdied\s+(?:c\.\s*)?(\d{3,4})")


def life_years(birth: int | None, death: int | None, life_dates: str | None) -> tuple[int | None, int | None]:
    """Birth and death years to compare. Where the death year is missing, it is read from the
    life dates as written ("1887–1964", "c.1760–1803", "1565 or 66–1640", "died 1907"); dates of
    activity ("active 1820–1840", "19th century") are not life dates and give no years."""
    if life_dates and _FLORUIT.search(life_dates):
        return None, None
    if death is None and life_dates and not life_dates.lstrip().startswith("born"):
        match = _DEATH_AFTER_DASH.search(life_dates) or _DIED.search(life_dates)
        if match:
            digits = match.group(1)
            if len(digits) == 2 and birth is not None:  # "1565–66"
                death = birth // 100 * 100 + int(digits)
                death += 100 if death < birth else 0
            elif len(digits) >= 3:
                death = int(digits)
    return birth, death


@dataclass(frozen=True)
class YearsEvidence:
    agreed: tuple[str, ...] = ()  # "born 1775" or "born 1775/1776"
    conflicts: tuple[str, ...] = ()

    @property
    def compatible(self) -> bool:
        return not self.conflicts


def compare_years(ours: tuple[int | None, int | None], theirs: tuple[int | None, int | None],
                  tolerance: int) -> YearsEvidence:
    """Birth and death years agree when both are known and differ by at most `tolerance`;
    a year one side does not know is neither for nor against."""
    agreed, conflicts = [], []
    for what, a, b in (("born", ours[0], theirs[0]), ("died", ours[1], theirs[1])):
        if a is None or b is None:
            continue
        shown = f"{what} {a}" if a == b else f"{what} {a}/{b}"
        (agreed if abs(a - b) <= tolerance else conflicts).append(shown)
    return YearsEvidence(tuple(agreed), tuple(conflicts))


# --------------------------------------------------------------------------- the people compared

@dataclass(frozen=True)
class CollectionArtist:
    iri: str
    collection: str  # "tate", "cmoa"
    name: str | None
    sort_name: str | None = None
    birth_year: int | None = None
    death_year: int | None = None
    nationality: str | None = None

    @property
    def keys(self) -> set[str]:
        return name_keys(self.name, self.sort_name)

    @property
    def years(self) -> tuple[int | None, int | None]:
        return self.birth_year, self.death_year

    @property
    def label(self) -> str:
        return self.name or self.sort_name or self.iri


def read_collection_artists(store: GraphStore, minter: Minter) -> list[CollectionArtist]:
    """The artists of every collection in the store, with the death year read from the life
    dates where the record lacks one."""
    graph_prefix = minter.graph("")
    _, rows = store.select(load_query("links_collection_artists").text)
    artists = []
    for row in rows:
        graph = str(row["graph"])
        if not graph.startswith(graph_prefix):
            continue
        value = {k: v.toPython() for k, v in row.items()}
        birth, death = life_years(_int(value.get("birthYear")), _int(value.get("deathYear")),
                                  value.get("lifeDates"))
        artists.append(CollectionArtist(
            iri=str(row["artist"]), collection=graph[len(graph_prefix):], name=value.get("name"),
            sort_name=value.get("sortName"), birth_year=birth, death_year=death,
            nationality=value.get("nationality")))
    return artists


def _int(value) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# Nationalities written differently by different catalogues.
_NATIONALITY = {"english": "british", "scottish": "british", "welsh": "british", "scots": "british",
                "northern irish": "british", "united states": "american", "flemish": "belgian"}


def _nationality(value: str | None) -> str | None:
    if not value:
        return None
    folded = fold(value).strip()
    return _NATIONALITY.get(folded, folded)


# --------------------------------------------------------------------------- matching

@dataclass
class ArtistLink:
    """One proposed owl:sameAs pair: a collection artist and a Wikidata entity, a ULAN page or
    an artist of another collection."""

    artist: str
    artist_name: str
    collection: str
    target: str
    authorities: list[str]  # who gave the match: "nga", "moma", "whitney", "wikidata", "tate", "cmoa", "curator"
    score: float
    evidence: str
    status: str  # auto | candidate | accepted | rejected

    @property
    def target_kind(self) -> str:
        if self.target.startswith(WIKIDATA_ENTITY):
            return "wikidata"
        if self.target.startswith(ULAN_PAGE):
            return "ulan"
        return "collection"

    @property
    def published(self) -> bool:
        """Whether the link goes into the links graph."""
        return self.status in ("auto", "accepted")


STATUSES = ("auto", "candidate", "accepted", "rejected")


@dataclass(frozen=True)
class MatchRules:
    """What makes a match. Names equal after normalisation score 0.6; the same surname and
    first forename with more or fewer other forenames score 0.5; each life year that both sides
    know and that agrees adds 0.2 (0.15 when within the tolerance but not equal), an agreeing
    nationality 0.05. A year that disagrees by more than the tolerance rules the pair out.
    A match is published without a curator from `threshold` up: a name alone never is."""

    tolerance: int = 2
    # Life dates of early artists are often estimates that authorities round differently.
    early_tolerance: int = 5
    early_before: int = 1700
    threshold: float = 0.75

    def tolerance_for(self, birth_year: int | None) -> int:
        return self.early_tolerance if birth_year is not None and birth_year < self.early_before else self.tolerance

    def score(self, base: float, years: YearsEvidence, nationality_agrees: bool) -> float:
        value = base
        for agreed in years.agreed:
            value += 0.2 if "/" not in agreed else 0.15
        if nationality_agrees:
            value += 0.05
        return round(min(value, 1.0), 3)


EXACT_NAME, LOOSE_NAME = 0.6, 0.5


class PersonIndex:
    """People (authority records or collection artists) by name key, and by surname and
    forename initial for the looser match."""

    def __init__(self):
        self.exact: dict[str, list] = defaultdict(list)
        self.loose: dict[str, list] = defaultdict(list)

    def add(self, person, name: str | None, sort_name: str | None) -> None:
        for key in name_keys(name, sort_name):
            self.exact[key].append(person)
        parts = surname_and_forename(name, sort_name)
        if parts:
            self.loose[f"{parts[0]}|{parts[1][0]}"].append((parts[1], person))

    def lookup(self, name: str | None, sort_name: str | None) -> list[tuple[float, object, str]]:
        """(name score, person, what agreed) for each person of the same name; only where there
        is none, each of the same surname whose first forename agrees."""
        found, seen = [], set()
        for key in name_keys(name, sort_name):
            for person in self.exact.get(key, ()):
                if id(person) not in seen:
                    seen.add(id(person))
                    found.append((EXACT_NAME, person, "name matches"))
        if found:
            return found
        parts = surname_and_forename(name, sort_name)
        if parts:
            for forename, person in self.loose.get(f"{parts[0]}|{parts[1][0]}", ()):
                if id(person) not in seen and forenames_compatible(parts[1], forename):
                    seen.add(id(person))
                    found.append((LOOSE_NAME, person, "surname and first forename match"))
        return found


@dataclass(frozen=True)
class _Candidate:
    score: float
    identity: str  # records naming the same person share it (their Wikidata id, else their own id)
    evidence: str
    targets: tuple[str, ...]
    source: str
    status: str = "candidate"


class ArtistReconciler:
    """Matches collection artists to authority records and to the artists of other collections.
    `fit` indexes the authorities; `match_authorities` and `match_collections` give the links."""

    def __init__(self, rules: MatchRules | None = None):
        self.rules = rules or MatchRules()

    def fit(self, authorities: Iterable[AuthorityFile]) -> ArtistReconciler:
        self.indexes_: dict[str, PersonIndex] = {}
        for authority in authorities:
            index = self.indexes_.setdefault(authority.authority, PersonIndex())
            for record in authority.records:
                if not record.anonymous:
                    index.add(record, record.name, record.sort_name)
        return self

    def _candidates(self, artist: CollectionArtist, index: PersonIndex, describe) -> list[_Candidate]:
        """Everyone in `index` whose name and life years are compatible with the artist's.
        `describe(person)` gives (identity, label, years, nationality, targets, source)."""
        result = []
        for base, person, how in index.lookup(artist.name, artist.sort_name):
            identity, label, years_of, nationality, targets, source = describe(person)
            birth = artist.birth_year if artist.birth_year is not None else years_of[0]
            years = compare_years(artist.years, years_of, self.rules.tolerance_for(birth))
            if not years.compatible or (base == LOOSE_NAME and not years.agreed):
                continue  # a looser name is worth a curator's time only with a life year to back it
            ours = _nationality(artist.nationality)
            agrees = ours is not None and ours == _nationality(nationality)
            evidence = (f"{label} ({_years_text(*years_of)}): {how}" + "".join(f"; {y}" for y in years.agreed)
                        + ("; nationality agrees" if agrees else ""))
            result.append(_Candidate(self.rules.score(base, years, agrees), identity, evidence, targets, source))
        return result

    def _decide(self, candidates: list[_Candidate]) -> list[_Candidate]:
        """The best candidate of one source is published when it clears the threshold and no
        other person scores nearly as well; otherwise every close candidate waits for a curator."""
        if not candidates:
            return []
        candidates = sorted(candidates, key=lambda c: -c.score)
        best = candidates[0]
        rivals = [c for c in candidates[1:] if c.identity != best.identity and c.score >= best.score - 0.1]
        if rivals:
            note = f"; ambiguous: {len(rivals) + 1} people of this name in {best.source}"
            return [replace(c, evidence=c.evidence + note, status="candidate") for c in [best, *rivals]]
        status = "auto" if best.score >= self.rules.threshold else "candidate"
        return [replace(c, status=status) for c in candidates if c.identity == best.identity]

    # -- against the authorities

    def match_authorities(self, artists: Iterable[CollectionArtist]) -> list[ArtistLink]:
        links: list[ArtistLink] = []
        for artist in artists:
            per_target: dict[str, list[_Candidate]] = defaultdict(list)
            for authority, index in self.indexes_.items():
                for candidate in self._decide(self._candidates(artist, index, _describe_record)):
                    for target in candidate.targets:
                        per_target[target].append(candidate)
            links.extend(_merge(artist, per_target))
        return _resolve_conflicts(links)

    # -- between collections

    def match_collections(self, artists: list[CollectionArtist],
                          authority_links: list[ArtistLink]) -> list[ArtistLink]:
        """Artists of different collections who are one person: compatible names and years, or
        both linked to the same Wikidata entity."""
        by_collection: dict[str, list[CollectionArtist]] = defaultdict(list)
        for artist in artists:
            by_collection[artist.collection].append(artist)
        wikidata_of: dict[str, set[str]] = defaultdict(set)
        for link in authority_links:
            if link.status == "auto" and link.target_kind == "wikidata":
                wikidata_of[link.artist].add(link.target)
        names = sorted(by_collection)
        links = []
        for i, left in enumerate(names):
            for right in names[i + 1:]:
                links.extend(self._match_pair(by_collection[left], by_collection[right], wikidata_of))
        return links

    def _match_pair(self, left: list[CollectionArtist], right: list[CollectionArtist],
                    wikidata_of: dict[str, set[str]]) -> list[ArtistLink]:
        index = PersonIndex()
        by_wikidata: dict[str, list[CollectionArtist]] = defaultdict(list)
        for artist in right:
            index.add(artist, artist.name, artist.sort_name)
            for qid in wikidata_of.get(artist.iri, ()):
                by_wikidata[qid].append(artist)
        links = []
        for artist in left:
            per_target: dict[str, list[_Candidate]] = defaultdict(list)
            for candidate in self._decide(self._candidates(artist, index, _describe_artist)):
                per_target[candidate.identity].append(candidate)
            for qid in sorted(wikidata_of.get(artist.iri, ())):
                for other in by_wikidata.get(qid, ()):
                    per_target[other.iri].append(_Candidate(
                        self.rules.threshold, other.iri, f"{other.collection} \"{other.label}\": both linked to {qid}",
                        (other.iri,), other.collection, "auto"))
            links.extend(_merge(artist, per_target))
        return links


def _describe_record(record: AuthorityRecord):
    return (record.wikidata_id or f"{record.authority}:{record.record_id}",
            f"{record.authority} {record.record_id} \"{record.name}\"", (record.birth_year, record.death_year),
            record.nationality, tuple(record.target_iris()), record.authority)


def _describe_artist(artist: CollectionArtist):
    return (artist.iri, f"{artist.collection} \"{artist.label}\"", artist.years, artist.nationality,
            (artist.iri,), artist.collection)


def _merge(artist: CollectionArtist, per_target: dict[str, list[_Candidate]]) -> list[ArtistLink]:
    """One link per target: published if any source published it, with every source's evidence."""
    links = []
    for target, candidates in per_target.items():
        published = [c for c in candidates if c.status == "auto"]
        chosen = sorted(published or candidates, key=lambda c: -c.score)
        links.append(ArtistLink(
            artist=artist.iri, artist_name=artist.label, collection=artist.collection, target=target,
            authorities=sorted({c.source for c in chosen}), score=chosen[0].score,
            evidence=" | ".join(dict.fromkeys(c.evidence for c in chosen)),
            status="auto" if published else "candidate"))
    return links


def _resolve_conflicts(links: list[ArtistLink]) -> list[ArtistLink]:
    """One artist is one Wikidata entity and one ULAN record: where authorities disagree, the
    identifier with the best evidence (score, then the number of authorities giving it) is kept
    and, on a tie, none is: the others wait for a curator."""
    by_artist_kind: dict[tuple[str, str], list[ArtistLink]] = defaultdict(list)
    for link in links:
        if link.status == "auto":
            by_artist_kind[(link.artist, link.target_kind)].append(link)
    for group in by_artist_kind.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda link: (-link.score, -len(link.authorities)))
        best, runner_up = group[0], group[1]
        tied = (runner_up.score, len(runner_up.authorities)) == (best.score, len(best.authorities))
        for link in group[(0 if tied else 1):]:
            link.status = "candidate"
            link.evidence += f"; conflicts with {', '.join(o.target for o in group if o is not link)}"
    return links


def _years_text(birth: int | None, death: int | None) -> str:
    if birth is None and death is None:
        return "no life years"
    return f"{birth if birth is not None else '?'}–{death if death is not None else ''}"


# --------------------------------------------------------------------------- curators' decisions

CURATED_COLUMNS = ("artist", "target", "status", "note")
LINK_COLUMNS = ("artist", "name", "collection", "target", "kind", "authority", "score", "status", "evidence")


@dataclass(frozen=True)
class CuratorDecision:
    artist: str
    target: str
    status: str  # accepted | rejected
    note: str = ""


def read_curator_decisions(path: Path) -> dict[frozenset[str], CuratorDecision]:
    """The decisions in `curated.tsv`, by pair (in either order, since owl:sameAs is symmetric)."""
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
            artist, target = (row.get("artist") or "").strip(), (row.get("target") or "").strip()
            if status not in ("accepted", "rejected") or not artist or not target:
                raise CurationError(f"{path} line {number}: a decision needs an artist, a target and the status "
                                    f"accepted or rejected (found {status or 'no status'!r})")
            decisions[frozenset((artist, target))] = CuratorDecision(artist, target, status, (row.get("note") or "").strip())
    return decisions


def apply_curator_decisions(links: list[ArtistLink], decisions: dict[frozenset[str], CuratorDecision],
                            artists: dict[str, CollectionArtist]) -> list[ArtistLink]:
    """Curators win: a rejected pair is never published, an accepted one always is, whether the
    matcher found it or not."""
    found = set()
    for link in links:
        decision = decisions.get(frozenset((link.artist, link.target)))
        if decision is not None:
            found.add(frozenset((link.artist, link.target)))
            link.status = decision.status
            link.evidence += f"; {decision.status} by a curator" + (f": {decision.note}" if decision.note else "")
    for pair, decision in decisions.items():
        if pair in found or decision.status != "accepted":
            continue
        artist = artists.get(decision.artist)
        links.append(ArtistLink(
            artist=decision.artist, artist_name=artist.label if artist else decision.artist,
            collection=artist.collection if artist else "", target=decision.target, authorities=["curator"],
            score=1.0, evidence="accepted by a curator" + (f": {decision.note}" if decision.note else ""),
            status="accepted"))
    return links


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


# --------------------------------------------------------------------------- the links graph

def links_graph(minter: Minter) -> str:
    return minter.graph("links")


def match_iri(minter: Minter, link: ArtistLink) -> str:
    """Stable across runs: the same pair is the same match resource."""
    digest = hashlib.sha1(f"{link.artist} {link.target}".encode()).hexdigest()[:20]
    return f"{minter.base}link/artist/{digest}"


def authority_iri(minter: Minter, authority: str) -> str:
    if authority in ("tate", "cmoa"):
        return minter.collection(authority)
    return f"{minter.base}authority/{authority}"


AUTHORITY_LABELS = {**{name: form.label for name, form in FORMATS.items()},
                    "wikidata": "Wikidata (public SPARQL service)", "curator": "A curator's decision"}


def write_links_nquads(out, minter: Minter, links: list[ArtistLink], run: LinkingRun) -> int:
    graph = QuadWriter(out, links_graph(minter))
    run_iri = run.iri
    write_activity(graph, run_iri, HK + "LinkingRun", run.started)
    for number, source in enumerate(run.sources, start=1):
        write_source_archive(graph, run_iri, f"{run_iri}/source/{number}", source.location, source.checksum)
    used_authorities = sorted({a for link in links if link.published for a in link.authorities})
    for authority in used_authorities:
        iri = authority_iri(minter, authority)
        if authority not in ("tate", "cmoa"):
            graph.iri(iri, TYPE, HK + "Authority")
            graph.text(iri, LABEL, AUTHORITY_LABELS.get(authority, authority))
    published = 0
    for link in links:
        if not link.published:
            continue
        published += 1
        match = match_iri(minter, link)
        graph.iri(link.artist, SAME_AS, link.target)
        graph.iri(match, TYPE, HK + "ArtistMatch")
        graph.iri(match, HK + "matchSubject", link.artist)
        graph.iri(match, HK + "matchTarget", link.target)
        graph.decimal(match, HK + "score", link.score)
        graph.text(match, HK + "evidence", link.evidence)
        graph.text(match, HK + "matchStatus", link.status)
        for authority in link.authorities:
            graph.iri(match, HK + "matchedBy", authority_iri(minter, authority))
        graph.iri(match, PROV + "wasGeneratedBy", run_iri)
    graph.integer(run_iri, HK + "linkCount", published)
    return published


# --------------------------------------------------------------------------- the run

@dataclass(frozen=True)
class LinkSource:
    location: str
    checksum: str


@dataclass
class LinkingRun:
    iri: str
    started: datetime
    sources: list[LinkSource] = field(default_factory=list)


@dataclass
class CollectionCoverage:
    collection: str
    artists: int
    artists_linked: int  # with at least one published link of any kind
    artists_wikidata: int
    artists_ulan: int
    artists_other_collection: int
    artworks: int
    artworks_covered: int  # artworks one of whose artists has a published link
    artworks_wikidata: int


@dataclass
class LinkingReport:
    run_iri: str
    graph: str
    links: list[ArtistLink]
    coverage: list[CollectionCoverage]
    authorities: list[AuthorityFile]
    table: Path
    online_message: str | None = None
    triples: int = 0

    def count(self, status: str) -> int:
        return sum(1 for link in self.links if link.status == status)


def link_artists(store: GraphStore, *, authorities_dir: Path, links_dir: Path | None = None,
                 rules: MatchRules | None = None, online: bool = False,
                 wikidata_endpoint: str | None = None) -> LinkingReport:
    """Matches every collection's artists, applies the curators' decisions, writes the TSV and
    replaces the links graph of the store atomically."""
    settings = get_settings()
    minter = Minter(settings.base_iri)
    links_dir = links_dir or settings.kg_dir / "links"
    started = datetime.now(UTC)
    decisions = read_curator_decisions(links_dir / "curated.tsv")  # a bad file stops the run before any work
    authorities = read_authorities(authorities_dir)
    artists = read_collection_artists(store, minter)
    if not artists:
        raise SourceError(f"the store at {store.location} holds no artists: build a collection first "
                          f"('heritage-kg build-graph --source PATH')")
    online_message = None
    if online:
        try:
            names = sorted({a.name for a in artists if a.name and name_key(a.name)})
            authorities.append(query_wikidata_people(wikidata_endpoint or settings.wikidata_sparql_url,
                                                     load_query("links_wikidata_people").text, names,
                                                     timeout_s=settings.sparql_timeout_s))
            online_message = f"online: asked Wikidata about {len(names):,} names"
        except OfflineDownloadError as exc:
            online_message = str(exc)
    reconciler = ArtistReconciler(rules).fit(authorities)
    links = reconciler.match_authorities(artists)
    links += reconciler.match_collections(artists, links)
    links = apply_curator_decisions(links, decisions, {a.iri: a for a in artists})
    table = links_dir / "artists.tsv"
    write_links_table(links, table)

    run = LinkingRun(f"{minter.base}linking/artists/{started:%Y%m%dT%H%M%S%fZ}", started,
                     [LinkSource(a.location, a.checksum) for a in authorities if a.checksum])
    store.publish_graphs(lambda out: write_links_nquads(out, minter, links, run), [links_graph(minter)])
    return LinkingReport(run.iri, links_graph(minter), links, coverage(store, artists, links), authorities, table,
                         online_message)


def coverage(store: GraphStore, artists: list[CollectionArtist], links: list[ArtistLink]) -> list[CollectionCoverage]:
    """Per collection: artists with a published link (of each kind), and artworks one of whose
    artists has one."""
    kinds: dict[str, set[str]] = defaultdict(set)
    for link in links:
        if link.published:
            kinds[link.artist].add(link.target_kind)
    for link in links:  # owl:sameAs is symmetric: the other collection's artist is linked too
        if link.published and link.target_kind == "collection":
            kinds[link.target].add("collection")
    _, rows = store.select(load_query("links_artwork_artists").text)
    artworks_of: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        artworks_of[str(row["artwork"])].add(str(row["artist"]))
    collection_of = {a.iri: a.collection for a in artists}
    result = []
    for collection in sorted({a.collection for a in artists}):
        members = [a.iri for a in artists if a.collection == collection]
        works = {w: by for w, by in artworks_of.items()
                 if any(collection_of.get(artist) == collection for artist in by)}
        result.append(CollectionCoverage(
            collection=collection, artists=len(members),
            artists_linked=sum(1 for a in members if kinds.get(a)),
            artists_wikidata=sum(1 for a in members if "wikidata" in kinds.get(a, ())),
            artists_ulan=sum(1 for a in members if "ulan" in kinds.get(a, ())),
            artists_other_collection=sum(1 for a in members if "collection" in kinds.get(a, ())),
            artworks=len(works),
            artworks_covered=sum(1 for by in works.values() if any(kinds.get(a) for a in by)),
            artworks_wikidata=sum(1 for by in works.values() if any("wikidata" in kinds.get(a, ()) for a in by)),
        ))
    return result


def review_sample(links: list[ArtistLink], size: int, seed: int) -> list[ArtistLink]:
    """A seeded random sample of the published links, for a precision check by hand."""
    published = sorted((link for link in links if link.published), key=lambda link: (link.artist, link.target))
    return random.Random(seed).sample(published, min(size, len(published)))


def status_counts(links: list[ArtistLink]) -> Counter:
    return Counter(link.status for link in links)
