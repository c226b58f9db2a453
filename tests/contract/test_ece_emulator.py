"""The ECE emulator over real HTTP, checked against the ECE 3.8 swagger: every request body we send and every
response body we get is validated against its swagger definition, and every status code must be documented for
its route (the one exception, 409 on a deployment version conflict, is the emulator's documented choice)."""

from __future__ import annotations

import base64
import copy
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from emulators.common import Emulator, Request, Response, running
from emulators.ece import EceEmulator
from emulators.ece.fixtures import (
    CLUSTER_ID,
    DEPLOYMENT_ID,
    ENVIRONMENT_ID,
    FOREIGN_KEYSTORE_KEY,
    FOREIGN_KEYSTORE_VALUE,
    ORGANIZATION_ID,
    PARTNER_UID,
)
from tests.support.certs import make_ca
from tests.support.ece_swagger import EceSwagger, swagger
from tests.support.specs import SPECS

API_KEY = "test-ece-api-key"
USERNAME, PASSWORD = "ece-admin", "ece-admin-password"
ES_PASSWORD = "elastic-password"
PLAN_SECONDS = 0.2
SLOW_PLAN_SECONDS = 0.6  # for tests that must see a plan still pending
DEPLOYMENT = f"/deployments/{DEPLOYMENT_ID}"
KEYSTORE = f"{DEPLOYMENT}/elasticsearch/main-elasticsearch/keystore"
RESTART = f"{DEPLOYMENT}/elasticsearch/main-elasticsearch/_restart"
PROXY = f"{DEPLOYMENT}/elasticsearch/main-elasticsearch/proxy"
FULL_VIEW = {"show_settings": "true", "show_plan_logs": "true", "clear_transient": "true"}
UNDOCUMENTED_OK = {("PUT", "/deployments/{deployment_id}", 409)}  # deployments.version_conflict, see errors.py


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def header(request: Request, name: str) -> str | None:
    return next((value for key, value in request.headers.items() if key.lower() == name.lower()), None)


class Upstream(Emulator):
    """A stand-in for the Elasticsearch emulator: echoes proxied requests and records `/_emulator/*` pushes."""

    name = "upstream"

    def __init__(self) -> None:
        super().__init__()
        self.received: list[Request] = []
        self.pushes: list[tuple[str, Any, str | None]] = []
        for method in ("GET", "POST", "PUT", "DELETE"):
            self.route(method, r"/.*", self.echo)

    def echo(self, request: Request, _match: Any) -> Response:
        self.received.append(request)
        status = int(request.param("echo_status", "200") or "200")
        if request.path.endswith("_cat/indices"):
            return Response(status, "green open logs-1 1 1\n", content_type="text/plain; charset=UTF-8")
        return Response(
            status,
            {
                "method": request.method,
                "path": request.path,
                "query": request.query,
                "body": request.body.decode(),
                "content_type": header(request, "Content-Type"),
                "authorization": header(request, "Authorization"),
            },
        )

    def control_extra(self, what: str, request: Request) -> Response:
        self.pushes.append((what, request.json(), header(request, "Authorization")))
        return Response(200, {"acknowledged": True})

    def reset(self) -> None:
        with self.lock:
            self.received.clear()
            self.pushes.clear()

    def pushed(self, what: str) -> list[Any]:
        with self.lock:
            return [payload for kind, payload, _auth in self.pushes if kind == what]


