import pytest

from crawler.categories import CategoryMatcher
from verifier.rulebook import load_rulebook


@pytest.fixture(scope="session")
def rulebook():
    return load_rulebook()


@pytest.fixture(scope="session")
def matcher(rulebook):
    return CategoryMatcher.from_rulebook(rulebook)


@pytest.fixture(scope="module")
def server():
    """The demo portals on a loopback port (demo/server.py as an HTTP proxy), one per test module."""
    from demo.server import PortalServer

    with PortalServer() as srv:
        yield srv
