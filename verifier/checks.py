"""A planned task's investigation and its verdict: what the crawl starts for each link and stores when it ends."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from crawler.categories import CategoryMatcher, CategorySpec
from crawler.items import ItemRule
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
    criterion = task.criterion
    if task.agency.render:      # the registry's render mode for this portal goes before the run's
        options = replace(options, render=task.agency.render)
    if criterion.kind == "listed":
        return investigate_link(criterion.id, task.url, scope=task.agency.scope, matcher=listed_matcher(criterion),
                                options=options, items=task.items, item_rule=item_rule(criterion),
                                search_url=criterion.search_url)
    return investigate_link(criterion.id, task.url, scope=task.agency.scope, matcher=matcher, options=options,
                            allowed_hosts=criterion.allowed_hosts,
                            related_pages=MAX_RELATED_PAGES if criterion.content_rule else 0,
                            related_phrases=criterion.content_rule.phrases if criterion.content_rule else ())


def listed_matcher(criterion) -> CategoryMatcher:
    """A listed criterion's category is recognised by its own aliases and keywords alone: it shares its words
    with the website criterion whose category it is (legal documents sit in "Văn bản quy phạm pháp luật")."""
    return CategoryMatcher([CategorySpec(criterion.id, criterion.aliases, criterion.keywords,
                                         criterion.weak_keywords)])


def item_rule(criterion) -> ItemRule:
    return ItemRule(criterion.match or "title", criterion.title_threshold)


def task_verdict(task: Task, inv, options: RunOptions, checked_at: dt.datetime) -> Verdict:
    """The verdict of a task from its finished investigation (None: the row is marked not applicable)."""
    report = task.report
    if inv is None:
        return verdict_without_fetch(task.agency.agency_id, task.criterion.id, url=task.url,
                                     not_applicable=True, note=report.note, checked_at=checked_at)
    listed = task.criterion.kind == "listed"
    return make_verdict(task.agency.agency_id, inv.outcome, options.period, reported_url=task.url or None,
                        min_posts=task.criterion.min_posts, content=task.criterion.content_rule,
                        checked_at=checked_at, items=task.items if listed else None,
                        scoring=task.criterion.scoring or "proportional", agency_name=task.agency.agency_name)
