"""The cross-cluster API key of one link, on the remote (ECK) cluster, as two resources:

- `CrossClusterApiKey`, the key itself: created with a deterministic name and the link's access, replaced on a name
  change or a new rotation token (Pulumi creates the new key, updates what uses it, then deletes, that is
  invalidates, the old one). Its `encoded` value (base64 of `id:api_key`) exists only in the create response, so it
  is kept in state as a secret.
- `CrossClusterApiKeyAccess`, what the key grants: access, metadata, expiration and certificate identity, changed in
  place with `PUT /_security/cross_cluster/api_key/{id}`, which keeps the encoded key.

Why two: a dynamic resource's outputs are unknown in a preview of its update, so one resource would make every
consumer of `encoded` (the keystore, the connection check) look changed whenever the access changes. Split, an
access change previews as exactly one update. The metadata of the key always carries the managed-by marker, the
access hash and the rotation token.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from .. import names
from ..dynamic import (
    AdoptionError,
    ConfiguredProvider,
    changed_keys,
    credentials_change_touches_nothing,
    credentials_input,
    is_unknown,
    require,
    stable_hash,
)
from ..http import ApiError, RetryableError, UnreachableError
from ..polling import WaitTimeoutError, wait_for
from .access import access_hash, canonical, check_access
from .client import ElasticsearchApiError, ElasticsearchCaller, caller, check_target

T = TypeVar("T")


GRANTS = ("access", "expiration", "metadata", "certificate_identity")
KEY_INPUTS = ("target", "credentials", "name", "rotation", "ready_timeout_seconds", *GRANTS)
ACCESS_INPUTS = ("target", "credentials", "key_id", "rotation", *GRANTS)
ATTEMPT = "create_attempt"
"""Metadata key of the random id of the create attempt that made a key (only in the create body, never compared)."""
RESERVED_METADATA = ("managed_by", "access_hash", "rotation", ATTEMPT)
CLEANUP_MARGIN_MS = 1000
"""How much older than the attempt's start a leftover key must be to be invalidated: covers the clocks of different
nodes of the remote cluster and the rate of the local monotonic clock against theirs."""


def _metadata(props: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **(props.get("metadata") or {}),
        "managed_by": names.MANAGED_BY,
        "access_hash": access_hash(props["access"]),
        "rotation": props.get("rotation") or "",
    }


# `certificate_identity` against the Elasticsearch version (read in elastic/elasticsearch's compiled classes from Maven
# Central: 8.19.21, 9.1.3 and 9.5.3, the 9.x nearest above 9.3 published there; the sources are the same paths):
# - Before 9.3 the field does not exist. x-pack/plugin/security/.../rest/action/apikey/RestCreateCrossClusterApiKeyAction
#   (parser "cross_cluster_api_key_request") and RestUpdateCrossClusterApiKeyAction (parser
#   "update_cross_cluster_api_key_request_payload") declare only name/access/expiration/metadata, and their
#   ConstructingObjectParser refuses any other field, a null one included: 400 x_content_parse_exception
#   "[<parser>] unknown field [certificate_identity]" (a real 8.19.21 node answers exactly that). So the field is
#   sent only when the program sets it, or as null to clear one that the key has (possible on 9.3+ only).
# - 9.3+: create declares it ValueType.STRING (a null is refused: "certificate_identity doesn't support values of
#   type: VALUE_NULL"); update declares it STRING_OR_NULL and turns a null into `new CertificateIdentity(null)`.
#   x-pack/plugin/security/.../authc/ApiKeyService#maybeBuildUpdatedDocument keeps the stored identity when the
#   field is absent, writes none (clears it) for an explicit null, and writes a new string as given; #isNoop counts
#   the field only when its value differs from the stored one. x-pack/plugin/core/.../apikey/
#   UpdateCrossClusterApiKeyRequest#validate accepts an update of the identity alone ("must update [access],
#   [metadata], or [certificate_identity] for cross-cluster API keys").
def _grants(props: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"access": canonical(props["access"]), "metadata": _metadata(props)}
    if props.get("expiration"):
        body["expiration"] = props["expiration"]
    if props.get("certificate_identity"):
        body["certificate_identity"] = props["certificate_identity"]
    return body


def grants_hash(props: Mapping[str, Any]) -> str:
    """Identifies the grants a key was created or last updated with."""
    return stable_hash(_grants(props))


def get_key(es: ElasticsearchCaller, key_id: str) -> dict[str, Any] | None:
    response = es.request(f"get API key {key_id}", "GET", "_security/api_key", params={"id": key_id}, ok=(200, 404))
    keys = response.json().get("api_keys") or []
    return dict(keys[0]) if keys else None


def invalidate(es: ElasticsearchCaller, key_ids: list[str]) -> None:
    if not key_ids:
        return
    what = f"invalidate API keys {', '.join(key_ids)}"
    body = es.request(what, "DELETE", "_security/api_key", json={"ids": key_ids}).json()
    if body.get("error_count"):
        reasons = "; ".join(str(d.get("reason")) for d in body.get("error_details") or [])
        raise ElasticsearchApiError(what, 200, "error_details", reasons)


def _ours(es: ElasticsearchCaller, name: str, rotation: str) -> list[dict[str, Any]]:
    """Active keys this link made under this name and rotation token: normally none or one."""
    response = es.request(
        f"find API keys named {name}",
        "GET",
        "_security/api_key",
        params={"name": name, "active_only": "true"},
        ok=(200, 404),
    )
    return [
        key
        for key in response.json().get("api_keys") or []
        if key.get("name") == name
        and not key.get("invalidated")
        and (key.get("metadata") or {}).get("managed_by") == names.MANAGED_BY
        and (key.get("metadata") or {}).get("rotation", "") == rotation
    ]


def _attempt(key: Mapping[str, Any]) -> Any:
    return (key.get("metadata") or {}).get(ATTEMPT)


def _clean_up_older(
    es: ElasticsearchCaller, name: str, rotation: str, *, key_id: str, attempt: str, since_start: float
) -> None:
    """Invalidate the keys of ours, other than `key_id`, created before this attempt started.

    "Before" is decided on the remote's clock, which stamped every key's `creation` (epoch ms): the new key's own
    `creation` was stamped before its create answered, `since_start` seconds after the attempt started (local
    monotonic clock), so the attempt started no earlier, on the remote's clock, than `creation - since_start`. Only
    keys created strictly before that, less `CLEANUP_MARGIN_MS`, are left from an earlier attempt; a key made by a
    run that started after this one (a new `up` while this process was left waiting) is never touched, whatever
    the timing. Without the new key's `creation` nothing is invalidated.
    """
    found = _ours(es, name, rotation)
    own = next((key for key in found if key.get("id") == key_id), None) or get_key(es, key_id)
    creation = (own or {}).get("creation")
    if not isinstance(creation, int):
        return
    cutoff = creation - int(since_start * 1000) - 1 - CLEANUP_MARGIN_MS
    older = [
        key["id"]
        for key in found
        if key.get("id") != key_id
        and _attempt(key) != attempt
        and isinstance(key.get("creation"), int)
        and key["creation"] < cutoff
    ]
    invalidate(es, older)


# The licence. Cross-cluster API keys are the Elasticsearch feature "advanced-remote-cluster-security"
# (x-pack/plugin/security/.../Security.java: `LicensedFeature.momentary(null, "advanced-remote-cluster-security",
# License.OperationMode.ENTERPRISE)`). A momentary feature needs an active licence (x-pack/plugin/core/.../license/
# LicensedFeature.java: `momentary(...)` passes `needsActive = true`), and XPackLicenseState#isAllowedByOperationMode
# lets a trial through and otherwise needs a mode >= ENTERPRISE (License.OperationMode: MISSING, BASIC, STANDARD,
# GOLD, PLATINUM, ENTERPRISE, TRIAL; the type names map to them in License.LicenseType#resolve, "platinum",
# "cloud_internal" and "internal" being PLATINUM). RestCreateCrossClusterApiKeyAction and
# RestUpdateCrossClusterApiKeyAction refuse anything else, before reading the request, with LicenseUtils#
# newComplianceException: 403 security_exception "current license is non-compliant for
# [advanced-remote-cluster-security]" (elastic/elasticsearch#96307; a real 8.19.21 node on a basic licence answers
# exactly that). ECK starts a cluster on a basic licence: the licence is read once before a create, so the cause
# and the remedy are named instead of that 403.
LICENCE_FEATURE = "advanced-remote-cluster-security"
LICENCED_TYPES = ("trial", "enterprise")
LICENCE_REMEDY = (
    "cross-cluster API keys need an active Enterprise or trial licence on the remote cluster (Elasticsearch feature "
    f"[{LICENCE_FEATURE}]). Start a trial there (POST _license/start_trial?acknowledge=true) or install an "
    "Enterprise licence (with ECK: the operator's enterprise licence Secret), then run this again"
)


class LicenceError(ElasticsearchApiError):
    """The remote cluster's licence does not allow cross-cluster API keys: seen in `GET _license`, or told by a 403."""

    def __init__(self, operation: str, status: int | None, detail: str) -> None:
        super().__init__(operation, status, "security_exception" if status else None, detail)
        Exception.__init__(self, f"{self.api} {operation} failed: {detail}")


