"""Hostile portals against the scope rules: which URLs may be fetched, on both fetch paths.

Every case is an agency of its own (its own hosts, so the server log tells its requests apart); all cases run
in one crawl and one spot-check each. Each test asserts the verdict of both paths and, from the attack
server's log (what really went on the wire), that no request left the agency's registered portal.
"""

from __future__ import annotations

import pytest

from tests.hostile.harness import (
    Case,
    Reply,
    article_page,
    listing_page,
    redirect,
    robots,
    run_both,
    strays,
)

D = ".hostile.gov.vn"
PASS, OFF_SITE, UNREACHABLE = ("pass", "ok"), ("fail", "off_site"), ("fail", "unreachable")
WRONG, NOT_FOUND = ("fail", "wrong_category"), ("fail", "not_found")
LISTING = listing_page()
BAIT = listing_page()             # what another district / another host / a private address would serve
LOOPBACK_NAMES = ("127.0.0.1", "::1", "localhost")


def refresh(target: str, delay: int = 0) -> object:
    return listing_page(head=f'<meta http-equiv="refresh" content="{delay}; url={target}">')


# (case, routes per (host, port), expected verdict on both paths, paths that must never be requested)
CASES: list[tuple[Case, dict, tuple, tuple]] = []


def case(agency: str, portal: str, url: str, routes: dict, expected: tuple, never: tuple = (), hosts=()):
    CASES.append((Case(agency, portal, url, hosts=tuple(hosts)), routes, expected, never))


# -- 1. robots.txt of a portal redirects elsewhere: the crawl fetched other hosts
case("robots-query", f"http://r1{D}/web/hoa-an", f"http://r1{D}/web/hoa-an/cddh",
     {(f"r1{D}", 80): {"/robots.txt": redirect("/robots.txt?action=delete&id=1"), "/web/hoa-an/cddh": LISTING,
                       "/robots.txt?action=delete&id=1": robots("User-agent: *\nDisallow: /\n")}},
     PASS, never=("/robots.txt?action=delete&id=1",))
case("robots-octal-redis", f"http://r2{D}", f"http://r2{D}/cddh",
     {(f"r2{D}", 80): {"/robots.txt": redirect("http://0x7f.2:6379/robots.txt"), "/cddh": LISTING},
      ("0x7f.2", 6379): {"/robots.txt": robots()}},
     PASS, hosts=("0x7f.2", "127.0.0.2"))
case("robots-other-host", f"http://r3{D}", f"http://r3{D}/cddh",
     {(f"r3{D}", 80): {"/robots.txt": redirect("http://evil-r3.example/robots.txt"), "/cddh": LISTING},
      ("evil-r3.example", 80): {"/robots.txt": robots()}},
     PASS, hosts=("evil-r3.example",))
case("robots-other-port", f"http://r4{D}", f"http://r4{D}/cddh",
     {(f"r4{D}", 80): {"/robots.txt": redirect(f"http://r4{D}:6379/robots.txt"), "/cddh": LISTING},
      (f"r4{D}", 6379): {"/robots.txt": robots()}},
     PASS)
# a robots.txt moved within its own host is read on both paths; a robots.txt that is an error page is none
case("robots-moved-on-host", f"http://r5{D}", f"http://r5{D}/cddh",
     {(f"r5{D}", 80): {"/robots.txt": redirect(f"http://www.r5{D}/robots.txt", 301), "/cddh": LISTING},
      (f"www.r5{D}", 80): {"/robots.txt": robots("User-agent: *\nDisallow: /cddh\n")}},
     ("review", "robots_disallowed"))
case("robots-error-page", f"http://r6{D}", f"http://r6{D}/cddh",
     {(f"r6{D}", 80): {"/robots.txt": Reply(404, (("Content-Type", "text/plain"),), "User-agent: *\nDisallow: /\n"),
                       "/cddh": LISTING}}, PASS)

# -- 2. a path-prefix portal "owning" another district's page through dot segments
for n, link in enumerate(["/web/hoa-an/../thach-an/cddh", "/web/hoa-an/%2e%2e/thach-an/cddh",
                          "/web/hoa-an/%2E%2e/thach-an/cddh", "/web/hoa-an/..%2fthach-an/cddh",
                          "/web/hoa-an\\..\\thach-an\\cddh", "/web/hoa-an/.%2e/thach-an/cddh"], 1):
    host = f"p{n}{D}"
    case(f"prefix-escape-{n}", f"http://{host}/web/hoa-an", f"http://{host}{link}",
         {(host, 80): {"/robots.txt": robots(), "/web/thach-an/cddh": BAIT}}, OFF_SITE)
