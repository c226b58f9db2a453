"""Before a preview or an update in CI: does this runner reach every endpoint the stack's program calls?

Pulumi runs the program, and its dynamic providers, on the runner itself. So the runner must reach the Kubernetes
API (the kubeconfig's server), each ECK cluster's Elasticsearch HTTP API (`eckClusters[].http.url`, by default the
in-cluster `https://<name>-es-http.<namespace>.svc:9200`) and the ECE API (`ece.url`). A GitHub-hosted runner
reaches none of the in-cluster addresses. This check opens a TCP connection to each (no credentials, nothing sent)
and fails in seconds with what to change, instead of a preview that waits on timeouts.

    python examples/github-actions/check_reachability.py --stack dev
    python examples/github-actions/check_reachability.py --config-json config.json   # saved `pulumi config --json`

It reads the stack's configuration with `pulumi config --json --stack <stack>` (no secret is read or printed) and
the kubeconfig as kubectl does (`KUBECONFIG`, else `~/.kube/config`). Exit status: 0 all reachable, 1 something is
not, 2 the configuration or the kubeconfig could not be read.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

PROJECT = "ece-eck-remote"
REMEDY = (
    "The runner must reach the Kubernetes API and each ECK cluster's HTTP endpoint (and the ECE API): run this job on "
    "a self-hosted runner inside that network (runs-on), or expose the Elasticsearch HTTP API through an ingress and "
    "set eckClusters[].http.url (with http.caCertificate when the ingress presents another CA)."
)


class ReachabilityError(Exception):
    """The configuration or the kubeconfig cannot be read."""


@dataclass(frozen=True)
class Endpoint:
    what: str
    url: str

    @property
    def host_port(self) -> tuple[str, int]:
        parts = urlsplit(self.url if "://" in self.url else f"https://{self.url}")
        if not parts.hostname:
            raise ReachabilityError(f"{self.what}: '{self.url}' is not a URL")
        return parts.hostname, parts.port or (80 if parts.scheme == "http" else 443)

    @property
    def in_cluster(self) -> bool:
        host = self.host_port[0]
        return host.endswith((".svc", ".svc.cluster.local", ".cluster.local"))


def stack_config(stack: str) -> dict[str, Any]:
    """`pulumi config --json` of the stack: secret values are not shown (and not needed here)."""
    try:
        completed = subprocess.run(  # noqa: S603
            ["pulumi", "config", "--json", "--stack", stack],  # noqa: S607 (the CLI the workflow installed)
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    except FileNotFoundError as error:
        raise ReachabilityError("the pulumi CLI is not on PATH") from error
    if completed.returncode != 0:
        raise ReachabilityError(
            f"`pulumi config --json --stack {stack}` failed (logged in to the state backend? does the stack exist?): "
            f"{completed.stderr.strip()}"
        )
    return project_values(json.loads(completed.stdout))


def project_values(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The project's own keys of `pulumi config --json` output, as values (objects parsed)."""
    values: dict[str, Any] = {}
    for key, entry in raw.items():
        if not key.startswith(f"{PROJECT}:") or not isinstance(entry, Mapping) or entry.get("secret"):
            continue
        value = entry["objectValue"] if "objectValue" in entry else entry.get("value")
        values[key.split(":", 1)[1]] = value
    return values


def kubernetes_server(context: str | None, environ: Mapping[str, str]) -> Endpoint:
    """The API server of the kubeconfig context the program will use (the first file to define a name wins)."""
    listed = environ.get("KUBECONFIG")
    paths = [Path(p) for p in listed.split(os.pathsep) if p] if listed else [Path.home() / ".kube" / "config"]
    documents = [yaml.safe_load(path.read_text()) or {} for path in paths if path.is_file()]
    if not documents:
        if environ.get("KUBERNETES_SERVICE_HOST") and not context:  # as the program: not with kubernetes.context
            host, port = environ["KUBERNETES_SERVICE_HOST"], environ.get("KUBERNETES_SERVICE_PORT", "443")
            return Endpoint("the Kubernetes API (in-cluster service account)", f"https://{host}:{port}")
        raise ReachabilityError(
            "no kubeconfig: set KUBECONFIG (the workflow writes the environment's KUBECONFIG_YAML secret there) or "
            "create ~/.kube/config on the runner"
        )
    chosen = context or next((d.get("current-context") for d in documents if d.get("current-context")), None)
    if not chosen:
        raise ReachabilityError("the kubeconfig has no current-context and the stack sets no kubernetes.context")

    def named(section: str, name: str) -> Mapping[str, Any]:
        for document in documents:
            for item in document.get(section) or []:
                if isinstance(item, Mapping) and item.get("name") == name:
                    return item.get(section[:-1]) or {}
        raise ReachabilityError(f"the kubeconfig has no {section[:-1]} named '{name}'")

    server = named("clusters", str(named("contexts", chosen).get("cluster"))).get("server")
    if not server:
        raise ReachabilityError(f"the kubeconfig's cluster for context '{chosen}' has no server")
    return Endpoint(f"the Kubernetes API (context '{chosen}')", str(server))


