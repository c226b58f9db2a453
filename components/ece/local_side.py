"""`EceLocalSide`: what the connection check may ask of the ECE side of a link, without knowing ECE.

The link hands the check an `EceLocalSide` and the trust details (`details`: ECE connection and credentials,
deployment, Elasticsearch resource, trust entry name, plan timeout). The check calls it to say what is wrong on the
ECE side when the link does not connect (the end of a CA rotation is the deployment's: `retirement.py`). Stateless,
so it pickles by reference into the dynamic provider.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .. import names
from ..pem import fingerprint
from .client import EceApiError, EceClient, EceConnection, auth_from_props
from .trust import EntryRef, entry_pems, find_entry


def _client(details: Mapping[str, Any]) -> EceClient:
    return EceClient(EceConnection.from_props(details["ece"]), auth_from_props(details["ece_credentials"]))


def _ref(details: Mapping[str, Any]) -> EntryRef:
    return EntryRef(details["deployment_id"], details.get("ref_id") or "_main", details["entry_name"])


class EceLocalSide:
    """Trust and keystore on an ECE deployment, seen from the connection check."""

    def credentials_hint(self, details: Mapping[str, Any], alias: str) -> str:
        """Why no credentials are loaded for `alias`, when the keystore shows it (another alias's key)."""
        try:
            keys = sorted(_client(details).get_keystore(details["deployment_id"], details.get("ref_id") or "_main"))
        except EceApiError:
            return ""
        wanted = names.keystore_credentials_key(alias)
        others = [key for key in keys if key.startswith("cluster.remote.") and key.endswith(".credentials")]
        if wanted in keys:
            return "; the keystore holds it, but the deployment has not loaded it (keystore reload or restart)"
        return f"; the keystore holds {', '.join(others)} (alias mismatch?)" if others else ""

    def trust_problems(self, details: Mapping[str, Any], fingerprints: list[str], node_names: list[str]) -> list[str]:
        """From one read of our trust entry: whether it trusts one of the remote's CA `fingerprints`, and (TLS-certificate
        model, `node_names` given) whether its subject-name restriction lets the remote's nodes in."""
        ref = _ref(details)
        try:
            entry = find_entry(_client(details).get_deployment(ref.deployment_id).trust(ref.ref_id), ref.name)
        except EceApiError as error:
            return [f"CA: could not read the deployment's trust ({error})"]
        problems: list[str] = []
        if fingerprints and not set(fingerprints) & {fingerprint(pem) for pem in entry_pems(entry)}:
            problems.append(
                "CA: the deployment does not trust the remote's CA (trust entry missing or holds another certificate)"
            )
        patterns = trusted_node_patterns(entry) if entry is not None else None
        if patterns is not None and node_names and not any(_matches(p, n) for p in patterns for n in node_names):
            problems.append(
                f"trust restriction: entry '{ref.name}' (scope_id '{entry.get('scope_id') if entry else None}') trusts "
                f"node names matching [{', '.join(patterns) or 'none'}], but the remote's nodes are named like "
                f"'{node_names[0]}'"
            )
        return problems


def trusted_node_patterns(entry: Mapping[str, Any]) -> list[str] | None:
    """The node names a direct entry trusts, as Elasticsearch trust-restriction patterns; None when it restricts
    nothing (`type: proxy`, the API-key model). The swagger: `scope_id` is "any suitable suffix for clusters using the
    CA certificate of this trust", `trust_all` trusts "all clusters matching the scope id", an allowlisted cluster
    id narrows it, `additional_node_names` are exact names. The exact pattern ECE writes is not public: `*.<scope>`
    is the reading of "suffix" (the emulator applies the same, emulators/elasticsearch/restrictions.py)."""
    if entry.get("type") == "proxy":
        return None
    scope = entry.get("scope_id")
    patterns: list[str] = []
    if scope and entry.get("trust_all"):
        patterns.append(f"*.{scope}")
    elif scope:
        patterns.extend(f"*.node.{cluster}.{scope}" for cluster in entry.get("trust_allowlist") or [])
    patterns.extend(str(name) for name in entry.get("additional_node_names") or [])
    return patterns


def _matches(pattern: str, name: str) -> bool:
    """Elasticsearch's `Automatons.predicate` wildcard: `*` is any run of characters, dots included."""
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), name) is not None
