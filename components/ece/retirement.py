"""`EceTrustRetirement`: the end of a CA rotation for every link to one ECE deployment at once.

During a rotation `EceDeploymentTrust` keeps each entry's old CA beside the new one (`retiring_certificates`). Once
every link's connection check has passed with both trusted, this resource drops all of the deployment's retiring CAs
in one write and one ECE plan, then has each link confirmed over a fresh handshake with the new CA alone (by the
Elasticsearch side, through the `LinkConfirmer` the link hands over). The CAs of a link that does not confirm are
trusted again, in one more plan, and the update fails naming it. One resource per deployment, after every check:
the checks would otherwise each hold one of the engine's parallel slots through a plan of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from ..dynamic import ConfiguredProvider, credentials_change_touches_nothing, credentials_input, is_unknown
from .connection_props import check_connection, client_from
from .trust import EntryRef, Mutation, dropping, entry_body, entry_pems, normalise, write_together

INPUTS = ("ece", "ece_credentials", "deployment_id", "ref_id", "links", "plan_timeout_seconds")


class LinkConfirmer(Protocol):
    """What the Elasticsearch side is asked: does the link connect over a fresh handshake now?"""

    def confirm(self, details: Mapping[str, Any]) -> str | None:
        """None when it connects; otherwise why not."""
        ...


class RotationNotFinishedError(RuntimeError):
    pass


def _restoring(name: str, retiring: list[str]) -> Mutation:
    def mutate(entry: dict[str, Any] | None) -> dict[str, Any] | None:
        if entry is None:
            return None
        model = "api-key" if entry.get("type") == "proxy" else "certificate"
        return entry_body(name, model, normalise(entry_pems(entry) + retiring), entry.get("uid"), entry.get("scope_id"))

    return mutate


class EceTrustRetirementProvider(ConfiguredProvider):
    def __init__(self, confirmer: LinkConfirmer | None = None) -> None:
        self.confirmer = confirmer

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult({**news, "ref_id": news.get("ref_id") or "_main"}, check_connection(news))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """A change only when a link has CAs to retire that it did not have before: the trust's outputs going back to
        nothing retiring (a refresh after a rotation) or a new address in what confirms a link retire nothing."""
        links = news.get("links")
        if is_unknown(links):
            return DiffResult(changes=True, replaces=[], delete_before_replace=False)
        before = {link.get("entry_name"): link.get("retiring_certificates") for link in olds.get("links") or []}
        retiring = [
            link
            for link in links or []
            if is_unknown(link.get("retiring_certificates"))
            or (
                link.get("retiring_certificates")
                and link.get("retiring_certificates") != before.get(link["entry_name"])
            )
        ]
        return DiffResult(changes=bool(retiring), replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['deployment_id']}/{props.get('ref_id') or '_main'}", self._retire(props))

    @credentials_change_touches_nothing(INPUTS)
    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._retire(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)  # holds nothing of its own: what is retired is in the trust entries

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # nothing to undo: the entries are `EceDeploymentTrust`'s

    def _retire(self, props: Mapping[str, Any]) -> dict[str, Any]:
        links = [link for link in props.get("links") or [] if normalise(link.get("retiring_certificates") or [])]
        outputs: dict[str, Any] = {**{key: props.get(key) for key in INPUTS}, "retired": {}}
        if not links:
            return outputs
        client, timeout = client_from(props), float(props.get("plan_timeout_seconds") or 600)
        ref_id = props.get("ref_id") or "_main"

        def ref(link: Mapping[str, Any]) -> EntryRef:
            return EntryRef(props["deployment_id"], ref_id, link["entry_name"])

        write_together(client, [(ref(link), dropping(link["retiring_certificates"]), None) for link in links], timeout)
        failures = self._confirm(links)
        if failures:
            failed = [link for link in links if link["entry_name"] in failures]
            write_together(
                client,
                [(ref(link), _restoring(link["entry_name"], link["retiring_certificates"]), None) for link in failed],
                timeout,
            )
            reasons = "; ".join(reason for _name, reason in sorted(failures.items()))
            raise RotationNotFinishedError(
                f"trust entries {', '.join(sorted(failures))}: the links do not connect with the new CA alone: the "
                f"remote still presents certificates signed by the old CA ({reasons}). Both CAs stay trusted for "
                "them; run `pulumi up` again once the rotation on the remote has finished."
            )
        outputs["retired"] = {link["entry_name"]: normalise(link["retiring_certificates"]) for link in links}
        return outputs

    def _confirm(self, links: Sequence[Mapping[str, Any]]) -> dict[str, str]:
        """Each link over a fresh handshake, at the same time; entry name -> why it does not connect."""
        confirmer = getattr(self, "confirmer", None)
        if confirmer is None:
            return {}
        with ThreadPoolExecutor(max_workers=min(16, len(links))) as pool:
            answers = list(pool.map(lambda link: confirmer.confirm(link["confirm"]), links))
        return {link["entry_name"]: answer for link, answer in zip(links, answers, strict=True) if answer is not None}


class EceTrustRetirement(Resource, module="eceeck", name="EceTrustRetirement"):
    """Drops the CAs a rotation retired, for every link to one deployment at once, once each link confirms."""

    retired: pulumi.Output[dict[str, list[str]]]

    def __init__(
        self,
        name: str,
        *,
        ece: pulumi.Input[Mapping[str, Any]],
        ece_credentials: pulumi.Input[Mapping[str, Any]],
        deployment_id: pulumi.Input[str],
        links: pulumi.Input[Sequence[pulumi.Input[Mapping[str, Any]]]],
        confirmer: LinkConfirmer | None,
        ref_id: pulumi.Input[str] = "_main",
        plan_timeout_seconds: int = 600,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`links`: `{entry_name, retiring_certificates, confirm}` each, `confirm` being what `confirmer` needs."""
        props = {
            "ece": ece,
            "ece_credentials": credentials_input(ece_credentials),
            "deployment_id": deployment_id,
            "ref_id": ref_id,
            "links": links,
            "plan_timeout_seconds": plan_timeout_seconds,
            "retired": None,
        }
        super().__init__(EceTrustRetirementProvider(confirmer), name, props, opts)
