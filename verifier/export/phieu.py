"""The confirmation form sent to each agency ("phiếu xác nhận"), as an A4 PDF and an A4 XLSX: DIR/phieu/<agency>.pdf
and DIR/phieu/<agency>.xlsx.

The layout is that of a Vietnamese administrative document: the issuing body and the national motto side by
side, the place and date line (the date left for the Department to write in, unless `dated` is given), the
title, the agency's criteria grouped by section with what was reported, checked and found, the result and
points in words, under a listed criterion its items (each found on the portal, where, or not) and, for a
criterion not passed, why and how to fix it (verifier.export.hints); then the
total, level and rank, a legend of the levels, the agency's response and two signature blocks.

One record (`Form`) is built from the audit and both renderers read it. The PDF comes from a Jinja2 template
(autoescape on: crawled titles and labels stay text) through WeasyPrint, its dates set from the run, so the
same run gives the same bytes; the XLSX writes every text as a string, with Excel's quote prefix on one that
would read as a formula (verifier.export.safe_text).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from urllib.parse import unquote

import xlsxwriter
from jinja2 import Environment, PackageLoader, select_autoescape

from crawler.records import Verdict
from verifier.errors import InputError
from verifier.export import labels as L
from verifier.export.audit import Audit
from verifier.export.hints import audit_hint, error_words, kind_words, main_page, needs_hint, newest_date
from verifier.export.names import safe_name
from verifier.export.safe_text import cell_text, formula_like, show_invisible
from verifier.verdict import content_check_labels

ISSUER = "SỞ THÔNG TIN VÀ TRUYỀN THÔNG"
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
TITLE = "PHIẾU XÁC NHẬN KẾT QUẢ ĐÁNH GIÁ, XẾP HẠNG MỨC ĐỘ ỨNG DỤNG CÔNG NGHỆ THÔNG TIN NĂM {year}"
SIGN_AGENCY = ("ĐẠI DIỆN ĐƠN VỊ", "(Ký, ghi rõ họ tên, đóng dấu)")
SIGN_DEPARTMENT = ("ĐẠI DIỆN SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "(Ký, ghi rõ họ tên)")
BLANK_DATE = "ngày …… tháng …… năm ……"
RESPONSE = ("Ý kiến của đơn vị: □ Đồng ý với kết quả     □ Không đồng ý (nêu rõ tiêu chí và lý do)",
            "Ý kiến cụ thể: " + "." * 150)
REQUEST = ("Đề nghị đơn vị kiểm tra kết quả, ghi ý kiến, ký xác nhận và gửi lại phiếu cho Sở Thông tin và "
           "Truyền thông.")
HINT_HEAD = "Lý do, cách khắc phục"
WEBSITE_SECTION = "Cổng/Trang thông tin điện tử"
REPORTED_SECTION = "Số liệu báo cáo"
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV")
RESULT = L.STATUS          # the same words as the report, the workbook and the console
NO_FORM_RESULT = "Chưa báo cáo"
SCORED_FOUND = "Số liệu hợp lệ, chấm điểm theo số liệu báo cáo"
COLUMNS = ("STT", "Tiêu chí", "Đơn vị báo cáo", "Kết quả kiểm tra", "Kết quả", "Điểm / tối đa")
ITEM_COLUMNS = ("Số ký hiệu / tên", "Ngày ban hành", "Nơi tìm thấy", "Kết quả")


@dataclass(frozen=True)
class FormItem:
    """One item of a list the agency sent, as the form shows it: found on the portal (where) or not."""
    name: str               # "15/2018/QĐ-UBND – Quyết định …", or the title alone
    issued: str
    where: str              # the page it was found on, or how many pages were searched
    result: str


@dataclass(frozen=True)
class FormRow:
    number: int
    name: str
    reported: str
    found: str
    result: str
    points: float | None
    max_points: float
    hint: str = ""          # why and how to fix, for a criterion not passed
    items: tuple[FormItem, ...] = ()    # a listed criterion's items, each found or not


@dataclass(frozen=True)
class FormSection:
    title: str
    rows: tuple[FormRow, ...]


@dataclass(frozen=True)
class Form:
    agency_id: str
    agency_name: str
    group_name: str
    province: str
    year: int
    title: str
    place_date: str
    period: tuple[dt.date, dt.date]
    submitted_at: dt.date | None
    checked_at: dt.datetime | None
    sections: tuple[FormSection, ...]
    total: float | None
    max_score: float
    percent: float | None
    level: str | None
    rank: int | None
    ranked_in_group: int
    standing: str           # "Xếp loại Khá; xếp thứ 2/3 trong nhóm …" or why not ranked
    legend: tuple[str, ...]
    generated_at: dt.datetime
    rulebook_title: str

    @property
    def issuer(self) -> tuple[str, str]:
        return f"UBND TỈNH {self.province.upper()}", ISSUER

    @property
    def rows(self) -> list[FormRow]:
        return [r for s in self.sections for r in s.rows]


# ------------------------------------------------------------------------------------------------ the record

def build_form(audit: Audit, agency, *, dated: dt.date | None = None) -> Form:
    """The form of one agency (a verifier.store.AgencyInfo of the audit)."""
    rb = audit.rulebook
    score = audit.score(agency.agency_id)
    verdicts = {v.criterion: v for v in audit.verdicts_of(agency.agency_id)}
    sections, number = [], 0
    maximum = rb.max_points(agency.group, agency.agency_id)     # a list counts for the agencies it names
    for title, criteria in _sections(rb.criteria_for(agency.group, agency.agency_id)):
        rows = []
        for criterion in criteria:
            number += 1
            rows.append(_row(audit, agency.agency_id, criterion, verdicts.get(criterion.id), number))
        sections.append(FormSection(title, tuple(rows)))
    group_members = [s for s in audit.scores if s.group == agency.group and s.ranked]
    when = BLANK_DATE if dated is None else f"ngày {dated.day:02d} tháng {dated.month:02d} năm {dated.year}"
    checked = [v.checked_at for v in verdicts.values() if v.checked_at]
    return Form(
        agency_id=agency.agency_id, agency_name=agency.agency_name,
        group_name=rb.groups.get(agency.group, agency.group), province=rb.province, year=rb.year,
        title=TITLE.format(year=rb.year), place_date=f"{rb.province}, {when}", period=audit.period,
        submitted_at=score.submitted_at if score else None, checked_at=max(checked) if checked else None,
        sections=tuple(sections), total=score.total if score and score.points else None,
        max_score=maximum, percent=score.percent if score else None,
        level=score.level if score else None, rank=score.rank if score else None,
        ranked_in_group=len(group_members), standing=_standing(audit, score, len(group_members)),
        legend=tuple(f"{name}: {words}" for name, words in L.level_legend(rb.levels, maximum)),
        generated_at=audit.generated_at,
        rulebook_title=rb.title)


def _sections(criteria):
    """(heading, criteria) in the order each section first appears: a section listed again later in the
    rulebook joins its first appearance, so no heading shows twice. Website criteria have no section of their
    own: they come under the portal's heading, numbered like the others."""
    order: dict[str, list] = {}
    for c in criteria:
        title = c.section or (WEBSITE_SECTION if c.kind == "website" else REPORTED_SECTION)
        order.setdefault(title, []).append(c)
    out = []
    for i, (title, members) in enumerate(order.items()):
        out.append((f"{ROMAN[i] if i < len(ROMAN) else i + 1}. {_strip_number(title)}", members))
    return out


