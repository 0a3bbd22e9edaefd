# heritage-kg: two commands on a fresh machine, `make demo` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
TATE_SOURCE ?= https://github.com/tategallery/collection/archive/refs/heads/master.zip
CMOA_SOURCE ?=
STORE ?= data/store
# Authority files (NGA, MoMA, Whitney) for artist links to Wikidata and ULAN; without them the
# collections' artists are still linked to one another.
AUTHORITIES ?= ../shared/data/authorities
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install build-graph serve bench clean browser java virtuoso

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e '.[test]'
	touch $@

install: $(VENV)/.installed

build-graph: install
	$(BIN)/heritage-kg build-graph --source $(TATE_SOURCE) --collection tate --store $(STORE)
	@if [ -n "$(CMOA_SOURCE)" ]; then $(BIN)/heritage-kg build-graph --source $(CMOA_SOURCE) --collection cmoa --store $(STORE); fi
	$(BIN)/heritage-kg link-artists --store $(STORE) $(if $(wildcard $(AUTHORITIES)/*.csv),--authorities $(AUTHORITIES),--no-authorities)
	$(BIN)/heritage-kg stats --store $(STORE)

serve: install
	$(BIN)/heritage-kg serve --store $(STORE) --host $(HOST) --port $(PORT)

demo: build-graph serve

# The curator's page is tested in a headless browser: Debian's chromium and chromium-driver.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then apt-get update && apt-get install -y chromium chromium-driver; fi

# The HermiT reasoner (`heritage-kg validate --reasoner`, tested) runs on Java: Debian's headless JRE.
java:
	@if ! command -v java >/dev/null 2>&1; then apt-get update && apt-get install -y default-jre-headless; fi

# The store tests run on Virtuoso too: Debian's virtuoso-opensource, started privately per test
# session (tests/sparql_engines.py); its packaged service is not used.
virtuoso:
	@if [ ! -x /usr/bin/virtuoso-t ] || [ ! -x /usr/bin/isql-vt ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y virtuoso-opensource; fi

test: install browser java virtuoso
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/build_graph.py

clean:
	rm -rf $(STORE) .pytest_cache
