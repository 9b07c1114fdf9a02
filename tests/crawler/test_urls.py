import pytest

from crawler.urls import BadURL, Scope, is_above, is_home_url, normalise_url, under


@pytest.mark.parametrize("raw,expected", [
    ("sotnmt.caobang.gov.vn/Pages/ChuyenMuc/5522/x.html", "http://sotnmt.caobang.gov.vn/Pages/ChuyenMuc/5522/x.html"),
    ("HTTP://SoTuPhap.CaoBang.gov.vn:80/node/1#main", "http://sotuphap.caobang.gov.vn/node/1"),
    ("http://sotuphap.caobang.gov.vn/taxonomy/term/12?utm_source=zalo&page=1&fbclid=abc",
     "http://sotuphap.caobang.gov.vn/taxonomy/term/12?page=1"),
    ("  https://caobang.gov.vn/web/hoa-an  ", "https://caobang.gov.vn/web/hoa-an"),
    ("//soyte.caobang.gov.vn/index.php?language=vi&nv=news&op=chi-dao",
     "http://soyte.caobang.gov.vn/index.php?language=vi&nv=news&op=chi-dao"),
])
def test_links_are_normalised_as_a_reviewer_would(raw, expected):
    assert normalise_url(raw) == expected


@pytest.mark.parametrize("raw", ["", "không có", "ftp://x.gov.vn/a", "http://", "http://exa mple.vn", "http://a..b/",
                                 "http://[::1/x", "http://a.vn:99999/", "http://1.2.3.08/", "javascript:alert(1)"])
def test_malformed_links_are_refused(raw):
    with pytest.raises(BadURL):
        normalise_url(raw)


def test_scope_owns_host_and_www_twin_only():
    scope = Scope.parse("https://sotuphap.caobang.gov.vn")
    assert scope.owns("http://www.sotuphap.caobang.gov.vn/node/1")
    assert scope.owns("https://sotuphap.caobang.gov.vn/")
    assert not scope.owns("http://caobang.gov.vn/")
    assert not scope.owns("http://sotuphap.caobang.gov.vn.evil.com/")
    assert not scope.owns("http://facebook.com/sotuphap")


def test_scope_with_path_owns_only_under_the_path():
    scope = Scope.parse("http://caobang.gov.vn/web/hoa-an")
    assert scope.owns("http://caobang.gov.vn/web/hoa-an/tin-tuc")
    assert scope.owns("http://caobang.gov.vn/web/hoa-an")
    assert not scope.owns("http://caobang.gov.vn/web/ha-quang/tin-tuc")
    assert not scope.owns("http://caobang.gov.vn/web/hoa-an-khac/x")


def test_several_portals_per_agency():
    scope = Scope.parse("http://soyte.caobang.gov.vn https://syt.caobang.gov.vn")
    assert scope.owns("http://syt.caobang.gov.vn/x") and scope.owns("http://soyte.caobang.gov.vn/y")


def test_scheme_less_link_takes_the_registered_scheme():
    scope = Scope.parse("https://sotuphap.caobang.gov.vn")
    assert scope.default_scheme("sotuphap.caobang.gov.vn/node/1") == "https"
    assert scope.default_scheme("other.gov.vn/x") == "http"


@pytest.mark.parametrize("url,home", [
    ("http://a.gov.vn/", True), ("http://a.gov.vn", True), ("http://a.gov.vn/index.php?language=vi", True),
    ("http://a.gov.vn/trang-chu", True), ("http://a.gov.vn/Pages/Home.aspx", True),
    ("http://a.gov.vn/index.php?language=vi&nv=news&op=chi-dao", False), ("http://a.gov.vn/node/12", False),
    ("http://a.gov.vn/taxonomy/term/3", False),
])
def test_home_pages_are_recognised(url, home):
    assert is_home_url(url) is home


def test_liferay_site_root_is_its_home():
    assert is_home_url("http://caobang.gov.vn/web/hoa-an/", "/web/hoa-an")
    assert not is_home_url("http://caobang.gov.vn/web/hoa-an/chi-dao-dieu-hanh", "/web/hoa-an")