def _strip_number(title: str) -> str:
    """'II. Ứng dụng CNTT' -> 'Ứng dụng CNTT': the form numbers its sections itself, once each."""
    head, sep, rest = title.partition(". ")
    return rest if sep and head.strip().upper() in ROMAN else title


def _row(audit: Audit, agency_id: str, criterion, verdict: Verdict | None, number: int) -> FormRow:
    cp = audit.points(agency_id, criterion.id)
    name = criterion.name + (f" ({criterion.unit})" if criterion.unit and criterion.is_reported else "")
    if cp is None or verdict is None:
        return FormRow(number, name, audit.reported_text(agency_id, criterion.id), "", NO_FORM_RESULT, None,
                       criterion.points)
    status = cp.status
    result = RESULT.get(status, status)
    if verdict.reason == "scored" and not cp.overridden:
        result = RESULT["pass"] if cp.points > 0 or not criterion.points else RESULT["fail"]
    return FormRow(number, name, audit.reported_text(agency_id, criterion.id), found_words(audit, verdict),
                   result, cp.points, criterion.points,
                   audit_hint(audit, agency_id, criterion.id) if needs_hint(criterion, verdict, cp) else "",
                   tuple(_item(f) for f in verdict.items))


def _item(f) -> FormItem:
    """One crawl.records.ItemFinding in the form's words; its number, title and page are the agency's or the
    portal's text, shown as text by both renderers."""
    name = " – ".join(x for x in (" ".join(f.item.number.split()), " ".join(f.item.title.split())) if x)
    # the page as a reader types it: a search page's percent-escaped query in its letters
    where = unquote(f.page_url or "", errors="replace") if f.status == "found" \
        else f"đã tìm trong {len(f.searched)} trang"
    return FormItem(name, L.vn_date(f.item.issued) if f.item.issued else "", where,
                    L.ITEM_STATUS.get(f.status, f.status))


