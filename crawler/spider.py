"""The scheduled crawl: a Scrapy spider that drives one Investigation per reported link.

The spider holds no verification logic: each response becomes the same `Fetch`
record the httpx path makes, and goes to the link's Investigation, which reads
it through the extraction core and says what to fetch next. So a page gets the
same verdict whichever path fetched it.

Rules enforced here, from crawler.settings and the one transport policy
(crawler.transport) like the httpx path:
- ScopeMiddleware: only the agency's registered portal, checked on every
  request including each redirect hop; literal private addresses refused
  unless the run allows them; a time budget per host.
- CheckedResolver (the run's Twisted name resolver): a host name is looked up
  once, every answer is checked, and the connection goes to those checked
  addresses, so a name answering a public address first and 127.0.0.1 next
  never reaches 127.0.0.1. Names sent to a proxy are not resolved by us.
- DecodeMiddleware: the body decoded by the policy (gzip, deflate, br, zstd),
  bounded by the decoded size while decoding; malformed headers refused.
- RobotsMiddleware: robots.txt read by the policy (RFC 9309: 4xx no
  restrictions, 5xx complete disallow, the first 500 KiB parsed).
- Retries with backoff (and Retry-After) for timeouts, connection errors, 5xx
  and 429, done by the spider (BackoffMiddleware waits before a retried
  request goes out); too large, malformed or refused answers are final.
- Bounded size, time per fetch (the whole exchange) and redirects, per-host
  concurrency and delay, the proxy environment variables.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from http import HTTPStatus
from urllib.parse import urlsplit

import scrapy
from scrapy.downloadermiddlewares.redirect import BaseRedirectMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.pqueues import DownloaderAwarePriorityQueue
from twisted.internet import error as neterror
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import CancelledError
from twisted.internet.interfaces import IHostnameResolver, IHostResolution
from twisted.internet.threads import deferToThreadPool
from zope.interface import implementer

from crawler import settings as S
from crawler import tls as TLS
from crawler import transport as T
from crawler.investigate import Investigation
from crawler.proxy import proxy_hosts
from crawler.records import (
    ERR_BAD_RESPONSE,
    ERR_CONNECT,
    ERR_DNS,
    ERR_OFF_SITE,
    ERR_PRIVATE,
    ERR_ROBOTS,
    ERR_TIMEOUT,
    ERR_TOO_LARGE,
    ERR_TOO_MANY_REDIRECTS,
    PURPOSE_ARTICLE,
    PURPOSE_LISTING,
    Fetch,
    Hop,
    Want,
)
from crawler.settings import RunOptions
from crawler.urls import BadURL, Scope, literal_private_ip, next_hop, robots_hop, wire_url
from crawler.warc import WarcLog

logger = logging.getLogger(__name__)
MEMO_SIZE = 512          # fetches kept for reuse within a run (bodies included)


class Refused(IgnoreRequest):
    """Request refused by the run's rules"""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def scrapy_settings(options: RunOptions, *, http_cache: str | None = None, log_level: str = "ERROR") -> dict:
    """The Scrapy settings of a run, derived from crawler.settings (as the httpx client is)."""
    limits = options.limits
    out = {
        "BOT_NAME": "portal-evidence",
        "USER_AGENT": options.user_agent,
        "ROBOTSTXT_OBEY": not options.ignore_robots,
        "ROBOTSTXT_PARSER": "scrapy.robotstxt.ProtegoRobotParser",
        "ROBOTSTXT_USER_AGENT": S.ROBOTS_USER_AGENT,
        "DOWNLOAD_MAXSIZE": limits.max_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "DOWNLOAD_TIMEOUT": limits.exchange_seconds,   # the whole exchange, as the httpx path's deadline
        "REDIRECT_MAX_TIMES": limits.max_redirects,
        "RETRY_ENABLED": False,                    # the spider retries, with backoff
        "HTTPERROR_ALLOW_ALL": True,
        "COOKIES_ENABLED": False,
        # the httpx path sends no Referer: neither does the crawl; meta refreshes are HopMiddleware's, as
        # on the httpx path
        "REFERER_ENABLED": False,
        "METAREFRESH_ENABLED": False,
        "CONCURRENT_REQUESTS": S.GLOBAL_CONCURRENCY,
        "CONCURRENT_REQUESTS_PER_DOMAIN": S.PER_HOST_CONCURRENCY,
        "DOWNLOAD_DELAY": S.DOWNLOAD_DELAY,
        "RANDOMIZE_DOWNLOAD_DELAY": False,
        # the policy's headers (User-Agent through USER_AGENT): the same set the httpx path sends
        "DEFAULT_REQUEST_HEADERS": {k: v for k, v in T.request_headers(options).items() if k != "User-Agent"},
        "SCHEDULER_PRIORITY_QUEUE": "crawler.spider.HostSlotQueue",
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.spider.BackoffMiddleware": 50,
            "crawler.spider.ScopeMiddleware": 60,
            # an https origin's TLS probe (crawler.tls), as on the httpx path before its first request there
            "crawler.spider_tls.TlsMiddleware": 70,
            # a listing the investigation wants rendered: headless Chromium (crawler.render), after robots.txt
            "crawler.spider_render.RenderMiddleware": 110,
            # redirects and meta refreshes read by the httpx path's function (crawler.urls.next_hop), on the
            # body as the policy decoded it (DecodeMiddleware answers first: responses go down the numbers)
            "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
            "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
            "crawler.spider.HopMiddleware": 580,
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "crawler.spider.RobotsMiddleware": 100,
            "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
            "crawler.spider.DecodeMiddleware": 590,
        },
        "TWISTED_DNS_RESOLVER": "crawler.spider.CheckedResolver",
        "DOWNLOADER_CLIENTCONTEXTFACTORY": "crawler.spider_tls.TlsContextFactory",
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": log_level,
        "LOG_ENABLED": log_level != "NONE",
        "DNS_TIMEOUT": limits.connect_timeout + 5,
        "REACTOR_THREADPOOL_MAXSIZE": 10,
        "MEMUSAGE_ENABLED": False,
        "STATS_DUMP": False,
        "PORTAL_EVIDENCE_OPTIONS": options,
    }
    if http_cache:
        out.update({"HTTPCACHE_ENABLED": True, "HTTPCACHE_DIR": http_cache,
                    "HTTPCACHE_POLICY": "scrapy.extensions.httpcache.DummyPolicy",
                    "HTTPCACHE_EXPIRATION_SECS": 20 * 3600, "HTTPCACHE_GZIP": True,
                    "HTTPCACHE_IGNORE_HTTP_CODES": [429, 500, 502, 503, 504]})
    return out


