"""Every settings key, with its type, default and meaning, in one place: the key registry.

`PROJECT_KEYS` is the tree of keys a stack's config takes. Everything else is derived from it:

- `ACCEPTED`, the keys each level takes, which the parser checks each object it reads against (`reading.known`). A
  level is written as its path with `[]` for a list item and `<name>` for a map keyed by a cluster name: `""` is the
  top level (the project config keys), `eckClusters[].nodeSets[]` an item of a cluster's `nodeSets`. Free-form
  objects (`config`, `podTemplate`, `annotations`, `metadata`) and the objects Elasticsearch's own rules check
  (`access`, the role bodies) are not levels;
- `schema.py` renders the tree as `Pulumi.yaml`'s config block, the README's configuration table and the JSON Schema
  of the stack files (`stacks/config.schema.json`); `tests/unit/test_config_docs.py` holds all of them, and the
  parser, to this tree.

To add a key: add it here with its type and meaning, read it in the parser, then run `python -m
components.settings.schema --write` to regenerate `Pulumi.yaml`, the README table and the JSON Schema.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

TYPES = frozenset({"string", "integer", "boolean", "object", "array", "map"})


@dataclass(frozen=True)
class Key:
    """One config key. `type` is one of `TYPES`, or two joined by `|` when either is taken (`string|array`)."""

    name: str
    type: str
    doc: str
    """What it means, in Markdown: one row of the README table (the default is added from `default`)."""
    items: str | None = None
    """`array` and `map`: the type of an item (`string`, `object`; None for any)."""
    fields: tuple[Key, ...] = ()
    """`object`, or `array`/`map` of objects: the keys an object takes."""
    choices: tuple[str, ...] = ()
    default: Any = None
    """The default as it would be written in the config; None when there is none (or it is derived: see `doc`)."""
    secret: bool = False
    """Set with `pulumi config set --secret`; never shown in messages."""
    checked: bool = True
    """False: `fields` document an object that Elasticsearch's own rules check (`access`), not a level of the parser."""
    required: bool = False

    def __post_init__(self) -> None:
        assert set(self.type.split("|")) <= TYPES, self.type

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(self.type.split("|"))

    @property
    def is_level(self) -> bool:
        """The parser checks this object's keys (or its items' keys) against `fields`."""
        return bool(self.fields) and self.checked


def string(name: str, doc: str, **options: Any) -> Key:
    return Key(name, "string", doc, **options)


def integer(name: str, doc: str, **options: Any) -> Key:
    return Key(name, "integer", doc, **options)


def boolean(name: str, doc: str, **options: Any) -> Key:
    return Key(name, "boolean", doc, **options)


def obj(name: str, doc: str, *fields: Key, **options: Any) -> Key:
    return Key(name, "object", doc, fields=fields, **options)


def objects(name: str, doc: str, *fields: Key, **options: Any) -> Key:
    """A list of objects with `fields`."""
    return Key(name, "array", doc, items="object", fields=fields, **options)


def strings(name: str, doc: str, **options: Any) -> Key:
    return Key(name, "array", doc, items="string", **options)


ROLE_FIELDS: Mapping[str, str] = {
    "cluster": "cluster",
    "indices": "indices",
    "remoteIndices": "remote_indices",
    "remoteCluster": "remote_cluster",
    "description": "description",
    "metadata": "metadata",
}
"""A link's role keys in config (camelCase) and the role API fields they become."""

PEM_FILE = "a path relative to the project"

NODE_SET = objects(
    "nodeSets",
    "the cluster's nodeSets: at least one, with one master-eligible set of count > 0 (ECK's rule)",
    string(
        "name",
        "1 to 23 lowercase letters, digits and `-`, starting and ending with a letter or digit. ECK's CRD pattern is "
        "`[a-zA-Z0-9-]`, but the name becomes part of the StatefulSet `<cluster>-es-<nodeSet>` and its Pods' names, "
        "which Kubernetes and ECK's webhook hold to DNS-1123 labels; with `-<ordinal>` and a 10-character revision "
        "hash that name must fit in 63 characters",
        required=True,
    ),
    integer("count", "number of nodes (0 or more)", default=1),
    obj("config", "Elasticsearch settings of the nodeSet, as in ECK (`node.roles`, ...)"),
    obj("podTemplate", "the Pods' template, as in ECK"),
)

