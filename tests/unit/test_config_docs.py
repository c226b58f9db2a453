"""The key registry, `Pulumi.yaml`'s config schema, the README's configuration table, the stack files' JSON Schema and
the settings parser all name the same keys, with the same types, choices, defaults and requirements.

The registry (`components.settings.keys`) is the source: `Pulumi.yaml`, the README table and `stacks/config.schema.json`
are generated from it (`python -m components.settings.schema --write`) and must be what it generates; the parser is
held to it here, key by key: it refuses what the registry does not list, reads what it lists, refuses a value of
another type, takes the listed choices, fills in the listed defaults and requires what is marked required.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from components.settings import CaSource, Exposure, Scope, SecurityModel, Settings, keys, load_settings, schema
from components.settings.keys import ACCEPTED, KEYS, PROJECT_KEYS, accepted_paths, leaf_paths, walk
from components.validation import SettingsError
from tests.support.configs import eck_cluster
from tests.support.stacks import STACKS, raw_getter, stack_config, stack_names

ROOT = Path(__file__).resolve().parents[2]
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
SCHEMA: dict[str, Any] = PROJECT["config"]
STACK_SCHEMA = jsonschema.Draft202012Validator(schema.stack_schema())


def configuration_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("\n## Configuration\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def documented_paths() -> list[str]:
    """The key paths of the README table's first column, in order."""
    table = configuration_section().split(schema.TABLE_START)[1].split(schema.TABLE_END)[0]
    return [match[1] for line in table.splitlines() if (match := re.match(r"\| `([^`]+)` \|", line))]


# The generated files are what the registry generates.


@pytest.mark.parametrize("path", sorted(schema.generated(), key=str), ids=lambda p: p.name)
def test_the_generated_file_is_up_to_date(path: Path) -> None:
    assert path.read_text() == schema.generated()[path], "run `python -m components.settings.schema --write`"


def test_the_readme_table_lists_every_key_of_the_registry_once() -> None:
    documented = documented_paths()
    assert documented == [path for path, _key in walk()]
    assert len(documented) == len(set(documented)) >= 80
    assert set(accepted_paths()) <= set(documented)


def test_pulumi_yaml_declares_exactly_the_top_level_keys_with_what_pulumi_takes() -> None:
    """Pulumi 3.260's project schema (`configTypeDeclaration`) refuses any other attribute, `properties` included; an
    item type is only `type` and `items` (checked with the real CLI: tests/engine/test_config_errors.py)."""
    assert list(SCHEMA) == [key.name for key in PROJECT_KEYS] and set(SCHEMA) == ACCEPTED[""]
    for declared in SCHEMA.values():
        assert set(declared) <= {"type", "items", "description", "default", "secret"}
        assert declared["type"] in ("string", "integer", "boolean", "array", "object")
        assert set(declared.get("items", {})) <= {"type", "items"}
        assert ("items" in declared) == (declared["type"] == "array")


@pytest.mark.parametrize("top", sorted(ACCEPTED[""]))
def test_pulumi_yaml_names_every_sub_key_of_a_top_level_key(top: str) -> None:
    description = SCHEMA[top]["description"]
    sub_keys = {
        path.rsplit(".", 1)[-1].removesuffix("[]") for path, _ in walk() if path.startswith((f"{top}.", f"{top}[]."))
    }
    missing = sorted(
        key for key in sub_keys if key != "<name>" and not re.search(rf"\b{re.escape(key)}\b", description)
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
    assert set(config) <= ACCEPTED[""]
    for key, value in config.items():
        assert matches_type(SCHEMA[key], value), (key, value)


@pytest.mark.parametrize("stack", stack_names())
def test_committed_stacks_follow_the_json_schema(stack: str) -> None:
    document = yaml.safe_load((STACKS / f"Pulumi.{stack}.yaml").read_text())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in STACK_SCHEMA.iter_errors(document)]
    assert not errors, errors


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
                "adopt": {"alias": "logs"},
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


def as_stack_file(config: dict[str, Any]) -> dict[str, Any]:
    """A config as its stack file holds it: project keys, secrets encrypted."""

    def encrypt(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: encrypt(item) for key, item in value.items()}
        return {"secure": "v1:ciphertext"} if isinstance(value, str) and value else value

    document = {**config, "secrets": encrypt(config.get("secrets", {}))}
    return {"config": {f"ece-eck-remote:{key}": value for key, value in document.items()}}


def test_the_base_config_parses_and_follows_the_json_schema() -> None:
    settings = parse(base())
    assert settings.links[0].roles[0].name == "reader"
    document = as_stack_file(base())
    STACK_SCHEMA.validate(document)
    STACK_SCHEMA.validate({**document, "config": {**document["config"], "kubernetes:context": "dev"}})
    assert not STACK_SCHEMA.is_valid({**document, "config": {**document["config"], "ece-eck-remote:eckCluster": []}})
    plain_secret = copy.deepcopy(document)
    plain_secret["config"]["ece-eck-remote:secrets"]["ece"]["apiKey"] = "in plain text"
    assert not STACK_SCHEMA.is_valid(plain_secret)


