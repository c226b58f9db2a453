"""Helpers shared by the dynamic providers: the preview sentinel, input checks, stable hashing."""

from __future__ import annotations

import functools
import hashlib
import json
import pickle
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import pulumi
from pulumi.dynamic import CheckFailure, ConfigureRequest, ResourceProvider, UpdateResult
from pulumi.dynamic import dynamic as sdk_dynamic
from pulumi.output import Unknown

from . import credentials, engine_log, lifeline, names, provider_pool

# In the dynamic provider process this module is first loaded by the first provider call (the engine's request
# carries the pickled provider, whose class lives in a module that imports this one): from then on, the process
# ends by itself as soon as the engine that started it is gone, and the waits' progress lines go to the engine, on
# the resource that waits. Nowhere else (program, tests, tools) does either start.
lifeline.start_in_provider_process()
engine_log.install()
provider_pool.widen()

PICKLER_PATCHED = ("_batch_setitems", "save_dict")
"""What the SDK's `serialize_provider` replaces on `pickle._Pickler` and never puts back."""


def _serialize_provider_once(serialize: Callable[[ResourceProvider], str]) -> Callable[[ResourceProvider], str]:
    """The SDK's provider serialization, with the pickler as it found it put back afterwards.

    `pulumi.dynamic.dynamic.serialize_provider` (SDK 3.260.0) sorts dictionaries by wrapping
    `pickle._Pickler._batch_setitems` in a function that sorts, then calls the method it found, and leaves the wrapper
    in place: the n-th dynamic resource of a process pickles through n nested wrappers, each sorting again. Declaring
    costs O(n) more per resource (quadratic in the number of dynamic resources), and at about a thousand dynamic
    resources (some 140 links; far fewer in a test process that runs the program many times) every provider's pickling
    fails with `RecursionError: maximum recursion depth exceeded` (probably pulumi/pulumi#17803). Putting the two
    attributes back after each call keeps exactly one sorting wrapper: the same bytes, at a constant cost."""

    @functools.wraps(serialize)
    def serialize_once(provider: ResourceProvider) -> str:
        saved = {name: vars(pickle._Pickler)[name] for name in PICKLER_PATCHED}
        try:
            return serialize(provider)
        finally:
            for name, value in saved.items():
                setattr(pickle._Pickler, name, value)

    serialize_once.restores_pickler = True  # type: ignore[attr-defined]
    return serialize_once


if not getattr(sdk_dynamic.serialize_provider, "restores_pickler", False):
    sdk_dynamic.serialize_provider = _serialize_provider_once(sdk_dynamic.serialize_provider)

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""What a dynamic provider receives, in preview, for an input whose value is not known yet."""


class ConfiguredProvider(ResourceProvider):
    """A dynamic provider that takes the stack config the engine hands it (pulumi/pulumi#17673), so that credential
    references (`credentials.py`) resolve at operation time instead of being inputs."""

    def configure(self, req: ConfigureRequest) -> None:
        # The project's namespace: this program's, or the one of a program that uses these components as a library.
        raw = req.config.get("secrets")
        credentials.remember_stack_secrets(raw if raw is not None else req.config.get(f"{names.PROJECT}:secrets"))


class AdoptionError(RuntimeError):
    """What a link was told to take over (`links[].adopt`) is not there, or is not the link's to take."""


CREDENTIAL_KEYS = ("credentials", "ece_credentials")
"""Inputs (at any depth) that hold credentials or a reference to them (`credentials.py`)."""

Provider = TypeVar("Provider", bound=ResourceProvider)
Update = Callable[[Provider, str, dict[str, Any], dict[str, Any]], UpdateResult]


def _without_credentials(value: Any, key: str | None = None) -> Any:
    if key in CREDENTIAL_KEYS:
        return "<credentials>"
    if isinstance(value, Mapping):
        return {k: _without_credentials(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without_credentials(item) for item in value]
    return value


def only_credentials_changed(olds: Mapping[str, Any], news: Mapping[str, Any], keys: Iterable[str]) -> list[str]:
    """The changed inputs, when every change is in credentials (new ones, or credentials moved out of state into a
    reference); empty otherwise."""
    changed = changed_keys(olds, news, keys)
    if not changed:
        return []
    before = _canonical(_without_credentials({key: olds.get(key) for key in changed}))
    after = _canonical(_without_credentials({key: news.get(key) for key in changed}))
    return changed if before == after else []


def credentials_change_touches_nothing(keys: Iterable[str]) -> Callable[[Update[Provider]], Update[Provider]]:
    """For `update`: when only credentials changed, record the new inputs and call no API. Credentials say how to
    reach a system, not what it should hold, so rotating them (or moving them out of state) changes nothing there."""
    inputs = tuple(keys)

    def wrap(update: Update[Provider]) -> Update[Provider]:
        @functools.wraps(update)
        def run(self: Provider, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
            changed = only_credentials_changed(olds, news, inputs)
            if changed:
                return UpdateResult({**olds, **{key: news.get(key) for key in changed}})
            return update(self, id_, olds, news)

        return run

    return wrap


def credentials_input(value: Any) -> Any:
    """Credentials as a resource input: a reference stays readable (it holds nothing secret), anything else is
    marked secret."""
    return value if credentials.is_reference(value) else pulumi.Output.secret(value)


def is_unknown(value: Any) -> bool:
    """The preview sentinel string, or (inside secrets and nested values) the SDK's `Unknown` marker."""
    if isinstance(value, Unknown) or value == UNKNOWN:
        return True
    if isinstance(value, Mapping):
        return any(is_unknown(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(is_unknown(item) for item in value)
    return False


def changed_keys(olds: Mapping[str, Any], news: Mapping[str, Any], keys: Iterable[str]) -> list[str]:
    """Inputs among `keys` whose new value differs from the old one (an unknown new value counts as a change)."""
    return [key for key in keys if is_unknown(news.get(key)) or _canonical(olds.get(key)) != _canonical(news.get(key))]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=lambda _o: UNKNOWN)


def stable_hash(value: Any) -> str:
    return hashlib.sha256(_canonical(value).encode()).hexdigest()


def require(news: Mapping[str, Any], keys: Iterable[str]) -> list[CheckFailure]:
    return [CheckFailure(key, f"'{key}' is required") for key in keys if news.get(key) in (None, "")]


def check_alias(news: Mapping[str, Any]) -> list[CheckFailure]:
    """The `alias` input follows the alias rule (one rule for the keystore key and the settings)."""
    alias = news.get("alias")
    if isinstance(alias, str) and not is_unknown(alias) and not names.valid_alias(alias):
        return [CheckFailure("alias", f"'{alias}': {names.ALIAS_RULE}")]
    return []
