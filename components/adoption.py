"""`links[].adopt`: taking over a link set up by hand, checked before anything is declared.

`pulumi import` cannot work with dynamic providers (pulumi/pulumi#16175), so a link names what it takes over: the
deployment's trust entry, the remote's cross-cluster API key, the alias. The resources take them over on create
(the trust entry renamed to ours with its `uid` kept, the key's grants set in place, the alias's settings written, the
keystore entry kept): nothing is recreated, so the connection stays up.

Here, before any resource is declared, what is on the ECE side is read and checked: a trust entry or an alias that is
not there, or that is another link's, stops `preview` and `up` with the config key, the value and the rule, before
any change. What will be taken over is printed, so `preview` shows it beside the inputs it will write. A name that is
already ours means the adoption happened in an earlier `up`: nothing to say then. The API key lives on the remote;
the key resource reads it first (read only) and every ECE-side resource waits for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import names
from .ece.client import EceClient, EceConnection, auth_from_props, proxy_target
from .ece.connection_props import connection_props
from .ece.trust import entry_pems, find_entry
from .elasticsearch.client import caller
from .elasticsearch.remote_settings import live_settings
from .pem import fingerprint
from .settings import EceConnectionSettings, EceDeployment, Link
from .validation import SettingsError


def ece_props(ece: EceConnectionSettings) -> dict[str, Any]:
    return connection_props(ece.url, ece.region, ece.ca_certificate, ece.insecure)


def _credentials(ece: EceConnectionSettings) -> dict[str, Any]:
    if ece.api_key is not None:
        return {"api_key": ece.api_key.reveal()}
    assert ece.password is not None
    return {"username": ece.username, "password": ece.password.reveal()}


def _ece_client(ece: EceConnectionSettings) -> EceClient:
    return EceClient(EceConnection.from_props(ece_props(ece)), auth_from_props(_credentials(ece)))


def _managed_alias(entry_name: str) -> str | None:
    prefix = names.trust_entry_name("")
    return entry_name[len(prefix) :] if entry_name.startswith(prefix) else None


def check_adoption(
    key: str, link: Link, ece: EceConnectionSettings, deployment: EceDeployment, *, client: EceClient | None = None
) -> list[str]:
    """Raise `SettingsError` when `link.adopt` cannot be taken over; else what will be (one line each)."""
    adopt = link.adopt
    if adopt is None:
        return []
    client = client or _ece_client(ece)
    ref_id = deployment.ref_id or "_main"
    found = client.get_deployment(deployment.id)
    trust = found.trust(ref_id)
    ours = names.trust_entry_name(link.alias)
    plan: list[str] = []
    if adopt.trust_entry:
        entry = find_entry(trust, adopt.trust_entry)
        owner = _managed_alias(adopt.trust_entry)
        if owner is not None and owner != link.alias:
            raise SettingsError(
                f"{key}.adopt.trustEntry",
                adopt.trust_entry,
                f"it is the trust entry of the link with alias '{owner}'; a link takes over only an entry made by hand",
            )
        if entry is None and find_entry(trust, ours) is None:
            entries = ", ".join(str(e.get("name")) for e in trust.get("direct") or []) or "none"
            raise SettingsError(
                f"{key}.adopt.trustEntry",
                adopt.trust_entry,
                f"it must name a direct trust entry of deployment {deployment.id} (its entries: {entries})",
            )
        if entry is not None and adopt.trust_entry != ours:
            prints = ", ".join(fingerprint(pem)[:23] for pem in entry_pems(entry)) or "no certificate"
            plan.append(
                f"{key}: takes over trust entry '{adopt.trust_entry}' ({prints}) as '{ours}', keeping its uid; "
                "certificates that are not the remote's CA stay trusted until the link is confirmed without them"
            )
    keystore_key = names.keystore_credentials_key(link.alias)
    if adopt.api_key_id:
        if keystore_key not in client.get_keystore(deployment.id, ref_id):
            raise SettingsError(
                f"{key}.adopt.apiKeyId",
                adopt.api_key_id,
                f"the keystore of deployment {deployment.id} must hold the adopted key as {keystore_key} (its encoded "
                "value cannot be read back from anywhere), and it has no such entry",
            )
        plan.append(
            f"{key}: takes over cross-cluster API key {adopt.api_key_id} (its grants are set in place) and keystore "
            f"entry {keystore_key} (kept as it is until a rotation makes a key of ours)"
        )
    if adopt.alias:
        es = caller(proxy_target(ece_props(ece), deployment.id, deployment.ref_id), _credentials(ece))
        live = live_settings(es, link.alias)
        if not live.get("proxy_address") and not live.get("seeds"):
            raise SettingsError(
                f"{key}.adopt.alias",
                True,
                f"deployment {deployment.id} has no remote cluster '{link.alias}' to take over "
                f"(cluster.remote.{link.alias}.* is not set)",
            )
        shown = live.get("proxy_address") or ",".join(str(seed) for seed in live.get("seeds") or [])
        plan.append(
            f"{key}: takes over remote cluster '{link.alias}' (now mode {live.get('mode') or 'sniff'}, {shown}); "
            "its settings become the link's"
        )
    return plan


def check_every_adoption(
    links: list[tuple[str, Link, EceDeployment]],
    ece: EceConnectionSettings,
    report: Callable[[str], None],
) -> None:
    """All links' adoptions, before anything is declared; `report` prints what will be taken over."""
    client: EceClient | None = None
    for key, link, deployment in links:
        if link.adopt is None:
            continue
        client = client or _ece_client(ece)
        for line in check_adoption(key, link, ece, deployment, client=client):
            report(line)
