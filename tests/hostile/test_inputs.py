"""Hostile inputs and output escaping, through the real command line.

Broken and hostile files are made here (a workbook cut short, a corrupt deflate stream, a 1 GiB zip bomb,
CSVs with stray quotes, bad bytes, twin headers and a flood of bad rows): each is exit 2 with a message
naming the file, row and column, no traceback, and nothing written. A portal whose post titles carry bidi
overrides, rich markup, ANSI escapes and formulas is crawled on loopback: the HTML and XLSX reports and the
console show them as inert, visible text, and only http(s) URLs become links.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from bench.procs import high_water_kib
from verifier.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

HOST = "sotuphap.caobang.gov.vn"
LISTING = f"http://{HOST}/taxonomy/term/24"
REGISTRY = f"agency_id,agency_name,group,portal\nstp,Sở Tư pháp,so,http://{HOST}\n"
REPORTS = f"agency_id,criterion,url\nstp,chi-dao-dieu-hanh,{LISTING}\n"
REGISTRY_ROWS = [["agency_id", "agency_name", "group", "portal"], ["stp", "Sở Tư pháp", "so", f"http://{HOST}"]]
BIDI = "\u202e"                     # RIGHT-TO-LEFT OVERRIDE
INVISIBLE = re.compile("[\u202a-\u202e\u2066-\u2069\u200b-\u200f\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def cli(*args, env=None, timeout=120) -> subprocess.CompletedProcess:
    """The command line as a reviewer runs it: a whole process."""
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, env=env)


def cli_measured(tmp_path: Path, *args) -> tuple[int, str, float, float, float]:
    """(exit code, stderr, wall seconds, CPU seconds, peak RSS in MiB) of one command line process."""
    out, err = (tmp_path / "stdout.txt").open("wb"), (tmp_path / "stderr.txt").open("wb")
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), *map(str, args)], stdout=out, stderr=err,
                            cwd=ROOT)
    # the peak RSS is the child's own, read while it runs (bench.procs.high_water_kib)
    peak_kib = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        peak_kib = max(peak_kib, high_water_kib(proc.pid))
        time.sleep(0.005)
    seconds = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.close(), err.close()
    return (proc.returncode, (tmp_path / "stderr.txt").read_text(encoding="utf-8"), seconds,
            usage.ru_utime + usage.ru_stime, peak_kib / 1024)



def no_database(db: Path) -> bool:
    import sqlite3

    return not db.exists() or not sqlite3.connect(db).execute(
        "select name from sqlite_master where name='runs'").fetchall()


def crawl_refuses(tmp_path: Path, agencies: Path, reports: Path, *expected: str) -> str:
    db = tmp_path / "ev.db"
    result = invoke("crawl", "--agencies", agencies, "--reports", reports, "--db", db)
    assert result.exit_code == 2, result.output
    for text in expected:
        assert text in result.output, result.output
    assert no_database(db)
    assert not (tmp_path / "ev-warc").exists()
    return result.output


def workbook_bytes(rows) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def rezip(data: bytes, change) -> bytes:
    """The workbook with each member's bytes passed through change(name, data)."""
    src, buf = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, change(info.filename, src.read(info.filename)))
    return buf.getvalue()


