"""A Pulumi program of its own that uses ece-eck-remote as a library: one remote cluster link, built from values that
are Outputs of other resources rather than from this repository's stack config.

The ECE deployment's id, the remote cluster's address, TLS server name, CA and HTTP API, and the index patterns the
cross-cluster API key grants all come from `Inventory` (inventory.py), a resource standing for those a real program
has. `RemoteClusterLink` makes the key on the remote, trusts its CA and stores the key on the ECE deployment, sets the
alias in proxy mode, adds a role, and ends when the alias is connected.

Config: `eceUrl`, `inventory` (the record's path), `remotePassword` (secret), `alias`; the ECE API key in
`ECE_API_KEY` (or the stack config's `secrets.ece.apiKey`).
"""

from __future__ import annotations

from typing import Any

import pulumi
from ece_eck_remote import (
    EceApi,
    EckLinkEndArgs,
    ElasticsearchApi,
    RemoteClusterLink,
    RemoteClusterLinkArgs,
    Role,
)
from inventory import Inventory

config = pulumi.Config()
alias = config.get("alias") or "logs"

environment = Inventory("environment", path=config.require("inventory"))
record = environment.values
remote = record.apply(lambda values: values["remote"])


def elastic_user(password: str) -> dict[str, Any]:
    return {"username": "elastic", "password": password}


link = RemoteClusterLink(
    f"search-{alias}",
    RemoteClusterLinkArgs(
        alias=alias,
        ece=EceApi(url=config.require("eceUrl"), plan_timeout_seconds=120),
        deployment_id=record.apply(lambda values: values["deploymentId"]),
        ref_id=record.apply(lambda values: values.get("refId") or "_main"),
        eck=EckLinkEndArgs(
            address=remote.apply(lambda end: end["address"]),
            server_name=remote.apply(lambda end: end["serverName"]),
            ca_certificate=remote.apply(lambda end: end["caCertificate"]),
            declares_ca=True,
            api=ElasticsearchApi(
                url=remote.apply(lambda end: end["url"]),
                credentials=config.require_secret("remotePassword").apply(elastic_user),
            ),
            access=record.apply(lambda values: {"search": [{"names": values["indexPatterns"]}]}),
            # The default name derives from the component's name; one of its own keeps the key if the link is renamed.
            key_name=f"{pulumi.get_project()}-{pulumi.get_stack()}-{alias}",
        ),
        roles=[
            Role(
                f"{alias}-reader",
                {"remote_indices": [{"clusters": [alias], "names": ["logs-*"], "privileges": ["read"]}]},
            )
        ],
        connection_timeout_seconds=120,
    ),
)

pulumi.export("connected", link.connected)
pulumi.export("proxyAddress", link.proxy_address)
pulumi.export("serverName", link.server_name)
pulumi.export("caFingerprint", link.ca_fingerprint)
