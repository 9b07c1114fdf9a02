"""The form as a Word document (python-docx): the blank form of a group written as .docx, a filled .docx read back.

The document carries what the XLSX form carries (verifier.forms), in two tables: table 1 the agency's fields
(label with its key in brackets, then the value), table 2 the criteria under the same bracketed header. A filled
document is read as a Grid of its tables' rows one after another, so the XLSX form's checks and messages apply
unchanged; only the places differ (table, row in the table, column number).
"""

from __future__ import annotations

from pathlib import Path

from verifier.errors import InputError
from verifier.export.safe_text import cell_text
from verifier.forms import (
    COLUMNS,
    FIELD_ROWS,
    NOTES,
    Grid,
    check_group,
    form_deadline,
    form_rows,
    form_subtitle,
    form_title,
    rulebook_tag,
    unit_text,
)
from verifier.intake import MAX_COLUMNS, MAX_ROWS, TooLarge, UnreadableFile, check_zip
from verifier.rulebook import Rulebook

# A4 landscape, as the XLSX form prints: 297 × 210 mm, 12 mm margins; the columns (verifier.forms.COLUMNS, in
# order) shared out in these proportions: the XLSX form's, with room for "STT" and two-digit numbers
PAGE_MM = (297, 210)
COLUMN_SHARES = (10, 30, 70, 16, 58, 18, 48, 13)
MARGIN_MM = 12
HEAD_FILL = "DDE7F0"
SECTION_FILL = "F2F2F2"
INPUT_FILL = "FFF9D6"
FONT = "Arial"


def write_form_docx(rulebook: Rulebook, group: str, path: Path | str) -> Path:
    """Write the blank form of a group as a Word document (A4 landscape). Raises BadValue for an unknown group."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm, Pt

    check_group(rulebook, group)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(MARGIN_MM))
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(10)
    normal.paragraph_format.space_after = Pt(2)

    _paragraph(doc, form_title(rulebook), bold=True, size=13)
    _paragraph(doc, form_subtitle(rulebook, group), bold=True)
    _paragraph(doc, form_deadline(rulebook), italic=True)

    fields = doc.add_table(rows=0, cols=2)
    fields.style = "Table Grid"
    for key, (_, label) in FIELD_ROWS.items():
        cells = fields.add_row().cells
        _write(cells[0], f"{label} ({key})", bold=True)
        if key == "group":
            _write(cells[1], group)
        elif key == "rulebook":
            _write(cells[1], rulebook_tag(rulebook))
        else:
            _shade(cells[1], INPUT_FILL)
    _widths(fields, [Mm(80), Mm(100)])
    _paragraph(doc, "")

    usable = PAGE_MM[0] - 2 * MARGIN_MM
    widths = [Mm(usable * share / sum(COLUMN_SHARES)) for share in COLUMN_SHARES]
    table = doc.add_table(rows=1, cols=len(COLUMNS))
    table.style = "Table Grid"
    for cell, (key, heading, _) in zip(table.rows[0].cells, COLUMNS):
        _write(cell, f"{heading} ({key})", bold=True)
        _shade(cell, HEAD_FILL)
    _row_mark(table.rows[0], "w:tblHeader")
    for what, number, item in form_rows(rulebook, group):
        cells = table.add_row().cells
        if what == "section":
            merged = cells[0].merge(cells[-1])
            _write(merged, item, bold=True, italic=True)
            _shade(merged, SECTION_FILL)
            continue
        values = (str(number), item.id, item.name, unit_text(item), None, None, None, f"{item.points:g}")
        for cell, value in zip(cells, values):
            if value is None:
                _shade(cell, INPUT_FILL)
            else:
                _write(cell, cell_text(value))
    _widths(table, widths)
    for row in table.rows:
        _row_mark(row, "w:cantSplit")
    _paragraph(doc, "")
    for text in NOTES:
        _paragraph(doc, text, italic=True)
    _list_tables(doc, rulebook, group, usable)

    tmp = path.with_name(path.name + ".tmp.docx")
    doc.save(str(tmp))
    tmp.replace(path)
    return path


LIST_SHARES = (8, 30, 80, 26, 60)       # the list tables' columns (verifier.forms_lists.LIST_COLUMNS)


def _list_tables(doc, rulebook: Rulebook, group: str, usable: float) -> None:
    """One table per list the group may have: the list's name and category link, then a row per item."""
    from docx.shared import Mm

    from verifier.forms_lists import BLANK_ROWS_DOCX, LIST_COLUMNS, LIST_NOTE, block_head, list_criteria

    lists = list_criteria(rulebook, group)
    if lists:
        _paragraph(doc, "")
        _paragraph(doc, "DANH MỤC CÔNG BỐ TRÊN CỔNG THÔNG TIN ĐIỆN TỬ", bold=True)
        _paragraph(doc, LIST_NOTE, italic=True)
    widths = [Mm(usable * share / sum(LIST_SHARES)) for share in LIST_SHARES]
    for criterion in lists:
        _paragraph(doc, f"{criterion.name} (áp dụng cho: {', '.join(criterion.agencies)})", bold=True)
        table = doc.add_table(rows=2, cols=len(LIST_COLUMNS))
        table.style = "Table Grid"
        head = table.rows[0].cells
        for cell, text in zip(head, block_head(criterion)):
            if text:
                _write(cell, cell_text(text), bold="(" in text)
        _shade(head[3], INPUT_FILL)
        for cell, (key, heading, _) in zip(table.rows[1].cells, LIST_COLUMNS):
            _write(cell, f"{heading} ({key})", bold=True)
            _shade(cell, HEAD_FILL)
        _row_mark(table.rows[1], "w:tblHeader")
        for n in range(1, BLANK_ROWS_DOCX + 1):
            cells = table.add_row().cells
            _write(cells[0], str(n))
            for cell in cells[1:]:
                _shade(cell, INPUT_FILL)
        _widths(table, widths)


