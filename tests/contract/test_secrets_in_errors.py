"""No secret in anything a failed operation says: its error (HTTP errors, validation failures, plan failures, the
connection check's diagnosis), its progress lines and its log lines.

Each error path is driven with answers that echo every secret the operation can see (an API that puts the request's
credential or value in its error text), so that a missing redaction shows: the ECE API key, the remote's `elastic`
password, the encoded cross-cluster key. The values are long (20 characters or more) and distinctive, and are looked
for in every form they travel in and in pieces (tests/support/secrets.py). Progress lines are said at once here
(`FIRST_REPORT_SECONDS` 0), so that every retry says one."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pulumi.dynamic import CheckFailure

from components import progress
from components.ece.client import EcePlanError
from components.ece.keystore import EceKeystoreCredentialsProvider
from components.ece.local_side import EceLocalSide
from components.ece.trust import EceTrustedCaProvider
from components.elasticsearch.api_key import CrossClusterApiKeyAccessProvider, CrossClusterApiKeyProvider
from components.elasticsearch.connection_check import RemoteConnectionCheckProvider, RemoteConnectionError
from components.elasticsearch.remote_settings import RemoteClusterSettingsProvider
from components.elasticsearch.roles import RemoteRoleProvider
from components.http import ApiError
from components.pem import fingerprint
from tests.support.ece_deployments import OLD_DEPLOYMENT, add_old_deployment
from tests.support.keys import key_props
from tests.support.secrets import assert_hidden
from tools.emulated_link import ECE_API_KEY, REF_ID, REMOTE_PASSWORD, SERVER_NAME, EmulatedLink

ENCODED = "ZW5jb2RlZC1rZXktaWQtMDAxOmNyb3NzLWNsdXN0ZXItc2VjcmV0LXBhcnQtNDI="
"""An encoded key (base64 of `encoded-key-id-001:cross-cluster-secret-part-42`) for the keystore paths."""


def ece_echo(*secrets: str) -> dict[str, Any]:
    """An ECE error body that repeats the secrets (`{"errors": [{"code", "message"}]}`)."""
    return {"errors": [{"code": "root.unexpected", "message": f"request rejected: {' | '.join(secrets)}"}]}


def es_echo(status: int, *secrets: str) -> dict[str, Any]:
    """An Elasticsearch error body that repeats the secrets (`{"error": {"type", "reason"}, "status"}`)."""
    reason = f"request rejected: {' | '.join(secrets)}"
    return {
        "error": {"root_cause": [{"type": "exception", "reason": reason}], "type": "exception", "reason": reason},
        "status": status,
    }


def fail(env: EmulatedLink, running: Any, route: str, status: int, body: dict[str, Any], *, retried: int = 2) -> None:
    """`retried` answers 503 first (retried by the HTTP layer, each retry a progress line), then `status` on every
    further request; every answer echoes the secrets."""
    if retried:
        error = body if "errors" in body else {**body, "status": 503}
        env.fault(running, route=route, kind="status", status=503, body=error, times=retried)
    env.fault(running, route=route, kind="status", status=status, body=body, times=-1)


@pytest.fixture
def said(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """Progress lines (said at once) and log records, from here on."""
    lines: list[str] = []
    monkeypatch.setattr(progress, "FIRST_REPORT_SECONDS", 0.0)
    monkeypatch.setattr(progress, "REPORT_EVERY_SECONDS", 0.0)
    progress.set_sink(lines.append)
    caplog.set_level(logging.DEBUG)
    try:
        yield lines
    finally:
        progress.set_sink(None)


def everything_said(error: BaseException, said: list[str], caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join([str(error), *said, caplog.text])


def ece_common(env: EmulatedLink) -> dict[str, Any]:
    return {
        "ece": env.ece_props(timeout=2.0),
        "ece_credentials": env.ece_credentials(),
        "deployment_id": env.deployment_id,
        "ref_id": REF_ID,
        "plan_timeout_seconds": 10,
    }


def trust_props(env: EmulatedLink, **extra: Any) -> dict[str, Any]:
    news = {
        **ece_common(env),
        "entry_name": "ece-eck-remote-logs",
        "model": "api-key",
        "certificates": [env.rcs_ca],
        **extra,
    }
    return EceTrustedCaProvider().check({}, news).inputs


def keystore_props(env: EmulatedLink, **extra: Any) -> dict[str, Any]:
    return (
        EceKeystoreCredentialsProvider()
        .check({}, {**ece_common(env), "alias": "logs", "value": ENCODED, **extra})
        .inputs
    )


def local_props(env: EmulatedLink) -> dict[str, Any]:
    return {"target": env.local_target(), "credentials": env.ece_credentials()}


def remote_props(env: EmulatedLink, **extra: Any) -> dict[str, Any]:
    return key_props(target=env.remote_target(), credentials=env.remote_credentials(), **extra)


# --- the ECE API ----------------------------------------------------------------------------------------------
DEPLOYMENT = r"/api/v1/deployments/[0-9a-f]+"
KEYSTORE = DEPLOYMENT + r"/elasticsearch/[^/]+/keystore"


def create_trust(env: EmulatedLink) -> Any:
    return EceTrustedCaProvider().create(trust_props(env))


def read_trust(env: EmulatedLink) -> Any:
    created = create_trust(env)
    fail(env, env.ece, f"GET {DEPLOYMENT}", 400, ece_echo(ECE_API_KEY))
    return EceTrustedCaProvider().read(created.id, created.outs)


def delete_trust(env: EmulatedLink) -> Any:
    created = create_trust(env)
    fail(env, env.ece, f"PUT {DEPLOYMENT}", 400, ece_echo(ECE_API_KEY))
    EceTrustedCaProvider().delete(created.id, created.outs)


def set_keystore(env: EmulatedLink) -> Any:
    return EceKeystoreCredentialsProvider().create(keystore_props(env))


def change_keystore(env: EmulatedLink) -> Any:
    provider = EceKeystoreCredentialsProvider()
    created = provider.create(keystore_props(env, value="bm90LXRoZS1rZXktdGhhdC1pcy1zZXQtbm93"))
    fail(env, env.ece, f"PATCH {KEYSTORE}", 400, ece_echo(ECE_API_KEY, ENCODED))
    return provider.update(created.id, created.outs, keystore_props(env))


def read_keystore(env: EmulatedLink) -> Any:
    created = set_keystore(env)
    fail(env, env.ece, f"GET {KEYSTORE}", 400, ece_echo(ECE_API_KEY))
    return EceKeystoreCredentialsProvider().read(created.id, created.outs)


ECE_PATHS: dict[str, tuple[Callable[[EmulatedLink], Any], list[tuple[str, str]], tuple[str, ...]]] = {
    # name: (operation, [(method, route) answered with an echo before it runs], secrets the operation can see)
    "trust create": (create_trust, [("PUT", DEPLOYMENT)], (ECE_API_KEY,)),
    "trust create, deployment read": (create_trust, [("GET", DEPLOYMENT)], (ECE_API_KEY,)),
    "trust refresh": (read_trust, [], (ECE_API_KEY,)),
    "trust delete": (delete_trust, [], (ECE_API_KEY,)),
    "keystore set": (set_keystore, [("PATCH", KEYSTORE)], (ECE_API_KEY, ENCODED)),
    "keystore change": (change_keystore, [], (ECE_API_KEY, ENCODED)),
    "keystore refresh": (read_keystore, [], (ECE_API_KEY, ENCODED)),
}


@pytest.mark.parametrize("path", list(ECE_PATHS))
def test_an_ece_error_shows_no_secret(
    env: EmulatedLink, said: list[str], caplog: pytest.LogCaptureFixture, path: str
) -> None:
    operation, routes, secrets = ECE_PATHS[path]
    for method, route in routes:
        fail(env, env.ece, f"{method} {route}", 400, ece_echo(*secrets))
    with pytest.raises(ApiError) as raised:
        operation(env)
    assert "HTTP 400 [root.unexpected]" in str(raised.value), raised.value
    assert any("attempt 1 of" in line for line in said), said  # the retries said so
    assert_hidden(everything_said(raised.value, said, caplog), *secrets)


@pytest.mark.parametrize("operation", ["trust", "keystore with a restart"])
def test_a_failed_plan_shows_no_secret(
    env: EmulatedLink, said: list[str], caplog: pytest.LogCaptureFixture, operation: str
) -> None:
    """ECE's plan log is text from elsewhere: a plan that failed repeating a secret of the change is told without it."""
    deployment = env.deployment_id
    secrets: tuple[str, ...] = (ECE_API_KEY,)
    if operation != "trust":
        add_old_deployment(env)
        deployment, secrets = OLD_DEPLOYMENT, (ECE_API_KEY, ENCODED)
    env.control(
        env.ece,
        "POST",
        "fail-next-plan",
        {"deployment_id": deployment, "message": f"could not apply: {' | '.join(secrets)}"},
    )
    run: Callable[[], Any] = (
        (lambda: create_trust(env))
        if operation == "trust"
        else (lambda: EceKeystoreCredentialsProvider().create(keystore_props(env, deployment_id=OLD_DEPLOYMENT)))
    )
    with pytest.raises(EcePlanError) as raised:
        run()
    assert "could not apply" in str(raised.value), raised.value
    assert_hidden(everything_said(raised.value, said, caplog), *secrets)


