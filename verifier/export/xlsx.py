"""The Department's workbook (in Vietnamese): a ranking sheet per group, the verdict sheet with its "why and
how to fix" column and evidence links, the pages checked and the posts read (what each verdict rests on), the
review queue, and the run's provenance ("Thông tin lần chạy"). Each agency's confirmation form is its own
workbook (verifier.export.phieu: phieu/<agency>.xlsx), not a sheet of this one.

Criteria, statuses, reasons and page kinds are named in words, never by their codes; the rulebook by its
title. Dates and times are date cells, in the province's time (+07:00, stated once in each sheet's heading).
Every table sheet has an autofilter and a frozen header row, and prints on A4, one page wide, with its
header row on every page (verifier.export.xlsx_sheet); a group's ranking prints on one page.

The same stored run gives the same bytes: the document's dates are the report's time (from the run), and
the workbook is assembled in memory, so XlsxWriter stamps every zip entry 1980-01-01.

Crawled and reported text is written as plain strings (XlsxWriter with strings_to_formulas,
strings_to_urls and strings_to_numbers off), so `=HYPERLINK(...)` in a post title stays text; a text a
spreadsheet would read as a formula also carries Excel's quote prefix, so it stays text when edited, and
invisible characters (bidi overrides) are shown as marks (verifier.export.safe_text).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import xlsxwriter

from crawler.records import Verdict
from verifier.export import labels as L
from verifier.export import trail
from verifier.export.audit import Audit
from verifier.export.hints import error_words, kind_words, shown_hint
from verifier.export.names import agency_page
from verifier.export.run_info import run_facts
from verifier.export.safe_text import cell_text
from verifier.export.xlsx_sheet import Table, formats, page_setup

_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")

# Wording this workbook needs that verifier.export.labels does not hold (yet).
VERDICTS = "Kết quả kiểm tra"
VERDICTS_TITLE = "Kết quả kiểm tra từng tiêu chí"
HINT = "Lý do và cách khắc phục"
OVERRIDE_AT = "Thời điểm điều chỉnh"
SUBMITTED = "Ngày nộp phiếu"
PENDING = "Cần xem xét"
WARC = "Bản lưu (WARC)"
SHOW_EVIDENCE = "Xem bằng chứng"
LOCAL_TIME = "Mọi thời gian trong tệp theo giờ Việt Nam (UTC+07:00)."
LINKS_NOTE = ("Các liên kết chứng cứ trỏ tới thư mục báo cáo; giữ tệp này trong thư mục đó (bên cạnh thư mục "
              "html/), nếu gửi đi thì gửi cả thư mục.")
FORMS_NOTE = "Phiếu xác nhận của từng đơn vị: thư mục phieu/ bên cạnh tệp này (phieu/<mã đơn vị>.xlsx)."
LEVELS = "Mức xếp loại"
DATE_SOURCE = {            # where a post's date was read (crawler.records.Post.date_source)
    "listing": "danh sách bài viết",
    "time": "thẻ thời gian của trang",
    "article": "trang bài viết",
    "feed": "RSS/Atom",
    "meta": "thông tin mô tả của trang",
    "jsonld": "dữ liệu có cấu trúc của trang",
    "page": "nội dung trang",
}
DATE_SOURCE_ARTICLE_UPDATED = "ngày cập nhật trên trang bài viết"
PAGE_COLUMNS = [(L.AGENCY_ID, 9), (L.CRITERION, 30), ("Mục đích", 12), ("HTTP / lỗi", 12), ("Loại trang", 15),
                ("Chuyên mục nhận diện", 26), ("Tên chuyên mục trên trang", 22), ("Số bài", 6), ("URL", 36),
                (L.CHECKED_AT, 14), (WARC, 44)]
POST_COLUMNS = [(L.AGENCY_ID, 9), (L.CRITERION, 30), ("Tiêu đề", 40), ("URL", 40), ("Ngày đăng", 11),
                ("Ngày cập nhật", 11), ("Nguồn ngày", 19), ("Trong kỳ", 7)]


def date_source_words(source: str | None) -> str:
    """Where a post's date was read, in words. The crawl writes "listing", "time", "feed", "article:<how the
    article page gave it>" and "<source>+article:updated" (the update date read on the article page)."""
    parts = []
    for part in (source or "").split("+"):
        where, _, how = part.partition(":")
        if where == "article" and how == "updated":
            parts.append(DATE_SOURCE_ARTICLE_UPDATED)
        elif where == "article" and how not in ("", "article", "page"):
            parts.append(f"{DATE_SOURCE['article']} ({DATE_SOURCE.get(how, how)})")
        elif part:
            parts.append(DATE_SOURCE.get(where if where == "article" else part, part))
    return "; ".join(parts)


