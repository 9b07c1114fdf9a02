"""Every bound and default of both fetch paths, in one place.

The Scrapy settings dict (crawler.spider) and the httpx client (crawler.fetch)
are both derived from these values, so the two paths cannot drift.
Per-run choices travel in one frozen RunOptions built at the CLI edge.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from crawler import __version__

USER_AGENT = (
    f"portal-evidence/{__version__} (e-government ranking verification; "
    "+https://github.com/portal-evidence/portal-evidence)"
)
ROBOTS_USER_AGENT = "portal-evidence"

MAX_DOWNLOAD_BYTES = 8 * 1024 * 1024      # a category listing is never near this
MAX_REDIRECTS = 5
META_REFRESH_MAX_DELAY = 100.0            # seconds: a longer meta refresh is not followed (Scrapy's default)
CONNECT_TIMEOUT = 5.0                    # seconds
READ_TIMEOUT = 15.0                      # seconds, per read of a response
# A fetch's whole exchange (connect, headers, body) ends within CONNECT_TIMEOUT + READ_TIMEOUT
# on both paths, however slowly the bytes come; a spot-check ends within CHECK_SECONDS
# (every fetch and retry of the link included) with a verdict on what it saw.
CHECK_SECONDS = 60.0
ROBOTS_MAX_BYTES = 500 * 1024            # robots.txt is parsed on its first 500 KiB (RFC 9309 2.5)
RETRIES = 2                              # after the first try: timeouts, connection errors, 5xx, 429
RETRY_BACKOFF = 0.5                      # seconds, doubled each retry
RETRY_AFTER_CAP = 10.0                   # never wait longer than this for a Retry-After
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 522, 524})

MAX_LISTING_PAGES = 12                   # pages of one listing followed through pagination
MAX_ARTICLE_PAGES = 15                   # article pages read to date an undated listing
# pages of the same category a page judged by its content links to, read with it (an introduction's
# "Chức năng, nhiệm vụ", "Cơ cấu tổ chức", "Lãnh đạo Sở", "Liên hệ")
MAX_RELATED_PAGES = 6
MAX_FEEDS = 2                            # feeds read per listing
# a listed criterion's items (documents, projects) not found in the reported category: at most this many
# requests to the portal's search page, and at most this many of the items' own links read
MAX_ITEM_SEARCHES = 20
MAX_ITEM_PAGES = 20
MAX_HOST_SECONDS = 300.0                 # time budget per host in a crawl
PER_HOST_CONCURRENCY = 2
GLOBAL_CONCURRENCY = 16
DOWNLOAD_DELAY = 0.25                    # seconds between requests to one host

TRACKING_PARAMS = (
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id",
    "fbclid", "gclid", "zarsrc", "_hsenc", "_hsmi", "mc_cid", "mc_eid", "ref", "refid",
)


@dataclass(frozen=True)
class Limits:
    """Bounds one investigation and one fetch respect."""

    max_bytes: int = MAX_DOWNLOAD_BYTES
    max_redirects: int = MAX_REDIRECTS
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT
    retries: int = RETRIES
    retry_backoff: float = RETRY_BACKOFF
    max_listing_pages: int = MAX_LISTING_PAGES
    max_article_pages: int = MAX_ARTICLE_PAGES
    max_feeds: int = MAX_FEEDS
    check_seconds: float = CHECK_SECONDS     # the whole spot-check of one link

    @property
    def exchange_seconds(self) -> float:
        """The deadline of one fetch's whole exchange (connection, headers and body), both paths."""
        return self.connect_timeout + self.read_timeout


@dataclass(frozen=True)
class RunOptions:
    """Per-run choices, built once at the CLI edge and passed down."""

    period: tuple[dt.date, dt.date]
    ignore_robots: bool = False
    allow_private: bool = False          # loopback and private addresses (demo, tests)
    limits: Limits = field(default_factory=Limits)
    user_agent: str = USER_AGENT
    # listings filled by script (crawler.render): "auto" renders a listing page when the need shows,
    # "always" every first listing page without posts, "off" never
    render: str = "auto"
