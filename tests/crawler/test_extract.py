"""The extraction core on saved pages of portals it was not tuned on (tests/fixtures/pages)."""

import pytest

from crawler.extract import read_page
from tests.crawler.fixture_eval import evaluate, load_expectations, read_fixture

EXPECTATIONS = load_expectations()
LISTINGS = sorted(n for n, e in EXPECTATIONS.items() if e["kind"] == "listing")
ARTICLES = sorted(n for n, e in EXPECTATIONS.items() if e["kind"] == "article")


@pytest.fixture(scope="module")
def score():
    return evaluate()


def test_page_kinds_and_categories(score):
    assert score.pages >= 10
    assert score.kind_ok / score.pages >= 0.95, score.failures
    assert score.category_ok / score.pages >= 0.95, score.failures


def test_posts_precision_and_recall(score):
    assert score.post_precision >= 0.95, score.failures
    assert score.post_recall >= 0.95, score.failures


def test_dates_precision_and_recall(score):
    assert score.date_precision >= 0.97, score.failures
    assert score.date_recall >= 0.95, score.failures


def test_no_chrome_date_is_read_as_a_post_date(score):
    assert score.chrome_dates_leaked == 0, score.failures


def test_pagination_and_article_dates(score):
    assert score.next_found_ok / max(1, score.next_expected) >= 0.95, score.failures
    assert score.article_dates_ok / max(1, score.article_dates) >= 0.9, score.failures


@pytest.mark.parametrize("name", LISTINGS)
def test_each_listing_shows_its_own_category(name):
    assert read_fixture(name).category.criterion == EXPECTATIONS[name]["category"]


@pytest.mark.parametrize("name", ARTICLES)
def test_each_article_is_an_article(name):
    assert read_fixture(name).kind == "article"


def test_same_bytes_same_reading(matcher):
    """The reading depends on the bytes and the URL only (both fetch paths rely on this)."""
    name = LISTINGS[0]
    exp = EXPECTATIONS[name]
    body = open(f"tests/fixtures/pages/{name}.html", "rb").read()
    a = read_page(exp["url"], body, {"Content-Type": exp["content_type"]}, matcher)
    b = read_page(exp["url"], bytes(body), {"content-type": exp["content_type"]}, matcher)
    assert a == b


@pytest.mark.parametrize("body", [b"", b"\x00\x01\x02", b"<html><body><p>x</p>", b"{\"json\": true}",
                                  b"<?xml version='1.0' encoding='utf-8'?><rss></rss>",
                                  b"<div>" * 5000])
def test_hostile_or_broken_bytes_give_an_empty_reading(matcher, body):
    reading = read_page("http://a.gov.vn/x", body, {}, matcher)
    assert reading.posts == () and reading.category.criterion is None


def test_a_logo_link_is_not_a_next_page(matcher):
    """Drupal puts "page-taxonomy" on <body>; a link holding only an image folds to no words at all,
    like the arrows, and must not be taken for "Trang sau" (the home page would be read as page 2)."""
    body = ("<html><body class='html page-taxonomy'><div id='header'><a href='/'><img src='/logo.png'></a></div>"
            "<div class='breadcrumb'><a href='/'>Trang chủ</a> » Hỏi - Đáp</div><h1>Hỏi - Đáp</h1><ul>"
            + "".join(f"<li><a href='/node/{i}'>Trả lời kiến nghị của công dân số {i}</a> 0{i}/05/2018</li>"
                      for i in range(1, 6))
            + "</ul><div class='pager'><a href='/taxonomy/term/45?page=1'>»</a></div></body></html>").encode()
    reading = read_page("http://a.gov.vn/taxonomy/term/45", body, {"content-type": "text/html; charset=utf-8"}, matcher)
    assert reading.next_pages == ("http://a.gov.vn/taxonomy/term/45?page=1",)
