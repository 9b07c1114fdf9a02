"""Points, totals, levels and ranks per group, from verdicts, reports and overrides.

Per criterion (docs/verdicts.md, "Scores and ranks"):
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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from crawler.records import Verdict
from verifier.intake import Report
from verifier.overrides import Override, OverrideView, overrides_for_run, withdrawn_for_run
from verifier.reported import (
    BadFigure,
    decide_reported,
    other_value,
    read_value,
    reported_points,
    score_reported,
)
from verifier.rulebook import DEFAULT_RULEBOOK, RULES_DIR, Criterion, Rulebook, load_rulebook, rulebook_name
from verifier.store import AgencyInfo, StoredRun, iso
from verifier.verdict import COUNTED, EXEMPT, FAIL, REVIEW, judge_posts

NOT_RANKED_LATE = "late"
NOT_RANKED_NO_FORM = "no_form"
NOT_CHECKED = "not_checked"       # a website criterion the run holds no verdict for


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
    withdrawn: tuple[Override, ...] = ()       # overrides withdrawn since: listed, never applied

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


def listed_points(criterion: Criterion, verdict: Verdict, *, overridden: bool = False) -> tuple[float, str]:
    """Points of a passing listed criterion: proportional, points × found / listed; all_or_nothing, full
    points (it passes only when every item is found). A reviewer's pass gives full points."""
    found, total = sum(f.status == "found" for f in verdict.items), len(verdict.items)
    if overridden or criterion.scoring != "proportional" or not total:
        return criterion.points, f"pass: {_fmt(criterion.points)}/{_fmt(criterion.points)}"
    pts = _r2(criterion.points * found / total)
    return pts, f"{found} of {total} item(s) found: {_fmt(pts)}/{_fmt(criterion.points)}"


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
    elif criterion.kind == "listed":
        pts, basis = listed_points(criterion, verdict, overridden=override is not None)
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
    """A website verdict judged again for another evaluation period from the posts the crawl read, by the
    same rule the crawl decides with (verifier.verdict.judge_posts, undated -> review included).

    Only verdicts decided by counting the category's posts change (ok / no_posts_in_year / undated)."""
    if verdict.reason not in COUNTED or verdict.posts_in_year is None:
        return verdict     # a content verdict (posts_in_year None) does not depend on the period
    status, reason, n, detail = judge_posts(list(verdict.posts), period, min_posts=min_posts)
    return replace(verdict, status=status, reason=reason, posts_in_year=n, detail=detail)


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
        for criterion in rulebook.criteria_for(agency.group, agency.agency_id) if rows else ():   # no form: not scored
            verdict = vmap.get((agency.agency_id, criterion.id)) or missing_verdict(
                agency.agency_id, criterion, rmap.get(criterion.id), rows, rulebook, checked_at)
            cps.append(criterion_points(criterion, verdict, overrides.get((agency.agency_id, criterion.id)),
                                        rmap.get(criterion.id), rows, rulebook))
        total = _r2(sum(cp.points for cp in cps))
        maximum = rulebook.max_points(agency.group, agency.agency_id)
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


# ------------------------------------------------------------------------------------------- a stored run

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
    """The rulebook as exports name it: rules/<file> when bundled, a path relative to the project when it lives
    there (installed or not)."""
    return rulebook_name(rulebook.source)


def run_data(stored: StoredRun, *, rulebook: Rulebook | None = None,
             period: tuple[dt.date, dt.date] | None = None) -> RunData:
    """A stored run ready to score: every criterion of each agency's group has a verdict (reported ones
    missing from the run are decided from the form), and the overrides in force. With a period other
    than the run's, website verdicts decided by counting posts are judged again (verdict_for_period).
    Pure: records in, records out."""
    run = stored.run
    rulebook = rulebook or resolve_rulebook(run)
    run_period = (stored.period[0] or rulebook.period[0], stored.period[1] or rulebook.period[1])
    period = tuple(period) if period else run_period
    stored_verdicts: dict[tuple[str, str], Verdict] = {}
    for verdict in stored.verdicts:
        criterion = rulebook.by_id.get(verdict.criterion)
        if criterion is not None and criterion.kind == "website" and period != run_period:
            verdict = verdict_for_period(verdict, period, criterion.min_posts)
        stored_verdicts[(verdict.agency_id, verdict.criterion)] = verdict
    by_agency: dict[str, list[Report]] = {}
    for r in stored.reports:
        by_agency.setdefault(r.agency_id, []).append(r)
    checked_at = stored.checked_at
    verdicts, computed = [], set()
    for agency in stored.agencies:
        rows = by_agency.get(agency.agency_id, [])
        rmap = {r.criterion: r for r in rows}
        for criterion in rulebook.criteria_for(agency.group, agency.agency_id) if rows else ():   # no form
            key = (agency.agency_id, criterion.id)
            verdict = stored_verdicts.pop(key, None)
            if verdict is None:
                verdict = missing_verdict(agency.agency_id, criterion, rmap.get(criterion.id), rows, rulebook,
                                          checked_at)
                computed.add(key)
            verdicts.append(verdict)
    verdicts.extend(stored_verdicts.values())   # verdicts of criteria the rulebook no longer lists: kept for the audit
    vmap = {(v.agency_id, v.criterion): v for v in verdicts}
    return RunData(run, rulebook, period, stored.agencies, stored.reports, tuple(verdicts), stored.page_fetch_ids,
                   frozenset(computed), overrides_for_run(stored.overrides, stored.run_years, run, vmap),
                   withdrawn_for_run(stored.overrides, stored.run_years, run))


def score_run(data: RunData, *, checked_at: dt.datetime | None = None) -> list[AgencyScore]:
    """Scores of a loaded run (pure over the loaded records)."""
    known = [v for v in data.verdicts if v.criterion in data.rulebook.by_id]
    return score_agencies(data.rulebook, data.agencies, data.reports, known, data.overrides, checked_at=checked_at)
