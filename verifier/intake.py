"""Intake: the agency registry and the agencies' reports (CSV or XLSX), validated as a whole.

Every problem is collected with its file, row and column and raised together
(InputErrors), so a reviewer fixes the file once; nothing is half-read.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from crawler.items import normalise_number
from crawler.records import Item
from crawler.urls import BadURL, Scope, normalise_url
from verifier.errors import InputError, InputErrors, MalformedDate, MalformedURL, Problems, UnknownCriterion
from verifier.export.safe_text import csv_unquote
from verifier.rulebook import Rulebook

TRUE_WORDS = frozenset({"1", "x", "true", "có", "co", "yes", "y", "không áp dụng", "ko áp dụng"})
FALSE_WORDS = frozenset({"", "0", "false", "không", "khong", "no", "n"})
REGISTRY_COLUMNS = ("agency_id", "agency_name", "group", "portal")
REGISTRY_OPTIONAL = ("render",)
RENDER_MODES = ("auto", "always", "off")     # crawler.render: a portal whose listings are filled in by script
REPORT_COLUMNS = ("agency_id", "criterion", "url")
REPORT_OPTIONAL = ("value", "not_applicable", "note", "submitted_at")
# items.csv: the items of the lists (listed criteria), one row per item, beside reports.csv
ITEM_COLUMNS = ("agency_id", "criterion")
ITEM_OPTIONAL = ("number", "title", "issued", "url")
# the columns the product reads
KNOWN_COLUMNS = frozenset(REGISTRY_COLUMNS + REGISTRY_OPTIONAL + REPORT_COLUMNS + REPORT_OPTIONAL + ITEM_OPTIONAL)
MULTILINE_COLUMNS = frozenset({"note", "agency_name"})     # free text, where a line break may belong
XLSX_SUFFIXES = (".xlsx", ".xlsm")
# Bounds on an input (a province's registry and reports are well under 1 MiB): a CSV's size, an XLSX's
# unpacked size (checked before unpacking), its parts, the rows and columns read
MAX_INPUT_BYTES = 64 << 20
MAX_XLSX_MEMBERS = 10_000
MAX_ROWS = 100_000
MAX_COLUMNS = 64


class MissingColumn(InputError):
    """Missing column"""


class UnknownAgency(InputError):
    """Agency not in the registry"""


class BadValue(InputError):
    """Bad value"""


class DuplicateRow(InputError):
    """Duplicate rows disagree"""


class UnreadableFile(InputError):
    """Cannot read file"""


class TooLarge(UnreadableFile):
    """File too large"""


class BadCSV(UnreadableFile):
    """Malformed CSV"""


class BadEncoding(UnreadableFile):
    """Not UTF-8"""


class DuplicateColumn(InputError):
    """Duplicate column"""


@dataclass(frozen=True)
class Agency:
    agency_id: str
    agency_name: str
    group: str
    portal: str           # as registered (one or more URLs, space separated)
    scope: Scope
    render: str = ""      # the registry's render mode for this portal (RENDER_MODES), "" for the run's


@dataclass(frozen=True)
class Report:
    agency_id: str
    criterion: str
    url: str              # as reported ("" when blank)
    value: str = ""
    not_applicable: bool = False
    note: str = ""
    submitted_at: dt.date | None = None
    source: str = ""      # "file:row"


@dataclass(frozen=True)
class Row:
    number: int           # as a spreadsheet shows it: the header is row 1
    values: dict[str, str]


def read_table(path: Path | str) -> tuple[list[str], list[Row]]:
    """Header (lower-cased) and rows of a CSV (UTF-8) or XLSX file. Raises UnreadableFile or InputErrors."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableFile(f"{type(exc).__name__}: {exc}", file=str(path)) from None
    if size > MAX_INPUT_BYTES:
        raise TooLarge(f"{_size(size)}; the limit is {_size(MAX_INPUT_BYTES)}", file=str(path),
                       hint="split the file or remove what is not a header or a row of data")
    if path.suffix.lower() in XLSX_SUFFIXES:
        rows = [["" if v is None else _cell_text(v) for v in r] for r in read_sheet(path)]
        return _table(path, rows)
    return _read_csv(path)


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


# ------------------------------------------------------------------------------------------------ CSV

