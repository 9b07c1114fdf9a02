"""What the console's pages show: the ranking links into each agency, a verdict's history across runs, the
archived page's chain of requests, the queue filtered."""

import datetime as dt

from bs4 import BeautifulSoup

from tests.console.conftest import make_console_db, signed_in
from tests.verifier.builders import add_agency, add_run, website
from verifier.console.app import create_app
from verifier.rulebook import load_rulebook
from verifier.store import open_db, save_verdict

VERDICT = "/agency/so-tu-phap/chi-dao-dieu-hanh"


def test_ranking_links_and_queue_filters(clients):
    reviewer = clients["xem"]
    soup = BeautifulSoup(reviewer.get("/").text, "html.parser")
    links = {a["href"] for a in soup.select("table.ranking a")}
    assert {"/agency/so-tu-phap", "/agency/ubnd-hoa-an"} <= links
    whole = reviewer.get("/queue").text
    assert "/agency/so-tu-phap/thanh-tra" in whole
    narrowed = reviewer.get("/queue?reason=undated&agency=ubnd-hoa-an").text
    assert "/agency/so-tu-phap/thanh-tra" not in narrowed and "/agency/ubnd-hoa-an/tin-tuc-su-kien" in narrowed


def test_the_archived_page_shows_its_chain_of_requests(clients):
    reviewer = clients["xem"]
    soup = BeautifulSoup(reviewer.get(VERDICT + "/page/1").text, "html.parser")
    hops = [li.get_text() for li in soup.select("#chain li")]
    assert hops == ["https://so-tu-phap.caobang.gov.vn/chi-dao-dieu-hanh: HTTP 200 (trang đã lưu)"]


def test_the_verdict_page_shows_the_verdict_in_every_run(tmp_path):
    db_path = make_console_db(tmp_path)
    db = open_db(db_path)
    later = add_run(db, started=dt.datetime(2018, 12, 5, 8, 0, tzinfo=dt.UTC))
    add_agency(db, later, "so-tu-phap", "Sở Tư pháp", "so")
    save_verdict(db, later, website("so-tu-phap", "chi-dao-dieu-hanh", "fail", "no_posts_in_year", posts_in_year=0),
                 load_rulebook().period)
    db.close()
    client = signed_in(create_app(db_path), "duyet")
    soup = BeautifulSoup(client.get(VERDICT).text, "html.parser")
    rows = [[td.get_text() for td in tr.find_all("td")] for tr in soup.select("#runs tbody tr")]
    assert [r[0] for r in rows] == [f"#{later}", "#1"]
    assert rows[0][4] == "0" and rows[1][4] == "2"
    assert rows[0][1] == "05/12/2018 15:00"                  # the run's start in the province's time


def test_the_verdict_page_lists_the_content_checks_with_their_page_and_escaped_excerpt(tmp_path):
    from dataclasses import replace

    from crawler.content import CheckSeen
    from tests.console.conftest import IMG

    db_path = make_console_db(tmp_path)
    db = open_db(db_path)
    checks = (CheckSeen("chuc-nang-nhiem-vu", "Chức năng, nhiệm vụ, quyền hạn", True,
                          "https://so-tu-phap.caobang.gov.vn/gioi-thieu", f"Sở có chức năng, nhiệm vụ {IMG}"),
              CheckSeen("dien-thoai", "Điện thoại", False))
    save_verdict(db, 1, replace(website("so-tu-phap", "gioi-thieu", "fail", "missing_content"), content_checks=checks),
                 load_rulebook().period)
    db.close()
    answer = signed_in(create_app(db_path), "duyet").get("/agency/so-tu-phap/gioi-thieu")
    assert "<img" not in answer.text
    rows = [[td.get_text() for td in tr.find_all("td")]
            for tr in BeautifulSoup(answer.text, "html.parser").select("#content-checks tbody tr")]
    assert rows == [["Chức năng, nhiệm vụ, quyền hạn", "Có", "https://so-tu-phap.caobang.gov.vn/gioi-thieu",
                     f"Sở có chức năng, nhiệm vụ {IMG}"], ["Điện thoại", "Không", "", ""]]
