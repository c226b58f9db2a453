"""`DeploymentTrust`: gathers the trust entries of the links to one ECE deployment while they are declared, then
declares the one `EceDeploymentTrust` that writes them together, and the one `EceTrustRetirement` that ends a CA
rotation for all of them after every link's connection check.

A link's entry holds its remote's CA, which is an Output of resources the link itself may declare (its ECK half), so
the entries are known only once every link is declared. Each link therefore gets, at once, an Output that resolves to
the resource (for `depends_on`), settled when `declare()` makes it. A link given no `DeploymentTrust` makes one of its
own and declares it itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from .deployment_trust import EceDeploymentTrust
from .retirement import EceTrustRetirement, LinkConfirmer


@dataclass(frozen=True)
class TrustEntry:
    """One link's direct trust entry."""

    name: str
    certificates: pulumi.Input[list[str]]
    model: str = "api-key"
    scope_id: str | None = None
    adopt_entry: str | None = None
    """An entry made by hand that this one takes over on its first write."""


class DeploymentTrust:
    """Every link's trust entry on one ECE deployment's Elasticsearch resource: one resource, one plan."""

    def __init__(
        self,
        name: str,
        *,
        ece: pulumi.Input[Mapping[str, Any]],
        ece_credentials: pulumi.Input[Mapping[str, Any]],
        deployment_id: pulumi.Input[str],
        ref_id: pulumi.Input[str] = "_main",
        plan_timeout_seconds: int = 600,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        self.name = name
        self.deployment_id = deployment_id
        self._resource_args: dict[str, Any] = {
            "ece": ece,
            "ece_credentials": ece_credentials,
            "deployment_id": deployment_id,
            "ref_id": ref_id,
            "plan_timeout_seconds": plan_timeout_seconds,
        }
        self._opts = opts or pulumi.ResourceOptions()
        self._entries: list[TrustEntry] = []
        self._after: list[pulumi.Resource] = []
        self._confirmations: list[tuple[str, pulumi.Resource, pulumi.Input[Mapping[str, Any]]]] = []
        self._confirmer: LinkConfirmer | None = None
        self._declared: asyncio.Future[EceDeploymentTrust] = asyncio.get_event_loop().create_future()
        self.resource: EceDeploymentTrust | None = None
        self.retirement: EceTrustRetirement | None = None

    def add(self, entry: TrustEntry, depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.Output[EceDeploymentTrust]:
        """Add a link's entry; `depends_on`: what the trust write must wait for (an adopted key's check). Returns the
        deployment's trust resource, settled by `declare()`, for the link's `depends_on`."""
        if self.resource is not None:
            raise ValueError(f"trust '{self.name}': entry '{entry.name}' added after the trust was declared")
        if any(known.name == entry.name for known in self._entries):
            raise ValueError(f"trust '{self.name}': entry '{entry.name}' added twice (two links with one alias?)")
        self._entries.append(entry)
        self._after.extend(depends_on)
        return pulumi.Output.from_input(self._declared)  # type: ignore[arg-type]

    def confirmed_by(
        self,
        entry_name: str,
        check: pulumi.Resource,
        details: pulumi.Input[Mapping[str, Any]],
        confirmer: LinkConfirmer,
    ) -> None:
        """The link's connection `check` (the end of a rotation waits for it), and what `confirmer` needs to confirm the
        link over a fresh handshake once its old CA is dropped."""
        if self.resource is not None:
            raise ValueError(f"trust '{self.name}': confirmation of '{entry_name}' added after the trust was declared")
        self._confirmations.append((entry_name, check, details))
        self._confirmer = confirmer

    def __enter__(self) -> DeploymentTrust:
        return self

    def __exit__(self, *_exc: object) -> None:
        """`with deployment_trust(...) as trust:` around the links declares it at the end of the block: a trust never
        declared would leave its links waiting for it, and the program with them."""
        if _exc[0] is None:
            self.declare()

    @property
    def entries(self) -> list[str]:
        """The names of the entries added so far."""
        return [entry.name for entry in self._entries]

    def declare(self) -> EceDeploymentTrust:
        """Make the resource from the entries added so far; the links' Outputs settle with it."""
        if self.resource is not None:
            return self.resource
        entries = [_entry_input(entry) for entry in sorted(self._entries, key=lambda entry: entry.name)]
        opts = pulumi.ResourceOptions.merge(self._opts, pulumi.ResourceOptions(depends_on=list(self._after)))
        self.resource = EceDeploymentTrust(self.name, entries=entries, **self._resource_args, opts=opts)
        self._declared.set_result(self.resource)
        if self._confirmations:
            self.retirement = self._retirement(self.resource)
        return self.resource

    def _retirement(self, trust: EceDeploymentTrust) -> EceTrustRetirement:
        confirmations = sorted(self._confirmations, key=lambda confirmation: confirmation[0])
        links = [
            {"entry_name": name, "retiring_certificates": _retiring(trust, name), "confirm": details}
            for name, _check, details in confirmations
        ]
        opts = pulumi.ResourceOptions.merge(
            self._opts, pulumi.ResourceOptions(depends_on=[check for _name, check, _details in confirmations])
        )
        return EceTrustRetirement(
            f"{self.name}-retirement", links=links, confirmer=self._confirmer, **self._resource_args, opts=opts
        )


def _retiring(trust: EceDeploymentTrust, name: str) -> pulumi.Output[list[str]]:
    """The CAs entry `name` keeps beside its new one, from the trust's outputs."""
    return trust.entries_state.apply(
        lambda state: list(((state or {}).get(name) or {}).get("retiring_certificates") or [])
    )


def _entry_input(entry: TrustEntry) -> dict[str, Any]:
    """The entry as the resource takes it: only the certificates wait for an Output, so a preview shows the rest."""
    return {
        "name": entry.name,
        "certificates": pulumi.Output.from_input(entry.certificates).apply(lambda pems: list(pems or [])),
        "model": entry.model,
        "scope_id": entry.scope_id,
        "adopt_entry": entry.adopt_entry,
    }
