"""ECE connection and credentials as dynamic-resource inputs, and the client built from them at call time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import CheckFailure

from ..credentials import is_reference
from ..dynamic import is_unknown
from .client import EceClient, EceConnection, auth_from_props


def connection_props(url: str, region: str | None, ca_certificate: str | None, insecure: bool) -> dict[str, Any]:
    """The ECE connection as the dynamic resources take it (their `ece` input)."""
    return {"url": url, "region": region, "ca_certificate": ca_certificate, "insecure": insecure}


def client_from(props: Mapping[str, Any]) -> EceClient:
    return EceClient(EceConnection.from_props(props["ece"]), auth_from_props(props["ece_credentials"]))


def check_connection(news: Mapping[str, Any]) -> list[CheckFailure]:
    failures: list[CheckFailure] = []
    ece = news.get("ece")
    if not is_unknown(ece) and not (
        isinstance(ece, Mapping) and str(ece.get("url", "")).startswith(("https://", "http://"))
    ):
        failures.append(CheckFailure("ece", "ece.url must be an http(s) URL of the ECE API"))
    credentials = news.get("ece_credentials")
    if not is_unknown(credentials) and not (
        is_reference(credentials)
        or (
            isinstance(credentials, Mapping)
            and (credentials.get("api_key") or (credentials.get("username") and credentials.get("password")))
        )
    ):
        failures.append(CheckFailure("ece_credentials", "ECE credentials need an api_key, or a username and password"))
    return failures
