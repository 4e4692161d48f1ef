"""graph: records, links, relationship discovery, context groups and the Neo4j projection."""
