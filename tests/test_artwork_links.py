"""Artworks linked across collections: on a real slice of Tate and CMOA (David Lucas's mezzotints
after John Constable, in both collections, among other works), links rank by the same artist
through owl:sameAs, subjects (predicted ones weighted by confidence, rejected ones not at all)
and title similarity, each with its score and reasons; `link-artworks` writes and replaces its
graph, which conforms to the shapes; the endpoint answers 4xx to bad requests; and the links
checked by hand on the whole real collections are still produced."""

from __future__ import annotations

import csv
import json
import re
import zipfile
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, Literal, URIRef
from typer.testing import CliRunner

from api.app import create_app
from heritage_kg.cli import app
from heritage_kg.config import Settings, get_settings
from heritage_kg.errors import FeatureError, LinkingError, ResourceNotFoundError
from heritage_kg.graph.build import build_graph
from heritage_kg.graph.linking import link_artists
from heritage_kg.graph.namespaces import HK, PROV, RDF, Minter
from heritage_kg.graph.queries import load_query
from heritage_kg.graph.store import open_store
from heritage_kg.graph.validation import load_shapes, validate_graph
from heritage_kg.inference.linking import (
    MAX_LINKS, WEIGHTS, ArtworkLinker, artwork_links_graph, title_table_name,
)
from heritage_kg.learning.features.text import embed_titles
from conftest import CMOA_ZIP, ROOT, TATE_ZIP, require_real_data

BASE = "https://w3id.org/heritage-kg/"
MINTER = Minter(BASE)
SAMPLE = ROOT / "kg" / "links" / "artwork-precision-sample.tsv"
PREDICTIONS = BASE + "graph/predictions/test-links-run"
REVIEWS = BASE + "graph/curator/test-links-reviews"
# the artists of the slice, by name: its records are read from the real archives
SLICE_ARTISTS = ("David Lucas", "John Constable")


def _key(title: str) -> str:
    return " ".join(title.lower().split())