def _read_licence(es: ElasticsearchCaller) -> dict[str, Any] | None:
    """`GET _license`'s licence; None when this caller may not read it (it needs `monitor`), which leaves the
    answer to the create itself."""
    response = es.request("read the licence", "GET", "_license", ok=(200, 403, 404))
    found = response.json().get("license") if response.status_code == 200 else None
    return dict(found) if isinstance(found, Mapping) else None


def licence_problem(description: str, licence: Mapping[str, Any] | None) -> str | None:
    """Why this licence refuses cross-cluster API keys, naming the cluster and the remedy; None when it allows them
    (or is unknown)."""
    if licence is None:
        return None
    kind, status = str(licence.get("type") or "unknown"), str(licence.get("status") or "unknown")
    if kind in LICENCED_TYPES and status == "active":
        return None
    return f"{description} has a{'n' if kind[:1] in 'aeiou' else ''} {kind} licence ({status}): {LICENCE_REMEDY}"


def _unlicensed(operation: str, description: str, error: ElasticsearchApiError) -> ElasticsearchApiError:
    """Elasticsearch's 403 for the licence (should it change after the check), with the same advice."""
    if error.status == 403 and LICENCE_FEATURE in (error.detail or ""):
        return LicenceError(operation, 403, f"{description} refused it ({error.detail}): {LICENCE_REMEDY}")
    return error


