"""The extraction core: one page's bytes in, a typed reading out.

Pure: no network, database or Scrapy import. The Scrapy spider and the httpx
spot-check both call `read_page`, so the same bytes give the same reading
whichever path fetched them.

`read_page` is a cascade of stages, each a function of the page context
(`page.Page`, built once) returning a value:

    page.py        decode, parse, and the page context with its memo
    chrome.py      unseen elements dropped; chrome, side columns, the main region
    label.py       the page's own category label (breadcrumb, heading, <title>, active menu)
    listing.py     groups of repeated items, their scores, the listing and its posts
    item_dates.py  the dates of one listing item
    article.py     the published and updated dates of an article
    kind.py        listing, article, home, error (and soft 404) or static page
    pager.py       next pages and ASP.NET postback forms
    links.py       feeds and navigation links

The words portals use live in vocabulary.py, every weight and threshold in weights.py.
"""

from __future__ import annotations

from collections.abc import Mapping

from crawler.categories import CategoryMatcher
from crawler.content import PageText
from crawler.extract import article, kind, label, links, listing, pager
from crawler.extract.chrome import is_footer_element
from crawler.extract.page import Page, decode, parse_html, read_text, text_nodes
from crawler.extract.weights import WEIGHTS as W
from crawler.records import PageReading, Post

__all__ = ["read_page", "page_text", "content_links", "decode", "parse_html", "forget"]


def forget(matcher: CategoryMatcher | None = None) -> None:
    """Empty what the core keeps from page to page (texts folded and normalised, side-box titles, class
    tokens, chrome by names, resolved links, the matcher's answers): a benchmark's pass then reads as a new
    process would."""
    from crawler import text
    from crawler.extract import chrome
    from crawler.extract import links as links_module
    from crawler.extract import page as page_module

    for cached in (text._fold_short, text._normalise_short, chrome.is_side_box_title, chrome._name_tokens,
                   listing._stable_classes, listing._item_classes, links_module._feed_like):
        cached.cache_clear()
    page_module._JOINED.clear()
    page_module._NAMED.clear()
    chrome._CHROME_BY_NAMES.clear()
    if matcher is not None:
        matcher.forget()


def read_page(url: str, body: bytes, headers: Mapping[str, str] | None, matcher: CategoryMatcher,
              *, status: int | None = 200, scope_prefix: str = "") -> PageReading:
    """Read one fetched page. Never raises on bad HTML: an unreadable page is an empty 'page'."""
    decoded = read_text(body, headers)
    text, encoding = decoded.text, decoded.encoding
    doc = parse_html(text, url)
    if doc is None:
        return PageReading(url=url, kind="page", encoding=encoding, legacy_encoding=decoded.legacy,
                           notes=(*decoded.notes, "not HTML"))
    # the tree, its unseen elements dropped, with <meta>, JSON-LD and <title> read once for every stage
    page = Page(doc, url, matcher, status=status, encoding=encoding, scope_prefix=scope_prefix, source=text)

    # the page's own labels come first: a box of another category is then not the listing
    votes = label.label_votes(page)
    groups = listing.score_groups(page, listing.find_groups(page), label.winner(votes.scores)[0])
    best = listing.best_group(page, groups)
    # the title of the listing's box names the page's category as surely as its heading
    category = label.choose_category(votes, best.box_criterion if best else None, best.box_title if best else None)

    # article dates before the kind: a page that is one text keeps its date as a post
    published, updated, date_source, updates_shown = article.article_dates(page)
    page_kind = kind.page_kind(page, groups, best, category, kind.body_chars(page, best))
    posts: tuple[Post, ...] = ()
    empty = page_kind == "listing" and (best is None or kind.is_empty_listing(page))
    if page_kind == "listing" and best is not None and not empty:
        posts = listing.posts(page, best)
    elif page_kind == "page" and category.criterion:
        posts = (Post(title=page.main_heading or page.title, url=url, published=published, updated=updated,
                      date_source=date_source),)
    # only a listing's pager is followed: an article's "next" is the next article
    next_pages = pager.next_pages(page) if page_kind == "listing" else ()
    return PageReading(
        url=url, kind=page_kind, title=page.title, category=category, posts=posts,
        next_pages=next_pages, forms=pager.postback_forms(page, next_pages),
        feeds=links.feeds(page), article_date=published, article_updated=updated,
        article_date_source=date_source, nav_links=links.nav_links(page), encoding=encoding,
        legacy_encoding=decoded.legacy, updates_shown=updates_shown,
        notes=decoded.notes + (
            (f"page read as far as its first {W.max_page_links} links or {W.max_page_elements} elements",)
            if page.cut else ()),
    )


def page_text(url: str, body: bytes, headers: Mapping[str, str] | None = None) -> PageText:
    """The page's text for content checks: its main text (outside menus, header, side boxes and footer) and
    its footer's text. Read only for criteria judged by their content, so other pages pay nothing for it."""
    decoded = read_text(body, headers)
    doc = parse_html(decoded.text, url)
    if doc is None or decoded.legacy:
        return PageText()
    page = Page(doc, url, CategoryMatcher(()), status=200, encoding=decoded.encoding, scope_prefix="")
    main, footer = [], []
    for el, text in text_nodes(page.body):
        if not page.chrome(el):
            main.append(text)
        elif any(is_footer_element(x) for x in (el, *el.iterancestors())):
            footer.append(text)
    return PageText(main=" ".join(main), footer=" ".join(footer))


def content_links(url: str, body: bytes, headers: Mapping[str, str] | None = None) -> tuple[tuple[str, str], ...]:
    """(text, absolute URL) of the links in the page's main content (outside menus, header, side boxes and
    footer), in page order: an introduction links its sub-pages (functions, organisation, leaders) from its
    text as often as from its menus. Read only for criteria judged by their content, as page_text is."""
    decoded = read_text(body, headers)
    doc = parse_html(decoded.text, url)
    if doc is None or decoded.legacy:
        return ()
    page = Page(doc, url, CategoryMatcher(()), status=200, encoding=decoded.encoding, scope_prefix="")
    out: list[tuple[str, str]] = []
    for a in page.body.iter("a"):
        href = page.abs(a.get("href"))
        if not href or page.chrome(a):
            continue
        text = page.link_text(a)
        if text and (text, href) not in out:
            out.append((text, href))
    return tuple(out)