def found_words(audit: Audit, verdict: Verdict) -> str:
    """What was checked and found, in Vietnamese words: "Trang chuyên mục “Tin tức, sự kiện”; 24 bài viết
    trong năm 2018"."""
    rb = audit.rulebook
    parts = []
    page = main_page(verdict)
    if page is not None:
        what = kind_words(page.kind) or "trang"
        category = rb.by_id[page.category].name if page.category in rb.by_id else page.category_label
        if page.kind == "listing" and category:
            what += f" “{' '.join(category.split())}”"
        elif page.category_label and page.kind != "home":
            what += f" (tên trên trang: “{' '.join(page.category_label.split())}”)"
        if page.status is not None and page.status >= 400:
            what = f"lỗi HTTP {page.status}"
        elif page.error:
            what = f"không truy cập được ({error_words(page.error)})"
        if verdict.reason == "blocked":     # a firewall's answer, not the page: said so, with its status
            what = L.reason_label("blocked") + (f" (HTTP {page.status})" if page.status is not None else "")
        parts.append(what[:1].upper() + what[1:])
    elif verdict.reason == "scored":
        parts.append(SCORED_FOUND)
    elif not (verdict.reason == "undated" and verdict.posts):     # the count below says it
        parts.append(L.reason_label(verdict.reason))
    if verdict.posts_in_year and verdict.reason != "undated":
        parts.append(f"{verdict.posts_in_year} bài viết trong năm {rb.year}")
    if verdict.reason == "undated" and verdict.posts:
        parts.append(f"{len(verdict.posts)} bài viết, không xác định được ngày đăng")
    elif verdict.posts_in_year == 0 and page is not None:
        parts.append(f"không có bài viết trong năm {rb.year}")
    if verdict.reason in ("content_ok", "missing_content"):
        found, missing = content_check_labels(verdict)
        parts.append(f"có đủ nội dung bắt buộc: {'; '.join(found)}" if verdict.reason == "content_ok"
                     else f"thiếu nội dung bắt buộc: {'; '.join(missing)}")
    newest = newest_date(verdict)
    if verdict.reason == "no_posts_in_year" and newest is not None:
        parts.append(f"bài mới nhất ngày {L.vn_date(newest)}")
    if verdict.discovered:
        parts.append("chuyên mục tìm thấy qua menu của cổng")
    view = audit.override(verdict.agency_id, verdict.criterion)
    if view is not None:
        o = view.override
        parts.append(f"người thẩm định điều chỉnh thành “{RESULT.get(o.status, o.status)}” "
                     f"({o.by}, {L.vn_date(L.local_time(o.at))}): {o.note}")
    return "; ".join(parts)


def _standing(audit: Audit, score, in_group: int) -> str:
    if score is None:
        return ""
    if not score.ranked:
        return f"Không xếp hạng: {L.not_ranked_label(score, audit.rulebook.deadline)}"
    group = audit.rulebook.groups.get(score.group, score.group)
    text = f"Xếp loại: {score.level}; xếp thứ {score.rank}/{in_group} trong nhóm {group}"
    if score.pending:
        text += f" ({score.pending} tiêu chí đang chờ thẩm định, chưa tính điểm)"
    return text


def points_text(points: float | None, maximum: float) -> str:
    return f"{L.vn_number(points) if points is not None else '–'} / {L.vn_number(maximum)}"


# ------------------------------------------------------------------------------------------------ PDF

