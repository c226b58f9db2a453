"""The ECE side: where the ECE API is, its credentials (secrets), and the deployments links attach to."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from .. import validation as v
from ..credentials import ece_from
from ..pem import PemError, check_ca_bundle
from ..validation import SettingsError, SettingsErrors
from .model import EceConnectionSettings, EceDeployment, Secret
from .reading import PEM, Problems, Reader, known, secret_mapping

_DEPLOYMENT_ID = re.compile(r"^[0-9a-f]{32}$")
_REGION = re.compile(r"^[a-z0-9-]+$")
DEFAULT_PLAN_TIMEOUT = 900


def ece_connection(
    p: Problems,
    raw: Any,
    *,
    reader: Reader,
    secrets: Mapping[str, Any] | None,
    environ: Mapping[str, str] | None = None,
) -> EceConnectionSettings | None:
    """`ece` and its credentials (`secrets.ece`, or the environment); None when something is wrong (recorded)."""
    mark = p.mark()
    node = p.value(v.mapping, "ece", raw)
    if node is None:
        return None
    p.value(known, "ece", node, "ece")
    url = p.value(v.url, "ece.url", node.get("url"))
    region = node.get("region")
    if region is not None and not (isinstance(region, str) and _REGION.match(region)):
        p.add(
            SettingsError("ece.region", region, "an ECE region is lowercase letters, digits and '-', like 'ece-region'")
        )
    ca = p.value(reader.text_or_file, node, "ece", "caCertificate", "caCertificateFile")
    if ca is not None:
        try:
            ca = "".join(check_ca_bundle(ca, require_ca=False))
        except PemError as error:
            p.add(SettingsError("ece.caCertificate", None, f"is not a usable certificate bundle: {error}", shown=PEM))
    insecure = p.value(
        v.require_type, "ece.insecureSkipVerify", node.get("insecureSkipVerify", False), bool, "true or false"
    )
    if insecure and ca is not None:
        p.add(
            SettingsError(
                "ece.insecureSkipVerify", insecure, "a CA bundle and skipping verification exclude each other"
            )
        )
    timeout = p.value(
        v.positive_int, "ece.planTimeoutSeconds", node.get("planTimeoutSeconds", DEFAULT_PLAN_TIMEOUT), maximum=86400
    )
    credentials = p.value(_credentials, secrets, environ) if secrets is not None else None
    if p.since(mark) or credentials is None:
        return None
    assert url is not None and insecure is not None and timeout is not None
    api_key, username, password = credentials
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


def _credentials(
    secrets: Mapping[str, Any], environ: Mapping[str, str] | None
) -> tuple[str | None, str | None, str | None]:
    """The ECE API key, or username and password: `secrets.ece`, else the environment."""
    credentials = secret_mapping("secrets.ece", secrets.get("ece", {}))
    known("secrets.ece", credentials, "secrets.ece")
    api_key, username, password = credentials.get("apiKey"), credentials.get("username"), credentials.get("password")
    if not credentials:
        # Providers read them again when they call ECE (components/credentials.py); here they are only checked.
        from_environment = ece_from(None, environ if environ is not None else os.environ) or {}
        api_key = from_environment.get("api_key")
        username, password = from_environment.get("username"), from_environment.get("password")
    if api_key is None and (username is None or password is None):
        raise SettingsError(
            "secrets.ece.apiKey",
            None,
            "ECE credentials are needed: secrets.ece.apiKey, or secrets.ece.username and secrets.ece.password, or "
            "ECE_API_KEY, or ECE_USERNAME and ECE_PASSWORD in the environment",
            secret=True,
        )
    if api_key is not None and username is not None:
        raise SettingsError(
            "secrets.ece.username", username, "give an ECE API key or a username and password, not both"
        )
    problems = [
        SettingsError(f"secrets.ece.{key}", value, "must be a non-empty string", secret=True)
        for key, value in (("apiKey", api_key), ("password", password))
        if value is not None and (not isinstance(value, str) or not value)
    ]
    if username is not None and (not isinstance(username, str) or not username):
        problems.append(SettingsError("secrets.ece.username", username, "must be a non-empty string"))
    if problems:
        raise SettingsErrors(problems)
    return api_key, username, password


def ece_deployments(p: Problems, raw: Any) -> tuple[tuple[EceDeployment, ...], set[str]]:
    """The deployments that parsed, and the names of all that were declared (links naming a wrong one are not
    reported again)."""
    result: list[EceDeployment] = []
    declared: set[str] = set()
    for index, item in enumerate(p.value(v.sequence, "eceDeployments", raw) or []):
        key = f"eceDeployments[{index}]"
        mark = p.mark()
        node = p.value(v.mapping, key, item)
        if node is None:
            continue
        p.value(known, key, node, "eceDeployments[]")
        deployment_id = node.get("id")
        if not (isinstance(deployment_id, str) and _DEPLOYMENT_ID.match(deployment_id)):
            p.add(
                SettingsError(f"{key}.id", deployment_id, "an ECE deployment id is 32 lowercase hexadecimal characters")
            )
        name = node.get("name", deployment_id)
        if isinstance(name, str):
            if name in declared:
                p.add(SettingsError(f"{key}.name", name, "deployment names must be unique in a stack"))
            declared.add(name)
        valid_name = isinstance(name, str) and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name) and len(name) <= 40
        if "name" in node and not valid_name:
            p.add(
                SettingsError(
                    f"{key}.name", name, "must be 1 to 40 lowercase letters, digits and '-' (it names resources)"
                )
            )
        ref_id = node.get("refId", "_main")
        if not (isinstance(ref_id, str) and re.fullmatch(r"[A-Za-z0-9_-]+", ref_id)):
            p.add(
                SettingsError(
                    f"{key}.refId",
                    ref_id,
                    "an Elasticsearch ref_id is letters, digits, '-' and '_', like 'main-elasticsearch'",
                )
            )
        if not p.since(mark):
            result.append(EceDeployment(str(name), str(deployment_id), str(ref_id)))
    return tuple(result), declared
