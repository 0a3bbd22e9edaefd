"""The curator's pages: an artwork page shows the models' predicted subjects (confidence, model,
date, the curators' verdicts) with accept/reject buttons, its links to other collections, and its
image (the cached copy when there is one, served only from the image cache); a CMOA object's page
shows its predictions; the review page lists a task's queue with the same buttons; the search box
finds artworks and artists across collections; and in the headless browser a curator accepts a
prediction from an artwork's page and rejects one from the review queue."""

from __future__ import annotations

import json
import re
import shutil
import time
from html import unescape
from pathlib import Path

import pytest
from conftest import CMOA_FIXTURE, TATE_FIXTURE, store_of_fixtures
from fastapi.testclient import TestClient
from PIL import Image
from prediction_runs import BASE, TATE, write_run

from api import dependencies
from api.app import create_app
from heritage_kg.config import Settings
from heritage_kg.graph.search import build_index, index_location
from heritage_kg.graph.store import open_store
from heritage_kg.inference.review import reviews_graph
from heritage_kg.learning.images import ImageCache

HK = "https://w3id.org/heritage-kg/ontology#"
TOKEN = "page-token"
N00530, P00003 = TATE + "artwork/N00530", TATE + "artwork/P00003"
CMOA_OBJECT = BASE + "cmoa/artwork/99.4"
MAN, WOMAN, SNOW, OAK = (TATE + f"subject/{n}" for n in (195, 167, 218, 1076))
N00530_THUMBNAIL = "http://www.tate.org.uk/art/images/work/N/N00/N00530_8.jpg"
LINKS_GRAPH = BASE + "graph/links/artworks"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A fixture store with one model run, one cross-collection link and its search index, and an
    image cache holding N00530's image (and a file that is none of the cache's)."""
    root = tmp_path_factory.mktemp("pages")
    store = store_of_fixtures(root / "store")
    run = write_run(store, "m1", [(N00530, WOMAN, 0.62), (N00530, OAK, 0.31), (CMOA_OBJECT, SNOW, 0.77),
                                  (P00003, MAN, 0.55)])
    store.update(f"""PREFIX hk: <{HK}> INSERT DATA {{ GRAPH <{LINKS_GRAPH}> {{
        <{BASE}link/1> a hk:ArtworkMatch ; hk:matchSubject <{CMOA_OBJECT}> ; hk:matchTarget <{N00530}> ;
            hk:score "0.73"^^<http://www.w3.org/2001/XMLSchema#double> ; hk:evidence "same artist: J.M.W. Turner" ;
            <http://www.w3.org/ns/prov#wasGeneratedBy> <{BASE}linking/1> . }} }}""")
    build_index(store, index_location(store.location))
    images = root / "images"
    images.mkdir()
    cached = images / (ImageCache.stem(N00530_THUMBNAIL) + ".png")
    Image.new("RGB", (8, 6), (200, 30, 30)).save(cached)
    (images / "secret.txt").write_text("not an image of the cache")
    store.close()
    settings = Settings(store=store.location, update_token=TOKEN, images_dir=images, sparql_workers=2)
    dependencies._store.cache_clear()
    return {"settings": settings, "run": run, "cached": cached, "root": root}


@pytest.fixture(scope="module")
def client(site):
    with TestClient(create_app(site["settings"])) as test_client:
        yield test_client


def page(client, path: str) -> str:
    answer = client.get(path, headers={"Accept": "text/html"})
    assert answer.status_code == 200, answer.text
    return answer.text


def test_an_artwork_page_shows_predictions_with_confidence_model_date_and_buttons(client, site):
    html = page(client, "/tate/artwork/N00530")
    rows = re.findall(r'<tr class="prediction" data-prediction="([^"]+)".*?</tr>', html, re.S)
    assert rows == [site["run"][(N00530, WOMAN)], site["run"][(N00530, OAK)]]  # by rank: most confident first
    woman = html[html.index(f'data-prediction="{site["run"][(N00530, WOMAN)]}"'):]
    woman = woman[:woman.index("</tr>")]
    assert ">woman</a>" in woman and '<td class="confidence">0.62</td>' in woman
    assert f'<td class="model" title="{BASE}model/m1">m1</td>' in woman and f'<td class="date">{site["run"].ended.date().isoformat()}</td>' in woman
    assert 'data-verdict="accepted">Accept</button>' in woman and 'data-verdict="rejected">Reject</button>' in woman
    assert 'id="curator-token"' in html and "/static/review.js" in html


def test_a_cmoa_objects_page_shows_its_predicted_subjects_and_links(client, site):
    html = page(client, "/cmoa/artwork/99.4")
    assert re.findall(r'<tr class="prediction" data-prediction="([^"]+)"', html) == [site["run"][(CMOA_OBJECT, SNOW)]]
    assert '<td class="confidence">0.77</td>' in html
    links = html[html.index('<section class="links"'):]
    assert 'href="/tate/artwork/N00530"' in links and "0.73" in links and "same artist: J.M.W. Turner" in links
    # and the link is shown from the other side too
    assert 'href="/cmoa/artwork/99.4"' in page(client, "/tate/artwork/N00530")


def test_a_page_shows_the_cached_image_else_the_thumbnail_url(client, site):
    html = page(client, "/tate/artwork/N00530")
    src = re.search(r'<figure class="thumbnail"><img src="([^"]+)"', html).group(1)
    assert src == f"/cached-images/{site['cached'].name}"
    image = client.get(src)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content == site["cached"].read_bytes()
    other = page(client, "/tate/artwork/T00002")  # not fetched: the collection's thumbnail
    other_src = re.search(r'<figure class="thumbnail"><img src="([^"]+)"', other).group(1)
    assert other_src.startswith("http://www.tate.org.uk/art/images/work/")


@pytest.mark.parametrize("name", ["secret.txt", "..%2F..%2Fstore%2Fcurrent", "..%2Fimages%2Fsecret.txt",
                                  "%2Fetc%2Fpasswd", "0123456789abcdef0123456789abcdef.txt",
                                  "0123456789abcdef0123456789abcdef.png"])
def test_the_image_route_serves_only_files_of_the_cache(client, name):
    answer = client.get(f"/cached-images/{name}")
    assert answer.status_code == 404
    assert b"not an image" not in answer.content


def test_the_search_box_is_on_every_page(client):
    for path in ("/", "/tate/artwork/N00530", "/tate", "/search?q=snow"):
        assert re.search(r'<form class="search" action="/search"[^>]*>\s*<input type="search" name="q"', page(client, path))


def test_search_finds_artworks_and_artists_across_collections(client):
    answer = client.get("/search", params={"q": "snow storm"}, headers={"Accept": "application/json"})
    assert answer.status_code == 200
    assert [(h["kind"], h["page"]) for h in answer.json()["hits"]] == [("artwork", "/tate/artwork/N00530")]
    turner = client.get("/search", params={"q": "turn"}, headers={"Accept": "application/json"}).json()
    assert ("artist", "/tate/artist/558") in {(h["kind"], h["page"]) for h in turner["hits"]}
    harbour = client.get("/search", params={"q": "harbour", "kind": "artwork"},
                         headers={"Accept": "application/json"}).json()
    assert {h["page"] for h in harbour["hits"]} == {"/tate/artwork/N00530", "/tate/artwork/P00003",
                                                   "/cmoa/artwork/2001.45.3"}
    assert {h["collection"] for h in harbour["hits"]} == {BASE + "tate", BASE + "cmoa"}
    html = page(client, "/search?q=snow+storm")
    assert 'href="/tate/artwork/N00530"' in html and "1</strong> match" in html


@pytest.mark.parametrize(("query", "status"), [({"q": "x" * 201}, 422), ({"q": "snow", "kind": "place"}, 400)])
def test_bad_searches_get_a_clear_4xx(client, query, status):
    answer = client.get("/search", params=query, headers={"Accept": "application/json"})
    assert answer.status_code == status and "detail" in answer.json()


def test_a_rebuilt_index_is_seen_by_the_next_search(site, client, tmp_path):
    path = index_location(site["settings"].store)
    saved = tmp_path / "saved.sqlite"
    shutil.copy(path, saved)
    with open_store(site["settings"].store) as store:
        build_index(store, path)  # the same graph: the same answer, from a new file
    assert client.get("/search", params={"q": "snow"}, headers={"Accept": "application/json"}).json()["total"] >= 1
    path.write_bytes(saved.read_bytes())


def test_the_review_page_shows_a_tasks_queue_with_buttons(client, site):
    people = client.get("/review", params={"task": "people"})  # an API client: JSON
    assert people.status_code == 200 and people.headers["content-type"] == "application/json"
    queue = [e["prediction"] for e in people.json()["open"]]
    # the fixture run's predictions under people, none judged yet: N00530/woman and P00003/man
    assert sorted(queue) == sorted([site["run"][(N00530, WOMAN)], site["run"][(P00003, MAN)]])
    html = page(client, "/review?task=people")
    assert re.findall(r'<tr class="prediction" data-prediction="([^"]+)"', html) == queue  # in the queue's order
    woman = html[html.index(f'data-prediction="{site["run"][(N00530, WOMAN)]}"'):]
    woman = woman[:woman.index("</tr>")]
    assert 'href="/tate/artwork/N00530"' in woman and ">woman</a>" in woman and '<td class="confidence">0.62</td>' in woman
    assert 'data-verdict="accepted">Accept</button>' in woman and 'id="curator-token"' in html
    assert "/static/review.js" in html
    assert re.search(r'id="review-count"><strong>2</strong> open predictions of <a href="/tate/subject/91">people</a>', html)
    # without a task, the page offers the taxonomy's top-level subjects, as the fixture's list has them
    level0 = json.loads((TATE_FIXTURE / "collection-master/processed/subjects/level0list.json").read_text())
    chooser = page(client, "/review")
    assert re.findall(r'<option value="([^"]+)"', chooser) == sorted(subject["name"] for subject in level0)
    assert 'class="prediction"' not in chooser
    assert client.get("/review", headers={"Accept": "application/json"}).status_code == 422  # the API needs a task
    unknown = client.get("/review", params={"task": "weather"}, headers={"Accept": "text/html"})
    assert unknown.status_code == 404 and "no task 'weather'" in unescape(unknown.text) and unknown.text.lstrip().startswith("<!doctype html>")


# --- in the headless browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
browser_only = pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                                  reason="the browser test needs Debian's chromium and chromium-driver: run `make browser`")


@pytest.fixture(scope="module")
def service_url(site):
    from live_service import serving

    with serving(create_app(site["settings"])) as url:
        yield url


from test_curator_page import browser  # noqa: E402,F401  (the same headless chromium as the query page's test)


@browser_only
def test_a_curator_accepts_a_prediction_from_the_page(service_url, browser, site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    prediction = site["run"][(P00003, MAN)]
    browser.get(f"{service_url}/tate/artwork/P00003")
    row = browser.find_element(By.CSS_SELECTOR, f'tr.prediction[data-prediction="{prediction}"]')
    row.find_element(By.CSS_SELECTOR, "button.accept").click()  # no token yet: nothing is sent
    assert "enter your name and the curator token" in row.find_element(By.CSS_SELECTOR, ".status").text
    browser.find_element(By.ID, "curator-name").send_keys("ada")
    browser.find_element(By.ID, "curator-token").send_keys("wrong-token")
    row.find_element(By.CSS_SELECTOR, "button.accept").click()
    WebDriverWait(browser, 10).until(expected_conditions.text_to_be_present_in_element(
        (By.CSS_SELECTOR, f'tr.prediction[data-prediction="{prediction}"] .status'), "token is wrong"))
    token = browser.find_element(By.ID, "curator-token")
    token.clear()
    token.send_keys(TOKEN)
    row.find_element(By.CSS_SELECTOR, "button.accept").click()
    WebDriverWait(browser, 10).until(expected_conditions.text_to_be_present_in_element(
        (By.CSS_SELECTOR, f'tr.prediction[data-prediction="{prediction}"] .status'), "accepted by ada"))
    assert browser.execute_script("return sessionStorage.getItem('heritage-kg.token')") == TOKEN
    # the graph holds the annotation and the review, and the page says so after a reload
    with open_store(site["settings"].store, read_only=True) as store:
        assert store.ask(f"ASK {{ GRAPH <{reviews_graph(BASE)}> {{ <{P00003}> <{HK}subject> <{MAN}> . "
                         f"?r <{HK}reviewOf> <{prediction}> ; <{HK}verdict> 'accepted' }} }}")
    browser.refresh()
    status = browser.find_element(By.CSS_SELECTOR, f'tr.prediction[data-prediction="{prediction}"] .status')
    assert status.text.startswith("accepted by ada")
    assert browser.find_element(By.ID, "curator-name").get_attribute("value") == "ada"  # kept for the tab
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "artwork-review.png"))


@browser_only
def test_a_curator_works_through_the_review_queue_in_the_browser(service_url, browser, site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{service_url}/review")
    browser.find_element(By.CSS_SELECTOR, "#review-task option[value=nature]").click()
    browser.find_element(By.CSS_SELECTOR, "form.review-task button[type=submit]").click()
    WebDriverWait(browser, 10).until(expected_conditions.presence_of_element_located((By.ID, "review-count")))
    snow = site["run"][(CMOA_OBJECT, SNOW)]
    assert snow in [r.get_attribute("data-prediction") for r in browser.find_elements(By.CSS_SELECTOR, "tr.prediction")]
    for field, value in (("curator-name", "ben"), ("curator-token", TOKEN)):
        box = browser.find_element(By.ID, field)
        box.clear()
        box.send_keys(value)
    browser.find_element(By.CSS_SELECTOR, f'tr.prediction[data-prediction="{snow}"] button.reject').click()
    WebDriverWait(browser, 10).until(expected_conditions.text_to_be_present_in_element(
        (By.CSS_SELECTOR, f'tr.prediction[data-prediction="{snow}"] .status'), "rejected by ben"))
    with open_store(site["settings"].store, read_only=True) as store:
        assert store.ask(f"ASK {{ GRAPH <{reviews_graph(BASE)}> {{ ?r <{HK}reviewOf> <{snow}> ; <{HK}verdict> 'rejected' ; "
                         f"<http://www.w3.org/ns/prov#wasAttributedTo> <{BASE}agent/curator/ben> }} }}")
    browser.refresh()  # judged: no longer in the queue
    assert snow not in [r.get_attribute("data-prediction") for r in browser.find_elements(By.CSS_SELECTOR, "tr.prediction")]
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "review-queue.png"))


@browser_only
def test_the_search_box_finds_an_artwork_in_the_browser(service_url, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(f"{service_url}/tate")
    box = browser.find_element(By.CSS_SELECTOR, "form.search input[name=q]")
    box.send_keys("snow storm", Keys.ENTER)
    deadline = time.monotonic() + 10
    while "/search" not in browser.current_url and time.monotonic() < deadline:
        time.sleep(0.05)
    hits = browser.find_elements(By.CSS_SELECTOR, "ol.search-hits li a")
    assert [h.get_attribute("href") for h in hits] == [f"{service_url}/tate/artwork/N00530"]
    hits[0].click()
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Snow Storm")


def test_build_graph_writes_the_search_index_and_search_index_rebuilds_it(tmp_path):
    from typer.testing import CliRunner

    from heritage_kg.cli import app
    from heritage_kg.graph.search import SearchIndex

    runner = CliRunner()
    store = str(tmp_path / "store")
    built = runner.invoke(app, ["build-graph", "--collection", "tate", "--source", str(TATE_FIXTURE), "--store", store])
    assert built.exit_code == 0, built.output
    index = SearchIndex(tmp_path / "store" / "search.sqlite")
    assert [hit.iri for hit in index.search("snow storm").hits] == [N00530]
    assert index.search("harbour", kind="artwork").total == 2  # CMOA not built yet
    built = runner.invoke(app, ["build-graph", "--collection", "cmoa", "--source", str(CMOA_FIXTURE), "--store", store])
    assert built.exit_code == 0, built.output
    assert index.search("harbour", kind="artwork").total == 3  # the rebuilt index, seen at once
    rebuilt = runner.invoke(app, ["search-index", "--store", store])
    assert rebuilt.exit_code == 0 and "search index:" in rebuilt.output
    assert index.search("harbour", kind="artwork").total == 3
    server = runner.invoke(app, ["search-index", "--store", "http://127.0.0.1:9"])
    assert server.exit_code == 2 and "HERITAGE_KG_SEARCH_INDEX" in server.output