class RealSlice:
    """A store built from real records: what the test knows about them comes from their JSON."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.location = str(folder / "store")
        self.features = folder / "features"
        self.tate: dict[str, dict] = {}  # artwork IRI -> the Tate record
        self.cmoa: dict[str, dict] = {}
        self.tate_artists: dict[str, dict] = {}  # artist IRI -> the Tate artist record
        self.same_person: set[tuple[str, str]] = set()  # (CMOA artist IRI, Tate artist IRI)

    def tate_creators(self, artwork: str) -> set[str]:
        return {MINTER.artist("tate", str(c["id"])) for c in self.tate[artwork].get("contributors") or []}

    def cmoa_creators(self, artwork: str) -> set[str]:
        return {MINTER.artist("cmoa", c["artist_id"].rsplit("/", 1)[-1]) for c in self.cmoa[artwork].get("creator") or []}


def _write(folder: Path, name: str, data: bytes) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.fixture(scope="module")
def real_slice(tmp_path_factory) -> RealSlice:
    """Tate: every work by David Lucas, 40 more by Constable, 120 others; CMOA: every object by
    either, 60 others. Built into a store, its artists linked (names and life years, no authority
    files), both collections' titles encoded."""
    require_real_data(TATE_ZIP, CMOA_ZIP)
    found = RealSlice(tmp_path_factory.mktemp("real-slice"))
    tate_dir, cmoa_dir = found.folder / "tate", found.folder / "cmoa"
    with zipfile.ZipFile(TATE_ZIP) as archive:
        names = sorted(archive.namelist())
        artist_files = {int(m.group(1)): n for n in names if (m := re.search(r"/artists/.*-(\d+)\.json$", n))}
        for name in names:
            if "/processed/subjects/" in name and name.endswith("list.json"):
                _write(tate_dir, name, archive.read(name))
        constable, others = 0, 0
        for name in names:
            if "/artworks/" not in name or not name.endswith(".json"):
                continue
            record = json.loads(archive.read(name))
            by = {c.get("fc") for c in record.get("contributors") or []}
            if "David Lucas" in by:
                keep = True
            elif "John Constable" in by:
                keep, constable = constable < 40, constable + 1
            else:
                keep, others = others < 120 and bool(record.get("subjects")), others + bool(record.get("subjects"))
            if keep:
                _write(tate_dir, name, archive.read(name))
                found.tate[MINTER.artwork("tate", record["acno"])] = record
        for artist_id in {c["id"] for r in found.tate.values() for c in r.get("contributors") or []}:
            data = archive.read(artist_files[artist_id])
            _write(tate_dir, artist_files[artist_id], data)
            found.tate_artists[MINTER.artist("tate", str(artist_id))] = json.loads(data)
    with zipfile.ZipFile(CMOA_ZIP) as archive:
        others = 0
        for name in sorted(archive.namelist()):
            if not name.endswith(".json"):
                continue
            record = json.loads(archive.read(name))
            mine = any(c.get("full_name") in SLICE_ARTISTS for c in record.get("creator") or [])
            if mine or (others < 60 and record.get("title")):
                others += not mine
                _write(cmoa_dir, name, archive.read(name))
                found.cmoa[MINTER.artwork("cmoa", record["accession_number"])] = record
    # the same person, told by the records alone: one name, the same birth and death years
    tate_people = {(a["fc"], a.get("birthYear"), ((a.get("death") or {}).get("time") or {}).get("startYear")): iri
                   for iri, a in found.tate_artists.items()}
    for record in found.cmoa.values():
        for c in record.get("creator") or []:
            years = tuple(int(c[k][:4]) if c.get(k) else None for k in ("birth_date", "death_date"))
            if (c["full_name"], *years) in tate_people:
                found.same_person.add((MINTER.artist("cmoa", c["artist_id"].rsplit("/", 1)[-1]),
                                       tate_people[(c["full_name"], *years)]))
    assert {name for name in SLICE_ARTISTS} <= {found.tate_artists[t]["fc"] for _, t in found.same_person}

    with open_store(found.location) as store:
        build_graph(store, "tate", str(tate_dir))
        build_graph(store, "cmoa", str(cmoa_dir))
        link_artists(store, base_iri=BASE, links_dir=found.folder / "links", authorities_dir=None)
        ArtworkLinker(store, base_iri=BASE, features_dir=found.features, encode_titles=True).space("tate")
        ArtworkLinker(store, base_iri=BASE, features_dir=found.features, encode_titles=True).space("cmoa")
    return found


@pytest.fixture
def linker(real_slice):
    with open_store(real_slice.location, read_only=True) as store:
        yield ArtworkLinker(store, base_iri=BASE, features_dir=real_slice.features)


def _twins(real_slice: RealSlice) -> dict[str, set[str]]:
    """CMOA objects with a Tate work of the same title by the same person, told by the records."""
    twins = defaultdict(set)
    for cmoa, record in real_slice.cmoa.items():
        people = {t for c, t in real_slice.same_person if c in real_slice.cmoa_creators(cmoa)}
        for tate, other in real_slice.tate.items():
            if _key(other["title"]) == _key(record["title"]) and people & real_slice.tate_creators(tate):
                twins[cmoa].add(tate)
    return dict(twins)


def _assert_scores_add_up(links):
    for link in links:
        assert 0 <= link.artist <= 1 and 0 <= link.subjects <= 1 and 0 <= link.title <= 1
        assert link.score == pytest.approx(WEIGHTS.artist * link.artist + WEIGHTS.subjects * link.subjects
                                           + WEIGHTS.title * link.title, abs=1e-5)
    assert [link.score for link in links] == sorted((link.score for link in links), reverse=True)


# ------------------------------------------------------------------ ranking, on the real slice

