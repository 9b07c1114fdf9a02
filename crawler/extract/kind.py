"""The kind of page: listing, article, home, error (also a "không tìm thấy" page served with 200), static page."""

from __future__ import annotations

from crawler.categories import ALIAS_SCORE
from crawler.extract import pager
from crawler.extract.listing import Group, item_has_date
from crawler.extract.page import Page
from crawler.extract.vocabulary import (
    EMPTY_LISTING,
    HOME_BODY_CLASS,
    RUNNING_TEXT_TAGS,
    SOFT_404,
    SOFT_404_TEXT,
    STATIC_PAGE_BODY_CLASS,
)
from crawler.extract.weights import WEIGHTS as W
from crawler.records import CategoryMatch
from crawler.text import clean_space, fold_accents, normalise
from crawler.urls import first_page, is_home_url, same_page


def body_chars(page: Page, best: Group | None) -> int:
    """Characters of running text in the page outside listing items and chrome."""
    inside_items = {el for item in best.items for el in item.iter()} if best is not None else set()
    total = 0
    for p in page.body.iter(*RUNNING_TEXT_TAGS):
        if page.chrome(p) or p in inside_items:
            continue
        own = clean_space((p.text or "") + " " + " ".join((c.tail or "") for c in p))
        if len(own) >= W.min_paragraph_chars:
            total += len(own)
    return total


def page_kind(page: Page, groups: list[Group], best: Group | None, category: CategoryMatch, body_chars: int) -> str:
    """"listing", "article", "home", "error" or "page", the plainest evidence first."""
    if page.status is not None and page.status >= 400:
        return "error"
    if is_soft_404(page, best):
        return "error"
    if is_home_url(page.url, page.scope_prefix) or _later_home_page(page) \
            or HOME_BODY_CLASS.search(page.body.get("class") or ""):
        return "home"
    # boxes of several categories and no category of its own: a home page at another address
    boxed = {g.box_criterion for g in groups if g.box_criterion and not page.chrome(g.parent)}
    if len(boxed) >= W.home_boxes and not category.criterion:
        return "home"
    # a category that says it has nothing yet is an empty listing, whatever boxes stand beside it
    if category.criterion and is_empty_listing(page):
        return "listing"
    items = len(best.items) if best is not None else 0
    # the CMS says the page is a static page ("Liên hệ", "Lãnh đạo Sở"), whatever its length and its tables
    # of departments; a static page that holds a list of dated posts (a Query Loop) is a listing
    if STATIC_PAGE_BODY_CLASS.search(page.body.get("class") or "") and not _lists_posts(page, best):
        return "page"
    heading = page.main_heading or ""
    names_category = bool(heading) and page.match(heading)[0] is not None
    # the CMS says the page is one post (meta, JSON-LD, microdata, <body> class) and its headline is no
    # category name: an article, whatever lists of other posts ("Các tin khác") follow it
    if page.is_one_post and heading and not names_category:
        return "article"
    if page.article_meta and not (items >= W.listing_over_article_meta and body_chars < W.article_body_chars):
        return "article"
    # a heading that names the category over a few posts with their summaries: a short listing
    if names_category and items >= 1 and category.criterion:
        return "listing"
    # running text, or a headline that reads as a sentence, and hardly a listing: an article
    sentence_heading = len(heading.split()) > W.max_label_tokens or \
        (len(heading.split()) >= W.sentence_heading_tokens and page.match(heading)[1] < ALIAS_SCORE)
    if items < W.max_article_items and (body_chars >= W.article_body_chars
                                        or (sentence_heading and (body_chars >= W.short_body_chars or not items))):
        # a category page that is one text ("Cơ cấu tổ chức") is a page of that category
        return "article" if not category.criterion or category.source != "heading" else "page"
    # the breadcrumb or <title> names the category, yet the page has no headline of its own, no text and no
    # posts: the category's column is empty (NukeViet shows nothing at all)
    if category.criterion and not items and category.source in ("breadcrumb", "title") \
            and not sentence_heading and page.match(heading)[0] != category.criterion:
        return "listing"
    # the category's heading and nothing under it (WordPress block themes print no "nothing here")
    if category.criterion and not items and names_category and body_chars < W.short_body_chars:
        return "listing"
    if items >= 1:
        return "listing"
    return "page"


def _lists_posts(page: Page, best: Group | None) -> bool:
    """Does the listing found look like one of posts: most of its items dated, or a pager below it?"""
    if best is None:
        return False
    dated = sum(1 for item in best.items if item_has_date(page, item))
    return dated * 2 >= len(best.items) or bool(pager.next_pages(page))


def is_soft_404(page: Page, best: Group | None) -> bool:
    """A "không tìm thấy" / "page not found" page, whatever its status."""
    for text in (page.title, page.main_heading or ""):
        if text and SOFT_404.search(normalise(fold_accents(text))):
            return True
    if best is not None and len(best.items) >= W.soft_404_items:
        return False
    key = page.short_text_key
    return key is not None and bool(SOFT_404_TEXT.search(key))


def is_empty_listing(page: Page) -> bool:
    """The page's own content says there is nothing in this category yet ("Chưa có bài viết", "Nothing here")."""
    key = page.short_text_key
    return key is not None and bool(EMPTY_LISTING.search(key))



def _later_home_page(page: Page) -> bool:
    """Page 2, 3, ... of the home page's list of every post (WordPress /page/2/, ?paged=2): the home page."""
    first = first_page(page.url)
    return not same_page(first, page.url) and is_home_url(first, page.scope_prefix)
