"""`links[].adopt` in the settings, and how the link hands it to its resources."""

from __future__ import annotations

from typing import Any

import pytest

from components.settings import Settings, load_settings
from components.settings.model import Adoption
from components.validation import SettingsError
from tests.support.configs import eck_cluster
from tests.support.stacks import ROOT, raw_getter


def parse(adopt: Any) -> Settings:
    config = {
        "eckClusters": [eck_cluster()],
        "ece": {"url": "https://ece.example.com:12443"},
        "eceDeployments": [{"name": "search", "id": "a" * 32}],
        "links": [
            {
                "alias": "logs",
                "eckCluster": "quickstart",
                "eceDeployment": "search",
                "access": {"search": [{"names": ["logs-*"]}]},
                "adopt": adopt,
            }
        ],
        "secrets": {"ece": {"apiKey": "ece-key"}},
    }
    return load_settings(raw_getter(config), project="ece-eck-remote", stack="test", project_dir=ROOT)


def test_what_a_link_takes_over_is_read() -> None:
    link = parse({"trustEntry": "eck-by-hand", "apiKeyId": "VuaCfGcBCdbkQm-e5aOx", "alias": "logs"}).links[0]
    assert link.adopt == Adoption(trust_entry="eck-by-hand", api_key_id="VuaCfGcBCdbkQm-e5aOx", alias=True)
    assert parse({"alias": "logs"}).links[0].adopt == Adoption(alias=True)


@pytest.mark.parametrize(
    ("adopt", "key", "rule"),
    [
        ({"alias": "other"}, "links[0].adopt.alias", "must be the link's alias 'logs'"),
        ({}, "links[0].adopt", "names at least one of trustEntry, apiKeyId, alias"),
        ({"trustEntry": " spaced "}, "links[0].adopt.trustEntry", "without surrounding spaces"),
        ({"apiKeyId": 7}, "links[0].adopt.apiKeyId", "a non-empty name"),
        ({"trustEntry": "x", "keyId": "y"}, "links[0].adopt.keyId", "is not a known setting"),
    ],
)
def test_a_bad_adoption_names_the_key_and_the_rule(adopt: Any, key: str, rule: str) -> None:
    with pytest.raises(SettingsError) as raised:
        parse(adopt)
    assert raised.value.key == key and rule in str(raised.value)