class Ece:
    """A client for the emulator that checks every exchange against the swagger."""

    def __init__(self, url: str, spec: EceSwagger, emulator: EceEmulator) -> None:
        self.url, self.spec, self.emulator = url, spec, emulator

    def raw(self, method: str, path: str, *, auth: Any = "apikey", **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if auth == "apikey":
            headers["Authorization"] = f"ApiKey {API_KEY}"
        elif auth is not None:
            kwargs["auth"] = auth
        return requests.request(method, self.url + path, headers=headers, timeout=10, **kwargs)

    def call(
        self, method: str, path: str, status: int, *, prefix: str = "/api/v1", body_check: bool = True, **kwargs: Any
    ) -> requests.Response:
        """Send, then assert the status, that it is documented, and that both bodies match their definitions."""
        template = self.spec.template(path)
        request_definition = self.spec.request_definition(method, template)
        if request_definition and "json" in kwargs:
            self.spec.validate(kwargs["json"], request_definition)
        response = self.raw(method, prefix + path, **kwargs)
        assert response.status_code == status, response.text
        if (method, template, status) not in UNDOCUMENTED_OK:
            self.spec.assert_documented(method, template, status)
        if body_check:
            definition = self.spec.response_definition(method, template, status) or "BasicFailedReply"
            self.spec.validate(response.json(), definition)
        return response

    def get(self, **params: str) -> dict[str, Any]:
        body: dict[str, Any] = self.call("GET", DEPLOYMENT, 200, params=params).json()
        return body

    def es(self, **params: str) -> dict[str, Any]:
        resource: dict[str, Any] = self.get(**params)["resources"]["elasticsearch"][0]
        return resource

    def version(self) -> str:
        return self.call("GET", DEPLOYMENT, 200).headers["x-cloud-resource-version"]

    def control(self, method: str, what: str, body: Any = None) -> Any:
        response = requests.request(method, f"{self.url}/_emulator/{what}", json=body, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def plan_done(self) -> bool:
        return "pending" not in self.es(show_plan_logs="true")["info"]["plan_info"]


@pytest.fixture(scope="module")
def spec() -> EceSwagger:
    return swagger()


@pytest.fixture(scope="module")
def ece_server(spec: EceSwagger) -> Iterator[Ece]:
    emulator = EceEmulator(api_key=API_KEY, username=USERNAME, password=PASSWORD, plan_seconds=PLAN_SECONDS)
    with running(emulator) as handle:
        yield Ece(handle.url, spec, emulator)


@pytest.fixture
def ece(ece_server: Ece) -> Ece:
    """One server per module (stopping one takes up to half a second); each test starts from a reset."""
    ece_server.control("POST", "reset")
    return ece_server


@pytest.fixture(scope="module")
def upstream_server() -> Iterator[tuple[Upstream, str]]:
    stand_in = Upstream()
    with running(stand_in) as handle:
        yield stand_in, handle.url


@pytest.fixture
def upstream(upstream_server: tuple[Upstream, str]) -> tuple[Upstream, str]:
    upstream_server[0].reset()
    return upstream_server


@pytest.fixture
def linked(ece: Ece, upstream: tuple[Upstream, str]) -> Upstream:
    stand_in, url = upstream
    ece.control("POST", "elasticsearch-link", {"deployment_id": DEPLOYMENT_ID, "url": url, "password": ES_PASSWORD})
    return stand_in


def update_request(es: dict[str, Any], trust: Any = ..., **extra: Any) -> dict[str, Any]:
    """A DeploymentUpdateRequest built the way the provider builds it: current plan, full trust, no pruning."""
    payload: dict[str, Any] = {
        "ref_id": es["ref_id"],
        "region": es["region"],
        "plan": copy.deepcopy(es["info"]["plan_info"]["current"]["plan"]),
    }
    if trust is not ...:
        payload["settings"] = {"trust": trust}
    return {"prune_orphans": False, "resources": {"elasticsearch": [payload]}, **extra}


def proxy_entry(name: str = "eck-quickstart", pem: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "type": "proxy",
        "trust_all": False,
        "certificates": [{"pem": pem or make_ca(f"{name} CA").certificate_pem}],
    }


def with_direct(es: dict[str, Any], *entries: dict[str, Any]) -> dict[str, Any]:
    trust: dict[str, Any] = copy.deepcopy(es["info"]["settings"]["trust"])
    trust["direct"] = [*trust["direct"], *entries]
    return trust


def sha256_fingerprint(pem: str) -> str:
    digest = x509.load_pem_x509_certificate(pem.encode()).fingerprint(hashes.SHA256())
    return ":".join(f"{byte:02X}" for byte in digest)


# --- GET /deployments/{id} -----------------------------------------------------------------------------------------
def test_get_deployment_defaults_hide_settings_and_carry_version_headers(ece: Ece) -> None:
    response = ece.call("GET", DEPLOYMENT, 200)
    body = response.json()
    es = body["resources"]["elasticsearch"][0]
    assert body["id"] == DEPLOYMENT_ID and len(DEPLOYMENT_ID) == 32
    assert body["settings"]["auto_ops"]["status"] in ("connected", "not_connected", "excluded")
    assert (es["ref_id"], es["region"], es["id"]) == ("main-elasticsearch", "ece-region", CLUSTER_ID)
    assert "settings" not in es["info"]  # show_settings defaults to false
    current = es["info"]["plan_info"]["current"]
    assert current["plan"]["elasticsearch"]["version"] == "9.3.2" and current["plan"]["cluster_topology"]
    assert current["plan_attempt_log"] == []  # show_plan_logs defaults to false
    assert "pending" not in es["info"]["plan_info"]
    assert es["info"]["metadata"]["cloud_id"] and es["info"]["metadata"]["endpoint"].startswith(CLUSTER_ID)
    assert response.headers["x-cloud-resource-version"] == "1"
    assert response.headers["x-cloud-resource-created"] < response.headers["x-cloud-resource-last-modified"]


def test_get_deployment_with_settings_shows_the_three_kinds_of_trust(ece: Ece) -> None:
    trust = ece.es(show_settings="true")["info"]["settings"]["trust"]
    assert trust["accounts"] == [
        {"account_id": ORGANIZATION_ID, "trust_all": True, "name": "Default trust for own organization"}
    ]
    assert len(trust["external"]) == 1 and trust["external"][0]["trust_relationship_id"]
    [partner] = trust["direct"]
    assert (partner["name"], partner["uid"]) == ("partner-datacenter", PARTNER_UID)
    [certificate] = partner["certificates"]
    metadata = certificate["metadata"]
    assert metadata["fingerprint"] == sha256_fingerprint(certificate["pem"])
    assert metadata["valid_from"] < metadata["valid_to"]


def test_get_deployment_query_parameters_shape_the_answer(ece: Ece) -> None:
    plain = ece.es(show_plans="false")["info"]["plan_info"]["current"]
    assert "plan" not in plain
    assert "transient" in ece.es()["info"]["plan_info"]["current"]["plan"]
    full = ece.es(**FULL_VIEW, show_metadata="true", show_plan_history="true")["info"]
    assert "transient" not in full["plan_info"]["current"]["plan"]
    assert full["plan_info"]["current"]["plan_attempt_log"][-1]["step_id"] == "plan-completed"
    assert full["metadata"]["raw"]["cluster_id"] == CLUSTER_ID
    assert "instance_configurations" not in ece.get(show_instance_configurations="false")


def test_unknown_deployment_is_404_with_error_code_header(ece: Ece) -> None:
    for method, path in (
        ("GET", "/deployments/0123456789abcdef0123456789abcdef"),
        ("GET", "/deployments/0123456789abcdef0123456789abcdef/certificate-authority"),
        ("GET", "/deployments/0123456789abcdef0123456789abcdef/elasticsearch/_main/keystore"),
        ("POST", "/deployments/0123456789abcdef0123456789abcdef/elasticsearch/_main/_restart"),
    ):
        response = ece.call(method, path, 404)
        assert response.json()["errors"][0]["code"] == "deployments.deployment_not_found"
        assert response.headers["x-cloud-error-codes"] == "deployments.deployment_not_found"


def test_deployment_routes_are_global_and_not_served_under_a_region(ece: Ece, linked: Upstream) -> None:
    """cloud-sdk-go sends `/deployments` routes without `/regions/<region>` because "the /deployments path does not
    work with the region interpolated in the URL" (elastic/cloud-sdk-go#46, pkg/api/client_runtime.go `globalPath`):
    under a region they are unknown routes."""
    prefix = "/api/v1/regions/ece-region"
    for method, path in (
        ("GET", DEPLOYMENT),
        ("PUT", DEPLOYMENT),
        ("GET", KEYSTORE),
        ("PATCH", KEYSTORE),
        ("POST", RESTART),
        ("GET", f"{DEPLOYMENT}/certificate-authority"),
        ("GET", f"{PROXY}/_remote/info"),
    ):
        response = ece.raw(method, prefix + path, json={}, headers={"X-Management-Request": "true"})
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["errors"][0]["code"] == "root.resource_not_found"
        ece.spec.validate(response.json(), "BasicFailedReply")
    assert linked.received == []
    assert "pending" not in ece.es()["info"]["plan_info"]  # nothing was applied
    assert ece.call("GET", DEPLOYMENT, 200).json()["id"] == DEPLOYMENT_ID


# --- auth -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "auth",
    [None, "ApiKey wrong-key", "Bearer something", "Basic !!notbase64", (USERNAME, "wrong"), ("someone", PASSWORD)],
    ids=["missing", "wrong-api-key", "bearer", "garbled-basic", "wrong-password", "wrong-user"],
)
def test_bad_or_missing_credentials_are_401_root_unauthenticated(ece: Ece, auth: Any) -> None:
    kwargs: dict[str, Any] = (
        {"auth": None, "headers": {"Authorization": auth}} if isinstance(auth, str) else {"auth": auth}
    )
    response = ece.call("GET", DEPLOYMENT, 401, **kwargs)
    assert response.json()["errors"][0]["code"] == "root.unauthenticated"
    # every API route is guarded (the swagger's global security), not only the ones that list a 401
    assert ece.raw("GET", f"/api/v1{KEYSTORE}", **kwargs).status_code == 401
    assert ece.raw("GET", f"/api/v1{PROXY}/_cluster/health", **kwargs).status_code == 401


def test_basic_auth_and_api_key_are_both_accepted(ece: Ece) -> None:
    ece.call("GET", DEPLOYMENT, 200, auth=(USERNAME, PASSWORD))
    ece.call("GET", DEPLOYMENT, 200)
    token = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    ece.call("GET", DEPLOYMENT, 200, auth=None, headers={"Authorization": f"Basic {token}"})


def test_an_api_key_left_out_is_revoked_and_a_new_one_works(ece: Ece) -> None:
    ece.control("POST", "api-keys", {"api_keys": [API_KEY, "second-key-0123456789"]})
    ece.call("GET", DEPLOYMENT, 200)
    ece.call("GET", DEPLOYMENT, 200, auth=None, headers={"Authorization": "ApiKey second-key-0123456789"})
    ece.control("POST", "api-keys", {"api_keys": ["second-key-0123456789"]})
    assert ece.call("GET", DEPLOYMENT, 401).json()["errors"][0]["code"] == "root.unauthenticated"
    ece.call("GET", DEPLOYMENT, 200, auth=None, headers={"Authorization": "ApiKey second-key-0123456789"})
    ece.call("GET", DEPLOYMENT, 200, auth=(USERNAME, PASSWORD))  # basic auth is another user's, untouched


# --- PUT /deployments/{id}: trust -------------------------------------------------------------------------------
def test_put_adds_a_direct_entry_keeps_the_others_and_runs_a_plan(ece: Ece) -> None:
    ece.control("POST", "plan-duration", {"seconds": SLOW_PLAN_SECONDS})
    es = ece.es(**FULL_VIEW)
    version = ece.version()
    entry = proxy_entry()
    response = ece.call(
        "PUT", DEPLOYMENT, 200, params={"version": version}, json=update_request(es, with_direct(es, entry))
    )
    assert int(response.headers["x-cloud-resource-version"]) == int(version) + 1
    answer = response.json()
    assert (
        answer["resources"][0]["ref_id"] == "main-elasticsearch" and answer["resources"][0]["kind"] == "elasticsearch"
    )

    during = ece.es(**FULL_VIEW)["info"]
    pending = during["plan_info"]["pending"]
    assert pending["plan_attempt_log"][-1]["status"] == "pending"
    assert during["status"] == "reconfiguring"
    trust = during["settings"]["trust"]
    assert trust["accounts"] == es["info"]["settings"]["trust"]["accounts"]
    assert trust["external"] == es["info"]["settings"]["trust"]["external"]
    partner, ours = trust["direct"]
    assert partner["uid"] == PARTNER_UID
    assert ours["uid"] and ours["uid"] != PARTNER_UID and ours["type"] == "proxy"
    assert ours["certificates"][0]["metadata"]["fingerprint"] == sha256_fingerprint(entry["certificates"][0]["pem"])

    wait_until(ece.plan_done)
    info = ece.es(**FULL_VIEW)["info"]
    last = info["plan_info"]["current"]["plan_attempt_log"][-1]
    assert (last["step_id"], last["status"]) == ("plan-completed", "success")
    assert info["plan_info"]["healthy"] and info["status"] == "started"
    assert info["plan_info"]["current"]["plan_attempt_id"] == pending["plan_attempt_id"]


def test_put_keeps_uids_by_name_and_gives_new_names_new_uids(ece: Ece) -> None:
    es = ece.es(**FULL_VIEW)
    ece.call("PUT", DEPLOYMENT, 200, json=update_request(es, with_direct(es, proxy_entry("ours"))))
    first = {entry["name"]: entry["uid"] for entry in ece.es(**FULL_VIEW)["info"]["settings"]["trust"]["direct"]}
    es = ece.es(**FULL_VIEW)
    trust = copy.deepcopy(es["info"]["settings"]["trust"])
    for entry in trust["direct"]:
        entry.pop("uid")  # resent without uid: the name identifies it
    trust["direct"][1]["certificates"] = [{"pem": make_ca("rotated").certificate_pem}]
    trust["direct"].append(proxy_entry("another"))
    ece.call("PUT", DEPLOYMENT, 200, json=update_request(es, trust))
    second = {entry["name"]: entry["uid"] for entry in ece.es(**FULL_VIEW)["info"]["settings"]["trust"]["direct"]}
    assert second["partner-datacenter"] == first["partner-datacenter"] == PARTNER_UID
    assert second["ours"] == first["ours"]
    assert second["another"] not in first.values()


def test_put_without_trust_leaves_it_unchanged_and_starts_no_plan(ece: Ece) -> None:
    es = ece.es(**FULL_VIEW)
    version = ece.version()
    response = ece.call("PUT", DEPLOYMENT, 200, json=update_request(es))
    assert response.headers["x-cloud-resource-version"] == version
    after = ece.es(**FULL_VIEW)["info"]
    assert "pending" not in after["plan_info"]
    assert after["settings"]["trust"] == es["info"]["settings"]["trust"]


def test_put_trust_null_reverts_to_the_default_trust(ece: Ece) -> None:
    es = ece.es(**FULL_VIEW)
    # The swagger's description allows `null` ("null reverts to default"), its schema (swagger 2.0) cannot say so.
    response = ece.raw("PUT", f"/api/v1{DEPLOYMENT}", json=update_request(es, None))
    assert response.status_code == 200
    ece.spec.validate(response.json(), "DeploymentUpdateResponse")
    trust = ece.es(show_settings="true")["info"]["settings"]["trust"]
    assert trust == {
        "accounts": [{"account_id": ORGANIZATION_ID, "trust_all": True, "name": "Default trust for own organization"}],
        "external": [],
        "direct": [],
    }


def test_put_tls_model_entry_with_elastic_cloud_pattern_scope_is_accepted(ece: Ece) -> None:
    es = ece.es(**FULL_VIEW)
    entry = {
        "name": "eck-tls",
        "type": "generic",
        "trust_all": True,
        "scope_id": "default.es.local",
        "certificates": [{"pem": make_ca("eck transport").certificate_pem}],
    }
    ece.call("PUT", DEPLOYMENT, 200, json=update_request(es, with_direct(es, entry)))


def test_put_with_a_stale_version_is_a_409_conflict(ece: Ece) -> None:
    es = ece.es(**FULL_VIEW)
    version = ece.version()
    ece.call(
        "PUT", DEPLOYMENT, 200, params={"version": version}, json=update_request(es, with_direct(es, proxy_entry()))
    )
    stale = ece.call(
        "PUT", DEPLOYMENT, 409, params={"version": version}, json=update_request(es, with_direct(es, proxy_entry("b")))
    )
    assert stale.json()["errors"][0]["code"] == "deployments.version_conflict"
    assert stale.headers["x-cloud-error-codes"] == "deployments.version_conflict"
    assert [entry["name"] for entry in ece.es(show_settings="true")["info"]["settings"]["trust"]["direct"]] == [
        "partner-datacenter",
        "eck-quickstart",
    ]


def test_validate_only_changes_nothing(ece: Ece) -> None:
    es = ece.es(**FULL_VIEW)
    version = ece.version()
    ece.call(
        "PUT",
        DEPLOYMENT,
        200,
        params={"validate_only": "true"},
        json=update_request(es, with_direct(es, proxy_entry())),
    )
    assert ece.version() == version
    assert len(ece.es(show_settings="true")["info"]["settings"]["trust"]["direct"]) == 1


def _direct(**changes: Any) -> dict[str, Any]:
    entry = proxy_entry("bad")
    entry.update(changes)
    return {key: value for key, value in entry.items() if value is not None}


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        (_direct(trust_all=True), "trust_all"),
        (_direct(scope_id="abc123"), "scope_id"),
        (_direct(trust_allowlist=["c1"]), "trust_allowlist"),
        (_direct(additional_node_names=["n1.example.com"]), "additional_node_names"),
        (_direct(type="generic", trust_all=True), "scope_id"),
        (_direct(type="generic", trust_all=False, trust_allowlist=["c1"], additional_node_names=["n1"]), "scope_id"),
        (_direct(type="generic", trust_all=True, scope_id="Upper"), "scope_id"),
        (_direct(type="generic", trust_all=True, scope_id="a" * 33), "scope_id"),
        (_direct(type="generic", trust_all=False), "additional_node_names"),
        (_direct(type="generic", trust_all=False, additional_node_names=["*.example.com"]), "additional_node_names[0]"),
        (_direct(certificates=[{"pem": "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"}]), "pem"),
        (_direct(certificates=[]), "certificates"),
        (_direct(type="kubernetes"), "type"),
    ],
    ids=[
        "proxy-trust-all",
        "proxy-scope",
        "proxy-allowlist",
        "proxy-node-names",
        "trust-all-without-scope",
        "allowlist-without-scope",
        "uppercase-scope",
        "long-scope",
        "no-scope-no-node-names",
        "wildcard-node-name",
        "unparseable-pem",
        "no-certificates",
        "unknown-type",
    ],
)
def test_put_rejects_direct_entries_that_break_the_swagger_rules(ece: Ece, entry: dict[str, Any], field: str) -> None:
    es = ece.es(**FULL_VIEW)
    body = update_request(es, with_direct(es, entry))
    response = ece.call("PUT", DEPLOYMENT, 400, json=body) if field != "type" else None
    if response is None:  # an unknown enum value is not a valid request body: send it unchecked
        response = ece.raw("PUT", f"/api/v1{DEPLOYMENT}", json=body)
        assert response.status_code == 400
        ece.spec.validate(response.json(), "BasicFailedReply")
    fields = [f for error in response.json()["errors"] for f in error.get("fields", [])]
    assert any(
        f.startswith("resources.elasticsearch[0].settings.trust.direct[1]") and f.endswith(field) for f in fields
    )
    assert "pending" not in ece.es()["info"]["plan_info"]


