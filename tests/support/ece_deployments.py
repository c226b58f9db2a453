"""Extra deployments on the ECE emulator of an `EmulatedLink`, for tests that need one the link does not use."""

from __future__ import annotations

from tools.emulated_link import LOCAL_PASSWORD, REF_ID, EmulatedLink

OLD_DEPLOYMENT = "0123456789abcdef0123456789abcdef"


def add_old_deployment(env: EmulatedLink) -> str:
    """A deployment on Elasticsearch 8.13, which loads a new keystore key only on a restart (a plan ECE runs and
    the provider awaits); its Elasticsearch is the link's local emulator. Returns its id, `OLD_DEPLOYMENT`."""
    env.control(
        env.ece,
        "POST",
        "deployments",
        {"id": OLD_DEPLOYMENT, "elasticsearch": [{"ref_id": REF_ID, "version": "8.13.4"}]},
    )
    env.control(
        env.ece,
        "POST",
        "elasticsearch-link",
        {"deployment_id": OLD_DEPLOYMENT, "url": env.local.url, "password": LOCAL_PASSWORD},
    )
    return OLD_DEPLOYMENT