@pytest.mark.parametrize(("upper", "lower", "above"), [
    ("http://a.vn/", "http://a.vn/chuyen-muc/x/", True),
    ("http://a.vn/chuyen-muc/", "http://a.vn/chuyen-muc/x/", True),
    ("http://a.vn/index.php?language=vi&nv=news", "http://a.vn/index.php?language=vi&nv=news&op=x", True),
    ("http://www.a.vn/", "http://a.vn/x", True),
    # the same listing's first page, a twin with a slash, another host, a sibling: not above
    ("http://a.vn/tin-hoat-dong/", "http://a.vn/tin-hoat-dong/page-9/", False),
    ("http://a.vn/index.php?nv=news&op=tin", "http://a.vn/index.php?nv=news&op=tin/page-9", False),
    ("http://a.vn/category/x/", "http://a.vn/category/x/page/99/", False),
    ("http://a.vn/x/", "http://a.vn/x", False),
    ("http://b.vn/", "http://a.vn/x", False),
    ("http://a.vn/y/", "http://a.vn/x/", False),
])
def test_a_redirect_up_is_told_from_a_redirect_to_the_first_page(upper, lower, above):
    assert is_above(upper, lower) is above


@pytest.mark.parametrize(("url", "listing", "inside"), [
    ("http://a.vn/tin-hoat-dong/x-12.html", "http://a.vn/tin-hoat-dong/", True),
    ("http://a.vn/tin-hoat-dong/x-12.html", "http://a.vn/tin-hoat-dong/page-2/", True),
    ("http://a.vn/index.php?language=vi&nv=news&op=du-an/x-25.html", "http://a.vn/index.php?language=vi&nv=news&op=du-an", True),
    ("http://a.vn/index.php?language=vi&nv=about&op=gioi-thieu.html", "http://a.vn/index.php?language=vi&nv=news&op=du-an", False),
    ("http://a.vn/node/12", "http://a.vn/taxonomy/term/3", False),
    ("http://a.vn/tin-hoat-dong/", "http://a.vn/tin-hoat-dong/", False),
    ("http://b.vn/tin-hoat-dong/x.html", "http://a.vn/tin-hoat-dong/", False),
])
def test_a_post_under_the_categorys_own_address(url, listing, inside):
    assert under(url, listing) is inside


# -- the wire form: what is checked is what is sent, read as servers, resolvers and browsers read it

from crawler.urls import (  # noqa: E402
    literal_private_ip,
    next_hop,
    parse_ipv4,
    redirect_target,
    wire_url,
)


