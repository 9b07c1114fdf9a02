"""Forms: the blank self-assessment form of a group (XLSX or DOCX, in Vietnamese) and a folder of filled forms
read back (.xlsx; .docx; .xls and .doc through LibreOffice, verifier.office).

A filled form becomes the same records as reports.csv (verifier.intake.Report), validated by the same
code with the same messages; every problem names the form file, the row and the column (a column letter in a
workbook; in a Word document the table number and the column number).

Layout of the form (first sheet):
    rows 5–9, column C: agency id, agency name, submission date, group, rulebook
    row 11: the table header; every header cell ends with its key in brackets, e.g. "(criterion)"
    rows 12…: one row per criterion (section headings between them have no criterion id)
The Word form (verifier.forms_word) holds the same cells in two tables: the agency's fields (label, value),
then the criteria with the same header.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from verifier.errors import InputError, InputErrors, MalformedDate
from verifier.export.safe_text import cell_text, csv_cell
from verifier.intake import (
    Agency,
    BadValue,
    DuplicateRow,
    ListedItem,
    Report,
    Row,
    UnknownAgency,
    UnreadableFile,
    parse_day,
    read_sheet,
    reports_from_rows,
)
from verifier.reported import BadFigure, read_value
from verifier.rulebook import Rulebook

SHEET = "Phiếu"
VALUE_COL = 2                      # column C (0-based) holds the agency's answers above the table
FIELD_ROWS = {                     # key -> (row, label); rows as a spreadsheet shows them
    "agency_id": (5, "Mã đơn vị"),
    "agency_name": (6, "Tên đơn vị"),
    "submitted_at": (7, "Ngày gửi phiếu (dd/mm/yyyy)"),
    "group": (8, "Nhóm"),
    "rulebook": (9, "Bộ tiêu chí"),
}
HEADER_ROW = 11
COLUMNS = (                        # key, Vietnamese heading, width
    ("no", "STT", 5),
    ("criterion", "Mã tiêu chí", 20),
    ("name", "Tiêu chí", 55),
    ("unit", "Đơn vị tính", 12),
    ("value_or_url", "Giá trị hoặc đường dẫn (URL) chuyên mục", 45),
    ("not_applicable", "Không áp dụng (ghi x)", 12),
    ("note", "Giải trình nếu không áp dụng / ghi chú", 40),
    ("points", "Điểm tối đa", 9),
)
WEBSITE_SECTION = "Cổng/Trang thông tin điện tử (ghi đường dẫn chuyên mục)"
REPORTED_SECTION = "Số liệu báo cáo"     # reported criteria the rulebook gives no section
NA_MARK = "x"
_KEY = re.compile(r"\(([a-z_]+)\)\s*$")
REPORTS_CSV_COLUMNS = ("agency_id", "agency_name", "group", "criterion", "url", "value", "not_applicable", "note",
                       "submitted_at", "source")
_ROW_KEYS = ("agency_id", "criterion", "url", "value", "not_applicable", "note", "submitted_at")


class BadForm(InputError):
    """Not a form of this rulebook"""


def _col_letter(index: int) -> str:
    return chr(ord("A") + index)


def rulebook_tag(rulebook: Rulebook) -> str:
    return f"{rulebook.province} {rulebook.year}"


# the texts every blank form carries, whatever its format
def form_title(rulebook: Rulebook) -> str:
    return f"PHIẾU CUNG CẤP SỐ LIỆU ĐÁNH GIÁ MỨC ĐỘ ỨNG DỤNG CÔNG NGHỆ THÔNG TIN NĂM {rulebook.year}"


def form_subtitle(rulebook: Rulebook, group: str) -> str:
    return f"{rulebook.province} – {rulebook.groups[group]}"


def form_deadline(rulebook: Rulebook) -> str:
    return f"Hạn gửi phiếu: {rulebook.deadline:%d/%m/%Y}. Phiếu gửi sau thời hạn không được chấm điểm, xếp hạng."


NOTES = (
    "Hướng dẫn: tiêu chí website ghi đường dẫn (URL) của chuyên mục trên cổng/trang của đơn vị; tiêu chí số "
    "liệu ghi con số (tỷ lệ % ghi số từ 0 đến 100) hoặc Có/Không.",
    "Tiêu chí không thuộc chức năng, nhiệm vụ của đơn vị: ghi x ở cột \"Không áp dụng\" và giải trình lý do; "
    "không giải trình sẽ không được tính điểm cho đến khi được thẩm định.",
    "Không thay đổi cột \"Mã tiêu chí\".",
)


def check_group(rulebook: Rulebook, group: str) -> None:
    if group not in rulebook.groups:
        raise BadValue(f"group {group!r} is not one of {', '.join(rulebook.groups)}", column="--group")


def form_rows(rulebook: Rulebook, group: str) -> Iterator[tuple[str, int, object]]:
    """The table's rows in order: ("section", 0, heading) before each new section, ("criterion", number,
    criterion) for each criterion of the group."""
    section = None
    number = 0
    for criterion in rulebook.criteria_for(group):
        this_section = criterion.section or (WEBSITE_SECTION if criterion.kind == "website" else REPORTED_SECTION)
        if this_section and this_section != section:
            yield "section", 0, this_section
            section = this_section
        number += 1
        yield "criterion", number, criterion


def unit_text(criterion) -> str:
    return criterion.unit or ("URL" if criterion.kind == "website" else "")


# ------------------------------------------------------------------------------------------------ blank form

def write_form(rulebook: Rulebook, group: str, path: Path | str) -> Path:
    """Write the blank form of a group: a Word document when the path ends in .docx, else a workbook (XLSX).
    Raises BadValue for a group the rulebook does not have."""
    import xlsxwriter

    check_group(rulebook, group)
    path = Path(path)
    if path.suffix.lower() == ".docx":
        from verifier.forms_word import write_form_docx
        return write_form_docx(rulebook, group, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.xlsx")
    wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})
    ws = wb.add_worksheet(SHEET)
    base = {"font_name": "Arial", "font_size": 10, "valign": "top", "text_wrap": True}
    f_title = wb.add_format({**base, "bold": True, "font_size": 13, "text_wrap": False})
    f_label = wb.add_format({**base, "bold": True})
    f_head = wb.add_format({**base, "bold": True, "bg_color": "#DDE7F0", "border": 1, "align": "center"})
    f_input = wb.add_format({**base, "bg_color": "#FFF9D6", "border": 1, "locked": False})
    f_date = wb.add_format({**base, "bg_color": "#FFF9D6", "border": 1, "locked": False, "num_format": "dd/mm/yyyy"})
    f_fixed = wb.add_format({**base, "border": 1})
    f_section = wb.add_format({**base, "bold": True, "italic": True, "bg_color": "#F2F2F2", "border": 1})
    f_note = wb.add_format({**base, "italic": True, "font_color": "#444444"})
    for i, (_, _, width) in enumerate(COLUMNS):
        ws.set_column(i, i, width)
    ws.write_string(0, 0, form_title(rulebook), f_title)
    ws.write_string(1, 0, form_subtitle(rulebook, group), f_label)
    ws.write_string(2, 0, form_deadline(rulebook), f_note)
    for key, (row, label) in FIELD_ROWS.items():
        ws.merge_range(row - 1, 0, row - 1, 1, f"{label} ({key})", f_label)
        if key == "group":
            ws.write_string(row - 1, VALUE_COL, group, f_fixed)
        elif key == "rulebook":
            ws.write_string(row - 1, VALUE_COL, rulebook_tag(rulebook), f_fixed)
        elif key == "submitted_at":
            ws.write_blank(row - 1, VALUE_COL, None, f_date)
        else:
            ws.write_blank(row - 1, VALUE_COL, None, f_input)
    for i, (key, heading, _) in enumerate(COLUMNS):
        ws.write_string(HEADER_ROW - 1, i, f"{heading} ({key})", f_head)
    ws.freeze_panes(HEADER_ROW, 0)
    row = HEADER_ROW          # 0-based index of the first criterion row
    for what, number, criterion in form_rows(rulebook, group):
        if what == "section":
            ws.merge_range(row, 0, row, len(COLUMNS) - 1, criterion, f_section)
            row += 1
            continue
        ws.write_number(row, 0, number, f_fixed)
        ws.write_string(row, 1, cell_text(criterion.id), f_fixed)
        ws.write_string(row, 2, cell_text(criterion.name), f_fixed)
        ws.write_string(row, 3, cell_text(unit_text(criterion)), f_fixed)
        ws.write_blank(row, 4, None, f_input)
        ws.write_blank(row, 5, None, f_input)
        ws.write_blank(row, 6, None, f_input)
        ws.write_number(row, 7, criterion.points, f_fixed)
        ws.data_validation(row, 5, row, 5, {"validate": "list", "source": [NA_MARK], "error_type": "warning"})
        if criterion.formula == "yes_no":
            ws.data_validation(row, 4, row, 4, {"validate": "list", "source": ["Có", "Không"],
                                                "error_type": "warning"})
        elif criterion.kind == "reported":
            ws.data_validation(row, 4, row, 4, {"validate": "decimal", "criteria": ">=", "value": 0,
                                                "error_type": "warning",
                                                "error_message": "Nhập một số (ví dụ 85 hoặc 85,5)."})
        row += 1
    for text in NOTES:
        row += 1
        ws.merge_range(row, 0, row, len(COLUMNS) - 1, text, f_note)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(HEADER_ROW - 1)
    _write_list_sheets(wb, rulebook, group, dict(title=f_title, label=f_label, head=f_head, input=f_input,
                                                 date=f_date, fixed=f_fixed, note=f_note))
    wb.close()
    tmp.replace(path)
    return path


def _write_list_sheets(wb, rulebook: Rulebook, group: str, f: dict) -> None:
    """One sheet per list the group may have (verifier.forms_lists): the list's category link, then its items."""
    from verifier.forms_lists import (
        BLANK_ROWS_XLSX,
        LIST_COLUMNS,
        LIST_NOTE,
        block_head,
        list_criteria,
        list_sheet_name,
    )

    for index, criterion in enumerate(list_criteria(rulebook, group), start=1):
        ws = wb.add_worksheet(list_sheet_name(index))
        for i, (_, _, width) in enumerate(LIST_COLUMNS):
            ws.set_column(i, i, width)
        ws.write_string(0, 0, cell_text(criterion.name), f["title"])
        ws.write_string(1, 0, cell_text(f"Áp dụng cho: {', '.join(criterion.agencies)}"), f["note"])
        ws.merge_range(2, 0, 2, len(LIST_COLUMNS) - 1, LIST_NOTE, f["note"])
        ws.set_row(2, 42)
        head = block_head(criterion)
        ws.write_string(4, 0, cell_text(head[0]), f["label"])
        ws.write_string(4, 1, cell_text(head[1]), f["fixed"])
        ws.write_string(4, 2, cell_text(head[2]), f["label"])
        ws.merge_range(4, 3, 4, 4, None, f["input"])
        for i, (key, heading, _) in enumerate(LIST_COLUMNS):
            ws.write_string(5, i, f"{heading} ({key})", f["head"])
        for n in range(1, BLANK_ROWS_XLSX + 1):
            ws.write_number(5 + n, 0, n, f["fixed"])
            for col in range(1, len(LIST_COLUMNS)):
                ws.write_blank(5 + n, col, None, f["date"] if LIST_COLUMNS[col][0] == "issued" else f["input"])
        ws.freeze_panes(6, 0)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(5)


