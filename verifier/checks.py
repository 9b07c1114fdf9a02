"""A planned task's investigation and its verdict: what the crawl starts for each link and stores when it ends."""

from __future__ import annotations

import datetime as dt

from crawler.categories import CategoryMatcher
from crawler.links import investigate_link
from crawler.records import Verdict
from crawler.settings import MAX_RELATED_PAGES, RunOptions
from verifier.plan import Task
from verifier.verdict import make_verdict, verdict_without_fetch


def task_investigation(task: Task, matcher: CategoryMatcher, options: RunOptions):
    """The investigation of one task, or None when the row is marked not applicable."""
    report = task.report
    if report is not None and report.not_applicable:
        return None
    return investigate_link(task.criterion.id, task.url, scope=task.agency.scope, matcher=matcher, options=options,
                            allowed_hosts=task.criterion.allowed_hosts,
                            related_pages=MAX_RELATED_PAGES if task.criterion.content_rule else 0,
                            related_phrases=task.criterion.content_rule.phrases if task.criterion.content_rule else ())


def task_verdict(task: Task, inv, options: RunOptions, checked_at: dt.datetime) -> Verdict:
    """The verdict of a task from its finished investigation (None: the row is marked not applicable)."""
    report = task.report
    if inv is None:
        return verdict_without_fetch(task.agency.agency_id, task.criterion.id, url=task.url,
                                     not_applicable=True, note=report.note, checked_at=checked_at)
    return make_verdict(task.agency.agency_id, inv.outcome, options.period, reported_url=task.url or None,
                        min_posts=task.criterion.min_posts, content=task.criterion.content_rule,
                        checked_at=checked_at, agency_name=task.agency.agency_name)
