"""`EceTrustRetirement`, the end of a CA rotation, against the three emulators: the old CAs of every link to the
deployment are dropped in one write and one plan, each link is then confirmed over a fresh handshake with the new CA
alone (`LinkConfirmation`, the Elasticsearch side); a link that does not confirm gets its old CA back and the update
fails naming it; with nothing retiring, nothing is called."""

from __future__ import annotations

from typing import Any

import pytest

from components.dynamic import UNKNOWN
from components.ece.retirement import EceTrustRetirementProvider, RotationNotFinishedError
from components.ece.trust import EceTrustedCaProvider, normalise
from components.elasticsearch.connection_check import LinkConfirmation, RemoteConnectionCheckProvider
from components.pem import fingerprint
from tests.contract.test_connection_check import OTHER_CA, Chain
from tests.support.secrets import assert_hidden
from tools.emulated_link import ECE_API_KEY, LOCAL_PASSWORD, REF_ID, EmulatedLink


def confirm_details(chain: Chain, timeout: float) -> dict[str, Any]:
    props = chain.check_props(timeout=timeout)
    return {key: props[key] for key in ("target", "credentials", "alias", "expected", "requires_credentials")} | {
        "timeout_seconds": timeout
    }


def retirement(env: EmulatedLink, links: list[dict[str, Any]]) -> dict[str, Any]:
    news = {
        "ece": env.ece_props(),
        "ece_credentials": env.ece_credentials(),
        "deployment_id": env.deployment_id,
        "ref_id": REF_ID,
        "links": links,
        "plan_timeout_seconds": 10,
    }
    checked = EceTrustRetirementProvider(LinkConfirmation()).check({}, news)
    assert checked.failures == []
    return checked.inputs


def rotate_trust(chain: Chain, new_ca: str) -> list[str]:
    """The trust's half of the rotation: the new CA beside the old; returns what it keeps as retiring."""
    trust = chain.created["trust"]
    updated = EceTrustedCaProvider().update(trust.id, trust.outs, {**trust.outs, "certificates": [new_ca]})
    chain.created["trust"] = updated
    return list(updated.outs["retiring_certificates"])


def entry_pems(env: EmulatedLink, name: str) -> list[str]:
    entry = next(e for e in env.direct_entries() if e["name"] == name)
    return normalise([c["pem"] for c in entry["certificates"]])


def writes(env: EmulatedLink) -> int:
    """Writes of the deployment (its trust); not those sent through ECE's proxy to its Elasticsearch."""
    return sum(1 for r in env.requests_to(env.ece) if r["method"] == "PUT" and r["path"].endswith(env.deployment_id))


def test_the_old_ca_is_dropped_once_the_new_ca_alone_connects(env: EmulatedLink) -> None:
    chain = Chain(env)
    chain.build()
    old_ca = env.rcs_ca
    env.control(env.remote, "POST", "rcs/rotate_ca")
    new_ca = env.rcs_ca
    retiring = rotate_trust(chain, new_ca)
    assert retiring == normalise([old_ca])
    props = chain.check_props(timeout=10)
    props["expected"]["ca_fingerprints"] = [fingerprint(new_ca)]
    assert RemoteConnectionCheckProvider().create(props).outs["connected"] is True  # with both trusted
    assert entry_pems(env, chain.entry_name) == normalise([new_ca, old_ca])  # the check leaves the trust alone
    before = writes(env)
    done = EceTrustRetirementProvider(LinkConfirmation()).create(
        retirement(
            env,
            [
                {
                    "entry_name": chain.entry_name,
                    "retiring_certificates": retiring,
                    "confirm": confirm_details(chain, 10),
                }
            ],
        )
    )
    assert writes(env) - before == 1
    assert done.outs["retired"] == {chain.entry_name: normalise([old_ca])}
    assert entry_pems(env, chain.entry_name) == normalise([new_ca])
    assert env.control(env.local, "GET", "state")["remote_connections"][chain.alias]["connected"] is True


