"""`EceDeploymentCa`: the CA of an ECE deployment and the trust restriction ECE recommends for it, read from
`GET /deployments/{id}/certificate-authority`. The TLS-certificate model mounts them into the ECK nodes, so those
accept transport connections from the deployment's nodes. It owns nothing: delete does nothing, refresh re-reads
(which is how an ECE CA rotation reaches the ECK cluster)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from ..dynamic import ConfiguredProvider, changed_keys, credentials_change_touches_nothing, credentials_input, require
from .connection_props import check_connection, client_from

INPUTS = ("ece", "ece_credentials", "deployment_id")


def _read(props: Mapping[str, Any]) -> dict[str, Any]:
    authority = client_from(props).certificate_authority(props["deployment_id"])
    certificates = sorted(authority.get("public_certificates") or [], key=lambda c: not c.get("active"))
    return {
        **{key: props.get(key) for key in INPUTS},
        "certificates": [c["pem"] for c in certificates],
        "trust_restriction": authority.get("recommended_trust_restriction"),
    }


class EceDeploymentCaProvider(ConfiguredProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, check_connection(news) + require(news, ("deployment_id",)))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=bool(changed_keys(olds, news, INPUTS)), replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['deployment_id']}/certificate-authority", _read(props))

    @credentials_change_touches_nothing(INPUTS)
    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(_read(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        outputs = _read({**props, "deployment_id": props.get("deployment_id") or id_.split("/", 1)[0]})
        return ReadResult(id_, outputs, {key: outputs[key] for key in INPUTS})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class EceDeploymentCa(Resource, module="eceeck", name="EceDeploymentCa"):
    """An ECE deployment's CA certificates (active first) and its recommended trust restriction."""

    certificates: pulumi.Output[list[str]]
    trust_restriction: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        ece: pulumi.Input[Mapping[str, Any]],
        ece_credentials: pulumi.Input[Mapping[str, Any]],
        deployment_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "ece": ece,
            "ece_credentials": credentials_input(ece_credentials),
            "deployment_id": deployment_id,
            "certificates": None,
            "trust_restriction": None,
        }
        super().__init__(EceDeploymentCaProvider(), name, props, opts)