def _sheet_name(base: str, used: set[str]) -> str:
    name = _BAD_SHEET_CHARS.sub("_", cell_text(base).replace("\n", " ")).strip("'")[:31] or "Sheet"
    candidate, n = name, 2
    while candidate.casefold() in used:
        suffix = f" ({n})"
        candidate = name[:31 - len(suffix)] + suffix
        n += 1
    used.add(candidate.casefold())
    return candidate


def write_xlsx(audit: Audit, out_dir: Path | str, *, link_html: bool = False) -> Path:
    """Write DIR/report.xlsx; with link_html, evidence cells link to the HTML report beside it."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.xlsx"
    tmp = out_dir / "report.xlsx.tmp"
    wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False, "in_memory": True})
    # XlsxWriter writes `created` as UTC ("...Z"), from the fields of the datetime it is given
    created = audit.generated_at.astimezone(dt.UTC).replace(tzinfo=None)
    wb.set_properties({"title": L.TITLE, "created": created,
                       "comments": cell_text(f"{audit.rulebook.title}; {L.RUN} {audit.run_id}")})
    fmt = formats(wb)
    used: set[str] = set()

    def table(name: str, title: str, columns, **kw) -> Table:
        return Table(wb, wb.add_worksheet(_sheet_name(name, used)), fmt, title, columns, **kw)

    for _gid, gname, members in audit.groups():
        _ranking_sheet(audit, table(f"{L.RANKING} {gname}", f"{L.RANKING} – {gname}", RANKING_COLUMNS,
                                    one_page=True), members)
    _verdict_sheet(audit, table(VERDICTS, VERDICTS_TITLE, VERDICT_COLUMNS), link_html)
    _pages_sheet(audit, table(L.PAGES, L.PAGES, PAGE_COLUMNS))
    _posts_sheet(audit, table(L.POSTS_LIST, L.POSTS_LIST, POST_COLUMNS))
    if any(v.items for v in audit.verdicts):     # a run with lists (a workbook without keeps its sheets)
        _items_sheet(audit, table(ITEMS, ITEMS_TITLE, ITEM_COLUMNS))
    _queue_sheet(audit, table(L.REVIEW_QUEUE, L.REVIEW_QUEUE, QUEUE_COLUMNS))
    if audit.rounds:                 # sheets of people's steps only when there are some (the bytes stay otherwise)
        _round_sheet(audit, table(trail.ROUND, trail.ROUND_TITLE, ROUND_COLUMNS))
    if audit.trail:
        _trail_sheet(audit, table(trail.TRAIL, trail.TRAIL_TITLE, TRAIL_COLUMNS))
    _run_sheet(audit, table(L.RUN_INFO, L.RUN_INFO, [(L.RUN_INFO, 26), ("", 100)]))
    wb.close()
    tmp.replace(path)
    return path


def _about(audit: Audit) -> str:
    """The heading line of every sheet: the rulebook by its title, the period, the report's time and run."""
    start, end = audit.period
    return (f"{L.RULEBOOK}: {audit.rulebook.title}; {L.PERIOD}: {L.vn_date(start)} – {L.vn_date(end)}; "
            f"{L.GENERATED}: {L.vn_moment(audit.generated_at)}; {L.RUN} {audit.run_id} (xem trang tính "
            f"“{L.RUN_INFO}”). {LOCAL_TIME}")


def _criterion_name(audit: Audit, criterion_id: str | None) -> str:
    criterion = audit.rulebook.by_id.get(criterion_id or "")
    return criterion.name if criterion else (criterion_id or "")


