"""What to fetch for one reported link, decided from what was read so far.

An Investigation is a pure state machine: it asks for URLs (`Want`), is given
each `Fetch` back, reads it through the extraction core and asks for more:
the later pages of the listing, its feed, the article pages of undated posts,
or, for a blank link, the portal's home page to find the category in its
navigation. The httpx spot-check drives it in a loop; the Scrapy spider drives
it from callbacks. Both therefore fetch the same pages and reach the same
evidence.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from crawler.blocked import block_kind
from crawler.categories import CategoryMatcher
from crawler.content import has_phrase
from crawler.extract import content_links, read_page
from crawler.extract.rows import SearchForm, page_rows
from crawler.feeds import read_feed
from crawler.items import ItemRule, evidence_text, find_item, item_query
from crawler.records import (
    PURPOSE_ARTICLE,
    PURPOSE_FEED,
    PURPOSE_HOME,
    PURPOSE_ITEM,
    PURPOSE_LISTING,
    PURPOSE_RELATED,
    PURPOSE_SEARCH,
    Fetch,
    Item,
    PageReading,
    PageVisit,
    Post,
    Want,
)
from crawler.settings import MAX_ITEM_PAGES, MAX_ITEM_SEARCHES, Limits
from crawler.text import normalise
from crawler.urls import Scope, is_above, is_home_url, same_page

MIN_DISCOVERY_SCORE = 2.0


@dataclass
class Outcome:
    """Everything an investigation saw, for the verdict and the evidence."""

    criterion: str
    url: str | None                        # the URL investigated (reported, or discovered)
    discovered: bool = False
    refused: str | None = None             # why nothing was fetched ("off_site", "bad_url")
    refused_detail: str = ""
    no_link: bool = False                  # blank link and nothing found in the navigation
    first: Fetch | None = None             # the first listing page's fetch
    first_reading: PageReading | None = None
    visits: list[PageVisit] = field(default_factory=list)
    posts: dict[str, Post] = field(default_factory=dict)
    redirected_home: bool = False          # the category URL redirected to the portal's home page
    allowed_host: str | None = None        # the rulebook's allowed_hosts entry the link is read on, off the portal
    notes: list[str] = field(default_factory=list)
    # pages of the same category the first page's menus link to, read for a criterion judged by its content
    related: list[Fetch] = field(default_factory=list)
    # a listed criterion: where each item (by its index) was found, (page URL, the row matched), and the
    # pages read looking for the items (the category's pages, the search pages, the items' own pages)
    item_hits: dict[int, tuple[str, str]] = field(default_factory=dict)
    item_pages: list[str] = field(default_factory=list)

    @property
    def checked_url(self) -> str | None:
        return self.first.final_url if self.first is not None else self.url


class Investigation:
    def __init__(self, criterion: str, url: str | None, *, matcher: CategoryMatcher, scope: Scope | None,
                 period: tuple[dt.date, dt.date], limits: Limits = Limits(), related_pages: int = 0,
                 render: str = "auto", items: tuple[Item, ...] = (), item_rule: ItemRule | None = None,
                 search_url: str | None = None, related_phrases: tuple[str, ...] = ()):
        self.criterion = criterion
        self.render = render             # crawler.render: "auto", "always" or "off"
        self._plain: tuple | None = None  # the first listing page as fetched, while its rendering is under way
        # a listed criterion: the items to look for in the category (every page of it, whatever its dates),
        # then on the portal's search page (`search_url`, the rulebook's "{q}" template, else the search form
        # of a page read), then at the link the agency gives for each
        self.items = items
        self.item_rule = item_rule if items else None
        self.search_url = search_url
        self._search_form: SearchForm | None = None
        self._item_steps: list[tuple[str, int]] | None = None
        self._searches = self._item_reads = 0
        # a criterion judged by its content (an introduction) spans pages: the reported one and the pages of
        # the same category its menus link to ("Chức năng, nhiệm vụ", "Cơ cấu tổ chức", "Lãnh đạo Sở"), at most
        # this many of them
        self.related_pages = related_pages
        self.related_phrases = related_phrases   # the content checks' phrases: a link carrying one is related too
        self.matcher = matcher
        self.scope = scope
        self.period = period
        self.limits = limits
        self.outcome = Outcome(criterion=criterion, url=url)
        self._outstanding = 0
        self._listing_seen: list[str] = []
        self._article_queue: list[Post] = []
        self._articles_read = 0
        self._feeds_read = 0
        self._pending_next: tuple[str, ...] = ()
        self._stop_paging = False
        self._last_page_keys: list[str] = []
        self._forms: dict = {}
        self._postback_page = 1
        self._order: list[dt.date] = []          # the listing's post dates in page order, for the stop rule
        self._article_order: list[dt.date] = []  # dates of undated posts read from their articles, in order
        self._update_queue: list[str] = []       # posts dated before the period: their articles may show an update
        self._probed: set[str] = set()
        self._updates_shown: bool | None = None  # does this portal's article page say when a post was updated?
        self.finished = False

    # -- protocol

    def start(self) -> list[Want]:
        if self.outcome.refused or self.outcome.no_link:
            return self._finish()
        if self.outcome.url is None:
            home = self._home_url()
            if home is None:
                self.outcome.no_link = True
                return self._finish()
            return self._ask([Want(home, PURPOSE_HOME)])
        self._listing_seen.append(self.outcome.url)
        return self._ask([Want(self.outcome.url, PURPOSE_LISTING)])

    def release(self) -> None:
        """Forget what was read (page bodies, readings, posts) once the verdict is stored; keeps `finished`."""
        self.outcome = Outcome(criterion=self.outcome.criterion, url=self.outcome.url)
        self._article_queue, self._forms, self._pending_next = [], {}, ()

    def refuse(self, reason: str, detail: str) -> None:
        """Decide without fetching (the URL is off the portal, or not a URL)."""
        self.outcome.refused = reason
        self.outcome.refused_detail = detail

    def on_fetch(self, want: Want, fetch: Fetch) -> list[Want]:
        """Take one fetch back; return what to fetch next ([] when nothing more for now)."""
        self._outstanding -= 1
        reading = None
        if fetch.ok and want.purpose != PURPOSE_FEED:
            reading = read_page(fetch.final_url, fetch.body, fetch.headers, self.matcher, status=fetch.status,
                                scope_prefix=self._prefix(fetch.final_url))
        self._visit(want, fetch, reading)
        handler = {
            PURPOSE_HOME: self._on_home,
            PURPOSE_LISTING: self._on_listing,
            PURPOSE_ARTICLE: self._on_article,
            PURPOSE_FEED: self._on_feed,
            PURPOSE_RELATED: self._on_related,
            PURPOSE_SEARCH: self._on_item_page,
            PURPOSE_ITEM: self._on_item_page,
        }[want.purpose]
        if self.item_rule is not None and fetch.ok:
            self._look_for_items(want, fetch)
        wants = handler(want, fetch, reading)
        if not wants and self._outstanding == 0:
            wants = self._next_listing_page()
        if not wants and self._outstanding == 0:
            wants = self._next_item_step()
        if not wants and self._outstanding == 0:
            wants = self._next_update_probe()
        if not wants and self._outstanding == 0:
            return self._finish()
        return self._ask(wants)

    # -- handlers

    def _on_home(self, want, fetch, reading):
        if reading is None and (fetch.error or (fetch.status or 0) >= 500):
            self.outcome.first = fetch     # the portal is down: `unreachable`, not "no such category"
            return []
        link = self._discover(reading) if reading is not None else None
        if link is None and block_kind(fetch):
            self.outcome.first = fetch     # a firewall answered for the home page: `blocked`, not "no such category"
            return []
        if link is None:
            self.outcome.no_link = True
            return []
        self.outcome.url = link
        self.outcome.discovered = True
        self._listing_seen.append(link)
        return [Want(link, PURPOSE_LISTING)]

    def _on_listing(self, want, fetch, reading):
        if want.render:
            return self._on_rendered(want, fetch, reading)
        need = self._render_need(fetch, reading)
        if need:
            self._plain = (want, fetch, reading)
            return [Want(fetch.final_url, PURPOSE_LISTING, render=True, render_need=need)]
        first = self.outcome.first is None
        if first:
            self.outcome.first = fetch
            self.outcome.first_reading = reading
            # a category address that answers with the home page itself (WordPress with plain permalinks
            # ignores an unknown path) is missing there, as one that redirects home is
            self.outcome.redirected_home = self._redirected_home(fetch) or (
                reading is not None and reading.kind == "home" and not self._is_home(fetch.final_url))
            related = self._related(reading, fetch)
            if reading is None or not self._is_our_listing(reading, fetch):
                self._stop_paging = True
                if reading is not None and reading.kind == "page" and reading.category.criterion == self.criterion:
                    self._add_posts(reading.posts)
                return related
            if self.related_pages:
                # judged by its content (freshness not required): its later pages, feeds and posts' dates do not
                # count, whether or not it links related pages
                self._stop_paging = True
                return related
        elif reading is None or not self._is_our_listing(reading, fetch) or not reading.posts \
                or self._back_to_a_page_read(fetch):
            self._stop_paging = True     # past the last page: an error, another page, or a page already read
            return []
        self._add_posts(reading.posts)
        self._pending_next = reading.next_pages
        self._forms = dict(reading.forms)
        if self.item_rule is not None:
            return []                    # the items are looked for in the rows: no post needs a date
        page_posts = [self.outcome.posts[p.key] for p in reading.posts if p.key in self.outcome.posts]
        undated = [p for p in page_posts if not p.dates]
        wants: list[Want] = []
        if undated and self._feeds_read < self.limits.max_feeds:
            feeds = [f for f in reading.feeds if self._in_scope(f)][: self.limits.max_feeds - self._feeds_read]
            self._feeds_read += len(feeds)
            wants += [Want(f, PURPOSE_FEED) for f in feeds]
        self._article_queue = [p for p in undated if p.url and self._in_scope(p.url)]
        if not wants:
            wants += self._next_article()
        return wants

    def _render_need(self, fetch: Fetch, reading: PageReading | None) -> str:
        """Why the first listing page is to be rendered in a browser ('' when it is not): it shows this
        category (or none) but no post, and loads them by script (or the run renders such pages always)."""
        if self.render == "off" or self._plain is not None or self.outcome.first is not None or not fetch.ok \
                or reading is None or reading.posts or reading.kind == "error" \
                or reading.category.criterion not in (None, self.criterion):
            return ""
        from crawler.render import render_need

        need = render_need(fetch.body)
        if need:
            return f"need detected: {need}"
        return "rendering asked for every listing without posts" if self.render == "always" else ""

    def _on_rendered(self, want, fetch, reading):
        """The rendered listing is read as the first page; when rendering failed, the page as fetched is."""
        plain_want, plain, plain_reading = self._plain
        if not fetch.ok or reading is None:
            self.outcome.notes.append(f"rendering in headless Chromium failed ({fetch.error_detail or fetch.status}):"
                                      " the page as fetched is judged")
            return self._on_listing(plain_want, plain, plain_reading)
        shown = "; ".join(fetch.rendered[:12]) + ("; ..." if len(fetch.rendered) > 12 else "")
        self.outcome.notes.append(f"rendered in headless Chromium ({want.render_need}); the page made "
                                  f"{len(fetch.rendered)} request(s): {shown}")
        return self._on_listing(replace(want, render=False), fetch, reading)

    def _on_article(self, want, fetch, reading):
        post = self.outcome.posts.get(want.post_key or "")
        if post is None or reading is None:
            return self._next_article()
        published, updated = reading.article_date, reading.article_updated
        if not post.dates:
            if published or updated:
                self.outcome.posts[post.key] = Post(
                    post.title, post.url, published or updated, updated if published else None,
                    date_source=f"article:{reading.article_date_source or 'page'}", page_index=self._page())
                self._article_order.append(max(d for d in (published, updated) if d))
            if reading.updates_shown:
                self._updates_shown = True       # an older post may have been updated: read on
            if self._article_order and self._sorted_newest_first(self._article_order) \
                    and self._article_order[-1] < self.period[0] and not self._updates_shown:
                self._article_queue = []     # the listing runs newest first: the rest is older still
        else:
            # an update probe: the listing dated this post before the period
            self._updates_shown = self._updates_shown or reading.updates_shown
            if updated and (post.updated is None or updated > post.updated) and updated > (post.published or updated):
                self.outcome.posts[post.key] = Post(post.title, post.url, post.published, updated,
                                                    date_source=f"{post.date_source or 'listing'}+article:updated",
                                                    date_text=post.date_text, page_index=self._page())
        return self._next_article()

    def _on_item_page(self, want, fetch, reading):
        return []

    def _look_for_items(self, want: Want, fetch: Fetch) -> None:
        """Match the items not found yet against the rows of a page read for them, and keep its search form."""
        read = page_rows(fetch.final_url, fetch.body, fetch.headers, results=want.purpose == PURPOSE_SEARCH)
        if self._search_form is None and read.search is not None and self._in_scope(read.search.action):
            self._search_form = read.search
        if want.purpose not in (PURPOSE_LISTING, PURPOSE_SEARCH, PURPOSE_ITEM):
            return
        self.outcome.item_pages.append(fetch.final_url)
        for i, item in enumerate(self.items):
            if i in self.outcome.item_hits:
                continue
            if want.purpose == PURPOSE_SEARCH and want.post_key != str(i):
                continue         # a search page answers for the item searched: its side boxes name others
            row = find_item(item, self.item_rule, read.rows)
            if row is not None:
                self.outcome.item_hits[i] = (fetch.final_url, evidence_text(row))

    def _next_item_step(self) -> list[Want]:
        """Once the category is read: for each item not found, the portal's search, then the item's own link."""
        if self.item_rule is None or self.outcome.refused:
            return []
        if self._item_steps is None:
            self._item_steps = [(step, i) for i in range(len(self.items)) for step in ("search", "url")]
        while self._item_steps:
            step, i = self._item_steps.pop(0)
            if i in self.outcome.item_hits:
                continue
            item = self.items[i]
            if step == "search" and self._searches < MAX_ITEM_SEARCHES:
                url = self._search_for(item_query(item, self.item_rule))
                if url and self._in_scope(url):
                    self._searches += 1
                    return [Want(url, PURPOSE_SEARCH, post_key=str(i))]
            elif step == "url" and item.url and self._item_reads < MAX_ITEM_PAGES:
                if not self._in_scope(item.url):
                    self.outcome.notes.append(f"{item.url} (given for {item.name}) is not on the agency's portal: "
                                              "not read")
                    continue
                if any(same_page(item.url, seen) for seen in self.outcome.item_pages):
                    continue
                self._item_reads += 1
                return [Want(item.url, PURPOSE_ITEM, post_key=str(i))]
        return []

    def _search_for(self, query: str) -> str | None:
        if not query:
            return None
        if self.search_url and self.scope is not None:
            from urllib.parse import quote_plus, urljoin

            return urljoin(self.scope.portals[0].root, self.search_url.replace("{q}", quote_plus(query)))
        return self._search_form.url_for(query) if self._search_form is not None else None

    def _on_related(self, want, fetch, reading):
        if fetch.ok and reading is not None and reading.category.criterion == self.criterion \
                and reading.kind not in ("home", "error"):
            self.outcome.related.append(fetch)
        return []

    def _related(self, reading: PageReading | None, fetch: Fetch) -> list[Want]:
        """The same category's other pages the first page links to, when the criterion is judged by its
        content and the first page is that category: first those of its menus whose label is the category's
        name, then those of its main content whose text the category's key phrases name or that carry one of
        the content checks' phrases (an introduction that links "Tổ chức bộ máy", "Lãnh đạo UBND huyện" from
        its text), at most `related_pages` in all."""
        if not self.related_pages or reading is None or reading.category.criterion != self.criterion \
                or reading.kind in ("home", "error") or self.outcome.redirected_home:
            return []
        wants: list[Want] = []

        def take(href: str) -> None:
            if len(wants) < self.related_pages and self._in_scope(href) and not same_page(href, fetch.final_url) \
                    and not self._is_home(href) and not any(same_page(href, w.url) for w in wants):
                wants.append(Want(href, PURPOSE_RELATED))

        for label, href in reading.nav_links:
            if self.matcher.names(label) == self.criterion:
                take(href)
        if len(wants) < self.related_pages:
            for label, href in content_links(fetch.final_url, fetch.body, fetch.headers):
                if self.matcher.match(label)[0] == self.criterion or has_phrase(label, self.related_phrases):
                    take(href)
        return wants

    def _on_feed(self, want, fetch, reading):
        if fetch.ok:
            items = read_feed(fetch.body, fetch.final_url)
            by_url = {i.url: i for i in items if i.url}
            by_title = {normalise(i.title): i for i in items if i.title}
            for key, post in list(self.outcome.posts.items()):
                if post.dates:
                    continue
                item = next((i for u, i in by_url.items() if post.url and same_page(u, post.url)), None) \
                    or by_title.get(normalise(post.title))
                if item and (item.published or item.updated):
                    self.outcome.posts[key] = Post(post.title, post.url, item.published, item.updated,
                                                   date_source="feed", page_index=self._page())
            self._article_queue = [p for p in self._article_queue if not self.outcome.posts[p.key].dates]
        if self._outstanding == 0:
            return self._next_article()
        return []

    # -- planning

    def _next_article(self) -> list[Want]:
        while self._article_queue and self._articles_read < self.limits.max_article_pages:
            post = self._article_queue.pop(0)
            if self.outcome.posts[post.key].dates:
                continue
            self._articles_read += 1
            return [Want(post.url, PURPOSE_ARTICLE, post_key=post.key)]
        return []

    def _next_listing_page(self) -> list[Want]:
        if self._stop_paging or self.outcome.first is None or not self._pending_next:
            return []
        if self._older_than_period():
            return []
        for url in self._pending_next:
            form = self._forms.get(url)
            if url.startswith("postback:"):
                # WebForms paging: forward only, by page number, since every page posts to one URL
                if form is None or form.page <= self._postback_page or url in self._listing_seen \
                        or not self._in_scope(form.url):
                    continue
            elif not self._in_scope(url) or any(same_page(url, seen) for seen in self._listing_seen):
                continue
            if len(self._listing_seen) >= self.limits.max_listing_pages:
                self.outcome.notes.append(f"stopped after {self.limits.max_listing_pages} listing pages")
                return []
            self._listing_seen.append(url)
            self._pending_next = ()
            if form is not None:
                self._postback_page = form.page
                return [Want(form.url, PURPOSE_LISTING, method="POST", body=form.body,
                             content_type=form.content_type)]
            return [Want(url, PURPOSE_LISTING)]
        return []

    def _older_than_period(self) -> bool:
        """True once the listing reads newest first and its last page holds only posts dated before the period.
        Oldest-first and unsorted listings are read on, within the page bound."""
        if self.item_rule is not None:
            return False                 # a list's items are as old as they are: every page is read
        page_posts = [self.outcome.posts[k] for k in self._last_page_keys]
        dates = [max(p.dates) for p in page_posts if p.dates]
        return bool(dates) and len(dates) == len(page_posts) and max(dates) < self.period[0] \
            and self._sorted_newest_first(self._order)

    @staticmethod
    def _sorted_newest_first(dates: list[dt.date]) -> bool:
        """Dates in listing order run newest first: never rising, but for one pinned (sticky) post on top."""
        if len(dates) < 2:
            return False
        rest = dates[1:] if len(dates) > 2 and dates[0] < dates[1] else dates
        return all(later <= earlier for earlier, later in zip(rest, rest[1:]))

    def _next_update_probe(self) -> list[Want]:
        """The article of a post the listing dates before the period, to see whether it was updated within it.

        Listings show publication dates; an update shows on the article page only. The first such post is
        opened as a probe: when its article says nothing about updates, the portal does not show them and no
        other article is opened; when it does, the others follow, in listing order, within the article bound."""
        if self._updates_shown is False or self._articles_read >= self.limits.max_article_pages:
            return []
        while self._update_queue:
            key = self._update_queue.pop(0)
            post = self.outcome.posts.get(key)
            if post is None or not post.url or key in self._probed or post.within(self.period) \
                    or (post.date_source or "").startswith("article") \
                    or any(same_page(post.url, seen) for seen in self._listing_seen):
                continue
            self._probed.add(key)
            self._articles_read += 1
            if self._updates_shown is None:
                self._updates_shown = False      # until the probe's article shows an update line
            return [Want(post.url, PURPOSE_ARTICLE, post_key=key)]
        return []

    # -- helpers

    def _add_posts(self, posts) -> None:
        self._last_page_keys = []
        for post in posts:
            post = replace(post, page_index=self._page())
            known = self.outcome.posts.get(post.key)
            if known is None:
                self.outcome.posts[post.key] = post
                known = post
                if post.dates:
                    self._order.append(post.published or max(post.dates))
            elif not known.dates and post.dates:
                self.outcome.posts[post.key] = known = post
            self._last_page_keys.append(known.key)
            if known.dates and max(known.dates) < self.period[0] and known.url and self._in_scope(known.url) \
                    and known.key not in self._update_queue and self.item_rule is None:
                self._update_queue.append(known.key)

    def _back_to_a_page_read(self, fetch: Fetch) -> bool:
        """A later page that redirected to a page already read (NukeViet sends pages past the last to page 1)."""
        return bool(fetch.redirects) and any(same_page(fetch.final_url, seen) for seen in self._listing_seen[:-1])

    def _is_our_listing(self, reading: PageReading, fetch: Fetch) -> bool:
        return reading.kind == "listing" and reading.category.criterion == self.criterion \
            and not self._redirected_home(fetch)

    def _redirected_home(self, fetch: Fetch) -> bool:
        """The category URL redirected to the home page, or to a page above it (a module's front page,
        the parent path): the category does not exist there (NukeViet answers unknown paths so)."""
        if not fetch.redirects:
            return False
        if is_above(fetch.final_url, fetch.url):
            return True
        return self._is_home(fetch.final_url) and not self._is_home(fetch.url)

    def _is_home(self, url: str) -> bool:
        return self.scope.is_home(url) if self.scope is not None else is_home_url(url)

    def _discover(self, reading: PageReading) -> str | None:
        """The home-page navigation link that names this criterion best, inside the portal."""
        best, best_score = None, 0.0
        for label, href in reading.nav_links:
            if not self._in_scope(href) or (self.scope and self.scope.is_home(href)):
                continue
            cid, score = self.matcher.match(label)
            if cid == self.criterion and score > best_score:
                best, best_score = href, score
        return best if best_score >= MIN_DISCOVERY_SCORE else None

    def _home_url(self) -> str | None:
        return self.scope.portals[0].root if self.scope else None

    def _prefix(self, url: str) -> str:
        portal = self.scope.portal_for(url) if self.scope else None
        return portal.prefix if portal else ""

    def _in_scope(self, url: str) -> bool:
        return self.scope is None or self.scope.owns(url)

    def _visit(self, want: Want, fetch: Fetch, reading: PageReading | None) -> None:
        self.outcome.visits.append(PageVisit(
            url=want.url, final_url=fetch.final_url, purpose=want.purpose, status=fetch.status,
            fetched_at=fetch.fetched_at, error=fetch.error,
            kind=reading.kind if reading else None,
            category=reading.category.criterion if reading else None,
            category_label=reading.category.label if reading else None,
            posts=len(reading.posts) if reading else 0,
            warc_record=fetch.warc_record, digest=fetch.digest, error_detail=fetch.error_detail or "",
            elapsed=fetch.elapsed or None,         # 0.0: the path did not measure it
        ))
        for note in reading.notes if reading else ():
            if note not in self.outcome.notes:
                self.outcome.notes.append(note)
        if fetch.tls and fetch.tls not in self.outcome.notes:    # the TLS policy's word on the portal's certificate
            self.outcome.notes.append(fetch.tls)

    def _page(self) -> int:
        """The index of the page being read in the verdict's pages (its visit was just recorded)."""
        return len(self.outcome.visits) - 1

    def _ask(self, wants: list[Want]) -> list[Want]:
        self._outstanding += len(wants)
        return wants

    def _finish(self) -> list[Want]:
        self.finished = True
        return []