class HostSlotQueue(DownloaderAwarePriorityQueue):
    """The scheduler's queue: a request leaves it only for a host with a free connection.

    Scrapy's engine moves requests into the downloader until the global concurrency is reached,
    and the downloader keeps a first-in-first-out queue per host. A request parked there has
    lost its priority and holds one of the global places another host could use, so a crawl
    of many links on a few hosts ran well below the concurrency it is allowed. Here a host is
    offered requests only while fewer than its concurrency are in the downloader (waiting for
    robots.txt included). Hosts are started in turn until four times as many as fill the global
    concurrency are under way, then the least busy of those goes first: every host runs at
    about the same pace to a common finish, and hosts are not all opened at once, which keeps
    each well within its time budget.
    Within a host the highest priority goes first (see VerifySpider._priority).
    """

    def __init__(self, crawler, *args, **kwargs):
        super().__init__(crawler, *args, **kwargs)
        self._per_host = crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") or 1
        self._handed: dict[str, list] = {}           # slot -> its requests handed to the engine
        self._served: dict[str, int] = {}            # slot -> when it was last handed a request
        self._pops = 0
        # Hosts under way at once: four times as many as fill the global concurrency, so that hosts
        # left with one long link do not idle it; few enough that each host is done long before
        # its time budget (a host of 50 pages at 1 s shares 16 places with 31 others for ~100 s).
        self._max_open = 4 * -(-crawler.settings.getint("CONCURRENT_REQUESTS") // self._per_host)

    def _busy(self, slot: str, active) -> int:
        handed = self._handed.get(slot)
        if not handed:
            return 0
        handed[:] = [r for r in handed if r in active]   # the engine starts a fetch as soon as it pops
        return len(handed)

    def _limit(self, slot: str, downloader) -> int:
        known = downloader.slots.get(slot)
        return known.concurrency if known is not None else self._per_host

    def pop(self):
        try:
            return self._pop_free_host()
        except Exception:                     # never stall the engine over a choice of order
            logger.exception("host-aware request queue failed; falling back to Scrapy's order")
            return super().pop()

    def _pop_free_host(self):
        downloader = self._downloader_interface.downloader
        active = downloader.active
        best, best_key, new = None, None, None
        for slot in self.pqueues:                          # in the order hosts first had requests
            if slot not in self._handed:
                if new is None:
                    new = slot
                continue
            busy = self._busy(slot, active)
            if busy < self._limit(slot, downloader):
                key = (busy, self._served[slot])             # least busy, then the longest unserved
                if best_key is None or key < best_key:
                    best, best_key = slot, key
        if new is not None:
            # start another host while fewer than the cap are under way (or nothing at all is)
            for slot in [s for s in self._handed if s not in self.pqueues and not self._busy(s, active)]:
                del self._handed[slot], self._served[slot]     # done, as far as anyone knows yet
            if len(self._handed) < self._max_open or not active:
                best = new
        if best is None:
            return None
        queue = self.pqueues[best]
        request = queue.pop()
        if len(queue) == 0:
            del self.pqueues[best]
            queue.close()
        if request is not None:
            self._handed.setdefault(best, []).append(request)
            self._pops += 1
            self._served[best] = self._pops
        return request


class BackoffMiddleware:
    """Waits before a retried request goes out (meta 'backoff' seconds)."""

    async def process_request(self, request, spider=None):
        delay = request.meta.get("backoff") or 0
        if delay:
            await asyncio.sleep(delay)
        return None


class ScopeMiddleware:
    """Refuses any request outside the link's portal, to a private address, or past the host's time budget.

    A request is first rewritten to its wire form (crawler.urls.wire_url), so what is checked is exactly what
    is sent, as on the httpx path. A request with no link (Scrapy's robots.txt request) is allowed only as the
    robots.txt of a registered portal's host and port, and only on the host its redirects started from."""

    def __init__(self, allow_private: bool, host_seconds: float, crawler=None):
        self.allow_private = allow_private
        self.host_seconds = host_seconds
        self.crawler = crawler
        self._first_seen: dict[str, float] = {}
        self._registered: Scope | None = None

    @classmethod
    def from_crawler(cls, crawler):
        options: RunOptions = crawler.settings["PORTAL_EVIDENCE_OPTIONS"]
        return cls(options.allow_private, S.MAX_HOST_SECONDS, crawler)

    def _portals(self) -> Scope:
        """Every portal of the run (robots.txt may be read on their hosts only)."""
        spider = getattr(self.crawler, "spider", None)
        if hasattr(spider, "registered_scope"):     # a worker of a distributed crawl: its portals grow
            return spider.registered_scope()
        if self._registered is None:
            portals = tuple(p for job in getattr(spider, "jobs", {}).values() if job.inv.scope
                            for p in job.inv.scope.portals)
            self._registered = Scope(portals)
        return self._registered

    async def process_request(self, request, spider=None):
        try:
            wire = wire_url(request.url)
        except BadURL as exc:
            raise Refused(ERR_OFF_SITE, f"{request.url} cannot be fetched: {exc}") from None
        if wire != request.url:
            if request.meta.get("wire_form"):      # Scrapy's quoting would undo ours: refuse rather than loop
                raise Refused(ERR_OFF_SITE, f"{request.url} has no stable form to send")
            return request.replace(url=wire, meta={**request.meta, "wire_form": True})   # scheduled again
        scope = request.meta.get("scope")
        parts = urlsplit(request.url)
        host = (parts.hostname or "").lower()
        if scope is None:
            first = (request.meta.get("redirect_urls") or [request.url])[0]
            if not self._portals().serves_robots(request.url) or not robots_hop(first, request.url):
                raise Refused(ERR_OFF_SITE, f"{request.url} belongs to no agency's portal")
        elif not scope.owns(request.url):
            raise Refused(ERR_OFF_SITE, f"{request.url} is outside the agency's registered portal")
        # a literal address here; a name is checked by CheckedResolver, on the lookup the connection uses
        if not self.allow_private and literal_private_ip(host):
            raise Refused(ERR_PRIVATE, f"{host} is a private or loopback address")
        first = self._first_seen.setdefault(host, time.monotonic())
        if time.monotonic() - first > self.host_seconds:
            raise Refused(ERR_TIMEOUT, f"time budget of {self.host_seconds:.0f}s for {host} used up")
        return None

class DecodeMiddleware:
    """Decodes a response body by the transport policy (in place of Scrapy's HttpCompressionMiddleware):
    the same codings as the httpx path, bounded by the decoded size while decoding; a body past the
    bound is final (too_large), as is a malformed header or a corrupt body (bad_response)."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes

    @classmethod
    def from_crawler(cls, crawler):
        options: RunOptions = crawler.settings["PORTAL_EVIDENCE_OPTIONS"]
        return cls(options.limits.max_bytes)

    def process_response(self, request, response, spider=None):
        raw = [(name, value) for name, values in response.headers.items() for value in values]
        problem = T.header_problem(raw)
        if problem:
            raise Refused(ERR_BAD_RESPONSE, problem)
        codings = b", ".join(response.headers.getlist(b"Content-Encoding")).decode("latin-1")
        request.meta["raw_digest"] = request.meta["decoded_from"] = None   # meta travels with a redirect
        if not codings or request.method == "HEAD":
            return response
        try:
            body = T.decode_body(response.body, codings, self.max_bytes)
            if body is not response.body:
                request.meta["raw_digest"] = T.body_digest(response.body)
                request.meta["decoded_from"] = codings       # the WARC record says the coding was removed
        except T.BodyTooLarge as exc:
            raise Refused(ERR_TOO_LARGE, str(exc)) from None
        except T.BadEncoding as exc:
            raise Refused(ERR_BAD_RESPONSE, str(exc)) from None
        headers = response.headers.copy()
        del headers[b"Content-Encoding"]
        return response.replace(body=body, headers=headers)


class RobotsMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with the answer read by the transport policy (RFC 9309), as the
    httpx path reads it: 2xx parsed on its first 500 KiB, 4xx no restrictions, 5xx complete disallow."""

    def process_request_2(self, rp, request) -> None:
        refusal = rp.refusal(request.url, self._robotstxt_useragent or S.ROBOTS_USER_AGENT) if rp else None
        if refusal:
            raise Refused(*refusal)

    async def _parse_robots(self, response, netloc, request) -> None:
        self._stats.inc_value("robotstxt/response_count")
        rules = T.robots_rules(response.status, response.body)
        waiting = self._parsers[netloc]
        self._parsers[netloc] = rules
        waiting.callback(rules)


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name: str):
        self.name = name

    def cancel(self) -> None:
        pass


