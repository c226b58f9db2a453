"""Progress lines from a dynamic provider to the Pulumi engine, shown on the resource being operated on.

The Python dynamic provider server (`pulumi/dynamic/__main__.py`, SDK 3.260.0) opens no connection to the engine, and
`pulumi.log` there has no engine either (it prints to stderr, which the engine shows under the stack, not the
resource: pulumi/sdk/go/common/resource/plugin/plugin.go logs a dynamic provider's stderr with an empty URN). But the
engine starts every resource plugin with its own gRPC address as the argument (provider_plugin.go: `[]string{
host.ServerAddr()}`), and its `Engine.Log` takes a URN and an `ephemeral` flag (pkg/host/host_server.go: ephemeral goes
to `LogStatus`). The display records a status message on the resource's row and shows it as the row's last message,
in the terminal and in `--non-interactive` output, but not among the Diagnostics at the end
(pkg/backend/display/progress.go, rows.go). That is what the Kubernetes provider does for its own waits.

The URN is in the request the engine sent (`CreateRequest.urn`, `UpdateRequest.urn`, ...). The SDK's servicer does
not pass it to the provider, so it is read from that servicer method's frame on the calling thread's stack: the
provider's method runs synchronously inside it, on the gRPC worker thread that serves this resource. When it is not
found (another caller, another SDK), the line goes with an empty URN, which the engine shows on the stack.

Installed once, only in the dynamic provider process (`components.dynamic`), as `components.progress`'s sink.
"""

from __future__ import annotations

import logging
import sys
import threading
from types import FrameType

import grpc  # type: ignore[import-untyped]  # no stubs; used for one channel
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

from . import lifeline, progress

SERVICER = "DynamicResourceProviderServicer"
"""The class of the SDK's dynamic provider server (pulumi/dynamic/__main__.py)."""
LOG_TIMEOUT_SECONDS = 5.0

log = logging.getLogger("ece_eck_remote.engine_log")


def current_urn(frame: FrameType | None = None) -> str | None:
    """The URN of the request the engine is being served on this thread, if this thread serves one."""
    current: FrameType | None = frame if frame is not None else sys._getframe(1)
    while current is not None:
        owner = current.f_locals.get("self")
        urn = getattr(current.f_locals.get("request"), "urn", None)
        if type(owner).__name__ == SERVICER and isinstance(urn, str) and urn:
            return urn
        current = current.f_back
    return None


def engine_address(argv: list[str]) -> str | None:
    """The engine's gRPC address among a plugin's arguments (host:port, not a flag)."""
    return next((arg for arg in argv if ":" in arg and not arg.startswith("-")), None)


class EngineLog:
    """Sends each line to the engine as an ephemeral info message of the resource being served on this thread."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._lock = threading.Lock()
        self._stub: engine_pb2_grpc.EngineStub | None = None

    def stub(self) -> engine_pb2_grpc.EngineStub:
        with self._lock:
            if self._stub is None:
                self._stub = engine_pb2_grpc.EngineStub(grpc.insecure_channel(self.address))
            return self._stub

    def __call__(self, message: str) -> None:
        request = engine_pb2.LogRequest(
            severity=engine_pb2.INFO, message=message, urn=current_urn() or "", ephemeral=True
        )
        self.stub().Log(request, timeout=LOG_TIMEOUT_SECONDS)


def install(argv: list[str] | None = None) -> bool:
    """In the dynamic provider process, send progress lines to the engine; True when installed."""
    if not lifeline.in_provider_process():
        return False
    address = engine_address(sys.argv[1:] if argv is None else argv)
    if address is None:
        log.info("no engine address among the provider's arguments: progress goes to the log only")
        return False
    progress.set_sink(EngineLog(address))
    return True
