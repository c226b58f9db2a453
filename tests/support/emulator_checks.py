"""What the engine tests read from the emulators: their state, and whether a link crosses while an `up` runs."""

from __future__ import annotations

import threading
from typing import Any

import requests

from tools.emulated_link import LOCAL_PASSWORD, EmulatedLink


def emulator_state(env: EmulatedLink) -> dict[str, Any]:
    """Everything a link writes (trust, keystore, plans, settings, roles, keys): equal before and after means that
    nothing was written."""
    local = env.control(env.local, "GET", "state")
    remote = env.control(env.remote, "GET", "state")
    resource = env.ece_resource()
    return {
        "trust": resource["trust"],
        "keystore": resource["keystore"],
        "plans": resource["plans"],
        "settings": local["settings"]["persistent"],
        "roles": local["roles"],
        "keys": sorted((k["id"], k["invalidated"]) for k in remote["api_keys"]),
    }


def snapshot(env: EmulatedLink) -> dict[str, Any]:
    """What a link leaves behind (no plan history): for "destroy leaves the emulators as found"."""
    state = emulator_state(env)
    del state["plans"]
    state["keys"] = sorted(key_id for key_id, invalidated in state["keys"] if not invalidated)
    return state


def connected(env: EmulatedLink, alias: str) -> bool:
    """A request across the link now (`_resolve/cluster` makes an attempt when no connection is open)."""
    answer = requests.get(
        f"{env.local.url}/_resolve/cluster/{alias}:*", auth=("elastic", LOCAL_PASSWORD), timeout=10
    ).json()
    return bool((answer.get(alias) or {}).get("connected"))


class Probe:
    """`connected` every 50 ms while an `up` runs, and how many connections the remote saw end meanwhile."""

    def __init__(self, env: EmulatedLink, alias: str) -> None:
        self.env, self.alias = env, alias
        self.answers: list[bool] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.ended_before = self.ended_after = 0

    def run(self) -> None:
        while not self.stop.is_set():
            self.answers.append(connected(self.env, self.alias))
            self.stop.wait(0.05)

    def __enter__(self) -> Probe:
        self.ended_before = len(self.env.rcs["events"])
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.ended_after = len(self.env.rcs["events"])
