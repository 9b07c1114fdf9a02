"""A reported link made ready to investigate, whichever path fetches it (no fetching library here)."""

from __future__ import annotations

from crawler.categories import CategoryMatcher
from crawler.investigate import Investigation
from crawler.records import ERR_BAD_URL, ERR_OFF_SITE
from crawler.settings import RunOptions
from crawler.urls import BadURL, Scope, normalise_url


def investigate_link(criterion: str, raw_url: str | None, *, scope: Scope | None, matcher: CategoryMatcher,
                     options: RunOptions, related_pages: int = 0) -> Investigation:
    """An investigation ready to start: the URL normalised and checked against the portal scope."""
    url = None
    problem = None
    if raw_url and raw_url.strip():
        try:
            url = normalise_url(raw_url, default_scheme=scope.default_scheme(raw_url) if scope else "http")
        except BadURL as exc:
            problem = str(exc)
    inv = Investigation(criterion, url, matcher=matcher, scope=scope, period=options.period, limits=options.limits,
                        related_pages=related_pages)
    if problem:
        inv.refuse(ERR_BAD_URL, problem)
    elif url and scope is not None and not scope.owns(url):
        inv.refuse(ERR_OFF_SITE, f"{url} is not on the agency's registered portal")
    return inv
