"""The ECE side: a client over the ECE REST API and the dynamic resources that put trust and credentials into a
deployment's Elasticsearch resource."""