def corrupt_deflate(data: bytes, member: str = "xl/worksheets/sheet1.xml") -> bytes:
    """The workbook with bytes inside one member's deflate stream flipped (the zip directory intact)."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    raw = bytearray(data)
    name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    for i in range(start + 4, min(start + 24, start + info.compress_size)):
        raw[i] ^= 0x55
    return bytes(raw)


def zip_bomb(template: bytes, unpacked: int = 1 << 30) -> bytes:
    """A valid XLSX whose first sheet unpacks to `unpacked` bytes (XML whitespace), about 1 MB on disk.

    Built in a fraction of a second: one MiB of spaces is deflated once and its bytes repeated (a full
    flush ends each copy on a byte boundary with a fresh dictionary, so the copies chain into one stream)."""
    head = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.'
            b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
    tail = b"</sheetData></worksheet>"
    chunk = b" " * (1 << 20)
    copies = -(-(unpacked - len(head) - len(tail)) // len(chunk))

    def deflate(data: bytes, last: bool) -> bytes:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        return c.compress(data) + c.flush(zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH)

    crc = zlib.crc32(head)
    for _ in range(copies):
        crc = zlib.crc32(chunk, crc)
    sheet = (deflate(head, False) + deflate(chunk, False) * copies + deflate(tail, True),
             zlib.crc32(tail, crc), len(head) + copies * len(chunk) + len(tail))
    src = zipfile.ZipFile(io.BytesIO(template))
    out, central = io.BytesIO(), io.BytesIO()
    names = [i.filename for i in src.infolist()]
    for name in names:
        if name == "xl/worksheets/sheet1.xml":
            (payload, crc32, size), method = sheet, 8
        else:
            payload = src.read(name)
            crc32, size, method = zlib.crc32(payload), len(payload), 0
        encoded, offset = name.encode(), out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc32, len(payload), size,
                              len(encoded), 0) + encoded + payload)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc32,
                                  len(payload), size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
    start = out.tell()
    out.write(central.getvalue())
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(names), len(names), len(central.getvalue()), start, 0))
    return out.getvalue()


# ------------------------------------------------------------------------------------------------ item 9: XLSX

def billion_laughs(data: bytes) -> bytes:
    """The workbook with its first cell's text an entity that expands to 10**9 'lol's (expat refuses it)."""
    doctype = ('<!DOCTYPE worksheet [<!ENTITY lol0 "lol">'
               + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)) + "]>")

    def change(name, xml):
        if not name.endswith("sheet1.xml"):
            return xml
        xml = xml.decode("utf-8")
        xml = re.sub(r"<t>[^<]*</t>", "<t>&lol9;</t>", xml, count=1)
        return (xml.replace("?>", "?>" + doctype, 1) if xml.startswith("<?xml") else doctype + xml).encode()

    return rezip(data, change)