_ENV = Environment(loader=PackageLoader("verifier.export", "templates"), autoescape=select_autoescape(["j2", "html"]),
                   trim_blocks=True, lstrip_blocks=True)
_ENV.filters["shown"] = show_invisible          # invisible characters as marks; autoescape does the rest
_ENV.filters["points"] = points_text
_ENV.filters["vn_date"] = L.vn_date
_ENV.filters["vn_number"] = L.vn_number
_ENV.filters["local_date"] = lambda value: L.vn_date(L.local_time(value))


def render_html(form: Form) -> str:
    """The form as one HTML page for print (A4 portrait), its CSS inline."""
    css = (files("verifier.export") / "templates" / "phieu.css").read_text(encoding="utf-8")
    stamp = form.generated_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return _ENV.get_template("phieu.html.j2").render(form=form, css=css, stamp=stamp, columns=COLUMNS,
                                                     hint_head=HINT_HEAD, item_columns=ITEM_COLUMNS,
                                                     sign=(SIGN_AGENCY, SIGN_DEPARTMENT),
                                                     nation=NATION, motto=MOTTO, response=RESPONSE,
                                                     request=REQUEST)


class PdfUnavailable(InputError):
    """Cannot render PDF forms: WeasyPrint cannot load pango"""


def write_form_pdf(form: Form, path: Path) -> Path:
    """Render the form to PDF at `path` (written to path.tmp, then renamed). Raises PdfUnavailable."""
    try:
        from weasyprint import HTML  # imported here: loading pango costs a second other exports need not pay
    except OSError as exc:            # the system library is missing: not a disk problem
        raise PdfUnavailable(str(exc).splitlines()[0][:200],
                             hint="install pango (Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
                                  "fonts-liberation2)") from None

    tmp = path.with_name(path.name + ".tmp")
    HTML(string=render_html(form)).write_pdf(tmp)
    tmp.replace(path)
    return path


# ------------------------------------------------------------------------------------------------ XLSX

# column widths (in widths of "0" at Arial 10): STT, criterion, reported, found, result, points, max
_WIDTHS = (5, 27, 18, 30, 11, 7, 7)
_LINE_PT = 12.75        # one line of Arial 10
_CHAR_FACTOR = 1.1      # a Vietnamese letter at Arial 10 is narrower than a "0": more fit than the width says


def write_form_xlsx(form: Form, path: Path) -> Path:
    """Write the form as a one-sheet workbook at `path`, A4 portrait, fit to one page wide."""
    tmp = path.with_name(path.name + ".tmp")
    wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})
    wb.set_properties({"title": cell_text(f"{L.CONFIRMATION} – {form.agency_name}"),
                       "created": form.generated_at.replace(tzinfo=None)})
    ws = wb.add_worksheet(L.CONFIRMATION)
    _XlsxForm(wb, ws, form).write()
    wb.close()
    tmp.replace(path)
    return path


