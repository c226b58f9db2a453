"""A whole `up` with `securityModel: certificate` (the TLS-certificate model, deprecated in 9.0), with the real engine:
ECE gets a `generic` trust entry scoped to `<namespace>.es.local` and no keystore credential, the local cluster's
remote settings point at the transport port, and the connection check ends connected, over mutual TLS with both
sides' trust restrictions applied by the emulators.

The ECK side is rendered (render mode), so no operator mounts the ECE CA and `trust.yml` into the nodes; the remote
emulator's transport port stand-in is given them instead, and the test checks that they are what the program
rendered for the nodes."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import yaml

from components.names import certificate_model_scope
from components.polling import wait_for
from tools.emulated_link import ECE_API_KEY, EmulatedLink
from tools.engine_stack import EngineStack, link_config, make_engine_stack

NAMESPACE = "elastic"  # link_config's namespace
TRUST = "pulumi-python:dynamic/eceeck:EceDeploymentTrust"
KEYSTORE = "pulumi-python:dynamic/eceeck:EceKeystoreCredentials"
KEY = "pulumi-python:dynamic/eceeck:CrossClusterApiKey"


def deployment_ca(env: EmulatedLink) -> dict[str, Any]:
    response = requests.get(
        f"{env.ece.url}/api/v1/deployments/{env.deployment_id}/certificate-authority",
        headers={"Authorization": f"ApiKey {ECE_API_KEY}"},
        timeout=10,
    )
    response.raise_for_status()
    return dict(response.json())


def certificate_config(env: EmulatedLink, stack: EngineStack[EmulatedLink], address: str) -> dict[str, Any]:
    config = link_config(env, rendered=stack.rendered, address=address)
    cluster = config["eckClusters"][0]
    cluster["securityModel"] = "certificate"
    cluster.pop("serverName")  # the certificate model's default: <es>-es-transport.<namespace>.svc
    for link in config["links"]:  # no API key, no remote_indices role: the model authorises by certificate
        link.pop("access")
        link.pop("roles")
    return config


@pytest.fixture
def stack(tmp_path_factory: pytest.TempPathFactory, engine_env: EmulatedLink) -> EngineStack[EmulatedLink]:
    engine_env.reset()
    authority = deployment_ca(engine_env)
    # What the program renders into the ECK nodes' Secret and trust.yml (checked against the manifests below).
    server = engine_env.control(
        engine_env.remote,
        "PUT",
        "transport-server",
        {
            "namespace": NAMESPACE,
            "client_cas": [certificate["pem"] for certificate in authority["public_certificates"]],
            "subject_names": [
                f"*.node.quickstart.{NAMESPACE}.es.local",
                authority["recommended_trust_restriction"],
            ],
        },
    )
    engine = make_engine_stack(tmp_path_factory.mktemp("certificate-model"), engine_env, "cert")
    engine.write_config(certificate_config(engine_env, engine, server["address"]))
    return engine


def rendered_trust_yml(stack: EngineStack[EmulatedLink]) -> list[str]:
    for path in stack.rendered.rglob("*.yaml"):
        for document in yaml.safe_load_all(path.read_text()):
            if isinstance(document, dict) and document.get("kind") == "ConfigMap" and "trust.yml" in document["data"]:
                return list(yaml.safe_load(document["data"]["trust.yml"])["trust.subject_name"])
    raise AssertionError(f"no trust.yml ConfigMap under {stack.rendered}")


def test_an_up_with_the_certificate_model_ends_connected(stack: EngineStack[EmulatedLink]) -> None:
    env = stack.env
    stack.record(stack.cli.up())
    assert stack.cli.outputs()["links"]["search-quickstart"]["connected"] is True
    [entry] = [e for e in env.direct_entries() if e["name"] == "ece-eck-remote-quickstart"]
    assert (entry["type"], entry["trust_all"], entry["scope_id"]) == (
        "generic",
        True,
        certificate_model_scope(NAMESPACE),
    )
    assert not stack.urns(KEYSTORE) and not stack.urns(KEY)
    assert not [key for key in env.ece_resource()["keystore"] if key.startswith("cluster.remote.")]
    server = env.control(env.remote, "GET", "transport-server")
    assert rendered_trust_yml(stack) == server["subject_names"]  # the stand-in restricts as the nodes would
    assert server["open_connections"] == 1
    local = env.control(env.local, "GET", "state")
    assert local["remote_connections"]["quickstart"]["connected"] is True
    assert local["settings"]["persistent"]["cluster.remote.quickstart.server_name"] == (
        f"quickstart-es-transport.{NAMESPACE}.svc"
    )
    stack.record(stack.cli.destroy())
    assert not [e for e in env.direct_entries() if e["name"] == "ece-eck-remote-quickstart"]

    def served() -> list[dict[str, Any]]:  # a connection's event is logged when it ends (the alias is gone)
        events = env.control(env.remote, "GET", "transport-server")["events"]
        return [event for event in events if event["result"] == "ok"]

    events = wait_for(lambda: served() or None, timeout=5, describe=lambda: "no served connection ended")
    assert all(event["client"].startswith("CN=instance-0000000000.node.") for event in events)  # the ECE node
    assert sum(event["requests"] for event in events) >= 1
