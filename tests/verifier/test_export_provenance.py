"""Every export states how its run was made (tool, version, command line, User-Agent, rulebook and its sha256,
period, proxy, robots policy, start and end in +07:00), the command line shown as the untrusted text it is;
and `report` on a stored run writes the same bytes every time, whatever the clock or the time zone says."""

import datetime as dt
import filecmp
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from crawler.settings import RunOptions
from verifier import provenance
from verifier.export.audit import build_audit, report_time
from verifier.export.html import write_html
from verifier.export.json import write_json
from verifier.export.xlsx import write_xlsx
from verifier.overrides import new_override
from verifier.rulebook import load_rulebook
from verifier.store import open_db, run_provenance, save_override

from .builders import T_CHECK, build_province

CLI = Path(sys.executable).with_name("portal-evidence")
# A command line as a shell may pass it: markup, a formula, a bidi override, a line break.
HOSTILE_ARGV = ["portal-evidence", "crawl", "--agencies", "<script>alert(1)</script>.csv",
                "--reports", '=HYPERLINK("http://evil","x")', "--db", "a\u202egpj.db", "--note", "x\ny"]
STARTED = dt.datetime(2018, 11, 28, 2, 25, 0, tzinfo=dt.UTC)
FINISHED = dt.datetime(2018, 11, 28, 2, 35, 0, tzinfo=dt.UTC)


def _stamp(db_path: Path, run_id: int) -> dict:
    """Give the run the provenance a crawl records (built by verifier.provenance from a hostile command line)."""
    rulebook = load_rulebook()
    prov = provenance.build(rulebook=rulebook, options=RunOptions(period=tuple(rulebook.period)),
                            started_at=STARTED, argv=HOSTILE_ARGV)
    prov = provenance.finished(prov, FINISHED)
    db = open_db(db_path)
    db["runs"].update(run_id, {"provenance": json.dumps(prov, ensure_ascii=False),
                               "finished_at": "2018-11-28T02:35:00Z"})
    return prov


