"""The key registry (`keys.PROJECT_KEYS`) rendered for the three places that describe the config.

- `Pulumi.yaml`'s `config:` block. Pulumi 3.260 takes `type`, `items` (itself only `type` and `items`),
  `description`, `default` and `secret` per top-level key, and refuses anything else (`properties` is "not allowed"),
  so nested keys are named, with their types, in the description;
- the README's configuration table, one row per key;
- `stacks/config.schema.json`, a JSON Schema of the stack files with every key, its type, choices, default and
  meaning, for editors (`# yaml-language-server: $schema=config.schema.json` at the top of a stack file).

`python -m components.settings.schema --write` regenerates all three; `--check` exits 1 when one differs.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import yaml

from .. import names
from .keys import PROJECT_KEYS, Key, walk

ROOT = Path(__file__).resolve().parents[2]
PULUMI_YAML = ROOT / "Pulumi.yaml"
README = ROOT / "README.md"
STACK_SCHEMA = ROOT / "stacks" / "config.schema.json"
TABLE_START = "<!-- config table: generated from components/settings/keys.py by `python -m components.settings.schema --write` -->"
TABLE_END = "<!-- end of config table -->"

EMPTY: dict[str, Any] = {"string": "", "object": {}, "array": [], "map": {}}

PULUMI_CONFIG_COMMENT = """\
# Generated from components/settings/keys.py by `python -m components.settings.schema --write`: edit it there.
# Pulumi checks the type of each top-level key (and of a list's items); the program checks everything inside, and the
# README table and stacks/config.schema.json list every key. Each key has a default, which means "not set" to the
# program: Pulumi requires every declared key that has none. `secrets` is not declared `secret: true`: with its
# default, Pulumi would then refuse every stack that has no encrypted value in it (a stack that needs no secret);
# the program refuses a `secrets` stored in plain text instead.
"""


def plain(text: str) -> str:
    """Markdown to plain text: no backticks."""
    return text.replace("`", "")


def _yaml_value(value: Any) -> str:
    return str(yaml.safe_dump(value, default_flow_style=True, width=1000)).strip().removesuffix("\n...").strip()


def signature(key: Key) -> str:
    """The type of a key in one line, nested keys included: `{name: string (required), count: integer = 1}`."""
    if key.choices:
        text = " | ".join(key.choices)
    elif key.type == "object" and key.fields:
        text = _fields(key.fields)
    elif key.type == "array" and key.fields:
        text = f"[{_fields(key.fields)}]"
    elif key.type == "array":
        text = f"[{key.items or 'any'}]"
    elif key.type == "map" and key.fields:
        text = "{<name>: " + _fields(key.fields) + "}"
    elif key.type == "map":
        text = "{<name>: " + (key.items or "any") + "}"
    elif "|" in key.type:
        text = " or ".join("[string]" if part == "array" else part for part in key.types)
    else:
        text = key.type
    if key.secret:
        text = "secret " + text
    if key.required:
        text += " (required)"
    elif key.default is not None:
        text += " = " + _yaml_value(key.default)
    return text


def _fields(fields: tuple[Key, ...]) -> str:
    return "{" + ", ".join(f"{field.name}: {signature(field)}" for field in fields) + "}"


def pulumi_config() -> dict[str, dict[str, Any]]:
    """`Pulumi.yaml`'s `config:` block as data."""
    config: dict[str, dict[str, Any]] = {}
    for key in PROJECT_KEYS:
        entry: dict[str, Any] = {"type": "object" if key.type == "map" else key.type}
        if key.type == "array":
            entry["items"] = {"type": key.items or "object"}
        entry["default"] = key.default if key.default is not None else EMPTY[key.type]
        description = plain(key.doc[0].upper() + key.doc[1:]) + "."
        if key.choices:
            description += " One of: " + ", ".join(key.choices) + "."
        if key.fields:
            item = "Each item" if key.type == "array" else "Keys"
            description += f" {item}: {plain(signature(Key(key.name, 'object', '', fields=key.fields)))}."
        description += ' See README, "Configuration".'
        entry["description"] = description
        config[key.name] = entry
    return config


def pulumi_config_text() -> str:
    """The `config:` block as it is written in `Pulumi.yaml`, from `config:` to the end of the file."""
    lines = ["config:", *("  " + line if line else "" for line in PULUMI_CONFIG_COMMENT.rstrip("\n").split("\n"))]
    for name, entry in pulumi_config().items():
        lines.append(f"  {name}:")
        lines.append(f"    type: {entry['type']}")
        if "items" in entry:
            lines += ["    items:", f"      type: {entry['items']['type']}"]
        lines.append(f"    default: {_yaml_value(entry['default'])}")
        lines.append("    description: >-")
        lines += textwrap.wrap(
            entry["description"], width=118, initial_indent="      ", subsequent_indent="      ", break_on_hyphens=False
        )
    return "\n".join(lines) + "\n"