# ------------------------------------------------------------------------------------------------ reading

@dataclass(frozen=True)
class FilledForm:
    path: Path
    agency: Agency
    submitted_at: dt.date
    reports: tuple[Report, ...]
    agency_id_at: dict = field(default_factory=dict)     # where the agency id is written (file, table, row, column)
    items: tuple[ListedItem, ...] = ()                    # the lists' items (verifier.forms_lists)


@dataclass(frozen=True)
class Grid:
    """A form's cells as rows of values, whatever the file: a workbook's sheet, or a Word document's tables one
    after another (`places` then gives each row's table and row in that table)."""
    rows: list[list]
    value_col: int = VALUE_COL                          # the column of the agency's answers above the table
    places: tuple[tuple[int, int], ...] | None = None
    lists: tuple[tuple[str, Grid], ...] = ()            # a workbook's list sheets (name, cells); a Word
    # document's lists are tables of its own grid (verifier.forms_lists)

    def table_of(self, index: int) -> int | None:
        return None if self.places is None else self.places[index - 1][0]

    def row_of(self, index: int) -> int:
        """The row number as the agency sees it: the sheet's row, or the row in its Word table."""
        return index if self.places is None else self.places[index - 1][1]

    def column_name(self, col: int, heading: str) -> str:
        return f"{_col_letter(col) if self.places is None else col + 1} ({heading})"

    def where(self, file: str, index: int, col: int, heading: str) -> dict:
        """The file, table, row and column of a cell (row `index` 1-based, column `col` 0-based)."""
        return dict(file=file, table=self.table_of(index), row=self.row_of(index),
                    column=self.column_name(col, heading))


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


