"""`RemoteRole` in detail: the role's own metadata kept beside our marker and compared without it, what a refresh
and an import read back, what `check` reports and against which input, replacement order, the operation named in
errors, and the resource's registration."""

from __future__ import annotations

import base64
from typing import Any

import pulumi
import pytest

from components.dynamic import UNKNOWN
from components.elasticsearch.client import ElasticsearchApiError, caller, target_key
from components.elasticsearch.roles import RemoteRole, RemoteRoleProvider
from tests.support.pulumi_mocks import RecordingMocks, run_under_mocks, unwrap_secret
from tools.emulated_link import EmulatedLink

ROLE: dict[str, Any] = {
    "cluster": ["cross_cluster_search"],
    "remote_indices": [{"clusters": ["logs"], "names": ["logs-*"], "privileges": ["read"]}],
    "remote_cluster": [{"clusters": ["logs"], "privileges": ["monitor_enrich"]}],
}


def props(env: EmulatedLink, role: dict[str, Any], role_name: str = "logs-reader") -> dict[str, Any]:
    checked = RemoteRoleProvider().check(
        {}, {"target": env.local_target(), "credentials": env.ece_credentials(), "role_name": role_name, "role": role}
    )
    assert checked.failures == []
    return dict(checked.inputs)


def stored(env: EmulatedLink, role_name: str = "logs-reader") -> dict[str, Any]:
    return dict(env.control(env.local, "GET", "state")["roles"][role_name])


def edit_metadata(env: EmulatedLink, metadata: dict[str, Any], role_name: str = "logs-reader") -> None:
    """Someone changes the role's metadata by hand (the rest of the role as it is)."""
    live = {key: value for key, value in stored(env, role_name).items() if key != "transient_metadata"}
    caller(env.local_target(), env.ece_credentials()).request(
        "edit", "PUT", f"_security/role/{role_name}", json={**live, "metadata": metadata}
    )


# --- metadata ----------------------------------------------------------------------------------------------------


def test_the_roles_own_metadata_is_written_beside_the_marker_and_read_back_without_it(env: EmulatedLink) -> None:
    provider = RemoteRoleProvider()
    news = props(env, {**ROLE, "metadata": {"team": "search", "ticket": 42}})
    created = provider.create(news)
    assert stored(env)["metadata"] == {"team": "search", "ticket": 42, "managed_by": "ece-eck-remote"}
    read = provider.read(created.id, created.outs)
    assert read.inputs is not None and read.inputs["role"]["metadata"] == {"team": "search", "ticket": 42}
    assert set(read.inputs["role"]) == set(news["role"])
    assert not provider.diff(created.id, read.outs, news).changes


def test_metadata_edited_by_hand_is_seen_as_drift(env: EmulatedLink) -> None:
    provider = RemoteRoleProvider()
    news = props(env, {**ROLE, "metadata": {"team": "search"}})
    created = provider.create(news)
    edit_metadata(env, {"team": "other", "managed_by": "ece-eck-remote"})
    read = provider.read(created.id, created.outs)
    assert read.inputs is not None and read.inputs["role"]["metadata"] == {"team": "other"}
    assert provider.diff(created.id, read.outs, news).changes


def test_a_role_declared_with_empty_metadata_shows_no_change_after_a_refresh(env: EmulatedLink) -> None:
    provider = RemoteRoleProvider()
    news = props(env, {**ROLE, "metadata": {}})
    created = provider.create(news)
    assert stored(env)["metadata"] == {"managed_by": "ece-eck-remote"}
    read = provider.read(created.id, created.outs)
    assert read.inputs is not None and read.inputs["role"]["metadata"] == {}
    assert not provider.diff(created.id, read.outs, news).changes


# --- read: refresh and import --------------------------------------------------------------------------------------


