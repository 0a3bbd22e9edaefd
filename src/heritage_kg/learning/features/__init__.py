"""Feature vectors for artworks and artists: text (titles), knowledge graph, images."""
