"""The form's lists: one block per listed criterion the group may have (a sheet of the workbook, a table of the
Word document), written blank and read back into the rows of items.csv.

A block is a line naming the list and its category link, then a table of items under a bracketed header:

    <list's name> (criterion) | <criterion id> | Đường dẫn chuyên mục (category_url) | <the category's URL>
    STT (no) | Số ký hiệu (number) | Trích yếu / Tên (title) | Ngày ban hành (issued) | Đường dẫn (url)
    1        | 15/2018/QĐ-UBND     | ...                     | 05/03/2018             | http://...

The category link becomes the criterion's report row (as reports.csv's `url`), the items the rows of items.csv,
validated by verifier.intake with the same messages, naming the form file (and sheet, or table), row and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verifier.errors import InputError, InputErrors
from verifier.intake import ITEM_OPTIONAL, ListedItem, Row, items_from_rows
from verifier.rulebook import Criterion, Rulebook

LIST_SHEET = "Danh mục"            # the workbook's list sheets: "Danh mục 1", "Danh mục 2", ...
LIST_COLUMNS = (                   # key, Vietnamese heading, width
    ("no", "STT", 5),
    ("number", "Số ký hiệu", 22),
    ("title", "Trích yếu / Tên", 60),
    ("issued", "Ngày ban hành (dd/mm/yyyy)", 16),
    ("url", "Đường dẫn (URL) trên cổng", 45),
)
CATEGORY_LABEL = "Đường dẫn chuyên mục"
LIST_NOTE = ("Mỗi dòng một mục (văn bản, dự án, chương trình) đơn vị đã ban hành hoặc thực hiện trong năm; mỗi mục "
             "phải được đăng trên cổng/trang thông tin điện tử của đơn vị. Ghi đường dẫn của chuyên mục đăng các mục "
             "này; thêm dòng nếu cần. Danh mục không thuộc nhiệm vụ của đơn vị: để trống.")
BLANK_ROWS_XLSX = 30
BLANK_ROWS_DOCX = 10
_KEY = re.compile(r"\(([a-z_]+)\)\s*$")


def list_criteria(rulebook: Rulebook, group: str) -> list[Criterion]:
    """The lists a form of the group carries: every listed criterion of the group (each names its agencies)."""
    return [c for c in rulebook.listed_criteria() if group in c.groups]


def block_head(criterion: Criterion) -> list[str]:
    return [f"{criterion.name} (criterion)", criterion.id, f"{CATEGORY_LABEL} (category_url)", ""]


def list_sheet_name(index: int) -> str:
    return f"{LIST_SHEET} {index}"


# ------------------------------------------------------------------------------------------------ reading

@dataclass(frozen=True)
class ListBlock:
    """One list as read from a form: its criterion, the category link and where it sits, its item rows."""
    criterion: str
    category_url: str
    category_row: int
    category_column: str
    table: int | None
    rows: tuple[Row, ...]
    columns: dict[str, str]          # items.csv column -> the form's column name


def _text(value) -> str:
    from verifier.forms import _text as text
    return text(value)


def read_blocks(grid, *, label=None) -> list[ListBlock]:
    """The list blocks of a grid (a list sheet, or a Word document's tables), in order."""
    rows = grid.rows
    blocks: list[ListBlock] = []
    i = 0
    while i < len(rows):
        keys = _keys(rows[i])
        if "category_url" not in keys or "criterion" not in keys:
            i += 1
            continue
        head_at, table = i + 1, grid.table_of(i + 1)
        criterion = _text(_at(rows[i], keys["criterion"] + 1))
        url_col = keys["category_url"] + 1
        url = _text(_at(rows[i], url_col))
        j = i + 1
        header: dict[str, int] = {}
        if j < len(rows) and grid.table_of(j + 1) == table:
            header = {k: c for k, c in _keys(rows[j]).items() if k in ITEM_OPTIONAL}
            j += 1
        items = []
        while j < len(rows) and grid.table_of(j + 1) == table and "category_url" not in _keys(rows[j]):
            values = {k: _text(_at(rows[j], c)) for k, c in header.items()}
            if any(values.values()):
                items.append(Row(grid.row_of(j + 1), values))
            j += 1
        heads = {k: h for k, h, _ in LIST_COLUMNS}
        columns = {k: grid.column_name(c, heads[k]) for k, c in header.items()}
        blocks.append(ListBlock(criterion, url, grid.row_of(head_at), grid.column_name(url_col, CATEGORY_LABEL),
                                table, tuple(items), columns))
        i = j
    return blocks


def _keys(row) -> dict[str, int]:
    keys = {}
    for j, cell in enumerate(row or ()):
        m = _KEY.search(_text(cell))
        if m:
            keys.setdefault(m.group(1), j)
    return keys


def _at(row, col: int):
    return row[col] if row is not None and 0 <= col < len(row) else None


def block_items(name: str, block: ListBlock, agency_id: str, registry, rulebook: Rulebook) -> list[ListedItem]:
    """The items of one block as items.csv rows, validated by verifier.intake; its errors name the form's
    columns (and table). Raises InputErrors."""
    header = ["agency_id", "criterion", *ITEM_OPTIONAL]
    rows = [Row(r.number, {"agency_id": agency_id, "criterion": block.criterion,
                           **{k: r.values.get(k, "") for k in ITEM_OPTIONAL}}) for r in block.rows]
    try:
        return items_from_rows(name, header, rows, registry, rulebook)
    except InputErrors as exc:
        raise InputErrors([_relabel(e, block) for e in exc.errors]) from None


def _relabel(error: InputError, block: ListBlock) -> InputError:
    column = block.columns.get(error.column or "")
    if error.column == "criterion":
        column = "criterion"
    return type(error)(error.detail, file=error.file, table=block.table, row=error.row,
                       column=column or error.column, hint=error.hint)
