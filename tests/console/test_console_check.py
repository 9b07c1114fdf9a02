"""The console's spot-check against the demo portals on loopback (the demo server as the HTTP proxy): who may use
it, bad input per field, the check kept with its WARC record, "use this as the verdict" as an override linked to
the check; and the statuses a criterion's rulebook entry allows, refused on the command line and in the console."""

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from starlette.testclient import TestClient
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from crawler.records import Post
from demo.pipeline import proxy_env
from tests.console.conftest import IMG, make_console_db, signed_in
from tests.console.test_console_security import _inert
from tests.verifier.builders import SCRIPT_TITLE, WarcMaker, page, website
from verifier import api
from verifier.cli import app as cli_app
from verifier.console.app import create_app
from verifier.store import audit_entries, get_spot_check, load_overrides, open_db

# the demo's Sở Tư pháp: an inspection link that is a news post (fail/wrong_category); so-tu-phap's thanh-tra
# verdict in the stored run is review/undated
URL = "http://sotuphap.caobang.gov.vn/node/1238"
PORTAL = "http://sotuphap.caobang.gov.vn"
KEY = ("so-tu-phap", "thanh-tra")


@pytest.fixture(scope="module")
def db_path(tmp_path_factory):
    path = make_console_db(tmp_path_factory.mktemp("check"))
    db = open_db(path)
    db.execute("update agencies set portal = ? where agency_id = ?", [PORTAL, KEY[0]])
    db.conn.commit()
    db.close()
    return path


@pytest.fixture(scope="module")
def reviewer(db_path):
    return signed_in(create_app(db_path, allow_private=True), "duyet")


@pytest.fixture(scope="module")
def checked(server, reviewer, db_path):
    """One spot-check run through the console by the reviewer: (its id, the answer to the POST)."""
    token = reviewer.cookies["csrftoken"]
    with proxy_env(server.proxy_url):
        answer = reviewer.post("/check", data={"url": URL, "criterion": KEY[1], "agency": KEY[0], "csrftoken": token})
    assert answer.status_code == 303, answer.text
    return int(answer.headers["location"].rsplit("/", 1)[1]), answer


def test_only_reviewers_and_admins_reach_the_spot_check(clients):
    for name in ("xem", "tuphap"):
        assert clients[name].get("/check").status_code == 404
        assert clients[name].get("/check/1").status_code == 404
        assert clients[name].post("/check", data={"url": URL, "csrftoken": clients[name].cookies["csrftoken"]}
                                  ).status_code == 404
    for name in ("duyet", "quantri"):
        page = clients[name].get("/check")
        assert page.status_code == 200 and 'action="/check"' in page.text
    nav = BeautifulSoup(clients["xem"].get("/").text, "html.parser")
    assert nav.select_one("a[href='/runs']") and not nav.select_one("a[href='/check']")


@pytest.mark.parametrize("path", ["/check", "/check/1", "/check/1/page/0", "/runs", "/runs/diff?a=1&b=2"])
def test_every_route_without_a_session_goes_to_sign_in(app, path):
    answer = TestClient(app, follow_redirects=False).get(path)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"


def test_a_check_posted_without_a_session_or_the_csrf_token_is_refused(app, clients, console_db):
    fresh = TestClient(app, follow_redirects=False)
    fresh.get("/login")
    answer = fresh.post("/check", data={"url": URL, "criterion": "thanh-tra", "csrftoken": fresh.cookies["csrftoken"]})
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert clients["duyet"].post("/check", data={"url": URL, "criterion": "thanh-tra"}).status_code == 403
    assert open_db(console_db)["spot_checks"].count == 0


def test_hostile_crawled_text_of_a_check_is_inert(reviewer, db_path, rulebook, tmp_path):
    warc = WarcMaker(tmp_path, "hostile.warc.gz")
    url = f"http://sotuphap.caobang.gov.vn/x?q={IMG}"
    ref = warc.response(url, f"<html><body><h1>{SCRIPT_TITLE}</h1><script>alert(2)</script></body></html>".encode())
    warc.close()
    verdict = website("-", "thanh-tra", "pass", "ok", url=url, posts=(Post(IMG, url, rulebook.period[0]),),
                      pages=(page(url, ref=ref, label=IMG + SCRIPT_TITLE, posts=1),))
    kept = api.store_check(db_path, api.CheckResult(verdict, tuple(rulebook.period), rulebook, 0.1, warc.path), IMG)
    seen = ""
    for path in (f"/check/{kept.id}", f"/check/{kept.id}/page/0", "/check"):
        answer = reviewer.get(path)
        assert answer.status_code == 200, path
        _inert(answer.text, path)
        seen += answer.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in seen and "&lt;script&gt;alert(1)&lt;/script&gt;" in seen
    assert 'id="archived"' in seen


