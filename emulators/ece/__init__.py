"""ECE (Elastic Cloud Enterprise 3.8) REST API emulator, for the ECE side of ECE -> ECK remote clusters.

Run: `python -m emulators.ece --port N` (flags in `__main__.py`). Routes, each under `/api/v1` only (deployment routes
are global in ECE; under `/api/v1/regions/{region}` they are unknown routes, see app.py `PREFIX`):
  GET  /deployments/{id}                                   DeploymentGetResponse (+ x-cloud-resource-* headers)
  PUT  /deployments/{id}?version=&validate_only=           DeploymentUpdateRequest -> DeploymentUpdateResponse
  GET|PATCH /deployments/{id}/elasticsearch/{ref_id}/keystore   KeystoreContents (values never readable)
  POST /deployments/{id}/elasticsearch/{ref_id}/_restart   202 DeploymentResourceCommandResponse, starts a plan
  GET  /deployments/{id}/certificate-authority             CertificateAuthority
  GET|POST|PUT|DELETE /deployments/{id}/{kind}/{ref_id}/proxy/{path}   passes through to the linked Elasticsearch
Auth: `Authorization: ApiKey <key>` or HTTP basic; otherwise 401 `root.unauthenticated`. Controls: `controls.py`.

Choices where the swagger is silent (each also noted where it is implemented):
- `?version=` mismatch on PUT: 409 `deployments.version_conflict`, the `<area>.version_conflict`/409 pattern of the
  other versioned resources (errors.py). The same answer serves the `conflict` fault kind; since the swagger
  documents none, `POST /_emulator/conflict-answer` sets another shape (e.g. 400 `root.version_conflict`).
- Plans: `POST /_emulator/pending-delay` makes new plans show as pending only after a while (ECE's constructor picks
  a plan up after the PUT has answered); `fail-next-plan` fails one with a `failure_type` in its step log.
- PUT while a plan is pending: accepted; its plan supersedes the pending one, which goes to history cancelled
  (app.py `update_deployment`; plans.py). `_restart` keeps the documented 422 unless `cancel_pending=true`.
- Proxy without `X-Management-Request: true`: 400 `root.invalid_data` (app.py `proxy`); upstream unreachable:
  502 `clusters.proxy_request_failed`; no linked Elasticsearch: 404 `clusters.cluster_not_found`.
- `recommended_trust_restriction`: `*.node.<es cluster id>.cluster.<environment id>.account`, the subject-name
  form in Elastic's ECE trust-restriction docs (views.py).
- `scope_id` accepts dots and hyphens (`default.es.local` from the ECE->ECK guide), at most 32 chars (trust.py).
- What a `direct` entry trusts on the transport layer (TLS-certificate model): `trust_all` + scope S -> node names
  `*.S`, `trust_allowlist` [c] -> `*.node.c.S`, `additional_node_names` as given, `type: proxy` -> no restriction
  (trust.py `subject_names`, a reading of the swagger's "suffix"). A finished plan pushes them, with a node
  certificate from the deployment CA named `instance-0000000000.node.<cluster id>.cluster.<environment id>.account`,
  to the linked Elasticsearch emulator's `/_emulator/transport` (links.py; a real node gets the CA PEMs only).
- Unknown route: 404 `root.resource_not_found`; wrong method: 405 `root.method_not_allowed`.
- Validation errors of a PUT: 400 with `clusters.cluster_invalid_plan` (plan) or `root.invalid_data` (the rest),
  `fields` naming the JSON path.
- The resource version bumps on each PUT that changes something and on `_restart`; not on keystore PATCHes.
"""

from emulators.ece.app import EceEmulator

__all__ = ["EceEmulator"]
