# The heritage-kg service: `heritage-kg serve` (SPARQL endpoint, Linked Data, curator's page).
# Its store is the Oxigraph server of docker-compose.yml (HERITAGE_KG_STORE=http://oxigraph:7878).
FROM python:3.11-slim

WORKDIR /app
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
# CPU wheels of torch: the service needs no GPU.
ENV PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu

COPY pyproject.toml README.md ./
COPY src ./src
COPY api ./api
COPY kg ./kg
COPY ontology ./ontology
# Editable, so that kg/ and ontology/ are found beside the source tree (heritage_kg.config).
RUN pip install -e .

RUN useradd --create-home heritage && mkdir -p /app/data && chown heritage /app/data
USER heritage
EXPOSE 8000
ENV HERITAGE_KG_STORE=http://oxigraph:7878
CMD ["heritage-kg", "serve", "--host", "0.0.0.0", "--port", "8000"]
