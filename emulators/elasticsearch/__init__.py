"""Elasticsearch emulator: one emulated cluster per process (or per instance in tests), linkable to a second one.
Held against a real 8.19.21 node on every test run (tests/reales/test_side_by_side.py, tests/clients); it covers the
versions a real node cannot here (8.14 to 9.3). What was checked on a node is said beside the code.

API routes (HTTP basic `elastic:<password>` on every one), following `shared/reference/elasticsearch-api.md`:
  GET|HEAD /                                    cluster info with `version.number`
  POST /_security/cross_cluster/api_key         create a cross-cluster API key
  PUT  /_security/cross_cluster/api_key/{id}    update it (access/metadata/expiration/certificate_identity)
  GET  /_security/api_key                       get keys (id, name with `*`, username, realm_name, active_only...)
  DELETE /_security/api_key                     invalidate ({"ids"}, {"name"}, ...)
  PUT|POST|GET|DELETE /_security/role/{name}    native roles with remote_indices / remote_cluster; GET /_security/role
  GET|PUT /_cluster/settings                    persistent/transient settings, remote cluster settings rules
  GET  /_remote/info                            remotes and whether a connection is open now (it makes no attempt)
  GET|POST /_resolve/cluster/{name}             8.13+: one request per remote (open connection, or one attempt)
  GET|POST /{alias}:{index}/_search             a search of remote indices only: crosses or skips, finds nothing
  POST /_nodes[/{node_id}]/reload_secure_settings
  GET  /_license                                the licence (trial unless set); only an active trial or enterprise
                                                licence lets the two cross-cluster API key routes through (403 else)

Control routes (besides the common faults/requests/state):
  PUT  /_emulator/keystore  {"secrets": {"<setting>": "<value>"}, "reload": true|false}   (complete keystore)
  GET  /_emulator/keystore
  PUT  /_emulator/trust     {"certificates": ["<pem>", ...]}                                (complete CA list)
  GET  /_emulator/trust
  PUT  /_emulator/transport {"direct": [{"name", "certificates": ["<pem>"], "subject_names": ["<pattern>"] | null}],
                             "certificate"?: {"certificate": "<pem>", "key": "<pem>"}}
                            the transport trust restriction of each direct entry and the node's transport certificate,
                            as ECE configures them (TLS-certificate model, see `restrictions`); GET shows them
  POST /_emulator/reset    back to an empty cluster (the remote cluster server keeps its CA, state "up")
  PUT  /_emulator/clock     {"offset_ms": <int>}          shift the emulator's clock (key expiry)
  PUT  /_emulator/reload_failure {"reason": "...", "type"?: "..."}; DELETE clears it
  GET  /_emulator/rcs; PUT /_emulator/rcs {"state": "up"|"refuse"|"down"}; POST /_emulator/rcs/rotate_ca
  PUT  /_emulator/rcs/ca    {"certificate": "<CA PEM>", "key": "<CA key PEM>"}  serve a cert issued by that CA (ECK's)
  GET  /_emulator/transport-server; PUT {"state"?, "namespace"?, "client_cas"?: ["<pem>"], "subject_names"?: [...]|null}
                            the transport port stand-in of the TLS-certificate model (see `transport`), started on
                            first PUT (or with --transport-port); it shares the remote cluster server's CA
  PUT  /_emulator/license  {"type": "basic"|"trial"|"enterprise"|"platinum"|"gold"|"standard",
                            "status"?: "active"|"expired"|"invalid"}   a new licence of that type; GET shows it
  PUT  /_emulator/elastic-password {"password": "..."}   the `elastic` user's password (as ECK's Secret holds it)
"""

from .app import Config, ElasticsearchEmulator

__all__ = ["Config", "ElasticsearchEmulator"]
