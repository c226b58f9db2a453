"""`ece.region` against the ECE emulator: the deployment routes every provider uses are global in ECE, so a configured
region never prefixes them (cloud-sdk-go pkg/api/client_runtime.go `globalPath`; elastic/cloud-sdk-go#46), and the
emulator, like ECE, does not serve them under `/api/v1/regions/<region>`."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from components.ece.client import EceConnection, api_prefix, proxy_target
from components.ece.deployment_ca import EceDeploymentCaProvider
from components.ece.keystore import EceKeystoreCredentialsProvider
from components.ece.trust import EceTrustedCaProvider
from components.elasticsearch.client import caller
from tests.support.certs import make_ca
from tests.support.ece_swagger import swagger
from tools.emulated_link import REF_ID, EmulatedLink

REGION = "ece-region"


def regioned(env: EmulatedLink) -> dict[str, Any]:
    return {**env.ece_props(), "region": REGION}


def paths(env: EmulatedLink) -> list[str]:
    return [entry["path"] for entry in env.requests_to(env.ece)]


def test_every_provider_call_goes_to_the_global_deployments_path(env: EmulatedLink) -> None:
    common = {"ece": regioned(env), "ece_credentials": env.ece_credentials(), "deployment_id": env.deployment_id}
    trust = EceTrustedCaProvider()
    trust.create(
        trust.check(
            {},
            {
                **common,
                "ref_id": REF_ID,
                "entry_name": "ece-eck-remote-logs",
                "certificates": [make_ca("r").certificate_pem],
            },
        ).inputs
        | {"plan_timeout_seconds": 10}
    )
    keystore = EceKeystoreCredentialsProvider()
    keystore.create(
        keystore.check(
            {}, {**common, "ref_id": REF_ID, "alias": "logs", "value": "dmFsdWU=", "plan_timeout_seconds": 10}
        ).inputs
    )
    EceDeploymentCaProvider().create(common)
    local = caller(proxy_target(regioned(env), env.deployment_id, REF_ID), env.ece_credentials())
    local.request("get remote info", "GET", "_remote/info")
    requested = paths(env)
    assert requested and all(path.startswith(f"/api/v1/deployments/{env.deployment_id}") for path in requested)
    assert any(path.endswith("/proxy/_remote/info") for path in requested)
    for entry in env.requests_to(env.ece):
        swagger().assert_documented(entry["method"], entry["path"], entry["status"])


def test_a_regioned_deployments_path_is_an_unknown_route(env: EmulatedLink) -> None:
    answer = requests.get(
        f"{env.ece.url}/api/v1/regions/{REGION}/deployments/{env.deployment_id}",
        headers={"Authorization": f"ApiKey {env.ece_credentials()['api_key']}"},
        timeout=5,
    )
    assert answer.status_code == 404 and answer.json()["errors"][0]["code"] == "root.resource_not_found"
    with pytest.raises(KeyError):
        swagger().template(f"/api/v1/regions/{REGION}/deployments/{env.deployment_id}")


@pytest.mark.parametrize(
    ("route", "region", "expected"),
    [
        ("deployments/abc", REGION, "/api/v1"),
        ("deployments/abc/elasticsearch/main/proxy/_cluster/settings", REGION, "/api/v1"),
        ("deployments/abc/elasticsearch/notebook/keystore", REGION, "/api/v1"),
        ("deployments/abc/notes", REGION, f"/api/v1/regions/{REGION}"),  # cloud-sdk-go#49
        ("users/auth/_login", REGION, "/api/v1"),
        ("platform/configuration/trust-relationships", REGION, f"/api/v1/regions/{REGION}"),
        ("stack/versions", REGION, f"/api/v1/regions/{REGION}"),
        ("trusted-environments", REGION, f"/api/v1/regions/{REGION}"),  # not in `globalPath`
        ("platform/configuration/trust-relationships", None, "/api/v1"),
    ],
)
def test_api_prefix_follows_cloud_sdk_go(route: str, region: str | None, expected: str) -> None:
    assert api_prefix(route, region) == expected
    assert EceConnection("https://ece:12443", region).api_prefix(route) == expected
