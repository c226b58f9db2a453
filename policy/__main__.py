"""Serves the rules of `rules.py` as the pulumi-policy pack `ece-eck-remote`.

Pulumi's Python language host starts a pack as `python <pack folder> <engine address>` (the folder's `__main__.py`,
with the folder first on `sys.path`); `policy/analyzer` does the same for installs whose host cannot.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # started as `python <pack folder>`: make the `policy` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from policy.rules import RULES, UNKNOWN, Resource, Rule

PACK_NAME = "ece-eck-remote"


def plain(value: Any) -> Any:
    """pulumi-policy's view of the inputs (proxies that raise on a value unknown in preview) as plain values, with
    `UNKNOWN` for what is not known yet, so that a rule decides what an unknown value means."""
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key in value:
            try:
                result[str(key)] = plain(value[key])
            except UnknownValueError:
                result[str(key)] = UNKNOWN
        return result
    if isinstance(value, Sequence) and not isinstance(value, str):
        entries: list[Any] = []
        for index in range(len(value)):
            try:
                entries.append(plain(value[index]))
            except UnknownValueError:
                entries.append(UNKNOWN)
        return entries
    return value


def policy(rule: Rule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        resource = Resource(args.resource_type, args.name, args.urn, plain(args.props))
        for message in rule.check(resource, dict(args.get_config() or {})):
            report_violation(message, None)

    level = EnforcementLevel.MANDATORY if rule.enforcement == "mandatory" else EnforcementLevel.ADVISORY
    schema = PolicyConfigSchema({k: dict(v) for k, v in rule.config_schema.items()}) if rule.config_schema else None
    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=level,
        config_schema=schema,
    )


def policies() -> list[Policy]:
    return [policy(rule) for rule in RULES]


def main() -> None:
    """Serve the pack to the engine (prints the port, then serves until the engine ends it)."""
    PolicyPack(PACK_NAME, policies())


if __name__ == "__main__":
    main()
