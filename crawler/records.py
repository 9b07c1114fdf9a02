"""Small typed records the stages hand each other."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from crawler.content import CheckSeen

# What a fetched response was wanted for.
PURPOSE_LISTING = "listing"      # the reported (or discovered) category page and its later pages
PURPOSE_ARTICLE = "article"      # an article page read to date a post
PURPOSE_FEED = "feed"            # an RSS/Atom feed the listing links to
PURPOSE_HOME = "home"            # the portal home page, read to discover a blank link
PURPOSE_RELATED = "related"      # a page of the same category the reported page's menus link to (an
                                 # introduction's "Chức năng, nhiệm vụ", "Lãnh đạo Sở"), read for its content
PURPOSE_SEARCH = "search"        # the portal's search page, asked for one item of a listed criterion
PURPOSE_ITEM = "item"            # the page an agency gives for one item of a listed criterion

# Why a fetch produced no usable response.
ERR_DNS = "dns"
ERR_CONNECT = "connect"
ERR_TIMEOUT = "timeout"
ERR_TOO_LARGE = "too_large"
ERR_REDIRECT_LOOP = "redirect_loop"
ERR_TOO_MANY_REDIRECTS = "too_many_redirects"
ERR_OFF_SITE = "off_site"        # the URL or a redirect hop leaves the agency's portal
ERR_PRIVATE = "private_address"  # the host resolves to a private/loopback address
ERR_ROBOTS = "robots"            # robots.txt forbids the path
ERR_ROBOTS_UNAVAILABLE = "robots_unavailable"  # robots.txt answers 5xx: nothing fetched (RFC 9309), unreachable
ERR_BAD_URL = "bad_url"
ERR_BAD_RESPONSE = "bad_response"  # a malformed answer: a control byte in a header, a corrupt compressed body
ERR_RENDER = "render"            # headless Chromium could not render the page (final: the plain page is judged)


@dataclass(frozen=True)
class FormPost:
    """An ASP.NET __doPostBack page link, as the form submission a browser would send."""

    url: str
    body: bytes
    content_type: str
    page: int              # the page number it asks for (10_000 for "next"/"last")


@dataclass(frozen=True)
class Want:
    """A URL an investigation wants fetched, and why (a form post for WebForms paging)."""

    url: str
    purpose: str
    post_key: str | None = None  # for article pages: the post they date
    method: str = "GET"
    body: bytes = b""
    content_type: str | None = None
    render: bool = False             # rendered in headless Chromium (crawler.render), for this need
    render_need: str = ""


@dataclass(frozen=True)
class Hop:
    """One redirect of a fetch as it was exchanged: the request sent and the 30x (or refresh) answer to it."""

    url: str
    status: int
    fetched_at: dt.datetime
    http_version: str = "HTTP/1.1"
    reason: str = ""                 # as received, or as the path supplies it (see Fetch.header_note)
    raw_headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""                # decoded, as the final response's
    raw_digest: str | None = None    # of the body as received, when it was content-encoded
    ip_address: str | None = None
    method: str = "GET"
    request_body: bytes = b""
    content_type: str | None = None
    header_note: str = ""


@dataclass(frozen=True)
class Fetch:
    """One fetch as either path saw it: the final response, or why there is none."""

    url: str
    final_url: str
    status: int | None
    headers: dict[str, str]
    body: bytes
    fetched_at: dt.datetime
    error: str | None = None
    error_detail: str = ""
    redirects: tuple[str, ...] = ()
    elapsed: float = 0.0
    warc_record: str | None = None  # set by the crawl: "file#offset"
    digest: str | None = None
    method: str = "GET"              # the final request (a redirected form post is a GET)
    request_body: bytes = b""
    content_type: str | None = None  # of the final request's body
    # the final response as it was received, for the WARC record (headers above are the normalised view)
    http_version: str = "HTTP/1.1"
    reason: str = ""
    raw_headers: tuple[tuple[str, str], ...] = ()   # names, case, order and repeats as received
    raw_digest: str | None = None      # of the body as received, when it was content-encoded
    ip_address: str | None = None      # the server's address connected to (None through a proxy)
    header_note: str = ""              # how the path altered the status line or headers, said in the WARC
    hops: tuple[Hop, ...] = ()         # each redirect before the final request, in order
    final_fetched_at: dt.datetime | None = None   # when the final request went out (fetched_at: the first)
    tls: str = ""                      # what the TLS policy recorded of the final URL's origin (crawler.tls)
    rendered: tuple[str, ...] = ()     # rendered in headless Chromium: the requests the page made
    render_need: str = ""              # why it was rendered

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Post:
    """One post of a listing (or the page itself when a category page is a single text)."""

    title: str
    url: str | None
    published: dt.date | None = None
    updated: dt.date | None = None
    date_source: str | None = None   # "listing", "time", "article", "feed", "meta", "jsonld", "page"
    date_text: str = ""
    # The page it was read from, as an index into its Verdict's pages: the listing page, the article page
    # that dated it, or the feed. Where it was read, not what it is: two readings of a post stay equal.
    page_index: int | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        return self.url or f"title:{self.title.casefold()}"

    @property
    def dates(self) -> tuple[dt.date, ...]:
        return tuple(d for d in (self.published, self.updated) if d is not None)

    def within(self, period: tuple[dt.date, dt.date]) -> bool:
        """Does the post count in the period: by its published or its updated date?"""
        start, end = period
        return any(start <= d <= end for d in self.dates)


@dataclass(frozen=True)
class CategoryMatch:
    criterion: str | None
    label: str | None
    source: str | None     # "heading", "breadcrumb", "title", "menu-active"
    score: float = 0.0


@dataclass(frozen=True)
class PageReading:
    """What the extraction core understood of one page."""

    url: str
    kind: str                                  # "listing" | "article" | "home" | "error" | "page"
    title: str = ""
    category: CategoryMatch = field(default_factory=lambda: CategoryMatch(None, None, None))
    posts: tuple[Post, ...] = ()
    next_pages: tuple[str, ...] = ()             # URLs, or "postback:<target>|<argument>" markers
    forms: tuple[tuple[str, FormPost], ...] = ()  # marker -> the form post behind it
    feeds: tuple[str, ...] = ()
    article_date: dt.date | None = None
    article_updated: dt.date | None = None
    article_date_source: str | None = None
    updates_shown: bool = False                  # the article page says when it was updated (meta, JSON-LD, a line)
    nav_links: tuple[tuple[str, str], ...] = ()   # (label, absolute URL) of menus, for discovery
    encoding: str = "utf-8"
    legacy_encoding: str | None = None           # TCVN3 or VNI: Vietnamese in a font encoding, its words unreadable
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeedItem:
    title: str
    url: str | None
    published: dt.date | None
    updated: dt.date | None = None


@dataclass(frozen=True)
class PageVisit:
    """A page as it appears in a verdict's evidence."""

    url: str
    final_url: str
    purpose: str
    status: int | None
    fetched_at: dt.datetime
    error: str | None = None
    kind: str | None = None
    category: str | None = None
    category_label: str | None = None
    posts: int = 0
    warc_record: str | None = None
    digest: str | None = None
    error_detail: str = ""
    elapsed: float | None = None     # seconds the fetch took (None: not measured)


