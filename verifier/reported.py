"""Verdicts and points of `reported` criteria: a figure from the form, checked for logic, scored by formula. Pure.

docs/verdicts.md, "Reported criteria": `pass`/`scored` (points by the rulebook's formula), `fail`/`blank`
(no value), `exempt`/`not_applicable`, `review`/`not_applicable_unexplained`,
or `review`/`logic_check` when the figure breaks a logic check (a rate within
0–100, a part not above its whole, a whole number of people, a readable value).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from crawler.records import Verdict
from verifier.rulebook import Criterion, Rulebook
from verifier.verdict import FAIL, PASS, REVIEW, verdict_without_fetch

SCORED, BLANK, LOGIC_CHECK = "scored", "blank", "logic_check"

YES_WORDS = frozenset({"có", "co", "x", "1", "yes", "y", "true", "đạt", "dat", "đã có", "da co"})
NO_WORDS = frozenset({"không", "khong", "ko", "0", "no", "n", "false", "chưa", "chua", "chưa có", "chua co"})

# "85", "85%", "85,5", "85.5 %", "1.234" (thousands), "1.234,5"
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d+)*)$")
_DOTTED_THOUSANDS = re.compile(r"^\d{1,3}(\.\d{3})+$")


class BadFigure(ValueError):
    """A reported value that cannot be read as the criterion's kind of figure."""


def parse_number(text: str, *, whole: bool = False) -> float:
    """A number written the Vietnamese or the English way; raises BadFigure.

    With `whole` (a count), "1.234" is Vietnamese grouping for 1234."""
    raw = (text or "").strip().replace("\u00a0", " ")
    core = raw.rstrip("%").strip().replace(" ", "")
    if not _NUMBER.match(core):
        raise BadFigure(f"{raw!r} is not a number")
    if whole and _DOTTED_THOUSANDS.match(core):
        return float(core.replace(".", ""))
    if "," in core and "." in core:
        # the later separator is the decimal one: "1.234,5" or "1,234.5"
        if core.rfind(",") > core.rfind("."):
            core = core.replace(".", "").replace(",", ".")
        else:
            core = core.replace(",", "")
    elif core.count(",") == 1:
        core = core.replace(",", ".")
    elif core.count(",") > 1 or core.count(".") > 1:
        core = core.replace(",", "").replace(".", "")   # grouping only: "1.234.567"
    return float(core)


def parse_yes_no(text: str) -> bool:
    """Có/Không (and 1/0, x, yes/no); raises BadFigure."""
    key = " ".join((text or "").strip().casefold().split())
    if key in YES_WORDS:
        return True
    if key in NO_WORDS:
        return False
    raise BadFigure(f"{text.strip()!r} is not Có/Không")


def read_value(criterion: Criterion, text: str) -> float | bool:
    """The reported value as the criterion reads it (a yes/no or a number); raises BadFigure."""
    if criterion.formula == "yes_no":
        return parse_yes_no(text)
    return parse_number(text, whole=criterion.integer)


def figure_problem(criterion: Criterion, text: str) -> str | None:
    """Why a non-blank value cannot stand on its own (unreadable, not whole, out of range), else None."""
    try:
        value = read_value(criterion, text)
    except BadFigure as exc:
        return str(exc)
    if isinstance(value, bool):
        return None
    if criterion.integer and not float(value).is_integer():
        return f"{_fmt(value)} is not a whole number"
    if value < criterion.lowest:
        return f"{_fmt(value)} is below the minimum {_fmt(criterion.lowest)}"
    top = criterion.highest
    if top is not None and value > top:
        return f"{_fmt(value)} is above the maximum {_fmt(top)}"
    return None


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def other_value(reports: Iterable, criterion_id: str, rulebook: Rulebook) -> float | None:
    """The agency's readable numeric value for another criterion, or None (blank, not applicable, unreadable)."""
    other = rulebook.by_id.get(criterion_id)
    for r in reports:
        if r.criterion != criterion_id:
            continue
        if r.not_applicable or not (r.value or "").strip() or other is None:
            return None
        try:
            value = read_value(other, r.value)
        except BadFigure:
            return None
        return None if isinstance(value, bool) else float(value)
    return None


