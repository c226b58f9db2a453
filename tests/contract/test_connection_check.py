"""The whole link built with the providers against the three emulators: connected only when every part is right,
and each single wrong part gives a failed check that names it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from components.ece.keystore import EceKeystoreCredentialsProvider
from components.ece.local_side import EceLocalSide
from components.ece.trust import EceTrustedCaProvider, normalise
from components.elasticsearch.api_key import CrossClusterApiKeyProvider
from components.elasticsearch.connection_check import RemoteConnectionCheckProvider, RemoteConnectionError
from components.elasticsearch.remote_settings import RemoteClusterSettingsProvider
from components.pem import fingerprint
from emulators.common import running
from emulators.elasticsearch import Config, ElasticsearchEmulator
from tests.support.certs import make_ca
from tools.emulated_link import LOCAL_PASSWORD, REF_ID, SERVER_NAME, EmulatedLink

ALIAS = "logs"
OTHER_CA = make_ca("not-the-remote-ca")


@dataclass
class Chain:
    """Inputs of every resource of one link; a test breaks one part before building it."""

    env: EmulatedLink
    address: str = ""
    server_name: str = SERVER_NAME
    trusted_ca: str = ""
    keystore_alias: str = ALIAS
    settings_alias: str = ALIAS
    created: dict[str, Any] = field(default_factory=dict)

    def build(self) -> None:
        env = self.env
        key = CrossClusterApiKeyProvider().create(
            CrossClusterApiKeyProvider()
            .check(
                {},
                {
                    "target": env.remote_target(),
                    "credentials": env.remote_credentials(),
                    "name": "ece-eck-remote-t-logs",
                    "access": {"search": [{"names": ["logs-*"]}]},
                },
            )
            .inputs
        )
        self.created["key"] = key
        ece = {
            "ece": env.ece_props(),
            "ece_credentials": env.ece_credentials(),
            "deployment_id": env.deployment_id,
            "ref_id": REF_ID,
            "plan_timeout_seconds": 10,
        }
        self.created["trust"] = EceTrustedCaProvider().create(
            {
                **ece,
                "entry_name": f"ece-eck-remote-{ALIAS}",
                "model": "api-key",
                "certificates": [self.trusted_ca or env.rcs_ca],
            }
        )
        self.created["keystore"] = EceKeystoreCredentialsProvider().create(
            {**ece, "alias": self.keystore_alias, "value": key.outs["encoded"]}
        )
        self.created["settings"] = RemoteClusterSettingsProvider().create(
            {
                "target": env.local_target(),
                "credentials": env.ece_credentials(),
                "alias": self.settings_alias,
                "proxy_address": self.address or env.rcs_address,
                "server_name": self.server_name,
            }
        )

    def check_props(self, *, timeout: float = 1.5) -> dict[str, Any]:
        env = self.env
        return {
            "target": env.local_target(),
            "credentials": env.ece_credentials(),
            "alias": ALIAS,
            "expected": {
                "proxy_address": env.rcs_address,
                "server_name": SERVER_NAME,
                "ca_fingerprints": [fingerprint(env.rcs_ca)],
            },
            "requires_credentials": True,
            "remote": {
                "target": env.remote_target(),
                "credentials": env.remote_credentials(),
                "key_id": self.created["key"].id,
            },
            "trust": {
                "ece": env.ece_props(),
                "ece_credentials": env.ece_credentials(),
                "deployment_id": env.deployment_id,
                "ref_id": REF_ID,
                "entry_name": f"ece-eck-remote-{ALIAS}",
                "retiring_certificates": self.created["trust"].outs["retiring_certificates"],
                "plan_timeout_seconds": 10,
            },
            "timeout_seconds": timeout,
        }


def test_connected_when_every_part_is_right(env: EmulatedLink) -> None:
    chain = Chain(env)
    chain.build()
    result = RemoteConnectionCheckProvider(EceLocalSide()).create(chain.check_props(timeout=10))
    assert result.outs["connected"] is True
    assert result.outs["proxy_address"] == env.rcs_address
    connection = env.control(env.local, "GET", "state")["remote_connections"][ALIAS]
    assert connection["connected"] is True


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


BREAKAGES: dict[str, tuple[Callable[[Chain], None], str]] = {
    "address": (lambda chain: setattr(chain, "address", f"127.0.0.1:{closed_port()}"), "address: proxy_address is"),
    "server name": (
        lambda chain: setattr(chain, "server_name", "wrong-name.elastic.svc"),
        "server name: server_name is 'wrong-name.elastic.svc'",
    ),
    "CA": (
        lambda chain: setattr(chain, "trusted_ca", OTHER_CA.certificate_pem),
        "CA: the deployment does not trust the remote's CA",
    ),
    "alias mismatch": (
        lambda chain: setattr(chain, "keystore_alias", "logz"),
        "keystore holds cluster.remote.logz.credentials (alias mismatch?)",
    ),
}


@pytest.mark.parametrize("part", sorted(BREAKAGES))
def test_each_wrong_part_fails_the_check_naming_it(env: EmulatedLink, part: str) -> None:
    chain = Chain(env)
    breakage, expected = BREAKAGES[part]
    breakage(chain)
    chain.build()
    with pytest.raises(RemoteConnectionError) as raised:
        RemoteConnectionCheckProvider(EceLocalSide()).create(chain.check_props())
    message = str(raised.value)
    assert expected in message, message
    assert "did not connect within" in message
    for secret in ("remote-elastic-password-42", "ece-test-api-key", chain.created["key"].outs["encoded"]):
        assert secret not in message


def test_an_invalidated_key_fails_the_check_naming_it(env: EmulatedLink) -> None:
    chain = Chain(env)
    chain.build()
    CrossClusterApiKeyProvider().delete(chain.created["key"].id, chain.created["key"].outs)
    with pytest.raises(RemoteConnectionError) as raised:
        RemoteConnectionCheckProvider(EceLocalSide()).create(chain.check_props())
    assert f"key: cross-cluster API key {chain.created['key'].id} is invalidated" in str(raised.value)


def test_a_wrong_path_with_right_settings_points_at_port_and_target_port(env: EmulatedLink) -> None:
    chain = Chain(env)
    chain.build()
    env.control(env.remote, "PUT", "rcs", {"state": "refuse"})
    try:
        with pytest.raises(RemoteConnectionError) as raised:
            RemoteConnectionCheckProvider(EceLocalSide()).create(chain.check_props())
    finally:
        env.control(env.remote, "PUT", "rcs", {"state": "up"})
    assert "targetPort 9443" in str(raised.value)


def test_refresh_sees_a_broken_link_and_the_next_up_checks_again(env: EmulatedLink) -> None:
    chain = Chain(env)
    chain.build()
    provider = RemoteConnectionCheckProvider(EceLocalSide())
    props = chain.check_props(timeout=10)
    created = provider.create(props)
    assert not provider.diff(created.id, created.outs, props).changes
    CrossClusterApiKeyProvider().delete(chain.created["key"].id, chain.created["key"].outs)
    refreshed = provider.read(created.id, created.outs)
    assert refreshed.outs["connected"] is False
    assert provider.diff(created.id, refreshed.outs, props).changes


def test_a_ca_rotation_is_finished_once_the_new_ca_alone_connects(env: EmulatedLink) -> None:
    chain = Chain(env)
    chain.build()
    old_ca = env.rcs_ca
    env.control(env.remote, "POST", "rcs/rotate_ca")
    new_ca = env.rcs_ca
    trust = EceTrustedCaProvider()
    news = {**chain.created["trust"].outs, "certificates": [new_ca]}
    updated = trust.update(chain.created["trust"].id, chain.created["trust"].outs, news)
    assert updated.outs["retiring_certificates"] == normalise([old_ca])
    chain.created["trust"] = updated
    props = chain.check_props(timeout=10)
    props["expected"]["ca_fingerprints"] = [fingerprint(new_ca)]
    result = RemoteConnectionCheckProvider(EceLocalSide()).create(props)
    assert result.outs["retired_certificates"] == normalise([old_ca])
    entry = next(e for e in env.direct_entries() if e["name"] == f"ece-eck-remote-{ALIAS}")
    assert normalise([c["pem"] for c in entry["certificates"]]) == normalise([new_ca])


def test_a_rotation_the_remote_has_not_finished_keeps_both_cas(env: EmulatedLink) -> None:
    chain = Chain(env)
    chain.build()
    old_ca = env.rcs_ca
    trust = EceTrustedCaProvider()
    news = {**chain.created["trust"].outs, "certificates": [OTHER_CA.certificate_pem]}  # the remote still serves old_ca
    chain.created["trust"] = trust.update(chain.created["trust"].id, chain.created["trust"].outs, news)
    props = chain.check_props(timeout=1.5)
    props["expected"]["ca_fingerprints"] = [fingerprint(OTHER_CA.certificate_pem)]
    with pytest.raises(RemoteConnectionError, match="does not connect with the new CA alone"):
        RemoteConnectionCheckProvider(EceLocalSide()).create(props)
    entry = next(e for e in env.direct_entries() if e["name"] == f"ece-eck-remote-{ALIAS}")
    assert set(normalise([c["pem"] for c in entry["certificates"]])) == set(
        normalise([OTHER_CA.certificate_pem, old_ca])
    )


def test_an_alias_the_local_cluster_does_not_know_is_named_as_not_configured(env: EmulatedLink) -> None:
    """`_resolve/cluster` on an unknown alias answers 403 caused by no_such_remote_cluster_exception (as a real
    8.19.21 node does): the check says the alias is not configured instead of failing on the 403."""
    chain = Chain(env)
    chain.build()
    props = {**chain.check_props(), "alias": "nobody"}
    with pytest.raises(RemoteConnectionError) as raised:
        RemoteConnectionCheckProvider(EceLocalSide()).create(props)
    message = str(raised.value)
    assert "alias 'nobody' is not configured on the local cluster" in message, message


def test_before_resolve_cluster_existed_a_cross_cluster_search_is_the_probe(env: EmulatedLink) -> None:
    """Elasticsearch before 8.13 has no `_resolve/cluster` (an unknown route, 400): the check then probes with a
    cross-cluster search of `<alias>:*` and reads its `_clusters` section."""
    old = ElasticsearchEmulator(
        Config(cluster_name="ece-local-8-12", version="8.12.2", elastic_password=LOCAL_PASSWORD)
    )
    with running(old) as handle:
        env.control(
            env.ece,
            "POST",
            "elasticsearch-link",
            {"deployment_id": env.deployment_id, "url": handle.url, "password": LOCAL_PASSWORD},
        )
        chain = Chain(env)
        chain.build()
        created = RemoteConnectionCheckProvider(EceLocalSide()).create(chain.check_props(timeout=10))
        assert created.outs["connected"] is True
        paths = [
            (entry["method"], entry["path"], entry["status"])
            for entry in requests.get(f"{handle.url}/_emulator/requests", timeout=5).json()
        ]
        assert ("GET", f"/_resolve/cluster/{ALIAS}:*", 400) in paths
        assert ("GET", f"/{ALIAS}:*/_search", 200) in paths
        env.control(env.remote, "PUT", "rcs", {"state": "down"})
        try:
            with pytest.raises(RemoteConnectionError) as raised:
                RemoteConnectionCheckProvider(EceLocalSide()).update("x", created.outs, chain.check_props(timeout=1.5))
        finally:
            env.control(env.remote, "PUT", "rcs", {"state": "up"})
        assert "did not connect within" in str(raised.value)