@dataclass(frozen=True)
class Item:
    """One item of a list an agency sends (a legal document, an investment project, a programme)."""

    number: str = ""                 # the document number as given ("15/2018/QĐ-UBND")
    title: str = ""
    issued: dt.date | None = None
    url: str | None = None           # where the agency says it is published
    source: str = ""                 # "file:row"

    @property
    def name(self) -> str:
        """The item as reviewers name it: its number, else its title."""
        return self.number or self.title


@dataclass(frozen=True)
class ItemFinding:
    """Whether one item was found on the portal, and the evidence: the page and the text matched there, or
    the pages searched."""

    item: Item
    status: str                      # "found" | "not_found"
    page_url: str | None = None
    matched_text: str = ""
    searched: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    agency_id: str
    criterion: str
    url: str | None                  # as reported
    checked_url: str | None          # as fetched (final URL of the listing)
    status: str                      # pass | fail | review | exempt
    reason: str
    posts_in_year: int | None
    discovered: bool = False
    detail: str = ""
    pages: tuple[PageVisit, ...] = ()
    posts: tuple[Post, ...] = ()
    checked_at: dt.datetime | None = None
    items: tuple[ItemFinding, ...] = ()  # a listed criterion's items, each found or not
    # a criterion judged by its content: each of its checks, found (where) or not, in the rulebook's order
    content_checks: tuple[CheckSeen, ...] = ()
