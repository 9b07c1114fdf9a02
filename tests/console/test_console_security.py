"""The console's guards: sign-in on every route, roles, agencies kept apart, CSRF, the sign-in limit, hostile
crawled text inert, and overrides refused with a message beside the field when the form is wrong."""

import datetime as dt
import re

import pytest
from bs4 import BeautifulSoup
from starlette.testclient import TestClient

from tests.console.conftest import IMG, PASSWORD, make_console_db
from verifier.console.app import create_app
from verifier.console.auth import LOCK_TIME, locked
from verifier.export import labels as L
from verifier.store import audit_entries, load_overrides, open_db

VERDICT = "/agency/so-tu-phap/chi-dao-dieu-hanh"
HOSTILE = "/agency/ubnd-hoa-an/tin-tuc-su-kien"
GET_ROUTES = ["/", "/queue", "/audit", "/agency/so-tu-phap", VERDICT, VERDICT + "/page/1", HOSTILE]


def _archived_links(client, path):
    return re.findall(r'href="(/agency/[^"]+/page/\d+)"', client.get(path).text)


@pytest.mark.parametrize("path", GET_ROUTES)
def test_every_route_without_a_session_goes_to_sign_in(app, path):
    client = TestClient(app, follow_redirects=False)
    answer = client.get(path)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"


def test_a_post_without_a_session_stores_nothing(app, console_db):
    client = TestClient(app, follow_redirects=False)
    client.get("/login")
    answer = client.post(VERDICT, data={"status": "fail", "note": "x", "csrftoken": client.cookies["csrftoken"]})
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert not [o for o in load_overrides(open_db(console_db)) if o.note == "x"]


def test_the_session_cookie_is_signed_http_only_and_lax(app):
    client = TestClient(app, follow_redirects=False)
    client.get("/login")
    answer = client.post("/login", data={"name": "xem", "password": PASSWORD, "csrftoken": client.cookies["csrftoken"]})
    cookie = answer.headers["set-cookie"].lower()
    assert "pe_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    forged = TestClient(app, follow_redirects=False, cookies={"pe_session": "eyJ1c2VyIjogInF1YW50cmkifQ==.x.y"})
    assert forged.get("/audit").status_code == 303


def test_roles(clients):
    assert clients["quantri"].get("/audit").status_code == 200
    for name in ("duyet", "xem", "tuphap"):
        assert clients[name].get("/audit").status_code == 404, name
    page = clients["xem"].get(VERDICT).text
    assert 'id="override"' not in page            # a viewer reads, and gets no form
    answer = clients["xem"].post(VERDICT, data={"status": "fail", "note": "viewer",
                                                "csrftoken": clients["xem"].cookies["csrftoken"]})
    assert answer.status_code == 404


def test_an_agency_sees_only_its_own_agency(clients):
    mine, other = clients["tuphap"], clients["hoaan"]
    assert mine.get("/").headers["location"] == "/agency/so-tu-phap"
    assert mine.get("/agency/so-tu-phap").status_code == 200
    links = _archived_links(mine, VERDICT)
    assert links and mine.get(links[0]).status_code == 200
    theirs = _archived_links(clients["duyet"], HOSTILE)
    assert theirs
    for path in ["/agency/so-tu-phap", VERDICT, *links, "/queue"]:
        assert other.get(path).status_code == 404, path
    # a fetch id of another verdict under one's own agency's URL: not found either
    fid = theirs[0].rsplit("/", 1)[1]
    assert mine.get(f"{VERDICT}/page/{fid}").status_code == 404
    for n in range(1, 12):
        if f"{VERDICT}/page/{n}" not in links:
            assert mine.get(f"{VERDICT}/page/{n}").status_code == 404


def test_a_post_without_the_csrf_token_is_refused(app, clients, console_db):
    reviewer = clients["duyet"]
    answer = reviewer.post(VERDICT, data={"status": "fail", "note": "không có mã CSRF"})
    assert answer.status_code == 403
    fresh = TestClient(app, follow_redirects=False)
    fresh.get("/login")
    assert fresh.post("/login", data={"name": "duyet", "password": PASSWORD}).status_code == 403
    assert not [o for o in load_overrides(open_db(console_db)) if o.note == "không có mã CSRF"]


