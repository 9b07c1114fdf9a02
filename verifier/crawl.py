"""The crawl run: inputs validated and stored, every link verified by the Scrapy spider, resumable.

A run is identified by the digest of its inputs (registry, reports, rulebook,
period, options). Running the same command after an interruption (Ctrl-C,
SIGTERM, even `kill -9`) resumes the unfinished run with those inputs: links
already verified are skipped, each finished link is stored in one transaction,
and the new process writes its own WARC file so a torn gzip member never
corrupts earlier evidence. A signal stops the crawl gracefully: a link not
finished by then stays without a verdict (never a verdict of half its pages),
the run stays unfinished and CrawlInterrupted says how far it got. A store that
cannot be written (disk full) stops the crawl the same way, with a StoreError.
A lock row in the database refuses a second crawl on the same file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from crawler.categories import CategoryMatcher
from crawler.settings import RunOptions
from verifier import provenance
from verifier.checks import task_investigation, task_verdict
from verifier.intake import Agency, ListedItem, Report, load_items, load_registry, load_reports
from verifier.overrides import overrides_for_run
from verifier.plan import Task, agencies_without_form, plan_tasks
from verifier.progress import Progress
from verifier.reported import decide_reported
from verifier.rulebook import Rulebook, load_rulebook
from verifier.store import (
    LOCK_BEAT_SECONDS,
    CrawlLocked,
    StoreError,
    agency_listing_posts,
    beat_lock,
    claim_lock,
    create_run,
    finish_run,
    get_run,
    iso,
    listed_verdicts,
    load_overrides,
    open_db,
    previous_finished_run,
    release_lock,
    resumable_run,
    run_provenance,
    run_years,
    save_verdict,
    update_listed_verdict,
    verdict_keys,
    verdict_outcomes,
)

__all__ = ["CrawlInterrupted", "CrawlLocked", "CrawlSummary", "EvidenceWriteError", "run_crawl"]


class EvidenceWriteError(StoreError):
    """Cannot write the WARC evidence"""


class CrawlInterrupted(Exception):
    """The crawl was stopped by a signal before every link was verified"""

    def __init__(self, run_id: int, signum: int, done: int, total: int):
        self.run_id, self.signum, self.done, self.total = run_id, signum, done, total
        super().__init__(f"run {run_id} stopped by {signal.Signals(signum).name}: {done}/{total} links verified")

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as a shell reports a process a signal ended (130 Ctrl-C, 143 SIGTERM)."""
        return 128 + self.signum