WITHDRAWN = "Đã rút lại, không áp dụng"


def _override_text(audit: Audit, verdict: Verdict) -> tuple[str, dt.datetime | None]:
    """The reviewer's decision in words (result, who, note) and when it was made."""
    view = audit.override(verdict.agency_id, verdict.criterion)
    if view is None:          # no override in force: a withdrawn one is shown as withdrawn, not applied
        gone = [o for o in audit.data.withdrawn if (o.agency_id, o.criterion) == (verdict.agency_id, verdict.criterion)]
        if not gone:
            return "", None
        o = gone[-1]
        return (f"[{WITHDRAWN}] {L.status_label(o.status)} – {o.by}: {o.note}; "
                f"rút lại bởi {o.withdrawn_by}: {o.withdraw_note}"), o.withdrawn_at
    o = view.override
    flag = f" [{L.MACHINE_CHANGED}]" if view.machine_changed else ""
    return f"{L.status_label(o.status)} – {o.by}: {o.note}{flag}", o.at


def _result(audit: Audit, verdict: Verdict) -> str:
    """The result that scored (a reviewer's where there is one), in words."""
    cp = audit.points(verdict.agency_id, verdict.criterion)
    return L.status_label(cp.status if cp else verdict.status, verdict.reason)


# ------------------------------------------------------------------------------------------------ ranking

RANKING_COLUMNS = [(L.RANKING, 8), (L.AGENCY_ID, 10), (L.AGENCY, 34), (L.SCORE, 7), (L.MAX_SCORE, 7),
                   (L.PERCENT, 7), (L.LEVEL, 10), (SUBMITTED, 11), (PENDING, 8), (L.NOTE, 34)]


def _ranking_sheet(audit: Audit, sh: Table, members) -> None:
    sh.heading([_about(audit), f"{LEVELS}: {_legend(audit)}", FORMS_NOTE])
    sh.header()
    for s in members:
        sh.number(0, s.rank, sh.f["int"])
        sh.text(1, s.agency_id)
        sh.text(2, s.agency_name)
        sh.number(3, s.score)
        sh.number(4, s.max_score)
        sh.number(5, s.percent)
        sh.text(6, s.level or "")
        sh.date(7, s.submitted_at)
        sh.number(8, s.pending, sh.f["int"])
        sh.text(9, "" if s.ranked else f"{L.NOT_RANKED_HEAD}: {L.not_ranked_label(s, audit.rulebook.deadline)}")
        sh.next()
    sh.close()


def _legend(audit: Audit) -> str:
    """Each level with its threshold in percent of the group's maximum: "Tốt: từ 85% trở lên; Khá: từ 70% …"."""
    return "; ".join(f"{name}: {words}" for name, words in L.level_legend(audit.rulebook.levels)) + "."


# ------------------------------------------------------------------------------------------------ verdicts

VERDICT_COLUMNS = [(L.AGENCY_ID, 9), (L.AGENCY, 18), (L.CRITERION, 22), (L.REPORTED, 22), (L.CHECKED_URL, 22),
                   (L.RESULT, 10), (L.REASON_HEAD, 18), (L.CONTENT_FOUND, 20), (L.CONTENT_MISSING, 20),
                   (L.POSTS, 8), (L.DISCOVERED, 7), (L.SCORE, 6),
                   (L.MAX_SCORE, 7), (HINT, 42), (L.OVERRIDE, 22), (OVERRIDE_AT, 14), (L.CHECKED_AT, 14),
                   (L.EVIDENCE, 10)]