def test_the_form_is_prefilled_from_the_query(reviewer):
    soup = BeautifulSoup(reviewer.get(f"/check?url={URL}&criterion=thanh-tra&agency=so-tu-phap").text, "html.parser")
    assert soup.select_one("input[name=url]")["value"] == URL
    assert soup.select_one("select[name=criterion] option[selected]")["value"] == "thanh-tra"
    assert soup.select_one("select[name=agency] option[selected]")["value"] == "so-tu-phap"
    criteria = [o["value"] for o in soup.select("select[name=criterion] option") if o["value"]]
    assert "tin-tuc-su-kien" in criteria and "can-bo-cong-chuc" not in criteria   # website criteria only


@pytest.mark.parametrize("fields,field,message", [
    ({"url": "", "criterion": "thanh-tra"}, "url", "Cần nhập đường dẫn"),
    ({"url": "ftp://x y", "criterion": "thanh-tra"}, "url", "Đường dẫn không hợp lệ"),
    ({"url": URL, "criterion": "khong-co"}, "criterion", "Tiêu chí không có trong bộ tiêu chí"),
    ({"url": URL, "criterion": "can-bo-cong-chuc"}, "criterion", "Tiêu chí không có trong bộ tiêu chí"),
    ({"url": URL, "criterion": "thanh-tra", "agency": "so-khong-co"}, "agency", "Đơn vị không có"),
])
def test_bad_input_is_named_beside_its_field_and_nothing_is_stored(reviewer, db_path, fields, field, message):
    before = open_db(db_path)["spot_checks"].count
    files = set((db_path.parent / "evidence-checks").glob("*"))
    answer = reviewer.post("/check", data={**fields, "csrftoken": reviewer.cookies["csrftoken"]})
    assert answer.status_code == 400 and "Traceback" not in answer.text
    soup = BeautifulSoup(answer.text, "html.parser")
    assert soup.select_one(f"#error-{field}").get_text().startswith(message)
    assert soup.select_one("input[name=url]")["value"] == fields["url"]          # what was typed is kept
    assert open_db(db_path)["spot_checks"].count == before
    assert set((db_path.parent / "evidence-checks").glob("*")) == files


def test_a_check_is_kept_with_its_warc_record_and_shown(checked, reviewer, db_path):
    check_id, _ = checked
    row = get_spot_check(open_db(db_path), check_id)
    assert (row["status"], row["reason"], row["by"], row["agency_id"]) == ("fail", "wrong_category", "duyet", KEY[0])
    warc = Path(row["warc_file"])
    assert warc.parent == db_path.parent.resolve() / "evidence-checks" and re.fullmatch(r"check-\d+\.warc\.gz", warc.name)
    with open(row["warc_file"], "rb") as fh:
        fh.seek(row["warc_offset"])
        record = next(iter(ArchiveIterator(fh)))
    assert record.rec_type == "response" and record.rec_headers.get_header("WARC-Target-URI") == URL
    entry = next(a for a in audit_entries(open_db(db_path)) if a["action"] == "spot-check")
    assert (entry["who"], entry["object"]) == ("duyet", f"check/{check_id}")
    soup = BeautifulSoup(reviewer.get(f"/check/{check_id}").text, "html.parser")
    result = soup.select_one("#result").get_text()
    assert "Không đạt" in result and "Không đúng chuyên mục" in result
    assert [td.get_text() for td in soup.select("#pages td")][:3] == [URL, URL, "200"]
    frame = soup.select_one("iframe#archived")
    assert frame is not None and frame.has_attr("sandbox") and not frame["sandbox"]     # nothing allowed
    assert soup.select_one("#chain li").get_text() == f"{URL}: HTTP 200 (trang đã lưu)"
    archived = BeautifulSoup(reviewer.get(f"/check/{check_id}/page/0").text, "html.parser")
    assert archived.select_one("iframe#archived") is not None
    assert reviewer.get(f"/check/{check_id}/page/9").status_code == 404
    assert reviewer.get("/check/9999").status_code == 404
    listed = BeautifulSoup(reviewer.get("/check").text, "html.parser").select_one("#recent tbody tr")
    assert listed.select_one("a")["href"] == f"/check/{check_id}" and "duyet" in listed.get_text()


def test_the_console_does_not_fetch_private_addresses_unless_told(server, db_path):
    cautious = signed_in(create_app(db_path), "duyet")
    with proxy_env(server.proxy_url):
        answer = cautious.post("/check", data={"url": "http://127.0.0.1:1/", "criterion": "thanh-tra",
                                               "csrftoken": cautious.cookies["csrftoken"]})
    assert answer.status_code == 303
    row = get_spot_check(open_db(db_path), int(answer.headers["location"].rsplit("/", 1)[1]))
    assert (row["status"], row["reason"]) == ("fail", "unreachable") and "private or loopback" in row["detail"]


