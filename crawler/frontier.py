"""The distributed crawl's frontier in Redis: what a coordinator queues and workers lease, and what comes back.

The unit of work is a host: every link of a run whose URL is on that host (a blank link: on its portal's
home host), as the Investigations the coordinator built, not yet started. A worker leases a host whole, so
one worker at a time crawls it and its own Scrapy engine keeps the per-host connection limit and delay
(crawler.settings) exactly as the single-process crawl does; a fetch several links of a host want is made
once, as there. A lease is a Redis key that expires: the worker renews it (its heartbeat) while it crawls
the host; a worker that dies (`kill -9`) stops renewing, the coordinator finds the host's lease gone and
queues the host again, and the next worker investigates the links of it not yet finished from the start.

A finished link goes back as its Outcome and the fetches its pages refer to (bodies included), in one
result; the link's key joins the run's `done` set in the same transaction, so a re-leased host skips it.
The coordinator alone writes the database and the WARC file: it writes each fetch of a result once (two
links that share a fetch share its record, as in one process) and stores the link's verdict once, by its
key, whichever worker's result comes first.

Keys (prefix `pe:`), for a run tagged TAG:
    runs                  list of run tags being served, oldest first
    run:TAG:meta          the run's options and category specs with their digest; expires unless its coordinator
                          renews it
    run:TAG:queue         hosts waiting for a worker
    run:TAG:unit:HOST     the host's links: [(link key, Investigation not yet started, without its matcher)]
    run:TAG:lease:HOST    the worker holding the host (expires unless renewed)
    run:TAG:active        hosts under lease
    run:TAG:done          link keys whose result was sent
    run:TAG:refused       hosts whose unit a worker could not read (the coordinator queues each again once)
    run:TAG:results       finished links, for the coordinator

Values are JSON envelopes of crawler.frontier_codec (versioned, every field checked by its declared type when
read; nothing read can run code): a unit a worker cannot read is dropped with a log line, a result the
coordinator cannot read is refused and counted. What is queued still steers what workers fetch and what the
coordinator stores: the Redis server must be the run's own, reachable only by its coordinator and workers
(loopback, or a private network with a password: redis://:PASSWORD@HOST:PORT/DB).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass

import redis

from crawler.categories import CategoryMatcher
from crawler.frontier_codec import CodecError, dump_meta, dump_result, dump_unit, load_meta, load_unit

logger = logging.getLogger(__name__)

PREFIX = "pe:"
LEASE_SECONDS = 30.0        # a host not renewed for this long goes back to the queue
RUN_SECONDS = 120.0         # a run whose coordinator stopped renewing it (died) ends for its workers after this
BEAT_FRACTION = 3           # a lease is renewed this many times per lease period


class FrontierError(Exception):
    """The Redis frontier cannot be reached"""


@dataclass(frozen=True)
class RunMeta:
    """What every worker of a run shares: its options and its category matcher."""

    tag: str
    options: object          # crawler.settings.RunOptions
    matcher: object          # crawler.categories.CategoryMatcher
    lease_seconds: float = LEASE_SECONDS


@dataclass
class Unit:
    """A leased host: its links as the coordinator built them."""

    tag: str
    host: str
    links: list              # [(link key, Investigation)]


@dataclass
class Result:
    """A finished link: its outcome and the fetches its pages refer to, by the worker's record names."""

    key: str
    outcome: object                    # crawler.investigate.Outcome
    fetches: dict                      # worker record name -> Fetch (bodies included)
    worker: str = ""


# Take the oldest queued host of a run and lease it to a worker, in one step (nothing can see the host
# popped but not yet leased, and queue it twice).
_TAKE = """
local host = redis.call('RPOP', KEYS[1])
if not host then return false end
redis.call('SET', KEYS[3] .. host, ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[2], host)
return host
"""
# Renew a lease the worker still holds; 0 when it lost it (expired and taken by another).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
# The worker is done with a host: its lease and its place among the active hosts go.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('SREM', KEYS[2], ARGV[2])
return 1
"""
# Every active host whose lease expired goes back to the queue (its worker died or stalled).
_REAP = """
local back = 0
for _, host in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', KEYS[3] .. host) == 0 then
    redis.call('SREM', KEYS[1], host)
    redis.call('LPUSH', KEYS[2], host)
    back = back + 1
  end
