"""Verify planned tasks over the httpx path (spot-checks, and the demo without the crawl)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator

from crawler.categories import CategoryMatcher
from crawler.links import investigate_link
from crawler.records import Verdict
from crawler.settings import RunOptions
from verifier.plan import Task
from verifier.verdict import make_verdict, verdict_without_fetch


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def task_investigation(task: Task, matcher: CategoryMatcher, options: RunOptions):
    """The investigation of one task, or None when the row is marked not applicable."""
    report = task.report
    if report is not None and report.not_applicable:
        return None
    return investigate_link(task.criterion.id, task.url, scope=task.agency.scope, matcher=matcher, options=options)


def task_verdict(task: Task, inv, options: RunOptions, checked_at: dt.datetime) -> Verdict:
    report = task.report
    if inv is None:
        return verdict_without_fetch(task.agency.agency_id, task.criterion.id, url=task.url,
                                     not_applicable=True, note=report.note, checked_at=checked_at)
    return make_verdict(task.agency.agency_id, inv.outcome, options.period, reported_url=task.url or None,
                        min_posts=task.criterion.min_posts, checked_at=checked_at)


def check_tasks(tasks: Iterable[Task], matcher: CategoryMatcher, options: RunOptions,
                clock: Callable[[], dt.datetime] = _now) -> Iterator[Verdict]:
    """Verdicts of the tasks, one at a time, fetched through one httpx client."""
    from crawler.fetch import Fetcher          # here: the crawl imports this module, never httpx
    from crawler.spotcheck import run_investigation

    with Fetcher(options, clock=clock) as fetcher:
        for task in tasks:
            checked_at = clock()
            inv = task_investigation(task, matcher, options)
            if inv is not None:
                run_investigation(inv, fetcher)
            yield task_verdict(task, inv, options, checked_at)