def test_ten_wrong_passwords_lock_sign_in(tmp_path):
    db_path = make_console_db(tmp_path)
    app = create_app(db_path)
    client = TestClient(app, follow_redirects=False)
    client.get("/login")
    token = client.cookies["csrftoken"]
    for _ in range(10):
        answer = client.post("/login", data={"name": "duyet", "password": "sai", "csrftoken": token})
        assert answer.status_code == 401 and "không đúng" in answer.text
    answer = client.post("/login", data={"name": "duyet", "password": PASSWORD, "csrftoken": token})
    assert answer.status_code == 429 and "tạm khoá 15 phút" in answer.text
    db = open_db(db_path)
    now = dt.datetime.now(dt.UTC)
    assert locked(db, "duyet", "testclient", now)
    assert locked(db, "xem", "testclient", now)                # the same client address too
    assert not locked(db, "xem", "10.0.0.9", now)
    assert not locked(db, "duyet", "testclient", now + LOCK_TIME + dt.timedelta(seconds=5))
    actions = [a["action"] for a in audit_entries(db)]
    assert actions.count("sign-in-failed") == 11


def _inert(html: str, where: str) -> None:
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.find_all("script"), where
    assert not soup.find_all("img"), where
    for tag in soup.find_all(True):
        assert not [a for a in tag.attrs if a.lower().startswith("on")], (where, tag)
    for frame in soup.find_all("iframe"):
        assert frame.has_attr("sandbox") and frame["sandbox"] in ("", []), where      # no allow-scripts
        assert frame["srcdoc"].startswith('<!DOCTYPE html><meta http-equiv="Content-Security-Policy" '
                                          "content=\"default-src 'none'"), where


def test_hostile_crawled_text_is_inert_on_every_page(clients):
    reviewer = clients["duyet"]
    answer = reviewer.post(VERDICT, data={"status": "pass", "note": IMG + "<script>alert(3)</script>",
                                          "run": "1", "checked_at": _checked_at(reviewer, VERDICT),
                                          "csrftoken": reviewer.cookies["csrftoken"]})
    assert answer.status_code == 303
    client = TestClient(reviewer.app, follow_redirects=False)
    client.get("/login")
    client.post("/login", data={"name": IMG, "password": "x", "csrftoken": client.cookies["csrftoken"]})
    pages = ["/", "/queue", "/agency/ubnd-hoa-an", HOSTILE, VERDICT, "/agency/so-tu-phap"]
    pages += _archived_links(reviewer, VERDICT) + _archived_links(reviewer, HOSTILE)
    seen = ""
    for path in pages:
        answer = reviewer.get(path)
        assert answer.status_code == 200, path
        assert "script-src" not in answer.headers["content-security-policy"]      # default-src 'none': no script
        _inert(answer.text, path)
        seen += answer.text
    admin = clients["quantri"].get("/audit").text
    _inert(admin, "/audit")
    assert "&lt;img src=x onerror=alert(1)&gt;" in seen and "&lt;img src=x onerror=alert(1)&gt;" in admin
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in seen


def _checked_at(client, path):
    return BeautifulSoup(client.get(path).text, "html.parser").find("input", {"name": "checked_at"})["value"]


def _form_errors(html):
    soup = BeautifulSoup(html, "html.parser")
    return {p["id"]: p.get_text() for p in soup.select("p.error")}, soup.find("textarea", {"name": "note"}).get_text()


@pytest.mark.parametrize(("fields", "error_id", "kept"), [
    ({"status": "fail", "note": "   "}, "error-note", "   "),
    ({"status": "gần đạt", "note": "Ghi chú đang gõ dở"}, "error-status", "Ghi chú đang gõ dở"),
    ({"status": "fail", "note": "Trang đã đổi", "checked_at": "2017-01-01T00:00:00+00:00"}, "error-form",
     "Trang đã đổi"),
    ({"status": "fail", "note": "Lượt khác", "run": "999"}, "error-form", "Lượt khác"),
])
def test_a_bad_override_gets_a_message_beside_the_field_and_stores_nothing(clients, console_db, fields, error_id,
                                                                           kept):
    reviewer = clients["duyet"]
    before = len(load_overrides(open_db(console_db)))
    data = {"run": "1", "checked_at": _checked_at(reviewer, VERDICT), "csrftoken": reviewer.cookies["csrftoken"],
            **fields}
    answer = reviewer.post(VERDICT, data=data)
    assert answer.status_code == 400
    errors, note = _form_errors(answer.text)
    assert list(errors) == [error_id] and errors[error_id]
    assert note == kept
    assert len(load_overrides(open_db(console_db))) == before


