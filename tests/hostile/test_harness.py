"""The harness itself: a normal portal through the attack proxy passes on both paths, every request logged."""

from tests.hostile.harness import Case, assert_both, listing_page, outside_scope, robots


def test_a_normal_portal_passes_on_both_paths_through_the_proxy(attack, tmp_path):
    attack.portal("normal.hostile.gov.vn", {"/robots.txt": robots(), "/chi-dao-dieu-hanh": listing_page()})
    case = Case("normal", "http://normal.hostile.gov.vn", "http://normal.hostile.gov.vn/chi-dao-dieu-hanh")
    result = assert_both(attack, case, ("pass", "ok"), tmp_path)
    assert result.check.posts == result.crawl.posts == 3
    for run in (result.check, result.crawl):
        paths = [r.path for r in run.requests]
        assert paths.count("/chi-dao-dieu-hanh") == 1 and "/robots.txt" in paths
        assert all(r.host == "normal.hostile.gov.vn" and r.port == 80 for r in run.requests)
    assert result.crawl.peak_rss_kb > 10_000 and result.crawl.wall < 30


def test_the_log_tells_off_portal_requests(attack):
    before = attack.mark()
    attack.portal("other.hostile.gov.vn", {"/x": listing_page()})
    import httpx

    with httpx.Client(proxy=attack.proxy_url) as client:
        assert client.get("http://other.hostile.gov.vn/x").status_code == 200
        assert client.get("http://other.hostile.gov.vn/web/a/../b").status_code == 404
        assert client.get("http://unknown.example/").status_code == 404
    log = attack.since(before)
    assert [(r.host, r.port, r.path) for r in log][0] == ("other.hostile.gov.vn", 80, "/x")
    assert outside_scope(log, "http://other.hostile.gov.vn/web/a") == [
        "http://other.hostile.gov.vn/x", "http://other.hostile.gov.vn/web/b", "http://unknown.example/"]