def test_put_rejects_a_request_without_prune_orphans_or_with_a_broken_plan(ece: Ece) -> None:
    es = ece.es(**FULL_VIEW)
    body = update_request(es)
    del body["prune_orphans"]
    response = ece.raw("PUT", f"/api/v1{DEPLOYMENT}", json=body)
    assert response.status_code == 400 and response.json()["errors"][0]["fields"] == ["prune_orphans"]
    body = update_request(es)
    body["resources"]["elasticsearch"][0]["plan"]["cluster_topology"] = []
    response = ece.call("PUT", DEPLOYMENT, 400, json=body)
    assert response.json()["errors"][0]["code"] == "clusters.cluster_invalid_plan"
    ece.spec.validate(ece.raw("PUT", f"/api/v1{DEPLOYMENT}", data="{not json").json(), "BasicFailedReply")


def test_prune_orphans_false_leaves_omitted_resources_alone(ece: Ece) -> None:
    ece.call("PUT", DEPLOYMENT, 200, json={"prune_orphans": False, "resources": {"elasticsearch": []}})
    assert ece.es()["ref_id"] == "main-elasticsearch"
    pruned = ece.call("PUT", DEPLOYMENT, 200, json={"prune_orphans": True, "resources": {"elasticsearch": []}})
    assert pruned.json()["shutdown_resources"]["elasticsearch"][0]["id"] == CLUSTER_ID
    assert ece.get()["resources"]["elasticsearch"] == []


