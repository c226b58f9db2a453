"""Extra deployments on the ECE emulator of an `EmulatedLink`, for tests that need one the link does not use."""

from __future__ import annotations

from tools.emulated_link import LOCAL_PASSWORD, REF_ID, EmulatedLink

OLD_DEPLOYMENT = "0123456789abcdef0123456789abcdef"


def add_deployment(env: EmulatedLink, deployment_id: str, version: str) -> str:
    """A deployment on the given Elasticsearch version whose Elasticsearch is the link's local emulator; its id."""
    env.control(
        env.ece, "POST", "deployments", {"id": deployment_id, "elasticsearch": [{"ref_id": REF_ID, "version": version}]}
    )
    env.control(
        env.ece,
        "POST",
        "elasticsearch-link",
        {"deployment_id": deployment_id, "url": env.local.url, "password": LOCAL_PASSWORD},
    )
    return deployment_id


def add_old_deployment(env: EmulatedLink) -> str:
    """A deployment on Elasticsearch 8.13, which loads a new keystore key only on a restart (a plan ECE runs and
    the provider awaits). Returns its id, `OLD_DEPLOYMENT`."""
    return add_deployment(env, OLD_DEPLOYMENT, "8.13.4")
