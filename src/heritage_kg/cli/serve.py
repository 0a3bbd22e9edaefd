"""`heritage-kg serve`: the SPARQL endpoint, Linked Data, the curator's page and classification over HTTP (uvicorn)."""

from __future__ import annotations

import typer

from heritage_kg.cli import app
from heritage_kg.cli.common import StoreOption, console, open_graph_store, reports_errors, settings, store_location


@app.command()
@reports_errors
def serve(
    store: str = StoreOption,
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (0.0.0.0 inside a container)."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
):
    """Serve the graph: SPARQL 1.1 at /sparql, Linked Data pages, the curator's page at /, subject
    classification at /classify and the API docs at /docs."""
    import uvicorn

    from api.app import create_app

    location = store_location(store)
    with open_graph_store(location, read_only=True) as graph_store:
        graphs = graph_store.named_graphs()  # fails here, with a clear message, if there is no store
    console.print(f"serving {location} ({len(graphs)} named graphs) on http://{host}:{port}/ "
                  f"(SPARQL endpoint: http://{host}:{port}/sparql)")
    # The service reads the store given here: its routers take the settings the app is made with.
    app = create_app(settings().model_copy(update={"store": location}))
    # The fast settings, whatever is installed: httptools parses HTTP in C; no access log (a line
    # per request); asyncio's own loop, as uvloop made the wait on a query worker 80-250 ms.
    uvicorn.run(app, host=host, port=port, log_level="warning", http="httptools", loop="asyncio", access_log=False)
