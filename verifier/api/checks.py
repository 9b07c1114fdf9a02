"""Spot-checks: one link judged as the crawl would, kept in the database, taken as a reviewer's decision."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from verifier.api.base import load_rulebook, now_utc, open_handle, resolve_period
from verifier.api.decisions import OverrideResult, apply_override
from verifier.errors import InputError

if TYPE_CHECKING:                 # the command line imports this package: the heavy ones load when called
    from crawler.records import Verdict
    from verifier.rulebook import Rulebook


class BadLink(InputError):
    """Cannot check the link"""


class BadCheck(InputError):
    """Cannot keep the spot-check"""


@dataclass(frozen=True)
class CheckResult:
    """One spot-check: its verdict, the period counted, the rulebook, how long it took, where its WARC is."""

    verdict: Verdict
    period: tuple[dt.date, dt.date]
    rulebook: Rulebook
    elapsed: float
    warc_path: Path | None


# ------------------------------------------------------------------------------------------------ spot-check

def check_link(url: str, criterion: str, *, year: int | None = None, period_start=None, period_end=None,
               agency_portal: str | None = None, rules: Path | str | Rulebook | None = None,
               allow_private: bool = False, ignore_robots: bool = False, timeout: float | None = None,
               warc_path: Path | None = None, render: str = "auto", items: Path | str | None = None,
               agency: tuple[str, str | None] | None = None) -> CheckResult:
    """Spot-check one link for a criterion, as the crawl would judge it. `agency` (id, registered name or
    None): whose link it is, so a page on an allowed host is judged the agency's own or not (with its name;
    None: the link alone), and a listed criterion looks for that agency's items of `items` (an items.csv: its
    rows of that criterion). Raises UnknownCriterion, MalformedDate, BadLink (an unusable URL), InputErrors
    (a bad items file)."""
    from crawler.categories import CategoryMatcher
    from crawler.settings import MAX_RELATED_PAGES, Limits, RunOptions
    from crawler.spotcheck import spot_check
    from crawler.urls import BadURL
    from verifier.rulebook import Rulebook
    from verifier.verdict import make_verdict

    started = time.monotonic()
    rulebook = rules if isinstance(rules, Rulebook) else load_rulebook(rules)
    spec = rulebook.criterion(criterion)
    period = resolve_period(rulebook, year, period_start, period_end)
    limits = Limits() if timeout is None else Limits(read_timeout=timeout, connect_timeout=min(timeout, 5.0))
    options = RunOptions(period=period, ignore_robots=ignore_robots, allow_private=allow_private, limits=limits,
                         render=render)
    info = None
    if warc_path is not None:
        from verifier import provenance

        info = provenance.build(rulebook=rulebook, options=options, started_at=dt.datetime.now(dt.UTC),
                                sample_url=url if "://" in url else f"http://{url}")
    listed = spec.kind == "listed"
    agency_id = agency[0] if agency else None
    found_items = _check_items(items, spec, agency_id, rulebook) if listed else None
    matcher = CategoryMatcher.from_rulebook(rulebook)
    extra = {}
    if listed:
        from verifier.checks import item_rule, listed_matcher

        matcher = listed_matcher(spec)
        extra = dict(items=found_items, item_rule=item_rule(spec), search_url=spec.search_url)
    try:
        inv, checked_at = spot_check(url, spec.id, matcher=matcher,
                                     options=options, agency_portal=agency_portal, warc_path=warc_path,
                                     provenance=info, allowed_hosts=spec.allowed_hosts,
                                     related_pages=MAX_RELATED_PAGES if spec.content_rule else 0,
                                     related_phrases=spec.content_rule.phrases if spec.content_rule else (),
                                     **extra)
    except BadURL as exc:
        raise BadLink(str(exc), column="URL", hint="give the link as http(s)://host/path") from None
    verdict = make_verdict(agency_id or "-", inv.outcome, period, reported_url=url, min_posts=spec.min_posts,
                           content=spec.content_rule, checked_at=checked_at, items=found_items,
                           scoring=spec.scoring or "proportional", agency_name=agency[1] if agency else None)
    return CheckResult(verdict, period, rulebook, time.monotonic() - started, warc_path)


def _check_items(path, spec, agency_id: str | None, rulebook) -> tuple:
    """The items of a listed criterion a spot-check looks for: the file's rows of that criterion (of one agency)."""
    if path is None:
        return ()
    from verifier.intake import load_items

    rows = [r for r in load_items(path, None, rulebook) if r.criterion == spec.id
            and (agency_id is None or r.agency_id == agency_id)]
    agencies = sorted({r.agency_id for r in rows})
    if len(agencies) > 1:
        raise BadLink(f"{path} lists items of {spec.id} for several agencies ({', '.join(agencies)})",
                      column="--agency", hint="name the agency whose items to look for: --agency ID")
    return tuple(r.item for r in rows)


@dataclass(frozen=True)
class StoredCheck:
    """A spot-check kept in the database, to be offered as the verdict of (agency, criterion)."""

    id: int
    at: dt.datetime
    by: str
    agency_id: str | None
    verdict: Verdict
    warc_file: str | None
    warc_offset: int | None
    period: tuple[dt.date, dt.date] | None = None


