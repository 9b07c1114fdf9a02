"""The XLSX workbook sent back to agencies (in Vietnamese): a ranking sheet per group, the verdict sheet
with evidence links, the pages checked and the posts read (what each verdict rests on), the review queue,
one confirmation sheet ("Phiếu xác nhận") per agency, and the run's provenance ("Thông tin lần chạy").

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
from verifier.export.audit import Audit
from verifier.export.names import agency_page
from verifier.export.run_info import run_facts
from verifier.export.safe_text import cell_text, formula_like, safe_href
from verifier.score import rulebook_label

MAX_CELL = 32000            # Excel holds 32767 characters per cell
MAX_URL = 2000              # Excel refuses longer hyperlinks
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _s(value) -> str:
    return cell_text(value, limit=MAX_CELL)


class _Sheet:
    """A worksheet written row by row; every text goes through write_string."""

    def __init__(self, wb, ws, formats):
        self.wb, self.ws, self.f = wb, ws, formats
        self.row = 0

    def text(self, col, value, fmt=None, row=None):
        text, fmt = _s(value), fmt or self.f["cell"]
        if formula_like(text):
            fmt = self.f["quoted"][id(fmt)]
        self.ws.write_string(self.row if row is None else row, col, text, fmt)

    def number(self, col, value, fmt=None):
        if value is None:
            self.ws.write_blank(self.row, col, None, fmt or self.f["cell"])
        else:
            self.ws.write_number(self.row, col, value, fmt or self.f["num"])

    def link(self, col, url, display=None, fmt=None):
        """A hyperlink for http(s) URLs only; anything else is written as text."""
        url = url or ""
        href = safe_href(url)
        if href is not None and len(href) <= MAX_URL and self.wb_links_left():
            self.ws.write_url(self.row, col, href, fmt or self.f["link"], string=_s(display or url))
        else:
            self.text(col, display if display is not None else url, fmt)

    def local_link(self, col, path, display, fmt=None):
        """A link to a file of the report folder (e.g. the HTML evidence page)."""
        if self.wb_links_left():
            self.ws.write_url(self.row, col, f"external:{path}", fmt or self.f["link"], string=_s(display))
        else:
            self.text(col, display, fmt)

    def wb_links_left(self) -> bool:
        self._links = getattr(self, "_links", 0) + 1
        return self._links < 65000

    def header(self, names, widths=None):
        for i, name in enumerate(names):
            self.text(i, name, self.f["head"])
            if widths:
                self.ws.set_column(i, i, widths[i])
        self.ws.freeze_panes(self.row + 1, 0)
        self.row += 1

    def next(self, n=1):
        self.row += n


def _formats(wb) -> dict:
    """The workbook's formats by name, and under "quoted" each one's twin with Excel's quote prefix (by id)."""
    base = {"font_name": "Arial", "font_size": 10, "valign": "top"}
    props = {
        "cell": {**base, "text_wrap": True},
        "num": {**base, "num_format": "0.00"},
        "int": {**base, "num_format": "0"},
        "head": {**base, "bold": True, "text_wrap": True, "bg_color": "#DDE7F0", "border": 1},
        "title": {**base, "bold": True, "font_size": 13},
        "bold": {**base, "bold": True, "text_wrap": True},
        "boldnum": {**base, "bold": True, "num_format": "0.00"},
        "section": {**base, "bold": True, "italic": True, "bg_color": "#F2F2F2"},
        "link": {**base, "font_color": "blue", "underline": 1, "text_wrap": True},
        "italic": {**base, "italic": True, "text_wrap": True},
    }
    formats = {name: wb.add_format(p) for name, p in props.items()}
    formats["quoted"] = {id(formats[name]): wb.add_format({**p, "quote_prefix": True}) for name, p in props.items()}
    return formats


def _sheet_name(base: str, used: set[str]) -> str:
    name = _BAD_SHEET_CHARS.sub("_", cell_text(base).replace("\n", " ")).strip("'")[:31] or "Sheet"
    candidate, n = name, 2
    while candidate.casefold() in used:
        suffix = f" ({n})"
        candidate = name[:31 - len(suffix)] + suffix
        n += 1
    used.add(candidate.casefold())
    return candidate


