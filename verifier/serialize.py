"""Verdicts as plain JSON-ready dicts, in the shape of report.json (docs/outputs.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from crawler.content import CheckSeen
from crawler.records import ItemFinding, PageVisit, Post, Verdict


def _iso(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def post_dict(post: Post, period=None) -> dict:
    out = {
        "title": post.title, "url": post.url, "published": _iso(post.published),
        "updated": _iso(post.updated), "date_source": post.date_source,
    }
    if period is not None:
        out["in_period"] = post.within(period)
    return out


def page_dict(page: PageVisit) -> dict:
    return {k: _iso(v) for k, v in asdict(page).items()}


def item_dict(finding: ItemFinding) -> dict:
    """One item of a listed verdict with its evidence: the page and the row matched, or the pages searched."""
    item = finding.item
    out = {"number": item.number or None, "title": item.title or None, "issued": _iso(item.issued),
           "url": item.url, "status": finding.status}
    if finding.status == "found":
        out.update(found_on=finding.page_url, matched_text=finding.matched_text)
    else:
        out["searched"] = list(finding.searched)
    return out


def content_check_dict(check: CheckSeen) -> dict:
    return {"id": check.id or None, "label": check.label, "found": check.found, "page": check.page,
            "excerpt": check.excerpt or None}


def verdict_dict(verdict: Verdict, *, period=None, points=None, override=None, detail: bool = True) -> dict:
    """A verdict as report.json holds it (docs/outputs.md); `check --json` adds the `detail` sentence."""
    out = {
        "agency_id": verdict.agency_id,
        "criterion": verdict.criterion,
        "url": verdict.url,
        "checked_url": verdict.checked_url,
        "status": verdict.status,
        "reason": verdict.reason,
        "posts_in_year": verdict.posts_in_year,
        "discovered": verdict.discovered,
        "points": points,
        "override": override,
        "detail": verdict.detail,
        "content_checks": [content_check_dict(c) for c in verdict.content_checks],
        "evidence": {
            "pages": [page_dict(p) for p in verdict.pages],
            "posts": [post_dict(p, period) for p in verdict.posts],
            "fetched_at": _iso(verdict.checked_at),
        },
    }
    if verdict.items:        # a listed criterion: its items, each found or not (other verdicts keep their shape)
        out["evidence"]["items"] = [item_dict(f) for f in verdict.items]
        out = {**{k: out[k] for k in list(out)[:list(out).index("discovered") + 1]},
               "items_found": sum(f.status == "found" for f in verdict.items), "items_total": len(verdict.items),
               **{k: out[k] for k in list(out)[list(out).index("discovered") + 1:]}}
    if not detail:
        del out["detail"]
    return out
