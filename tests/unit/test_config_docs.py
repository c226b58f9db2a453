"""The README's configuration table, `Pulumi.yaml`'s config schema and the settings parser name the same keys.

The parser's accepted keys live in `components.settings.keys.ACCEPTED`, one set per level. The README table lists key
paths in its first column (`.x` belongs to the list item of the row above, `a.{b, c}` is `a.b` and `a.c`); `Pulumi.yaml`
declares each top-level key and names its sub-keys in the description.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.settings import Settings, keys, load_settings
from components.settings.keys import ACCEPTED, accepted_paths, leaf_paths
from components.validation import SettingsError
from tests.support.configs import eck_cluster
from tests.support.stacks import raw_getter, stack_config, stack_names

ROOT = Path(__file__).resolve().parents[2]
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
SCHEMA: dict[str, Any] = PROJECT["config"]
FREE_FORM = "links[].access"
"""The one documented free-form object with documented fields: Elasticsearch's access, checked by parsing."""


def configuration_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("\n## Configuration\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def expand(token: str) -> list[str]:
    match = re.fullmatch(r"(.*)\{([^}]*)\}", token)
    if match is None:
        return [token]
    return [match[1] + item.strip() for item in match[2].split(",")]


def documented_paths() -> list[str]:
    """The key paths of the table's first column, made absolute, in order."""
    paths: list[str] = []
    top = ""
    for line in configuration_section().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) < 2 or cells[0] in ("key", "---"):
            continue
        for token in re.findall(r"`([^`]+)`", cells[0]):
            for written in expand(token):
                if written.startswith("."):
                    assert top, f"{written!r} continues no key above it"
                    paths.append(top + written)
                else:
                    top = written.split(".")[0]
                    paths.append(written)
    return paths


DOCUMENTED = documented_paths()
ACCEPTED_PATHS = set(accepted_paths())


def test_the_table_is_read() -> None:
    assert len(DOCUMENTED) >= 50
    assert len(DOCUMENTED) == len(set(DOCUMENTED)), [p for p in DOCUMENTED if DOCUMENTED.count(p) > 1]


@pytest.mark.parametrize("path", [p for p in DOCUMENTED if not p.startswith(FREE_FORM + ".")])
def test_every_documented_key_is_accepted_by_the_parser(path: str) -> None:
    assert path in ACCEPTED_PATHS, f"README documents {path!r}, which the settings parser does not accept"


@pytest.mark.parametrize("path", sorted(leaf_paths()))
def test_every_accepted_key_is_documented_in_the_readme(path: str) -> None:
    assert path in DOCUMENTED or any(p.startswith(path + ".") for p in DOCUMENTED), f"README misses {path!r}"


def test_every_top_level_key_has_a_row_of_its_own_in_the_readme() -> None:
    tops = {path.split(".")[0].removesuffix("[]") for path in DOCUMENTED}
    assert tops == ACCEPTED[""]


def test_pulumi_yaml_declares_exactly_the_top_level_keys() -> None:
    assert set(SCHEMA) == ACCEPTED[""]


@pytest.mark.parametrize("top", sorted(ACCEPTED[""]))
def test_pulumi_yaml_names_every_sub_key_of_a_top_level_key(top: str) -> None:
    description = SCHEMA[top].get("description", "")
    levels = [level for level in ACCEPTED if level == top or level.startswith((top + "[", top + "."))]
    missing = sorted(
        {key for level in levels for key in ACCEPTED[level] if not re.search(rf"\b{re.escape(key)}\b", description)}
    )
    assert not missing, f"Pulumi.yaml's description of {top!r} does not name {missing}"


def matches_type(declared: dict[str, Any], value: Any) -> bool:
    """What the Pulumi CLI checks (`workspace.ValidateConfigValue`)."""
    kind = declared.get("type")
    if kind is None:
        return True
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if kind == "object":
        return isinstance(value, dict)
    return isinstance(value, list) and all(matches_type(declared["items"], item) for item in value)


@pytest.mark.parametrize("stack", stack_names())
def test_committed_stacks_use_only_accepted_keys_of_the_declared_types(stack: str) -> None:
    config = stack_config(stack)
    assert set(config) <= ACCEPTED[""], "the parser reads top-level keys by name and would ignore the others"
    for key, value in config.items():
        if not SCHEMA[key].get("secret"):
            assert matches_type(SCHEMA[key], value), (key, value)


