"""The curator's page in a real headless browser (Debian's chromium and chromium-driver): it
opens the page served by uvicorn over the fixture store, picks an example query, runs it against
the real /sparql endpoint, reads the rows of the table, follows an IRI to its Linked Data page,
downloads the answer as CSV, and leaves a screenshot in tests/artifacts/ for a person to see."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from api import dependencies
from api.app import create_app
from heritage_kg.config import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="the browser test needs Debian's chromium and chromium-driver: run `make browser`")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def service_url(fixture_store):
    """The whole service (SPARQL endpoint, Linked Data, curator's page) on a loopback port,
    reading the fixture store."""
    dependencies._store.cache_clear()
    app = create_app(Settings(store=fixture_store.location))
    # The Linked Data pages read the fixture store object this process already holds open.
    app.dependency_overrides[dependencies.get_store] = lambda: fixture_store
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the service did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)
    dependencies._store.cache_clear()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tmp_path_factory.mktemp("chromium-profile")
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def test_a_curator_runs_an_example_query_and_reads_the_rows(service_url, browser, fixture_store):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = WebDriverWait(browser, 30)
    browser.get(service_url + "/")
    assert browser.title.startswith("Query the collections")
    picker = Select(browser.find_element(By.ID, "example"))
    example_names = [option.get_attribute("value") for option in picker.options]
    assert "titles_containing" in example_names and "artwork_summary" not in example_names  # no @example

    picker.select_by_value("titles_containing")
    editor = browser.find_element(By.ID, "query")
    assert 'CONTAINS(LCASE(?title), LCASE("storm"))' in editor.get_attribute("value")  # example value written in
    browser.find_element(By.ID, "run").click()
    status = browser.find_element(By.ID, "status")
    wait.until(lambda _: "row" in status.text or "failed" in status.text)
    assert status.text.startswith("1 row in "), browser.find_element(By.ID, "error").text

    header = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#results thead th")]
    assert header == ["#", "artwork", "title", "collection"]
    rows = [[td.text for td in row.find_elements(By.TAG_NAME, "td")]
            for row in browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")]
    assert rows == [["1", "tate/artwork/N00530", "Snow Storm - Steam-Boat off a Harbour's Mouth", "tate"]]
    link = browser.find_element(By.CSS_SELECTOR, "#results tbody td a")
    assert link.get_attribute("href") == service_url + "/tate/artwork/N00530"

    # A query over the real endpoint that returns many rows, for the screenshot.
    picker.select_by_value("artworks_by_artist_name")
    every_artwork = ('PREFIX hk: <https://w3id.org/heritage-kg/ontology#>\n'
                     'SELECT ?artwork ?title ?date ?medium WHERE { ?artwork a hk:Artwork ; hk:title ?title .\n'
                     '  OPTIONAL { ?artwork hk:dateText ?date } OPTIONAL { ?artwork hk:medium ?medium } }\n'
                     'ORDER BY ?title')
    _, expected = fixture_store.select(every_artwork)
    editor.clear()
    editor.send_keys(every_artwork)
    browser.find_element(By.ID, "run").click()
    wait.until(lambda _: status.text.startswith(f"{len(expected)} rows in"))
    titles = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#results tbody td:nth-child(3)")]
    assert titles == [str(row["title"]) for row in expected]
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "curator-page.png"))

    browser.find_element(By.ID, "download-csv").click()
    wait.until(lambda _: list(browser.downloads.glob("*.csv")))
    csv_text = next(browser.downloads.glob("*.csv")).read_text(encoding="utf-8")
    assert csv_text.splitlines()[0].strip() == "artwork,title,date,medium"
    assert len(csv_text.strip().splitlines()) == len(expected) + 1

    # A bad query shows the endpoint's message, not an empty table.
    editor.clear()
    editor.send_keys("SELECT ?x WHERE { ?x")
    browser.find_element(By.ID, "run").click()
    wait.until(lambda _: status.text == "failed")
    assert browser.find_element(By.ID, "error").text.startswith("400")

    # An IRI in the results leads to its Linked Data page.
    browser.get(service_url + "/tate/artwork/N00530")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Snow Storm - Steam-Boat off a Harbour's Mouth"
    assert browser.save_screenshot(str(ARTIFACTS / "artwork-page.png"))
