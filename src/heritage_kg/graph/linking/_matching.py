"""Matching: each collection artist against the authority records and against the artists of
the other collections, by name and life years. Every pair found is an ArtistLink, published by
the rules or left for a curator."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from heritage_kg.graph.linking._artists import CollectionArtist
from heritage_kg.graph.linking._names import (
    EXACT_NAME, LOOSE_NAME, forenames_compatible, name_keys, names_agree, nationality_key, surname_and_forename,
)
from heritage_kg.graph.linking._years import Years, YearsEvidence, compare_years, years_text
from heritage_kg.sources.authorities import ULAN_ENTITY, WIKIDATA_ENTITY, AuthorityFile, AuthorityRecord


class LinkStatus(StrEnum):
    AUTO = "auto"  # published by the matching rules
    CANDIDATE = "candidate"  # left for a curator
    ACCEPTED = "accepted"  # published by a curator's decision
    REJECTED = "rejected"  # never published, by a curator's decision

    @property
    def published(self) -> bool:
        """Whether a link of this status goes into the links graph."""
        return self in (LinkStatus.AUTO, LinkStatus.ACCEPTED)


class TargetKind(StrEnum):
    WIKIDATA = "wikidata"
    ULAN = "ulan"
    COLLECTION = "collection"  # an artist of another collection

    @classmethod
    def of(cls, target: str) -> TargetKind:
        if target.startswith(WIKIDATA_ENTITY):
            return cls.WIKIDATA
        if target.startswith(ULAN_ENTITY):
            return cls.ULAN
        return cls.COLLECTION


@dataclass(frozen=True)
class ArtistLink:
    """One proposed owl:sameAs pair: a collection artist and a Wikidata entity, a ULAN entity or
    an artist of another collection."""

    artist: str
    artist_name: str
    collection: str
    target: str
    authorities: tuple[str, ...]  # who gave the match: "nga", "moma", "whitney", "wikidata", "tate", "cmoa", "curator"
    score: float
    evidence: str
    status: LinkStatus

    @property
    def target_kind(self) -> TargetKind:
        return TargetKind.of(self.target)

    @property
    def published(self) -> bool:
        return self.status.published


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


NAME_SCORES = {EXACT_NAME: 0.6, LOOSE_NAME: 0.5}


@dataclass(frozen=True)
class Person:
    """One person as matching compares them: an authority record or another collection's artist."""

    identity: str  # records naming the same person share it (their Wikidata id, else their own id)
    label: str  # for the evidence: 'nga 1939 "Joseph Mallord William Turner"'
    name: str | None
    sort_name: str | None
    years: Years
    nationality: str | None
    targets: tuple[str, ...]  # what a match with this person links the artist to
    source: str  # the authority or the collection

    @classmethod
    def from_record(cls, record: AuthorityRecord) -> Person:
        return cls(record.wikidata_id or f"{record.authority}:{record.record_id}",
                   f"{record.authority} {record.record_id} \"{record.name}\"", record.name, record.sort_name,
                   (record.birth_year, record.death_year), record.nationality, tuple(record.target_iris()),
                   record.authority)

    @classmethod
    def from_artist(cls, artist: CollectionArtist) -> Person:
        return cls(artist.iri, f"{artist.collection} \"{artist.label}\"", artist.name, artist.sort_name,
                   artist.years, artist.nationality, (artist.iri,), artist.collection)


class PersonIndex:
    """People by name key, and by surname and forename initial for the looser match."""

    def __init__(self):
        self.exact: dict[str, list[Person]] = defaultdict(list)
        self.loose: dict[str, list[tuple[str, Person]]] = defaultdict(list)

    def add(self, person: Person) -> None:
        for key in name_keys(person.name, person.sort_name):
            self.exact[key].append(person)
        parts = surname_and_forename(person.name, person.sort_name)
        if parts:
            self.loose[f"{parts[0]}|{parts[1][0]}"].append((parts[1], person))

    def lookup(self, name: str | None, sort_name: str | None) -> list[tuple[str, Person]]:
        """(how the names agree, person) for each person of the same name; only where there is
        none, each of the same surname whose first forename agrees."""
        found, seen = [], set()
        for key in name_keys(name, sort_name):
            for person in self.exact.get(key, ()):
                if id(person) not in seen:
                    seen.add(id(person))
                    found.append((EXACT_NAME, person))
        if found:
            return found
        parts = surname_and_forename(name, sort_name)
        if parts:
            for forename, person in self.loose.get(f"{parts[0]}|{parts[1][0]}", ()):
                if id(person) not in seen and forenames_compatible(parts[1], forename):
                    seen.add(id(person))
                    found.append((LOOSE_NAME, person))
        return found