def test_put_while_a_plan_is_pending_supersedes_it(ece: Ece) -> None:
    ece.control("POST", "plan-duration", {"seconds": SLOW_PLAN_SECONDS})
    es = ece.es(**FULL_VIEW)
    ece.call("PUT", DEPLOYMENT, 200, json=update_request(es, with_direct(es, proxy_entry("one"))))
    first = ece.es()["info"]["plan_info"]["pending"]["plan_attempt_id"]
    es = ece.es(**FULL_VIEW)
    ece.call("PUT", DEPLOYMENT, 200, json=update_request(es, with_direct(es, proxy_entry("two"))))
    plans = ece.es(show_plan_history="true", show_plan_logs="true")["info"]["plan_info"]
    assert plans["pending"]["plan_attempt_id"] != first
    cancelled = plans["history"][-1]
    assert cancelled["plan_attempt_id"] == first and "superseded" in cancelled["error"]["message"]
    wait_until(ece.plan_done)
    names = [entry["name"] for entry in ece.es(show_settings="true")["info"]["settings"]["trust"]["direct"]]
    assert names == ["partner-datacenter", "one", "two"]


def test_a_plan_made_to_fail_ends_with_an_error_step(ece: Ece) -> None:
    ece.control("POST", "fail-next-plan", {"deployment_id": DEPLOYMENT_ID, "message": "allocator ran out of disk"})
    es = ece.es(**FULL_VIEW)
    ece.call("PUT", DEPLOYMENT, 200, json=update_request(es, with_direct(es, proxy_entry())))
    wait_until(ece.plan_done)
    plans = ece.es(show_plan_logs="true")["info"]["plan_info"]
    current = plans["current"]
    last = current["plan_attempt_log"][-1]
    assert (last["step_id"], last["status"]) == ("plan-completed", "error")
    assert last["info_log"][-1]["message"] == "allocator ran out of disk"
    assert current["error"]["message"] == "allocator ran out of disk"
    assert current["healthy"] is False and plans["healthy"] is False
    # only the next plan fails
    es = ece.es(**FULL_VIEW)
    ece.call("PUT", DEPLOYMENT, 200, json=update_request(es, with_direct(es, proxy_entry("again"))))
    wait_until(ece.plan_done)
    assert ece.es(show_plan_logs="true")["info"]["plan_info"]["current"]["plan_attempt_log"][-1]["status"] == "success"