def _type_cell(key: Key) -> str:
    if key.choices:
        text = " \\| ".join(f"`{choice}`" for choice in key.choices)
    elif key.type == "array":
        text = "list of objects" if key.items == "object" else f"list of {key.items or 'value'}s"
    elif key.type == "map":
        text = f"map of {key.items or 'value'}s"
    else:
        text = " or ".join("list of strings" if part == "array" else part for part in key.types)
    if key.secret:
        text = "secret " + text
    if key.required:
        text += ", required"
    elif key.default is not None:
        text += f", default `{_yaml_value(key.default)}`"
    return text


def readme_table() -> str:
    """The README's configuration table, between its markers."""
    rows = [TABLE_START, "| key | type | meaning |", "|---|---|---|"]
    for path, key in walk():
        doc = key.doc.replace("|", "\\|")
        rows.append(f"| `{path}` | {_type_cell(key)} | {doc} |")
    rows.append(TABLE_END)
    return "\n".join(rows)


SECURE: dict[str, Any] = {
    "type": "object",
    "description": "an encrypted value, as `pulumi config set --secret --path` writes it",
    "properties": {"secure": {"type": "string"}},
    "required": ["secure"],
    "additionalProperties": False,
}


def json_schema(key: Key) -> dict[str, Any]:
    """The JSON Schema of one key's value in a stack file."""
    schema: dict[str, Any]
    if key.secret:
        schema = {"$ref": "#/$defs/secure"}
    elif key.type == "object" and key.fields:
        schema = _object_schema(key.fields)
    elif key.type == "array":
        item = _object_schema(key.fields) if key.fields else {"type": key.items} if key.items else {}
        schema = {"type": "array", "items": item}
    elif key.type == "map":
        value = _object_schema(key.fields) if key.fields else {"type": key.items} if key.items else {}
        schema = {"type": "object", "additionalProperties": value}
    elif "|" in key.type:
        schema = {"type": list(key.types)}
        if "array" in key.types and key.items:
            schema["items"] = {"type": key.items}
    else:
        schema = {"type": key.type}
    if key.choices:
        schema["enum"] = list(key.choices)
    if key.default is not None:
        schema["default"] = key.default
    schema["description"] = plain(key.doc)
    schema["markdownDescription"] = key.doc
    return schema


def _object_schema(fields: tuple[Key, ...]) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {field.name: json_schema(field) for field in fields},
        "additionalProperties": False,
    }
    required = [field.name for field in fields if field.required]
    if required:
        schema["required"] = required
    return schema


def stack_schema() -> dict[str, Any]:
    """The JSON Schema of a stack file, `stacks/Pulumi.<stack>.yaml`."""
    project = names.PROJECT
    known = [f"{project}:{key.name}" for key in PROJECT_KEYS]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Stack config of the {project} Pulumi project (stacks/Pulumi.<stack>.yaml)",
        "description": "Generated from components/settings/keys.py by `python -m components.settings.schema --write`.",
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "properties": {f"{project}:{key.name}": json_schema(key) for key in PROJECT_KEYS},
                "propertyNames": {"anyOf": [{"not": {"pattern": f"^{re.escape(project)}:"}}, {"enum": known}]},
            },
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
            "environment": {},
        },
        "$defs": {"secure": SECURE},
    }


def stack_schema_text() -> str:
    return json.dumps(stack_schema(), indent=2, ensure_ascii=False) + "\n"


def generated() -> dict[Path, str]:
    """Each generated file with its expected text."""
    pulumi_yaml = PULUMI_YAML.read_text()
    readme = README.read_text()
    start, end = readme.index(TABLE_START), readme.index(TABLE_END) + len(TABLE_END)
    return {
        PULUMI_YAML: pulumi_yaml[: pulumi_yaml.index("\nconfig:\n") + 1] + pulumi_config_text(),
        README: readme[:start] + readme_table() + readme[end:],
        STACK_SCHEMA: stack_schema_text(),
    }


def main(argv: list[str]) -> int:
    write = "--write" in argv
    stale = [path for path, text in generated().items() if not path.exists() or path.read_text() != text]
    for path in stale:
        if write:
            path.write_text(generated()[path])
        print(f"{'wrote' if write else 'differs'}: {path.relative_to(ROOT)}")
    return 1 if stale and not write else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