def _read_csv(path: Path):
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"{type(exc).__name__}: {exc}", file=str(path)) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BadEncoding("the file is UTF-16 (Excel's \"Unicode Text\")", file=str(path), row=1,
                          hint='save the file as "CSV UTF-8"')
    if data.startswith(b"PK\x03\x04"):
        raise UnreadableFile("this is a workbook (XLSX) with a CSV name", file=str(path),
                             hint="name it .xlsx, or save it as \"CSV UTF-8\"")
    # undecodable bytes are kept as lone surrogates, so each is reported at its row and column below
    text = data.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
    sample = text[:4096]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter if sample.strip() else ","
    except csv.Error:
        delimiter = ","
    # only the delimiter is guessed: the quote is always '"' (a guessed "'" would read a neutralised
    # '=cell as an opening quote)
    dialect = type("Dialect", (csv.excel,), {"delimiter": delimiter})
    # strict: a stray quote is an error at its line, not a cell that quietly swallows the next rows
    reader = csv.reader((m.group() for m in _LINE.finditer(text)), dialect, strict=True)
    rows: list[list[str]] = []
    lines: list[tuple[int, int]] = []          # first and last line of each record
    first = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InputErrors([BadCSV(f"{exc} (line {reader.line_num}, in the record that starts on line {first})",
                                      file=str(path), row=len(rows) + 1,
                                      hint="a quote (\") that opens a cell must close it; "
                                           "write a quote inside a cell as two quotes (\"\")")]) from None
        rows.append([csv_unquote(c) for c in record])
        lines.append((first, reader.line_num))
        first = reader.line_num + 1
        if len(rows) > MAX_ROWS + 1:
            raise TooLarge(f"more than {MAX_ROWS} rows", file=str(path))
    start = _header_index(rows) or 0
    header = [fold_header(c) for c in rows[start]] if rows else []
    errors = (_encoding_errors(path, header, rows, start)
              or _line_break_errors(path, header, rows, lines, delimiter))
    if errors:
        raise InputErrors(errors)
    return _table(path, rows)


_UNDECODED = re.compile("[\udc80-\udcff]")
# the lines of a text as csv wants them (ending \r\n, \n or \r), one at a time: no second copy of a big file
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def _encoding_errors(path: Path, header: list[str], rows: list[list[str]], header_at: int) -> list[InputError]:
    """Every cell holding a byte that is not UTF-8, by row and column."""
    errors = Problems()
    for number, raw in enumerate(rows, start=1):
        for i, cell in enumerate(raw):
            bad = _UNDECODED.search(cell)
            if bad:
                byte = ord(bad.group()) - 0xDC00
                errors.append(BadEncoding(f"byte 0x{byte:02X} is not UTF-8", file=str(path), row=number,
                                          column=_column(header, i) if number > header_at + 1 else _letter(i),
                                          hint="save the file as \"CSV UTF-8\""))
    return errors


def _line_break_errors(path, header, rows, lines, delimiter) -> list[InputError]:
    """A line break inside a cell where none belongs: an unclosed quote read the next lines into it."""
    errors = Problems()
    width = max(len([h for h in header if h]), 2)
    for number, (raw, (first, last)) in enumerate(zip(rows, lines), start=1):
        if first == last:
            continue
        for i, cell in enumerate(raw):
            if "\n" not in cell and "\r" not in cell:
                continue
            name = header[i] if i < len(header) else ""
            swallowed = any(line.count(delimiter) >= width - 1 for line in cell.splitlines()[1:])
            if name in MULTILINE_COLUMNS and not swallowed:
                continue
            errors.append(BadCSV(f"a line break inside the cell (the record runs from line {first} to line {last}): "
                                 "a quote opened here is not closed, and the next lines were read into this cell",
                                 file=str(path), row=number, column=_column(header, i),
                                 hint="close the quote, or write a quote inside a cell as two quotes (\"\")"))
    return errors


