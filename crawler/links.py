"""A reported link made ready to investigate, whichever path fetches it (no fetching library here)."""

from __future__ import annotations

from crawler.categories import CategoryMatcher
from crawler.investigate import Investigation
from crawler.records import ERR_BAD_URL, ERR_OFF_SITE
from crawler.settings import RunOptions
from crawler.urls import BadURL, Scope, allowed_host, normalise_url


def investigate_link(criterion: str, raw_url: str | None, *, scope: Scope | None, matcher: CategoryMatcher,
                     options: RunOptions, allowed_hosts: tuple[str, ...] = (), related_pages: int = 0,
                     items: tuple = (), item_rule=None, search_url: str | None = None,
                     related_phrases: tuple[str, ...] = ()) -> Investigation:
    """An investigation ready to start: the URL normalised and checked against the portal scope.

    A link off the portal on one of the criterion's `allowed_hosts` (the rulebook's) is investigated on
    that host alone, in the scope of that one host: both fetch paths then refuse anything beyond it, as they
    refuse anything beyond the portal (a spot-check of such a link without the agency's portal is read so too).
    Any other link off the portal is `off_site`."""
    url = None
    problem = None
    if raw_url and raw_url.strip():
        try:
            url = normalise_url(raw_url, default_scheme=scope.default_scheme(raw_url) if scope else "http")
        except BadURL as exc:
            problem = str(exc)
    allowed = allowed_host(url, allowed_hosts) if url and not problem else None
    if allowed is not None:
        here = Scope.on_host(url)
        if scope is not None and scope.owns(url) and scope != here:
            allowed = None          # on the agency's own registered portal: judged as any link there
        else:
            scope = here            # off the portal, or a spot-check of the link alone
    inv = Investigation(criterion, url, matcher=matcher, scope=scope, period=options.period, limits=options.limits,
                        related_pages=related_pages, related_phrases=related_phrases, render=options.render,
                        items=items, item_rule=item_rule, search_url=search_url)
    if allowed is not None:
        inv.outcome.allowed_host = allowed
        host = scope.portals[0].host
        inv.outcome.notes.append(f"{host} is allowed by the rulebook for {criterion}"
                                 + (f" (allowed_hosts: {allowed})" if allowed != host else ""))
    if problem:
        inv.refuse(ERR_BAD_URL, problem)
    elif url and scope is not None and not scope.owns(url):
        inv.refuse(ERR_OFF_SITE, f"{url} is not on the agency's registered portal")
    return inv