case("prefix-escape-redirect", f"http://p7{D}/web/hoa-an", f"http://p7{D}/web/hoa-an/cddh",
     {(f"p7{D}", 80): {"/robots.txt": robots(), "/web/hoa-an/cddh": redirect("/web/hoa-an/%2e%2e/thach-an/cddh"),
                       "/web/thach-an/cddh": BAIT}}, OFF_SITE)
# dot segments that stay inside the prefix are the page the server will serve, and that page is what is sent
case("prefix-dots-inside", f"http://p8{D}/web/hoa-an", f"http://p8{D}/web/hoa-an/tin/../cddh",
     {(f"p8{D}", 80): {"/robots.txt": robots(), "/web/hoa-an/cddh": LISTING}}, PASS)
# links on the page are sent in the form they were checked in; one that climbs out is never fetched
case("pager-dots-inside", f"http://p9{D}/web/hoa-an", f"http://p9{D}/web/hoa-an/cddh",
     {(f"p9{D}", 80): {"/robots.txt": robots(),
                       "/web/hoa-an/cddh": listing_page(next_page="/web/hoa-an/tin/%2E%2e/cddh?page=2"),
                       "/web/hoa-an/cddh?page=2": listing_page(first=3)}}, PASS)
case("pager-escape", f"http://p10{D}/web/hoa-an", f"http://p10{D}/web/hoa-an/cddh",
     {(f"p10{D}", 80): {"/robots.txt": robots(),
                        "/web/hoa-an/cddh": listing_page(next_page="/web/hoa-an/..%2fthach-an/cddh?page=2"),
                        "/web/thach-an/cddh": BAIT}}, PASS, never=("/web/hoa-an/..%2fthach-an/cddh?page=2",))

# -- 7. loopback literals in disguise: refused as private, never sent to the proxy
for n, host in enumerate(["0x7f.1", "127.1", "0177.0.0.1", "2130706433", "0x7f000001", "[::1]",
                          "[::ffff:127.0.0.1]", "127.0.0.1.", "0"], 1):
    bare = host.strip("[]")
    case(f"loopback-{n}", f"http://{host}", f"http://{host}/cddh",
         {(bare.rstrip("."), 80): {"/robots.txt": robots(), "/cddh": BAIT}}, UNREACHABLE,
         hosts=(bare, bare.rstrip("."), "0.0.0.0", *LOOPBACK_NAMES))
case("loopback-redirect", f"http://l9{D}", f"http://l9{D}/cddh",
     {(f"l9{D}", 80): {"/robots.txt": robots(), "/cddh": redirect("http://0177.0.0.1/cddh")},
      ("0177.0.0.1", 80): {"/cddh": BAIT}}, OFF_SITE, hosts=("0177.0.0.1", *LOOPBACK_NAMES))

# -- 15. ports, trailing dots, case
case("port-redirect", f"http://q1{D}", f"http://q1{D}/cddh",
     {(f"q1{D}", 80): {"/robots.txt": robots(), "/cddh": redirect(f"http://q1{D}:22/cddh")},
      (f"q1{D}", 22): {"/cddh": BAIT}}, OFF_SITE)
case("port-default-is-no-port", f"http://q2{D}", f"http://q2{D}/cddh",
     {(f"q2{D}", 80): {"/robots.txt": robots(), "/cddh": redirect(f"http://q2{D}:80/cddh-2"),
                       "/cddh-2": LISTING}}, PASS)
case("port-registered", f"http://q3{D}:8080", f"http://q3{D}:8080/cddh",
     {(f"q3{D}", 8080): {"/robots.txt": robots(), "/cddh": LISTING}}, PASS)
case("port-other-than-registered", f"http://q4{D}:8080", f"http://q4{D}/cddh",
     {(f"q4{D}", 80): {"/robots.txt": robots(), "/cddh": BAIT}}, OFF_SITE)
case("trailing-dot-link", f"http://q5{D}", f"http://q5{D}./cddh",
     {(f"q5{D}", 80): {"/robots.txt": robots(), "/cddh": LISTING}}, PASS)
case("trailing-dot-redirect", f"http://q6{D}", f"http://q6{D}/cddh",
     {(f"q6{D}", 80): {"/robots.txt": robots(), "/cddh": redirect(f"http://q6{D}./cddh-2"), "/cddh-2": LISTING}},
     PASS)