def _verdict_sheet(audit: Audit, sh: Table, link_html: bool) -> None:
    sh.heading([_about(audit), *([LINKS_NOTE] if link_html else [])])
    sh.header()
    names = {a.agency_id: a.agency_name for a in audit.data.agencies}
    for v in audit.verdicts:
        cp = audit.points(v.agency_id, v.criterion)
        override, override_at = _override_text(audit, v)
        sh.text(0, v.agency_id)
        sh.text(1, names.get(v.agency_id, ""))
        sh.text(2, _criterion_name(audit, v.criterion))
        sh.text(3, audit.reported_text(v.agency_id, v.criterion))
        sh.link(4, v.checked_url)
        sh.text(5, _result(audit, v))
        sh.text(6, L.reason_label(v.reason))
        sh.text(7, L.content_found(v))
        sh.text(8, L.content_missing(v))
        sh.number(9, v.posts_in_year, sh.f["int"])
        sh.text(10, L.YES if v.discovered else "")
        sh.number(11, cp.points if cp else None)
        sh.number(12, cp.max_points if cp else None)
        sh.text(13, shown_hint(audit, v) or "")
        sh.text(14, override)
        sh.moment(15, override_at)
        sh.moment(16, v.checked_at)
        if link_html and (v.pages or v.posts or v.detail):
            sh.local_link(17, f"html/{agency_page(v.agency_id)}#{v.criterion}", SHOW_EVIDENCE)
        sh.next()
    sh.close()


# ------------------------------------------------------------------------------------------------ evidence

def _pages_sheet(audit: Audit, sh: Table) -> None:
    """Every page fetched for a verdict: what it was, what category it showed, and its WARC record."""
    sh.heading([_about(audit)])
    sh.header()
    for v in audit.verdicts:
        for page in v.pages:
            sh.text(0, v.agency_id)
            sh.text(1, _criterion_name(audit, v.criterion))
            sh.text(2, L.PURPOSE.get(page.purpose, page.purpose))
            if page.status is None:
                sh.text(3, error_words(page.error) if page.error else "")
            else:
                sh.number(3, page.status, sh.f["int"])
            sh.text(4, kind_words(page.kind) or page.kind or "")
            sh.text(5, _criterion_name(audit, page.category) if page.category else "")
            sh.text(6, page.category_label or "")
            sh.number(7, page.posts, sh.f["int"])
            sh.link(8, page.final_url or page.url)
            sh.moment(9, page.fetched_at)
            sh.text(10, page.warc_record or "", wrap=False)
            sh.next()
    sh.close()


def _posts_sheet(audit: Audit, sh: Table) -> None:
    """Every post a verdict read, with its dates and whether it counts in the period."""
    sh.heading([_about(audit)])
    sh.header()
    start, end = audit.period
    for v in audit.verdicts:
        for post in v.posts:
            sh.text(0, v.agency_id)
            sh.text(1, _criterion_name(audit, v.criterion))
            sh.text(2, post.title)
            sh.link(3, post.url)
            sh.date(4, post.published)
            sh.date(5, post.updated)
            sh.text(6, date_source_words(post.date_source))
            sh.text(7, L.YES if any(start <= d <= end for d in post.dates) else "")
            sh.next()
    sh.close()


ITEMS, ITEMS_TITLE = "Danh mục", "Danh mục đơn vị kê khai: từng mục có được đăng trên cổng hay không"
ITEM_COLUMNS = [(L.AGENCY_ID, 9), (L.CRITERION, 30), ("Số ký hiệu", 16), ("Trích yếu / Tên", 40),
                ("Ngày ban hành", 11), ("Kết quả", 16), ("Trang tìm thấy", 36), ("Dòng khớp trên trang", 40),
                ("Số trang đã tìm", 8)]


def _items_sheet(audit: Audit, sh: Table) -> None:
    """Every item of every list, found on the portal (the page and the row matched) or not (pages searched)."""
    sh.heading([_about(audit)])
    sh.header()
    for v in audit.verdicts:
        for f in v.items:
            sh.text(0, v.agency_id)
            sh.text(1, _criterion_name(audit, v.criterion))
            sh.text(2, f.item.number)
            sh.text(3, f.item.title)
            sh.date(4, f.item.issued)
            sh.text(5, L.ITEM_STATUS.get(f.status, f.status))
            sh.link(6, f.page_url)
            sh.text(7, f.matched_text)
            sh.text(8, "" if f.status == "found" else str(len(f.searched)))
            sh.next()
    sh.close()


