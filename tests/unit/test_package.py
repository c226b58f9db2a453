"""The package another Pulumi program installs (`pyproject.toml`): what the wheel holds, what it depends on, and the
names a stack records, which must not change from one version to the next: component type tokens, dynamic resource
types, and the module paths by which dynamic providers are pickled into state (a provider that moves without an
import left at its old path breaks the refresh and the delete of every resource made before)."""

from __future__ import annotations

import ast
import base64
import importlib
import inspect
import io
import pickle
import pkgutil
import tomllib
from pathlib import Path
from typing import Any

import pulumi
from packaging.requirements import Requirement
from pulumi.dynamic import Resource, ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider

import components
from components.ece.local_side import EceLocalSide
from components.elasticsearch.connection_check import RemoteConnectionCheckProvider

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "components"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
IMPORT_NAME = "ece_eck_remote"

COMPONENT_TYPES = {
    "EckClusterProtection": "eceeck:index:EckClusterProtection",
    "EckClusterProtections": "eceeck:index:EckClusterProtections",
    "EckElasticsearch": "eceeck:index:EckElasticsearch",
    "EckLinkEnd": "eceeck:index:EckLinkEnd",
    "EckRemoteCluster": "eceeck:index:EckRemoteCluster",
    "RemoteClusterLink": "eceeck:index:RemoteClusterLink",
}
"""Each component class and its type token. A token is part of every URN below it: a rename needs `aliases`."""

DYNAMIC_TYPES = {
    "CrossClusterApiKey": "dynamic/eceeck:CrossClusterApiKey",
    "CrossClusterApiKeyAccess": "dynamic/eceeck:CrossClusterApiKeyAccess",
    "EceDeploymentCa": "dynamic/eceeck:EceDeploymentCa",
    "EceDeploymentTrust": "dynamic/eceeck:EceDeploymentTrust",
    "EceKeystoreCredentials": "dynamic/eceeck:EceKeystoreCredentials",
    "EceTrustRetirement": "dynamic/eceeck:EceTrustRetirement",
    "EceTrustedCa": "dynamic/eceeck:EceTrustedCa",
    "EckOperatorOutputs": "dynamic/eceeck:EckOperatorOutputs",
    "RemoteClusterSettings": "dynamic/eceeck:RemoteClusterSettings",
    "RemoteConnectionCheck": "dynamic/eceeck:RemoteConnectionCheck",
    "RemoteRole": "dynamic/eceeck:RemoteRole",
}
"""Each dynamic resource class and its type (`pulumi-python:<type>` in URNs)."""

PICKLED = {
    ("ece.deployment_ca", "EceDeploymentCaProvider"),
    ("ece.deployment_trust", "EceDeploymentTrustProvider"),
    ("ece.keystore", "EceKeystoreCredentialsProvider"),
    ("ece.local_side", "EceLocalSide"),
    ("ece.retirement", "EceTrustRetirementProvider"),
    ("ece.trust", "EceTrustedCaProvider"),
    ("eck_operator_outputs", "EckOperatorOutputsProvider"),
    ("elasticsearch.api_key", "CrossClusterApiKeyAccessProvider"),
    ("elasticsearch.api_key", "CrossClusterApiKeyProvider"),
    ("elasticsearch.connection_check", "RemoteConnectionCheckProvider"),
    ("elasticsearch.remote_settings", "RemoteClusterSettingsProvider"),
    ("elasticsearch.roles", "RemoteRoleProvider"),
}
"""What the state refers to by module path (under the package, `components.` or `ece_eck_remote.`) and name."""


def modules() -> list[Any]:
    return [importlib.import_module(info.name) for info in pkgutil.walk_packages(components.__path__, "components.")]


def classes(base: type) -> dict[str, type]:
    return {
        obj.__qualname__: obj
        for module in modules()
        for obj in vars(module).values()
        if inspect.isclass(obj) and obj.__module__ == module.__name__ and issubclass(obj, base) and obj is not base
    }