@pytest.mark.parametrize("host,address", [
    ("127.0.0.1", "127.0.0.1"), ("127.1", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"),
    ("2130706433", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("0X7F.0.0.01", "127.0.0.1"), ("10.1.65535", "10.1.255.255"),
    ("0", "0.0.0.0"), ("0x", "0.0.0.0"), ("192.168.0x1.017", "192.168.1.15"),
])
def test_ipv4_is_read_in_every_form_a_resolver_takes(host, address):
    assert str(parse_ipv4(host)) == address


@pytest.mark.parametrize("host", ["1.2.3.08", "256.1.1.1", "1.2.3.4.5", "1..2", "0x1g", "4294967296", "1.2.65536",
                                  "", "a.1", "1.2.3.4 x"])
def test_what_no_resolver_reads_as_ipv4_is_none(host):
    assert parse_ipv4(host) is None


@pytest.mark.parametrize("host,private", [
    ("0x7f.1", True), ("127.1", True), ("0177.0.0.1", True), ("2130706433", True), ("[::1]", True), ("::1", True),
    ("[::ffff:127.0.0.1]", True), ("::ffff:7f00:1", True), ("::127.0.0.1", True), ("64:ff9b::a00:1", True),
    ("2002:7f00:1::", True), ("0", True), ("012.0.0.1", True), ("0xa9fea9fe", True), ("fe80::1%eth0", True),
    ("localhost", True), ("a.localhost.", True), ("127.0.0.1.", True),
    ("8.8.8.8", False), ("0x8.0x8.0x8.0x8", False), ("[2001:4860:4860::8888]", False), ("caobang.gov.vn", False),
    ("1.2.3.08", False),   # no address at all: a name, which the resolver (or the proxy) fails
])
def test_literal_private_addresses_in_disguise_are_recognised(host, private):
    assert literal_private_ip(host) is private


@pytest.mark.parametrize("raw,wire", [
    ("http://0x7f.1/a", "http://127.0.0.1/a"),
    ("http://[0:0:0:0:0:ffff:7f00:1]:8080/", "http://[::ffff:7f00:1]:8080/"),
    ("HTTP://Hoa-An.CaoBang.gov.vn.:80/x", "http://hoa-an.caobang.gov.vn/x"),
    ("https://caobang.gov.vn:443/web/hoa-an/", "https://caobang.gov.vn/web/hoa-an/"),
    ("http://user:pass@caobang.gov.vn/x", "http://caobang.gov.vn/x"),
    ("http://hòa-an.gov.vn/Tin Tức", "http://xn--ha-an-uta.gov.vn/Tin%20T%E1%BB%A9c"),
    ("http://a.vn/web/hoa-an/../thach-an/cddh", "http://a.vn/web/thach-an/cddh"),
    ("http://a.vn/web/hoa-an/%2e%2E/thach-an/cddh", "http://a.vn/web/thach-an/cddh"),
    ("http://a.vn/web/hoa-an/.%2e/thach-an/", "http://a.vn/web/thach-an/"),
    ("http://a.vn/web/hoa-an\\..\\thach-an\\cddh", "http://a.vn/web/thach-an/cddh"),
    ("http://a.vn/web/hoa-an/..%2fthach-an/cddh", "http://a.vn/web/hoa-an/..%2Fthach-an/cddh"),   # kept as sent
    ("http://a.vn/a/./b/..", "http://a.vn/a/"), ("http://a.vn/..", "http://a.vn/"), ("http://a.vn", "http://a.vn/"),
    ("http://a.vn/%7e%41?q=%2e&x=..#frag", "http://a.vn/~A?q=%2e&x=.."),
    ("http://a.vn/a\tb\n", "http://a.vn/ab"), ("http://portal.vn\\@evil.vn/", "http://portal.vn/@evil.vn/"),
])
def test_the_wire_form(raw, wire):
    assert wire_url(raw) == wire
    assert wire_url(wire) == wire       # stable: the crawl rewrites a request to it once, never in a loop


@pytest.mark.parametrize("raw", ["javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", "ftp://a.vn/",
                                 "http:///x", "http://1.2.3.08/", "http://example.123/", "http://[::1/", "http://a.vn:99999/",
                                 "http://intranet/x", "http://a..vn/"])
def test_what_cannot_be_sent_has_no_wire_form(raw):
    with pytest.raises(BadURL):
        wire_url(raw)


def test_a_prefix_portal_owns_only_what_its_server_serves_under_the_prefix():
    scope = Scope.parse("http://caobang.gov.vn/web/hoa-an")
    for url in ["http://caobang.gov.vn/web/hoa-an/tin/../cddh", "http://caobang.gov.vn/web/hoa-an/%63ddh",
                "http://CAOBANG.gov.vn./web/hoa-an/cddh", "http://caobang.gov.vn:80/web/hoa-an",
                "https://www.caobang.gov.vn/web/hoa-an/x"]:
        assert scope.owns(url), url
    for url in ["http://caobang.gov.vn/web/hoa-an/../thach-an/cddh", "http://caobang.gov.vn/web/hoa-an/%2e%2e/thach-an",
                "http://caobang.gov.vn/web/hoa-an/..%2fthach-an/cddh", "http://caobang.gov.vn/web/hoa-an/..%5Cthach-an",
                "http://caobang.gov.vn/web/hoa-an\\..\\thach-an", "http://caobang.gov.vn/WEB/HOA-AN/cddh",
                "http://caobang.gov.vn/web/hoa-an-2/x", "http://caobang.gov.vn:22/web/hoa-an/x",
                "http://caobang.gov.vn:443/web/hoa-an/x", "javascript:alert(1)", "http://[::1/"]:
        assert not scope.owns(url), url


def test_a_port_is_part_of_the_portal():
    assert Scope.parse("http://a.gov.vn:8080").owns("https://a.gov.vn:8080/x")
    assert not Scope.parse("http://a.gov.vn:8080").owns("http://a.gov.vn/x")
    assert not Scope.parse("http://a.gov.vn").owns("http://a.gov.vn:8080/x")
    assert Scope.parse("http://a.gov.vn").owns("https://a.gov.vn:443/x")


def test_idn_portals_match_their_punycode():
    scope = Scope.parse("http://hòa-an.gov.vn")
    assert scope.owns("http://xn--ha-an-uta.gov.vn/x") and scope.owns("http://HÒA-AN.gov.vn/x")
    assert scope.default_scheme("hòa-an.gov.vn/x") == "http"


def test_robots_txt_is_served_by_the_portal_host_only():
    scope = Scope.parse("http://caobang.gov.vn/web/hoa-an http://a.gov.vn:8080")
    assert scope.serves_robots("http://caobang.gov.vn/robots.txt")
    assert scope.serves_robots("https://www.caobang.gov.vn/robots.txt")
    assert scope.serves_robots("http://a.gov.vn:8080/robots.txt")
    for url in ["http://caobang.gov.vn/robots.txt?action=delete&id=1", "http://caobang.gov.vn:6379/robots.txt",
                "http://0x7f.1:6379/robots.txt", "http://evil.example/robots.txt", "http://a.gov.vn/robots.txt",
                "http://caobang.gov.vn/web/hoa-an/robots.txt"]:
        assert not scope.serves_robots(url), url


@pytest.mark.parametrize("location,target", [
    ("/x", "http://a.vn/x"), ("x", "http://a.vn/web/x"), ("//b.vn/x", "http://b.vn/x"),
    ("http://a.vn\\@evil.vn/", "http://a.vn/@evil.vn/"), ("http://a.vn@evil.vn/", "http://evil.vn/"),
    ("http://ev\til.vn/", "http://evil.vn/"), (" /cd\tdh ", "http://a.vn/cddh"), ("..\\..\\x?q=\\", "http://a.vn/x?q=%5C"),
    ("http://0177.0.0.1/", "http://127.0.0.1/"), ("http:/x", "http://a.vn/x"), ("HTTPS://A.VN./x", "https://a.vn/x"),
])
def test_a_location_is_read_as_a_browser_reads_it(location, target):
    assert redirect_target("http://a.vn/web/cddh", location) == target


@pytest.mark.parametrize("location", ["javascript:alert(1)", "data:text/html,<h1>x</h1>", "file:///etc/passwd",
                                      "http:///cddh", "gopher://a.vn/", "http://1.2.3.08/"])
def test_a_redirect_to_what_cannot_be_fetched_leaves_the_portal(location):
    hop = next_hop("http://a.vn/cddh", "GET", 302, location, None, b"", refresh_max_delay=100)
    assert hop.url is None and "leaves the portal" in hop.refused


def test_hops_keep_or_change_the_method_as_browsers_do():
    def method(status, was):
        return next_hop("http://a.vn/x", was, status, "/y", None, b"", refresh_max_delay=100).method
    assert [method(s, "POST") for s in (301, 302, 303, 307, 308)] == ["GET", "GET", "GET", "POST", "POST"]
    assert method(303, "HEAD") == "HEAD" and method(301, "GET") == "GET"
    assert next_hop("http://a.vn/x", "GET", 200, None, "text/html", b"<p>x</p>", refresh_max_delay=100) is None
    assert next_hop("http://a.vn/x", "GET", 302, "", None, b"", refresh_max_delay=100) is None


@pytest.mark.parametrize("html,target", [
    ('<meta http-equiv="refresh" content="0; url=/node/7">', "http://a.vn/node/7"),
    ('<meta http-equiv="Refresh" content="5;URL=\'http://b.vn/\'">', "http://b.vn/"),
    ('<meta http-equiv="refresh" content="600; url=/later">', None),           # a reader reads the page first
    ('<noscript><meta http-equiv="refresh" content="0; url=/nojs"></noscript>', None),
    ('<meta http-equiv="refresh" content="5">', None),
    ('<meta http-equiv="refresh" content="30; url=http://a.vn/x">', None),     # the page reloading itself
])
def test_a_meta_refresh_is_a_hop(html, target):
    hop = next_hop("http://a.vn/x", "GET", 200, None, "text/html; charset=utf-8", html.encode(), refresh_max_delay=100)
    assert (hop.url if hop else None) == target
    if hop:
        assert hop.method == "GET" and hop.reason == "refresh"


def test_a_refresh_header_and_a_refresh_behind_padding_are_hops_too():
    def target(body=b"", refresh=None):
        hop = next_hop("http://a.vn/x", "GET", 200, None, "text/html", body, refresh_max_delay=100, refresh=refresh)
        return hop.url if hop else None
    assert target(refresh="0; url=http://b.vn/") == "http://b.vn/"
    for scheme in ("javascript:alert(1)", "data:text/html,x"):
        assert next_hop("http://a.vn/x", "GET", 200, None, "text/plain", b"", refresh_max_delay=100,
                        refresh=f"1;url={scheme}").refused
    padded = b"<html><head>" + b"<!-- -->" * 5000 + b'<meta http-equiv="refresh" content="0;url=/y"></head></html>'
    assert target(padded) == "http://a.vn/y"
    assert target(b'<!-- <meta http-equiv="refresh" content="0;url=/y"> -->') is None
    assert target(b'<p>x</p><meta http-equiv="refresh" content="0;url=/y">') == "http://a.vn/y"


def test_a_robots_txt_follows_redirects_on_its_own_host_only():
    from crawler.urls import robots_hop

    first = "http://a.gov.vn/robots.txt"
    assert robots_hop(first, "https://www.a.gov.vn/robots.txt") and robots_hop(first, "http://a.gov.vn./robots.txt")
    for url in ["http://a.gov.vn/robots.txt?action=delete&id=1", "http://a.gov.vn:6379/robots.txt",
                "http://0x7f.1:6379/robots.txt", "http://b.gov.vn/robots.txt", "http://a.gov.vn/x/robots.txt",
                "javascript:alert(1)"]:
        assert not robots_hop(first, url), url