def test_a_failed_plan_logs_its_failure_as_the_swagger_models_it(ece: Ece) -> None:
    ece.control(
        "POST",
        "fail-next-plan",
        {
            "message": "Plan change failed: Timeout exceeded.",
            "failure_type": "InfrastructureFailure:TimeoutExceeded",
            "internal_details": {"details": "allocator 10.0.0.7 said no"},
        },
    )
    es = ece.es(**FULL_VIEW)
    ece.call("PUT", DEPLOYMENT, 200, json=update_request(es, with_direct(es, proxy_entry())))
    wait_until(ece.plan_done)
    info = ece.es(show_plan_logs="true", show_plan_history="true")["info"]  # validated strictly by `call`
    current = info["plan_info"]["current"]
    failing, completed = current["plan_attempt_log"][-2:]
    assert (failing["step_id"], failing["status"], failing["stage"]) == (
        "rolling-update-instances",
        "error",
        "completed",
    )
    assert (completed["step_id"], completed["status"]) == ("plan-completed", "error")
    message = completed["info_log"][-1]
    assert message["message"] == "Plan change failed: Timeout exceeded."
    assert message["failure_type"] == "InfrastructureFailure:TimeoutExceeded"
    assert message["details"] == {"stepId": "rolling-update-instances"}
    assert message["internal_details"] == {"details": "allocator 10.0.0.7 said no"}
    assert current["error"]["failure_type"] == "InfrastructureFailure:TimeoutExceeded"
    for definition, body in (
        ("ElasticsearchClusterPlanInfo", current),
        ("ClusterPlanStepInfo", completed),
        ("ClusterPlanStepLogMessageInfo", message),
    ):
        ece.spec.validate(body, definition)


def test_a_late_pending_plan_is_invisible_right_after_the_put(ece: Ece) -> None:
    """ECE's constructor picks a plan up after the PUT has answered: for a while a GET shows no pending plan and the
    old current plan, then the pending plan, then the finished one."""
    assert ece.control("POST", "pending-delay", {"seconds": SLOW_PLAN_SECONDS}) == {"seconds": SLOW_PLAN_SECONDS}
    before = ece.es(show_plan_logs="true")["info"]["plan_info"]["current"]["plan_attempt_id"]
    es = ece.es(**FULL_VIEW)
    ece.call("PUT", DEPLOYMENT, 200, json=update_request(es, with_direct(es, proxy_entry())))
    right_after = ece.es(**FULL_VIEW)["info"]
    assert "pending" not in right_after["plan_info"] and right_after["status"] == "started"
    assert right_after["plan_info"]["current"]["plan_attempt_id"] == before
    assert [e["name"] for e in right_after["settings"]["trust"]["direct"]] == ["partner-datacenter", "eck-quickstart"]
    state = ece.control("GET", "state")["deployments"][DEPLOYMENT_ID]["resources"]["main-elasticsearch"]["plans"]
    assert state["pending"] is not None  # the control view shows what ECE holds, visible or not
    pending = wait_until(lambda: ece.es(show_plan_logs="true")["info"]["plan_info"].get("pending"))
    assert pending["plan_attempt_id"] != before
    wait_until(ece.plan_done)
    current = ece.es(show_plan_logs="true")["info"]["plan_info"]["current"]
    assert current["plan_attempt_id"] == pending["plan_attempt_id"]
    assert current["plan_attempt_log"][-1]["status"] == "success"
    ece.control("POST", "reset")
    assert ece.control("GET", "pending-delay") == {"seconds": 0.0}


def test_pending_delay_rejects_a_bad_value(ece: Ece) -> None:
    response = requests.post(f"{ece.url}/_emulator/pending-delay", json={"seconds": -1}, timeout=5)
    assert response.status_code == 400


# --- keystore ---------------------------------------------------------------------------------------------------
def test_keystore_patch_sets_overwrites_removes_and_leaves_other_keys(ece: Ece) -> None:
    key = "cluster.remote.eck1.credentials"
    assert ece.call("GET", KEYSTORE, 200).json() == {"secrets": {FOREIGN_KEYSTORE_KEY: {"as_file": False}}}

    answer = ece.call("PATCH", KEYSTORE, 200, json={"secrets": {key: {"value": "first-secret", "as_file": False}}})
    assert answer.json()["secrets"] == {FOREIGN_KEYSTORE_KEY: {"as_file": False}, key: {"as_file": False}}
    ece.call("PATCH", KEYSTORE, 200, json={"secrets": {key: {"value": "second-secret"}}})
    stored = ece.control("GET", f"keystore/{DEPLOYMENT_ID}/main-elasticsearch")["secrets"]
    assert stored == {
        FOREIGN_KEYSTORE_KEY: {"value": FOREIGN_KEYSTORE_VALUE, "as_file": False},
        key: {"value": "second-secret", "as_file": False},
    }

    ece.call("PATCH", KEYSTORE, 200, json={"secrets": {key: {}}})
    assert ece.call("GET", KEYSTORE, 200).json() == {"secrets": {FOREIGN_KEYSTORE_KEY: {"as_file": False}}}
    assert ece.control("GET", f"keystore/{DEPLOYMENT_ID}")["secrets"][FOREIGN_KEYSTORE_KEY]["value"] == (
        FOREIGN_KEYSTORE_VALUE
    )


