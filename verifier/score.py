"""Points, totals, levels and ranks per group, from verdicts, reports and overrides.

Per criterion (SPEC.md §4, DOMAIN.md "Scoring and ranking conventions"):
- website `pass`: the criterion's points, or the share of the highest grade
  the posts in the period reach when the rulebook grades it;
- `exempt` (not applicable, explained): full points;
- `fail`: 0;
- `review`: 0, listed as pending until a reviewer decides;
- reported `pass`/`scored`: points by the rulebook's formula;
- a reviewer's override wins over the machine verdict.
Per agency: total against the group's maximum, percent, level, and the rank
within the group (ties share a rank: 1, 2, 2, 4). A form that arrived after the
deadline, or never, is not scored or ranked; the reason is listed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from crawler.records import PageVisit, Post, Verdict
from verifier.errors import InputError
from verifier.intake import Report, parse_day
from verifier.overrides import OverrideView, overrides_for_run
from verifier.reported import (
    BadFigure, decide_reported, other_value, read_value, reported_points, score_reported,
)
from verifier.rulebook import DEFAULT_RULEBOOK, RULES_DIR, Criterion, Rulebook, load_rulebook
from verifier.store import iso, post_from_row
from verifier.verdict import EXEMPT, FAIL, PASS, REVIEW

NOT_RANKED_LATE = "late"
NOT_RANKED_NO_FORM = "no_form"
NOT_CHECKED = "not_checked"       # a website criterion the run holds no verdict for


class NoRun(InputError):
    """No crawl run to work on"""


@dataclass(frozen=True)
class AgencyInfo:
    agency_id: str
    agency_name: str
    group: str


@dataclass(frozen=True)
class CriterionPoints:
    agency_id: str
    criterion: str
    points: float
    max_points: float
    status: str            # the status that scored: the override's where there is one
    reason: str            # the machine reason
    basis: str             # how the points came about, in words
    pending: bool = False  # a review verdict nobody has decided yet
    overridden: bool = False


@dataclass(frozen=True)
class AgencyScore:
    agency_id: str
    agency_name: str
    group: str
    score: float | None            # None when not ranked (late or no form): not scored
    max_score: float
    percent: float | None
    level: str | None
    rank: int | None
    ranked: bool
    late: bool
    not_ranked_reason: str | None  # "late" | "no_form"
    not_ranked_detail: str = ""
    submitted_at: dt.date | None = None
    pending: int = 0               # review verdicts waiting for a reviewer
    points: tuple[CriterionPoints, ...] = ()
    total: float = 0.0             # the points earned, also for an agency that is not ranked


@dataclass(frozen=True)
class RunData:
    """Everything one run holds, as records: the machine verdicts of every (agency, criterion) of its group."""

    run: dict
    rulebook: Rulebook
    period: tuple[dt.date, dt.date]
    agencies: tuple[AgencyInfo, ...]
    reports: tuple[Report, ...]
    verdicts: tuple[Verdict, ...]
    page_fetch_ids: Mapping[tuple[str, str], tuple[int | None, ...]]
    computed: frozenset[tuple[str, str]]       # verdicts computed here (not stored by the crawl)
    overrides: Mapping[tuple[str, str], OverrideView]

    def verdict_map(self) -> dict[tuple[str, str], Verdict]:
        return {(v.agency_id, v.criterion): v for v in self.verdicts}


# ---------------------------------------------------------------------------------------------- per criterion

def _r2(x: float) -> float:
    return round(x + 0.0, 2)


def _fmt(x: float) -> str:
    return f"{x:g}"


def website_points(criterion: Criterion, posts_in_year: int | None) -> tuple[float, str]:
    """Points of a passing website criterion: full, or the share of the highest grade reached."""
    if not criterion.grades:
        return criterion.points, f"pass: {_fmt(criterion.points)}/{_fmt(criterion.points)}"
    if posts_in_year is None:
        return criterion.points, f"pass (posts not counted): {_fmt(criterion.points)}/{_fmt(criterion.points)}"
    grade = next((g for g in criterion.grades if posts_in_year >= g.min_posts), None)
    if grade is None:
        return 0.0, f"{posts_in_year} post(s), below the lowest grade: 0/{_fmt(criterion.points)}"
    pts = _r2(criterion.points * grade.share)
    return pts, f"{posts_in_year} post(s), grade from {grade.min_posts}: {_fmt(pts)}/{_fmt(criterion.points)}"


def _reported_pass_points(criterion, report, reports_of_agency, rulebook) -> tuple[float, str]:
    """Points of a reported criterion a reviewer passed: the formula on the value where it reads
    (capped at the criterion's points), else full points."""
    text = (report.value or "").strip() if report else ""
    try:
        value = read_value(criterion, text)
        whole = _whole(criterion, reports_of_agency, rulebook) if criterion.of else None
        if criterion.of and whole is None:
            raise BadFigure("no whole to take the rate of")
    except BadFigure:
        return criterion.points, "full points"
    return _r2(reported_points(criterion, value, whole)), "by the formula on the reported value"


def _whole(criterion, reports_of_agency, rulebook) -> float | None:
    """The reported whole a rate is taken of, when it is a positive number."""
    whole = other_value(reports_of_agency, criterion.of, rulebook)
    return whole if whole is not None and whole > 0 else None


def criterion_points(criterion: Criterion, verdict: Verdict, override: OverrideView | None,
                     report: Report | None, reports_of_agency: Iterable[Report], rulebook: Rulebook) -> CriterionPoints:
    """The points one verdict earns, the override winning over the machine."""
    reports_of_agency = list(reports_of_agency)
    status = override.override.status if override else verdict.status
    by = ""
    if override:
        o = override.override
        by = f" (override by {o.by} at {iso(o.at)}: {o.note})"
    if status == EXEMPT:
        pts, basis = criterion.points, "exempt: full points"
    elif status == FAIL:
        pts, basis = 0.0, f"{verdict.reason if not override else 'fail'}: 0 points"
    elif status == REVIEW:
        pts, basis = 0.0, f"pending review ({verdict.reason}): 0 points until a reviewer decides"
    elif criterion.is_reported:
        if override is None and verdict.reason == "scored":
            pts, basis = score_reported(criterion, report.value, reports_of_agency, rulebook)
            pts = _r2(pts)
        else:
            pts, how = _reported_pass_points(criterion, report, reports_of_agency, rulebook)
            basis = f"pass: {how}: {_fmt(pts)}/{_fmt(criterion.points)}"
    else:
        count = verdict.posts_in_year if verdict.posts_in_year else None
        pts, basis = website_points(criterion, count)
    return CriterionPoints(verdict.agency_id, criterion.id, _r2(pts), criterion.points, status, verdict.reason,
                           basis + by, pending=status == REVIEW, overridden=override is not None)


# ------------------------------------------------------------------------------------------------ per agency

def level_for(percent: float, rulebook: Rulebook) -> str | None:
    """The first level (highest first) whose minimum the percent reaches."""
    return next((lv.name for lv in sorted(rulebook.levels, key=lambda lv: -lv.min) if percent >= lv.min), None)


def competition_ranks(scores: Mapping[str, float]) -> dict[str, int]:
    """Rank by score, highest first; ties share a rank and the next rank skips (1, 2, 2, 4)."""
    values = sorted(scores.values(), reverse=True)
    return {key: 1 + sum(1 for v in values if v > score) for key, score in scores.items()}


def verdict_for_period(verdict: Verdict, period: tuple[dt.date, dt.date], min_posts: int) -> Verdict:
    """A website verdict re-judged for another evaluation period from the posts the crawl read.

    Only verdicts decided by counting dated posts change (ok / no_posts_in_year)."""
    if verdict.reason not in ("ok", "no_posts_in_year") or not verdict.posts:
        return verdict
    n = sum(1 for p in verdict.posts if p.within(period))
    span = f"{period[0].isoformat()}..{period[1].isoformat()}"
    if n >= min_posts:
        return replace(verdict, status=PASS, reason="ok", posts_in_year=n, detail=f"{n} post(s) dated within {span}")
    return replace(verdict, status=FAIL, reason="no_posts_in_year", posts_in_year=n,
                   detail=f"{n} post(s) dated within {span}, {min_posts} required")


def score_agencies(rulebook: Rulebook, agencies: Iterable[AgencyInfo], reports: Iterable[Report],
                   verdicts: Iterable[Verdict], overrides: Mapping[tuple[str, str], OverrideView] | None = None,
                   *, checked_at: dt.datetime | None = None) -> list[AgencyScore]:
    """Score and rank every agency; pure. Returns the agencies in input order.

    A criterion of the agency's group without a verdict is decided here when it is reported
    (from the report rows), and listed as pending (`not_checked`) when it is a website one."""
    overrides = overrides or {}
    agencies = list(agencies)
    reports = list(reports)
    by_agency: dict[str, list[Report]] = {}
    for r in reports:
        by_agency.setdefault(r.agency_id, []).append(r)
    vmap = {(v.agency_id, v.criterion): v for v in verdicts}
    interim: list[AgencyScore] = []
    for agency in agencies:
        rows = by_agency.get(agency.agency_id, [])
        rmap = {r.criterion: r for r in rows}
        cps = []
        for criterion in rulebook.criteria_for(agency.group) if rows else ():   # no form: nothing to score
            verdict = vmap.get((agency.agency_id, criterion.id)) or missing_verdict(
                agency.agency_id, criterion, rmap.get(criterion.id), rows, rulebook, checked_at)
            cps.append(criterion_points(criterion, verdict, overrides.get((agency.agency_id, criterion.id)),
                                        rmap.get(criterion.id), rows, rulebook))
        total = _r2(sum(cp.points for cp in cps))
        maximum = rulebook.max_points(agency.group)
        dates = [r.submitted_at for r in rows if r.submitted_at]
        submitted = max(dates) if dates else None
        late = submitted is not None and submitted > rulebook.deadline
        reason, detail = None, ""
        if not rows:
            reason, detail = NOT_RANKED_NO_FORM, "no form received"
        elif late:
            reason = NOT_RANKED_LATE
            detail = f"form received {submitted.isoformat()}, after the deadline {rulebook.deadline.isoformat()}"
        ranked = reason is None
        percent = _r2(100.0 * total / maximum) if ranked and maximum else (0.0 if ranked else None)
        interim.append(AgencyScore(
            agency.agency_id, agency.agency_name, agency.group,
            score=total if ranked else None, max_score=maximum, percent=percent,
            level=level_for(percent, rulebook) if ranked else None, rank=None, ranked=ranked, late=late,
            not_ranked_reason=reason, not_ranked_detail=detail, submitted_at=submitted,
            pending=sum(cp.pending for cp in cps), points=tuple(cps), total=total))
    out = []
    for group in dict.fromkeys(a.group for a in interim):
        ranks = competition_ranks({a.agency_id: a.score for a in interim if a.group == group and a.ranked})
        out_group = {a.agency_id: replace(a, rank=ranks.get(a.agency_id)) for a in interim if a.group == group}
        out.extend(out_group.values())
    order = {a.agency_id: i for i, a in enumerate(agencies)}
    return sorted(out, key=lambda a: order[a.agency_id])


def missing_verdict(agency_id: str, criterion: Criterion, report: Report | None, rows: list[Report],
                    rulebook: Rulebook, checked_at: dt.datetime | None) -> Verdict:
    """A verdict for a criterion the run did not decide: reported ones from the form, website ones pending."""
    if criterion.is_reported:
        return decide_reported(agency_id, criterion, report, rows, rulebook, checked_at)
    return Verdict(agency_id=agency_id, criterion=criterion.id, url=(report.url or None) if report else None,
                   checked_url=None, status=REVIEW, reason=NOT_CHECKED, posts_in_year=None,
                   detail="this run holds no verdict for this link", checked_at=checked_at)


def ranking_order(scores: Iterable[AgencyScore]) -> list[AgencyScore]:
    """Ranked agencies by rank (then id), then the agencies not ranked (by id)."""
    scores = list(scores)
    ranked = sorted((s for s in scores if s.ranked), key=lambda s: (s.rank, s.agency_id))
    rest = sorted((s for s in scores if not s.ranked), key=lambda s: s.agency_id)
    return ranked + rest


# ------------------------------------------------------------------------------------------------ database

def resolve_rulebook(run: dict | None, rules: Path | str | None = None) -> Rulebook:
    """The rulebook named on the command line, else the run's, else the default."""
    if rules:
        return load_rulebook(rules)
    name = (run or {}).get("rulebook")
    if name:
        for candidate in (Path(name), RULES_DIR / name, RULES_DIR / f"{name}.yaml", RULES_DIR / Path(name).name):
            if candidate.is_file():
                return load_rulebook(candidate)
    return load_rulebook(DEFAULT_RULEBOOK)


def rulebook_label(rulebook: Rulebook) -> str:
    """The rulebook as exports name it: a path relative to the project when it lives there."""
    source = Path(rulebook.source)
    try:
        return source.resolve().relative_to(RULES_DIR.parent).as_posix()
    except ValueError:
        return str(source)


def pick_run(db, run_id: int | None = None) -> dict:
    """The run asked for, else the latest. Raises NoRun."""
    if run_id is not None:
        row = next(iter(db["runs"].rows_where("id = ?", [run_id])), None)
        if row is None:
            raise NoRun(f"run {run_id} is not in the database", column="--run")
        return row
    row = next(iter(db["runs"].rows_where(order_by="id desc", limit=1)), None)
    if row is None:
        raise NoRun("the database holds no run", hint="run `portal-evidence crawl` first")
    return row


def _dt(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _day(text: str | None) -> dt.date | None:
    try:
        return parse_day(text or "")
    except ValueError:
        return None


PAGE_FIELDS = ("url", "final_url", "purpose", "status", "fetched_at", "error", "kind", "category",
               "category_label", "posts", "warc_record", "digest")


def _page(entry: dict) -> PageVisit:
    values = {k: entry.get(k) for k in PAGE_FIELDS}
    values["fetched_at"] = _dt(values["fetched_at"])
    values["posts"] = values["posts"] or 0
    values["url"] = values["url"] or ""
    values["final_url"] = values["final_url"] or values["url"]
    values["purpose"] = values["purpose"] or ""
    return PageVisit(**values)


def report_from_row(row: dict) -> Report:
    return Report(row["agency_id"], row["criterion"], row.get("url") or "", row.get("value") or "",
                  bool(row.get("not_applicable")), row.get("note") or "", _day(row.get("submitted_at")),
                  row.get("source") or "")


def load_run(db, run_id: int | None = None, *, rulebook: Rulebook | None = None,
             period: tuple[dt.date, dt.date] | None = None) -> RunData:
    """The run's agencies, reports and verdicts (with posts and pages) as records, and the overrides in force.

    Criteria the run did not decide get a verdict here (reported ones from the form); with a
    period other than the run's, website verdicts are re-judged from the posts read."""
    run = pick_run(db, run_id)
    rulebook = rulebook or resolve_rulebook(run)
    run_period = (_day(run.get("period_start")) or rulebook.period[0], _day(run.get("period_end")) or rulebook.period[1])
    period = tuple(period) if period else run_period
    rid = run["id"]
    agencies = tuple(AgencyInfo(r["agency_id"], r["agency_name"] or "", r["group"] or "")
                     for r in db.query("select * from agencies where run_id = ? order by rowid", [rid]))
    reports = tuple(report_from_row(r) for r in db.query(
        "select * from reports where run_id = ? order by rowid", [rid]))
    posts: dict[tuple[str, str], list[Post]] = {}
    for row in db.query("select * from posts where run_id = ? order by id", [rid]):
        posts.setdefault((row["agency_id"], row["criterion"]), []).append(post_from_row(row))
    stored: dict[tuple[str, str], Verdict] = {}
    fetch_ids: dict[tuple[str, str], tuple[int | None, ...]] = {}
    for row in db.query("select * from verdicts where run_id = ?", [rid]):
        key = (row["agency_id"], row["criterion"])
        evidence = json.loads(row["evidence"] or "{}")
        pages = evidence.get("pages") or []
        fetch_ids[key] = tuple(p.get("fetch_id") for p in pages)
        verdict = Verdict(
            agency_id=row["agency_id"], criterion=row["criterion"], url=row["url"], checked_url=row["checked_url"],
            status=row["status"], reason=row["reason"], posts_in_year=row["posts_in_year"],
            discovered=bool(row["discovered"]), detail=row["detail"] or "", pages=tuple(_page(p) for p in pages),
            posts=tuple(posts.get(key, ())), checked_at=_dt(row["checked_at"]))
        criterion = rulebook.by_id.get(verdict.criterion)
        if criterion is not None and criterion.kind == "website" and period != run_period:
            verdict = verdict_for_period(verdict, period, criterion.min_posts)
        stored[key] = verdict
    by_agency: dict[str, list[Report]] = {}
    for r in reports:
        by_agency.setdefault(r.agency_id, []).append(r)
    checked_at = _dt(run.get("finished_at")) or _dt(run.get("started_at"))
    verdicts, computed = [], set()
    for agency in agencies:
        rows = by_agency.get(agency.agency_id, [])
        rmap = {r.criterion: r for r in rows}
        for criterion in rulebook.criteria_for(agency.group) if rows else ():   # no form: not verified
            key = (agency.agency_id, criterion.id)
            verdict = stored.pop(key, None)
            if verdict is None:
                verdict = missing_verdict(agency.agency_id, criterion, rmap.get(criterion.id), rows, rulebook,
                                          checked_at)
                computed.add(key)
            verdicts.append(verdict)
    verdicts.extend(stored.values())     # verdicts of criteria the rulebook no longer lists: kept for the audit
    vmap = {(v.agency_id, v.criterion): v for v in verdicts}
    return RunData(run, rulebook, period, agencies, reports, tuple(verdicts), fetch_ids, frozenset(computed),
                   overrides_for_run(db, run, vmap))


def score_run(data: RunData, *, checked_at: dt.datetime | None = None) -> list[AgencyScore]:
    """Scores of a loaded run (pure over the loaded records)."""
    known = [v for v in data.verdicts if v.criterion in data.rulebook.by_id]
    return score_agencies(data.rulebook, data.agencies, data.reports, known, data.overrides, checked_at=checked_at)


def save_scores(db, data: RunData, scores: list[AgencyScore], *, scored_at: dt.datetime) -> None:
    """Replace the run's scores and criterion points in one transaction, naming the rulebook and the period
    they came from (a re-score with another period replaces them, and says so)."""
    rid = data.run["id"]
    label = rulebook_label(data.rulebook)
    with db.conn:
        db.execute("delete from scores where run_id = ?", [rid])
        db.execute("delete from criterion_points where run_id = ?", [rid])
        db["scores"].insert_all([{
            "run_id": rid, "agency_id": s.agency_id, "group": s.group, "score": s.score, "max_score": s.max_score,
            "percent": s.percent, "level": s.level, "rank": s.rank, "ranked": int(s.ranked), "late": int(s.late),
            "not_ranked_reason": s.not_ranked_reason, "rulebook": label, "scored_at": iso(scored_at),
            "period_start": iso(data.period[0]), "period_end": iso(data.period[1]),
        } for s in scores])
        db["criterion_points"].insert_all([{
            "run_id": rid, "agency_id": cp.agency_id, "criterion": cp.criterion, "points": cp.points,
            "max_points": cp.max_points, "status": cp.status, "reason": cp.reason, "basis": cp.basis,
        } for s in scores for cp in s.points])
