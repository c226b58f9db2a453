"""Cross-cluster API keys (reference section 1): create, update, get, invalidate, and the check the remote cluster
server makes when a client presents one."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .access import Access, parse_access
from .durations import parse_millis
from .errors import EsError, illegal_argument, not_found, validation, wrapped, x_content
from .version import Version
from .xcontent import Body

# The parsers' names, as the error messages show them (RestCreateCrossClusterApiKeyAction and
# RestUpdateCrossClusterApiKeyAction in 8.19.21, 9.1.3 and 9.5.3; a real 8.19.21 node says the same).
CREATE_PARSER = "cross_cluster_api_key_request"
UPDATE_PARSER = "update_cross_cluster_api_key_request_payload"
INVALIDATE_PARSER = "invalidate_api_key_request"
OWNER = {"username": "elastic", "realm": "reserved", "realm_type": "reserved"}


def _random_id(length: int) -> str:
    """URL-safe base64 without padding: 15 bytes give ES's 20-character ids, 16 bytes its 22-character secrets."""
    return base64.urlsafe_b64encode(secrets.token_bytes(length * 3 // 4)).decode().rstrip("=")[:length]


@dataclass
class ApiKey:
    id: str
    name: str
    secret: str
    creation: int
    access: Access
    metadata: dict[str, Any] = field(default_factory=dict)
    expiration: int | None = None
    certificate_identity: str | None = None
    invalidated: bool = False
    invalidation: int | None = None
    type: str = "cross_cluster"

    @property
    def encoded(self) -> str:
        return base64.b64encode(f"{self.id}:{self.secret}".encode()).decode()

    def expired(self, now: int) -> bool:
        return self.expiration is not None and self.expiration <= now

    def render(self, version: Version) -> dict[str, Any]:
        """One item of `GET /_security/api_key`, fields in `ApiKey.innerToXContent` order."""
        item: dict[str, Any] = {"id": self.id, "name": self.name}
        item["type"] = self.type
        item["creation"] = self.creation
        if self.expiration is not None:
            item["expiration"] = self.expiration
        item["invalidated"] = self.invalidated
        if self.invalidation is not None and version.at_least("8.12.0"):
            item["invalidation"] = self.invalidation
        item["username"] = OWNER["username"]
        item["realm"] = OWNER["realm"]
        if version.at_least("8.14.0"):
            item["realm_type"] = OWNER["realm_type"]
        item["metadata"] = self.metadata
        item["role_descriptors"] = self.access.role_descriptors(version)
        item["access"] = self.access.render()
        if self.certificate_identity is not None:
            item["certificate_identity"] = self.certificate_identity
        return item

    def record(self, now: int) -> dict[str, Any]:
        """What `/_emulator/state` shows (secret included: the state is a test oracle)."""
        return {
            "id": self.id,
            "name": self.name,
            "encoded": self.encoded,
            "creation": self.creation,
            "expiration": self.expiration,
            "expired": self.expired(now),
            "invalidated": self.invalidated,
            "metadata": self.metadata,
            "access": self.access.render(),
            "certificate_identity": self.certificate_identity,
        }


@dataclass
class _Payload:
    """What a create or update body asked for; `None` means absent."""

    name: str | None = None
    access: Access | None = None
    expiration_ms: int | None = None
    metadata: dict[str, Any] | None = None
    certificate_identity: str | None = None
    has_certificate_identity: bool = False


class ApiKeyStore:
    def __init__(self, version: Version, clock: Callable[[], int]) -> None:
        self.version = version
        self.clock = clock
        self.keys: dict[str, ApiKey] = {}

    # --- create ---------------------------------------------------------------------------------------------
    def create(self, body: Body) -> dict[str, Any]:
        payload = self._parse(body, CREATE_PARSER, creating=True)
        assert payload.name is not None and payload.access is not None
        now = self.clock()
        key = ApiKey(
            id=_random_id(20),
            name=payload.name,
            secret=_random_id(22),
            creation=now,
            access=payload.access,
            metadata=payload.metadata or {},
            expiration=None if payload.expiration_ms is None else now + payload.expiration_ms,
            certificate_identity=payload.certificate_identity,
        )
        self.keys[key.id] = key
        response: dict[str, Any] = {"id": key.id, "name": key.name}
        if key.expiration is not None:
            response["expiration"] = key.expiration
        response["api_key"] = key.secret
        response["encoded"] = key.encoded
        return response

    # --- update ---------------------------------------------------------------------------------------------
    def update(self, key_id: str, body: Body) -> dict[str, Any]:
        payload = self._parse(body, UPDATE_PARSER, creating=False)
        key = self.keys.get(key_id)
        if key is None:
            raise not_found(f"no API key owned by requesting user found for ID [{key_id}]")
        now = self.clock()
        if key.invalidated:
            raise illegal_argument(f"cannot update invalidated API key [{key_id}]")
        if key.expired(now):
            raise illegal_argument(f"cannot update expired API key [{key_id}]")
        updated = False
        if payload.access is not None and payload.access != key.access:
            key.access, updated = payload.access, True
        if payload.metadata is not None and payload.metadata != key.metadata:
            key.metadata, updated = payload.metadata, True
        if payload.expiration_ms is not None:  # relative to now: never equal to the stored value
            key.expiration, updated = now + payload.expiration_ms, True
        if payload.has_certificate_identity and payload.certificate_identity != key.certificate_identity:
            key.certificate_identity, updated = payload.certificate_identity, True
        return {"updated": updated}

    def _parse(self, body: Body, parser: str, *, creating: bool) -> _Payload:
        data = body.object(parser)
        allowed = ["name", "access", "expiration", "metadata"] if creating else ["access", "metadata"]
        if not creating and self.version.update_expiration:
            allowed.append("expiration")
        if self.version.certificate_identity:
            allowed.append("certificate_identity")
        body.reject_unknown(parser, allowed)
        payload = _Payload()
        for name, value in data.items():  # field by field, in document order, like ObjectParser
            if name == "name":
                body.expect(parser, name, value, str)
                payload.name = value
            elif name == "access":
                payload.access = parse_access(body, parser, value)
            elif name == "expiration":
                body.expect(parser, name, value, str)
            elif name == "metadata":
                body.expect(parser, name, value, dict)
                payload.metadata = value
            elif name == "certificate_identity":
                # 9.3+: ValueType.STRING on create (null refused), STRING_OR_NULL on update (null clears).
                body.expect(parser, name, value, *((str,) if creating else (str, type(None))))
                payload.has_certificate_identity = True
        if creating:
            missing = [name for name in ("name", "access") if name not in data]
            if missing:
                raise illegal_argument(f"Required [{', '.join(missing)}]")
        if isinstance(data.get("expiration"), str):
            payload.expiration_ms = max(parse_millis(data["expiration"], "expiration"), 0)
        if payload.has_certificate_identity:
            payload.certificate_identity = _certificate_identity(data["certificate_identity"])
        if payload.access is not None:
            try:
                payload.access.check(self.version)
            except EsError as error:
                if not creating:
                    raise
                # Checked on a real 8.19.21 node: the create parser (a ConstructingObjectParser) builds the access
                # once `name` and `access` are both read, and wraps what the builder refuses; update does not.
                failure = EsError(
                    400, "x_content_parse_exception", f"Failed to build [{parser}] after last required field arrived"
                )
                raise wrapped(failure, error) from None
        problems = _name_problems(payload.name) if creating else []
        if payload.metadata is not None and any(str(key).startswith("_") for key in payload.metadata):
            problems.append("API key metadata keys may not start with [_]")
        if not creating and payload.access is None and payload.metadata is None:
            if not self.version.certificate_identity:
                problems.insert(0, "must update either [access] or [metadata] for cross-cluster API keys")
            elif not payload.has_certificate_identity:  # an explicit null counts: it clears the identity
                problems.insert(
                    0, "must update [access], [metadata], or [certificate_identity] for cross-cluster API keys"
                )
        if problems:
            raise validation(*problems)
        return payload

    # --- get ------------------------------------------------------------------------------------------------
    def get(
        self,
        *,
        key_id: str | None,
        name: str | None,
        username: str | None,
        realm_name: str | None,
        owner: bool,
        active_only: bool,
    ) -> tuple[int, dict[str, Any]]:
        problems: list[str] = []
        if (key_id or name) and (username or realm_name):
            problems.append(
                "username or realm name must not be specified when the api key id or api key name is specified"
            )
        if owner and (username or realm_name):
            problems.append("neither username nor realm-name may be specified when retrieving owned API keys")
        if key_id and name:
            problems.append("only one of [api key id, api key name] can be specified")
        if problems:
            raise validation(*problems)
        now = self.clock()
        found = [
            key
            for key in self._matching(
                key_ids=[key_id] if key_id else None, name=name, username=username, realm=realm_name
            )
            if not (active_only and (key.invalidated or key.expired(now)))
        ]
        body = {"api_keys": [key.render(self.version) for key in found]}
        return (404 if key_id and not found else 200), body

    # --- invalidate -----------------------------------------------------------------------------------------
    def invalidate(self, body: Body) -> dict[str, Any]:
        data = body.object(INVALIDATE_PARSER)
        body.reject_unknown(INVALIDATE_PARSER, ("id", "ids", "name", "owner", "realm_name", "username"))
        for field_name in ("id", "name", "realm_name", "username"):
            if field_name in data:
                body.expect(INVALIDATE_PARSER, field_name, data[field_name], str, type(None))
        ids = data.get("ids")
        if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, str) for i in ids)):
            raise x_content(INVALIDATE_PARSER, "ids doesn't support values of type: VALUE_NUMBER", body.location("ids"))
        owner = _lenient_bool(data.get("owner", False), body)
        key_ids: list[str] | None = list(ids) if ids is not None else None
        if data.get("id"):
            key_ids = [*(key_ids or []), data["id"]]
        name: str | None = data.get("name")
        username: str | None = data.get("username")
        realm: str | None = data.get("realm_name")
        if key_ids is not None and not key_ids:
            raise illegal_argument("Field [ids] cannot be an empty array")
        if key_ids is not None and any(not i.strip() for i in key_ids):
            raise illegal_argument("Field [ids] must not contain blank id")
        problems: list[str] = []
        if not (key_ids or name or username or realm or owner):
            problems.append(
                "One of [api key id(s), api key name, username, realm name] must be specified if [owner] flag is false"
            )
        if (key_ids or name) and (username or realm):
            problems.append(
                "username or realm name must not be specified when the api key id(s) or api key name is specified"
            )
        if owner and (username or realm):
            problems.append("neither username nor realm-name may be specified when invalidating owned API keys")
        if key_ids and name:
            problems.append("only one of [api key id(s), api key name] can be specified")
        if problems:
            raise validation(*problems)
        now = self.clock()
        invalidated: list[str] = []
        for key in self._matching(key_ids=key_ids, name=name, username=username, realm=realm):
            if not key.invalidated:  # the search leaves out keys already invalidated
                key.invalidated, key.invalidation = True, now
                invalidated.append(key.id)
        return {"invalidated_api_keys": invalidated, "previously_invalidated_api_keys": [], "error_count": 0}

    def _matching(
        self, *, key_ids: list[str] | None, name: str | None, username: str | None, realm: str | None
    ) -> list[ApiKey]:
        keys = list(self.keys.values())
        if key_ids is not None:
            keys = [key for key in keys if key.id in key_ids]
        if name:
            keys = [key for key in keys if _name_matches(name, key.name)]
        if username and not _name_matches(username, OWNER["username"]):
            keys = []
        if realm and realm != OWNER["realm"]:
            keys = []
        return keys

    # --- the remote cluster server's check ------------------------------------------------------------------
    def authenticate(self, encoded: str) -> tuple[bool, str, str | None]:
        """(accepted, reason, key id) for credentials presented on the remote cluster server port."""
        try:
            key_id, _, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return False, "invalid credentials: not a base64 encoded [id:api_key]", None
        if not secret:
            return False, "invalid credentials: not a base64 encoded [id:api_key]", None
        key = self.keys.get(key_id)
        if key is None:
            return False, f"unable to find apikey with id [{key_id}]", key_id
        if not secrets.compare_digest(key.secret, secret):
            return False, f"invalid credentials for API key [{key_id}]", key_id
        if key.type != "cross_cluster":
            return (
                False,
                f"authentication expected API key type of [cross_cluster], but API key [{key_id}] has type [{key.type}]",
                key_id,
            )
        if key.invalidated:
            return False, f"api key [{key_id}] has been invalidated", key_id
        if key.expired(self.clock()):
            return False, f"api key [{key_id}] is expired", key_id
        return True, "ok", key_id

    def state(self) -> list[dict[str, Any]]:
        now = self.clock()
        return [key.record(now) for key in self.keys.values()]