QUEUE_COLUMNS = [(L.AGENCY_ID, 9), (L.AGENCY, 18), (L.CRITERION, 22), (L.RESULT, 10), (L.REASON_HEAD, 20),
                 (HINT, 44), (L.OVERRIDE, 28), (OVERRIDE_AT, 14)]


def _queue_sheet(audit: Audit, sh: Table) -> None:
    sh.heading([_about(audit)])
    sh.header()
    names = {a.agency_id: a.agency_name for a in audit.data.agencies}
    for v, _cp in audit.review_queue():
        override, override_at = _override_text(audit, v)
        sh.text(0, v.agency_id)
        sh.text(1, names.get(v.agency_id, ""))
        sh.text(2, _criterion_name(audit, v.criterion))
        sh.text(3, _result(audit, v))
        sh.text(4, L.reason_label(v.reason))
        sh.text(5, shown_hint(audit, v) or "")
        sh.text(6, override)
        sh.moment(7, override_at)
        sh.next()
    sh.close()


# ----------------------------------------------------------------------------- the round and the audit trail

ROUND_COLUMNS = [("Đợt", 6), (L.AGENCY_ID, 16), (L.AGENCY, 26), (L.CRITERION, 28), ("Ý kiến", 13),
                 ("Lý do của đơn vị", 36), ("Liên kết đơn vị đề nghị", 30), ("Người gửi", 14),
                 ("Thời điểm gửi", 16), ("Ý kiến được tính", 10), ("Trả lời", 14), ("Kết quả mới", 14),
                 ("Ghi chú trả lời", 36), ("Người trả lời", 14), ("Thời điểm trả lời", 16)]
TRAIL_COLUMNS = [("Số", 7), ("Thời điểm", 18), ("Người", 16), ("Thao tác", 24), ("Đối tượng", 30),
                 ("Chi tiết", 60)]


def _round_sheet(audit: Audit, sh: Table) -> None:
    """Every answer of the agencies in the run's rounds (the latest of each criterion counts) and the
    reviewer's answer to each dispute."""
    sh.heading([_about(audit)])
    sh.header()
    names = {a.agency_id: a.agency_name for a in audit.data.agencies}
    for r in trail.round_entries(audit):
        for a in r["responses"]:
            answer = a["answer"] or {}
            sh.number(0, r["id"])
            sh.text(1, a["agency_id"])
            sh.text(2, names.get(a["agency_id"], ""))
            sh.text(3, _criterion_name(audit, a["criterion"]))
            sh.text(4, a["kind_text"])
            sh.text(5, a["note"])
            sh.link(6, a["corrected_url"] or "")
            sh.text(7, a["by"])
            sh.moment(8, trail.moment(a["at"]))
            sh.text(9, "Có" if a["counts"] else "Không")
            sh.text(10, answer.get("decision_text", ""))
            sh.text(11, L.status_label(answer["status"]) if answer.get("status") else "")
            sh.text(12, answer.get("note", ""))
            sh.text(13, answer.get("by", ""))
            sh.moment(14, trail.moment(answer.get("at")))
            sh.next()
    sh.close()


def _trail_sheet(audit: Audit, sh: Table) -> None:
    """Every audit entry, oldest first."""
    sh.heading([_about(audit)])
    sh.header()
    for entry in trail.trail_entries(audit):
        sh.number(0, entry["id"])
        sh.moment(1, trail.moment(entry["at"]))
        sh.text(2, entry["who"])
        sh.text(3, entry["action_text"])
        sh.text(4, entry["object"])
        sh.text(5, entry["detail"])
        sh.next()
    sh.close()


# ------------------------------------------------------------------------------------------------ the run

def _run_sheet(audit: Audit, sh: Table) -> None:
    """How the run was made: tool, version, command line, User-Agent, rulebook and its sha256, period, proxy,
    robots policy, start and end (+07:00). Label and value pairs, not a table: no filter."""
    sh.heading([_about(audit)])
    for label, value in run_facts(audit):
        sh.text(0, label, sh.f["bold"])
        sh.text(1, value)
        sh.next()
    sh.ws.print_area(0, 0, sh.row - 1, 1)
    page_setup(sh.ws, sh.title, landscape=True)
