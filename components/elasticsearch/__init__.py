"""The Elasticsearch side: the cross-cluster API key on the remote cluster, and on the local cluster the remote
cluster settings, roles with remote privileges, and the connection check."""