@pytest.mark.realdata
def test_a_print_in_both_collections_is_linked_first_by_its_artist_and_title(real_slice, linker):
    twins = _twins(real_slice)
    assert len(twins) >= 5  # Lucas's mezzotints after Constable: several impressions in both
    for cmoa, tate_twins in sorted(twins.items())[:5]:
        links = linker.links(cmoa, to="tate", k=10)
        _assert_scores_add_up(links)
        assert len(links) == 10 and all(link.target.startswith(BASE + "tate/artwork/") for link in links)
        first = links[0]
        assert first.target in tate_twins and first.title == pytest.approx(1.0, abs=1e-5)
        assert first.subjects == 0  # CMOA has no subjects of its own, and no prediction was written
        # the reason names the very artists the records say are one person, joined by owl:sameAs
        same = first.same_artist
        assert (same.artist, same.target_artist) in real_slice.same_person
        assert same.artist in real_slice.cmoa_creators(cmoa) and same.target_artist in real_slice.tate_creators(first.target)
        assert same.target_artist_name == real_slice.tate_artists[same.target_artist]["fc"]
        assert 0.75 <= same.match_score <= 1 and first.artist == same.match_score
        assert "same artist: " in first.evidence and "title similarity 1.00" in first.evidence
        # every link by the same person says so; every other link has no artist part
        for link in links:
            shared = {t for c, t in real_slice.same_person if c in real_slice.cmoa_creators(cmoa)}
            assert (link.same_artist is not None) == bool(shared & real_slice.tate_creators(link.target))
            assert (link.artist > 0) == (link.same_artist is not None)


@pytest.mark.realdata
def test_links_run_both_ways_and_for_a_description(real_slice, linker):
    twins = _twins(real_slice)
    cmoa, tate_twins = sorted(twins.items())[0]
    tate = sorted(tate_twins)[0]
    back = linker.links(tate, to="cmoa", k=5)
    _assert_scores_add_up(back)
    assert back[0].title == pytest.approx(1.0, abs=1e-5) and back[0].same_artist is not None
    assert _key(real_slice.cmoa[back[0].target]["title"]) == _key(real_slice.tate[tate]["title"])
    # what /classify asks for a new artwork: the title and the artist's IRI, nothing in the graph
    described = linker.links_for_description(to="tate", k=10, title=real_slice.cmoa[cmoa]["title"],
                                             artists=sorted(real_slice.cmoa_creators(cmoa)))
    assert described[0].artwork is None and described[0].target in tate_twins
    assert [(d.target, d.score) for d in described] == [(d.target, d.score) for d in linker.links(cmoa, to="tate", k=10)]
    # what /classify?links=true calls: an artwork in the graph, or a description with the model's subjects
    assert linker.links_for_prediction(SimpleNamespace(artwork=cmoa, subjects=[]), k=10) == {
        "tate": linker.links(cmoa, to="tate", k=10)}
    said = [SimpleNamespace(concept=MINTER.subject("tate", "1"), probability=0.9, predicted=False)]
    by_collection = linker.links_for_prediction(SimpleNamespace(artwork=None, subjects=said), k=10,
                                                title=real_slice.cmoa[cmoa]["title"],
                                                artists=sorted(real_slice.cmoa_creators(cmoa)))
    assert [(d.target, d.score) for d in by_collection["tate"]] == [(d.target, d.score) for d in described]
    assert set(by_collection) == {"tate", "cmoa"}
    # a placeholder title carries no evidence; an unknown artist none either
    assert linker.links_for_description(to="tate", k=3, title="[title not known]", artists=[BASE + "cmoa/artist/x"]) == []


def _leaves(record: dict) -> dict[str, str]:
    """A Tate record's subject tree: every concept id with its name, and each one's parent id."""
    names, parents = {}, {}

    def walk(node, parent):
        for child in node.get("children") or []:
            names[str(child["id"])], parents[str(child["id"])] = child["name"], parent
            walk(child, str(child["id"]))
    walk(record.get("subjects") or {}, None)
    return names, parents


