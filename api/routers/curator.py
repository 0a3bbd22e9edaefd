"""The curator's page at `/`: a SPARQL editor with the example queries of `kg/queries/`, which
runs them against `/sparql` and shows the answer as a table (and the stylesheet and script of
the service's pages under `/static`)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.dependencies import SettingsDep
from api.templates import templates
from heritage_kg.graph.queries import all_queries, inline_bindings

router = APIRouter(tags=["curator"])
router.mount("/static", StaticFiles(directory=Path(__file__).resolve().parents[1] / "static"), name="static")


def example_queries() -> list[dict[str, str]]:
    """The queries curators see as examples, with their example values written in."""
    examples = []
    for named in all_queries().values():
        if named.example is None:
            continue
        text = inline_bindings(named.text, named.bindings(named.example)) if named.parameters else named.text
        examples.append({"name": named.name, "description": named.description, "text": text})
    return examples


@router.get("/", response_class=HTMLResponse, summary="The curator's query page")
def curator_page(request: Request, config: SettingsDep):
    return templates.TemplateResponse(request, "curator.html",
                                      {"examples": example_queries(), "base": config.base_iri})
