"""An introduction page judged by its content through `check`, on the demo portals: the Sở Tư pháp's page
carries its functions, organisation, leaders and contacts; Hà Quảng's lists its documents only."""

from __future__ import annotations

import pytest

from demo.pipeline import DEMO_LIMITS, proxy_env
from verifier import api
from verifier.verdict import content_labels

INTRODUCTIONS = {   # url, portal -> status, reason, checks found, checks missing
    "stp": (("http://sotuphap.caobang.gov.vn/taxonomy/term/10", "http://sotuphap.caobang.gov.vn"),
            ("pass", "content_ok", ["Chức năng, nhiệm vụ, quyền hạn", "Cơ cấu tổ chức", "Lãnh đạo (họ tên, chức danh)",
                            "Địa chỉ", "Điện thoại", "Thư điện tử"], [])),
    "ha-quang": (("http://caobang.gov.vn/web/ha-quang/co-cau-to-chuc", "http://caobang.gov.vn/web/ha-quang"),
                 ("fail", "missing_content", ["Chức năng, nhiệm vụ, quyền hạn", "Cơ cấu tổ chức", "Địa chỉ",
                                              "Thư điện tử"], ["Lãnh đạo (họ tên, chức danh)", "Điện thoại"])),
}


@pytest.mark.parametrize("agency", INTRODUCTIONS)
def test_check_judges_an_introduction_by_what_it_carries(server, agency):
    (url, portal), (status, reason, found, missing) = INTRODUCTIONS[agency]
    with proxy_env(server.proxy_url):
        verdict = api.check_link(url, "gioi-thieu", agency_portal=portal, allow_private=True,
                                 timeout=DEMO_LIMITS.read_timeout).verdict
    assert (verdict.status, verdict.reason, verdict.posts_in_year) == (status, reason, None), verdict.detail
    assert content_labels(verdict.detail) == (found, missing)
    assert verdict.posts == ()        # its posts' dates are not what it is judged by


def test_a_kept_spot_check_keeps_where_each_content_check_was_found(server, tmp_path):
    (url, portal), (_, _, found, _) = INTRODUCTIONS["stp"]
    with proxy_env(server.proxy_url):
        result = api.check_link(url, "gioi-thieu", agency_portal=portal, allow_private=True,
                                timeout=DEMO_LIMITS.read_timeout)
    checks = result.verdict.content_checks
    assert [c.label for c in checks if c.found] == found
    assert all(c.page and c.page.startswith("http://sotuphap.caobang.gov.vn/") and c.excerpt for c in checks)
    kept = api.store_check(tmp_path / "checks.db", result, "Nguyễn Văn A")
    assert api.get_check(tmp_path / "checks.db", kept.id).verdict.content_checks == checks


def test_an_introduction_passes_through_the_sub_pages_its_text_links(server):
    """Nguyên Bình's introduction is two lines and a list of links in its text (not its menus): its functions,
    organisation and leaders are found on those sub-pages, read as `related`, its contacts in its footer."""
    base = "http://nguyenbinh.caobang.gov.vn/Pages/GioiThieu"
    with proxy_env(server.proxy_url):
        verdict = api.check_link(f"{base}.aspx", "gioi-thieu", agency_portal="http://nguyenbinh.caobang.gov.vn",
                                 allow_private=True, timeout=DEMO_LIMITS.read_timeout).verdict
    assert (verdict.status, verdict.reason) == ("pass", "content_ok"), verdict.detail
    related = [p.final_url for p in verdict.pages if p.purpose == "related"]
    assert related[:3] == [f"{base}-chuc-nang-nhiem-vu.aspx", f"{base}-co-cau-to-chuc.aspx",
                           f"{base}-lanh-dao-ubnd-huyen.aspx"]      # then a listed post whose title is on the subject
    # each check where it is first found, in reading order: the links' own words name the functions and the
    # organisation on the introduction itself; its leaders and a phone number are on the leaders' page only
    # (without it, four of the six: one short)
    where = {c.id: c.page for c in verdict.content_checks}
    assert where == {"chuc-nang-nhiem-vu": f"{base}.aspx", "co-cau-to-chuc": f"{base}.aspx",
                     "lanh-dao": f"{base}-lanh-dao-ubnd-huyen.aspx", "dia-chi": f"{base}.aspx",
                     "dien-thoai": f"{base}-lanh-dao-ubnd-huyen.aspx", "thu-dien-tu": f"{base}.aspx"}
