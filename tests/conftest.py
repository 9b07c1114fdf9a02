import pytest

from crawler.categories import CategoryMatcher
from verifier.rulebook import load_rulebook


@pytest.fixture(scope="session")
def rulebook():
    return load_rulebook()


@pytest.fixture(scope="session")
def matcher(rulebook):
    return CategoryMatcher.from_rulebook(rulebook)