SHEET_SUFFIXES = (".xlsx", ".xlsm")
CONVERTED = {".xls": "xlsx", ".doc": "docx"}         # read once LibreOffice has converted them


def read_grid(path: Path, *, timeout: float | None = None) -> Grid:
    """The cells of a form file (.xlsx/.xlsm, .docx, or .xls/.doc through LibreOffice). Raises UnreadableFile
    (or a subclass) naming the file the agency sent, never a temporary one."""
    from verifier.forms_word import read_document
    from verifier.office import CONVERT_TIMEOUT, converted

    suffix = path.suffix.lower()
    if suffix in SHEET_SUFFIXES:
        return _workbook_grid(path)
    if suffix == ".docx":
        return read_document(path)
    to = CONVERTED[suffix]
    with converted(path, to, timeout=CONVERT_TIMEOUT if timeout is None else timeout) as copy:
        try:
            return _workbook_grid(copy) if to == "xlsx" else read_document(copy)
        except InputError as exc:
            raise type(exc)(exc.detail, file=str(path), hint=exc.hint) from None


def _workbook_grid(path: Path) -> Grid:
    """The form's sheet, with its list sheets ("Danh mục 1", ...)."""
    from openpyxl import load_workbook

    from verifier.forms_lists import LIST_SHEET

    main = read_sheet(path, SHEET)           # checks the zip's bounds and that it is a whole workbook first
    wb = load_workbook(path, read_only=True)
    try:
        names = [n for n in wb.sheetnames if n.startswith(LIST_SHEET)]
    finally:
        wb.close()
    return Grid(main, lists=tuple((n, Grid(read_sheet(path, n))) for n in names))


