"""`make bench`, workers: the national farm crawled as one process and by a coordinator with 1, 2 and 4 workers.

One redis-server of the bench's own (a free loopback port, a temporary folder). Every crawl is a set of
processes (`cli.py crawl --frontier`, `cli.py worker` × n) waited for (bench/procs.py), so their CPU seconds and
peak RSS are each process's own; CPU seconds per page are those of all the crawl's processes together
(coordinator and workers), which a shared machine disturbs less than wall time (reported beside it). A crawl
counts only when it is right (bench.run: every verdict, and every host got exactly the requests a complete
crawl sends), and the farm server's log says how many requests one host had in flight at once, across all
workers together.

    python -m bench.run --only workers [--quick]

The full sizes (50,000 pages four times, and the growth and CPU-bound farms) take about an hour on two quiet
cores and are for a quiet machine; --quick runs the same harness on farms a hundred times smaller.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from bench.farm import Farm, FarmSpec
from bench.procs import wait_all
from crawler import settings as S

# 1,000 hosts × 52 pages (6 categories of 5 listing pages, one undated: its articles are read; one blank)
NATIONAL_SHAPE = FarmSpec(hosts=1000, categories=6, pages=5, undated=1, blank=1)
NATIONAL_HOSTS_QUICK = 6
NATIONAL_LATENCY = 0.05              # seconds per response on the national farm
WORKER_COUNTS = (1, 2, 4)
GROWTH_PAGES = (1_000, 50_000)       # CPU seconds per page, 2 workers; the largest is the national farm itself
GROWTH_PAGES_QUICK = (150, 10_000)   # (the quick national farm's size: its own crawl)
GROWTH_WORKERS = 2
GROWTH_SPREAD = 0.25
RSS_MB = 300.0
RSS_AT_PAGES = 50_000
CPU_BOUND_PAGES = 5_000              # latency 0: 2 workers ÷ 1 worker, pages per second
CPU_BOUND_PAGES_QUICK = 300
CPU_BOUND_RATIO = 1.7
CPU_BOUND_MIN_PAGES = 2_000
# the latency farm: 64 deep hosts (6 categories of 10 pages: 82 requests each) at 650 ms, a slow provincial
# portal; more hosts than the connections of 4 workers (64) can serve two at a time, as in a national run, so its
# bound is the global term: 213 s with one worker, 107 s with 2, 53 s with 4
LATENCY_SHAPE = FarmSpec(hosts=64, categories=6, pages=10, undated=1, blank=1)
LATENCY_SHAPE_QUICK = replace(LATENCY_SHAPE, hosts=3, pages=2)
LATENCY = 0.65
LATENCY_QUICK = 0.1
LATENCY_FACTOR = 1.2
LATENCY_MIN_BOUND = 20.0
PARTS = ("national", "cpu_bound", "latency")     # national includes the growth figures


class RedisServer:
    """A redis-server of its own on a free loopback port, its files in `folder`; a context manager.
    `url` is its redis://127.0.0.1:PORT/0. Raises FileNotFoundError when redis-server is not installed."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def __enter__(self) -> RedisServer:
        import redis

        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server is not installed (Debian: apt-get install redis-server)")
        self.folder.mkdir(parents=True, exist_ok=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(self.folder),
                                      "--save", "", "--appendonly", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(self.url)
        for _ in range(200):
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.__exit__()
        raise RuntimeError(f"redis-server did not start on port {port}")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@dataclass
class Distributed:
    """One crawl by a coordinator and n workers (n = 0: the crawl as one process), as bench.run.CrawlRun."""

    workers: int
    wall: float
    cpu: float                           # user + system seconds of every process of the crawl
    coordinator_rss_mb: float
    worker_rss_mb: list[float] = field(default_factory=list)
    worker_cpu: list[float] = field(default_factory=list)
    requests: int = 0
    max_overlap: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def correct(self) -> bool:
        return not self.problems

    @property
    def peak_rss_mb(self) -> float:
        return max([self.coordinator_rss_mb, *self.worker_rss_mb])


def crawl(farm: Farm, server, workdir: Path, redis_url: str | None, workers: int, name: str) -> Distributed:
    """The farm crawled by `workers` workers through the frontier at redis_url (0: `cli.py crawl` alone)."""
    from bench.run import ROOT, crawl_process, proxy_env, read_verdicts, request_problems, verdict_problems

    if workers == 0:
        run = crawl_process(farm, server, workdir / name, name=name)
        return Distributed(0, run.wall, run.cpu, run.max_rss_mb, requests=run.requests, max_overlap=run.max_overlap,
                           problems=run.problems)
    folder = workdir / name
    folder.mkdir(parents=True, exist_ok=True)
    agencies, reports = farm.write_inputs(folder)
    db = folder / f"{name}.db"
    env = proxy_env(server)
    server.reset()
    started = time.monotonic()
    procs = []
    with (folder / "out.log").open("wb") as out, (folder / "err.log").open("wb") as err:
        for _ in range(workers):
            procs.append(subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "worker", "--frontier", redis_url,
                                           "--wait", "120"], cwd=ROOT, env=env, stdout=out, stderr=err))
        coordinator = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "crawl", "--agencies", str(agencies),
                                        "--reports", str(reports), "--db", str(db), "--warc-dir",
                                        str(folder / "warc"), "--frontier", redis_url],
                                       cwd=ROOT, env=env, stdout=out, stderr=err)
        ended = wait_all([coordinator, *procs])
    wall = time.monotonic() - started
    problems = []
    if coordinator.returncode != 0 or any(p.returncode != 0 for p in procs):
        tail = (folder / "err.log").read_text(errors="replace").strip().splitlines()[-3:]
        problems.append(f"exit codes: coordinator {coordinator.returncode}, workers {[p.returncode for p in procs]}: "
                        f"{' | '.join(tail)}")
    problems += verdict_problems(farm, read_verdicts(db))
    problems += request_problems(farm, server)
    return Distributed(workers, wall, sum(e.cpu for e in ended.values()), ended[coordinator.pid].peak_mb,
                       [ended[p.pid].peak_mb for p in procs], [ended[p.pid].cpu for p in procs],
                       requests=server.tally("site").total(), max_overlap=max(server.max_overlap.values(), default=0),
                       problems=problems)