# --- the Elasticsearch API (the remote, and the local one behind ECE's proxy) ---------------------------------
def create_key(env: EmulatedLink) -> Any:
    return CrossClusterApiKeyProvider().create(remote_props(env, ready_timeout_seconds=2))


def update_access(env: EmulatedLink) -> Any:
    key = create_key(env)
    grants = CrossClusterApiKeyAccessProvider()
    news = {**{k: v for k, v in remote_props(env).items() if k != "name"}, "key_id": key.id}
    news = grants.check({}, news).inputs
    created = grants.create(news)
    changed = grants.check({}, {**news, "access": {"search": [{"names": ["other-*"]}]}}).inputs
    fail(env, env.remote, "PUT /_security/cross_cluster/api_key/.*", 400, es_echo(400, REMOTE_PASSWORD))
    return grants.update(created.id, created.outs, changed)


def read_key(env: EmulatedLink) -> Any:
    key = create_key(env)
    fail(env, env.remote, "GET /_security/api_key", 400, es_echo(400, REMOTE_PASSWORD))
    return CrossClusterApiKeyProvider().read(key.id, key.outs)


def delete_key(env: EmulatedLink) -> Any:
    key = create_key(env)
    fail(env, env.remote, "DELETE /_security/api_key", 400, es_echo(400, REMOTE_PASSWORD))
    return CrossClusterApiKeyProvider().delete(key.id, key.outs)


