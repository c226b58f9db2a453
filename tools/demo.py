"""`make demo`: the whole link on the local default, with no cloud.

Starts the ECE and Elasticsearch emulators on loopback, runs `pulumi up` on the `local` stack with the real engine
(the Kubernetes side is rendered to .local/rendered), shows what each link ended with, and stops the emulators.
Each run starts from an empty state (kept in .local/state until the next run).
"""

from __future__ import annotations

import shutil
import sys

from tools.local_emulators import local_emulators
from tools.pulumi_cli import PulumiCli
from tools.toolchains import ROOT

PASSPHRASE = "local-demo"  # the published passphrase of stacks/Pulumi.local.yaml's emulator-only secrets


def main() -> int:
    local = ROOT / ".local"
    shutil.rmtree(local / "state", ignore_errors=True)
    shutil.rmtree(local / "rendered", ignore_errors=True)
    print("starting the ECE and Elasticsearch emulators on 127.0.0.1 ...", flush=True)
    with local_emulators(local):
        cli = PulumiCli(
            project_dir=ROOT,
            stack="local",
            state_dir=local / "state",
            passphrase=PASSPHRASE,
            home=local / "pulumi-home",
        )
        cli.select_or_init()
        cli.stream(["up", "--yes"])
        links = cli.outputs().get("links", {})
        print("\nlinks of stack 'local':")
        for name, link in links.items():
            print(f"  {name}")
            for label, key in (
                ("alias", "alias"),
                ("proxy address", "proxyAddress"),
                ("server name", "serverName"),
                ("CA fingerprint", "caFingerprint"),
                ("connected", "connected"),
            ):
                print(f"    {label:<15} {link.get(key)}")
        print(f"\nmanifests: {local / 'rendered'}; state: {local / 'state'}. Stopping the emulators.")
        return 0 if links and all(link.get("connected") is True for link in links.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
