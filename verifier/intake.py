"""Intake: the agency registry and the agencies' reports (CSV or XLSX), validated as a whole.

Every problem is collected with its file, row and column and raised together
(InputErrors), so a reviewer fixes the file once; nothing is half-read.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from crawler.urls import BadURL, Scope, normalise_url
from verifier.errors import InputError, InputErrors, MalformedDate, MalformedURL, UnknownCriterion
from verifier.rulebook import Rulebook

TRUE_WORDS = frozenset({"1", "x", "true", "có", "co", "yes", "y", "không áp dụng", "ko áp dụng"})
FALSE_WORDS = frozenset({"", "0", "false", "không", "khong", "no", "n"})
REGISTRY_COLUMNS = ("agency_id", "agency_name", "group", "portal")
REPORT_COLUMNS = ("agency_id", "criterion", "url")
REPORT_OPTIONAL = ("value", "not_applicable", "note", "submitted_at")


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


@dataclass(frozen=True)
class Agency:
    agency_id: str
    agency_name: str
    group: str
    portal: str           # as registered (one or more URLs, space separated)
    scope: Scope


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
    """Header (lower-cased) and rows of a CSV (UTF-8) or XLSX file. Raises UnreadableFile."""
    path = Path(path)
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            return _read_xlsx(path)
        return _read_csv(path)
    except InputError:
        raise
    except (OSError, UnicodeDecodeError, csv.Error, ValueError, KeyError) as exc:
        raise UnreadableFile(f"{type(exc).__name__}: {exc}", file=str(path),
                             hint="save it as UTF-8 CSV or XLSX with a header row") from None


def _read_csv(path: Path):
    text = path.read_bytes().decode("utf-8-sig")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    rows = list(reader)
    return _table(path, rows)


def _read_xlsx(path: Path):
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException
    from zipfile import BadZipFile

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, OSError) as exc:
        raise UnreadableFile(f"not a readable XLSX workbook ({exc})", file=str(path)) from None
    try:
        ws = wb.worksheets[0]
        rows = [["" if (v := cell_value(c)) is None else _cell_text(v) for c in row] for row in ws.iter_rows()]
    finally:
        wb.close()
    return _table(path, rows)


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


def _table(path: Path, rows: list[list[str]]):
    start = next((i for i, r in enumerate(rows) if any(c.strip() for c in r)), None)
    if start is None:
        raise UnreadableFile("the file is empty", file=str(path))
    header = [c.strip().lower() for c in rows[start]]
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
    errors: list[InputError] = []
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
        agencies[agency_id] = Agency(agency_id, v["agency_name"], v["group"], v["portal"], scope)
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
    errors: list[InputError] = []
    _require(path, header, REPORT_COLUMNS, errors)
    if errors:
        raise InputErrors(errors)
    seen: dict[tuple[str, str], Report] = {}
    for row in rows:
        v = row.values
        where = dict(file=path, row=row.number)
        before = len(errors)
        agency = registry.get(v["agency_id"])
        if agency is None:
            errors.append(UnknownAgency(repr(v["agency_id"]), column="agency_id", **where))
        criterion = rulebook.by_id.get(v["criterion"])
        if criterion is None:
            errors.append(UnknownCriterion(f"{v['criterion']!r}", column="criterion", **where))
        elif agency is not None and agency.group not in criterion.groups:
            errors.append(BadValue(f"criterion {criterion.id!r} does not apply to group {agency.group!r}",
                                   column="criterion", **where))
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
        if len(errors) > before:
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
