"""Central across sites: border posts and headquarters on PostgreSQL logical replication (docs/SITES.md).

`tables`: which site writes each table and which way it replicates; `replication`: the SQL that makes
a database a post or headquarters, its publications and subscriptions; `migration`: migrations across
sites in the order replication needs; `monitoring`: subscription and slot state, for Prometheus and
the web desk; `clusters`: local PostgreSQL clusters for a stand on loopback (`limes central sites`).
"""
