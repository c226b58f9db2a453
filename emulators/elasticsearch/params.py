"""Query parameters and bodies the way ES's REST layer checks them: unknown parameters refused, strict booleans."""

from __future__ import annotations

from emulators.common import Request

from .errors import illegal_argument
from .xcontent import Body, read_body

# rest-api-spec `_common.json` (plus `source_content_type`, which goes with `source`)
COMMON_PARAMS = frozenset({"pretty", "human", "error_trace", "filter_path", "source", "source_content_type"})
BOOLEAN_PARAMS = frozenset(
    {
        "flat_settings",
        "include_defaults",
        "owner",
        "with_limited_by",
        "with_profile_uid",
        "active_only",
        "local",
        "accept_enterprise",
    }
)


def check_params(request: Request, allowed: frozenset[str]) -> None:
    unknown = [name for name in request.query if name not in allowed]
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        listed = ", ".join(f"[{name}]" for name in unknown)
        raise illegal_argument(f"request [{request.path}] contains unrecognized parameter{plural}: {listed}")
    for name in BOOLEAN_PARAMS & set(request.query):
        value = request.param(name) or ""
        if value not in ("", "true", "false"):
            raise illegal_argument(f"Failed to parse value [{value}] as only [true] or [false] are allowed.")
    refresh = request.param("refresh")
    if refresh is not None and refresh not in ("", "true", "false", "wait_for"):
        raise illegal_argument(f"Unknown value for refresh: [{refresh}].")


def flag(request: Request, name: str) -> bool:
    """A boolean parameter: present and empty or `true` (values were checked by `check_params`)."""
    value = request.param(name)
    return value is not None and value in ("", "true")


def required_body(request: Request) -> Body:
    body = read_body(request, required=True)
    assert body is not None
    return body
