"""Links the crawl follows beyond the listing: feeds, and the page's navigation."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from crawler.extract.page import Page, short_label
from crawler.extract.vocabulary import FEED_HREF


def feeds(page: Page) -> tuple[str, ...]:
    """RSS/Atom feeds the page announces (<link rel=alternate>) or links from its content."""
    out = []
    for link in page.doc.iter("link"):
        rel = (link.get("rel") or "").lower()
        typ = (link.get("type") or "").lower()
        if "alternate" in rel and ("rss" in typ or "atom" in typ):
            href = page.abs(link.get("href"))
            if href and href not in out:
                out.append(href)
    for a in page.body.iter("a"):
        href = page.abs(a.get("href"))
        if href and _feed_like(href) and not page.chrome(a) and href not in out:
            out.append(href)
    return tuple(out)


@lru_cache(maxsize=50_000)
def _feed_like(href: str) -> bool:
    """Does the link's path and query look like a feed's? (Memoised: the same menus' links are on every page.)"""
    parts = urlsplit(href)
    return bool(FEED_HREF.search(parts.path + ("?" + parts.query if parts.query else "")))


def nav_links(page: Page) -> tuple[tuple[str, str], ...]:
    """The links of the page's navigation (menus, header, side menus), for finding a category from the
    home page; post titles in the page's own content are not navigation ("Hội nghị triển khai nhiệm vụ..."
    names no category). Pages whose menus cannot be told apart give every short link."""
    menu, other, seen = [], [], set()
    for a in page.body.iter("a"):
        href = page.abs(a.get("href"))
        if not href:
            continue
        text = page.link_text(a)
        if not text or not short_label(text) or (text, href) in seen:
            continue
        seen.add((text, href))
        (menu if page.chrome(a) else other).append((text, href))
    return tuple(menu or other)