def store_check(db, result: CheckResult, by: str, *, agency_id: str | None = None,
                now: dt.datetime | None = None) -> StoredCheck:
    """Keep a spot-check with its evidence and the WARC record of the page it read. Raises BadCheck
    (no reviewer named), StoreError."""
    import json

    from verifier.serialize import verdict_dict
    from verifier.store import iso, parse_warc_ref, save_spot_check

    if not (by or "").strip():
        raise BadCheck("the reviewer's name is required", column="--by")
    clock = now or now_utc()
    v = result.verdict
    read = [p for p in v.pages if p.warc_record]
    listing = next((p for p in read if p.purpose == "listing"), read[0] if read else None)
    ref = parse_warc_ref(listing.warc_record) if listing else None
    warc_file = (str(result.warc_path) if result.warc_path else ref[0]) if ref else None   # the file check wrote
    as_dict = verdict_dict(v, period=result.period)
    evidence = {**as_dict["evidence"], "content_checks": as_dict["content_checks"]}
    check_id = save_spot_check(open_handle(db), {
        "at": iso(clock), "by": by.strip(), "url": v.url, "criterion": v.criterion, "agency_id": agency_id,
        "status": v.status, "reason": v.reason, "posts_in_year": v.posts_in_year, "checked_url": v.checked_url,
        "detail": v.detail, "period_start": iso(result.period[0]), "period_end": iso(result.period[1]),
        "evidence_json": json.dumps(evidence, ensure_ascii=False), "warc_file": warc_file,
        "warc_offset": ref[1] if ref else None,
    })
    return StoredCheck(check_id, clock, by.strip(), agency_id, v, warc_file, ref[1] if ref else None, result.period)




CHECK_NOTE = "Kiểm tra lại #{id}"         # opens the note of an override taken from a spot-check


def check_warc_file(db_path: Path | str) -> Path:
    """A new, empty WARC file for one spot-check: <db stem>-checks/check-<n>.warc.gz beside the database (the
    folder created on first use), n one above the highest there, reserved at once so two checks never share a
    file. Raises BadCheck when the folder cannot be written."""
    import re

    db_path = Path(db_path).resolve()
    folder = db_path.parent / f"{db_path.stem}-checks"
    try:
        folder.mkdir(exist_ok=True)
        numbers = [int(m.group(1)) for p in folder.iterdir() if (m := re.fullmatch(r"check-(\d+)\.warc\.gz", p.name))]
        n = max(numbers, default=0) + 1
        while True:
            path = folder / f"check-{n}.warc.gz"
            try:
                path.open("xb").close()
                return path
            except FileExistsError:
                n += 1
    except OSError as exc:
        raise BadCheck(f"cannot write {folder}: {exc.strerror or exc}", file=str(folder)) from None


def _check_from_row(row: dict) -> StoredCheck:
    import json

    from crawler.content import CheckSeen
    from crawler.records import Post, Verdict
    from verifier.store import moment, page_from_entry

    def day(text):
        return dt.date.fromisoformat(text) if text else None

    evidence = json.loads(row.get("evidence_json") or "{}")
    posts = tuple(Post(p.get("title") or "", p.get("url"), day(p.get("published")), day(p.get("updated")),
                       p.get("date_source")) for p in evidence.get("posts") or ())
    verdict = Verdict(agency_id=row.get("agency_id") or "-", criterion=row["criterion"], url=row.get("url"),
                      checked_url=row.get("checked_url"), status=row["status"], reason=row["reason"],
                      posts_in_year=row.get("posts_in_year"), detail=row.get("detail") or "",
                      pages=tuple(page_from_entry(p) for p in evidence.get("pages") or ()), posts=posts,
                      checked_at=moment(evidence.get("fetched_at")),
                      content_checks=tuple(CheckSeen(c.get("id") or "", c.get("label") or "", bool(c.get("found")),
                                                     c.get("page"), c.get("excerpt") or "")
                                           for c in evidence.get("content_checks") or ()))
    period = (day(row["period_start"]), day(row["period_end"])) if row.get("period_start") else None
    return StoredCheck(row["id"], moment(row["at"]), row["by"] or "", row.get("agency_id"),
                       verdict, row.get("warc_file"), row.get("warc_offset"), period)


def get_check(db, check_id: int) -> StoredCheck | None:
    """The spot-check kept under that id, its verdict and evidence as records; None when there is none."""
    from verifier.store import get_spot_check

    row = get_spot_check(open_handle(db, read_only=None), check_id)
    return _check_from_row(row) if row else None


def list_checks(db, limit: int = 50) -> list[StoredCheck]:
    """The latest spot-checks kept, newest first."""
    from verifier.store import list_spot_checks

    return [_check_from_row(r) for r in list_spot_checks(open_handle(db, read_only=None), limit)]


def use_check(db, check_id: int, note: str, by: str, *, run_id: int | None = None,
              now: dt.datetime | None = None) -> OverrideResult:
    """Take a spot-check as the reviewer's decision on its (agency, criterion) in the run (default: the latest):
    an override with the check's status, linked to the check, its note opened by "Kiểm tra lại #N". Raises
    BadCheck (no such check, or a check naming no agency), BadOverride (an empty note, a status the criterion
    does not allow) and what apply_override raises."""
    from verifier.overrides import BadOverride

    check = get_check(db, check_id)
    if check is None:
        raise BadCheck(f"spot-check #{check_id} is not in the database", column="CHECK")
    if not check.agency_id:
        raise BadCheck(f"spot-check #{check_id} names no agency", column="--agency")
    if not (note or "").strip():
        raise BadOverride("a note saying why is required", column="--note")
    return apply_override(db, check.agency_id, check.verdict.criterion, check.verdict.status,
                          f"{CHECK_NOTE.format(id=check_id)}: {note.strip()}", by, run_id=run_id, now=now,
                          spot_check_id=check_id)