def test_keystore_values_are_never_readable_through_the_api(ece: Ece) -> None:
    secret = "do-not-leak-8d1c"
    patched = ece.call("PATCH", KEYSTORE, 200, json={"secrets": {"cluster.remote.a.credentials": {"value": secret}}})
    everything = FULL_VIEW | {"show_metadata": "true", "show_plan_history": "true"}
    texts = [
        patched.text,
        ece.call("GET", KEYSTORE, 200).text,
        ece.call("GET", DEPLOYMENT, 200, params=everything).text,
    ]
    assert all(secret not in text and FOREIGN_KEYSTORE_VALUE not in text for text in texts)


def test_keystore_object_values_are_stored_as_json_files_and_main_ref_id_works(ece: Ece) -> None:
    path = f"{DEPLOYMENT}/elasticsearch/_main/keystore"
    ece.call("PATCH", path, 200, json={"secrets": {"gcs.client.default.credentials_file": {"value": {"type": "sa"}}}})
    assert ece.call("GET", path, 200).json()["secrets"]["gcs.client.default.credentials_file"] == {"as_file": True}
    stored = ece.control("GET", f"keystore/{DEPLOYMENT_ID}/_main")["secrets"]["gcs.client.default.credentials_file"]
    assert json.loads(stored["value"]) == {"type": "sa"}


def test_keystore_of_an_unknown_resource_is_404(ece: Ece) -> None:
    for method, body in (("GET", None), ("PATCH", {"secrets": {}})):
        response = ece.call(method, f"{DEPLOYMENT}/elasticsearch/nope/keystore", 404, json=body)
        assert response.json()["errors"][0]["code"] == "deployments.deployment_resource_not_found"


def test_main_ref_id_is_refused_when_there_are_two_elasticsearch_resources(ece: Ece) -> None:
    other = "0123456789abcdef0123456789abcdef"
    ece.control("POST", "deployments", {"id": other, "elasticsearch": [{"ref_id": "a"}, {"ref_id": "b"}]})
    response = ece.call("GET", f"/deployments/{other}/elasticsearch/_main/keystore", 404)
    assert response.json()["errors"][0]["code"] == "deployments.deployment_resource_not_found"
    ece.call("GET", f"/deployments/{other}/elasticsearch/b/keystore", 200)


# --- _restart ---------------------------------------------------------------------------------------------------
def test_restart_starts_a_plan_and_refuses_a_second_one_while_pending(ece: Ece) -> None:
    ece.control("POST", "plan-duration", {"seconds": SLOW_PLAN_SECONDS})
    ece.call("POST", RESTART, 202)
    info = ece.es()["info"]
    assert info["plan_info"]["pending"] and info["status"] == "restarting"
    refused = ece.call("POST", RESTART, 422)
    assert refused.json()["errors"][0]["code"] == "deployments.deployment_resource_plan_change_error"
    assert refused.headers["x-cloud-error-codes"] == "deployments.deployment_resource_plan_change_error"
    ece.call("POST", RESTART, 202, params={"cancel_pending": "true"})
    wait_until(ece.plan_done)
    last = ece.es(show_plan_logs="true")["info"]["plan_info"]["current"]["plan_attempt_log"][-1]
    assert (last["step_id"], last["status"]) == ("plan-completed", "success")
    ece.call("POST", f"{DEPLOYMENT}/elasticsearch/nope/_restart", 404)


# --- certificate authority --------------------------------------------------------------------------------------
def test_certificate_authority_is_a_ca_with_metadata_and_a_trust_restriction(ece: Ece) -> None:
    body = ece.call("GET", f"{DEPLOYMENT}/certificate-authority", 200).json()
    [certificate] = body["public_certificates"]
    assert certificate["active"] is True
    parsed = x509.load_pem_x509_certificate(certificate["pem"].encode())
    assert parsed.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert certificate["metadata"]["fingerprint"] == sha256_fingerprint(certificate["pem"])
    assert body["recommended_trust_restriction"] == f"*.node.{CLUSTER_ID}.cluster.{ENVIRONMENT_ID}.account"
    other = "abcdef0123456789abcdef0123456789"
    ece.control("POST", "deployments", {"id": other})
    assert (
        ece.call("GET", f"/deployments/{other}/certificate-authority", 200).json()["public_certificates"][0]["pem"]
        != certificate["pem"]
    )


# --- Elasticsearch proxy ----------------------------------------------------------------------------------------
MANAGEMENT = {"X-Management-Request": "true"}


def test_proxy_requires_the_management_header(ece: Ece, linked: Upstream) -> None:
    response = ece.raw("GET", f"/api/v1{PROXY}/_cluster/settings")
    assert response.status_code == 400
    ece.spec.validate(response.json(), "BasicFailedReply")
    assert response.json()["errors"][0]["code"] == "root.invalid_data"
    assert linked.received == []


def test_proxy_forwards_method_query_and_body_as_the_elastic_user(ece: Ece, linked: Upstream) -> None:
    settings = {"persistent": {"cluster.remote.eck1.mode": "proxy"}}
    response = ece.call(
        "PUT",
        f"{PROXY}/_cluster/settings",
        200,
        body_check=False,  # the proxy passes the Elasticsearch answer through, not a GenericResponse
        headers=MANAGEMENT,
        params={"flat_settings": "true"},
        data=json.dumps(settings),
    )
    echoed = response.json()
    assert (echoed["method"], echoed["path"]) == ("PUT", "/_cluster/settings")
    assert echoed["query"] == {"flat_settings": ["true"]}
    assert json.loads(echoed["body"]) == settings
    expected = base64.b64encode(f"elastic:{ES_PASSWORD}".encode()).decode()
    assert echoed["authorization"] == f"Basic {expected}"
    for method in ("GET", "POST", "DELETE"):
        assert (
            ece.call(method, f"{PROXY}/_remote/info", 200, body_check=False, headers=MANAGEMENT).json()["method"]
            == method
        )


def test_proxy_passes_status_and_content_type_through(ece: Ece, linked: Upstream) -> None:
    missing = ece.raw("GET", f"/api/v1{PROXY}/missing-index", headers=MANAGEMENT, params={"echo_status": "404"})
    assert missing.status_code == 404 and missing.json()["path"] == "/missing-index"
    text = ece.raw("GET", f"/api/v1{PROXY}/_cat/indices", headers=MANAGEMENT)
    assert text.status_code == 200 and text.headers["Content-Type"] == "text/plain; charset=UTF-8"
    assert text.text == "green open logs-1 1 1\n"


