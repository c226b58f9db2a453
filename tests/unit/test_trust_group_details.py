"""`DeploymentTrust` and `EceTrustRetirement` under mocks: what the one trust resource and the one retirement of a
deployment are registered with (the entries as added, the defaults, the options and dependencies of the program,
each link's retiring CAs from the trust's outputs, the Elasticsearch side that confirms the links), and what a trust
refuses once declared."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dill  # type: ignore[import-untyped]
import pulumi
import pytest

from components.ece.retirement import EceTrustRetirement
from components.ece.trust_group import DeploymentTrust, TrustEntry
from tests.support.certs import make_ca
from tests.support.pulumi_mocks import RecordingMocks, Registered, resolve, run_under_mocks, unwrap_secret

TRUST = "pulumi-python:dynamic/eceeck:EceDeploymentTrust"
RETIREMENT = "pulumi-python:dynamic/eceeck:EceTrustRetirement"
OTHER = "test:index:Check"
HOLDER = "test:index:Holder"
DEPLOYMENT = "d" * 32
ECE = {"url": "https://ece.example.com:12443"}
ECE_SECRET = {"api_key": "ece-inline-key"}
NEW_CA, OLD_CA = make_ca("trust-group-new-ca").certificate_pem, make_ca("trust-group-old-ca").certificate_pem
LOGS, METRICS = "ece-eck-remote-logs", "ece-eck-remote-metrics"


@dataclass(frozen=True)
class Confirmer:
    """An Elasticsearch side, told apart by its label once the engine has it back from the provider."""

    label: str

    def confirm(self, details: Mapping[str, Any]) -> str | None:
        return None


class Check(pulumi.CustomResource):
    """Stands for a link's connection check (or any resource of the program a trust write must wait for)."""

    def __init__(self, name: str) -> None:
        super().__init__(OTHER, name, {})