def set_settings(env: EmulatedLink) -> Any:
    news = {**local_props(env), "alias": "logs", "proxy_address": env.rcs_address, "server_name": SERVER_NAME}
    return RemoteClusterSettingsProvider().create(RemoteClusterSettingsProvider().check({}, news).inputs)


def put_role(env: EmulatedLink) -> Any:
    role = {"remote_indices": [{"clusters": ["logs"], "names": ["logs-*"], "privileges": ["read"]}]}
    news = RemoteRoleProvider().check({}, {**local_props(env), "role_name": "logs-reader", "role": role}).inputs
    return RemoteRoleProvider().create(news)


def check_link(env: EmulatedLink) -> Any:
    set_settings(env)
    props = {
        **local_props(env),
        "alias": "logs",
        "expected": {"proxy_address": env.rcs_address, "server_name": SERVER_NAME},
        "requires_credentials": True,
        "timeout_seconds": 1.5,
    }
    return RemoteConnectionCheckProvider().create(props)


def probe_refused(env: EmulatedLink) -> Any:
    """`_resolve/cluster` answers a 403 that is not about the alias: the check fails with it."""
    fail(env, env.local, "GET /_resolve/cluster/.*", 403, es_echo(403, ECE_API_KEY), retried=0)
    return check_link(env)


