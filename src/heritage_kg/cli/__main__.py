"""`python -m heritage_kg.cli`: the same as the `heritage-kg` command."""

from heritage_kg.cli import app

app()
