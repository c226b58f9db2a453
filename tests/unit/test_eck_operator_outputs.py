"""The wait for the ECK operator's objects, against a loopback API stand-in: bounded, reactive, clear on timeout."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from components.eck_operator_outputs import EckOperatorOutputsProvider
from components.polling import WaitTimeoutError
from tests.support.certs import make_ca
from tests.support.fake_kube import serve_fake_kube, write_kubeconfig

CA = make_ca("eck-ca")
PROPS = {
    "namespace": "elastic",
    "context": "test",
    "ca_secret": "quickstart-es-transport-certs-public",
    "http_ca_secret": None,
    "password_secret": "quickstart-es-elastic-user",
    "service": "quickstart-es-remote-cluster",
    "timeout_seconds": 10,
}


@pytest.fixture
def kube(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with serve_fake_kube() as (fake, url):
        config = tmp_path / "kubeconfig"
        write_kubeconfig(config, url, token="kube-token-123")
        monkeypatch.setenv("KUBECONFIG", str(config))
        yield fake


def publish_later(fake, delay: float) -> threading.Thread:
    def publish() -> None:
        time.sleep(delay)
        fake.put_secret("elastic", "quickstart-es-transport-certs-public", {"ca.crt": CA.certificate_pem})
        fake.put_secret("elastic", "quickstart-es-elastic-user", {"elastic": "pw-from-operator"})
        fake.put_service("elastic", "quickstart-es-remote-cluster")
        time.sleep(delay)
        fake.put_service("elastic", "quickstart-es-remote-cluster", [{"hostname": "rcs.elb.example.com"}])

    thread = threading.Thread(target=publish)
    thread.start()
    return thread


def test_create_waits_for_every_object_then_outputs_their_values(kube) -> None:
    thread = publish_later(kube, 0.3)
    result = EckOperatorOutputsProvider().create(dict(PROPS))
    thread.join()
    assert result.outs["ca_certificate"] == CA.certificate_pem
    assert "pw-from-operator" not in str(result.outs)  # awaited, never carried: read when an operation needs it
    assert any(path.endswith("/namespaces/elastic/secrets/quickstart-es-elastic-user") for path, _ in kube.requests)
    assert result.outs["ingress_host"] == "rcs.elb.example.com"
    assert result.outs["namespace"] == "elastic"
    assert all(auth == "Bearer kube-token-123" for _path, auth in kube.requests)
    assert any(
        path.endswith("/namespaces/elastic/secrets/quickstart-es-transport-certs-public") for path, _ in kube.requests
    )


def test_timeout_names_each_missing_object(kube) -> None:
    kube.put_secret("elastic", "quickstart-es-elastic-user", {"elastic": "elastic-Pw-0x5ecret"})
    kube.put_service("elastic", "quickstart-es-remote-cluster")
    with pytest.raises(WaitTimeoutError) as raised:
        EckOperatorOutputsProvider().create({**PROPS, "timeout_seconds": 1})
    message = str(raised.value)
    assert "Secret elastic/quickstart-es-transport-certs-public" in message
    assert "status.loadBalancer.ingress of Service elastic/quickstart-es-remote-cluster" in message
    assert "quickstart-es-elastic-user" not in message
    assert "elastic-Pw-0x5ecret" not in message


def test_server_errors_are_retried(kube) -> None:
    kube.put_secret("elastic", "quickstart-es-transport-certs-public", {"ca.crt": CA.certificate_pem})
    kube.put_secret("elastic", "quickstart-es-elastic-user", {"elastic": "elastic-Pw-0x5ecret"})
    kube.put_service("elastic", "quickstart-es-remote-cluster", [{"ip": "203.0.113.4"}])
    kube.fail_next.extend([500, 503])
    result = EckOperatorOutputsProvider().create(dict(PROPS))
    assert result.outs["ingress_host"] == "203.0.113.4"


def test_refresh_reads_a_rotated_ca(kube) -> None:
    kube.put_secret("elastic", "quickstart-es-transport-certs-public", {"ca.crt": CA.certificate_pem})
    kube.put_secret("elastic", "quickstart-es-elastic-user", {"elastic": "elastic-Pw-0x5ecret"})
    kube.put_service("elastic", "quickstart-es-remote-cluster", [{"ip": "203.0.113.4"}])
    created = EckOperatorOutputsProvider().create(dict(PROPS))
    rotated = make_ca("eck-ca-rotated")
    kube.put_secret("elastic", "quickstart-es-transport-certs-public", {"ca.crt": rotated.certificate_pem})
    read = EckOperatorOutputsProvider().read(created.id, created.outs)
    assert read.outs["ca_certificate"] == rotated.certificate_pem
    assert read.inputs == {key: PROPS[key] for key in PROPS}


def test_diff_is_local_and_reports_input_changes_only() -> None:
    provider = EckOperatorOutputsProvider()
    olds = {**PROPS, "ca_certificate": "old"}
    assert not provider.diff("id", olds, dict(PROPS)).changes
    assert provider.diff("id", olds, {**PROPS, "service": "other"}).changes
    assert provider.diff("id", olds, {**PROPS, "namespace": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}).changes


def test_check_rejects_a_bad_timeout_and_tolerates_unknowns() -> None:
    provider = EckOperatorOutputsProvider()
    assert provider.check({}, {**PROPS, "timeout_seconds": 0}).failures
    assert not provider.check({}, {**PROPS, "namespace": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}).failures


def test_a_password_in_state_written_by_an_earlier_version_is_taken_out_by_an_update(kube) -> None:
    kube.put_secret("elastic", "quickstart-es-transport-certs-public", {"ca.crt": CA.certificate_pem})
    kube.put_secret("elastic", "quickstart-es-elastic-user", {"elastic": "pw-from-operator"})
    kube.put_service("elastic", "quickstart-es-remote-cluster", [{"hostname": "rcs.elb.example.com"}])
    provider = EckOperatorOutputsProvider()
    olds = {**PROPS, "elastic_password": "pw-from-operator", "ca_certificate": CA.certificate_pem}
    assert provider.diff("id", olds, dict(PROPS)).changes
    updated = provider.update("id", olds, dict(PROPS))
    assert "pw-from-operator" not in str(updated.outs)
    assert not provider.diff("id", updated.outs, dict(PROPS)).changes
