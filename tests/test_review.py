"""Curators' review of predictions over the API (POST /review, GET /review): an accepted
prediction becomes a curator annotation attributed to the curator and derived from the
prediction, a rejection a negative judgement, a second verdict replaces the first, bad requests
get a 4xx and change nothing, the queue puts the least sure and least exemplified first, and a
review racing a write-back of the same artwork leaves the graph consistent."""

from __future__ import annotations

import math
import multiprocessing

import pytest
from conftest import store_of_fixtures
from fastapi.testclient import TestClient
from prediction_runs import BASE, TATE, write_run, write_runs

from api.app import create_app
from heritage_kg.config import Settings
from heritage_kg.errors import ResourceNotFoundError
from heritage_kg.graph.store import open_store
from heritage_kg.graph.validation import validate_store
from heritage_kg.inference.review import artwork_predictions, record_review, reviews_graph

HK = "https://w3id.org/heritage-kg/ontology#"
PROV = "http://www.w3.org/ns/prov#"
REVIEWS = reviews_graph(BASE)
TOKEN = "curator-token"
P00003, T00005, N00530 = TATE + "artwork/P00003", TATE + "artwork/T00005", TATE + "artwork/N00530"
CMOA_OBJECT = BASE + "cmoa/artwork/99.4"
PEOPLE, ADULTS, MAN, WOMAN = (TATE + f"subject/{n}" for n in (91, 95, 195, 167))
NATURE, OAK, SNOW = TATE + "subject/60", TATE + "subject/1076", TATE + "subject/218"


def fixture_store_at(folder):
    return store_of_fixtures(folder / "store")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """A service with updates on over a fixture store of its own holding one run of model m1."""
    store = fixture_store_at(tmp_path_factory.mktemp("review-store"))
    run = write_run(store, "m1", [(P00003, MAN, 0.9), (P00003, ADULTS, 0.55), (P00003, PEOPLE, 0.97),
                                  (T00005, WOMAN, 0.5), (T00005, PEOPLE, 0.99), (CMOA_OBJECT, SNOW, 0.7),
                                  (CMOA_OBJECT, NATURE, 0.8), (N00530, WOMAN, 0.3)])
    store.close()
    settings = Settings(store=store.location, update_token=TOKEN, sparql_workers=2)
    with TestClient(create_app(settings)) as client:
        client.run = run
        yield client


def post_review(client, prediction: str, verdict: str, curator: str = "ada", token: str | None = TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/review", json={"prediction": prediction, "verdict": verdict, "curator": curator},
                       headers=headers)


def rows(client, query: str) -> list[dict]:
    answer = client.get("/sparql", params={"query": f"PREFIX hk: <{HK}> PREFIX prov: <{PROV}> {query}"},
                        headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200, answer.text
    return [{k: v["value"] for k, v in b.items()} for b in answer.json()["results"]["bindings"]]


def curator_annotations(client) -> set[tuple[str, str]]:
    return {(r["a"], r["c"]) for r in rows(client, f"SELECT ?a ?c WHERE {{ GRAPH <{REVIEWS}> {{ ?a hk:subject ?c }} }}")}


def reviews_of(client, artwork: str, concept: str) -> list[dict]:
    return rows(client, f"""SELECT ?review ?verdict ?curator ?derived ?of ?time WHERE {{ GRAPH <{REVIEWS}> {{
        ?review a hk:SubjectReview ; hk:reviewedArtwork <{artwork}> ; hk:reviewedSubject <{concept}> ;
                hk:verdict ?verdict ; prov:wasAttributedTo ?curator ; prov:wasDerivedFrom ?derived ;
                hk:reviewOf ?of ; prov:generatedAtTime ?time }} }}""")


def test_an_accepted_prediction_becomes_a_curator_annotation_derived_from_it(service):
    prediction = service.run[(P00003, MAN)]
    answer = post_review(service, prediction, "accepted", curator="ada")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["artwork"], body["concept"], body["verdict"]) == (P00003, MAN, "accepted")
    assert body["curator"] == BASE + "agent/curator/ada" and body["review"].startswith(BASE + "review/")
    assert (P00003, MAN) in curator_annotations(service)
    [review] = reviews_of(service, P00003, MAN)
    assert review == {"review": body["review"], "verdict": "accepted", "curator": BASE + "agent/curator/ada",
                      "derived": prediction, "of": prediction, "time": review["time"]}
    # the prediction itself is untouched, and is still no hk:subject of its own graph
    assert rows(service, f"SELECT ?g WHERE {{ GRAPH ?g {{ <{P00003}> hk:subject <{MAN}> }} }}") == [{"g": REVIEWS}]