def test_every_pin_of_requirements_txt_is_inside_the_declared_range() -> None:
    declared = {Requirement(text).name.lower(): Requirement(text) for text in PYPROJECT["project"]["dependencies"]}
    pins = {
        Requirement(line).name.lower(): Requirement(line)
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert declared.keys() == pins.keys()
    for name, pin in pins.items():
        (version,) = [spec.version for spec in pin.specifier]
        assert declared[name].specifier.contains(version), f"{name}=={version} is outside {declared[name].specifier}"


def test_the_wheel_maps_the_folder_and_every_subpackage_to_the_import_name() -> None:
    setuptools = PYPROJECT["tool"]["setuptools"]
    assert setuptools["package-dir"] == {IMPORT_NAME: "components"}
    found = sorted(
        ".".join([IMPORT_NAME, *path.parent.relative_to(PACKAGE).parts]) for path in PACKAGE.rglob("__init__.py")
    )
    assert sorted(setuptools["packages"]) == found
    assert (PACKAGE / "py.typed").exists() and setuptools_package_data() == ["py.typed"]


def setuptools_package_data() -> list[str]:
    data: list[str] = PYPROJECT["tool"]["setuptools"]["package-data"][IMPORT_NAME]
    return data


def test_the_package_imports_itself_only_relatively() -> None:
    """Installed it is `ece_eck_remote`, here `components`: an absolute import of either would break the other."""
    absolute = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            absolute += [
                f"{path.relative_to(ROOT)}: {name}"
                for name in names
                if name.split(".")[0] in ("components", IMPORT_NAME)
            ]
    assert absolute == []


def test_component_type_tokens_are_stable() -> None:
    """Read from the source: each ComponentResource subclass passes `names.type_token("<Name>")` to Pulumi."""
    tokens = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                ast.unparse(base).endswith("ComponentResource") for base in node.bases
            ):
                calls = [
                    call.args[0].value
                    for call in ast.walk(node)
                    if isinstance(call, ast.Call)
                    and ast.unparse(call.func) == "names.type_token"
                    and isinstance(call.args[0], ast.Constant)
                ]
                assert len(calls) == 1, node.name
                tokens[node.name] = components.names.type_token(calls[0])
    assert tokens == COMPONENT_TYPES
    assert set(classes(pulumi.ComponentResource)) == set(COMPONENT_TYPES)


def test_dynamic_resource_types_are_stable() -> None:
    found = {name: cls._resource_type_name for name, cls in classes(Resource).items()}  # type: ignore[attr-defined]
    assert found == DYNAMIC_TYPES


class RecordingUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self.found: set[tuple[str, str]] = set()

    def find_class(self, module: str, name: str) -> Any:
        self.found.add((module, name))
        return super().find_class(module, name)


def pickled_references(provider: ResourceProvider) -> set[tuple[str, str]]:
    """(module, name) of what a provider's pickle, as the SDK makes it for the state, refers to."""
    unpickler = RecordingUnpickler(base64.b64decode(serialize_provider(provider)))
    unpickler.load()
    return unpickler.found


def test_providers_are_pickled_by_reference_to_module_paths_that_stay() -> None:
    providers: list[ResourceProvider] = [
        cls() for name, cls in classes(ResourceProvider).items() if name not in ("ConfiguredProvider",)
    ]
    providers.append(RemoteConnectionCheckProvider(EceLocalSide()))
    found = set().union(*(pickled_references(provider) for provider in providers))
    ours = {(module.removeprefix("components."), name) for module, name in found if module.startswith("components.")}
    assert ours == PICKLED
    # nothing else of ours is pickled by value: the rest of a pickle is the standard library's or the SDK's
    assert {module.split(".")[0] for module, _name in found} <= {"components", "builtins", "dill", "pulumi"}


def test_the_public_surface_is_documented() -> None:
    """Each exported class or function has a docstring of its own (not inherited, not a dataclass's signature)."""
    undocumented = []
    for name in components.__all__:
        exported = getattr(components, name)
        doc = vars(exported).get("__doc__") if inspect.isclass(exported) else exported.__doc__
        if not doc or doc.startswith(f"{name}("):
            undocumented.append(name)
    assert undocumented == []