@dataclass(frozen=True)
class _Candidate:
    score: float
    person: Person
    evidence: str
    status: LinkStatus = LinkStatus.CANDIDATE


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
                    index.add(Person.from_record(record))
        return self

    def _candidates(self, artist: CollectionArtist, index: PersonIndex) -> list[_Candidate]:
        """Everyone in `index` whose name and life years are compatible with the artist's."""
        result = []
        for how, person in index.lookup(artist.name, artist.sort_name):
            years = self._compare_years(artist, person.years)
            if not years.compatible or (how == LOOSE_NAME and not years.agreed):
                continue  # a looser name is worth a curator's time only with a life year to back it
            ours = nationality_key(artist.nationality)
            agrees = ours is not None and ours == nationality_key(person.nationality)
            evidence = (f"{person.label} ({years_text(person.years)}): {how}" + "".join(f"; {y}" for y in years.agreed)
                        + ("; nationality agrees" if agrees else ""))
            result.append(_Candidate(self.rules.score(NAME_SCORES[how], years, agrees), person, evidence))
        return result

    def _compare_years(self, artist: CollectionArtist, theirs: Years) -> YearsEvidence:
        birth = artist.birth_year if artist.birth_year is not None else theirs[0]
        return compare_years(artist.years, theirs, self.rules.tolerance_for(birth))

    def _decide(self, candidates: list[_Candidate]) -> list[_Candidate]:
        """The best candidate of one source is published when it clears the threshold and no
        other person scores nearly as well; otherwise every close candidate waits for a curator."""
        if not candidates:
            return []
        candidates = sorted(candidates, key=lambda c: -c.score)
        best = candidates[0]
        rivals = [c for c in candidates[1:] if c.person.identity != best.person.identity and c.score >= best.score - 0.1]
        if rivals:
            note = f"; ambiguous: {len(rivals) + 1} people of this name in {best.person.source}"
            return [replace(c, evidence=c.evidence + note, status=LinkStatus.CANDIDATE) for c in [best, *rivals]]
        status = LinkStatus.AUTO if best.score >= self.rules.threshold else LinkStatus.CANDIDATE
        return [replace(c, status=status) for c in candidates if c.person.identity == best.person.identity]

    # -- against the authorities

    def match_authorities(self, artists: Iterable[CollectionArtist]) -> list[ArtistLink]:
        links: list[ArtistLink] = []
        for artist in artists:
            decided = [c for index in self.indexes_.values() for c in self._decide(self._candidates(artist, index))]
            links.extend(_merge(artist, _by_target(decided)))
        return links

    # -- between collections

    def match_collections(self, artists: list[CollectionArtist],
                          authority_links: list[ArtistLink]) -> list[ArtistLink]:
        """Artists of different collections who are one person: compatible names and years, or
        both linked to the same Wikidata entity with their names or life years agreeing."""
        by_collection: dict[str, list[CollectionArtist]] = defaultdict(list)
        for artist in artists:
            by_collection[artist.collection].append(artist)
        wikidata_of: dict[str, set[str]] = defaultdict(set)
        for link in authority_links:
            if link.status is LinkStatus.AUTO and link.target_kind is TargetKind.WIKIDATA:
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
            index.add(Person.from_artist(artist))
            for qid in wikidata_of.get(artist.iri, ()):
                by_wikidata[qid].append(artist)
        links = []
        for artist in left:
            per_target: dict[str, list[_Candidate]] = defaultdict(list)
            for candidate in self._decide(self._candidates(artist, index)):
                per_target[candidate.person.identity].append(candidate)
            for qid in sorted(wikidata_of.get(artist.iri, ())):
                for other in by_wikidata.get(qid, ()):
                    per_target[other.iri].append(self._shared_identifier(artist, other, qid))
            links.extend(_merge(artist, per_target))
        return links

    def _shared_identifier(self, artist: CollectionArtist, other: CollectionArtist, qid: str) -> _Candidate:
        """Two artists linked to one Wikidata entity are one person only where their names or
        their life years agree as well: an authority's row can carry another person's ids."""
        how = names_agree((artist.name, artist.sort_name), (other.name, other.sort_name))
        years = self._compare_years(artist, other.years)
        agrees = years.compatible and (how is not None or bool(years.agreed))
        evidence = (f"{other.collection} \"{other.label}\" ({years_text(other.years)}): both linked to {qid}"
                    + (f"; {how}" if how else "") + "".join(f"; {y}" for y in years.agreed))
        if not agrees:
            evidence += ("; held back: life years disagree (" + ", ".join(years.conflicts) + ")" if years.conflicts
                         else "; held back: neither the names nor the life years agree")
        return _Candidate(self.rules.threshold, Person.from_artist(other), evidence,
                          LinkStatus.AUTO if agrees else LinkStatus.CANDIDATE)


