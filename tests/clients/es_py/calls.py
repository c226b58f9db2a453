"""Drive one Elasticsearch cluster with the official Python client, elasticsearch-py (8.x or 9.x, whichever the
interpreter running this has: tools/client_envs.py builds one environment per major), and print one JSON record
per call on stdout:

    {"call": "security.get_api_key", "args": {...}, "expect": 200, "status": 200, "outcome": "ok",
     "content_type": ..., "product": ..., "warnings": [...], "body": {...}}

`outcome` is "ok" or the client's exception class (`BadRequestError`, `NotFoundError`, ...): an `ApiError` is an
answer, recorded with its `.meta.status` and `.body`. Any other exception (the client could not decode an answer,
refused the product, lost the connection) goes to stderr and the script exits 1. The secrets the cluster hands
out (`api_key`, `encoded`) are never printed (`<key-secret>`, `<key-encoded>`); ids, timestamps and names are
printed as answered, and tests/clients/test_elasticsearch_py.py normalises them (tests/reales/side_by_side.py's
normaliser) before comparing two runs.

    <env>/bin/python calls.py --url https://127.0.0.1:9200 --ca-file ca.crt --proxy-address 127.0.0.1:1   (password in $ES_PASSWORD)

`--scenario negotiation`: two calls only, one without a body and one with; for a client whose major the cluster
does not accept (the 9.x client on 8.19: `compatible-with=9` answered 400 `media_type_header_exception`).

Plain Python on purpose: it runs under the client's own interpreter, without the project's packages."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
import warnings
from collections.abc import Callable
from typing import Any

from elasticsearch import ApiError, Elasticsearch  # type: ignore[import-not-found]

ROLE = "es-py-role"
KEY = "es-py-key"
UNKNOWN_KEY_ID = "esPyUnknownKeyId0000"  # the shape of a key id (20 characters); no cluster has it
ACCESS = {"search": [{"names": ["logs-*", "metrics-*"]}], "replication": [{"names": ["archive-*"]}]}
NEW_ACCESS = {
    "search": [{"names": ["logs-*"], "query": {"term": {"team": "search"}}, "field_security": {"grant": ["*"]}}]
}
SECRETS = {"api_key": "<key-secret>", "encoded": "<key-encoded>"}


def redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: SECRETS[k] if k in SECRETS and isinstance(v, str) else redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(item) for item in value]
    return value


class Calls:
    def __init__(self, client: Any) -> None:
        self.client = client

    def __call__(self, api: str, expect: int, /, **args: Any) -> Any:
        """Call `client.<api>(**args)`, print its record, return the answer's body (None when it failed)."""
        method: Callable[..., Any] = self.client
        for part in api.split("."):
            method = getattr(method, part)
        record: dict[str, Any] = {"call": api, "args": args, "expect": expect}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                answer = method(**args)
            except ApiError as error:  # an answer the client raises: recorded like any other
                meta, body, outcome = error.meta, error.body, type(error).__name__
            else:
                meta, body, outcome = answer.meta, answer.body, "ok"
        record |= {
            "status": meta.status,
            "outcome": outcome,
            "content_type": meta.headers.get("content-type"),
            "product": meta.headers.get("x-elastic-product"),
            "warnings": [str(warning.message) for warning in caught],
            "body": redacted(body),
        }
        print(json.dumps(record), flush=True)
        return body if outcome == "ok" else None


def api_keys(call: Calls) -> None:
    created = call(
        "security.create_cross_cluster_api_key",
        200,
        name=KEY,
        access=ACCESS,
        expiration="1d",
        metadata={"team": "search", "tags": ["a", "b"]},
    )
    key_id = created["id"]
    call("security.get_api_key", 200, id=key_id)
    call("security.update_cross_cluster_api_key", 200, id=key_id, access=NEW_ACCESS, metadata={"team": "logs"})
    call("security.get_api_key", 200, id=key_id)
    call("security.update_cross_cluster_api_key", 200, id=key_id, access=NEW_ACCESS, metadata={"team": "logs"})
    # (no metadata-only update: the client itself requires `access`, ValueError before any request)
    call("security.update_cross_cluster_api_key", 404, id=UNKNOWN_KEY_ID, access=NEW_ACCESS)
    call("security.create_cross_cluster_api_key", 400, name=KEY, access={})
    call("security.create_cross_cluster_api_key", 400, name=f"_{KEY}", access=ACCESS)
    call(
        "security.create_cross_cluster_api_key",
        400,
        name=KEY,
        access={"replication": [{"names": ["a"], "field_security": {"grant": ["f"]}}]},
    )
    call("security.invalidate_api_key", 200, ids=[key_id])
    call("security.get_api_key", 200, id=key_id)
    call("security.update_cross_cluster_api_key", 400, id=key_id, access=ACCESS)  # invalidated
    call("security.invalidate_api_key", 200, ids=[UNKNOWN_KEY_ID])
    call("security.get_api_key", 404, id=UNKNOWN_KEY_ID)


