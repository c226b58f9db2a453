"""Credentials resolved at operation time (components/credentials.py): from the stack config the engine hands the
providers, from the environment, or from a Kubernetes Secret; never carried as a value in a reference."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic import ConfigureRequest, UpdateResult
from pulumi.dynamic.config import Config

from components import credentials
from components.dynamic import ConfiguredProvider, credentials_change_touches_nothing, only_credentials_changed
from tests.support.fake_kube import serve_fake_kube, write_kubeconfig

ECE_KEY = "ece-api-key-from-config-0123456789"
ENV_KEY = "ece-api-key-from-environment-0123456789"
PASSWORD = "elastic-password-from-config-0123"


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in credentials.ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    credentials.remember_stack_secrets(None)
    yield
    credentials.remember_stack_secrets(None)


def configure(secrets: Any, key: str = "ece-eck-remote:secrets") -> None:
    """What the engine does: `configure` on a provider, with the whole stack config (namespaced keys, objects as
    JSON text, secrets decrypted)."""
    raw = {key: json.dumps(secrets), "ece-eck-remote:scope": "both"}
    ConfiguredProvider().configure(ConfigureRequest(Config(raw_config=raw, project_name="project")))


def test_a_reference_carries_no_value() -> None:
    for reference in (
        credentials.ece_reference(),
        credentials.kubernetes_secret_reference(
            context="c", namespace="n", name="x-es-elastic-user", key="elastic", username="elastic"
        ),
        credentials.stack_secret_reference("eckClusters", "x", "elasticPassword", username="elastic"),
    ):
        assert credentials.is_reference(reference)
        assert not {"password", "api_key", "apiKey"} & set(reference)


def test_ece_credentials_come_from_the_stack_config_the_engine_hands_the_provider() -> None:
    configure({"ece": {"apiKey": ECE_KEY}})
    assert credentials.resolve(credentials.ece_reference()) == {"api_key": ECE_KEY}
    configure({"ece": {"username": "admin", "password": "pw-123456"}})
    assert credentials.resolve(credentials.ece_reference()) == {"username": "admin", "password": "pw-123456"}


def test_the_config_wins_over_the_environment_which_is_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECE_API_KEY", ENV_KEY)
    assert credentials.resolve(credentials.ece_reference()) == {"api_key": ENV_KEY}
    configure({"ece": {"apiKey": ECE_KEY}})
    assert credentials.resolve(credentials.ece_reference()) == {"api_key": ECE_KEY}
    configure({})
    monkeypatch.delenv("ECE_API_KEY")
    monkeypatch.setenv("ECE_USERNAME", "admin")
    monkeypatch.setenv("ECE_PASSWORD", "env-password-1")
    assert credentials.resolve(credentials.ece_reference()) == {"username": "admin", "password": "env-password-1"}


def test_no_ece_credentials_anywhere_says_how_to_set_them() -> None:
    with pytest.raises(credentials.CredentialsError) as raised:
        credentials.resolve(credentials.ece_reference())
    message = str(raised.value)
    assert "secrets.ece.apiKey" in message and "ECE_API_KEY" in message and "--secret" in message


def test_a_stack_secret_is_found_at_its_path_and_a_missing_one_is_named() -> None:
    configure({"eckClusters": {"quickstart": {"elasticPassword": PASSWORD}}})
    reference = credentials.stack_secret_reference("eckClusters", "quickstart", "elasticPassword", username="elastic")
    assert credentials.resolve(reference) == {"username": "elastic", "password": PASSWORD}
    other = credentials.stack_secret_reference("eckClusters", "logs", "elasticPassword", username="elastic")
    with pytest.raises(credentials.CredentialsError, match=r"secrets\.eckClusters\.logs\.elasticPassword"):
        credentials.resolve(other)


def test_a_kubernetes_secret_is_read_when_needed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with serve_fake_kube() as (fake, url):
        kubeconfig = tmp_path / "kubeconfig"
        write_kubeconfig(kubeconfig, url, token="kube-token-123")
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
        reference = credentials.kubernetes_secret_reference(
            context="test", namespace="elastic", name="quickstart-es-elastic-user", key="elastic", username="elastic"
        )
        with pytest.raises(credentials.CredentialsError, match="quickstart-es-elastic-user has no key 'elastic'"):
            credentials.resolve(reference)
        fake.put_secret("elastic", "quickstart-es-elastic-user", {"elastic": "first-password"})
        assert credentials.resolve(reference)["password"] == "first-password"
        fake.put_secret("elastic", "quickstart-es-elastic-user", {"elastic": "rotated-password"})
        assert credentials.resolve(reference)["password"] == "rotated-password"  # read again, never kept


def test_given_credentials_pass_through_unchanged() -> None:
    given = {"username": "elastic", "password": PASSWORD}
    assert credentials.resolve(given) == given


INPUTS = ("target", "credentials", "alias")


def test_only_a_credentials_change_is_recognised_as_one() -> None:
    olds = {"target": {"url": "https://a"}, "credentials": {"username": "elastic", "password": PASSWORD}, "alias": "x"}
    moved = {**olds, "credentials": credentials.ece_reference()}
    assert only_credentials_changed(olds, moved, INPUTS) == ["credentials"]
    assert only_credentials_changed(olds, {**moved, "alias": "y"}, INPUTS) == []
    assert only_credentials_changed(olds, olds, INPUTS) == []
    nested_old = {"trust": {"ece_credentials": {"api_key": ECE_KEY}, "entry_name": "e"}}
    nested_new = {"trust": {"ece_credentials": credentials.ece_reference(), "entry_name": "e"}}
    assert only_credentials_changed(nested_old, nested_new, ("trust",)) == ["trust"]
    assert only_credentials_changed(nested_old, {"trust": {**nested_new["trust"], "entry_name": "f"}}, ("trust",)) == []


def test_an_update_that_only_moves_credentials_calls_nothing() -> None:
    calls: list[str] = []

    class Provider(ConfiguredProvider):
        @credentials_change_touches_nothing(INPUTS)
        def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
            calls.append("update")
            return UpdateResult(news)

    olds = {"target": {"url": "https://a"}, "credentials": {"password": PASSWORD}, "alias": "x", "out": 1}
    result = Provider().update("id", olds, {**olds, "credentials": credentials.ece_reference()})
    assert calls == []
    assert result.outs["credentials"] == credentials.ece_reference() and result.outs["out"] == 1
    Provider().update("id", olds, {**olds, "alias": "y"})
    assert calls == ["update"]
