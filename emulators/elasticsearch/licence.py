"""The cluster's licence: `GET /_license`, and the check the cross-cluster API key routes make against it.

Elasticsearch (x-pack/plugin/security/.../Security.java) declares the feature
`LicensedFeature.momentary(null, "advanced-remote-cluster-security", License.OperationMode.ENTERPRISE)`. A momentary
feature needs an *active* licence (LicensedFeature#momentary passes `needsActive = true`), and
XPackLicenseState#isAllowedByOperationMode lets TRIAL through and otherwise needs a mode >= ENTERPRISE (the order is
MISSING, BASIC, STANDARD, GOLD, PLATINUM, ENTERPRISE, TRIAL). So only an active trial or enterprise licence may
create or update a cross-cluster API key; basic, gold, platinum and any expired licence get
LicenseUtils#newComplianceException: 403 `security_exception` "current license is non-compliant for [<feature>]",
with the feature also under `license.expired.feature` in the error.

RestCreateCrossClusterApiKeyAction and RestUpdateCrossClusterApiKeyAction make the check in
`checkFeatureAvailable`, which SecurityBaseRestHandler#prepareRequest runs before the request is parsed. Checked on a
real 8.19.21 node after `POST /_license/start_basic?acknowledge=true`: a create with a valid body, with an unknown
field, with no body or with an unknown query parameter, and an update of an existing key, of an unknown id or with an
unknown field, all answer that same 403 (the parameters are consumed, the body never read). `GET _license` then
answers the basic licence without `expiry_date`/`expiry_date_in_millis`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .errors import EsError

FEATURE = "advanced-remote-cluster-security"
# License.OperationMode, in its order; TRIAL is allowed everything.
MODES = ("missing", "basic", "standard", "gold", "platinum", "enterprise", "trial")
TYPES = ("basic", "standard", "gold", "platinum", "enterprise", "trial")
STATUSES = ("active", "expired", "invalid")
DAY_MS = 86_400_000
TRIAL_DAYS = 30  # the self-generated trial (a real node: expiry_date_in_millis - issue_date_in_millis = 30 days)
INSTALLED_DAYS = 365  # a stand-in for an installed (platinum, enterprise...) licence


def iso(millis: int) -> str:
    """`2026-11-30T04:44:30.948Z`, as the licence renders its dates."""
    moment = datetime.fromtimestamp(millis / 1000, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{millis % 1000:03d}Z"


def allowed(type_: str, status: str, minimum: str = "enterprise") -> bool:
    """XPackLicenseState#isAllowedByLicense(minimum, needActive=true)."""
    if status != "active":
        return False
    mode = MODES.index(type_)
    return type_ == "trial" or mode >= MODES.index(minimum)


def non_compliant(feature: str = FEATURE) -> EsError:
    """LicenseUtils#newComplianceException."""
    return EsError(
        403,
        "security_exception",
        f"current license is non-compliant for [{feature}]",
        extra={"license.expired.feature": feature},
    )


@dataclass
class Licence:
    """The status is worked out at each call, as License#status does: `invalid` before the issue date, `expired`
    after the expiry date, else `active` (so the emulator's clock control can let a trial run out)."""

    cluster_name: str
    clock: Callable[[], int]
    type: str = "trial"
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))
    issue_date_ms: int = 0

    def __post_init__(self) -> None:
        self.issue_date_ms = self.issue_date_ms or self.clock()

    def set(self, type_: str, status: str = "active") -> None:
        """A new licence (new uid), as a licence change makes one: issued now; for `expired`, one that ended a day
        ago; for `invalid`, one issued a day from now."""
        if type_ not in TYPES:
            raise ValueError(f"type must be one of {', '.join(TYPES)}")
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        days = _days(type_)
        if status == "expired" and days is None:
            raise ValueError("a basic licence never expires")
        self.type, self.uid, now = type_, str(uuid.uuid4()), self.clock()
        self.issue_date_ms = {"active": now, "expired": now - ((days or 0) + 1) * DAY_MS, "invalid": now + DAY_MS}[
            status
        ]

    def expiry_date_ms(self) -> int | None:
        days = _days(self.type)
        return None if days is None else self.issue_date_ms + days * DAY_MS

    @property
    def status(self) -> str:
        now, expiry = self.clock(), self.expiry_date_ms()
        if self.issue_date_ms > now:
            return "invalid"
        return "expired" if expiry is not None and expiry < now else "active"

    def allows_cross_cluster_api_keys(self) -> bool:
        return allowed(self.type, self.status)

    def check_cross_cluster_api_keys(self) -> None:
        if not self.allows_cross_cluster_api_keys():
            raise non_compliant()

    def render(self) -> dict[str, Any]:
        """`GET /_license`, fields in License#toXContent order (the trial one checked on a real 8.19.21 node)."""
        body: dict[str, Any] = {
            "status": self.status,
            "uid": self.uid,
            "type": self.type,
            "issue_date": iso(self.issue_date_ms),
            "issue_date_in_millis": self.issue_date_ms,
        }
        expiry = self.expiry_date_ms()
        if expiry is not None:
            body |= {"expiry_date": iso(expiry), "expiry_date_in_millis": expiry}
        enterprise = self.type == "enterprise"  # counted in resource units, not nodes
        body |= {
            "max_nodes": None if enterprise else 1000,
            "max_resource_units": 10 if enterprise else None,
            "issued_to": self.cluster_name,
            "issuer": "elasticsearch",
            "start_date_in_millis": -1,
        }
        return {"license": body}

    def state(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "status": self.status,
            "allows_cross_cluster_api_keys": self.allows_cross_cluster_api_keys(),
        }


def _days(type_: str) -> int | None:
    """How long a licence of this type runs; None for basic, which never expires (and shows no expiry date)."""
    if type_ == "basic":
        return None
    return TRIAL_DAYS if type_ == "trial" else INSTALLED_DAYS