REMOTE_CLUSTER_SERVER = obj(
    "remoteClusterServer",
    "how the remote cluster server (9443, or 9300 in the certificate model) is reached from outside",
    string(
        "exposure",
        "`auto`: `operator-service` from ECK 3.3, else `own-service`; `operator-service`: ECK's own Service made a "
        "LoadBalancer; `own-service`: this stack's LoadBalancer Service `<name>-es-remote-cluster-lb`; `external`: "
        "the address is given (an Ingress with TCP, a DNS name, a proxy)",
        choices=("auto", "operator-service", "own-service", "external"),
        default="auto",
    ),
    integer(
        "port",
        "the LoadBalancer's port (9443, 9300 in the certificate model; 1 to 65535); targetPort is always the node's "
        "9443 or 9300",
    ),
    Key("annotations", "map", "annotations of the LoadBalancer Service", items="string"),
    strings("loadBalancerSourceRanges", "CIDRs allowed to connect to the LoadBalancer"),
    string("loadBalancerClass", "the LoadBalancer's class"),
    string(
        "address",
        "`host[:port]` clients use, IPv6 in brackets; required for `external`, overrides the LoadBalancer's status "
        "otherwise",
    ),
)

TRANSPORT_CA = obj(
    "transportCa",
    "the CA the ECE side trusts for the remote",
    string(
        "source",
        "`eck-managed`: the operator's transport CA; `user-managed`: a CA given here, with its key in "
        "`secrets.eckClusters.<name>.transportCaKey`, that ECK uses; `supplied`: the CA of a TLS-terminating front; "
        "`none`: a publicly trusted certificate",
        choices=("eck-managed", "user-managed", "supplied", "none"),
        default="eck-managed",
    ),
    string("certificate", "the CA certificate (PEM), for `user-managed` and `supplied`"),
    string("certificateFile", f"the CA certificate as a file, {PEM_FILE}"),
)

HTTP = obj(
    "http",
    "where the program reaches the cluster's Elasticsearch API, to make the cross-cluster API key",
    string("url", "`https://<name>-es-http.<namespace>.svc:9200` by default"),
    string("caCertificate", "the API's CA (PEM); the operator's by default"),
    string("caCertificateFile", f"the API's CA as a file, {PEM_FILE}"),
    boolean("insecureSkipVerify", "skip verifying the API's certificate", default=False),
)

ECK_CLUSTER = objects(
    "eckClusters",
    "ECK clusters used as remotes",
    string(
        "name",
        "1 to 36 characters, lowercase letters, digits and `-`, starting with a letter (ECK's limit); unique in a stack",
        required=True,
    ),
    string("namespace", "a Kubernetes namespace", default="default"),
    string("version", "the Elasticsearch version, like `9.3.2` (8.14 or later for the API-key model)", required=True),
    string("operatorVersion", "the ECK version installed (2.16 to 3.x)", default="3.5.0"),
    string(
        "securityModel",
        "`api-key`: cross-cluster API keys on port 9443; `certificate`: the TLS-certificate model on port 9300 "
        "(deprecated in Elasticsearch 9.0)",
        choices=("api-key", "certificate"),
        default="api-key",
    ),
    NODE_SET,
    REMOTE_CLUSTER_SERVER,
    TRANSPORT_CA,
    string(
        "serverName",
        "TLS server name: `<name>-es-remote-cluster.<namespace>.svc` by default, `<name>-es-transport.<namespace>.svc` "
        'in the certificate model; `""` for none',
    ),
    HTTP,
    integer("waitTimeoutSeconds", "bound on waiting for the operator (1 to 86400)", default=900),
    boolean(
        "managed",
        "`true`: this stack owns the `Elasticsearch` resource; `false`: someone else does, and the program only reads "
        "it (no `nodeSets`, no `protect` or `retainOnDelete`, API-key model, no `user-managed` CA, not in render "
        "mode; see below)",
        default=True,
    ),
    boolean(
        "protect",
        "Pulumi's `protect` on the `Elasticsearch` resource and the objects it references or mounts (see below)",
        default=True,
    ),
    boolean("retainOnDelete", "Pulumi's `retainOnDelete` on the same objects (see below)", default=False),
)

