"""The OpenAPI docs at /docs, with Swagger UI's script, stylesheet and icon served by the service
itself from the `swagger-ui-bundle-v2` package: the page works on a closed network, where
FastAPI's default page (assets from a CDN) stays blank."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/docs/assets"

router = APIRouter(include_in_schema=False)
router.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="swagger-ui")


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    app = request.app
    return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title}: API docs",
                               swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
                               swagger_css_url=f"{ASSETS}/swagger-ui.css",
                               swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
                               # no badge from swagger.io's online validator: nothing leaves the network
                               swagger_ui_parameters={"validatorUrl": None})
