"""Where the resources that ship with the software live (beside the source tree): the SPARQL
catalogue, the medium glossary, the ontology and its shapes. They are part of the software, not
of a deployment's configuration, so library functions take them as defaults a caller may replace."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
KG_DIR = PROJECT_ROOT / "kg"
QUERIES_DIR = KG_DIR / "queries"
MEDIUM_GLOSSARY = KG_DIR / "medium_glossary.toml"
ONTOLOGY_DIR = PROJECT_ROOT / "ontology"
ONTOLOGY = ONTOLOGY_DIR / "heritage.ttl"
SHAPES = ONTOLOGY_DIR / "shapes.ttl"
