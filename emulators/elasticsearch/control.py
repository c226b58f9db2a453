"""The Elasticsearch emulator's own control routes under `/_emulator/` (see the package docstring for shapes).
They run with the emulator lock held; a malformed body answers 400 `{"error": ...}`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulators.common import Response

from .keystore import parse_keystore_push, parse_trust_push
from .listener import STATES
from .restrictions import parse_transport_push

if TYPE_CHECKING:
    from .app import ElasticsearchEmulator


def handle(emulator: ElasticsearchEmulator, what: str, method: str, body: Any) -> Response | None:
    """The answer to a control route, or None when it is not one of these."""
    if what == "reset" and method == "POST":
        emulator.reset()
        return Response(200, {})
    if what == "keystore" and method == "PUT":
        secrets, reload = parse_keystore_push(body)
        before = emulator.credential_aliases()
        emulator.keystore.push(secrets, reload)
        if reload:
            emulator.rebuild_connections(before)
        return Response(200, emulator.keystore.state())
    if what == "keystore" and method == "GET":
        return Response(200, emulator.keystore.state())
    if what == "trust" and method == "PUT":
        emulator.trusted = parse_trust_push(body)
        return Response(200, emulator.trust_state())
    if what == "trust" and method == "GET":
        return Response(200, emulator.trust_state())
    if what == "clock" and method == "PUT":
        if not isinstance(body, dict) or not isinstance(body.get("offset_ms"), int):
            raise ValueError('body must be {"offset_ms": <int>}')
        emulator.clock_offset_ms = body["offset_ms"]
        return Response(200, {"offset_ms": emulator.clock_offset_ms, "now": emulator.now_ms()})
    if what == "reload_failure" and method == "PUT":
        if not isinstance(body, dict) or not isinstance(body.get("reason"), str):
            raise ValueError('body must be {"reason": "...", "type"?: "..."}')
        emulator.reload_failure = {"type": str(body.get("type") or "illegal_state_exception"), "reason": body["reason"]}
        return Response(200, emulator.reload_failure)
    if what == "reload_failure" and method == "DELETE":
        emulator.reload_failure = None
        return Response(200, {})
    if what == "license" and method == "PUT":
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            raise ValueError(
                'body must be {"type": "basic" | "trial" | "enterprise" | "platinum" | ..., "status"?: ...}'
            )
        emulator.licence.set(body["type"], str(body.get("status") or "active"))
        return Response(200, emulator.licence.state())
    if what == "license" and method == "GET":
        return Response(200, emulator.licence.state())
    if what == "elastic-password" and method == "PUT":
        if not isinstance(body, dict) or not isinstance(body.get("password"), str) or not body["password"]:
            raise ValueError('body must be {"password": "..."}')
        emulator.config.elastic_password = body["password"]
        return Response(200, {})
    if what == "transport" and method == "PUT":
        emulator.restrictions, emulator.transport_identity = parse_transport_push(body)
        return Response(200, emulator.transport_state())
    if what == "transport" and method == "GET":
        return Response(200, emulator.transport_state())
    if what == "transport-server":
        return _transport_server(emulator, method, body)
    if what == "rcs" or what.startswith("rcs/"):
        answer = _rcs(emulator, what, method, body)
        if emulator.rcs is not None and emulator.transport is not None and emulator.transport.ca is not emulator.rcs.ca:
            emulator.transport.use_ca(emulator.rcs.ca)  # one transport CA issues both listeners' certificates
        return answer
    return None


def _transport_server(emulator: ElasticsearchEmulator, method: str, body: Any) -> Response:
    """GET: its state. PUT `{"state"?: "up"|"refuse"|"down", "namespace"?: "...", "client_cas"?: ["<pem>"],
    "subject_names"?: ["<pattern>"] | null}`: starts it (any free port) when it does not run, then applies these."""
    if method == "GET":
        if emulator.transport is None:
            return Response(409, {"error": "no transport port stand-in runs (PUT /_emulator/transport-server)"})
        return Response(200, emulator.transport.state())
    if method != "PUT":
        return Response(405, {"error": "GET or PUT"})
    if not isinstance(body, dict):
        raise ValueError(_transport_server.__doc__ or "")
    client_cas = body.get("client_cas")
    if client_cas is not None and not (isinstance(client_cas, list) and all(isinstance(p, str) for p in client_cas)):
        raise ValueError("client_cas must be a list of PEM strings")
    names = body.get("subject_names", ...)
    if names not in (None, ...) and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise ValueError("subject_names must be a list of patterns or null")
    namespace = body.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        raise ValueError("namespace must be a string")
    state = body.get("state") or "up"
    if state not in STATES:
        raise ValueError(f"state must be one of {', '.join(STATES)}")
    server = emulator.start_transport()
    server.configure(namespace=namespace, client_cas=client_cas, subject_names=names)
    server.set_state(state)
    return Response(200, server.state())


def _rcs(emulator: ElasticsearchEmulator, what: str, method: str, body: Any) -> Response:
    rcs = emulator.rcs
    if rcs is None:
        return Response(409, {"error": "this emulator runs no remote cluster server (start it with --rcs-port)"})
    if what == "rcs" and method == "GET":
        return Response(200, rcs.state())
    if what == "rcs" and method == "PUT":
        if not isinstance(body, dict) or not isinstance(body.get("state"), str):
            raise ValueError('body must be {"state": "up" | "refuse" | "down"}')
        rcs.set_state(body["state"])
        return Response(200, rcs.state())
    if what == "rcs/rotate_ca" and method == "POST":
        rcs.rotate_ca()
        return Response(200, rcs.state())
    if what == "rcs/ca" and method == "PUT":
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("certificate"), str)
            or not isinstance(body.get("key"), str)
        ):
            raise ValueError('body must be {"certificate": "<CA PEM>", "key": "<CA key PEM>"}')
        rcs.use_ca(body["certificate"], body["key"])
        return Response(200, rcs.state())
    return Response(404, {"error": f"unknown control {what}"})
