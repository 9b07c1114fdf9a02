"""The reviewer's spot-check: one link, one criterion, over httpx, answered in about a second."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from crawler import transport as T
from crawler.categories import CategoryMatcher
from crawler.fetch import Fetcher
from crawler.investigate import Investigation
from crawler.links import investigate_link
from crawler.records import ERR_TIMEOUT
from crawler.settings import RunOptions
from crawler.urls import Scope, normalise_url

__all__ = ["investigate_link", "run_investigation", "spot_check"]


def run_investigation(inv: Investigation, fetcher: Fetcher, warc=None) -> Investigation:
    """Drive an investigation to its end, one fetch at a time (each kept in `warc`, a WarcLog, when given).
    The whole investigation ends within the run's `check_seconds`: a fetch wanted after that is a
    timeout, and the verdict rests on what was read before."""
    limits = fetcher.options.limits
    until = T.Deadline.after(limits.check_seconds)
    queue = list(inv.start())
    while queue:
        want = queue.pop(0)
        if until.passed:
            fetch = T.failed_fetch(want.url, want.url, ERR_TIMEOUT,
                                   f"the check's deadline of {limits.check_seconds:.0f} s was reached",
                                   fetched_at=fetcher.clock(), method=want.method, request_body=want.body,
                                   content_type=want.content_type)
        elif want.render:
            from crawler.render import render

            fetch = render(want.url, inv.scope, fetcher.options, need=want.render_need, deadline=until)
        else:
            fetch = fetcher.fetch(want.url, inv.scope, method=want.method, body=want.body,
                                  content_type=want.content_type, until=until)
        if warc is not None:
            fetch = replace(fetch, warc_record=warc.log(fetch, request_headers=lambda url, content_type: (
                T.exchange_request_headers(url, content_type, fetcher.options))))
        queue.extend(inv.on_fetch(want, fetch))
    return inv


def spot_check(url: str, criterion: str, *, matcher: CategoryMatcher, options: RunOptions,
               agency_portal: str | None = None, clock=None, warc_path: Path | None = None,
               provenance: dict | None = None, allowed_hosts: tuple[str, ...] = (),
               related_pages: int = 0, items: tuple = (), item_rule=None, search_url: str | None = None,
               related_phrases: tuple[str, ...] = ()):
    """Check one link and return (Investigation, checked_at). Raises BadURL for an unusable link.
    With `warc_path`, every request and response is appended to that gzip WARC file (a new file opens
    with a warcinfo record holding `provenance`, see verifier.provenance). `allowed_hosts`: the criterion's
    (rulebook), where a link off `agency_portal` is read on its own host instead of `off_site`; `items` with
    `item_rule`: a listed criterion's items, looked for on the portal (crawler.investigate)."""
    normalised = normalise_url(url)
    scope = Scope.parse(agency_portal) if agency_portal else Scope.parse(_site_of(normalised))
    inv = investigate_link(criterion, url, scope=scope, matcher=matcher, options=options,
                           allowed_hosts=allowed_hosts, related_pages=related_pages, items=items,
                           item_rule=item_rule, search_url=search_url, related_phrases=related_phrases)
    checked_at = (clock or _now)()
    kwargs = {"clock": clock} if clock else {}
    warc = None
    if warc_path is not None:
        from crawler.warc import WarcLog

        warc = WarcLog(Path(warc_path), provenance=provenance, part_of="portal-evidence check")
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
    return dt.datetime.now(dt.UTC)