@pytest.mark.realdata
def test_predicted_subjects_link_by_confidence_and_rejected_ones_do_not(real_slice):
    # a CMOA object by nobody of the slice's Tate artists, and a Tate work with three subjects or more
    loner = next(iri for iri in sorted(real_slice.cmoa)
                 if not {c for c, _ in real_slice.same_person} & real_slice.cmoa_creators(iri))
    tate, (names, parents) = next((iri, _leaves(r)) for iri, r in sorted(real_slice.tate.items())
                                  if sum(1 for c in _leaves(r)[1] if c not in _leaves(r)[1].values()) >= 3)
    leaves = sorted(c for c in parents if c not in parents.values())
    confidence = {leaf: (0.9 if n == 0 else 0.6) for n, leaf in enumerate(leaves)}
    expected = defaultdict(float)  # a concept weighs the most confident prediction at or below it
    for leaf, value in confidence.items():
        concept = leaf
        while concept is not None:
            expected[concept] = max(expected[concept], value)
            concept = parents[concept]
    run = BASE + "classification/test-links-run"
    statements = [f"<{run}> a <{HK}ClassificationRun> ."]
    for n, leaf in enumerate(leaves):
        prediction = f"{BASE}prediction/test-links-run/{n}"
        statements.append(f"<{prediction}> a <{HK}SubjectPrediction> ; <{HK}predictionFor> <{loner}> ; "
                          f"<{HK}predictedSubject> <{MINTER.subject('tate', leaf)}> ; "
                          f"<{HK}confidence> {Literal(confidence[leaf]).n3()} ; <{PROV}wasGeneratedBy> <{run}> .")
    with open_store(real_slice.location) as store:
        store.update(f"INSERT DATA {{ GRAPH <{PREDICTIONS}> {{ {' '.join(statements)} }} }}")
    try:
        with open_store(real_slice.location, read_only=True) as store:
            linker = ArtworkLinker(store, base_iri=BASE, features_dir=real_slice.features)
            links = linker.links(loner, to="tate", k=MAX_LINKS)
            _assert_scores_add_up(links)
            mine = next(link for link in links if link.target == tate)
            assert 0 < mine.subjects < 1 and mine.same_artist is None
            rejected = MINTER.subject("tate", leaves[0])
            assert rejected in {c.concept for c in mine.shared_concepts}
            for shared in mine.shared_concepts:
                concept = shared.concept.rsplit("/", 1)[-1]
                assert shared.label == names[concept]
                assert shared.weight == pytest.approx(expected[concept], abs=1e-4) and shared.target_weight == 1.0
            assert f"shared subjects {mine.subjects:.2f}: " in mine.evidence

            # a curator rejects the most confident prediction: it no longer counts
            with open_store(real_slice.location) as writer:
                writer.update(f"INSERT DATA {{ GRAPH <{REVIEWS}> {{ <{BASE}review/test-links> "
                              f"<{HK}reviewOf> <{BASE}prediction/test-links-run/0> ; <{HK}verdict> \"rejected\" . }} }}")
            again = {link.target: link for link in linker.links(loner, to="tate", k=MAX_LINKS)}
            assert again[tate].subjects != mine.subjects
            assert rejected not in {c.concept for link in again.values() for c in link.shared_concepts}
    finally:
        with open_store(real_slice.location) as store:
            store.update(f"DROP SILENT GRAPH <{PREDICTIONS}> ; DROP SILENT GRAPH <{REVIEWS}>")


@pytest.mark.realdata
def test_bad_requests_are_typed_errors(real_slice, linker, tmp_path):
    cmoa = sorted(real_slice.cmoa)[0]
    with pytest.raises(LinkingError, match="another collection"):
        linker.links(cmoa, to="cmoa")
    with pytest.raises(LinkingError, match="unknown collection"):
        linker.links(cmoa, to="louvre")
    with pytest.raises(LinkingError, match="from 1 to 100"):
        linker.links(cmoa, to="tate", k=0)
    with pytest.raises(ResourceNotFoundError, match="no artwork"):
        linker.links(MINTER.artwork("cmoa", "no-such-object"), to="tate")
    with open_store(real_slice.location, read_only=True) as store:
        without_titles = ArtworkLinker(store, base_iri=BASE, features_dir=tmp_path / "no-features")
        with pytest.raises(FeatureError, match="link-artworks --from cmoa"):
            without_titles.links(cmoa, to="tate")


