""""Why and how to fix" for a verdict, in the agency's words: texts keyed by reason in
verifier/export/hints/<lang>.yaml, filled with what the check saw (the page kind and category seen, the HTTP
status, the newest post's date, the registered portal, the criterion's name).

The texts are plain: whoever shows them escapes them (verifier.export.safe_text), as they carry crawled text.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache
from importlib.resources import files

import yaml

from crawler.records import PURPOSE_LISTING, Verdict
from crawler.tls import OLD_PROTOCOL_WORDS, PROBLEM_WORDS
from verifier.export.labels import vn_date
from verifier.intake import Report
from verifier.reported import BadFigure, other_value, read_value
from verifier.rulebook import Criterion, Rulebook
from verifier.verdict import content_check_labels, missing_items

DEFAULT_LANG = "vi"
_NOT_FOUND_STATUSES = (404, 410)
_KINDS_BEFORE_CATEGORY = ("home", "article", "error")   # decided from the page's kind, before its category


@lru_cache(maxsize=4)
def hint_texts(lang: str = DEFAULT_LANG) -> dict:
    """The hint file of a language: {"reasons": {reason: text or {variant: text}}, "kinds": ..., "errors": ...}."""
    raw = (files("verifier.export") / "hints" / f"{lang}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(raw)


def reasons_with_hints(lang: str = DEFAULT_LANG) -> set[str]:
    """The reasons the language's file has a default text for."""
    out = set()
    for reason, entry in hint_texts(lang)["reasons"].items():
        if isinstance(entry, str) or (isinstance(entry, dict) and isinstance(entry.get("default"), str)):
            out.add(reason)
    return out


def kind_words(kind: str | None, lang: str = DEFAULT_LANG) -> str:
    """A page kind ("listing", "home", ...) in words; '' when unknown."""
    return hint_texts(lang)["kinds"].get(kind or "", "")


def error_words(error: str | None, lang: str = DEFAULT_LANG) -> str:
    """A fetch error code ("dns", "timeout", ...) in words."""
    return hint_texts(lang)["errors"].get(error or "", error or "")


def hint(verdict: Verdict, rulebook: Rulebook, *, report: Report | None = None, reports=(), portal: str = "",
         points: float | None = None, lang: str = DEFAULT_LANG) -> str:
    """Why the verdict came out as it did and what the agency can do about it, filled with what was seen.

    `report` is the agency's row for the criterion, `reports` all its rows (a logic check compares figures),
    `portal` the portal as registered, `points` those the criterion earned (a pass below the maximum says what
    full points take). Raises KeyError for a reason the language's file lacks."""
    entry = hint_texts(lang)["reasons"][verdict.reason]
    facts = seen(verdict, rulebook, report=report, reports=reports, portal=portal, lang=lang)
    criterion = rulebook.by_id.get(verdict.criterion)
    if points is not None and criterion is not None and points < criterion.points:
        facts["short"] = "zero" if points <= 0 else "partial"   # below the maximum: what full points take
    text = _reason_hint(entry, verdict, rulebook, facts, reports)
    tls = tls_hint(verdict, lang)
    if not tls:
        return text
    # a pass at full points has nothing to fix but the portal's TLS; any other verdict says both
    return tls if verdict.status == "pass" and "short" not in facts else f"{text} {tls}"


def _reason_hint(entry, verdict: Verdict, rulebook: Rulebook, facts: dict, reports) -> str:
    if isinstance(entry, str):
        return entry.format_map(_Unseen(facts))
    for variant in [*_variants(verdict, rulebook, facts, reports), "default"]:
        text = entry.get(variant)
        filled = _fill(text, facts) if text else None
        if filled:
            return filled
    return entry["default"].format_map(_Unseen(facts))


class _Unseen(dict):
    """Placeholders not seen read as nothing (a default text should use none that can be missing)."""

    def __missing__(self, key):
        return ""


def audit_hint(audit, agency_id: str, criterion_id: str, lang: str = DEFAULT_LANG) -> str:
    """The hint of one (agency, criterion) of an audit (verifier.export.audit.Audit), '' when it has no verdict."""
    verdict = next((v for v in audit.verdicts_of(agency_id) if v.criterion == criterion_id), None)
    if verdict is None or verdict.reason not in hint_texts(lang)["reasons"]:
        return ""
    portal = next((a.portal for a in audit.data.agencies if a.agency_id == agency_id), "")
    reports = [r for r in audit.data.reports if r.agency_id == agency_id]
    cp = audit.points(agency_id, criterion_id)
    return hint(verdict, audit.rulebook, report=audit.report(agency_id, criterion_id), reports=reports,
                portal=portal, points=cp.points if cp else None, lang=lang)


