"""The emulated Elasticsearch version and the features that depend on it (reference section 6)."""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_VERSION = "9.3.2"


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> Version:
        match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)(?:-SNAPSHOT)?", text.strip())
        if not match:
            raise ValueError(f"not an Elasticsearch version: {text!r}")
        return cls(int(match[1]), int(match[2]), int(match[3]))

    def at_least(self, text: str) -> bool:
        return self >= Version.parse(text)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    # --- features ------------------------------------------------------------------------------------------------
    @property
    def monitor_enrich(self) -> bool:
        """8.15: cross-cluster search keys gain `monitor_enrich`; roles gain `remote_cluster`."""
        return self.at_least("8.15.0")

    @property
    def skip_unavailable_default(self) -> bool:
        return self.at_least("8.15.0")

    @property
    def certificate_identity(self) -> bool:
        """9.3: `certificate_identity` on cross-cluster API keys. Before, both parsers refuse the field (even null)."""
        return self.at_least("9.3.0")

    @property
    def update_expiration(self) -> bool:
        return self.at_least("8.13.0")

    @property
    def hot_reload_credentials(self) -> bool:
        """8.13: `POST /_nodes/reload_secure_settings` applies `cluster.remote.*.credentials`."""
        return self.at_least("8.13.0")

    @property
    def reload_keystore_details(self) -> bool:
        """`secure_setting_names`, `keystore_path`, `keystore_digest`, `keystore_last_modified_time` in each node of
        the `reload_secure_settings` answer (transport version `keystore_details_in_reload_secure_settings_response`).
        A real 8.19.21 node answers `{"name": ...}` only; which 9.x brought them is not checked."""
        return self.at_least("9.0.0")

    @property
    def dls_with_replication_rule(self) -> bool:
        return self.at_least("8.14.0")

    def remote_cluster_privileges(self) -> list[str]:
        return ["monitor_enrich", "monitor_stats"] if self.at_least("8.17.0") else ["monitor_enrich"]
