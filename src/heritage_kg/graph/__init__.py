"""Stage 2: the knowledge graph: the mapping of records to RDF, the store, the queries."""
