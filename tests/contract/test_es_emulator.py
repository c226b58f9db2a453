"""The Elasticsearch emulator over real HTTP: its routes are the rest-api-spec's (paths, methods, query params),
the spec's request examples replay against it with responses shaped like the response examples, and the
cross-cutting behaviour (auth, errors, faults, roles, remote info, reload, CLI) follows the reference.

Cross-cluster API keys and cluster settings rules have their own files (`test_es_emulator_api_keys.py`,
`test_es_emulator_settings.py`)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509

from emulators.common import running
from emulators.elasticsearch import Config, ElasticsearchEmulator
from tests.support import es_spec
from tests.support.es_spec import SpecCheckedSession

PASSWORD = "test-elastic-password"
# Routes the emulator serves whose rest-api-spec files were not copied to shared/specs (ES has them).
UNSPECIFIED = ("GET /", "HEAD /", "GET /_security/role", "GET /_security/role/{name}", "DELETE /_security/role/{name}")
SEARCH_ACCESS = {"search": [{"names": ["logs-*"]}]}


@dataclass
class Es:
    emulator: ElasticsearchEmulator
    url: str
    api: SpecCheckedSession  # authenticated, every request checked against the spec

    def control(self, method: str, what: str, body: Any = None, status: int = 200) -> Any:
        response = requests.request(method, f"{self.url}/_emulator/{what}", json=body, timeout=10)
        assert response.status_code == status, response.text
        return response.json()

    def create_key(self, **body: Any) -> dict[str, Any]:
        response = self.api.post(
            "/_security/cross_cluster/api_key", json={"name": "k", "access": SEARCH_ACCESS, **body}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture(scope="module")
def emulators() -> Iterator[Any]:
    """Running emulators shared by a module's tests, one per configuration (a server takes 0.5 s to stop)."""
    with ExitStack() as stack:
        pool: dict[tuple[tuple[str, Any], ...], tuple[ElasticsearchEmulator, str]] = {}

        def get(**config: Any) -> tuple[ElasticsearchEmulator, str]:
            key = tuple(sorted(config.items()))
            if key not in pool:
                emulator = ElasticsearchEmulator(Config(elastic_password=PASSWORD, **config))
                stack.callback(emulator.close)
                handle = stack.enter_context(running(emulator))
                # Linux hands TCP_NODELAY on to accepted sockets: no 40 ms delayed-ACK stall between the
                # header and body writes of each answer.
                handle.server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                pool[key] = emulator, handle.url
            return pool[key]

        yield get


@pytest.fixture
def make_es(emulators: Any) -> Iterator[Any]:
    """`make_es(**config)`: an emptied emulator of that configuration and a spec-checked session to it."""
    with ExitStack() as stack:

        def make(**config: Any) -> Es:
            emulator, url = emulators(**config)
            emulator.reset()
            session = SpecCheckedSession(url, auth=("elastic", PASSWORD), unspecified=UNSPECIFIED)
            stack.callback(session.close)
            return Es(emulator, url, session)

        yield make


@pytest.fixture
def es(make_es: Any) -> Es:
    made: Es = make_es()
    return made