def _cell(rows, row: int, col: int):
    """The value at a spreadsheet row (1-based) and column index (0-based), or None."""
    if row - 1 < len(rows) and col < len(rows[row - 1]):
        return rows[row - 1][col]
    return None


def _find_fields(rows) -> dict[str, int]:
    """Rows of the agency fields, found by their bracketed keys in column A (forms may gain rows above)."""
    found = {}
    for i, r in enumerate(rows[:40], start=1):
        for cell in r[:2]:
            m = _KEY.search(_text(cell))
            if m and m.group(1) in FIELD_ROWS:
                found.setdefault(m.group(1), i)
    return found


def _find_header(rows) -> tuple[int, dict[str, int]] | None:
    for i, r in enumerate(rows, start=1):
        keys = {}
        for j, cell in enumerate(r):
            m = _KEY.search(_text(cell))
            if m:
                keys[m.group(1)] = j
        if "criterion" in keys and "value_or_url" in keys:
            return i, keys
    return None


def read_form(path: Path | str, registry: dict[str, Agency], rulebook: Rulebook, *,
              timeout: float | None = None) -> FilledForm:
    """One filled form as reports; raises InputErrors naming the file, row and column of every problem (and the
    table, in a Word document). `timeout` bounds a LibreOffice conversion (verifier.office.CONVERT_TIMEOUT)."""
    path = Path(path)
    grid = read_grid(path, timeout=timeout)
    rows = grid.rows
    name = str(path)
    fields = _find_fields(rows)
    header = _find_header(rows)
    missing = [k for k in ("agency_id", "submitted_at") if k not in fields]
    if header is None or missing:
        what = "the criteria table header" if header is None else f"the field(s) {', '.join(missing)}"
        row = HEADER_ROW if header is None and grid.places is None else None
        raise InputErrors([BadForm(f"{what} not found; use the form written by `portal-evidence form`",
                                   file=name, row=row)])
    header_row, keys = header
    errors: list[InputError] = []

    def where(key):
        return grid.where(name, fields[key], grid.value_col, FIELD_ROWS[key][1])

    def value(key):
        return _cell(rows, fields[key], grid.value_col)

    agency_id = _text(value("agency_id"))
    agency = registry.get(agency_id)
    if not agency_id:
        errors.append(BadValue("the agency id is blank", **where("agency_id")))
    elif agency is None:
        errors.append(UnknownAgency(repr(agency_id), **where("agency_id")))
    if agency is not None and "group" in fields:
        group = _text(value("group"))
        if group and group != agency.group:
            errors.append(BadForm(f"this is the form of group {group!r}, the agency is in group {agency.group!r}",
                                  hint=f"send the agency the form of group {agency.group}", **where("group")))
    if "rulebook" in fields:
        tag = _text(value("rulebook"))
        if tag and tag != rulebook_tag(rulebook):
            errors.append(BadForm(f"the form is for {tag!r}, the rulebook is {rulebook_tag(rulebook)!r}",
                                  **where("rulebook")))
    if agency is not None and "agency_name" in fields:
        written = _text(value("agency_name"))
        if written and _fold(written) != _fold(agency.agency_name):
            errors.append(BadValue(f"{written!r} disagrees with the registry ({agency.agency_name!r})",
                                   **where("agency_name")))
    raw_date = value("submitted_at")
    submitted = None
    try:
        submitted = (raw_date.date() if isinstance(raw_date, dt.datetime) else raw_date
                     if isinstance(raw_date, dt.date) else parse_day(_text(raw_date)))
    except ValueError:
        errors.append(MalformedDate(f"{_text(raw_date)!r} (use dd/mm/yyyy)", **where("submitted_at")))
    if submitted is None and not errors:
        # no date written: the file's modification date is when it arrived
        submitted = dt.datetime.fromtimestamp(path.stat().st_mtime).date()
    if agency is None or any(isinstance(x, BadForm) for x in errors):
        raise InputErrors(errors)      # the table cannot be checked for an unknown agency or another form

    letters = {
        "criterion": keys["criterion"], "url": keys["value_or_url"], "value": keys["value_or_url"],
        "not_applicable": keys.get("not_applicable"), "note": keys.get("note"),
    }
    table_no = grid.table_of(header_row)
    table: list[Row] = []
    items, list_rows = _read_lists(name, grid, agency, registry, rulebook, submitted, errors)
    for number in range(header_row + 1, len(rows) + 1):
        if grid.table_of(number) != table_no:
            break                      # a Word form's criteria end with their table
        criterion_id = _text(_cell(rows, number, keys["criterion"]))
        if not criterion_id:
            continue
        answer = _text(_cell(rows, number, keys["value_or_url"]))
        criterion = rulebook.by_id.get(criterion_id)
        is_website = criterion is None or criterion.kind == "website"
        na = _text(_cell(rows, number, keys["not_applicable"])) if "not_applicable" in keys else ""
        note = _text(_cell(rows, number, keys["note"])) if "note" in keys else ""
        if criterion is not None and not is_website and answer and not _na_flag(na):
            try:
                read_value(criterion, answer)
            except BadFigure as exc:
                errors.append(BadValue(f"{criterion_id}: {exc}", file=name, table=table_no,
                                       row=grid.row_of(number), column=_column_name("value", letters, grid)))
        table.append(Row(grid.row_of(number), {
            "agency_id": agency.agency_id, "criterion": criterion_id,
            "url": answer if is_website else "", "value": "" if is_website else answer,
            "not_applicable": na, "note": note, "submitted_at": submitted.isoformat() if submitted else "",
        }))
    try:
        reports = reports_from_rows(name, list(_ROW_KEYS), table, registry, rulebook)
    except InputErrors as exc:
        errors.extend(_relabel(e, letters, grid, table_no) for e in exc.errors)
        reports = []
    for where_file, block_table, row in list_rows:       # a list's category link: its criterion's report row
        try:
            reports += reports_from_rows(where_file, list(_ROW_KEYS), [row], registry, rulebook)
        except InputErrors as exc:
            errors.extend(type(e)(e.detail, file=e.file, table=block_table, row=e.row,
                                  column=row.values.get("_column") if e.column == "url" else e.column, hint=e.hint)
                          for e in exc.errors)
    if errors:
        raise InputErrors(sorted(errors, key=lambda e: (e.table or 0, e.row or 0)))
    return FilledForm(path, agency, submitted, tuple(reports), where("agency_id"), tuple(items))