# ------------------------------------------------------------------ the links graph

def _matches(location: str) -> dict[str, tuple[str, str, float]]:
    with open_store(location, read_only=True) as store:
        _, rows = store.select(
            f"SELECT ?m ?s ?t ?score WHERE {{ GRAPH <{artwork_links_graph(MINTER)}> {{ ?m a <{HK}ArtworkMatch> ; "
            f"<{HK}matchSubject> ?s ; <{HK}matchTarget> ?t ; <{HK}score> ?score }} }}")
        return {str(r["m"]): (str(r["s"]), str(r["t"]), float(r["score"])) for r in rows}


def _runs(location: str) -> dict[str, int]:
    with open_store(location, read_only=True) as store:
        _, rows = store.select(f"SELECT ?run ?n WHERE {{ GRAPH <{artwork_links_graph(MINTER)}> {{ "
                               f"?run a <{HK}ArtworkLinkingRun> ; <{HK}linkCount> ?n }} }}")
        return {str(r["run"]): int(r["n"]) for r in rows}


def _link_command(real_slice, monkeypatch, *args):
    monkeypatch.setenv("HERITAGE_KG_FEATURES_DIR", str(real_slice.features))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["link-artworks", "--store", real_slice.location, *args])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.realdata
def test_link_artworks_writes_and_replaces_its_graph(real_slice, monkeypatch, tmp_path):
    output = _link_command(real_slice, monkeypatch, "--from", "cmoa", "--to", "tate", "--k", "3",
                           "--sample", str(tmp_path / "sample.tsv"), "--sample-size", "4")
    first = _matches(real_slice.location)
    by_subject = defaultdict(list)
    for subject, target, score in first.values():
        by_subject[subject].append(score)
        assert subject in real_slice.cmoa and target in real_slice.tate and 0.4 <= score <= 1
    assert max(len(scores) for scores in by_subject.values()) == 3
    # every CMOA object by a same-as artist has a link (0.5 for the artist alone, whose name and both
    # life years agree); no other one has (its title, at most 0.2, cannot reach the minimum, 0.4)
    by_same = {iri for iri in real_slice.cmoa if {c for c, _ in real_slice.same_person} & real_slice.cmoa_creators(iri)}
    assert set(by_subject) == by_same
    assert f"{len(by_same):,} of {len(real_slice.cmoa):,} cmoa artworks" in output
    [(run, count)] = _runs(real_slice.location).items()
    assert count == len(first)
    with open(tmp_path / "sample.tsv", encoding="utf-8") as handle:
        sample = list(csv.DictReader(handle, delimiter="\t"))
    assert len(sample) == 4 and all((row["artwork"], row["target"]) in {(s, t) for s, t, _ in first.values()}
                                    for row in sample)
    assert all(row["title"] == real_slice.cmoa[row["artwork"]]["title"] for row in sample)

    # the other way round: both directions are kept, each with its run
    _link_command(real_slice, monkeypatch, "--from", "tate", "--to", "cmoa", "--k", "2")
    both = _matches(real_slice.location)
    back = {m: v for m, v in both.items() if v[0] in real_slice.tate}
    assert back and {m: v for m, v in both.items() if m not in back} == first and len(_runs(real_slice.location)) == 2

    # a rerun of the first direction with k=1 replaces its links, and only them
    _link_command(real_slice, monkeypatch, "--from", "cmoa", "--to", "tate", "--k", "1")
    after = _matches(real_slice.location)
    rerun = {m: v for m, v in after.items() if v[0] in real_slice.cmoa}
    assert {m: v for m, v in after.items() if m not in rerun} == back
    assert len(rerun) == len(by_same) and set(rerun) <= set(first)  # the best of each, same IRIs
    runs = _runs(real_slice.location)
    assert run not in runs and len(runs) == 2

    # the graph conforms to the shapes, with what its matches point at; the pages' query reads it
    with open_store(real_slice.location, read_only=True) as store:
        data = Graph()
        graph = artwork_links_graph(MINTER)
        for triple in store.construct(
                f"CONSTRUCT {{ ?s ?p ?o . ?x a ?type }} WHERE {{ {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} UNION "
                f"{{ GRAPH <{graph}> {{ ?m <{HK}matchSubject>|<{HK}matchTarget>|<{PROV}used> ?x }} ?x a ?type }} }}"):
            data.add(triple)
        shapes = Graph()
        for shape in ("ArtworkMatchShape", "ArtworkLinkingRunShape"):
            for triple in load_shapes().cbd(URIRef(f"https://w3id.org/heritage-kg/shapes#{shape}")):
                shapes.add(triple)
        conforms, violations = validate_graph(data, shapes)
        assert conforms, violations[:5]
        match = URIRef(next(iter(rerun)))
        data.remove((match, URIRef(HK + "evidence"), None))
        [violation] = validate_graph(data, shapes)[1]
        assert violation.startswith(f"{match} {HK}evidence: Less than 1 values")
        subject, target, score = next(iter(rerun.values()))
        query = load_query("artwork_links")
        for artwork, other in ((subject, target), (target, subject)):
            _, rows = store.select(query.text, query.bindings({"artwork": URIRef(artwork)}))
            row = next(r for r in rows if str(r["target"]) == other)
            assert float(row["score"]) == pytest.approx(score) and "same artist" in str(row["evidence"])
    assert (URIRef(next(iter(runs))), URIRef(RDF + "type"), URIRef(HK + "ArtworkLinkingRun")) in data