def logic_problem(criterion: Criterion, text: str, reports_of_agency: Iterable, rulebook: Rulebook) -> str | None:
    """The first logic check the value breaks (its own range, then against the agency's other figures), else None."""
    problem = figure_problem(criterion, text)
    if problem:
        return problem
    value = read_value(criterion, text)
    if isinstance(value, bool):
        return None
    reports = list(reports_of_agency)
    if criterion.not_above:
        whole = other_value(reports, criterion.not_above, rulebook)
        if whole is not None and value > whole:
            return f"{_fmt(value)} is above {criterion.not_above} ({_fmt(whole)})"
    if criterion.of:
        whole = other_value(reports, criterion.of, rulebook)
        if whole is None:
            return f"the rate cannot be computed: {criterion.of} is not reported"
        if whole <= 0:
            return f"the rate cannot be computed: {criterion.of} is {_fmt(whole)}"
    return None


def reported_points(criterion: Criterion, value: float | bool, whole: float | None = None) -> float:
    """Points of an accepted value by the criterion's formula, within 0..points."""
    points = criterion.points
    if criterion.formula is None:
        return 0.0
    if criterion.formula == "yes_no":
        return points if value else 0.0
    if criterion.formula == "tiers":
        return next((t.points for t in criterion.tiers if value >= t.min), 0.0)
    share = value / whole if criterion.of else value / 100.0
    return max(0.0, min(points, share * points))


def score_reported(criterion: Criterion, text: str, reports_of_agency: Iterable,
                   rulebook: Rulebook) -> tuple[float, str]:
    """(points, basis) of a value that passed the logic checks; basis says how the points came about."""
    value = read_value(criterion, text)
    unit = f" {criterion.unit}" if criterion.unit and criterion.unit != "%" else (criterion.unit or "")
    if criterion.formula == "yes_no":
        pts = reported_points(criterion, value)
        return pts, f"{'yes' if value else 'no'}: {_fmt(pts)}/{_fmt(criterion.points)}"
    if criterion.formula is None:
        return 0.0, f"{_fmt(value)}{unit} (a figure other criteria refer to; no points)"
    if criterion.formula == "tiers":
        pts = reported_points(criterion, value)
        tier = next((t for t in criterion.tiers if value >= t.min), None)
        reached = f"tier from {_fmt(tier.min)}" if tier else "below the lowest tier"
        return pts, f"{_fmt(value)}{unit}, {reached}: {_fmt(pts)}/{_fmt(criterion.points)}"
    if criterion.of:
        whole = other_value(list(reports_of_agency), criterion.of, rulebook)
        pts = reported_points(criterion, value, whole)
        rate = 100.0 * value / whole
        return pts, (f"{_fmt(value)}/{_fmt(whole)}{unit} = {rate:.1f}%: "
                     f"{rate:.1f}% × {_fmt(criterion.points)} = {pts:.2f}")
    pts = reported_points(criterion, value)
    return pts, f"{_fmt(value)}%: {_fmt(value)}% × {_fmt(criterion.points)} = {pts:.2f}"


def decide_reported(task_agency_id: str, criterion: Criterion, report_or_None, reports_of_agency,
                    rulebook: Rulebook, checked_at: dt.datetime | None) -> Verdict:
    """The verdict of one reported criterion of an agency, from its report row (None: no row) and its other rows."""
    report = report_or_None
    url = (report.url or None) if report is not None else None
    if report is not None and report.not_applicable:
        return verdict_without_fetch(task_agency_id, criterion.id, url=url, not_applicable=True,
                                     note=report.note or "", checked_at=checked_at)
    text = (report.value or "").strip() if report is not None else ""
    if not text:
        detail = "no row for this criterion" if report is None else "no value reported"
        return _verdict(task_agency_id, criterion, url, FAIL, BLANK, f"{detail}: 0 points", checked_at)
    problem = logic_problem(criterion, text, reports_of_agency, rulebook)
    if problem:
        return _verdict(task_agency_id, criterion, url, REVIEW, LOGIC_CHECK,
                        f"logic check: {problem} (reported {text!r})", checked_at)
    _, basis = score_reported(criterion, text, reports_of_agency, rulebook)
    return _verdict(task_agency_id, criterion, url, PASS, SCORED, f"reported {text!r}: {basis}", checked_at)


def _verdict(agency_id, criterion, url, status, reason, detail, checked_at) -> Verdict:
    return Verdict(agency_id=agency_id, criterion=criterion.id, url=url, checked_url=None, status=status,
                   reason=reason, posts_in_year=None, detail=detail, checked_at=checked_at)