ECE = obj(
    "ece",
    "the ECE API, needed when links attach to ECE deployments; its credentials are in `secrets.ece`",
    string("url", "the API's URL, like `https://ece.example.com:12443`", required=True),
    string(
        "region",
        "only for the routes ECE serves per region (platform, stack, clusters); every route this program uses is a "
        "global `/deployments` route, as in cloud-sdk-go, so it changes no URL",
    ),
    string("caCertificate", "the API's CA (PEM)"),
    string("caCertificateFile", f"the API's CA as a file, {PEM_FILE}"),
    boolean("insecureSkipVerify", "skip verifying the API's certificate", default=False),
    integer("planTimeoutSeconds", "bound on waiting for a deployment's plan (1 to 86400)", default=900),
)

ECE_DEPLOYMENT = objects(
    "eceDeployments",
    "ECE deployments links attach to",
    string("name", "how links refer to it: 1 to 40 lowercase letters, digits and `-`; the `id` by default"),
    string("id", "the deployment's id, 32 lowercase hexadecimal characters", required=True),
    string("refId", "the `ref_id` of its Elasticsearch resource", default="_main"),
)

ACCESS_NAMES = Key("names", "string|array", "index patterns", items="string", required=True)
ACCESS_RESTRICTED = boolean("allow_restricted_indices", "as in Elasticsearch", default=False)

ACCESS = obj(
    "access",
    "the cross-cluster API key's access, as Elasticsearch takes it (required in the API-key model); changed in place",
    objects(
        "search",
        "indices the local cluster may search",
        ACCESS_NAMES,
        obj("field_security", "`grant` and `except` field lists"),
        Key("query", "string|object", "a document-level security query"),
        ACCESS_RESTRICTED,
    ),
    objects("replication", "indices the local cluster may replicate", ACCESS_NAMES, ACCESS_RESTRICTED),
    checked=False,
)

ROLE = objects(
    "roles",
    "roles on the ECE deployment, with the fields of the role API in camelCase; `clusters` in `remoteIndices` and "
    "`remoteCluster` default to the alias",
    string("name", "the role's name: 1 to 507 letters, digits and `_ . @ -`", required=True),
    strings("cluster", "cluster privileges"),
    objects("indices", "index privileges, as in the role API"),
    objects("remoteIndices", "`remote_indices` of the role API"),
    objects("remoteCluster", "`remote_cluster` of the role API (`monitor_enrich`, `monitor_stats`)"),
    string("description", "the role's description"),
    obj("metadata", "the role's metadata"),
)

ADOPT = obj(
    "adopt",
    'take over a link set up by hand on the first `up` (see "Taking over a link set up by hand"); names at least '
    "one of its keys",
    string("trustEntry", "the name of the deployment's direct trust entry that holds the remote's CA"),
    string(
        "apiKeyId",
        "the id of the cross-cluster API key (its `encoded` value must already be in the keystore as "
        "`cluster.remote.<alias>.credentials`)",
    ),
    string("alias", "the alias whose remote cluster settings are taken over: must be the link's `alias`"),
)

LINK = objects(
    "links",
    "remote connections, each an alias on an ECE deployment pointing at an ECK cluster",
    string("alias", "lowercase letters, digits, `-`, `_`; the same in keystore and settings", required=True),
    string("eckCluster", "one of `eckClusters[].name` (scope `ece`: the remote stack's cluster)", required=True),
    string("eceDeployment", "one of `eceDeployments[].name` (not in scope `eck`)"),
    ACCESS,
    string(
        "expiration",
        "a duration like `90d`, `12h` or `30m`. No default: without it the key never expires, as in Elasticsearch. "
        "A changed value moves the expiry to now + the duration",
    ),
    obj("metadata", "the key's metadata (no keys starting with `_`)"),
    string(
        "certificateIdentity", "a regular expression for the certificate the remote presents (ES ≥ 9.3 on the remote)"
    ),
    string("rotation", "a token: change it to rotate the key"),
    integer(
        "proxySocketConnections",
        "`cluster.remote.<alias>.proxy_socket_connections` (1 to 1024); unset, Elasticsearch's default",
    ),
    boolean("skipUnavailable", "`cluster.remote.<alias>.skip_unavailable`; unset, Elasticsearch's default"),
    ROLE,
    integer("connectionTimeoutSeconds", "bound on waiting for `connected` (1 to 3600)", default=300),
    boolean(
        "trustRemoteCa",
        "scope `ece` only (elsewhere the ECK cluster's `transportCa.source` decides): `true` adds the CA the ECK "
        "stack exports to the deployment's trust; `false` when that stack's `transportCa.source` is `none` (a "
        "publicly trusted certificate): no trust entry",
        default=True,
    ),
    ADOPT,
)