def test_a_rejection_is_a_negative_judgement_and_no_annotation(service):
    answer = post_review(service, service.run[(T00005, WOMAN)], "rejected", curator="ben")
    assert answer.status_code == 200, answer.text
    assert (T00005, WOMAN) not in curator_annotations(service)
    [review] = reviews_of(service, T00005, WOMAN)
    assert review["verdict"] == "rejected" and review["curator"] == BASE + "agent/curator/ben"


def test_reviewing_again_replaces_the_curators_earlier_verdict(service):
    prediction = service.run[(CMOA_OBJECT, SNOW)]
    assert post_review(service, prediction, "accepted", curator="cy").status_code == 200
    assert (CMOA_OBJECT, SNOW) in curator_annotations(service)  # a CMOA object gets a Tate subject
    assert post_review(service, prediction, "rejected", curator="cy").status_code == 200
    assert (CMOA_OBJECT, SNOW) not in curator_annotations(service)
    assert [r["verdict"] for r in reviews_of(service, CMOA_OBJECT, SNOW)] == ["rejected"]
    assert post_review(service, prediction, "accepted", curator="cy").status_code == 200
    assert [r["verdict"] for r in reviews_of(service, CMOA_OBJECT, SNOW)] == ["accepted"]
    assert (CMOA_OBJECT, SNOW) in curator_annotations(service)


def test_another_curators_rejection_leaves_an_accepted_annotation_standing(service):
    prediction = service.run[(CMOA_OBJECT, NATURE)]
    assert post_review(service, prediction, "accepted", curator="dee").status_code == 200
    assert post_review(service, prediction, "rejected", curator="eve").status_code == 200
    assert sorted(r["verdict"] for r in reviews_of(service, CMOA_OBJECT, NATURE)) == ["accepted", "rejected"]
    assert (CMOA_OBJECT, NATURE) in curator_annotations(service)
    assert post_review(service, prediction, "rejected", curator="dee").status_code == 200
    assert (CMOA_OBJECT, NATURE) not in curator_annotations(service)


def test_the_reviews_conform_to_the_shapes(service):
    report = validate_store(open_store(service.app.state.settings.store, read_only=True))
    assert report.checked[HK + "SubjectReview"] >= 5
    assert report.conforms, report.violations