def found_text(audit: Audit, verdict: Verdict) -> str:
    """What the check found, in Vietnamese, for the agency to confirm."""
    parts = [L.reason_label(verdict.reason)]
    if verdict.posts_in_year is not None:
        parts.append(f"{verdict.posts_in_year} bài viết trong kỳ đánh giá")
    if verdict.discovered:
        parts.append("chuyên mục tìm thấy qua menu của cổng")
    if verdict.checked_url:
        parts.append(f"đã kiểm tra: {verdict.checked_url}")
    if verdict.reason == "logic_check" and verdict.detail:
        parts.append(verdict.detail)
    view = audit.override(verdict.agency_id, verdict.criterion)
    if view is not None:
        o = view.override
        parts.append(f"điều chỉnh: {L.status_label(o.status)} ({o.by}, {L.vn_datetime(o.at)}): {o.note}")
    return "; ".join(parts)


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
                       "comments": f"{rulebook_label(audit.rulebook)}, run {audit.run_id}"})
    formats = _formats(wb)
    used: set[str] = set()
    for gid, gname, members in audit.groups():
        _ranking_sheet(audit, _Sheet(wb, wb.add_worksheet(_sheet_name(f"{L.RANKING} {gid}", used)), formats),
                       gname, members)
    _verdict_sheet(audit, _Sheet(wb, wb.add_worksheet(_sheet_name("Kết quả kiểm tra", used)), formats), link_html)
    _pages_sheet(audit, _Sheet(wb, wb.add_worksheet(_sheet_name(L.PAGES, used)), formats))
    _posts_sheet(audit, _Sheet(wb, wb.add_worksheet(_sheet_name(L.POSTS_LIST, used)), formats))
    _queue_sheet(audit, _Sheet(wb, wb.add_worksheet(_sheet_name(L.REVIEW_QUEUE, used)), formats))
    for agency in audit.data.agencies:
        name = _sheet_name(f"PXN {agency.agency_id}", used)
        _confirmation_sheet(audit, _Sheet(wb, wb.add_worksheet(name), formats), agency)
    _run_sheet(audit, _Sheet(wb, wb.add_worksheet(_sheet_name(L.RUN_INFO, used)), formats))
    wb.close()
    tmp.replace(path)
    return path


def _heading(audit: Audit, sh: _Sheet, title: str) -> None:
    sh.text(0, title, sh.f["title"])
    sh.next()
    start, end = audit.period
    sh.text(0, f"{L.RULEBOOK}: {audit.rulebook.province} {audit.rulebook.year} ({rulebook_label(audit.rulebook)}); "
               f"{L.PERIOD}: {L.vn_date(start)} – {L.vn_date(end)}; {L.GENERATED}: {L.vn_moment(audit.generated_at)}; "
               f"{L.RUN} {audit.run_id} (xem trang tính “{L.RUN_INFO}”)",
            sh.f["italic"])
    sh.next(2)


def _ranking_sheet(audit: Audit, sh: _Sheet, group_name: str, members) -> None:
    _heading(audit, sh, f"{L.RANKING} – {group_name}")
    sh.header([L.RANKING, L.AGENCY_ID, L.AGENCY, L.SCORE, L.MAX_SCORE, L.PERCENT, L.LEVEL, "Cần xem xét", L.NOTE],
              [9, 16, 40, 9, 11, 10, 13, 11, 45])
    for s in members:
        sh.number(0, s.rank, sh.f["int"])
        sh.text(1, s.agency_id)
        sh.text(2, s.agency_name)
        sh.number(3, s.score)
        sh.number(4, s.max_score)
        sh.number(5, s.percent)
        sh.text(6, s.level or "")
        sh.number(7, s.pending, sh.f["int"])
        sh.text(8, "" if s.ranked else f"{L.NOT_RANKED_HEAD}: {L.not_ranked_label(s, audit.rulebook.deadline)}")
        sh.next()


