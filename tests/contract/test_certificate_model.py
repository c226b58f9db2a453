"""The TLS-certificate model (deprecated in 9.0) through the program's providers, against the emulators: ECE's trust
entry (`generic`, `trust_all`, `scope_id: <namespace>.es.local`), the remote settings, and the connection check
without credentials. The ECE emulator pushes the entry's subject-name restriction and the node's certificate to the
local Elasticsearch emulator, which connects over mutual TLS to the remote's transport port stand-in and applies the
restriction as Elasticsearch does; the stand-in trusts the ECE deployment's CA and restricts its clients to the names
of `trust.yml`, read the way the program reads and writes them (`EceDeploymentCa`, `eck_ece_trust.trust_yml`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import yaml

from components.ece.deployment_ca import EceDeploymentCaProvider
from components.ece.local_side import EceLocalSide
from components.ece.trust import EceTrustedCaProvider
from components.eck_ece_trust import trust_yml
from components.elasticsearch.connection_check import RemoteConnectionCheckProvider, RemoteConnectionError
from components.elasticsearch.remote_settings import RemoteClusterSettingsProvider
from components.names import certificate_model_scope, trust_entry_name
from components.pem import fingerprint
from tools.emulated_link import LOCAL_PASSWORD, REF_ID, EmulatedLink

ALIAS = "logs"
CLUSTER = "quickstart"  # the remote emulator's cluster name
NAMESPACE = "prod"
NODE = f"{CLUSTER}-es-default-0.node.{CLUSTER}.{NAMESPACE}.es.local"


@dataclass
class CertificateChain:
    """One certificate-model link's inputs; a test changes one before `build`."""

    env: EmulatedLink
    scope_id: str = certificate_model_scope(NAMESPACE)
    model: str = "certificate"
    trust_ece_ca: bool = True
    eck_trust_yml: list[str] | None = None  # the ECK side's trust.subject_name; None: the program's trust.yml
    created: dict[str, Any] = field(default_factory=dict)

    def build(self) -> dict[str, Any]:
        env = self.env
        ece = {"ece": env.ece_props(), "ece_credentials": env.ece_credentials(), "deployment_id": env.deployment_id}
        deployment_ca = EceDeploymentCaProvider().create(dict(ece)).outs
        patterns = yaml.safe_load(trust_yml(CLUSTER, NAMESPACE, [deployment_ca["trust_restriction"]]))
        subject_names = patterns["trust.subject_name"] if self.eck_trust_yml is None else self.eck_trust_yml
        # What ECK's nodes get from the program's Secret and ConfigMap (eck_ece_trust), as the stand-in's settings.
        server = env.control(
            env.remote,
            "PUT",
            "transport-server",
            {
                "namespace": NAMESPACE,
                "client_cas": deployment_ca["certificates"] if self.trust_ece_ca else [],
                "subject_names": subject_names,
            },
        )
        self.created["server"] = server
        self.created["trust"] = EceTrustedCaProvider().create(
            {
                **ece,
                "ref_id": REF_ID,
                "entry_name": trust_entry_name(ALIAS),
                "model": self.model,
                "scope_id": self.scope_id if self.model == "certificate" else None,
                "certificates": [server["ca_pem"]],
                "plan_timeout_seconds": 10,
            }
        )
        self.created["settings"] = RemoteClusterSettingsProvider().create(
            {
                "target": env.local_target(),
                "credentials": env.ece_credentials(),
                "alias": ALIAS,
                "proxy_address": server["address"],
                "server_name": server["server_name"],  # <es>-es-transport.<namespace>.svc
            }
        )
        return server

    def check_props(self, *, timeout: float = 1.5) -> dict[str, Any]:
        env, server = self.env, self.created["server"]
        return {
            "target": env.local_target(),
            "credentials": env.ece_credentials(),
            "alias": ALIAS,
            "expected": {
                "proxy_address": server["address"],
                "server_name": server["server_name"],
                "ca_fingerprints": [fingerprint(server["ca_pem"])],
            },
            "requires_credentials": False,
            "trust": {
                "ece": env.ece_props(),
                "ece_credentials": env.ece_credentials(),
                "deployment_id": env.deployment_id,
                "ref_id": REF_ID,
                "entry_name": trust_entry_name(ALIAS),
                "retiring_certificates": [],
                "plan_timeout_seconds": 10,
            },
            "timeout_seconds": timeout,
        }

    def check(self, *, timeout: float = 1.5) -> dict[str, Any]:
        return dict(RemoteConnectionCheckProvider(EceLocalSide()).create(self.check_props(timeout=timeout)).outs)

    def recorded(self) -> dict[str, Any]:
        """What the local cluster recorded about its last attempt (its log, not the API)."""
        return dict(self.env.control(self.env.local, "GET", "state")["remote_connections"][ALIAS])

    def resolve(self) -> dict[str, Any]:
        response = requests.get(
            f"{self.env.local.url}/_resolve/cluster/{ALIAS}:*",
            auth=("elastic", LOCAL_PASSWORD),
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return dict(response.json()[ALIAS])

    def server_events(self) -> list[dict[str, Any]]:
        return list(self.env.control(self.env.remote, "GET", "transport-server")["events"])


def test_the_plan_gives_the_local_node_the_restriction_and_a_certificate_from_the_deployment_ca(
    env: EmulatedLink,
) -> None:
    CertificateChain(env).build()
    transport = env.control(env.local, "GET", "transport")
    ours = next(entry for entry in transport["direct"] if entry["name"] == trust_entry_name(ALIAS))
    assert ours["subject_names"] == [f"*.{NAMESPACE}.es.local"]
    partner = next(entry for entry in transport["direct"] if entry["name"] == "partner-datacenter")
    assert partner["subject_names"] == ["node1.partner.example.com", "node2.partner.example.com"]
    assert transport["certificate"].startswith("-----BEGIN CERTIFICATE-----")
    pushes = env.control(env.ece, "GET", "state")["pushes"]
    logged = [push for push in pushes if push["url"].endswith("/_emulator/transport")]
    assert logged and all("key" not in push["payload"]["certificate"] for push in logged)  # no private key logged


def test_the_namespace_scope_connects_without_credentials(env: EmulatedLink) -> None:
    chain = CertificateChain(env)
    chain.build()
    outs = chain.check(timeout=10)
    assert outs["connected"] is True
    assert chain.recorded()["connected"] is True
    assert chain.resolve()["connected"] is True
    served = [event for event in chain.server_events() if event["result"] == "ok"]
    assert served and served[-1]["client"].startswith("CN=instance-0000000000.node.")  # the ECE node's certificate


def test_the_default_namespace_scope_fails_the_check_for_a_cluster_in_namespace_prod(env: EmulatedLink) -> None:
    chain = CertificateChain(env, scope_id="default.es.local")
    chain.build()
    with pytest.raises(RemoteConnectionError) as raised:
        chain.check()
    assert "did not connect within" in str(raised.value)
    recorded = chain.recorded()
    assert recorded["code"] == "tls_trust_restricted", recorded
    assert f"with values [{NODE}] does not match the trusted names [*.default.es.local]" in recorded["reason"]
    # TransportResolveClusterAction: a connection failure is `connected: false` without an error.
    assert chain.resolve() == {"connected": False, "skip_unavailable": True}
    assert not [event for event in chain.server_events() if event["result"] == "ok"]


def test_the_check_error_names_the_scope_pattern_and_the_remote_node_name(env: EmulatedLink) -> None:
    chain = CertificateChain(env, scope_id="default.es.local")
    chain.build()
    props = chain.check_props()
    props["expected"]["node_names"] = [NODE]  # what the link tells the check in the certificate model
    with pytest.raises(RemoteConnectionError) as raised:
        RemoteConnectionCheckProvider(EceLocalSide()).create(props)
    message = str(raised.value)
    assert "*.default.es.local" in message and NODE in message, message


def test_a_remote_that_does_not_trust_the_deployment_ca_rejects_the_node(env: EmulatedLink) -> None:
    chain = CertificateChain(env, trust_ece_ca=False)
    chain.build()
    with pytest.raises(RemoteConnectionError):
        chain.check()
    assert chain.recorded()["code"] == "tls_client_rejected", chain.recorded()
    assert any(event["result"] == "tls_failed" for event in chain.server_events())


def test_the_remote_trust_yml_must_name_the_deployment_nodes(env: EmulatedLink) -> None:
    chain = CertificateChain(env, eck_trust_yml=[f"*.node.{CLUSTER}.{NAMESPACE}.es.local"])  # ECK's nodes only
    chain.build()
    with pytest.raises(RemoteConnectionError):
        chain.check()
    assert chain.recorded()["code"] == "tls_client_rejected", chain.recorded()
    [rejected] = [event for event in chain.server_events() if event["result"] == "restricted"][-1:]
    assert "does not match the trusted names [*.node.quickstart.prod.es.local]" in rejected["reason"]
    assert "with values [instance-0000000000.node." in rejected["reason"]


def test_a_proxy_entry_imposes_no_restriction(env: EmulatedLink) -> None:
    """The same CA in an API-key model entry (`type: proxy`): trusted, with no subject-name restriction."""
    chain = CertificateChain(env, model="api-key")
    chain.build()
    assert chain.check(timeout=10)["connected"] is True