def test_a_check_used_as_the_verdict_is_an_override_linked_to_it(checked, reviewer, db_path):
    check_id, _ = checked
    token = reviewer.cookies["csrftoken"]
    form = BeautifulSoup(reviewer.get(f"/check/{check_id}").text, "html.parser").select_one("form#use")
    hidden = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    empty = reviewer.post(f"/check/{check_id}/use", data={**hidden, "note": " "})
    assert empty.status_code == 400 and "Cần ghi chú" in BeautifulSoup(empty.text, "html.parser").select_one(
        "#error-use-note").get_text()
    stale = reviewer.post(f"/check/{check_id}/use", data={**hidden, "run": "99", "note": "Giữ ghi chú này"})
    assert stale.status_code == 400 and "Giữ ghi chú này" in stale.text
    assert BeautifulSoup(stale.text, "html.parser").select_one("#error-use-form") is not None
    assert not load_overrides(open_db(db_path))
    done = reviewer.post(f"/check/{check_id}/use", data={**hidden, "note": "Đường dẫn là một tin, không phải chuyên mục",
                                                         "csrftoken": token})
    assert done.status_code == 303 and done.headers["location"] == "/agency/so-tu-phap/thanh-tra"
    [saved] = load_overrides(open_db(db_path))
    assert (saved.status, saved.spot_check_id, saved.by, saved.machine_status) == ("fail", check_id, "duyet", "review")
    assert saved.note == f"Kiểm tra lại #{check_id}: Đường dẫn là một tin, không phải chuyên mục"
    entry = next(a for a in audit_entries(open_db(db_path)) if a["action"] == "use-check")
    assert entry["object"] == "so-tu-phap/thanh-tra" and f"from check #{check_id}" in entry["detail"]
    verdict = BeautifulSoup(reviewer.get("/agency/so-tu-phap/thanh-tra").text, "html.parser")
    assert verdict.select_one(f"a[href='/check/{check_id}']") is not None
    assert BeautifulSoup(reviewer.get(f"/check/{check_id}").text, "html.parser").select_one("#used") is not None


def test_a_check_without_an_agency_offers_no_verdict(server, reviewer):
    with proxy_env(server.proxy_url):
        answer = reviewer.post("/check", data={"url": URL, "criterion": "thanh-tra",
                                               "csrftoken": reviewer.cookies["csrftoken"]})
    check_id = int(answer.headers["location"].rsplit("/", 1)[1])
    assert BeautifulSoup(reviewer.get(f"/check/{check_id}").text, "html.parser").select_one("form#use") is None
    refused = reviewer.post(f"/check/{check_id}/use", data={"note": "x", "csrftoken": reviewer.cookies["csrftoken"]})
    assert refused.status_code == 404


# ------------------------------------------------------------------------------ statuses the rulebook allows

def test_a_status_the_rulebook_does_not_allow_is_refused_on_the_command_line(tmp_path):
    db_path = make_console_db(tmp_path)
    refused = CliRunner().invoke(cli_app, ["override", "so-tu-phap", "gioi-thieu", "--status", "exempt", "--note",
                                           "Không có", "--by", "A", "--db", str(db_path)])
    assert refused.exit_code == 2 and "'--status'" in refused.stderr
    assert "does not allow status 'exempt' for criterion gioi-thieu; use pass, fail, review" in refused.stderr
    allowed = CliRunner().invoke(cli_app, ["override", "so-tu-phap", "thanh-tra", "--status", "exempt", "--note",
                                           "Không có nhiệm vụ thanh tra", "--by", "A", "--db", str(db_path)])
    assert allowed.exit_code == 0, allowed.output
    assert [o.criterion for o in load_overrides(open_db(db_path))] == ["thanh-tra"]


def test_the_verdict_page_offers_only_the_allowed_statuses_and_refuses_a_crafted_one(clients, console_db):
    reviewer = clients["duyet"]
    page = BeautifulSoup(reviewer.get("/agency/so-tu-phap/gioi-thieu").text, "html.parser")
    assert [o["value"] for o in page.select("select[name=status] option")] == ["pass", "fail", "review"]
    other = BeautifulSoup(reviewer.get("/agency/so-tu-phap/thanh-tra").text, "html.parser")
    assert [o["value"] for o in other.select("select[name=status] option")] == ["pass", "fail", "exempt", "review"]
    hidden = {i["name"]: i["value"] for i in page.select("form#override input[type=hidden]")}
    crafted = reviewer.post("/agency/so-tu-phap/gioi-thieu", data={**hidden, "status": "exempt", "note": "Giữ lại"})
    assert crafted.status_code == 400
    soup = BeautifulSoup(crafted.text, "html.parser")
    assert "không cho phép" in soup.select_one("#error-status").get_text()
    assert soup.select_one("textarea[name=note]").get_text() == "Giữ lại"
    assert not [o for o in load_overrides(open_db(console_db)) if o.criterion == "gioi-thieu"]