case("path-case", f"http://q7{D}/web/hoa-an", f"http://q7{D}/WEB/HOA-AN/cddh",
     {(f"q7{D}", 80): {"/robots.txt": robots(), "/WEB/HOA-AN/cddh": BAIT}}, OFF_SITE)
case("host-case", f"http://q8{D}/web/hoa-an", "http://Q8.Hostile.GOV.vn/web/hoa-an/cddh",
     {(f"q8{D}", 80): {"/robots.txt": robots(), "/web/hoa-an/cddh": LISTING}}, PASS)

# -- 8. the two paths must agree: meta refresh, odd schemes, tabs, userinfo, IDN
case("refresh-off-site", f"http://m1{D}", f"http://m1{D}/cddh",
     {(f"m1{D}", 80): {"/robots.txt": robots(), "/cddh": refresh("http://evil-m1.example/cddh")},
      ("evil-m1.example", 80): {"/cddh": BAIT}}, OFF_SITE, hosts=("evil-m1.example",))
case("refresh-article", f"http://m2{D}", f"http://m2{D}/cddh",
     {(f"m2{D}", 80): {"/robots.txt": robots(), "/cddh": refresh("/node/7"), "/node/7": article_page()}}, WRONG)
case("refresh-late", f"http://m3{D}", f"http://m3{D}/cddh",
     {(f"m3{D}", 80): {"/robots.txt": robots(), "/cddh": refresh("http://evil-m3.example/", delay=600)}},
     PASS, hosts=("evil-m3.example",))
case("refresh-header", f"http://m5{D}", f"http://m5{D}/cddh",      # the Refresh header: a browser follows it
     {(f"m5{D}", 80): {"/robots.txt": robots(), "/cddh": Reply(200, (("Content-Type", "text/html; charset=utf-8"),
                                                                   ("Refresh", "0; url=/node/8")), LISTING.body),
                       "/node/8": article_page()}}, WRONG)
case("refresh-padded", f"http://m6{D}", f"http://m6{D}/cddh",      # hidden behind 40 kB of padding
     {(f"m6{D}", 80): {"/robots.txt": robots(), "/node/9": article_page(),
                       "/cddh": listing_page(head="<!-- " + "x" * 40000 + ' -->'
                                             '<meta http-equiv="refresh" content="0; url=/node/9">')}}, WRONG)
case("refresh-self", f"http://m4{D}", f"http://m4{D}/cddh",          # a listing that reloads itself every 30 s
     {(f"m4{D}", 80): {"/robots.txt": robots(), "/cddh": refresh(f"http://m4{D}/cddh", delay=30)}}, PASS)
for n, location in enumerate(["file:///etc/passwd", "javascript:alert(document.cookie)",
                              "data:text/html,<h1>Chỉ đạo điều hành</h1>", "gopher://evil-s.example:70/",
                              "http:///cddh"], 1):
    case(f"scheme-{n}", f"http://s{n}{D}", f"http://s{n}{D}/cddh",
         {(f"s{n}{D}", 80): {"/robots.txt": robots(), "/cddh": redirect(location)}}, OFF_SITE,
         hosts=("evil-s.example",))
case("tab-in-host", f"http://t1{D}", f"http://t1{D}/cddh",
     {(f"t1{D}", 80): {"/robots.txt": robots(), "/cddh": redirect("http://evil\t-t1.example/cddh")},
      ("evil-t1.example", 80): {"/cddh": BAIT}}, OFF_SITE, hosts=("evil-t1.example", "evil\t-t1.example"))
case("tab-in-path", f"http://t2{D}", f"http://t2{D}/cddh",
     {(f"t2{D}", 80): {"/robots.txt": robots(), "/cddh": redirect("/cd\tdh-2"), "/cddh-2": LISTING}}, PASS)
case("location-twice", f"http://t3{D}", f"http://t3{D}/cddh",     # read as one value on both paths
     {(f"t3{D}", 80): {"/robots.txt": robots(),
                       "/cddh": Reply(302, (("Location", "/cddh-2"), ("Location", "http://evil-t3.example/cddh")))},
      ("evil-t3.example", 80): {"/cddh": BAIT}}, NOT_FOUND, hosts=("evil-t3.example",))