def _verdict_sheet(audit: Audit, sh: _Sheet, link_html: bool) -> None:
    _heading(audit, sh, "Kết quả kiểm tra từng tiêu chí")
    sh.header([L.AGENCY_ID, L.AGENCY, L.CRITERION_ID, L.CRITERION, L.REPORTED, L.CHECKED_URL, L.RESULT,
               L.REASON_HEAD, L.POSTS, L.DISCOVERED, L.SCORE, L.MAX_SCORE, L.OVERRIDE, L.CHECKED_AT,
               L.EVIDENCE, "Bản lưu (WARC)", L.DETAIL],
              [14, 28, 20, 36, 36, 36, 14, 30, 10, 10, 8, 8, 36, 16, 22, 30, 40])
    names = {a.agency_id: a.agency_name for a in audit.data.agencies}
    for v in audit.verdicts:
        criterion = audit.rulebook.by_id.get(v.criterion)
        cp = audit.points(v.agency_id, v.criterion)
        view = audit.override(v.agency_id, v.criterion)
        sh.text(0, v.agency_id)
        sh.text(1, names.get(v.agency_id, ""))
        sh.text(2, v.criterion)
        sh.text(3, criterion.name if criterion else "")
        sh.text(4, audit.reported_text(v.agency_id, v.criterion))
        sh.link(5, v.checked_url)
        sh.text(6, L.status_label(v.status, v.reason))
        sh.text(7, L.reason_label(v.reason))
        sh.number(8, v.posts_in_year, sh.f["int"])
        sh.text(9, L.YES if v.discovered else "")
        sh.number(10, cp.points if cp else None)
        sh.number(11, cp.max_points if cp else None)
        if view is not None:
            o = view.override
            flag = f" [{L.MACHINE_CHANGED}]" if view.machine_changed else ""
            sh.text(12, f"{L.status_label(o.status)} – {o.by}, {L.vn_datetime(o.at)}: {o.note}{flag}")
        sh.text(13, L.vn_datetime(v.checked_at))
        if link_html and (v.pages or v.posts or v.detail):
            sh.local_link(14, f"html/{agency_page(v.agency_id)}#{v.criterion}", "Xem bằng chứng")
        sh.text(15, "\n".join(p.warc_record for p in v.pages if p.warc_record))
        sh.text(16, v.detail)
        sh.next()


def _pages_sheet(audit: Audit, sh: _Sheet) -> None:
    """Every page fetched for a verdict: what it was, what category it showed, and its WARC record."""
    _heading(audit, sh, L.PAGES)
    sh.header([L.AGENCY_ID, L.CRITERION_ID, "Mục đích", "HTTP", "Loại trang", "Chuyên mục nhận diện",
               "Tên chuyên mục trên trang", "Số bài", "URL", L.CHECKED_AT, "Bản lưu (WARC)"],
              [14, 20, 14, 8, 10, 20, 36, 8, 50, 16, 34])
    for v in audit.verdicts:
        for page in v.pages:
            sh.text(0, v.agency_id)
            sh.text(1, v.criterion)
            sh.text(2, L.PURPOSE.get(page.purpose, page.purpose))
            if page.status is None:
                sh.text(3, page.error or "")
            else:
                sh.number(3, page.status, sh.f["int"])
            sh.text(4, page.kind or "")
            sh.text(5, page.category or "")
            sh.text(6, page.category_label or "")
            sh.number(7, page.posts, sh.f["int"])
            sh.link(8, page.final_url or page.url)
            sh.text(9, L.vn_datetime(page.fetched_at))
            sh.text(10, page.warc_record or "")
            sh.next()


def _posts_sheet(audit: Audit, sh: _Sheet) -> None:
    """Every post a verdict read, with its dates and whether it counts in the period."""
    _heading(audit, sh, L.POSTS_LIST)
    sh.header([L.AGENCY_ID, L.CRITERION_ID, "Tiêu đề", "URL", "Ngày đăng", "Ngày cập nhật", "Nguồn ngày",
               "Trong kỳ"], [14, 20, 50, 50, 12, 12, 10, 9])
    start, end = audit.period
    for v in audit.verdicts:
        for post in v.posts:
            sh.text(0, v.agency_id)
            sh.text(1, v.criterion)
            sh.text(2, post.title)
            sh.link(3, post.url)
            sh.text(4, L.vn_date(post.published))
            sh.text(5, L.vn_date(post.updated))
            sh.text(6, post.date_source or "")
            sh.text(7, L.YES if any(start <= d <= end for d in post.dates) else "")
            sh.next()


def _queue_sheet(audit: Audit, sh: _Sheet) -> None:
    _heading(audit, sh, L.REVIEW_QUEUE)
    sh.header([L.AGENCY_ID, L.CRITERION_ID, L.RESULT, L.REASON_HEAD, L.OVERRIDE, L.DETAIL],
              [14, 22, 14, 36, 40, 60])
    for v, _cp in audit.review_queue():
        view = audit.override(v.agency_id, v.criterion)
        sh.text(0, v.agency_id)
        sh.text(1, v.criterion)
        sh.text(2, L.status_label(v.status, v.reason))
        sh.text(3, L.reason_label(v.reason))
        if view is not None:
            o = view.override
            sh.text(4, f"{L.status_label(o.status)} – {o.by}, {L.vn_datetime(o.at)}: {o.note}"
                       + (f" [{L.MACHINE_CHANGED}]" if view.machine_changed else ""))
        sh.text(5, v.detail)
        sh.next()


