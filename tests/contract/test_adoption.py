"""`links[].adopt` against the emulators: what is not there, or is another link's, is refused naming the config key
before anything changes; the key, keystore and settings providers take over what a person made."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from components.adoption import check_adoption
from components.dynamic import AdoptionError
from components.ece.keystore import EceKeystoreCredentialsProvider
from components.ece.trust import EceTrustedCaProvider
from components.elasticsearch.api_key import CrossClusterApiKeyProvider
from components.elasticsearch.remote_settings import RemoteClusterSettingsProvider
from components.settings import EceConnectionSettings, EceDeployment, Link
from components.settings.model import Adoption, Secret
from components.validation import SettingsError
from tools.emulated_link import ECE_API_KEY, REF_ID, REMOTE_PASSWORD, SERVER_NAME, EmulatedLink

ALIAS = "logs"


def ece(env: EmulatedLink) -> EceConnectionSettings:
    return EceConnectionSettings(
        url=env.ece.url,
        region=None,
        ca_certificate=None,
        insecure=False,
        plan_timeout_seconds=10,
        api_key=Secret(ECE_API_KEY),
    )


def deployment(env: EmulatedLink) -> EceDeployment:
    return EceDeployment(name="search", id=env.deployment_id, ref_id=REF_ID)


def link(**adopt: Any) -> Link:
    return Link(alias=ALIAS, eck_cluster="quickstart", ece_deployment="search", access={}, adopt=Adoption(**adopt))


def trust_entry(env: EmulatedLink, name: str) -> None:
    EceTrustedCaProvider().create(
        {
            "ece": env.ece_props(),
            "ece_credentials": env.ece_credentials(),
            "deployment_id": env.deployment_id,
            "ref_id": REF_ID,
            "entry_name": name,
            "model": "api-key",
            "certificates": [env.rcs_ca],
            "plan_timeout_seconds": 10,
        }
    )


def ece_state(env: EmulatedLink) -> dict[str, Any]:
    resource = env.ece_resource()
    return {"trust": resource["trust"], "keystore": resource["keystore"]}


def test_an_entry_of_another_link_is_refused_naming_the_key(env: EmulatedLink) -> None:
    trust_entry(env, "ece-eck-remote-metrics")
    before = ece_state(env)
    with pytest.raises(SettingsError) as raised:
        check_adoption("links[2]", link(trust_entry="ece-eck-remote-metrics"), ece(env), deployment(env))
    assert raised.value.key == "links[2].adopt.trustEntry"
    assert "the trust entry of the link with alias 'metrics'" in str(raised.value)
    assert ece_state(env) == before


def test_a_missing_entry_names_the_ones_there(env: EmulatedLink) -> None:
    trust_entry(env, "made-by-hand")
    with pytest.raises(SettingsError) as raised:
        check_adoption("links[0]", link(trust_entry="nope"), ece(env), deployment(env))
    assert raised.value.key == "links[0].adopt.trustEntry" and "made-by-hand" in str(raised.value)


def test_a_key_without_its_keystore_entry_and_an_alias_not_there_are_refused(env: EmulatedLink) -> None:
    with pytest.raises(SettingsError) as raised:
        check_adoption("links[0]", link(api_key_id="abc"), ece(env), deployment(env))
    assert raised.value.key == "links[0].adopt.apiKeyId" and f"cluster.remote.{ALIAS}.credentials" in str(raised.value)
    with pytest.raises(SettingsError) as raised:
        check_adoption("links[0]", link(alias=True), ece(env), deployment(env))
    assert raised.value.key == "links[0].adopt.alias" and f"cluster.remote.{ALIAS}.*" in str(raised.value)


def test_what_is_there_is_listed_and_an_adoption_done_earlier_says_nothing(env: EmulatedLink) -> None:
    trust_entry(env, "made-by-hand")
    plan = check_adoption("links[0]", link(trust_entry="made-by-hand"), ece(env), deployment(env))
    assert len(plan) == 1 and "takes over trust entry 'made-by-hand'" in plan[0]
    env.reset()
    trust_entry(env, f"ece-eck-remote-{ALIAS}")  # what an earlier `up` renamed it to
    assert check_adoption("links[0]", link(trust_entry="made-by-hand"), ece(env), deployment(env)) == []


def test_a_key_of_another_link_is_not_taken(env: EmulatedLink) -> None:
    made = requests.post(
        f"{env.remote.url}/_security/cross_cluster/api_key",
        json={
            "name": "ece-eck-remote-test-metrics",
            "access": {"search": [{"names": ["m-*"]}]},
            "metadata": {"managed_by": "ece-eck-remote"},
        },
        auth=("elastic", REMOTE_PASSWORD),
        timeout=10,
    ).json()
    props = {
        "target": env.remote_target(),
        "credentials": env.remote_credentials(),
        "name": "ece-eck-remote-test-logs",
        "access": {"search": [{"names": ["logs-*"]}]},
        "adopt_key_id": made["id"],
    }
    with pytest.raises(AdoptionError, match="belongs to another link of this program"):
        CrossClusterApiKeyProvider().create(props)
    props["adopt_key_id"] = "NoSuchKey000"
    with pytest.raises(AdoptionError, match="no valid API key of that id"):
        CrossClusterApiKeyProvider().create(props)


def test_the_keystore_entry_and_the_alias_are_taken_over_without_a_write(env: EmulatedLink) -> None:
    key = f"cluster.remote.{ALIAS}.credentials"
    props = {
        "ece": env.ece_props(),
        "ece_credentials": env.ece_credentials(),
        "deployment_id": env.deployment_id,
        "ref_id": REF_ID,
        "alias": ALIAS,
        "value": "",
        "adopt": True,
        "plan_timeout_seconds": 10,
    }
    provider = EceKeystoreCredentialsProvider()
    assert not provider.check({}, props).failures
    with pytest.raises(AdoptionError, match=key):
        provider.create(props)
    requests.patch(
        f"{env.ece.url}/api/v1/deployments/{env.deployment_id}/elasticsearch/{REF_ID}/keystore",
        json={"secrets": {key: {"value": "encoded-by-hand"}}},
        headers={"Authorization": f"ApiKey {ECE_API_KEY}"},
        timeout=10,
    ).raise_for_status()
    created = provider.create(props)
    assert created.outs["adopted"] is True
    assert env.ece_resource()["keystore"][key]["value"] == "encoded-by-hand"  # not rewritten
    # with `adopt` gone from the config, the empty value of an adopted key is still accepted
    assert not provider.check(created.outs, {**props, "adopt": False}).failures
    assert provider.check({}, {**props, "adopt": False}).failures  # a new entry needs a value
    settings = {
        "target": env.local_target(),
        "credentials": env.ece_credentials(),
        "alias": ALIAS,
        "proxy_address": env.rcs_address,
        "server_name": SERVER_NAME,
        "adopt_alias": True,
    }
    with pytest.raises(AdoptionError, match=f"adopt.alias '{ALIAS}'"):
        RemoteClusterSettingsProvider().create(settings)