def _letter(index: int) -> str:
    """A column letter as a spreadsheet shows it (0 -> A, 26 -> AA)."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def _column(header: list[str], index: int) -> str:
    name = header[index] if index < len(header) else ""
    return name or _letter(index)


# ------------------------------------------------------------------------------------------------ XLSX

def check_zip(path: Path) -> None:
    """Refuse an XLSX that would unpack to more than MAX_INPUT_BYTES (a zip bomb) before reading any of it.

    Reading is bounded by the members' declared sizes (zipfile stops there, and a CRC check catches a lie)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise UnreadableFile(f"not a readable XLSX workbook ({exc})", file=str(path),
                             hint="save it as .xlsx (Excel workbook)") from None
    if len(infos) > MAX_XLSX_MEMBERS:
        raise TooLarge(f"the workbook holds {len(infos)} parts; the limit is {MAX_XLSX_MEMBERS}", file=str(path))
    total = sum(i.file_size for i in infos)
    if total > MAX_INPUT_BYTES:
        big = max(infos, key=lambda i: i.file_size)
        ratio = big.file_size / max(big.compress_size, 1)
        raise TooLarge(f"it would unpack to {_size(total)} ({big.filename}: {_size(big.file_size)} from "
                       f"{_size(big.compress_size)}, {ratio:.0f}:1); the limit is {_size(MAX_INPUT_BYTES)}",
                       file=str(path), hint="a workbook of agencies or reports is far smaller: "
                                             "open it, keep the data, save it again")


def read_sheet(path: Path | str, sheet: str | None = None) -> list[list]:
    """The cell values (cell_value) of a workbook's sheet (named, else the first), bounded in size.

    Raises UnreadableFile for a file that is not a whole workbook (truncated, corrupt, not a zip) and
    TooLarge for one above the bounds."""
    from openpyxl import load_workbook
    from openpyxl.cell.read_only import EMPTY_CELL

    path = Path(path)
    check_zip(path)
    rows: list[list] = []
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            ws = wb[sheet] if sheet and sheet in wb.sheetnames else wb.worksheets[0]
            # read within MAX_ROWS x MAX_COLUMNS whatever the sheet declares: a tiny file with a cell at
            # XFD1048576 would otherwise be padded out to 17 billion empty cells
            for row in ws.iter_rows(max_row=MAX_ROWS + 1, max_col=MAX_COLUMNS):
                # rows the sheet skips come as one shared tuple of empty cells: counted, not converted
                rows.append([] if all(c is EMPTY_CELL for c in row) else [cell_value(c) for c in row])
        finally:
            wb.close()
    except InputError:
        raise
    except Exception as exc:     # noqa: BLE001 - openpyxl meets a corrupt file with many types (ParseError,
        # zlib.error, BadZipFile, KeyError, IndexError, TypeError, EOFError...): all mean "not a whole workbook"
        raise UnreadableFile(f"not a readable XLSX workbook ({type(exc).__name__}: {exc})", file=str(path),
                             hint="the file is damaged or cut short: open it in Excel and save it again") from None
    if len(rows) > MAX_ROWS:
        raise TooLarge(f"more than {MAX_ROWS} rows", file=str(path))
    return rows


def cell_value(cell):
    """A cell's value as the agency sees it: Excel stores "85%" typed into a cell as 0.85 shown in percent."""
    value = getattr(cell, "value", None)
    if (isinstance(value, (int, float)) and not isinstance(value, bool)
            and "%" in (getattr(cell, "number_format", None) or "")):
        return round(value * 100, 9)
    return value


def _cell_text(value) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ------------------------------------------------------------------------------------------------ table

def fold_header(cell: str) -> str:
    """A header cell as a column name: NFC, invisible characters dropped, spaces folded, lower case."""
    text = "".join(ch for ch in unicodedata.normalize("NFC", cell or "") if unicodedata.category(ch) != "Cf")
    return " ".join(text.split()).lower()


def _header_index(rows: list[list[str]]) -> int | None:
    return next((i for i, r in enumerate(rows) if any((c or "").strip() for c in r)), None)


def _table(path: Path, rows: list[list[str]]):
    start = _header_index(rows)
    if start is None:
        raise UnreadableFile("the file is empty", file=str(path))
    header = [fold_header(c) for c in rows[start]]
    first_at: dict[str, int] = {}
    errors = Problems()
    for i, name in enumerate(header):
        if name not in KNOWN_COLUMNS:
            continue
        if name in first_at:
            j = first_at[name]
            errors.append(DuplicateColumn(
                f"columns {_letter(j)} ({rows[start][j]!r}) and {_letter(i)} ({rows[start][i]!r}) are both {name!r}",
                file=str(path), row=start + 1, column=name, hint="keep one of them"))
        else:
            first_at[name] = i
    if errors:
        raise InputErrors(errors)
    out = []
    for offset, raw in enumerate(rows[start + 1:], start=start + 2):
        if not any((c or "").strip() for c in raw):
            continue
        values = {}
        for i, name in enumerate(header):
            if name and name not in values:
                values[name] = (raw[i] if i < len(raw) else "").strip()
        out.append(Row(offset, values))
    return header, out