def test_a_refresh_keeps_the_resource_id(env: EmulatedLink) -> None:
    provider = RemoteRoleProvider()
    created = provider.create(props(env, ROLE))
    assert created.id == f"{target_key(env.local_target())}/logs-reader"
    assert provider.read(created.id, created.outs).id == created.id


@pytest.mark.parametrize("with_target_key", [True, False], ids=["id-with-target", "id-is-the-role-name"])
def test_an_import_reads_the_role_named_by_the_last_part_of_the_id(env: EmulatedLink, with_target_key: bool) -> None:
    """An import knows the target, the credentials and the id, not the role: the role name is the id's last
    `/`-separated part (the target's key may hold `/` itself: `ece:<deployment>/<ref>`), the role is the live one."""
    provider = RemoteRoleProvider()
    created = provider.create(props(env, ROLE))
    assert "/" in target_key(env.local_target())
    id_ = created.id if with_target_key else "logs-reader"
    read = provider.read(id_, {"target": env.local_target(), "credentials": env.ece_credentials()})
    assert read.id == id_
    assert read.inputs is not None
    assert set(read.inputs) == {"target", "credentials", "role_name", "role"}
    assert read.inputs["role_name"] == "logs-reader"
    assert read.inputs["role"]["remote_indices"][0]["names"] == ["logs-*"]
    assert read.inputs["role"]["cluster"] == ["cross_cluster_search"]
    assert "transient_metadata" not in read.inputs["role"]


def test_a_deleted_role_reads_as_gone_with_empty_outputs(env: EmulatedLink) -> None:
    """The engine's Read adds its provider key to the outputs, so they must be a mapping even for a gone resource."""
    provider = RemoteRoleProvider()
    created = provider.create(props(env, ROLE))
    provider.delete(created.id, created.outs)
    gone = provider.read(created.id, created.outs)
    assert gone.id == "" and gone.outs == {}


def test_a_404_error_page_without_json_reads_as_gone(env: EmulatedLink) -> None:
    """A 404 means the role is not there, whatever its body: a proxy's HTML error page is not parsed."""
    provider = RemoteRoleProvider()
    created = provider.create(props(env, ROLE))
    env.fault(env.local, route="GET /_security/role/logs-reader", kind="html", status=404)
    gone = provider.read(created.id, created.outs)
    assert gone.id == "" and gone.outs == {}


# --- errors name the operation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "operation"),
    [("GET", "get role logs-reader"), ("PUT", "put role logs-reader"), ("DELETE", "delete role logs-reader")],
)
def test_a_refused_request_names_the_role_operation(env: EmulatedLink, method: str, operation: str) -> None:
    provider = RemoteRoleProvider()
    news = props(env, ROLE)
    created = provider.create(news)
    env.fault(env.local, route=f"{method} /_security/role/logs-reader", kind="status", status=403)
    changed = {**news, "role": {**news["role"], "cluster": ["monitor"]}}
    calls = {
        "GET": lambda: provider.read(created.id, created.outs),
        "PUT": lambda: provider.update(created.id, created.outs, changed),
        "DELETE": lambda: provider.delete(created.id, created.outs),
    }
    with pytest.raises(ElasticsearchApiError) as raised:
        calls[method]()
    assert f"{operation} failed" in str(raised.value)


# --- check --------------------------------------------------------------------------------------------------------

BASE = {"target": {"kind": "direct", "url": "https://es:9200"}, "credentials": {"password": "x"}, "role_name": "r"}


def test_a_role_problem_is_reported_against_the_role_input() -> None:
    bad = {"remote_cluster": [{"clusters": ["a"], "privileges": ["all"]}]}
    failures = RemoteRoleProvider().check({}, {**BASE, "role": bad}).failures
    assert failures and {failure.property for failure in failures} == {"role"}


def test_a_valid_role_keeps_the_other_inputs_failures() -> None:
    checked = RemoteRoleProvider().check({}, {**BASE, "role_name": None, "target": None, "role": ROLE})
    assert {failure.property for failure in checked.failures} >= {"role_name", "target"}


