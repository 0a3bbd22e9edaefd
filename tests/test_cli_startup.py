"""The command line starts without the libraries of the commands it is not running: `--help`
and `stats` load none of the heavy ones (the times are measured by benchmarks/cli_startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Libraries that take tens to thousands of milliseconds to import, and the commands that need them.
LEARNING = ("torch", "torchvision", "transformers", "pykeen", "sklearn", "iterstrat", "numpy", "pyarrow", "PIL",
            "nltk")
CHECKING = ("pyshacl", "owlready2")
SERVING = ("fastapi", "uvicorn", "httpx", "api")
SETTINGS = ("pydantic_settings",)  # read only when a command needs a setting it was not given
STORE = ("rdflib", "pyoxigraph")

# A fresh interpreter runs the command line in-process, then lists the top-level packages it loaded.
_RUN = """
import json, sys
from heritage_kg.cli import app
sys.argv = ["heritage-kg", *json.loads(sys.argv[1])]
try:
    app()
except SystemExit as exit:
    assert exit.code in (0, None), exit.code
finally:
    print("\\nLOADED " + json.dumps(sorted({name.partition(".")[0] for name in sys.modules})))
"""


def loaded_packages(*args: str) -> set[str]:
    result = subprocess.run([sys.executable, "-c", _RUN, json.dumps(args)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.rsplit("\nLOADED ", 1)[1]))


def test_help_loads_no_command_library():
    loaded = loaded_packages("--help")
    assert "typer" in loaded  # the listing below would be empty were the command line not loaded
    assert loaded & {*LEARNING, *CHECKING, *SERVING, *SETTINGS, *STORE} == set()


@pytest.mark.parametrize("group", ["dataset", "embed"])
def test_a_group_help_loads_no_command_library(group):
    assert loaded_packages(group, "--help") & {*LEARNING, *CHECKING, *SERVING, *SETTINGS, *STORE} == set()


def test_stats_on_a_given_store_loads_only_the_store(fixture_store):
    loaded = loaded_packages("stats", "--store", fixture_store.location)
    assert {"rdflib", "pyoxigraph"} <= loaded  # it did read the store
    assert loaded & {*LEARNING, *CHECKING, *SERVING, *SETTINGS} == set()
