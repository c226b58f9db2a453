"""The ECE side: where the ECE API is, its credentials (secrets), and the deployments links attach to."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from .. import validation as v
from ..credentials import ece_from
from ..pem import PemError, check_ca_bundle
from ..validation import SettingsError
from .model import EceConnectionSettings, EceDeployment, Secret
from .reading import Reader, known, secret_mapping

_DEPLOYMENT_ID = re.compile(r"^[0-9a-f]{32}$")
_REGION = re.compile(r"^[a-z0-9-]+$")
DEFAULT_PLAN_TIMEOUT = 900


def ece_connection(
    raw: Any, reader: Reader, secrets: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> EceConnectionSettings:
    node = v.mapping("ece", raw)
    known("ece", node, "ece")
    url = v.url("ece.url", node.get("url"))
    region = node.get("region")
    if region is not None and not (isinstance(region, str) and _REGION.match(region)):
        raise SettingsError(
            "ece.region", region, "an ECE region is lowercase letters, digits and '-', like 'ece-region'"
        )
    ca = reader.text_or_file(node, "ece", "caCertificate", "caCertificateFile")
    if ca is not None:
        try:
            ca = "".join(check_ca_bundle(ca, require_ca=False))
        except PemError as error:
            raise SettingsError("ece.caCertificate", "(PEM)", f"is not a usable certificate bundle: {error}") from None
    insecure = v.require_type("ece.insecureSkipVerify", node.get("insecureSkipVerify", False), bool, "true or false")
    if insecure and ca is not None:
        raise SettingsError(
            "ece.insecureSkipVerify", insecure, "a CA bundle and skipping verification exclude each other"
        )
    timeout = v.positive_int(
        "ece.planTimeoutSeconds", node.get("planTimeoutSeconds", DEFAULT_PLAN_TIMEOUT), maximum=86400
    )
    credentials = secret_mapping("secrets.ece", secrets.get("ece", {}))
    known("secrets.ece", credentials, "secrets.ece", secret=True)
    api_key, username, password = credentials.get("apiKey"), credentials.get("username"), credentials.get("password")
    if not credentials:
        # Providers read them again when they call ECE (components/credentials.py); here they are only checked.
        from_environment = ece_from(None, environ if environ is not None else os.environ) or {}
        api_key = from_environment.get("api_key")
        username, password = from_environment.get("username"), from_environment.get("password")
    if api_key is None and (username is None or password is None):
        raise SettingsError(
            "secrets.ece",
            None,
            "ECE credentials are needed: secrets.ece.apiKey, or secrets.ece.username and secrets.ece.password "
            "(pulumi config set --path --secret secrets.ece.apiKey <key>), or ECE_API_KEY, or ECE_USERNAME and "
            "ECE_PASSWORD in the environment",
            secret=True,
        )
    if api_key is not None and username is not None:
        raise SettingsError(
            "secrets.ece.username", username, "give an ECE API key or a username and password, not both"
        )
    for key, value in (("apiKey", api_key), ("password", password)):
        if value is not None and (not isinstance(value, str) or not value):
            raise SettingsError(f"secrets.ece.{key}", value, "must be a non-empty string", secret=True)
    return EceConnectionSettings(
        url=url,
        region=region,
        ca_certificate=ca,
        insecure=insecure,
        plan_timeout_seconds=timeout,
        api_key=Secret(api_key) if api_key else None,
        username=str(username) if username else None,
        password=Secret(password) if password else None,
    )


def ece_deployments(raw: Any) -> tuple[EceDeployment, ...]:
    result: list[EceDeployment] = []
    for index, item in enumerate(v.sequence("eceDeployments", raw)):
        key = f"eceDeployments[{index}]"
        node = v.mapping(key, item)
        known(key, node, "eceDeployments[]")
        deployment_id = node.get("id")
        if not (isinstance(deployment_id, str) and _DEPLOYMENT_ID.match(deployment_id)):
            raise SettingsError(
                f"{key}.id", deployment_id, "an ECE deployment id is 32 lowercase hexadecimal characters"
            )
        name = node.get("name", deployment_id)
        v.require_type(f"{key}.name", name, str, "a string")
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name) or len(name) > 40:
            raise SettingsError(
                f"{key}.name", name, "must be 1 to 40 lowercase letters, digits and '-' (it names resources)"
            )
        ref_id = node.get("refId", "_main")
        if not (isinstance(ref_id, str) and re.fullmatch(r"[A-Za-z0-9_-]+", ref_id)):
            raise SettingsError(
                f"{key}.refId",
                ref_id,
                "an Elasticsearch ref_id is letters, digits, '-' and '_', like 'main-elasticsearch'",
            )
        if any(existing.name == name for existing in result):
            raise SettingsError(f"{key}.name", name, "deployment names must be unique in a stack")
        result.append(EceDeployment(name, deployment_id, ref_id))
    return tuple(result)