@pytest.mark.realdata
def test_link_artworks_refuses_bad_options(real_slice, monkeypatch):
    for args, message in ((["--from", "tate", "--to", "tate"], "another collection"),
                          (["--from", "cmoa", "--to", "louvre"], "unknown collection 'louvre'"),
                          (["--from", "cmoa", "--to", "tate", "--k", "101"], "from 1 to 100"),
                          (["--from", "cmoa", "--to", "tate", "--min-score", "2"], "from 0 to 1")):
        before = _matches(real_slice.location)
        result = CliRunner().invoke(app, ["link-artworks", "--store", real_slice.location, *args])
        assert result.exit_code == 2 and message in result.output, result.output
        assert _matches(real_slice.location) == before


# ------------------------------------------------------------------ the endpoint

@pytest.fixture(scope="module")
def client(real_slice):
    return TestClient(create_app(Settings(store=real_slice.location, features_dir=real_slice.features)))


@pytest.mark.realdata
def test_the_endpoint_ranks_with_reasons(real_slice, client, linker):
    cmoa, tate_twins = sorted(_twins(real_slice).items())[0]
    accession = real_slice.cmoa[cmoa]["accession_number"]
    answer = client.get(f"/artworks/cmoa/{accession}/links", params={"to": "tate", "k": 3})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["artwork"] == cmoa and body["to"] == "tate" and len(body["links"]) == 3
    top = body["links"][0]
    assert top["target"] in tate_twins and top["title"] == real_slice.tate[top["target"]]["title"]
    assert top["reasons"]["same_artist"]["target_artist"] in real_slice.tate_creators(top["target"])
    assert [(link["target"], link["score"]) for link in body["links"]] == \
        [(link.target, link.score) for link in linker.links(cmoa, to="tate", k=3)]
    assert "/artworks/{collection}/{artwork_id}/links" in client.get("/openapi.json").json()["paths"]


