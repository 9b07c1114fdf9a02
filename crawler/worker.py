"""A worker of a distributed crawl: leases hosts from the Redis frontier and investigates their links.

The worker is the single-process crawl's spider (crawler.spider.VerifySpider, its middlewares, its
request queue and its settings, built from the run's options) with its jobs coming from the frontier
instead of the command line: it leases a host at a time while it holds fewer than `max_hosts`, starts
the host's links as the single-process crawl starts them, and sends each finished link back. It writes
nothing: the fetches go back with the link, and the coordinator writes them into the run's WARC file.
It keeps Scrapy open while it waits for hosts (its idle signal, as scrapy-redis's spiders do) and ends
when the run it serves is over.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import replace

from scrapy import signals
from scrapy.exceptions import DontCloseSpider

from crawler.frontier import BEAT_FRACTION, Frontier, FrontierError, Result, RunMeta, connect, worker_name
from crawler.spider import Job, VerifySpider
from crawler.urls import Scope

logger = logging.getLogger(__name__)
PULL_SECONDS = 0.1           # how often a worker with room looks for a host to lease
# hosts a worker crawls at once: as many as the single-process crawl keeps under way (HostSlotQueue), four times
# as many as fill its global concurrency, so that the per-host delay does not bind a worker of many hosts
MAX_HOSTS = 32
WAIT_SECONDS = 0.5           # between looks for a run to serve


class _Records:
    """The worker's stand-in for the run's WARC file: names each recorded fetch, and remembers the URL it was
    asked for (a later asker of the same fetch sees its own URL in it, the record keeps the first)."""

    def __init__(self, worker: str):
        self._names = (f"{worker}#{n}" for n in itertools.count())
        self.asked: dict[str, str] = {}

    def log(self, fetch, **_kwargs) -> str:
        name = next(self._names)
        self.asked[name] = fetch.url
        return name

    def original(self, fetch):
        url = self.asked.get(fetch.warc_record or "", fetch.url)
        return fetch if url == fetch.url else replace(fetch, url=url)


class _Recording:
    """An investigation that keeps, by record name, each fetch it is given (what its result sends back)."""

    def __init__(self, inv, records: _Records):
        self._inv = inv
        self._records = records
        self.fetches: dict = {}

    def __getattr__(self, name):
        return getattr(self._inv, name)

    def on_fetch(self, want, fetch):
        if fetch.warc_record is not None and fetch.warc_record not in self.fetches:
            self.fetches[fetch.warc_record] = self._records.original(fetch)
        return self._inv.on_fetch(want, fetch)


class WorkerSpider(VerifySpider):
    """VerifySpider whose links are leased from the frontier, host by host."""

    name = "portal-evidence-worker"

    def __init__(self, frontier: Frontier, meta: RunMeta, worker: str, max_hosts: int = MAX_HOSTS, **kwargs):
        self.records = _Records(worker)
        super().__init__(jobs=[], options=meta.options, warc=self.records, **kwargs)
        self.frontier, self.meta, self.worker, self.max_hosts = frontier, meta, worker, max_hosts
        self.held: dict[str, set[str]] = {}          # host -> its links not finished
        self.closing = False
        self.sent = 0
        self._portals: dict = {}
        self._scope: Scope | None = None
        self._checked = 0.0
        self._beat_at = 0.0

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._opened, signal=signals.spider_opened)
        return spider

    def registered_scope(self) -> Scope:
        """Every portal of the hosts leased so far (ScopeMiddleware serves robots.txt on these only)."""
        if self._scope is None:
            self._scope = Scope(tuple(self._portals))
        return self._scope

    async def start(self):
        return
        yield   # the links come from the frontier (see _tick)

    def _opened(self, spider):
        from twisted.internet import task

        self._ticking = task.LoopingCall(self._tick)
        self._ticking.start(PULL_SECONDS, now=True)

    def _idle(self, spider):
        if not self.closing:
            raise DontCloseSpider

    def _tick(self) -> None:
        try:
            self._pull()
        except Exception:               # a Redis hiccup: the lease runs on, the next tick tries again
            logger.exception("worker %s: the frontier failed", self.worker)

    def _pull(self) -> None:
        now = time.monotonic()
        if now - self._checked >= 1.0:
            self._checked = now
            if not self.frontier.live():
                self._close("the run is over")
                return
        lease = self.meta.lease_seconds
        if now - self._beat_at >= lease / BEAT_FRACTION:
            self._beat_at = now
            for host in list(self.held):
                if not self.frontier.renew(self.worker, host, lease):
                    logger.warning("worker %s: lost the lease of %s (another worker may crawl it)", self.worker,
                                   host)
        if self.closing or len(self.held) >= self.max_hosts or self._saturated():
            return
        unit = self.frontier.take(self.worker, lease, self.meta.matcher)
        if unit is not None:
            self._add(unit)

    def _saturated(self) -> bool:
        """Are as many fetches in transfer as the worker's global concurrency allows?

        A worker with every connection busy leaves the next host to a worker with room: on slow portals each
        worker then holds about as many hosts as fill its connections, instead of the first worker up leasing
        `max_hosts` and the others idling. Fetches waiting for a host's delay are not in transfer, so on fast
        portals a worker still leases up to `max_hosts`, as many as keep it busy despite the per-host delay."""
        downloader = self.crawler.engine.downloader if self.crawler.engine is not None else None
        if downloader is None:
            return False
        transferring = sum(len(slot.transferring) for slot in downloader.slots.values())
        return transferring >= downloader.total_concurrency

    def _add(self, unit) -> None:
        host = unit.host
        fresh = [(key, inv) for key, inv in unit.links if key not in self.jobs]
        self.held[host] = {key for key, _ in fresh}
        for _key, inv in fresh:
            for portal in (inv.scope.portals if inv.scope else ()):
                if portal not in self._portals:
                    self._portals[portal] = None
                    self._scope = None
        for key, inv in fresh:
            job = Job(key, _Recording(inv, self.records), lambda inv, key=key, host=host: self._done(key, host, inv))
            self.jobs[key] = job
            self.begin(job)
        if not self.held.get(host) and host in self.held:
            self._let_go(host)

    def _done(self, key: str, host: str, inv: _Recording) -> None:
        self.frontier.send(Result(key, inv.outcome, inv.fetches, self.worker))
        self.sent += 1
        self.jobs.pop(key, None)
        links = self.held.get(host)
        if links is not None:
            links.discard(key)
            if not links:
                self._let_go(host)

    def _let_go(self, host: str) -> None:
        del self.held[host]
        self.frontier.release(self.worker, host)

    def _close(self, reason: str) -> None:
        if not self.closing:
            self.closing = True
            logger.info("worker %s: %s", self.worker, reason)
            self.crawler.stop()


def run_worker(url: str, *, max_hosts: int = MAX_HOSTS, wait: float | None = None, log_level: str = "ERROR") -> int:
    """Serve the oldest run on the frontier at url until it is over; the number of links sent back.

    Waits for a run to appear (at most `wait` seconds; None: as long as it takes). Raises FrontierError."""
    from scrapy.crawler import CrawlerProcess

    from crawler.spider import scrapy_settings

    client = connect(url)
    deadline = None if wait is None else time.monotonic() + wait
    while True:
        try:
            found = Frontier.current(client)
        except Exception as exc:        # a Redis error, or a run this version cannot read
            raise FrontierError(f"cannot read the frontier {url}: {exc}") from None
        if found is not None:
            break
        if deadline is not None and time.monotonic() >= deadline:
            return 0
        time.sleep(WAIT_SECONDS)
    frontier, meta = found
    worker = worker_name()
    process = CrawlerProcess({**scrapy_settings(meta.options, log_level=log_level), "LOG_INSTALL_ROOT_HANDLER": False})
    crawler = process.create_crawler(WorkerSpider)
    process.crawl(crawler, frontier=frontier, meta=meta, worker=worker, max_hosts=max_hosts)
    process.start()
    return crawler.spider.sent if crawler.spider is not None else 0