def proxy_settings(call: Calls, alias: str, address: str, server_name: str) -> None:
    prefix = f"cluster.remote.{alias}"
    call("cluster.put_settings", 400, persistent={f"{prefix}.proxy_address": address})  # sniff mode: refused
    call("cluster.put_settings", 400, persistent={f"{prefix}.mode": "proxy", f"{prefix}.proxy_address": "no-port"})
    call("cluster.put_settings", 400, persistent={f"{prefix}.foo": "bar"})
    valid = {
        f"{prefix}.mode": "proxy",
        f"{prefix}.proxy_address": address,
        f"{prefix}.server_name": server_name,
        f"{prefix}.skip_unavailable": False,
        f"{prefix}.proxy_socket_connections": 3,
    }
    call("cluster.put_settings", 200, persistent=valid)
    call("cluster.put_settings", 200, persistent=valid, flat_settings=True)
    call("cluster.get_settings", 200, flat_settings=True)
    call("cluster.get_settings", 200)
    call("cluster.remote_info", 200)
    call("indices.resolve_cluster", 200, name=f"{alias}:*")
    call("indices.resolve_cluster", 403, name="es_py_nobody:*")
    call("cluster.put_settings", 400, persistent={f"{prefix}.proxy_address": None})  # skip_unavailable needs it
    call("cluster.put_settings", 200, persistent={f"{prefix}.*": None})
    call("cluster.get_settings", 200, flat_settings=True)
    call("cluster.remote_info", 200)


def roles(call: Calls, alias: str) -> None:
    role = {
        "cluster": ["monitor"],
        "remote_indices": [{"clusters": [alias], "names": ["logs-*"], "privileges": ["read", "read_cross_cluster"]}],
        "remote_cluster": [{"clusters": [alias], "privileges": ["monitor_enrich"]}],
        "metadata": {"managed_by": "es-py"},
    }
    call("security.put_role", 200, name=ROLE, **role)
    call("security.put_role", 200, name=ROLE, **role)
    call("security.get_role", 200, name=ROLE)
    call(
        "security.put_role",
        400,
        name=ROLE,
        **{**role, "remote_cluster": [{"clusters": [alias], "privileges": ["monitor", "manage"]}]},
    )
    call("security.put_role", 400, name=ROLE, remote_indices=[{"names": ["logs-*"], "privileges": ["read"]}])
    call("security.delete_role", 200, name=ROLE)
    call("security.delete_role", 404, name=ROLE)
    call("security.get_role", 404, name=ROLE)


def negotiation(call: Calls, alias: str) -> None:
    call("cluster.remote_info", 400)
    call("cluster.put_settings", 400, persistent={f"cluster.remote.{alias}.mode": "proxy"})


def clean_up(client: Any, alias: str) -> None:
    """Whatever the calls left (a failure half way): keys invalidated, the role and the remote's settings gone."""
    client = client.options(ignore_status=(400, 404))
    client.security.invalidate_api_key(name=f"{KEY}*")
    client.security.invalidate_api_key(name=f"_{KEY}*")
    client.security.delete_role(name=ROLE)
    client.cluster.put_settings(persistent={f"cluster.remote.{alias}.*": None})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca-file", help="the CA of the cluster's HTTPS certificate")
    parser.add_argument("--alias", default="es_py_remote")
    parser.add_argument("--proxy-address", required=True, help="the remote's proxy_address (nothing need listen)")
    parser.add_argument("--server-name", default="remote-es-remote-cluster.default.svc")
    parser.add_argument("--scenario", choices=("all", "negotiation"), default="all")
    options = parser.parse_args()
    client = Elasticsearch(
        options.url,
        basic_auth=("elastic", os.environ["ES_PASSWORD"]),  # a secret: never in argv
        ca_certs=options.ca_file,
        request_timeout=30,
        max_retries=0,
    )
    call = Calls(client)
    try:
        if options.scenario == "negotiation":
            negotiation(call, options.alias)
        else:
            try:
                api_keys(call)
                proxy_settings(call, options.alias, options.proxy_address, options.server_name)
                roles(call, options.alias)
            finally:
                clean_up(client, options.alias)
    except Exception:  # anything but an API answer: the client failed on what the cluster sent
        traceback.print_exc()
        return 1
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