@pytest.fixture(scope="module")
def stamped(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prov")
    db_path, run_id = build_province(tmp)
    prov = _stamp(db_path, run_id)
    audit = build_audit(open_db(db_path), run_id)
    out = tmp / "out"
    return prov, audit, write_json(audit, out), write_xlsx(audit, out), write_html(audit, out)


def test_report_json_carries_the_whole_provenance(stamped):
    prov, audit, json_path, _, _ = stamped
    run = json.loads(json_path.read_text(encoding="utf-8"))["run"]
    assert run["id"] == audit.run_id and run["status"] == "done"
    assert run["provenance"] == prov == run_provenance(audit.data.run)
    assert {"tool", "version", "git_revision", "command", "user_agent", "rulebook", "period", "proxy", "robots",
            "started_at", "finished_at"} <= set(run["provenance"])
    assert run["provenance"]["started_at"] == "2018-11-28T09:25:00+07:00"
    assert run["provenance"]["finished_at"] == "2018-11-28T09:35:00+07:00"
    assert len(run["provenance"]["rulebook"]["sha256"]) == 64


def test_the_html_footer_states_the_provenance_in_vietnamese_with_the_command_escaped(stamped):
    prov, _, _, _, index = stamped
    pages = [index, *sorted((index.parent / "agency").glob("*.html")), *sorted((index.parent / "evidence").glob("*"))]
    assert len(pages) > 3
    for page in pages:
        html = page.read_text(encoding="utf-8")
        footer = html.split('<footer class="meta" id="provenance">')[1]
        for label in ("Công cụ", "Phiên bản", "Lệnh chạy", "User-Agent", "Bộ tiêu chí", "Kỳ đánh giá", "Qua proxy",
                      "robots.txt", "Bắt đầu", "Kết thúc"):
            assert f"<dt>{label}</dt>" in footer, (page, label)
        assert "<dd>28/11/2018 09:25:00 +07:00</dd>" in footer and "<dd>28/11/2018 09:35:00 +07:00</dd>" in footer
        assert f"sha256: {prov['rulebook']['sha256']}" in footer
        assert "<dd>tuân thủ</dd>" in footer and "<dd>01/01/2018 – 31/12/2018</dd>" in footer
        assert "<script>" not in footer and "&lt;script&gt;alert(1)&lt;/script&gt;.csv" in footer
        assert "\u202e" not in footer and "‹U+202E›" in footer
        assert prov["user_agent"] in footer


def test_the_workbook_has_a_run_sheet_whose_untrusted_text_stays_text(stamped):
    prov, _, _, xlsx, _ = stamped
    book = load_workbook(xlsx)
    assert book.sheetnames[-1] == "Thông tin lần chạy"
    ws = book["Thông tin lần chạy"]
    facts = {r[0].value: r[1] for r in ws.iter_rows(min_row=3) if r[0].value}
    assert facts["Công cụ"].value == "portal-evidence"
    assert facts["Phiên bản"].value.startswith(prov["version"])
    assert facts["User-Agent"].value == prov["user_agent"]
    assert facts["Bắt đầu"].value == "28/11/2018 09:25:00 +07:00"
    assert facts["Kết thúc"].value == "28/11/2018 09:35:00 +07:00"
    assert facts["Qua proxy"].value == "Không" and facts["robots.txt"].value == "tuân thủ"
    command = facts["Lệnh chạy"]
    assert command.data_type == "s" and "‹U+202E›" in command.value and "\u202e" not in command.value
    assert '=HYPERLINK(' in command.value and "<script>" in command.value      # text, never a formula
    # the heading of every sheet names the run and the report's time, in +07:00
    assert "Lập lúc: 28/11/2018 09:35:00 +07:00" in book[book.sheetnames[0]]["A2"].value


def test_a_run_of_an_older_version_says_unknown(tmp_path):
    db_path, run_id = build_province(tmp_path, with_warc=False)
    audit = build_audit(open_db(db_path), run_id)
    assert audit.provenance == {}
    out = tmp_path / "out"
    assert json.loads(write_json(audit, out).read_text(encoding="utf-8"))["run"]["provenance"] is None
    footer = write_html(audit, out).read_text(encoding="utf-8").split('id="provenance">')[1]
    assert "<dt>Phiên bản</dt><dd>không rõ</dd>" in footer and "<dt>Lệnh chạy</dt><dd>không rõ</dd>" in footer
    assert "<dt>Bắt đầu</dt><dd>28/11/2018 09:30:00 +07:00</dd>" in footer     # from the run's own row
    facts = {r[0].value: r[1].value for r in load_workbook(write_xlsx(audit, out))["Thông tin lần chạy"].iter_rows(
        min_row=3) if r[0].value}
    assert facts["Bộ tiêu chí"] == "không rõ" and facts["User-Agent"] == "không rõ"


def test_the_report_time_is_the_runs_end_or_a_later_override(tmp_path):
    db_path, run_id = build_province(tmp_path, with_warc=False)
    db = open_db(db_path)
    audit = build_audit(db, run_id)
    assert audit.generated_at == report_time(audit.data) == T_CHECK + dt.timedelta(minutes=5)
    later = dt.datetime(2018, 12, 3, 1, 0, tzinfo=dt.UTC)
    machine = audit.data.verdict_map()[("so-tu-phap", "thanh-tra")]
    save_override(db, new_override("so-tu-phap", "thanh-tra", "pass", "Đã xem", "Nguyễn Văn A", at=later,
                                   run_id=run_id, machine=machine))
    assert build_audit(db, run_id).generated_at == later
    db["runs"].update(run_id, {"finished_at": None, "status": "running"})       # a run cut short
    assert report_time(build_audit(db, run_id).data) == later


def _report(db: Path, out: Path, cwd: Path, tz: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TZ": tz}
    return subprocess.run([str(CLI), "report", "--db", str(db), "--out", str(out)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_report_on_a_stored_run_writes_the_same_bytes_each_time(tmp_path):
    db_path, run_id = build_province(tmp_path)
    _stamp(db_path, run_id)
    first, second = tmp_path / "first", tmp_path / "second"
    one = _report(db_path, first, tmp_path, "UTC")
    time.sleep(1.1)                  # the wall clock moves on, and the second report runs in another time zone
    two = _report(db_path, second, tmp_path, "Asia/Ho_Chi_Minh")
    assert one.returncode == two.returncode == 1, one.stderr + two.stderr     # a verdict awaits review
    files = _files(first)
    assert files == _files(second)
    assert {"report.json", "report.xlsx", "html/index.html", "warc/index.cdxj"} <= set(files)
    assert any(f.startswith("html/evidence/") for f in files) and any(f.endswith(".warc.gz") for f in files)
    match, mismatch, errors = filecmp.cmpfiles(first, second, files, shallow=False)
    assert mismatch == [] and errors == [] and len(match) == len(files)