_TLS_PROBLEM = re.compile(re.escape(PROBLEM_WORDS) + r" \((\w+)\)")
_OLD_PROTOCOL = re.compile(re.escape(OLD_PROTOCOL_WORDS) + r": the portal speaks only (\S+?),")


def tls_hint(verdict: Verdict, lang: str = DEFAULT_LANG) -> str:
    """What the agency is told of its portal's TLS (an invalid certificate, an old protocol) from the
    verdict's detail (crawler.tls words); '' when there is nothing to tell."""
    texts = hint_texts(lang)["tls"]
    out = []
    problem = _TLS_PROBLEM.search(verdict.detail or "")
    if problem:
        words = texts["problems"].get(problem.group(1), texts["problems"]["other"])
        out.append(texts["certificate"].format(problem=words))
    protocol = _OLD_PROTOCOL.search(verdict.detail or "")
    if protocol:
        out.append(texts["old_protocol"].format(protocol=protocol.group(1).replace("TLSv", "TLS ")))
    return " ".join(out)


def needs_hint(criterion: Criterion, verdict: Verdict, cp) -> bool:
    """A criterion not passed says why and how to fix; so does a pass short of full points on the portal
    (too few posts) and a figure that earned nothing; a figure scored part of its points does not. Where a
    reviewer failed what the machine passed, the reviewer's note (in the found text) is the reason."""
    if cp.status == "exempt":
        return False
    if tls_hint(verdict):           # the portal's certificate or protocol is to fix, whatever the points
        return True
    if cp.overridden:
        return cp.status != "pass" and verdict.status not in ("pass", "exempt")
    if cp.status != "pass":
        return True
    if cp.points >= criterion.points:
        return False
    return not criterion.is_reported or cp.points <= 0


def shown_hint(audit, verdict: Verdict, lang: str = DEFAULT_LANG) -> str | None:
    """The "why and how to fix" the reports show beside a verdict (report.json's `hint`, the workbook's column):
    None where there is nothing to fix (full points, exempt, a figure scored part of its points, see
    needs_hint); where a reviewer failed what the check passed, the reviewer's note."""
    criterion = audit.rulebook.by_id.get(verdict.criterion)
    cp = audit.points(verdict.agency_id, verdict.criterion)
    if cp is None or criterion is None:        # not scored: the machine verdict alone says whether to fix
        wanted = verdict.status not in ("pass", "exempt") or bool(tls_hint(verdict, lang))
    else:
        wanted = needs_hint(criterion, verdict, cp)
        view = audit.override(verdict.agency_id, verdict.criterion)
        if not wanted and cp.overridden and cp.status not in ("pass", "exempt") and view is not None:
            return view.override.note
    return (audit_hint(audit, verdict.agency_id, verdict.criterion, lang) or None) if wanted else None


# ------------------------------------------------------------------------------------------------ what was seen

def main_page(verdict: Verdict):
    """The page a verdict was decided on: the first listing fetched, else the first page; None when none."""
    return next((p for p in verdict.pages if p.purpose == PURPOSE_LISTING), verdict.pages[0] if verdict.pages else None)


def newest_date(verdict: Verdict):
    dates = [d for p in verdict.posts for d in p.dates]
    return max(dates) if dates else None