def _read_lists(name: str, grid: Grid, agency: Agency, registry, rulebook: Rulebook, submitted, errors: list):
    """The lists of a form: (items, the category links as report rows with where they sit). A list left blank
    is no row at all; problems are added to `errors`."""
    from verifier.forms_lists import block_items, read_blocks

    grids = [(f"{name}, sheet {sheet!r}", g) for sheet, g in grid.lists] or [(name, grid)]
    items: list[ListedItem] = []
    rows: list[tuple[str, int | None, Row]] = []
    for where_file, g in grids:
        for block in read_blocks(g):
            if not block.category_url and not block.rows:
                continue
            try:
                items += block_items(where_file, block, agency.agency_id, registry, rulebook)
            except InputErrors as exc:
                errors.extend(exc.errors)
            rows.append((where_file, block.table, Row(block.category_row, {
                "agency_id": agency.agency_id, "criterion": block.criterion, "url": block.category_url,
                "value": "", "not_applicable": "", "note": "",
                "submitted_at": submitted.isoformat() if submitted else "", "_column": block.category_column})))
    return items, rows


def _na_flag(text: str) -> bool:
    from verifier.intake import parse_flag
    return bool(parse_flag(text))


def _fold(text: str) -> str:
    import unicodedata
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _column_name(key: str, letters: dict[str, int | None], grid: Grid) -> str:
    index = letters.get(key)
    heading = {k: h for k, h, _ in COLUMNS}
    form_key = "value_or_url" if key in ("url", "value") else key
    if index is None:
        return key
    return grid.column_name(index, heading.get(form_key, key))


