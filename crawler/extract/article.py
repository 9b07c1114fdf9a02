"""The published and updated dates of an article page, most trustworthy source first."""

from __future__ import annotations

import datetime as dt
import json
from typing import NamedTuple

from crawler.dates import find_dates, parse_machine_date
from crawler.extract.chrome import is_side_box_title
from crawler.extract.page import Page, has_date_class, text_nodes
from crawler.extract.vocabulary import (
    HEADING_TAGS,
    HEADLINE_TAGS,
    LABEL_PUNCTUATION,
    PUBLISHED_LABEL,
    PUBLISHED_META,
    TITLE_CLASS,
    UPDATED_LABEL,
    UPDATED_META,
)
from crawler.extract.weights import WEIGHTS as W
from crawler.text import fold_accents


class ArticleDates(NamedTuple):
    published: dt.date | None
    updated: dt.date | None
    source: str | None      # "meta", "jsonld", "time", "article", or None without a date
    updates_shown: bool = False   # the page says when it was updated (even when that is its publication day)


def article_dates(page: Page) -> ArticleDates:
    """Published and updated dates of an article page; an update date is taken from any source that has one,
    a visible "Cập nhật lúc ..." line included."""
    published, updated, source = _published(page)
    shown = updated is not None or any(key in page.meta for key in UPDATED_META) \
        or any('"dateModified"' in block for block in page.jsonld)
    if updated is None and source in ("meta", "jsonld", "time") and page.is_one_post:
        # a date from markup, and maybe an update line in the text ("Cập nhật lúc 14:20 ngày 20/08/2018")
        _, visible_updated = _visible_article_date(page)
        if visible_updated is not None:
            updated, shown = visible_updated, True
    if updated is not None and published is not None and updated <= published:
        updated = None      # "updated" on the day it was published, or before: no update
    return ArticleDates(published, updated, source, shown)


def _published(page: Page) -> tuple[dt.date | None, dt.date | None, str | None]:
    """(published, updated, source) from the most trustworthy source that has a publication date."""
    updated = _meta_date(page, UPDATED_META)
    # <meta article:published_time> is written by the CMS itself
    if published := _meta_date(page, PUBLISHED_META):
        return published, updated, "meta"
    # JSON-LD is as explicit, but themes copy it between pages more often
    published, jsonld_updated = _jsonld_dates(page.jsonld)
    updated = updated or jsonld_updated
    if published:
        return published, updated, "jsonld"
    # <time datetime> in the content is explicit, but may date something else than the article
    if published := _time_element_date(page):
        return published, updated, "time"
    # "Ngày đăng: 05/07/2018" below the headline, as most portals show it
    published, visible_updated = _visible_article_date(page)
    if published is None:
        published, visible_updated = visible_updated, None     # only an update line: the date it shows
    return published, updated or visible_updated, "article" if published else None


def _meta_date(page: Page, keys: tuple[str, ...]) -> dt.date | None:
    for key in keys:
        if key in page.meta and (value := parse_machine_date(page.meta[key])):
            return value
    return None


def _jsonld_dates(blocks: list[str]) -> tuple[dt.date | None, dt.date | None]:
    published = updated = None
    for block in blocks:
        try:
            data = json.loads(block)
        except (ValueError, TypeError):
            continue
        for node in _walk_json(data):
            if published is None and isinstance(node.get("datePublished"), str):
                published = parse_machine_date(node["datePublished"])
            if updated is None and isinstance(node.get("dateModified"), str):
                updated = parse_machine_date(node["dateModified"])
    return published, updated


def _walk_json(data, depth=0):
    """Every JSON object in the data, a few levels deep."""
    if depth > W.jsonld_depth:
        return
    if isinstance(data, dict):
        yield data
        for v in data.values():
            yield from _walk_json(v, depth + 1)
    elif isinstance(data, list):
        for v in data[:W.jsonld_list_items]:
            yield from _walk_json(v, depth + 1)


def _time_element_date(page: Page) -> dt.date | None:
    for t in page.body.iter("time"):
        if page.chrome(t):
            continue
        value = parse_machine_date(t.get("datetime") or "") or _first(find_dates(page.text(t)))
        if value:
            return value
    return None


def _first(matches):
    return matches[0].value if matches else None


def _visible_article_date(page: Page) -> tuple[dt.date | None, dt.date | None]:
    """The date line of an article: labelled dates, date-classed elements, short lines near the title;
    (published, updated), each None when the page does not show it.

    Scans from the main heading down and stops at the first side box ("Các tin khác"),
    whose dates belong to other posts."""
    h1 = next((h for h in page.body.iter(*HEADLINE_TAGS) if not page.chrome(h)), None)
    started = h1 is None
    headline = set(h1.iter()) if h1 is not None else set()
    container = _article_container(page, h1) if h1 is not None else page.body
    candidates = []   # (priority, order, date, updated?)
    for node, text in text_nodes(container):
        if not started:
            started = node in headline
            continue
        if page.chrome(node) or page.regions.side(node):
            continue
        if (node.tag in HEADING_TAGS or TITLE_CLASS.search(node.get("class", "") or "")) and is_side_box_title(text):
            break
        for m in find_dates(text):
            before = fold_accents(text[max(0, m.start - W.article_label_chars):m.start]).lower()
            updated = bool(UPDATED_LABEL.search(before))
            labelled = updated or bool(PUBLISHED_LABEL.search(before.strip(LABEL_PUNCTUATION)))
            if labelled or has_date_class(node, page.body):
                priority = 0
            elif len(text) - len(m.text) <= W.article_date_slack:
                priority = 1
            else:
                continue    # a date inside running text is the subject of the article, not its date
            candidates.append((priority, len(candidates), m.value, updated))
        if len(candidates) > W.article_max_dates:
            break
    if not candidates:
        return None, None
    candidates.sort(key=lambda c: (c[0], c[1]))
    best = candidates[0][0]
    published = next((c[2] for c in candidates if not c[3] and c[0] == best), None)
    updated = next((c[2] for c in candidates if c[3] and c[0] == best), None)
    return published, updated if updated != published else None


def _article_container(page: Page, h1):
    """The element holding the headline and the article text (not the whole page)."""
    node = h1.getparent()
    for _ in range(W.article_container_levels):
        if node is None or node.getparent() is None:
            break
        if len(page.text(node)) >= W.article_container_chars:
            break
        node = node.getparent()
    return node if node is not None else page.body