def test_proxy_without_a_linked_cluster_or_to_another_kind_is_404(ece: Ece) -> None:
    response = ece.call("GET", f"{PROXY}/_cluster/health", 404, headers=MANAGEMENT)
    assert response.json()["errors"][0]["code"] == "clusters.cluster_not_found"
    response = ece.call("GET", f"{DEPLOYMENT}/kibana/main-kibana/proxy/api/status", 404, headers=MANAGEMENT)
    assert response.json()["errors"][0]["code"] == "deployments.deployment_resource_not_found"


# --- pushes to the linked Elasticsearch -------------------------------------------------------------------------
def test_keystore_patch_pushes_the_whole_keystore_with_reload_on_recent_versions(ece: Ece, linked: Upstream) -> None:
    ece.call("PATCH", KEYSTORE, 200, json={"secrets": {"cluster.remote.eck1.credentials": {"value": "abc"}}})
    [push] = linked.pushed("keystore")  # sent before the PATCH answered
    assert push == {
        "secrets": {FOREIGN_KEYSTORE_KEY: FOREIGN_KEYSTORE_VALUE, "cluster.remote.eck1.credentials": "abc"},
        "reload": True,
    }
    auth = linked.pushes[0][2]
    assert auth == "Basic " + base64.b64encode(f"elastic:{ES_PASSWORD}".encode()).decode()


def test_old_versions_load_the_keystore_only_after_a_restart(ece: Ece, upstream: tuple[Upstream, str]) -> None:
    stand_in, url = upstream
    old = "fedcba9876543210fedcba9876543210"
    ece.control("POST", "deployments", {"id": old, "elasticsearch": [{"version": "8.13.4"}], "elasticsearch_url": url})
    path = f"/deployments/{old}/elasticsearch/_main"
    ece.call("PATCH", f"{path}/keystore", 200, json={"secrets": {"cluster.remote.eck1.credentials": {"value": "k"}}})
    assert stand_in.pushed("keystore") == [{"secrets": {"cluster.remote.eck1.credentials": "k"}, "reload": False}]
    ece.call("POST", f"{path}/_restart", 202)
    wait_until(lambda: len(stand_in.pushed("keystore")) == 2)
    assert stand_in.pushed("keystore")[1] == {"secrets": {"cluster.remote.eck1.credentials": "k"}, "reload": True}


def test_a_finished_plan_pushes_every_direct_certificate(ece: Ece, linked: Upstream) -> None:
    es = ece.es(**FULL_VIEW)
    entry = proxy_entry()
    ece.call("PUT", DEPLOYMENT, 200, json=update_request(es, with_direct(es, entry)))
    [push] = wait_until(lambda: linked.pushed("trust"))
    partner_pem = es["info"]["settings"]["trust"]["direct"][0]["certificates"][0]["pem"]
    assert push == {"certificates": [partner_pem, entry["certificates"][0]["pem"]]}


def test_a_failed_plan_pushes_no_trust(ece: Ece, linked: Upstream) -> None:
    ece.control("POST", "fail-next-plan", {})
    es = ece.es(**FULL_VIEW)
    ece.call("PUT", DEPLOYMENT, 200, json=update_request(es, with_direct(es, proxy_entry())))
    wait_until(ece.plan_done)
    assert linked.pushed("trust") == []


def test_a_push_failure_is_recorded_and_does_not_fail_the_api(ece: Ece) -> None:
    ece.control("POST", "elasticsearch-link", {"deployment_id": DEPLOYMENT_ID, "url": "http://127.0.0.1:9"})
    ece.call("PATCH", KEYSTORE, 200, json={"secrets": {"cluster.remote.x.credentials": {"value": "v"}}})
    [push] = ece.control("GET", "state")["pushes"]
    assert push["url"] == "http://127.0.0.1:9/_emulator/keystore" and push["error"]


# --- controls ---------------------------------------------------------------------------------------------------
def test_reset_restores_the_initial_deployment(ece: Ece) -> None:
    ece.control("POST", "plan-duration", {"seconds": 3})
    ece.control("POST", "deployments", {"id": "0123456789abcdef0123456789abcdef"})
    ece.call("PATCH", KEYSTORE, 200, json={"secrets": {FOREIGN_KEYSTORE_KEY: {}}})
    ece.control("POST", "reset")
    state = ece.control("GET", "state")
    assert list(state["deployments"]) == [DEPLOYMENT_ID] and state["plan_seconds"] == PLAN_SECONDS
    assert ece.call("GET", KEYSTORE, 200).json()["secrets"] == {FOREIGN_KEYSTORE_KEY: {"as_file": False}}


def test_state_dumps_trust_keystore_values_and_plans(ece: Ece) -> None:
    state = ece.control("GET", "state")
    resource = state["deployments"][DEPLOYMENT_ID]["resources"]["main-elasticsearch"]
    assert resource["keystore"][FOREIGN_KEYSTORE_KEY]["value"] == FOREIGN_KEYSTORE_VALUE
    assert resource["trust"]["direct"][0]["name"] == "partner-datacenter"
    assert resource["plans"]["current"]["outcome"] == "success" and resource["elasticsearch_version"] == "9.3.2"
    assert state["plan_seconds"] == PLAN_SECONDS


def test_an_invalid_fixture_is_refused(ece: Ece) -> None:
    response = requests.post(f"{ece.url}/_emulator/deployments", json={"id": "short"}, timeout=5)
    assert response.status_code == 400
    bad_trust = {"id": "0123456789abcdef0123456789abcdef", "elasticsearch": [{"settings": {"trust": {"direct": [{}]}}}]}
    assert requests.post(f"{ece.url}/_emulator/deployments", json=bad_trust, timeout=5).status_code == 400


# --- faults -----------------------------------------------------------------------------------------------------
def _fault(ece: Ece, spec: dict[str, Any]) -> None:
    ece.control("POST", "faults", {"route": f"GET /api/v1/deployments/{DEPLOYMENT_ID}", **spec})


def test_fault_drop_closes_the_connection(ece: Ece) -> None:
    _fault(ece, {"kind": "drop"})
    with pytest.raises(requests.ConnectionError):
        ece.raw("GET", f"/api/v1{DEPLOYMENT}")
    ece.call("GET", DEPLOYMENT, 200)


def test_fault_slow_delays_the_answer(ece: Ece) -> None:
    _fault(ece, {"kind": "slow", "delay": 0.3})
    started = time.monotonic()
    ece.call("GET", DEPLOYMENT, 200)
    assert time.monotonic() - started >= 0.3


def test_fault_retry_after_is_429_with_the_header(ece: Ece) -> None:
    _fault(ece, {"kind": "retry_after", "retry_after": 7})
    response = ece.raw("GET", f"/api/v1{DEPLOYMENT}")
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"


