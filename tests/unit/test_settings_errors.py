"""Config errors: every problem at once, one line each, key, value as written and rule; unknown keys with the nearest
known one; missing values with the command that sets them; secrets never shown; and the program stops cleanly."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components import program
from components.settings import Settings, SettingsErrors, load_settings
from components.settings.keys import leaf_paths
from components.validation import SettingsError, show
from tests.support.certs import make_ca, make_key
from tests.support.configs import eck_cluster, program_config
from tests.support.pulumi_mocks import RecordingMocks, run_under_mocks
from tests.support.secrets import assert_hidden
from tests.support.stacks import raw_getter
from tests.unit.test_config_docs import ANY_VALUES, base, node_at

ROOT = Path(__file__).resolve().parents[2]


def parse(config: dict[str, Any], **options: Any) -> Settings:
    return load_settings(raw_getter(config), project="ece-eck-remote", stack="test", project_dir=ROOT, **options)


def problems(config: dict[str, Any], **options: Any) -> list[str]:
    with pytest.raises(SettingsErrors) as raised:
        parse(config, **options)
    lines = [str(problem) for problem in raised.value.problems]
    assert str(raised.value) == "\n".join(lines)
    return lines


def three_mistakes() -> dict[str, Any]:
    config = base()
    config["eckClusters"][0]["nodeSets"][0]["name"] = "Hot"
    config["links"][0]["alias"] = "Logs"
    config["ece"]["planTimeoutSeconds"] = 0
    return config


def test_three_mistakes_are_three_lines_in_the_order_of_the_config() -> None:
    assert problems(three_mistakes()) == [
        "config 'eckClusters[0].nodeSets[0].name': value \"Hot\" is invalid: must be 1 to 23 lowercase letters, digits "
        "and '-', starting and ending with a letter or digit (ECK names the StatefulSet '<cluster>-es-<nodeSet>', a "
        "DNS-1123 label)",
        "config 'ece.planTimeoutSeconds': value 0 is invalid: must be from 1 to 86400",
        "config 'links[0].alias': value \"Logs\" is invalid: a remote cluster alias must be lowercase letters, digits, "
        "'-' and '_'",
    ]


def test_problems_in_every_part_are_all_reported() -> None:
    config = base()
    config["scope"] = "all"
    config["kubernetes"]["contxt"] = "dev"
    config["eckClusters"][0]["version"] = "9.3"
    config["eckClusters"][0]["remoteClusterServer"]["port"] = 0
    config["eckClusters"][0]["transportCa"]["source"] = "eck"
    config["eckClusters"][0]["http"]["insecureSkipVerify"] = "yes"
    config["ece"]["url"] = "ece.example.com"
    config["eceDeployments"][0]["id"] = "abc"
    config["links"][0]["expiration"] = "90 days"
    config["links"][0]["roles"][0]["name"] = "bad role"
    config["secrets"]["ece"]["apiKey"] = ""
    keys = [line.split("'")[1] for line in problems(config)]
    assert keys == [
        "scope",
        "kubernetes.contxt",
        "eckClusters[0].version",
        "eckClusters[0].remoteClusterServer.port",
        "eckClusters[0].transportCa.source",
        "eckClusters[0].http.insecureSkipVerify",
        "ece.url",
        "eceDeployments[0].id",
        "links[0].expiration",
        "links[0].roles[0].name",
        "secrets.ece.apiKey",
    ]


def test_what_depends_on_a_wrong_value_is_not_reported_again() -> None:
    """A version is not held to the rules of a security model that is wrong itself, and a link to a cluster that is
    wrong is not told that the cluster does not exist."""
    config = base()
    config["eckClusters"][0]["version"] = "7.17.0"
    config["eckClusters"][0]["securityModel"] = "certifcate"
    config["eceDeployments"][0]["refId"] = "main elasticsearch"
    assert [line.split("'")[1] for line in problems(config)] == [
        "eckClusters[0].securityModel",
        "eceDeployments[0].refId",
    ]


@pytest.mark.parametrize(
    ("level", "typo", "nearest"),
    [
        ("eckClusters[0]", "remoteClusterServr", "remoteClusterServer"),
        ("eckClusters[0]", "nodesets", "nodeSets"),
        ("eckClusters[0].nodeSets[0]", "podtemplate", "podTemplate"),
        ("links[0]", "skipUnavailible", "skipUnavailable"),
        ("links[0].roles[0]", "remoteIndexes", "remoteIndices"),
        ("ece", "planTimeout", "planTimeoutSeconds"),
        ("secrets.ece", "apikey", "apiKey"),
    ],
)
def test_an_unknown_key_suggests_the_nearest_known_one(level: str, typo: str, nearest: str) -> None:
    config = base()
    node_at(config, level.replace("[0]", "[]"))[typo] = "hidden-value"
    [line] = problems(config)
    assert line.startswith(f"config '{level}.{typo}' is not a known setting; did you mean '{nearest}'? (known: ")
    assert "hidden-value" not in line


def test_an_unknown_key_far_from_any_lists_the_known_ones() -> None:
    config = base()
    config["ece"]["zzz"] = 1
    assert problems(config) == [
        "config 'ece.zzz' is not a known setting; known: caCertificate, caCertificateFile, insecureSkipVerify, "
        "planTimeoutSeconds, region, url"
    ]


def test_an_unknown_project_key_is_refused_when_the_stack_sets_it() -> None:
    """Without this, `ece-eck-remote:eckCluster` (no `s`) would be ignored and the stack would declare nothing."""
    assert problems(base(), present=[*base(), "eckCluster", "secret"]) == [
        "config 'eckCluster' is not a known setting; did you mean 'eckClusters'? (known: ece, eceDeployments, "
        "eckClusters, kubernetes, links, remoteStack, scope, secrets)",
        "config 'secret' is not a known setting; did you mean 'secrets'? (known: ece, eceDeployments, eckClusters, "
        "kubernetes, links, remoteStack, scope, secrets)",
    ]


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (
            lambda c: c["eckClusters"][0].pop("version"),
            "config 'eckClusters[0].version' is not set: it is required (a version string like '9.3.2'); set it "
            "with: pulumi config set --path 'eckClusters[0].version' <value>",
        ),
        (
            lambda c: c["links"][0].pop("alias"),
            "config 'links[0].alias' is not set: it is required (a string); set it with: pulumi config set --path "
            "'links[0].alias' <value>",
        ),
        (
            lambda c: c["secrets"].pop("ece"),
            "config 'secrets.ece.apiKey' is not set: ECE credentials are needed: secrets.ece.apiKey, or "
            "secrets.ece.username and secrets.ece.password, or ECE_API_KEY, or ECE_USERNAME and ECE_PASSWORD in the "
            "environment; set it with: pulumi config set --secret --path 'secrets.ece.apiKey' <value>",
        ),
        (
            lambda c: c.pop("ece"),
            "config 'ece.url' is not set: the ECE API is needed when links attach to ECE deployments; set it with: "
            "pulumi config set --path 'ece.url' https://<ece-host>:12443",
        ),
        (
            lambda c: c.update(scope="ece", eckClusters=[]),
            "config 'remoteStack' is not set: scope 'ece' needs the ECK stack's name, like "
            "'acme/ece-eck-remote/eck-prod'; set it with: pulumi config set 'remoteStack' <org>/<project>/<stack>",
        ),
        (
            lambda c: c["eckClusters"][0]["transportCa"].update(source="supplied"),
            "config 'eckClusters[0].transportCa.certificate' is not set: source 'supplied' needs the CA certificate "
            "(PEM); set it with: pulumi config set --path 'eckClusters[0].transportCa.certificateFile' <ca.pem>",
        ),
    ],
    ids=["version", "alias", "credentials", "ece", "remote stack", "certificate"],
)
def test_a_missing_value_says_which_command_sets_it(change: Any, line: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ECE_API_KEY", "ECE_USERNAME", "ECE_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    config = base()
    change(config)
    assert problems(config) == [line]


def test_a_secret_is_never_shown_and_a_missing_one_is_set_with_secret() -> None:
    ca = "-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n"
    config = base()
    config["eckClusters"][0]["transportCa"] = {"source": "user-managed", "certificate": ca}
    config["secrets"]["ece"] = {"apiKey": 12345678}
    lines = problems(config)
    assert not any("12345678" in line or "not really" in line for line in lines), lines
    assert "config 'secrets.ece.apiKey': value (secret) is invalid: must be a non-empty string" in lines
    assert any(
        line.startswith("config 'eckClusters[0].transportCa.certificate': value (PEM) is invalid") for line in lines
    )


def test_secrets_stored_in_plain_text_are_refused() -> None:
    """Pulumi.yaml cannot declare `secrets` secret (see there): the program checks it was set with `--secret`."""
    present = list(base())
    assert parse(base(), present=present, secret_keys=["secrets"]).ece is not None
    assert problems(base(), present=present, secret_keys=[]) == [
        "config 'secrets': value (secret) is invalid: it is stored in plain text: set each value with "
        "`pulumi config set --secret --path 'secrets.<key>' <value>`"
    ]
    empty = {**base(), "secrets": {}, "ece": None, "links": []}
    assert parse(empty, present=present, secret_keys=[]).ece is None


PYTHON_REPR = re.compile(r"\bNone\b|\bTrue\b|\bFalse\b|\['|\{'|\[secret\]|Secret\(")


@pytest.mark.parametrize("value", ANY_VALUES, ids=repr)
@pytest.mark.parametrize("path", sorted(p for p in leaf_paths() if "." in p))
def test_no_python_repr_in_any_message(path: str, value: Any) -> None:
    level, _, key = path.rpartition(".")
    config = base()
    node_at(config, level)[key] = copy.deepcopy(value)
    try:
        parse(config)
    except SettingsError as error:
        for line in map(str, error.problems):
            assert "\n" not in line
            assert not PYTHON_REPR.search(line.replace("config '", "").split("'", 1)[1]), line


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("Hot", '"Hot"'),
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (["d"], '["d"]'),
        ({"port": 9443, "tls": None}, '{"port": 9443, "tls": null}'),
        (7, "7"),
        ("é" * 200, '"' + "é" * 116 + "..."),
    ],
)
def test_values_are_shown_as_written(value: Any, written: str) -> None:
    assert show(value) == written


def test_the_program_logs_each_problem_and_stops_without_a_traceback() -> None:
    """What the CLI shows (tests/engine/test_config_errors.py): one `error:` line each, exit code 32 (shown)."""
    logged: list[str] = []
    mocks = RecordingMocks()
    with pytest.raises(SystemExit) as exited:
        run_under_mocks(lambda: program.main(logged.append), mocks, config=three_mistakes())
    assert exited.value.code == program.ERROR_SHOWN_EXIT_CODE == 32
    assert logged == problems(three_mistakes())
    assert mocks.registered == []


def test_a_good_config_runs_the_program() -> None:
    logged: list[str] = []
    mocks = RecordingMocks()
    run_under_mocks(lambda: program.main(logged.append), mocks, config=program_config(eck_cluster()))
    assert logged == [] and mocks.registered


# Secrets long and distinctive enough to pass every other rule, so that the one broken here is what is reported,
# each next to a mistake that makes its own key be named (tests/support/secrets.py looks for them in pieces too).
USER_CA = make_ca("user-managed-ca")
ECE_KEY = "ece-api-key-in-settings-0123456789"
ELASTIC_PASSWORD = "elastic-password-in-settings-4242"
OTHER_KEY = make_key()


def _user_managed(config: dict[str, Any], key: Any) -> None:
    config["eckClusters"][0]["transportCa"] = {"source": "user-managed", "certificate": USER_CA.certificate_pem}
    config["secrets"]["eckClusters"]["quickstart"]["transportCaKey"] = key


SECRET_MISTAKES: dict[str, tuple[Callable[[dict[str, Any]], None], str, tuple[str, ...]]] = {
    "a CA key of another CA": (
        lambda c: _user_managed(c, OTHER_KEY),
        "secrets.eckClusters.quickstart.transportCaKey",
        (OTHER_KEY,),
    ),
    "a CA key that is no PEM": (
        lambda c: _user_managed(c, "not-a-pem-but-a-secret-key-0123456789"),
        "secrets.eckClusters.quickstart.transportCaKey",
        ("not-a-pem-but-a-secret-key-0123456789",),
    ),
    "a CA key in a list": (
        lambda c: _user_managed(c, [USER_CA.key_pem]),
        "secrets.eckClusters.quickstart.transportCaKey",
        (USER_CA.key_pem,),
    ),
    "an elastic password with a cluster": (
        lambda c: c["secrets"]["eckClusters"]["quickstart"].update(elasticPassword=ELASTIC_PASSWORD),
        "secrets.eckClusters.quickstart.elasticPassword",
        (ELASTIC_PASSWORD,),
    ),
    "an elastic password that is a list": (
        lambda c: c["secrets"]["eckClusters"]["quickstart"].update(elasticPassword=[ELASTIC_PASSWORD]),
        "secrets.eckClusters.quickstart.elasticPassword",
        (ELASTIC_PASSWORD,),
    ),
    "a misspelt secret key": (
        lambda c: c["secrets"]["eckClusters"]["quickstart"].update(elasticPasword=ELASTIC_PASSWORD),
        "secrets.eckClusters.quickstart.elasticPasword",
        (ELASTIC_PASSWORD,),
    ),
    "an ECE API key and a username": (
        lambda c: c["secrets"].update(ece={"apiKey": ECE_KEY, "username": "admin"}),
        "secrets.ece.username",
        (ECE_KEY,),
    ),
    "an ECE API key in a list": (
        lambda c: c["secrets"].update(ece={"apiKey": [ECE_KEY]}),
        "secrets.ece.apiKey",
        (ECE_KEY,),
    ),
    "an ECE password that is a map": (
        lambda c: c["secrets"].update(ece={"username": "admin", "password": {"value": ECE_KEY}}),
        "secrets.ece.password",
        (ECE_KEY,),
    ),
}


@pytest.mark.parametrize("mistake", list(SECRET_MISTAKES))
def test_a_settings_error_about_a_secret_never_shows_it(mistake: str) -> None:
    change, key, secrets = SECRET_MISTAKES[mistake]
    config = base()
    config["secrets"]["ece"]["apiKey"] = ECE_KEY
    change(config)
    with pytest.raises(SettingsError) as raised:
        parse(config)
    message = str(raised.value)
    assert f"config '{key}'" in message, message
    assert_hidden(message, *secrets, ECE_KEY)


def test_secrets_in_plain_text_are_refused_without_showing_them() -> None:
    config = base()
    config["secrets"]["ece"]["apiKey"] = ECE_KEY
    config["secrets"]["eckClusters"]["quickstart"]["transportCaKey"] = USER_CA.key_pem
    lines = problems(config, present=list(config), secret_keys=[])
    assert lines[0].startswith("config 'secrets': value (secret) is invalid: it is stored in plain text"), lines
    assert_hidden("\n".join(lines), ECE_KEY, USER_CA.key_pem)