def _require(path, header, columns, errors):
    for col in columns:
        if col not in header:
            errors.append(MissingColumn(f"expected columns: {', '.join(columns)}", file=str(path), column=col))


def load_registry(path: Path | str, rulebook: Rulebook) -> dict[str, Agency]:
    """Agencies by id. Raises InputErrors listing every problem."""
    header, rows = read_table(path)
    errors = Problems()
    _require(path, header, REGISTRY_COLUMNS, errors)
    if errors:
        raise InputErrors(errors)
    agencies: dict[str, Agency] = {}
    for row in rows:
        v = row.values
        where = dict(file=str(path), row=row.number)
        agency_id = v["agency_id"]
        if not agency_id:
            errors.append(BadValue("agency_id is blank", column="agency_id", **where))
            continue
        if agency_id in agencies:
            errors.append(DuplicateRow(f"agency {agency_id!r} is listed twice", column="agency_id", **where))
            continue
        if v["group"] not in rulebook.groups:
            errors.append(BadValue(f"group {v['group']!r} is not one of {', '.join(rulebook.groups)}",
                                   column="group", **where))
            continue
        try:
            scope = Scope.parse(v["portal"])
        except BadURL as exc:
            errors.append(MalformedURL(str(exc), column="portal", **where))
            continue
        render = (v.get("render") or "").strip().lower()
        if render not in ("", *RENDER_MODES):
            errors.append(BadValue(f"render {v.get('render')!r} is not one of {', '.join(RENDER_MODES)} (or blank)",
                                   column="render", **where))
            continue
        agencies[agency_id] = Agency(agency_id, v["agency_name"], v["group"], v["portal"], scope, render)
    if errors:
        raise InputErrors(errors)
    return agencies


def parse_flag(text: str) -> bool | None:
    key = (text or "").strip().casefold()
    if key in TRUE_WORDS:
        return True
    if key in FALSE_WORDS:
        return False
    return None


def parse_day(text: str) -> dt.date | None:
    """ISO or dd/mm/yyyy; None for blank; raises ValueError otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def load_reports(path: Path | str, registry: dict[str, Agency], rulebook: Rulebook) -> list[Report]:
    """Reports, one per (agency, criterion). Raises InputErrors listing every problem."""
    header, rows = read_table(path)
    return reports_from_rows(str(path), header, rows, registry, rulebook)


def reports_from_rows(path: str, header, rows, registry, rulebook) -> list[Report]:
    errors = Problems()
    _require(path, header, REPORT_COLUMNS, errors)
    if errors:
        raise InputErrors(errors)
    seen: dict[tuple[str, str], Report] = {}
    for row in rows:
        v = row.values
        where = dict(file=path, row=row.number)
        before = errors.total
        agency = registry.get(v["agency_id"])
        if agency is None:
            errors.append(UnknownAgency(repr(v["agency_id"]), column="agency_id", **where))
        criterion = rulebook.by_id.get(v["criterion"])
        if criterion is None:
            errors.append(UnknownCriterion(f"{v['criterion']!r}", column="criterion", **where))
        elif agency is not None and agency.group not in criterion.groups:
            errors.append(BadValue(f"criterion {criterion.id!r} does not apply to group {agency.group!r}",
                                   column="criterion", **where))
        elif agency is not None and not criterion.applies_to(agency.agency_id, agency.group):
            errors.append(BadValue(f"criterion {criterion.id!r} does not apply to agency {agency.agency_id!r} "
                                   f"(it applies to: {', '.join(criterion.agencies)})", column="criterion", **where))
        if agency is not None:
            for col, expected in (("agency_name", agency.agency_name), ("group", agency.group)):
                if v.get(col) and v[col] != expected:
                    errors.append(BadValue(f"{v[col]!r} disagrees with the registry ({expected!r})",
                                           column=col, **where))
        url = v["url"]
        if url:
            try:
                normalise_url(url)
            except BadURL as exc:
                errors.append(MalformedURL(str(exc), column="url", **where))
        flag = parse_flag(v.get("not_applicable", ""))
        if flag is None:
            errors.append(BadValue(f"not_applicable {v['not_applicable']!r}: use 1/x/true/có or leave blank",
                                   column="not_applicable", **where))
        try:
            submitted = parse_day(v.get("submitted_at", ""))
        except ValueError:
            errors.append(MalformedDate(f"{v['submitted_at']!r} (use YYYY-MM-DD or dd/mm/yyyy)",
                                        column="submitted_at", **where))
            submitted = None
        if errors.total > before:
            continue
        report = Report(v["agency_id"], v["criterion"], url, v.get("value", ""), bool(flag),
                        v.get("note", ""), submitted, f"{path}:{row.number}")
        key = (report.agency_id, report.criterion)
        if key in seen:
            if _content(seen[key]) != _content(report):
                errors.append(DuplicateRow(f"{key[0]}/{key[1]} is also reported at {seen[key].source} "
                                           "with other values", column="criterion", **where))
            continue
        seen[key] = report
    if errors:
        raise InputErrors(errors)
    return list(seen.values())


def _content(r: Report) -> tuple:
    return (r.url, r.value, r.not_applicable, r.note, r.submitted_at)


# ------------------------------------------------------------------------------------------------ items

@dataclass(frozen=True)
class ListedItem:
    """One row of items.csv: an item of a listed criterion's list, of one agency."""

    agency_id: str
    criterion: str
    item: Item