case("backslash-userinfo", f"http://u1{D}", f"http://u1{D}/cddh",
     {(f"u1{D}", 80): {"/robots.txt": robots(), "/cddh": redirect(f"http://u1{D}\\@evil-u1.example/cddh")},
      ("evil-u1.example", 80): {"/cddh": BAIT}}, NOT_FOUND, hosts=("evil-u1.example",))
case("userinfo-redirect", f"http://u2{D}", f"http://u2{D}/cddh",
     {(f"u2{D}", 80): {"/robots.txt": robots(), "/cddh": redirect(f"http://u2{D}@evil-u2.example/cddh")},
      ("evil-u2.example", 80): {"/cddh": BAIT}}, OFF_SITE, hosts=("evil-u2.example",))
case("userinfo-link", f"http://u3{D}", f"http://admin:secret@u3{D}/cddh",
     {(f"u3{D}", 80): {"/robots.txt": robots(), "/cddh": LISTING}}, PASS)
IDN = "xn--ha-an-uta" + D        # hòa-an.hostile.gov.vn
case("idn", "http://hòa-an" + D, "http://HÒA-AN" + D + "/cddh",
     {(IDN, 80): {"/robots.txt": robots(), "/cddh": redirect(f"http://hòa-an{D}/cddh-2"), "/cddh-2": LISTING}},
     PASS, hosts=(IDN,))


@pytest.fixture(scope="module")
def results(attack, tmp_path_factory):
    for _, routes, _, _ in CASES:
        for (host, port), table in routes.items():
            attack.portal(host, table, port=port)
    mark = attack.mark()
    cases = [c for c, *_ in CASES]
    got = run_both(attack, cases, tmp_path_factory.mktemp("scope"))
    return got, strays(attack, cases, mark)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c.agency_id for c, *_ in CASES])
def test_both_paths_give_the_verdict_and_stay_on_the_portal(results, index):
    got, _ = results
    case_, _, expected, never = CASES[index]
    result = got[case_.agency_id]
    assert not result.check.traceback and not result.crawl.traceback, result.explain()
    assert result.check.verdict == expected and result.crawl.verdict == expected, result.explain()
    assert not result.outside(), result.explain()
    assert not [r for r in result.requests if r.target in never], result.explain()


def test_no_request_went_to_a_host_no_case_owns(results):
    _, stray = results
    assert stray == []


def test_what_is_sent_is_what_was_checked(results):
    got, _ = results
    inside = got["prefix-dots-inside"]
    assert {r.target for r in inside.requests} == {"/robots.txt", "/web/hoa-an/cddh"}
    pager = got["pager-dots-inside"]
    assert sorted(r.target for r in pager.check.requests) == sorted(r.target for r in pager.crawl.requests) == \
        ["/robots.txt", "/web/hoa-an/cddh", "/web/hoa-an/cddh?page=2"], pager.explain()
    assert pager.check.posts == pager.crawl.posts == 6
    tab = got["tab-in-path"]
    assert {r.target for r in tab.requests} == {"/robots.txt", "/cddh", "/cddh-2"}


def test_credentials_in_a_link_are_never_sent(results):
    got, _ = results
    result = got["userinfo-link"]
    assert result.requests and not any("secret" in r.raw_line or "admin" in r.raw_line for r in result.requests)


def test_robots_txt_is_read_only_on_the_portal_host(results):
    got, _ = results
    for name in ("robots-octal-redis", "robots-other-host", "robots-other-port"):
        result = got[name]
        assert [(r.host, r.port, r.target) for r in result.requests if r.path == "/robots.txt"] == \
            [(result.case.url.split("/")[2], 80, "/robots.txt")] * 2, result.explain()    # once per path


def test_a_disguised_loopback_allowed_by_the_run_is_sent_as_the_address_it_is(attack, tmp_path):
    """With --allow-private (the demo, the tests) `0x7f.1` is fetched, and both paths send 127.0.0.1."""
    attack.portal("127.0.0.1", {"/robots.txt": robots(), "/cddh-allowed": LISTING})
    case_ = Case("private-allowed", "http://0x7f.1", "http://0x7f.1/cddh-allowed", hosts=("127.0.0.1",))
    result = run_both(attack, [case_], tmp_path, allow_private=True)[case_.agency_id]
    assert result.same_verdict == PASS, result.explain()
    assert {(r.host, r.path) for r in result.requests} == {("127.0.0.1", "/robots.txt"), ("127.0.0.1", "/cddh-allowed")}
