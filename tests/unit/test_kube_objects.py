"""`components.kube_objects` registers each object exactly as the pinned SDK's `pulumi_kubernetes.core.v1` class does:
the whole RegisterResource request (type, inputs with their secrecy, options, provider version) is compared, so a
difference in any field, or an SDK upgrade that changes its classes, fails here before it reaches a stack."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from google.protobuf.json_format import MessageToDict  # type: ignore[import-untyped]

from components import kube_objects
from tests.support.pulumi_mocks import RecordingMocks, RecordingMonitor, run_under_mocks

METADATA = {"name": "quickstart-es-elastic-user", "namespace": "elastic", "labels": {"app": "x-y_z"}}


def registration(declare: Callable[[pulumi.ResourceOptions], object]) -> dict[str, Any]:
    """The RegisterResource request `declare` makes, for an object under a protected, retained parent component."""
    monitor_requests: list[dict[str, Any]] = []

    def program() -> None:
        parent = pulumi.ComponentResource("eceeck:index:Parent", "parent")
        declare(pulumi.ResourceOptions(parent=parent, protect=True, retain_on_delete=True))

    original = RecordingMonitor.RegisterResource

    def record(self: RecordingMonitor, request: Any) -> Any:
        if request.custom:
            sent = MessageToDict(request)
            for where in ("stackTrace", "sourcePosition"):  # the declaring line, which differs by construction
                sent.pop(where, None)
            monitor_requests.append(sent)
        return original(self, request)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RecordingMonitor, "RegisterResource", record)
        run_under_mocks(program, RecordingMocks())
    assert len(monitor_requests) == 1
    return monitor_requests[0]


def test_a_secret_registers_as_the_sdk_secret_does_with_its_data_secret() -> None:
    ours = registration(
        lambda opts: kube_objects.Secret(
            "elastic-user",
            metadata=METADATA,
            type="Opaque",
            string_data={"elastic": pulumi.Output.secret("a-password-long-enough-1234")},
            opts=opts,
        )
    )
    sdk = registration(
        lambda opts: k8s.core.v1.Secret(
            "elastic-user",
            metadata=METADATA,
            type="Opaque",
            string_data={"elastic": pulumi.Output.secret("a-password-long-enough-1234")},
            opts=opts,
        )
    )
    assert ours == sdk
    assert ours["type"] == "kubernetes:core/v1:Secret"
    assert set(ours["additionalSecretOutputs"]) == {"data", "stringData"}
    assert ours["version"] == k8s._utilities.get_version()
    assert "a-password-long-enough-1234" in str(ours["object"]["stringData"])  # the mock monitor sees the value ...
    assert "4dabf18193072939515e22adb298388d" in str(ours["object"]["stringData"])  # ... sent as a secret


def test_a_secret_of_plain_values_is_sent_as_a_secret_all_the_same() -> None:
    ours = registration(
        lambda opts: kube_objects.Secret("ca", metadata=METADATA, string_data={"ca.crt": "PEM"}, opts=opts)
    )
    sdk = registration(
        lambda opts: k8s.core.v1.Secret(
            "ca", metadata=METADATA, type="Opaque", string_data={"ca.crt": "PEM"}, opts=opts
        )
    )
    assert ours == sdk
    assert "4dabf18193072939515e22adb298388d" in str(ours["object"]["stringData"])


def test_a_config_map_registers_as_the_sdk_config_map_does() -> None:
    def data() -> dict[str, Any]:
        return {"trust.yml": pulumi.Output.from_input("trust.subject_name: [a]\n")}

    ours = registration(lambda opts: kube_objects.ConfigMap("trust", metadata=METADATA, data=data(), opts=opts))
    sdk = registration(lambda opts: k8s.core.v1.ConfigMap("trust", metadata=METADATA, data=data(), opts=opts))
    assert ours == sdk
    assert ours["type"] == "kubernetes:core/v1:ConfigMap"
    assert ours["object"]["data"] == {"trust.yml": "trust.subject_name: [a]\n"}


def test_a_service_registers_as_the_sdk_service_does() -> None:
    metadata = {**METADATA, "annotations": {"pulumi.com/skipAwait": "true"}}
    spec = {"type": "LoadBalancer", "ports": [{"name": "rcs", "port": 9443, "targetPort": 9444}]}
    ours = registration(lambda opts: kube_objects.Service("lb", metadata=metadata, spec=spec, opts=opts))
    sdk = registration(lambda opts: k8s.core.v1.Service("lb", metadata=metadata, spec=spec, opts=opts))
    assert ours == sdk
    assert ours["type"] == "kubernetes:core/v1:Service"
    assert ours["object"]["spec"]["ports"][0]["targetPort"] == 9444
    assert ours["protect"] is True and ours["retainOnDelete"] is True


def test_the_program_does_not_load_the_sdk_core_v1_classes() -> None:
    """What the module is for: the program's imports leave `pulumi_kubernetes.core.v1` unloaded (checked in a fresh
    interpreter, as the engine starts the program)."""
    code = "import components.program, sys; print('pulumi_kubernetes.core.v1' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert done.stdout.strip() == "False"