def seen(verdict: Verdict, rulebook: Rulebook, *, report: Report | None = None, reports=(), portal: str = "",
         lang: str = DEFAULT_LANG) -> dict[str, str]:
    """The placeholders' values from what the check saw; a value not seen is absent."""
    criterion = rulebook.by_id.get(verdict.criterion)
    page = main_page(verdict)
    start, end = rulebook.period
    facts = {
        "criterion": criterion.name if criterion else verdict.criterion,
        # a list's items sit in a category of their own: its first alias names it ("Văn bản quy phạm pháp luật")
        "expected": (criterion.aliases[0] if criterion.kind == "listed" and criterion.aliases else criterion.name)
        if criterion else verdict.criterion,
        "year": str(rulebook.year),
        "period": f"{vn_date(start)} – {vn_date(end)}",
        "url": verdict.url or (report.url if report else ""),
        "checked": verdict.checked_url or (page.final_url if page else "") or verdict.url or "",
        "portal": " ".join((portal or "").split()),
        "note": (report.note or "").strip() if report else "",
        "value": (report.value or "").strip() if report else "",
    }
    if criterion is not None:
        facts["min_posts"] = str(criterion.min_posts)
        if criterion.grades:
            facts["full_posts"] = str(criterion.grades[0].min_posts)
        if criterion.unit and criterion.unit != "Có/Không":
            facts["unit"] = criterion.unit
        facts["minimum"] = _num(criterion.lowest)
        if criterion.highest is not None:
            facts["maximum"] = _num(criterion.highest)
        ref = criterion.not_above or criterion.of
        if ref and ref in rulebook.by_id:
            facts["whole"] = rulebook.by_id[ref].name
    if page is not None:
        if page.status is not None and page.status >= 400:
            facts["status"] = str(page.status)
        if page.error:
            facts["error"] = error_words(page.error, lang)
        if page.kind in _KINDS_BEFORE_CATEGORY or page.kind == "page":
            facts["kind"] = kind_words(page.kind, lang)
        if page.category and page.category != verdict.criterion and page.category in rulebook.by_id:
            facts["found"] = rulebook.by_id[page.category].name
        if page.category_label:
            facts["label"] = " ".join(page.category_label.split())
    newest = newest_date(verdict)
    if newest is not None:
        facts["newest"] = vn_date(newest)
    if verdict.reason == "missing_content":
        facts["missing"] = "; ".join(content_check_labels(verdict)[1])
    if verdict.reason == "items_missing":
        names = [f.item.name for f in verdict.items if f.status != "found"] or missing_items(verdict.detail)
        facts["missing"] = "; ".join(names)
        facts["missing_count"] = str(len(names)) if names else ""
    if verdict.reason in ("missing_content", "content_ok"):
        facts["present"] = "; ".join(content_check_labels(verdict)[0])
    if verdict.posts_in_year:
        facts["count"] = str(verdict.posts_in_year)
    if verdict.posts:
        facts["posts"] = str(len(verdict.posts))
    return {k: v for k, v in facts.items() if v}


def _variants(verdict: Verdict, rulebook: Rulebook, facts: dict, reports) -> list[str]:
    """The variants of the reason's text that fit what was seen, most specific first."""
    reason, page = verdict.reason, main_page(verdict)
    kind = page.kind if page else None
    if reason in ("ok", "scored"):
        return [facts["short"]] if facts.get("short") else []
    if reason == "not_found":
        if facts.get("status") and int(facts["status"]) in _NOT_FOUND_STATUSES:
            return ["status"]
        if kind == "home" or "home page" in verdict.detail:
            return ["home"]
        return ["error_page"] if kind == "error" else []
    if reason == "wrong_category":
        return ["kind"] if kind in _KINDS_BEFORE_CATEGORY else ["found", "label", "kind"]
    if reason == "no_posts_in_year":
        if facts.get("count"):
            return ["some"]
        return ["newest"] if facts.get("newest") else ["empty"]
    if reason == "no_link":
        return ["url", "portal"]
    if reason == "logic_check":
        criterion = rulebook.by_id.get(verdict.criterion)
        return [_logic_variant(criterion, facts.get("value", ""), reports, rulebook)] if criterion else []
    return {"not_applicable": ["note"], "off_site": ["portal", "url"], "unreachable": ["status", "error"],
            "undated": ["posts"], "missing_content": ["missing"], "content_ok": ["present"],
            "items_missing": ["missing"], "not_agency_page": ["checked"], "robots_disallowed": ["portal"],
            "blank": ["unit"], "blocked": ["status"]}.get(reason, [])


def _logic_variant(criterion: Criterion, text: str, reports, rulebook: Rulebook) -> str:
    """Which logic check the value breaks, in the order verifier.reported checks them."""
    try:
        value = read_value(criterion, text)
    except BadFigure:
        return "yes_no" if criterion.formula == "yes_no" else "unreadable"
    if isinstance(value, bool):
        return "default"
    if criterion.integer and not float(value).is_integer():
        return "not_whole"
    if value < criterion.lowest:
        return "below"
    if criterion.highest is not None and value > criterion.highest:
        return "above"
    reports = list(reports)
    if criterion.not_above:
        whole = other_value(reports, criterion.not_above, rulebook)
        if whole is not None and value > whole:
            return "whole"
    if criterion.of:
        whole = other_value(reports, criterion.of, rulebook)
        if whole is None or whole <= 0:
            return "missing_whole"
    return "default"


def _fill(text: str, facts: dict[str, str]) -> str | None:
    """The text with its placeholders filled, or None when one of them was not seen."""
    names = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    if not names <= facts.keys():
        return None
    return text.format_map(facts)


def _num(x: float) -> str:
    return (str(int(x)) if float(x).is_integer() else f"{x:g}").replace(".", ",")
