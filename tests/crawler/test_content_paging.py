"""A listing judged by its content (freshness not required) is read for what it carries, not for its dates:
the investigation opens none of its later pages, feeds or articles, related pages or none."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crawler.categories import CategoryMatcher
from crawler.investigate import Investigation
from crawler.records import PURPOSE_LISTING, PURPOSE_RELATED, Fetch
from crawler.urls import Scope
from verifier.rulebook import load_rulebook

SITE = Path(__file__).resolve().parents[2] / "data" / "demo" / "portals" / "soyte.caobang.gov.vn"
URL = "http://soyte.caobang.gov.vn/index.php?language=vi&nv=news&op=chi-dao-dieu-hanh"
PERIOD = (dt.date(2018, 1, 1), dt.date(2018, 12, 31))


def _first_wants(related_pages: int) -> list:
    """What the investigation asks for once Sở Y tế's undated 'Chỉ đạo điều hành' listing (it links a feed and
    its articles) is read."""
    matcher = CategoryMatcher.from_rulebook(load_rulebook())
    inv = Investigation("chi-dao-dieu-hanh", URL, matcher=matcher, scope=Scope.parse("http://soyte.caobang.gov.vn"),
                        period=PERIOD, related_pages=related_pages)
    want, = inv.start()
    body = (SITE / "chi-dao-dieu-hanh-p1.html").read_bytes()
    fetch = Fetch(url=URL, final_url=URL, status=200, headers={"content-type": "text/html; charset=utf-8"},
                  body=body, fetched_at=dt.datetime(2019, 2, 20, tzinfo=dt.UTC))
    assert want.purpose == PURPOSE_LISTING
    return inv.on_fetch(want, fetch)


@pytest.mark.parametrize("related_pages, purposes", [
    (0, {"feed"}),        # judged by its dates: its feed first, for the undated posts
    (6, set()),           # judged by its content: nothing for dates (the page links no related page)
])
def test_a_listing_judged_by_its_content_is_not_read_for_dates(related_pages, purposes):
    wants = _first_wants(related_pages)
    assert {w.purpose for w in wants} - {PURPOSE_RELATED} == purposes