def error_of(response: requests.Response, status: int) -> dict[str, Any]:
    """The error object of an Elasticsearch-shaped error answer, checking the shape on the way."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "status"} and body["status"] == status
    error = body["error"]
    assert isinstance(error["root_cause"], list) and error["root_cause"]
    assert {"type", "reason"} <= set(error["root_cause"][0]) and {"type", "reason"} <= set(error)
    return dict(error)


# --- (a) routes and parameters are the spec's ---------------------------------------------------------------
PATH_PARTS = {"id": "no-such-key", "name": "spec_role", "node_id": "_all"}
BODIES: dict[str, Any] = {
    "cluster.put_settings": {"persistent": {"action.destructive_requires_name": "true"}},
    "security.create_cross_cluster_api_key": {"name": "k", "access": SEARCH_ACCESS},
    "security.update_cross_cluster_api_key": {"metadata": {"a": 1}},
    "security.invalidate_api_key": {"ids": ["no-such-key"]},
    "security.put_role": {"cluster": ["monitor"]},
}
SPEC_ROUTES = [
    (api.name, method, path.template)
    for api in es_spec.apis().values()
    for path in api.paths
    for method in path.methods
]


@pytest.mark.parametrize(("api", "method", "template"), SPEC_ROUTES, ids=[f"{m} {t}" for _a, m, t in SPEC_ROUTES])
def test_every_spec_route_is_served(es: Es, api: str, method: str, template: str) -> None:
    path = template.format(**PATH_PARTS)
    response = es.api.request(method, path, json=BODIES.get(api))
    assert es.api.called == {api}
    text = response.text
    assert "no handler found" not in text and "Incorrect HTTP method" not in text, text
    assert response.status_code in (200, 404), text  # 404: the unknown key id of the update route
    assert response.headers["X-elastic-product"] == "Elasticsearch"


def _sample(spec: dict[str, Any]) -> str:
    kind = spec.get("type")
    if kind == "boolean":
        return "true"
    if kind == "time":
        return "30s"
    if kind == "enum":
        return str(spec["options"][0])
    return "x"


SPEC_PARAMS = [
    (api.name, path, name, _sample(spec))
    for api in es_spec.apis().values()
    for path in api.paths[:1]
    for name, spec in api.params.items()
]


@pytest.mark.parametrize(
    ("api", "path", "param", "value"), SPEC_PARAMS, ids=[f"{a}?{p}" for a, _s, p, _v in SPEC_PARAMS]
)
def test_every_spec_param_is_accepted(es: Es, api: str, path: es_spec.SpecPath, param: str, value: str) -> None:
    method = path.methods[0]
    response = es.api.request(method, path.template.format(**PATH_PARTS), params={param: value}, json=BODIES.get(api))
    assert "unrecognized parameter" not in response.text, response.text
    assert response.status_code in (200, 404), response.text


def test_a_param_outside_the_spec_is_refused_like_elasticsearch(es: Es) -> None:
    with pytest.raises(AssertionError, match="not in the spec"):
        es.api.get("/_remote/info", params={"verbose": "true"})
    response = requests.get(f"{es.url}/_remote/info", params={"verbose": "true"}, auth=("elastic", PASSWORD), timeout=5)
    error = error_of(response, 400)
    assert error["type"] == "illegal_argument_exception"
    assert error["reason"] == "request [/_remote/info] contains unrecognized parameter: [verbose]"


@pytest.mark.parametrize(
    ("method", "path", "params", "reason"),
    [
        (
            "GET",
            "/_cluster/settings",
            {"flat_settings": "yes"},
            "Failed to parse value [yes] as only [true] or [false] are allowed.",
        ),
        ("DELETE", "/_security/role/r", {"refresh": "soon"}, "Unknown value for refresh: [soon]."),
        (
            "GET",
            "/_remote/info",
            {"a": "1", "b": "2"},
            "request [/_remote/info] contains unrecognized parameters: [a], [b]",
        ),
    ],
)
def test_parameter_values_are_checked(es: Es, method: str, path: str, params: dict[str, str], reason: str) -> None:
    response = requests.request(method, f"{es.url}{path}", params=params, auth=("elastic", PASSWORD), timeout=5)
    assert error_of(response, 400)["reason"] == reason


def test_filter_path_applies_to_every_api(es: Es) -> None:
    key = es.create_key(metadata={"a": 1})
    body = es.api.get(
        "/_security/api_key", params={"filter_path": "api_keys.id,api_keys.role_descriptors.**.cluster"}
    ).json()
    assert body == {
        "api_keys": [
            {
                "id": key["id"],
                "role_descriptors": {"cross_cluster": {"cluster": ["cross_cluster_search", "monitor_enrich"]}},
            }
        ]
    }
    assert es.api.get(
        "/_security/api_key", params={"filter_path": "-api_keys.role_descriptors,-api_keys.access"}
    ).json()["api_keys"][0]["metadata"] == {"a": 1}


def test_reset_empties_the_cluster(es: Es) -> None:
    es.create_key()
    es.api.put("/_security/role/r", json={"cluster": ["monitor"]})
    es.control("PUT", "keystore", {"secrets": {"a": "b"}, "reload": True})
    es.control("POST", "reset")
    state = es.control("GET", "state")
    assert state["api_keys"] == [] and state["roles"] == {} and state["keystore"]["effective"] == {}


def test_the_spec_checker_refuses_unknown_routes_and_methods() -> None:
    with pytest.raises(AssertionError, match="not in the rest-api-spec"):
        es_spec.check_request("POST", "/_remote/info")
    with pytest.raises(AssertionError, match="not in the rest-api-spec"):
        es_spec.check_request("GET", "/_security/cross_cluster/api_key/abc")
    assert es_spec.check_request("PUT", "/_security/cross_cluster/api_key/abc").name == (
        "security.update_cross_cluster_api_key"
    )
    assert es_spec.check_request("GET", "/_cluster/settings?flat_settings=true&pretty").name == "cluster.get_settings"


def test_routes_outside_the_api_answer_like_elasticsearch(es: Es) -> None:
    auth = ("elastic", PASSWORD)
    error = error_of(requests.get(f"{es.url}/_nothing/here", auth=auth, timeout=5), 400)
    assert error["reason"] == "no handler found for uri [/_nothing/here] and method [GET]"
    response = requests.post(f"{es.url}/_remote/info", auth=auth, timeout=5)
    error = error_of(response, 405)
    assert error["reason"] == "Incorrect HTTP method for uri [/_remote/info] and method [POST], allowed: [GET]"


def test_root_reports_the_version(make_es: Any) -> None:
    es = make_es(version="8.15.1", cluster_name="eck-one")
    body = es.api.get("/").json()
    assert body["version"]["number"] == "8.15.1" and body["cluster_name"] == "eck-one"
    assert body["tagline"] == "You Know, for Search"


# --- (b) the spec's examples, replayed ----------------------------------------------------------------------
def test_create_example_replays_with_the_real_response_shape(es: Es) -> None:
    request = es_spec.example("security.create_cross_cluster_api_key", "CreateCrossClusterApiKeyRequestExample1")
    wrong = es_spec.example("security.create_cross_cluster_api_key", "CreateCrossClusterApiKeyResponseExample1")
    assert "token" in wrong.body  # PROVENANCE.md: the spec's response example is a service-token response
    before = int(time.time() * 1000)
    response = es.api.request(request.method, request.path, json=request.body)
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["id", "name", "expiration", "api_key", "encoded"]
    assert body["name"] == "my-cross-cluster-api-key"
    assert before + 86_400_000 <= body["expiration"] <= int(time.time() * 1000) + 86_400_000


def test_get_example_and_response_examples_shapes(es: Es) -> None:
    key = es.create_key(expiration="1d", metadata={"application": "myapp"})
    request = es_spec.example("security.get_api_key", "SecurityGetApiKeyRequestExample2")
    response = es.api.get(request.path, params=request.query)
    assert response.status_code == 200 and response.json() == {"api_keys": []}  # nothing of myuser@native1
    got = es.api.get("/_security/api_key", params={"id": key["id"]}).json()
    first = es_spec.example("security.get_api_key", "SecurityGetApiKeyResponseExample1").body
    # `limited_by` is documented for REST keys only; it never appears for cross-cluster keys (reference).
    assert es_spec.shape_problems(first, got, ignore=["$.api_keys[].limited_by"]) == []
    assert "limited_by" not in got["api_keys"][0]
    second = es_spec.example("security.get_api_key", "SecurityGetApiKeyResponseExample2").body
    assert es_spec.shape_problems(second, got, keyed_by_id=["$.api_keys[].role_descriptors"]) == []


@pytest.mark.parametrize("name", [e.name for e in es_spec.examples("security.invalidate_api_key", "request")])
def test_invalidate_examples_replay(es: Es, name: str) -> None:
    request = es_spec.example("security.invalidate_api_key", name)
    response = es.api.request(request.method, request.path, json=request.body)
    assert response.status_code == 200, response.text
    documented = es_spec.example("security.invalidate_api_key", "SecurityInvalidateApiKeyResponseExample1").body
    # error_details appears only when error_count > 0 (reference)
    assert es_spec.shape_problems(documented, response.json(), ignore=["$.error_details"]) == []
    assert response.json() == {"invalidated_api_keys": [], "previously_invalidated_api_keys": [], "error_count": 0}


def test_update_example_replays(es: Es) -> None:
    request = es_spec.example("security.update_cross_cluster_api_key", "UpdateCrossClusterApiKeyRequestExample1")
    error = error_of(es.api.request(request.method, request.path, json=request.body), 404)
    assert error["reason"] == "no API key owned by requesting user found for ID [VuaCfGcBCdbkQm-e5aOx]"
    key = es.create_key()
    path = request.path.replace("VuaCfGcBCdbkQm-e5aOx", key["id"])
    response = es.api.request(request.method, path, json=request.body)
    documented = es_spec.example("security.update_cross_cluster_api_key", "UpdateCrossClusterApiKeyResponseExample1")
    assert response.status_code == 200 and response.json() == documented.body
    item = es.api.get("/_security/api_key", params={"id": key["id"]}).json()["api_keys"][0]
    assert item["access"] == {"replication": [{"names": ["archive"], "allow_restricted_indices": False}]}
    assert item["metadata"] == {"application": "replication"}


@pytest.mark.parametrize("name", [e.name for e in es_spec.examples("security.put_role", "request")])
def test_put_role_examples_replay(es: Es, name: str) -> None:
    request = es_spec.example("security.put_role", name)
    response = es.api.request(request.method, request.path, json=request.body)
    documented = es_spec.example("security.put_role", "SecurityPutRoleResponseExample1").body
    assert response.status_code == 200 and response.json() == documented
    role = request.path.rsplit("/", 1)[1]
    stored = es.api.get(f"/_security/role/{role}").json()[role]
    if "remote_indices" in request.body:
        assert stored["remote_indices"] == [
            {
                "clusters": ["my_remote"],
                "names": ["logs*"],
                "privileges": ["read", "read_cross_cluster", "view_index_metadata"],
                "allow_restricted_indices": False,
            }
        ]
        assert stored["remote_cluster"] == [{"privileges": ["monitor_stats"], "clusters": ["my_remote"]}]


@pytest.mark.parametrize("name", [e.name for e in es_spec.examples("cluster.put_settings", "request")])
def test_put_settings_examples_replay(es: Es, name: str) -> None:
    request = es_spec.example("cluster.put_settings", name)
    response = es.api.request(request.method, request.path, json=request.body)
    assert response.status_code == 200, response.text
    [(key, value)] = request.body["persistent"].items()
    assert response.json()["acknowledged"] is True
    got = es.api.get("/_cluster/settings", params={"flat_settings": "true"}).json()
    assert got["persistent"] == {key: value} and got["transient"] == {}


def test_get_settings_example_filters_the_remote_settings(es: Es) -> None:
    request = es_spec.example("cluster.get_settings", "ClusterGetSettingsExample1")
    assert es.api.get(request.path, params=request.query).json() == {}
    es.api.put(
        "/_cluster/settings",
        json={
            "persistent": {
                "cluster.remote.eck.mode": "proxy",
                "cluster.remote.eck.proxy_address": "127.0.0.1:9443",
                "indices.recovery.max_bytes_per_sec": "50mb",
            }
        },
    )
    body = es.api.get(request.path, params=request.query).json()
    assert body == {
        "persistent": {"cluster": {"remote": {"eck": {"mode": "proxy", "proxy_address": "127.0.0.1:9443"}}}}
    }


def test_remote_info_example_replays(es: Es) -> None:
    request = es_spec.example("cluster.remote_info", "ClusterRemoteInfoExample1")
    assert es.api.request(request.method, request.path).json() == {}


def test_reload_example_replays_with_the_documented_shape(es: Es) -> None:
    request = es_spec.example("nodes.reload_secure_settings", "ReloadSecureSettingsRequestExample1")
    response = es.api.request(request.method, request.path, json=request.body)
    documented = es_spec.example("nodes.reload_secure_settings", "ReloadSecureSettingsResponseExample1").body
    assert response.status_code == 200
    assert es_spec.shape_problems(documented, response.json(), keyed_by_id=["$.nodes"]) == []


# --- authentication -----------------------------------------------------------------------------------------
def test_missing_credentials_are_refused_with_a_challenge(es: Es) -> None:
    response = requests.get(f"{es.url}/_cluster/settings", timeout=5)
    error = error_of(response, 401)
    assert error["type"] == "security_exception"
    assert error["reason"] == "missing authentication credentials for REST request [/_cluster/settings]"
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert "WWW-Authenticate" in error["header"]


@pytest.mark.parametrize(("user", "password"), [("elastic", "wrong"), ("other", PASSWORD)])
def test_wrong_credentials_are_refused(es: Es, user: str, password: str) -> None:
    response = requests.get(f"{es.url}/", auth=(user, password), timeout=5)
    error = error_of(response, 401)
    assert error["reason"] == f"unable to authenticate user [{user}] for REST request [/]"
    assert "WWW-Authenticate" in response.headers


def test_a_cross_cluster_key_cannot_call_the_rest_api(es: Es) -> None:
    key = es.create_key()
    response = requests.get(f"{es.url}/_remote/info", headers={"Authorization": f"ApiKey {key['encoded']}"}, timeout=5)
    error = error_of(response, 401)
    assert error["reason"] == (
        f"authentication expected API key type of [rest], but API key [{key['id']}] has type [cross_cluster]"
    )


def test_a_body_must_be_json(es: Es) -> None:
    response = requests.put(
        f"{es.url}/_cluster/settings",
        data=b'{"persistent":{}}',
        headers={"Content-Type": "text/plain"},
        auth=("elastic", PASSWORD),
        timeout=5,
    )
    assert error_of(response, 406)["reason"] == "Content-Type header [text/plain] is not supported"


# --- faults -------------------------------------------------------------------------------------------------
def test_fault_status_then_normal(es: Es) -> None:
    es.control("POST", "faults", {"route": "GET /_remote/info", "kind": "status", "status": 503, "times": 2})
    assert [es.api.get("/_remote/info").status_code for _ in range(3)] == [503, 503, 200]


def test_fault_retry_after(es: Es) -> None:
    es.control("POST", "faults", {"route": "PUT /_cluster/settings", "kind": "retry_after", "retry_after": 3})
    response = es.api.put("/_cluster/settings", json={"persistent": {"action.auto_create_index": "false"}})
    assert response.status_code == 429 and response.headers["Retry-After"] == "3"
    assert es.api.get("/_cluster/settings").json()["persistent"] == {}  # the faulted call did nothing


def test_fault_slow(es: Es) -> None:
    es.control("POST", "faults", {"route": "GET /_security/api_key", "kind": "slow", "delay": 0.3})
    started = time.monotonic()
    assert es.api.get("/_security/api_key").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_fault_drop(es: Es) -> None:
    es.control("POST", "faults", {"route": "POST /_security/cross_cluster/api_key", "kind": "drop"})
    with pytest.raises(requests.ConnectionError):
        es.api.post("/_security/cross_cluster/api_key", json={"name": "k", "access": SEARCH_ACCESS})
    assert es.control("GET", "state")["api_keys"] == []


def test_fault_html(es: Es) -> None:
    es.control("POST", "faults", {"route": "GET /_remote/info", "kind": "html", "status": 502})
    response = es.api.get("/_remote/info")
    assert response.status_code == 502 and response.headers["Content-Type"].startswith("text/html")


def test_fault_conflict_answers_like_elasticsearch(es: Es) -> None:
    es.control("POST", "faults", {"route": "PUT /_security/role/.*", "kind": "conflict"})
    error = error_of(es.api.put("/_security/role/r1", json={"cluster": ["monitor"]}), 409)
    assert error["type"] == "version_conflict_engine_exception"
    log = es.control("GET", "requests")
    assert log[-1]["fault"] == "conflict" and log[-1]["status"] == 409


# --- roles --------------------------------------------------------------------------------------------------
REMOTE_ROLE = {
    "cluster": ["monitor"],
    "remote_indices": [{"clusters": ["eck-*"], "names": ["logs-*"], "privileges": ["read", "read_cross_cluster"]}],
    "remote_cluster": [{"clusters": ["eck-*"], "privileges": ["monitor_enrich"]}],
    "metadata": {"managed-by": "pulumi"},
}


def test_role_lifecycle(es: Es) -> None:
    assert es.api.put("/_security/role/ccs", json=REMOTE_ROLE).json() == {"role": {"created": True}}
    assert es.api.post("/_security/role/ccs", json=REMOTE_ROLE).json() == {"role": {"created": False}}
    stored = es.api.get("/_security/role/ccs").json()
    assert stored == {
        "ccs": {
            "cluster": ["monitor"],
            "indices": [],
            "applications": [],
            "run_as": [],
            "metadata": {"managed-by": "pulumi"},
            "transient_metadata": {"enabled": True},
            "remote_indices": [
                {
                    "clusters": ["eck-*"],
                    "names": ["logs-*"],
                    "privileges": ["read", "read_cross_cluster"],
                    "allow_restricted_indices": False,
                }
            ],
            "remote_cluster": [{"privileges": ["monitor_enrich"], "clusters": ["eck-*"]}],
        }
    }
    assert list(es.api.get("/_security/role").json()) == ["ccs"]
    missing = es.api.get("/_security/role/nope")
    assert missing.status_code == 404 and missing.json() == {}
    assert es.api.delete("/_security/role/ccs").json() == {"found": True}
    gone = es.api.delete("/_security/role/ccs")
    assert gone.status_code == 404 and gone.json() == {"found": False}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            {"remote_indices": [{"names": ["a"], "privileges": ["read"]}]},
            "failed to parse remote indices privileges for role [r]. missing required [clusters] field",
        ),
        (
            {"indices": [{"names": ["a"], "privileges": ["read"], "clusters": ["x"]}]},
            "failed to parse indices privileges for role [r]. unexpected field [clusters]",
        ),
        (
            {"remote_cluster": [{"clusters": ["x"], "privileges": ["monitor_stats", "read_pipeline"]}]},
            "failed to parse remote_cluster for role [r]. [monitor_enrich, monitor_stats] are the only values "
            "allowed for [privileges] within [remote_cluster]. Found [monitor_stats, read_pipeline]",
        ),
        (
            {"remote_cluster": [{"privileges": ["monitor_enrich"]}]},
            "failed to parse remote_cluster for role [r]. [clusters] must be defined when [privileges] are defined ",  # the trailing space: as a real 8.19.21 node says it
        ),
        (
            {"remote_cluster": [{"clusters": ["x"]}]},
            "failed to parse remote_cluster for role [r]. [privileges] must be defined when [clusters] are defined ",  # the trailing space: as a real 8.19.21 node says it
        ),
        ({"colour": "red"}, "failed to parse role [r]. unexpected field [colour]"),
    ],
)
def test_role_parse_errors(es: Es, body: dict[str, Any], reason: str) -> None:
    error = error_of(es.api.put("/_security/role/r", json=body), 400)
    assert error["type"] == "parse_exception" and error["reason"] == reason
    assert es.api.get("/_security/role/r").status_code == 404


def test_remote_cluster_privileges_follow_the_version(make_es: Any) -> None:
    es = make_es(version="8.15.2")
    body = {"remote_cluster": [{"clusters": ["x"], "privileges": ["monitor_stats"]}]}
    error = error_of(es.api.put("/_security/role/r", json=body), 400)
    assert "[monitor_enrich] are the only values allowed" in error["reason"]
    old = make_es(version="8.14.3")
    error = error_of(old.api.put("/_security/role/r", json=body), 400)
    assert error["reason"] == "failed to parse role [r]. unexpected field [remote_cluster]"


def test_role_metadata_keys_may_not_start_with_underscore(es: Es) -> None:
    error = error_of(es.api.put("/_security/role/r", json={"metadata": {"_x": 1}}), 400)
    assert error["reason"] == "Validation Failed: 1: role metadata keys may not start with [_];"


# --- remote info (without a remote to reach) ----------------------------------------------------------------
def _proxy_remote(es: Es, alias: str, **extra: Any) -> None:
    body = {f"cluster.remote.{alias}.mode": "proxy", f"cluster.remote.{alias}.proxy_address": "127.0.0.1:9", **extra}
    assert es.api.put("/_cluster/settings", json={"persistent": body}).status_code == 200


def test_remote_info_proxy_fields_in_order(es: Es) -> None:
    _proxy_remote(es, "eck", **{"cluster.remote.eck.server_name": "eck.svc"})
    info = es.api.get("/_remote/info").json()
    assert list(info["eck"].items()) == [
        ("connected", False),
        ("mode", "proxy"),
        ("proxy_address", "127.0.0.1:9"),
        ("server_name", "eck.svc"),
        ("num_proxy_sockets_connected", 0),
        ("max_proxy_socket_connections", 18),
        ("initial_connect_timeout", "30s"),
        ("skip_unavailable", True),
    ]
    assert es.control("GET", "state")["remote_connections"]["eck"]["code"] == "connect_failed"


def test_remote_info_credentials_marker_needs_the_keystore(es: Es) -> None:
    _proxy_remote(es, "eck")
    es.control("PUT", "keystore", {"secrets": {"cluster.remote.eck.credentials": "abc"}, "reload": True})
    assert es.api.get("/_remote/info").json()["eck"]["cluster_credentials"] == "::es_redacted::"
    es.control("PUT", "keystore", {"secrets": {}, "reload": True})
    assert "cluster_credentials" not in es.api.get("/_remote/info").json()["eck"]


@pytest.mark.parametrize(("version", "default"), [("9.3.2", True), ("8.15.0", True), ("8.14.3", False)])
def test_skip_unavailable_default_follows_the_version(make_es: Any, version: str, default: bool) -> None:
    es = make_es(version=version)
    _proxy_remote(es, "eck")
    assert es.api.get("/_remote/info").json()["eck"]["skip_unavailable"] is default


def test_remote_info_sniff_mode_and_disabled_remotes(es: Es) -> None:
    body = {
        "cluster.remote.s.seeds": ["127.0.0.1:9300"],
        "cluster.remote.s.skip_unavailable": False,
        "cluster.remote.p.mode": "proxy",  # no proxy_address: not enabled, not listed
    }
    es.api.put("/_cluster/settings", json={"persistent": body})
    info = es.api.get("/_remote/info").json()
    assert list(info) == ["s"]
    assert info["s"] == {
        "connected": False,
        "mode": "sniff",
        "seeds": ["127.0.0.1:9300"],
        "num_nodes_connected": 0,
        "max_connections_per_cluster": 3,
        "initial_connect_timeout": "30s",
        "skip_unavailable": False,
    }


def test_transient_overrides_persistent_in_remote_info(es: Es) -> None:
    _proxy_remote(es, "eck")
    es.api.put(
        "/_cluster/settings",
        json={"transient": {"cluster.remote.eck.mode": "proxy", "cluster.remote.eck.proxy_address": "127.0.0.1:10"}},
    )
    assert es.api.get("/_remote/info").json()["eck"]["proxy_address"] == "127.0.0.1:10"


# --- keystore, reload ---------------------------------------------------------------------------------------
def test_reload_applies_a_pending_keystore(es: Es) -> None:
    es.control("PUT", "keystore", {"secrets": {"cluster.remote.eck.credentials": "v1"}, "reload": False})
    state = es.control("GET", "keystore")
    assert state["effective"] == {} and state["pending"] == {"cluster.remote.eck.credentials": "v1"}
    body = es.api.post("/_nodes/reload_secure_settings").json()
    [node] = body["nodes"].values()
    assert node["secure_setting_names"] == ["cluster.remote.eck.credentials", "keystore.seed"]
    assert body["_nodes"] == {"total": 1, "successful": 1, "failed": 0}
    assert es.control("GET", "keystore")["effective"] == {"cluster.remote.eck.credentials": "v1"}


def test_before_8_13_reload_does_not_load_remote_credentials(make_es: Any) -> None:
    es = make_es(version="8.12.2")
    es.control("PUT", "keystore", {"secrets": {"cluster.remote.eck.credentials": "v1"}, "reload": False})
    es.api.post("/_nodes/reload_secure_settings")
    assert es.control("GET", "keystore")["effective"] == {}


def test_a_node_level_reload_failure_still_answers_200(es: Es) -> None:
    es.control("PUT", "reload_failure", {"reason": "keystore password is incorrect"})
    es.control("PUT", "keystore", {"secrets": {"cluster.remote.eck.credentials": "v1"}, "reload": False})
    response = es.api.post("/_nodes/_all/reload_secure_settings", params={"timeout": "10s"})
    assert response.status_code == 200
    [node] = response.json()["nodes"].values()
    assert node["reload_exception"] == {"type": "illegal_state_exception", "reason": "keystore password is incorrect"}
    assert es.control("GET", "keystore")["pending"] is not None
    es.control("DELETE", "reload_failure")


def test_reload_for_another_node_id_reloads_nothing(es: Es) -> None:
    body = es.api.post("/_nodes/someone-else/reload_secure_settings").json()
    assert body["_nodes"]["total"] == 0 and body["nodes"] == {}


def test_control_routes_refuse_malformed_pushes(es: Es) -> None:
    es.control("PUT", "keystore", {"secrets": {"a": 1}}, status=400)
    es.control("PUT", "keystore", {"secrets": {}, "reload": "yes"}, status=400)
    es.control("PUT", "trust", {"certificates": "pem"}, status=400)
    es.control("POST", "rcs/rotate_ca", status=409)  # no remote cluster server on this one
    trust = es.control("PUT", "trust", {"certificates": ["not a pem"]})
    assert trust["valid"] == 0 and trust["problems"]


# --- CLI ----------------------------------------------------------------------------------------------------
def test_cli_serves_a_cluster_with_a_remote_cluster_server(tmp_path: Path) -> None:
    ca_out = tmp_path / "rcs-ca.pem"
    command = [sys.executable, "-m", "emulators.elasticsearch", "--port", "0", "--version", "9.3.2"]
    command += ["--elastic-password", "pw", "--cluster-name", "eck1", "--rcs-port", "0", "--rcs-ca-out", str(ca_out)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2]
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        ready = process.stdout.readline()
        assert ready.startswith("elasticsearch emulator ready on http://127.0.0.1:"), ready
        rcs_line = process.stderr.readline()
        assert rcs_line.startswith("remote cluster server on 127.0.0.1:"), rcs_line
        assert "(eck1-es-remote-cluster.default.svc)" in rcs_line
        url = ready.strip().rsplit(" ", 1)[1]
        assert requests.get(f"{url}/", auth=("elastic", "pw"), timeout=5).json()["version"]["number"] == "9.3.2"
        state = requests.get(f"{url}/_emulator/state", timeout=5).json()
        assert ca_out.read_text() == state["rcs"]["ca_pem"]
        assert (
            x509.load_pem_x509_certificate(ca_out.read_bytes())
            .extensions.get_extension_for_class(x509.BasicConstraints)
            .value.ca
        )
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_malformed_basic_header_is_missing_credentials(es: Es) -> None:
    response = requests.get(f"{es.url}/", headers={"Authorization": "Basic !!!"}, timeout=5)
    assert error_of(response, 401)["reason"] == "missing authentication credentials for REST request [/]"


# Checked on a real 8.19.21 node: only an entry's `names` takes a single string; the others are string arrays.
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"cluster": "monitor"}, "cluster"),
        ({"run_as": "u"}, "run_as"),
        ({"indices": [{"names": ["a"], "privileges": "read"}]}, "privileges"),
        ({"indices": [{"names": ["a"], "privileges": ["read"], "field_security": {"grant": "a*"}}]}, "grant"),
        ({"remote_indices": [{"clusters": "x", "names": ["a"], "privileges": ["read"]}]}, "clusters"),
        ({"remote_indices": [{"clusters": ["x"], "names": ["a"], "privileges": "read"}]}, "privileges"),
        ({"remote_cluster": [{"clusters": "x", "privileges": ["monitor_enrich"]}]}, "clusters"),
        ({"remote_cluster": [{"clusters": ["x"], "privileges": "monitor_enrich"}]}, "privileges"),
    ],
)
def test_role_string_arrays_refuse_a_single_string(es: Es, body: dict[str, Any], field: str) -> None:
    error = error_of(es.api.put("/_security/role/r", json=body), 400)
    inner = {
        "type": "parse_exception",
        "reason": f"could not parse [{field}] field. expected a string array but found [VALUE_STRING] value instead",
    }
    assert error == {
        "root_cause": [inner],
        "type": "parse_exception",
        "reason": "failed to parse role [r]",
        "caused_by": inner,
    }


def test_role_names_string_query_object_and_empty_parts_as_a_real_node_stores_them(es: Es) -> None:
    body = {
        "indices": [
            {"names": "logs", "privileges": ["read"], "query": {"term": {"b": "x"}}},
            {"names": ["logs"], "privileges": ["read"], "query": '{ "term" : {"b": "x"} }'},
            {"names": ["logs"], "privileges": ["read"], "query": ""},
        ]
    }
    assert es.api.put("/_security/role/r", json=body).status_code == 200
    assert es.api.get("/_security/role/r").json()["r"]["indices"] == [
        {"names": ["logs"], "privileges": ["read"], "query": '{"term":{"b":"x"}}', "allow_restricted_indices": False},
        {
            "names": ["logs"],
            "privileges": ["read"],
            "query": '{ "term" : {"b": "x"} }',
            "allow_restricted_indices": False,
        },
        {"names": ["logs"], "privileges": ["read"], "allow_restricted_indices": False},
    ]
    empty = {"indices": [{"names": ["logs"], "privileges": ["read"], "field_security": {}}]}
    error = error_of(es.api.put("/_security/role/e", json=empty), 400)
    assert error["reason"] == 'failed to parse indices privileges for role [e]. "field_security" must not be empty.'