AUTH_SETTLING_SECONDS = 60.0


def _when_ready(es: ElasticsearchCaller, probe: Callable[[], T], timeout: float) -> T:
    """Run `probe` until the API answers it. No connection and 5xx mean not ready; so does 401 for a minute (the
    file realm a new cluster reloads), after which a wrong password is reported rather than waited on. A host name
    that does not resolve is reported at once: the operator's HTTP Service exists before the Secrets awaited earlier
    (`EckOperatorOutputs`), so the name will not start resolving; a refused connection is what a starting cluster's
    Service answers until a pod is ready, and is waited on."""
    last: list[str] = ["no answer yet"]
    started = time.monotonic()

    def attempt() -> list[T] | None:
        try:
            return [probe()]
        except ApiError as error:
            settling = error.status == 401 and time.monotonic() - started < AUTH_SETTLING_SECONDS
            if isinstance(error, UnreachableError) and error.unresolved:
                raise
            if error.status is None or settling or (error.status is not None and error.status >= 500):
                last[0] = str(error)
                return None
            raise

    try:
        what = f"the Elasticsearch API of {es.description} to answer"
        return wait_for(attempt, timeout=timeout, describe=lambda: last[0], what=what, max_interval=2.0)[0]
    except WaitTimeoutError as error:
        raise ElasticsearchApiError(
            "wait for the remote cluster's Elasticsearch API", None, None, f"{es.description} is not ready: {error}"
        ) from None


def _check_grants(news: dict[str, Any]) -> tuple[dict[str, Any], list[CheckFailure]]:
    failures: list[CheckFailure] = []
    access = news.get("access")
    if access is not None and not is_unknown(access):
        failures += check_access(access)
        news = {**news, "access": canonical(access)}
    metadata = news.get("metadata") or {}
    if not is_unknown(metadata):
        bad = [key for key in metadata if str(key).startswith("_") or key in RESERVED_METADATA]
        if bad:
            reason = f"metadata keys may not start with '_' or be one of ours: {', '.join(bad)}"
            failures.append(CheckFailure("metadata", reason))
    return news, failures