def load_items(path: Path | str, registry: dict[str, Agency] | None, rulebook: Rulebook) -> list[ListedItem]:
    """The items of the lists (items.csv, or the list sheets of a form), in file order. Without a registry
    (a spot-check), agencies are not checked. Raises InputErrors listing every problem."""
    header, rows = read_table(path)
    return items_from_rows(str(path), header, rows, registry, rulebook)


def items_from_rows(path: str, header, rows, registry, rulebook) -> list[ListedItem]:
    errors = Problems()
    _require(path, header, ITEM_COLUMNS, errors)
    if not errors and not any(col in header for col in ("number", "title")):
        errors.append(MissingColumn("expected a number or a title column", file=path, column="number"))
    if errors:
        raise InputErrors(errors)
    out: list[ListedItem] = []
    seen: dict[tuple[str, str, str], str] = {}
    for row in rows:
        v = row.values
        where = dict(file=path, row=row.number)
        before = errors.total
        agency = registry.get(v["agency_id"]) if registry is not None else None
        if registry is not None and agency is None:
            errors.append(UnknownAgency(repr(v["agency_id"]), column="agency_id", **where))
        criterion = rulebook.by_id.get(v["criterion"])
        if criterion is None:
            errors.append(UnknownCriterion(f"{v['criterion']!r}", column="criterion", **where))
        elif criterion.kind != "listed":
            listed = ", ".join(c.id for c in rulebook.listed_criteria()) or "none"
            errors.append(BadValue(f"criterion {criterion.id!r} is not a list (listed criteria: {listed})",
                                   column="criterion", **where))
        elif agency is not None and not criterion.applies_to(agency.agency_id, agency.group):
            errors.append(BadValue(f"criterion {criterion.id!r} does not apply to agency {agency.agency_id!r} "
                                   f"(it applies to: {', '.join(criterion.agencies)})", column="criterion", **where))
        number, title = v.get("number", ""), " ".join(v.get("title", "").split())
        if criterion is not None and criterion.kind == "listed":
            needed = "number" if criterion.match == "document_number" else "title"
            if not (number if needed == "number" else title):
                errors.append(BadValue(f"{needed} is blank: the list {criterion.id!r} is matched by "
                                       f"{criterion.match}", column=needed, **where))
        try:
            issued = parse_day(v.get("issued", ""))
        except ValueError:
            errors.append(MalformedDate(f"{v['issued']!r} (use YYYY-MM-DD or dd/mm/yyyy)", column="issued", **where))
            issued = None
        url = v.get("url", "")
        if url:
            try:
                normalise_url(url)
            except BadURL as exc:
                errors.append(MalformedURL(str(exc), column="url", **where))
        if errors.total > before:
            continue
        key = (v["agency_id"], v["criterion"], normalise_number(number) if number else normalise_number(title))
        if key in seen:
            errors.append(DuplicateRow(f"{number or title!r} of {key[0]}/{key[1]} is also listed at {seen[key]}",
                                       column="number" if number else "title", **where))
            continue
        seen[key] = f"{path}:{row.number}"
        out.append(ListedItem(v["agency_id"], v["criterion"],
                              Item(number, title, issued, url or None, f"{path}:{row.number}")))
    if errors:
        raise InputErrors(errors)
    return out