class _Signalled(BaseException):
    """A stop signal outside the Scrapy reactor (not an Exception: nothing may swallow it)."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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
    refused_results: int = 0       # results from the frontier (crawl --frontier) refused as not well formed
    # (agency, criterion, the reviewer's status, the machine verdict now, machine verdict changed since)

    @property
    def needs_attention(self) -> bool:
        return any(status == "review" or reason == "unreachable" for (status, reason) in self.counts)

    def closing_line(self) -> str:
        """The run in one line: its verdicts by status (the whole run's, a resumed one included), how many
        links were verified before a resume, and what this process fetched."""
        by_status: Counter = Counter()
        for (status, _), n in self.counts.items():
            by_status[status] += n
        parts = ", ".join(f"{by_status[s]} {s}" for s in ("pass", "fail", "review", "exempt") if s in by_status)
        resumed = (f"; resumed: {self.skipped} of {self.total} links verified before the resume, "
                   f"{self.total - self.skipped} since") if self.resumed else ""
        fetched = "pages fetched since the resume" if self.resumed else "pages fetched"
        return (f"{sum(by_status.values())} verdicts: {parts}{resumed}; {self.pages} {fetched}, {self.errors} errors, "
                f"{self.seconds:.1f}s" + (f"; evidence {self.warc_file}" if self.warc_file else "")
                + (f"; {self.refused_results} results from the frontier refused (not well formed)"
                   if self.refused_results else ""))


@dataclass(frozen=True)
class CrawlInputs:
    rulebook: Rulebook
    registry: dict[str, Agency]
    reports: list[Report]
    digest: str
    items: list[ListedItem] = field(default_factory=list)   # the lists' items (items.csv)

    def tasks(self) -> list[Task]:
        """The links to investigate: the website criteria's, then the lists'."""
        return (plan_tasks(self.registry, self.reports, self.rulebook)
                + plan_tasks(self.registry, self.reports, self.rulebook, kind="listed", items=self.items))


def load_inputs(agencies: Path, reports: Path, rules: Path, options: RunOptions, *, cache: str | None,
                items: Path | None = None) -> CrawlInputs:
    """Everything validated before the database is touched; raises InputError(s)."""
    rulebook = load_rulebook(rules)
    registry = load_registry(agencies, rulebook)
    rows = load_reports(reports, registry, rulebook)
    listed = load_items(items, registry, rulebook) if items is not None else []
    h = hashlib.sha256()
    for path in (agencies, reports, rules, *((items,) if items is not None else ())):
        h.update(Path(path).read_bytes())
    h.update(json.dumps([iso(options.period[0]), iso(options.period[1]), options.ignore_robots,
                         options.allow_private]).encode())
    return CrawlInputs(rulebook, registry, rows, h.hexdigest(), listed)


def _start_run(db, inputs: CrawlInputs, options: RunOptions, agencies: Path, reports: Path,
               warc_dir: Path, clock) -> tuple[int, bool]:
    """The unfinished run with the same inputs, or a new run with its inputs stored (one transaction)."""
    unfinished = resumable_run(db, inputs.digest)
    if unfinished is not None:
        return unfinished, True
    started = clock()
    sample = next((r.url for r in inputs.reports if r.url), None)
    run_id = create_run(
        db, started_at=started, rulebook=inputs.rulebook.source, year=inputs.rulebook.year, period=options.period,
        options={"ignore_robots": options.ignore_robots, "allow_private": options.allow_private},
        inputs_digest=inputs.digest, agencies_file=str(agencies), reports_file=str(reports),
        warc_dir=str(warc_dir), agencies=inputs.registry.values(), reports=inputs.reports,
        criteria=inputs.rulebook.criteria, items=inputs.items,
        provenance=provenance.build(rulebook=inputs.rulebook, options=options, started_at=started, sample_url=sample))
    return run_id, False


class _Stop:
    """What ends a crawl early: a signal (Ctrl-C, SIGTERM), or evidence that cannot be written.

    Outside the Scrapy reactor a first signal raises _Signalled; inside it, the first asks the crawl
    to stop gracefully and the second stops the reactor at once. Once anything stopped the crawl, no
    more verdicts are stored: a link finishing during the shutdown may rest on fetches the shutdown
    cut short, and stays without a verdict (the resumed run verifies it)."""

    def __init__(self):
        self.signum: int | None = None
        self.failure: StoreError | None = None
        self.graceful: Callable[[], None] | None = None      # set while the reactor runs
        self.hold = False          # Scrapy is being set up: note a signal, raise nothing (it would land in Twisted)
        self._saved: dict[int, object] = {}

    @property
    def stopped(self) -> bool:
        return self.signum is not None or self.failure is not None

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return                                            # signals reach the main thread only
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._saved[signum] = signal.signal(signum, self._on_signal)

    def restore(self) -> None:
        for signum, handler in self._saved.items():
            signal.signal(signum, handler)
        self._saved.clear()

    def _on_signal(self, signum, frame) -> None:
        first = self.signum is None
        if first:
            self.signum = signum
        if self.graceful is None:
            if self.hold:
                return             # the crawl is not started once it sees the signal
            raise _Signalled()
        from twisted.internet import reactor

        reactor.callFromThread(self.graceful if first else _stop_reactor)

    def fail(self, error: StoreError) -> None:
        """Stop the crawl because evidence cannot be written (called in the reactor's thread)."""
        if self.failure is None:
            self.failure = error
        if self.graceful is not None:
            from twisted.internet import reactor

            reactor.callLater(0, self.graceful)


def _stop_reactor() -> None:
    from twisted.internet import reactor

    try:
        reactor.stop()
    except Exception:        # already stopping
        pass


def run_crawl(agencies: Path, reports: Path, rules: Path, db_path: Path, options: RunOptions, *,
              warc_dir: Path | None = None, http_cache: str | None = None,
              progress_factory: Callable[[int, int], Progress] | None = None,
              clock: Callable[[], dt.datetime] = _now, frontier: str | None = None,
              lease_seconds: float | None = None, items: Path | None = None) -> CrawlSummary:
    """Validate, store, crawl every link not yet verified in this run, and summarise.

    With `frontier` (redis://HOST:PORT/DB) this process is the coordinator of a distributed crawl: the links
    go to Redis, workers (`portal-evidence worker`) investigate them, and this process stores what comes back
    (verifier.distributed); without it the spider runs here.

    Raises InputError (bad input), CrawlLocked, StoreError (the database or the WARC cannot be
    written: disk full, read-only), CrawlInterrupted (a signal stopped it; the run can be resumed)."""
    inputs = load_inputs(agencies, reports, rules, options, cache=http_cache, items=items)
    db_path = Path(db_path)
    warc_dir = Path(warc_dir) if warc_dir else db_path.with_name(db_path.stem + "-warc")
    started = time.monotonic()
    stop = _Stop()
    stop.install()
    run_id, tasks, progress = None, [], None
    try:
        db = open_db(db_path)
        token = claim_lock(db)
        try:
            tasks = inputs.tasks()
            run_id, resumed = _start_run(db, inputs, options, agencies, reports, warc_dir, clock)
            done = verdict_keys(db, run_id)
            _decide_reported(db, run_id, inputs, done, clock, options.period)
            todo = [t for t in tasks if t.key not in done]
            no_form = [a.agency_id for a in agencies_without_form(inputs.registry, inputs.reports)]
            summary = CrawlSummary(run_id=run_id, resumed=resumed, total=len(tasks), skipped=len(tasks) - len(todo),
                                   no_form=no_form)
            # the run's links, and those of them verified before: `done` also holds the form's figures
            progress = (progress_factory or (lambda total, done: Progress(total, done=done)))(
                summary.total, summary.skipped)
            matcher = CategoryMatcher.from_rulebook(inputs.rulebook)
            period = options.period

            def store(task: Task, inv, checked_at):
                if stop.stopped:
                    return                 # stopping: this link stays unfinished (see _Stop)
                verdict = task_verdict(task, inv, options, checked_at)
                try:
                    save_verdict(db, run_id, verdict, period)
                except StoreError as exc:
                    stop.fail(exc)
                    return
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
            if stop.failure is None and pending and frontier:
                from verifier.distributed import coordinate

                summary.warc_file, summary.refused_results = coordinate(
                    frontier, pending, store, options, matcher, _open_warc(
                        warc_dir, run_id, clock, stop, run_provenance(get_run(db, run_id))), progress, stop,
                    lambda: beat_lock(db, token), lease_seconds=lease_seconds)
            elif stop.failure is None and pending:
                summary.warc_file = _crawl_pending(pending, store, options, warc_dir, run_id, http_cache, progress,
                                                   clock, stop, lambda: beat_lock(db, token),
                                                   run_provenance(get_run(db, run_id)))
            if stop.failure is not None:
                raise stop.failure
            if stop.signum is not None:
                raise _Signalled()
            _recheck_lists(db, run_id, inputs)
            finish_run(db, run_id, clock())
            stop.hold = True               # done: a signal now changes nothing, the summary follows
        except StoreError as exc:
            if run_id is not None:          # the links stored so far stay; the rest are crawled on resume
                exc.hint = (f"{exc.hint}, then" if exc.hint else "") \
                    + f" run the same command again to resume run {run_id}"
            raise
        finally:
            if progress is not None:
                progress.close()
            try:
                release_lock(db, token)
            except StoreError:
                pass       # (disk full) the row stays, and is stale once this process has ended
        outcomes = verdict_outcomes(db, run_id)
        summary.counts = Counter(outcomes.values())
        summary.changes = _changes(db, run_id, outcomes)
        summary.overrides = _overrides_in_force(db, run_id, outcomes)
        summary.pages = progress.pages
        summary.errors = progress.errors
        summary.seconds = time.monotonic() - started
        return summary
    except _Signalled:
        signum = stop.signum or signal.SIGINT
        verified = verdict_keys(db, run_id) if run_id is not None else set()
        raise CrawlInterrupted(run_id or 0, signum, sum(t.key in verified for t in tasks), len(tasks)) from None
    finally:
        stop.restore()


def _recheck_lists(db, run_id: int, inputs: CrawlInputs) -> None:
    """Once every link is verified: a list's items not found are looked for among the posts of the agency's
    other listings the crawl read (verifier.verdict.with_other_listings), the last place they may be."""
    from verifier.checks import item_rule
    from verifier.verdict import with_other_listings

    listed = {c.id: c for c in inputs.rulebook.listed_criteria()}
    others = [c.id for c in inputs.rulebook.website_criteria()]
    for verdict in listed_verdicts(db, run_id, listed):
        criterion = listed[verdict.criterion]
        if verdict.reason != "items_missing":
            continue
        posts = agency_listing_posts(db, run_id, verdict.agency_id, others)
        again = with_other_listings(verdict, posts, item_rule(criterion), criterion.scoring or "proportional")
        if again is not verdict:
            update_listed_verdict(db, run_id, again)


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


class _GuardedWarc:
    """The run's WarcLog, whose write failures (disk full) stop the crawl instead of ending in a
    spider error: the fetch goes on without a record and no verdict is stored after it."""

    def __init__(self, warc, stop: _Stop):
        self._warc, self._stop = warc, stop
        self.path = warc.path

    def log(self, fetch, **kwargs):
        if self._stop.failure is not None:
            return None
        try:
            return self._warc.log(fetch, **kwargs)
        except OSError as exc:
            self._stop.fail(EvidenceWriteError(exc.strerror or str(exc), file=str(self.path),
                                               hint="free some disk space"))
            return None

    def close(self) -> None:
        try:
            self._warc.close()
        except OSError as exc:
            self._stop.fail(EvidenceWriteError(exc.strerror or str(exc), file=str(self.path)))


def _open_warc(warc_dir: Path, run_id: int, clock, stop: _Stop, run_info: dict | None) -> _GuardedWarc:
    """This process's WARC file of the run (its own: a resumed run never appends to a torn file)."""
    from crawler.warc import WarcLog

    stamp = clock().strftime("%Y%m%dT%H%M%S")
    path = warc_dir / f"run-{run_id}-{stamp}-{os.getpid()}.warc.gz"
    try:
        return _GuardedWarc(WarcLog(path, provenance=run_info, part_of=f"portal-evidence run {run_id}"), stop)
    except OSError as exc:
        raise EvidenceWriteError(exc.strerror or str(exc), file=str(path),
                                 hint="check the WARC folder (--warc-dir) and the free disk space") from None


def _crawl_pending(pending, store, options, warc_dir: Path, run_id: int, http_cache, progress, clock,
                   stop: _Stop, heartbeat: Callable[[], None], run_info: dict | None = None) -> str:
    """Run the Scrapy spider over the pending investigations in this process (its WARC file opens with
    the run's provenance, `run_info`)."""
    from scrapy.crawler import CrawlerProcess

    from crawler.spider import Job, VerifySpider, scrapy_settings

    warc = _open_warc(warc_dir, run_id, clock, stop, run_info)
    jobs = []
    for task, inv, checked_at in pending:
        def on_done(inv, task=task, checked_at=checked_at):
            store(task, inv, checked_at)
        jobs.append(Job(f"{task.agency.agency_id}/{task.criterion.id}", inv, on_done))

    def beat():
        try:
            heartbeat()
        except StoreError as exc:
            stop.fail(exc)

    beating = None
    stop.hold = True
    try:
        process = CrawlerProcess({**scrapy_settings(options, http_cache=http_cache), "LOG_INSTALL_ROOT_HANDLER": False})
        process.crawl(VerifySpider, jobs=jobs, options=options, warc=warc, clock=clock, on_fetch=progress.fetched)
        from twisted.internet import task as twisted_task  # after the crawl set up Scrapy's reactor

        beating = twisted_task.LoopingCall(beat)
        beating.start(LOCK_BEAT_SECONDS, now=False)
        stop.graceful = process.stop
        if stop.signum is None:
            process.start(install_signal_handlers=False)      # our _Stop handles the signals
    finally:
        stop.graceful, stop.hold = None, False
        if beating is not None and beating.running:
            beating.stop()
        warc.close()
    if stop.stopped:
        return str(warc.path)     # the links not finished stay unfinished: the run is resumed later
    unfinished = [job for job in jobs if not job.done]
    for job in unfinished:   # the engine stopped before an investigation ended: record what it saw
        job.inv.finished = True
        job.finish()
    return str(warc.path)


def _changes(db, run_id: int, outcomes: dict[tuple[str, str], tuple[str, str]]) -> list[tuple[str, str, str, str]]:
    """Links whose status changed since the previous finished run."""
    prev = previous_finished_run(db, run_id)
    if prev is None:
        return []
    before = {key: f"{status}/{reason}" for key, (status, reason) in verdict_outcomes(db, prev).items()}
    out = []
    for key, (status, reason) in sorted(outcomes.items()):
        if key in before and before[key].split("/")[0] != status:
            out.append((key[0], key[1], before[key], f"{status}/{reason}"))
    return out


def _overrides_in_force(db, run_id: int, outcomes: dict[tuple[str, str], tuple[str, str]]
                        ) -> list[tuple[str, str, str, str, bool]]:
    """Reviewers' decisions that still apply to this run, flagged where the machine now says otherwise."""
    machine = {key: _Said(status, reason) for key, (status, reason) in outcomes.items()}
    views = overrides_for_run(load_overrides(db), run_years(db), get_run(db, run_id), machine)
    return [(k[0], k[1], v.override.status, f"{v.machine_status}/{v.machine_reason}", v.machine_changed)
            for k, v in sorted(views.items())]


@dataclass(frozen=True)
class _Said:
    """What the machine said of a link (the part of a Verdict an override is compared with)."""
    status: str
    reason: str