def _by_target(candidates: list[_Candidate]) -> dict[str, list[_Candidate]]:
    """The candidates giving each identifier, with the conflicts held back. One artist is one
    Wikidata entity and one ULAN record: where the published records give different identifiers
    of one kind, the one with the best evidence (score, then the number of authorities giving
    it) is kept and, on a tie, none is. A record that gave a losing identifier is wrong
    somewhere, so its other identifiers are held back too unless another authority gives them
    as well: MoMA's row for Russell Lee carries Dorothea Lange's Wikidata and ULAN ids."""
    published = [c for c in candidates if c.status is LinkStatus.AUTO]
    losing: dict[str, list[str]] = {}  # identifier -> the identifiers of its kind it conflicts with
    for kind in (TargetKind.WIKIDATA, TargetKind.ULAN):
        support: dict[str, list[_Candidate]] = defaultdict(list)
        for candidate in published:
            for target in candidate.person.targets:
                if TargetKind.of(target) is kind:
                    support[target].append(candidate)
        if len(support) < 2:
            continue
        strength = {target: (max(c.score for c in given), len({c.person.source for c in given}))
                    for target, given in support.items()}
        ranked = sorted(strength, key=strength.get, reverse=True)
        winner = ranked[0] if strength[ranked[0]] != strength[ranked[1]] else None
        losing.update({target: sorted(set(support) - {target}) for target in support if target != winner})

    per_target: dict[str, list[_Candidate]] = defaultdict(list)
    for candidate in candidates:
        for target in candidate.person.targets:
            per_target[target].append(candidate)
    for target, given in per_target.items():
        backers = [c for c in given if c.status is LinkStatus.AUTO]
        if target in losing:
            reason = f"conflicts with {', '.join(losing[target])}"
        elif backers and len({c.person.source for c in backers}) < 2 and all(
                any(t in losing for t in c.person.targets) for c in backers):
            reason = "its record's " + ", ".join(f"{t} conflicts with {', '.join(losing[t])}"
                                                 for c in backers for t in c.person.targets if t in losing)
        else:
            continue
        per_target[target] = [replace(c, status=LinkStatus.CANDIDATE, evidence=f"{c.evidence}; held back: {reason}")
                              if c.status is LinkStatus.AUTO else c for c in given]
    return per_target


def _merge(artist: CollectionArtist, per_target: dict[str, list[_Candidate]]) -> list[ArtistLink]:
    """One link per target: published if any source published it, with every source's evidence."""
    links = []
    for target, candidates in per_target.items():
        published = [c for c in candidates if c.status is LinkStatus.AUTO]
        chosen = sorted(published or candidates, key=lambda c: -c.score)
        links.append(ArtistLink(
            artist=artist.iri, artist_name=artist.label, collection=artist.collection, target=target,
            authorities=tuple(sorted({c.person.source for c in chosen})), score=chosen[0].score,
            evidence=" | ".join(dict.fromkeys(c.evidence for c in chosen)),
            status=LinkStatus.AUTO if published else LinkStatus.CANDIDATE))
    return links
