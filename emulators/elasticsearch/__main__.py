"""`python -m emulators.elasticsearch --port N [--version 9.3.2] [--elastic-password P] [--cluster-name NAME]
[--rcs-port N --rcs-server-name NAME --rcs-ca-out FILE] [--transport-port N --namespace NS]`."""

from __future__ import annotations

import argparse
import sys

from emulators.common import main

from .app import Config, ElasticsearchEmulator
from .version import DEFAULT_VERSION


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", default=DEFAULT_VERSION, help="the emulated Elasticsearch version")
    parser.add_argument("--elastic-password", default="changeme", help="password of the `elastic` user")
    parser.add_argument("--cluster-name", default="es-emulator")
    parser.add_argument("--rcs-port", type=int, help="serve a remote cluster server stand-in on this port (0: any)")
    parser.add_argument(
        "--rcs-server-name", help="DNS name in its certificate (default <cluster>-es-remote-cluster.default.svc)"
    )
    parser.add_argument("--rcs-ca-out", help="write the remote cluster server's CA PEM here (rewritten on rotation)")
    parser.add_argument(
        "--transport-port",
        type=int,
        help="serve a transport port stand-in (TLS-certificate model) on this port (0: any)",
    )
    parser.add_argument("--namespace", default="default", help="Kubernetes namespace in the stand-in's node name")


def factory(args: argparse.Namespace) -> ElasticsearchEmulator:
    emulator = ElasticsearchEmulator(
        Config(
            cluster_name=args.cluster_name,
            version=args.version,
            elastic_password=args.elastic_password,
            rcs_port=args.rcs_port,
            rcs_server_name=args.rcs_server_name,
            rcs_ca_out=args.rcs_ca_out,
            transport_port=args.transport_port,
            namespace=args.namespace,
        )
    )
    if emulator.rcs is not None:
        # stderr: stdout's first line stays the common "ready" line
        print(
            f"remote cluster server on 127.0.0.1:{emulator.rcs.port} ({emulator.rcs.server_name})",
            file=sys.stderr,
            flush=True,
        )
    if emulator.transport is not None:
        print(
            f"transport port on 127.0.0.1:{emulator.transport.port} ({emulator.transport.node_name})",
            file=sys.stderr,
            flush=True,
        )
    return emulator


if __name__ == "__main__":
    main(factory, configure)