def endpoints(config: Mapping[str, Any], environ: Mapping[str, str]) -> list[Endpoint]:
    """What the program calls from the runner, for this stack's scope."""
    scope = config.get("scope") or "both"
    kubernetes = config.get("kubernetes") or {}
    found: list[Endpoint] = []
    if scope in ("both", "eck"):
        if not kubernetes.get("renderYamlToDirectory"):
            found.append(kubernetes_server(kubernetes.get("context") or None, environ))
        for index, cluster in enumerate(config.get("eckClusters") or []):
            name, namespace = cluster.get("name"), cluster.get("namespace") or "default"
            url = (cluster.get("http") or {}).get("url")
            where = f"eckClusters[{index}].http.url" if url else f"eckClusters[{index}].http.url unset: the default"
            found.append(
                Endpoint(
                    f"the Elasticsearch HTTP API of ECK cluster '{name}' ({where})",
                    url or f"https://{name}-es-http.{namespace}.svc:9200",
                )
            )
    if scope in ("both", "ece") and (config.get("ece") or {}).get("url"):
        found.append(Endpoint("the ECE API (ece.url)", str(config["ece"]["url"])))
    return found


def problem(endpoint: Endpoint, timeout: float) -> str | None:
    """Why a TCP connection to the endpoint fails from here; None when it opens."""
    host, port = endpoint.host_port
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except socket.gaierror:
        return f"{host} does not resolve here" + (" (an in-cluster address)" if endpoint.in_cluster else "")
    except TimeoutError:
        return f"no answer from {host}:{port} within {timeout:g}s (a private network or a firewall)"
    except ConnectionRefusedError:
        return f"{host}:{port} refused the connection"
    except OSError as error:
        return f"{host}:{port}: {error.strerror or error}"


def annotate(title: str, message: str) -> None:
    """A GitHub Actions error annotation (shown on the run's summary), when running there."""
    if os.environ.get("GITHUB_ACTIONS") == "true":
        escaped = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        print(f"::error title={title}::{escaped}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--stack", help="read the stack's configuration with `pulumi config --json --stack`")
    source.add_argument("--config-json", type=Path, help="a saved `pulumi config --json` output")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per connection attempt (5)")
    args = parser.parse_args(argv)
    label = f"stack '{args.stack}'" if args.stack else str(args.config_json)
    try:
        config = stack_config(args.stack) if args.stack else project_values(json.loads(args.config_json.read_text()))
        wanted = endpoints(config, os.environ)
        failures = []
        for endpoint in wanted:
            why = problem(endpoint, args.timeout)
            if why is None:
                print(f"reachable: {endpoint.what} at {endpoint.url}", flush=True)
            else:
                failures.append(f"  - {endpoint.what} at {endpoint.url}: {why}")
    except (ReachabilityError, OSError, ValueError) as error:
        message = f"cannot check what {label} needs: {error}"
        annotate("Reachability check", message)
        print(f"error: {message}", file=sys.stderr)
        return 2
    if failures:
        message = "\n".join([f"this runner cannot reach what {label} needs:", *failures, REMEDY])
        annotate("Runner cannot reach the stack's endpoints", message)
        print(f"error: {message}", file=sys.stderr)
        return 1
    print(f"every endpoint {label} needs is reachable from this runner ({len(wanted)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