@implementer(IHostnameResolver)
class CheckedResolver:
    """The run's name resolver: one lookup per host name (crawler.transport.resolve), every answer
    checked, and only the checked addresses handed to the connection. A refused name resolves to
    nothing, and `refusal(host)` says why (the spider reports it as private_address).
    The proxies' own names are not checked: they are the proxy's, not a portal's."""

    def __init__(self, reactor, allow_private: bool, proxies: frozenset[str], timeout: float):
        self.reactor = reactor
        self.allow_private = allow_private
        self.proxies = proxies
        self.timeout = timeout
        self._answers: dict[str, list[tuple[int, str]]] = {}   # checked, kept for the run
        self._refused: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler, reactor):
        options: RunOptions = crawler.settings["PORTAL_EVIDENCE_OPTIONS"]
        return cls(reactor, options.allow_private, proxy_hosts(), crawler.settings.getfloat("DNS_TIMEOUT"))

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    def refusal(self, host: str) -> str | None:
        return self._refused.get((host or "").lower())

    def resolveHostName(self, resolutionReceiver, hostName: str, portNumber: int = 0, addressTypes=None,
                        transportSemantics: str = "TCP"):
        resolution = _Resolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        host = hostName.lower()

        def resolved(addresses):
            for family, addr in addresses:
                kind = IPv6Address if family == socket.AF_INET6 else IPv4Address
                if addressTypes is None or kind in addressTypes:
                    resolutionReceiver.addressResolved(kind("TCP", addr, portNumber))

        def failed(failure):
            if failure.check(T.AddressRefused):
                self._refused[host] = failure.value.detail
            return None            # no address: the connection fails as a lookup failure

        if host in self._answers:
            resolved(self._answers[host])
            resolutionReceiver.resolutionComplete()
            return resolution
        if host in self._refused:
            resolutionReceiver.resolutionComplete()
            return resolution
        allow = self.allow_private or host in self.proxies
        d = deferToThreadPool(self.reactor, self.reactor.getThreadPool(), T.checked_addresses, host, portNumber,
                              allow_private=allow)
        d.addTimeout(self.timeout, self.reactor)
        d.addCallback(lambda addresses: self._answers.setdefault(host, addresses))
        d.addCallbacks(resolved, failed)
        d.addBoth(lambda _: resolutionReceiver.resolutionComplete())
        return resolution