@pytest.mark.parametrize(("change", "status", "reason"), [
    ({"token": None}, 401, "Bearer"),
    ({"token": "guess"}, 403, "token is wrong"),
    ({"prediction": BASE + "prediction/nothing/0"}, 404, "holds no prediction"),
    ({"prediction": TATE + "artwork/P00003"}, 404, "not a prediction"),
    ({"prediction": BASE + "prediction/x> } } ; DROP ALL ; INSERT DATA { GRAPH <x> { <a> <b> <c"}, 404, "not a prediction"),
    ({"verdict": "maybe"}, 422, "verdict"),
    ({"curator": "ada lovelace"}, 422, "curator"),
    ({"curator": "../../graph/tate"}, 422, "curator"),
])
def test_bad_reviews_get_a_clear_4xx_and_change_nothing(service, change, status, reason):
    before = rows(service, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    request = {"prediction": service.run[(T00005, PEOPLE)], "verdict": "accepted", "curator": "ada",
               "token": TOKEN, **change}
    answer = post_review(service, **request)
    assert answer.status_code == status, answer.text
    assert reason in answer.text
    assert rows(service, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }") == before


def test_a_prediction_a_newer_run_replaced_cannot_be_reviewed_but_its_reviews_stay(tmp_path):
    store = fixture_store_at(tmp_path)
    old = write_run(store, "m2", [(P00003, WOMAN, 0.6)])
    record_review(store, old[(P00003, WOMAN)], "accepted", "ada", base_iri=BASE)
    new = write_run(store, "m2", [(P00003, WOMAN, 0.7)])
    with pytest.raises(ResourceNotFoundError, match="replaced by a newer run"):
        record_review(store, old[(P00003, WOMAN)], "rejected", "ada", base_iri=BASE)
    _, found = store.select(f"PREFIX hk: <{HK}> SELECT ?review WHERE {{ GRAPH <{REVIEWS}> {{ "
                            f"?review hk:reviewOf <{old[(P00003, WOMAN)]}> ; hk:verdict 'accepted' . "
                            f"<{P00003}> hk:subject <{WOMAN}> }} }}")
    assert len(found) == 1
    assert new[(P00003, WOMAN)] != old[(P00003, WOMAN)]


def test_the_queue_puts_the_least_sure_and_least_exemplified_first(service):
    answer = service.get("/review", params={"task": "people"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["task"] == PEOPLE
    entries = body["open"]
    # the judged predictions (P00003/man, T00005/woman) are left out
    judged = {(P00003, MAN), (T00005, WOMAN)}
    assert {(e["artwork"], e["concept"]) for e in entries} == \
        {(P00003, ADULTS), (P00003, PEOPLE), (T00005, PEOPLE), (N00530, WOMAN)} - judged
    # examples counted independently: the fixture's Tate annotations under each concept
    annotated_below = {ADULTS: {"T00002", "N00530", "T00004"}, PEOPLE: {"T00002", "N00530", "T00004"},
                       WOMAN: {"T00002"}}
    for entry in entries:
        n = len(annotated_below[entry["concept"]]) + sum(
            1 for artwork, concept in curator_annotations(service)
            if concept == entry["concept"] or (entry["concept"] in (ADULTS, PEOPLE) and concept in (MAN, WOMAN)))
        p = entry["confidence"]
        entropy = -(p * math.log2(p) + (1 - p) * math.log2(1 - p))
        assert entry["examples"] == n
        assert entry["priority"] == pytest.approx(entropy / math.log2(2 + n))
    assert [e["priority"] for e in entries] == sorted((e["priority"] for e in entries), reverse=True)
    # N00530/woman at p = 0.3 with 1 example beats P00003/adults at 0.55 with 3+
    assert [(e["artwork"], e["concept"]) for e in entries][:2] == [(N00530, WOMAN), (P00003, ADULTS)]
    assert len(service.get("/review", params={"task": PEOPLE, "limit": 1}).json()["open"]) == 1


def test_the_queue_of_an_unknown_task_is_a_404(service):
    answer = service.get("/review", params={"task": "weather"})
    assert answer.status_code == 404 and "no task 'weather'" in answer.json()["detail"]
    assert service.get("/review").status_code == 422


@pytest.mark.parametrize("publish", [False, True], ids=["one-update", "publish"])
def test_a_review_racing_a_write_back_of_the_same_artwork_ends_consistent(tmp_path, publish):
    """A writer process writes back run after run of a model over an artwork (each replacing the
    last run's predictions, by the write-back's one update or by the store's publish, which
    replays the updates made while it ran), while this process reads the artwork's newest
    predictions and reviews them over and over, as a curator on its page would. At the end every
    accepted review has its annotation, every annotation an accepted review, the curator has one
    verdict per artwork and concept, and it is the last one acknowledged."""
    location = fixture_store_at(tmp_path).location
    with open_store(location) as store:
        write_run(store, "m3", [(P00003, MAN, 0.5), (P00003, WOMAN, 0.5)])
    runs = [[(P00003, MAN, 0.5 + i / 40), (P00003, WOMAN, 0.4)] for i in range(8)]
    writer = multiprocessing.get_context("spawn").Process(target=write_runs, args=(location, "m3", runs, publish))
    writer.start()
    acknowledged: dict[str, str] = {}
    refused = reviewed = 0
    reviewer = open_store(location)
    while writer.is_alive() or reviewed < 4:
        for prediction in artwork_predictions(reviewer, P00003):
            verdict = ("accepted", "accepted", "rejected")[(reviewed + refused) % 3]
            try:
                record_review(reviewer, prediction.prediction, verdict, "ada", base_iri=BASE)
            except ResourceNotFoundError:
                refused += 1  # the writer replaced the prediction between reading it and reviewing it
                continue
            acknowledged[prediction.concept] = verdict
            reviewed += 1
    writer.join(timeout=300)
    assert writer.exitcode == 0
    reviewer.close()
    assert set(acknowledged) == {MAN, WOMAN}
    check = open_store(location, read_only=True)
    _, reviews = check.select(f"""PREFIX hk: <{HK}> PREFIX prov: <{PROV}>
        SELECT ?review ?concept ?verdict (COUNT(?p) AS ?statements) WHERE {{ GRAPH <{REVIEWS}> {{
          ?review a hk:SubjectReview ; hk:reviewedArtwork <{P00003}> ; hk:reviewedSubject ?concept ;
                  hk:verdict ?verdict ; ?p ?o }} }} GROUP BY ?review ?concept ?verdict""")
    assert sorted(str(r["concept"]) for r in reviews) == sorted([MAN, WOMAN])  # one verdict each
    assert {str(r["concept"]): str(r["verdict"]) for r in reviews} == acknowledged
    assert all(int(r["statements"]) == 8 for r in reviews)  # every review whole
    _, annotations = check.select(f"PREFIX hk: <{HK}> SELECT ?c WHERE {{ GRAPH <{REVIEWS}> {{ <{P00003}> hk:subject ?c }} }}")
    assert {str(r["c"]) for r in annotations} == {c for c, v in acknowledged.items() if v == "accepted"}
    # and the write-back's rule held: the artwork's predictions are those of the last run only
    last = [(p.concept, p.confidence) for p in artwork_predictions(check, P00003)]
    assert sorted(last) == sorted([(MAN, 0.5 + 7 / 40), (WOMAN, 0.4)])