class CrossClusterApiKeyProvider(ConfiguredProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        news, failures = _check_grants(news)
        failures += check_target(news) + require(news, ("name", "access"))
        name = news.get("name")
        if (
            isinstance(name, str)
            and not is_unknown(name)
            and (name.startswith("_") or name != name.strip() or len(name) > 256)
        ):
            reason = "an API key name must not start with '_', have surrounding spaces or exceed 256 characters"
            failures.append(CheckFailure("name", reason))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Only identity changes matter here: grants belong to `CrossClusterApiKeyAccess`."""
        replaces = changed_keys(olds, news, ("name", "rotation"))
        updates = changed_keys(olds, news, ("target", "credentials"))
        return DiffResult(changes=bool(replaces or updates), replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Wait for the remote, create the key (tagged with a random attempt id), then invalidate the keys of ours
        (same name and rotation token) that a lost earlier attempt left: only those created before this attempt
        started (see `_clean_up_older`), so never a key that a newer run made, nor the one this run made."""
        if props.get("adopt_key_id"):
            return self._adopt(props)
        started = time.monotonic()
        attempt = secrets.token_hex(12)
        es = caller(props["target"], props["credentials"])
        hidden = (str(props["credentials"].get("password") or ""),)
        grants = _grants(props)
        body = {"name": props["name"], **grants, "metadata": {**grants["metadata"], ATTEMPT: attempt}}
        operation = f"create cross-cluster API key {props['name']}"
        rotation = props.get("rotation") or ""
        # The licence first: reading it is also the wait for the remote's API, which on a new cluster answers only
        # once its pods are up.
        licence = _when_ready(es, lambda: _read_licence(es), float(props.get("ready_timeout_seconds") or 600))
        problem = licence_problem(es.description, licence)
        if problem is not None:
            raise LicenceError(operation, None, problem)

        def post() -> tuple[dict[str, Any], float]:
            try:
                answer = es.request(operation, "POST", "_security/cross_cluster/api_key", json=body, secrets=hidden)
            except ElasticsearchApiError as error:
                raise _unlicensed(operation, es.description, error) from None
            return dict(answer.json()), time.monotonic()

        try:
            created, answered = post()
        except RetryableError:
            # The key may exist without us knowing its secret part: invalidate what this very attempt made (its
            # attempt id says so), then retry.
            invalidate(es, [key["id"] for key in _ours(es, props["name"], rotation) if _attempt(key) == attempt])
            created, answered = post()
        key_id, encoded = created["id"], created["encoded"]
        _clean_up_older(es, props["name"], rotation, key_id=key_id, attempt=attempt, since_start=answered - started)
        key_id, encoded = created["id"], created["encoded"]
        outputs = {
            "key_id": key_id,
            "encoded": encoded,
            "grants_hash": grants_hash(props),
            "expires_at": created.get("expiration"),
        }
        return CreateResult(key_id, {**{k: props.get(k) for k in KEY_INPUTS}, **outputs})

    @staticmethod
    def _adopt(props: dict[str, Any]) -> CreateResult:
        """Take over a key made by hand: read only. Its grants are set by `CrossClusterApiKeyAccess` (an empty
        `grants_hash` makes it compare them); its `encoded` value exists only in the answer that created it, so it is
        unknown here ("") and the keystore entry made by hand is kept until a rotation makes a key of ours."""
        key_id = str(props["adopt_key_id"])
        live = get_key(caller(props["target"], props["credentials"]), key_id)
        if live is None or live.get("invalidated"):
            raise AdoptionError(f"adopt.apiKeyId '{key_id}': no valid API key of that id on the remote cluster")
        if live.get("type") not in (None, "cross_cluster"):
            raise AdoptionError(f"adopt.apiKeyId '{key_id}': key '{live.get('name')}' is a {live['type']} key")
        owner = (live.get("metadata") or {}).get("managed_by")
        if owner == names.MANAGED_BY and live.get("name") != props["name"]:
            raise AdoptionError(
                f"adopt.apiKeyId '{key_id}': the key belongs to another link of this program ('{live.get('name')}')"
            )
        outputs = {
            "key_id": key_id,
            "encoded": "",
            "grants_hash": "",
            "expires_at": live.get("expiration"),
            "adopted_name": live.get("name"),
        }
        return CreateResult(key_id, {**{k: props.get(k) for k in KEY_INPUTS}, **outputs})

    @credentials_change_touches_nothing(KEY_INPUTS)
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        kept = {k: olds.get(k) for k in ("encoded", "grants_hash", "expires_at", "adopted_name")}
        return UpdateResult({**{k: news.get(k) for k in KEY_INPUTS}, "key_id": id_, **kept})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        live = get_key(caller(props["target"], props["credentials"]), id_)
        if live is None or live.get("invalidated"):
            return ReadResult("", {})
        adopted = props.get("adopted_name")
        inputs = {
            **{key: props.get(key) for key in KEY_INPUTS},
            # an adopted key keeps the name it was made with: that is not a drift
            "name": props.get("name") if adopted and live.get("name") == adopted else live.get("name"),
            "rotation": (live.get("metadata") or {}).get("rotation") or props.get("rotation"),
        }
        if inputs.get("access") is None:  # import: take the grants it has
            inputs["access"] = canonical(live.get("access"))
        kept = {k: props.get(k) for k in ("encoded", "grants_hash", "adopted_name")}
        return ReadResult(id_, {**inputs, "key_id": id_, **kept, "expires_at": live.get("expiration")}, inputs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        invalidate(caller(props["target"], props["credentials"]), [id_])


class CrossClusterApiKey(Resource, module="eceeck", name="CrossClusterApiKey"):
    """A cross-cluster API key on the remote cluster; `encoded` is what the local keystore needs (secret)."""

    key_id: pulumi.Output[str]
    encoded: pulumi.Output[str]
    grants_hash: pulumi.Output[str]
    expires_at: pulumi.Output[int | None]

    def __init__(
        self,
        name: str,
        *,
        target: pulumi.Input[Mapping[str, Any]],
        credentials: pulumi.Input[Mapping[str, Any]],
        key_name: pulumi.Input[str],
        access: pulumi.Input[Mapping[str, Any]],
        expiration: pulumi.Input[str] | None = None,
        metadata: pulumi.Input[Mapping[str, Any]] | None = None,
        certificate_identity: pulumi.Input[str] | None = None,
        rotation: pulumi.Input[str] | None = None,
        ready_timeout_seconds: int = 600,
        adopt_key_id: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`ready_timeout_seconds`: how long a create waits for the remote's API (a new cluster's pods starting).
        `adopt_key_id`: a key made by hand that the create takes over instead of making one."""
        props = {
            "target": target,
            "credentials": credentials_input(credentials),
            "adopt_key_id": adopt_key_id,
            "name": key_name,
            "ready_timeout_seconds": ready_timeout_seconds,
            "rotation": rotation,
            "access": access,
            "expiration": expiration,
            "metadata": metadata,
            "certificate_identity": certificate_identity,
            "key_id": None,
            "encoded": None,
            "grants_hash": None,
            "expires_at": None,
            "adopted_name": None,
        }
        secret = pulumi.ResourceOptions(additional_secret_outputs=["encoded"])
        super().__init__(CrossClusterApiKeyProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret))


def _grants_match(live: Mapping[str, Any], props: Mapping[str, Any]) -> bool:
    """Whether the live key already grants what is declared, our metadata markers included."""
    live_metadata = {k: v for k, v in (live.get("metadata") or {}).items() if k != ATTEMPT}
    return (
        live_metadata == _metadata(props)
        and canonical(live.get("access")) == canonical(props["access"])
        and live.get("certificate_identity") == props.get("certificate_identity")
    )


def _live_grants(live: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
    metadata = {k: v for k, v in (live.get("metadata") or {}).items() if k not in RESERVED_METADATA}
    return {
        "access": canonical(live.get("access")),
        "metadata": metadata or props.get("metadata"),
        "certificate_identity": live.get("certificate_identity"),
        "expiration": props.get("expiration"),
    }


class CrossClusterApiKeyAccessProvider(ConfiguredProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        news, failures = _check_grants(news)
        return CheckResult(news, failures + check_target(news) + require(news, ("key_id", "access")))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = changed_keys(olds, news, ACCESS_INPUTS)
        replaces = [key for key in changes if key == "key_id"]
        return DiffResult(changes=bool(changes), replaces=replaces, delete_before_replace=False)

    @staticmethod
    def _outputs(props: Mapping[str, Any], expires_at: Any) -> dict[str, Any]:
        return {
            **{k: props.get(k) for k in ACCESS_INPUTS},
            "access_hash": access_hash(props["access"]),
            "expires_at": expires_at,
        }

    @staticmethod
    def _send(
        es: ElasticsearchCaller, props: Mapping[str, Any], *, identity_before: Any, send_expiration: bool
    ) -> bool:
        """One PUT; Elasticsearch itself answers for a key that is gone or invalidated (404/400, named). Returns
        whether `expiration` was sent, that is whether the key's absolute expiry moved (to now + expiration)."""
        key_id = props["key_id"]
        body = _grants(props)
        if not send_expiration:
            body.pop("expiration", None)
        if identity_before and not props.get("certificate_identity"):
            body["certificate_identity"] = None  # 9.3+ clears it (see the note above `_grants`)
        operation = f"update cross-cluster API key {key_id}"
        try:
            es.request(operation, "PUT", f"_security/cross_cluster/api_key/{key_id}", json=body)
        except ElasticsearchApiError as error:
            raise _unlicensed(operation, es.description, error) from None
        return "expiration" in body

    def create(self, props: dict[str, Any]) -> CreateResult:
        id_ = f"{props['key_id']}-access"
        if props.get("key_grants_hash") == grants_hash(props):
            # The key was created with exactly these grants a moment ago: nothing to read or send.
            return CreateResult(id_, self._outputs(props, props.get("key_expires_at")))
        es = caller(props["target"], props["credentials"])
        live = get_key(es, props["key_id"])
        if live is None or live.get("invalidated"):
            what = f"update cross-cluster API key {props['key_id']}"
            raise ElasticsearchApiError(what, 404, "resource_not_found_exception", "the key is gone or invalidated")
        if not _grants_match(live, props):
            # First time these grants meet this key (adoption, or grants that differ from its creation): the
            # declared expiration is applied from now, and the key is read back for its new absolute expiry.
            self._send(es, props, identity_before=live.get("certificate_identity"), send_expiration=True)
            live = get_key(es, props["key_id"]) or live
        return CreateResult(id_, self._outputs(props, live.get("expiration")))

    @credentials_change_touches_nothing(ACCESS_INPUTS)
    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """An unchanged `expiration` is left out of the PUT. Sent, Elasticsearch moves the key's expiry to now +
        expiration (ApiKeyService#maybeBuildUpdatedDocument: `expiration_time = getApiKeyExpiration(clock.instant(),
        request.getExpiration())` whenever the request has one, and #isNoop is then false; 8.19.21 and 9.5.3 alike),
        so every access change would extend the key's life and state would need a read to stay true. Left out, the
        expiry and `expires_at` both stay: no extra call. A changed expiration is sent, then read back (one GET)."""
        if not changed_keys(olds, news, GRANTS):
            return UpdateResult(self._outputs(news, olds.get("expires_at")))
        es = caller(news["target"], news["credentials"])
        moved = self._send(
            es,
            news,
            identity_before=olds.get("certificate_identity"),
            send_expiration=news.get("expiration") != olds.get("expiration"),
        )
        expires_at = olds.get("expires_at")
        if moved:
            expires_at = (get_key(es, news["key_id"]) or {}).get("expiration")
        return UpdateResult(self._outputs(news, expires_at))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        key_id = props.get("key_id") or id_.removesuffix("-access")
        live = get_key(caller(props["target"], props["credentials"]), key_id)
        if live is None or live.get("invalidated"):
            return ReadResult("", {})
        inputs = {**{k: props.get(k) for k in ACCESS_INPUTS}, "key_id": key_id, **_live_grants(live, props)}
        outputs = {**inputs, "access_hash": access_hash(inputs["access"]), "expires_at": live.get("expiration")}
        return ReadResult(id_, outputs, inputs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # the grants go with the key, which `CrossClusterApiKey` invalidates


class CrossClusterApiKeyAccess(Resource, module="eceeck", name="CrossClusterApiKeyAccess"):
    """What a cross-cluster API key grants; changed in place, so the encoded key stays the same."""

    access_hash: pulumi.Output[str]
    expires_at: pulumi.Output[int | None]

    def __init__(
        self,
        name: str,
        *,
        target: pulumi.Input[Mapping[str, Any]],
        credentials: pulumi.Input[Mapping[str, Any]],
        key_id: pulumi.Input[str],
        access: pulumi.Input[Mapping[str, Any]],
        expiration: pulumi.Input[str] | None = None,
        metadata: pulumi.Input[Mapping[str, Any]] | None = None,
        certificate_identity: pulumi.Input[str] | None = None,
        rotation: pulumi.Input[str] | None = None,
        key_grants_hash: pulumi.Input[str] | None = None,
        key_expires_at: pulumi.Input[int | None] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`key_grants_hash`/`key_expires_at`: the key's outputs, so a first create needs no call."""
        props = {
            "target": target,
            "credentials": credentials_input(credentials),
            "key_id": key_id,
            "key_grants_hash": key_grants_hash,
            "key_expires_at": key_expires_at,
            "rotation": rotation,
            "access": access,
            "expiration": expiration,
            "metadata": metadata,
            "certificate_identity": certificate_identity,
            "access_hash": None,
            "expires_at": None,
        }
        super().__init__(CrossClusterApiKeyAccessProvider(), name, props, opts)