def test_pulumi_yaml_requires_no_key_and_its_defaults_mean_not_set() -> None:
    """The CLI refuses a stack that lacks a declared key without a default; the parser requires none of them."""
    assert all("default" in declared for declared in SCHEMA.values())
    defaults = {key: declared["default"] for key, declared in SCHEMA.items()}
    assert all(matches_type(SCHEMA[key], value) for key, value in defaults.items())
    assert parse(defaults) == parse({})
    unset = {key: value for key, value in defaults.items() if key not in base()}
    assert parse({**base(), **unset}) == parse(base())
    ece_only = {"scope": "ece", "remoteStack": "acme/ece-eck-remote/eck-prod"}
    assert parse({**defaults, **ece_only}) == parse(ece_only)


# The parser against the registry: each level is really checked, and each key really read.


def base() -> dict[str, Any]:
    """A valid scope 'both' config that reaches every level of `ACCEPTED`."""
    return {
        "kubernetes": {},
        "eckClusters": [eck_cluster(remoteClusterServer={}, transportCa={}, http={})],
        "ece": {"url": "https://ece.example.com:12443"},
        "eceDeployments": [{"name": "search", "id": "a" * 32}],
        "links": [
            {
                "alias": "logs",
                "eckCluster": "quickstart",
                "eceDeployment": "search",
                "access": {"search": [{"names": ["logs-*"]}]},
                "roles": [{"name": "reader", "remoteIndices": [{"names": ["logs-*"], "privileges": ["read"]}]}],
            }
        ],
        "secrets": {"ece": {"apiKey": "ece-key"}, "eckClusters": {"quickstart": {}}},
    }


def parse(config: dict[str, Any]) -> Settings:
    return load_settings(raw_getter(config), project="ece-eck-remote", stack="test", project_dir=ROOT)


def concrete(level: str) -> str:
    return level.replace("[]", "[0]").replace("<name>", "quickstart")


def node_at(config: dict[str, Any], level: str) -> dict[str, Any]:
    node: Any = config
    for part in re.findall(r"[^.\[\]]+|\[0\]", concrete(level)):
        node = node[0] if part == "[0]" else node[part]
    assert isinstance(node, dict)
    return node


def test_the_base_config_parses() -> None:
    settings = parse(base())
    assert settings.links[0].roles[0].name == "reader"


@pytest.mark.parametrize("level", [level for level in ACCEPTED if level])
def test_every_level_refuses_a_key_it_does_not_list(level: str) -> None:
    config = base()
    node_at(config, level)["notAKey"] = 1
    with pytest.raises(SettingsError) as raised:
        parse(config)
    assert raised.value.key == f"{concrete(level)}.notAKey"
    assert "is not a known setting; known: " + ", ".join(sorted(ACCEPTED[level])) in str(raised.value)


ANY_VALUES: list[Any] = ["?", 7, True, None, ["?"], [7], {"?": 1}]


@pytest.mark.parametrize("value", ANY_VALUES, ids=repr)
@pytest.mark.parametrize("path", sorted(p for p in leaf_paths() if "." in p))
def test_every_accepted_key_is_read_and_any_value_gets_a_settings_error_or_passes(path: str, value: Any) -> None:
    """The key may be refused for its value or in this scope, never as unknown, and never with a crash."""
    level, _, key = path.rpartition(".")
    config = base()
    node_at(config, level)[key] = copy.deepcopy(value)
    try:
        parse(config)
    except SettingsError as error:
        refused = str(error)
    else:
        refused = ""
    assert "not a known setting" not in refused


ACCESS_VALUES = {"names": ["a"], "field_security": {"grant": ["*"]}, "query": {"match_all": {}}}


@pytest.mark.parametrize("path", [p for p in DOCUMENTED if p.startswith(FREE_FORM + ".")])
def test_every_documented_access_field_is_taken(path: str) -> None:
    match = re.fullmatch(re.escape(FREE_FORM) + r"\.(search|replication)\[\]\.(\w+)", path)
    assert match, path
    kind, field = match[1], match[2]
    config = base()
    config["links"][0]["access"] = {kind: [{"names": ["a"], field: ACCESS_VALUES.get(field, False)}]}
    assert parse(config).links[0].access[kind][0][field] is not None


def test_the_readme_example_error_is_the_parsers_own() -> None:
    match = re.search(r"`(config '([^']+)': value '([^']+)' is invalid: [^`]+)`", configuration_section())
    assert match, "the README shows an example error"
    example, key, value = match[1], match[2], match[3]
    assert key == "eckClusters[0].nodeSets[0].name"
    config = base()
    config["eckClusters"][0]["nodeSets"][0]["name"] = value
    with pytest.raises(SettingsError) as raised:
        parse(config)
    assert str(raised.value) == example


def test_the_registry_is_what_the_parser_reads() -> None:
    assert keys.ACCEPTED["links[].roles[]"] == {"name", *keys.ROLE_FIELDS}