def _name_problems(name: str | None) -> list[str]:
    if not name:
        return ["api key name is required"]
    problems = []
    if len(name) > 256:
        problems.append("api key name may not be more than 256 characters long")
    if name != name.strip():
        problems.append("api key name may not begin or end with whitespace")
    if name.startswith("_"):
        problems.append("api key name may not begin with an underscore")
    return problems


def _certificate_identity(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        re.compile(value)
    except re.error:
        raise illegal_argument(f"Invalid certificate_identity format: [{value}]. Must be a valid regex.") from None
    return value


def _name_matches(pattern: str, name: str) -> bool:
    """API key names (and usernames) match exactly, or by prefix with a trailing `*` (`*` alone: everything)."""
    if pattern.endswith("*"):
        return name.startswith(pattern[:-1])
    return name == pattern


def _lenient_bool(value: Any, body: Body) -> bool:
    """ES reads booleans from `true`/`false` and from the strings "true"/"false"."""
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise x_content(
        INVALIDATE_PARSER,
        "Failed to parse value [" + str(value) + "] as only [true] or [false] are allowed.",
        body.location("owner"),
    )


def error_for_api_key_auth(store: ApiKeyStore, encoded: str) -> EsError:
    """A REST request authenticated with `ApiKey <encoded>`: cross-cluster keys are refused on the REST API."""
    ok, _reason, key_id = store.authenticate(encoded)
    key = store.keys.get(key_id or "")
    if key is not None and ok:
        reason = f"authentication expected API key type of [rest], but API key [{key.id}] has type [cross_cluster]"
    else:
        reason = "unable to authenticate with provided credentials and anonymous access is not allowed for this request"
    return EsError(401, "security_exception", reason)