def test_every_links_old_ca_goes_in_one_plan(env: EmulatedLink) -> None:
    """Three entries of one deployment retiring at once (their links confirmed by the one link the emulators run):
    one `PUT`, one plan."""
    chain = Chain(env)
    chain.build()
    old_ca = env.rcs_ca
    env.control(env.remote, "POST", "rcs/rotate_ca")
    retiring = rotate_trust(chain, env.rcs_ca)
    others = []
    for name in ("ece-eck-remote-metrics", "ece-eck-remote-traces"):
        created = EceTrustedCaProvider().create(
            {**chain.created["trust"].outs, "entry_name": name, "certificates": [old_ca]}
        )
        updated = EceTrustedCaProvider().update(
            created.id, created.outs, {**created.outs, "certificates": [env.rcs_ca]}
        )
        others.append((name, updated.outs["retiring_certificates"]))
    attempts = len(env.ece_resource()["plans"]["history"])
    before = writes(env)
    links = [
        {"entry_name": name, "retiring_certificates": pems, "confirm": confirm_details(chain, 10)}
        for name, pems in [(chain.entry_name, retiring), *others]
    ]
    EceTrustRetirementProvider(LinkConfirmation()).create(retirement(env, links))
    assert writes(env) - before == 1
    assert len(env.ece_resource()["plans"]["history"]) - attempts == 1
    for name in (chain.entry_name, "ece-eck-remote-metrics", "ece-eck-remote-traces"):
        assert entry_pems(env, name) == normalise([env.rcs_ca]), name


def test_a_link_the_remote_has_not_rotated_gets_its_old_ca_back_and_is_named(env: EmulatedLink) -> None:
    chain = Chain(env)
    chain.build()
    old_ca = env.rcs_ca
    retiring = rotate_trust(chain, OTHER_CA.certificate_pem)  # the remote still serves old_ca
    link = {"entry_name": chain.entry_name, "retiring_certificates": retiring, "confirm": confirm_details(chain, 1.5)}
    with pytest.raises(RotationNotFinishedError) as raised:
        EceTrustRetirementProvider(LinkConfirmation()).create(retirement(env, [link]))
    message = str(raised.value)
    assert f"trust entries {chain.entry_name}: the links do not connect with the new CA alone" in message, message
    assert_hidden(message, ECE_API_KEY, LOCAL_PASSWORD)
    assert set(entry_pems(env, chain.entry_name)) == set(normalise([OTHER_CA.certificate_pem, old_ca]))


def test_with_nothing_retiring_nothing_is_called(env: EmulatedLink) -> None:
    chain = Chain(env)
    chain.build()
    env.control(env.ece, "DELETE", "requests")
    env.control(env.local, "DELETE", "requests")
    link = {"entry_name": chain.entry_name, "retiring_certificates": [], "confirm": confirm_details(chain, 1.5)}
    provider = EceTrustRetirementProvider(LinkConfirmation())
    created = provider.create(retirement(env, [link]))
    assert created.outs["retired"] == {}
    assert provider.read(created.id, created.outs).outs == created.outs
    provider.delete(created.id, created.outs)
    assert env.requests_to(env.ece) == [] and env.requests_to(env.local) == []


def test_only_cas_newly_retiring_are_a_change() -> None:
    """A refresh after a rotation brings the trust's outputs back to nothing retiring: no change for the retirement,
    and so no step in the preview; a new rotation (or one whose retiring CAs are not known yet) is one."""
    provider = EceTrustRetirementProvider(LinkConfirmation())

    def links(*retiring: Any) -> dict[str, Any]:
        return {"links": [{"entry_name": f"e{i}", "retiring_certificates": r} for i, r in enumerate(retiring)]}

    assert provider.diff("id", links([], []), links(["a"], [])).changes
    assert not provider.diff("id", links(["a"], []), links(["a"], [])).changes
    assert not provider.diff("id", links(["a"], []), links([], [])).changes
    assert provider.diff("id", links(["a"], []), links(["a"], ["b"])).changes
    assert provider.diff("id", links([], []), links(UNKNOWN, [])).changes
    assert provider.diff("id", links([]), {"links": UNKNOWN}).changes