def _paragraph(doc, text: str, *, bold=False, italic=False, size=None):
    from docx.shared import Pt

    run = doc.add_paragraph().add_run(text)
    run.bold, run.italic = bold, italic
    if size:
        run.font.size = Pt(size)


def _write(cell, text: str, *, bold=False, italic=False) -> None:
    """A cell's text in one run (a cell starts with one empty paragraph)."""
    run = cell.paragraphs[0].add_run(text)
    run.bold, run.italic = bold, italic


def _shade(cell, fill: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _row_mark(row, tag: str) -> None:
    """A row property: w:tblHeader (printed again at the top of every page), w:cantSplit (kept on one page)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    mark = OxmlElement(tag)
    mark.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(mark)


def _widths(table, widths) -> None:
    """Fixed column widths (Word reads the cells' widths, LibreOffice the grid's)."""
    table.autofit = False
    for column, width in zip(table.columns, widths):
        column.width = width
    for row in table.rows:
        for cell, width in zip(_distinct(row.cells), widths):
            cell.width = width


def _distinct(cells):
    """A row's cells without the repeats python-docx gives for a merged cell (one per grid column it spans)."""
    out = []
    for cell in cells:
        if not out or cell._tc is not out[-1]._tc:
            out.append(cell)
    return out


# ------------------------------------------------------------------------------------------------ reading

def read_document(path: Path | str) -> Grid:
    """The rows of every table of a Word document (.docx), in order, with each row's table and row number.

    A merged cell's value is in its first column only, as in a workbook. Raises UnreadableFile for a file that
    is not a whole .docx, TooLarge above the bounds (checked on the zip's directory before unpacking)."""
    from docx import Document

    path = Path(path)
    try:
        check_zip(path)
    except TooLarge:
        raise
    except UnreadableFile as exc:
        raise UnreadableFile(exc.detail.replace("XLSX workbook", "Word document (.docx)"), file=str(path),
                             hint="save it as .docx (Word document)") from None
    rows: list[list] = []
    places: list[tuple[int, int]] = []
    try:
        doc = Document(str(path))
        for number, table in enumerate(doc.tables, start=1):
            for row_number, row in enumerate(table.rows, start=1):
                values, previous = [], None
                for cell in row.cells[:MAX_COLUMNS]:
                    values.append(None if cell._tc is previous else cell.text.strip())
                    previous = cell._tc
                rows.append(values)
                places.append((number, row_number))
                if len(rows) > MAX_ROWS:
                    raise TooLarge(f"more than {MAX_ROWS} table rows", file=str(path))
    except InputError:
        raise
    except Exception as exc:     # noqa: BLE001 - python-docx meets a damaged file with many types (KeyError,
        # PackageNotFoundError, XMLSyntaxError, ValueError...): all mean "not a whole document"
        raise UnreadableFile(f"not a readable Word document ({type(exc).__name__}: {exc})", file=str(path),
                             hint="the file is damaged or cut short: open it in Word and save it again") from None
    if not rows:
        raise UnreadableFile("the document has no table: it is not the form", file=str(path),
                             hint="use the form written by `portal-evidence form`")
    return Grid(rows, value_col=1, places=tuple(places))