def probe_not_connected(env: EmulatedLink) -> Any:
    """`_resolve/cluster` says not connected, with an error text: the check's progress and failure repeat it."""
    reason = es_echo(200, ECE_API_KEY)["error"]["reason"]
    body = {"logs": {"connected": False, "skip_unavailable": True, "error": reason}}
    fail(env, env.local, "GET /_resolve/cluster/.*", 200, body, retried=0)
    return check_link(env)


def search_probe_failed(env: EmulatedLink) -> Any:
    """Before 8.13 (no `_resolve/cluster`) the probe is a search, whose failure is read from its body."""
    unknown = {"error": {"type": "illegal_argument_exception", "reason": "no handler found for uri"}, "status": 400}
    fail(env, env.local, "GET /_resolve/cluster/.*", 400, unknown, retried=0)
    fail(env, env.local, "GET /logs:.*/_search", 500, es_echo(500, ECE_API_KEY), retried=0)
    return check_link(env)


ES_PATHS: dict[str, tuple[Callable[[EmulatedLink], Any], list[tuple[Any, str]], tuple[str, ...], str]] = {
    # name: (operation, [(emulator, route) answered with an echo], secrets it can see, what the error says)
    "key create, licence read": (create_key, [("remote", "GET /_license")], (REMOTE_PASSWORD,), "not ready"),
    "key create": (create_key, [("remote", "POST /_security/cross_cluster/api_key")], (REMOTE_PASSWORD,), "HTTP 400"),
    "key access update": (update_access, [], (REMOTE_PASSWORD,), "HTTP 400"),
    "key refresh": (read_key, [], (REMOTE_PASSWORD,), "HTTP 400"),
    "key delete": (delete_key, [], (REMOTE_PASSWORD,), "HTTP 400"),
    "settings through ECE's proxy": (
        set_settings,
        [("local", "PUT /_cluster/settings")],
        (ECE_API_KEY,),
        "HTTP 400",
    ),
    "role through ECE's proxy": (put_role, [("local", "PUT /_security/role/.*")], (ECE_API_KEY,), "HTTP 400"),
    "connection check, a 403 that is not the alias": (probe_refused, [], (ECE_API_KEY,), "HTTP 403"),
    "connection check, not connected": (probe_not_connected, [], (ECE_API_KEY,), "did not connect"),
    "connection check, pre-8.13 search probe": (search_probe_failed, [], (ECE_API_KEY,), "did not connect"),
}


@pytest.mark.parametrize("path", list(ES_PATHS))
def test_an_elasticsearch_error_shows_no_secret(
    env: EmulatedLink, said: list[str], caplog: pytest.LogCaptureFixture, path: str
) -> None:
    operation, routes, secrets, says = ES_PATHS[path]
    for where, route in routes:
        running = env.remote if where == "remote" else env.local
        status = 401 if "licence" in path else 400
        fail(env, running, route, status, es_echo(status, *secrets))
    with pytest.raises((ApiError, RemoteConnectionError)) as raised:
        operation(env)
    assert says in str(raised.value) and "request rejected" in str(raised.value), raised.value
    assert_hidden(everything_said(raised.value, said, caplog), *secrets)


