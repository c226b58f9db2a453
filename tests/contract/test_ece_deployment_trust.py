"""`EceDeploymentTrust` against the ECE emulator over HTTP: every link's entry on one deployment in one resource, so
n links cost one `PUT` and one ECE plan in create, update (a rotation of every CA at once, links added and removed)
and delete; nothing that is not ours is lost; and a stack of the earlier version, with one `EceTrustedCa` per link,
hands its entries over without removing them."""

from __future__ import annotations

from typing import Any

import pytest

from components import names
from components.dynamic import UNKNOWN, AdoptionError
from components.ece.deployment_trust import EceDeploymentTrustProvider
from components.ece.trust import EceTrustedCaProvider, normalise
from tests.contract.test_ece_trust_provider import change_behind_our_back, foreign, ours, pems
from tests.contract.test_ece_trust_provider import props as entry_props
from tests.support.aliases import ALIASES, twin
from tests.support.certs import make_ca
from tests.support.ece_swagger import swagger
from tools.emulated_link import REF_ID, EmulatedLink

CA1, CA2, CA3 = make_ca("eck-ca-1"), make_ca("eck-ca-2"), make_ca("eck-ca-3")
NAMES = [names.trust_entry_name(alias) for alias in ("logs", "metrics", "traces")]


def entry(name: str, ca: Any = CA1, **extra: Any) -> dict[str, Any]:
    return {"name": name, "model": "api-key", "certificates": [ca.certificate_pem], **extra}


def props(env: EmulatedLink, entries: list[dict[str, Any]]) -> dict[str, Any]:
    news = {
        "ece": env.ece_props(),
        "ece_credentials": env.ece_credentials(),
        "deployment_id": env.deployment_id,
        "ref_id": REF_ID,
        "entries": entries,
        "plan_timeout_seconds": 10,
    }
    checked = EceDeploymentTrustProvider().check({}, news)
    assert checked.failures == []
    return checked.inputs


def puts(env: EmulatedLink) -> int:
    return sum(1 for r in env.requests_to(env.ece) if r["method"] == "PUT")


def plans(env: EmulatedLink) -> list[str]:
    found = env.ece_resource()["plans"]
    return [attempt["name"] for attempt in [*found["history"], found["current"]]]


class Counted:
    """PUTs and plans since it was made."""

    def __init__(self, env: EmulatedLink) -> None:
        self.env, self.puts, self.plans = env, puts(env), plans(env)

    def __call__(self) -> tuple[int, int]:
        return puts(self.env) - self.puts, len([p for p in plans(self.env) if p not in self.plans])


def test_create_writes_every_entry_in_one_put_and_one_plan(env: EmulatedLink) -> None:
    before, counted = foreign(env), Counted(env)
    created = EceDeploymentTrustProvider().create(props(env, [entry(name) for name in NAMES]))
    assert counted() == (1, 1)
    for name in NAMES:
        stored = ours(env, name)
        assert stored is not None and stored["type"] == "proxy" and pems(stored) == normalise([CA1.certificate_pem])
        assert created.outs["entries_state"][name]["uid"] == stored["uid"]
        assert created.outs["entries_state"][name]["retiring_certificates"] == []
    assert foreign(env) == before
    assert created.id == f"{env.deployment_id}/{REF_ID}"
    for request in env.requests_to(env.ece):
        swagger().assert_documented(request["method"], request["path"], request["status"])


def test_a_rotation_of_every_ca_at_once_is_one_plan_with_each_old_ca_retiring(env: EmulatedLink) -> None:
    provider = EceDeploymentTrustProvider()
    created = provider.create(props(env, [entry(NAMES[0], CA1), entry(NAMES[1], CA2), entry(NAMES[2], CA1)]))
    news = props(env, [entry(NAMES[0], CA3), entry(NAMES[1], CA3), entry(NAMES[2], CA1)])
    diff = provider.diff(created.id, created.outs, news)
    assert diff.changes and not diff.replaces
    counted = Counted(env)
    updated = provider.update(created.id, created.outs, news)
    assert counted() == (1, 1)
    state = updated.outs["entries_state"]
    assert pems(ours(env, NAMES[0])) == normalise([CA3.certificate_pem, CA1.certificate_pem])
    assert state[NAMES[0]]["retiring_certificates"] == normalise([CA1.certificate_pem])
    assert state[NAMES[1]]["retiring_certificates"] == normalise([CA2.certificate_pem])
    assert state[NAMES[2]]["retiring_certificates"] == []  # unchanged, nothing retiring
    assert all(state[name]["uid"] == created.outs["entries_state"][name]["uid"] for name in NAMES)


