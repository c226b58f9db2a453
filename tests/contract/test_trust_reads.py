"""`EceTrustedCaProvider.read` against the ECE emulator: a refresh or an import reads the trust entry back whole (its
place, name, certificates, scope, the plan timeout's default), keeps the certificates being retired apart from the
live ones, and reports an entry whose deployment is gone as gone."""

from __future__ import annotations

from typing import Any

import pytest

from components.ece.trust import EceTrustedCaProvider, normalise
from tests.support.certs import make_ca
from tools.emulated_link import REF_ID, EmulatedLink

CA1 = make_ca("eck-reads-ca-1")
CA2 = make_ca("eck-reads-ca-2")
NAME = "ece-eck-remote-reads"


def props(env: EmulatedLink, **extra: Any) -> dict[str, Any]:
    news = {
        "ece": env.ece_props(),
        "ece_credentials": env.ece_credentials(),
        "deployment_id": env.deployment_id,
        "ref_id": REF_ID,
        "entry_name": NAME,
        "model": "api-key",
        "certificates": [CA1.certificate_pem],
        "plan_timeout_seconds": 10,
        **extra,
    }
    return EceTrustedCaProvider().check({}, news).inputs


def connection(env: EmulatedLink) -> dict[str, Any]:
    """What an import has: the connection only, everything else from the id."""
    return {"ece": env.ece_props(), "ece_credentials": env.ece_credentials()}


def test_import_reads_where_the_entry_is_and_its_plan_timeout_default_from_the_id(env: EmulatedLink) -> None:
    provider = EceTrustedCaProvider()
    created = provider.create(props(env))
    imported = provider.read(created.id, connection(env))
    assert imported.id == created.id
    assert imported.inputs is not None
    assert imported.inputs["deployment_id"] == env.deployment_id
    assert imported.inputs["ref_id"] == REF_ID
    assert imported.inputs["entry_name"] == NAME
    assert imported.inputs["plan_timeout_seconds"] == 600
    assert imported.inputs["scope_id"] is None
    assert imported.outs["deployment_id"] == env.deployment_id and imported.outs["entry_name"] == NAME
    assert not provider.diff(created.id, imported.outs, props(env, plan_timeout_seconds=600)).replaces


def test_refresh_keeps_the_configured_plan_timeout(env: EmulatedLink) -> None:
    provider = EceTrustedCaProvider()
    created = provider.create(props(env, plan_timeout_seconds=45))
    refreshed = provider.read(created.id, created.outs)
    assert refreshed.inputs is not None and refreshed.inputs["plan_timeout_seconds"] == 45


def test_import_of_a_certificate_model_entry_reads_its_scope(env: EmulatedLink) -> None:
    provider = EceTrustedCaProvider()
    created = provider.create(props(env, model="certificate", scope_id="observability.es.local"))
    imported = provider.read(created.id, connection(env))
    assert imported.inputs is not None
    assert imported.inputs["model"] == "certificate"
    assert imported.inputs["scope_id"] == "observability.es.local"


def test_refresh_keeps_a_retiring_certificate_apart_from_the_live_ones(env: EmulatedLink) -> None:
    provider = EceTrustedCaProvider()
    created = provider.create(props(env, certificates=[CA1.certificate_pem, CA2.certificate_pem]))
    retiring = normalise([CA2.certificate_pem])
    refreshed = provider.read(created.id, {**created.outs, "retiring_certificates": retiring})
    assert refreshed.inputs is not None
    assert refreshed.inputs["certificates"] == normalise([CA1.certificate_pem])
    assert refreshed.outs["retiring_certificates"] == retiring
    assert refreshed.outs["trusted_certificates"] == normalise([CA1.certificate_pem, CA2.certificate_pem])


def test_refresh_of_an_entry_whose_deployment_is_gone_reports_it_gone(env: EmulatedLink) -> None:
    provider = EceTrustedCaProvider()
    created = provider.create(props(env))
    gone_id = f"{'0' * 32}/{REF_ID}/{NAME}"
    read = provider.read(gone_id, {**created.outs, "deployment_id": "0" * 32})
    assert read.id == ""
    assert read.outs == {}


def test_refresh_of_an_entry_no_longer_there_reports_it_gone(env: EmulatedLink) -> None:
    provider = EceTrustedCaProvider()
    created = provider.create(props(env))
    read = provider.read(f"{env.deployment_id}/{REF_ID}/ece-eck-remote-missing", created.outs)
    assert read.id == ""
    assert read.outs == {}


class OneEntry:
    """A client whose deployment's trust holds one given direct entry."""

    def __init__(self, entry: dict[str, Any]) -> None:
        self.entry = entry

    def get_deployment(self, _deployment_id: str) -> OneEntry:
        return self

    def trust(self, _ref_id: str) -> dict[str, Any]:
        return {"direct": [self.entry]}


def test_a_proxy_entry_reads_as_the_api_key_model_with_no_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    entry: dict[str, Any] = {"name": NAME, "type": "proxy", "scope_id": "left.es.local", "uid": "u1"}
    entry["certificates"] = [{"pem": CA1.certificate_pem}]
    monkeypatch.setattr("components.ece.trust.client_from", lambda _props: OneEntry(entry))
    read = EceTrustedCaProvider().read(f"{'a' * 32}/{REF_ID}/{NAME}", {})
    assert read.inputs is not None
    assert read.inputs["model"] == "api-key" and read.inputs["scope_id"] is None


def test_a_renamed_entry_is_replaced_new_one_first_so_trust_never_lapses(env: EmulatedLink) -> None:
    old = props(env)
    diff = EceTrustedCaProvider().diff(
        f"{env.deployment_id}/{REF_ID}/{NAME}", old, {**old, "entry_name": "ece-eck-remote-b"}
    )
    assert diff.changes and diff.replaces == ["entry_name"]
    assert diff.delete_before_replace is False
