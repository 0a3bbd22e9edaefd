"""POST /classify?write=true: the prediction for an artwork of the graph goes back into the graph
in a run graph of its own, attributed to the curator who asked, with the curator token only; a
second write replaces the model's first for that artwork; what is refused writes nothing."""

from __future__ import annotations

import pytest
from conftest import store_of_fixtures
from fastapi.testclient import TestClient
from rdflib import URIRef
from test_writeback import PREFIXES, _world, quads, stored

from api import dependencies
from api.app import create_app
from heritage_kg.config import Settings, get_settings

TOKEN = "curator-token"
BASE = get_settings().base_iri


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    root = tmp_path_factory.mktemp("writeback-api")
    store = store_of_fixtures(root / "store")
    world = _world(store, root)
    settings = Settings(store=store.location, update_token=TOKEN, models_dir=root / "models",
                        features_dir=root / "features", default_model="writeback-a", sparql_workers=1)
    app = create_app(settings)
    app.dependency_overrides[dependencies.get_store] = lambda: store
    with TestClient(app) as client:
        yield world, client
    store.close()


def classify(client, artwork: str | None, token: str | None = TOKEN, **query):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = {"artwork": artwork} if artwork else {"title": "A river at dusk"}
    return client.post("/classify", params={"write": "true", **query}, data=data, headers=headers)


def predicted(answer: dict) -> set[str]:
    return {s["concept"] for task in answer["tasks"] for s in [task, *task["labels"]] if s["predicted"]}


def test_write_true_writes_the_prediction_with_the_curator_in_its_provenance(service):
    world, client = service
    artwork = world.artworks[0]
    response = classify(client, artwork, curator="alice")
    assert response.status_code == 200, response.text
    answer = response.json()
    written = answer["written"]
    assert written["graph"].startswith(f"{BASE}graph/predictions/writeback-a-")
    assert written["predictions"] == len(predicted(answer)) > 0
    assert set(stored(world.store, answer["model"])[artwork]) == predicted(answer)
    assert world.store.ask(PREFIXES + """ASK { GRAPH ?g { ?run a hk:ClassificationRun ; hk:usedModel ?model ;
        prov:wasAssociatedWith ?curator, hk:HeritageKGSoftware } }""",
                           {"run": URIRef(written["run"]), "g": URIRef(written["graph"]),
                            "model": URIRef(answer["model"]), "curator": URIRef(f"{BASE}agent/curator/alice")})
    # the service's own readers see it at once
    query = PREFIXES + f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{written['graph']}> {{ ?p a hk:SubjectPrediction }} }}"
    count = client.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}).json()
    assert int(count["results"]["bindings"][0]["n"]["value"]) == written["predictions"]

    again = classify(client, artwork, curator="bob").json()
    assert again["written"]["replaced_artworks"] == 1
    runs = {v[2] for v in stored(world.store, answer["model"])[artwork].values()}
    assert runs == {again["written"]["run"]}


@pytest.mark.parametrize(("token", "query", "metadata", "status", "reason"), [
    (None, {"curator": "alice"}, False, 401, "Bearer"),
    ("wrong", {"curator": "alice"}, False, 403, "token is wrong"),
    (TOKEN, {}, False, 400, "curator=NAME"),
    (TOKEN, {"curator": "alice"}, True, 400, "artwork="),
    (TOKEN, {"curator": "alice", "model": "no-such-model"}, False, 404, "no-such-model"),
])
def test_a_refused_write_changes_nothing(service, token, query, metadata, status, reason):
    world, client = service
    before = quads(world.store)
    response = classify(client, None if metadata else world.artworks[1], token=token, **query)
    assert response.status_code == status and reason in response.json()["detail"]
    assert quads(world.store) == before