class HopMiddleware(BaseRedirectMiddleware):
    """Scrapy's redirect and meta-refresh middlewares in one (the Refresh header too), reading where a
    response leads by the httpx path's function (crawler.urls.next_hop), so both paths follow the same
    hops; a hop to what cannot be fetched (javascript:, data:, file:, no host) is refused as leaving the
    portal. Each hop then passes ScopeMiddleware like any request."""

    def process_response(self, request, response, spider=None):
        if request.meta.get("dont_redirect"):
            return response
        hop = next_hop(request.url, request.method, response.status, _header_text(response.headers, b"Location"),
                       _header_text(response.headers, b"Content-Type"), response.body,
                       refresh_max_delay=S.META_REFRESH_MAX_DELAY, refresh=_header_text(response.headers, b"Refresh"))
        if hop is None:
            return response
        exchanged = (*request.meta.get("hops", ()), received_hop(request, response))
        if hop.refused:
            request.meta["hops"] = exchanged      # the answer leading off the portal is archived, as a hop
            raise Refused(ERR_OFF_SITE, hop.refused)
        if hop.method == request.method:
            redirected = self._build_redirect_request(request, response, url=hop.url)
        else:
            redirected = self._redirect_request_using_get(request, response, hop.url)
        redirected.meta["hops"] = exchanged
        clock = getattr(getattr(self.crawler, "spider", None), "clock", None)
        redirected.meta["hop_started"] = clock() if clock else dt.datetime.now(dt.UTC)
        return self._redirect(redirected, request, hop.reason)