def _relabel(error: InputError, letters, grid: Grid, table: int | None) -> InputError:
    """The same error, naming the form's column (and table) instead of the reports.csv column."""
    if error.column in letters:
        return type(error)(error.detail, file=error.file, table=table, row=error.row,
                           column=_column_name(error.column, letters, grid), hint=error.hint)
    return error


FORM_SUFFIXES = SHEET_SUFFIXES + (".docx",) + tuple(CONVERTED)
NOT_READ = (".ods", ".odt", ".pdf", ".rtf")


def read_forms(folder: Path | str, registry: dict[str, Agency], rulebook: Rulebook, *,
               timeout: float | None = None) -> list[FilledForm]:
    """Every filled form of a folder (name order). Raises InputErrors listing the problems of every file;
    two forms of one agency are an error naming both files."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputErrors([UnreadableFile("not a folder", file=str(folder))])
    errors: list[InputError] = []
    forms: list[FilledForm] = []
    paths = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(("~$", ".")))
    for path in paths:
        suffix = path.suffix.lower()
        if suffix in NOT_READ:
            errors.append(UnreadableFile(f"{suffix} forms are not read", file=str(path),
                                         hint="open it and save it as .xlsx or .docx"))
            continue
        if suffix not in FORM_SUFFIXES:
            continue
        try:
            forms.append(read_form(path, registry, rulebook, timeout=timeout))
        except InputErrors as exc:
            errors.extend(exc.errors)
        except InputError as exc:
            errors.append(exc)
    if not forms and not errors:
        errors.append(UnreadableFile(f"no forms ({', '.join(FORM_SUFFIXES)}) in this folder", file=str(folder)))
    seen: dict[str, FilledForm] = {}
    for form in forms:
        first = seen.get(form.agency.agency_id)
        if first is not None:
            errors.append(DuplicateRow(f"agency {form.agency.agency_id!r} also sent {first.path}",
                                       **form.agency_id_at, hint="keep one form per agency in the folder"))
        else:
            seen[form.agency.agency_id] = form
    if errors:
        raise InputErrors(errors)
    return forms


def reports_csv(forms: list[FilledForm], registry: dict[str, Agency]) -> str:
    """The forms as reports.csv text, the shape the crawl reads; every cell neutralised (csv_cell)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORTS_CSV_COLUMNS)
    for form in forms:
        agency = registry[form.agency.agency_id]
        for r in form.reports:
            writer.writerow([csv_cell(c) for c in (
                r.agency_id, agency.agency_name, agency.group, r.criterion, r.url, r.value,
                "x" if r.not_applicable else "", r.note, r.submitted_at.isoformat() if r.submitted_at else "",
                r.source)])
    return out.getvalue()


def items_csv(forms: list[FilledForm]) -> str:
    """The forms' lists as items.csv text (the shape `crawl --items` reads); every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ITEMS_CSV_COLUMNS)
    for form in forms:
        for row in form.items:
            item = row.item
            writer.writerow([csv_cell(c) for c in (row.agency_id, row.criterion, item.number, item.title,
                                                   item.issued.isoformat() if item.issued else "", item.url or "")])
    return out.getvalue()


ITEMS_CSV_COLUMNS = ("agency_id", "criterion", "number", "title", "issued", "url")


def intake_forms(folder: Path | str, registry: dict[str, Agency], rulebook: Rulebook,
                 out: Path | str, *, timeout: float | None = None, items_out: Path | str | None = None
                 ) -> list[FilledForm]:
    """Read every form of the folder and write reports.csv, and the lists' items to `items_out` (default:
    items.csv beside reports.csv, when a form lists any); nothing is written when any form has a problem."""
    forms = read_forms(folder, registry, rulebook, timeout=timeout)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    texts = [(out, reports_csv(forms, registry))]
    if items_out is not None or any(f.items for f in forms):
        texts.append((Path(items_out) if items_out else out.with_name("items.csv"), items_csv(forms)))
    for path, text in texts:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return forms
