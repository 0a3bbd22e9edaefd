"""Stage 4, inference: a trained model classifies artworks, its predictions go back into the graph
with provenance, and artworks are linked across collections."""
