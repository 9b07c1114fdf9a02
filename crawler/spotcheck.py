"""The reviewer's spot-check: one link, one criterion, over httpx, answered in about a second."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from crawler.categories import CategoryMatcher
from crawler.fetch import Fetcher
from crawler.investigate import Investigation
from crawler.records import ERR_OFF_SITE
from crawler.settings import RunOptions
from crawler.urls import BadURL, Scope, normalise_url


def investigate_link(criterion: str, raw_url: str | None, *, scope: Scope | None, matcher: CategoryMatcher,
                     options: RunOptions) -> Investigation:
    """An investigation ready to start: the URL normalised and checked against the portal scope."""
    url = None
    problem = None
    if raw_url and raw_url.strip():
        try:
            url = normalise_url(raw_url, default_scheme=scope.default_scheme(raw_url) if scope else "http")
        except BadURL as exc:
            problem = str(exc)
    inv = Investigation(criterion, url, matcher=matcher, scope=scope, period=options.period, limits=options.limits)
    if problem:
        inv.refuse("bad_url", problem)
    elif url and scope is not None and not scope.owns(url):
        inv.refuse(ERR_OFF_SITE, f"{url} is not on the agency's registered portal")
    return inv


def run_investigation(inv: Investigation, fetcher: Fetcher, warc=None) -> Investigation:
    """Drive an investigation to its end, one fetch at a time (each kept in `warc`, a WarcLog, when given)."""
    queue = list(inv.start())
    while queue:
        want = queue.pop(0)
        fetch = fetcher.fetch(want.url, inv.scope, method=want.method, body=want.body,
                              content_type=want.content_type)
        if warc is not None:
            headers = dict(fetcher.client.headers)
            if want.content_type:
                headers["Content-Type"] = want.content_type
            fetch = replace(fetch, warc_record=warc.log(fetch, request_headers=headers, method=want.method,
                                                        request_body=want.body))
        queue.extend(inv.on_fetch(want, fetch))
    return inv


def spot_check(url: str, criterion: str, *, matcher: CategoryMatcher, options: RunOptions,
               agency_portal: str | None = None, clock=None, warc_path: Path | None = None):
    """Check one link and return (Investigation, checked_at). Raises BadURL for an unusable link.
    With `warc_path`, every request and response is appended to that gzip WARC file."""
    normalised = normalise_url(url)
    scope = Scope.parse(agency_portal) if agency_portal else Scope.parse(_site_of(normalised))
    inv = investigate_link(criterion, url, scope=scope, matcher=matcher, options=options)
    checked_at = (clock or _now)()
    kwargs = {"clock": clock} if clock else {}
    warc = None
    if warc_path is not None:
        from crawler.warc import WarcLog

        warc = WarcLog(Path(warc_path))
    try:
        with Fetcher(options, **kwargs) as fetcher:
            run_investigation(inv, fetcher, warc)
    finally:
        if warc is not None:
            warc.close()
    return inv, checked_at


def _site_of(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