class _XlsxForm:
    def __init__(self, wb, ws, form: Form):
        self.wb, self.ws, self.form, self.row = wb, ws, form, 0
        base = {"font_name": "Arial", "font_size": 10, "valign": "top", "text_wrap": True}
        cell = {**base, "border": 1}
        props = {
            "plain": base,
            "center": {**base, "align": "center"},
            "center_bold": {**base, "align": "center", "bold": True},
            "center_bold_u": {**base, "align": "center", "bold": True, "underline": 1},
            "center_italic": {**base, "align": "center", "italic": True},
            "title": {**base, "align": "center", "bold": True, "font_size": 12, "valign": "vcenter"},
            "head": {**cell, "bold": True, "align": "center", "valign": "vcenter", "bg_color": "#E8E8E8"},
            "section": {**cell, "bold": True, "bg_color": "#F4F4F4"},
            "cell": cell,
            "cell_center": {**cell, "align": "center"},
            "hint": {**cell, "italic": True},
            "num": {**cell, "align": "center"},          # General: 3, 5.4, 3.75 (no "3.")
            "bold": {**base, "bold": True},
            "date": {**base, "num_format": "dd/mm/yyyy", "align": "left"},
            "italic": {**base, "italic": True},
        }
        self.f = {name: wb.add_format(p) for name, p in props.items()}
        self.quoted = {name: wb.add_format({**p, "quote_prefix": True}) for name, p in props.items()}

    # one cell or a merged range of text; every text is written as a string
    def text(self, first_col: int, value, fmt: str, last_col: int | None = None) -> None:
        text = cell_text(value)
        chosen = self.quoted[fmt] if formula_like(text) else self.f[fmt]
        if last_col is not None and last_col > first_col:
            self.ws.merge_range(self.row, first_col, self.row, last_col, "", chosen)
        self.ws.write_string(self.row, first_col, text, chosen)

    def height(self, cells: list[tuple[str, int, int]], *, bold: bool = False, minimum: int = 1) -> None:
        """Set the row's height from its texts' wrapped length: (text, first col, last col) per cell."""
        lines = minimum
        for text, first, last in cells:
            width = sum(_WIDTHS[first:last + 1])
            lines = max(lines, wrapped_lines(text, width, bold=bold))
        self.ws.set_row(self.row, _LINE_PT * lines + 3)

    def write(self) -> None:
        ws, form = self.ws, self.form
        for i, width in enumerate(_WIDTHS):
            ws.set_column(i, i, width)
        left, right = form.issuer
        self.text(0, left, "center", 2)
        self.text(3, NATION, "center_bold", 6)
        self.row += 1
        self.text(0, right, "center_bold_u", 2)
        self.text(3, MOTTO, "center_bold_u", 6)
        self.height([(right, 0, 2), (MOTTO, 3, 6)], bold=True)
        self.row += 1
        self.text(3, form.place_date, "center_italic", 6)
        self.row += 2
        self.text(0, form.title, "title", 6)
        self.height([(form.title, 0, 6)], bold=True)
        self.row += 1
        self.text(0, form.agency_name, "title", 6)
        self.height([(form.agency_name, 0, 6)], bold=True)
        self.row += 2
        self._facts()
        self.row += 1
        header_row = self.row
        for col, name in enumerate(COLUMNS[:5]):
            self.text(col, name, "head")
        self.text(5, COLUMNS[5], "head", 6)
        self.height([(COLUMNS[3], 3, 3), (COLUMNS[5], 5, 6)], bold=True)
        self.row += 1
        for section in form.sections:
            self.text(0, section.title, "section", 6)
            self.height([(section.title, 0, 6)], bold=True)
            self.row += 1
            for r in section.rows:
                self._criterion(r)
        self._totals()
        last = self.row - 1
        ws.repeat_rows(header_row)
        ws.print_area(0, 0, last, len(_WIDTHS) - 1)
        ws.set_paper(9)
        ws.set_portrait()
        ws.fit_to_pages(1, 0)
        ws.center_horizontally()
        ws.set_margins(left=0.98, right=0.59, top=0.79, bottom=0.79)   # 25/15/20/20 mm, as documents are printed
        ws.set_header(f"&R&8{_header_text(form.agency_id)}")
        ws.set_footer("&C&9Trang &P/&N")
        ws.hide_gridlines(2)

    def _facts(self) -> None:
        form = self.form
        rows = [("Nhóm", form.group_name, None), ("Kỳ đánh giá từ ngày", None, form.period[0]),
                ("Đến ngày", None, form.period[1]), ("Ngày nộp phiếu", None, form.submitted_at),
                ("Ngày kiểm tra", None, L.local_time(form.checked_at).date() if form.checked_at else None)]
        for label, text, date in rows:
            self.text(0, label, "bold", 1)
            if date is not None:
                self.ws.merge_range(self.row, 2, self.row, 3, "", self.f["date"])
                self.ws.write_datetime(self.row, 2, dt.datetime.combine(date, dt.time()), self.f["date"])
            else:
                self.text(2, text or "", "plain", 6)
            self.row += 1

    def _criterion(self, r: FormRow) -> None:
        self.ws.write_number(self.row, 0, r.number, self.f["cell_center"])
        self.text(1, r.name, "cell")
        self.text(2, r.reported, "cell")
        self.text(3, r.found, "cell")
        self.text(4, r.result, "cell_center")
        if r.points is None:
            self.ws.write_blank(self.row, 5, None, self.f["num"])
        else:
            self.ws.write_number(self.row, 5, r.points, self.f["num"])
        self.ws.write_number(self.row, 6, r.max_points, self.f["num"])
        self.height([(r.name, 1, 1), (r.reported, 2, 2), (r.found, 3, 3), (r.result, 4, 4)])
        self.row += 1
        if r.items:
            self._items(r.items)
        if r.hint:
            text = f"{HINT_HEAD}: {r.hint}"
            self.ws.write_blank(self.row, 0, None, self.f["cell"])
            self.text(1, text, "hint", 6)
            self.height([(text, 1, 6)])
            self.row += 1

    def _items(self, items) -> None:
        """A header row, then a row per item under the criterion: name, date, where found, result."""
        cols = ((1, 1), (2, 2), (3, 3), (4, 6))
        for values, fmt in ((ITEM_COLUMNS, "head"), *(((i.name, i.issued, i.where, i.result), "cell")
                                                     for i in items)):
            self.ws.write_blank(self.row, 0, None, self.f["cell"])
            for (first, last), value in zip(cols, values, strict=True):
                self.text(first, value, fmt, last)
            self.height([(v, first, last) for (first, last), v in zip(cols, values, strict=True)],
                        bold=fmt == "head")
            self.row += 1

    def _totals(self) -> None:
        form = self.form
        self.text(0, "", "cell")
        self.text(1, L.TOTAL, "section", 4)
        if form.total is None:
            self.ws.write_blank(self.row, 5, None, self.f["num"])
        else:
            self.ws.write_number(self.row, 5, form.total, self.f["num"])
        self.ws.write_number(self.row, 6, form.max_score, self.f["num"])
        self.row += 2
        lines = []
        if form.percent is not None and form.level:
            lines.append(f"Tổng điểm: {points_text(form.total, form.max_score)} ({L.vn_number(form.percent)}%)")
        if form.standing:
            lines.append(form.standing)
        lines.append("Mức xếp loại: " + "; ".join(form.legend) + ".")
        lines.extend((REQUEST, *RESPONSE))
        for line in lines:
            self.text(0, line, "plain", 6)
            self.height([(line, 0, 6)])
            self.row += 1
        self.row += 1
        (a_head, a_note), (d_head, d_note) = SIGN_AGENCY, SIGN_DEPARTMENT
        self.text(0, a_head, "center_bold", 2)
        self.text(3, d_head, "center_bold", 6)
        self.height([(a_head, 0, 2), (d_head, 3, 6)], bold=True)
        self.row += 1
        self.text(0, a_note, "center_italic", 2)
        self.text(3, d_note, "center_italic", 6)
        self.row += 1
        self.ws.set_row(self.row, 60)        # room to sign and stamp
        self.row += 1


