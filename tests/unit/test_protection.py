"""Each cluster the stack owns gets an `EckClusterProtection`: declared last, carrying the cluster's `protect`, and
depending on every other resource, so that Pulumi reaches it first in any delete (and refuses it while protected)."""

from __future__ import annotations

from typing import Any

from components.program import run
from tests.support.configs import eck_cluster
from tests.support.pulumi_mocks import RecordingMocks, Registered, run_under_mocks
from tests.unit.test_link_wiring import config, fake_outputs, link

GUARD = "eceeck:index:EckClusterProtection"


def program(cfg: dict[str, Any]) -> RecordingMocks:
    mocks = RecordingMocks(outputs=fake_outputs)
    run_under_mocks(run, mocks, config=cfg)
    return mocks


def custom_resources(mocks: RecordingMocks) -> list[Registered]:
    """What a delete would change: every resource with a provider behind it (providers themselves go last)."""
    return [r for r in mocks.registered if r.custom and not r.typ.startswith("pulumi:providers:")]


def test_the_guard_of_a_protected_cluster_depends_on_every_resource_of_the_stack() -> None:
    mocks = program(config([link("logs"), link("metrics", deployment="ops")]))
    guard = mocks.one(GUARD)
    assert guard.name == "logs" and guard.protect and guard.custom is False
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
    missing = [r.name for r in resources if r.urn not in guard.dependencies]
    assert missing == []
    assert mocks.registered[-1] is guard  # declared last, once everything else is known
    assert all(guard.urn not in r.dependencies for r in mocks.registered)  # nothing waits for it


def test_an_unprotected_cluster_keeps_its_guard_unprotected_so_that_destroy_can_pass() -> None:
    mocks = program(config([link("logs")], clusters=[eck_cluster(name="logs", protect=False)]))
    guard = mocks.one(GUARD)
    assert not guard.protect
    assert not mocks.one("kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch").protect


def test_one_guard_per_owned_cluster_each_in_front_of_everything() -> None:
    clusters = [eck_cluster(name="logs"), eck_cluster(name="metrics", namespace="metrics", protect=False)]
    mocks = program(config([link("logs"), link("metrics", cluster="metrics")], clusters=clusters))
    guards = {g.name: g for g in mocks.by_type(GUARD)}
    assert {name: g.protect for name, g in guards.items()} == {"logs": True, "metrics": False}
    for guard in guards.values():
        assert {r.urn for r in custom_resources(mocks)} <= set(guard.dependencies)
