"""The command line: bad input is exit 2 with a clear message naming where, and nothing written."""

import sqlite3

import pytest
from typer.testing import CliRunner

from verifier.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


@pytest.mark.parametrize("url", ["http://exa mple.gov.vn/x", "ftp://sotuphap.caobang.gov.vn/", "http://"])
def test_check_refuses_a_malformed_url(url):
    result = invoke("check", url, "-c", "chi-dao-dieu-hanh")
    assert result.exit_code == 2
    assert "Malformed" in result.output or "URL" in result.output


def test_check_refuses_an_unknown_criterion_and_lists_the_known():
    result = invoke("check", "http://sotuphap.caobang.gov.vn/x", "-c", "chi-dao")
    assert result.exit_code == 2
    assert "Criterion not in rulebook" in result.output and "chi-dao-dieu-hanh" in result.output


def test_check_refuses_a_malformed_period():
    result = invoke("check", "http://sotuphap.caobang.gov.vn/x", "-c", "chi-dao-dieu-hanh", "--period-start", "31/31/2018")
    assert result.exit_code == 2 and "--period-start" in result.output


def test_check_refuses_a_private_address_unless_allowed():
    result = invoke("check", "http://127.0.0.1:9/chi-dao", "-c", "chi-dao-dieu-hanh", "--json")
    assert result.exit_code == 1
    assert '"unreachable"' in result.output and "private" in result.output


def test_help_lists_the_commands():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("check", "crawl", "demo"):
        assert command in result.output


REGISTRY = "agency_id,agency_name,group,portal\nstp,Sở Tư pháp,so,http://sotuphap.caobang.gov.vn\n"
GOOD_REPORTS = "agency_id,criterion,url\nstp,chi-dao-dieu-hanh,http://sotuphap.caobang.gov.vn/x\n"


@pytest.mark.parametrize("registry,reports,expected", [
    ("agency_id,agency_name,portal\nstp,Sở Tư pháp,http://a.gov.vn\n", GOOD_REPORTS, "column 'group'"),
    (REGISTRY, "agency_id,url\nstp,http://a.gov.vn/x\n", "column 'criterion'"),
    (REGISTRY, "agency_id,criterion,url\nstx,chi-dao-dieu-hanh,http://a.gov.vn/x\n", "row 2, column 'agency_id'"),
    (REGISTRY, "agency_id,criterion,url\nstp,chi-dao,http://a.gov.vn/x\n", "row 2, column 'criterion'"),
    (REGISTRY, "agency_id,criterion,url\nstp,chi-dao-dieu-hanh,http://a b/x\n", "row 2, column 'url'"),
    (REGISTRY, "agency_id,criterion,url,submitted_at\nstp,chi-dao-dieu-hanh,,32/13/2018\n", "column 'submitted_at'"),
    (REGISTRY, "agency_id,criterion,url\nstp,chi-dao-dieu-hanh,http://a.gov.vn/x\nstp,chi-dao-dieu-hanh,http://a.gov.vn/y\n",
     "row 3, column 'criterion'"),
    (REGISTRY, "agency_id,criterion,url,group\nstp,chi-dao-dieu-hanh,http://a.gov.vn/x,huyen\n", "column 'group'"),
    ("agency_id,agency_name,group,portal\nstp,Sở Tư pháp,xa,http://a.gov.vn\n", GOOD_REPORTS, "column 'group'"),
    ("agency_id,agency_name,group,portal\nstp,Sở Tư pháp,so,not a url\n", GOOD_REPORTS, "column 'portal'"),
])
def test_crawl_refuses_bad_input_and_writes_nothing(tmp_path, registry, reports, expected):
    (tmp_path / "agencies.csv").write_text(registry, encoding="utf-8")
    (tmp_path / "reports.csv").write_text(reports, encoding="utf-8")
    db = tmp_path / "ev.db"
    result = invoke("crawl", "--agencies", str(tmp_path / "agencies.csv"), "--reports", str(tmp_path / "reports.csv"),
                    "--db", str(db))
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert ".csv" in result.output
    assert not db.exists() or not sqlite3.connect(db).execute(
        "select name from sqlite_master where name='runs'").fetchall()


def test_crawl_refuses_an_unreadable_xlsx(tmp_path):
    (tmp_path / "agencies.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    (tmp_path / "reports.csv").write_text(GOOD_REPORTS, encoding="utf-8")
    result = invoke("crawl", "--agencies", str(tmp_path / "agencies.xlsx"), "--reports", str(tmp_path / "reports.csv"),
                    "--db", str(tmp_path / "ev.db"))
    assert result.exit_code == 2 and "agencies.xlsx" in result.output and "Cannot read file" in result.output


def test_crawl_requires_existing_files(tmp_path):
    result = invoke("crawl", "--agencies", str(tmp_path / "nope.csv"), "--reports", str(tmp_path / "nope2.csv"))
    assert result.exit_code == 2


def test_reports_in_xlsx_read_a_percent_cell_as_the_agency_typed_it(tmp_path):
    """Excel keeps "85%" as 0.85 shown in percent: the figure is 85, as on the agency's screen."""
    from openpyxl import Workbook

    from verifier.intake import load_registry, load_reports
    from verifier.rulebook import load_rulebook

    (tmp_path / "agencies.csv").write_text(REGISTRY, encoding="utf-8")
    wb = Workbook()
    ws = wb.active
    ws.append(["agency_id", "criterion", "url", "value", "submitted_at"])
    ws.append(["stp", "ket-noi-internet", None, 0.85, "20/11/2018"])
    ws.append(["stp", "can-bo-cong-chuc", None, 45, "20/11/2018"])
    ws["D2"].number_format = "0%"
    wb.save(tmp_path / "reports.xlsx")
    rulebook = load_rulebook()
    rows = load_reports(tmp_path / "reports.xlsx", load_registry(tmp_path / "agencies.csv", rulebook), rulebook)
    assert {r.criterion: r.value for r in rows} == {"ket-noi-internet": "85", "can-bo-cong-chuc": "45"}


def test_bad_input_leaves_an_existing_database_byte_for_byte_unchanged(tmp_path):
    import hashlib

    from verifier.store import open_db

    db_path = tmp_path / "ev.db"
    db = open_db(db_path)
    db["runs"].insert({"started_at": "2018-11-20T01:00:00Z", "status": "done", "year": 2018})
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()
    (tmp_path / "agencies.csv").write_text(REGISTRY, encoding="utf-8")
    (tmp_path / "reports.csv").write_text("agency_id,criterion,url\nstp,chi-dao,http://a.gov.vn/x\n"
                                          "stp,thanh-tra,ftp://a b\n", encoding="utf-8")
    result = invoke("crawl", "--agencies", str(tmp_path / "agencies.csv"), "--reports", str(tmp_path / "reports.csv"),
                    "--db", str(db_path))
    assert result.exit_code == 2
    assert "row 2, column 'criterion'" in result.output and "row 3, column 'url'" in result.output   # every problem
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before
    assert not (tmp_path / "ev-warc").exists()
