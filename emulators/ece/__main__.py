"""`python -m emulators.ece --port N [--api-key K] [--username U --password P] [--plan-seconds S]
[--fixture FILE.json] [--deployment-es ID=URL] [--deployment-es-password ID=PASSWORD]
[--deployment-es-ca ID=CA_FILE]`: serve the ECE emulator until interrupted."""

from __future__ import annotations

import argparse

from emulators.common import main
from emulators.ece.app import EceEmulator, load_fixtures
from emulators.ece.auth import DEFAULT_API_KEY, DEFAULT_PASSWORD, DEFAULT_USERNAME
from emulators.ece.fixtures import default_fixture


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, separator, rest = value.partition("=")
        if not separator or not key or not rest:
            raise SystemExit(f"{flag} expects DEPLOYMENT_ID=VALUE, got {value!r}")
        pairs[key] = rest
    return pairs


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api-key", default=DEFAULT_API_KEY, help="accepted as 'Authorization: ApiKey <key>'")
    parser.add_argument("--username", default=DEFAULT_USERNAME, help="HTTP basic user")
    parser.add_argument("--password", default=DEFAULT_PASSWORD, help="HTTP basic password")
    parser.add_argument("--plan-seconds", type=float, default=0.5, help="how long a plan stays pending")
    parser.add_argument("--fixture", help="JSON file: a deployment fixture or a list of them (replaces the default)")
    parser.add_argument("--deployment-es", action="append", default=[], metavar="ID=URL")
    parser.add_argument("--deployment-es-password", action="append", default=[], metavar="ID=PASSWORD")
    parser.add_argument("--deployment-es-ca", action="append", default=[], metavar="ID=CA_FILE")


def build(args: argparse.Namespace) -> EceEmulator:
    fixtures = load_fixtures(args.fixture) if args.fixture else [default_fixture()]
    by_id = {fixture.get("id"): fixture for fixture in fixtures if isinstance(fixture, dict)}
    links = (
        ("elasticsearch_url", _pairs(args.deployment_es, "--deployment-es")),
        ("elasticsearch_password", _pairs(args.deployment_es_password, "--deployment-es-password")),
        ("elasticsearch_ca_file", _pairs(args.deployment_es_ca, "--deployment-es-ca")),
    )
    for field, pairs in links:
        for deployment_id, value in pairs.items():
            if deployment_id not in by_id:
                raise SystemExit(f"no deployment {deployment_id} in the fixtures")
            by_id[deployment_id][field] = value
    try:
        return EceEmulator(
            api_key=args.api_key,
            username=args.username,
            password=args.password,
            plan_seconds=args.plan_seconds,
            fixtures=fixtures,
        )
    except ValueError as error:
        raise SystemExit(f"invalid fixture: {error}") from error


if __name__ == "__main__":
    main(build, configure)