def test_a_second_rotation_retires_only_what_the_entry_trusts_now(env: EmulatedLink) -> None:
    """After CA1 -> CA2 was confirmed (CA1 dropped by the check), CA2 -> CA3 keeps CA2 alone beside CA3: a CA
    retired earlier is never trusted again."""
    provider = EceDeploymentTrustProvider()
    created = provider.create(props(env, [entry(NAMES[0], CA1)]))
    rotated = provider.update(created.id, created.outs, props(env, [entry(NAMES[0], CA2)]))
    change_behind_our_back(  # what the connection check's confirmation does
        env,
        lambda direct: [
            {**e, "certificates": [{"pem": CA2.certificate_pem}]} if e["name"] == NAMES[0] else e for e in direct
        ],
    )
    again = provider.update(created.id, rotated.outs, props(env, [entry(NAMES[0], CA3)]))
    assert pems(ours(env, NAMES[0])) == normalise([CA3.certificate_pem, CA2.certificate_pem])
    assert again.outs["entries_state"][NAMES[0]]["retiring_certificates"] == normalise([CA2.certificate_pem])


def test_links_added_and_removed_in_one_update_cost_one_plan_and_leave_the_rest(env: EmulatedLink) -> None:
    provider = EceDeploymentTrustProvider()
    created = provider.create(props(env, [entry(NAMES[0]), entry(NAMES[1])]))
    kept_uid = ours(env, NAMES[0])["uid"]
    before, counted = foreign(env), Counted(env)
    provider.update(created.id, created.outs, props(env, [entry(NAMES[0]), entry(NAMES[2])]))
    assert counted() == (1, 1)
    assert ours(env, NAMES[1]) is None and ours(env, NAMES[2]) is not None
    assert ours(env, NAMES[0])["uid"] == kept_uid
    assert foreign(env) == before


def test_delete_removes_every_entry_in_one_plan_and_only_ours(env: EmulatedLink) -> None:
    provider = EceDeploymentTrustProvider()
    before = foreign(env)
    created = provider.create(props(env, [entry(name) for name in NAMES]))
    counted = Counted(env)
    provider.delete(created.id, created.outs)
    assert counted() == (1, 1)
    assert all(ours(env, name) is None for name in NAMES)
    assert foreign(env) == before
    provider.delete(created.id, created.outs)  # already gone: success, no write
    assert counted() == (1, 1)
    provider.delete(f"{'0' * 32}/{REF_ID}", {**created.outs, "deployment_id": "0" * 32})  # deployment gone


def test_no_change_writes_nothing_and_adopt_entry_alone_is_no_change(env: EmulatedLink) -> None:
    provider = EceDeploymentTrustProvider()
    created = provider.create(props(env, [entry(NAMES[0])]))
    counted = Counted(env)
    same = props(env, [entry(NAMES[0], adopt_entry="made-by-hand")])
    assert not provider.diff(created.id, created.outs, same).changes
    provider.update(created.id, created.outs, props(env, [entry(NAMES[0])]))
    assert counted() == (0, 0)


@pytest.mark.parametrize("alias", ALIASES)
def test_entries_of_aliases_that_differ_only_in_dash_and_underscore_stay_apart(env: EmulatedLink, alias: str) -> None:
    provider = EceDeploymentTrustProvider()
    mine, other = names.trust_entry_name(alias), names.trust_entry_name(twin(alias))
    created = provider.create(props(env, [entry(mine, CA1), entry(other, CA2)]))
    provider.update(created.id, created.outs, props(env, [entry(other, CA2)]))
    assert ours(env, mine) is None and pems(ours(env, other)) == normalise([CA2.certificate_pem])


