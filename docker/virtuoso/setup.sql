-- Readies a Virtuoso 7 for heritage-kg; run once as dba:
--   isql-vt HOST:1111 dba PASSWORD docker/virtuoso/setup.sql
-- (the compose file's Virtuoso runs it at its first start; the tests' private Virtuoso too).
--
-- Virtuoso's default graph is the union of every graph, its own system graphs included (the
-- quad-map metadata, LDP, its service description: about 2,500 triples that would join every
-- answer over the union, e.g. the types-by-count query). Putting them in the private-graphs
-- group, unreadable by the anonymous SPARQL user, leaves the union to the collections' graphs.
-- The store checks this at its first query and refuses to answer otherwise.
DB.DBA.RDF_GRAPH_GROUP_CREATE ('http://www.openlinksw.com/schemas/virtrdf#PrivateGraphs', 1);
DB.DBA.RDF_GRAPH_GROUP_INS ('http://www.openlinksw.com/schemas/virtrdf#PrivateGraphs', 'http://www.openlinksw.com/schemas/virtrdf#');
DB.DBA.RDF_GRAPH_GROUP_INS ('http://www.openlinksw.com/schemas/virtrdf#PrivateGraphs', 'http://www.w3.org/ns/ldp#');
DB.DBA.RDF_GRAPH_GROUP_INS ('http://www.openlinksw.com/schemas/virtrdf#PrivateGraphs', 'http://localuriqaserver/sparql');
DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 1, 0);
DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 0, 1);
