"""Fixtures of the hostile-portal suite: one attack server per test module (see harness.py)."""

import pytest

from tests.hostile.harness import AttackServer


@pytest.fixture(scope="module")
def attack():
    """The loopback attack server (an HTTP forward proxy serving the attack portals a module registers)."""
    with AttackServer() as server:
        yield server
