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


@pytest.mark.parametrize("raw", ["", "không có", "ftp://x.gov.vn/a", "http://", "http://exa mple.vn", "http://a..b/"])
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