def test_an_entry_made_by_hand_is_adopted_renamed_with_its_uid_and_its_other_cas_retiring(env: EmulatedLink) -> None:
    EceTrustedCaProvider().create(entry_props(env, name="made-by-hand", certificates=[CA2.certificate_pem]))
    uid = ours(env, "made-by-hand")["uid"]
    created = EceDeploymentTrustProvider().create(
        props(env, [entry(NAMES[0], CA1, adopt_entry="made-by-hand"), entry(NAMES[1])])
    )
    assert ours(env, "made-by-hand") is None
    adopted = ours(env, NAMES[0])
    assert adopted["uid"] == uid and pems(adopted) == normalise([CA1.certificate_pem, CA2.certificate_pem])
    assert created.outs["entries_state"][NAMES[0]]["retiring_certificates"] == normalise([CA2.certificate_pem])


def test_an_adoption_of_an_entry_that_is_not_there_writes_nothing(env: EmulatedLink) -> None:
    counted = Counted(env)
    with pytest.raises(AdoptionError, match=r"adopt\.trustEntry 'not-there'"):
        EceDeploymentTrustProvider().create(props(env, [entry(NAMES[0], adopt_entry="not-there"), entry(NAMES[1])]))
    assert counted() == (0, 0)
    assert ours(env, NAMES[1]) is None


def test_per_link_entries_of_an_earlier_version_are_handed_over_not_removed(env: EmulatedLink) -> None:
    """The upgrade: the program now declares one `EceDeploymentTrust`, and the engine deletes the per-link
    `EceTrustedCa`s at the end of the update. The new resource's check claims the names; its create finds them as
    they are (no write); the old resources' deletes then leave them."""
    old = EceTrustedCaProvider()
    legacy = [old.create(entry_props(env, name=name, certificates=[CA1.certificate_pem])) for name in NAMES]
    uids = {name: ours(env, name)["uid"] for name in NAMES}
    counted = Counted(env)
    provider = EceDeploymentTrustProvider()
    news = props(env, [entry(name) for name in NAMES])  # check: the claim
    provider.create(news)
    for created in legacy:
        old.delete(created.id, created.outs)
    assert counted() == (0, 0)
    assert {name: ours(env, name)["uid"] for name in NAMES} == uids


def test_refresh_drops_an_entry_removed_behind_our_back_and_up_writes_it_again(env: EmulatedLink) -> None:
    provider = EceDeploymentTrustProvider()
    created = provider.create(props(env, [entry(NAMES[0]), entry(NAMES[1], CA2)]))
    change_behind_our_back(env, lambda direct: [e for e in direct if e["name"] != NAMES[0]])
    read = provider.read(created.id, created.outs)
    assert [e["name"] for e in read.inputs["entries"]] == [NAMES[1]]
    assert read.inputs["entries"][0]["certificates"] == normalise([CA2.certificate_pem])
    desired = props(env, [entry(NAMES[0]), entry(NAMES[1], CA2)])
    assert provider.diff(created.id, read.outs, desired).changes
    provider.update(created.id, read.outs, desired)
    assert pems(ours(env, NAMES[0])) == normalise([CA1.certificate_pem])


def test_check_tolerates_unknowns_and_rejects_bad_entries_naming_them(env: EmulatedLink) -> None:
    provider = EceDeploymentTrustProvider()
    unknown = {**props(env, [entry(NAMES[0])]), "entries": [{**entry(NAMES[0]), "certificates": UNKNOWN}]}
    assert provider.check({}, unknown).failures == []
    assert provider.diff("id", props(env, [entry(NAMES[0])]), unknown).changes
    bad = [
        entry(NAMES[0]),
        entry(NAMES[0]),
        {**entry(NAMES[1]), "model": "password"},
        {**entry(NAMES[2]), "model": "certificate"},
        {"name": "empty", "certificates": []},
    ]
    failures = provider.check({}, {**props(env, []), "entries": bad}).failures
    reasons = sorted(failure.reason for failure in failures)
    assert reasons == sorted(
        [
            f"entries[1].name '{NAMES[0]}' is given twice",
            "entries[2].model must be one of api-key, certificate",
            "entries[3]: the certificate model needs a scope_id (<namespace>.es.local)",
            "entries[4].certificates must be a non-empty list of PEM certificates",
        ]
    )
