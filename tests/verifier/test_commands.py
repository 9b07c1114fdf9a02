"""The score, override and report commands through the command line: output, files written, exit codes
(0 done, 1 done but verdicts need review or failed to fetch, 2 bad input or usage)."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from verifier.cli import app
from verifier.export.audit import load_run
from verifier.store import open_db, save_verdict

from .builders import HUYEN, SO, build_province

ROOT = Path(__file__).resolve().parents[2]
NOW = "2018-12-01T03:00:00Z"
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def province(tmp_path):
    db_path, run_id = build_province(tmp_path)
    return db_path


def decide_thanh_tra(db_path, status="pass"):
    return invoke("override", "so-tu-phap", "thanh-tra", "--status", status, "--note", "Đã xem trực tiếp",
                  "--by", "Nguyễn Văn A", "--db", db_path, "--now", "2018-12-02T08:00:00Z")


# ------------------------------------------------------------------------------------------------ score

def test_score_ranks_prints_and_stores_and_exits_1_while_a_verdict_awaits_review(province):
    result = invoke("score", "--db", province, "--now", NOW)
    assert result.exit_code == 1
    assert "Sở Tư pháp" in result.stdout and "133.05/150" in result.stdout
    unranked = result.stdout.split("Sở Xây dựng")[1].split("UBND")[0]        # the table wraps at 80 columns
    unranked = " ".join(unranked.replace("│", " ").split())
    assert "không xếp hạng" in unranked and "nộp phiếu" in unranked     # late, and no form, in words
    assert "6 agencies scored, 4 ranked, 1 verdict(s) pending review" in result.stderr
    db = open_db(province)
    stored = {r["agency_id"]: r for r in db["scores"].rows}
    assert (stored["so-tu-phap"]["score"], stored["so-tu-phap"]["rank"], stored["so-tu-phap"]["level"]) == (
        127.05, 2, "Khá")
    assert stored["so-tu-phap"]["rulebook"] == "rules/caobang-2018.yaml"
    assert stored["so-xay-dung"]["not_ranked_reason"] == "late" and stored["so-xay-dung"]["score"] is None
    assert db["criterion_points"].count == 5 * 34


def test_score_json_prints_one_object(province):
    result = invoke("score", "--db", province, "--json")
    data = json.loads(result.stdout)
    assert data["run"] == 1 and [a["agency_id"] for a in data["agencies"]][:2] == ["so-tu-phap", "so-tttt"]
    assert {a["agency_id"]: a["rank"] for a in data["agencies"]}["ubnd-hoa-an"] == 1


def test_score_is_0_once_the_reviewer_decided(province):
    assert decide_thanh_tra(province).exit_code == 0
    result = invoke("score", "--db", province)
    assert result.exit_code == 0 and "0 verdict(s) pending review" in result.stderr


def test_a_link_that_failed_to_fetch_makes_score_exit_1(province):
    decide_thanh_tra(province)
    db = open_db(province)
    data = load_run(db)
    v = data.verdict_map()[("so-tttt", "gioi-thieu")]
    save_verdict(db, 1, dataclasses.replace(v, status="fail", reason="unreachable", posts=(), posts_in_year=None,
                                            detail="timeout"), data.rulebook.period)
    assert invoke("score", "--db", province).exit_code == 1


def test_score_for_another_period_rejudges_the_links_from_the_posts_read(province, tmp_path):
    result = invoke("report", "--db", province, "--out", tmp_path / "h2", "--format", "json",
                    "--period-start", "2018-07-01", "--now", NOW)
    assert result.exit_code == 1
    data = json.loads((tmp_path / "h2" / "report.json").read_text(encoding="utf-8"))
    assert data["period"] == ["2018-07-01", "2018-12-31"]
    verdicts = {(v["agency_id"], v["criterion"]): v for v in data["verdicts"]}
    chi_dao = verdicts[("so-tu-phap", "chi-dao-dieu-hanh")]                # posts of March and June only
    assert (chi_dao["status"], chi_dao["reason"], chi_dao["posts_in_year"], chi_dao["points"]) == (
        "fail", "no_posts_in_year", 0, 0.0)
    news = verdicts[("so-tttt", "tin-tuc-su-kien")]                         # one of its 14 posts is from July
    assert (news["status"], news["posts_in_year"], news["points"]) == ("pass", 1, 6.0)


@pytest.mark.parametrize("args,message", [
    (["--period-start", "31/31/2018"], "--period-start"),
    (["--period-start", "2018-12-01", "--period-end", "2018-06-30"], "is after"),
    (["--run", "7"], "run 7 is not in the database"),
])
def test_score_refuses_bad_options(province, args, message):
    result = invoke("score", "--db", province, *args)
    assert result.exit_code == 2 and message in result.stderr
    assert "Traceback" not in result.output


def test_score_without_a_run_or_a_database(tmp_path):
    open_db(tmp_path / "empty.db")
    result = invoke("score", "--db", tmp_path / "empty.db")
    assert result.exit_code == 2 and "holds no run" in result.stderr and "portal-evidence crawl" in result.stderr
    assert invoke("score", "--db", tmp_path / "nope.db").exit_code == 2


# ------------------------------------------------------------------------------------------------ override

def test_override_records_the_decision_and_rescores(province):
    result = decide_thanh_tra(province)
    assert result.exit_code == 0
    assert "override #1: so-tu-phap thanh-tra: machine review/undated -> pass by Nguyễn Văn A" in result.stdout
    assert "so-tu-phap: 130.05/150, rank 2, Tốt" in result.stdout
    row = next(open_db(province)["overrides"].rows)
    assert (row["run_id"], row["machine_status"], row["at"]) == (1, "review", "2018-12-02T08:00:00Z")


@pytest.mark.parametrize("args,message", [
    (["so-tu-phap", "thanh-tra", "--status", "approved"], "status 'approved' is not one of pass, fail, exempt, review"),
    (["so-x", "thanh-tra", "--status", "pass"], "agency 'so-x' is not in run 1"),
    (["so-tu-phap", "thanh-tra-x", "--status", "pass"], "Criterion not in rulebook: 'thanh-tra-x'"),
    (["ubnd-hoa-an", "csdl-chuyen-nganh", "--status", "pass"], "does not apply to group 'huyen'"),
    (["so-tu-phap", "thanh-tra", "--status", "pass", "--note", " "], "a note saying why is required"),
])
def test_override_refuses_bad_input_and_stores_nothing(province, args, message):
    options = {"--note": "Lý do", "--by": "Nguyễn Văn A"}
    for i, a in enumerate(args):
        if a in options:
            options[a] = args[i + 1]
    positional = [a for i, a in enumerate(args) if a not in options and (i == 0 or args[i - 1] not in options)]
    result = invoke("override", *positional, "--note", options["--note"], "--by", options["--by"], "--db", province)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and result.stderr.startswith("Error: ")
    assert open_db(province)["overrides"].count == 0


def test_override_needs_its_options():
    result = invoke("override", "so-tu-phap", "thanh-tra", "--status", "pass")
    assert result.exit_code == 2 and "--note" in result.output


# ------------------------------------------------------------------------------------------------ report

def test_report_writes_every_format(province, tmp_path):
    out = tmp_path / "report"
    result = invoke("report", "--db", province, "--out", out, "--format", "json,xlsx,html,warc", "--now", NOW)
    assert result.exit_code == 1                         # so-tu-phap's thanh-tra awaits a reviewer
    written = {Path(line).relative_to(out).as_posix() for line in result.stdout.splitlines()}
    assert written == {"report.json", "report.xlsx", "html/index.html", "warc/run-1-20181128-1.warc.gz",
                       "warc/index.cdxj", "metadata.yaml"} | {f"phieu/{a}.xlsx" for a, _ in SO + HUYEN}
    # Datasette's descriptions of the database the report came from, keyed by its name
    described = yaml.safe_load((out / "metadata.yaml").read_text(encoding="utf-8"))
    assert "verdicts" in described["databases"][Path(province).stem]["tables"]
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["generated_at"] == NOW
    book = load_workbook(out / "report.xlsx")
    assert "Kết quả kiểm tra" in book.sheetnames              # the agencies' forms are phieu/<agency>.xlsx
    assert (out / "html" / "agency" / "so-tu-phap.html").is_file()
    assert open_db(province)["scores"].count == 6


def test_report_warc_copies_the_files_and_indexes_every_response(province, tmp_path):
    out = tmp_path / "report"
    assert invoke("report", "--db", province, "--out", out, "--format", "warc").exit_code == 1
    source = tmp_path / "warc" / "run-1-20181128-1.warc.gz"
    copy = out / "warc" / source.name
    assert copy.read_bytes() == source.read_bytes()
    responses = []
    with copy.open("rb") as fh:
        records = ArchiveIterator(fh)
        for record in records:
            if record.rec_type == "response":
                responses.append((record.rec_headers.get_header("WARC-Target-URI"), records.get_record_offset()))
    assert len(responses) == 2
    index = [json.loads(line.split(" ", 2)[2]) for line in (out / "warc" / "index.cdxj").read_text().splitlines()]
    listed = {(entry["url"], int(entry["offset"])) for entry in index if entry["filename"] == source.name}
    assert set(responses) <= listed
    assert all(entry["status"] == "200" for entry in index)


def test_report_without_warc_files_warns(tmp_path):
    db_path, _ = build_province(tmp_path, with_warc=False)
    result = invoke("report", "--db", db_path, "--out", tmp_path / "r", "--format", "json,warc")
    assert result.exit_code == 1
    assert "has no WARC file to copy" in result.stderr and (tmp_path / "r" / "report.json").is_file()


def test_report_is_0_when_nothing_awaits_review(province, tmp_path):
    decide_thanh_tra(province)
    assert invoke("report", "--db", province, "--out", tmp_path / "r", "--format", "json").exit_code == 0


@pytest.mark.parametrize("formats", ["docx", "json,csv", " , "])
def test_report_refuses_an_unknown_format_and_writes_nothing(province, tmp_path, formats):
    result = invoke("report", "--db", province, "--out", tmp_path / "r", "--format", formats)
    assert result.exit_code == 2 and "--format" in result.stderr
    assert not (tmp_path / "r").exists()


def test_cli_py_runs_the_report_as_a_script(province, tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "cli.py"), "report", "--db", str(province), "--out",
                             str(tmp_path / "r"), "--format", "json,xlsx,html,warc"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "run 1: report written to" in result.stderr
    assert (tmp_path / "r" / "warc" / "index.cdxj").is_file()