@pytest.mark.realdata
def test_the_endpoint_answers_bad_requests_with_4xx(real_slice, client):
    accession = real_slice.cmoa[sorted(real_slice.cmoa)[0]]["accession_number"]
    cases = {
        ("/artworks/cmoa/no-such-object/links", "tate", "3"): 404,
        ("/artworks/louvre/1/links", "tate", "3"): 404,
        (f"/artworks/cmoa/{accession}/links", "cmoa", "3"): 400,
        (f"/artworks/cmoa/{accession}/links", "louvre", "3"): 422,
        (f"/artworks/cmoa/{accession}/links", "tate", "0"): 422,
        (f"/artworks/cmoa/{accession}/links", "tate", "101"): 422,
        (f"/artworks/cmoa/{accession}/links", "tate", "ten"): 422,
    }
    for (path, to, k), status in cases.items():
        answer = client.get(path, params={"to": to, "k": k})
        assert answer.status_code == status, (path, to, k, answer.text)
        assert answer.json()["detail"]
    assert client.get(f"/artworks/cmoa/{accession}/links").status_code == 422  # `to` is required


# ------------------------------------------------------------------ the links checked by hand

@pytest.mark.realdata
def test_the_links_checked_by_hand_are_still_produced(real_store, real_links, tmp_path):
    """The sample of kg/links/artwork-precision-sample.tsv, drawn from a whole CMOA -> Tate run:
    each link is still among its artwork's best. Only the sampled titles are encoded: every other
    candidate then has no title evidence, so it can only score lower than in the whole run, and a
    sampled link that made the run's top k still does."""
    with open(SAMPLE, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert len(rows) >= 40 and {row["verdict"] for row in rows} <= {"right", "wrong"}
    _, records = real_store.select(
        f"SELECT ?artwork ?title WHERE {{ VALUES ?artwork {{ {' '.join(f'<{r[k]}>' for r in rows for k in ('artwork', 'target'))} }} "
        f"?artwork <{HK}title> ?title }}")
    titles = {str(r["artwork"]): str(r["title"]) for r in records}
    for collection in ("cmoa", "tate"):
        mine = sorted(iri for iri in titles if iri.startswith(BASE + collection))
        embed_titles(mine, [titles[iri] for iri in mine], dataset=title_table_name(collection), features_dir=tmp_path)
    linker = ArtworkLinker(real_store, base_iri=get_settings().base_iri, features_dir=tmp_path)
    for row in rows:
        links = {link.target: link for link in linker.links(row["artwork"], to="tate", k=int(row["k"]))}
        assert row["target"] in links, row
        assert links[row["target"]].score == pytest.approx(float(row["score"]), abs=1e-3)


@pytest.mark.realdata
def test_classify_with_links_true_ranks_as_the_links_endpoint(real_slice, linker, tmp_path_factory):
    from classify_models import synthetic_classifiers

    classifiers = synthetic_classifiers(tmp_path_factory.mktemp("links-classify"), count=60)
    client = TestClient(create_app(Settings(store=real_slice.location, features_dir=real_slice.features,
                                            models_dir=classifiers.models, default_model="meta")))
    cmoa, tate_twins = sorted(_twins(real_slice).items())[0]
    answer = client.post("/classify", data={"artwork": cmoa}, params={"links": "true"})
    assert answer.status_code == 200, answer.text
    links = answer.json()["links"]
    assert set(links) == {"tate"}  # every collection but the artwork's own
    assert [(link["target"], link["score"]) for link in links["tate"]] == \
        [(link.target, link.score) for link in linker.links(cmoa, to="tate", k=10)]
    assert links["tate"][0]["target"] in tate_twins
    # A description links into every collection; its title alone finds the works of that title.
    title = real_slice.tate[sorted(tate_twins)[0]]["title"]
    described = client.post("/classify", data={"title": title}, params={"links": "true"}).json()["links"]
    assert set(described) == {"tate", "cmoa"}
    top = described["tate"][0]
    assert _key(top["title"]) == _key(title) and top["reasons"]["title"] == pytest.approx(1.0)
    assert client.post("/classify", data={"artwork": cmoa}).json()["links"] is None  # only when asked
