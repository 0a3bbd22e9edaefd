"""Stage 3: learning from the graph: training sets derived by SPARQL, and features (text, KG,
images) for the classifier."""
