"""`heritage-kg embed ...`: feature vectors for the classifier (text, kg, images)."""

from __future__ import annotations

import typer

from heritage_kg.cli import app

embed_app = typer.Typer(help="Compute feature vectors (text, kg, images) for a dataset's artworks.",
                        no_args_is_help=True)
app.add_typer(embed_app, name="embed")
