"""The provenance of a run in Vietnamese, as the HTML footer and the workbook's "Thông tin lần chạy" show it.

Values are plain text, some of them untrusted (the command line may hold anything a shell passes): each
writer shows them through verifier.export.safe_text. A run made before provenance was recorded shows
"không rõ" for what it did not record; its start, end and period come from the run's own row.
"""

from __future__ import annotations

import datetime as dt

from verifier.export import labels as L
from verifier.export.audit import Audit


def _version(prov: dict) -> str:
    version = prov.get("version")
    if not version:
        return L.UNKNOWN
    revision = prov.get("git_revision")
    return f"{version} (git {revision})" if revision else str(version)


def _rulebook(prov: dict, audit: Audit) -> str:
    book = prov.get("rulebook") or {}
    if not book:
        return L.UNKNOWN
    name = book.get("title") or audit.rulebook.title
    file = f" ({book['file']})" if book.get("file") else ""
    digest = book.get("sha256") or L.UNKNOWN
    return f"{name}{file}; sha256: {digest}"


def _period(prov: dict, audit: Audit) -> str:
    period = prov.get("period") or [audit.data.run.get("period_start"), audit.data.run.get("period_end")]
    if not all(period):
        return L.UNKNOWN
    return f"{_day(period[0])} – {_day(period[1])}"


def _day(text: str) -> str:
    try:
        return L.vn_date(dt.date.fromisoformat(str(text)))
    except ValueError:
        return str(text)


def _yes_no(value) -> str:
    return L.UNKNOWN if value is None else (L.YES if value else L.NO)


def run_facts(audit: Audit) -> list[tuple[str, str]]:
    """(label, value) pairs, in the order they are shown."""
    prov = audit.provenance
    run = audit.data.run
    started = prov.get("started_at") or run.get("started_at")
    finished = prov.get("finished_at") or run.get("finished_at")
    robots = prov.get("robots")
    allow_private = prov.get("allow_private")
    return [
        (L.RUN, str(audit.run_id)),
        (L.TOOL, prov.get("tool") or L.UNKNOWN),
        (L.VERSION, _version(prov)),
        ("Python", prov.get("python") or L.UNKNOWN),
        (L.COMMAND, prov.get("command") or L.UNKNOWN),
        (L.USER_AGENT, prov.get("user_agent") or L.UNKNOWN),
        (L.RULEBOOK, _rulebook(prov, audit)),
        (L.PERIOD, _period(prov, audit)),
        (L.PROXY, _yes_no(prov.get("proxy"))),
        (L.ROBOTS, L.ROBOTS_POLICY.get(robots, robots) if robots else L.UNKNOWN),
        (L.ALLOW_PRIVATE, L.ALLOW_PRIVATE_VALUE.get(allow_private, L.UNKNOWN)
         if allow_private is not None else L.UNKNOWN),
        (L.STARTED, L.vn_moment(started) if started else L.UNKNOWN),
        (L.FINISHED, L.vn_moment(finished) if finished else L.NOT_FINISHED),
    ]