def test_fault_html_is_a_text_html_error_page(ece: Ece) -> None:
    _fault(ece, {"kind": "html", "status": 502})
    response = ece.raw("GET", f"/api/v1{DEPLOYMENT}")
    assert response.status_code == 502 and response.headers["Content-Type"].startswith("text/html")
    assert "<html>" in response.text


def test_fault_status_answers_the_given_status_and_body(ece: Ece) -> None:
    body = {"errors": [{"code": "root.unavailable", "message": "maintenance"}]}
    _fault(ece, {"kind": "status", "status": 503, "body": body, "times": 2})
    assert [ece.raw("GET", f"/api/v1{DEPLOYMENT}").status_code for _ in range(3)] == [503, 503, 200]


def test_fault_conflict_is_the_deployment_version_conflict(ece: Ece) -> None:
    ece.control("POST", "faults", {"route": f"PUT /api/v1/deployments/{DEPLOYMENT_ID}", "kind": "conflict"})
    es = ece.es(**FULL_VIEW)
    response = ece.call("PUT", DEPLOYMENT, 409, json=update_request(es, with_direct(es, proxy_entry())))
    assert response.json()["errors"][0]["code"] == "deployments.version_conflict"
    assert len(ece.es(show_settings="true")["info"]["settings"]["trust"]["direct"]) == 1


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (409, "deployments.version_conflict"),
        (409, "deployments.deployment_resource_plan_change_error"),
        (400, "deployments.version_conflict"),
        (400, "root.version_conflict"),
    ],
)
def test_the_conflict_answer_can_take_each_plausible_shape(ece: Ece, status: int, code: str) -> None:
    """The swagger documents no conflict answer for PUT /deployments/{id}: the shape is a control, used both by a
    stale `?version=` and by the `conflict` fault."""
    shape = ece.control("POST", "conflict-answer", {"status": status, "code": code})
    assert shape == {"status": status, "code": code}
    es = ece.es(**FULL_VIEW)
    stale = ece.raw("PUT", f"/api/v1{DEPLOYMENT}", params={"version": "0"}, json=update_request(es))
    faulted_route = f"PUT /api/v1/deployments/{DEPLOYMENT_ID}"
    ece.control("POST", "faults", {"route": faulted_route, "kind": "conflict"})
    faulted = ece.raw("PUT", f"/api/v1{DEPLOYMENT}", json=update_request(es))
    for response in (stale, faulted):
        assert response.status_code == status
        assert response.json()["errors"][0]["code"] == code
        assert response.headers["x-cloud-error-codes"] == code
        ece.spec.validate(response.json(), "BasicFailedReply")
    ece.control("POST", "reset")
    assert ece.control("GET", "conflict-answer") == {"status": 409, "code": "deployments.version_conflict"}


@pytest.mark.parametrize("shape", [{"status": 200, "code": "x.version_conflict"}, {"status": 409}, {"code": 1}])
def test_the_conflict_answer_rejects_a_bad_shape(ece: Ece, shape: dict[str, Any]) -> None:
    response = requests.post(f"{ece.url}/_emulator/conflict-answer", json=shape, timeout=5)
    assert response.status_code == 400


# --- CLI --------------------------------------------------------------------------------------------------------
def test_cli_serves_fixture_file_with_elasticsearch_link(tmp_path: Path, upstream: tuple[Upstream, str]) -> None:
    stand_in, url = upstream
    deployment_id = "00112233445566778899aabbccddeeff"
    fixture = tmp_path / "fixture.json"
    fixture.write_text(json.dumps({"id": deployment_id, "name": "cli", "elasticsearch": [{"version": "9.1.0"}]}))
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulators.ece",
            "--port",
            "0",
            "--api-key",
            API_KEY,
            "--fixture",
            str(fixture),
            "--plan-seconds",
            "0.1",
            "--deployment-es",
            f"{deployment_id}={url}",
            "--deployment-es-password",
            f"{deployment_id}={ES_PASSWORD}",
        ],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("ece emulator ready on http://127.0.0.1:"), line
        base = line.rsplit(" ", 1)[1].strip()
        headers = {"Authorization": f"ApiKey {API_KEY}", "X-Management-Request": "true"}
        answer = requests.get(f"{base}/api/v1/deployments/{deployment_id}", headers=headers, timeout=5)
        assert answer.status_code == 200 and answer.json()["name"] == "cli"
        proxied = requests.get(
            f"{base}/api/v1/deployments/{deployment_id}/elasticsearch/_main/proxy/_remote/info",
            headers=headers,
            timeout=5,
        )
        assert proxied.json()["path"] == "/_remote/info"
        assert stand_in.received[0].path == "/_remote/info"
    finally:
        process.terminate()
        process.wait(timeout=5)


# --- the swagger helper itself ----------------------------------------------------------------------------------
def test_swagger_helper_catches_invented_fields_missing_fields_and_undocumented_routes(spec: EceSwagger) -> None:
    example = json.loads((spec_dir() / "ece-examples" / "deployment-get.json").read_text())
    assert spec.errors(example, "DeploymentGetResponse", strict=False) == [
        "settings: 'auto_ops' is a required property"
    ]
    assert any("invented" in problem for problem in spec.errors({"errors": [], "invented": 1}, "BasicFailedReply"))
    assert spec.errors({"errors": [{"code": "x"}]}, "BasicFailedReply") == [
        "errors/0: 'message' is a required property"
    ]
    assert spec.errors({"secrets": {"k": {"value": "text"}}}, "KeystoreContents") == []
    assert spec.template("/api/v1/deployments/x/elasticsearch/y/proxy/_cat/indices") == (
        "/deployments/{deployment_id}/{resource_kind}/{ref_id}/proxy/{proxy_path}"
    )
    # the region prefix belongs only to the routes cloud-sdk-go sends to a region (pkg/api/client_runtime.go)
    assert spec.template("/api/v1/regions/ece-region/platform/configuration/trust-relationships") == (
        "/platform/configuration/trust-relationships"
    )
    with pytest.raises(KeyError):
        spec.template("/api/v1/regions/ece-region/deployments/x/elasticsearch/y/proxy/_cat/indices")
    assert spec.has_status("POST", "/deployments/{deployment_id}/elasticsearch/{ref_id}/_restart", 422)
    assert not spec.has_status("PUT", "/deployments/{deployment_id}", 409)
    assert not spec.has_status("PATCH", "/deployments/{deployment_id}", 200)


def spec_dir() -> Path:
    return SPECS
