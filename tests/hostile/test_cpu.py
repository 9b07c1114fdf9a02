"""Item 11 of the hostile run: a listing page of 110,000 links (4.5 MB) must not cost minutes of CPU, nor
make another agency's link wait behind it. The page is read as far as the reading's bound (its first 2,500
links), so its pager at the bottom is never reached: one page, a verdict, and the other host done too."""

from __future__ import annotations

import functools

import pytest

from tests.hostile.harness import Case, Reply, listing_page, robots, run_both

D = ".hostile.gov.vn"
ITEMS = 110_000


@functools.cache
def huge_listing() -> Reply:
    items = "".join(f'<li><a href="/t/{i}">Thông báo {i} của Sở</a> 0{i % 9 + 1}/03/2018</li>' for i in range(ITEMS))
    html = (f'<html><head><title>Chỉ đạo điều hành</title></head><body><h1>Chỉ đạo điều hành</h1>'
            f'<ul>{items}</ul><div class="pager"><a href="/cddh?page=2">Trang sau</a></div></body></html>')
    return Reply(200, [("Content-Type", "text/html; charset=utf-8")], html.encode())


@pytest.fixture(scope="module")
def results(attack, tmp_path_factory):
    huge = huge_listing()
    attack.portal(f"huge{D}", {"/robots.txt": robots(), "/cddh": huge, "/cddh?page=2": huge})
    attack.portal(f"calm{D}", {"/robots.txt": robots(), "/cddh": listing_page()})
    cases = [Case("huge-page", f"http://huge{D}", f"http://huge{D}/cddh"),
             Case("calm-host", f"http://calm{D}", f"http://calm{D}/cddh")]
    return run_both(attack, cases, tmp_path_factory.mktemp("cpu"))


def test_a_page_of_110000_links_is_read_within_its_bound(results):
    huge = results["huge-page"]
    assert len(huge_listing().body) > 4_000_000
    assert huge.check.verdict == huge.crawl.verdict == ("pass", "ok"), huge.explain()
    # the page's bound cut it before its pager: one listing page on each path, not twelve
    assert sorted(r.target for r in huge.check.requests) == ["/cddh", "/robots.txt"], huge.explain()
    assert sorted(r.target for r in huge.crawl.requests) == ["/cddh", "/robots.txt"], huge.explain()
    # generous bounds for a loaded 2-core CI machine (about 3 s and 300 MB measured)
    assert huge.check.wall < 30 and huge.crawl.wall < 60, huge.explain()
    assert huge.crawl.peak_rss_kb < 700_000, huge.explain()


def test_another_host_is_not_starved(results):
    calm = results["calm-host"]
    assert calm.check.verdict == calm.crawl.verdict == ("pass", "ok"), calm.explain()
    assert not calm.outside() and not results["huge-page"].outside()