def test_an_override_records_who_and_when_and_the_audit_trail(clients, console_db):
    reviewer = clients["duyet"]
    answer = reviewer.post("/agency/so-tu-phap/thanh-tra", data={
        "status": "pass", "note": "Đã xem bản giấy: có 2 kết luận thanh tra", "run": "1",
        "checked_at": _checked_at(reviewer, "/agency/so-tu-phap/thanh-tra"),
        "csrftoken": reviewer.cookies["csrftoken"]})
    assert answer.status_code == 303
    saved = [o for o in load_overrides(open_db(console_db)) if o.criterion == "thanh-tra"]
    assert [(o.by, o.status, o.machine_status) for o in saved] == [("duyet", "pass", "review")]
    assert abs((dt.datetime.now(dt.UTC) - saved[0].at).total_seconds()) < 60
    page = reviewer.get("/agency/so-tu-phap/thanh-tra").text
    assert "Đã xem bản giấy" in page
    entry = next(a for a in audit_entries(open_db(console_db)) if a["action"] == "override"
                 and a["object"] == "so-tu-phap/thanh-tra")
    assert entry["who"] == "duyet"
    trail = clients["quantri"].get("/audit").text           # the admin reads it in Vietnamese, at +07:00
    assert "Điều chỉnh kết quả" in trail and ">override<" not in trail
    assert L.vn_datetime(dt.datetime.fromisoformat(entry["at"])) in trail
    queue = reviewer.get("/queue?agency=so-tu-phap").text
    assert "/agency/so-tu-phap/thanh-tra" not in queue


def test_a_reviewer_withdraws_an_override_with_a_note_and_it_stays_in_the_record(clients, console_db):
    reviewer, viewer = clients["duyet"], clients["xem"]
    path = "/agency/so-tu-phap/gioi-thieu"
    answer = reviewer.post(path, data={"status": "fail", "note": "Thiếu địa chỉ thư điện tử", "run": "1",
                                       "checked_at": _checked_at(reviewer, path),
                                       "csrftoken": reviewer.cookies["csrftoken"]})
    assert answer.status_code == 303
    mine = next(o for o in load_overrides(open_db(console_db)) if o.criterion == "gioi-thieu" and not o.withdrawn)
    withdraw = path + "/withdraw"
    token = reviewer.cookies["csrftoken"]
    # no note: refused beside the field, nothing recorded
    answer = reviewer.post(withdraw, data={"override_id": str(mine.id), "withdraw_note": "  ", "csrftoken": token})
    assert answer.status_code == 400 and 'id="error-withdraw-note"' in answer.text
    # another override than the one in force (a stale page): refused
    answer = reviewer.post(withdraw, data={"override_id": "999", "withdraw_note": "Nhầm", "csrftoken": token})
    assert answer.status_code == 400 and 'id="error-withdraw-form"' in answer.text
    assert not next(o for o in load_overrides(open_db(console_db)) if o.id == mine.id).withdrawn
    answer = viewer.post(withdraw, data={"override_id": str(mine.id), "withdraw_note": "Nhầm",   # a viewer reads
                                         "csrftoken": viewer.cookies["csrftoken"]})
    assert answer.status_code == 404                  # a route its role may not use is not there for it
    answer = reviewer.post(withdraw, data={"override_id": str(mine.id), "withdraw_note": "Nhập nhầm tiêu chí",
                                           "csrftoken": token})
    assert answer.status_code == 303 and answer.headers["location"].endswith(path)
    done = next(o for o in load_overrides(open_db(console_db)) if o.id == mine.id)
    assert done.withdrawn and done.withdrawn_by == "duyet" and done.withdraw_note == "Nhập nhầm tiêu chí"
    page = reviewer.get(path).text
    assert 'id="withdraw"' not in page               # nothing in force to withdraw any more
    assert "Thiếu địa chỉ thư điện tử" in page         # the decision stays in the history
    entry = next(a for a in audit_entries(open_db(console_db)) if a["action"] == "withdraw")
    assert entry["who"] == "duyet" and entry["object"] == "so-tu-phap/gioi-thieu"