class Holder(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__(HOLDER, name, None, None)


def trust_outputs(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    """The trust keeps the old CA of the logs entry beside its new one; the metrics entry retires nothing."""
    if args.typ == TRUST:
        return {"entries_state": {LOGS: {"retiring_certificates": [OLD_CA]}, METRICS: {"retiring_certificates": []}}}
    if args.typ == RETIREMENT:
        return {"retired": {LOGS: [OLD_CA]}}
    return {}


def provider_of(record: Registered) -> Any:
    """The dynamic provider as the engine gets it back from the resource's inputs."""
    return dill.loads(base64.b64decode(unwrap_secret(record.inputs["__provider"])[0]))  # noqa: S301


def test_a_trust_registers_every_entry_as_added_with_the_main_resource_and_ten_minutes_by_default() -> None:
    mocks = RecordingMocks(outputs=trust_outputs)

    def program() -> DeploymentTrust:
        trust = DeploymentTrust("search-trust", ece=ECE, ece_credentials=ECE_SECRET, deployment_id=DEPLOYMENT)
        trust.add(TrustEntry(name=METRICS, certificates=[NEW_CA], model="certificate", scope_id="obs.es.local"))
        trust.add(TrustEntry(name=LOGS, certificates=[NEW_CA], adopt_entry="made-by-hand"))
        trust.declare()
        return trust

    trust = run_under_mocks(program, mocks)
    registered = mocks.one(TRUST)
    assert registered.name == "search-trust"
    assert registered.inputs["entries"] == [
        {"name": LOGS, "certificates": [NEW_CA], "model": "api-key", "adopt_entry": "made-by-hand"},
        {"name": METRICS, "certificates": [NEW_CA], "model": "certificate", "scope_id": "obs.es.local"},
    ]
    assert (registered.inputs["deployment_id"], registered.inputs["ref_id"]) == (DEPLOYMENT, "_main")
    assert registered.inputs["plan_timeout_seconds"] == 600
    assert trust.retirement is None and mocks.by_type(RETIREMENT) == []  # no link to confirm: no end of a rotation


def test_the_retirement_takes_each_links_retiring_cas_from_the_trust_and_its_confirmer() -> None:
    """Links in entry-name order, each with the CAs the trust keeps retiring for its entry (none for an entry the
    trust's outputs do not name) and what its check was given; the provider keeps the links' Elasticsearch side."""
    mocks = RecordingMocks(outputs=trust_outputs)

    def program() -> DeploymentTrust:
        trust = DeploymentTrust("search-trust", ece=ECE, ece_credentials=ECE_SECRET, deployment_id=DEPLOYMENT)
        for name in ("ece-eck-remote-traces", METRICS, LOGS):
            trust.add(TrustEntry(name=name, certificates=[NEW_CA]))
            trust.confirmed_by(name, Check(f"{name}-check"), {"alias": name}, Confirmer("es-side"))
        trust.declare()
        return trust

    trust = run_under_mocks(program, mocks)
    retirement = mocks.one(RETIREMENT)
    assert retirement.name == "search-trust-retirement"
    assert unwrap_secret(retirement.inputs["links"])[0] == [
        {"entry_name": LOGS, "retiring_certificates": [OLD_CA], "confirm": {"alias": LOGS}},
        {"entry_name": METRICS, "retiring_certificates": [], "confirm": {"alias": METRICS}},
        {
            "entry_name": "ece-eck-remote-traces",
            "retiring_certificates": [],
            "confirm": {"alias": "ece-eck-remote-traces"},
        },
    ]
    assert (retirement.inputs["ref_id"], retirement.inputs["plan_timeout_seconds"]) == ("_main", 600)
    assert provider_of(retirement).confirmer == Confirmer("es-side")
    assert resolve(trust.retirement.retired).value == {LOGS: [OLD_CA]}


def test_the_trust_and_its_retirement_keep_the_programs_options_and_wait_for_what_they_must() -> None:
    """The trust write waits for what `add` was given (an adopted key's check), the retirement for every link's
    check; both stay under the parent the program gave."""
    mocks = RecordingMocks(outputs=trust_outputs)

    def program() -> None:
        holder = Holder("environment")
        trust = DeploymentTrust(
            "search-trust",
            ece=ECE,
            ece_credentials=ECE_SECRET,
            deployment_id=DEPLOYMENT,
            opts=pulumi.ResourceOptions(parent=holder),
        )
        trust.add(TrustEntry(name=LOGS, certificates=[NEW_CA]), depends_on=[Check("adopted-key-check")])
        trust.confirmed_by(LOGS, Check("logs-check"), {"alias": "logs"}, Confirmer("es-side"))
        trust.declare()

    run_under_mocks(program, mocks)
    holder, registered, retirement = mocks.one(HOLDER), mocks.one(TRUST), mocks.one(RETIREMENT)
    assert registered.parent == holder.urn and retirement.parent == holder.urn
    assert mocks.named("adopted-key-check").urn in registered.dependencies
    assert mocks.named("logs-check").urn in retirement.dependencies


def test_a_confirmation_after_the_trust_is_declared_is_refused_naming_the_trust_and_entry() -> None:
    def program() -> None:
        trust = DeploymentTrust("search-trust", ece=ECE, ece_credentials=ECE_SECRET, deployment_id=DEPLOYMENT)
        trust.add(TrustEntry(name=LOGS, certificates=[NEW_CA]))
        trust.declare()
        refused = f"trust 'search-trust': confirmation of '{LOGS}' added after the trust was declared"
        with pytest.raises(ValueError, match=f"^{re.escape(refused)}$"):
            trust.confirmed_by(LOGS, Check("logs-check"), {"alias": "logs"}, Confirmer("es-side"))

    run_under_mocks(program, RecordingMocks(outputs=trust_outputs))


def test_a_retirement_declared_on_its_own_carries_its_inputs_defaults_and_confirmer() -> None:
    mocks = RecordingMocks(outputs=trust_outputs)
    links = [{"entry_name": LOGS, "retiring_certificates": [OLD_CA], "confirm": {"alias": "logs"}}]

    def program() -> EceTrustRetirement:
        return EceTrustRetirement(
            "logs-retirement",
            ece=ECE,
            ece_credentials=ECE_SECRET,
            deployment_id=DEPLOYMENT,
            links=links,
            confirmer=Confirmer("es-side"),
        )

    resource = run_under_mocks(program, mocks)
    registered = mocks.one(RETIREMENT)
    assert registered.inputs["ece"] == ECE
    assert unwrap_secret(registered.inputs["ece_credentials"]) == (ECE_SECRET, True)
    assert registered.inputs["deployment_id"] == DEPLOYMENT
    assert registered.inputs["links"] == links
    assert (registered.inputs["ref_id"], registered.inputs["plan_timeout_seconds"]) == ("_main", 600)
    assert provider_of(registered).confirmer == Confirmer("es-side")
    assert resolve(resource.retired).value == {LOGS: [OLD_CA]}