# --- the connection check's diagnosis -------------------------------------------------------------------------
def test_the_connection_checks_diagnosis_shows_no_secret(
    env: EmulatedLink, said: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    """A link that does not connect, diagnosed while every API the diagnosis reads answers with an echo of the
    credential it was called with: the remote (the key, as `elastic`) and ECE (the keystore and the trust, as the ECE
    API key). The encoded key, which the check never holds, is not in its progress lines or logs either."""
    key = create_key(env)
    create_trust(env)
    EceKeystoreCredentialsProvider().create(keystore_props(env, value=key.outs["encoded"]))
    set_settings(env)
    env.control(env.remote, "PUT", "rcs", {"state": "down"})
    fail(env, env.remote, "GET /_security/api_key", 400, es_echo(400, REMOTE_PASSWORD))
    fail(env, env.ece, f"GET {DEPLOYMENT}", 400, ece_echo(ECE_API_KEY))
    fail(env, env.ece, f"GET {KEYSTORE}", 400, ece_echo(ECE_API_KEY))
    props = {
        **local_props(env),
        "alias": "logs",
        "expected": {
            "proxy_address": env.rcs_address,
            "server_name": SERVER_NAME,
            "ca_fingerprints": [fingerprint(env.rcs_ca)],
        },
        "requires_credentials": True,
        "remote": {"target": env.remote_target(), "credentials": env.remote_credentials(), "key_id": key.id},
        "trust": {**ece_common(env), "entry_name": "ece-eck-remote-logs", "retiring_certificates": []},
        "timeout_seconds": 1.5,
    }
    try:
        with pytest.raises(RemoteConnectionError) as raised:
            RemoteConnectionCheckProvider(EceLocalSide()).create(props)
    finally:
        env.control(env.remote, "PUT", "rcs", {"state": "up"})
    message = str(raised.value)
    assert "did not connect within" in message and "key: could not read the API key on the remote" in message, message
    assert "CA: could not read the deployment's trust" in message, message
    assert_hidden(everything_said(raised.value, said, caplog), ECE_API_KEY, REMOTE_PASSWORD, key.outs["encoded"])


# --- validation (`check`) -------------------------------------------------------------------------------------
def failures(provider: Any, news: dict[str, Any]) -> list[CheckFailure]:
    found = list(provider.check({}, news).failures)
    assert found, news
    return found


def test_validation_failures_show_no_secret(env: EmulatedLink) -> None:
    """Inputs that fail `check` while they carry the secrets: no failure repeats one."""
    ece = {"ece": {"url": "ftp://ece.example"}, "ece_credentials": env.ece_credentials()}
    local = {"target": {"kind": "direct", "url": "ftp://local.example"}, "credentials": env.ece_credentials()}
    remote = {"target": {"kind": "direct", "url": "ftp://remote.example"}, "credentials": env.remote_credentials()}
    found = [
        *failures(
            EceKeystoreCredentialsProvider(), {**ece, "deployment_id": "d", "alias": "Logs.Prod", "value": ENCODED}
        ),
        *failures(EceKeystoreCredentialsProvider(), {**ece, "deployment_id": None, "alias": "logs", "value": ENCODED}),
        *failures(
            EceTrustedCaProvider(),
            {**ece, "deployment_id": "d", "entry_name": "n", "model": "x", "certificates": ["not a pem"]},
        ),
        *failures(
            CrossClusterApiKeyProvider(), {**remote, "name": "_hidden", "access": {}, "metadata": {"managed_by": "x"}}
        ),
        *failures(CrossClusterApiKeyAccessProvider(), {**remote, "key_id": "k", "access": {"search": [{}]}}),
        *failures(RemoteClusterSettingsProvider(), {**local, "alias": "Logs.Prod", "proxy_address": "no-port"}),
        *failures(
            RemoteRoleProvider(),
            {**local, "role_name": "r", "role": {"remote_cluster": [{"clusters": ["a"], "privileges": ["all"]}]}},
        ),
        *failures(RemoteConnectionCheckProvider(), {**local, "alias": None, "timeout_seconds": None}),
    ]
    text = "\n".join(f"{f.property}: {f.reason}" for f in found)
    assert "lowercase" in text and "needs a port" in text, text
    assert_hidden(text, ECE_API_KEY, REMOTE_PASSWORD, ENCODED)