end
return back
"""


def connect(url: str) -> redis.Redis:
    """A client of the Redis at url (redis://HOST:PORT/DB), checked with a PING."""
    try:
        client = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=5, health_check_interval=30)
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        raise FrontierError(f"cannot reach the frontier {url}: {exc}") from None
    return client


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Frontier:
    """One run's keys in Redis, for its coordinator and its workers."""

    def __init__(self, client: redis.Redis, tag: str):
        self.r = client
        self.tag = tag
        base = f"{PREFIX}run:{tag}:"
        self.meta_key, self.queue_key, self.active_key = base + "meta", base + "queue", base + "active"
        self.done_key, self.results_key, self.refused_key = base + "done", base + "results", base + "refused"
        self.unit_prefix, self.lease_prefix = base + "unit:", base + "lease:"
        self.run_matcher: CategoryMatcher | None = None     # the coordinator's: a unit leaves it out
        self._take = client.register_script(_TAKE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self._reap = client.register_script(_REAP)

    # -- the coordinator

    @classmethod
    def open_run(cls, client: redis.Redis, meta: RunMeta, units: dict[str, list]) -> Frontier:
        """Queue a run's hosts (host -> [(link key, Investigation)]) and announce the run to workers."""
        for tag in client.lrange(f"{PREFIX}runs", 0, -1):     # runs whose coordinator died: their keys go
            if not client.exists(f"{PREFIX}run:{tag.decode()}:meta"):
                cls(client, tag.decode()).close_run()
        frontier = cls(client, meta.tag)
        frontier.run_matcher = meta.matcher
        pipe = client.pipeline(transaction=True)
        pipe.set(frontier.meta_key, dump_meta(meta.tag, meta.options, meta.matcher, meta.lease_seconds),
                 ex=int(RUN_SECONDS))
        for host, links in units.items():
            pipe.set(frontier.unit_prefix + host, dump_unit(links, meta.matcher))
        if units:
            pipe.lpush(frontier.queue_key, *units)      # RPOP takes the first host queued first
        pipe.rpush(f"{PREFIX}runs", meta.tag)
        pipe.execute()
        return frontier

    def results(self, timeout: float = 1.0, batch: int = 64) -> list[bytes]:
        """The finished links sent since the last call, as sent (crawler.frontier_codec.load_result reads one);
        waits up to timeout for the first."""
        first = self.r.blpop([self.results_key], timeout=timeout)
        if first is None:
            return []
        raw = [first[1]]
        more = self.r.lpop(self.results_key, batch - 1)
        raw += more or []
        return raw

    def refused_hosts(self) -> list[str]:
        """The hosts whose unit a worker could not read since the last call."""
        return [h.decode() for h in self.r.spop(self.refused_key, 1000) or []]

    def requeue(self, host: str, links: list) -> None:
        """Write a host's unit again (from the coordinator's own links) and queue the host."""
        pipe = self.r.pipeline(transaction=True)
        pipe.set(self.unit_prefix + host, dump_unit(links, self.run_matcher))
        pipe.lpush(self.queue_key, host)
        pipe.execute()

    def undo(self, key: str, host: str) -> None:
        """A link whose result was refused: not done, and its host queued again."""
        pipe = self.r.pipeline(transaction=True)
        pipe.srem(self.done_key, key)
        pipe.lpush(self.queue_key, host)
        pipe.execute()

    def reap(self) -> int:
        """Queue again every host whose lease expired; how many. Renews the run: its coordinator is alive."""
        for key in (self.meta_key, self.done_key, self.results_key, self.refused_key):
            self.r.expire(key, int(RUN_SECONDS))
        return int(self._reap(keys=[self.active_key, self.queue_key, self.lease_prefix]))

    def close_run(self) -> None:
        """The run is over (finished or stopped): its keys go, and its workers leave it."""
        self.r.lrem(f"{PREFIX}runs", 0, self.tag)
        keys = list(self.r.scan_iter(match=f"{PREFIX}run:{self.tag}:*", count=1000))
        for start in range(0, len(keys), 500):
            self.r.delete(*keys[start:start + 500])

    # -- a worker

    @classmethod
    def current(cls, client: redis.Redis) -> tuple[Frontier, RunMeta] | None:
        """The oldest run being served, and what its workers share; None when there is none."""
        for tag in client.lrange(f"{PREFIX}runs", 0, -1):
            frontier = cls(client, tag.decode())
            raw = client.get(frontier.meta_key)
            if raw is not None:
                try:
                    tag_read, options, matcher, lease = load_meta(raw)
                except CodecError as exc:
                    raise FrontierError(f"run {frontier.tag}: {exc}") from None
                if tag_read != frontier.tag:
                    raise FrontierError(f"run {frontier.tag}: its meta names run {tag_read}")
                return frontier, RunMeta(frontier.tag, options, matcher, lease)
        return None

    def live(self) -> bool:
        return bool(self.r.exists(self.meta_key))

    def take(self, worker: str, lease_seconds: float, matcher) -> Unit | None:
        """Lease the next queued host: its links not finished yet (their matcher put back)."""
        host = self._take(keys=[self.queue_key, self.active_key, self.lease_prefix],
                          args=[worker, int(lease_seconds * 1000)])
        if not host:
            return None
        host = host.decode()
        raw = self.r.get(self.unit_prefix + host)
        try:
            links = load_unit(raw, matcher) if raw is not None else []
        except CodecError as exc:
            logger.warning("worker %s: dropped the unit of %s in run %s: %s", worker, host, self.tag, exc)
            self.r.sadd(self.refused_key, host)
            return Unit(self.tag, host, [])         # nothing to do: the worker lets the host go
        done = self.r.smembers(self.done_key) if links else set()
        return Unit(self.tag, host, [(key, inv) for key, inv in links if key.encode() not in done])

    def renew(self, worker: str, host: str, lease_seconds: float) -> bool:
        return bool(self._renew(keys=[self.lease_prefix + host], args=[worker, int(lease_seconds * 1000)]))

    def send(self, result: Result) -> None:
        """A finished link back to the coordinator; its key marked done in the same transaction."""
        pipe = self.r.pipeline(transaction=True)
        pipe.rpush(self.results_key, dump_result(result.key, result.outcome, result.fetches, result.worker))
        pipe.sadd(self.done_key, result.key)
        for key in (self.results_key, self.done_key):      # a run ended meanwhile: these do not outlive it long
            pipe.expire(key, int(RUN_SECONDS))
        pipe.execute()

    def release(self, worker: str, host: str) -> None:
        self._release(keys=[self.lease_prefix + host, self.active_key], args=[worker, host])