def _header_text(agency_id: str) -> str:
    # Excel reads & in a header as a code: doubled, it prints as itself
    return cell_text(f"{L.CONFIRMATION} – {agency_id}").replace("&", "&&")[:200]


def wrapped_lines(text: str, width: float, *, bold: bool = False) -> int:
    """How many lines a text takes in a wrapping cell `width` characters wide (each paragraph wraps by words)."""
    per_line = max(1, int(width * _CHAR_FACTOR * (0.9 if bold else 1.0)) - 1)
    total = 0
    for paragraph in (text or "").split("\n"):
        line, count = 0, 1
        for word in paragraph.split(" "):
            size = len(word)
            if line and line + 1 + size > per_line:
                count += 1
                line = 0
            while size > per_line:          # a long URL breaks anywhere
                count += 1
                size -= per_line
            line = line + (1 if line else 0) + size
        total += count
    return max(1, total)


# ------------------------------------------------------------------------------------------------ the export

def write_phieu(audit: Audit, out_dir: Path | str, *, dated: dt.date | None = None, agencies=None,
                pdf: bool = True, xlsx: bool = True) -> list[Path]:
    """Write DIR/phieu/<agency>.pdf and .xlsx for every agency of the run (or those whose ids are in
    `agencies`); `dated` fills the date line, else it is left for the Department to write. Returns the paths
    written."""
    folder = Path(out_dir) / "phieu"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for agency in audit.data.agencies:
        if agencies is not None and agency.agency_id not in agencies:
            continue
        form = build_form(audit, agency, dated=dated)
        name = safe_name(agency.agency_id)
        if pdf:
            written.append(write_form_pdf(form, folder / f"{name}.pdf"))
        if xlsx:
            written.append(write_form_xlsx(form, folder / f"{name}.xlsx"))
    return written
