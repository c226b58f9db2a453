"""A stack that owns a cluster gets one `EckClusterProtections` anchor, declared last and depending on every other
resource, and one `EckClusterProtection` per owned cluster as its child, carrying the cluster's `protect`: Pulumi
deletes children before their parent and the anchor before everything it depends on, so a guard is the first delete
(refused while protected). The guards were top-level before the anchor: an alias to the root stack keeps them."""

from __future__ import annotations

from typing import Any

import pytest

from components.program import run
from tests.support.configs import eck_cluster, owned_elsewhere, program_config
from tests.support.pulumi_mocks import RecordingMocks, RecordingMonitor, Registered, run_under_mocks
from tests.unit.test_link_wiring import config, fake_outputs, link
from tests.unit.test_owned_elsewhere import CRD_35, LOAD_BALANCER, FakeClient, live

GUARD = "eceeck:index:EckClusterProtection"
ANCHOR = "eceeck:index:EckClusterProtections"
STACK = "urn:pulumi:test::ece-eck-remote::pulumi:pulumi:Stack::ece-eck-remote-test"


def program(cfg: dict[str, Any]) -> RecordingMocks:
    mocks = RecordingMocks(outputs=fake_outputs)
    run_under_mocks(run, mocks, config=cfg)
    return mocks


def custom_resources(mocks: RecordingMocks) -> list[Registered]:
    """What a delete would change: every resource with a provider behind it (providers themselves go last)."""
    return [r for r in mocks.registered if r.custom and not r.typ.startswith("pulumi:providers:")]


@pytest.fixture
def alias_specs(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, str], list[Any]]:
    """The alias specs of each registration as the SDK sends them, by (type, name): `noParent` included, which the
    recorded `aliases` (parent URNs) cannot tell from an alias that keeps the current parent."""
    seen: dict[tuple[str, str], list[Any]] = {}
    register = RecordingMonitor.RegisterResource

    def recording(self: RecordingMonitor, request: Any) -> Any:
        seen[(request.type, request.name)] = [alias.spec for alias in request.aliases if alias.HasField("spec")]
        return register(self, request)

    monkeypatch.setattr(RecordingMonitor, "RegisterResource", recording)
    return seen


def assert_nothing_depends_on(mocks: RecordingMocks, anchor: Registered, guards: list[Registered]) -> None:
    urns = {anchor.urn, *(guard.urn for guard in guards)}
    assert [r.name for r in mocks.registered if urns & set(r.dependencies)] == []
    assert [r.name for r in mocks.registered if r.parent == anchor.urn] == [guard.name for guard in guards]
    assert not any(r.parent in {guard.urn for guard in guards} for r in mocks.registered)  # a guard owns nothing


def test_the_anchor_depends_on_every_resource_of_the_stack_and_the_guard_is_its_child(
    alias_specs: dict[tuple[str, str], list[Any]],
) -> None:
    mocks = program(config([link("logs"), link("metrics", deployment="ops")]))
    anchor, guard = mocks.one(ANCHOR), mocks.one(GUARD)
    assert anchor.name == "clusters" and anchor.custom is False and not anchor.protect
    assert anchor.parent == STACK
    resources = custom_resources(mocks)
    assert {r.typ.rsplit(":", 1)[-1] for r in resources} >= {
        "Elasticsearch",
        "EckOperatorOutputs",
        "CrossClusterApiKey",
        "EceDeploymentTrust",
        "EceKeystoreCredentials",
        "RemoteClusterSettings",
        "RemoteConnectionCheck",
    }
    missing = [r.name for r in resources if r.urn not in anchor.dependencies]
    assert missing == []

    assert guard.name == "logs" and guard.protect and guard.custom is False
    assert guard.parent == anchor.urn
    assert guard.urn == f"urn:pulumi:test::ece-eck-remote::{ANCHOR}${GUARD}::logs"
    assert guard.dependencies == ()  # the anchor holds them all, once
    assert mocks.registered[-2:] == [anchor, guard]  # declared last, once everything else is known
    assert_nothing_depends_on(mocks, anchor, [guard])

    # the guard was top-level before the anchor: same name and type, no parent
    [spec] = alias_specs[(GUARD, "logs")]
    assert spec.noParent and not spec.parentUrn and not spec.name and not spec.type
    assert alias_specs[(ANCHOR, "clusters")] == []


def test_an_unprotected_cluster_keeps_its_guard_unprotected_so_that_destroy_can_pass() -> None:
    mocks = program(config([link("logs")], clusters=[eck_cluster(name="logs", protect=False)]))
    guard = mocks.one(GUARD)
    assert not guard.protect and guard.parent == mocks.one(ANCHOR).urn
    assert not mocks.one(ANCHOR).protect
    assert not mocks.one("kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch").protect


def test_one_guard_per_owned_cluster_all_under_one_anchor_in_front_of_everything() -> None:
    clusters = [eck_cluster(name="logs"), eck_cluster(name="metrics", namespace="metrics", protect=False)]
    mocks = program(config([link("logs"), link("metrics", cluster="metrics")], clusters=clusters))
    anchor = mocks.one(ANCHOR)
    guards = mocks.by_type(GUARD)
    assert {g.name: g.protect for g in guards} == {"logs": True, "metrics": False}
    assert {r.urn for r in custom_resources(mocks)} <= set(anchor.dependencies)
    for guard in guards:
        assert guard.parent == anchor.urn and guard.dependencies == ()
    assert_nothing_depends_on(mocks, anchor, guards)


def test_no_guard_for_a_cluster_owned_elsewhere_and_no_anchor_without_an_owned_cluster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        "components.kube_api.KubeClient.from_kubeconfig", lambda context=None: FakeClient(live(LOAD_BALANCER), CRD_35)
    )
    clusters = [eck_cluster(name="logs"), owned_elsewhere(name="other", namespace="other")]
    mocks = program(config([link("logs"), link("other", cluster="other")], clusters=clusters))
    assert [g.name for g in mocks.by_type(GUARD)] == ["logs"]
    assert mocks.one(GUARD).parent == mocks.one(ANCHOR).urn

    mocks = program(program_config(owned_elsewhere()))
    assert {r.typ for r in mocks.registered}.isdisjoint({GUARD, ANCHOR})
