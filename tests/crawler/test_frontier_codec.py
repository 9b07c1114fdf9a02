"""What crosses the Redis frontier: read back equal to what was written, and refused when not well formed."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from crawler.categories import CategoryMatcher
from crawler.frontier_codec import CodecError, dump_meta, dump_result, dump_unit, load_meta, load_result, load_unit
from crawler.investigate import Investigation, Outcome
from crawler.records import CategoryMatch, Fetch, Hop, PageReading, PageVisit, Post
from crawler.settings import RunOptions
from crawler.urls import Scope

AT = dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC)
PERIOD = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))


def _fetch(url: str) -> Fetch:
    return Fetch(url, url + "?p=1", 200, {"content-type": "text/html"}, "<p>Thông báo</p>".encode() + b"\x00\xff",
                 AT, redirects=(url,), raw_headers=(("Content-Type", "text/html"), ("Set-Cookie", "a=1")),
                 hops=(Hop(url, 301, AT, raw_headers=(("Location", url + "?p=1"),)),), final_fetched_at=AT)


def test_a_result_reads_back_equal():
    url = "https://sotp.caobang.gov.vn/tin-tuc"
    post = Post("Kế hoạch", url + "/1", published=dt.date(2025, 5, 1), date_source="listing", page_index=0)
    outcome = Outcome("news", url, first=_fetch(url), visits=[PageVisit(url, url, "listing", 200, AT, posts=1)],
                      first_reading=PageReading(url, "listing", "Tin tức", CategoryMatch("news", "Tin tức", "heading",
                                                                                         3.0),
                                                posts=(post,), nav_links=(("Tin", url),)),
                      posts={post.url: post}, notes=["a note"])
    key, back, fetches, worker = load_result(dump_result("a1/news", outcome, {"w#0": _fetch(url)}, "w"))
    assert (key, back, fetches, worker) == ("a1/news", outcome, {"w#0": _fetch(url)}, "w")


def test_the_meta_and_a_unit_read_back_and_the_worker_builds_the_matcher(matcher):
    options = RunOptions(PERIOD, allow_private=True)
    tag, back, built, lease = load_meta(dump_meta("t1", options, matcher, 2.0))
    assert (tag, back, built.specs, lease) == ("t1", options, matcher.specs, 2.0)
    inv = Investigation("news", "https://sotp.caobang.gov.vn/tin-tuc", matcher=matcher,
                        scope=Scope.parse("https://sotp.caobang.gov.vn"), period=PERIOD, related_pages=3)
    inv.refuse("off_site", "not on the portal")
    [(key, again)] = load_unit(dump_unit([("a1/news", inv)], matcher), built)
    assert key == "a1/news" and again.matcher is built
    assert (again.criterion, again.scope, again.period, again.limits, again.related_pages, again.outcome) == (
        inv.criterion, inv.scope, inv.period, inv.limits, inv.related_pages, inv.outcome)


def test_a_link_with_a_matcher_of_its_own_carries_it(matcher):
    """A listed criterion's category is told by its own specs alone (verifier.checks.listed_matcher)."""
    own = CategoryMatcher(matcher.specs[:1])
    inv = Investigation("news", "https://sotp.caobang.gov.vn/van-ban", matcher=own,
                        scope=Scope.parse("https://sotp.caobang.gov.vn"), period=PERIOD)
    [(_, again)] = load_unit(dump_unit([("a1/news", inv)], matcher), matcher)
    assert again.matcher is not matcher and again.matcher.specs == own.specs


def _spoiled_meta(matcher, change):
    value = json.loads(dump_meta("t1", RunOptions(PERIOD), matcher, 30.0))
    change(value)
    return json.dumps(value).encode()


META_SPOILS = [
    (lambda v: v.update(v=2), "version 2"),
    (lambda v: v["data"]["specs"][0].update(aliases=["tin tức", "lừa đảo"]), "do not match their digest"),
    (lambda v: v["data"]["options"].update(ignore_robots="yes"), "meta.options.ignore_robots: not a bool"),
    (lambda v: v["data"]["options"].pop("period"), "lacks its field 'period'"),
    (lambda v: v["data"]["options"].update(period=["2025-01-01"]), "1 items where 2 are wanted"),
    (lambda v: v["data"]["options"]["limits"].update(__class__="os.system"), "unknown field '__class__'"),
    (lambda v: v["data"].update(lease_seconds=-1), "not between 0 and 3600"),
]


@pytest.mark.parametrize(("change", "said"), META_SPOILS)
def test_a_spoiled_meta_is_refused_saying_where(matcher, change, said):
    with pytest.raises(CodecError, match=said):
        load_meta(_spoiled_meta(matcher, change))


@pytest.mark.parametrize(("raw", "said"), [
    (b"\x80\x04\x95", "not JSON"),                                            # a pickle's opening bytes
    (b'{"v": 1, "type": "meta", "data": []}', "a 'meta' value"),
    (b'{"v": 1, "type": "result", "data": {"key": "k", "worker": "w", "outcome": {"criterion": "news", '
     b'"url": null, "first": {"url": 1}}, "fetches": {}}}', "result.outcome.first.url: not a str"),
    (b'{"v": 1, "type": "result", "data": {"key": "k", "worker": "w", "outcome": {"criterion": "news", '
     b'"url": null}, "fetches": {"w#0": {"body": "@@"}}}}', "result.fetches"),
])
def test_a_spoiled_result_is_refused_saying_where(raw, said):
    with pytest.raises(CodecError, match=said):
        load_result(raw)
