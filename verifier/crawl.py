"""The crawl run: inputs validated and stored, every link verified by the Scrapy spider, resumable.

A run is identified by the digest of its inputs (registry, reports, rulebook,
period, options). Running the same command after an interruption (even
`kill -9`) resumes the unfinished run with those inputs: links already
verified are skipped, each finished link is stored in one transaction, and the
new process writes its own WARC file so a torn gzip member never corrupts
earlier evidence. A lock file refuses a second crawl on the same database.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from crawler.categories import CategoryMatcher
from crawler.settings import RunOptions
from verifier.checks import task_investigation, task_verdict
from verifier.errors import InputError
from verifier.intake import Agency, Report, load_registry, load_reports
from verifier.plan import Task, agencies_without_form, plan_tasks
from verifier.reported import decide_reported
from verifier.rulebook import Rulebook, load_rulebook
from verifier.progress import Progress
from verifier.store import iso, open_db, save_verdict


class CrawlLocked(InputError):
    """Another crawl is running on this database"""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class CrawlSummary:
    run_id: int
    resumed: bool
    total: int
    skipped: int
    counts: Counter = field(default_factory=Counter)          # (status, reason) -> n
    changes: list[tuple[str, str, str, str]] = field(default_factory=list)  # agency, criterion, before, now
    pages: int = 0
    errors: int = 0
    seconds: float = 0.0
    warc_file: str = ""
    no_form: list[str] = field(default_factory=list)            # agencies that sent no form: not verified
    overrides: list[tuple[str, str, str, str, bool]] = field(default_factory=list)
    # (agency, criterion, the reviewer's status, the machine verdict now, machine verdict changed since)

    @property
    def needs_attention(self) -> bool:
        return any(status == "review" or reason == "unreachable" for (status, reason) in self.counts)


@dataclass(frozen=True)
class CrawlInputs:
    rulebook: Rulebook
    registry: dict[str, Agency]
    reports: list[Report]
    digest: str


def load_inputs(agencies: Path, reports: Path, rules: Path, options: RunOptions, *, cache: str | None) -> CrawlInputs:
    """Everything validated before the database is touched; raises InputError(s)."""
    rulebook = load_rulebook(rules)
    registry = load_registry(agencies, rulebook)
    rows = load_reports(reports, registry, rulebook)
    h = hashlib.sha256()
    for path in (agencies, reports, rules):
        h.update(Path(path).read_bytes())
    h.update(json.dumps([iso(options.period[0]), iso(options.period[1]), options.ignore_robots,
                         options.allow_private]).encode())
    return CrawlInputs(rulebook, registry, rows, h.hexdigest())


class _Lock:
    def __init__(self, db_path: Path):
        self.path = Path(str(db_path) + ".lock")
        self.fh = None

    def __enter__(self):
        self.fh = self.path.open("a+")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.seek(0)
            holder = self.fh.read().strip() or "?"
            self.fh.close()
            raise CrawlLocked(f"pid {holder} holds {self.path}", hint="wait for it to finish, or stop it") from None
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write(str(os.getpid()))
        self.fh.flush()
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


def _start_run(db, inputs: CrawlInputs, options: RunOptions, agencies: Path, reports: Path,
               warc_dir: Path, clock) -> tuple[int, bool]:
    """The unfinished run with the same inputs, or a new run with its inputs stored (one transaction)."""
    unfinished = list(db["runs"].rows_where("status = 'running' and inputs_digest = ?", [inputs.digest],
                                            order_by="id desc", limit=1))
    if unfinished:
        return unfinished[0]["id"], True
    with db.conn:
        run_id = db["runs"].insert({
            "started_at": iso(clock()), "status": "running", "rulebook": inputs.rulebook.source,
            "year": inputs.rulebook.year, "period_start": iso(options.period[0]),
            "period_end": iso(options.period[1]),
            "options": json.dumps({"ignore_robots": options.ignore_robots, "allow_private": options.allow_private}),
            "inputs_digest": inputs.digest, "agencies_file": str(agencies), "reports_file": str(reports),
            "warc_dir": str(warc_dir), "pid": os.getpid(),
        }).last_pk
        db["agencies"].insert_all([{"run_id": run_id, "agency_id": a.agency_id, "agency_name": a.agency_name,
                                    "group": a.group, "portal": a.portal} for a in inputs.registry.values()])
        db["reports"].insert_all([{"run_id": run_id, "agency_id": r.agency_id, "criterion": r.criterion,
                                   "url": r.url, "value": r.value, "not_applicable": int(r.not_applicable),
                                   "note": r.note, "submitted_at": iso(r.submitted_at), "source": r.source}
                                  for r in inputs.reports])
    return run_id, False


def run_crawl(agencies: Path, reports: Path, rules: Path, db_path: Path, options: RunOptions, *,
              warc_dir: Path | None = None, http_cache: str | None = None,
              progress_factory: Callable[[int, int], "Progress"] | None = None,
              clock: Callable[[], dt.datetime] = _now) -> CrawlSummary:
    """Validate, store, crawl every link not yet verified in this run, and summarise."""
    inputs = load_inputs(agencies, reports, rules, options, cache=http_cache)
    db_path = Path(db_path)
    warc_dir = Path(warc_dir) if warc_dir else db_path.with_name(db_path.stem + "-warc")
    started = time.monotonic()
    with _Lock(db_path):
        db = open_db(db_path)
        run_id, resumed = _start_run(db, inputs, options, agencies, reports, warc_dir, clock)
        done = {(r["agency_id"], r["criterion"]) for r in db["verdicts"].rows_where("run_id = ?", [run_id])}
        _decide_reported(db, run_id, inputs, done, clock, options.period)
        tasks = plan_tasks(inputs.registry, inputs.reports, inputs.rulebook)
        todo = [t for t in tasks if t.key not in done]
        summary = CrawlSummary(run_id=run_id, resumed=resumed, total=len(tasks), skipped=len(tasks) - len(todo),
                               no_form=[a.agency_id for a in agencies_without_form(inputs.registry, inputs.reports)])
        progress = (progress_factory or (lambda total, done: Progress(total, done=done)))(len(tasks), len(done))
        matcher = CategoryMatcher.from_rulebook(inputs.rulebook)
        period = options.period

        def store(task: Task, inv, checked_at):
            verdict = task_verdict(task, inv, options, checked_at)
            save_verdict(db, run_id, verdict, period)
            if inv is not None:
                inv.release()          # stored: the pages and posts need not stay in memory till the end
            progress.link_done(verdict)

        pending = []
        for task in todo:
            checked_at = clock()
            inv = task_investigation(task, matcher, options)
            if inv is None:
                store(task, None, checked_at)
            else:
                url = inv.outcome.url
                progress.expect(task.key, urlsplit(url).hostname if url else task.agency.scope.portals[0].host)
                pending.append((task, inv, checked_at))
        if pending:
            summary.warc_file = _crawl_pending(pending, store, options, warc_dir, run_id, http_cache, progress, clock)
        with db.conn:
            db["runs"].update(run_id, {"status": "done", "finished_at": iso(clock())})
        progress.close()
        rows = list(db["verdicts"].rows_where("run_id = ?", [run_id]))
        summary.counts = Counter((r["status"], r["reason"]) for r in rows)
        summary.changes = _changes(db, run_id, rows)
        summary.overrides = _overrides_in_force(db, run_id, rows)
        summary.pages = progress.pages
        summary.errors = progress.errors
        summary.seconds = time.monotonic() - started
    return summary


def _decide_reported(db, run_id: int, inputs: CrawlInputs, done: set, clock, period) -> None:
    """The form's figures need no fetch: decide them first, each stored like a link's verdict."""
    rows_of: dict[str, list[Report]] = {}
    for r in inputs.reports:
        rows_of.setdefault(r.agency_id, []).append(r)
    for task in plan_tasks(inputs.registry, inputs.reports, inputs.rulebook, kind="reported"):
        if task.key in done:
            continue
        verdict = decide_reported(task.agency.agency_id, task.criterion, task.report,
                                  rows_of.get(task.agency.agency_id, []), inputs.rulebook, clock())
        save_verdict(db, run_id, verdict, period)


def _crawl_pending(pending, store, options, warc_dir: Path, run_id: int, http_cache, progress, clock) -> str:
    """Run the Scrapy spider over the pending investigations in this process."""
    from scrapy.crawler import CrawlerProcess

    from crawler.spider import Job, VerifySpider, scrapy_settings
    from crawler.warc import WarcLog

    stamp = clock().strftime("%Y%m%dT%H%M%S")
    warc = WarcLog(warc_dir / f"run-{run_id}-{stamp}-{os.getpid()}.warc.gz")
    jobs = []
    for task, inv, checked_at in pending:
        def on_done(inv, task=task, checked_at=checked_at):
            store(task, inv, checked_at)
        jobs.append(Job(f"{task.agency.agency_id}/{task.criterion.id}", inv, on_done))
    process = CrawlerProcess({**scrapy_settings(options, http_cache=http_cache), "LOG_INSTALL_ROOT_HANDLER": False})
    process.crawl(VerifySpider, jobs=jobs, options=options, warc=warc, clock=clock, on_fetch=progress.fetched)
    try:
        process.start()
    finally:
        warc.close()
    unfinished = [job for job in jobs if not job.done]
    for job in unfinished:   # the engine stopped before an investigation ended: record what it saw
        job.inv.finished = True
        job.finish()
    return str(warc.path)


def _changes(db, run_id: int, rows: list[dict]) -> list[tuple[str, str, str, str]]:
    """Links whose status changed since the previous finished run."""
    prev = list(db["runs"].rows_where("status = 'done' and id < ?", [run_id], order_by="id desc", limit=1))
    if not prev:
        return []
    before = {(r["agency_id"], r["criterion"]): f"{r['status']}/{r['reason']}"
              for r in db["verdicts"].rows_where("run_id = ?", [prev[0]["id"]])}
    out = []
    for r in rows:
        key = (r["agency_id"], r["criterion"])
        now = f"{r['status']}/{r['reason']}"
        if key in before and before[key].split("/")[0] != r["status"]:
            out.append((key[0], key[1], before[key], now))
    return out


def _overrides_in_force(db, run_id: int, rows: list[dict]) -> list[tuple[str, str, str, str, bool]]:
    """Reviewers' decisions that still apply to this run, flagged where the machine now says otherwise."""
    from verifier.overrides import overrides_for_run

    machine = {(r["agency_id"], r["criterion"]): _Said(r["status"], r["reason"]) for r in rows}
    views = overrides_for_run(db, db["runs"].get(run_id), machine)
    return [(k[0], k[1], v.override.status, f"{v.machine_status}/{v.machine_reason}", v.machine_changed)
            for k, v in sorted(views.items())]


@dataclass(frozen=True)
class _Said:
    """What the machine said of a link (the part of a Verdict an override is compared with)."""
    status: str
    reason: str