SECRETS = obj(
    "secrets",
    "secret material, each value set with `pulumi config set --secret --path`, like "
    "`pulumi config set --secret --path 'secrets.ece.apiKey' <key>`",
    obj(
        "ece",
        "ECE credentials: `apiKey`, or `username` and `password`; without them, `ECE_API_KEY`, or `ECE_USERNAME` and "
        "`ECE_PASSWORD`, in the environment",
        string("apiKey", "an ECE API key", secret=True),
        string("username", "an ECE user"),
        string("password", "the user's password", secret=True),
    ),
    Key(
        "eckClusters",
        "map",
        "per ECK cluster, by its `name`",
        items="object",
        fields=(
            string("transportCaKey", "the `user-managed` CA's private key (PEM)", secret=True),
            string(
                "elasticPassword",
                "render mode only: the `elastic` password the rendered Secret carries (at least 6 characters)",
                secret=True,
            ),
        ),
    ),
)

PROJECT_KEYS: tuple[Key, ...] = (
    string(
        "scope",
        "which sides this stack owns: `both`; `eck`, the ECK side only (it exports `linkEnds` and the secret "
        "`linkKeys`); `ece`, the ECE side only (it reads them from `remoteStack`)",
        choices=("both", "eck", "ece"),
        default="both",
    ),
    string("remoteStack", "scope `ece` only: the ECK stack, `org/project/stack`, like `acme/ece-eck-remote/eck-prod`"),
    obj(
        "kubernetes",
        "where the Kubernetes side goes",
        string("context", "a context of the ambient kubeconfig (its current context by default)"),
        string(
            "renderYamlToDirectory",
            "only write the manifests to this directory, without a cluster (then CA, address and password must be "
            "given)",
        ),
    ),
    ECK_CLUSTER,
    ECE,
    ECE_DEPLOYMENT,
    LINK,
    SECRETS,
)


def _join(path: str, key: Key) -> str:
    full = f"{path}.{key.name}" if path else key.name
    if key.type == "array" and key.fields:
        return full + "[]"
    if key.type == "map" and key.fields:
        return full + ".<name>"
    return full


def walk(keys: tuple[Key, ...] = PROJECT_KEYS, path: str = "") -> Iterator[tuple[str, Key]]:
    """Every key with its full path (`eckClusters[].nodeSets[].name`), parents before their fields."""
    for key in keys:
        full = _join(path, key)
        yield full, key
        yield from walk(key.fields, full)


def _levels(keys: tuple[Key, ...] = PROJECT_KEYS, path: str = "") -> dict[str, frozenset[str]]:
    """The levels of the parser: objects with fields, not inside an object that Elasticsearch's rules check."""
    levels = {path: frozenset(key.name for key in keys)}
    for key in keys:
        if key.is_level:
            levels.update(_levels(key.fields, _join(path, key)))
    return levels


ACCEPTED: Mapping[str, frozenset[str]] = _levels()
"""The keys each level accepts; anything else is refused, naming these."""

KEYS: Mapping[str, Key] = dict(walk())
"""Every key by its full path."""


def _parser_keys(keys: tuple[Key, ...] = PROJECT_KEYS, path: str = "") -> Iterator[tuple[str, Key]]:
    """The keys the parser checks by name: those of its levels."""
    for key in keys:
        full = _join(path, key)
        yield full, key
        if key.is_level:
            yield from _parser_keys(key.fields, full)


def accepted_paths() -> Iterator[str]:
    """Every accepted key as a full path, leaves and the objects and lists that hold them (`eckClusters[]`)."""
    for path, _key in _parser_keys():
        yield path


def leaf_paths() -> Iterator[str]:
    """The accepted keys that hold values rather than further levels."""
    for path, key in _parser_keys():
        if not key.is_level:
            yield path