# What the WARC says of a response the crawl recorded: Scrapy hands over neither the header names as
# received nor the reason phrase.
SCRAPY_HEADER_NOTE = ("status line and headers as Scrapy gives them: header names normalised to Title-Case, "
                      "repeated headers grouped at their first place; reason phrase from Python's http.HTTPStatus, "
                      "not as received")


def received(request, response) -> dict:
    """What the crawl knows of a response as it was received, as Fetch/Hop fields for the WARC."""
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = ""
    ip = getattr(response, "ip_address", None)
    protocol = getattr(response, "protocol", None)
    note = SCRAPY_HEADER_NOTE if protocol else \
        SCRAPY_HEADER_NOTE + "; protocol not given by Scrapy (an answer from the HTTP cache): HTTP/1.1 written"
    headers = T.header_pairs((name, value) for name, values in response.headers.items() for value in values)
    if request.meta.get("decoded_from"):        # DecodeMiddleware took it out with the coding it undid
        headers += (("Content-Encoding", request.meta["decoded_from"]),)
    return {"http_version": protocol or "HTTP/1.1", "reason": reason, "raw_headers": headers,
            "raw_digest": request.meta.get("raw_digest"),
            "ip_address": None if (ip is None or request.meta.get("proxy")) else str(ip),
            "header_note": note}


def received_hop(request, response) -> Hop:
    """A redirect as the crawl exchanged it."""
    fields = received(request, response)
    return Hop(url=request.url, status=response.status,
               fetched_at=request.meta.get("hop_started") or request.meta.get("started") or dt.datetime.now(dt.UTC),
               body=response.body, **fields, **_request_of(request))


def _header_text(headers, name: bytes) -> str | None:
    """A header as the httpx path reads it: repeated values joined by ", " (a second Location is not a
    second chance to leave), UTF-8 when it is, else Latin-1; None when absent."""
    values = headers.getlist(name)
    if not values:
        return None
    value = b", ".join(values)
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


@dataclass
class Job:
    key: str
    inv: Investigation
    on_done: Callable[[Investigation], None]
    done: bool = False

    def finish(self) -> None:
        """Hand the finished investigation over, once: a fetch answered from the run's memo can finish
        a job deep inside the call that then sees it finished too."""
        if not self.done:
            self.done = True
            self.on_done(self.inv)


