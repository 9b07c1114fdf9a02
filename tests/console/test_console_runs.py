"""The console's runs and the diff between two of them, on two stored runs (the second a copy with changes)."""

import pytest
from bs4 import BeautifulSoup

from tests.console.conftest import make_console_db, signed_in
from tests.verifier.builders import copy_run
from verifier.console.app import create_app
from verifier.store import open_db

CHANGED = {("so-tu-phap", "thanh-tra"): ("pass", "ok", 4), ("so-tttt", "ngan-sach"): ("fail", "not_found", None)}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    db_path = make_console_db(tmp_path_factory.mktemp("runs"))
    db = open_db(db_path)
    later = copy_run(db, 1, changes=CHANGED)
    db["runs"].update(later, {"provenance": '{"command": "portal-evidence crawl --agencies a.csv"}'})
    db.conn.commit()
    db.close()
    app = create_app(db_path)
    return later, {name: signed_in(app, name) for name in ("xem", "duyet", "tuphap")}


def test_the_runs_list_every_run_with_counts_and_what_started_it(two_runs):
    later, clients = two_runs
    assert clients["tuphap"].get("/runs").status_code == 404
    assert clients["tuphap"].get(f"/runs/diff?a=1&b={later}").status_code == 404
    soup = BeautifulSoup(clients["xem"].get("/runs").text, "html.parser")
    rows = [[td.get_text() for td in tr.find_all("td")] for tr in soup.select("#runs tbody tr")]
    assert [r[0] for r in rows] == [f"#{later}", "#1"]
    assert rows[0][6] == "portal-evidence crawl --agencies a.csv" and rows[1][6] == "không rõ"
    assert rows[1][4] == "caobang-2018.yaml"          # no provenance stored: the rulebook file
    assert "Đạt:" in rows[0][5] and "Cần xem xét:" in rows[1][5]
    picks = {s["name"]: s.select_one("option[selected]")["value"] for s in soup.select("#pick select")}
    assert picks == {"a": "1", "b": str(later)}


def test_the_diff_shows_each_changed_verdict_with_both_readings(two_runs):
    later, clients = two_runs
    soup = BeautifulSoup(clients["duyet"].get(f"/runs/diff?a=1&b={later}").text, "html.parser")
    rows = {tr.select_one("a")["href"]: [td.get_text() for td in tr.find_all("td")] for tr in soup.select("#changes tbody tr")}
    assert set(rows) == {"/agency/so-tu-phap/thanh-tra", "/agency/so-tttt/ngan-sach"}
    before, after = rows["/agency/so-tu-phap/thanh-tra"][2:]
    assert "Cần xem xét" in before and "0 bài" in before and "Đạt" in after and "4 bài" in after


@pytest.mark.parametrize("query,field,status,message", [
    ("a=x&b=2", "a", 400, "Hãy chọn một lượt"),
    ("a=1", "b", 400, "Hãy chọn một lượt"),
    ("a=1&b=1", "b", 400, "Hãy chọn hai lượt"),
    ("a=1&b=99", "b", 404, "Không có lượt kiểm tra này"),
    ("a=77&b=1", "a", 404, "Không có lượt kiểm tra này"),
])
def test_a_bad_or_unknown_run_is_named_beside_its_field(two_runs, query, field, status, message):
    _, clients = two_runs
    answer = clients["xem"].get(f"/runs/diff?{query}")
    assert answer.status_code == status and "Traceback" not in answer.text
    assert BeautifulSoup(answer.text, "html.parser").select_one(f"#error-{field}").get_text().startswith(message)
