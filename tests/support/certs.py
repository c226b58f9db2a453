"""Test certificates: the shared factory of `emulators.certs` (made on the fly, never committed)."""

from emulators.certs import Issued, make_ca, make_key, make_server

__all__ = ["Issued", "make_ca", "make_key", "make_server"]