def test_a_missing_role_is_reported_as_missing() -> None:
    failures = RemoteRoleProvider().check({}, {**BASE}).failures
    assert [failure.property for failure in failures] == ["role"]


def test_a_role_unknown_during_a_preview_is_left_alone() -> None:
    checked = RemoteRoleProvider().check({}, {**BASE, "role": UNKNOWN})
    assert checked.failures == [] and checked.inputs["role"] == UNKNOWN
    nested = {"remote_indices": [{"clusters": ["logs"], "names": UNKNOWN, "privileges": ["read"]}]}
    checked = RemoteRoleProvider().check({}, {**BASE, "role": nested})
    assert checked.failures == [] and checked.inputs["role"] == nested


# --- diff ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [{"role_name": "other"}, {"target": {"kind": "direct", "url": "https://elsewhere:9200"}}],
    ids=["role_name", "target"],
)
def test_a_replacement_deletes_the_old_role_first(change: dict[str, Any]) -> None:
    """The new role may be the same role of the same cluster reached another way: created first, it would be deleted
    with the old one."""
    olds = {**BASE, "role": ROLE}
    result = RemoteRoleProvider().diff("id", olds, {**olds, **change})
    assert result.changes and result.replaces == list(change)
    assert result.delete_before_replace is True


# --- registration ---------------------------------------------------------------------------------------------------


def test_the_resource_registers_its_inputs_its_provider_and_its_options() -> None:
    import dill  # type: ignore[import-untyped]

    mocks = RecordingMocks()
    target = {"kind": "direct", "url": "https://es:9200"}

    def build() -> Any:
        return RemoteRole(
            "reader",
            target=target,
            credentials={"password": "pw"},
            role_name="logs-reader",
            role=ROLE,
            opts=pulumi.ResourceOptions(protect=True),
        )

    run_under_mocks(build, mocks)
    [record] = [r for r in mocks.registered if r.name == "reader"]
    inputs = record.inputs
    assert inputs["target"] == target and inputs["role_name"] == "logs-reader" and inputs["role"] == ROLE
    assert unwrap_secret(inputs["credentials"]) == ({"password": "pw"}, True)
    # the provider as the engine gets it back (pulumi.dynamic.__main__, get_provider); serialised by this test's run
    provider = dill.loads(base64.b64decode(unwrap_secret(inputs["__provider"])[0]))  # noqa: S301
    assert isinstance(provider, RemoteRoleProvider)
    assert record.protect is True


@pytest.mark.parametrize("name", ["a/b", "reader?x", "ops#1", "100%", "with space", "", "x" * 508])
def test_a_role_name_that_would_address_another_endpoint_is_refused_by_check(env: EmulatedLink, name: str) -> None:
    """`_security/role/<name>` takes the name as it is: `/`, `?`, `#`, `%` would send the request elsewhere. A library
    user's name gets the rule the program's config has (`links[].roles[].name`), before anything is called."""
    env.control(env.local, "DELETE", "requests")
    news = {
        "target": env.local_target(),
        "credentials": env.ece_credentials(),
        "role_name": name,
        "role": {"cluster": ["monitor"]},
    }
    failures = RemoteRoleProvider().check({}, news).failures
    reasons = [(failure.property, failure.reason) for failure in failures]
    expected = (
        "'role_name' is required" if name == "" else f"{name!r}: a role name is 1 to 507 letters, digits and _ . @ -"
    )
    assert ("role_name", expected) in reasons, reasons
    assert env.requests_to(env.local) == []


@pytest.mark.parametrize("name", ["logs-reader", "ops_1.x@team", "x" * 507])
def test_role_names_of_the_rule_pass_check(env: EmulatedLink, name: str) -> None:
    news = {
        "target": env.local_target(),
        "credentials": env.ece_credentials(),
        "role_name": name,
        "role": {"cluster": ["monitor"]},
    }
    assert RemoteRoleProvider().check({}, news).failures == []
