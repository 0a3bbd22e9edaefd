"""The inference stage: trained classifiers applied to artworks (predict), their predictions
written back to the graph, and artworks linked across collections. Imports learning and graph."""
