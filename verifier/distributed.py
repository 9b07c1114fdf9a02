"""The coordinator of a distributed crawl: the run's links queued in Redis by host, their results stored here.

run_crawl (verifier.crawl) plans and resumes a run as it always does; with a frontier it hands the pending
links to `coordinate` instead of running the spider. The coordinator is the only writer of the database and
of the run's WARC file: each result a worker sends (crawler.frontier.Result) has its fetches written to this
process's WARC file, once each however many links share one, its pages pointed at those records, and its
verdict stored by the same function the single-process crawl stores with, once per link (a second result
of a link, from a worker whose lease had expired while it still ran, is dropped whole). Expired leases are
handed back to the queue here, every second.

What comes back from Redis is read by crawler.frontier_codec and nothing else: a result that is not well formed
is refused with a log line and counted (the run's closing line says how many), its link (when it names one of
the run's) investigated again once; a host whose unit a worker could not read is queued again once, from this
process's own links. A second refusal of the same link or host ends the run: something other than this run's
processes writes into its Redis.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import urlsplit

import redis

from crawler import transport as T
from crawler.frontier import LEASE_SECONDS, Frontier, FrontierError, RunMeta, connect
from crawler.frontier_codec import CodecError, load_result, result_key
from verifier.store import LOCK_BEAT_SECONDS, StoreError

REAP_SECONDS = 1.0
logger = logging.getLogger(__name__)


class _Returned:
    """A finished investigation as a worker sent it back: what storing a verdict reads of one."""

    finished = True

    def __init__(self, outcome):
        self.outcome = outcome

    def release(self) -> None:
        self.outcome = None


def link_key(task) -> str:
    return f"{task.agency.agency_id}/{task.criterion.id}"


def link_host(task, inv) -> str:
    """The host a link is crawled on: its URL's, or (a blank link) its portal's home host."""
    url = inv.outcome.url
    host = urlsplit(url).hostname if url else None
    if not host and task.agency.scope is not None:
        host = task.agency.scope.portals[0].host
    return (host or "-").lower()


def coordinate(url: str, pending, store: Callable, options, matcher, warc, progress, stop,
               heartbeat: Callable[[], None], *, lease_seconds: float | None = None) -> tuple[str, int]:
    """Queue the pending links [(task, investigation, checked_at)] on the frontier at url and store each
    result as it comes, until every link is stored or the crawl is stopped; the WARC file's path, and how many
    results were refused as not well formed.

    Raises FrontierError when Redis cannot be reached or fails during the run (the run stays unfinished:
    running the same command again resumes it)."""
    client = connect(url)
    waiting: dict[str, tuple] = {}
    units: dict[str, list] = {}
    host_of: dict[str, str] = {}
    for task, inv, checked_at in pending:
        key = link_key(task)
        waiting[key] = (task, checked_at)
        host_of[key] = link_host(task, inv)
        units.setdefault(host_of[key], []).append((key, inv))
    meta = RunMeta(uuid.uuid4().hex[:12], options, matcher, lease_seconds or LEASE_SECONDS)
    frontier = None
    written: dict[str, str | None] = {}          # a worker's record name -> the record in this run's WARC file
    refused = 0
    again: set[str] = set()                      # links and hosts queued again after a refusal
    stop.hold = True                             # a signal is noted, and ends the loop below
    try:
        frontier = Frontier.open_run(client, meta, units)
        reaped = beaten = time.monotonic()
        while waiting and not stop.stopped:
            for raw in frontier.results(timeout=0.5):
                try:
                    key, outcome, fetches, _worker = load_result(raw)
                except CodecError as exc:
                    refused += 1
                    key = result_key(raw)
                    logger.warning("refused a result from the frontier %s: %s", url, exc)
                    if key in waiting:
                        _again(again, "link " + key)
                        frontier.undo(key, host_of[key])
                    continue
                entry = waiting.pop(key, None)
                if entry is None or stop.stopped:
                    continue                     # stored already (or stopping: it stays for the resume)
                task, checked_at = entry
                store(task, _Returned(_with_records(outcome, fetches, written, warc, options, progress)),
                      checked_at)
            now = time.monotonic()
            if now - reaped >= REAP_SECONDS:
                reaped = now
                frontier.reap()
                for host in frontier.refused_hosts():
                    logger.warning("a worker could not read the unit of %s from the frontier %s", host, url)
                    links = [(k, inv) for k, inv in units.get(host, []) if k in waiting]
                    if links:
                        _again(again, "host " + host)
                        frontier.requeue(host, links)
            if now - beaten >= LOCK_BEAT_SECONDS:
                beaten = now
                try:
                    heartbeat()
                except StoreError as exc:
                    stop.fail(exc)
    except redis.RedisError as exc:
        raise FrontierError(f"the frontier {url} failed during the run: {exc}") from None
    finally:
        stop.hold = False
        if frontier is not None:
            try:
                frontier.close_run()
            except redis.RedisError:
                pass                             # its keys stay; workers find its queue empty
        warc.close()
    if refused:
        logger.warning("%d results refused from the frontier %s", refused, url)
    return str(warc.path), refused


def _again(again: set, what: str) -> None:
    """Note that a link or host is queued again after a refusal; a second time ends the run."""
    if what in again:
        raise FrontierError(f"the {what} was refused twice: something else writes into this run's Redis")
    again.add(what)


def _with_records(outcome, fetches: dict, written: dict, warc, options, progress):
    """The result's outcome with its pages pointing at this run's WARC records, each fetch written once."""
    def record(name: str | None) -> str | None:
        if name is None:
            return None
        if name not in written:
            fetch = fetches.get(name)
            if fetch is None:
                return None
            written[name] = warc.log(fetch, request_headers=lambda target, content_type: (
                T.exchange_request_headers(target, content_type, options)))
            progress.fetched(fetch)
        return written[name]

    outcome.visits = [replace(v, warc_record=record(v.warc_record)) for v in outcome.visits]
    if outcome.first is not None:
        outcome.first = replace(outcome.first, warc_record=record(outcome.first.warc_record))
    outcome.related = [replace(f, warc_record=record(f.warc_record)) for f in outcome.related]
    return outcome