def _label(workers: int) -> str:
    return "one process" if workers == 0 else f"{workers} worker{'s' if workers > 1 else ''}"


def bench_workers(workdir: Path, *, quick: bool = False, parts: tuple[str, ...] = PARTS):
    from bench.run import Figure, Result, farm_server, politeness_bound, spec_for_pages

    result = Result("workers")
    try:
        redis = RedisServer(workdir / "redis").__enter__()
    except (FileNotFoundError, RuntimeError) as exc:
        result.figures.append(Figure("workers.cpu_bound.ratio_2_over_1", "2 workers ÷ 1 worker, pages/s (latency 0)",
                                     None, "x", f"≥ {CPU_BOUND_RATIO} on 2 cores", None, f"not measured: {exc}"))
        return result
    runs: list[tuple[str, Distributed]] = []

    def record(key: str, run: Distributed, extra: dict) -> None:
        runs.append((key, run))
        result.details[key] = {**asdict(run), "correct": run.correct, **extra}

    def wrong(run: Distributed) -> str:
        return "" if run.correct else f"; WRONG: {run.problems[0]}"

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        if "national" in parts:
            # 1. the national farm, with latency: one process, then 1, 2 and 4 workers
            national = replace(NATIONAL_SHAPE, hosts=NATIONAL_HOSTS_QUICK) if quick else NATIONAL_SHAPE
            farm = Farm(national)
            with farm_server(farm, latency=NATIONAL_LATENCY) as server:
                for n in (0, *WORKER_COUNTS):
                    run = crawl(farm, server, workdir, redis.url, n, f"national-{n}")
                    record(f"national.{n}", run, {"spec": asdict(national), "latency": NATIONAL_LATENCY})
                    result.figures.append(Figure(
                        f"workers.national.{n}.wall", f"National farm, {_label(n)}: wall time", run.wall, "s",
                        None, None,
                        f"{run.requests:,} pages, latency {NATIONAL_LATENCY * 1000:.0f} ms; CPU {run.cpu:.1f} s "
                        f"({run.cpu / max(1, run.requests) * 1000:.1f} ms/page), peak RSS {run.peak_rss_mb:.0f} MB"
                        + wrong(run)))
            at_size = [r for _, r in runs if r.requests >= RSS_AT_PAGES * 0.95]
            peak = max(runs, key=lambda kr: kr[1].peak_rss_mb)[1]
            result.figures.append(Figure(
                "workers.peak_rss_mb", "Peak RSS of the coordinator and of each worker (national farm)",
                peak.peak_rss_mb,
                "MB", f"< {RSS_MB:.0f} MB at {RSS_AT_PAGES:,} pages",
                bool(all(r.peak_rss_mb < RSS_MB for r in at_size)) if at_size else None,
                f"{_label(peak.workers)}: coordinator {peak.coordinator_rss_mb:.0f} MB, workers "
                + ", ".join(f"{m:.0f}" for m in peak.worker_rss_mb) + " MB"
                + ("" if at_size else f"; farm under {RSS_AT_PAGES:,} pages: not a measurement of the target")))

            # 2. CPU seconds per page from the smallest farm to the largest (2 workers, the national latency): the
            # largest is the national farm's own 2-worker crawl above, the smaller ones the same shape with fewer
            # hosts. Each crawl's start-up (three Python processes importing Scrapy, the plan put in Redis) is a fixed
            # cost that a crawl of 1,000 pages spreads over 50 times fewer pages: a crawl of one host measures it, and
            # the figure judged is the CPU per page beyond it; the plain CPU per page is shown beside it.
            fixed_spec = replace(NATIONAL_SHAPE, hosts=1)
            farm = Farm(fixed_spec)
            with farm_server(farm, latency=NATIONAL_LATENCY) as server:
                fixed = crawl(farm, server, workdir, redis.url, GROWTH_WORKERS, "growth-fixed")
            record("growth.fixed", fixed, {"spec": asdict(fixed_spec), "latency": NATIONAL_LATENCY})
            per_page = []
            sizes = GROWTH_PAGES_QUICK if quick else GROWTH_PAGES
            national_run = dict(runs)[f"national.{GROWTH_WORKERS}"]
            for pages in sizes:
                spec = spec_for_pages(pages, NATIONAL_SHAPE)
                if abs(pages - national_run.requests) <= 0.05 * pages or spec.hosts >= national.hosts:
                    # (the national farm's hosts are not all alike: those with the introduction send fewer pages,
                    # so its hosts for 50,000 pages by one host's count are fewer than its own 1,000)
                    spec, run = national, national_run
                else:
                    farm = Farm(spec)
                    with farm_server(farm, latency=NATIONAL_LATENCY) as server:
                        run = crawl(farm, server, workdir, redis.url, GROWTH_WORKERS, f"growth-{pages}")
                cpu_page = run.cpu / max(1, run.requests)
                beyond = (run.cpu - fixed.cpu) / max(1, run.requests - fixed.requests)
                per_page.append((run, beyond))
                record(f"growth.{pages}", run, {"spec": asdict(spec), "cpu_per_page": cpu_page,
                                                "cpu_per_page_beyond_startup": beyond, "latency": NATIONAL_LATENCY})
                result.figures.append(Figure(
                    f"workers.growth.{pages}.cpu_per_page",
                    f"CPU seconds per page beyond start-up, {run.requests:,} pages, {GROWTH_WORKERS} workers", beyond,
                    "s/page", None, None,
                    f"{spec.hosts} hosts, latency {NATIONAL_LATENCY * 1000:.0f} ms; CPU {run.cpu:.1f} s of coordinator "
                    f"and workers ({cpu_page * 1000:.1f} ms/page), less {fixed.cpu:.1f} s for a crawl of one host "
                    f"({fixed.requests} pages); wall {run.wall:.1f} s ({run.wall / max(1, run.requests) * 1000:.1f} "
                    "ms/page)" + wrong(run)))
            spread = [p / per_page[0][1] for _, p in per_page]
            measured = per_page[-1][0].requests >= GROWTH_PAGES[-1] * 0.95
            result.figures.append(Figure(
                "workers.growth.largest_over_smallest",
                "CPU seconds per page beyond start-up, largest ÷ smallest farm (workers)",
                spread[-1], "x", f"within ±{GROWTH_SPREAD:.0%}",
                bool(fixed.correct and all(r.correct for r, _ in per_page)
                     and all(abs(x - 1) <= GROWTH_SPREAD for x in spread)) if measured else None,
                "" if measured else f"largest farm under {GROWTH_PAGES[-1]:,} pages: not a measurement of the target"))

        if "cpu_bound" in parts:
            # 3. CPU-bound (latency 0): pages per second of 2 workers ÷ 1 worker
            spec = spec_for_pages(CPU_BOUND_PAGES_QUICK if quick else CPU_BOUND_PAGES, NATIONAL_SHAPE)
            farm = Farm(spec)
            rate = {}
            with farm_server(farm, latency=0.0) as server:
                for n in (1, 2):
                    run = crawl(farm, server, workdir, redis.url, n, f"cpu-bound-{n}")
                    rate[n] = run.requests / run.wall if run.correct and run.wall else None
                    record(f"cpu_bound.{n}", run, {"spec": asdict(spec), "pages_per_second": rate[n]})
            ratio = rate[2] / rate[1] if rate[1] and rate[2] else None
            big = spec.hosts * Farm(replace(spec, hosts=1)).total_expected_requests >= CPU_BOUND_MIN_PAGES
            result.figures.append(Figure(
                "workers.cpu_bound.ratio_2_over_1", "2 workers ÷ 1 worker, pages/s (latency 0)", ratio, "x",
                f"≥ {CPU_BOUND_RATIO} on 2 cores", bool(ratio is not None and ratio >= CPU_BOUND_RATIO)
                if big and cores and cores >= 2 else None,
                ", ".join(f"{n} worker(s) {r:.0f} pages/s" for n, r in rate.items() if r)
                + ("" if big else f"; farm under {CPU_BOUND_MIN_PAGES:,} pages: not a measurement of the target")))

        if "latency" in parts:
            # 4. the latency farm: wall time within the politeness bound with any number of workers
            shape = LATENCY_SHAPE_QUICK if quick else LATENCY_SHAPE
            latency = LATENCY_QUICK if quick else LATENCY
            farm = Farm(shape)
            with farm_server(farm, latency=latency) as server:
                for n in WORKER_COUNTS:
                    run = crawl(farm, server, workdir, redis.url, n, f"latency-{n}")
                    bound, which = politeness_bound(dict(server.tally("site")), latency, slots=S.GLOBAL_CONCURRENCY * n)
                    over = run.wall / bound if bound else None
                    busy = run.cpu / (run.wall * cores) if run.wall else 0.0     # CPU-bound when near 100%
                    record(f"latency.{n}", run, {"spec": asdict(shape), "latency": latency, "bound": bound,
                                                 "bound_kind": which, "wall_over_bound": over})
                    judged = bound >= LATENCY_MIN_BOUND * 0.99
                    result.figures.append(Figure(
                        f"workers.latency.{n}.wall_over_bound", f"Latency farm, {_label(n)}: wall ÷ politeness bound",
                        over, "x", f"≤ {LATENCY_FACTOR} on a farm whose bound is ≥ {LATENCY_MIN_BOUND:.0f} s",
                        bool(run.correct and over is not None and over <= LATENCY_FACTOR) if judged else None,
                        f"{shape.hosts} hosts, latency {latency * 1000:.0f} ms; bound {bound:.1f} s ({which}), "
                        f"wall {run.wall:.1f} s; the crawl's processes used {busy:.0%} of {cores} cores"
                        + ("" if judged else
                           f"; bound under {LATENCY_MIN_BOUND:.0f} s: not a measurement of the target")
                        + wrong(run)))
        overlap = max((r.max_overlap for _, r in runs), default=0)
        result.figures.append(Figure(
            "workers.max_overlap", "Most requests in flight to one host, all workers together", overlap, "requests",
            f"≤ {S.PER_HOST_CONCURRENCY} (PER_HOST_CONCURRENCY)", overlap <= S.PER_HOST_CONCURRENCY,
            "the farm server's count, over every crawl of this measurement"))
    finally:
        redis.__exit__()
    return result
