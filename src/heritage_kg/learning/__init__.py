"""Stage 3: learning from the graph: training sets derived by SPARQL, features (text, KG,
images), and the subject classifier (models/, training, evaluation, baselines, run folders)."""