@pytest.mark.parametrize("level", [level for level in ACCEPTED if level])
def test_every_level_refuses_a_key_it_does_not_list(level: str) -> None:
    config = base()
    node_at(config, level)["notAKey"] = 1
    with pytest.raises(SettingsError) as raised:
        parse(config)
    assert raised.value.key == f"{concrete(level)}.notAKey"
    assert str(raised.value) == (
        f"config '{concrete(level)}.notAKey' is not a known setting; known: " + ", ".join(sorted(ACCEPTED[level]))
    )
    assert not STACK_SCHEMA.is_valid(as_stack_file(config))


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


WRONG: dict[str, Any] = {
    "string": 7,
    "integer": "7",
    "boolean": "yes",
    "object": ["x"],
    "array": {"x": 1},
    "map": ["x"],
}
"""A value of another type, for each type."""


def wrong_value(key: keys.Key) -> Any:
    if key.type == "string|array":
        return 7
    if key.type == "string|object":
        return 7
    return WRONG[key.type]


ACCESS_ENTRY_PATHS = [path for path in KEYS if path.startswith("links[].access.")]


@pytest.mark.parametrize("path", sorted([*(p for p in leaf_paths() if "." in p), *ACCESS_ENTRY_PATHS]))
def test_a_value_of_another_type_is_refused_by_the_parser_and_the_json_schema(path: str) -> None:
    key = KEYS[path]
    level, _, name = path.rpartition(".")
    name = name.removesuffix("[]").removesuffix(".<name>")
    config = base()
    config["links"][0]["access"] = {"search": [{"names": ["a"]}], "replication": [{"names": ["b"]}]}
    node_at(config, level)[name] = wrong_value(key)
    with pytest.raises(SettingsError) as raised:
        parse(config)
    where = concrete(path).removesuffix("[0]")
    assert any(where == p.key or where.startswith(p.key + ".") for p in raised.value.problems), raised.value
    assert not STACK_SCHEMA.is_valid(as_stack_file(config))


@pytest.mark.parametrize("top", [key.name for key in PROJECT_KEYS])
def test_a_top_level_value_of_another_type_is_refused_by_the_parser(top: str) -> None:
    config = {**base(), top: wrong_value(KEYS[_full(top)])}
    with pytest.raises(SettingsError) as raised:
        parse(config)
    assert any(p.key.startswith(top) for p in raised.value.problems), raised.value
    assert not STACK_SCHEMA.is_valid(as_stack_file(config))


def _full(top: str) -> str:
    return next(path for path in KEYS if path.removesuffix("[]") == top)


def test_the_choices_are_the_parsers() -> None:
    assert KEYS["scope"].choices == tuple(s.value for s in Scope)
    assert KEYS["eckClusters[].securityModel"].choices == tuple(m.value for m in SecurityModel)
    assert KEYS["eckClusters[].transportCa.source"].choices == tuple(s.value for s in CaSource)
    assert KEYS["eckClusters[].remoteClusterServer.exposure"].choices == ("auto", *(e.value for e in Exposure))
    assert all(key.type == "string" for key in KEYS.values() if key.choices)


DEFAULTS = [path for path, key in KEYS.items() if key.default is not None and path in set(accepted_paths())]


@pytest.mark.parametrize("path", DEFAULTS)
def test_a_default_written_out_is_what_the_parser_fills_in(path: str) -> None:
    level, _, name = path.rpartition(".")
    explicit, absent = base(), base()
    if path == "links[].trustRemoteCa":  # only scope 'ece' takes it
        for config in (explicit, absent):
            config.update(scope="ece", remoteStack="acme/ece-eck-remote/eck-prod", eckClusters=[])
    node_at(explicit, level)[name] = KEYS[path].default
    node_at(absent, level).pop(name, None)
    assert parse(explicit) == parse(absent)


REQUIRED = [path for path, key in KEYS.items() if key.required and not path.startswith("links[].access.")]


@pytest.mark.parametrize("path", REQUIRED)
def test_a_required_key_left_out_is_refused_as_not_set(path: str) -> None:
    level, _, name = path.rpartition(".")
    config = base()
    node_at(config, level).pop(name, None)
    with pytest.raises(SettingsError) as raised:
        parse(config)
    assert any(p.key == concrete(path) and p.missing for p in raised.value.problems), raised.value
    assert not STACK_SCHEMA.is_valid(as_stack_file(config))


def test_the_readme_example_errors_are_the_parsers_own() -> None:
    """The README shows what `pulumi preview` prints for a config with three mistakes; these are the parser's lines."""
    block = configuration_section().split("```text\n", 1)[1].split("```", 1)[0]
    shown = [line.strip().removeprefix("error: ") for line in block.splitlines() if line.strip().startswith("error: ")]
    config = base()
    config["eckClusters"][0]["nodeSets"][0]["name"] = "Hot"
    config["links"][0]["alias"] = "Logs"
    config["ece"]["planTimeoutSeconds"] = 0
    with pytest.raises(SettingsError) as raised:
        parse(config)
    assert shown == [str(p) for p in raised.value.problems]


def test_the_registry_is_what_the_parser_reads() -> None:
    assert keys.ACCEPTED["links[].roles[]"] == {"name", *keys.ROLE_FIELDS}
