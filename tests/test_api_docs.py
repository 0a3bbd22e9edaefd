"""The OpenAPI docs at /docs work on a closed network: the page names only assets the service
serves itself (Swagger UI from the swagger-ui-bundle-v2 package, no CDN), and a headless browser
renders the operations from them, /classify among them, without one request leaving the service."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from live_service import serving
from swagger_ui_bundle import swagger_ui_path
from test_curator_page import CHROMEDRIVER, CHROMIUM, browser  # noqa: F401  (the headless chromium fixture)

from api.app import create_app
from heritage_kg.config import Settings


def test_the_docs_page_names_only_assets_the_service_serves(fixture_store):
    client = TestClient(create_app(Settings(store=fixture_store.location)))
    page = client.get("/docs")
    assert page.status_code == 200
    assert "://" not in page.text  # no absolute URL: nothing from another host
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sorted(assets) == ["/docs/assets/favicon-32x32.png", "/docs/assets/swagger-ui-bundle.js",
                              "/docs/assets/swagger-ui.css"]
    for asset in assets:  # each served from the package's own files
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert served.content == (Path(swagger_ui_path) / asset.rsplit("/", 1)[-1]).read_bytes()
    assert "SwaggerUIBundle" in client.get("/docs/assets/swagger-ui-bundle.js").text
    assert re.search(r"url: '/openapi.json'", page.text)
    assert "/classify" in client.get("/openapi.json").json()["paths"]


@pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                    reason="the browser test needs Debian's chromium and chromium-driver: run `make browser`")
def test_a_browser_renders_the_docs_from_the_service_alone(fixture_store, browser):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with serving(create_app(Settings(store=fixture_store.location, sparql_workers=1))) as url:
        browser.get(url + "/docs")
        WebDriverWait(browser, 30).until(
            lambda _: browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path"))
        paths = [element.text.strip() for element in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")]
        requested = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert "/classify" in paths and "/sparql" in paths
    assert requested and all(name.startswith(url + "/") for name in requested), requested
