"""The first preview of a real environment: nothing exists yet, the ECK operator has published nothing, so the CA
and the load balancer address are unknown, and the preview must still succeed and list every resource."""

from __future__ import annotations

import pytest

from tools.emulated_link import REF_ID, EmulatedLink
from tools.engine_stack import EngineStack, make_engine_stack


@pytest.fixture
def stack(tmp_path_factory: pytest.TempPathFactory, engine_env: EmulatedLink) -> EngineStack[EmulatedLink]:
    engine_env.reset()
    engine = make_engine_stack(tmp_path_factory.mktemp("unknowns"), engine_env, "unknowns")
    engine.write_config(
        {
            "kubernetes": {},
            "eckClusters": [
                {
                    "name": "logs-prod",
                    "namespace": "elastic-prod",
                    "version": "9.3.2",
                    "operatorVersion": "3.5.0",
                    "nodeSets": [{"name": "default", "count": 3}],
                    "remoteClusterServer": {"exposure": "operator-service", "loadBalancerSourceRanges": ["10.0.0.0/8"]},
                }
            ],
            "eceDeployments": [{"name": "search", "id": engine_env.deployment_id, "refId": REF_ID}],
            "links": [
                {
                    "alias": "logs",
                    "eckCluster": "logs-prod",
                    "eceDeployment": "search",
                    "access": {"search": [{"names": ["logs-*"]}]},
                }
            ],
        }
    )
    return engine


def test_first_preview_succeeds_with_unknown_ca_and_address(stack: EngineStack[EmulatedLink]) -> None:
    before = stack.env.ece_resource()
    completed = stack.record(stack.cli.preview())
    out = completed.stdout
    for typ in (
        "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch",
        "pulumi-python:dynamic/eceeck:EckOperatorOutputs",
        "pulumi-python:dynamic/eceeck:CrossClusterApiKey",
        "pulumi-python:dynamic/eceeck:EceDeploymentTrust",
        "pulumi-python:dynamic/eceeck:EceKeystoreCredentials",
        "pulumi-python:dynamic/eceeck:RemoteClusterSettings",
        "pulumi-python:dynamic/eceeck:RemoteConnectionCheck",
    ):
        assert f"+ {typ}: (create)" in out, typ
    assert "proxyAddress : [unknown]" in out
    assert "caFingerprint: [unknown]" in out
    trust = out[out.index("+ pulumi-python:dynamic/eceeck:EceDeploymentTrust") :]
    trust = trust[: trust.index("+ pulumi-python", 10)]
    assert 'name        : "ece-eck-remote-logs"' in trust and "certificates: [unknown]" in trust, trust
    assert stack.env.ece_resource() == before