class VerifySpider(scrapy.Spider):
    """Fetches everything the run's investigations ask for; hands each finished one to its callback."""

    name = "portal-evidence"

    def __init__(self, jobs: list[Job], options: RunOptions, warc: WarcLog | None = None,
                 clock: Callable[[], dt.datetime] | None = None, on_fetch: Callable[[Fetch], None] | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        self.jobs = {job.key: job for job in jobs}
        self.options = options
        self.warc = warc
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.on_fetch_cb = on_fetch
        self.tls = TLS.Policy(allow_private=options.allow_private, limits=options.limits)
        # One fetch per URL per run: several links (or blank links discovered from one home page)
        # often want the same page; later askers get the same Fetch and WARC record.
        self._fetched: OrderedDict[tuple, Fetch] = OrderedDict()
        self._waiting: dict[tuple, list[tuple[Job, Want]]] = {}

    async def start(self):
        # Every link's first request goes to the scheduler now. Yielded, they would be taken only
        # while the downloader has room, and a crawl that keeps it full would leave the hosts
        # after the first few unstarted until the end (then crawled alone, at their own pace).
        for job in self.jobs.values():
            self.begin(job)
        return
        yield  # an async generator, as Scrapy expects of start()

    def begin(self, job: Job) -> None:
        """Start a link's investigation: its first requests go to the scheduler (or it is finished at once)."""
        wants = job.inv.start()
        if job.inv.finished:
            job.finish()
            return
        for want in wants:
            for request in self._dispatch(job, want):
                self.crawler.engine.crawl(request)

    def _dispatch(self, job: Job, want: Want):
        """A request for want, or nothing when the same fetch is done (answered now) or under way (later)."""
        key = _fetch_key(want)
        if key in self._fetched:
            self._fetched.move_to_end(key)
            yield from self._advance(job, want, replace(self._fetched[key], url=want.url), None, record=False)
        elif key in self._waiting:
            self._waiting[key].append((job, want))
        else:
            self._waiting[key] = []
            yield self._request(job, want)

    def _request(self, job: Job, want: Want, attempt: int = 0, backoff: float = 0.0) -> scrapy.Request:
        headers = {"Content-Type": want.content_type} if want.content_type else None
        return scrapy.Request(
            want.url, method=want.method, body=want.body or None, headers=headers,
            callback=self.on_response, errback=self.on_error, dont_filter=True,
            priority=self._priority(job, want),
            meta={"job": job.key, "want": want, "attempt": attempt, "backoff": backoff, "scope": job.inv.scope,
                  "started": self.clock()},   # error statuses reach on_response by HTTPERROR_ALLOW_ALL;
            # not handle_httpstatus_all in meta: that also turns off the redirect middleware
        )

    def _priority(self, job: Job, want: Want) -> int:
        """Longest chain first: about how many more requests this link may still make after this one.

        A link's requests go one after the other (each page says what comes next), so a host's
        crawl lasts at least as long as its longest link. Serving the links with the most left
        first keeps the host's connections busy to the end instead of leaving one long link
        (an undated listing whose article pages are read) running alone at the finish.
        """
        limits = self.options.limits
        listings = articles = 0
        for visit in job.inv.outcome.visits:
            if visit.purpose == PURPOSE_LISTING:
                listings += 1
            elif visit.purpose == PURPOSE_ARTICLE:
                articles += 1
        left = max(0, limits.max_listing_pages - listings - (want.purpose == PURPOSE_LISTING))
        if want.purpose == PURPOSE_ARTICLE:
            left += max(0, limits.max_article_pages - articles - 1)
        return left

    # -- callbacks

    def on_response(self, response):
        job, want, attempt = self._context(response.request)
        rendered = response.request.meta.get("rendered_fetch")
        if rendered is not None:          # the renderer's own Fetch, as the spot-check records it (never retried)
            yield from self._advance(job, want, replace(rendered, url=want.url), response.request)
            return
        limits = self.options.limits
        if T.retry_wanted(None, response.status, attempt, limits):
            wait = T.retry_delay(attempt, response.headers.get(b"Retry-After"), limits, self.clock())
            yield self._request(job, want, attempt + 1, wait)      # still under way for those waiting
            return
        request = response.request
        raw = [(name, value) for name, values in response.headers.items() for value in values]
        fetch = T.response_fetch(want.url, response.url, response.status, T.headers_dict(raw), response.body,
                                 fetched_at=response.meta.get("started") or self.clock(),
                                 redirects=response.meta.get("redirect_urls", ()), **_request_of(request),
                                 hops=response.meta.get("hops", ()), final_fetched_at=response.meta.get("hop_started"),
                                 # Scrapy's own measure: request sent to response headers, of the last hop
                                 elapsed=response.meta.get("download_latency") or 0.0,
                                 tls=self.tls.note_for(response.url),
                                 **received(request, response))
        yield from self._advance(job, want, fetch, request)

    def on_error(self, failure):
        request = failure.request
        job, want, attempt = self._context(request)
        limits = self.options.limits
        code, detail = classify_failure(failure, limits.max_bytes)
        if T.retry_wanted(code, None, attempt, limits):
            return [self._request(job, want, attempt + 1, T.retry_delay(attempt, None, limits))]
        fetch = T.failed_fetch(want.url, request.url, code, detail,
                               fetched_at=request.meta.get("started") or self.clock(),
                               redirects=request.meta.get("redirect_urls", ()), **_request_of(request),
                               hops=request.meta.get("hops", ()), final_fetched_at=request.meta.get("hop_started"))
        return list(self._advance(job, want, fetch, request))

    def _advance(self, job: Job, want: Want, fetch: Fetch, request, *, record: bool = True):
        if record:
            if self.warc is not None:
                ref = self.warc.log(fetch, request_headers=lambda url, content_type: (
                    T.exchange_request_headers(url, content_type, self.options)))
                fetch = replace(fetch, warc_record=ref)
            if self.on_fetch_cb:
                self.on_fetch_cb(fetch)
            key = _fetch_key(want)
            self._fetched[key] = fetch
            if len(self._fetched) > MEMO_SIZE:
                self._fetched.popitem(last=False)
            waiting = self._waiting.pop(key, [])
        else:
            waiting = []
        for nxt in job.inv.on_fetch(want, fetch):
            yield from self._dispatch(job, nxt)
        if job.inv.finished:
            job.finish()
        for other_job, other_want in waiting:
            yield from self._advance(other_job, other_want, replace(fetch, url=other_want.url), None, record=False)

    def _context(self, request):
        meta = request.meta
        return self.jobs[meta["job"]], meta["want"], meta.get("attempt", 0)

def _fetch_key(want: Want) -> tuple:
    return (want.method, want.url, want.body, want.render)


def _request_of(request) -> dict:
    """The final request's method, body and content type, as the Fetch records them."""
    content_type = request.headers.get(b"Content-Type")
    return {"method": request.method, "request_body": request.body or b"",
            "content_type": content_type.decode("latin-1") if content_type else None}


def classify_failure(failure, max_bytes: int | None = None) -> tuple[str, str]:
    """(error code, detail) of a failed request, in the policy's vocabulary (as the httpx path's)."""
    exc = failure.value
    text = str(exc) or type(exc).__name__
    if isinstance(exc, Refused):
        return exc.code, exc.detail
    if isinstance(exc, IgnoreRequest):
        if "robots.txt" in text:
            return ERR_ROBOTS, "robots.txt disallows"
        if "redirect" in text.lower():
            return ERR_TOO_MANY_REDIRECTS, text
        return ERR_CONNECT, text
    if isinstance(exc, (CannotResolveHostError, neterror.DNSLookupError)):
        refusal = _resolver_refusal(urlsplit(failure.request.url).hostname if getattr(failure, "request", None)
                                    else None)
        return (ERR_PRIVATE, refusal) if refusal else (ERR_DNS, text)
    if isinstance(exc, (DownloadTimeoutError, neterror.TimeoutError, neterror.TCPTimedOutError)) \
            or "took longer than" in text:
        return ERR_TIMEOUT, text
    # Only the size bound cancels a download (the timeout raises its own error): final, as on the httpx path.
    if isinstance(exc, (DownloadCancelledError, CancelledError)) or "larger than download max size" in text:
        return ERR_TOO_LARGE, f"response larger than {max_bytes or 'the download bound of'} bytes"
    if isinstance(exc, DownloadFailedError) and _malformed(text):
        return ERR_BAD_RESPONSE, f"malformed response: {text}"
    return ERR_CONNECT, f"{type(exc).__name__}: {text}"


def _malformed(text: str) -> bool:
    lowered = text.lower()
    return "parseerror" in lowered or "invalid header" in lowered or "malformed" in lowered


def _resolver_refusal(host: str | None) -> str | None:
    """Why the run's resolver refused host, when it did."""
    from twisted.internet import reactor

    resolver = getattr(reactor, "nameResolver", None)
    if host and isinstance(resolver, CheckedResolver):
        return resolver.refusal(host)
    return None