def _confirmation_sheet(audit: Audit, sh: _Sheet, agency) -> None:
    rb = audit.rulebook
    score = audit.score(agency.agency_id)
    sh.ws.set_landscape()
    sh.ws.fit_to_pages(1, 0)
    sh.ws.repeat_rows(7)
    sh.text(0, f"{L.CONFIRMATION.upper()} KẾT QUẢ ĐÁNH GIÁ MỨC ĐỘ ỨNG DỤNG CNTT NĂM {rb.year}", sh.f["title"])
    sh.next(2)
    start, end = audit.period
    rows = [
        (L.AGENCY, f"{agency.agency_name} ({agency.agency_id})"),
        (L.GROUP, rb.groups.get(agency.group, agency.group)),
        (L.PERIOD, f"{L.vn_date(start)} – {L.vn_date(end)}"),
        ("Ngày nộp phiếu", L.vn_date(score.submitted_at) if score else ""),
    ]
    for label, value in rows:
        sh.text(0, label, sh.f["bold"])
        sh.text(1, value)
        sh.next()
    sh.next()
    sh.header(["STT", L.CRITERION, L.REPORTED, L.FOUND, L.RESULT, L.SCORE, L.MAX_SCORE],
              [6, 46, 34, 52, 16, 9, 11])
    section = None
    vmap = {v.criterion: v for v in audit.verdicts_of(agency.agency_id)}
    for i, criterion in enumerate(rb.criteria_for(agency.group), start=1):
        this_section = criterion.section or (L.WEBSITE_SECTION if criterion.kind == "website" else L.KIND["reported"])
        if this_section and this_section != section:
            sh.text(1, this_section, sh.f["section"])
            sh.next()
            section = this_section
        v = vmap.get(criterion.id)
        cp = audit.points(agency.agency_id, criterion.id)
        sh.number(0, i, sh.f["int"])
        sh.text(1, criterion.name + (f" ({criterion.unit})" if criterion.unit else ""))
        sh.text(2, audit.reported_text(agency.agency_id, criterion.id))
        sh.text(3, found_text(audit, v) if v else "")
        sh.text(4, L.status_label(cp.status, v.reason if v else None) if cp else "")
        sh.number(5, cp.points if cp else None)
        sh.number(6, criterion.points)
        sh.next()
    sh.text(1, L.TOTAL, sh.f["bold"])
    sh.number(5, score.total if score else None, sh.f["boldnum"])
    sh.number(6, score.max_score if score else None, sh.f["boldnum"])
    sh.next(2)
    if score is not None:
        if score.ranked:
            summary = (f"{L.SCORE}: {L.vn_number(score.score)}/{L.vn_number(score.max_score)} "
                       f"({L.vn_number(score.percent)}%); {L.LEVEL}: {score.level}; "
                       f"{L.RANKING}: {score.rank}")
        else:
            summary = f"{L.NOT_RANKED_HEAD}: {L.not_ranked_label(score, rb.deadline)}"
        if score.pending:
            summary += f"; {score.pending} tiêu chí đang chờ thẩm định (chưa tính điểm)"
        sh.text(1, summary, sh.f["bold"])
        sh.next(2)
    sh.text(1, "Đề nghị đơn vị kiểm tra, xác nhận kết quả và gửi lại ý kiến (nếu có) cho Sở Thông tin và "
               "Truyền thông.", sh.f["italic"])
    sh.next(2)
    sh.text(1, "ĐẠI DIỆN ĐƠN VỊ\n(Ký, ghi rõ họ tên, đóng dấu)", sh.f["bold"])
    sh.text(3, "SỞ THÔNG TIN VÀ TRUYỀN THÔNG", sh.f["bold"])


def _run_sheet(audit: Audit, sh: _Sheet) -> None:
    """How the run was made: tool, version, command line, User-Agent, rulebook and its sha256, period, proxy,
    robots policy, start and end (+07:00)."""
    _heading(audit, sh, L.RUN_INFO)
    sh.ws.set_column(0, 0, 26)
    sh.ws.set_column(1, 1, 100)
    for label, value in run_facts(audit):
        sh.text(0, label, sh.f["bold"])
        sh.text(1, value)
        sh.next()
