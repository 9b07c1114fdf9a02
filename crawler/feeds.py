"""RSS and Atom feeds: they only add dates to posts the HTML listing shows."""

from __future__ import annotations

import feedparser

from crawler.dates import parse_machine_date
from crawler.records import FeedItem
from crawler.text import clean_space


def read_feed(body: bytes, url: str) -> list[FeedItem]:
    """Items of an RSS/Atom feed with Vietnam-local dates; [] for anything that is not a feed."""
    parsed = feedparser.parse(body, response_headers={"content-location": url})
    if not parsed.get("entries"):
        return []
    items = []
    for entry in parsed.entries[:500]:
        published = _date(entry, "published") or _date(entry, "created")
        updated = _date(entry, "updated")
        items.append(FeedItem(
            title=clean_space(entry.get("title", "")),
            url=(entry.get("link") or "").strip() or None,
            published=published or updated,
            updated=updated if published else None,
        ))
    return items


def _date(entry, key: str):
    raw = entry.get(key)
    return parse_machine_date(raw) if isinstance(raw, str) and raw.strip() else None
