"""A real Elasticsearch node as an ECE deployment's Elasticsearch: what ECE does to a deployment's nodes when a plan
applies, done to the node by the ECE emulator (`EceEmulator.attach_node`).

- Keystore: the deployment's keystore entries are written into the node's keystore (entries ECE no longer holds are
  removed; the node's own bootstrap entries are left alone), then, where ECE makes the node load them,
  `POST _nodes/reload_secure_settings` (Elasticsearch >= 8.13 applies `cluster.remote.*.credentials` that way).
- Trust: the certificates of the deployment's `direct` trust entries become the file that
  `xpack.security.remote_cluster_client.ssl.certificate_authorities` names; the node reloads it (its resource
  watcher), and the change counts as applied once the node has logged the reload.
Both happen before the plan shows as finished, as a plan on ECE ends when its steps have run on every node.
"""

from __future__ import annotations

import threading

from tools.real_elasticsearch import RealNode


class RealNodeDeployment:
    def __init__(self, node: RealNode) -> None:
        self.node = node
        self._lock = threading.Lock()
        self._written: set[str] = set()

    def apply_keystore(self, secrets: dict[str, str], reload: bool) -> None:
        with self._lock:
            for key in sorted(self._written - set(secrets)):
                self.node.keystore_remove(key)
            for key, value in sorted(secrets.items()):
                self.node.keystore_set(key, value)
            self._written = set(secrets)
            if reload:
                self.node.reload_secure_settings()

    def apply_trust(self, certificates: list[str]) -> None:
        with self._lock:
            self.node.set_remote_cluster_client_cas(certificates, wait=True)

    def forget(self) -> None:
        """Remove every entry written here (the node back to its own keystore) and load that."""
        self.apply_keystore({}, reload=True)