BROKEN_WORKBOOKS = {
    "cut-short": lambda good: good[:len(good) * 2 // 3],
    "truncated-sheet-xml": lambda good: rezip(good, lambda n, d: d[:len(d) // 2] if n.endswith("sheet1.xml") else d),
    "corrupt-deflate": corrupt_deflate,
    "billion-laughs": billion_laughs,
}


@pytest.mark.parametrize("damage", BROKEN_WORKBOOKS, ids=list(BROKEN_WORKBOOKS))
def test_a_damaged_registry_workbook_is_exit_2_naming_the_file(tmp_path, damage):
    agencies = tmp_path / "agencies.xlsx"
    agencies.write_bytes(BROKEN_WORKBOOKS[damage](workbook_bytes(REGISTRY_ROWS)))
    (tmp_path / "reports.csv").write_text(REPORTS, encoding="utf-8")
    out = crawl_refuses(tmp_path, agencies, tmp_path / "reports.csv", "agencies.xlsx", "Cannot read file",
                        "not a readable XLSX workbook")
    assert "Hint:" in out


@pytest.mark.parametrize("damage", BROKEN_WORKBOOKS, ids=list(BROKEN_WORKBOOKS))
def test_a_damaged_form_is_exit_2_and_intake_writes_nothing(tmp_path, damage):
    assert invoke("form", "--group", "so", "--out", tmp_path / "blank.xlsx").exit_code == 0
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "stp.xlsx").write_bytes(BROKEN_WORKBOOKS[damage]((tmp_path / "blank.xlsx").read_bytes()))
    (tmp_path / "agencies.csv").write_text(REGISTRY, encoding="utf-8")
    result = invoke("intake", tmp_path / "in", "--agencies", tmp_path / "agencies.csv", "--out", tmp_path / "r.csv")
    assert result.exit_code == 2, result.output
    assert "stp.xlsx" in result.output and "not a readable XLSX workbook" in result.output
    assert not list(tmp_path.glob("r.csv*"))


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    """1 MB on disk, a 1 GiB sheet: refused from the zip directory, as fast and as small as a one-row file.

    Time is the process's CPU time (the wall clock of a loaded test machine varies by seconds): the whole
    command line, start-up included (about 0.5 s), within 1 s of refusing an ordinary bad workbook and
    under 2 s; memory under 200 MB. Reading the sheet took 15 s and 2.1 GB."""
    bomb = zip_bomb(workbook_bytes([["agency_id", "criterion", "url"]]))
    assert len(bomb) < 2 << 20
    info = zipfile.ZipFile(io.BytesIO(bomb)).getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size >= 1 << 30
    (tmp_path / "reports.xlsx").write_bytes(bomb)
    (tmp_path / "small.xlsx").write_bytes(workbook_bytes([["agency_id", "criterion", "url"], ["stp", "nope", ""]]))
    (tmp_path / "agencies.csv").write_text(REGISTRY, encoding="utf-8")
    db = tmp_path / "ev.db"
    code, err, wall, cpu, rss = cli_measured(tmp_path, "crawl", "--agencies", tmp_path / "agencies.csv",
                                             "--reports", tmp_path / "reports.xlsx", "--db", db)
    base_code, _, base_wall, base_cpu, base_rss = cli_measured(
        tmp_path, "crawl", "--agencies", tmp_path / "agencies.csv", "--reports", tmp_path / "small.xlsx", "--db", db)
    print(f"zip bomb refused in {wall:.2f}s wall, {cpu:.2f}s CPU, peak RSS {rss:.0f} MiB "
          f"(a one-row bad workbook: {base_wall:.2f}s, {base_cpu:.2f}s CPU, {base_rss:.0f} MiB)")
    assert code == 2 and base_code == 2, err
    assert "reports.xlsx" in err and "File too large" in err and "1.0 GiB" in err and "64.0 MiB" in err
    assert "Traceback" not in err
    assert no_database(db)
    assert rss < 200 and cpu < max(2.0, base_cpu + 1.0)


def test_a_zip_bomb_form_is_refused_by_intake(tmp_path):
    assert invoke("form", "--group", "so", "--out", tmp_path / "blank.xlsx").exit_code == 0
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "stp.xlsx").write_bytes(zip_bomb((tmp_path / "blank.xlsx").read_bytes(), 256 << 20))
    (tmp_path / "agencies.csv").write_text(REGISTRY, encoding="utf-8")
    started = time.monotonic()
    result = invoke("intake", tmp_path / "in", "--agencies", tmp_path / "agencies.csv", "--out", tmp_path / "r.csv")
    assert time.monotonic() - started < 2.0
    assert result.exit_code == 2 and "stp.xlsx" in result.output and "File too large" in result.output
    assert not list(tmp_path.glob("r.csv*"))


def test_a_sheet_that_declares_a_million_rows_and_columns_is_read_in_its_bounds(tmp_path):
    """A tiny file whose cells sit at XFD1048576 must not make the reader pad out 17 billion empty cells."""
    wb = Workbook()
    ws = wb.active
    for row in REGISTRY_ROWS:
        ws.append(row)
    ws.cell(row=1_048_576, column=16_384, value="far away")
    wb.save(tmp_path / "agencies.xlsx")
    (tmp_path / "reports.csv").write_text(REPORTS, encoding="utf-8")
    started = time.monotonic()
    crawl_refuses(tmp_path, tmp_path / "agencies.xlsx", tmp_path / "reports.csv", "agencies.xlsx",
                  "File too large", "more than 100000 rows")
    assert time.monotonic() - started < 10


# ------------------------------------------------------------------------------------------------ item 14: CSV

def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_twin_headers_differing_in_case_or_spaces_are_refused_naming_both(tmp_path):
    """The first agency_id is blank: before, it won silently and every row read as 'no agency'."""
    agencies = write(tmp_path / "agencies.csv", REGISTRY)
    reports = write(tmp_path / "reports.csv", "agency_id,criterion,url, Agency_ID \n"
                                              f",chi-dao-dieu-hanh,{LISTING},stp\n")
    out = crawl_refuses(tmp_path, agencies, reports, "reports.csv, row 1, column 'agency_id'", "Duplicate column",
                        "A ('agency_id')", "D (' Agency_ID ')")
    assert out.count("\n") <= 3


def test_an_unclosed_quote_at_the_end_names_its_row_and_line(tmp_path):
    agencies = write(tmp_path / "agencies.csv", REGISTRY)
    reports = write(tmp_path / "reports.csv", "agency_id,criterion,url,note\n"
                                              f"stp,chi-dao-dieu-hanh,{LISTING},\"Giải trình\n"
                                              f"stp,thanh-tra,http://{HOST}/thanh-tra,\n")
    crawl_refuses(tmp_path, agencies, reports, "reports.csv, row 2", "Malformed CSV", "unexpected end of data",
                  "starts on line 2")


def test_an_unclosed_quote_that_swallows_the_next_row_names_the_row_and_column(tmp_path):
    """The quote opened in row 2's url closes in row 3: the cell holds a line break and row 3."""
    agencies = write(tmp_path / "agencies.csv", REGISTRY)
    reports = write(tmp_path / "reports.csv", "agency_id,criterion,url,note\n"
                                              f"stp,chi-dao-dieu-hanh,\"{LISTING},\n"
                                              f"stp,thanh-tra,http://{HOST}/thanh-tra,ok\"\n")
    crawl_refuses(tmp_path, agencies, reports, "reports.csv, row 2, column 'url'", "line break inside the cell",
                  "from line 2 to line 3")


def test_a_note_that_swallows_rows_is_caught_and_a_real_multiline_note_is_not(tmp_path):
    agencies = write(tmp_path / "agencies.csv", REGISTRY)
    swallowing = write(tmp_path / "reports.csv", "agency_id,criterion,url,note\n"
                                                 f"stp,chi-dao-dieu-hanh,{LISTING},\"Giải trình\n"
                                                 f"stp,thanh-tra,http://{HOST}/thanh-tra,ok\"\n")
    crawl_refuses(tmp_path, agencies, swallowing, "reports.csv, row 2, column 'note'", "line break inside the cell")
    from verifier.intake import load_registry, load_reports
    from verifier.rulebook import load_rulebook

    multiline = write(tmp_path / "ok.csv", "agency_id,criterion,url,note\n"
                                           f"stp,chi-dao-dieu-hanh,{LISTING},\"Dòng một,\ndòng hai\"\n")
    rulebook = load_rulebook()
    (report,) = load_reports(multiline, load_registry(agencies, rulebook), rulebook)
    assert report.note == "Dòng một,\ndòng hai"


def test_bytes_that_are_not_utf8_are_named_by_row_and_column(tmp_path):
    """A file saved as windows-1258 (or cp1252): every bad cell is named with its byte."""
    agencies = write(tmp_path / "agencies.csv", REGISTRY)
    reports = write(tmp_path / "reports.csv", b"agency_id,criterion,url,note\n"
                                              b"stp,chi-dao-dieu-hanh," + LISTING.encode() + b",ok\n"
                                              b"stp,thanh-tra,http://" + HOST.encode() + b"/tt,S\xf4 kh\xf4ng c\xf3\n")
    out = crawl_refuses(tmp_path, agencies, reports, "reports.csv, row 3, column 'note'", "Not UTF-8",
                        "byte 0xF4", 'save the file as "CSV UTF-8"')
    assert "row 2" not in out


@pytest.mark.parametrize("data,expected", [
    ("agency_id,criterion,url\nstp,chi-dao-dieu-hanh,\n".encode("utf-16"), "UTF-16"),
    (workbook_bytes([["agency_id", "criterion", "url"]]), "a workbook (XLSX) with a CSV name"),
], ids=["utf-16", "xlsx-named-csv"])
def test_a_csv_that_is_not_utf8_text_says_what_it_is(tmp_path, data, expected):
    agencies = write(tmp_path / "agencies.csv", REGISTRY)
    out = crawl_refuses(tmp_path, agencies, write(tmp_path / "reports.csv", data), "reports.csv", expected)
    assert len(out.splitlines()) <= 2


def test_a_flood_of_bad_rows_prints_twenty_and_counts_the_rest(tmp_path):
    agencies = write(tmp_path / "agencies.csv", REGISTRY)
    lines = ["agency_id,criterion,url"] + [f"x{i},nope,http://{HOST}/{i}" for i in range(5000)]
    reports = write(tmp_path / "reports.csv", "\n".join(lines) + "\n")
    out = crawl_refuses(tmp_path, agencies, reports, "reports.csv, row 2, column 'agency_id'",
                        "and 9980 more problem(s) not shown (10000 in all)")
    assert len(out.splitlines()) <= 22


def test_a_million_bad_rows_are_one_line_not_a_million(tmp_path):
    agencies = write(tmp_path / "agencies.csv", REGISTRY)
    row = f"x,nope,http://{HOST}/x\n"
    reports = write(tmp_path / "reports.csv", "agency_id,criterion,url\n" + row * 1_000_000)
    started = time.monotonic()
    out = crawl_refuses(tmp_path, agencies, reports, "reports.csv", "File too large", "more than 100000 rows")
    assert len(out.splitlines()) <= 2 and time.monotonic() - started < 10


def test_a_huge_csv_is_refused_by_its_size(tmp_path):
    agencies = write(tmp_path / "agencies.csv", REGISTRY)
    reports = tmp_path / "reports.csv"
    with reports.open("wb") as fh:
        fh.write(b"agency_id,criterion,url\n")
        fh.truncate(65 << 20)          # sparse: 65 MiB without writing them
    crawl_refuses(tmp_path, agencies, reports, "reports.csv", "File too large", "64.0 MiB")


# ------------------------------------------------------------------------------------------------ item 16: outputs

FORMULAS = {                      # criterion -> the link the agency typed (URLs the crawl accepts: user@host)
    "chi-dao-dieu-hanh": "@SUM(1+1)@" + HOST + "/taxonomy/term/24",
    "tin-tuc-su-kien": "=cmd|x@" + HOST + "/x",
    "gioi-thieu": "+1@" + HOST + "/y",
}
NOTES = ["=cmd|' /C calc'!A0", "+1+1", "-1", "@SUM(1)", "\t=1", "\r=1", "Sở có \u202egnp.exe"]


def test_intake_neutralises_every_cell_it_writes_and_crawl_reads_them_back(tmp_path):
    from verifier.intake import load_registry, load_reports
    from verifier.rulebook import load_rulebook

    assert invoke("form", "--group", "so", "--out", tmp_path / "blank.xlsx").exit_code == 0
    wb = load_workbook(tmp_path / "blank.xlsx")
    ws = wb.active
    ws["C5"], ws["C7"] = "stp", "20/11/2018"
    website = [r for r in ws.iter_rows(min_row=12) if r[3].value == "URL"]
    def typed(cell, text):           # a text cell, as typed after an apostrophe (openpyxl would store a formula)
        cell.value = text
        cell.data_type = "s"

    for row in website:
        if row[1].value in FORMULAS:
            typed(row[4], FORMULAS[row[1].value])
    others = [r for r in website if r[1].value not in FORMULAS]
    assert len(others) >= len(NOTES)
    for row, note in zip(others, NOTES):
        row[5].value = "x"                                 # not applicable, explained
        typed(row[6], note)
    (tmp_path / "in").mkdir()
    wb.save(tmp_path / "in" / "stp.xlsx")
    agencies = write(tmp_path / "agencies.csv", REGISTRY)
    result = invoke("intake", tmp_path / "in", "--agencies", agencies, "--out", tmp_path / "reports.csv")
    assert result.exit_code == 0, result.output
    cells = [c for row in csv.reader(io.StringIO((tmp_path / "reports.csv").read_text(encoding="utf-8")))
             for c in row]
    assert cells and not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert "'@SUM(1+1)@" + HOST + "/taxonomy/term/24" in cells and "'=cmd|x@" + HOST + "/x" in cells
    assert "'=cmd|' /C calc'!A0" in cells and "'+1+1" in cells and "'-1" in cells
    assert BIDI not in "".join(cells) and "‹U+202E›gnp.exe" in "".join(cells)
    # the crawl reads the apostrophe back off, as a spreadsheet does
    rulebook = load_rulebook()
    reports = load_reports(tmp_path / "reports.csv", load_registry(agencies, rulebook), rulebook)
    by_criterion = {r.criterion: r for r in reports}
    for criterion, url in FORMULAS.items():
        assert by_criterion[criterion].url == url
    assert {r.note for r in reports} >= {"=cmd|' /C calc'!A0", "+1+1", "-1", "@SUM(1)", "=1"}


HOSTILE_TITLES = {
    "/node/1252": "Chỉ thị số 19 \u202etxt.exe\u202c kỷ cương",
    "/node/1259": "[bold red]Đã duyệt[/bold red] lịch công tác \x1b[2J\x1b[31mtuần 18",
    "/node/1266": '=HYPERLINK("http://evil.example/","Xem")',
    "/node/1273": "+cmd|' /C calc'!A0 Công văn",
}
BAD_URLS = ["javascript:alert(1)", " JaVaScRiPt:alert(2)", "\x01javascript:alert(3)", "data:text/html,<b>x",
            "vbscript:msgbox(1)", "//evil.example/x", "http:evil"]


def hostile_portal(root: Path) -> Path:
    """The demo's Sở Tư pháp directive listing, one page, with hostile post titles (as HTML text)."""
    from html import escape

    page = (ROOT / "data/demo/portals" / HOST / "chi-dao-dieu-hanh-p1.html").read_text(encoding="utf-8")
    for href, title in HOSTILE_TITLES.items():
        page = re.sub(rf'(<a href="{href}">)[^<]*(</a>)',
                      lambda m, title=title: m.group(1) + escape(title).replace("\x1b", "&#27;") + m.group(2), page,
                      count=1)
    page = re.sub(r'<div class="item-list pager">.*?</div>', "", page)
    site = root / "portals" / HOST
    site.mkdir(parents=True)
    (site / "listing.html").write_text(page, encoding="utf-8")
    (site / "site.yaml").write_text(f"host: {HOST}\nroutes:\n- path: /taxonomy/term/24\n  file: listing.html\n",
                                    encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A real crawl of the hostile portal (agency name with a bidi override, a reported figure that is a
    formula), then `report` written by the command line."""
    from crawler.records import Post
    from demo.server import PortalServer
    from verifier.export.audit import load_run
    from verifier.store import open_db, save_verdict

    tmp = tmp_path_factory.mktemp("hostile")
    root = hostile_portal(tmp / "site")
    write(tmp / "agencies.csv", f"agency_id,agency_name,group,portal\nstp,Sở Tư pháp {BIDI}[red]x[/red],so,"
                                f"http://{HOST}\n")
    write(tmp / "reports.csv", "agency_id,criterion,url,value,submitted_at\n"
                               f"stp,chi-dao-dieu-hanh,{LISTING},,20/11/2018\n"
                               "stp,ket-noi-internet,,=1+1,20/11/2018\n")
    with PortalServer(root) as server:
        env = {**os.environ, "http_proxy": server.proxy_url, "HTTP_PROXY": server.proxy_url, "no_proxy": "",
               "NO_PROXY": "", "COLUMNS": "200"}
        crawled = cli("crawl", "--agencies", tmp / "agencies.csv", "--reports", tmp / "reports.csv",
                      "--db", tmp / "ev.db", "--allow-private", "--timeout", "5", env=env)
        checked = cli("check", LISTING, "-c", "chi-dao-dieu-hanh", "--allow-private", "--year", "2018",
                      "--timeout", "5", env=env)
        as_json = cli("check", LISTING, "-c", "chi-dao-dieu-hanh", "--allow-private", "--year", "2018",
                      "--timeout", "5", "--json", env=env)
    assert crawled.returncode in (0, 1), crawled.stderr
    # a post URL the extraction never yields (it keeps http(s) links only), stored as the crawl stores posts:
    # the report must not trust the database to hold http(s) URLs only
    db = open_db(tmp / "ev.db")
    data = load_run(db, None)
    verdict = data.verdict_map()[("stp", "chi-dao-dieu-hanh")]
    assert verdict.status == "pass", verdict
    extra = tuple(Post(f"bad link {i}", url, verdict.posts[0].published) for i, url in enumerate(BAD_URLS))
    save_verdict(db, data.run["id"], dataclasses.replace(verdict, posts=verdict.posts + extra),
                 data.rulebook.period)
    db.conn.close()
    wide = {**os.environ, "COLUMNS": "200"}
    reported = cli("report", "--db", tmp / "ev.db", "--out", tmp / "out", "--format", "json,xlsx,html", env=wide)
    scored = cli("score", "--db", tmp / "ev.db", env=wide)
    return {"tmp": tmp, "crawl": crawled, "check": checked, "json": as_json, "report": reported, "score": scored}


def test_the_hostile_titles_were_crawled_as_posts(hostile):
    import json

    report = json.loads((hostile["tmp"] / "out" / "report.json").read_text(encoding="utf-8"))
    titles = json.dumps(report, ensure_ascii=False)
    for title in HOSTILE_TITLES.values():
        assert json.dumps(title, ensure_ascii=False)[1:-1] in titles    # the machine copy keeps the data as it was


def test_html_report_shows_invisible_characters_and_links_http_only(hostile):
    from bs4 import BeautifulSoup

    assert hostile["report"].returncode in (0, 1), hostile["report"].stderr
    root = hostile["tmp"] / "out" / "html"
    agency = (root / "agency" / "stp.html").read_text(encoding="utf-8")
    assert "Chỉ thị số 19 ‹U+202E›txt.exe‹U+202C› kỷ cương" in agency
    assert "[bold red]Đã duyệt[/bold red]" in agency and "‹U+001B›[2J" in agency
    assert "Sở Tư pháp ‹U+202E›[red]x[/red]" in agency
    for path in root.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not INVISIBLE.search(text), (path, INVISIBLE.search(text))
        for a in BeautifulSoup(text, "lxml").find_all("a", href=True):
            href = a["href"]
            assert href.startswith(("http://", "https://", "../", "agency/", "evidence/", "index.html", "#")) \
                or re.match(r"^[\w.-]+\.html(#[\w-]*)?$", href), (path, href)
            assert "javascript" not in href.lower() and "data:" not in href.lower()
    soup = BeautifulSoup(agency, "lxml")
    shown = [td.get_text() for td in soup.select("table.posts td")]
    for i, _url in enumerate(BAD_URLS):
        assert f"bad link {i}" in shown          # shown as text, no link
        assert not soup.find("a", string=f"bad link {i}")


def test_xlsx_report_keeps_formulas_as_text_and_shows_invisible_characters(hostile):
    wb = load_workbook(hostile["tmp"] / "out" / "report.xlsx")
    seen_formula_text = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not INVISIBLE.search(cell.value.replace("\n", "").replace("\t", "")), cell.value
                    if cell.value.startswith(("=", "+", "-", "@")):
                        assert cell.quotePrefix, (ws.title, cell.coordinate, cell.value)   # stays text when edited
                        seen_formula_text.add(cell.value)
                if cell.hyperlink is not None and cell.hyperlink.target:
                    target = cell.hyperlink.target.replace("\\", "/")       # XlsxWriter writes file links DOS-style
                    assert target.startswith(("http://", "https://", "html/agency/")), target
    assert HOSTILE_TITLES["/node/1266"] in seen_formula_text and "=1+1 %" in seen_formula_text   # + the unit
    titles = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "Chỉ thị số 19 ‹U+202E›txt.exe‹U+202C› kỷ cương" in titles


def test_console_output_has_no_escape_sequences_markup_or_bidi_from_crawled_text(hostile):
    for name in ("crawl", "check", "json", "score", "report"):
        for stream in (hostile[name].stdout, hostile[name].stderr):
            assert "\x1b" not in stream and BIDI not in stream, (name, stream[-2000:])
            assert "Traceback" not in stream
    check = hostile["check"].stdout
    assert hostile["check"].returncode == 0, hostile["check"].stderr
    assert "[bold red]Đã duyệt[/bold red]" in check          # not styled, not eaten as markup
    assert "‹U+202E›txt.exe" in check
    score = hostile["score"].stdout
    assert "Sở Tư pháp" in score and "‹U+202E›[red]x[/red]" in score     # the table may wrap the marked name


def test_check_json_keeps_the_data_and_escapes_invisible_characters(hostile):
    import json

    text = hostile["json"].stdout
    assert hostile["json"].returncode == 0, hostile["json"].stderr
    assert BIDI not in text and "\x1b" not in text and "\\u202e" in text
    titles = [p["title"] for p in json.loads(text)["evidence"]["posts"]]
    assert HOSTILE_TITLES["/node/1252"] in titles and HOSTILE_TITLES["/node/1266"] in titles


def test_the_console_never_styles_crawled_text_on_a_terminal(tmp_path):
    """On a terminal rich writes styles of its own; a title's markup and escapes stay inert text."""
    from rich.table import Table
    from rich.text import Text

    from verifier.export.safe_text import SafeConsole

    console = SafeConsole(file=io.StringIO(), force_terminal=True, color_system="standard", width=100)
    table = Table()
    table.add_column("title")
    table.add_row("[bold]x[/bold] \x1b[2J\x1b]8;;http://evil\x07link\x1b]8;;\x07 \u202eabc")
    table.add_row(Text("ti\u202etle \x1b[31m", style="green"))
    console.print(table, Text("PASS", style="bold"), "[blink]y[/blink]")
    written = console.file.getvalue()
    assert "[bold]x[/bold]" in written and "[blink]y[/blink]" in written
    assert "link" in written and "‹U+202E›abc" in written and "ti‹U+202E›tle" in written
    assert BIDI not in written and "\x1b[2J" not in written and "\x1b]8" not in written
    styles = set(re.findall(r"\x1b\[[0-9;]*m", written))
    assert styles <= {"\x1b[0m", "\x1b[1m", "\x1b[32m", "\x1b[1;32m"}, styles      # bold header/PASS, green Text


def test_vietnamese_text_is_kept_as_it_was():
    import unicodedata

    from verifier.export.safe_text import cell_text, console_text, html_text

    nfc = unicodedata.normalize("NFC", "Thông tin chỉ đạo, điều hành – Sở Tư pháp tỉnh Cao Bằng")
    nfd = unicodedata.normalize("NFD", nfc)
    for show in (cell_text, console_text, html_text):
        assert show(nfc) == nfc and show(nfd) == nfd
