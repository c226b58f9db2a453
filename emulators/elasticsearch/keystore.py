"""The local cluster's secure settings and trusted CAs, as ECE (or ECK) pushes them through control routes.

Keystore: each push is the complete keystore. With `reload: false` it waits as *pending* (on disk, not loaded)
until a push with `reload: true` or `POST /_nodes/reload_secure_settings` (8.13+ hot-reloads remote credentials).
Trust: the complete list of CA PEMs the transport layer trusts for remote cluster connections."""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

CREDENTIALS = re.compile(r"cluster\.remote\.([-\w]+)\.credentials", re.ASCII)


def _now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Keystore:
    effective: dict[str, str] = field(default_factory=dict)
    pending: dict[str, str] | None = None
    reloads: int = 0
    modified: str = field(default_factory=_now_iso)

    def push(self, secrets: dict[str, str], reload: bool) -> None:
        self.modified = _now_iso()
        if reload:
            self.effective, self.pending = dict(secrets), None
            self.reloads += 1
        else:
            self.pending = dict(secrets)

    def reload(self) -> None:
        """What `reload_secure_settings` does: load the keystore on disk."""
        if self.pending is not None:
            self.effective, self.pending = self.pending, None
        self.reloads += 1

    def on_disk(self) -> dict[str, str]:
        return self.effective if self.pending is None else self.pending

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.on_disk(), sort_keys=True).encode()).hexdigest()

    def credential(self, alias: str) -> tuple[str | None, str, str]:
        """(value, code, reason): the loaded `cluster.remote.<alias>.credentials`, or why there is none."""
        setting = f"cluster.remote.{alias}.credentials"
        if setting in self.effective:
            note = " (a newer keystore is pending reload)" if self.pending is not None else ""
            return self.effective[setting], "ok", f"credentials loaded{note}"
        if self.pending is not None and setting in self.pending:
            return None, "credentials_not_reloaded", f"[{setting}] is in the keystore but the keystore was not reloaded"
        others = sorted(match[1] for key in self.effective if (match := CREDENTIALS.fullmatch(key)))
        held = f"; the loaded keystore holds credentials for [{', '.join(others)}]" if others else ""
        return None, "credentials_missing", f"no [{setting}] in the loaded keystore{held}"

    def state(self) -> dict[str, Any]:
        return {
            "effective": self.effective,
            "pending": self.pending,
            "reloads": self.reloads,
            "modified": self.modified,
        }


def parse_keystore_push(body: Any) -> tuple[dict[str, str], bool]:
    if not isinstance(body, dict) or not isinstance(body.get("secrets"), dict):
        raise ValueError('body must be {"secrets": {"<setting>": "<value>", ...}, "reload": true|false}')
    secrets = body["secrets"]
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in secrets.items()):
        raise ValueError("secrets must map setting names to string values")
    reload = body.get("reload", True)
    if not isinstance(reload, bool):
        raise ValueError("reload must be a boolean")
    return dict(secrets), reload


def parse_trust_push(body: Any) -> list[str]:
    if not isinstance(body, dict) or not isinstance(body.get("certificates"), list):
        raise ValueError('body must be {"certificates": ["<pem>", ...]}')
    certificates = body["certificates"]
    if not all(isinstance(pem, str) for pem in certificates):
        raise ValueError("certificates must be PEM strings")
    return list(certificates)
